# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay policy main.cf will have, judged as a whole: can a stranger relay?

Pure functions, called by :func:`_host_model.host_model` with the main.cf
parameters of every role together (the server role's, the operator's
``vhosting_server__parameters``, the domains, relay and dovecot roles'), so
that a hole is found wherever it comes from: a trusted network list that
is a table matching every client (``static:all``), ``relay_domains`` that
authorise every destination, an XCLIENT host that may claim any address,
or a restriction list that permits an unauthenticated, untrusted client
before it refuses foreign destinations (``permit``, ``permit_mx_backup``,
``check_client_access static:OK``, a policy service, a table whose answers
nobody can see).

Postfix relays a message to a foreign destination only when both
``smtpd_relay_restrictions`` and ``smtpd_recipient_restrictions`` let it
pass; so the host is safe when at least one of them refuses such a client
(reject_unauth_destination or a plain reject/defer) before anything that
could permit it. Elements that may permit, but that a site can really need
(a table of trusted clients, a policy service, permit_mx_backup), are
allowed when the operator lists them in ``vhosting_server__relay_trusted_restrictions``;
the elements that permit *every* client never are.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vhosting.postfix.plugins.module_utils._networks import NetworkError, normalise_network

OPT_IN = "vhosting_server__relay_trusted_restrictions"
RELAY_LISTS = ("smtpd_relay_restrictions", "smtpd_recipient_restrictions")
DEFAULTS = {
    "smtpd_relay_restrictions": ["permit_mynetworks", "permit_sasl_authenticated", "defer_unauth_destination"],
    "smtpd_recipient_restrictions": [],
    "relay_domains": [],
    "smtpd_authorized_xclient_hosts": [],
    "smtpd_sasl_security_options": ["noanonymous"],
    "smtpd_sasl_auth_enable": "no",
}
# Refuse a foreign destination for every client they reach.
DENY = ("reject_unauth_destination", "defer_unauth_destination", "reject", "defer", "defer_if_permit")
# Permit only clients that proved who they are, or only our own destinations.
SAFE = ("permit_mynetworks", "permit_sasl_authenticated", "permit_tls_clientcerts", "permit_auth_destination",
        "permit_inet_interfaces", "warn_if_reject", "sleep")
# Permit every client (or every client that says so): never allowed before the refusal.
ALWAYS_OPEN = ("permit", "permit_naked_ip_address", "permit_auth_destination_or_anything")
# Permit clients chosen by something the collection cannot judge: allowed when listed in OPT_IN.
NEEDS_OPT_IN = ("permit_mx_backup", "permit_tls_all_clientcerts", "permit_dnswl_client", "permit_rhswl_client",
                "check_policy_service")
# Access table answers that permit (access(5)): OK, a number, or a permit_* restriction.
_PERMIT_ANSWER = re.compile(r"^(ok|relay|\d+(\s.*)?|permit\w*)$", re.IGNORECASE)
_TABLE = re.compile(r"^([a-z][a-z0-9_]*):(.*)$")
# Table types whose answers are fixed in the reference itself.
_INLINE_TYPES = ("static", "inline")
# Types whose files only the operator can read: opaque to the check.
_FILE_TYPES = ("cidr", "hash", "lmdb", "btree", "cdb", "texthash", "dbm", "sdbm")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def words(value):
    """A main.cf list (string or list) as its elements; ``a b`` pairs of restrictions stay together."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = [str(value)]
    result = []
    for item in items:
        for part in re.split(r",", item):
            tokens = part.split()
            i = 0
            while i < len(tokens):
                token = tokens[i]
                # A restriction that takes a table: keep it with its table.
                if (token.startswith("check_") or token in ("reject_rbl_client", "reject_rhsbl_client",
                                                            "permit_dnswl_client", "permit_rhswl_client",
                                                            "reject_rhsbl_sender", "reject_rhsbl_helo",
                                                            "reject_rhsbl_recipient", "reject_rhsbl_reverse_client",
                                                            "sleep")) and i + 1 < len(tokens):
                    result.append("%s %s" % (token, tokens[i + 1]))
                    i += 2
                    continue
                result.append(token)
                i += 1
    return result


def _inline_entries(table):
    """key -> value of an inline:{k=v, ...} table, or None when it is not one."""
    match = re.match(r"^inline:\{(.*)\}$", table, re.DOTALL)
    if not match:
        return None
    entries = {}
    for item in re.split(r"[,\s]+(?=[^=,\s{}]+\s*=)", match.group(1).strip()):
        item = item.strip().strip("{}").strip()
        if item:
            key, _sep, value = item.partition("=")
            entries[key.strip()] = value.strip()
    return entries


def _table_permits(check, table, opted_in, allow_wide):
    """Why a check_*_access TABLE may permit a stranger (None when it cannot)."""
    match = _TABLE.match(table)
    if not match:
        return "%r is not a lookup table (type:name)" % table
    kind = match.group(1)
    if kind == "static":
        answer = match.group(2).strip("{} ")
        if _PERMIT_ANSWER.match(answer):
            return "static answers %s for every %s" % (answer, check.split("_")[1])
        return None
    if kind == "inline":
        entries = _inline_entries(table) or {}
        permits = sorted(k for k, v in entries.items() if _PERMIT_ANSWER.match(v))
        if not permits:
            return None
        if check == "check_client_access":
            for key in permits:
                try:
                    normalise_network(key, "check_client_access", allow_wide)
                except NetworkError as exc:
                    return "%s (a client table may trust addresses and networks only, not names)" % exc
            return None
        return ("it answers OK for %s, which the client chooses itself (the %s)"
                % (", ".join(permits), check[len("check_"):-len("_access")].replace("_", " ")))
    if opted_in:
        return None
    return ("the answers of %s are not visible to this check; list the element in %s if it only trusts "
            "known clients" % (table, OPT_IN))


def element_opens(element, opted_in, allow_wide):
    """Why one restriction list element may let an unauthenticated, untrusted client relay (None: it cannot)."""
    name = element.split(" ", 1)[0].lower()
    if name in ALWAYS_OPEN:
        return "%s permits every client" % name
    if name.startswith("reject_") or name.startswith("defer_") or name in DENY or name in SAFE:
        return None
    if name in NEEDS_OPT_IN:
        if opted_in:
            return None
        return "%s may permit clients the collection cannot judge; list it in %s if the site needs it" % (
            name, OPT_IN)
    if name.startswith("check_") and name.endswith("_access") and " " in element:
        return _table_permits(name, element.split(" ", 1)[1], opted_in, allow_wide)
    if opted_in:
        return None
    return ("%s is not a restriction the collection knows to be safe (a restriction class or another permit?); "
            "list it in %s if it only trusts known clients" % (name, OPT_IN))


def list_verdict(elements, opted_in, allow_wide):
    """(denies, [why an element opens]) for one restriction list, for a stranger sending to a foreign domain."""
    opens = []
    for element in elements:
        name = element.split(" ", 1)[0].lower()
        if name in DENY:
            # Refused here, unless something before it may already have permitted the client.
            return not opens, opens
        why = element_opens(element, element in opted_in, allow_wide)
        if why:
            opens.append("%s (%s)" % (element, why))
            if name in ALWAYS_OPEN:
                return False, opens
    return False, opens


def _networks(value, parameter, allow_wide, problems):
    for entry in words(value):
        if entry.startswith("$"):
            continue
        try:
            normalise_network(entry, parameter, allow_wide)
        except NetworkError as exc:
            problems.append(str(exc))


def check(parameters, sources, opted_in, allow_wide, problems):
    """Judge the relay policy of the effective main.cf ``parameters``; append a problem per hole.

    ``sources`` names, per parameter, where its value came from (a variable
    or a role), for the messages. ``opted_in`` is the operator's list of
    trusted restriction elements.
    """
    def value(name):
        return parameters.get(name, DEFAULTS.get(name))

    def source(name):
        return sources.get(name, "Postfix's default")

    opted = set(" ".join(str(e).split()) for e in opted_in or [])
    for element in sorted(opted):
        name = element.split(" ", 1)[0].lower()
        if name in ALWAYS_OPEN or (name.startswith("check_") and " " in element
                                   and element.split(" ", 1)[1].split(":", 1)[0] in _INLINE_TYPES
                                   and _table_permits(name, element.split(" ", 1)[1], False, allow_wide)):
            problems.append("%s: %r permits every client; no opt-in makes that safe" % (OPT_IN, element))
            opted.discard(element)
    verdicts = {}
    for name in RELAY_LISTS:
        verdicts[name] = list_verdict(words(value(name)), opted, allow_wide)
    if not any(denies for denies, _opens in verdicts.values()):
        culprit = next((name for name in RELAY_LISTS if verdicts[name][1]), RELAY_LISTS[0])
        lists = " and ".join("%s = %r (%s)" % (name, ", ".join(words(value(name))), source(name))
                             for name in RELAY_LISTS)
        detail = "; ".join("%s permits through %s" % (name, "; ".join(verdicts[name][1])) for name in RELAY_LISTS
                           if verdicts[name][1])
        problems.append("%s: %s would make this host an open relay: neither list refuses an unauthenticated client "
                        "outside mynetworks (reject_unauth_destination, defer_unauth_destination, reject or defer) "
                        "before a permit%s" % (source(culprit), lists, ": " + detail if detail else ""))
    # Trusted networks: the server role checks mynetworks itself (its variable); XCLIENT hosts may claim any
    # client address, so they are trusted networks too.
    _networks(value("smtpd_authorized_xclient_hosts"),
              "%s: smtpd_authorized_xclient_hosts" % source("smtpd_authorized_xclient_hosts"), allow_wide, problems)
    for entry in words(value("relay_domains")):
        why = _relay_domain_opens(entry)
        if why:
            problems.append("%s: relay_domains element %r %s" % (source("relay_domains"), entry, why))
    if str(value("smtpd_sasl_auth_enable")).lower() == "yes" and "noanonymous" not in [
            w.lower() for w in words(value("smtpd_sasl_security_options"))]:
        problems.append("%s: smtpd_sasl_security_options without noanonymous lets an anonymous login count as "
                        "authenticated (permit_sasl_authenticated relays for it)" % source("smtpd_sasl_security_options"))


def _relay_domain_opens(entry):
    if entry.startswith("$"):
        return None
    match = _TABLE.match(entry)
    if match and not entry.startswith("/"):
        kind = match.group(1)
        if kind in _FILE_TYPES:
            return None
        if kind == "inline":
            bad = [k for k in (_inline_entries(entry) or {}) if not _DOMAIN.match(k.lower().lstrip("."))]
            return "lists %s, not domain names" % ", ".join(bad) if bad else None
        return ("is a %s: table, which can authorise every destination (the relay domains must be a list of "
                "domains or a file table)" % kind)
    if entry.startswith("/"):
        return None  # a file of domain names
    if not _DOMAIN.match(entry.lower().lstrip(".")):
        return ("is not a domain name with at least two labels (a top-level domain or a pattern would authorise "
                "every domain under it)")
    return None
