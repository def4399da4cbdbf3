#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mailboxes
short_description: Create virtual mailboxes (Maildir or mbox) ahead of time, safely and in one pass
version_added: 0.1.0
description:
  - Creates the virtual mailboxes of Postfix's C(virtual) delivery agent under O(base)
    (C(virtual_mailbox_base)) and corrects their owner and mode, in one module run for any
    number of mailboxes.
  - A Maildir mailbox is a directory with the subdirectories C(cur), C(new) and C(tmp); an mbox
    mailbox is a regular file. Missing ones are created (directories with O(directory_mode), mbox
    files empty with O(file_mode)), owned by O(owner) and O(group). The owner and mode of existing
    mailboxes and of their C(cur), C(new) and C(tmp) are corrected.
  - Missing intermediate directories (e.g. the domain directory of C(example.org/alice/)) are
    created like a Maildir directory; intermediate directories that exist are left as they are.
  - Never deletes anything and never touches the mail inside a mailbox (only the mailbox
    directory, its C(cur), C(new) and C(tmp), or the mbox file itself).
  - Symbolic links are refused. Whoever owns a mailbox (the vmail user, a mail store's process)
    could otherwise swap a symbolic link in, and make root change the owner or mode of any
    file. The module therefore never uses a path to change anything. It walks from O(base) one
    component at a time with directory file descriptors, opening each entry relative to its
    parent with C(O_NOFOLLOW), creating entries with C(mkdirat)/C(openat(O_CREAT|O_EXCL)), and
    changing owner and mode with C(fchown)/C(fchmod) on the descriptor it inspected. A symbolic
    link anywhere below O(base), or as O(base) itself, fails the task with a message naming it;
    what the link points to stays untouched.
  - A directory the module creates stays private (owned by root, mode 0700) until everything below
    it has been created, and is handed over to O(owner) and O(group) with its final mode only then,
    so nobody can put anything into it meanwhile.
  - An existing mbox file with more than one hard link is not given away either (the task fails
    naming it) when its owner or mode would have to change.
author:
  - vhosting.postfix maintainers (@vhosting)
requirements:
  - Python 3 on the managed host (C(dir_fd) support of C(os.open), C(os.mkdir), C(os.stat)).
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Walks the same way, read-only, and reports what would be created and fixed. A missing
      O(base) is not an error in check mode (an earlier task of the same run would have created it);
      every mailbox is then reported as to be created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: One line per created or fixed path, C(path type uid:gid mode), before and after;
      at most 200 created and 200 fixed paths are listed, the counts are complete.
options:
  base:
    description:
      - The mailbox base directory, C(virtual_mailbox_base). It must exist (see the check mode
        details) and be a directory, not a symbolic link. Its own owner and mode are not changed.
      - Components above the base itself are resolved normally.
    type: path
    required: true
  owner:
    description:
      - The owner of the mailboxes, a numeric uid or a user name resolved on the host (the static
        uid of C(virtual_uid_maps)).
    type: raw
    required: true
  group:
    description:
      - The group of the mailboxes, a numeric gid or a group name resolved on the host
        (C(virtual_gid_maps)).
    type: raw
    required: true
  mailboxes:
    description:
      - The mailboxes, each a path relative to O(base) (as in C(virtual_mailbox_maps)) and its format.
      - An empty list does nothing.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - The mailbox path relative to O(base), e.g. C(example.org/alice/) or C(example.org/dave).
          - Absolute paths and empty, C(.) or C(..) components are refused.
        type: str
        required: true
      maildir:
        description:
          - Whether the mailbox is a Maildir (a directory with C(cur), C(new), C(tmp)) or an mbox file.
          - By Postfix's convention a Maildir path ends in C(/); when this option is given it
            decides, when it is omitted the trailing C(/) does.
        type: bool
  directory_mode:
    description:
      - The mode of Maildir directories, their C(cur), C(new) and C(tmp), and of the intermediate
        directories this module creates; an octal string such as C("0700").
    type: raw
    default: "0700"
  file_mode:
    description:
      - The mode of mbox files; an octal string such as C("0600").
    type: raw
    default: "0600"
notes:
  - Run as root (or as O(owner)); the owner of a mailbox can only be changed by root.
  - Mailboxes that share directories are walked together, each directory opened once; the
    module keeps at most one open descriptor per path level, whatever the number of mailboxes.
  - The module stops at the first problem (symbolic link, wrong file type, permission error);
    what it did before is reported with the failure.
seealso:
  - name: virtual(8)
    description: Postfix virtual domain mail delivery agent.
    link: https://www.postfix.org/virtual.8.html
  - name: Virtual Domain Hosting Howto
    description: Postfix virtual mailbox domains.
    link: https://www.postfix.org/VIRTUAL_README.html
"""

EXAMPLES = r"""
- name: Mailboxes of the virtual mailbox domains
  vhosting.postfix.mailboxes:
    base: /var/mail/vhosts
    owner: 5000
    group: 5000
    mailboxes:
      - path: example.org/carol/
        maildir: true
      - path: example.org/dave
        maildir: false
      - path: example.net/erin/      # maildir omitted: the trailing / makes it a Maildir

- name: Mailboxes from a variable, owned by the vmail user and group (names)
  vhosting.postfix.mailboxes:
    base: /srv/mail
    owner: vmail
    group: vmail
    mailboxes: "{{ my_mailboxes }}"  # a list of {path: ..., maildir: ...}
    directory_mode: "0750"
  register: created

- name: Show what was created
  ansible.builtin.debug:
    msg: "{{ created.created_count }} created, {{ created.fixed_count }} fixed"
"""

RETURN = r"""
changed:
  description: Whether something was created or fixed (in check mode, would be).
  returned: always
  type: bool
created_count:
  description: How many directories and files were (or would be) created, intermediate
    directories and C(cur)/C(new)/C(tmp) included.
  returned: always
  type: int
  sample: 4
fixed_count:
  description: How many existing mailbox directories, C(cur)/C(new)/C(tmp) and mbox files had
    their owner or mode corrected (or would have).
  returned: always
  type: int
  sample: 1
created:
  description: The created paths (absolute, in walk order), the first 200.
  returned: always
  type: list
  elements: str
  sample: [/var/mail/vhosts/example.org, /var/mail/vhosts/example.org/carol, /var/mail/vhosts/example.org/carol/cur]
fixed:
  description: The paths whose owner or mode was corrected, the first 200.
  returned: always
  type: list
  elements: str
  sample: [/var/mail/vhosts/example.org/dave]
"""

import errno
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vhosting.postfix.plugins.module_utils._mailboxes import (
    MailboxesError,
    Summary,
    SymlinkRefused,
    WrongType,
    file_type_name,
    reconcile,
    render_diff,
    validate_request,
)

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# O_NONBLOCK: a FIFO put in place of an mbox file must not hang the module.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NOCTTY | _CLOEXEC


class FdFilesystem:
    """The filesystem interface of the core, on file descriptors only.

    Every entry is opened relative to its parent's descriptor with
    O_NOFOLLOW, and owner and mode are changed with fchown/fchmod on the
    descriptor that was inspected: no path is ever resolved twice, so a
    symbolic link swapped in between cannot redirect a change.
    """

    def open_base(self, path):
        try:
            return os.open(path, DIR_FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                self._refuse(path, None, path, "directory", exc)
            raise

    def open_dir(self, parent, name, path):
        try:
            return os.open(name, DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                self._refuse(name, parent, path, "directory", exc)
            raise

    def open_file(self, parent, name, path):
        try:
            return os.open(name, FILE_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self._refuse(name, parent, path, "regular file", exc)
            raise

    def make_dir(self, parent, name, path, mode):
        os.mkdir(name, mode, dir_fd=parent)
        handle = self.open_dir(parent, name, path)
        if handle is None:
            raise FileNotFoundError(errno.ENOENT, "removed right after it was created")
        if os.fstat(handle).st_uid != os.geteuid():
            os.close(handle)
            raise MailboxesError("%s was replaced by another directory right after it was created; "
                                 "refusing to adopt it" % path)
        return handle

    def make_file(self, parent, name, path, mode):
        return os.open(name, NEW_FILE_FLAGS, mode, dir_fd=parent)

    def stat(self, handle):
        return os.fstat(handle)

    def peek(self, parent, name):
        try:
            return os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def set_owner_mode(self, handle, uid, gid, mode):
        os.fchown(handle, uid, gid)
        os.fchmod(handle, mode)  # after fchown, which may clear set-id bits

    def close(self, handle):
        os.close(handle)

    @staticmethod
    def _refuse(name, parent, path, wanted, exc):
        """Explain an ELOOP/ENOTDIR of O_NOFOLLOW/O_DIRECTORY (a diagnosis only: nothing is done to it)."""
        try:
            found = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError:
            raise exc
        if stat.S_ISLNK(found.st_mode):
            try:
                target = os.readlink(name, dir_fd=parent)
            except OSError:
                target = None
            raise SymlinkRefused(path, target)
        if wanted == "directory" and not stat.S_ISDIR(found.st_mode):
            raise WrongType(path, wanted, file_type_name(found.st_mode))
        raise exc


def _uid_of(name):
    return pwd.getpwnam(name).pw_uid


def _gid_of(name):
    return grp.getgrnam(name).gr_gid


def _result(module, summary, request):
    result = summary.result()
    if module._diff:
        result["diff"] = render_diff(summary, request["base"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            base=dict(type="path", required=True),
            owner=dict(type="raw", required=True),
            group=dict(type="raw", required=True),
            # The items (path, maildir) are validated by validate_request, with
            # messages naming the item: AnsibleModule's per-item sub-spec
            # validation would cost more than the walk for 10,000 mailboxes.
            mailboxes=dict(type="list", elements="dict", required=True),
            directory_mode=dict(type="raw", default="0700"),
            file_mode=dict(type="raw", default="0600"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        request = validate_request(params["base"], params["owner"], params["group"], params["mailboxes"],
                                   params["directory_mode"], params["file_mode"],
                                   user_lookup=_uid_of, group_lookup=_gid_of)
    except MailboxesError as exc:
        module.fail_json(msg=str(exc))

    summary = Summary()
    try:
        reconcile(request, FdFilesystem(), check=module.check_mode, summary=summary)
    except MailboxesError as exc:
        module.fail_json(msg=str(exc), **_result(module, summary, request))
    module.exit_json(**_result(module, summary, request))


if __name__ == "__main__":
    main()
