# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosted domains' part of the host model: virtual alias, virtual mailbox and transport tables, and the
network part that moves them into a database (controller side, pure; see _part)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables
from ansible_collections.vhosting.postfix.plugins.plugin_utils._autoreply_model import AUTOREPLY_SERVICE
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import (
    Part,
    directory,
    domain_list,
    domain_list_table,
    table_type,
)

TABLE_VARIABLES = ("vhosting_domains__alias_table", "vhosting_domains__mailbox_table",
                   "vhosting_domains__transport_table")
DOMAIN_LISTS = ("virtual_alias_domains", "virtual_mailbox_domains")
PATH_VARIABLES = (
    ("vhosting_domains__mailbox_base", "tree", "the vmail user gets it, mode 0750", "/var/mail/vhosts"),
)


def build(ctx, problems):
    """Tables and main.cf parameters of the virtual domains (none when no virtual domain is hosted)."""
    values, domains = ctx["values"], ctx["domains"]
    kind = table_type(values, "vhosting_domains__table_type", problems)
    alias_table, mailbox_table, transport_table = [values[name] for name in TABLE_VARIABLES]
    paths = [alias_table, mailbox_table, transport_table]
    if len(set(paths)) < len(paths):
        problems.append("vhosting_domains__alias_table, vhosting_domains__mailbox_table and "
                        "vhosting_domains__transport_table must be three files, got %s" % ", ".join(paths))
    if domains is None:
        return None
    virtual = bool(domains["alias_domains"] or domains["mailbox_domains"])
    # The domains whose mail another delivery agent than virtual(8) takes:
    # one transport entry per domain keeps a host with both kinds correct.
    transport = dict((domain, values["vhosting_dovecot__lmtp_transport"]) for domain in domains["dovecot_domains"])
    if domains["autoreplies"]:
        transport[domains["autoreply_domain"]] = AUTOREPLY_SERVICE + ":"
    tables, parameters = {}, {}
    maps = {"virtual_alias_map": domains["virtual_alias_map"], "virtual_mailbox_map": domains["virtual_mailbox_map"],
            "transport_map": dict(sorted(transport.items())),
            # What the mailboxes module creates, one "path<TAB>maildir|mbox" line each (a data file, not a fact
            # of 100,000 items that every later task of the play would carry).
            "mailboxes": dict((box["path"], "maildir" if box["maildir"] else "mbox") for box in domains["mailboxes"])}
    if virtual:
        tables = {alias_table: "virtual_alias_map", mailbox_table: "virtual_mailbox_map"}
        for parameter, names in (("virtual_alias_domains", domains["alias_domains"]),
                                 ("virtual_mailbox_domains", domains["mailbox_domains"])):
            # With a database every non-empty list is a table, so that it moves into the database with the
            # rows: a domain moved between hosts then changes rows only, in the order the loader gives them.
            domain_list(parameter, names, kind, directory(alias_table), parameters, tables, maps,
                        **({} if values["vhosting_domains__backend"] == "file" else {"limit": 0}))
        parameters.update({
            "virtual_alias_maps": "%s:%s" % (kind, alias_table),
            "virtual_mailbox_base": domains["mailbox_base"],
            "virtual_mailbox_maps": "%s:%s" % (kind, mailbox_table),
            "virtual_minimum_uid": domains["minimum_uid"],
            "virtual_uid_maps": "static:%d" % domains["vmail_uid"],
            "virtual_gid_maps": "static:%d" % domains["vmail_gid"],
        })
    if transport:
        tables[transport_table] = "transport_map"
        parameters["transport_maps"] = ["%s:%s" % (kind, transport_table)]
    lists = [domain_list_table(directory(alias_table), p) for p in DOMAIN_LISTS]
    every = paths + lists
    # The accounts the role creates: a run that changes nothing skips them when the probe finds them as they are.
    users = [user["name"] for user in domains["unix_users"]] if values["vhosting_domains__create_unix_users"] else []
    groups = []
    if domains["mailbox_domains"]:
        users.append(values["vhosting_domains__vmail_user"])
        groups.append(values["vhosting_domains__vmail_group"])
    return {
        "probe": {"users": users, "groups": groups},
        # The collection's own domain-list tables no longer in use go with their index files.
        "stale_files": [path for path in lists if path not in tables],
        "parameters": parameters,
        "tables": tables,
        "table_type": kind,
        "table_paths": dict((path, kind if path in tables else None) for path in every),
        "maps": maps,
        "fact": {
            "virtual": virtual,
        },
    }


PART = Part("domains", "domains", build, path_variables=PATH_VARIABLES, table_variables=TABLE_VARIABLES)


def build_network(ctx, problems):
    """The domains role's tables in a database (vhosting_domains__backend); the files stay as the parity gate's
    reference and the way back. ``rewrite`` turns each file table of main.cf into its database table. A backup MX
    whose primaries' rows are in the same database reads their recipients from those rows
    (RELAY_RECIPIENT_MAP, built after the relay part): this part writes its reference file, .cf file and parity
    gate, the relay role names it in relay_recipient_maps. The Dovecot role's sender logins (built after the dovecot
    part) are loaded into the host's scope with the domains' tables; the dovecot role names them in main.cf."""
    values = ctx["values"]
    connection = _network_tables.check_database(values["vhosting_domains__backend"],
                                                values["vhosting_domains__database"], problems,
                                                hostname=ctx.get("hostname"))
    network_directory = directory(values["vhosting_domains__alias_table"]).rstrip("/") + "/vhosting-db"
    domains = ctx["built"].get("domains")
    if domains is None:
        return None
    relay_fact = (ctx["built"].get("relay") or {}).get("fact") or {}
    recipients = relay_fact.get("database_recipients")
    kind = domains["table_type"]
    # Their entries are the relay and dovecot parts' maps (data files); their files are written by this role.
    tables, own, scopes = dict(domains["tables"]), {}, {}
    table_paths = {relay_fact["recipient_db_path"]: None} if relay_fact.get("recipient_db_path") else {}
    if connection and recipients:
        own[recipients["path"]] = _network_tables.RELAY_RECIPIENT_MAP
        scopes[_network_tables.RELAY_RECIPIENT_MAP] = recipients["scopes"]
    # The relay role's transport table and the Dovecot role's sender logins (row sets of the host's own scope,
    # loaded like the domains' tables).
    transport = relay_fact.get("database_transport")
    if connection and transport:
        own[transport["path"]] = "relay_transport_map"
    logins = ((ctx["built"].get("dovecot") or {}).get("fact") or {}).get("database_sender_logins")
    if connection and logins:
        own[logins["path"]] = "sender_login_map"
    tables.update(own)
    table_paths.update((path, kind) for path in own)
    network, rewrite = None, {}
    if connection and tables:
        network = _network_tables.network_part(values["vhosting_domains__backend"], connection, network_directory,
                                               tables, {}, kind, scopes)
        rewrite = dict((entry["file"], entry["database"]) for entry in network["tables"])
    stale_cf_files = network["stale_cf_files"] if network else _network_tables.stale_cf_files(network_directory)
    watch_units = [path for path in WATCH_FILES if path.endswith((".service", ".timer"))]
    return {
        "rewrite": rewrite,
        # The backup MX's reference file of the recipients in the database and the sender logins (written with the
        # domains role's tables, of its table type).
        "tables": own,
        "table_paths": table_paths,
        # The .cf files of database tables main.cf no longer names, and their directory when no table is in a
        # database (the database itself is left alone); the health check when no table is.
        "stale_files": stale_cf_files + ([] if network else [network_directory] + list(WATCH_FILES)),
        "probe": {"paths": watch_units, "units": [WATCH_TIMER] if network else []},
        "postfix_packages": list(_network_tables.PACKAGES[network["backend"]]) if network else [],
        "fact": {"network": network, "watch_timer": WATCH_TIMER},
    }


# The health check of the network tables (roles/domains/templates/vhosting-postfix-dbwatch*): Postfix reloaded once
# the database answers again after a failed lookup (docs/network-tables.md, "When the database is down").
WATCH_TIMER = "vhosting-postfix-dbwatch.timer"
WATCH_FILES = ("/usr/local/sbin/vhosting-postfix-dbwatch", "/etc/systemd/system/vhosting-postfix-dbwatch.service",
               "/etc/systemd/system/" + WATCH_TIMER)


NETWORK_PART = Part("network", "domains", build_network)
