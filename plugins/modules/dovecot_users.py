#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dovecot_users
short_description: Maintain Dovecot's passwd-file of virtual accounts without ever showing a secret
version_added: 0.2.0
description:
  - Writes the passwd-file that Dovecot uses as passdb and userdb
    (C(login:{SCHEME}hash:uid:gid::home::), one line per account, sorted), exclusively; accounts not
    in O(users) leave the file.
  - A O(users[].password_hash) is written as given. A plain O(users[].password) is hashed with
    C(SHA512-CRYPT) on the host, unless the hash already in the file still verifies it; so re-runs
    change nothing, and a changed password gets a new hash.
  - The file is replaced atomically (a temporary file in the same directory, owner, group and mode
    set before the rename); its owner, group and mode are corrected on every run.
  - Passwords and hashes never appear in the result or the diff; the diff shows C(<hash>) for a
    kept hash and C(<new hash>) for a new one.
  - The collection's action plugin of the same name reads the passwords from the per-domain
    inventory on the control node (the accounts of the host model carry only where they are), so
    that they never enter a fact.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Verifies the existing hashes the same way and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Before and after with every password field masked.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: The action plugin turns O(accounts) into O(users), reading the passwords from the inventory.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
options:
  path:
    description: The passwd-file.
    type: path
    required: true
  users:
    description:
      - The accounts. The role gives O(accounts) instead, which the action plugin turns into this.
    type: list
    elements: dict
    default: []
    suboptions:
      login:
        description: The login (the account's address).
        type: str
        required: true
      password:
        description: Plain password, hashed on the host. Exactly one of O(users[].password) and O(users[].password_hash).
        type: str
      password_hash:
        description: A C({SCHEME}hash), written as it is.
        type: str
      uid:
        description: Uid that owns the mail.
        type: int
        required: true
      gid:
        description: Gid that owns the mail.
        type: int
        required: true
      home:
        description: The account's home, its Maildir.
        type: path
        required: true
  accounts:
    description:
      - Only for the action plugin, which replaces it by O(users) - the accounts of
        C(vhosting_postfix__model.dovecot.users), each C({login, varname, key, home, uid, gid}) where
        C(varname) and C(key) name the inventory variable and mailbox holding the password.
    type: list
    elements: dict
  owner:
    description: Owner of the file.
    type: str
    default: root
  group:
    description: Group of the file.
    type: str
    default: dovecot
  state:
    description:
      - V(present) writes the file; V(absent) removes it.
      - Either way only a file of the module's own is touched, one that carries its header line or (written by an
        earlier release) holds nothing but C(login:{SCHEME}hash:uid:gid::home::) accounts. Any other file at
        O(path) (C(/etc/passwd) named by mistake, an operator's own file) fails the task with nothing changed
        (V(present)) or is left alone with a warning (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  mode:
    description: Mode of the file (never world-readable).
    type: raw
    default: "0640"
"""

EXAMPLES = r"""
- name: Write the accounts of the store
  vhosting.postfix.dovecot_users:
    path: /etc/dovecot/vhosting-users
    accounts: "{{ vhosting_postfix__model.dovecot.users }}"

- name: Accounts given directly (hashes only, as from a vault)
  vhosting.postfix.dovecot_users:
    path: /etc/dovecot/vhosting-users
    users:
      - login: alice@example.com
        password_hash: "{{ vault_alice_hash }}"
        uid: 5000
        gid: 5000
        home: /var/mail/vhosts/example.com/alice
"""

RETURN = r"""
added:
  description: Logins added to the file.
  returned: always
  type: list
  elements: str
removed:
  description: Logins removed from the file.
  returned: always
  type: list
  elements: str
updated:
  description: Logins whose line changed (hash, uid, gid or home).
  returned: always
  type: list
  elements: str
count:
  description: Number of accounts in the file.
  returned: always
  type: int
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic
from ansible_collections.vhosting.postfix.plugins.module_utils._dovecot_users import UsersError, masked, owned, plan


def _mode(module, value):
    try:
        mode = int(str(value), 8)
    except ValueError:
        module.fail_json(msg="mode %r is not an octal mode" % (value,))
    if mode & 0o007 or mode & ~0o7777:
        module.fail_json(msg="mode %s would make the passwd-file readable by others; use e.g. 0640" % value)
    return mode


def _ids(module, owner, group):
    """uid and gid, or (None, None) in check mode when they do not exist yet (an earlier task would create them)."""
    try:
        return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError:
        if module.check_mode:
            return None, None
        module.fail_json(msg="owner %s or group %s does not exist on the host (is Dovecot installed?)" % (owner, group))


def _read(module, path):
    """(text, stat) of the file at ``path`` without following a symlink; (None, None) when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        module.fail_json(msg="%s: cannot open it without following a link (%s); nothing was changed" % (path, exc))
    with os.fdopen(fd) as handle:
        current = os.fstat(handle.fileno())
        if not stat.S_ISREG(current.st_mode):
            module.fail_json(msg="%s is not a regular file; nothing was changed" % path)
        return handle.read(), current


def _set_owner_mode(module, path, uid, gid, mode):
    """Owner, group and mode of the file itself, through a descriptor opened without following a link (a link
    put in its place since it was read is refused, never followed to another file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        module.fail_json(msg="%s: cannot open it without following a link (%s)" % (path, exc))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            module.fail_json(msg="%s is not a regular file" % path)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _absent(module, path, existing):
    result = dict(changed=False, path=path, state="absent")
    if existing is None:
        module.exit_json(**result)
    if not owned(existing):
        module.warn("%s is not a file of vhosting.postfix; it was left as it is" % path)
        module.exit_json(**result)
    result["changed"] = True
    if module._diff:
        result["diff"] = {"before": "".join(masked(line) + "\n" for line in existing.splitlines()), "after": "",
                          "before_header": path, "after_header": path}
    if not module.check_mode:
        os.unlink(path)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            users=dict(type="list", elements="dict", default=[], options=dict(
                login=dict(type="str", required=True),
                password=dict(type="str", no_log=True),
                password_hash=dict(type="str", no_log=True),
                uid=dict(type="int", required=True),
                gid=dict(type="int", required=True),
                home=dict(type="path", required=True),
            )),
            accounts=dict(type="list", elements="dict"),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="dovecot"),
            mode=dict(type="raw", default="0640"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["accounts"] is not None:
        module.fail_json(msg="accounts is read by the action plugin vhosting.postfix.dovecot_users; "
                             "call the module by that name")
    path = params["path"]
    existing, current = _read(module, path)
    if params["state"] == "absent":
        _absent(module, path, existing)
    mode = _mode(module, params["mode"])
    uid, gid = _ids(module, params["owner"], params["group"])
    if not owned(existing):
        module.fail_json(msg="%s is not a file of vhosting.postfix (no header line, and not only Dovecot accounts "
                             "with a {SCHEME}hash): refusing to replace it; nothing was changed" % path)
    try:
        text, changes, before, after = plan(existing, params["users"])
    except UsersError as exc:
        module.fail_json(msg="%s: %s; nothing was changed" % (path, exc))
    content_changed = existing != text
    meta_changed = uid is None or current is not None and (
        current.st_uid != uid or current.st_gid != gid or stat.S_IMODE(current.st_mode) != mode)
    changed = content_changed or meta_changed
    result = dict(changed=changed, path=path, count=len(params["users"]), **changes)
    if module._diff:
        result["diff"] = {"before": before if existing is not None else "", "after": after,
                          "before_header": path, "after_header": path}
    if not changed or module.check_mode:
        module.exit_json(**result)
    if content_changed:
        write_atomic(path, text, mode, uid, gid)
    else:
        _set_owner_mode(module, path, uid, gid, mode)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
