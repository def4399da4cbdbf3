# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a certificate on the host says: its names, its end date, whether its key matches (host side).

Read with Python's own ssl module (no openssl binary, no extra package): the
host_probe module reports it before any change, so that a missing file, a
key that is not the certificate's, or a name the certificate does not cover
stops the play before the first host changes. Never reads out or returns
key material.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import ssl


def covers(patterns, name):
    """True when one of the certificate's DNS names (``*.`` wildcards: one label) covers ``name``."""
    name = name.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().rstrip(".")
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def decode(path):
    """(DNS names, notAfter text) of the PEM certificate at ``path`` (the first one of a chain)."""
    info = ssl._ssl._test_decode_cert(path)  # pylint: disable=protected-access
    names = [value for kind, value in info.get("subjectAltName", ()) if kind == "DNS"]
    if not names:
        # No subjectAltName: the common name (what old self-signed certificates carry).
        for rdn in info.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    names.append(value)
    return names, info.get("notAfter", "")


def key_matches(cert, key):
    """None when ``key`` is the private key of the certificate ``cert``, else why not (a short text)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        if "KEY_VALUES_MISMATCH" in str(reason).upper():
            return "the key is not the certificate's key"
        return "the key cannot be read (%s)" % reason
    except (IOError, OSError) as exc:
        return "the key cannot be read (%s)" % (exc.strerror or exc)
    return None


def inspect(cert, key, names, required=True):
    """What the host has at ``cert`` and ``key``: exists, names, not_after and problems (texts naming the files).

    ``required``: the files must be there (given by the operator); otherwise a
    missing certificate is only reported (one the collection makes or has
    issued)."""
    result = {"exists": os.path.isfile(cert), "key_exists": os.path.isfile(key), "names": [], "not_after": "",
              "covers": False, "key_match": False, "problems": []}
    problems = result["problems"]
    if not result["exists"]:
        if required:
            problems.append("%s: no such certificate file on the host" % cert)
        return result
    if not result["key_exists"]:
        if required:
            problems.append("%s: no such key file on the host (the key of %s)" % (key, cert))
        return result
    try:
        result["names"], result["not_after"] = decode(cert)
    except (ssl.SSLError, IOError, OSError, ValueError) as exc:
        problems.append("%s: not a PEM certificate (%s)" % (cert, exc))
        return result
    mismatch = key_matches(cert, key)
    if mismatch:
        problems.append("%s: %s (%s)" % (key, mismatch, cert))
    result["key_match"] = not mismatch
    missing = [name for name in names if not covers(result["names"], name)]
    if missing and required:
        problems.append("%s: does not cover %s (it covers %s)"
                        % (cert, ", ".join(missing), ", ".join(result["names"]) or "no name"))
    result["covers"] = not missing
    return result
