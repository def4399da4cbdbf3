# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network lookup tables (PostgreSQL, MySQL/MariaDB, LDAP): the pure core.

One description serves every backend: each Postfix table of the collection
(``virtual_alias_map``, ``virtual_mailbox_map``, ...) is a set of
``key -> value`` rows under its table name.

* SQL: one table (``vhosting_postfix_rows`` by default) with the columns
  ``scope``, ``map_name``, ``lookup_key``, ``lookup_value``; primary key
  (scope, map_name, lookup_key). Postfix's query is
  ``SELECT lookup_value FROM <table> WHERE scope = '<scope>' AND map_name = '<name>' AND lookup_key = '%s'``.
* LDAP: under the base DN, one ``ou=<scope>`` per scope and below it one
  ``ou=<name>`` per table, one entry ``cn=<key>`` (objectClass
  organizationalRole, core schema only) per row, the value in
  ``description``; Postfix searches one level for
  ``(&(objectClass=organizationalRole)(cn=%s))``.

The *scope* is the writer of the rows: one mail host (its inventory name by
default), or several that the operator names alike because they serve the
same domains. A host's run reads, writes and removes the rows of its own
scope only, and Postfix reads only those: hosts with different domains can
share one database (see :func:`target`, which the peer check of the
host_model action compares).

Keys are stored in lower case, as postmap(1) folds them when it builds an
indexed file and Postfix folds them before it queries any table.

This module builds the ``.cf`` options (never the password), the SQL
statements, LDAP DNs, the difference between the rows in the database and
the rows of the model, and the parity comparison of two tables' answers.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import re

try:
    from urllib.parse import quote
except ImportError:  # Python 2 (the collection's module_utils are importable there)
    from urllib import quote

from ansible_collections.vhosting.postfix.plugins.module_utils._networks import WIDE_PREFIX, NetworkError, cidr_key

BACKENDS = ("file", "pgsql", "mysql", "ldap")
NETWORK_BACKENDS = BACKENDS[1:]
DEFAULT_PORTS = {"pgsql": 5432, "mysql": 3306, "ldap": 389}
# The tables the domains role can write (the Dovecot role's sender logins and the relay role's transport table
# included), in the order they are loaded; rows
# of a table the model no longer has are removed from the database.
MAPS = ("virtual_alias_map", "virtual_mailbox_map", "transport_map", "virtual_alias_domains_map",
        "virtual_mailbox_domains_map", "sender_login_map", "relay_transport_map")
# A backup MX's relay_recipient_maps read from its primaries' rows (their scopes in the same database and table):
# a recipient is valid when a primary has it as a virtual alias or virtual mailbox key. Not loaded (the rows are
# the primaries'); the backup's file of the same recipients is the parity gate's reference.
RELAY_RECIPIENT_MAP = "relay_recipient_map"
RECIPIENT_SOURCE_MAPS = ("virtual_alias_map", "virtual_mailbox_map")
DEFAULT_SQL_TABLE = "vhosting_postfix_rows"
# The table of releases before the scopes (one host per table, no scope column): left alone.
LEGACY_SQL_TABLE = "vhosting_postfix_lookup"
LDAP_OBJECT_CLASS = "organizationalRole"
LDAP_VALUE_ATTRIBUTE = "description"
# Debian packages a mail host needs per backend: Postfix's client and the
# Python driver of the modules that load the database.
PACKAGES = {
    "pgsql": ["postfix-pgsql", "python3-psycopg2"],
    "mysql": ["postfix-mysql", "python3-pymysql"],
    "ldap": ["postfix-ldap", "python3-ldap"],
}

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# A scope reaches SQL text (a quoted literal in Postfix's query) and an LDAP RDN: letters, digits, '.', '_', '-'.
_SCOPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.:_-]*[A-Za-z0-9])?$")
# One RDN, attribute=value, with a value of letters, digits, ' ', '.', '_', '-': the DN reaches LDAP filters and
# search bases, where '(', ')', '*', '\\', ',' ... would change their meaning.
_DN_PART_RE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9-]*\s*=\s*[A-Za-z0-9][A-Za-z0-9 ._-]*$")
# The CA file reaches .cf files, a PostgreSQL connection URI and module arguments: an absolute path of safe
# characters.
_PATH_RE = re.compile(r"^/[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$")
# Debian's bundle of the system's trusted CAs (package ca-certificates).
DEFAULT_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
# PostgreSQL over TLS: Postfix takes a connection URI, and ignores the user and password options then; the password
# goes into libpq's password file (never into the URI, which Postfix logs when a connection fails).
PGPASS_NAME = "pgpass"


class NetworkTableError(Exception):
    pass


def _text(value):
    return value if isinstance(value, str) else ""


def check_database(backend, database, problems, name="vhosting_domains__database", hostname=None):
    """Validate the connection settings of a network backend; return them without the passwords.

    ``database``: host, port, name (SQL database, or LDAP base DN), user,
    password (Postfix's reader), admin_user, admin_password (the loader;
    default: the reader), table (SQL table), scope (the writer of the rows;
    default: ``hostname``, the host's inventory name), load (bool), tls
    (bool: encrypt and verify the server's certificate against ca_file and
    the name in host), ca_file. Problems name the option, never a password.
    """
    if backend not in BACKENDS:
        problems.append("vhosting_domains__backend: %r is not one of %s" % (backend, ", ".join(BACKENDS)))
        return None
    if backend == "file":
        return None
    database = database if isinstance(database, dict) else {}
    before = len(problems)
    host = _text(database.get("host"))
    if not host or not _HOST_RE.match(host):
        problems.append("%s.host: %r is not a host name or address (needed for backend %s)"
                        % (name, database.get("host"), backend))
    port = database.get("port")
    port = DEFAULT_PORTS[backend] if port is None else port
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.append("%s.port: %r is not a TCP port" % (name, port))
    dbname = _text(database.get("name"))
    user = _text(database.get("user"))
    if backend == "ldap":
        if not dbname or not all(_DN_PART_RE.match(part) for part in dbname.split(",")):
            problems.append("%s.name: %r is not an LDAP base DN (e.g. ou=postfix,dc=example,dc=org)"
                            % (name, database.get("name")))
        for option in ("user", "admin_user"):
            value = database.get(option)
            if value and not (isinstance(value, str) and all(_DN_PART_RE.match(p) for p in value.split(","))):
                problems.append("%s.%s: %r is not a bind DN" % (name, option, value))
    else:
        if not dbname or not _NAME_RE.match(dbname):
            problems.append("%s.name: %r is not a database name (letters, digits, _)" % (name, database.get("name")))
        if not user or not _NAME_RE.match(user):
            problems.append("%s.user: %r is not a database user name (letters, digits, _)"
                            % (name, database.get("user")))
        admin = database.get("admin_user")
        if admin and not (isinstance(admin, str) and _NAME_RE.match(admin)):
            problems.append("%s.admin_user: %r is not a database user name" % (name, admin))
    table = database.get("table") or DEFAULT_SQL_TABLE
    if not isinstance(table, str) or not _NAME_RE.match(table):
        problems.append("%s.table: %r is not an SQL table name (letters, digits, _)" % (name, table))
    scope = database.get("scope") or hostname
    if not isinstance(scope, str) or not _SCOPE_RE.match(scope):
        problems.append("%s.scope: %r is not a scope name (letters, digits, '.', '_', '-', at most 63)%s"
                        % (name, scope, "" if database.get("scope") else
                           "; the default is the host's inventory name, which cannot be one: set a scope"))
    for option in ("password", "admin_password"):
        value = database.get(option)
        if value is not None and not isinstance(value, str):
            problems.append("%s.%s must be a string" % (name, option))
        elif isinstance(value, str) and ("\n" in value or value != value.strip()):
            problems.append("%s.%s: a password with a line break or leading/trailing blanks cannot be "
                            "written into Postfix's .cf file" % (name, option))
    if backend != "ldap" and not database.get("password"):
        problems.append("%s.password: Postfix's database user needs a password" % name)
    tls = database.get("tls", False)
    if not isinstance(tls, bool):
        problems.append("%s.tls: %r is not true or false" % (name, tls))
    ca_file = database.get("ca_file")
    if ca_file is not None and not (isinstance(ca_file, str) and _PATH_RE.match(ca_file)):
        problems.append("%s.ca_file: %r is not an absolute path (letters, digits, '.', '_', '+', '-', '/')"
                        % (name, ca_file))
    elif ca_file is not None and tls is not True:
        problems.append("%s.ca_file: set, but tls is not true: the connections would not be encrypted" % name)
    if len(problems) > before:
        return None
    return {
        "host": host,
        "port": port,
        "name": dbname,
        "user": user,
        "admin_user": database.get("admin_user") or user,
        "table": table,
        "scope": scope,
        "load": database.get("load", True) is not False,
        "tls": tls,
        "ca_file": (ca_file or DEFAULT_CA_FILE) if tls else "",
    }


def target(backend, connection):
    """What identifies the rows a host writes: two hosts with the same target write the same rows.

    (backend, server host, port, database or base DN, SQL table, scope), with the
    names that the database compares without case folded.
    """
    return (backend, connection["host"].lower(), connection["port"], connection["name"].lower(),
            connection["table"] if backend != "ldap" else "", connection["scope"].lower())


def describe_target(target_key):
    backend, host, port, name, table, scope = target_key
    where = "%s on %s:%d, %s" % (backend, host, port, name)
    return "%s%s, scope %s" % (where, (", table " + table) if table else "", scope)


def peer_conflicts(host, target_key, rows, peers):
    """Problems of hosts that would write the same rows differently (the guard before any change).

    ``rows``: {map: {key: value}} this host writes; ``peers``: [(other host, its rows, or None when its inventory
    cannot be built)] of the inventory's hosts with the same :func:`target`. Two hosts may share a scope only when
    they write exactly the same rows, since each run makes the scope match its own inventory.
    """
    problems = []
    for other, other_rows in peers:
        head = "vhosting_domains__database: %s and %s write the same rows (%s)" % (
            host, other, describe_target(target_key))
        if other_rows is None:
            problems.append("%s, and the inventory of %s cannot be built to compare them; fix it, or give each host "
                            "its own scope (the default)" % (head, other))
            continue
        delta = changes(other_rows, rows)
        if not (delta["add"] or delta["change"] or delta["remove"]):
            continue
        if delta["change"]:
            map_name, key, theirs, mine = delta["change"][0]
            example = "%s %s: %r on %s, %r on %s" % (map_name, key, mine, host, theirs, other)
        elif delta["add"]:
            map_name, key, mine = delta["add"][0]
            example = "%s %s: %r on %s, none on %s" % (map_name, key, mine, host, other)
        else:
            map_name, key, theirs = delta["remove"][0]
            example = "%s %s: none on %s, %r on %s" % (map_name, key, host, theirs, other)
        problems.append("%s, but their inventories give different rows (%s; %s), so each run would undo the "
                        "other's: give each host its own scope (the default, its inventory name), or the same "
                        "domains" % (head, summary(delta).replace("added", "only on " + host, 1)
                                     .replace("removed", "only on " + other, 1), example))
    return problems


def query(connection, map_name):
    """Postfix's SQL query for one table."""
    return ("SELECT lookup_value FROM %s WHERE scope = '%s' AND map_name = '%s' AND lookup_key = '%%s'"
            % (connection["table"], connection["scope"], map_name))


def recipient_query(connection, scopes):
    """Postfix's SQL query of a backup MX's relay recipients: 'OK' when one of the primaries' ``scopes`` has the
    address (or its '@domain' catch-all) as a virtual alias or virtual mailbox key. Scopes are of check_database's
    character set (letters, digits, '.', '_', '-')."""
    return ("SELECT DISTINCT 'OK' FROM %s WHERE scope IN (%s) AND map_name IN (%s) AND lookup_key = '%%s'"
            % (connection["table"], ", ".join("'%s'" % s for s in scopes),
               ", ".join("'%s'" % m for m in RECIPIENT_SOURCE_MAPS)))


def recipient_filter(scopes):
    """The LDAP filter of a backup MX's relay recipients: an entry of a primary's virtual alias or virtual mailbox
    table, matched on its DN (``ou=<map>,ou=<scope>,<base DN>``, extensible match with dnAttributes)."""
    return "(&(objectClass=%s)(cn=%%s)(|%s)(|%s))" % (
        LDAP_OBJECT_CLASS, "".join("(ou:dn:=%s)" % m for m in RECIPIENT_SOURCE_MAPS),
        "".join("(ou:dn:=%s)" % s for s in scopes))


def scope_base(connection):
    """The LDAP entry of the host's scope, parent of its tables."""
    return "ou=%s,%s" % (connection["scope"], connection["name"])


def ldap_probe_dns(connection):
    """The entries on which the loader tries whether Postfix's reader may write (ldap_rows' write probe), nearest
    first: the host's scope, the base DN, and its parent (on a first run neither of the first two exists yet)."""
    dns = [scope_base(connection), connection["name"]]
    if "," in connection["name"]:
        dns.append(connection["name"].split(",", 1)[1].strip())
    return dns


def map_base(connection, map_name):
    return "ou=%s,%s" % (map_name, scope_base(connection))


def pgsql_uri(connection, passfile):
    """Postfix's ``hosts`` of a PostgreSQL connection over TLS: the server's certificate must be signed by a CA of
    ``ca_file`` and name ``host`` (verify-full); the password comes from ``passfile``. User, host and database are
    of strict character sets (check_database); the two paths are percent-encoded ('=', '@', '+' are allowed in the
    role's paths and would change the URI's meaning)."""
    host = connection["host"]
    if ":" in host:
        host = "[%s]" % host
    return ("postgresql://%s@%s:%d/%s?sslmode=verify-full&sslrootcert=%s&passfile=%s"
            % (connection["user"], host, connection["port"], connection["name"], quote(connection["ca_file"], safe="/"),
               quote(passfile, safe="/")))


def pgpass_line(connection, password):
    """The line of libpq's password file for Postfix's reader (':' and '\\' escaped)."""
    def escape(value):
        return str(value).replace("\\", "\\\\").replace(":", "\\:")
    parts = (connection["host"], connection["port"], connection["name"], connection["user"], password)
    return ":".join(escape(v) for v in parts) + "\n"


def cf_options(backend, connection, map_name, passfile="", scopes=None):
    """The options of the table's .cf file, in order, without the password (the role adds it, or writes
    ``passfile``: PostgreSQL over TLS). ``scopes``: the table is RELAY_RECIPIENT_MAP, read from these scopes."""
    if backend in ("pgsql", "mysql"):
        hosts = "inet:%s:%d" % (connection["host"], connection["port"])
        if backend == "pgsql" and connection.get("tls"):
            hosts = pgsql_uri(connection, passfile)
        options = [
            ("hosts", hosts),
            ("user", connection["user"]),
            ("dbname", connection["name"]),
            ("query", query(connection, map_name) if scopes is None else recipient_query(connection, scopes)),
        ]
        if backend == "mysql" and connection.get("tls"):
            options += [("tls_CAfile", connection["ca_file"]), ("tls_verify_cert", "yes")]
        return options
    if backend == "ldap":
        options = [
            ("server_host", "ldap://%s:%d" % (connection["host"], connection["port"])),
            ("version", "3"),
            ("search_base", map_base(connection, map_name)),
            ("scope", "one"),
            ("query_filter", "(&(objectClass=%s)(cn=%%s))" % LDAP_OBJECT_CLASS),
            ("result_attribute", LDAP_VALUE_ATTRIBUTE),
        ]
        if scopes is not None:
            options[2:6] = [("search_base", connection["name"]), ("scope", "sub"),
                            ("query_filter", recipient_filter(scopes)), ("result_attribute", "cn"),
                            ("result_format", "OK")]
        if connection.get("tls"):
            options += [("start_tls", "yes"), ("tls_ca_cert_file", connection["ca_file"]), ("tls_require_cert", "yes")]
        if connection["user"]:
            options += [("bind", "yes"), ("bind_dn", connection["user"])]
        else:
            options += [("bind", "no")]
        return options
    raise NetworkTableError("no .cf file for backend %r" % backend)


def password_option(backend, connection=None):
    """Name of the password option in the .cf file ("" when none is written: PostgreSQL over TLS, whose password
    is in the password file)."""
    if backend == "pgsql" and connection and connection.get("tls"):
        return ""
    return "bind_pw" if backend == "ldap" else "password"


def cf_path(directory, map_name):
    return "%s/%s.cf" % (directory.rstrip("/"), map_name)


def passfile_path(directory):
    return "%s/%s" % (directory.rstrip("/"), PGPASS_NAME)


def network_part(backend, connection, directory, tables, parameters, table_type, scopes=None):
    """Switch a role's main.cf parameters from its file tables to the database.

    ``tables``: {source path: table name} of the role; ``parameters``: its
    main.cf parameters, changed in place (each ``type:path`` of a table, also
    inside a list, becomes ``proxy:backend:/cf path``: proxymap(8) keeps the
    connections, so that every smtpd, cleanup and trivial-rewrite process does
    not open its own). Returns what the role needs: the tables (file lookup,
    main.cf's proxied lookup, and the ``direct`` lookup the parity gate and
    the health check query, which proxymap would refuse before main.cf names
    the table) and the .cf files. ``scopes``: {map name: [scopes]} of the tables read from other hosts' rows
    (RELAY_RECIPIENT_MAP), which are not loaded (``load`` false).
    """
    scopes = scopes or {}
    entries = []
    passfile = passfile_path(directory) if backend == "pgsql" and connection.get("tls") else ""
    for path, map_name in sorted(tables.items(), key=lambda item: MAPS.index(item[1]) if item[1] in MAPS else 99):
        file_lookup = "%s:%s" % (table_type, path)
        cf = cf_path(directory, map_name)
        direct = "%s:%s" % (backend, cf)
        db_lookup = "proxy:" + direct
        for parameter, value in parameters.items():
            if value == file_lookup:
                parameters[parameter] = db_lookup
            elif isinstance(value, list):
                parameters[parameter] = [db_lookup if v == file_lookup else v for v in value]
        entries.append({"name": map_name, "source": path, "file": file_lookup, "database": db_lookup,
                        "direct": direct, "cf": cf, "load": map_name not in scopes,
                        "options": cf_options(backend, connection, map_name, passfile, scopes.get(map_name))})
    return {
        "backend": backend,
        "connection": connection,
        "directory": directory,
        "tables": entries,
        "password_option": password_option(backend, connection),
        "passfile": passfile,
        "stale_cf_files": [p for p in stale_cf_files(directory) if p not in [e["cf"] for e in entries] + [passfile]],
    }


def stale_cf_files(directory):
    """Every .cf file the role can write, and the PostgreSQL password file (all are stale when the backend is
    file)."""
    return [cf_path(directory, m) for m in MAPS + (RELAY_RECIPIENT_MAP,)] + [passfile_path(directory)]


# --- rows ------------------------------------------------------------------

def parse_rows(text):
    """{key: value} of a ``key<TAB>value`` data file (keys folded to lower case, as postmap folds them)."""
    rows = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("\t")
        if not sep or not key or not value:
            raise NetworkTableError("line %d is not key<TAB>value: %r" % (number, line[:80]))
        rows[key.lower()] = value
    return rows


def changes(current, desired):
    """What turns ``current`` into ``desired``; both {map name: {key: value}}.

    Returns {"add": [[map, key, value]], "change": [[map, key, old, new]],
    "remove": [[map, key, old]]}, each sorted by (map, key).
    """
    add, change, remove = [], [], []
    for map_name in sorted(set(current) | set(desired)):
        now = current.get(map_name) or {}
        want = desired.get(map_name) or {}
        for key in sorted(set(now) | set(want)):
            if key not in now:
                add.append([map_name, key, want[key]])
            elif key not in want:
                remove.append([map_name, key, now[key]])
            elif now[key] != want[key]:
                change.append([map_name, key, now[key], want[key]])
    return {"add": add, "change": change, "remove": remove}


def rows_from_result(records, key_field="lookup_key", value_field="lookup_value", map_field="map_name"):
    """{map: {key: value}} of SQL result rows (dicts)."""
    current = {}
    for record in records or ():
        current.setdefault(record[map_field], {})[record[key_field]] = record[value_field]
    return current


def diff_text(delta, limit=200):
    """The before/after texts of a change set (for --diff), one ``map key value`` line per row."""
    before, after = [], []
    for map_name, key, value in delta["remove"]:
        before.append("%s %s %s" % (map_name, key, value))
    for map_name, key, old, new in delta["change"]:
        before.append("%s %s %s" % (map_name, key, old))
        after.append("%s %s %s" % (map_name, key, new))
    for map_name, key, value in delta["add"]:
        after.append("%s %s %s" % (map_name, key, value))
    more = max(len(before), len(after)) - limit
    before, after = before[:limit], after[:limit]
    if more > 0:
        after.append("... and %d more rows" % more)
    return "\n".join(before) + ("\n" if before else ""), "\n".join(after) + ("\n" if after else "")


def summary(delta):
    return "%d rows added, %d changed, %d removed" % (len(delta["add"]), len(delta["change"]), len(delta["remove"]))


# --- SQL -------------------------------------------------------------------

_COLUMNS = ("scope varchar(64) NOT NULL, map_name varchar(64) NOT NULL, lookup_key varchar(320) NOT NULL, "
            "lookup_value text NOT NULL, PRIMARY KEY (scope, map_name, lookup_key)")


# Two hosts sharing a database create the table at the same moment on a fleet's first run. PostgreSQL's CREATE
# TABLE IF NOT EXISTS is not safe against that (the second fails on pg_type's unique index: 'type ... already
# exists'), so the statement waits for a transaction-scoped advisory lock first; the second host then finds the
# table and skips it. MariaDB's metadata locks make the statement safe as it is.
_PG_SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('vhosting.postfix schema'))"


def sql_schema(backend, table):
    """The statements (one transaction) creating the lookup table unless it is there."""
    if backend == "pgsql":
        return [_PG_SCHEMA_LOCK, "CREATE TABLE IF NOT EXISTS %s (%s)" % (table, _COLUMNS)]
    return ["CREATE TABLE IF NOT EXISTS %s (%s) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" % (table, _COLUMNS)]


# What Postfix's user must not have on the table (its password is in a file every Postfix process reads).
WRITE_PRIVILEGES = {"pgsql": "INSERT, UPDATE, DELETE or TRUNCATE", "mysql": "INSERT, UPDATE, DELETE, DROP or ALTER"}


def sql_exists(backend):
    """A query (named args ``table``, ``reader``) giving one row: ``present`` 1/0 (the table), ``scoped`` 1/0 (its
    scope column; a table without one is the layout of a release before the scopes), ``writable`` 1/0 (Postfix's
    user may change the table: :data:`WRITE_PRIVILEGES`).

    PostgreSQL: the loader asks (has_table_privilege). MariaDB shows an account only its own privileges, so there
    the query runs as Postfix's user itself (``reader`` unused): its global, database and table privileges."""
    if backend == "pgsql":
        return ("SELECT (to_regclass(%(table)s) IS NOT NULL)::int AS present, "
                "(SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = lower(%(table)s) AND column_name = 'scope')::int AS scoped, "
                "CASE WHEN to_regclass(%(table)s) IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles "
                "WHERE rolname = %(reader)s) THEN 0 ELSE has_table_privilege(%(reader)s, %(table)s, "
                "'INSERT, UPDATE, DELETE, TRUNCATE')::int END AS writable")
    return ("SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_name = %(table)s) AS present, (SELECT COUNT(*) FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %(table)s AND column_name = 'scope') AS scoped, "
            "(SELECT COUNT(*) > 0 FROM (SELECT grantee, privilege_type FROM information_schema.user_privileges "
            "UNION ALL SELECT grantee, privilege_type FROM information_schema.schema_privileges "
            "WHERE table_schema = DATABASE() "
            "UNION ALL SELECT grantee, privilege_type FROM information_schema.table_privileges "
            "WHERE table_schema = DATABASE() AND table_name = %(table)s) p "
            "WHERE p.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'DROP', 'ALTER') "
            "AND p.grantee = CONCAT(CHAR(39), SUBSTRING_INDEX(CURRENT_USER(), '@', 1), CHAR(39), '@', CHAR(39), "
            "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), CHAR(39))) AS writable")


# --- digests per key range ------------------------------------------------
#
# A run that changes nothing, or one row, should not read 100,000 rows back:
# the database sums up each of 256 key ranges (the first two hex digits of the
# MD5 of the key) as the XOR of a 64-bit hash of each row (the first 16 hex
# digits of the MD5 of "map<TAB>key<TAB>value"), the controller does the same
# with the model's rows, and only the ranges that differ are read.

def bucket(key):
    return hashlib.md5(key.encode("utf-8", "surrogateescape")).hexdigest()[:2]


def row_hash(map_name, key, value):
    text = "%s\t%s\t%s" % (map_name, key, value)
    return int(hashlib.md5(text.encode("utf-8", "surrogateescape")).hexdigest()[:16], 16)


def bucket_digests(rows):
    """{bucket: XOR of the row hashes} of {map: {key: value}}: the definition (the writer uses :func:`bucket_index`,
    which gives the same digests)."""
    digests = {}
    for map_name, mapping in rows.items():
        for key, value in mapping.items():
            b = bucket(key)
            digests[b] = digests.get(b, 0) ^ row_hash(map_name, key, value)
    return digests


def bucket_index(rows):
    """(:func:`bucket_digests`, {bucket: {map: {key: value}}}) of {map: {key: value}}, in one pass over the rows
    (two MD5s per row: the SQL writer does this for 100,000 rows on every run)."""
    digests, index = {}, {}
    md5 = hashlib.md5
    for map_name, mapping in rows.items():
        for key, value in mapping.items():
            b = md5(key.encode("utf-8", "surrogateescape")).hexdigest()[:2]
            text = "%s\t%s\t%s" % (map_name, key, value)
            digests[b] = digests.get(b, 0) ^ int(md5(text.encode("utf-8", "surrogateescape")).hexdigest()[:16], 16)
            index.setdefault(b, {}).setdefault(map_name, {})[key] = value
    return digests, index


def rows_in(index, buckets):
    """The rows {map: {key: value}} of ``buckets`` in a :func:`bucket_index` index."""
    out = {}
    for b in buckets:
        for map_name, mapping in index.get(b, {}).items():
            out.setdefault(map_name, {}).update(mapping)
    return out


def digests_from_result(records):
    """{bucket: digest} of the digest query's rows (PostgreSQL gives the digest in hex, MariaDB in decimal)."""
    out = {}
    for record in records or ():
        value = record["digest"]
        if isinstance(value, str) and not value.isdigit():
            number = int(value, 16)
        else:
            number = int(value)
        out[record["bucket"]] = number & 0xFFFFFFFFFFFFFFFF
    return out


def differing_buckets(current, wanted):
    """The buckets whose digests differ (or that only one side has), sorted."""
    return sorted(b for b in set(current) | set(wanted) if current.get(b, 0) != wanted.get(b, 0) or
                  (b in current) != (b in wanted))


def sql_digests(backend, table):
    """The digest of every key range of one scope (named arg ``scope``): rows (bucket, digest)."""
    maps = ", ".join("'%s'" % m for m in MAPS)
    if backend == "pgsql":
        return ("SELECT substr(md5(lookup_key), 1, 2) AS bucket, to_hex(bit_xor(('x' || substr(md5(map_name || chr(9) "
                "|| lookup_key || chr(9) || lookup_value), 1, 16))::bit(64)::bigint)) AS digest FROM %s "
                "WHERE scope = %%(scope)s AND map_name IN (%s) GROUP BY 1" % (table, maps))
    return ("SELECT SUBSTR(MD5(lookup_key), 1, 2) AS bucket, CAST(BIT_XOR(CAST(CONV(SUBSTR(MD5(CONCAT(map_name, "
            "CHAR(9), lookup_key, CHAR(9), lookup_value)), 1, 16), 16, 10) AS UNSIGNED)) AS CHAR) AS digest FROM %s "
            "WHERE scope = %%(scope)s AND map_name IN (%s) GROUP BY 1" % (table, maps))


def sql_select_buckets(backend, table):
    """The rows of one scope in some key ranges (named args ``scope``, ``buckets``: a JSON list)."""
    maps = ", ".join("'%s'" % m for m in MAPS)
    if backend == "pgsql":
        within = "substr(md5(lookup_key), 1, 2) IN (SELECT json_array_elements_text(%(buckets)s::json))"
    else:
        within = ("SUBSTR(MD5(lookup_key), 1, 2) IN (SELECT b FROM JSON_TABLE(%(buckets)s, '$[*]' "
                  "COLUMNS (b varchar(2) PATH '$')) j)")
    return ("SELECT map_name, lookup_key, lookup_value FROM %s WHERE scope = %%(scope)s AND map_name IN (%s) AND %s"
            % (table, maps, within))


def sql_write(backend, table):
    """The statements of one transaction applying a change set.

    Named args: ``scope``, ``remove`` (JSON list of [map, key]) and
    ``upsert`` (JSON list of [map, key, value]); the data goes as
    parameters, never into the SQL text. Only rows of the scope are touched.
    """
    if backend == "pgsql":
        return [
            "DELETE FROM {t} t USING json_to_recordset(%(remove)s::json) AS r(m text, k text) "
            "WHERE t.scope = %(scope)s AND t.map_name = r.m AND t.lookup_key = r.k".format(t=table),
            "INSERT INTO {t} (scope, map_name, lookup_key, lookup_value) "
            "SELECT %(scope)s, r.m, r.k, r.v FROM json_to_recordset(%(upsert)s::json) AS r(m text, k text, v text) "
            "ON CONFLICT (scope, map_name, lookup_key) DO UPDATE SET lookup_value = EXCLUDED.lookup_value"
            .format(t=table),
        ]
    return [
        "DELETE t FROM {t} t JOIN JSON_TABLE(%(remove)s, '$[*]' COLUMNS (m varchar(64) PATH '$.m', "
        "k varchar(320) PATH '$.k')) r ON t.map_name = r.m AND t.lookup_key = r.k "
        "WHERE t.scope = %(scope)s".format(t=table),
        "INSERT INTO {t} (scope, map_name, lookup_key, lookup_value) SELECT %(scope)s, r.m, r.k, r.v "
        "FROM JSON_TABLE(%(upsert)s, '$[*]' COLUMNS (m varchar(64) PATH '$.m', k varchar(320) PATH '$.k', "
        "v text PATH '$.v')) r ON DUPLICATE KEY UPDATE lookup_value = VALUES(lookup_value)".format(t=table),
    ]


def sql_write_args(delta, scope):
    remove = [{"m": m, "k": k} for m, k, _old in delta["remove"]]
    upsert = [{"m": m, "k": k, "v": v} for m, k, v in delta["add"]] + [
        {"m": m, "k": k, "v": new} for m, k, _old, new in delta["change"]]
    return {"scope": scope, "remove": json.dumps(remove), "upsert": json.dumps(upsert)}


PHASES = ("all", "upsert", "remove")


def phase_of(delta, phase):
    """The part of a change set one phase writes: ``upsert`` (added and changed rows), ``remove`` (removed rows),
    ``all``. A play loads every host's new rows before any host removes its old ones, so that a domain moved from
    one host to another is served by one of them at every moment."""
    if phase not in PHASES:
        raise NetworkTableError("phase must be one of %s, got %r" % (", ".join(PHASES), phase))
    return {
        "add": delta["add"] if phase != "remove" else [],
        "change": delta["change"] if phase != "remove" else [],
        "remove": delta["remove"] if phase != "upsert" else [],
    }


# --- LDAP ------------------------------------------------------------------

_DN_SPECIAL = set(',+"\\<>;=')


def dn_escape(value):
    """An attribute value for a DN (RFC 4514)."""
    out = []
    for i, char in enumerate(value):
        if char in _DN_SPECIAL or (i == 0 and char in " #") or (i == len(value) - 1 and char == " "):
            out.append("\\" + char)
        elif ord(char) < 32:
            out.append("\\%02x" % ord(char))
        else:
            out.append(char)
    return "".join(out)


def ldap_dn(connection, map_name, key):
    return "cn=%s,%s" % (dn_escape(key), map_base(connection, map_name))


def rows_from_ldap(entries, connection):
    """{map: {key: value}} of ldap_search results (every entry below the host's scope entry)."""
    current = {}
    suffix = "," + scope_base(connection).lower()
    for entry in entries or ():
        dn = entry.get("dn", "")
        key = entry.get("cn")
        value = entry.get(LDAP_VALUE_ATTRIBUTE)
        if not dn.lower().endswith(suffix) or key is None:
            continue
        parent = dn[:-len(suffix)].split(",")[-1]
        if not parent.lower().startswith("ou="):
            continue
        map_name = parent[3:]
        if map_name not in MAPS:
            continue
        if isinstance(key, list):
            key = key[0]
        if isinstance(value, list):
            value = ", ".join(value)
        current.setdefault(map_name, {})[key.lower()] = value if value is not None else ""
    return current


# --- parity ----------------------------------------------------------------

def source_keys(text):
    """The keys of a postmap(1) source file (comments, blank and continuation lines skipped)."""
    keys = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line[0].isspace():
            continue
        keys.append(line.split(None, 1)[0])
    return keys


NEGATIVE_LOCAL = "vhosting-parity-nobody"
NEGATIVE_DOMAIN = "vhosting-parity.invalid"


def parity_keys(keys, delimiter="+"):
    """The keys to compare: every key, its upper-case and delimiter variants, and keys that must not be found.

    Returns (compare, absent): ``compare`` in order without duplicates;
    ``absent`` the subset no table may answer (an unknown user of each
    domain, a domain nobody hosts).
    """
    compare, absent, seen = [], [], set()

    def put(key, missing=False):
        if key and key not in seen and not any(c.isspace() for c in key):
            seen.add(key)
            compare.append(key)
            if missing:
                absent.append(key)
    domains = []
    for key in keys:
        put(key)
    for key in keys:
        put(key.upper())
        local, at, domain = key.rpartition("@")
        if at:
            if local and delimiter:
                put("%s%stag@%s" % (local, delimiter[0], domain))
            if domain and domain not in domains:
                domains.append(domain)
        elif "." in key and key not in domains:
            domains.append(key)
    for domain in domains:
        put("%s@%s" % (NEGATIVE_LOCAL, domain), True)
        put("sub.%s" % domain)
    put("%s@%s" % (NEGATIVE_LOCAL, NEGATIVE_DOMAIN), True)
    put("@%s" % NEGATIVE_DOMAIN, True)
    put(NEGATIVE_DOMAIN, True)
    return compare, absent


def compare(keys, absent, reference, candidate):
    """Differences between two tables' answers: [{key, file, database}] (None: not found).

    Keys in ``absent`` that either table answers are differences too (with
    ``must_not_be_found``).
    """
    differences = []
    missing = set(absent)
    for key in keys:
        ref, cand = reference.get(key), candidate.get(key)
        if ref != cand:
            differences.append({"key": key, "file": ref, "database": cand})
        elif key in missing and ref is not None:
            differences.append({"key": key, "file": ref, "database": cand, "must_not_be_found": True})
    return differences


# --- the database server's clients ---------------------------------------------

CLIENTS_VARIABLE = "vhosting_database_server__clients"


def database_clients(entries, name=CLIENTS_VARIABLE):
    """The mail hosts that may connect to the database servers: [{cidr, mariadb}], or raise NetworkTableError.

    Each entry is an IPv4/IPv6 address or network (checked by _networks:
    no host bits, no shorthand). ``cidr`` is its form for pg_hba.conf
    (``10.89.0.0/24``, ``192.0.2.7/32``, ``2001:db8::/64``); ``mariadb`` the
    host part of a MariaDB account: the address of a single host
    (``192.0.2.7``), ``address/netmask`` for an IPv4 network
    (``10.89.0.0/255.255.255.0``), None for IPv6 (MariaDB has no netmask
    form for it, and the role's MariaDB listens on IPv4 only). Refused:
    MariaDB's wildcards (``%``, ``_``), host names, and networks wider than
    /8 (IPv4) or /32 (IPv6), ``0.0.0.0/0`` and ``::/0`` included. Duplicates
    are dropped, the order is kept.
    """
    if entries is None:
        return []
    if not isinstance(entries, (list, tuple)):
        raise NetworkTableError("%s: expected a list of addresses or networks, got %s" % (name, type(entries).__name__))
    result = []
    for entry in entries:
        text = entry.strip() if isinstance(entry, str) else entry
        if isinstance(text, str) and ("%" in text or "_" in text or text == "*"):
            raise NetworkTableError("%s: %r is a wildcard, which would let any address (or any with that pattern) "
                                    "log in; list the mail hosts' addresses or networks" % (name, entry))
        try:
            network = cidr_key(text)
        except NetworkError as exc:
            raise NetworkTableError("%s: %s; list the mail hosts' addresses or networks (no host names)" % (name, exc))
        network = ipaddress.ip_network(network.replace("[", "").replace("]", ""))
        if network.prefixlen < WIDE_PREFIX[network.version]:
            raise NetworkTableError("%s: %r is wider than /%d (%s); list the mail hosts' addresses or networks"
                                    % (name, entry, WIDE_PREFIX[network.version],
                                       "every address" if network.prefixlen == 0 else
                                       "2^%d addresses" % (network.max_prefixlen - network.prefixlen)))
        if network.version == 6:
            mariadb = None
        elif network.prefixlen == network.max_prefixlen:
            mariadb = str(network.network_address)
        else:
            mariadb = "%s/%s" % (network.network_address, network.netmask)
        client = {"cidr": str(network), "mariadb": mariadb}
        if client not in result:
            result.append(client)
    return result
