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
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

STATE_VERSION = 1
STATE_FILE = "/var/lib/vhosting-postfix/mlmmj_lists.json"
# What mlmmj-make-ml creates in a new list directory.
SUBDIRS = ("incoming", "queue", "queue/discarded", "archive", "text", "subconf", "unsubconf", "bounce", "control",
           "moderation", "subscribers.d", "digesters.d", "requeue", "nomailsubs.d")
# Directories only root writes (mlmmj reads them): the list's settings and texts.
ROOT_DIRS = ("control", "text")
# The control files this module manages; every other one (an operator's prefix, footer, ...) is left alone.
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


def control_changes(wanted, current):
    """[(name, wanted content or None)] of the control files that differ from ``current`` (name -> content or None)."""
    return [(name, wanted[name]) for name in MANAGED_CONTROL if current.get(name) != wanted[name]]


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
