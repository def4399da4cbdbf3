# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure core of the ownership state of the ``vhosting.postfix.postconf`` module.

The module's ``owner`` option records, per configuration directory, which
main.cf parameters and master.cf services each owner (a role: ``server``,
``domains``, ``relay``...) set, so that what an owner set on an earlier run
and no longer sets is removed. This file holds the decisions, on plain data:

* :func:`default_state_file` derives the state file's path from config_dir;
* :func:`parse_state` / :func:`render_state` read and write the JSON state,
  refusing corrupt or foreign files with a message naming the file;
* :func:`validate_ownership` checks ``owner`` and ``adopt``;
* :func:`previously_owned`, :func:`plan_ownership` decide what is stale (to
  remove) and who owns what after the run; :func:`with_removals` merges the
  stale names into the module's request, :func:`removed_names` says which of
  them were really there;
* :func:`parse_pending` / :func:`pending_after` handle the reload marker.

State file format (version 1)::

    {"version": 1, "config_dir": "/etc/postfix",
     "parameters": {"myhostname": "server", "relay_domains": "relay"},
     "services": {"autoreply/unix": "domains"}}

Each name has at most one owner: ownership moves to whoever set it last.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re

from ansible_collections.vhosting.postfix.plugins.module_utils._postconf import (
    SERVICE_TYPES,
    PostconfError,
)

STATE_VERSION = 1
STATE_DIR = "/var/lib/vhosting-postfix/postconf"
PENDING_FILE = "/var/lib/vhosting-postfix/reload-pending"
PENDING_LEVELS = ("reload", "restart")
STATE_KEYS = frozenset(("version", "config_dir", "parameters", "services"))

_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9_.:\[\]*-]+$")


class StateError(PostconfError):
    """A state file the module cannot use; nothing has been changed."""


# --------------------------------------------------------------------------
# Paths and arguments
# --------------------------------------------------------------------------

def default_state_file(config_dir):
    """The state file of ``config_dir``: /etc/postfix -> .../etc_postfix.json."""
    path = posixpath.normpath(config_dir or "/").strip("/")
    return "%s/%s.json" % (STATE_DIR, path.replace("/", "_") or "root")


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
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise PostconfError("owner %r is invalid: letters, digits, '_', '.' and '-', starting "
                            "with a letter or digit, at most 64 characters" % (owner,))
    for name in adopt:
        if not (is_parameter_name(name) or is_service_key(name)):
            raise PostconfError("adopt: %r is neither a main.cf parameter name nor a master.cf "
                                "service name/type" % (name,))
    return owner, list(dict.fromkeys(adopt))


# --------------------------------------------------------------------------
# The state file
# --------------------------------------------------------------------------

def empty_state(config_dir):
    return {"version": STATE_VERSION, "config_dir": posixpath.normpath(config_dir),
            "parameters": {}, "services": {}}


def _state_problem(path, detail):
    return StateError(
        "%s is not a usable state file of the vhosting.postfix.postconf module: %s. Nothing was "
        "changed. Restore it from a backup, or move it away (the module then forgets which "
        "names each owner set; 'adopt' can take them over again), or set state_file to "
        "another path" % (path, detail))


def _check_owner_map(data, key, valid_name, what, path):
    mapping = data.get(key)
    if not isinstance(mapping, dict):
        raise _state_problem(path, "%r must be an object %s -> owner" % (key, what))
    for name, owner in mapping.items():
        if not valid_name(name):
            raise _state_problem(path, "%r is not a valid %s (in %r)" % (name, what, key))
        if not isinstance(owner, str) or not _OWNER.match(owner):
            raise _state_problem(path, "the owner of %s %r is invalid: %r" % (what, name, owner))
    return dict(mapping)


def parse_state(text, path, config_dir):
    """Parse and check the JSON state of ``config_dir`` read from ``path``.

    Raises :class:`StateError` naming the file when the text is not JSON,
    has another version, belongs to another configuration directory or
    has entries of the wrong shape.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _state_problem(path, "not valid JSON (%s)" % exc)
    if not isinstance(data, dict):
        raise _state_problem(path, "the JSON is not an object")
    if "version" not in data:
        raise _state_problem(path, "it has no 'version' key (another program's file?)")
    version = data["version"]
    if version != STATE_VERSION or isinstance(version, bool):
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
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------
# Ownership
# --------------------------------------------------------------------------

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
    stale_params = sorted(old_params - set(set_params))
    stale_services = sorted(old_services - set(set_services))
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


# --------------------------------------------------------------------------
# The pending-reload marker
# --------------------------------------------------------------------------

def parse_pending(text):
    """The level an existing marker asks for: ``restart``, else ``reload``.

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
