# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server part of the host model: Postfix's base main.cf (controller side, pure; see _part)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vhosting.postfix.plugins.module_utils._networks import NetworkError, normalise_networks
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import (
    Part,
    domain_list,
    domain_list_table,
    table_type,
)

ALIASES = "/etc/aliases"
MAIN_CF = "/etc/postfix/main.cf"
# More canonical domains than DOMAIN_LIST_LIMIT (see _part.domain_list): they go into this table, named in
# mydestination.
MYDESTINATION_DIRECTORY = "/etc/postfix"
MYDESTINATION_TABLE = domain_list_table(MYDESTINATION_DIRECTORY, "mydestination")
# The index file of /etc/aliases for each table type.
ALIAS_DB_SUFFIX = {"lmdb": ".lmdb", "cdb": ".cdb", "hash": ".db", "btree": ".db"}


def build(ctx, problems):
    """Base main.cf parameters; canonical domains join mydestination; vhosting_server__parameters over them."""
    values, domains = ctx["values"], ctx["domains"]
    try:
        mynetworks = normalise_networks(values["vhosting_server__mynetworks"], "vhosting_server__mynetworks",
                                        allow_wide=bool(values["vhosting_server__mynetworks_allow_wide"]))
    except NetworkError as exc:
        problems.append(str(exc))
        mynetworks = []
    default_type = table_type(values, "vhosting_server__default_database_type", problems)
    canonical = domains["canonical_domains"] if domains else []
    own = list(values["vhosting_server__mydestination"])
    parameters = {
        "myhostname": values["vhosting_server__myhostname"],
        "mydomain": values["vhosting_server__mydomain"],
        "myorigin": values["vhosting_server__myorigin"],
        "mydestination": own,
        "inet_interfaces": values["vhosting_server__inet_interfaces"],
        "inet_protocols": values["vhosting_server__inet_protocols"],
        "mynetworks": mynetworks,
        "default_database_type": default_type,
        "alias_maps": "%s:%s" % (default_type, ALIASES),
        "alias_database": "%s:%s" % (default_type, ALIASES),
        "recipient_delimiter": values["vhosting_server__recipient_delimiter"],
    }
    # Too long for one postconf argument: the canonical domains as a table, the operator's names inline.
    tables, maps = {}, {}
    domain_list("mydestination", [d for d in canonical if d not in own], default_type, MYDESTINATION_DIRECTORY,
                parameters, tables, maps, inline=own)
    return {
        "parameters": parameters,
        "overrides": dict(values["vhosting_server__parameters"] or {}),
        "tables": tables,
        "stale_files": [] if tables else [MYDESTINATION_TABLE],
        "table_type": default_type,
        "maps": maps,
        "table_paths": {ALIASES: default_type, MYDESTINATION_TABLE: default_type if tables else None},
        "packages": ["postfix"],
        "probe": {"paths": [MAIN_CF, ALIASES, ALIASES + ALIAS_DB_SUFFIX.get(default_type, ".db")],
                  "units": ["postfix.service"]},
        "fact": {"mynetworks": mynetworks, "alias_database": ALIASES + ALIAS_DB_SUFFIX.get(default_type, ".db")},
    }


PART = Part("server", "server", build)
