# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQL side of the network tables, as one exchange on the managed host (vhosting.postfix.sql_rows).

:func:`sync` brings the rows of one scope of the lookup table to the model's
rows: whether the table is there (and has a scope column, and Postfix's user
may not write it), the digests of the 256 key ranges, the rows of the ranges
that differ, then one transaction with the difference. It talks to the
database through a *session* (the module's driver glue, or a fake in the unit
tests) with four calls:

* ``rows(query, params)``: the result rows of a read, as dicts;
* ``run(statements, params)``: statements of the current transaction;
* ``insert(table, rows)``: new rows ``(scope, map, key, value)``, in bulk
  (PostgreSQL's COPY, MariaDB's multi-row INSERT);
* ``commit()``.

The SQL text comes from :mod:`_network_tables`; the data goes only as
parameters or through the bulk path, never into the SQL text.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables as nt


class SqlRowsError(Exception):
    """A refusal before any write (the message says that nothing was written where it matters)."""


def copy_text(rows):
    """PostgreSQL COPY text format of ``rows`` (tuples of str): tab-separated, backslash escapes."""
    def escape(value):
        return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))
    return "".join("\t".join(escape(v) for v in row) + "\n" for row in rows)


def insert_statement(backend, table):
    """The statement of the bulk path: COPY (PostgreSQL), or the INSERT that the MariaDB driver sends as
    multi-row statements (an existing row is updated: a run that lost a race with itself still converges)."""
    _check_name(table)
    if backend == "pgsql":
        return "COPY %s (scope, map_name, lookup_key, lookup_value) FROM STDIN" % table
    return ("INSERT INTO %s (scope, map_name, lookup_key, lookup_value) VALUES (%%s, %%s, %%s, %%s) "
            "ON DUPLICATE KEY UPDATE lookup_value = VALUES(lookup_value)" % table)


def _check_name(table):
    # The table's name is SQL text: the inventory's check (nt.check_database) allows these only; checked again here.
    if not nt._NAME_RE.match(table or ""):
        raise SqlRowsError("the table name %r is not a plain SQL name (letters, digits, _)" % (table,))


def parse_tables(tables):
    """{map: {key: value}} of {map: ``key<TAB>value`` text} (the model's data files), known maps only."""
    desired = {}
    for map_name, text in sorted((tables or {}).items()):
        if map_name not in nt.MAPS:
            raise SqlRowsError("unknown table %r (one of %s)" % (map_name, ", ".join(nt.MAPS)))
        try:
            desired[map_name] = nt.parse_rows(text)
        except nt.NetworkTableError as exc:
            raise SqlRowsError("table %s: %s" % (map_name, exc))
    return desired


def sync(session, backend, table, scope, desired, reader=None, reader_user="", phase="all", check_mode=False,
         diff=False):
    """Bring the rows of ``scope`` in ``table`` to ``desired`` ({map: {key: value}}); return a report.

    ``reader`` is a session as Postfix's user (MariaDB shows an account only its own privileges, so there the
    table's check runs as that user). ``phase``: ``upsert`` (added and changed rows), ``remove``, or ``all``.
    Check mode reads and writes nothing. The report: ``added``, ``updated``, ``removed`` (counts of this phase),
    ``created`` (the table, when it was not there), ``pending_remove`` (rows the remove phase will take, in the
    upsert phase), ``digest_reads``, ``rows_read``, ``changed``, and with ``diff`` the ``before``/``after`` texts.
    """
    if backend not in ("pgsql", "mysql"):
        raise SqlRowsError("backend must be pgsql or mysql, got %r" % (backend,))
    _check_name(table)
    if not nt._SCOPE_RE.match(scope or ""):
        raise SqlRowsError("the scope %r is not letters, digits, '.', '_', '-'" % (scope,))
    asking = reader if (backend == "mysql" and reader is not None) else session
    present = asking.rows(nt.sql_exists(backend), {"table": table, "reader": reader_user})[0]
    if int(present["present"]) and not int(present["scoped"]):
        raise SqlRowsError(
            "the table %s has no scope column: it has the layout of a release before the scopes (one mail host per "
            "table), which other hosts may still read; give vhosting_domains__database a new table (the default is "
            "now %s), or drop the old table when no host reads it any more (docs/network-tables.md, Upgrading); "
            "nothing was written" % (table, nt.DEFAULT_SQL_TABLE))
    if int(present.get("writable") or 0):
        raise SqlRowsError(
            "Postfix's database user %s may change the table %s (%s): it needs SELECT only, and its password is in "
            "a file every Postfix process can read; revoke the rest; nothing was written"
            % (reader_user, table, nt.WRITE_PRIVILEGES[backend]))
    report = {"created": [], "digest_reads": 0, "rows_read": 0}
    current, compared = {}, desired
    if not int(present["present"]):
        if phase == "remove":
            return _report(report, nt.phase_of(nt.changes({}, {}), phase), 0, diff)  # no table: nothing to remove
        report["created"].append(table)
        if not check_mode:
            # Postfix's user reads it through the database's default privileges (database_server sets them).
            session.run(nt.sql_schema(backend, table), None)
            session.commit()
    else:
        # Only the key ranges whose digests differ are read: a run that changes nothing reads 256 digests.
        digests = session.rows(nt.sql_digests(backend, table), {"scope": scope})
        report["digest_reads"] = 1
        wanted, index = nt.bucket_index(desired)
        buckets = nt.differing_buckets(nt.digests_from_result(digests), wanted)
        compared = nt.rows_in(index, buckets)
        if buckets:
            records = session.rows(nt.sql_select_buckets(backend, table), {"scope": scope, "buckets": json.dumps(buckets)})
            report["rows_read"] = len(records)
            current = nt.rows_from_result(records)
    full = nt.changes(current, compared)
    delta = nt.phase_of(full, phase)
    if (delta["add"] or delta["change"] or delta["remove"]) and not check_mode:
        write(session, backend, table, scope, delta)
    return _report(report, delta, len(full["remove"]) if phase == "upsert" else 0, diff)


def write(session, backend, table, scope, delta):
    """One transaction: removals and changes as two statements with JSON parameters, new rows in bulk."""
    if delta["remove"] or delta["change"]:
        remove_statement, upsert_statement = nt.sql_write(backend, table)
        args = nt.sql_write_args({"add": [], "change": delta["change"], "remove": delta["remove"]}, scope)
        statements = ([remove_statement] if delta["remove"] else []) + ([upsert_statement] if delta["change"] else [])
        session.run(statements, args)
    if delta["add"]:
        session.insert(table, [(scope, m, k, v) for m, k, v in delta["add"]])
    session.commit()


def _report(report, delta, pending, diff):
    report.update(added=len(delta["add"]), updated=len(delta["change"]), removed=len(delta["remove"]),
                  pending_remove=pending, summary=nt.summary(delta))
    report["changed"] = bool(report["added"] or report["updated"] or report["removed"] or report["created"] or pending)
    if diff and (delta["add"] or delta["change"] or delta["remove"]):
        report["before"], report["after"] = nt.diff_text(delta)
    return report
