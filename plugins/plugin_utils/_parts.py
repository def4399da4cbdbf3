# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of parts: every feature of the host model, and how their contributions are put together.

Adding a feature is one line in ``REGISTRY`` (and, when it adds to a
parameter that other parts set too, its name in ``COMPOSED``): the host
model builds it, the ownership of its main.cf parameters, the conflict and
relay-policy checks, the stale-index sweep, the package list and the data
files of its large tables all come from what it returns (see ``_part`` and
docs/architecture.md). Controller side, pure.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import stale_index_files
from ansible_collections.vhosting.postfix.plugins.plugin_utils import (
    _autoreply_model,
    _domains_part,
    _dovecot_model,
    _lists,
    _mail_auth_part,
    _relay_part,
    _server_part,
    _tls_part,
)
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import CONTRIBUTION_KEYS

# The collection's roles: name, variable prefix, the key of the role's part
# of the vhosting_postfix__model fact (None: the role writes no part of the
# mail host), and how the relay policy names the role's main.cf parameters.
ROLES = (
    ("server", "vhosting_server__", "server", None),
    ("tls", "vhosting_tls__", "tls", "vhosting.postfix.tls role"),
    ("domains", "vhosting_domains__", "domains_role", "vhosting.postfix.domains role"),
    ("relay", "vhosting_relay__", "relay", "vhosting.postfix.relay role (vhosting_relay__*)"),
    ("dovecot", "vhosting_dovecot__", "dovecot", "vhosting.postfix.dovecot role"),
    ("mail_auth", "vhosting_mail_auth__", "mail_auth", "vhosting.postfix.mail_auth role"),
    ("database_server", "vhosting_database_server__", None, None),
)
ROLE_PREFIXES = tuple((name, prefix) for name, prefix, _key, _label in ROLES)

# Every part, in the order the model builds them (a part may read the
# contributions of those before it in ctx["built"]).
REGISTRY = (
    _server_part.PART,
    _tls_part.PART,
    _domains_part.PART,
    _lists.PART,
    _autoreply_model.PART,
    _relay_part.PART,
    _dovecot_model.PART,
    # After the relay and Dovecot parts: a backup MX's recipients of its primaries' rows and the sender logins
    # are tables of the network part when the host's tables are in a database.
    _domains_part.NETWORK_PART,
    _mail_auth_part.PART,
)

# main.cf parameters that several parts contribute to: the contributors in
# the order their elements are joined. The first part that contributes owns
# the whole value (its role sets it); a contributor that stops contributing
# takes its elements away on the next run.
COMPOSED = (
    # The hosted domains' transport table first (Dovecot and autoreply domains), then the relay role's.
    ("transport_maps", ("domains", "relay")),
    # The autoreply domain's refusal first, then the relay role's restrictions, then the SPF check (after
    # permit_mynetworks and permit_sasl_authenticated).
    ("smtpd_recipient_restrictions", ("autoreply", "relay", "mail_auth")),
)

# Debian package providing each dynamically loaded table type.
MAP_TYPE_PACKAGES = {
    "lmdb": "postfix-lmdb",
    "cdb": "postfix-cdb",
    "pcre": "postfix-pcre",
    "pgsql": "postfix-pgsql",
    "mysql": "postfix-mysql",
    "ldap": "postfix-ldap",
    "sqlite": "postfix-sqlite",
}
# The role that installs Postfix, with its plug-ins.
POSTFIX_ROLE = "server"


class RegistryError(Exception):
    """A part broke the registry's rules (a bug of the collection, not of the inventory)."""


def fact_key(role):
    for name, _prefix, key, _label in ROLES:
        if name == role:
            return key
    raise RegistryError("no role %r in ROLES" % (role,))


def path_variables(registry=REGISTRY):
    """Every path variable of the parts, as (variable, kind, what, example); see _host_checks.paths."""
    return tuple(entry for part in registry for entry in part.path_variables)


def table_variables(registry=REGISTRY):
    """Every table source variable of the parts (one file each)."""
    return tuple(name for part in registry for name in part.table_variables)


def build(ctx, problems, registry=REGISTRY):
    """Build every part: {part name: contribution, or None when its problems are in ``problems``}."""
    built = ctx.setdefault("built", {})
    for part in registry:
        if part.name in built:
            raise RegistryError("two parts are named %r" % part.name)
        contribution = part.build(ctx, problems)
        if contribution is not None:
            unknown = sorted(set(contribution) - set(CONTRIBUTION_KEYS))
            if unknown:
                raise RegistryError("part %s: unknown contribution key(s) %s" % (part.name, ", ".join(unknown)))
        built[part.name] = contribution
    return built


def _elements(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _rewritten(value, rewrite):
    if isinstance(value, list):
        return [rewrite.get(v, v) if isinstance(v, str) else v for v in value]
    return rewrite.get(value, value) if isinstance(value, str) else value


# What a part may ask vhosting.postfix.host_probe about (besides its packages and stale files).
PROBE_KINDS = ("paths", "units", "users", "groups", "modes", "certificates", "listings")


def assemble(built, registry=REGISTRY, composed=COMPOSED):
    """Each role's part of the fact, from the contributions of its parts.

    Returns ({fact key: fact}, {role: {source path: type in use or None}},
    {map name: mapping}, [packages of Postfix's plug-ins], {role: [stale files]}, {"paths": [...], "units": [...]}). Raises
    RegistryError when two parts set one parameter that is not declared in
    ``composed``, when two parts name one map, or a part contributes to a
    composed parameter without being declared as its contributor.
    """
    composed_names = dict(composed)
    facts, table_paths, maps = {}, {}, {}
    owners, contributions, postfix_packages, rewrite, stale = {}, {}, [], {}, {}
    probe = dict((kind, []) for kind in PROBE_KINDS)
    for part in registry:
        contribution = built.get(part.name)
        key = fact_key(part.role)
        fact = facts.setdefault(key, {"parameters": {}, "services": [], "tables": {}, "packages": []})
        paths = table_paths.setdefault(part.role, {})
        role_stale = stale.setdefault(part.role, [])
        if contribution is None:
            continue
        for name, value in (contribution.get("parameters") or {}).items():
            if name in composed_names:
                if part.name not in composed_names[name]:
                    raise RegistryError("part %s contributes to %s but is not one of its contributors in COMPOSED"
                                        % (part.name, name))
                contributions.setdefault(name, {})[part.name] = _elements(value)
                continue
            if name in owners:
                raise RegistryError("parts %s and %s both set %s: declare it in COMPOSED"
                                    % (owners[name].name, part.name, name))
            owners[name] = part
            fact["parameters"][name] = value
        fact["services"].extend(contribution.get("services") or [])
        fact["tables"].update(contribution.get("tables") or {})
        fact["packages"].extend(p for p in contribution.get("packages") or [] if p not in fact["packages"])
        if "table_type" in contribution:
            fact["table_type"] = contribution["table_type"]
        paths.update(contribution.get("table_paths") or {})
        role_stale.extend(p for p in contribution.get("stale_files") or [] if p not in role_stale)
        for kind in PROBE_KINDS:
            probe[kind].extend(v for v in (contribution.get("probe") or {}).get(kind, []) if v not in probe[kind])
        for name, mapping in (contribution.get("maps") or {}).items():
            if name in maps:
                raise RegistryError("two parts name the map %s" % name)
            maps[name] = mapping
        postfix_packages.extend(contribution.get("postfix_packages") or [])
        rewrite.update(contribution.get("rewrite") or {})
        fact.update(contribution.get("fact") or {})
    parts = dict((part.name, part) for part in registry)
    for name, contributors in composed:
        given = contributions.get(name)
        if not given:
            continue
        value = []
        for part_name in contributors:
            value.extend(given.get(part_name, []))
        owner = parts[next(p for p in contributors if p in given)]
        if name in owners:
            raise RegistryError("part %s sets %s, which COMPOSED composes" % (owners[name].name, name))
        facts[fact_key(owner.role)]["parameters"][name] = value
    if rewrite:
        for fact in facts.values():
            fact["parameters"] = dict((name, _rewritten(value, rewrite)) for name, value in fact["parameters"].items())
    # What the operator set directly, last (an overlap with another role is a problem, see conflicts()).
    for part in registry:
        overrides = (built.get(part.name) or {}).get("overrides")
        if overrides:
            facts[fact_key(part.role)]["parameters"].update(overrides)
    return facts, table_paths, maps, postfix_packages, stale, probe


def packages_of_types(types):
    """The Debian packages of the dynamically loaded table types in ``types``."""
    return sorted(set(MAP_TYPE_PACKAGES[t] for t in types if t in MAP_TYPE_PACKAGES))


def stale_indexes(tables):
    """Index files of the tables a role owns that main.cf no longer names.

    ``tables`` maps a source path to its table type in use, or to None when
    main.cf no longer uses that table at all. Returns a sorted list of paths:
    the index files of every other indexed type, and all of them for unused
    tables (the lookup_table module's own rule, _lookup_table.stale_index_files).
    The sources themselves are kept (like mail on disk).
    """
    stale = set()
    for path, in_use in tables.items():
        # texthash has no index: every index file of an unused table is stale.
        stale.update(stale_index_files(path, in_use or "texthash"))
    return sorted(stale)


def relay_policy_input(facts, server_parameters):
    """(parameters, sources) of main.cf for _relay_policy: every role's parameters, then vhosting_server__parameters."""
    parameters, sources = {}, {}
    for _name, _prefix, key, label in ROLES:
        if key is None or label is None:
            continue
        for name, value in (facts.get(key) or {}).get("parameters", {}).items():
            parameters[name] = value
            sources[name] = label
    for name, value in (server_parameters or {}).items():
        parameters[name] = value
        sources[name] = "vhosting_server__parameters"
    return parameters, sources


def conflicts(facts, server_parameters, problems):
    """A parameter set by another role and also in vhosting_server__parameters is refused."""
    for role, _prefix, key, _label in ROLES:
        if key is None or role == POSTFIX_ROLE:
            continue
        both = sorted(set(server_parameters or {}) & set((facts.get(key) or {}).get("parameters", {})))
        if both:
            problems.append("vhosting_server__parameters: %s set by the vhosting.postfix.%s role (from its own "
                            "variables); remove %s from vhosting_server__parameters"
                            % (", ".join(both), role, "it" if len(both) == 1 else "them"))
