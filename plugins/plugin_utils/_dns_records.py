# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS records of the hosted domains, on the control node (pure).

Each mail host lists the records its domains need with the
``vhosting.postfix.dns_records_info`` module (MX, SPF, DMARC, DKIM, the SRS
domain's SPF; a retired DKIM selector's record as ``state: absent``). Used by
the filters of ``plugins/filter/dns_records.py`` (see docs/dns-records.md):

* :func:`merge` puts the records of every host together, per domain: the
  same record from several hosts is one record, and two hosts that disagree
  on a record that must be unique (the SPF record of a name, the DMARC
  record, one DKIM selector's key), or one that publishes a record that the
  other deletes, are an error naming both hosts; then it adds each domain's
  MTA-STS and TLS reporting records (:func:`mta_sts_records`), which need the
  MX records of every host;
* :func:`table` renders them as an aligned text table for the operator;
* :func:`zone_fragment` renders one domain's records as a zone-file fragment
  (RFC 1035 master file syntax, as BIND reads it);
* :func:`nsupdate_items` turns them into the arguments of
  ``community.general.nsupdate``, one item per RRset (the module replaces the
  whole RRset of a name and type).

A record is ``{domain, name, type, value, ttl, state}``: ``name`` is absolute
without the trailing dot, ``type`` is MX or TXT, ``value`` is the MX
preference and target (``10 mx1.example.org.``) or the plain text of a TXT
record (not quoted, not split; :func:`quote_txt` does that), None when
``state`` is ``absent``. Merged records carry ``hosts`` too, the inventory
hosts that gave them.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re


class DnsRecordsError(ValueError):
    """The records cannot be merged or rendered; the message says why (and which hosts)."""


TYPES = ("MX", "TXT")
STATES = ("present", "absent")
# RFC 1035 3.3.14: a TXT record is one or more <character-string>s of at most 255 bytes each.
TXT_STRING_MAX = 255
# Owner names: DNS labels, with underscores for _dmarc and _domainkey (RFC 8552).
_NAME_RE = re.compile(r"^(?=.{1,253}\Z)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\Z")
_MX_RE = re.compile(r"^(\d{1,5}) +([a-z0-9.-]+\.)\Z")
TABLE_WIDTH = 72


# --------------------------------------------------------------------------
# Names and values
# --------------------------------------------------------------------------

def normalise_name(name, what="name"):
    """``name`` in lower case without the trailing dot, checked to be a DNS name."""
    if not isinstance(name, str):
        raise DnsRecordsError("%s must be a DNS name, not %r" % (what, name))
    text = name.strip().lower()
    text = text[:-1] if text.endswith(".") else text
    if not _NAME_RE.match(text):
        raise DnsRecordsError("%s: %r is not a DNS name" % (what, name))
    return text


def is_within(name, zone):
    """True when ``name`` is ``zone`` or a name below it (whole labels)."""
    return name == zone or name.endswith("." + zone)


def name_key(name):
    """Sort key of an owner name: by its labels from the root (the apex before _dmarc, _domainkey, ...)."""
    return tuple(reversed(name.split(".")))


def record_key(record):
    """Sort key of a record: name, type, state, value."""
    return (name_key(record["name"]), record["type"], record["state"], _mx_key(record) or record["value"] or "")


def _mx_key(record):
    if record["type"] != "MX" or not record["value"]:
        return None
    preference, target = record["value"].split(" ", 1)
    return "%05d %s" % (int(preference), target)


def split_txt(text):
    """``text`` cut into strings of at most 255 bytes (UTF-8) each, never inside a character.

    ``"".join(split_txt(text)) == text``; an empty text is one empty string.
    """
    chunks, current, size = [], [], 0
    for char in text:
        length = len(char.encode("utf-8"))
        if size + length > TXT_STRING_MAX:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += length
    chunks.append("".join(current))
    return chunks


def _escape(chunk):
    out = []
    for char in chunk:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            # RFC 1035 5.1: \DDD, the decimal value of each byte.
            out.extend("\\%03d" % byte for byte in bytearray(char.encode("utf-8")))
    return "".join(out)


def quote_txt(text):
    """A TXT value in master-file syntax: quoted strings of at most 255 bytes, separated by a space.

    ``"`` and ``\\`` are escaped with a backslash, other characters than printable ASCII as ``\\DDD``.
    This is also the form that ``community.general.nsupdate`` (dnspython) takes as is.
    """
    return " ".join('"%s"' % _escape(chunk) for chunk in split_txt(text))


def shorten(value, width):
    """``value`` shortened in the middle to ``width`` characters (``...`` marks the cut); width 0: as it is."""
    if not width or len(value) <= width:
        return value
    width = max(width, 9)
    head = (width - 3) // 2
    tail = width - 3 - head
    return value[:head] + "..." + value[-tail:]


# --------------------------------------------------------------------------
# Merging the hosts' records
# --------------------------------------------------------------------------

def _record(raw, where):
    if not isinstance(raw, dict):
        raise DnsRecordsError("%s: a record is a dict {domain, name, type, value, ttl, state}, not %r" % (where, raw))
    name = normalise_name(raw.get("name"), where + ": name")
    domain = normalise_name(raw.get("domain", name), where + ": domain")
    rtype = raw.get("type")
    rtype = rtype.upper() if isinstance(rtype, str) else rtype
    if rtype not in TYPES:
        raise DnsRecordsError("%s: type %r is not one of %s" % (where, raw.get("type"), ", ".join(TYPES)))
    state = raw.get("state", "present")
    if state not in STATES:
        raise DnsRecordsError("%s: state %r is not one of %s" % (where, state, ", ".join(STATES)))
    ttl = raw.get("ttl")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 2147483647:
        raise DnsRecordsError("%s: ttl %r is not a TTL in seconds" % (where, ttl))
    value = raw.get("value")
    if state == "absent":
        value = None
    elif not isinstance(value, str):
        raise DnsRecordsError("%s: %s %s has no value" % (where, name, rtype))
    elif rtype == "MX":
        match = _MX_RE.match(value.strip().lower())
        if not match or int(match.group(1)) > 65535:
            raise DnsRecordsError("%s: MX value %r is not 'PREFERENCE TARGET.' (e.g. 10 mx1.example.org.)" % (where, value))
        value = "%d %s" % (int(match.group(1)), match.group(2))
    return {"domain": domain, "name": name, "type": rtype, "value": value, "ttl": ttl, "state": state}


def _hosts(hosts):
    hosts = sorted(set(hosts))
    return hosts[0] if len(hosts) == 1 else ", ".join(hosts[:-1]) + " and " + hosts[-1]


def _txt_conflict(name, values):
    """The message for two different values of a TXT record that must be unique: values = [(value, hosts)]."""
    (first, first_hosts), (second, second_hosts) = values[:2]
    a, b = _hosts(first_hosts), _hosts(second_hosts)
    shown = "%s gives %r, %s gives %r" % (a, shorten(first, 60), b, shorten(second, 60))
    if "._domainkey." in name:
        selector, domain = name.split("._domainkey.", 1)
        return ("DKIM selector %s of %s: %s and %s have different keys for it (%s); a selector has one key: give each "
                "host its own selector" % (selector, domain, a, b, shown))
    if name.startswith("_dmarc."):
        return ("%s TXT: %s and %s want different DMARC records (%s); a domain has one DMARC record (RFC 7489 6.6.3): "
                "make the hosts agree" % (name, a, b, shown))
    if first.lower().startswith("v=spf1") or second.lower().startswith("v=spf1"):
        return ("%s TXT: %s and %s want different SPF records (%s); a name has at most one SPF record (RFC 7208 3.2): "
                "make the hosts agree" % (name, a, b, shown))
    return "%s TXT: %s and %s want different values (%s); the record must be unique" % (name, a, b, shown)


def merge(results):
    """The records of several hosts, per domain: ``{domain: [records, sorted]}``.

    ``results`` is a list of ``{host, records}`` (the inventory host and the ``records`` that
    ``dns_records_info`` returned for it). A record that several hosts give is listed once, with all of them in
    ``hosts``. Every TXT record of the collection is unique per name (SPF, DMARC, one DKIM selector, the SRS
    domain's SPF): two different values are an error, naming both hosts, as is a name and type that one host
    publishes and another deletes, and two preferences for one MX target. An RRset has one TTL (RFC 2181 5.2):
    the smallest the hosts give. A record goes to the most specific domain that has an MX record among all
    hosts' records (so the SRS domain ``mx1.example.org`` goes with ``example.org``), else to its own domain.
    """
    if results is None:
        results = []
    if not isinstance(results, list):
        raise DnsRecordsError("the input must be a list of {host, records}, not %r" % (type(results).__name__,))
    rrsets = {}  # (name, type) -> [(host, record)]
    order = []
    for index, result in enumerate(results):
        if not isinstance(result, dict) or "host" not in result or "records" not in result:
            raise DnsRecordsError("item %d: must be {host, records}, not %r" % (index, result))
        host = result["host"]
        if not isinstance(host, str) or not host:
            raise DnsRecordsError("item %d: host must be the inventory name, not %r" % (index, host))
        records = result["records"] or []
        if not isinstance(records, list):
            raise DnsRecordsError("host %s: records must be a list, not %r" % (host, records))
        for number, raw in enumerate(records):
            record = _record(raw, "host %s, record %d" % (host, number))
            key = (record["name"], record["type"])
            if key not in rrsets:
                rrsets[key] = []
                order.append(key)
            rrsets[key].append((host, record))

    apexes = set(name for (name, rtype) in order if rtype == "MX" and any(r["state"] == "present" for _h, r in rrsets[(name, rtype)]))
    merged = {}
    for key in order:
        name, rtype = key
        entries = rrsets[key]
        present = [(h, r) for h, r in entries if r["state"] == "present"]
        absent = [(h, r) for h, r in entries if r["state"] == "absent"]
        if present and absent:
            raise DnsRecordsError(
                "%s %s: %s publish%s it and %s delete%s it (a retired DKIM selector?); a selector that one host "
                "retired must not be in use on another: give each host its own selector"
                % (name, rtype, _hosts(h for h, _r in present), "es" if len(set(h for h, _r in present)) == 1 else "",
                   _hosts(h for h, _r in absent), "s" if len(set(h for h, _r in absent)) == 1 else ""))
        ttl = min(r["ttl"] for _h, r in entries)
        domains = [r["domain"] for _h, r in entries]
        candidates = [a for a in apexes if is_within(name, a)]
        domain = max(candidates, key=len) if candidates else max(domains, key=len)
        if absent:
            out = [{"domain": domain, "name": name, "type": rtype, "value": None, "ttl": ttl, "state": "absent",
                    "hosts": sorted(set(h for h, _r in absent))}]
        else:
            values = []  # [(value, [hosts])], in order of appearance
            for host, record in present:
                for known in values:
                    if known[0] == record["value"]:
                        known[1].append(host)
                        break
                else:
                    values.append((record["value"], [host]))
            if rtype == "TXT" and len(values) > 1:
                raise DnsRecordsError(_txt_conflict(name, values))
            if rtype == "MX":
                targets = {}
                for value, hosts in values:
                    target = value.split(" ", 1)[1]
                    if target in targets:
                        other, other_hosts = targets[target]
                        raise DnsRecordsError(
                            "%s MX: %s gives %r and %s gives %r: one target with two preferences (is %s hosted on one "
                            "host and backed up on another that has the same myhostname?)"
                            % (name, _hosts(other_hosts), other, _hosts(hosts), value, name))
                    targets[target] = (value, hosts)
            out = [{"domain": domain, "name": name, "type": rtype, "value": value, "ttl": ttl, "state": "present",
                    "hosts": sorted(set(hosts))} for value, hosts in values]
        merged.setdefault(domain, []).extend(out)
    mta_sts_records(results, merged)
    return dict((domain, sorted(merged[domain], key=record_key)) for domain in sorted(merged, key=name_key))


# --------------------------------------------------------------------------
# MTA-STS (RFC 8461) and TLS reporting (RFC 8460)
# --------------------------------------------------------------------------

MTA_STS_MODES = ("none", "testing", "enforce")
# RFC 8461 3.2: max_age at most 31557600 seconds (a year).
MTA_STS_MAX_AGE = 31557600
# RFC 8460 3: rua is one or more mailto: or https: URIs, separated by commas.
_RUA_RE = re.compile(r"^(?:mailto:[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+|https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?)"
                     r"(?:,(?:mailto:[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+|https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?"
                     r"(?:/[A-Za-z0-9._~/-]*)?))*$")


def check_mta_sts(settings, where):
    """``settings`` ({mode, max_age, rua}) checked: (mode, max_age, rua); raises DnsRecordsError naming ``where``."""
    if not isinstance(settings, dict):
        raise DnsRecordsError("%s: mta_sts must be {mode, max_age, rua}, not %r" % (where, settings))
    mode, max_age, rua = settings.get("mode", "none"), settings.get("max_age", 604800), settings.get("rua") or ""
    if mode not in MTA_STS_MODES:
        raise DnsRecordsError("%s: MTA-STS mode %r is not one of %s" % (where, mode, ", ".join(MTA_STS_MODES)))
    if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 <= max_age <= MTA_STS_MAX_AGE:
        raise DnsRecordsError("%s: MTA-STS max_age %r is not a number of seconds up to %d (RFC 8461)"
                              % (where, max_age, MTA_STS_MAX_AGE))
    if not isinstance(rua, str) or (rua and not _RUA_RE.match(rua)):
        raise DnsRecordsError("%s: TLS report address %r is not mailto:ADDRESS or an https:// URL (several: "
                              "comma-separated, RFC 8460)" % (where, rua))
    return mode, max_age, rua


def mta_sts_policy(mode, targets, max_age):
    """The policy file (RFC 8461 3.2, CRLF lines) for the MX ``targets`` (names without the final dot)."""
    lines = ["version: STSv1", "mode: %s" % mode] + ["mx: %s" % t for t in sorted(set(targets))]
    return "\r\n".join(lines + ["max_age: %d" % max_age]) + "\r\n"


def mta_sts_id(policy):
    """The policy's id for the _mta-sts record: changes whenever the policy does (1 to 32 letters and digits)."""
    return hashlib.sha256(policy.encode("utf-8")).hexdigest()[:32]


def mta_sts_records(results, merged):
    """Add to ``merged`` the _mta-sts and _smtp._tls TXT records of the domains whose hosts ask for them.

    Each result may carry ``mta_sts`` ({mode, max_age, rua}, the host's settings) and ``mta_sts_domains`` (the
    domains it hosts). All hosts of a domain must agree (else an error naming both). The policy lists every MX
    target of the domain in the merged records (the primaries' and the backups'), so its id changes when an MX
    is added or removed; the _mta-sts record carries the policy text in ``policy`` (the file to serve at
    https://mta-sts.DOMAIN/.well-known/mta-sts.txt).
    """
    wanted = {}  # domain -> (settings, [hosts])
    for result in results:
        if result.get("mta_sts") is None:
            continue
        host = result["host"]
        settings = check_mta_sts(result["mta_sts"], "host %s" % host)
        for domain in result.get("mta_sts_domains") or []:
            domain = normalise_name(domain, "host %s: mta_sts_domains" % host)
            if domain in wanted and wanted[domain][0] != settings:
                shown = ["mode %s, max_age %d, rua %r" % given for given in (wanted[domain][0], settings)]
                raise DnsRecordsError(
                    "%s: %s and %s want different MTA-STS or TLS report settings (%s against %s); the hosts of a "
                    "domain publish one policy: make them agree"
                    % (domain, _hosts(wanted[domain][1]), host, shown[0], shown[1]))
            wanted.setdefault(domain, (settings, []))[1].append(host)
    for domain, ((mode, max_age, rua), hosts) in sorted(wanted.items()):
        mx = [r for r in merged.get(domain, []) if r["type"] == "MX" and r["name"] == domain and r["state"] == "present"]
        if not mx:
            continue
        ttl = min(r["ttl"] for r in mx)
        records = merged[domain]
        if mode != "none":
            policy = mta_sts_policy(mode, [r["value"].split(" ", 1)[1].rstrip(".") for r in mx], max_age)
            records.append({"domain": domain, "name": "_mta-sts." + domain, "type": "TXT",
                            "value": "v=STSv1; id=%s" % mta_sts_id(policy), "ttl": ttl, "state": "present",
                            "hosts": sorted(set(hosts)), "policy": policy})
        if rua:
            records.append({"domain": domain, "name": "_smtp._tls." + domain, "type": "TXT",
                            "value": "v=TLSRPTv1; rua=%s" % rua, "ttl": ttl, "state": "present",
                            "hosts": sorted(set(hosts))})


# --------------------------------------------------------------------------
# Renderings
# --------------------------------------------------------------------------

def _check_merged(merged):
    if merged is None:
        return {}
    if not isinstance(merged, dict):
        raise DnsRecordsError("the input must be the output of dns_records_merge ({domain: [records]}), not %r"
                              % (type(merged).__name__,))
    out = {}
    for domain, records in merged.items():
        if not isinstance(records, list):
            raise DnsRecordsError("%s: the records must be a list, not %r" % (domain, records))
        checked = []
        for number, raw in enumerate(records):
            record = _record(raw, "%s, record %d" % (domain, number))
            record["hosts"] = list(raw.get("hosts") or [])
            checked.append(record)
        out[normalise_name(domain, "domain")] = checked
    return out


def _columns(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip() for row in rows]


def table(merged, width=TABLE_WIDTH):
    """The merged records as a plain text table, one block per domain: name, type, TTL, value.

    A value longer than ``width`` characters (a DKIM key) is shortened in the middle, and a last line says so;
    ``width`` 0 shows every value in full. A record to delete shows ``(delete)`` as its value.
    """
    merged = _check_merged(merged)
    if not merged:
        return "No DNS records: no host of the play has DNS records of mail authentication.\n"
    if isinstance(width, bool) or not isinstance(width, int) or width < 0:
        raise DnsRecordsError("width must be a number of characters (0: no limit), not %r" % (width,))
    header = ("NAME", "TYPE", "TTL", "VALUE")
    blocks, cut = [], False
    rows = [header]
    for domain, records in merged.items():
        for record in records:
            if record["state"] == "absent":
                rows.append((record["name"], record["type"], "-", "(delete)"))
                continue
            shown = shorten(record["value"], width)
            cut = cut or shown != record["value"]
            rows.append((record["name"], record["type"], str(record["ttl"]), shown))
    lines = _columns(rows)
    hosts = sorted(set(h for records in merged.values() for r in records for h in r["hosts"]))
    out = ["DNS records of %d domain%s (from %s)" % (len(merged), "" if len(merged) == 1 else "s", _hosts(hosts) if hosts else "no host")]
    position = 1
    for domain, records in merged.items():
        blocks.append("")
        blocks.append("%s:" % domain)
        blocks.append("  " + lines[0])
        blocks.extend("  " + line for line in lines[position:position + len(records)])
        position += len(records)
    out.extend(blocks)
    if cut:
        out.append("")
        out.append("Values longer than %d characters are shortened in the middle (...); the zone fragments and the "
                   "DNS updates carry them in full." % width)
    return "\n".join(out) + "\n"


def zone_fragment(merged, domain):
    """The records of ``domain`` as a zone-file fragment (RFC 1035 master file syntax).

    Absolute names with the trailing dot, ``TTL IN TYPE value``; a TXT value as quoted strings of at most 255
    bytes (:func:`quote_txt`). A record to delete is a comment line ``; deleted: NAME. TYPE``.
    """
    merged = _check_merged(merged)
    domain = normalise_name(domain, "domain")
    if domain not in merged:
        raise DnsRecordsError("no records of %s (the merged records have %s)" % (domain, ", ".join(merged) or "no domain"))
    records = merged[domain]
    hosts = sorted(set(h for r in records for h in r["hosts"]))
    lines = ["; DNS records of %s, made by vhosting.postfix from the mail host%s %s." % (
        domain, "" if len(hosts) == 1 else "s", _hosts(hosts) if hosts else "(none named)"),
        "; Absolute names; TXT values in strings of at most 255 bytes."]
    rows = [(r["name"] + ".", str(r["ttl"]), "IN", r["type"], r["value"] if r["type"] == "MX" else quote_txt(r["value"]))
            for r in records if r["state"] == "present"]
    if rows:
        lines.extend(_columns(rows))
    lines.extend("; deleted: %s. %s" % (r["name"], r["type"]) for r in records if r["state"] == "absent")
    return "\n".join(lines) + "\n"


def _keep(keep):
    """``keep`` as {(name, type): [values]}."""
    out = {}
    if keep is None:
        return out
    if not isinstance(keep, list):
        raise DnsRecordsError("keep must be a list of {name, type, value}, not %r" % (keep,))
    for number, raw in enumerate(keep):
        if not isinstance(raw, dict):
            raise DnsRecordsError("keep[%d] must be {name, type, value}, not %r" % (number, raw))
        item = dict(raw, state="present", ttl=0, domain=raw.get("name"))
        record = _record(item, "keep[%d]" % number)
        out.setdefault((record["name"], record["type"]), []).append(record["value"])
    return out


def nsupdate_items(merged, zones=None, keep=None):
    """The arguments of ``community.general.nsupdate`` for the merged records: one item per RRset.

    Each item is ``{zone, record, type, value, ttl, state}``: ``record`` is absolute (with the trailing dot,
    which the module takes as it is, also at the zone apex), ``value`` is a list - every MX value of the name
    (the module replaces the whole RRset), or the TXT value quoted and split into strings of at most 255 bytes
    (:func:`quote_txt`; dnspython reads that form as one record of several strings); an RRset to delete has
    ``state: absent`` and an empty ``value``. ``zone`` is the longest of ``zones`` that the name is within,
    else the record's domain. ``keep``: other records ``{name, type, value}`` (plain values, as in the merged
    records) that stay in the RRsets the update replaces - a site-verification TXT record at a domain's apex,
    the MX of a backup that this collection does not manage; a second SPF record there is an error.
    """
    merged = _check_merged(merged)
    if zones is None:
        zones = []
    if not isinstance(zones, list):
        raise DnsRecordsError("zones must be a list of zone names, not %r" % (zones,))
    zones = [normalise_name(zone, "zones[%d]" % i) for i, zone in enumerate(zones)]
    kept = _keep(keep)
    items = []
    for domain, records in merged.items():
        rrsets, order = {}, []
        for record in records:
            key = (record["name"], record["type"])
            if key not in rrsets:
                rrsets[key] = []
                order.append(key)
            rrsets[key].append(record)
        for name, rtype in order:
            rrset = rrsets[(name, rtype)]
            within = [zone for zone in zones if is_within(name, zone)]
            item = {"zone": max(within, key=len) if within else domain, "record": name + ".", "type": rtype,
                    "ttl": min(r["ttl"] for r in rrset)}
            if rrset[0]["state"] == "absent":
                item.update(value=[], state="absent")
                items.append(item)
                continue
            values = [r["value"] for r in rrset]
            extra = [v for v in kept.get((name, rtype), []) if v not in values]
            if rtype == "TXT":
                spf = [v for v in values + extra if v.lower().startswith("v=spf1")]
                if len(spf) > 1:
                    raise DnsRecordsError("%s TXT: keep has a second SPF record (%r); a name has at most one SPF "
                                          "record (RFC 7208 3.2)" % (name, shorten(spf[1], 60)))
                value = [quote_txt(v) for v in values + extra]
            else:
                value = sorted(values + extra, key=lambda v: (int(v.split(" ", 1)[0]), v))
            item.update(value=value, state="present")
            items.append(item)
    return items
