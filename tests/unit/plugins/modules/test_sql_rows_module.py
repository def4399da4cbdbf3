# -*- coding: utf-8 -*-
"""sql_rows: the driver glue (connect arguments, COPY and executemany, the module's result) with fake drivers."""
import json

import pytest
from module_args import patch_module_args

from ansible_collections.vhosting.postfix.plugins.modules import sql_rows

PARAMS = {"backend": "pgsql", "host": "db.test", "port": 5432, "database": "vhosting_postfix", "tls": False,
          "ca_file": "/etc/ssl/db-ca.pem"}


@pytest.mark.parametrize("backend, tls, expected", [
    ("pgsql", True, {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/db-ca.pem", "dbname": "vhosting_postfix"}),
    ("pgsql", False, {"dbname": "vhosting_postfix"}),
    ("mysql", True, {"ssl_ca": "/etc/ssl/db-ca.pem", "ssl_verify_cert": True, "ssl_verify_identity": True,
                     "database": "vhosting_postfix", "autocommit": False}),
    ("mysql", False, {"database": "vhosting_postfix", "autocommit": False}),
])
def test_connect_args(backend, tls, expected):
    args = sql_rows.connect_args(dict(PARAMS, backend=backend, tls=tls), "loader", "pw")
    assert dict((k, args.get(k)) for k in expected) == expected
    assert (args["host"], args["port"], args["user"], args["password"]) == ("db.test", 5432, "loader", "pw")
    if not tls:
        assert not set(args) & {"sslmode", "sslrootcert", "ssl", "ssl_ca", "ssl_verify_cert"}


class Cursor(object):
    def __init__(self, log, answers):
        self.log, self.answers, self.description = log, answers, None

    def execute(self, query, params=None):
        self.log.append(("execute", query, params))
        names, self.records = self.answers.pop(0) if self.answers else ((), [])
        self.description = [(n,) for n in names]

    def fetchall(self):
        return self.records

    def copy_expert(self, statement, stream):
        self.log.append(("copy", statement, stream.read()))

    def executemany(self, statement, rows):
        self.log.append(("executemany", statement, list(rows)))

    def close(self):
        pass


class Connection(object):
    def __init__(self, answers=()):
        self.log, self.answers = [], list(answers)

    def cursor(self):
        return Cursor(self.log, self.answers)

    def commit(self):
        self.log.append(("commit",))

    def close(self):
        self.log.append(("close",))


@pytest.mark.parametrize("backend, verb", [("pgsql", "copy"), ("mysql", "executemany")])
def test_the_session_sends_new_rows_in_bulk(backend, verb):
    connection = Connection()
    session = sql_rows.Session(backend, connection)
    session.insert("vhosting_postfix_rows", [("mx1", "virtual_alias_map", "a@a.test", "b\tc")])
    (entry,) = connection.log
    assert entry[0] == verb
    if verb == "copy":
        assert entry[1].startswith("COPY vhosting_postfix_rows ") and entry[2] == "mx1\tvirtual_alias_map\ta@a.test\tb\\tc\n"
    else:
        assert entry[2] == [("mx1", "virtual_alias_map", "a@a.test", "b\tc")]


def test_the_session_reads_rows_as_dicts():
    connection = Connection([(("bucket", "digest"), [("0a", "ff"), ("0b", "1")])])
    assert sql_rows.Session("pgsql", connection).rows("SELECT", {"scope": "mx1"}) == [
        {"bucket": "0a", "digest": "ff"}, {"bucket": "0b", "digest": "1"}]


class Driver(object):
    """psycopg2's connect(): every connection answers 'the table is absent' first."""

    class Error(Exception):
        pass

    def __init__(self, fail=None):
        self.connections, self.fail = [], fail

    def connect(self, **kwargs):
        if self.fail:
            raise self.Error(self.fail)
        connection = Connection([(("present", "scoped", "writable"), [(0, 0, 0)])])
        connection.kwargs = kwargs
        self.connections.append(connection)
        return connection


def run(monkeypatch, capsys, driver, **extra):
    monkeypatch.setattr(sql_rows, "psycopg2", driver)
    args = dict(backend="pgsql", host="db.test", port=5432, database="vhosting_postfix", user="loader",
                password="Loader-Secret-9", reader_user="reader", table="vhosting_postfix_rows", scope="mx1",
                tables={"virtual_alias_map": "info@a.test\tann@a.test\n"})
    args.update(extra)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            sql_rows.main()
    return json.loads(capsys.readouterr().out)


def test_a_first_run_creates_the_table_and_copies_the_rows(monkeypatch, capsys):
    driver = Driver()
    result = run(monkeypatch, capsys, driver, _ansible_diff=True)
    assert result["changed"] and result["created"] == ["vhosting_postfix_rows"] and result["added"] == 1
    assert result["diff"]["after"] == "virtual_alias_map info@a.test ann@a.test\n"
    (connection,) = driver.connections
    verbs = [e[0] for e in connection.log]
    assert verbs == ["execute", "execute", "execute", "commit", "copy", "commit", "close"], verbs
    assert connection.log[4][2] == "mx1\tvirtual_alias_map\tinfo@a.test\tann@a.test\n"
    assert "Loader-Secret-9" not in json.dumps(result)
    # The arguments echoed in the result name the tables' sizes, not their rows (100,000 rows are 5 MB).
    assert result["invocation"]["module_args"]["tables"] == {"virtual_alias_map": "(1 lines)"}
    assert result["invocation"]["module_args"]["scope"] == "mx1" and "info@a.test" not in json.dumps(result["invocation"])


def test_check_mode_connects_reads_and_writes_nothing(monkeypatch, capsys):
    driver = Driver()
    result = run(monkeypatch, capsys, driver, _ansible_check_mode=True)
    assert result["changed"] and result["added"] == 1
    assert [e[0] for e in driver.connections[0].log] == ["execute", "close"]


def test_a_database_error_fails_the_module_with_the_driver_s_message(monkeypatch, capsys):
    result = run(monkeypatch, capsys, Driver(fail="could not connect to server: Connection refused\n"))
    assert result["failed"] and result["msg"] == "could not connect to server: Connection refused"
    assert "Loader-Secret-9" not in json.dumps(result) and "info@a.test" not in json.dumps(result)


def test_a_refusal_fails_the_module_before_any_write(monkeypatch, capsys):
    class Writable(Driver):
        def connect(self, **kwargs):
            connection = Connection([(("present", "scoped", "writable"), [(1, 1, 1)])])
            self.connections.append(connection)
            return connection
    driver = Writable()
    result = run(monkeypatch, capsys, driver)
    assert result["failed"] and "may change the table" in result["msg"]
    assert [e[0] for e in driver.connections[0].log] == ["execute", "close"]
