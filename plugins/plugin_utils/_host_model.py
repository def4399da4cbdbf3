# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One model per host: every role's input, validated together, before anything changes.

Pure functions, used on the control node by the ``vhosting.postfix.host_model_facts``
action (run by the ``vhosting.postfix.common`` role, which every role of the
collection depends on). The action resolves the variables of the collection's
roles for one host (inventory and play values over the roles' own
``defaults/main.yml``) and hands them here; :func:`host_model` returns what
each role writes (main.cf parameters, table contents, packages, stale index
files) or raises :class:`ModelError` listing **every** problem found.

So the domain model is computed once per host per play, with the same
options for every role (the server role's ``recipient_delimiter`` and
``mydestination`` included), and the relay role's decisions (what to set on a
backup MX, a transit relay, a smarthost client) are plain, unit-tested Python.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import re

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _host_checks, _parts
from ansible_collections.vhosting.postfix.plugins.plugin_utils._address import did_you_mean
from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import (
    SYSTEM_ACCOUNTS,
    DomainModelError,
    _local_domains,
    domain_model,
    is_absent,
)
from ansible_collections.vhosting.postfix.plugins.plugin_utils._parts import ROLE_PREFIXES
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay_policy import check as _relay_policy_check

MODEL_VERSION = 4

DOMAIN_PREFIX = "vhosting_domain__"
# Facts and registered results of the collection's own tasks.
INTERNAL_PREFIX = "vhosting_postfix__"

# Variables of earlier releases, and what replaces them.
REMOVED_VARIABLES = {
    "vhosting_domains__recipient_delimiter": "vhosting_server__recipient_delimiter (one delimiter for the host)",
    "vhosting_domains__mydestination": "vhosting_server__mydestination",
    "vhosting_domains__myhostname": "vhosting_server__myhostname",
    "vhosting_domains__mydomain": "vhosting_server__mydomain",
    "vhosting_relay__state_file": "nothing: the postconf module records what each role set",
    "vhosting_dovecot__tls_cert_file": "vhosting_tls__cert_file (the vhosting.postfix.tls role owns the certificates)",
    "vhosting_dovecot__tls_key_file": "vhosting_tls__key_file (the vhosting.postfix.tls role owns the certificates)",
    "vhosting_dovecot__selfsigned_cert_file": "vhosting_tls__selfsigned_cert_file",
    "vhosting_dovecot__selfsigned_key_file": "vhosting_tls__selfsigned_key_file",
}


class ModelError(ValueError):
    """The inventory of a host is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(ModelError, self).__init__("; ".join(self.problems))


# --------------------------------------------------------------------------
# Variable names
# --------------------------------------------------------------------------

def check_variable_names(names, known):
    """Problems for ``vhosting_*`` variables that no role of the collection reads.

    ``known`` maps a role name to the set of its variable names (from its
    argument specs). A name with a role's prefix that the role does not
    know, a removed variable, or any other ``vhosting_*`` name that is
    neither a domain definition (``vhosting_domain__*``) nor internal, is a
    typo that would silently do nothing: it is reported, with the closest
    known name.
    """
    every = set()
    for role_names in known.values():
        every.update(role_names)
    problems = []
    for name in sorted(names):
        if not name.startswith("vhosting_") or name in every:
            continue
        if name.startswith(DOMAIN_PREFIX) or name.startswith(INTERNAL_PREFIX):
            continue
        if name in REMOVED_VARIABLES:
            problems.append("%s: this variable was removed; use %s" % (name, REMOVED_VARIABLES[name]))
            continue
        role = None
        for role_name, prefix in ROLE_PREFIXES:
            if name.startswith(prefix):
                role = role_name
        hint = did_you_mean(name, every | set([DOMAIN_PREFIX + "..."]))
        if role is not None:
            problems.append("%s: the vhosting.postfix.%s role has no such variable%s" % (name, role, hint))
        elif re.match(r"^vhosting_domains?_[^_]", name) or name.startswith("vhosting_domains__"):
            problems.append("%s: not a domain definition: domain variables are named vhosting_domain__<name> "
                            "(two underscores)%s" % (name, hint))
        else:
            problems.append("%s: no role of vhosting.postfix reads this variable%s" % (name, hint))
    return problems


# --------------------------------------------------------------------------
# The parts of the model
# --------------------------------------------------------------------------

def domain_options(values):
    """The options of the hosted-domain model, from the server and domains role variables."""
    return {
        "role_accounts": values["vhosting_domains__role_accounts"],
        "role_account_target": values["vhosting_domains__role_account_target"],
        "local_domain": values["vhosting_domains__local_domain"],
        "mailbox_base": values["vhosting_domains__mailbox_base"],
        "minimum_uid": values["vhosting_domains__virtual_minimum_uid"],
        "vmail_uid": values["vhosting_domains__vmail_uid"],
        "vmail_gid": values["vhosting_domains__vmail_gid"],
        "recipient_delimiter": values["vhosting_server__recipient_delimiter"],
        "mydestination": values["vhosting_server__mydestination"],
        "myhostname": values["vhosting_server__myhostname"],
        "mydomain": values["vhosting_server__mydomain"],
        "autoreply_domain": values["vhosting_domains__autoreply_domain"],
        "system_accounts": [values["vhosting_domains__vmail_user"], values["vhosting_domains__autoreply_user"]],
    }


# The variable behind each option of the domain model, for its messages.
OPTION_VARIABLES = {
    "role_accounts": "vhosting_domains__role_accounts",
    "role_account_target": "vhosting_domains__role_account_target",
    "local_domain": "vhosting_domains__local_domain",
    "mailbox_base": "vhosting_domains__mailbox_base",
    "minimum_uid": "vhosting_domains__virtual_minimum_uid",
    "vmail_uid": "vhosting_domains__vmail_uid",
    "vmail_gid": "vhosting_domains__vmail_gid",
    "recipient_delimiter": "vhosting_server__recipient_delimiter",
    "mydestination": "vhosting_server__mydestination",
    "myhostname": "vhosting_server__myhostname",
    "mydomain": "vhosting_server__mydomain",
    "autoreply_domain": "vhosting_domains__autoreply_domain",
}


def _name_variables(problems):
    """'option mailbox_base: ...' of the domain model becomes 'vhosting_domains__mailbox_base: ...'."""
    named = []
    for problem in problems:
        match = re.match(r"^option (\w+): ", problem)
        if match and match.group(1) in OPTION_VARIABLES:
            problem = OPTION_VARIABLES[match.group(1)] + problem[len("option %s" % match.group(1)):]
        named.append(problem)
    return named


def _checks(values, domains, registry, problems):
    """The checks across roles (see _host_checks)."""
    _host_checks.server_parameters(values, problems)
    _host_checks.names_and_addresses(values, problems)
    _host_checks.map_types(values, problems)
    _host_checks.paths(values, problems, _parts.path_variables(registry))
    _host_checks.recipient_delimiter(values, problems)
    _host_checks.accounts(values, set(SYSTEM_ACCOUNTS), problems)
    _host_checks.table_paths(values, problems, _parts.table_variables(registry))
    canonical = domains["canonical_domains"] if domains else []
    mydestination = list(values["vhosting_server__mydestination"]) + list(canonical)
    _host_checks.local_domain(values, _local_domains({
        "mydestination": mydestination, "myhostname": values["vhosting_server__myhostname"],
        "mydomain": values["vhosting_server__mydomain"]}), domains["virtual_alias_map"] if domains else {}, problems)


def fingerprint(values, definitions, primaries, hostname, key):
    """A keyed digest (HMAC-SHA256) of everything host_model reads: equal inputs and key give the same value.

    The input holds secrets (mailbox passwords, the database passwords) and
    the fingerprint is in a fact that verbose runs print: an unkeyed digest
    would let its reader test guessed passwords offline. ``key`` (bytes, at
    least 16) is the control node's own secret (see the host_model action).
    """
    if not isinstance(key, bytes) or len(key) < 16:
        raise ValueError("fingerprint: the key must be at least 16 secret bytes")
    text = json.dumps([MODEL_VERSION, hostname, values, definitions, primaries or []], sort_keys=True,
                      separators=(",", ":"), default=str)
    return hmac.new(key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


def raw_fingerprint(variables, hostname, key, resolve=None):
    """A keyed digest of the host's ``vhosting_*`` variables as the inventory gives them (untemplated).

    Cheap (no templating of 10,000 definitions): the host_model action uses it
    to recognise, within one play, the input it built or confirmed the model
    from. A variable whose value holds a template (``{{``, ``{%``) may mean
    something else the next time (a loop variable, a fact, another
    variable): its templated value, ``resolve(name)``, goes into the digest
    too, and without ``resolve`` there is no digest. None when the variables
    cannot be serialised or a template cannot be resolved.
    """
    parts = [MODEL_VERSION, hostname]
    try:
        for name in sorted(variables):
            if not name.startswith("vhosting_") or name.startswith(INTERNAL_PREFIX):
                continue
            text = json.dumps(variables[name], sort_keys=True, separators=(",", ":"), default=repr)
            parts.extend((name, text))
            if any(marker in text for marker in _TEMPLATE_MARKERS):
                if resolve is None:
                    return None
                parts.append(json.dumps(resolve(name), sort_keys=True, separators=(",", ":"), default=repr))
    except Exception:  # pylint: disable=broad-except
        # Not serialisable, or a template that does not resolve: no shortcut (the full validation reports it).
        return None
    text = json.dumps(parts, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


_TEMPLATE_MARKERS = ("{{", "{%", "{#")


def host_model(values, definitions, primaries=None, hostname=None, key=None, registry=_parts.REGISTRY,
               composed=_parts.COMPOSED):
    """Validate one host's input for every role and return its model, or raise ModelError.

    ``values``: every variable of the collection's roles, resolved and
    checked against the roles' argument specs.
    ``definitions``: the host's ``vhosting_domain__*`` variables.
    ``primaries``: for a backup MX, ``[{host, nexthop, definitions, options}]``
    (see ``_relay.relay_model``).
    ``key``: the secret key of the model's fingerprint (see :func:`fingerprint`);
    without one the model has no fingerprint (None).
    ``registry``, ``composed``: the parts of the model and the parameters they compose (``_parts.REGISTRY``,
    ``_parts.COMPOSED``; a test may add a part of its own).
    """
    problems = []
    try:
        domains = domain_model(definitions, domain_options(values))
    except DomainModelError as exc:
        problems.extend(_name_variables(exc.problems))
        domains = None
    # Domains this host delivers itself can never be relayed for others.
    local_domains = [d["domain"] for d in (definitions or {}).values()
                     if isinstance(d, dict) and isinstance(d.get("domain"), str) and not is_absent(d)]
    ctx = {
        "values": values,
        "hostname": hostname,
        "definitions": definitions or {},
        "domains": domains,
        "primaries": primaries or [],
        "local_domains": local_domains + [values["vhosting_server__myhostname"]],
    }
    built = _parts.build(ctx, problems, registry)
    _checks(values, domains, registry, problems)
    # Put together even with problems, so that the relay policy and the conflicts are reported in the same run.
    facts, table_paths, maps, postfix_packages, stale_files, probe = _parts.assemble(built, registry, composed)
    server_parameters = values["vhosting_server__parameters"] or {}
    parameters, sources = _parts.relay_policy_input(facts, server_parameters)
    _relay_policy_check(parameters, sources, values["vhosting_server__relay_trusted_restrictions"],
                        bool(values["vhosting_server__mynetworks_allow_wide"]), problems)
    _parts.conflicts(facts, server_parameters, problems)
    if problems:
        raise ModelError(problems)

    types = set([values["vhosting_server__default_database_type"]] + list(values["vhosting_server__map_types"]))
    for role_tables in table_paths.values():
        types.update(t for t in role_tables.values() if t)
    postfix = facts[_parts.fact_key(_parts.POSTFIX_ROLE)]
    postfix["packages"] = ["postfix"] + sorted(set(_parts.packages_of_types(types)) | set(postfix_packages))
    # The fact carries what the roles use: the per-mailbox dicts, the
    # per-domain recipients and classes stay here (they are large and only
    # needed while the model is built); the large tables go to data files.
    slim = dict((k, v) for k, v in domains.items()
                if k not in ("mailboxes", "recipients", "domains", "dovecot_users", "sender_logins", "lists",
                             "autoreplies", "virtual_alias_map", "virtual_mailbox_map"))
    slim["counts"] = {"domains": len(domains["domains"]), "mailboxes": len(domains["mailboxes"])}
    model = {
        "version": MODEL_VERSION,
        "host": hostname,
        "domains": slim,
        # Per role: index files of its tables that main.cf no longer names.
        "stale_index_files": dict((role, _parts.stale_indexes(paths)) for role, paths in table_paths.items()),
        # Per role: everything its one removal task removes (those index files, and what its parts no longer use).
        "stale_files": dict((role, _parts.stale_indexes(paths) + list(stale_files.get(role, [])))
                            for role, paths in table_paths.items()),
        # {map name: {key: value}}: written to data files by the host_model action.
        "maps": maps,
        "fingerprint": None if key is None else fingerprint(values, definitions, primaries, hostname, key),
    }
    model.update(facts)
    # What vhosting.postfix.host_probe reads before the first role changes anything.
    every_stale = sorted(set(p for paths in model["stale_files"].values() for p in paths))
    model["probe"] = {
        "packages": sorted(set(p for fact in facts.values() for p in fact.get("packages") or [])),
        "paths": sorted(set(probe["paths"]) | set(every_stale)),
        "units": sorted(set(probe["units"])),
        "users": sorted(set(probe["users"])),
        "groups": sorted(set(probe["groups"])),
        "modes": sorted(set(probe["modes"])),
        # Dicts ({cert, key, names, required}), in the parts' order.
        "certificates": probe["certificates"],
        "listings": sorted(set(probe["listings"])),
    }
    return model
