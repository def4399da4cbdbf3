# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and normalise Postfix network lists and cidr table keys.

The one CIDR implementation of the collection, on the Python standard
library (``ipaddress``): the ``mynetworks`` filter on the control node, the
lookup_table action plugin (cidr keys, control node) and the lookup_table
module (cidr keys, managed host) all use it.

A network list entry is an IPv4/IPv6 address or CIDR network, or a Postfix
lookup table reference (``cidr:/etc/postfix/clients``) passed through
unchanged. Nothing is widened silently: an entry with host bits set is
refused (with the network and the host it may have meant), and networks
wider than /8 (IPv4) or /32 (IPv6) are refused unless explicitly allowed.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

# The variable that allows networks wider than WIDE_PREFIX in mynetworks.
WIDE_OPT_IN = "vhosting_server__mynetworks_allow_wide"
# The widest networks accepted without the opt-in, per IP version.
WIDE_PREFIX = {4: 8, 6: 32}

_TABLE_REF = re.compile(r"^[a-z][a-z0-9_]*:(/|\w|\{)")
_IPV6_LITERAL = re.compile(r"^[0-9a-fA-F:]+(/\d+)?$")
_BRACKETED = re.compile(r"^\[([^\]]*)\](/[^/]*)?$")
_PREFIX = re.compile(r"^[0-9]{1,3}$")


class NetworkError(ValueError):
    """An entry of a network list is not a valid address or network."""


def _postfix_form(network):
    """A network as Postfix writes it: IPv6 as [addr]/len."""
    if network.version == 6:
        return "[%s]/%d" % (network.network_address, network.prefixlen)
    return "%s/%d" % (network.network_address, network.prefixlen)


def _parse(text):
    """(network, given_address) of an address or CIDR text, or raise ValueError with the reason.

    ``given_address`` is the address as written (before host bits are
    considered); a bare address is a network of its full prefix length.
    """
    candidate = text
    bracketed = _BRACKETED.match(candidate)
    if bracketed:
        candidate = bracketed.group(1) + (bracketed.group(2) or "")
    addr, slash, prefix = candidate.partition("/")
    if "%" in addr:
        raise ValueError("a zone index (%s) has no place in a network" % addr[addr.index("%"):])
    if slash and not _PREFIX.match(prefix):
        raise ValueError("prefix length %r is not a number" % prefix)
    address = ipaddress.ip_address(addr)  # strict: refuses shorthand such as "10/8" and leading zeros
    width = address.max_prefixlen
    length = int(prefix) if slash else width
    if length > width:
        raise ValueError("prefix length %d is longer than %d" % (length, width))
    return ipaddress.ip_network((address, length), strict=False), address


def _check(entry):
    """(network, text) of a network list entry or a cidr key, or raise NetworkError naming the entry."""
    if not isinstance(entry, str):
        raise NetworkError("entry %r is not a string" % (entry,))
    text = entry.strip()
    if not text:
        raise NetworkError("empty entry")
    try:
        network, address = _parse(text)
    except ValueError as exc:
        raise NetworkError("%r is not a valid IP address or CIDR network (%s)" % (entry, exc))
    if address != network.network_address:
        raise NetworkError("%r has host bits set; did you mean %s or the host %s?"
                           % (text, _postfix_form(network), _postfix_form(ipaddress.ip_network(address))))
    return network, text


def normalise_network(entry, what="mynetworks", allow_wide=False):
    """Return ``entry`` in the form Postfix expects, or raise NetworkError naming it.

    A bare address gets its full prefix length; IPv6 is written
    ``[addr]/len`` (``::1``, ``::1/128`` and ``[::1]/128`` give ``[::1]/128``);
    table references pass unchanged. Refused: host bits set
    (``192.168.1.10/8``: did you mean 192.0.0.0/8 or the host
    192.168.1.10/32?), shorthand (``10/8``), and, unless ``allow_wide``,
    networks wider than /8 (IPv4) or /32 (IPv6), which include 0.0.0.0/0
    and ::/0.
    """
    if isinstance(entry, str):
        text = entry.strip()
        if _TABLE_REF.match(text) and not _IPV6_LITERAL.match(text):
            return _table_reference(text, what, allow_wide)
    try:
        network, text = _check(entry)
    except NetworkError as exc:
        raise NetworkError("%s: %s" % (what, exc))
    widest = WIDE_PREFIX[network.version]
    if network.prefixlen < widest and not allow_wide:
        if network.prefixlen == 0:
            scope = "would trust every IPv%d address on the Internet to relay" % network.version
        else:
            scope = "is wider than /%d (2^%d addresses trusted to relay)" % (
                widest, network.max_prefixlen - network.prefixlen)
        raise NetworkError("%s: %r %s; refused unless %s: true" % (what, text, scope, WIDE_OPT_IN))
    return _postfix_form(network)


# Table types a network list may name: files of networks the operator keeps.
NETWORK_TABLE_TYPES = ("cidr", "lmdb", "hash", "btree", "cdb", "texthash")


def _table_reference(text, what, allow_wide):
    """A lookup table in a network list: an inline table's keys are checked like networks; a file table can hold
    any network (0.0.0.0/0 too) that this check cannot see, so it needs the same opt-in as a wide network; a
    table that answers for every client (static:, pcre:, regexp:, a database, a socketmap) is refused."""
    kind, _sep, rest = text.partition(":")
    if kind == "inline":
        body = rest.strip()
        if not (body.startswith("{") and body.endswith("}")):
            raise NetworkError("%s: %r is not an inline:{...} table" % (what, text))
        for item in re.split(r"[,\s]+", body[1:-1]):
            key = item.strip("{} ").partition("=")[0].strip()
            if key:
                normalise_network(key, "%s (in %s)" % (what, text), allow_wide)
        return text
    if kind in NETWORK_TABLE_TYPES:
        if not allow_wide:
            raise NetworkError("%s: %r is a table whose networks this check cannot see (it may hold 0.0.0.0/0); "
                               "refused unless %s: true" % (what, text, WIDE_OPT_IN))
        return text
    raise NetworkError("%s: %r is a %s: table, which can match every client on the Internet (static:all does); "
                       "list networks, or a file table (%s) with %s: true"
                       % (what, text, kind, ", ".join(NETWORK_TABLE_TYPES), WIDE_OPT_IN))


def normalise_networks(entries, what="mynetworks", allow_wide=False):
    """Normalise a list (or comma/space separated string) of networks, keeping order, dropping duplicates."""
    if entries is None:
        return []
    if isinstance(entries, str):
        entries = [e for e in re.split(r"[\s,]+", entries) if e]
    if not isinstance(entries, (list, tuple)):
        raise NetworkError("%s: expected a list of networks, got %s" % (what, type(entries).__name__))
    result = []
    for entry in entries:
        norm = normalise_network(entry, what, allow_wide)
        if norm not in result:
            result.append(norm)
    return result


def cidr_key(key):
    """Check a key of a Postfix cidr table; return the network it matches, written as Postfix does.

    A cidr key is an address or an address/prefix network without host bits
    (Postfix refuses those), IPv6 optionally in brackets. Any width is fine
    (``0.0.0.0/0 REJECT`` is a normal last rule). Raises NetworkError naming
    the key, e.g. ``'192.0.2.1/24' has host bits set; did you mean
    192.0.2.0/24 or the host 192.0.2.1/32?``.
    """
    return _postfix_form(_check(key)[0])
