# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup MX and transit relaying: the pure logic of the ``vhosting.postfix.relay`` role.

Used on the control node by the filters of ``plugins/filter/relay.py``:

* :func:`expand_backup_for` turns ``vhosting_relay__backup_for`` (inventory
  host and group names) into the list of primary hosts;
* :func:`relay_model` turns the primaries' hosted domains (their
  ``vhosting_domain__*`` inventory variables, through the hosted-domain model
  of ``_domains``) and the explicit ``vhosting_relay__backup_domains`` into the
  contents of ``relay_domains``, ``relay_recipient_maps`` and ``transport_maps``;
* :func:`check_relayhost`, :func:`check_restrictions` and
  :func:`queue_parameters` validate the other settings;
* :func:`local_names_from_results` parses what the relay role read from each
  primary with canonical domains (``getent passwd`` and its alias source
  files, see :func:`alias_file_names`), and :func:`defer_entries` gives the
  defer table (450) for the canonical domains of the primaries it could not read.

Everything is validated before anything is returned; errors name the
variable and the entry at fault.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re

from ansible_collections.vhosting.postfix.plugins.plugin_utils._address import is_hostname
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay_policy import ALWAYS_OPEN
from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import (
    DomainModelError,
    domain_model,
    normalise_address,
    normalise_domain,
    normalise_local_part,
)


class RelayError(ValueError):
    """The relay configuration is invalid."""


_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_TRANSPORT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_TIME_RE = re.compile(r"^(\d+)([smhdw]?)$")
_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# Queue parameters a backup MX exposes, in the order they are documented.
QUEUE_PARAMETERS = (
    "maximal_queue_lifetime",
    "bounce_queue_lifetime",
    "minimal_backoff_time",
    "maximal_backoff_time",
    "queue_run_delay",
)

# Keys that postalias writes into every alias database for sendmail/NIS
# compatibility; they are no recipients (Postfix refuses them).
ALIAS_DB_INTERNAL_KEYS = frozenset(("@", "YP_LAST_MODIFIED", "YP_MASTER_NAME"))


def _is_ip(text):
    if _IPV4_RE.match(text):
        return all(int(part) <= 255 for part in text.split("."))
    if text.lower().startswith("ipv6:"):
        text = text[5:]
    return ":" in text and re.match(r"^[0-9a-f:.]+$", text.lower()) is not None


def check_host(value, where):
    """A host name or IP address (no brackets) in lower case, or raise."""
    if not isinstance(value, str) or not value.strip():
        raise RelayError("%s: expected a host name or IP address, got %r" % (where, value))
    text = value.strip().rstrip(".").lower()
    if _is_ip(text) or is_hostname(text, underscore=True):
        return text
    raise RelayError("%s: %r is not a valid host name or IP address" % (where, value))


def check_nexthop(value, where):
    """A Postfix next hop: ``host``, ``host:port``, ``[host]`` or ``[host]:port``.

    ``[host]`` means "this host, no MX lookup"; a bare name means "look up its
    MX records". Returns the next hop with the host in lower case.
    """
    if not isinstance(value, str) or not value.strip():
        raise RelayError("%s: expected a next hop such as [mx1.example.org] or [mx1.example.org]:25, got %r"
                         % (where, value))
    text = value.strip()
    match = re.match(r"^\[([^\]]+)\](?::(\d+))?$", text)
    if match:
        host, port, bracket = match.group(1), match.group(2), True
    else:
        if text.count(":") == 1:
            host, port = text.split(":")
        else:
            host, port = text, None
        bracket = False
    try:
        host = check_host(host, where)
    except RelayError:
        raise RelayError("%s: %r is not a valid next hop (host, host:port, [host] or [host]:port)" % (where, value))
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise RelayError("%s: %r has an invalid port" % (where, value))
    result = "[%s]" % host if bracket else host
    return result if port is None else "%s:%s" % (result, int(port))


def check_transport(value, where):
    """A transport table value: ``transport:nexthop``, ``transport:`` or ``:nexthop``."""
    if not isinstance(value, str) or ":" not in value or re.search(r"[\s,]", value.strip()):
        raise RelayError("%s: %r is not a transport table value (transport:nexthop, e.g. smtp:[mx.example.net]:25)"
                         % (where, value))
    transport, nexthop = value.strip().split(":", 1)
    if transport and not _TRANSPORT_NAME_RE.match(transport):
        raise RelayError("%s: %r: %r is not a master.cf service name" % (where, value, transport))
    if not transport and not nexthop:
        raise RelayError("%s: %r names neither a transport nor a next hop" % (where, value))
    if nexthop and not nexthop.startswith("unix:") and not nexthop.startswith("inet:"):
        nexthop = check_nexthop(nexthop, where)
    return "%s:%s" % (transport.lower(), nexthop)


def _transport_key(value, where):
    """A transport table key: domain, .domain (its subdomains), user@domain or *."""
    if value == "*":
        return value
    if isinstance(value, str) and value.startswith("."):
        return "." + normalise_domain(value[1:], where)
    if isinstance(value, str) and "@" in value:
        return normalise_address(value, where)
    return normalise_domain(value, where)


def expand_backup_for(entries, groups, self_host=None, where="vhosting_relay__backup_for"):
    """Inventory host and group names -> list of ``{host, nexthop}`` (nexthop None when not given).

    Entries are strings (a host or a group of the inventory) or dicts
    ``{name, nexthop}``. ``groups`` is Ansible's ``groups`` (group -> hosts,
    with ``all``). The host running the role (``self_host``) is skipped, so
    that hosts of one group can back each other up.
    """
    if entries is None:
        return []
    if not isinstance(entries, (list, tuple)):
        raise RelayError("%s: expected a list of inventory host or group names, got %r" % (where, entries))
    all_hosts = list(groups.get("all", []))
    result, seen = [], {}
    for index, entry in enumerate(entries):
        item_where = "%s[%d]" % (where, index)
        nexthop = None
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - set(("name", "nexthop")))
            if unknown:
                raise RelayError("%s: unknown key(s) %s (known: name, nexthop)" % (item_where, ", ".join(unknown)))
            name = entry.get("name")
            if entry.get("nexthop") is not None:
                nexthop = check_nexthop(entry["nexthop"], item_where)
        else:
            name = entry
        if not isinstance(name, str) or not name:
            raise RelayError("%s: expected an inventory host or group name, got %r" % (item_where, name))
        if name in groups:
            hosts = list(groups[name])
            if not hosts:
                raise RelayError("%s: group %r has no hosts" % (item_where, name))
            if nexthop is not None and len([h for h in hosts if h != self_host]) > 1:
                raise RelayError("%s: a nexthop can only be given for a single host, but group %r has several"
                                 % (item_where, name))
        elif name in all_hosts:
            hosts = [name]
        else:
            raise RelayError("%s: %r is neither a host nor a group of the inventory" % (item_where, name))
        for host in hosts:
            if host == self_host:
                continue
            if host in seen:
                if nexthop is not None and seen[host]["nexthop"] not in (None, nexthop):
                    raise RelayError("%s: host %r is listed twice with different next hops (%s, %s)"
                                     % (item_where, host, seen[host]["nexthop"], nexthop))
                if nexthop is not None:
                    seen[host]["nexthop"] = nexthop
                continue
            seen[host] = {"host": host, "nexthop": nexthop}
            result.append(seen[host])
    return result


def _recipients(domain, values, where):
    """Explicit recipients of a backup domain -> sorted keys (``@domain`` alone for any address)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise RelayError("%s: 'recipients' must be a non-empty list of addresses or local parts "
                         "(or '@%s' to accept any address)" % (where, domain))
    keys = set()
    for value in values:
        if not isinstance(value, str):
            raise RelayError("%s: recipient %r is not a string" % (where, value))
        text = value.strip().lower()
        try:
            if text.startswith("@"):
                if normalise_domain(text[1:], where) != domain:
                    raise RelayError("%s: %r is not in the domain %s" % (where, value, domain))
                keys.add("@" + domain)
            elif "@" in text:
                address = normalise_address(text, where)
                if address.split("@", 1)[1] != domain:
                    raise RelayError("%s: recipient %r is not in the domain %s" % (where, value, domain))
                keys.add(address)
            else:
                keys.add("%s@%s" % (normalise_local_part(text, where), domain))
        except DomainModelError as exc:
            raise RelayError(str(exc))
    if "@" + domain in keys:
        return ["@" + domain]
    return sorted(keys)


def relay_model(primaries, explicit=None, transport=None, local_domains=None, transport_name="relay"):
    """The backup MX and transport configuration.

    ``primaries``: list of ``{host, nexthop, definitions, options}``: the
    primary's inventory name, the next hop that reaches it (e.g.
    ``[mx1.example.org]``), its ``vhosting_domain__*`` variables (name ->
    definition) and the options of its hosted-domain model (None values
    mean the defaults).
    ``explicit``: ``vhosting_relay__backup_domains``, a list of ``{domain,
    nexthop | primary, recipients}``; an explicit domain replaces a derived one.
    ``transport``: further transport table entries, key -> ``transport:nexthop``.
    ``local_domains``: domains this host delivers itself (never relayed).

    Returns ``relay_domains`` (sorted), ``relay_recipients`` (key -> ``OK``),
    ``transport_map`` (key -> value) and ``domains`` (domain -> {source,
    nexthop, recipients}) for reports.
    """
    if not _TRANSPORT_NAME_RE.match(str(transport_name or "")):
        raise RelayError("vhosting_relay__transport_name: %r is not a master.cf service name" % (transport_name,))
    local = set()
    for value in local_domains or []:
        if isinstance(value, str) and value.strip() and "$" not in value:
            local.add(value.strip().rstrip(".").lower())

    domains = _derived_domains(primaries)
    domains.update(_explicit_domains(explicit))
    for domain in sorted(domains):
        if domain in local:
            raise RelayError("%s: domain %s is hosted on this host itself; a host cannot be its own backup MX"
                             % (domains[domain]["source"], domain))

    relay_recipients = {}
    for domain in sorted(domains):
        for key in domains[domain]["recipients"]:
            relay_recipients[key] = "OK"

    return {
        "relay_domains": sorted(domains),
        "relay_recipients": relay_recipients,
        "transport_map": _transport_map(domains, transport, transport_name),
        "domains": dict(sorted(domains.items())),
    }


def _derived_domains(primaries):
    """Domain -> {source, nexthop, recipients, canonical} from the primaries' own domain models."""
    domains = {}
    for primary in primaries or []:
        host = primary.get("host")
        where = "vhosting_relay__backup_for: primary %s" % host
        nexthop = check_nexthop(primary.get("nexthop"), where + " (next hop)")
        definitions = primary.get("definitions") or {}
        if not isinstance(definitions, dict):
            raise RelayError("%s: its vhosting_domain__* variables are not a mapping" % where)
        if not definitions:
            raise RelayError("%s: the host has no vhosting_domain__* variables, so there is nothing to relay for it"
                             % where)
        options = dict((k, v) for k, v in (primary.get("options") or {}).items() if v is not None)
        try:
            model = domain_model(definitions, options)
        except DomainModelError as exc:
            raise RelayError("%s: %s" % (where, exc))
        for domain, recipients in sorted(model["recipients"].items()):
            if domain in domains:
                raise RelayError("%s: domain %s is also hosted on %s; a domain has one primary"
                                 % (where, domain, domains[domain]["source"]))
            domains[domain] = {
                "source": "host %s" % host,
                "nexthop": nexthop,
                "recipients": list(recipients),
                # A canonical domain's recipients are the primary's UNIX accounts and
                # /etc/aliases names; the relay role reads them from the primary.
                "canonical": model["domains"][domain]["class"] == "canonical",
            }
    return domains


def _explicit_domains(explicit):
    """Domain -> {source, nexthop, recipients, canonical} from vhosting_relay__backup_domains."""
    if explicit is None:
        explicit = []
    if not isinstance(explicit, (list, tuple)):
        raise RelayError("vhosting_relay__backup_domains: expected a list, got %r" % (explicit,))
    domains = {}
    seen = {}
    for index, entry in enumerate(explicit):
        where = "vhosting_relay__backup_domains[%d]" % index
        if not isinstance(entry, dict):
            raise RelayError("%s: expected a dict {domain, nexthop or primary, recipients}, got %r" % (where, entry))
        unknown = sorted(set(entry) - set(("domain", "nexthop", "primary", "recipients", "description")))
        if unknown:
            raise RelayError("%s: unknown key(s) %s (known: domain, nexthop, primary, recipients, description)"
                             % (where, ", ".join(unknown)))
        try:
            domain = normalise_domain(entry.get("domain"), where)
        except DomainModelError as exc:
            raise RelayError(str(exc))
        where = "%s (domain %s)" % (where, domain)
        if domain in seen:
            raise RelayError("%s: the domain is already listed in vhosting_relay__backup_domains[%d]"
                             % (where, seen[domain]))
        seen[domain] = index
        if (entry.get("nexthop") is None) == (entry.get("primary") is None):
            raise RelayError("%s: give exactly one of 'nexthop' (e.g. [mx1.example.org]:25) or 'primary' "
                             "(the primary's host name)" % where)
        if entry.get("primary") is not None:
            nexthop = "[%s]" % check_host(entry["primary"], where)
        else:
            nexthop = check_nexthop(entry["nexthop"], where)
        domains[domain] = {
            "source": where.split(" ", 1)[0],
            "nexthop": nexthop,
            "recipients": _recipients(domain, entry.get("recipients"), where),
            "canonical": False,
        }
    return domains


def _transport_map(domains, transport, transport_name):
    """Transport entries: each relayed domain to its primary, then vhosting_relay__transport."""
    transport_map = {}
    for domain in sorted(domains):
        transport_map[domain] = "%s:%s" % (transport_name, domains[domain]["nexthop"])
    if transport is None:
        transport = {}
    if not isinstance(transport, dict):
        raise RelayError("vhosting_relay__transport: expected a dict key -> transport:nexthop, got %r" % (transport,))
    for key, value in sorted(transport.items(), key=lambda kv: str(kv[0])):
        where = "vhosting_relay__transport[%r]" % (key,)
        try:
            normal = _transport_key(key, where)
        except DomainModelError as exc:
            raise RelayError(str(exc))
        if normal in transport_map:
            raise RelayError("%s: %s is a backup MX domain (%s); its transport is derived from its primary"
                             % (where, normal, domains[normal]["source"]) if normal in domains else
                             "%s: %s is listed twice (keys are case-insensitive)" % (where, normal))
        transport_map[normal] = check_transport(value, where)
    return dict(sorted(transport_map.items()))


def check_relayhost(value, where="vhosting_relay__relayhost"):
    """The smarthost (main.cf relayhost): empty, or a next hop; returns it normalised."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RelayError("%s: expected a string such as [smtp.example.net]:587, got %r" % (where, value))
    if not value.strip():
        return ""
    return check_nexthop(value, where)


def check_restrictions(values, where):
    """A list of smtpd restrictions to insert (e.g. permit_sasl_authenticated)."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise RelayError("%s: expected a list of restrictions, got %r" % (where, values))
    result = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or re.search(r"[,\n]", value):
            raise RelayError("%s: %r is not one restriction (a non-empty string without commas)" % (where, value))
        text = " ".join(value.split())
        # Named here, with the variable; the rest of the relay policy (elements that need the site's opt-in,
        # tables) is judged on the whole main.cf by _relay_policy.
        if text.split(" ", 1)[0].lower() in ALWAYS_OPEN:
            raise RelayError("%s: %r before reject_unauth_destination would make this host an open relay"
                             % (where, value))
        result.append(text)
    return result


def _seconds(value, name):
    text = str(value).strip().lower() if not isinstance(value, bool) else ""
    match = _TIME_RE.match(text)
    if not match:
        raise RelayError("vhosting_relay__%s: %r is not a Postfix time value (a number with an optional unit "
                         "s, m, h, d or w, e.g. 300s or 5d)" % (name, value))
    return int(match.group(1)) * _TIME_UNITS[match.group(2)], text


def queue_parameters(values):
    """Validate the backup MX queue settings (name -> time value); returns name -> normalised value."""
    if not isinstance(values, dict):
        raise RelayError("queue parameters: expected a dict, got %r" % (values,))
    unknown = sorted(set(values) - set(QUEUE_PARAMETERS))
    if unknown:
        raise RelayError("queue parameters: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(QUEUE_PARAMETERS)))
    seconds, result = {}, {}
    for name in QUEUE_PARAMETERS:
        if name in values:
            seconds[name], result[name] = _seconds(values[name], name)
    pairs = (("minimal_backoff_time", "maximal_backoff_time"),
             ("bounce_queue_lifetime", "maximal_queue_lifetime"))
    for low, high in pairs:
        if low in seconds and high in seconds and seconds[low] > seconds[high]:
            raise RelayError("vhosting_relay__%s (%s) is longer than vhosting_relay__%s (%s)"
                             % (low, result[low], high, result[high]))
    if seconds.get("maximal_queue_lifetime") == 0:
        raise RelayError("vhosting_relay__maximal_queue_lifetime: 0 would bounce every message that cannot be "
                         "delivered at once; a backup MX must hold mail while the primary is down")
    return result


def relay_recipients(model, local_names=None):
    """The relay_recipient_maps entries of a backup MX, canonical domains included.

    A primary accepts, in each of its canonical (mydestination) domains,
    every local name it has: UNIX accounts and /etc/aliases names (Postfix's
    default local_recipient_maps). ``local_names`` maps a primary's host
    name to those names (read from the primary by the relay role), so that
    the backup accepts exactly what the primary accepts; names that are no
    valid local part of an address are skipped. Returns key -> ``OK``, sorted.
    """
    entries = dict(model["relay_recipients"])
    for domain, info in model["domains"].items():
        if not info.get("canonical"):
            continue
        host = info["source"][len("host "):]
        for name in (local_names or {}).get(host) or []:
            try:
                local = normalise_local_part(str(name), "local name")
            except DomainModelError:
                continue
            entries["%s@%s" % (local, domain)] = "OK"
    return dict(sorted(entries.items()))


def alias_file_names(text):
    """The names an aliases(5) source file defines, lower case, in file order, each once.

    A logical line starts at a line that does not begin with whitespace;
    lines that begin with whitespace continue it, and empty lines and lines
    whose first non-blank character is ``#`` are comments. The name is the
    text before the first ``:``, or a double-quoted string (``"a b": x``,
    with backslash escapes) followed by ``:``. postalias folds names to
    lower case. Lines without a name and a colon are skipped, as postalias
    skips them (with a warning).
    """
    names, seen = [], set()
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line[0].isspace():
            continue
        name = _alias_line_name(line)
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name.lower())
    return names


def _alias_line_name(line):
    """The name of the first line of an alias entry, or None."""
    if not line.startswith('"'):
        name, colon, _value = line.partition(":")
        return name.strip() if colon else None
    chars, index = [], 1
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line):
            chars.append(line[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(chars) if line[index + 1:].lstrip().startswith(":") else None
        chars.append(char)
        index += 1
    return None


def passwd_names(text):
    """The account names of ``getent passwd`` output (the field before the first ``:`` of each line)."""
    names = []
    for line in text.splitlines():
        name = line.split(":", 1)[0].strip()
        if name and ":" in line and name not in names:
            names.append(name)
    return names


def _decode(data):
    try:
        return base64.b64decode(data.strip(), validate=True).decode("utf-8", "replace")
    except (ValueError, TypeError):
        raise RelayError("the output is not base64: %r" % data[:40])


def parse_local_names(output):
    """The local names a primary accepts, from the relay role's read of the primary.

    ``output`` is what the read task printed, one line per part, the text
    base64-encoded so that no file content can be taken for a line of the
    protocol: ``passwd <getent passwd>``, ``source <type:path> <alias source
    file>`` for each alias table of ``alias_maps`` that Postfix reads from a
    source file (indexed types and texthash), ``missing <type:path>`` when
    that source file does not exist, ``skipped <table>`` for other tables
    (pcre, ldap, ...: their names cannot be listed). Raises RelayError when
    the names cannot be known: a missing source, no passwd part, a line that
    is not one of these.
    """
    names, has_passwd = [], False
    for line in output.splitlines():
        if not line.strip():
            continue
        kind, _sep, rest = line.partition(" ")
        if kind == "passwd":
            names.extend(passwd_names(_decode(rest)))
            has_passwd = True
        elif kind == "source":
            _table, _sep, data = rest.partition(" ")
            names.extend(alias_file_names(_decode(data)))
        elif kind == "missing":
            raise RelayError("%s: the source file of this alias table does not exist" % rest.strip())
        elif kind != "skipped":
            raise RelayError("unexpected output line %r" % line[:60])
    if not has_passwd:
        raise RelayError("no list of UNIX accounts in the output")
    result = []
    for name in names:
        if name not in result and name not in ALIAS_DB_INTERNAL_KEYS:
            result.append(name)
    return result


def local_names_from_results(results):
    """Split the relay role's per-primary reads into names and failures.

    ``results`` are the loop results of the task that read each primary's
    local names (``item.key`` is the host; ``rc`` and ``stdout`` as
    registered, see :func:`parse_local_names`; unreachable hosts have no
    ``rc``). Returns ``{"names": {host: [names]}, "unread": [hosts],
    "reasons": {host: why it could not be read}}``.
    """
    names, reasons = {}, {}
    for result in results or []:
        host = (result.get("item") or {}).get("key")
        if result.get("unreachable"):
            reasons[host] = "unreachable: %s" % (result.get("msg") or "no connection")
        elif result.get("rc") != 0:
            reasons[host] = "the read failed (rc %s): %s" % (
                result.get("rc"), (result.get("stderr") or result.get("msg") or "").strip()[:200])
        else:
            try:
                names[host] = parse_local_names(result.get("stdout") or "")
            except RelayError as exc:
                reasons[host] = str(exc)
    return {"names": names, "unread": sorted(reasons), "reasons": dict(sorted(reasons.items()))}


# The reply of a backup MX for a canonical domain whose primary could not be read (the primary's name stays out of
# it: the reply goes to anyone on the Internet).
DEFER_REPLY = "450 4.3.0 recipients of %s are not known yet at this backup MX; try again later"


def defer_entries(canonical, unread):
    """The defer table: each canonical domain of a primary that could not be read -> a 450 reply.

    ``canonical`` maps a primary to its canonical domains (the relay model's
    ``canonical``), ``unread`` lists the primaries that could not be read.
    Their recipients are unknown, so the backup answers 450 (try again
    later) for the whole domain instead of refusing a valid recipient with
    550; an empty table when every primary was read.
    """
    entries = {}
    for host in sorted(set(str(h) for h in unread or ())):
        for domain in (canonical or {}).get(host) or ():
            entries[domain] = DEFER_REPLY % domain
    return dict(sorted(entries.items()))
