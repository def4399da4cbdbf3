# -*- coding: utf-8 -*-
"""_sql_rows.sync: one exchange per run; the reads it needs, one transaction with the difference, new rows in bulk."""
import json

import pytest
from sql_fake import FakeSqlSession

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables as nt
from ansible_collections.vhosting.postfix.plugins.module_utils import _sql_rows as core


Session = FakeSqlSession


OTHER = {("mx2", "virtual_alias_map", "info@b.test"): "bob@b.test"}


def sync(session, desired, **kwargs):
    return core.sync(session, kwargs.pop("backend", "pgsql"), "vhosting_postfix_rows", "mx1", desired,
                     reader_user="postfix_reader", **kwargs)


def test_a_first_load_creates_the_table_and_sends_every_row_in_bulk():
    session = Session(present=False)
    desired = {"virtual_mailbox_map": dict(("u%d@a.test" % i, "a.test/u%d/" % i) for i in range(500))}
    report = sync(session, desired)
    assert report["created"] == ["vhosting_postfix_rows"] and report["added"] == 500 and report["changed"]
    schema, commit, insert, last = session.writes()
    assert schema == ("run", nt.sql_schema("pgsql", "vhosting_postfix_rows"), None) and commit == ("commit",)
    assert insert[0] == "insert" and len(insert[2]) == 500 and last == ("commit",)
    # No digest and no row is read from a table that was not there.
    assert report["digest_reads"] == report["rows_read"] == 0 and len(session.log) == 5
    assert sync(session, desired) == dict(report, created=[], added=0, changed=False, digest_reads=1,
                                          summary="0 rows added, 0 changed, 0 removed")


def test_one_change_reads_one_key_range_and_writes_one_statement():
    desired = {"virtual_mailbox_map": dict(("u%d@a.test" % i, "a.test/u%d/" % i) for i in range(500))}
    mine = dict((("mx1", "virtual_mailbox_map", k), v) for k, v in desired["virtual_mailbox_map"].items())
    session = Session(mine, mysql=True)
    session.data.update(OTHER)
    desired["virtual_mailbox_map"]["u7@a.test"] = "a.test/changed/"
    report = sync(session, desired, backend="mysql", reader=Session(mysql=True))
    assert (report["added"], report["updated"], report["removed"]) == (0, 1, 0)
    assert 0 < report["rows_read"] < 10 and report["digest_reads"] == 1
    (run, statements, params), commit = session.writes()
    assert len(statements) == 1 and "ON DUPLICATE KEY UPDATE" in statements[0] and json.loads(params["upsert"]) == [
        {"m": "virtual_mailbox_map", "k": "u7@a.test", "v": "a.test/changed/"}]
    assert session.data[("mx1", "virtual_mailbox_map", "u7@a.test")] == "a.test/changed/"
    assert session.data[("mx2", "virtual_alias_map", "info@b.test")] == "bob@b.test"


def test_removals_and_changes_then_new_rows_in_one_transaction():
    session = Session({("mx1", "virtual_alias_map", "info@a.test"): "bob@a.test",
                       ("mx1", "transport_map", "a.test"): "lmtp:x"})
    session.data.update(OTHER)
    report = sync(session, {"virtual_alias_map": {"info@a.test": "ann@a.test", "new@a.test": "ann@a.test"}}, diff=True)
    assert (report["added"], report["updated"], report["removed"]) == (1, 1, 1)
    (run, statements, params), insert, commit = session.writes()
    assert len(statements) == 2 and statements[0].startswith("DELETE") and params["scope"] == "mx1"
    assert insert == ("insert", "vhosting_postfix_rows", [("mx1", "virtual_alias_map", "new@a.test", "ann@a.test")])
    assert commit == ("commit",)
    assert session.data == {("mx1", "virtual_alias_map", "info@a.test"): "ann@a.test",
                            ("mx1", "virtual_alias_map", "new@a.test"): "ann@a.test", **OTHER}
    assert "transport_map a.test lmtp:x" in report["before"] and "virtual_alias_map new@a.test ann@a.test" in report["after"]


def test_check_mode_reads_and_writes_nothing_not_even_the_table():
    session = Session(present=False)
    report = sync(session, {"virtual_alias_map": {"info@a.test": "ann@a.test"}}, check_mode=True)
    assert report["changed"] and report["created"] == ["vhosting_postfix_rows"] and report["added"] == 1
    assert session.writes() == []
    session = Session({("mx1", "virtual_alias_map", "old@a.test"): "x"})
    report = sync(session, {}, check_mode=True)
    assert report["removed"] == 1 and session.writes() == [] and session.data


def test_phases():
    rows = {("mx1", "virtual_alias_map", "info@a.test"): "bob@a.test", ("mx1", "virtual_alias_map", "gone@a.test"): "x"}
    want = {"virtual_alias_map": {"info@a.test": "ann@a.test", "new@a.test": "ann@a.test"}}
    session = Session(rows)
    upsert = sync(session, want, phase="upsert")
    assert (upsert["added"], upsert["updated"], upsert["removed"], upsert["pending_remove"]) == (1, 1, 0, 1)
    assert ("mx1", "virtual_alias_map", "gone@a.test") in session.data
    remove = sync(session, want, phase="remove")
    assert (remove["added"], remove["updated"], remove["removed"], remove["pending_remove"]) == (0, 0, 1, 0)
    assert ("mx1", "virtual_alias_map", "gone@a.test") not in session.data
    absent = Session(present=False)
    assert not sync(absent, want, phase="remove")["changed"] and absent.writes() == []


@pytest.mark.parametrize("backend, asked", [("mysql", "reader"), ("pgsql", "loader")])
def test_the_privilege_check_runs_as_postfix_s_user_on_mariadb_only(backend, asked):
    loader, reader = Session(), Session()
    sync(loader, {}, backend=backend, reader=reader)
    sessions = {"loader": loader, "reader": reader}
    assert "present" in sessions[asked].log[0][1] and sessions[asked].log[0][2] == {
        "table": "vhosting_postfix_rows", "reader": "postfix_reader"}
    assert not [e for e in reader.log if "present" not in e[1]]  # the reader only asks


@pytest.mark.parametrize("session, message", [
    (Session(scoped=False), "has no scope column"),
    (Session(writable=True), "Postfix's database user postfix_reader may change the table vhosting_postfix_rows "
                             "(INSERT, UPDATE, DELETE or TRUNCATE)"),
])
def test_refusals_before_any_write(session, message):
    with pytest.raises(core.SqlRowsError, match=r"nothing was written") as error:
        sync(session, {"virtual_alias_map": {"a@a.test": "b@a.test"}})
    assert message in str(error.value) and session.writes() == [] and len(session.log) == 1


@pytest.mark.parametrize("table, scope, message", [
    ("rows; DROP TABLE x", "mx1", "not a plain SQL name"),
    ("vhosting_postfix_rows", "mx1'; --", "is not letters"),
])
def test_names_that_reach_sql_text_are_checked_again(table, scope, message):
    session = Session()
    with pytest.raises(core.SqlRowsError, match=message):
        core.sync(session, "pgsql", table, scope, {})
    assert session.log == []


def test_parse_tables():
    assert core.parse_tables({"virtual_alias_map": "Info@A.test\tann@a.test\n\n"}) == {
        "virtual_alias_map": {"info@a.test": "ann@a.test"}}
    with pytest.raises(core.SqlRowsError, match="unknown table 'passwd'"):
        core.parse_tables({"passwd": "root\tx\n"})
    with pytest.raises(core.SqlRowsError, match="table virtual_alias_map: line 1 is not key<TAB>value"):
        core.parse_tables({"virtual_alias_map": "no tab here\n"})


def test_copy_text_escapes_what_copy_reads_as_syntax():
    assert core.copy_text([("mx1", "m", "a\\b", "x\ty\nz\r")]) == "mx1\tm\ta\\\\b\tx\\ty\\nz\\r\n"
    assert core.insert_statement("pgsql", "t1") == "COPY t1 (scope, map_name, lookup_key, lookup_value) FROM STDIN"
    assert core.insert_statement("mysql", "t1").startswith("INSERT INTO t1 (scope, map_name, lookup_key, lookup_value) "
                                                           "VALUES (%s, %s, %s, %s)")
