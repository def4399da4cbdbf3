# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TLS part of the host model: the host's certificates and Postfix's TLS settings (controller side, pure;
see _part).

One certificate for the host's own name (myhostname: the MX name, and the
default of every TLS service), and one more for each extra mail name in
``vhosting_tls__names`` (chosen by SNI: Postfix's tls_server_sni_maps,
Dovecot's local_name blocks). Where they come from (``vhosting_tls__source``):

``acme``        issued by certbot from an ACME CA (HTTP-01, certbot's own
                web server on port 80 for the moment of the challenge), one
                lineage per name, named ``vhosting-<name>``; renewed on the
                host by certbot.timer, and the renewal hook rebuilds the SNI
                table and reloads Postfix and Dovecot;
``files``       chain and key files the operator put on the host (checked
                before any change: they exist, the key is the certificate's,
                the certificate covers the name);
``selfsigned``  made on the host with openssl, for tests only.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import INDEX_SUFFIXES
from ansible_collections.vhosting.postfix.plugins.plugin_utils._address import DOMAIN_RE
from ansible_collections.vhosting.postfix.plugins.plugin_utils._dns_records import DnsRecordsError, check_mta_sts
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_checks import path_problem
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import Part

SOURCES = ("acme", "files", "selfsigned")
PATH_VARIABLES = (
    ("vhosting_tls__selfsigned_cert_file", "write", "a self-signed certificate",
     "/etc/vhosting-postfix/tls/selfsigned.crt"),
    ("vhosting_tls__selfsigned_key_file", "write", "a private key", "/etc/vhosting-postfix/tls/selfsigned.key"),
    ("vhosting_tls__cert_file", "read", "", ""),
    ("vhosting_tls__key_file", "read", "", ""),
)
# certbot's directories; the collection's lineages are named with this prefix (never an operator's own).
LETSENCRYPT = "/etc/letsencrypt"
RENEWAL_DIRECTORY = LETSENCRYPT + "/renewal"
LINEAGE_PREFIX = "vhosting-"
# Run by certbot after each renewal (renew's deploy hooks): rebuild the SNI table, reload Postfix and Dovecot.
RENEWAL_HOOK = LETSENCRYPT + "/renewal-hooks/deploy/vhosting-postfix"
# When certbot.timer (Debian's) runs certbot renew.
TIMER_DROPIN = "/etc/systemd/system/certbot.timer.d/vhosting-postfix.conf"
# The SNI table: mail name -> private key and certificate chain (postmap -F puts their content in the index).
SNI_TABLE = "/etc/postfix/vhosting_tls_sni"
SNI_MAP = "tls_sni"

# Characters of the values that reach certbot's command line and systemd's unit files.
_URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CALENDAR_RE = re.compile(r"^[A-Za-z0-9*:,./~ -]{1,100}$")
LEVELS_IN = ("may", "none")
LEVELS_OUT = ("may", "encrypt", "dane", "none")
KEY_TYPES = ("ecdsa", "rsa")


def _name(value, where, problems):
    name = value.lower().rstrip(".") if isinstance(value, str) else None
    if name is None or not DOMAIN_RE.match(name):
        problems.append("%s: %r is not a mail host name (letters, digits, '-', two labels at least)" % (where, value))
        return None
    return name


def _names(values, myhostname, source, problems):
    """[(name, cert, key)] of vhosting_tls__names (cert and key only with source files)."""
    given = values["vhosting_tls__names"] or []
    if not isinstance(given, list):
        problems.append("vhosting_tls__names: must be a list of mail names")
        return []
    found, seen = [], set([myhostname])
    for index, item in enumerate(given):
        where = "vhosting_tls__names[%d]" % index
        cert = key = None
        if isinstance(item, dict):
            unknown = sorted(set(item) - set(["name", "cert_file", "key_file"]))
            if unknown:
                problems.append("%s: unknown key(s) %s (name, cert_file, key_file)" % (where, ", ".join(unknown)))
            cert, key = item.get("cert_file"), item.get("key_file")
            item = item.get("name")
        name = _name(item, where, problems)
        if name is None:
            continue
        where = "vhosting_tls__names: %s" % name
        if name in seen:
            problems.append("%s: given twice (or it is myhostname, whose certificate is the default one)" % where)
            continue
        seen.add(name)
        if source == "files":
            if not cert or not key:
                problems.append("%s: with vhosting_tls__source files, give cert_file and key_file of its "
                                "certificate" % where)
                continue
            bad = [(what, path, path_problem(path, "read")) for what, path in (("cert_file", cert), ("key_file", key))]
            bad = [(what, path, why) for what, path, why in bad if why]
            for what, path, why in bad:
                problems.append("%s: %s %r %s" % (where, what, path, why))
            if bad:
                continue
        elif cert or key:
            problems.append("%s: cert_file and key_file are only for vhosting_tls__source files (%s makes its "
                            "own)" % (where, source))
        found.append((name, cert, key))
    return found


def build(ctx, problems):
    """The certificates (one per name), Postfix's TLS parameters, the SNI table; what acme needs on the host."""
    values = ctx["values"]
    before = len(problems)
    source = values["vhosting_tls__source"]
    if source not in SOURCES:
        problems.append("vhosting_tls__source: %r is not one of %s" % (source, ", ".join(SOURCES)))
        return None
    myhostname = str(values["vhosting_server__myhostname"] or "").lower()
    names = _names(values, myhostname, source, problems)
    for variable, choices in (("vhosting_tls__smtpd_security_level", LEVELS_IN),
                              ("vhosting_tls__smtp_security_level", LEVELS_OUT),
                              ("vhosting_tls__acme_key_type", KEY_TYPES)):
        if values[variable] not in choices:
            problems.append("%s: %r is not one of %s" % (variable, values[variable], ", ".join(choices)))
    mta_sts = {"mode": values["vhosting_tls__mta_sts"], "max_age": values["vhosting_tls__mta_sts_max_age"],
               "rua": values["vhosting_tls__tlsrpt_rua"] or ""}
    try:
        check_mta_sts(mta_sts, "vhosting_tls__mta_sts, vhosting_tls__mta_sts_max_age, vhosting_tls__tlsrpt_rua")
    except DnsRecordsError as exc:
        problems.append(str(exc))
    acme = None
    if source == "acme":
        directory, email = values["vhosting_tls__acme_directory"], values["vhosting_tls__acme_email"]
        calendar, delay = values["vhosting_tls__renew_calendar"], values["vhosting_tls__renew_random_delay"]
        if not isinstance(directory, str) or not _URL_RE.match(directory):
            problems.append("vhosting_tls__acme_directory: %r is not an https:// URL of letters, digits and "
                            "'.', '-', '_', '~', '/'" % (directory,))
        if not isinstance(email, str) or not _EMAIL_RE.match(email):
            problems.append("vhosting_tls__acme_email: %r is not an address (the ACME account's contact, "
                            "required with vhosting_tls__source acme)" % (email,))
        if not isinstance(calendar, str) or not _CALENDAR_RE.match(calendar):
            problems.append("vhosting_tls__renew_calendar: %r is not a systemd calendar expression (OnCalendar=, "
                            "e.g. '*-*-* 00,12:00:00')" % (calendar,))
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            problems.append("vhosting_tls__renew_random_delay: %r must be a number of seconds (0 or more)" % (delay,))
        acme = {"directory": directory, "email": email, "key_type": values["vhosting_tls__acme_key_type"],
                "calendar": calendar, "random_delay": delay}
    elif source == "files":
        if not values["vhosting_tls__cert_file"] or not values["vhosting_tls__key_file"]:
            problems.append("vhosting_tls__cert_file and vhosting_tls__key_file: give both with vhosting_tls__source "
                            "files (the certificate chain of %s and its key, paths on the host)" % myhostname)
    if len(problems) > before:
        return None

    def certificate(name, cert=None, key=None, default=False):
        if source == "acme":
            live = "%s/live/%s%s" % (LETSENCRYPT, LINEAGE_PREFIX, name)
            return {"name": name, "cert": live + "/fullchain.pem", "key": live + "/privkey.pem",
                    "lineage": LINEAGE_PREFIX + name, "required": False}
        if source == "selfsigned":
            if default:
                cert, key = values["vhosting_tls__selfsigned_cert_file"], values["vhosting_tls__selfsigned_key_file"]
            else:
                directory = values["vhosting_tls__selfsigned_cert_file"].rsplit("/", 1)[0]
                cert, key = "%s/%s.crt" % (directory, name), "%s/%s.key" % (directory, name)
            return {"name": name, "cert": cert, "key": key, "lineage": None, "required": False}
        if default:
            cert, key = values["vhosting_tls__cert_file"], values["vhosting_tls__key_file"]
        return {"name": name, "cert": cert, "key": key, "lineage": None, "required": True}

    certificates = [certificate(myhostname, default=True)] + [certificate(*entry) for entry in names]
    default, sni = certificates[0], certificates[1:]
    kind = values["vhosting_server__default_database_type"]
    parameters = {
        # Key first, then its chain (Postfix 3.4+).
        "smtpd_tls_chain_files": [default["key"], default["cert"]],
        # Port 25: offered, never required (RFC 3207: a public MX must accept mail in clear too).
        "smtpd_tls_security_level": values["vhosting_tls__smtpd_security_level"],
        "smtpd_tls_received_header": "yes",
        "smtpd_tls_loglevel": "1",
        "smtp_tls_security_level": values["vhosting_tls__smtp_security_level"],
        "smtp_tls_loglevel": "1",
    }
    if values["vhosting_tls__smtp_security_level"] == "dane":
        # DANE (RFC 7672): the TLSA records of a destination count only when its MX and TLSA lookups are
        # DNSSEC-validated, which needs this and a validating resolver (docs/tls.md, DANE for mail to other hosts).
        parameters["smtp_dns_support_level"] = "dnssec"
    tables, maps = {}, {}
    if sni:
        parameters["tls_server_sni_maps"] = "%s:%s" % (kind, SNI_TABLE)
        tables[SNI_TABLE] = SNI_MAP
        maps[SNI_MAP] = dict((c["name"], "%s %s" % (c["key"], c["cert"])) for c in sni)
    wanted = [c["lineage"] + ".conf" for c in certificates if c["lineage"]]
    return {
        "parameters": parameters,
        "tables": tables,
        "table_type": kind,
        "table_paths": {SNI_TABLE: kind if sni else None},
        "maps": maps,
        "stale_files": ([] if sni else [SNI_TABLE]) + ([] if acme else [RENEWAL_HOOK, TIMER_DROPIN]),
        "packages": ["certbot"] if acme else (["openssl"] if source == "selfsigned" else []),
        "probe": {
            "certificates": [{"cert": c["cert"], "key": c["key"], "names": [c["name"]], "required": c["required"]}
                             for c in certificates],
            "listings": [RENEWAL_DIRECTORY],
            "paths": [RENEWAL_HOOK, TIMER_DROPIN],
            "units": ["certbot.timer"] if acme else [],
            # The self-signed keys' owner and mode (the role fixes them only when they differ).
            "modes": [c["key"] for c in certificates] if source == "selfsigned" else [],
        },
        "fact": {
            "source": source,
            "certificates": certificates,
            "default": default,
            "sni": sni,
            "acme": acme,
            "lineage_prefix": LINEAGE_PREFIX,
            "wanted_lineages": wanted,
            "renewal_directory": RENEWAL_DIRECTORY,
            "renewal_hook": RENEWAL_HOOK,
            "timer_dropin": TIMER_DROPIN,
            "sni_table": SNI_TABLE,
            "sni_type": kind,
            "sni_index_suffixes": list(INDEX_SUFFIXES.get(kind, ())),
            # The MTA-STS policy and TLS report address of the hosted domains (the DNS records playbook).
            "mta_sts": mta_sts,
        },
    }


PART = Part("tls", "tls", build, path_variables=PATH_VARIABLES)
