# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosted-domain model of the Virtual Domain Hosting Howto.

Pure functions, used on the control node by the ``domain_model`` filter (the
``vhosting.postfix.domains`` and ``vhosting.postfix.relay`` roles). The input
is the dict ``variable name -> domain definition`` collected from every
inventory variable whose name starts with ``vhosting_domain__``; the output is
everything Postfix needs (domain lists, virtual_alias_maps and
virtual_mailbox_maps entries, the mailboxes to create, the UNIX accounts of
canonical domains, the valid recipients of every domain).

Every check runs before anything is returned, so that a bad inventory fails
the play before any host changes. Errors name the variable, the domain and
the entry at fault.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _autoreply_model, _lists
from ansible_collections.vhosting.postfix.plugins.plugin_utils._address import (  # noqa: F401 (the model's names)
    LABEL as _LABEL,
    UNIX_USER_RE as _UNIX_USER_RE,
    DomainModelError,
    normalise_address,
    normalise_domain,
    did_you_mean,
    normalise_local_part,
    unknown_keys,
)

CLASSES = ("canonical", "alias", "mailbox", "forwarding")

# Keys each class accepts; anything else is a typo and an error.
# dkim, spf and dmarc: what the domain signs and publishes, read by the mail_auth part (_mail_auth_part).
_COMMON_KEYS = ("domain", "class", "description", "dkim", "spf", "dmarc")
CLASS_KEYS = {
    "canonical": _COMMON_KEYS + ("users",),
    "alias": _COMMON_KEYS + ("aliases", "catch_all", "lists"),
    "forwarding": _COMMON_KEYS + ("aliases", "catch_all"),
    "mailbox": _COMMON_KEYS + ("mailboxes", "aliases", "catch_all", "store", "lists"),
}
MAILBOX_KEYS = ("path", "format", "password", "password_hash", "autoreply")
# Who delivers the mail of a mailbox domain: Postfix's virtual(8), or Dovecot
# over LMTP (the howto's "non-Postfix mailbox store"; the accounts log in over
# IMAP and to the submission service with their password).
STORES = ("virtual", "dovecot")
SECRET_KEYS = ("password", "password_hash")
# {SCHEME}hash as Dovecot's passdb expects it, e.g. {SHA512-CRYPT}$6$...
_HASH_RE = re.compile(r"^\{([A-Z0-9][A-Z0-9.-]*)\}([^\s:]+)$")
_B64 = r"[A-Za-z0-9+/]"
# The schemes a password_hash may use (salted and slow, or at least salted SHA-2): what its value looks like.
HASH_SCHEMES = {
    "SHA512-CRYPT": (re.compile(r"^\$6\$(?:rounds=\d+\$)?[^$]{1,16}\$[./0-9A-Za-z]{86}$"), "$6$<salt>$<hash>"),
    "SHA256-CRYPT": (re.compile(r"^\$5\$(?:rounds=\d+\$)?[^$]{1,16}\$[./0-9A-Za-z]{43}$"), "$5$<salt>$<hash>"),
    "BLF-CRYPT": (re.compile(r"^\$2[aby]\$\d\d\$[./0-9A-Za-z]{53}$"), "$2y$<cost>$<salt and hash>"),
    "ARGON2I": (re.compile(r"^\$argon2i\$v=\d+\$m=\d+,t=\d+,p=\d+\$%s+\$%s+$" % (_B64, _B64)), "$argon2i$v=..."),
    "ARGON2ID": (re.compile(r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$%s+\$%s+$" % (_B64, _B64)), "$argon2id$v=..."),
    "PBKDF2": (re.compile(r"^\$1\$[^$]+\$\d+\$[0-9a-fA-F]{40,}$"), "$1$<salt>$<rounds>$<hex hash>"),
    # base64 of the SHA-2 digest followed by the salt: longer than the digest alone.
    "SSHA256": (re.compile(r"^(?=.{48,})(?:%s{4})*(?:%s{2}==|%s{3}=)?$" % (_B64, _B64, _B64)), "base64"),
    "SSHA512": (re.compile(r"^(?=.{92,})(?:%s{4})*(?:%s{2}==|%s{3}=)?$" % (_B64, _B64, _B64)), "base64"),
}
# Schemes refused on purpose, and why.
WEAK_SCHEMES = {
    "PLAIN": "the password itself (plaintext)",
    "CLEARTEXT": "the password itself (plaintext)",
    "PLAIN-TRUNC": "the password itself (plaintext)",
    "HMAC-MD5": "equivalent to the plaintext (CRAM-MD5's stored secret)",
    "PLAIN-MD5": "an unsalted MD5",
    "LDAP-MD5": "an unsalted MD5",
    "DIGEST-MD5": "an unsalted MD5",
    "SHA": "an unsalted SHA-1",
    "SHA1": "an unsalted SHA-1",
    "MD5": "MD5-crypt, fast and broken",
    "CRYPT": "DES crypt (8 characters at most), fast and broken",
    "SMD5": "a salted MD5, fast to guess",
    "SSHA": "a salted SHA-1, fast to guess",
}
USER_KEYS = ("name", "uid", "comment")

DEFAULT_OPTIONS = {
    # Addresses every virtual domain gets (RFC 2142) unless it defines them.
    "role_accounts": ["postmaster", "abuse"],
    # Where those role accounts go by default.
    "role_account_target": "postmaster@localhost",
    # The domain that qualifies bare local account names used as targets
    # ("alice" -> "alice@localhost"); it must be in mydestination.
    "local_domain": "localhost",
    "mailbox_base": "/var/mail/vhosts",
    "minimum_uid": 100,
    "vmail_uid": 5000,
    "vmail_gid": 5000,
    "recipient_delimiter": "+",
    # main.cf mydestination (entries may use $myhostname / $mydomain), used to
    # refuse a virtual domain that is also a local (mydestination) domain.
    "mydestination": [],
    "myhostname": "",
    "mydomain": "",
    # Where the autoreply copies go (transport -> pipe); default autoreply.<mydomain>.
    "autoreply_domain": "",
    # Accounts that are not people's: never a canonical domain's user (the
    # user module would change them). The host model adds the vmail user and
    # the autoreply user to these.
    "system_accounts": [],
}

# Debian's own accounts (base-passwd, and the packages the collection installs):
# a canonical domain's users are people's accounts, created with useradd.
SYSTEM_ACCOUNTS = (
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data",
    "backup", "list", "irc", "gnats", "nobody", "_apt", "messagebus", "sshd", "systemd-network",
    "systemd-resolve", "systemd-timesync", "systemd-coredump", "postfix", "dovecot", "dovenull", "mlmmj",
)
# Debian's first uid of a normal account (adduser.conf FIRST_UID).
FIRST_NORMAL_UID = 1000

_MAILBOX_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-=+"
_MAILBOX_RE = re.compile(r"^[a-z0-9_][a-z0-9._=+-]*$")
# A mailbox path relative to the mailbox base (it reaches the file system and Dovecot's userdb).
_PATH_RE = re.compile(r"^[A-Za-z0-9._=+@/-]+$")


def _where(varname, domain=None):
    if domain:
        return "%s (domain %s)" % (varname, domain)
    return varname


def mailbox_name(value, where):
    """A mailbox's local part, which also names its directory or mbox file: a strict character set."""
    text = normalise_local_part(value, where)
    if not _MAILBOX_RE.match(text) or ".." in text:
        odd = sorted(set(text) - set(_MAILBOX_CHARS))
        raise DomainModelError("%s: %r names the mailbox's directory: letters, digits and '.', '_', '-', '=', '+' only, "
                               "starting with a letter, digit or '_'%s (give an alias with the other characters)"
                               % (where, value, " (not %s)" % " ".join(odd) if odd else ""))
    return text


def normalise_target(value, where, local_domain):
    """A forwarding target: a full address, or a bare local account name (qualified with local_domain)."""
    if isinstance(value, str) and "@" not in value:
        if not _UNIX_USER_RE.match(value.strip().lower()):
            raise DomainModelError("%s: target %r is neither an address (local@domain) nor a local account name"
                                   % (where, value))
        return "%s@%s" % (value.strip().lower(), local_domain)
    return normalise_address(value, where, single_label=True)


def _targets(value, where, local_domain):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise DomainModelError("%s: expected a target address or a non-empty list of them, got %r" % (where, value))
    result = []
    for item in value:
        target = normalise_target(item, where, local_domain)
        if target not in result:
            result.append(target)
    return result


def _int(value, where, minimum=0):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool) or not str(value).strip().isdigit():
                raise ValueError
            value = int(str(value).strip())
        except ValueError:
            raise DomainModelError("%s: %r is not a whole number" % (where, value))
    if value < minimum:
        raise DomainModelError("%s: %d is below the minimum %d" % (where, value, minimum))
    return value


def _options(options):
    opts = dict(DEFAULT_OPTIONS)
    for key, value in (options or {}).items():
        if key not in DEFAULT_OPTIONS:
            raise DomainModelError("domain_model: unknown option %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_OPTIONS))))
        if value is not None:
            opts[key] = value
    local_domain = str(opts["local_domain"]).strip().lower()
    if "." in local_domain:
        local_domain = normalise_domain(local_domain, "option local_domain")
    elif not re.match("^%s$" % _LABEL, local_domain):
        raise DomainModelError("option local_domain: %r is not a domain name" % opts["local_domain"])
    opts["local_domain"] = local_domain
    opts["minimum_uid"] = _int(opts["minimum_uid"], "option minimum_uid", 1)
    opts["vmail_uid"] = _int(opts["vmail_uid"], "option vmail_uid", 0)
    opts["vmail_gid"] = _int(opts["vmail_gid"], "option vmail_gid", 1)
    if opts["vmail_uid"] < opts["minimum_uid"]:
        raise DomainModelError("option vmail_uid: uid %d is below virtual_minimum_uid %d; Postfix's virtual(8) would "
                               "refuse to deliver" % (opts["vmail_uid"], opts["minimum_uid"]))
    base = opts["mailbox_base"]
    if not isinstance(base, str) or not base.startswith("/") or "/../" in base + "/" or base.rstrip("/") == "":
        raise DomainModelError("option mailbox_base: %r must be an absolute directory other than /" % (base,))
    opts["mailbox_base"] = base.rstrip("/")
    accounts = opts["role_accounts"]
    if isinstance(accounts, str):
        accounts = [accounts]
    opts["role_accounts"] = [normalise_local_part(a, "option role_accounts") for a in accounts]
    opts["role_account_target"] = _targets(opts["role_account_target"], "option role_account_target",
                                           opts["local_domain"])
    delim = opts["recipient_delimiter"]
    opts["recipient_delimiter"] = "" if delim is None else str(delim)
    mydest = opts["mydestination"]
    if isinstance(mydest, str):
        mydest = [d for d in re.split(r"[\s,]+", mydest) if d]
    opts["mydestination"] = list(mydest or [])
    return opts


def _local_domains(opts):
    """The literal domain names of mydestination, with $myhostname/$mydomain expanded."""
    result = set()
    for entry in opts["mydestination"]:
        text = str(entry)
        for name in ("myhostname", "mydomain"):
            text = text.replace("${%s}" % name, str(opts[name])).replace("$%s" % name, str(opts[name]))
        text = text.strip().rstrip(".").lower()
        if text and "$" not in text and ":" not in text and "/" not in text:
            result.add(text)
    return result


def _secret(settings, here, store):
    """Check a mailbox's password settings (never quoting the value); True when it has one."""
    given = [key for key in SECRET_KEYS if settings.get(key) is not None]
    if store != "dovecot":
        if given:
            raise DomainModelError("%s: %s is only for mailboxes of a domain with store: dovecot (Postfix's own "
                                   "virtual delivery has no logins)" % (here, given[0]))
        return False
    if len(given) != 1:
        raise DomainModelError("%s: a mailbox of a store: dovecot domain needs exactly one of password (plain, "
                               "ideally vault-encrypted; hashed on the host) or password_hash ({SCHEME}hash)" % here)
    value = settings[given[0]]
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise DomainModelError("%s: %s must be a non-empty string on one line (value not shown)" % (here, given[0]))
    match = _HASH_RE.match(value) if given[0] == "password_hash" else None
    if given[0] == "password_hash" and not match:
        raise DomainModelError("%s: password_hash must be {SCHEME}hash as Dovecot writes it, e.g. "
                               "{SHA512-CRYPT}$6$... or {ARGON2ID}$argon2id$... (value not shown)" % here)
    if match:
        scheme = match.group(1)
        accepted = ("accepted: %s (e.g. doveadm pw -s SHA512-CRYPT; or give password: and the host hashes it with "
                    "SHA512-CRYPT)" % ", ".join("{%s}" % name for name in HASH_SCHEMES))
        if scheme not in HASH_SCHEMES:
            why = WEAK_SCHEMES.get(scheme, "not a salted, slow scheme the collection accepts")
            raise DomainModelError("%s: password_hash uses {%s}: %s, refused (value not shown); %s"
                                   % (here, scheme, why, accepted))
        pattern, form = HASH_SCHEMES[scheme]
        if not pattern.match(match.group(2)):
            raise DomainModelError("%s: password_hash says {%s} but its value is not of that scheme (%s) (value not "
                                   "shown); %s" % (here, scheme, form, accepted))
    return True


def _mailboxes(spec, where, domain, opts, store="virtual"):
    """Normalise a mailbox domain's ``mailboxes`` (a list of local parts or a dict local part -> settings)."""
    if spec is None:
        return {}
    if isinstance(spec, (list, tuple)):
        spec = dict((item, None) for item in spec) if all(isinstance(i, str) for i in spec) else spec
    if not isinstance(spec, dict):
        raise DomainModelError("%s: 'mailboxes' must be a list of local parts or a dict local part -> settings" % where)
    result = {}
    for raw_local, settings in spec.items():
        local = mailbox_name(raw_local, "%s, mailbox %r" % (where, raw_local))
        address = "%s@%s" % (local, domain)
        here = "%s, mailbox %s" % (where, address)
        if address in result:
            raise DomainModelError("%s: defined twice (addresses are case-insensitive)" % here)
        settings = settings or {}
        if not isinstance(settings, dict):
            raise DomainModelError("%s: settings must be a dict with keys %s" % (here, ", ".join(MAILBOX_KEYS)))
        unknown = unknown_keys(settings, MAILBOX_KEYS)
        if unknown:
            raise DomainModelError("%s: unknown key(s) %s (allowed: %s)" % (here, unknown, ", ".join(MAILBOX_KEYS)))
        fmt = settings.get("format")
        if fmt is not None and fmt not in ("maildir", "mbox"):
            raise DomainModelError("%s: format %r is neither maildir nor mbox" % (here, fmt))
        path = settings.get("path")
        if path is None:
            path = "%s/%s" % (domain, local) + ("" if fmt == "mbox" else "/")
        if not isinstance(path, str) or not path.strip():
            raise DomainModelError("%s: path must be a non-empty string" % here)
        if path.startswith("/"):
            raise DomainModelError("%s: path %r is absolute; mailbox paths are relative to virtual_mailbox_base (%s)"
                                   % (here, path, opts["mailbox_base"]))
        parts = path.rstrip("/").split("/")
        if ".." in parts or "." in parts or "" in parts:
            raise DomainModelError("%s: path %r contains '..', '.' or an empty component" % (here, path))
        if not _PATH_RE.match(path):
            raise DomainModelError("%s: path %r may only hold letters, digits and '.', '_', '-', '=', '+', '@', '/'"
                                   % (here, path))
        maildir = path.endswith("/")
        if fmt is not None and maildir != (fmt == "maildir"):
            raise DomainModelError("%s: format %s contradicts path %r (a Maildir path ends in '/', an mbox path does not)"
                                   % (here, fmt, path))
        if store == "dovecot" and not maildir:
            raise DomainModelError("%s: a store: dovecot mailbox is a Maildir (its path ends in '/')" % here)
        _secret(settings, here, store)
        result[address] = {
            "key": raw_local,
            "store": store,
            "address": address,
            "domain": domain,
            "path": path,
            "full_path": "%s/%s" % (opts["mailbox_base"], path.rstrip("/")),
            "maildir": maildir,
            "uid": opts["vmail_uid"],
            "gid": opts["vmail_gid"],
        }
        if settings.get("autoreply") is not None:
            result[address]["autoreply"] = _autoreply_model.parse_autoreply(settings["autoreply"], here)
    return result


def _aliases(spec, where, domain, opts):
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise DomainModelError("%s: 'aliases' must be a dict local part -> target or list of targets" % where)
    result = {}
    for raw_local, targets in spec.items():
        local = normalise_local_part(raw_local, "%s, alias %r" % (where, raw_local))
        address = "%s@%s" % (local, domain)
        here = "%s, alias %s" % (where, address)
        if address in result:
            raise DomainModelError("%s: defined twice (addresses are case-insensitive)" % here)
        result[address] = _targets(targets, here, opts["local_domain"])
        if address in result[address]:
            raise DomainModelError("%s: alias loop, the alias points at itself" % here)
    return result


def _users(spec, where, opts):
    if spec is None:
        return []
    if not isinstance(spec, (list, tuple)):
        raise DomainModelError("%s: 'users' must be a list of UNIX account names or dicts {name, uid, comment}" % where)
    result = []
    for item in spec:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or "name" not in item:
            raise DomainModelError("%s: user %r must be a name or a dict with a 'name'" % (where, item))
        unknown = unknown_keys(item, USER_KEYS)
        if unknown:
            raise DomainModelError("%s, user %r: unknown key(s) %s (allowed: %s)"
                                   % (where, item.get("name"), unknown, ", ".join(USER_KEYS)))
        name = item["name"]
        if not isinstance(name, str) or not _UNIX_USER_RE.match(name):
            raise DomainModelError("%s: %r is not a valid UNIX account name (lower case, starting with a letter or _)"
                                   % (where, name))
        if name in SYSTEM_ACCOUNTS or name in opts["system_accounts"]:
            raise DomainModelError("%s, user %s: a system account (Postfix's, Dovecot's, the vmail or autoreply "
                                   "user, or one of Debian's own); a canonical domain's users are people's accounts"
                                   % (where, name))
        user = {"name": name, "uid": None, "comment": None}
        if item.get("uid") is not None:
            uid = user["uid"] = _int(item["uid"], "%s, user %s: uid" % (where, name), 1)
            if uid == opts["vmail_uid"]:
                raise DomainModelError("%s, user %s: uid %d is the vmail user's (vhosting_domains__vmail_uid)"
                                       % (where, name, uid))
            if uid < FIRST_NORMAL_UID:
                raise DomainModelError("%s, user %s: uid %d is in the system range (below %d)"
                                       % (where, name, uid, FIRST_NORMAL_UID))
        if item.get("comment") is not None:
            comment = user["comment"] = str(item["comment"])
            if re.search(r"[:\n\r\x00]", comment):
                raise DomainModelError("%s, user %s: comment %r contains ':' or a line break (the passwd file's "
                                       "separators)" % (where, name, comment))
        result.append(user)
    return result


def _strip_extension(address, delimiter):
    if not delimiter:
        return None
    local, domain = address.split("@", 1)
    positions = [local.find(d) for d in delimiter if local.find(d) > 0]
    if not positions:
        return None
    return "%s@%s" % (local[:min(positions)], domain)


def is_absent(spec):
    """Whether a domain definition says ``state: absent`` (no domain on this host)."""
    return isinstance(spec, dict) and spec.get("state") == "absent"


def domain_model(definitions, options=None):
    """Validate the per-domain inventory and build the Postfix model.

    ``definitions`` maps a variable name to a domain definition. Returns a
    dict (see the filter's documentation for every key). Raises
    DomainModelError naming the variable, domain and entry at fault.
    """
    opts = _options(options)
    if definitions is None:
        definitions = {}
    if not isinstance(definitions, dict):
        raise DomainModelError("domain_model: expected a dict variable name -> domain definition, got %s"
                               % type(definitions).__name__)

    local_domains = _local_domains(opts)
    seen = {}  # domain -> varname
    domains = {}  # domain -> parsed definition
    problems = []
    failed = set()  # domains whose definition is invalid: not checked as targets
    for varname in sorted(definitions):
        spec = definitions[varname]
        if is_absent(spec):
            continue  # a more specific inventory layer removes a domain that a wider layer defines
        if isinstance(spec, dict) and "state" in spec:
            if spec["state"] != "present":
                problems.append("%s: state must be present or absent, got %r" % (varname, spec["state"]))
                continue
            spec = dict((key, value) for key, value in spec.items() if key != "state")
        try:
            _parse_definition(varname, spec, opts, local_domains, seen, domains)
        except DomainModelError as exc:
            problems.extend(exc.problems)
            if isinstance(spec, dict) and isinstance(spec.get("domain"), str):
                failed.add(spec["domain"].strip().rstrip(".").lower())
    try:
        model = _build(domains, opts, failed)
    except DomainModelError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DomainModelError(problems=problems)
    return model


def _parse_definition(varname, spec, opts, local_domains, seen, domains):
    """Validate one ``vhosting_domain__*`` variable and add it to ``domains``."""
    if not isinstance(spec, dict):
        raise DomainModelError("%s: a domain definition must be a dict with at least 'domain' and 'class', got %r"
                               % (varname, spec))
    domain = normalise_domain(spec.get("domain"), varname)
    where = _where(varname, domain)
    cls = spec.get("class")
    if cls is None:
        raise DomainModelError("%s: no class: set 'class' to one of %s" % (where, ", ".join(CLASSES)))
    if cls not in CLASSES:
        raise DomainModelError("%s: unknown class %r%s (one of: %s)" % (
            where, cls, did_you_mean(cls, CLASSES, cutoff=0.6), ", ".join(CLASSES)))
    if domain in seen:
        other = domains[domain]
        if other["class"] != cls:
            raise DomainModelError("domain %s is in two classes: %s in %s and %s in %s; a domain belongs to exactly one "
                                   "class" % (domain, other["class"], seen[domain], cls, varname))
        raise DomainModelError("domain %s is defined twice, by %s and by %s; keep one definition per domain"
                               % (domain, seen[domain], varname))
    unknown = unknown_keys(spec, CLASS_KEYS[cls], CLASS_KEYS)
    if unknown:
        raise DomainModelError("%s: unknown key(s) %s for class %s (allowed: %s)"
                               % (where, unknown, cls, ", ".join(CLASS_KEYS[cls])))
    if cls != "canonical" and domain in local_domains:
        raise DomainModelError("%s: %s domain %s is also in mydestination (a local domain); a domain is either local "
                               "(class canonical) or virtual, never both" % (where, cls, domain))
    seen[domain] = varname
    entry = {"varname": varname, "domain": domain, "class": cls}
    if cls == "canonical":
        entry["users"] = _users(spec.get("users"), where, opts)
    else:
        store = spec.get("store", "virtual") if cls == "mailbox" else None
        if cls == "mailbox" and store not in STORES:
            raise DomainModelError("%s: unknown store %r (one of: %s)" % (where, store, ", ".join(STORES)))
        entry["store"] = store
        entry["mailboxes"] = _mailboxes(spec.get("mailboxes"), where, domain, opts, store) if cls == "mailbox" else {}
        entry["aliases"] = _aliases(spec.get("aliases"), where, domain, opts)
        entry["catch_all"] = (_targets(spec["catch_all"], "%s, catch_all" % where, opts["local_domain"])
                              if spec.get("catch_all") is not None else None)
        for address in entry["aliases"]:
            if address in entry["mailboxes"]:
                raise DomainModelError("%s: %s is both a mailbox and an alias; use another address for the alias"
                                       % (where, address))
        entry["lists"] = _lists.parse_lists(spec.get("lists"), where, entry, opts)
        if cls == "forwarding":
            if entry["mailboxes"]:
                raise DomainModelError("%s: a forwarding domain has no mailboxes" % where)
            for address, targets in list(entry["aliases"].items()) + [("@" + domain, entry["catch_all"] or [])]:
                for target in targets:
                    if target.endswith("@" + domain):
                        raise DomainModelError("%s, alias %s: target %s is in the forwarding domain itself; a "
                                               "forwarding domain forwards elsewhere" % (where, address, target))
    domains[domain] = entry


def _build(domains, opts, failed=frozenset()):
    """The Postfix model of validated domain definitions (cross-domain checks included).

    ``failed``: domains whose definitions were invalid; targets there are not
    checked (their problem is already reported).
    """
    problems = []
    try:
        unix_users = _unix_users(domains)
    except DomainModelError as exc:
        problems.extend(exc.problems)
        unix_users = {}
    virtual_alias_map, virtual_mailbox_map, mailboxes, user_aliases = _tables(domains, opts)
    lists = [one for d in sorted(domains) for _a, one in sorted(domains[d].get("lists", {}).items())]
    virtual_alias_map.update(_lists.alias_entries(lists, opts["local_domain"]))
    user_aliases.update((address, domains[one["domain"]]) for one in lists for address in one["addresses"])
    try:
        autoreply_domain, autoreplies = _autoreply_model.build(domains, virtual_alias_map, opts, _local_domains(opts))
    except DomainModelError as exc:
        problems.extend(exc.problems)
        autoreply_domain, autoreplies = None, {}
    try:
        _check_targets(domains, virtual_alias_map, virtual_mailbox_map, user_aliases, opts, failed)
    except DomainModelError as exc:
        problems.extend(exc.problems)
    problems.extend(_path_clashes(domains, mailboxes))
    if problems:
        raise DomainModelError(problems=problems)

    def of_class(*classes):
        return sorted(d for d in domains if domains[d]["class"] in classes)

    return {
        "domains": dict((d, {"class": e["class"], "varname": e["varname"]}) for d, e in domains.items()),
        "canonical_domains": of_class("canonical"),
        "alias_domains": of_class("alias", "forwarding"),
        "forwarding_domains": of_class("forwarding"),
        "mailbox_domains": of_class("mailbox"),
        "dovecot_domains": sorted(d for d in domains if domains[d].get("store") == "dovecot"),
        "dovecot_users": _dovecot_users(domains, mailboxes),
        "sender_logins": _sender_logins(mailboxes, virtual_alias_map),
        "virtual_alias_map": dict(sorted(virtual_alias_map.items())),
        "virtual_mailbox_map": dict(sorted(virtual_mailbox_map.items())),
        "mailboxes": mailboxes,
        "unix_users": [unix_users[name] for name in sorted(unix_users)],
        "recipients": _recipients(domains, unix_users, virtual_alias_map),
        "lists": lists,
        "autoreply_domain": autoreply_domain,
        "autoreplies": autoreplies,
        "mailbox_base": opts["mailbox_base"],
        "minimum_uid": opts["minimum_uid"],
        "vmail_uid": opts["vmail_uid"],
        "vmail_gid": opts["vmail_gid"],
    }


def _dovecot_users(domains, mailboxes):
    """The accounts of the store: dovecot domains, without their secrets.

    ``varname`` and ``key`` say where the password is (the inventory
    variable and the mailbox's key there): the password itself never enters
    the model, which becomes a fact that verbose output prints.
    """
    return [{
        "login": box["address"],
        "varname": domains[box["domain"]]["varname"],
        "key": box["key"],
        "home": box["full_path"],
        "uid": box["uid"],
        "gid": box["gid"],
    } for box in mailboxes if box["store"] == "dovecot"]


def _sender_logins(mailboxes, virtual_alias_map):
    """smtpd_sender_login_maps: address -> the logins that may send as it.

    A store: dovecot account owns its own address and every alias that
    delivers to it (also one with other targets: each target account owns
    it). Aliases that only map a mailbox to itself change nothing.
    """
    logins = dict((box["address"], [box["address"]]) for box in mailboxes if box["store"] == "dovecot")
    owners = {}
    for address, targets in virtual_alias_map.items():
        if address.startswith("@") or address in logins:
            continue
        accounts = [t for t in targets if t in logins]
        if accounts:
            owners[address] = accounts
    logins.update(owners)
    return dict(sorted(logins.items()))


def _path_clashes(domains, mailboxes):
    """Problems for mailboxes of the host (every domain) that share their files or nest inside another's."""
    owner = {}
    for box in mailboxes:
        owner.setdefault(box["full_path"], []).append(box)
    problems = []

    def name(box):
        return "%s, mailbox %s (path %r)" % (_where(domains[box["domain"]]["varname"], box["domain"]), box["address"],
                                             box["path"])
    for full_path in sorted(owner):
        boxes = owner[full_path]
        for other in boxes[1:]:
            problems.append("%s: the same files as %s" % (name(other), name(boxes[0])))
        parent = full_path.rsplit("/", 1)[0]
        while "/" in parent:
            if parent in owner:
                problems.append("%s: inside the mailbox of %s" % (name(boxes[0]), name(owner[parent][0])))
                break
            parent = parent.rsplit("/", 1)[0]
    return problems


def _unix_users(domains):
    """Canonical ("shared") domains: every UNIX user receives mail in every one."""
    unix_users = {}
    problems = []
    for domain in sorted(domains):
        entry = domains[domain]
        if entry["class"] != "canonical":
            continue
        for user in entry["users"]:
            known = unix_users.get(user["name"])
            if known is None:
                unix_users[user["name"]] = dict(user, domains=[domain])
                continue
            for key in ("uid", "comment"):
                if user[key] is not None and known[key] is not None and user[key] != known[key]:
                    problems.append("%s: user %s has %s %r here but %r in %s"
                                    % (_where(entry["varname"], domain), user["name"], key, user[key], known[key],
                                       ", ".join(known["domains"])))
                if known[key] is None:
                    known[key] = user[key]
            known["domains"].append(domain)
    if problems:
        raise DomainModelError(problems=problems)
    return unix_users


def _tables(domains, opts):
    """virtual_alias_maps and virtual_mailbox_maps entries, and the mailboxes to create."""
    virtual_alias_map = {}
    virtual_mailbox_map = {}
    mailboxes = []
    user_aliases = {}  # address -> domain entry, for messages
    for domain in sorted(domains):
        entry = domains[domain]
        if entry["class"] == "canonical":
            continue
        for address, box in sorted(entry["mailboxes"].items()):
            virtual_mailbox_map[address] = box["path"]
            mailboxes.append(box)
        for address, targets in entry["aliases"].items():
            virtual_alias_map[address] = targets
            user_aliases[address] = entry
        for account in opts["role_accounts"]:
            address = "%s@%s" % (account, domain)
            if address not in entry["aliases"] and address not in entry["mailboxes"]:
                virtual_alias_map[address] = list(opts["role_account_target"])
        if entry["catch_all"]:
            virtual_alias_map["@" + domain] = entry["catch_all"]
            user_aliases["@" + domain] = entry
            # A catch-all in virtual_alias_maps is looked up before
            # virtual_mailbox_maps: map each mailbox to itself so that it
            # keeps receiving its own mail.
            for address in entry["mailboxes"]:
                virtual_alias_map[address] = [address]
    return virtual_alias_map, virtual_mailbox_map, mailboxes, user_aliases


def _recipients(domains, unix_users, virtual_alias_map):
    """Domain -> the addresses it accepts (``[@domain]`` with a catch-all)."""
    by_domain = {}  # domain -> alias addresses (one pass, not one per domain)
    for address in virtual_alias_map:
        if not address.startswith("@"):
            by_domain.setdefault(address.split("@", 1)[1], set()).add(address)
    recipients = {}
    for domain in sorted(domains):
        entry = domains[domain]
        if entry["class"] == "canonical":
            names = set("%s@%s" % (name, domain) for name in unix_users)
            names.add("postmaster@%s" % domain)
            recipients[domain] = sorted(names)
        elif entry["catch_all"]:
            recipients[domain] = ["@" + domain]
        else:
            names = set(by_domain.get(domain, ()))
            names.update(entry["mailboxes"])
            recipients[domain] = sorted(names)
    return recipients


def _check_targets(domains, alias_map, mailbox_map, user_aliases, opts, failed=frozenset()):
    """Every target inside a hosted virtual domain must exist; no alias may loop."""
    delimiter = opts["recipient_delimiter"]

    def resolve(target):
        """The alias-map node a target leads to, None when it ends (mailbox, local, remote), or raise."""
        for candidate in (target, _strip_extension(target, delimiter)):
            if candidate is None:
                continue
            if candidate in alias_map and alias_map[candidate] != [candidate]:
                return candidate
            if candidate in mailbox_map:
                return None
        domain = target.split("@", 1)[1]
        entry = domains.get(domain)
        if entry is None or entry["class"] == "canonical" or domain in failed:
            return None
        if "@" + domain in alias_map:
            return "@" + domain
        return False

    problems = []
    edges = {}
    for key, targets in alias_map.items():
        if targets == [key]:
            continue  # a mailbox mapped to itself (catch-all protection)
        edges[key] = []
        for target in targets:
            if target == key:
                continue  # "a -> a, copy": Postfix delivers to a itself (an autoreply copy beside it)
            node = resolve(target)
            if node is False:
                entry = user_aliases.get(key)
                where = _where(entry["varname"], entry["domain"]) if entry else "option role_account_target"
                problems.append("%s, alias %s: target %s is not a recipient of the hosted domain %s (no such "
                                "mailbox or alias, and no catch-all)" % (where, key, target, target.split("@", 1)[1]))
                continue
            if node is not None:
                edges[key].append(node)

    state = {}

    def visit(node, path):
        state[node] = "active"
        for nxt in edges.get(node, ()):
            if state.get(nxt) == "active":
                cycle = path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
                entry = user_aliases.get(cycle[0]) or user_aliases.get(node)
                where = _where(entry["varname"], entry["domain"]) if entry else "option role_account_target"
                if len(cycle) == 2 and cycle[0] == cycle[1]:
                    problems.append("%s, alias %s: alias loop, the alias points at itself" % (where, cycle[0]))
                else:
                    problems.append("%s: alias loop %s" % (where, " -> ".join(cycle)))
                continue
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    if problems:
        raise DomainModelError(problems=problems)
