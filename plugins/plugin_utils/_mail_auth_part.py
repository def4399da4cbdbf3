# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mail-authentication part of the host model: DKIM signing (OpenDKIM), SPF checks (policyd-spf), DMARC
(OpenDMARC), SRS (postsrsd), and the DNS records of the hosted domains (controller side, pure; see _part).

The site switches (``vhosting_mail_auth__*``) say which of the four run on the host; the per-domain inventory
says how each hosted domain signs and what it publishes (keys ``dkim``, ``spf``, ``dmarc`` of a
``vhosting_domain__*`` definition, see docs/mail-auth.md). Every name that reaches a path, a configuration file
or the DNS is checked here with a strict character set.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vhosting.postfix.plugins.module_utils._dkim_keys import KEY_TYPES, SELECTOR_RE
from ansible_collections.vhosting.postfix.plugins.plugin_utils._address import is_hostname, unknown_keys
from ansible_collections.vhosting.postfix.plugins.plugin_utils._dovecot_model import POSTFIX_QUEUE_DIRECTORY
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import Part

MIN_RSA_BITS, MAX_RSA_BITS = 1024, 4096
# RFC 7489 6.3: the values of p= and sp=.
DMARC_POLICIES = ("none", "quarantine", "reject")
CHECK_POLICIES = ("off", "tag", "reject")
DKIM_KEYS = ("selectors", "sign", "retired")
SELECTOR_KEYS = ("name", "type", "bits")
DMARC_KEYS = ("policy", "subdomain_policy", "rua", "ruf", "pct")
# A mailto: URI of a DMARC report address (RFC 7489 6.2): no spaces, commas, semicolons or quotes.
_MAILTO_RE = re.compile(r"^mailto:[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+(?:![0-9]+[kmgt]?)?$")
# What an SPF or other TXT value may hold: printable ASCII without quote and backslash (zone files, nsupdate).
_TXT_RE = re.compile(r'^[\x20-\x21\x23-\x5b\x5d-\x7e]+$')

PACKAGES = {
    "dkim": ["opendkim"],
    "dmarc": ["opendmarc"],
    "spf": ["postfix-policyd-spf-python"],
    "srs": ["postsrsd"],
}
UNITS = {"dkim": "opendkim.service", "dmarc": "opendmarc.service", "srs": "postsrsd.service"}
# The configuration files the role writes for each feature (the packages' own files, with the role's content).
CONFIG_FILES = {
    "dkim": ["/etc/opendkim.conf"],
    "dmarc": ["/etc/opendmarc.conf"],
    "spf": ["/etc/postfix-policyd-spf-python/vhosting.conf"],
    "srs": ["/etc/default/postsrsd"],
}
# The milters' sockets: a directory of their own in Postfix's queue directory (owner the milter's user, group
# postfix, setgid), so that smtpd and cleanup reach them chrooted or not, by a name relative to the queue directory.
# A unix socket, not loopback TCP: over TCP each message waited about 0.1 s (bench/README.md, Signing).
# Each feature's (directory relative to the queue directory, socket, owner), in the order of smtpd_milters.
MILTER_SOCKETS = {
    "dkim": ("vhosting-opendkim", "opendkim.sock", "opendkim"),
    "dmarc": ("vhosting-opendmarc", "opendmarc.sock", "opendmarc"),
}


def milter_socket(feature):
    """The socket of a feature's milter as the role needs it: directory, socket, owner and path."""
    name, socket, owner = MILTER_SOCKETS[feature]
    directory = "%s/%s" % (POSTFIX_QUEUE_DIRECTORY, name)
    return {"directory": directory, "socket": socket, "owner": owner, "path": "%s/%s" % (directory, socket)}


# The role's own files that go away when their feature is turned off.
OWN_FILES = {
    "dkim": ["/etc/opendkim/vhosting-keytable", "/etc/opendkim/vhosting-signingtable",
             "/etc/opendkim/vhosting-internalhosts", milter_socket("dkim")["directory"]],
    "dmarc": ["/etc/opendmarc/vhosting-ignorehosts", milter_socket("dmarc")["directory"]],
    "spf": ["/etc/postfix-policyd-spf-python/vhosting.conf"],
    "srs": [],
}
SPF_SERVICE = "policyd_spf"
SPF_RESTRICTION = "check_policy_service unix:private/%s" % SPF_SERVICE
PATH_VARIABLES = (
    ("vhosting_mail_auth__dkim_key_directory", "write", "the DKIM keys", "/etc/opendkim/keys"),
)


class _Problems(object):
    """Collects the problems of one domain definition with its place."""

    def __init__(self, problems, where):
        self.problems, self.where = problems, where

    def add(self, text):
        self.problems.append("%s: %s" % (self.where, text))


def selector_name(value):
    """A valid selector (lower-cased) or None."""
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    return name if SELECTOR_RE.match(name) else None


def _key(entry, defaults, report):
    """One selector entry (a name, or {name, type, bits}) -> {selector, type, bits}, or None."""
    spec = entry if isinstance(entry, dict) else {"name": entry}
    unknown = unknown_keys(spec, SELECTOR_KEYS)
    if unknown:
        report.add("dkim selector: unknown key(s) %s (allowed: %s)" % (unknown, ", ".join(SELECTOR_KEYS)))
        return None
    name = selector_name(spec.get("name"))
    if name is None:
        report.add("dkim selector %r is not a DNS label (a-z, 0-9 and inner hyphens, at most 63 characters)"
                   % (spec.get("name"),))
        return None
    kind = spec.get("type", defaults["type"])
    if kind not in KEY_TYPES:
        report.add("dkim selector %s: key type %r is not one of %s" % (name, kind, ", ".join(KEY_TYPES)))
        return None
    bits = spec.get("bits", defaults["bits"])
    if kind == "rsa" and (isinstance(bits, bool) or not isinstance(bits, int) or not MIN_RSA_BITS <= bits <= MAX_RSA_BITS):
        report.add("dkim selector %s: an RSA key of %r bits; use %d to %d (RFC 8301: at least 1024, 2048 "
                   "recommended)" % (name, bits, MIN_RSA_BITS, MAX_RSA_BITS))
        return None
    return {"selector": name, "type": kind, "bits": bits if kind == "rsa" else 256}


def domain_dkim(spec, defaults, report):
    """The DKIM setting of one domain: None (does not sign) or {keys: [...], sign: selector, retired: [...]}.

    ``spec``: the domain's ``dkim`` key (absent/true: the site's default selector; false: no signing; a dict:
    ``selectors`` (published keys), ``sign`` (the one that signs, default the only or first selector) and
    ``retired`` (selectors whose key and DNS record are removed)).
    """
    if spec is False:
        return None
    if spec is None or spec is True:
        spec = {}
    if not isinstance(spec, dict):
        report.add("dkim must be true, false or a dict with %s, got %r" % (", ".join(DKIM_KEYS), spec))
        return None
    unknown = unknown_keys(spec, DKIM_KEYS)
    if unknown:
        report.add("dkim: unknown key(s) %s (allowed: %s)" % (unknown, ", ".join(DKIM_KEYS)))
        return None
    selectors = spec.get("selectors", [defaults["selector"]])
    if isinstance(selectors, (str, dict)):
        selectors = [selectors]
    if not isinstance(selectors, list) or not selectors:
        report.add("dkim selectors: a list of at least one selector, got %r" % (selectors,))
        return None
    keys = [_key(entry, defaults, report) for entry in selectors]
    if None in keys:
        return None
    names = [k["selector"] for k in keys]
    if len(set(names)) != len(names):
        report.add("dkim selectors: %s listed twice" % ", ".join(sorted(set(n for n in names if names.count(n) > 1))))
        return None
    sign = spec.get("sign", names[0])
    sign_name = selector_name(sign)
    if sign_name not in names:
        report.add("dkim sign: %r is not one of the domain's selectors (%s); a key signs only once it is published"
                   % (sign, ", ".join(names)))
        return None
    retired = spec.get("retired") or []
    if isinstance(retired, str):
        retired = [retired]
    retired_names = [selector_name(r) for r in retired] if isinstance(retired, list) else [None]
    if None in retired_names:
        report.add("dkim retired: a list of selectors (DNS labels), got %r" % (retired,))
        return None
    both = sorted(set(retired_names) & set(names))
    if both:
        report.add("dkim: selector %s is both published and retired" % ", ".join(both))
        return None
    return {"keys": keys, "sign": sign_name, "retired": sorted(set(retired_names))}


def txt_value(value, what, report):
    """A TXT record value the zone file and nsupdate can carry as it is, or None (and a problem)."""
    if not isinstance(value, str) or not _TXT_RE.match(value) or len(value) > 2048:
        report.add("%s: %r must be printable ASCII without quotes or backslashes, at most 2048 characters"
                   % (what, value))
        return None
    return value


def spf_record(spec, default, report):
    """The domain's SPF record (None: none published)."""
    value = default if spec is None else spec
    if value is False or value is None or value == "":
        return None
    value = txt_value(value, "spf", report)
    if value is not None and not re.match(r"^v=spf1( |$)", value):
        report.add("spf: %r must start with 'v=spf1' (RFC 7208)" % (value,))
        return None
    return value


def dmarc_record(spec, defaults, report):
    """The domain's DMARC record text (None: none published). ``defaults``: {policy, rua}."""
    if spec is False:
        return None
    spec = {} if spec is None or spec is True else spec
    if not isinstance(spec, dict):
        report.add("dmarc must be true, false or a dict with %s, got %r" % (", ".join(DMARC_KEYS), spec))
        return None
    unknown = unknown_keys(spec, DMARC_KEYS)
    if unknown:
        report.add("dmarc: unknown key(s) %s (allowed: %s)" % (unknown, ", ".join(DMARC_KEYS)))
        return None
    policy = spec.get("policy", defaults["policy"])
    if not policy:
        return None
    ok = True
    for key, value in (("policy", policy), ("subdomain_policy", spec.get("subdomain_policy"))):
        if value is not None and value not in DMARC_POLICIES:
            report.add("dmarc %s: %r is not an RFC 7489 policy (one of %s)" % (key, value, ", ".join(DMARC_POLICIES)))
            ok = False
    pct = spec.get("pct")
    if pct is not None and (isinstance(pct, bool) or not isinstance(pct, int) or not 0 <= pct <= 100):
        report.add("dmarc pct: %r must be a whole number from 0 to 100" % (pct,))
        ok = False
    uris = {}
    for key in ("rua", "ruf"):
        value = spec.get(key, defaults.get(key))
        values = [value] if isinstance(value, str) else (value or [])
        if not isinstance(values, list) or any(not isinstance(v, str) or not _MAILTO_RE.match(v) for v in values):
            report.add("dmarc %s: %r must be a mailto: address or a list of them" % (key, value))
            ok = False
            continue
        uris[key] = values
    if not ok:
        return None
    text = "v=DMARC1; p=%s" % policy
    if spec.get("subdomain_policy"):
        text += "; sp=%s" % spec["subdomain_policy"]
    if pct is not None:
        text += "; pct=%d" % pct
    for key in ("rua", "ruf"):
        if uris.get(key):
            text += "; %s=%s" % (key, ",".join(uris[key]))
    return text


def _site(values, problems):
    """The site switches, checked: {dkim, spf, dmarc, srs, ...} or None."""
    ok = True
    for name in ("vhosting_mail_auth__spf", "vhosting_mail_auth__dmarc"):
        if values[name] not in CHECK_POLICIES:
            problems.append("%s: %r is not one of %s" % (name, values[name], ", ".join(CHECK_POLICIES)))
            ok = False
    ports = {}
    for name in ("vhosting_mail_auth__srs_forward_port", "vhosting_mail_auth__srs_reverse_port"):
        port = values[name]
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            problems.append("%s: %r is not a TCP port" % (name, port))
            ok = False
        elif port in ports:
            problems.append("%s and %s: both use port %d" % (ports[port], name, port))
            ok = False
        else:
            ports[port] = name
    for name in ("vhosting_mail_auth__srs_domain", "vhosting_mail_auth__authserv_id"):
        value = values[name]
        if value and not is_hostname(value):
            problems.append("%s: %r is not a host name" % (name, value))
            ok = False
    selector = selector_name(values["vhosting_mail_auth__dkim_selector"])
    if selector is None:
        problems.append("vhosting_mail_auth__dkim_selector: %r is not a DNS label (a-z, 0-9 and inner hyphens)"
                        % (values["vhosting_mail_auth__dkim_selector"],))
        ok = False
    report = _Problems(problems, "vhosting_mail_auth__dkim_key_type/_key_bits")
    defaults = {"selector": selector, "type": values["vhosting_mail_auth__dkim_key_type"],
                "bits": values["vhosting_mail_auth__dkim_key_bits"]}
    if selector is not None and _key({"name": selector}, defaults, report) is None:
        ok = False
    dmarc_report = _Problems(problems, "vhosting_mail_auth__dmarc_record_policy/_rua")
    dmarc_defaults = {"policy": values["vhosting_mail_auth__dmarc_record_policy"],
                      "rua": values["vhosting_mail_auth__dmarc_record_rua"] or None}
    if values["vhosting_mail_auth__dmarc_record_policy"] and dmarc_record({}, dmarc_defaults, dmarc_report) is None:
        ok = False
    spf_default = values["vhosting_mail_auth__spf_record"]
    if spf_default and spf_record(None, spf_default, _Problems(problems, "vhosting_mail_auth__spf_record")) is None:
        ok = False
    return ok, defaults, dmarc_defaults


def build(ctx, problems):
    """What the mail_auth role writes: OpenDKIM, OpenDMARC, policyd-spf, postsrsd and their side of Postfix."""
    values, domains, definitions = ctx["values"], ctx["domains"], ctx["definitions"]
    on = {
        "dkim": bool(values["vhosting_mail_auth__dkim"]),
        "spf": values["vhosting_mail_auth__spf"] != "off",
        "dmarc": values["vhosting_mail_auth__dmarc"] != "off",
        "srs": bool(values["vhosting_mail_auth__srs"]),
    }
    ok, key_defaults, dmarc_defaults = _site(values, problems)
    hostname = values["vhosting_server__myhostname"]
    # The per-domain settings (checked on every host that has the domain, whether the features are on or not).
    hosted, dkim, dns = [], {}, {}
    for varname in sorted(definitions):
        spec = definitions[varname]
        if not isinstance(spec, dict) or not isinstance(spec.get("domain"), str):
            continue
        domain = spec["domain"].strip().rstrip(".").lower()
        report = _Problems(problems, "%s (%s)" % (varname, domain))
        hosted.append(domain)
        setting = domain_dkim(spec.get("dkim"), key_defaults, report) if key_defaults["selector"] else None
        spf = spf_record(spec.get("spf"), values["vhosting_mail_auth__spf_record"], report)
        dmarc = dmarc_record(spec.get("dmarc"), dmarc_defaults, report)
        if setting is not None and on["dkim"]:
            dkim[domain] = setting
        dns[domain] = {
            "spf": spf,
            "dmarc": dmarc,
            "selectors": [k["selector"] for k in setting["keys"]] if setting and on["dkim"] else [],
            "retired": setting["retired"] if setting and on["dkim"] else [],
        }
    if domains is None or not ok:
        return None
    server = (ctx.get("built") or {}).get("server") or {}
    mynetworks = list((server.get("fact") or {}).get("mynetworks") or [])
    trusted = ["127.0.0.1", "::1"] + [n for n in mynetworks if n not in ("127.0.0.0/8", "[::1]/128", "[::ffff:127.0.0.0]/104")]
    trusted = [n[1:].replace("]/", "/") if n.startswith("[") else n for n in trusted]
    authserv = values["vhosting_mail_auth__authserv_id"] or hostname
    srs_domain = (values["vhosting_mail_auth__srs_domain"] or hostname).lower()
    parameters, services, packages, units = {}, [], [], []
    sockets = dict((feature, milter_socket(feature)) for feature in MILTER_SOCKETS if on[feature])
    # Relative to the queue directory: the same name for smtpd and cleanup, chrooted or not.
    milters = ["unix:%s/%s" % MILTER_SOCKETS[feature][:2] for feature in MILTER_SOCKETS if feature in sockets]
    if milters:
        parameters["smtpd_milters"] = milters
        # Mail made on the host (autoreplies, bounces, sendmail): signed, never checked against itself.
        if on["dkim"]:
            parameters["non_smtpd_milters"] = milters[:1]
        # A milter that is down must not stop the mail (it goes out unsigned and unchecked; the log says so).
        parameters["milter_default_action"] = "accept"
    if on["spf"]:
        # After the relay role's restrictions (permit_mynetworks, permit_sasl_authenticated,
        # reject_unauth_destination); alone, with the two permits: trusted and authenticated clients are never
        # checked against their own domains.
        relay = (ctx.get("built") or {}).get("relay") or {}
        before = ((relay.get("parameters") or {}).get("smtpd_recipient_restrictions")) or []
        restrictions = [r for r in ("permit_mynetworks", "permit_sasl_authenticated") if r not in before]
        parameters["smtpd_recipient_restrictions"] = restrictions + [SPF_RESTRICTION]
        parameters["%s_time_limit" % SPF_SERVICE] = "3600s"
        services.append({"service": SPF_SERVICE, "type": "unix", "private": "-", "unpriv": "n", "chroot": "n",
                         "wakeup": "-", "maxproc": "0",
                         "command": "spawn user=policyd-spf argv=/usr/bin/policyd-spf %s" % CONFIG_FILES["spf"][0]})
    if on["srs"]:
        parameters.update({
            "sender_canonical_maps": "tcp:127.0.0.1:%d" % values["vhosting_mail_auth__srs_forward_port"],
            "sender_canonical_classes": "envelope_sender",
            "recipient_canonical_maps": "tcp:127.0.0.1:%d" % values["vhosting_mail_auth__srs_reverse_port"],
            "recipient_canonical_classes": ["envelope_recipient", "header_recipient"],
        })
    # Written by an earlier version of the role (OpenDKIM's ResolverConfiguration), never used again.
    stale = ["/etc/opendkim/vhosting-resolver.conf"]
    for feature in ("dkim", "dmarc", "spf", "srs"):
        if on[feature]:
            packages.extend(PACKAGES[feature])
        else:
            stale.extend(OWN_FILES[feature])
        if feature in UNITS:
            units.append(UNITS[feature])
    key_directory = values["vhosting_mail_auth__dkim_key_directory"].rstrip("/")
    keys, keytable, signingtable = [], {}, {}
    for domain in sorted(dkim):
        setting = dkim[domain]
        for key in setting["keys"]:
            keys.append(dict(key, domain=domain))
            name = "%s._domainkey.%s" % (key["selector"], domain)
            keytable[name] = "%s:%s:%s/%s/%s.private" % (domain, key["selector"], key_directory, domain,
                                                         key["selector"])
        signingtable["*@%s" % domain] = "%s._domainkey.%s" % (setting["sign"], domain)
    # OpenDKIM's tables (written even when empty: OpenDKIM does not start without them).
    maps = {"dkim_keytable": keytable, "dkim_signingtable": signingtable} if on["dkim"] else {}
    relay_fact = (((ctx.get("built") or {}).get("relay") or {}).get("fact") or {})
    backup = sorted(relay_fact.get("model", {}).get("relay_domains") or [])
    return {
        "parameters": parameters,
        "services": services,
        "packages": packages,
        "stale_files": stale,
        "maps": maps,
        "probe": {"units": units, "paths": ["/etc/opendmarc"],
                  "modes": [socket["directory"] for socket in sockets.values()]},
        "fact": {
            "enabled": any(on.values()),
            "features": on,
            "units": dict((feature, UNITS[feature]) for feature in UNITS),
            "key_directory": key_directory,
            "dkim_keys": keys,
            "retired": sorted("%s/%s" % (d, r) for d, s in dkim.items() for r in s["retired"]),
            "authserv_id": authserv,
            "trusted": trusted,
            "milter_sockets": sockets,
            "dmarc_reject": values["vhosting_mail_auth__dmarc"] == "reject",
            "spf_reject": values["vhosting_mail_auth__spf"] == "reject",
            "srs": {
                "domain": srs_domain,
                "exclude": sorted(set(hosted) | set([srs_domain])),
                "forward_port": values["vhosting_mail_auth__srs_forward_port"],
                "reverse_port": values["vhosting_mail_auth__srs_reverse_port"],
            },
            "dns": {
                "myhostname": hostname,
                "ttl": values["vhosting_mail_auth__dns_ttl"],
                "domains": dns,
                "backup_domains": backup,
                "srs_domain": srs_domain if on["srs"] else None,
                "srs_spf": ("v=spf1 a -all" if on["srs"] and srs_domain not in dns else None),
            },
        },
    }


PART = Part("mail_auth", "mail_auth", build, path_variables=PATH_VARIABLES, policy_source=None)
