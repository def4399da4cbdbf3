# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure core of the ``vhosting.postfix.dovecot_users`` module: Dovecot's passwd-file.

* :func:`sha512_crypt` is SHA-crypt with SHA-512 (``$6$``, Ulrich Drepper's
  specification, as glibc's crypt(3) and ``doveadm pw -s SHA512-CRYPT``
  compute it), in the standard library only: Python 3.13 (Debian 13) has no
  ``crypt`` module any more.
* :func:`verify` tells whether a plain password matches a ``{SCHEME}hash``
  (True/False), or that this module cannot tell (None: another scheme).
* :func:`parse` / :func:`render` read and write the passwd-file lines
  ``login:{SCHEME}hash:uid:gid::home::``.
* :func:`plan` decides each account's hash: a given hash as it is; for a
  plain password the hash already in the file when it still verifies
  (idempotence), else a new one. :func:`masked` is what a diff may show:
  never a password or a hash.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import re
import secrets

SCHEME = "SHA512-CRYPT"
_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DEFAULT_ROUNDS = 5000
_CRYPT_RE = re.compile(r"^\$6\$(?:rounds=(\d+)\$)?([^$]{0,16})\$([./0-9A-Za-z]{86})$")
_SCHEMED_RE = re.compile(r"^\{([A-Z0-9][A-Z0-9.-]*)\}(.*)$")
_LOGIN_RE = re.compile(r"^[^\s:]+$")


class UsersError(ValueError):
    """Input the module refuses; nothing has been written. Never quotes a secret."""


def _b64(b2, b1, b0, count):
    word = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _i in range(count):
        out.append(_ALPHABET[word & 0x3F])
        word >>= 6
    return "".join(out)


def _repeat(digest, length):
    return digest * (length // 64) + digest[:length % 64]


def sha512_crypt(password, salt, rounds=None):
    """``$6$[rounds=N$]salt$hash`` of ``password`` (str) with ``salt`` (at most 16 characters used)."""
    key = password.encode("utf-8")
    salt_bytes = salt.encode("ascii")[:16]
    explicit = rounds is not None
    rounds = DEFAULT_ROUNDS if rounds is None else min(max(int(rounds), 1000), 999999999)
    alternate = hashlib.sha512(key + salt_bytes + key).digest()
    ctx = hashlib.sha512(key + salt_bytes)
    ctx.update(_repeat(alternate, len(key)))
    length = len(key)
    while length > 0:
        ctx.update(alternate if length & 1 else key)
        length >>= 1
    digest_a = ctx.digest()
    p_bytes = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))
    s_bytes = _repeat(hashlib.sha512(salt_bytes * (16 + digest_a[0])).digest(), len(salt_bytes))
    current = digest_a
    for index in range(rounds):
        ctx = hashlib.sha512(p_bytes if index & 1 else current)
        if index % 3:
            ctx.update(s_bytes)
        if index % 7:
            ctx.update(p_bytes)
        ctx.update(current if index & 1 else p_bytes)
        current = ctx.digest()
    encoded = []
    for i in range(21):
        triple = (i, i + 21, i + 42)
        shift = i % 3
        triple = triple[shift:] + triple[:shift]
        encoded.append(_b64(current[triple[0]], current[triple[1]], current[triple[2]], 4))
    encoded.append(_b64(0, 0, current[63], 2))
    prefix = "$6$rounds=%d$" % rounds if explicit else "$6$"
    return "%s%s$%s" % (prefix, salt_bytes.decode("ascii"), "".join(encoded))


def new_salt(length=16):
    return "".join(secrets.choice(_ALPHABET) for _i in range(length))


def make_hash(password, salt=None):
    """``{SHA512-CRYPT}$6$...`` of a plain password, with a random salt unless one is given."""
    return "{%s}%s" % (SCHEME, sha512_crypt(password, salt or new_salt()))


def verify(password, scheme_hash):
    """True/False when ``password`` does/does not match ``scheme_hash``; None for a scheme this module cannot check."""
    match = _SCHEMED_RE.match(scheme_hash or "")
    if not match or match.group(1) != SCHEME:
        return None
    crypted = _CRYPT_RE.match(match.group(2))
    if not crypted:
        return False
    rounds = int(crypted.group(1)) if crypted.group(1) else None
    return hmac.compare_digest(sha512_crypt(password, crypted.group(2), rounds), match.group(2))


def parse(text):
    """login -> {hash, uid, gid, home, line} of a passwd-file (comments and blank lines skipped)."""
    result = {}
    for line in (text or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(":")
        fields += [""] * (7 - len(fields))
        result[fields[0]] = {"hash": fields[1], "uid": fields[2], "gid": fields[3], "home": fields[5], "line": line}
    return result


# The first line of every file this module writes: the owner record that lets a later run (and its removal)
# tell the collection's file from anyone else's. Dovecot's passwd-file skips '#' lines.
HEADER = "# vhosting.postfix dovecot_users: the accounts of the hosted domains; written by Ansible, do not edit"


def owned(text):
    """True when ``text`` is a passwd-file this module may replace or remove: absent or empty, carrying its
    header, or (a file of an earlier release, without the header) holding only accounts with a {SCHEME}hash as
    this module writes them. /etc/passwd, /etc/shadow or an operator's own file are not."""
    if text is None or not text.strip():
        return True
    lines = text.splitlines()
    if lines[0] == HEADER:
        return True
    accounts = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return bool(accounts) and all(
        len(line.split(":")) in (7, 8) and _SCHEMED_RE.match(line.split(":")[1]) and line.split(":")[5].startswith("/")
        for line in accounts)


def _line(user, secret):
    return "%s:%s:%s:%s::%s::" % (user["login"], secret, user["uid"], user["gid"], user["home"])


def check_users(users):
    """Refuse duplicate or malformed accounts (naming the login, never a secret)."""
    seen = set()
    for user in users:
        login = user.get("login")
        if not isinstance(login, str) or not _LOGIN_RE.match(login):
            raise UsersError("account %r: a login has no whitespace and no ':'" % (login,))
        if login.lower() in seen:
            raise UsersError("account %s: given twice (logins are case-insensitive)" % login)
        seen.add(login.lower())
        given = [k for k in ("password", "password_hash") if user.get(k) is not None]
        if len(given) != 1:
            raise UsersError("account %s: give exactly one of password and password_hash" % login)
        value = user[given[0]]
        if not isinstance(value, str) or not value or "\n" in value or (given[0] == "password_hash" and (
                ":" in value or not _SCHEMED_RE.match(value))):
            raise UsersError("account %s: %s is empty, spans lines or (a hash) is not {SCHEME}hash without ':' "
                             "(value not shown)" % (login, given[0]))
        home = user.get("home")
        if not isinstance(home, str) or not home.startswith("/") or ":" in home:
            raise UsersError("account %s: home %r must be an absolute path without ':'" % (login, home))
        for key in ("uid", "gid"):
            if isinstance(user.get(key), bool) or not isinstance(user.get(key), int) or user[key] < 0:
                raise UsersError("account %s: %s must be a whole number" % (login, key))


def plan(existing_text, users, make=make_hash):
    """The new file content and what changed: (text, {added, removed, updated}, masked before, masked after).

    ``users``: [{login, password | password_hash, uid, gid, home}]. A plain
    password keeps the hash in the file when that hash verifies it; a hash
    this module cannot verify (another scheme) is replaced by a new
    {SHA512-CRYPT} hash.
    """
    check_users(users)
    existing = parse(existing_text)
    lines, masked_after = [], []
    changes = {"added": [], "removed": [], "updated": []}
    for user in sorted(users, key=lambda u: u["login"]):
        old = existing.get(user["login"])
        if user.get("password_hash") is not None:
            secret = user["password_hash"]
        elif old is not None and verify(user["password"], old["hash"]):
            secret = old["hash"]
        else:
            secret = make(user["password"])
        line = _line(user, secret)
        lines.append(line)
        if old is None:
            changes["added"].append(user["login"])
        elif old["line"] != line:
            changes["updated"].append(user["login"])
        masked_after.append(_line(user, "<hash>" if old is not None and old["hash"] == secret else "<new hash>"))
    wanted = set(u["login"] for u in users)
    changes["removed"] = sorted(login for login in existing if login not in wanted)
    text = HEADER + "\n" + "".join(line + "\n" for line in lines)
    masked_before = "".join(masked(existing[login]["line"]) + "\n" for login in sorted(existing))
    return text, changes, masked_before, "".join(line + "\n" for line in masked_after)


def masked(line):
    """A passwd-file line with its password field hidden."""
    fields = line.split(":")
    if len(fields) > 1:
        fields[1] = "<hash>"
    return ":".join(fields)
