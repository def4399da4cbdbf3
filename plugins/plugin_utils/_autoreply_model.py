# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Autoreplies of the hosted-domain model (the howto's "Autoreplies").

A mailbox with an ``autoreply`` keeps its mail and sends a copy to a
special domain that only the transport table knows::

    alice@example.org   alice@example.org, alice@example.org@autoreply.example.net   (virtual_alias_maps)
    autoreply.example.net   vhosting_autoreply:                                      (transport_maps)

and the ``vhosting_autoreply`` pipe service (master.cf) runs the
collection's autoreply program. The autoreply domain must be no final
destination of the host: not in mydestination (the howto: "DO NOT list
autoreply.mydomain.tld in mydestination!") and no hosted domain. Pure
functions, called by ``_domains``.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import unicodedata

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _address
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import Part

AUTOREPLY_KEYS = ("subject", "body", "days", "from", "until")
# RFC 5230 (Sieve vacation): one reply per sender per 7 days by default, at least 1 day.
DEFAULT_DAYS = 7
MAX_DAYS = 365
REASON = ("the howto says 'DO NOT list autoreply.mydomain.tld in mydestination!': a local or hosted domain is a "
          "final destination that accepts mail from anyone, so anyone could make this host send autoreplies to "
          "arbitrary addresses; its mail must only come from the virtual alias copies")


def _controls(text, allowed=""):
    """The control characters and Unicode line/paragraph separators of ``text`` (not ``allowed``), named."""
    odd = sorted(set(ch for ch in text if ch not in allowed and unicodedata.category(ch) in ("Cc", "Zl", "Zp")))
    return ", ".join("U+%04X" % ord(ch) for ch in odd)


def _date(value, here, key):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.datetime.strptime(str(value).strip(), "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise _address.DomainModelError("%s: autoreply %s %r is not a date YYYY-MM-DD" % (here, key, value))


def parse_autoreply(spec, here):
    """Validate a mailbox's ``autoreply`` settings; None when it has none."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise _address.DomainModelError("%s: autoreply must be a dict with keys %s" % (here, ", ".join(AUTOREPLY_KEYS)))
    unknown = _address.unknown_keys(spec, AUTOREPLY_KEYS)
    if unknown:
        raise _address.DomainModelError("%s: autoreply: unknown key(s) %s (allowed: %s)"
                                        % (here, unknown, ", ".join(AUTOREPLY_KEYS)))
    subject = spec.get("subject")
    if not isinstance(subject, str) or not subject.strip() or "\n" in subject or "\r" in subject:
        raise _address.DomainModelError("%s: autoreply subject must be a non-empty text on one line" % here)
    odd = _controls(subject)
    if odd:
        raise _address.DomainModelError("%s: autoreply subject contains %s, which a mail header cannot hold (the "
                                        "email package reads it as a line end)" % (here, odd))
    body = spec.get("body")
    if not isinstance(body, str) or not body.strip():
        raise _address.DomainModelError("%s: autoreply body must be a non-empty text" % here)
    odd = _controls(body, allowed="\n\t")
    if odd:
        raise _address.DomainModelError("%s: autoreply body contains %s; write plain text lines" % (here, odd))
    days = spec.get("days", DEFAULT_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise _address.DomainModelError("%s: autoreply days must be a whole number from 1 to %d (at most one reply "
                                        "per sender in that many days), got %r" % (here, MAX_DAYS, days))
    start, end = _date(spec.get("from"), here, "from"), _date(spec.get("until"), here, "until")
    if start and end and end < start:
        raise _address.DomainModelError("%s: autoreply until %s is before from %s" % (here, end, start))
    return {"subject": subject.strip(), "body": body if body.endswith("\n") else body + "\n", "days": days,
            "from": start, "until": end}


def autoreply_domain(opts):
    """The autoreply domain: the option, else autoreply.<mydomain>; None when neither is known."""
    name = opts.get("autoreply_domain") or ""
    if not name and opts.get("mydomain"):
        name = "autoreply.%s" % opts["mydomain"]
    return name or None


def build(domains, virtual_alias_map, opts, local_domains):
    """Add the autoreply copies to virtual_alias_map; (domain, address -> settings) or (None, {}).

    Raises DomainModelError when the autoreply domain is no valid domain, is
    in mydestination or is a hosted domain (with the howto's reason).
    """
    boxes = [box for domain in sorted(domains) for _a, box in sorted(domains[domain].get("mailboxes", {}).items())
             if box.get("autoreply")]
    if not boxes:
        return None, {}
    name = autoreply_domain(opts)
    if name is None:
        raise _address.DomainModelError("autoreplies need an autoreply domain: set vhosting_domains__autoreply_domain "
                                        "or vhosting_server__mydomain")
    name = _address.normalise_domain(name, "vhosting_domains__autoreply_domain")
    if name in local_domains:
        raise _address.DomainModelError("vhosting_domains__autoreply_domain: %s is in mydestination; %s"
                                        % (name, REASON))
    if name in domains:
        raise _address.DomainModelError("vhosting_domains__autoreply_domain: %s is a hosted %s domain (%s); %s"
                                        % (name, domains[name]["class"], domains[name]["varname"], REASON))
    # The addresses that reach each mailbox directly: its own and the aliases naming it.
    reached = {}
    for key, targets in virtual_alias_map.items():
        if not key.startswith("@"):
            for target in targets:
                reached.setdefault(target, set()).add(key)
    settings = {}
    for box in boxes:
        address = box["address"]
        virtual_alias_map[address] = list(virtual_alias_map.get(address, [address])) + ["%s@%s" % (address, name)]
        settings[address] = dict(box["autoreply"], addresses=sorted(reached.get(address, set()) | {address}))
    return name, settings


# The pipe service of the autoreply program (master.cf) and what it needs on the host.
AUTOREPLY_SERVICE = "vhosting_autoreply"
AUTOREPLY_PROGRAM = "/usr/local/lib/vhosting-postfix/vhosting-autoreply"
AUTOREPLY_CONFIG = "/etc/vhosting-postfix/autoreply.json"
AUTOREPLY_STATE = "/var/lib/vhosting-autoreply"


def build_part(ctx, problems):
    """The autoreply part of the host model: the program's service, user and settings (an empty service list
    removes an earlier one)."""
    del problems  # the autoreplies were validated with the domain model
    values, domains = ctx["values"], ctx["domains"]
    if domains is None:
        return None
    files = [AUTOREPLY_CONFIG, AUTOREPLY_PROGRAM]
    if not domains["autoreplies"]:
        return {"stale_files": files, "fact": {"autoreply": None}}
    user = values["vhosting_domains__autoreply_user"]
    return {
        "probe": {"users": [user], "groups": [user]},
        "parameters": {
            # At most one recipient per run of the program (pipe(8) would pass several).
            "%s_destination_recipient_limit" % AUTOREPLY_SERVICE: 1,
            # The autoreply domain refused to every SMTP client: its mail only comes from the virtual alias copies.
            "smtpd_recipient_restrictions": ["check_recipient_access inline:{%s=REJECT}" % domains["autoreply_domain"]],
        },
        "services": [{
            "service": AUTOREPLY_SERVICE, "type": "unix", "private": "-", "unpriv": "n", "chroot": "n",
            # python3 -I: no environment variables, no user site directory, no current directory on sys.path.
            "command": "pipe user=%s argv=/usr/bin/python3 -I %s ${sender} ${mailbox}" % (user, AUTOREPLY_PROGRAM),
        }],
        "fact": {
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
        },
    }


PART = Part("autoreply", "domains", build_part)
