# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure core of the ``vhosting.postfix.mlmmj_lists`` module: what a list directory should contain.

mlmmj keeps a list in one directory: its settings are files under
``control/`` (a boolean is a file's presence, a list one line per entry,
see mlmmj's TUNABLES), its subscribers are kept by ``mlmmj-sub`` and
``mlmmj-unsub``. This file decides, on plain data, which control files to
write or remove and whom to subscribe or unsubscribe; the module does the
I/O. The subscribers the inventory put on a list are recorded (state file),
so that one removed from the inventory is unsubscribed, and an address that
subscribed itself by mail (``list+subscribe@``) is left alone.

Who owns what. mlmmj runs as the user that owns the list directory:
mlmmj-receive (run by local(8) as ``default_privs``) refuses any other
non-root user, mlmmj-maintd does no maintenance for another user, and
mlmmj-sub/-unsub run as root change to that owner. So the list directory
stays that user's, with everything mlmmj writes at run time (:data:`USER_DIRS`,
``index``, ``lastdigest``, its logs). What the list's policy is made of, ``control/``
and the texts of ``text/``, belongs to root (:data:`ROOT_DIRS`). The list's
user can still rename these away inside its own directory, so every run
checks them (:func:`dir_action`) and puts ``control/`` back exactly as the
inventory says (:func:`control_changes`: missing or wrong files rewritten,
every other entry removed).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

STATE_VERSION = 1
STATE_FILE = "/var/lib/vhosting-postfix/mlmmj_lists.json"
# The state file names every list's subscribers (personal data): root's alone; mlmmj never reads it.
STATE_FILE_MODE = 0o600
# What mlmmj-make-ml creates in a new list directory.
SUBDIRS = ("incoming", "queue", "queue/discarded", "archive", "text", "subconf", "unsubconf", "bounce", "control",
           "moderation", "subscribers.d", "digesters.d", "requeue", "nomailsubs.d")
# Directories only root writes (mlmmj reads them): the list's settings and texts.
ROOT_DIRS = ("control", "text")
# What mlmmj writes at run time as the list's user (mlmmj-receive: incoming/; -process: queue/, moderation/,
# index; -send: archive/, requeue/, bounce/; -sub/-unsub: subscribers.d/, digesters.d/, nomailsubs.d/, subconf/,
# unsubconf/; -bounce: bounce/; -maintd: lastdigest, its log written beside it and renamed into place; every one:
# mlmmj.operation.log). The list directory itself stays the user's: -maintd creates its log there.
USER_DIRS = tuple(sub for sub in SUBDIRS if sub not in ROOT_DIRS)
# Owner and modes of what root keeps. No control file this module writes is a secret (mlmmj reads them as the
# list's user, who is "other" here, through the list directory that only that user can enter).
ROOT_DIR_MODE = 0o755
CONTROL_FILE_MODE = 0o644
# A control file is a line or a few: anything bigger is not read (and is replaced).
CONTROL_MAX_SIZE = 65536
# The control files this module writes; control/ holds these and nothing else (an entry the inventory does not
# produce - an operator's or a planted relayhost, smtphelo, ... - is removed).
MANAGED_CONTROL = ("listaddress", "owner", "delimiter", "customheaders", "subonlypost", "moderated", "moderators",
                   "closedlistsub")
LIST_KEYS = ("address", "dir", "owners", "subscribers", "moderators", "subscribers_only", "moderated", "closed",
             "delimiter", "headers")
_ADDRESS = re.compile(r"^[^\s@/]+@[A-Za-z0-9.-]+$")


class MlmmjError(ValueError):
    """Bad input or state: nothing was changed."""


def _lines(values):
    return "".join("%s\n" % v for v in values)


def check_list(spec):
    """Validate one list of the module's ``lists`` option; returns it."""
    if not isinstance(spec, dict):
        raise MlmmjError("lists: every entry must be a dict, got %r" % (spec,))
    missing = sorted(set(("address", "dir", "owners")) - set(spec))
    unknown = sorted(set(spec) - set(LIST_KEYS))
    if missing or unknown:
        raise MlmmjError("list %r: missing key(s) %s, unknown key(s) %s"
                         % (spec.get("address"), ", ".join(missing) or "none", ", ".join(unknown) or "none"))
    address = spec["address"]
    for item in [address] + list(spec["owners"]) + list(spec.get("subscribers") or []) + list(spec.get("moderators") or []):
        if not isinstance(item, str) or not _ADDRESS.match(item):
            raise MlmmjError("list %s: %r is not an address" % (address, item))
    if not spec["owners"]:
        raise MlmmjError("list %s: owners is empty" % address)
    if not str(spec["dir"]).startswith("/") or "/../" in spec["dir"] + "/":
        raise MlmmjError("list %s: dir %r must be an absolute path" % (address, spec["dir"]))
    delimiter = spec.get("delimiter") or "+"
    if len(delimiter) != 1 or delimiter == "-":
        raise MlmmjError("list %s: delimiter %r must be one character other than '-'" % (address, delimiter))
    for header in spec.get("headers") or []:
        if "\n" in header or ":" not in header:
            raise MlmmjError("list %s: header %r must be 'Name: value' on one line" % (address, header))
    return spec


def control_files(spec):
    """control file name -> wanted content (None: the file must not exist)."""
    moderated = bool(spec.get("moderated"))
    return {
        "listaddress": "%s\n" % spec["address"],
        "owner": _lines(spec["owners"]),
        "delimiter": "%s\n" % (spec.get("delimiter") or "+"),
        "customheaders": _lines(spec.get("headers") or []) or None,
        "subonlypost": "" if spec.get("subscribers_only") else None,
        "moderated": "" if moderated else None,
        "moderators": _lines(spec.get("moderators") or spec["owners"]) if moderated else None,
        "closedlistsub": "" if spec.get("closed") else None,
    }


def proper_file(entry):
    """Whether an entry found in control/ (see :func:`control_changes`) is a control file as root writes it."""
    return (entry is not None and entry.get("type") == "file" and entry.get("content") is not None
            and (entry.get("uid"), entry.get("gid"), entry.get("mode"), entry.get("nlink"))
            == (0, 0, CONTROL_FILE_MODE, 1))


def entry_text(entry):
    """What an entry found in control/ shows in the diff: its content, or what is wrong with it."""
    if entry is None:
        return None
    if proper_file(entry):
        return entry["content"]
    if entry.get("type") != "file":
        return "(a %s)\n" % entry.get("type")
    if entry.get("content") is None:
        return "(a file too large to be a control file)\n"
    return "%s(owner %s:%s, mode %04o, %s links)\n" % (
        entry["content"], entry.get("uid"), entry.get("gid"), entry.get("mode") or 0, entry.get("nlink"))


def _control_order(name):
    return (0, MANAGED_CONTROL.index(name), "") if name in MANAGED_CONTROL else (1, 0, name)


def control_changes(wanted, found):
    """[(name, wanted content or None)]: what makes control/ exactly ``wanted``.

    ``wanted``: name -> content, or None where the file must not exist
    (:func:`control_files`). ``found``: every entry of control/, name -> a
    dict ``type`` ("file", "directory", "symbolic link", ...), ``uid``,
    ``gid``, ``mode``, ``nlink``, ``content`` (a regular file's text, None
    when unread). A wanted file is (re)written unless it is a regular,
    singly linked file of root:root, mode 0644, with the wanted content;
    every other entry is removed. The inventory's files come first, in
    :data:`MANAGED_CONTROL` order, then the others by name.
    """
    changes = []
    for name in sorted(set(wanted) | set(found), key=_control_order):
        content = wanted.get(name)
        if content is None:
            if found.get(name) is not None:
                changes.append((name, None))
        elif not (proper_file(found.get(name)) and found[name]["content"] == content):
            changes.append((name, content))
    return changes


def dir_action(entry):
    """What a directory of :data:`ROOT_DIRS` needs, from its lstat (a dict ``type``, ``uid``, ``gid``, ``mode``).

    None: it is root's (root:root, 0755); "create": it is missing; "replace":
    something else is in its place (a symbolic link, a file: removed, never
    followed); "take over": a directory of someone else or with another
    mode, whose content is not to be trusted.
    """
    if entry is None:
        return "create"
    if entry.get("type") != "directory":
        return "replace"
    if (entry.get("uid"), entry.get("gid"), entry.get("mode")) != (0, 0, ROOT_DIR_MODE):
        return "take over"
    return None


def trusted_dir(entry):
    """Whether only root could have written into a directory (root's, not writable by group or others)."""
    return (entry is not None and entry.get("type") == "directory" and entry.get("uid") == 0
            and not (entry.get("mode") or 0) & 0o022)


def describe_dir(name, entry):
    """The diff line of a directory of :data:`ROOT_DIRS` that is not root's, "" when it is."""
    action = dir_action(entry)
    if action is None:
        return ""
    if action == "create":
        return "%s/: (absent)\n" % name
    if action == "replace":
        return "%s/: (a %s)\n" % (name, entry.get("type"))
    return "%s/: (a directory of %s:%s, mode %04o)\n" % (
        name, entry.get("uid"), entry.get("gid"), entry.get("mode") or 0)


def describe_control(texts):
    """Diff lines of control/: ``texts`` is name -> text (None: absent); the inventory's names always appear."""
    names = sorted(set(MANAGED_CONTROL) | set(name for name, text in texts.items() if text is not None),
                   key=_control_order)
    lines = []
    for name in names:
        text = texts.get(name)
        lines.append("control/%s: %s\n" % (name, "(absent)" if text is None else text.replace("\n", "\\n")))
    return "".join(lines)


def parse_subscribers(text):
    """The addresses mlmmj-list printed (one per line), lower case, sorted."""
    return sorted(set(line.strip().lower() for line in (text or "").splitlines() if "@" in line))


def plan_subscribers(current, wanted, earlier):
    """(to subscribe, to unsubscribe): the inventory's missing subscribers, and those it put there and dropped.

    ``earlier``: the subscribers the inventory set on earlier runs (the state).
    An address that is subscribed but was never the inventory's (it
    subscribed by mail, or the owner added it by hand) is kept.
    """
    current, wanted = set(current), set(a.lower() for a in wanted)
    add = sorted(wanted - current)
    remove = sorted((set(earlier) - wanted) & current)
    return add, remove


def parse_state(text, path):
    """list address -> the subscribers the inventory set ({} without a state file)."""
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MlmmjError("%s is not valid JSON (%s); move it away to start over (subscribers are then only added)"
                         % (path, exc))
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not isinstance(data.get("lists"), dict):
        raise MlmmjError("%s is not a version %d state file of the vhosting.postfix.mlmmj_lists module"
                         % (path, STATE_VERSION))
    return dict((k, list(v)) for k, v in data["lists"].items())


def render_state(lists):
    return json.dumps({"version": STATE_VERSION, "lists": dict((k, sorted(v)) for k, v in lists.items())},
                      indent=2, sort_keys=True) + "\n"
