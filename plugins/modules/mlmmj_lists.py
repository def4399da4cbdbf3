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
    C(mlmmj-receive) as. mlmmj needs the list directory to be that user's (C(mlmmj-receive) refuses to run for
    another user, C(mlmmj-maintd) does no maintenance), and so is everything mlmmj writes at run time
    (C(incoming/), C(queue/), C(archive/), C(subscribers.d/), C(digesters.d/), C(nomailsubs.d/), C(subconf/),
    C(unsubconf/), C(moderation/), C(bounce/), C(requeue/), C(index), C(lastdigest), its logs).
  - Its C(control/) and C(text/) directories belong to root (root:root, C(0755)), and so does every control file
    (root:root, C(0644); none of them is a secret). As the list's user can still rename them away inside its own
    directory, every run puts them back. C(control/) holds exactly the files of the inventory - the list's address,
    owners, recipient delimiter, custom headers and policy (C(subonlypost), C(moderated) with C(moderators),
    C(closedlistsub)). A missing, changed, not root's or hard-linked file is written anew, and every other entry
    (a planted C(relayhost) or C(smtphelo), an operator's C(footer), a directory, ...) is removed. A symbolic link
    or a file in place of C(control/) or C(text/) is removed (never followed) and replaced, a directory of someone
    else is taken over (made root's and private before its content is read) and emptied of what the inventory does
    not produce; a C(text/) that was not root's alone gets a fresh copy of O(text_dir).
  - Subscribes the inventory's subscribers that are missing (C(mlmmj-sub -f -q -s), silently) and unsubscribes
    those the inventory put on the list on an earlier run and no longer lists (C(mlmmj-unsub -q -s)). Addresses
    that subscribed themselves by mail are kept. The inventory's subscribers are recorded in O(state_file), which
    is root's alone (C(0600)), as it names people.
  - A list that is no longer given is not touched; its directory and archive are kept.
  - Files are opened through directory descriptors without following symbolic links, so that the list's user
    cannot make root write elsewhere.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports the lists it would create, the directories of root it would replace, the control files it
      would write or remove and the addresses it would subscribe or unsubscribe, and changes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: One entry per changed list with what is wrong with C(control/) or C(text/), every control file and its
      subscribers before and after, and one for the state file when its owner or mode is corrected.
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
    description: Where the subscribers the inventory set are recorded (JSON, root's, C(0600)).
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
  description: Per changed list, C(control) (the control files written or removed), C(repaired) (C(control) and
    C(text) when the directory was not root's, or not a directory), C(subscribed) and C(unsubscribed).
  type: dict
  returned: always
  sample: {"news@example.org": {"control": ["owner", "relayhost"], "repaired": [], "subscribed": ["carol@example.org"],
                                "unsubscribed": []}}
"""

import errno
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.vhosting.postfix.plugins.module_utils import _fdtree
from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic
from ansible_collections.vhosting.postfix.plugins.module_utils._mlmmj import (
    CONTROL_FILE_MODE,
    CONTROL_MAX_SIZE,
    ROOT_DIR_MODE,
    ROOT_DIRS,
    STATE_FILE_MODE,
    SUBDIRS,
    USER_DIRS,
    MlmmjError,
    check_list,
    control_changes,
    control_files,
    describe_control,
    describe_dir,
    dir_action,
    entry_text,
    parse_state,
    parse_subscribers,
    plan_subscribers,
    render_state,
    trusted_dir,
)

# The descriptor work (no symbolic link followed, owner before mode, removal) is _fdtree's; this module decides.


def _entry(info):
    return {"type": _fdtree.file_type_name(info.st_mode, regular="file"), "uid": info.st_uid, "gid": info.st_gid,
            "mode": stat.S_IMODE(info.st_mode), "nlink": info.st_nlink, "content": None}


def _lstat_at(dir_fd, name):
    """The entry ``name`` of a directory descriptor as _mlmmj sees one (no content), None when missing."""
    info = _fdtree.lstat_at(dir_fd, name)
    return None if info is None else _entry(info)


def _inspect_at(dir_fd, name):
    """An entry of control/ with a regular file's content, read through a descriptor that follows no link."""
    entry = _lstat_at(dir_fd, name)
    if entry is None or entry["type"] != "file":
        return entry
    try:
        fd = os.open(name, _fdtree.READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link put there meanwhile
            return _lstat_at(dir_fd, name)
        raise
    try:
        entry = _entry(os.fstat(fd))
        if entry["type"] == "file":
            data = _fdtree.read_fd(fd, CONTROL_MAX_SIZE + 1)
            if len(data) <= CONTROL_MAX_SIZE:
                entry["content"] = data.decode("utf-8", "surrogateescape")
    finally:
        os.close(fd)
    return entry


def _entries(dir_fd):
    """name -> entry (see _mlmmj.control_changes) of everything in a directory descriptor."""
    found = {}
    for name in os.listdir(dir_fd):
        entry = _inspect_at(dir_fd, name)
        if entry is not None:
            found[name] = entry
    return found


def _write_at(dir_fd, name, data):
    """Write a new file of root (0644) and rename it over ``name`` inside the directory ``dir_fd``.

    Through the directory's descriptor: the list's user can rename control/ and text/ away and put a link
    in their place, so a path is never used.
    """
    write_atomic(name, data, mode=CONTROL_FILE_MODE, uid=0, gid=0, dir_fd=dir_fd)


def _copy_texts(dir_fd, text_dir):
    """Copy the list texts (mlmmj's skeleton of one language) into the directory ``dir_fd``."""
    for entry in sorted(os.listdir(text_dir)) if os.path.isdir(text_dir) else []:
        source = os.path.join(text_dir, entry)
        if os.path.isfile(source):
            with open(source, "rb") as handle:
                _write_at(dir_fd, entry, handle.read())


def create_list(path, uid, gid, text_dir):
    """Make a new list directory as mlmmj-make-ml does, all of it root's until it is complete, then the user's."""
    parent = _fdtree.open_dir(os.path.dirname(path))
    name = os.path.basename(path)
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
        top = _fdtree.open_dir(name, dir_fd=parent)
    finally:
        os.close(parent)
    try:
        for sub in SUBDIRS:
            os.mkdir(sub, ROOT_DIR_MODE if sub in ROOT_DIRS else 0o700, dir_fd=top)
        os.close(os.open("index", _fdtree.NEW_FILE_FLAGS, 0o600, dir_fd=top))
        text = _fdtree.open_dir("text", dir_fd=top)
        try:
            _copy_texts(text, text_dir)
        finally:
            os.close(text)
        for sub in ROOT_DIRS:
            fd = _fdtree.open_dir(sub, dir_fd=top)
            try:
                _fdtree.set_owner_mode(fd, 0, 0, ROOT_DIR_MODE)
            finally:
                os.close(fd)
        for sub in USER_DIRS + ("index",):
            os.chown(sub, uid, gid, dir_fd=top, follow_symlinks=False)
        os.fchown(top, uid, gid)
    finally:
        os.close(top)


class ListDir(object):
    """One existing list directory, opened without following symbolic links, and its directories of root.

    The list's user owns the list directory (mlmmj needs it so) and can
    rename, remove or replace anything in it, control/ and text/ included.
    So nothing is decided on a path: a directory of root is opened (never
    through a link), made root's and private (0700) before its content is
    read, planned and changed, and gets its mode 0755 back at the end.
    """

    def __init__(self, path):
        self.path = path
        self.top = _fdtree.open_dir(path)

    def close(self):
        os.close(self.top)

    def inspect(self, name):
        """The entry ``name`` of the list directory (no content), None when missing."""
        return _lstat_at(self.top, name)

    def entries(self, name):
        """Check mode: the entries of the directory ``name`` as they are ({} when it is no directory)."""
        try:
            fd = _fdtree.open_dir(name, dir_fd=self.top)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return {}
            raise
        try:
            return _entries(fd)
        finally:
            os.close(fd)

    def own(self, name):
        """(descriptor, entry found first) of the directory ``name``, made root's and private unless it was root's.

        A missing directory is created; a symbolic link or a file in its
        place is removed (the link itself, never what it points to) and
        replaced by a new directory; someone else's directory is taken over
        (its content is the caller's to check). Should the list's user swap
        things meanwhile, the next attempt sees it.
        """
        for _attempt in range(3):
            before = _lstat_at(self.top, name)
            try:
                if before is not None and before["type"] != "directory":
                    os.unlink(name, dir_fd=self.top)
                if before is None or before["type"] != "directory":
                    os.mkdir(name, 0o700, dir_fd=self.top)
                fd = _fdtree.open_dir(name, dir_fd=self.top)
            except (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError):
                continue
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    continue
                raise
            try:
                if dir_action(_entry(os.fstat(fd))) is not None:
                    _fdtree.set_owner_mode(fd, 0, 0, 0o700)  # 0755 once its content is right
            except BaseException:
                os.close(fd)
                raise
            return fd, before
        raise MlmmjError("%s/%s is being replaced again and again while it is repaired" % (self.path, name))

    def reconcile_control(self, wanted):
        """Make control/ exactly ``wanted``; return (entry of control/ found, its entries found, changes)."""
        fd, before = self.own("control")
        try:
            found = _entries(fd)
            changes = control_changes(wanted, found)
            for name, content in changes:
                entry = found.get(name)
                if content is None or (entry is not None and entry["type"] == "directory"):
                    _fdtree.remove_at(fd, name)
                if content is not None:
                    _write_at(fd, name, content.encode("utf-8"))
            os.fchmod(fd, ROOT_DIR_MODE)
        finally:
            os.close(fd)
        return before, found, changes

    def repair_text(self, text_dir):
        """Give text/ back to root: its content is kept when only root could write it, else copied afresh."""
        fd, before = self.own("text")
        try:
            if not trusted_dir(before):
                for name in os.listdir(fd):
                    _fdtree.remove_at(fd, name)
                _copy_texts(fd, text_dir)
            os.fchmod(fd, ROOT_DIR_MODE)
        finally:
            os.close(fd)


# How control/ and text/ are after a run, and a control file the module wrote.
_ROOT_DIR = {"type": "directory", "uid": 0, "gid": 0, "mode": ROOT_DIR_MODE}
_ROOT_FILE = {"type": "file", "uid": 0, "gid": 0, "mode": CONTROL_FILE_MODE, "nlink": 1}


def _describe(dirs, found, subscribers):
    """The diff text of a list: its directories of root (``dirs``: name -> entry), control/, the subscribers."""
    texts = dict((name, entry_text(entry)) for name, entry in found.items())
    return ("".join(describe_dir(name, dirs.get(name, _ROOT_DIR)) for name in ROOT_DIRS) + describe_control(texts)
            + "".join("subscriber %s\n" % address for address in subscribers))


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

    def settle(self, path, wanted):
        """(control/ and text/ as found, control/'s entries, changes) of an existing list; applied unless check."""
        try:
            listdir = ListDir(path)
            try:
                dirs = dict((name, listdir.inspect(name)) for name in ROOT_DIRS)
                if self.module.check_mode:
                    is_dir = dirs["control"] is not None and dirs["control"]["type"] == "directory"
                    found = listdir.entries("control") if is_dir else {}
                    changes = control_changes(wanted, found)
                else:
                    dirs["control"], found, changes = listdir.reconcile_control(wanted)
                    if dir_action(dirs["text"]) is not None:
                        listdir.repair_text(self.params["text_dir"])
            finally:
                listdir.close()
        except (OSError, MlmmjError, _fdtree.FdTreeError) as exc:
            raise MlmmjError("list directory %s: %s" % (path, to_native(exc)))
        return dirs, found, changes

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
            dirs, found, subscribed = {}, {}, []
            changes = control_changes(wanted, found)
        else:
            dirs, found, changes = self.settle(path, wanted)
            subscribed = parse_subscribers(self.run_tool("mlmmj-list", "-L", path))
        repaired = [name for name in ROOT_DIRS if name in dirs and dir_action(dirs[name]) is not None]
        add, remove = plan_subscribers(subscribed, spec.get("subscribers") or [], earlier)
        if not self.module.check_mode:
            for address in add:
                self.run_tool("mlmmj-sub", "-L", path, "-a", address, "-f", "-q", "-s")
            for address in remove:
                self.run_tool("mlmmj-unsub", "-L", path, "-a", address, "-q", "-s")
        if new or changes or add or remove or repaired:
            self.result["changed"] = True
            self.result["lists"][spec["address"]] = {"control": [name for name, _c in changes], "repaired": repaired,
                                                     "subscribed": add, "unsubscribed": remove}
            after = sorted((set(subscribed) | set(add)) - set(remove))
            written = dict((name, dict(_ROOT_FILE, content=content)) for name, content in wanted.items()
                           if content is not None)
            self.diffs.append({"before": "" if new else _describe(dirs, found, subscribed),
                               "after": _describe({}, written, after), "before_header": path, "after_header": path})


def _read(path):
    """The state file's text and its (owner, mode); (None, None) without one."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            info = os.fstat(handle.fileno())
            return handle.read(), (info.st_uid, stat.S_IMODE(info.st_mode))
    except FileNotFoundError:
        return None, None


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
        text, owner_mode = _read(params["state_file"])
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
        # The subscribers are personal data: the state file is root's alone.
        private = owner_mode in (None, (0, STATE_FILE_MODE))
        if new_text is not None and (new_text != text or not private):
            work.result["changed"] = True
            if not private:
                work.diffs.append({"before": "owner uid %d, mode %04o\n" % owner_mode,
                                   "after": "owner uid 0, mode %04o\n" % STATE_FILE_MODE,
                                   "before_header": params["state_file"], "after_header": params["state_file"]})
            if not module.check_mode:
                write_atomic(params["state_file"], new_text, mode=STATE_FILE_MODE)
    except (IOError, OSError, MlmmjError, _fdtree.FdTreeError) as exc:
        module.fail_json(msg=to_native(exc), **work.result)
    if module._diff and work.diffs:
        work.result["diff"] = work.diffs
    module.exit_json(**work.result)


if __name__ == "__main__":
    main()
