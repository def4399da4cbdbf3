#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: small_files
short_description: Write several small files with their owner and mode in one module run
version_added: 0.1.0
description:
  - For each file of O(files), writes O(files[].content) when the file is missing or holds something else (through a
    private temporary file beside it, renamed over it, so that a reader sees the old file or the new one), and sets its
    owner, group and mode. A file that is as it should be is not touched. One module run for all of them, where
    M(ansible.builtin.template) in a loop costs two per file (its check, then the file's attributes) even when
    nothing changes.
  - The roles render the content on the control node (C(lookup('ansible.builtin.template', ...))).
  - Each file's directory must exist; a path that exists and is not a regular file (a symbolic link included) is
    refused, and nothing is written then. Unknown owners and groups are refused before anything is written.
  - Give the task C(no_log) when a content is secret; the module then returns no diff either.
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
  files:
    description: The files.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: str
        required: true
      content:
        description: The whole content (UTF-8).
        type: str
        required: true
      owner:
        description: Owner (name).
        type: str
        default: root
      group:
        description: Group (name).
        type: str
        default: root
      mode:
        description: Mode, an octal string.
        type: str
        default: "0644"
seealso:
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Install the health check (three files, one module run)
  vhosting.postfix.small_files:
    files:
      - path: /usr/local/sbin/example-check
        content: "{{ lookup('ansible.builtin.template', 'example-check.j2') }}"
        mode: "0755"
      - path: /etc/systemd/system/example-check.timer
        content: "{{ lookup('ansible.builtin.template', 'example-check.timer.j2') }}"
"""

RETURN = r"""
written:
  description: The files whose content was (in check mode, would be) written, in the order given.
  type: list
  elements: str
  returned: always
fixed:
  description: The files whose content was right and whose owner, group or mode was (would be) set.
  type: list
  elements: str
  returned: always
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic
from ansible_collections.vhosting.postfix.plugins.module_utils._fdtree import set_owner_mode
from ansible_collections.vhosting.postfix.plugins.module_utils._small_files import (
    SmallFilesError,
    check_path,
    parse_mode,
    plan,
)

# Reading a file, and setting its owner and mode, never through a symbolic link.
_OPEN_NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _current(path):
    """None when missing, else {regular, content, uid, gid, mode} (a symbolic link is not followed)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return {"regular": False}
    fd = os.open(path, _OPEN_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        content = handle.read()
    return {"regular": True, "content": content, "uid": info.st_uid, "gid": info.st_gid,
            "mode": stat.S_IMODE(info.st_mode)}


def _desired(spec, seen, check_mode):
    """The file as it should be; None for uid/gid/directory that a check run cannot know yet (an earlier task of
    the play would have made them: the file then counts as to be written)."""
    path = spec["path"]
    check_path(path, seen)
    desired = {"path": path, "content": to_bytes(spec["content"], errors="surrogate_or_strict"),
               "mode": parse_mode(spec["mode"], path), "ready": True}
    if not os.path.isdir(os.path.dirname(path)):
        if not check_mode:
            raise SmallFilesError("%s: its directory does not exist" % path)
        desired["ready"] = False
    for key, name, lookup, label in (("uid", spec["owner"], lambda n: pwd.getpwnam(n).pw_uid, "user"),
                                     ("gid", spec["group"], lambda n: grp.getgrnam(n).gr_gid, "group")):
        try:
            desired[key] = lookup(name)
        except KeyError:
            desired[key], desired["ready"] = None, False
        if desired[key] is None and not check_mode:
            raise SmallFilesError("%s: no %s %r" % (path, label, name))
    return desired


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="str", required=True),
                content=dict(type="str", required=True),
                owner=dict(type="str", default="root"),
                group=dict(type="str", default="root"),
                mode=dict(type="str", default="0644"),
            )),
        ),
        supports_check_mode=True,
    )
    # Everything is read and checked first: a refused file leaves every file as it was.
    seen, todo = set(), []
    try:
        for spec in module.params["files"]:
            desired = _desired(spec, seen, module.check_mode)
            current = _current(desired["path"]) if desired["ready"] else None
            todo.append((desired, current, plan(desired, current)))
    except (SmallFilesError, OSError) as exc:
        module.fail_json(msg=to_native(exc))
    written = [d["path"] for d, _c, a in todo if a == "write"]
    fixed = [d["path"] for d, _c, a in todo if a == "attributes"]
    diff = []
    if module._diff and not module.no_log:
        for desired, current, action in todo:
            if action == "write":
                diff.append({"before_header": desired["path"], "after_header": desired["path"],
                             "before": to_text(current["content"] if current else b"", errors="surrogate_or_replace"),
                             "after": to_text(desired["content"], errors="surrogate_or_replace")})
    if not module.check_mode:
        for desired, _current_state, action in todo:
            try:
                if action == "write":
                    write_atomic(desired["path"], desired["content"], mode=desired["mode"], uid=desired["uid"],
                                 gid=desired["gid"])
                elif action == "attributes":
                    fd = os.open(desired["path"], _OPEN_NOFOLLOW)
                    try:
                        set_owner_mode(fd, desired["uid"], desired["gid"], desired["mode"])
                    finally:
                        os.close(fd)
            except OSError as exc:
                module.fail_json(msg="%s: %s" % (desired["path"], to_native(exc)), written=written, fixed=fixed)
    result = dict(changed=bool(written or fixed), written=written, fixed=fixed)
    if diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
