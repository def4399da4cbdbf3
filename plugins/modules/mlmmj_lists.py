#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mlmmj_lists
short_description: Create mlmmj mailing lists, set their policy and keep their subscribers in sync
version_added: 0.2.0
description:
  - Creates each list's directory the way C(mlmmj-make-ml) does (the same subdirectories, the C(index) file, the
    list texts), non-interactively, owned by O(user) - the user Postfix's local(8) runs the C(/etc/aliases) command
    C(mlmmj-receive) as. Its C(control/) and C(text/) directories belong to root, so that the list's settings cannot
    be changed by that user.
  - Writes the control files of the list's address, owners, recipient delimiter, custom headers and policy
    (C(subonlypost), C(moderated) with C(moderators), C(closedlistsub)) when they differ, and removes a policy file
    whose switch is off. Other control files (an operator's C(prefix), C(footer), ...) are left alone.
  - Subscribes the inventory's subscribers that are missing (C(mlmmj-sub -f -q -s), silently) and unsubscribes
    those the inventory put on the list on an earlier run and no longer lists (C(mlmmj-unsub -q -s)). Addresses
    that subscribed themselves by mail are kept. The inventory's subscribers are recorded in O(state_file).
  - A list that is no longer given is not touched; its directory and archive are kept.
  - Files are opened through directory descriptors without following symbolic links, so that the list's user
    cannot make root write elsewhere.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports the lists it would create, the control files it would write or remove and the addresses it
      would subscribe or unsubscribe, and changes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: One entry per changed list with its managed control files and its subscribers before and after.
options:
  lists:
    description: The lists.
    type: list
    elements: dict
    required: true
    suboptions:
      address:
        description: The list address (C(control/listaddress)).
        type: str
        required: true
      dir:
        description: The list directory, absolute, inside O(spool).
        type: path
        required: true
      owners:
        description: Owner addresses (C(control/owner)); they get C(list+owner@) mail.
        type: list
        elements: str
        required: true
      subscribers:
        description: The subscribers the inventory wants.
        type: list
        elements: str
        default: []
      moderators:
        description: Moderator addresses (C(control/moderators)), used when O(lists[].moderated); default the owners.
        type: list
        elements: str
        default: []
      subscribers_only:
        description: Only subscribers may post (C(control/subonlypost)).
        type: bool
        default: false
      moderated:
        description: Every post waits for a moderator (C(control/moderated)).
        type: bool
        default: false
      closed:
        description: No subscription by mail; unsubscription stays possible (C(control/closedlistsub)).
        type: bool
        default: false
      delimiter:
        description: The recipient delimiter (C(control/delimiter)).
        type: str
        default: "+"
      headers:
        description: Headers added to every post (C(control/customheaders)), e.g. C(List-Id).
        type: list
        elements: str
        default: []
  user:
    description: The user owning the list directories (Postfix's C(default_privs) for C(/etc/aliases) commands).
    type: str
    default: nobody
  spool:
    description: mlmmj's spool directory, created (root, C(0755)) when missing.
    type: path
    default: /var/spool/mlmmj
  text_dir:
    description: The list texts copied into a new list (mlmmj's skeleton of one language).
    type: path
    default: /usr/share/mlmmj/text.skel/en
  state_file:
    description: Where the subscribers the inventory set are recorded (JSON).
    type: path
    default: /var/lib/vhosting-postfix/mlmmj_lists.json
notes:
  - Needs the C(mlmmj) package (C(mlmmj-list), C(mlmmj-sub), C(mlmmj-unsub)); works with mlmmj 1.3 (Debian 12)
    and 1.5 (Debian 13).
seealso:
  - module: vhosting.postfix.lookup_table
"""

EXAMPLES = r"""
- name: The lists of the inventory
  vhosting.postfix.mlmmj_lists:
    user: nobody
    lists:
      - address: news@example.org
        dir: /var/spool/mlmmj/news@example.org
        owners: [owner@example.org]
        subscribers: [alice@example.org, bob@example.net]
        subscribers_only: true
        headers: ["List-Id: <news.example.org>", "List-Post: <mailto:news@example.org>"]
"""

RETURN = r"""
created:
  description: The list addresses whose directory was created (would be, in check mode).
  type: list
  elements: str
  returned: always
lists:
  description: Per changed list, C(control) (the control files written or removed), C(subscribed) and C(unsubscribed).
  type: dict
  returned: always
  sample: {"news@example.org": {"control": ["owner"], "subscribed": ["carol@example.org"], "unsubscribed": []}}
"""

import errno
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic
from ansible_collections.vhosting.postfix.plugins.module_utils._mlmmj import (
    MANAGED_CONTROL,
    ROOT_DIRS,
    SUBDIRS,
    MlmmjError,
    check_list,
    control_changes,
    control_files,
    parse_state,
    parse_subscribers,
    plan_subscribers,
    render_state,
)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
# Content of a control file that is no regular, singly linked file of root or the list's user: never read.
UNREADABLE = "(not a regular file; replaced)\n"


def _open_dir(path, dir_fd=None):
    return os.open(path, _DIR_FLAGS, dir_fd=dir_fd)


def create_list(path, uid, gid, text_dir):
    """Make a new list directory as mlmmj-make-ml does, all of it root's until it is complete, then the user's."""
    parent = _open_dir(os.path.dirname(path))
    name = os.path.basename(path)
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
        top = _open_dir(name, dir_fd=parent)
    finally:
        os.close(parent)
    try:
        for sub in SUBDIRS:
            os.mkdir(sub, 0o755 if sub in ROOT_DIRS else 0o700, dir_fd=top)
        os.close(os.open("index", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=top))
        text = _open_dir("text", dir_fd=top)
        try:
            for entry in sorted(os.listdir(text_dir)) if os.path.isdir(text_dir) else []:
                source = os.path.join(text_dir, entry)
                if os.path.isfile(source):
                    with open(source, "rb") as handle:
                        _write_at(text, entry, handle.read())
        finally:
            os.close(text)
        for sub in [s for s in SUBDIRS if s not in ROOT_DIRS] + ["index"]:
            os.chown(sub, uid, gid, dir_fd=top, follow_symlinks=False)
        os.fchown(top, uid, gid)
    finally:
        os.close(top)


def _write_at(dir_fd, name, data):
    """Write a new root-owned file (mode 0644) and rename it over ``name`` inside the directory ``dir_fd``."""
    tmp = ".%s.vhtmp" % name
    try:
        os.unlink(tmp, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    try:
        os.write(fd, data)
        os.fchmod(fd, 0o644)
    finally:
        os.close(fd)
    os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def _read_at(dir_fd, name, uid):
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return UNREADABLE
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid not in (0, uid):
            return UNREADABLE
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "surrogateescape")
    finally:
        os.close(fd)


class ListDir(object):
    """The control directory of one existing list, opened without following symbolic links."""

    def __init__(self, path, uid):
        self.uid = uid
        self.top = _open_dir(path)
        try:
            self.control = _open_dir("control", dir_fd=self.top)
        except FileNotFoundError:
            os.mkdir("control", 0o755, dir_fd=self.top)
            self.control = _open_dir("control", dir_fd=self.top)

    def close(self):
        os.close(self.control)
        os.close(self.top)

    def current(self):
        return dict((name, _read_at(self.control, name, self.uid)) for name in MANAGED_CONTROL)

    def foreign(self):
        """True when control/ is not root's alone (mlmmj-make-ml leaves it to the list's user)."""
        info = os.fstat(self.control)
        return info.st_uid != 0 or info.st_gid != 0 or stat.S_IMODE(info.st_mode) != 0o755

    def take_over(self):
        os.fchown(self.control, 0, 0)
        os.fchmod(self.control, 0o755)

    def apply(self, changes):
        for name, content in changes:
            if content is None:
                try:
                    os.unlink(name, dir_fd=self.control)
                except FileNotFoundError:
                    pass
            else:
                _write_at(self.control, name, content.encode("utf-8"))


def _describe(control, subscribers):
    lines = ["control/%s: %s\n" % (name, "(absent)" if control.get(name) is None
                                   else control[name].replace("\n", "\\n")) for name in MANAGED_CONTROL]
    return "".join(lines) + "".join("subscriber %s\n" % address for address in subscribers)


class Lists(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        try:
            entry = pwd.getpwnam(self.params["user"])
        except KeyError:
            module.fail_json(msg="user %s does not exist" % self.params["user"])
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.result = {"changed": False, "created": [], "lists": {}}
        self.diffs = []

    def run_tool(self, name, *args):
        # Looked up when needed: a check-mode run before mlmmj is installed creates nothing and runs no tool.
        cmd = [self.module.get_bin_path(name, required=True, opt_dirs=["/usr/bin"])] + list(args)
        rc, out, err = self.module.run_command(cmd, environ_update={"LC_ALL": "C"})
        if rc != 0:
            self.module.fail_json(msg="%s failed (rc=%d): %s" % (name, rc, (err or out).strip()), cmd=cmd, rc=rc,
                                  stdout=out, stderr=err, **self.result)
        return out

    def one(self, spec, earlier):
        path = spec["dir"].rstrip("/")
        wanted = control_files(spec)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISDIR(info.st_mode):
            self.module.fail_json(msg="list %s: %s is not a directory (a symbolic link?)" % (spec["address"], path),
                                  **self.result)
        new = info is None
        if new:
            self.result["created"].append(spec["address"])
            if not self.module.check_mode:
                create_list(path, self.uid, self.gid, self.params["text_dir"])
        if new and self.module.check_mode:
            current, subscribed, foreign = {}, [], False
            changes = control_changes(wanted, current)
        else:
            listdir = ListDir(path, self.uid)
            try:
                current, foreign = listdir.current(), listdir.foreign()
                changes = control_changes(wanted, current)
                if not self.module.check_mode:
                    if foreign:
                        listdir.take_over()
                    listdir.apply(changes)
            finally:
                listdir.close()
            subscribed = parse_subscribers(self.run_tool("mlmmj-list", "-L", path))
        add, remove = plan_subscribers(subscribed, spec.get("subscribers") or [], earlier)
        if not self.module.check_mode:
            for address in add:
                self.run_tool("mlmmj-sub", "-L", path, "-a", address, "-f", "-q", "-s")
            for address in remove:
                self.run_tool("mlmmj-unsub", "-L", path, "-a", address, "-q", "-s")
        if new or changes or add or remove or foreign:
            self.result["changed"] = True
            self.result["lists"][spec["address"]] = {"control": [name for name, _c in changes],
                                                     "subscribed": add, "unsubscribed": remove}
            after = sorted((set(subscribed) | set(add)) - set(remove))
            self.diffs.append({"before": "" if new else _describe(current, subscribed),
                               "after": _describe(wanted, after),
                               "before_header": path, "after_header": path})


def _read(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


LIST_OPTIONS = dict(
    address=dict(type="str", required=True),
    dir=dict(type="path", required=True),
    owners=dict(type="list", elements="str", required=True),
    subscribers=dict(type="list", elements="str", default=[]),
    moderators=dict(type="list", elements="str", default=[]),
    subscribers_only=dict(type="bool", default=False),
    moderated=dict(type="bool", default=False),
    closed=dict(type="bool", default=False),
    delimiter=dict(type="str", default="+"),
    headers=dict(type="list", elements="str", default=[]),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            lists=dict(type="list", elements="dict", required=True, options=LIST_OPTIONS),
            user=dict(type="str", default="nobody"),
            spool=dict(type="path", default="/var/spool/mlmmj"),
            text_dir=dict(type="path", default="/usr/share/mlmmj/text.skel/en"),
            state_file=dict(type="path", default="/var/lib/vhosting-postfix/mlmmj_lists.json"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    spool = params["spool"].rstrip("/")
    try:
        specs = [check_list(dict(spec)) for spec in params["lists"]]
        for spec in specs:
            if os.path.dirname(spec["dir"].rstrip("/")) != spool:
                raise MlmmjError("list %s: dir %s is not directly inside the spool %s" % (spec["address"], spec["dir"], spool))
        text = _read(params["state_file"])
        state = parse_state(text, params["state_file"])
    except (MlmmjError, IOError, OSError) as exc:
        module.fail_json(msg=to_native(exc), changed=False)
    work = Lists(module)
    try:
        if specs and not os.path.isdir(spool):
            work.result["changed"] = True
            if not module.check_mode:
                os.makedirs(spool, 0o755)
        for spec in specs:
            work.one(spec, state.get(spec["address"], []))
        after = dict(state)
        after.update((spec["address"], sorted(a.lower() for a in spec.get("subscribers") or [])) for spec in specs)
        new_text = render_state(after) if (after or text is not None) else None
        if new_text != text and new_text is not None:
            work.result["changed"] = True
            if not module.check_mode:
                write_atomic(params["state_file"], new_text)
    except (IOError, OSError) as exc:
        module.fail_json(msg=to_native(exc), **work.result)
    if module._diff and work.diffs:
        work.result["diff"] = work.diffs
    module.exit_json(**work.result)


if __name__ == "__main__":
    main()
