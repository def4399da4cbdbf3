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
  - The directories above O(base) are walked the same way, from C(/). A symbolic link among them
    is followed only when root owns it (and its target is walked the same way); one of another
    user fails the task naming it, as that user could point it anywhere.
  - With O(base_mode), the module also creates O(base) when it is missing (and the directories
    above it that are missing, owned by root, mode C(0755)) and corrects the owner and mode of
    O(base) itself, so that no path-based task (such as M(ansible.builtin.file)) has to touch it.
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
      every mailbox (and, with O(base_mode), the base) is then reported as to be created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: One line per created or fixed path, C(path type uid:gid mode), before and after;
      at most 200 created and 200 fixed paths are listed, the counts are complete.
options:
  base:
    description:
      - The mailbox base directory, C(virtual_mailbox_base). It must be a directory, not a symbolic
        link. Without O(base_mode) it must exist (see the check mode details) and its own owner and
        mode are not changed.
      - A directory above the base may be a symbolic link of root, not of another user.
    type: path
    required: true
  base_mode:
    description:
      - The mode of O(base) itself, an octal string such as C("0750"). When given, a missing O(base)
        is created (with the missing directories above it, root's, C(0755)) and the owner, group and
        mode of O(base) are set to O(owner), O(group) and this mode.
      - Omitted, O(base) is neither created nor changed.
    type: raw
    version_added: 0.3.0
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
      - Exactly one of O(mailboxes) and O(src) is required.
    type: list
    elements: dict
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
  src:
    description:
      - The mailboxes as a data file on the control node, one C(path<TAB>maildir) or C(path<TAB>mbox) line
        per mailbox (the host_model action writes it; the roles pass it instead of a list of 100,000 items in
        a fact). The action plugin transfers it to the host.
      - Exactly one of O(mailboxes) and O(src) is required.
    type: path
    version_added: 0.3.0
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
- name: Mailboxes of the virtual mailbox domains, and their base (created when missing, vmail's, 0750)
  vhosting.postfix.mailboxes:
    base: /var/mail/vhosts
    base_mode: "0750"
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

- name: 100,000 mailboxes from a data file on the control node (path<TAB>maildir lines)
  vhosting.postfix.mailboxes:
    base: /var/mail/vhosts
    owner: vmail
    group: vmail
    src: files/mailboxes.txt

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

import grp
import pwd

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vhosting.postfix.plugins.module_utils._fdtree import FdTree
from ansible_collections.vhosting.postfix.plugins.module_utils._mailboxes import (
    MailboxesError,
    Summary,
    SymlinkRefused,
    WrongType,
    parse_mailbox_lines,
    reconcile,
    render_diff,
    validate_request,
)


class FdFilesystem(FdTree):
    """The filesystem interface of the core: ``_fdtree.FdTree`` (descriptors only), with the core's exceptions."""

    error = MailboxesError
    link_refused = SymlinkRefused
    wrong_type = WrongType


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
            mailboxes=dict(type="list", elements="dict"),
            src=dict(type="path"),
            directory_mode=dict(type="raw", default="0700"),
            file_mode=dict(type="raw", default="0600"),
            base_mode=dict(type="raw"),
        ),
        mutually_exclusive=[("mailboxes", "src")],
        required_one_of=[("mailboxes", "src")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        mailboxes = params["mailboxes"]
        if params["src"] is not None:
            try:
                with open(params["src"], "r", encoding="utf-8", errors="surrogateescape") as handle:
                    mailboxes = parse_mailbox_lines(handle.read())
            except (IOError, OSError) as exc:
                raise MailboxesError("src: cannot read %s: %s" % (params["src"], exc))
        request = validate_request(params["base"], params["owner"], params["group"], mailboxes,
                                   params["directory_mode"], params["file_mode"],
                                   user_lookup=_uid_of, group_lookup=_gid_of, base_mode=params["base_mode"])
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
