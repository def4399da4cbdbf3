# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One model per host: every role's input, validated together, before anything changes.

Pure functions, used on the control node by the ``vhosting.postfix.host_model``
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

import difflib
import hashlib
import hmac
import json
import re

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables
from ansible_collections.vhosting.postfix.plugins.plugin_utils import _host_checks, _lists
from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import (
    SYSTEM_ACCOUNTS,
    DomainModelError,
    _local_domains,
    domain_model,
)
from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import INDEX_SUFFIXES
from ansible_collections.vhosting.postfix.plugins.module_utils._networks import NetworkError, normalise_networks
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay_policy import check as _relay_policy_check
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay import (
    RelayError,
    check_relayhost,
    check_restrictions,
    queue_parameters,
    relay_model,
)

MODEL_VERSION = 2

# The roles whose variables the model covers, by variable prefix.
ROLE_PREFIXES = (
    ("server", "vhosting_server__"),
    ("domains", "vhosting_domains__"),
    ("relay", "vhosting_relay__"),
    ("dovecot", "vhosting_dovecot__"),
    ("database_server", "vhosting_database_server__"),
)
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
}

# Lookup table types the roles accept for their own tables: indexed types,
# which Postfix re-opens by itself when they change (no reload needed).
INDEXED_TYPES = ("lmdb", "hash", "btree", "cdb")

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
        close = difflib.get_close_matches(name, sorted(every | set([DOMAIN_PREFIX + "..."])), n=1, cutoff=0.75)
        hint = " (did you mean %s?)" % close[0] if close else ""
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


def _table_type(values, name, problems):
    table_type = values[name]
    if table_type not in INDEXED_TYPES:
        problems.append("%s: %r is not an indexed table type (one of %s); Postfix re-reads only indexed tables "
                        "by itself when they change" % (name, table_type, ", ".join(INDEXED_TYPES)))
    return table_type


def server_part(values, domains, problems):
    """Base main.cf parameters and packages of the server role."""
    try:
        mynetworks = normalise_networks(values["vhosting_server__mynetworks"], "vhosting_server__mynetworks",
                                        allow_wide=bool(values["vhosting_server__mynetworks_allow_wide"]))
    except NetworkError as exc:
        problems.append(str(exc))
        mynetworks = []
    default_type = _table_type(values, "vhosting_server__default_database_type", problems)
    canonical = domains["canonical_domains"] if domains else []
    mydestination = list(values["vhosting_server__mydestination"])
    mydestination += [d for d in canonical if d not in mydestination]
    parameters = {
        "myhostname": values["vhosting_server__myhostname"],
        "mydomain": values["vhosting_server__mydomain"],
        "myorigin": values["vhosting_server__myorigin"],
        "mydestination": mydestination,
        "inet_interfaces": values["vhosting_server__inet_interfaces"],
        "inet_protocols": values["vhosting_server__inet_protocols"],
        "mynetworks": mynetworks,
        "default_database_type": default_type,
        "alias_maps": "%s:/etc/aliases" % default_type,
        "alias_database": "%s:/etc/aliases" % default_type,
        "recipient_delimiter": values["vhosting_server__recipient_delimiter"],
    }
    parameters.update(values["vhosting_server__parameters"] or {})
    return {"parameters": parameters, "mynetworks": mynetworks}


# A domain list longer than this goes into main.cf as a lookup table
# (type:table, a key per domain) instead of inline: postconf takes a value as
# one command-line argument, which Linux limits to 128 KiB (about 7,000
# domain names), and Postfix matches a table in one lookup.
DOMAIN_LIST_LIMIT = 1000


def domain_list_table(directory, parameter):
    """The table file of a long domain list (next to the role's other tables)."""
    return "%s/vhosting_%s" % (directory.rstrip("/") or "", parameter)


def _domain_list(parameter, domains, table_type, directory, parameters, tables, maps):
    """Set `parameter` to the domain list: inline, or (when long) as a table in `directory`, named in `tables`,
    its entries in `maps` under PARAMETER_map."""
    if len(domains) <= DOMAIN_LIST_LIMIT:
        parameters[parameter] = domains
        return
    path = domain_list_table(directory, parameter)
    name = parameter + "_map"
    maps[name] = dict((domain, "OK") for domain in domains)
    tables[path] = name
    parameters[parameter] = "%s:%s" % (table_type, path)


def _directory(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


def domains_part(values, domains, problems):
    """What the domains role writes: tables and main.cf parameters (nothing when no virtual domain is hosted)."""
    table_type = _table_type(values, "vhosting_domains__table_type", problems)
    alias_table = values["vhosting_domains__alias_table"]
    mailbox_table = values["vhosting_domains__mailbox_table"]
    transport_table = values["vhosting_domains__transport_table"]
    paths = [alias_table, mailbox_table, transport_table]
    if len(set(paths)) < len(paths):
        problems.append("vhosting_domains__alias_table, vhosting_domains__mailbox_table and "
                        "vhosting_domains__transport_table must be three files, got %s" % ", ".join(paths))
    connection = _network_tables.check_database(values["vhosting_domains__backend"],
                                                values["vhosting_domains__database"], problems)
    network_directory = _directory(alias_table).rstrip("/") + "/vhosting-db"
    if domains is None:
        return None
    virtual = bool(domains["alias_domains"] or domains["mailbox_domains"])
    # The domains whose mail another delivery agent than virtual(8) takes:
    # one transport entry per domain keeps a host with both kinds correct.
    transport = dict((domain, values["vhosting_dovecot__lmtp_transport"]) for domain in domains["dovecot_domains"])
    if domains["autoreplies"]:
        transport[domains["autoreply_domain"]] = AUTOREPLY_SERVICE + ":"
    part = {
        "table_type": table_type,
        "virtual": virtual,
        "tables": {},
        "parameters": {},
        # What the mailboxes module needs of each mailbox.
        "mailboxes": [{"path": box["path"], "maildir": box["maildir"]} for box in domains["mailboxes"]],
        "transport_map": dict(sorted(transport.items())),
    }
    if virtual:
        part["tables"] = {alias_table: "virtual_alias_map", mailbox_table: "virtual_mailbox_map"}
        for parameter, names in (("virtual_alias_domains", domains["alias_domains"]),
                                 ("virtual_mailbox_domains", domains["mailbox_domains"])):
            _domain_list(parameter, names, table_type, _directory(alias_table), part["parameters"], part["tables"],
                         part)
        part["parameters"].update({
            "virtual_alias_maps": "%s:%s" % (table_type, alias_table),
            "virtual_mailbox_base": domains["mailbox_base"],
            "virtual_mailbox_maps": "%s:%s" % (table_type, mailbox_table),
            "virtual_minimum_uid": domains["minimum_uid"],
            "virtual_uid_maps": "static:%d" % domains["vmail_uid"],
            "virtual_gid_maps": "static:%d" % domains["vmail_gid"],
        })
    if transport:
        part["tables"][transport_table] = "transport_map"
        part["parameters"]["transport_maps"] = ["%s:%s" % (table_type, transport_table)]
    part.update(lists_part(values, domains))
    part.update(autoreply_part(values, domains, part["parameters"]))
    part["network"] = None
    if connection and part["tables"]:
        # The tables stay files too (the parity gate's reference, and the
        # way back): main.cf names the database instead.
        part["network"] = _network_tables.network_part(
            values["vhosting_domains__backend"], connection, network_directory, part["tables"], part["parameters"],
            table_type)
    part["stale_cf_files"] = _network_tables.stale_cf_files(network_directory) if part["network"] is None \
        else part["network"]["stale_cf_files"]
    # Removed (with the files) when no table is in a database any more.
    part["network_directory"] = network_directory
    return part


# The pipe service of the autoreply program (master.cf) and what it needs on the host.
AUTOREPLY_SERVICE = "vhosting_autoreply"
AUTOREPLY_PROGRAM = "/usr/local/lib/vhosting-postfix/vhosting-autoreply"
AUTOREPLY_CONFIG = "/etc/vhosting-postfix/autoreply.json"
AUTOREPLY_STATE = "/var/lib/vhosting-autoreply"


def lists_part(values, domains):
    """The mailing lists: mlmmj's lists, their /etc/aliases entries, the package (nothing without lists)."""
    spool = values["vhosting_domains__lists_spool"]
    lists = [dict((k, one[k]) for k in ("address", "owners", "subscribers", "moderators", "subscribers_only",
                                        "moderated", "closed", "delimiter", "headers")) for one in domains["lists"]]
    for one, model in zip(lists, domains["lists"]):
        one["dir"] = _lists.list_dir(spool, model)
    return {
        "lists": lists,
        "lists_spool": spool,
        # local(8) runs the commands of a root-owned /etc/aliases as default_privs: mlmmj's files are that user's.
        "lists_user": (values["vhosting_server__parameters"] or {}).get("default_privs") or "nobody",
        "aliases_entries": _lists.aliases_file_entries(domains["lists"], spool),
        "aliases_type": values["vhosting_server__default_database_type"],
        "packages": ["mlmmj"] if lists else [],
    }


def autoreply_part(values, domains, parameters):
    """The autoreply program's service, user and settings; an empty service list removes an earlier one."""
    if not domains["autoreplies"]:
        return {"services": [], "autoreply": None, "autoreply_files": [AUTOREPLY_CONFIG, AUTOREPLY_PROGRAM]}
    user = values["vhosting_domains__autoreply_user"]
    # At most one recipient per run of the program (pipe(8) would pass several), and the autoreply domain
    # refused to every SMTP client: its mail only comes from the virtual alias copies.
    parameters["%s_destination_recipient_limit" % AUTOREPLY_SERVICE] = 1
    parameters["smtpd_recipient_restrictions"] = ["check_recipient_access inline:{%s=REJECT}"
                                                  % domains["autoreply_domain"]]
    return {
        "autoreply_files": [AUTOREPLY_CONFIG, AUTOREPLY_PROGRAM],
        "services": [{
            "service": AUTOREPLY_SERVICE, "type": "unix", "private": "-", "unpriv": "n", "chroot": "n",
            # python3 -I: no environment variables, no user site directory, no current directory on sys.path.
            "command": "pipe user=%s argv=/usr/bin/python3 -I %s ${sender} ${mailbox}" % (user, AUTOREPLY_PROGRAM),
        }],
        "autoreply": {
            "domain": domains["autoreply_domain"],
            "user": user,
            "program": AUTOREPLY_PROGRAM,
            "config_file": AUTOREPLY_CONFIG,
            "state_dir": AUTOREPLY_STATE,
            "config": {
                "version": 1,
                "domain": domains["autoreply_domain"],
                "recipient_delimiter": values["vhosting_server__recipient_delimiter"],
                "state_dir": AUTOREPLY_STATE,
                "addresses": domains["autoreplies"],
            },
        },
    }


def relay_parameters(model, values, relayhost, sasl, recipient_checks, queue):
    """The main.cf parameters of the relay role (backup MX, transport, smarthost, restrictions)."""
    table_type = values["vhosting_relay__table_type"]
    is_backup = bool(model["relay_domains"])
    manage = values["vhosting_relay__manage_restrictions"]
    restrictions = manage == "always" or (
        manage == "auto" and (is_backup or bool(model["transport_map"]) or bool(relayhost) or bool(sasl)))
    parameters = {}
    if is_backup:
        parameters["relay_domains"] = model["relay_domains"]
        parameters["relay_recipient_maps"] = "%s:%s" % (table_type, values["vhosting_relay__recipient_table"])
        parameters.update(queue)
    if model["transport_map"]:
        parameters["transport_maps"] = "%s:%s" % (table_type, values["vhosting_relay__transport_table"])
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
            defer = ["check_recipient_access %s:%s" % (table_type, values["vhosting_relay__defer_table"])]
        parameters["smtpd_recipient_restrictions"] = base + defer + list(recipient_checks)
    return parameters


def relay_part(values, primaries, local_domains, problems):
    """What the relay role writes: the backup MX tables, the transport table and its main.cf parameters."""
    _table_type(values, "vhosting_relay__table_type", problems)
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
                            transport=values["vhosting_relay__transport"], local_domains=local_domains,
                            transport_name=values["vhosting_relay__transport_name"])
    except RelayError as exc:
        problems.append(str(exc))
        return None
    if len(checked) < 4:
        return None
    parameters = relay_parameters(model, values, checked["relayhost"], checked["sasl"], checked["recipient"],
                                  checked["queue"])
    tables = {}
    if "relay_recipient_maps" in parameters:
        tables[values["vhosting_relay__recipient_table"]] = "relay_recipients"
    if "relay_domains" in parameters:
        _domain_list("relay_domains", parameters["relay_domains"], values["vhosting_relay__table_type"],
                     _directory(values["vhosting_relay__recipient_table"]), parameters, tables, model)
    if "transport_maps" in parameters:
        tables[values["vhosting_relay__transport_table"]] = "transport_map"
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
    return {
        "model": model,
        "parameters": parameters,
        "tables": tables,
        "table_type": values["vhosting_relay__table_type"],
        "canonical": canonical,
    }


DOVECOT_PACKAGES = ["dovecot-core", "dovecot-imapd", "dovecot-lmtpd"]
# Where Postfix looks for Dovecot's sockets: relative to its queue directory
# (smtpd and lmtp may run chrooted there).
POSTFIX_QUEUE_DIRECTORY = "/var/spool/postfix"


def _socket(values, name, problems):
    socket = values[name]
    if not re.match(r"^private/[A-Za-z0-9_.-]+$", socket or ""):
        problems.append("%s: %r must be private/<name>, a socket in Postfix's private directory" % (name, socket))
    return socket


def dovecot_part(values, domains, problems):
    """What the dovecot role writes: Dovecot's drop-ins, users, the SASL and submission side of Postfix.

    Nothing (and what an earlier run set is removed) on a host without a
    store: dovecot domain.
    """
    cert, key = values["vhosting_dovecot__tls_cert_file"], values["vhosting_dovecot__tls_key_file"]
    if bool(cert) != bool(key):
        problems.append("vhosting_dovecot__tls_cert_file and vhosting_dovecot__tls_key_file: give both (the "
                        "certificate chain and its key) or neither (a self-signed certificate, for tests only)")
    auth_socket = _socket(values, "vhosting_dovecot__auth_socket", problems)
    lmtp = values["vhosting_dovecot__lmtp_transport"]
    match = re.match(r"^lmtp:unix:(private/[A-Za-z0-9_.-]+)$", lmtp or "")
    if not match:
        problems.append("vhosting_dovecot__lmtp_transport: %r must be lmtp:unix:private/<name> (the socket Dovecot's "
                        "LMTP service listens on inside Postfix's queue directory)" % (lmtp,))
    table_type = _table_type(values, "vhosting_dovecot__table_type", problems)
    if domains is None or not match:
        return None
    if not domains["dovecot_domains"]:
        return {"enabled": False, "parameters": {}, "services": [], "tables": {}, "users": []}
    cert = cert or values["vhosting_dovecot__selfsigned_cert_file"]
    key = key or values["vhosting_dovecot__selfsigned_key_file"]
    table = values["vhosting_dovecot__sender_login_table"]
    parameters = {
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": auth_socket,
        "smtpd_tls_cert_file": cert,
        "smtpd_tls_key_file": key,
    }
    services = []
    if values["vhosting_dovecot__submission"]:
        services.append({
            "service": values["vhosting_dovecot__submission_service"],
            "type": "inet",
            "private": "n",
            "command": "smtpd",
            "exclusive_parameters": True,
            "parameters": {
                "syslog_name": "postfix/submission",
                # STARTTLS before anything else, AUTH only over TLS.
                "smtpd_tls_security_level": "encrypt",
                "smtpd_tls_auth_only": "yes",
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_sasl_security_options": "noanonymous",
                # Only authenticated clients, only with their own addresses.
                "smtpd_client_restrictions": "permit_sasl_authenticated,reject",
                "smtpd_sender_login_maps": "%s:%s" % (table_type, table),
                "smtpd_sender_restrictions": "reject_sender_login_mismatch,permit_sasl_authenticated,reject",
                "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
                "smtpd_recipient_restrictions": "permit_sasl_authenticated,reject",
                "milter_macro_daemon_name": "ORIGINATING",
            },
        })
    return {
        "enabled": True,
        "parameters": parameters,
        "services": services,
        "tables": {table: "sender_logins"} if services else {},
        "table_type": table_type,
        "sender_logins": domains["sender_logins"] if services else {},
        "users": domains["dovecot_users"],
        "lmtp_socket": "%s/%s" % (POSTFIX_QUEUE_DIRECTORY, match.group(1)),
        "auth_socket": "%s/%s" % (POSTFIX_QUEUE_DIRECTORY, auth_socket),
        "tls_cert_file": cert,
        "tls_key_file": key,
        "selfsigned": not values["vhosting_dovecot__tls_cert_file"],
        "recipient_delimiter": values["vhosting_server__recipient_delimiter"],
        "packages": list(DOVECOT_PACKAGES),
    }


def _conflicts(server_parameters, owners, problems):
    """A parameter set by another role and also in vhosting_server__parameters is refused."""
    for role, names in owners:
        both = sorted(set(server_parameters) & set(names))
        if both:
            problems.append("vhosting_server__parameters: %s set by the vhosting.postfix.%s role (from its own "
                            "variables); remove %s from vhosting_server__parameters"
                            % (", ".join(both), role, "it" if len(both) == 1 else "them"))


def _relay_policy(values, parts, problems):
    """The relay policy of main.cf with every role's parameters (see _relay_policy)."""
    parameters, sources = {}, {}
    for source, part in parts:
        for name, value in ((part or {}).get("parameters") or {}).items():
            parameters[name] = value
            sources[name] = source
    for name, value in (values["vhosting_server__parameters"] or {}).items():
        parameters[name] = value
        sources[name] = "vhosting_server__parameters"
    _relay_policy_check(parameters, sources, values["vhosting_server__relay_trusted_restrictions"],
                        bool(values["vhosting_server__mynetworks_allow_wide"]), problems)


def _checks(values, domains, relay, problems):
    """The checks across roles (see _host_checks)."""
    _host_checks.server_parameters(values, problems)
    _host_checks.names_and_addresses(values, problems)
    _host_checks.map_types(values, problems)
    _host_checks.paths(values, problems)
    _host_checks.recipient_delimiter(values, problems)
    _host_checks.accounts(values, set(SYSTEM_ACCOUNTS), problems)
    _host_checks.table_paths(values, problems)
    canonical = domains["canonical_domains"] if domains else []
    mydestination = list(values["vhosting_server__mydestination"]) + list(canonical)
    _host_checks.local_domain(values, _local_domains({
        "mydestination": mydestination, "myhostname": values["vhosting_server__myhostname"],
        "mydomain": values["vhosting_server__mydomain"]}), domains["virtual_alias_map"] if domains else {}, problems)


def stale_index_files(tables):
    """Index files of the tables the roles own that main.cf no longer names.

    ``tables`` maps a source path to its table type in use, or to None when
    main.cf no longer uses that table at all. Returns a sorted list of paths:
    the index files of every other indexed type, and all of them for unused
    tables. The sources themselves are kept (like mail on disk).
    """
    stale = set()
    for path, in_use in tables.items():
        keep = set(INDEX_SUFFIXES.get(in_use, ())) if in_use else set()
        for table_type in INDEXED_TYPES:
            for suffix in INDEX_SUFFIXES.get(table_type, ()):
                if suffix not in keep:
                    stale.add(path + suffix)
    return sorted(stale)


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


def host_model(values, definitions, primaries=None, hostname=None, key=None):
    """Validate one host's input for every role and return its model, or raise ModelError.

    ``values``: every variable of the server, domains and relay roles,
    resolved and checked against the roles' argument specs.
    ``definitions``: the host's ``vhosting_domain__*`` variables.
    ``primaries``: for a backup MX, ``[{host, nexthop, definitions, options}]``
    (see :func:`relay_model`).
    ``key``: the secret key of the model's fingerprint (see :func:`fingerprint`);
    without one the model has no fingerprint (None).
    """
    problems = []
    try:
        domains = domain_model(definitions, domain_options(values))
    except DomainModelError as exc:
        problems.extend(_name_variables(exc.problems))
        domains = None
    server = server_part(values, domains, problems)
    domains_role = domains_part(values, domains, problems)
    # Domains this host delivers itself can never be relayed for others.
    local_domains = [d["domain"] for d in (definitions or {}).values()
                     if isinstance(d, dict) and isinstance(d.get("domain"), str)]
    relay = relay_part(values, primaries or [], local_domains + [values["vhosting_server__myhostname"]], problems)
    dovecot = dovecot_part(values, domains, problems)
    if domains_role and relay and domains_role["transport_map"] and "transport_maps" in relay["parameters"]:
        # One transport_maps for the host: the domains role's table first
        # (hosted domains), then the relay role's; the domains role owns it.
        domains_role["parameters"]["transport_maps"] += [relay["parameters"].pop("transport_maps")]
    if (domains_role and relay and "smtpd_recipient_restrictions" in domains_role["parameters"]
            and "smtpd_recipient_restrictions" in relay["parameters"]):
        # The autoreply domain's refusal first, then the relay role's restrictions; the domains role owns it.
        domains_role["parameters"]["smtpd_recipient_restrictions"] += relay["parameters"].pop(
            "smtpd_recipient_restrictions")
    _checks(values, domains, relay, problems)
    _relay_policy(values, [("vhosting.postfix.domains role", domains_role),
                           ("vhosting.postfix.relay role (vhosting_relay__*)", relay),
                           ("vhosting.postfix.dovecot role", dovecot)], problems)
    _conflicts(values["vhosting_server__parameters"] or {},
               [("domains", domains_role["parameters"] if domains_role else ()),
                ("relay", relay["parameters"] if relay else ()),
                ("dovecot", dovecot["parameters"] if dovecot else ())], problems)
    if problems:
        raise ModelError(problems)

    types = set([values["vhosting_server__default_database_type"]] + list(values["vhosting_server__map_types"]))
    tables = {
        "server": {"/etc/aliases": values["vhosting_server__default_database_type"]},
        "domains": dict((path, domains_role["table_type"] if path in domains_role["tables"] else None)
                        for path in (values["vhosting_domains__alias_table"], values["vhosting_domains__mailbox_table"],
                                     values["vhosting_domains__transport_table"]) + tuple(
                                         domain_list_table(_directory(values["vhosting_domains__alias_table"]), p)
                                         for p in ("virtual_alias_domains", "virtual_mailbox_domains"))),
        "relay": dict((path, relay["table_type"] if path in relay["tables"] else None)
                      for path in (values["vhosting_relay__recipient_table"], values["vhosting_relay__transport_table"],
                                   values["vhosting_relay__defer_table"],
                                   domain_list_table(_directory(values["vhosting_relay__recipient_table"]),
                                                     "relay_domains"))),
        "dovecot": {values["vhosting_dovecot__sender_login_table"]:
                    dovecot["table_type"] if dovecot["tables"] else None},
    }
    for role_tables in tables.values():
        types.update(t for t in role_tables.values() if t)
    packages = set(MAP_TYPE_PACKAGES[t] for t in types if t in MAP_TYPE_PACKAGES)
    if domains_role["network"]:
        packages.update(_network_tables.PACKAGES[domains_role["network"]["backend"]])
    server["packages"] = ["postfix"] + sorted(packages)
    # The fact carries what the roles use: the per-mailbox dicts, the
    # per-domain recipients and classes stay here (they are large and only
    # needed while the model is built).
    slim = dict((k, v) for k, v in domains.items()
                if k not in ("mailboxes", "recipients", "domains", "dovecot_users", "sender_logins", "lists",
                             "autoreplies"))
    slim["counts"] = {"domains": len(domains["domains"]), "mailboxes": len(domains["mailboxes"])}
    return {
        "version": MODEL_VERSION,
        "host": hostname,
        "domains": slim,
        "server": server,
        "domains_role": domains_role,
        "relay": relay,
        "dovecot": dovecot,
        # Per role: index files of its tables that main.cf no longer names.
        "stale_index_files": dict((role, stale_index_files(role_tables)) for role, role_tables in tables.items()),
        "fingerprint": None if key is None else fingerprint(values, definitions, primaries, hostname, key),
    }
