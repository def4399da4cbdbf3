# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure core of the ``managed_by`` option of the ``vhosting.postfix.lookup_table`` module.

A table shared with others (``/etc/aliases``: the operator's names, the
Debian package's, the collection's) is maintained with ``exclusive: false``.
With ``managed_by`` (an owner name), the module records in a state file which keys that owner
set, so that a key the owner set on an earlier run and no longer sets is
removed, and nobody else's key ever is. One state file per table::

    {"version": 1, "path": "/etc/aliases", "owners": {"lists": ["mlmmj_example.org_news"]}}

Keys are stored folded (as Postfix looks them up in fixed-string tables).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import LookupTableError

STATE_VERSION = 1
STATE_DIR = "/var/lib/vhosting-postfix/lookup_table"
_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_state_file(path):
    """The state file of the table `path`: /etc/aliases -> .../etc_aliases.json."""
    return "%s/%s.json" % (STATE_DIR, posixpath.normpath(path).strip("/").replace("/", "_"))


def check_owner(owner, exclusive):
    """Refuse an unusable owner name, or an owner of an exclusive table (whose keys are all the caller's)."""
    if owner is None:
        return None
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise LookupTableError("managed_by %r is invalid: letters, digits, '_', '.' and '-', starting with a letter or "
                               "digit, at most 64 characters" % (owner,))
    if exclusive:
        raise LookupTableError("managed_by needs exclusive: false (an exclusive table holds only the caller's keys anyway)")
    return owner


def _problem(state_file, detail):
    return LookupTableError("%s is not a usable state file of the vhosting.postfix.lookup_table module: %s. Nothing "
                            "was changed. Restore it, or move it away (the keys its owners set are then kept in the "
                            "table until removed by hand)" % (state_file, detail))


def parse_state(text, path, state_file):
    """owner -> sorted list of keys, from the state file's text (None: no file yet)."""
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _problem(state_file, "not valid JSON (%s)" % exc)
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION or isinstance(data.get("version"), bool):
        raise _problem(state_file, "not a version %d state object" % STATE_VERSION)
    if sorted(data) != ["owners", "path", "version"]:
        raise _problem(state_file, "unexpected keys %s" % ", ".join(sorted(data)))
    if data["path"] != posixpath.normpath(path):
        raise _problem(state_file, "it records the table %r, not %r" % (data["path"], path))
    owners = data["owners"]
    if not isinstance(owners, dict):
        raise _problem(state_file, "'owners' must be an object owner -> list of keys")
    for owner, keys in owners.items():
        if not _OWNER.match(owner) or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise _problem(state_file, "owner %r must have a list of keys" % owner)
    return dict((owner, sorted(keys)) for owner, keys in owners.items())


def render_state(path, owners):
    """The JSON text of the state (stable: sorted keys)."""
    data = {"version": STATE_VERSION, "path": posixpath.normpath(path),
            "owners": dict((o, sorted(k)) for o, k in owners.items() if k)}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def plan_ownership(owners, owner, items, fold):
    """(stale keys to remove, owners after the run) for the request `items` of `owner`.

    A key the owner set earlier and does not set now is stale, unless another
    owner has set it since. The owner's keys after the run are those it sets
    (state present) now.
    """
    present = set(fold(k) for k, _v, s in items if s == "present")
    absent = set(fold(k) for k, _v, s in items if s == "absent")
    others = set()
    for name, keys in owners.items():
        if name != owner:
            others.update(keys)
    earlier = set(owners.get(owner, ()))
    stale = sorted(earlier - present - absent - others)
    after = dict((name, [k for k in keys if k not in present]) for name, keys in owners.items() if name != owner)
    after[owner] = sorted(present)
    return stale, dict((name, keys) for name, keys in after.items() if keys)
