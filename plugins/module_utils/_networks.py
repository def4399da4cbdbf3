# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and normalise Postfix network lists (mynetworks and friends).

Pure functions, used on the control node by the `mynetworks` filter. Each
entry is an IPv4/IPv6 address or CIDR network, or a Postfix lookup table
reference (``cidr:/etc/postfix/clients``) passed through unchanged.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_TABLE_REF = re.compile(r"^[a-z][a-z0-9_]*:(/|\w)")


class NetworkError(ValueError):
    """An entry of a network list is not a valid address or network."""


def _netaddr():
    try:
        import netaddr  # pylint: disable=import-outside-toplevel
    except ImportError as exc:  # pragma: no cover - exercised only without netaddr
        raise NetworkError("the netaddr Python library is required on the control node: %s" % exc)
    return netaddr


def normalise_network(entry, what="mynetworks"):
    """Return ``entry`` in the form Postfix expects, or raise NetworkError.

    ``10.1.2.3/8`` becomes ``10.0.0.0/8`` (Postfix rejects host bits);
    ``::1/128`` and ``[::1]/128`` become ``[::1]/128``; a bare address gets
    its full prefix length.
    """
    if not isinstance(entry, str):
        raise NetworkError("%s: entry %r is not a string" % (what, entry))
    text = entry.strip()
    if not text:
        raise NetworkError("%s: empty entry" % what)
    if _TABLE_REF.match(text) and not re.match(r"^[0-9a-fA-F:]+(/\d+)?$", text):
        return text
    candidate = text
    bracketed = re.match(r"^\[([^\]]+)\](/\d+)?$", candidate)
    if bracketed:
        candidate = bracketed.group(1) + (bracketed.group(2) or "")
    netaddr = _netaddr()
    addr, slash, prefix = candidate.partition("/")
    try:
        if slash and not prefix.isdigit():
            raise ValueError("prefix length %r is not a number" % prefix)
        ip = netaddr.IPAddress(addr)  # strict: rejects shorthand such as "10/8"
        width = 32 if ip.version == 4 else 128
        net = netaddr.IPNetwork("%s/%s" % (ip, prefix if slash else width))
        if net.prefixlen > width:
            raise ValueError("prefix length %s is longer than %d" % (prefix, width))
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise NetworkError("%s: %r is not a valid IP address or CIDR network (%s)" % (what, entry, exc))
    net = net.cidr
    if net.version == 6:
        return "[%s]/%d" % (net.network, net.prefixlen)
    return "%s/%d" % (net.network, net.prefixlen)


def normalise_networks(entries, what="mynetworks"):
    """Normalise a list (or comma/space separated string) of networks, keeping order, dropping duplicates."""
    if entries is None:
        return []
    if isinstance(entries, str):
        entries = [e for e in re.split(r"[\s,]+", entries) if e]
    if not isinstance(entries, (list, tuple)):
        raise NetworkError("%s: expected a list of networks, got %s" % (what, type(entries).__name__))
    result = []
    for entry in entries:
        norm = normalise_network(entry, what)
        if norm not in result:
            result.append(norm)
    return result
