#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remove_files
short_description: Remove, in one call, the files and directories the collection wrote and no longer uses
version_added: 0.1.0
description:
  - Removes every path of O(paths) that exists (a file, a symbolic link itself, or a directory with everything in
    it) and reports which were removed. The roles use it for the index files of tables main.cf no longer names, the
    C(.cf) files of database tables and the autoreply program's files, in one module run per role instead of one per
    path, so that a run that changes nothing costs one round trip here.
  - A symbolic link is never followed, neither on the way down a directory nor as a path itself (the link is
    removed, not its target). Each path's directory is opened once without following a link in its last component.
  - Paths must be absolute, without C(..), and never C(/) or a directory of the system (C(/etc), C(/var), ...).
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
options:
  paths:
    description: The paths to remove when they exist.
    type: list
    elements: path
    required: true
seealso:
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Remove index files that main.cf no longer names
  vhosting.postfix.remove_files:
    paths:
      - /etc/postfix/virtual.db
      - /etc/postfix/virtual.cdb
      - /etc/postfix/vhosting-db
"""

RETURN = r"""
removed:
  description: The paths that existed and were removed (in check mode, would be removed), in the order given.
  type: list
  elements: str
  returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.vhosting.postfix.plugins.module_utils._fdtree import (
    FdTreeError,
    lstat_at,
    open_dir,
    remove_at,
)

# Directories that are never removed as such (their contents are other packages' and the system's).
PROTECTED = ("/", "/bin", "/boot", "/dev", "/etc", "/etc/postfix", "/etc/dovecot", "/home", "/lib", "/lib64", "/opt",
             "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/mail",
             "/var/spool", "/var/spool/postfix", "/var/tmp")


def path_problem(path):
    """Why ``path`` may not be given (None: it may)."""
    if not isinstance(path, str) or not path.startswith("/"):
        return "is not an absolute path"
    parts = [p for p in path.split("/") if p and p != "."]
    if ".." in parts:
        return "contains '..'"
    if "/" + "/".join(parts) in PROTECTED:
        return "is a directory of the system"
    return None


def main():
    module = AnsibleModule(argument_spec=dict(paths=dict(type="list", elements="path", required=True)),
                           supports_check_mode=True)
    paths = []
    for path in module.params["paths"]:
        why = path_problem(path)
        if why:
            module.fail_json(msg="%r %s; nothing was removed" % (path, why))
        clean = "/" + "/".join(p for p in path.split("/") if p and p != ".")
        if clean not in paths:
            paths.append(clean)
    removed = []
    for path in paths:
        parent, name = path.rsplit("/", 1)
        try:
            fd = open_dir(parent or "/")
        except FileNotFoundError:
            continue
        except OSError as exc:
            module.fail_json(msg="%s: cannot open its directory without following a link (%s)" % (path, to_native(exc)),
                             removed=removed)
        try:
            if lstat_at(fd, name) is None:
                continue
            if not module.check_mode:
                remove_at(fd, name)
            removed.append(path)
        except (OSError, FdTreeError) as exc:
            module.fail_json(msg="%s: %s" % (path, to_native(exc)), removed=removed)
        finally:
            os.close(fd)
    result = dict(changed=bool(removed), removed=removed)
    if module._diff and removed:
        result["diff"] = {"before": "".join("%s\n" % p for p in removed), "after": "",
                          "before_header": "removed paths", "after_header": "removed paths"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
