# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Dovecot part of the host model: the mailbox store of ``store: dovecot`` domains (LMTP, IMAP), SASL and
the submission service of Postfix (controller side, pure; see _part).

The accounts themselves (``dovecot_users``, ``sender_logins``) come from the
domain model (``_domains``), which validates the mailboxes of every store.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import Part, database_connection, table_type

PATH_VARIABLES = (
    ("vhosting_dovecot__users_file", "write", "the Dovecot accounts", "/etc/dovecot/vhosting-users"),
)
TABLE_VARIABLES = ("vhosting_dovecot__sender_login_table",)
# The role's drop-ins in Dovecot's conf.d (removed again without store: dovecot domains).
DROPINS = ("/etc/dovecot/conf.d/05-vhosting-auth.conf", "/etc/dovecot/conf.d/99-vhosting.conf")


DOVECOT_PACKAGES = ["dovecot-core", "dovecot-imapd", "dovecot-lmtpd"]
# Where Postfix looks for Dovecot's sockets: relative to its queue directory
# (smtpd and lmtp may run chrooted there).
POSTFIX_QUEUE_DIRECTORY = "/var/spool/postfix"


def _socket(values, name, problems):
    socket = values[name]
    if not re.match(r"^private/[A-Za-z0-9_.-]+$", socket or ""):
        problems.append("%s: %r must be private/<name>, a socket in Postfix's private directory" % (name, socket))
    return socket


def build(ctx, problems):
    """What the dovecot role writes: Dovecot's drop-ins, users, the SASL and submission side of Postfix.

    Nothing (and what an earlier run set is removed) on a host without a
    store: dovecot domain.
    """
    values, domains = ctx["values"], ctx["domains"]
    auth_socket = _socket(values, "vhosting_dovecot__auth_socket", problems)
    lmtp = values["vhosting_dovecot__lmtp_transport"]
    match = re.match(r"^lmtp:unix:(private/[A-Za-z0-9_.-]+)$", lmtp or "")
    if not match:
        problems.append("vhosting_dovecot__lmtp_transport: %r must be lmtp:unix:private/<name> (the socket Dovecot's "
                        "LMTP service listens on inside Postfix's queue directory)" % (lmtp,))
    kind = table_type(values, "vhosting_dovecot__table_type", problems)
    table = values["vhosting_dovecot__sender_login_table"]
    # The certificates are the tls part's (built before this one).
    tls = (ctx.get("built", {}).get("tls") or {}).get("fact")
    if domains is None or not match or tls is None:
        return None
    if not domains["dovecot_domains"]:
        return {"table_paths": {table: None},
                "probe": {"paths": list(DROPINS) + [values["vhosting_dovecot__users_file"]]},
                "fact": {"enabled": False, "users": [], "dropins": list(DROPINS)}}
    parameters = {
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": auth_socket,
    }
    services = []
    submission = [(values["vhosting_dovecot__submission_service"], "submission", {
        # STARTTLS before anything else, AUTH only over TLS.
        "smtpd_tls_security_level": "encrypt"})] if values["vhosting_dovecot__submission"] else []
    if values["vhosting_dovecot__submissions"]:
        # RFC 8314: implicit TLS from the first byte.
        submission.append((values["vhosting_dovecot__submissions_service"], "submissions", {
            "smtpd_tls_wrappermode": "yes"}))
    for service, syslog_name, tls_mode in submission:
        services.append({
            "service": service,
            "type": "inet",
            "private": "n",
            "command": "smtpd",
            "exclusive_parameters": True,
            "parameters": dict(tls_mode, **{
                "syslog_name": "postfix/" + syslog_name,
                "smtpd_tls_auth_only": "yes",
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_sasl_security_options": "noanonymous",
                # Only authenticated clients, only with their own addresses.
                "smtpd_client_restrictions": "permit_sasl_authenticated,reject",
                "smtpd_sender_login_maps": "%s:%s" % (kind, table),
                "smtpd_sender_restrictions": "reject_sender_login_mismatch,permit_sasl_authenticated,reject",
                "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
                "smtpd_recipient_restrictions": "permit_sasl_authenticated,reject",
                "milter_macro_daemon_name": "ORIGINATING",
            }),
        })
    tables = {table: "sender_login_map"} if services else {}
    table_paths = {table: kind if tables else None}
    maps = {"sender_login_map": domains["sender_logins"]} if services else {}
    # With the tables in a database the sender logins are a row set of the host's scope too: main.cf names the
    # table (proxymap serves only the tables main.cf names, not a master.cf override) and the network part of the
    # domains role writes its reference file, loads it and checks it before main.cf names the database.
    in_database = None
    if database_connection(ctx) and tables:
        lookup = "%s:%s" % (values["vhosting_domains__table_type"], table)
        parameters["smtpd_sender_login_maps"] = lookup
        for service in services:
            del service["parameters"]["smtpd_sender_login_maps"]
        # The entries stay a data file (maps); the network part's table names it.
        in_database = {"path": table}
        tables, table_paths = {}, {}
    return {
        # A running Dovecot costs no task of its own.
        "probe": {"units": ["dovecot.service"]},
        "parameters": parameters,
        "services": services,
        "tables": tables,
        "table_type": kind,
        "table_paths": table_paths,
        "packages": list(DOVECOT_PACKAGES),
        "maps": maps,
        "fact": {
            "database_sender_logins": in_database,
            "enabled": True,
            "dropins": list(DROPINS),
            "users": domains["dovecot_users"],
            "lmtp_socket": "%s/%s" % (POSTFIX_QUEUE_DIRECTORY, match.group(1)),
            "auth_socket": "%s/%s" % (POSTFIX_QUEUE_DIRECTORY, auth_socket),
            "tls_cert_file": tls["default"]["cert"],
            "tls_key_file": tls["default"]["key"],
            # Dovecot's local_name blocks: the certificate of each extra mail name.
            "tls_sni": [{"name": c["name"], "cert": c["cert"], "key": c["key"]} for c in tls["sni"]],
            "recipient_delimiter": values["vhosting_server__recipient_delimiter"],
        },
    }


PART = Part("dovecot", "dovecot", build, path_variables=PATH_VARIABLES, table_variables=TABLE_VARIABLES)
