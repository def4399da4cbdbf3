# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address syntax: domain names, host names, local parts and addresses (controller side, pure).

The leaf of the model code: it imports nothing of the model (only the account
name rule it shares with the modules on the host), so every feature model (domains, lists, autoreplies, relay, host checks) uses the one
definition of a DNS label, a host name and an address, without import loops.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.vhosting.postfix.plugins.module_utils._account_names import ACCOUNT_RE

# One DNS label (RFC 1035 letters, digits, hyphens; lower case: names are
# normalised first). HOST_LABEL also takes '_' inside, as host names in
# inventories do (SRV-like names, some cloud hosts).
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN_RE = re.compile(r"^(?:%s\.)+%s$" % (LABEL, LABEL))
ATOM = r"[a-z0-9!#$%&'*/=?^_`{|}~+-]+"
LOCAL_RE = re.compile(r"^%s(?:\.%s)*$" % (ATOM, ATOM))
UNIX_USER_RE = ACCOUNT_RE
HOST_LABEL = r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_HOSTNAME_RE = re.compile(r"^%s(?:\.%s)*$" % (LABEL, LABEL), re.IGNORECASE)
_HOST_RE = re.compile(r"^%s(?:\.%s)*$" % (HOST_LABEL, HOST_LABEL))


def is_hostname(text, trailing_dot=False, underscore=False):
    """A host or domain name (one label or more, any case; optionally a final dot, or '_' inside labels)."""
    if not isinstance(text, str) or not text or len(text.rstrip(".")) > 253:
        return False
    if trailing_dot and text.endswith("."):
        text = text[:-1]
    if underscore:
        return _HOST_RE.match(text.lower()) is not None
    return _HOSTNAME_RE.match(text) is not None


class DomainModelError(ValueError):
    """The hosted-domain inventory is invalid.

    ``problems`` lists every problem found (the message joins them), so that
    an operator sees all mistakes of an inventory in one run, not one per run.
    """

    def __init__(self, message=None, problems=None):
        self.problems = list(problems) if problems else [message]
        super(DomainModelError, self).__init__("; ".join(str(p) for p in self.problems))


def normalise_domain(value, where, single_label=False):
    """Return the domain in lower case or raise DomainModelError.

    Hosted domains need two labels at least; ``single_label`` also accepts
    names such as ``localhost`` (targets of aliases).
    """
    if not isinstance(value, str) or not value.strip():
        raise DomainModelError("%s: 'domain' must be a non-empty string, got %r" % (where, value))
    text = value.strip().rstrip(".").lower()
    try:
        text.encode("ascii")
    except UnicodeEncodeError:
        raise DomainModelError("%s: domain %r is not ASCII; write internationalised names in their xn-- (punycode) form"
                               % (where, value))
    valid = DOMAIN_RE.match(text) or (single_label and re.match("^%s$" % LABEL, text))
    if len(text) > 253 or not valid or text.rsplit(".", 1)[-1].isdigit():
        raise DomainModelError("%s: %r is not a valid domain name (letters, digits and hyphens, at least two labels)"
                               % (where, value))
    return text


def normalise_local_part(value, where):
    """Return a local part (the part before @) in lower case or raise."""
    if not isinstance(value, str):
        raise DomainModelError("%s: local part %r is not a string" % (where, value))
    text = value.strip().lower()
    if "@" in text:
        raise DomainModelError("%s: %r must be a local part only (the domain is implied), without '@'" % (where, value))
    if not text or len(text) > 64 or not LOCAL_RE.match(text):
        raise DomainModelError("%s: %r is not a valid local part of an address" % (where, value))
    if text.startswith("#"):
        raise DomainModelError("%s: %r starts with '#': a lookup table's source reads that line as a comment, so the "
                               "entry would silently vanish" % (where, value))
    return text


def normalise_address(value, where, single_label=False):
    """Return ``local@domain`` in lower case or raise."""
    if not isinstance(value, str) or value.count("@") != 1:
        raise DomainModelError("%s: %r is not a valid e-mail address (local@domain)" % (where, value))
    local, domain = value.strip().split("@")
    try:
        return "%s@%s" % (normalise_local_part(local, where), normalise_domain(domain, where, single_label))
    except DomainModelError:
        raise DomainModelError("%s: %r is not a valid e-mail address (local@domain)" % (where, value))


def did_you_mean(word, candidates, cutoff=0.75):
    """" (did you mean X?)" for the candidate closest to ``word`` (difflib, at least ``cutoff`` alike), else ""."""
    close = difflib.get_close_matches(str(word), sorted(str(c) for c in candidates), n=1, cutoff=cutoff)
    return " (did you mean %s?)" % close[0] if close else ""


def unknown_keys(given, allowed, other_classes=None):
    """The unknown keys of ``given`` in words, each with a "did you mean" when a close allowed key exists, or the
    classes it belongs to (``other_classes``: class -> keys); "" when every key is allowed."""
    words = []
    for key in sorted(set(given) - set(allowed), key=str):
        hint = did_you_mean(key, allowed)
        text = str(key) + hint
        if not hint:
            owners = [cls for cls, keys in sorted((other_classes or {}).items()) if key in keys]
            if owners:
                text += " (a key of class%s %s)" % ("es" if len(owners) > 1 else "", ", ".join(owners))
        words.append(text)
    return ", ".join(words)
