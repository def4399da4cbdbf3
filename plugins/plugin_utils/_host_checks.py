# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of one host's role variables that no single role's model makes.

Pure functions, called by :func:`_host_model.host_model` before it returns
a model: each appends the problems it finds (naming the variable and the
item at fault) to a list, so that a bad inventory fails the play before the
first change on any host, instead of half-way (useradd, ``postfix check``)
or, worse, not at all (an open relay, the mail tree on ``/etc``).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import unicodedata

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _postfix_parameters
from ansible_collections.vhosting.postfix.plugins.module_utils._account_names import ACCOUNT_RE
from ansible_collections.vhosting.postfix.plugins.plugin_utils._address import is_hostname

# main.cf parameters the server role sets from its own (validated) variables.
SERVER_OWNED = {
    "myhostname": "vhosting_server__myhostname",
    "mydomain": "vhosting_server__mydomain",
    "myorigin": "vhosting_server__myorigin",
    "mydestination": "vhosting_server__mydestination",
    "inet_interfaces": "vhosting_server__inet_interfaces",
    "inet_protocols": "vhosting_server__inet_protocols",
    "mynetworks": "vhosting_server__mynetworks",
    "default_database_type": "vhosting_server__default_database_type",
    "alias_maps": "vhosting_server__default_database_type",
    "alias_database": "vhosting_server__default_database_type",
    "recipient_delimiter": "vhosting_server__recipient_delimiter",
}


# Lookup table types Postfix 3.7/3.10 know (postconf -m, with the map packages).
MAP_TYPES = ("btree", "cdb", "cidr", "environ", "fail", "hash", "inline", "internal", "ldap", "lmdb", "memcache",
             "mysql", "nis", "pcre", "pgsql", "pipemap", "proxy", "randmap", "regexp", "socketmap", "sqlite",
             "static", "tcp", "texthash", "unionmap", "unix")

# Directories that are never a mail tree: the system, or another program's
# spool. Neither the directory itself nor anything inside it.
SYSTEM_TREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/dev", "/proc",
                "/sys", "/run", "/tmp", "/var/tmp", "/root", "/var/spool/postfix", "/var/lib/postfix",
                "/var/lib/dpkg", "/var/lib/apt", "/var/log", "/var/cache", "/var/backups", "/var/lib/dovecot")
# Directories that hold other things: fine to be inside, not to be the mail tree.
SHARED_DIRECTORIES = ("/var", "/var/mail", "/var/spool/mail", "/var/spool", "/var/lib", "/var/local", "/home",
                      "/srv", "/opt", "/mnt", "/media", "/usr/local")

# Files no role's lookup table may be written over.
RESERVED_FILES = ("/etc/postfix/main.cf", "/etc/postfix/master.cf", "/etc/postfix/dynamicmaps.cf",
                  "/etc/postfix/postfix-files", "/etc/aliases", "/etc/passwd", "/etc/group", "/etc/shadow",
                  "/etc/mailname", "/etc/hosts", "/etc/resolv.conf")

_SPLIT = re.compile(r"[\s,]+")


def _words(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [w for w in _SPLIT.split(str(value)) if w]


def server_parameters(values, problems):
    """vhosting_server__parameters: no parameter the server role owns, known names (the relay policy of the
    whole main.cf is judged by _relay_policy)."""
    given = values["vhosting_server__parameters"] or {}
    user_defined = set(values["vhosting_server__user_defined_parameters"] or ())
    for name in sorted(given):
        if name in SERVER_OWNED:
            problems.append("vhosting_server__parameters: %s is set by the vhosting.postfix.server role from %s "
                            "(validated there); remove it from vhosting_server__parameters"
                            % (name, SERVER_OWNED[name]))
        elif not _postfix_parameters.is_known(name, user_defined):
            close = _postfix_parameters.closest(name)
            problems.append("vhosting_server__parameters: %s is not a Postfix parameter (Postfix 3.7/3.10 postconf "
                            "-d)%s; a parameter of your own belongs in vhosting_server__user_defined_parameters"
                            % (name, " (did you mean %s?)" % close if close else ""))


def names_and_addresses(values, problems):
    """Host names, protocols and listening interfaces as Postfix takes them (else postfix check refuses
    main.cf only after it was written)."""
    for name in ("vhosting_server__myhostname", "vhosting_server__mydomain"):
        value = values[name]
        if not isinstance(value, str) or not is_hostname(value, trailing_dot=True):
            problems.append("%s: %r is not a host or domain name (letters, digits, '-', dots)" % (name, value))
    origin = values["vhosting_server__myorigin"]
    if not (isinstance(origin, str) and (origin in ("$myhostname", "$mydomain", "${myhostname}", "${mydomain}")
                                         or is_hostname(origin, trailing_dot=True))):
        problems.append("vhosting_server__myorigin: %r is neither a domain name nor $myhostname / $mydomain" % (origin,))
    protocols = [w.lower() for w in _words(values["vhosting_server__inet_protocols"])]
    bad = [w for w in protocols if w not in ("all", "ipv4", "ipv6")]
    if bad or not protocols or ("all" in protocols and len(protocols) > 1):
        problems.append("vhosting_server__inet_protocols: %r must be all, ipv4, ipv6 or ipv4, ipv6"
                        % (values["vhosting_server__inet_protocols"],))
    interfaces = _words(values["vhosting_server__inet_interfaces"])
    bad = [w for w in interfaces if not _interface(w)]
    if bad or not interfaces or (set(interfaces) & set(["all", "loopback-only"]) and len(interfaces) > 1):
        problems.append("vhosting_server__inet_interfaces: %r must be all, loopback-only, or IP addresses and "
                        "fully qualified host names%s" % (values["vhosting_server__inet_interfaces"],
                                                          " (not %s)" % ", ".join(bad) if bad else ""))


def _interface(word):
    if word in ("all", "loopback-only", "localhost"):
        return True
    try:
        ipaddress.ip_address(word.strip("[]"))
        return True
    except ValueError:
        return is_hostname(word, trailing_dot=True) and "." in word.strip(".")


def map_types(values, problems):
    for name in _words(values["vhosting_server__map_types"]):
        if name not in MAP_TYPES:
            problems.append("vhosting_server__map_types: %r is not a Postfix lookup table type (one of %s)"
                            % (name, ", ".join(MAP_TYPES)))


# Directories of /etc where the collection may write files of its own.
ETC_WRITABLE = ("/etc/postfix", "/etc/dovecot", "/etc/vhosting-postfix", "/etc/opendkim")
# Files in those directories that are Postfix's or Dovecot's own.
_ETC_OWN = re.compile(r"^/etc/(postfix/(main\.cf|master\.cf|dynamicmaps\.cf|postfix-files|makedefs\.out)(\..*)?|"
                      r"postfix/(postfix-files\.d|dynamicmaps\.cf\.d|sasl)/.*|"
                      r"dovecot/(dovecot\.conf|dovecot-[^/]*\.conf(\.ext)?|conf\.d/.*|private/.*))$")
# A path the collection hands to a command, a configuration or the file system: no white space, quotes, '$',
# wildcards or control characters.
_PATH_RE = re.compile(r"^/[A-Za-z0-9._+=@/-]*$")


def clean_path(path):
    """``path`` without empty and '.' components (None when it has '..')."""
    parts = [p for p in path.split("/") if p and p != "."]
    if ".." in parts:
        return None
    return "/" + "/".join(parts)


def _inside(path, tree):
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def path_problem(path, kind):
    """Why ``path`` may not be used as a path variable of this ``kind`` (None: it may)."""
    if not isinstance(path, str) or not _PATH_RE.match(path) or path.endswith("/") and kind != "tree":
        return ("must be an absolute %s name of letters, digits and '.', '_', '-', '+', '=', '@', '/' (no spaces, "
                "quotes, '$' or wildcards)" % ("directory" if kind == "tree" else "file"))
    clean = clean_path(path)
    if clean is None:
        return "contains '..'"
    if kind == "read":
        if clean in RESERVED_FILES or _ETC_OWN.match(clean):
            return "is %s, a system or configuration file, not a certificate or key" % clean
        return None
    if clean == "/":
        return "is the root directory"
    if kind == "tree":
        for tree in SYSTEM_TREES:
            if _inside(clean, tree):
                return "is inside %s" % tree
        if clean in SHARED_DIRECTORIES:
            return "holds other things"
        return None
    if clean in RESERVED_FILES or _ETC_OWN.match(clean):
        return "is %s, a file of the system, Postfix or Dovecot" % clean
    if _inside(clean, "/etc"):
        if not any(_inside(clean, d) and clean != d for d in ETC_WRITABLE):
            return "is in /etc outside %s, where the system's own files are" % ", ".join(ETC_WRITABLE)
        return None
    for tree in SYSTEM_TREES:
        if _inside(clean, tree):
            return "is inside %s" % tree
    if clean in SHARED_DIRECTORIES:
        return "is a directory of the system"
    return None


def paths(values, problems, variables):
    """Every path variable is checked against system files and directories before anything is written.

    ``variables``: (variable, kind, what, example) of every part (``_parts.path_variables``), where kind is
    tree (a directory the collection creates and hands to a service user), write (a file the collection writes
    and may remove again) or read (a file the collection only names in a configuration).
    """
    seen = {}
    for name, kind, what, example in variables:
        path = values.get(name)
        if path is None or (kind == "read" and path == ""):
            continue
        why = path_problem(path, kind)
        if why:
            if kind == "tree":
                hint = " (%s): give it a directory of its own, e.g. %s" % (what, example)
            elif kind == "write":
                hint = ": the collection writes %s there; e.g. %s" % (what, example)
            else:
                hint = ""
            problems.append("%s: %r %s%s" % (name, path, why, hint))
            continue
        clean = clean_path(path)
        if kind != "read":
            if clean in seen:
                problems.append("%s: %r is also %s; every file and tree of the collection is one of its own"
                                % (name, path, seen[clean]))
            seen[clean] = name


# Characters a recipient delimiter may hold: none of them is special in an address, a main.cf value ($) or a
# lookup table, and none is a letter or digit.
DELIMITER_CHARS = "+-_=~"


def recipient_delimiter(values, problems):
    value = values["vhosting_server__recipient_delimiter"]
    if value is None:
        return
    text = str(value)
    odd = [ch for ch in text if ch not in DELIMITER_CHARS]
    if odd or len(set(text)) != len(text):
        problems.append("vhosting_server__recipient_delimiter: %r must be one or more different characters of %s "
                        "(not %s)" % (text, " ".join(DELIMITER_CHARS),
                                      ", ".join(repr(ch) for ch in odd) if odd else "a character twice"))


def accounts(values, system_accounts, problems):
    """The vmail user and group are accounts of their own, never root's or another service's."""
    for name, what in (("vhosting_domains__vmail_user", "user"), ("vhosting_domains__vmail_group", "group"),
                       ("vhosting_domains__autoreply_user", "user")):
        value = values.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not ACCOUNT_RE.match(value):
            problems.append("%s: %r is not a %s name (a lower-case letter or '_', then letters, digits, '_', '-'; "
                            "at most 32): it reaches useradd and master.cf" % (name, value, what))
            continue
        if value in system_accounts or value in ("adm", "staff", "sudo", "shadow", "nogroup", "postdrop", "users",
                                                 "utmp", "tty", "disk", "kmem"):
            problems.append("%s: %r is a system %s (root's, Postfix's, Dovecot's or Debian's own); the collection "
                            "creates and changes this account: give it a name of its own" % (name, value, what))
    if values.get("vhosting_domains__vmail_user") == values.get("vhosting_domains__autoreply_user"):
        problems.append("vhosting_domains__autoreply_user: %r is also vhosting_domains__vmail_user; the autoreply "
                        "program needs an account of its own" % values["vhosting_domains__autoreply_user"])


def local_domain(values, local_domains, alias_map, problems):
    """Bare targets (``alice``) are qualified with the local domain, which must then be one of mydestination's
    (else their mail leaves the host, or loops). Only checked when some alias target is in it."""
    domain = str(values["vhosting_domains__local_domain"]).strip().rstrip(".").lower()
    if not domain or domain in local_domains:
        return
    suffix = "@" + domain
    for targets in alias_map.values():
        for target in targets if isinstance(targets, (list, tuple)) else [targets]:
            if str(target).lower().endswith(suffix):
                problems.append("vhosting_domains__local_domain: %r is not in mydestination (%s); bare targets "
                                "(%s) would leave the host" % (domain, ", ".join(sorted(local_domains)), target))
                return


def table_paths(values, problems, variables):
    """Each role's lookup table is a file of its own, never one of Postfix's or the system's (``variables``:
    the table variables of every part, ``_parts.table_variables``)."""
    seen = {}
    for name in variables:
        path = values.get(name)
        if not isinstance(path, str):
            continue
        if not path.startswith("/") or path.endswith("/"):
            problems.append("%s: %r must be an absolute file name" % (name, path))
            continue
        clean = "/" + "/".join(p for p in path.split("/") if p and p != ".")
        why = path_problem(path, "write")
        if clean in RESERVED_FILES:
            problems.append("%s: %r is %s, not a lookup table of the collection's" % (name, path, clean))
        elif why:
            problems.append("%s: %r %s; a lookup table of the collection's belongs in /etc/postfix" % (name, path, why))
        elif clean in seen:
            problems.append("%s: %r is also %s; every table is a file of its own" % (name, path, seen[clean]))
        else:
            seen[clean] = name


# Letters of other scripts that look like Latin ones (the lower case of Unicode's confusables for a-z).
_LOOKALIKES = {
    u"\u0430": "a", u"\u0435": "e", u"\u043e": "o", u"\u0440": "p", u"\u0441": "c", u"\u0443": "y",
    u"\u0445": "x", u"\u0456": "i", u"\u0458": "j", u"\u0455": "s", u"\u0501": "d", u"\u04bb": "h",
    u"\u03bf": "o", u"\u03b1": "a", u"\u03b9": "i", u"\u03ba": "k", u"\u03bd": "v", u"\u03c1": "p",
    u"\u0475": "v", u"\u0261": "g", u"\u0578": "n", u"\u057d": "u",
}


def skeleton(name):
    """``name`` with compatibility forms folded and look-alike letters replaced by the Latin ones."""
    folded = unicodedata.normalize("NFKC", name).lower()
    return "".join(_LOOKALIKES.get(ch, ch) for ch in folded)


def lookalike_names(names):
    """Problems for variable names that only look like the collection's (non-ASCII letters)."""
    problems = []
    for name in sorted(names):
        if all(ord(ch) < 128 for ch in name):
            continue
        if skeleton(name).startswith("vhosting_"):
            odd = ", ".join("U+%04X %s" % (ord(ch), unicodedata.name(ch, "?")) for ch in name if ord(ch) >= 128)
            problems.append("%s: looks like a vhosting.postfix variable but contains %s; no role reads it"
                            % (name, odd))
    return problems
