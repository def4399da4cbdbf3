# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay part of the host model: backup MX, transit relaying, smarthost (controller side, pure; see _part).

The relay model itself (which domains, which recipients, the transport) is
``_relay``; this part turns it into the relay role's main.cf parameters and
tables.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import (
    Part,
    database_connection,
    directory,
    domain_list,
    domain_list_table,
    table_type,
)
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay import (
    RelayError,
    check_relayhost,
    check_restrictions,
    queue_parameters,
    relay_model,
)

TABLE_VARIABLES = ("vhosting_relay__recipient_table", "vhosting_relay__transport_table",
                   "vhosting_relay__defer_table")
# The state file of release 0.1.0 (its parameters are adopted once, then it is removed).
LEGACY_STATE = "/etc/postfix/vhosting_relay.json"


def relay_parameters(model, values, relayhost, sasl, recipient_checks, queue):
    """The main.cf parameters of the relay role (backup MX, transport, smarthost, restrictions)."""
    kind = values["vhosting_relay__table_type"]
    is_backup = bool(model["relay_domains"])
    manage = values["vhosting_relay__manage_restrictions"]
    restrictions = manage == "always" or (
        manage == "auto" and (is_backup or bool(model["transport_map"]) or bool(relayhost) or bool(sasl)))
    parameters = {}
    if is_backup:
        parameters["relay_domains"] = model["relay_domains"]
        parameters["relay_recipient_maps"] = "%s:%s" % (kind, values["vhosting_relay__recipient_table"])
        parameters.update(queue)
    if model["transport_map"]:
        parameters["transport_maps"] = "%s:%s" % (kind, values["vhosting_relay__transport_table"])
    if relayhost:
        parameters["relayhost"] = relayhost
    if restrictions:
        base = ["permit_mynetworks"] + list(sasl) + ["reject_unauth_destination"]
        parameters["smtpd_relay_restrictions"] = base
        # Backup for canonical domains: the defer table answers 450 for those of a
        # primary whose local names could not be read. After reject_unauth_destination,
        # so that it can only refuse.
        defer = []
        if any(info.get("canonical") for info in (model.get("domains") or {}).values()):
            defer = ["check_recipient_access %s:%s" % (kind, values["vhosting_relay__defer_table"])]
        parameters["smtpd_recipient_restrictions"] = base + defer + list(recipient_checks)
    return parameters


def database_recipients(values, primaries, model, mine):
    """The backup MX's recipients that it reads from its primaries' database rows: ({key: "OK"}, [scopes]).

    A primary whose tables are in the same database and table as this host's own
    (vhosting_domains__backend and __database: same backend, server, port,
    database or base DN, table) has its virtual alias and virtual mailbox keys
    there, in its scope: its non-canonical domains' recipients are read from
    those rows (the network part of the domains role writes the .cf file and
    checks it against these entries), so that a recipient the primary adds or
    removes is known to the backup at once, without a run of the backup.
    Canonical domains (UNIX accounts, /etc/aliases) stay in the file. ``mine``: this host's connection
    (_part.database_connection).
    """
    if not mine:
        return {}, []
    target = _network_tables.target(values["vhosting_domains__backend"], mine)[:5]
    scopes = {}
    for primary in primaries:
        database = primary.get("database")
        if database and tuple(database["target"]) == target:
            scopes[primary["host"]] = database["scope"]
    primary_of = dict((domain, info["source"][len("host "):]) for domain, info in model["domains"].items()
                      if info["source"].startswith("host ") and not info.get("canonical"))
    covered = dict((domain, scopes[host]) for domain, host in primary_of.items() if host in scopes)
    entries = dict((key, value) for key, value in model["relay_recipients"].items()
                   if key.rsplit("@", 1)[-1] in covered)
    used = sorted(set(covered[key.rsplit("@", 1)[-1]] for key in entries))
    return entries, used


def build(ctx, problems):
    """What the relay role writes: the backup MX tables, the transport table and its main.cf parameters."""
    values, primaries = ctx["values"], ctx["primaries"]
    table_type(values, "vhosting_relay__table_type", problems)
    checked = {}
    for key, func in (("relayhost", lambda: check_relayhost(values["vhosting_relay__relayhost"])),
                      ("sasl", lambda: check_restrictions(values["vhosting_relay__sasl_restrictions"],
                                                          "vhosting_relay__sasl_restrictions")),
                      ("recipient", lambda: check_restrictions(values["vhosting_relay__recipient_restrictions"],
                                                               "vhosting_relay__recipient_restrictions")),
                      ("queue", lambda: queue_parameters(dict(
                          (name, values["vhosting_relay__" + name]) for name in (
                              "maximal_queue_lifetime", "bounce_queue_lifetime", "minimal_backoff_time",
                              "maximal_backoff_time", "queue_run_delay"))))):
        try:
            checked[key] = func()
        except RelayError as exc:
            problems.append(str(exc))
    try:
        model = relay_model(primaries, explicit=values["vhosting_relay__backup_domains"],
                            transport=values["vhosting_relay__transport"], local_domains=ctx["local_domains"],
                            transport_name=values["vhosting_relay__transport_name"])
    except RelayError as exc:
        problems.append(str(exc))
        return None
    if len(checked) < 4:
        return None
    parameters = relay_parameters(model, values, checked["relayhost"], checked["sasl"], checked["recipient"],
                                  checked["queue"])
    # The tables of the inventory go to data files (maps); the recipient and defer tables are made at run
    # time from what the role reads on the primaries (see the relay role's tasks).
    tables, maps = {}, {}
    # Recipients of primaries in this host's database: read from their rows (the network part's table, named here
    # by its reference file, which the network part rewrites to the database lookup); the file keeps the rest.
    db_path = domain_list_table(directory(values["vhosting_relay__recipient_table"]), "relay_recipients_db")
    db_entries, db_scopes = database_recipients(values, primaries, model, database_connection(ctx)) \
        if "relay_recipient_maps" in parameters else ({}, [])
    if db_entries:
        model = dict(model, relay_recipients=dict((k, v) for k, v in model["relay_recipients"].items()
                                                  if k not in db_entries))
        lookups = ["%s:%s" % (values["vhosting_domains__table_type"], db_path)]
        if model["relay_recipients"] or any(info.get("canonical") for info in model["domains"].values()):
            lookups.append(parameters["relay_recipient_maps"])
        parameters["relay_recipient_maps"] = lookups
    if "relay_recipient_maps" in parameters and (len(parameters["relay_recipient_maps"]) > 1 or not db_entries):
        tables[values["vhosting_relay__recipient_table"]] = "relay_recipients"
    if db_entries:
        # A data file like every large table (not a fact that every later task carries).
        maps[_network_tables.RELAY_RECIPIENT_MAP] = db_entries
    if "relay_domains" in parameters:
        domain_list("relay_domains", parameters["relay_domains"], values["vhosting_relay__table_type"],
                    directory(values["vhosting_relay__recipient_table"]), parameters, tables, maps)
    database_transport = None
    if "transport_maps" in parameters:
        maps["relay_transport_map"] = model["transport_map"]
        if database_connection(ctx):
            # With the host's tables in a database the transport table is a row set of its scope: the network part
            # writes its file (the domains role's table type), loads and checks it, and rewrites this lookup.
            transport_path = values["vhosting_relay__transport_table"]
            parameters["transport_maps"] = "%s:%s" % (values["vhosting_domains__table_type"], transport_path)
            database_transport = {"path": transport_path}
        else:
            tables[values["vhosting_relay__transport_table"]] = "relay_transport_map"
    # Canonical domains of the primaries: their recipients are the primary's
    # UNIX accounts and /etc/aliases names, read from the primary at run time;
    # the defer table (named in smtpd_recipient_restrictions by relay_parameters)
    # holds those of the primaries that could not be read.
    canonical = {}
    for primary in primaries:
        for domain, info in model["domains"].items():
            if info.get("canonical") and info["source"] == "host %s" % primary["host"]:
                canonical.setdefault(primary["host"], []).append(domain)
    if canonical and "smtpd_recipient_restrictions" in parameters:
        tables[values["vhosting_relay__defer_table"]] = "relay_defer"
    kind = values["vhosting_relay__table_type"]
    every = [values[name] for name in TABLE_VARIABLES] + [
        domain_list_table(directory(values["vhosting_relay__recipient_table"]), "relay_domains")]
    if database_transport:
        every.remove(database_transport["path"])  # the network part's table (its indexes are the domains role's)
    return {
        "parameters": parameters,
        "tables": tables,
        "table_type": kind,
        "table_paths": dict((path, kind if path in tables else None) for path in every),
        "maps": maps,
        "probe": {"paths": [LEGACY_STATE]},
        # What the filters of the relay role's tasks read (relay_recipients): the transport map is in maps.
        "fact": {"model": dict((k, v) for k, v in model.items() if k != "transport_map"), "canonical": canonical,
                 # For the network part (domains role): the reference file of the recipients read from the
                 # primaries' rows (its table type is the domains role's; the entries are the map
                 # RELAY_RECIPIENT_MAP) and the scopes; None: all in the file.
                 "database_recipients": {"path": db_path, "scopes": db_scopes} if db_entries else None,
                 "recipient_db_path": db_path,
                 # The transport table as rows of the host's scope (the map relay_transport_map); None: a file.
                 "database_transport": database_transport},
    }


PART = Part("relay", "relay", build, table_variables=TABLE_VARIABLES)
