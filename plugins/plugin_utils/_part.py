# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a part of the host model is, and what it may contribute (controller side, pure).

A *part* is one feature of the collection (the server's base configuration,
the hosted domains' tables, mailing lists, autoreplies, the relay, Dovecot,
...). Its ``build(ctx, problems)`` reads the host's resolved variables and
domain model from ``ctx`` and returns a *contribution*, a dict with any of
these keys (see docs/architecture.md):

``parameters``  main.cf parameters the part's role sets (and owns: what the
                role set on an earlier run and no longer sets is removed).
                A parameter that several parts contribute to (declared in
                ``_parts.COMPOSED``) is a list of elements: the elements of
                every contributor are joined in the declared order, under the
                role of the first part that contributes.
``services``    master.cf services (the postconf module's ``services``).
``tables``      {source path: map name} of the tables in use.
``table_type``  the type of those tables (lmdb, hash, btree, cdb).
``table_paths`` {source path: type in use, or None}: every table the part may
                own, in use or not; the index files of the other types, and
                all of them for unused tables, are swept.
``stale_files`` files and directories the part wrote earlier and no longer
                uses: removed by its role (with the swept index files) in
                one vhosting.postfix.remove_files call.
``probe``       {"paths": [...], "units": [...], "users": [...], "groups": [...]}:
                what the part's tasks need to know of the host (a file
                exists, a unit runs, an account is there), read with the
                packages and every stale file in one vhosting.postfix.host_probe
                call before the first role changes anything.
``packages``    Debian packages the part's role installs.
``postfix_packages`` Postfix plug-ins and drivers the part needs, installed
                with Postfix by the server role (the packages of the
                table types in use are added to them by _parts).
``overrides``   main.cf parameters the operator gives directly
                (``vhosting_server__parameters``): set last by the part's
                role, outside the registry's one-owner rule; an overlap with
                another role's parameter is reported as a problem.
``rewrite``     {main.cf element: replacement}, applied to every role's
                parameters once they are composed (a file table that a
                database table replaces).
``maps``        {map name: {key: value}}: large tables, which the host_model
                action writes to data files on the control node (the fact
                carries their paths in ``table_files``).
``fact``        anything else the role's tasks read, merged into the role's
                part of the ``vhosting_postfix__model`` fact.

None means "cannot be built" (``problems`` then says why). A part declares
the path and table variables it owns (``path_variables``, as
``(variable, kind, what, example)``, see ``_host_checks.paths``;
``table_variables``), so the cross-role checks cover them without a list of
their own.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables
from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import INDEX_SUFFIXES

CONTRIBUTION_KEYS = ("parameters", "services", "tables", "table_type", "table_paths", "stale_files", "probe", "packages", "postfix_packages",
                     "rewrite", "overrides", "maps", "fact")

# Lookup table types the roles accept for their own tables: the indexed types
# postmap builds on Debian (dbm and sdbm are not built there), which Postfix
# re-opens by itself when they change (no reload needed).
ROLE_TABLE_TYPES = tuple(t for t in INDEX_SUFFIXES if t not in ("dbm", "sdbm"))


class Part(object):
    """One feature of the host model: a name, the role whose tasks write it, and its build function."""

    def __init__(self, name, role, build, path_variables=(), table_variables=(), policy_source=None):
        self.name = name
        self.role = role
        self.build = build
        self.path_variables = tuple(path_variables)
        self.table_variables = tuple(table_variables)
        # How the relay policy names the part's parameters in its messages (None: not judged as a part;
        # the server role's own parameters are judged as vhosting_server__parameters).
        self.policy_source = policy_source

    def __repr__(self):
        return "Part(%r, role=%r)" % (self.name, self.role)


def table_type(values, name, problems):
    """The table type of variable ``name``, one of ROLE_TABLE_TYPES (else a problem)."""
    value = values[name]
    if value not in ROLE_TABLE_TYPES:
        problems.append("%s: %r is not an indexed table type (one of %s); Postfix re-reads only indexed tables "
                        "by itself when they change" % (name, value, ", ".join(ROLE_TABLE_TYPES)))
    return value


def database_connection(ctx):
    """The host's network-table connection (vhosting_domains__backend and __database), None with files: checked once
    per model and shared by the parts that put tables in the database (the network part reports its problems)."""
    if "database_connection" not in ctx:
        values = ctx["values"]
        ctx["database_connection"] = _network_tables.check_database(
            values["vhosting_domains__backend"], values["vhosting_domains__database"], [], hostname=ctx.get("hostname"))
    return ctx["database_connection"]


def directory(path):
    """The directory of a table's source path."""
    return path.rsplit("/", 1)[0] if "/" in path else "."


# A domain list longer than this goes into main.cf as a lookup table
# (type:table, a key per domain) instead of inline: postconf takes a value as
# one command-line argument, which Linux limits to 128 KiB (about 7,000
# domain names), and Postfix matches a table in one lookup.
DOMAIN_LIST_LIMIT = 1000


def domain_list_table(table_directory, parameter):
    """The table file of a long domain list (next to the role's other tables)."""
    return "%s/vhosting_%s" % (table_directory.rstrip("/") or "", parameter)


def domain_list(parameter, domains, kind, table_directory, parameters, tables, maps, inline=(),
                limit=DOMAIN_LIST_LIMIT):
    """Set ``parameter`` to the domain list: inline, or (when longer than ``limit``) as a table in
    ``table_directory``, named in ``tables``, its entries in ``maps`` under PARAMETER_map. ``inline``: names that
    always stay in the parameter itself, before the domains or their table (mydestination's own), and count towards
    the limit."""
    if len(inline) + len(domains) <= limit:
        parameters[parameter] = list(inline) + list(domains)
        return
    path = domain_list_table(table_directory, parameter)
    name = parameter + "_map"
    maps[name] = dict((domain, "OK") for domain in domains)
    tables[path] = name
    table = "%s:%s" % (kind, path)
    parameters[parameter] = list(inline) + [table] if inline else table
