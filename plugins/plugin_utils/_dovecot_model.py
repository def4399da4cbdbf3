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

from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import Part, table_type

PATH_VARIABLES = (
    ("vhosting_dovecot__users_file", "write", "the Dovecot accounts", "/etc/dovecot/vhosting-users"),
    ("vhosting_dovecot__selfsigned_cert_file", "write", "a self-signed certificate",
     "/etc/vhosting-postfix/tls/selfsigned.crt"),
    ("vhosting_dovecot__selfsigned_key_file", "write", "a private key", "/etc/vhosting-postfix/tls/selfsigned.key"),
    ("vhosting_dovecot__tls_cert_file", "read", "", ""),
    ("vhosting_dovecot__tls_key_file", "read", "", ""),
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
    kind = table_type(values, "vhosting_dovecot__table_type", problems)
    table = values["vhosting_dovecot__sender_login_table"]
    if domains is None or not match:
        return None
    if not domains["dovecot_domains"]:
        return {"table_paths": {table: None},
                "probe": {"paths": list(DROPINS) + [values["vhosting_dovecot__users_file"]]},
                "fact": {"enabled": False, "users": [], "dropins": list(DROPINS)}}
    cert = cert or values["vhosting_dovecot__selfsigned_cert_file"]
    key = key or values["vhosting_dovecot__selfsigned_key_file"]
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
                "smtpd_sender_login_maps": "%s:%s" % (kind, table),
                "smtpd_sender_restrictions": "reject_sender_login_mismatch,permit_sasl_authenticated,reject",
                "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
                "smtpd_recipient_restrictions": "permit_sasl_authenticated,reject",
                "milter_macro_daemon_name": "ORIGINATING",
            },
        })
    tables = {table: "sender_logins"} if services else {}
    selfsigned = not values["vhosting_dovecot__tls_cert_file"]
    return {
        # A running Dovecot, and the test certificate when it is there already, cost no task of their own.
        "probe": {"units": ["dovecot.service"], "paths": [cert] if selfsigned else []},
        "parameters": parameters,
        "services": services,
        "tables": tables,
        "table_type": kind,
        "table_paths": {table: kind if tables else None},
        "packages": list(DOVECOT_PACKAGES),
        "maps": {"sender_logins": domains["sender_logins"]} if services else {},
        "fact": {
            "enabled": True,
            "dropins": list(DROPINS),
            "users": domains["dovecot_users"],
            "lmtp_socket": "%s/%s" % (POSTFIX_QUEUE_DIRECTORY, match.group(1)),
            "auth_socket": "%s/%s" % (POSTFIX_QUEUE_DIRECTORY, auth_socket),
            "tls_cert_file": cert,
            "tls_key_file": key,
            "selfsigned": selfsigned,
            "recipient_delimiter": values["vhosting_server__recipient_delimiter"],
        },
    }


PART = Part("dovecot", "dovecot", build, path_variables=PATH_VARIABLES, table_variables=TABLE_VARIABLES)
