# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKIM keys on the host: names, the public DNS record of a key, and which files a key set means (pure).

Used by the vhosting.postfix.dkim_keys module. A key of domain D and
selector S is two files under the key directory: ``D/S.private`` (the PEM
private key, 0640 root:opendkim) and ``D/S.txt`` (its DNS record value,
``v=DKIM1; k=rsa; p=...``, 0644).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re

# One lower-case DNS label: a selector (the collection's rule: one label, though RFC 6376 allows several).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
SELECTOR_RE = re.compile(r"^%s\Z" % _LABEL)
DOMAIN_RE = re.compile(r"^(?:%s\.)+%s\Z" % (_LABEL, _LABEL))
RECORD_RE = re.compile(r"^v=DKIM1; k=(rsa|ed25519); p=([A-Za-z0-9+/]+={0,2})\Z")
KEY_TYPES = ("rsa", "ed25519")
# The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 bytes of the key follow.
_ED25519_SPKI_PREFIX = bytes(bytearray([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]))


class DkimKeyError(ValueError):
    """A request the module refuses (bad name, a key of another type under a selector)."""


def check_key(spec):
    """{domain, selector, type, bits} checked with a strict character set (they become paths)."""
    domain, selector, kind = spec.get("domain"), spec.get("selector"), spec.get("type", "rsa")
    if not isinstance(domain, str) or len(domain) > 253 or not DOMAIN_RE.match(domain):
        raise DkimKeyError("domain %r is not a lower-case domain name" % (domain,))
    if not isinstance(selector, str) or not SELECTOR_RE.match(selector):
        raise DkimKeyError("selector %r of %s is not a DNS label (a-z, 0-9, inner hyphens)" % (selector, domain))
    if kind not in KEY_TYPES:
        raise DkimKeyError("selector %s of %s: key type %r is not one of %s" % (selector, domain, kind, ", ".join(KEY_TYPES)))
    bits = spec.get("bits") or 2048
    if kind == "rsa" and not 1024 <= int(bits) <= 4096:
        raise DkimKeyError("selector %s of %s: an RSA key of %s bits (1024 to 4096)" % (selector, domain, bits))
    return {"domain": domain, "selector": selector, "type": kind, "bits": int(bits)}


def pem_body(pem):
    """The DER bytes of a PEM text (its first block)."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    if not lines or not lines[0].startswith("-----BEGIN ") or not lines[-1].startswith("-----END "):
        raise DkimKeyError("not a PEM public key")
    return base64.b64decode("".join(lines[1:-1]))


def record(kind, public_pem):
    """The DKIM TXT record value of a public key (PEM SubjectPublicKeyInfo): RFC 6376 for RSA (p= is the DER of
    the SubjectPublicKeyInfo), RFC 8463 for Ed25519 (p= is the 32 bytes of the key)."""
    der = pem_body(public_pem)
    if kind == "ed25519":
        if len(der) != len(_ED25519_SPKI_PREFIX) + 32 or not der.startswith(_ED25519_SPKI_PREFIX):
            raise DkimKeyError("not an Ed25519 public key")
        der = der[len(_ED25519_SPKI_PREFIX):]
    return "v=DKIM1; k=%s; p=%s" % (kind, base64.b64encode(der).decode("ascii"))


def record_type(text):
    """The key type of a record value (rsa, ed25519), or None when it is not a DKIM record."""
    match = RECORD_RE.match((text or "").strip())
    return match.group(1) if match else None


def stale(wanted, present):
    """Files of keys that are not wanted: ``present`` is [(domain, file name)] found under the key directory;
    only names this module writes (a domain directory, SELECTOR.private or SELECTOR.txt) are ever returned."""
    keep = set((k["domain"], k["selector"]) for k in wanted)
    out = []
    for domain, name in present:
        if not DOMAIN_RE.match(domain):
            continue
        stem, dot, suffix = name.rpartition(".")
        if not dot or suffix not in ("private", "txt") or not SELECTOR_RE.match(stem):
            continue
        if (domain, stem) not in keep:
            out.append((domain, name))
    return sorted(out)
