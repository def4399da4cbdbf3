# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owner records: the single place for who set which main.cf parameters and table keys.

Two modules let an *owner* (a role: ``server``, ``domains``, ``relay``,
``lists``...) share what they write with others, and record in a state file
what each owner set, so that what an owner set on an earlier run and no
longer sets is removed, and nothing another owner (or the operator) set ever
is. This file holds the decisions, on plain data; the modules do the I/O.

* ``vhosting.postfix.postconf`` (``owner``, ``adopt``): main.cf parameters and
  master.cf services, one state file per configuration directory, each name
  recorded for at most one owner (ownership moves to whoever set it last)::

    {"version": 1, "config_dir": "/etc/postfix",
     "parameters": {"myhostname": "server", "relay_domains": "relay"},
     "services": {"autoreply/unix": "domains"}}

  :func:`default_state_file`, :func:`validate_ownership`, :func:`parse_state`
  / :func:`render_state`, :func:`previously_owned`, :func:`plan_ownership`,
  :func:`with_removals`, :func:`removed_names`, and the pending-reload marker
  (:func:`parse_pending`, :func:`pending_after`).

* ``vhosting.postfix.lookup_table`` (``managed_by``): the keys of a table
  shared with others (``/etc/aliases``), one state file per table, each owner
  with its sorted list of keys (stored folded, as Postfix looks them up)::

    {"version": 1, "path": "/etc/aliases", "owners": {"lists": ["mlmmj_example.org_news"]}}

  :func:`table_state_file`, :func:`check_table_owner`,
  :func:`parse_table_state` / :func:`render_table_state`,
  :func:`plan_table_ownership`.

Shared by both: the owner name rule (:data:`OWNER`), the state file's place
under :data:`STATE_ROOT` (derived from the configuration directory or the
table's path), version 1, the stable JSON text (sorted keys, two-space
indent, final newline) and the refusal of an unusable file, naming it, before
anything is changed.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import LookupTableError
from ansible_collections.vhosting.postfix.plugins.module_utils._postconf import (
    SERVICE_TYPES,
    PostconfError,
)

STATE_VERSION = 1
STATE_ROOT = "/var/lib/vhosting-postfix"
STATE_DIR = STATE_ROOT + "/postconf"
TABLE_STATE_DIR = STATE_ROOT + "/lookup_table"
PENDING_FILE = STATE_ROOT + "/reload-pending"
PENDING_LEVELS = ("reload", "restart")
STATE_KEYS = frozenset(("version", "config_dir", "parameters", "services"))
TABLE_STATE_KEYS = frozenset(("version", "path", "owners"))

OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
OWNER_RULE = "letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 characters"
_NAME = re.compile(r"^[A-Za-z0-9_]+\Z")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9_.:\[\]*-]+\Z")


class StateError(PostconfError):
    """A state file the postconf module cannot use; nothing has been changed."""


# --------------------------------------------------------------------------
# Shared by both records
# --------------------------------------------------------------------------

def is_owner(owner):
    """True for a usable owner name (see :data:`OWNER_RULE`)."""
    return isinstance(owner, str) and bool(OWNER.match(owner))


def _state_file(state_dir, path, root_name):
    """``state_dir``/<path with '/' as '_'>.json; ``root_name`` names the path '/'."""
    name = posixpath.normpath(path).strip("/").replace("/", "_")
    return "%s/%s.json" % (state_dir, name or root_name)


def _unusable(error, module, state_file, detail, advice):
    return error("%s is not a usable state file of the vhosting.postfix.%s module: %s. Nothing was changed. %s"
                 % (state_file, module, detail, advice))


def _load_json(text, problem):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise problem("not valid JSON (%s)" % exc)


def _is_version(value):
    return value == STATE_VERSION and not isinstance(value, bool)


def _render(data):
    """The JSON text of a state (stable: sorted keys, one entry per line)."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _stale(earlier, *kept):
    """The sorted names set earlier that none of ``kept`` (set now, removed anyway, someone else's) holds."""
    return sorted(set(earlier).difference(*kept))


# --------------------------------------------------------------------------
# main.cf parameters and master.cf services (the postconf module)
# --------------------------------------------------------------------------

def default_state_file(config_dir):
    """The state file of ``config_dir``: /etc/postfix -> .../etc_postfix.json, / -> .../root.json."""
    return _state_file(STATE_DIR, config_dir or "/", "root")


def is_service_key(name):
    """True for a master.cf service key ``name/type`` (e.g. ``autoreply/unix``)."""
    if not isinstance(name, str) or "/" not in name:
        return False
    service, _sep, stype = name.rpartition("/")
    return bool(_SERVICE_NAME.match(service)) and stype in SERVICE_TYPES


def is_parameter_name(name):
    return isinstance(name, str) and bool(_NAME.match(name))


def validate_ownership(owner, adopt):
    """Check ``owner`` and ``adopt``; returns (owner or None, adopt list).

    ``adopt`` entries are main.cf parameter names or master.cf service keys
    (``name/type``); they need an owner.
    """
    adopt = list(adopt or [])
    if owner is None or owner == "":
        if adopt:
            raise PostconfError("adopt needs owner: adopted names are recorded for an owner")
        return None, []
    if not is_owner(owner):
        raise PostconfError("owner %r is invalid: %s" % (owner, OWNER_RULE))
    for name in adopt:
        if not (is_parameter_name(name) or is_service_key(name)):
            raise PostconfError("adopt: %r is neither a main.cf parameter name nor a master.cf "
                                "service name/type" % (name,))
    return owner, list(dict.fromkeys(adopt))


def empty_state(config_dir):
    return {"version": STATE_VERSION, "config_dir": posixpath.normpath(config_dir),
            "parameters": {}, "services": {}}


def _state_problem(path, detail):
    return _unusable(StateError, "postconf", path, detail,
                     "Restore it from a backup, or move it away (the module then forgets which names each "
                     "owner set; 'adopt' can take them over again), or set state_file to another path")


def _check_owner_map(data, key, valid_name, what, path):
    mapping = data.get(key)
    if not isinstance(mapping, dict):
        raise _state_problem(path, "%r must be an object %s -> owner" % (key, what))
    for name, owner in mapping.items():
        if not valid_name(name):
            raise _state_problem(path, "%r is not a valid %s (in %r)" % (name, what, key))
        if not is_owner(owner):
            raise _state_problem(path, "the owner of %s %r is invalid: %r" % (what, name, owner))
    return dict(mapping)


def parse_state(text, path, config_dir):
    """Parse and check the JSON state of ``config_dir`` read from ``path``.

    Raises :class:`StateError` naming the file when the text is not JSON,
    has another version, belongs to another configuration directory or
    has entries of the wrong shape.
    """
    data = _load_json(text, lambda detail: _state_problem(path, detail))
    if not isinstance(data, dict):
        raise _state_problem(path, "the JSON is not an object")
    if "version" not in data:
        raise _state_problem(path, "it has no 'version' key (another program's file?)")
    version = data["version"]
    if not _is_version(version):
        raise _state_problem(path, "version %r is not supported (this module writes version %d)"
                             % (version, STATE_VERSION))
    unknown = sorted(set(data) - STATE_KEYS)
    missing = sorted(STATE_KEYS - set(data))
    if unknown or missing:
        raise _state_problem(path, "unexpected keys %s, missing keys %s"
                             % (", ".join(unknown) or "none", ", ".join(missing) or "none"))
    recorded = data["config_dir"]
    if not isinstance(recorded, str) or posixpath.normpath(recorded) != posixpath.normpath(config_dir):
        raise _state_problem(path, "it records config_dir %r, not %r" % (recorded, config_dir))
    return {
        "version": STATE_VERSION,
        "config_dir": posixpath.normpath(config_dir),
        "parameters": _check_owner_map(data, "parameters", is_parameter_name, "parameter name", path),
        "services": _check_owner_map(data, "services", is_service_key, "service name/type", path),
    }


def render_state(state):
    """The JSON text of a state (stable: sorted keys, one entry per line)."""
    return _render(state)


def previously_owned(state, owner, adopt=()):
    """What ``owner`` set on an earlier run: (parameter names, service keys).

    Names recorded for the owner, plus the adopted names the state records
    for nobody (adopted names recorded for another owner stay theirs).
    """
    params = set(name for name, who in state["parameters"].items() if who == owner)
    services = set(key for key, who in state["services"].items() if who == owner)
    for name in adopt:
        if is_service_key(name):
            if name not in state["services"]:
                services.add(name)
        elif name not in state["parameters"]:
            params.add(name)
    return params, services


def requested_ownership(request):
    """What a request sets: (parameter names, keys of services with state present)."""
    params = [name for name, _text, _is_list in request["parameters"]]
    services = [spec["key"] for spec in request["services"] if spec["state"] == "present"]
    return params, services


def plan_ownership(state, owner, request, adopt=(), existing_services=()):
    """Decide what ``owner`` no longer sets and who owns what after the run.

    ``existing_services`` are the keys of the services in master.cf before
    the run. A service that was there already and is recorded for nobody
    (a stock service such as smtp/inet that a task only tunes) is not taken
    into ownership unless adopted: removing it later would not restore
    Postfix's stock definition.

    Returns a dict with ``stale_parameters`` and ``stale_services`` (sorted
    names to remove: set earlier by this owner, not set now, not recorded
    for another owner), ``state`` (the new state) and ``owned``
    ({parameters, services}: sorted names the owner owns afterwards).
    """
    old_params, old_services = previously_owned(state, owner, adopt)
    set_params, set_services = requested_ownership(request)
    adopted = set(adopt)
    existing = set(existing_services)
    new_params = dict(state["parameters"])
    new_services = dict(state["services"])
    stale_params = _stale(old_params, set_params)
    stale_services = _stale(old_services, set_services)
    for name in stale_params:
        new_params.pop(name, None)
    for key in stale_services:
        new_services.pop(key, None)
    for name in set_params:
        new_params[name] = owner
    for key in set_services:
        if key in new_services or key in adopted or key not in existing:
            new_services[key] = owner
    new_state = dict(state, parameters=new_params, services=new_services)
    return {
        "stale_parameters": stale_params,
        "stale_services": stale_services,
        "state": new_state,
        "owned": owned_by(new_state, owner),
    }


def owned_by(state, owner):
    """{parameters, services}: the sorted names a state records for ``owner``."""
    return {
        "parameters": sorted(name for name, who in state["parameters"].items() if who == owner),
        "services": sorted(key for key, who in state["services"].items() if who == owner),
    }


def _absent_service(key):
    service, _sep, stype = key.rpartition("/")
    return {"service": service, "type": stype, "key": key, "state": "absent", "command": None,
            "private": None, "unpriv": None, "chroot": None, "wakeup": None, "maxproc": None,
            "overrides": [], "exclusive_parameters": False}


def with_removals(request, stale_parameters, stale_services):
    """The request with the stale names added to what is removed.

    Stale names already listed for removal are not repeated, so postconf
    still gets at most one ``-X`` and one ``-MX``.
    """
    absent = list(request["absent"])
    absent.extend(name for name in stale_parameters if name not in absent)
    listed = set(spec["key"] for spec in request["services"])
    services = list(request["services"])
    services.extend(_absent_service(key) for key in stale_services if key not in listed)
    return dict(request, absent=absent, services=services)


def removed_names(plan, current_main, current_services):
    """{parameters, services}: the stale names that are really there to remove."""
    return {
        "parameters": [name for name in plan["stale_parameters"] if name in current_main],
        "services": [key for key in plan["stale_services"] if key in current_services],
    }


def parse_pending(text):
    """The level an existing reload marker asks for: ``restart``, else ``reload``.

    A marker exists, so at least a reload is pending, whatever it holds.
    """
    return "restart" if (text or "").strip() == "restart" else "reload"


def pending_after(existing, restart):
    """The marker content once a change is applied; never downgrades.

    ``existing`` is the current level (None: no marker), ``restart``
    whether this change needs a restart.
    """
    if existing == "restart" or restart:
        return "restart"
    return "reload"


# --------------------------------------------------------------------------
# Table keys (the lookup_table module)
# --------------------------------------------------------------------------

def table_state_file(path):
    """The state file of the table ``path``: /etc/aliases -> .../etc_aliases.json."""
    return _state_file(TABLE_STATE_DIR, path, "")


def check_table_owner(owner, exclusive):
    """Refuse an unusable owner name, or an owner of an exclusive table (whose keys are all the caller's)."""
    if owner is None:
        return None
    if not is_owner(owner):
        raise LookupTableError("managed_by %r is invalid: %s" % (owner, OWNER_RULE))
    if exclusive:
        raise LookupTableError("managed_by needs exclusive: false (an exclusive table holds only the caller's keys "
                               "anyway)")
    return owner


def _table_problem(state_file, detail):
    return _unusable(LookupTableError, "lookup_table", state_file, detail,
                     "Restore it, or move it away (the keys its owners set are then kept in the table until "
                     "removed by hand)")


def parse_table_state(text, path, state_file):
    """owner -> sorted list of keys, from the state file's text (None: no file yet)."""
    if text is None:
        return {}
    data = _load_json(text, lambda detail: _table_problem(state_file, detail))
    if not isinstance(data, dict) or not _is_version(data.get("version")):
        raise _table_problem(state_file, "not a version %d state object" % STATE_VERSION)
    if set(data) != TABLE_STATE_KEYS:
        raise _table_problem(state_file, "unexpected keys %s" % ", ".join(sorted(data)))
    if data["path"] != posixpath.normpath(path):
        raise _table_problem(state_file, "it records the table %r, not %r" % (data["path"], path))
    owners = data["owners"]
    if not isinstance(owners, dict):
        raise _table_problem(state_file, "'owners' must be an object owner -> list of keys")
    for owner, keys in owners.items():
        if not is_owner(owner) or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise _table_problem(state_file, "owner %r must have a list of keys" % owner)
    return dict((owner, sorted(keys)) for owner, keys in owners.items())


def render_table_state(path, owners):
    """The JSON text of a table's state (stable: sorted keys; owners without keys are left out)."""
    return _render({"version": STATE_VERSION, "path": posixpath.normpath(path),
                    "owners": dict((o, sorted(k)) for o, k in owners.items() if k)})


def plan_table_ownership(owners, owner, items, fold):
    """(stale keys to remove, owners after the run) for the request ``items`` of ``owner``.

    A key the owner set earlier and does not set now is stale, unless the
    request removes it anyway or another owner has set it since. The owner's
    keys after the run are those it sets (state present) now; a key it sets
    is no longer recorded for anyone else.
    """
    present = set(fold(k) for k, _v, s in items if s == "present")
    absent = set(fold(k) for k, _v, s in items if s == "absent")
    others = set()
    for name, keys in owners.items():
        if name != owner:
            others.update(keys)
    stale = _stale(owners.get(owner, ()), present, absent, others)
    after = dict((name, [k for k in keys if k not in present]) for name, keys in owners.items() if name != owner)
    after[owner] = sorted(present)
    return stale, dict((name, keys) for name, keys in after.items() if keys)
