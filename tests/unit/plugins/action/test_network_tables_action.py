# -*- coding: utf-8 -*-
"""The network_tables action with the database modules replaced by a recorder: reads always, writes only a difference."""
from unittest import mock

import pytest

# What Ansible passes as shared_loader_obj (ansible-core 2.19 uses it whatever is passed).
from ansible.plugins import loader as plugin_loader
from sql_fake import FakeSqlSession

from ansible_collections.vhosting.postfix.plugins.action.network_tables import ActionModule
from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables as nt
from ansible_collections.vhosting.postfix.plugins.module_utils import _sql_rows

CONNECTION = {"host": "db", "port": 5432, "name": "vhosting_postfix", "user": "reader", "admin_user": "loader",
              "table": "vhosting_postfix_rows", "scope": "mx1", "load": True}
LDAP = dict(CONNECTION, port=389, name="ou=postfix,dc=x,dc=test", admin_user="cn=admin,dc=x,dc=test")


# Rows of another host in the same table (or base DN): never read as the host's own, never written.
OTHER = {("virtual_alias_map", "info@b.test"): "bob@b.test", ("transport_map", "b.test"): "lmtp:y"}


class Database(object):
    """Answers the modules' calls from rows {(map, key): value} of scope mx1 and the rows OTHER of scope mx2 (a
    SELECT filters on its named argument scope, as the database would); records every call and its check mode."""

    def __init__(self, rows, present=True, ldap_root=True, scoped=True, writable=False):
        self.rows, self.present, self.ldap_root, self.scoped, self.calls = dict(rows), present, ldap_root, scoped, []
        self.writable, self.refused = writable, []
        self.scopes = {"mx1": self.rows, "mx2": dict(OTHER)}
        self.digest_reads = self.rows_read = 0
        self.sql_writes, self.queries = [], []

    def _by_map(self, scope):
        out = {}
        for (m, k), v in self.scopes.get(scope, {}).items():
            out.setdefault(m, {})[k] = v
        return out

    def __call__(self, action, module_name, module_args, task_vars):
        self.calls.append((module_name, module_args, action._task.check_mode))
        query = module_args.get("query")
        if module_name == "community.general.ldap_search":
            if not self.ldap_root:
                return {"failed": True, "msg": "Base not found: " + module_args["dn"]}
            # Every entry below the base DN (a table's container and its rows): what the search returns is what
            # its dn selects.
            entries = [{"dn": "cn=%s,ou=%s,ou=%s,%s" % (k, m, scope, LDAP["name"]), "cn": k, "description": v}
                       for scope, rows in sorted(self.scopes.items()) for (m, k), v in rows.items()]
            entries += [{"dn": "ou=%s,ou=%s,%s" % (m, scope, LDAP["name"]), "ou": m}
                        for scope, rows in sorted(self.scopes.items()) for m in sorted(set(m for m, _k in rows))]
            return {"results": [e for e in entries if e["dn"].endswith("," + module_args["dn"])]}
        if module_name.startswith("community.general."):
            return {"changed": True}
        if module_name == "vhosting.postfix.ldap_rows":
            # The write probe as the reader, before any change (in check mode too).
            probed = module_args["probe_dns"][0]
            if self.writable:
                self.refused.append(len(self.calls) - 1)  # the module fails before its first change
                return {"failed": True, "writable": True, "probed": probed, "msg": "%s may change the entry %s"
                        % (module_args["probe_bind_dn"], probed)}
            return {"changed": bool(module_args["add"] or module_args["replace"] or module_args["delete"])
                    and not action._task.check_mode, "probed": probed}
        assert module_name == "vhosting.postfix.sql_rows", module_name
        session = sql_session(self, module_args["backend"])
        try:
            report = _sql_rows.sync(session, module_args["backend"], module_args["table"], module_args["scope"],
                                    _sql_rows.parse_tables(module_args["tables"]), reader=session,
                                    reader_user=module_args["reader_user"], phase=module_args["phase"],
                                    check_mode=action._task.check_mode, diff=action._task.diff)
        except _sql_rows.SqlRowsError as exc:
            return {"failed": True, "msg": str(exc)}
        finally:
            for entry in session.reads():
                assert entry[1] != nt.sql_exists(module_args["backend"]) or entry[2] == {
                    "table": "vhosting_postfix_rows", "reader": "reader"}
            self.queries.extend(session.reads())
            self.digest_reads += session.digest_reads
            self.rows_read += session.rows_read
            self.sql_writes.extend(session.writes())
        result = dict(changed=report.pop("changed"), msg=report.pop("summary"))
        if "before" in report:
            result["diff"] = {"before": report.pop("before"), "after": report.pop("after")}
        result.update(report)
        return result

    def writes(self):
        """SQL: the statements and bulk inserts the core sent; LDAP: the ldap_rows runs that wrote."""
        return list(self.sql_writes) + [
            c for i, c in enumerate(self.calls)
            if (c[0] == "vhosting.postfix.ldap_rows" and not c[2] and i not in self.refused
                and (c[1]["add"] or c[1]["replace"] or c[1]["delete"]))]


def sql_session(database, backend):
    """The shared fake database (sql_fake) holding the Database's rows of every scope, with its flags."""
    rows = dict(((scope, m, k), v) for scope, by_key in database.scopes.items() for (m, k), v in by_key.items())
    return FakeSqlSession(rows, present=database.present, scoped=database.scoped, writable=database.writable,
                          mysql=backend == "mysql")


def run(tmp_path, database, backend="pgsql", check_mode=False, diff=False, rows=None, connection=None, phase=None):
    data = tmp_path / "virtual_alias_map.txt"
    data.write_text("".join("%s\t%s\n" % kv for kv in (rows or {"info@a.test": "ann@a.test"}).items()))
    task = mock.MagicMock()
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    task.args = {"backend": backend, "connection": connection or CONNECTION, "login_password": "pw",
                 "reader_password": "rpw", "tables": {"virtual_alias_map": str(data)}}
    if phase:
        task.args["phase"] = phase
    loader = mock.MagicMock()
    loader.path_dwim.side_effect = lambda p: p
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader, mock.MagicMock(), plugin_loader)
    action._connection._shell.tmpdir = "/tmp"
    with mock.patch.object(ActionModule, "_execute_module", autospec=True, side_effect=database):
        return action.run(task_vars={})


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_no_difference_reads_and_writes_nothing(tmp_path, backend):
    database = Database({("virtual_alias_map", "info@a.test"): "ann@a.test"})
    result = run(tmp_path, database, backend)
    assert not result["changed"] and (result["added"], result["updated"], result["removed"]) == (0, 0, 0)
    # One module run: the table's existence and the digests of its key ranges; no row is read.
    assert database.writes() == [] and len(database.calls) == 1 and database.rows_read == 0
    assert database.digest_reads == 1 and len(database.queries) == 2


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_one_changed_row_reads_only_its_key_range(tmp_path, backend):
    many = dict(("user%03d@a.test" % i, "a.test/user%03d/" % i) for i in range(300))
    database = Database(dict((("virtual_mailbox_map", k), v) for k, v in many.items()))
    data = tmp_path / "virtual_mailbox_map.txt"
    want = dict(many, **{"user007@a.test": "a.test/changed/"})
    data.write_text("".join("%s\t%s\n" % kv for kv in want.items()))
    task = mock.MagicMock(async_val=0, check_mode=False, diff=False)
    task.args = {"backend": backend, "connection": CONNECTION, "login_password": "pw",
                 "tables": {"virtual_mailbox_map": str(data)}}
    loader = mock.MagicMock()
    loader.path_dwim.side_effect = lambda p: p
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader, mock.MagicMock(), plugin_loader)
    with mock.patch.object(ActionModule, "_execute_module", autospec=True, side_effect=database):
        result = action.run(task_vars={})
    assert (result["added"], result["updated"], result["removed"]) == (0, 1, 0)
    same_range = [k for k in many if nt.bucket(k) == nt.bucket("user007@a.test")]
    assert database.digest_reads == 1 and database.rows_read == len(same_range) < 10


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_a_difference_is_written_in_one_call(tmp_path, backend):
    database = Database({("virtual_alias_map", "info@a.test"): "bob@a.test", ("transport_map", "a.test"): "lmtp:x"})
    result = run(tmp_path, database, backend, rows={"info@a.test": "ann@a.test", "new@a.test": "ann@a.test"})
    assert result["changed"] and (result["added"], result["updated"], result["removed"]) == (1, 1, 1)
    # One module run; in it one transaction: the removal and the change as two statements, the new row in bulk.
    assert len(database.calls) == 1
    (_run, statements, args), insert, commit = database.writes()
    assert len(statements) == 2 and "ann@a.test" in args["upsert"] and "new@a.test" not in args["upsert"]
    assert "transport_map" in args["remove"] and args["scope"] == "mx1"
    assert "scope = %(scope)s" in statements[0] and "SELECT %(scope)s" in statements[1]
    assert insert == ("insert", "vhosting_postfix_rows", [("mx1", "virtual_alias_map", "new@a.test", "ann@a.test")])
    assert commit == ("commit",)
    # The other host's rows were neither read as this host's nor written.
    assert "b.test" not in str(database.writes())
    module_args = database.calls[0][1]
    assert (module_args["user"], module_args["password"]) == ("loader", "pw") and "pw" not in str(result)


def test_check_mode_reads_without_check_mode_and_writes_nothing(tmp_path):
    database = Database({})
    result = run(tmp_path, database, "mysql", check_mode=True, diff=True)
    assert result["changed"] and result["added"] == 1 and "check mode: nothing written" in result["msg"]
    assert database.writes() == []
    # One module run in check mode: it reads the table, the digests, one key range, and writes nothing.
    assert [(c[0], c[2]) for c in database.calls] == [("vhosting.postfix.sql_rows", True)]
    assert len(database.queries) == 3
    assert result["diff"]["after"] == "virtual_alias_map info@a.test ann@a.test\n"


def test_a_missing_table_is_created(tmp_path):
    database = Database({}, present=False)
    result = run(tmp_path, database)
    assert result["created"] == ["vhosting_postfix_rows"] and result["added"] == 1
    (_run, statements, params), commit = database.writes()[:2]
    create = statements[-1]
    assert params is None and commit == ("commit",) and database.writes()[2][0] == "insert"
    assert create.startswith("CREATE TABLE IF NOT EXISTS vhosting_postfix_rows ")
    assert "PRIMARY KEY (scope, map_name, lookup_key)" in create


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_a_table_without_scopes_is_refused_and_left_alone(tmp_path, backend):
    database = Database({}, scoped=False)
    result = run(tmp_path, database, backend)
    assert result["failed"] and "has no scope column" in result["msg"] and "vhosting_postfix_rows" in result["msg"]
    assert database.writes() == [] and len(database.calls) == 1


@pytest.mark.parametrize("backend, privileges", [("pgsql", "(INSERT, UPDATE, DELETE or TRUNCATE)"),
                                                 ("mysql", "(INSERT, UPDATE, DELETE, DROP or ALTER)")])
def test_a_table_postfix_may_write_to_is_refused_and_left_alone(tmp_path, backend, privileges):
    database = Database({}, writable=True)
    result = run(tmp_path, database, backend)
    assert result["failed"] and "Postfix's database user reader may change the table vhosting_postfix_rows " + \
        privileges in result["msg"] and "nothing was written" in result["msg"]
    assert database.writes() == [] and len(database.calls) == 1


@pytest.mark.parametrize("check_mode", [False, True])
def test_an_ldap_reader_that_may_write_is_refused_before_any_change(tmp_path, check_mode):
    database = Database({}, writable=True)
    result = run(tmp_path, database, "ldap", connection=LDAP, check_mode=check_mode,
                 rows={"info@a.test": "ann@a.test"})
    assert result["failed"] and "Postfix's LDAP user %s may change the entry ou=mx1,%s" % (
        LDAP["user"], LDAP["name"]) in result["msg"] and "nothing was written" in result["msg"]
    assert database.writes() == []
    probe = [c for c in database.calls if c[0] == "vhosting.postfix.ldap_rows"][0][1]
    assert probe["probe_bind_dn"] == LDAP["user"] and probe["probe_bind_pw"] == "rpw"
    assert probe["probe_dns"][:2] == ["ou=mx1," + LDAP["name"], LDAP["name"]]


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_the_sql_writer_gets_both_accounts(tmp_path, backend):
    database = Database({})
    run(tmp_path, database, backend)
    (name, args, _check), = database.calls
    assert name == "vhosting.postfix.sql_rows"
    assert (args["user"], args["password"], args["reader_user"], args["reader_password"]) == ("loader", "pw", "reader", "rpw")
    assert (args["host"], args["port"], args["database"], args["table"], args["scope"]) == (
        "db", 5432, "vhosting_postfix", "vhosting_postfix_rows", "mx1")
    assert args["tables"] == {"virtual_alias_map": "info@a.test\tann@a.test\n"}


@pytest.mark.parametrize("backend", ["pgsql", "mysql", "ldap"])
def test_phases_upsert_then_remove(tmp_path, backend):
    rows = {("virtual_alias_map", "info@a.test"): "bob@a.test", ("virtual_alias_map", "gone@a.test"): "x"}
    want = {"info@a.test": "ann@a.test", "new@a.test": "ann@a.test"}
    connection = LDAP if backend == "ldap" else CONNECTION
    upsert = run(tmp_path, Database(rows), backend, rows=want, connection=connection, phase="upsert")
    assert (upsert["added"], upsert["updated"], upsert["removed"], upsert["phase"]) == (1, 1, 0, "upsert")
    assert upsert["pending_remove"] == 1 and "1 rows to remove next" in upsert["msg"]
    # Only a row to remove: nothing is written, but the task is changed, so that it notifies the handler.
    only_removal = Database({("virtual_alias_map", "info@a.test"): "ann@a.test", ("virtual_alias_map", "gone@a.test"): "x"})
    result = run(tmp_path, only_removal, backend, rows={"info@a.test": "ann@a.test"}, connection=connection,
                 phase="upsert")
    assert result["changed"] and result["pending_remove"] == 1 and only_removal.writes() == []
    remove_db = Database(rows)
    remove = run(tmp_path, remove_db, backend, rows=want, connection=connection, phase="remove")
    assert (remove["added"], remove["updated"], remove["removed"]) == (0, 0, 1) and remove["changed"]
    assert "new@a.test" not in str(remove_db.writes())


def test_remove_phase_without_the_table_or_scope_changes_nothing(tmp_path):
    database = Database({}, present=False)
    result = run(tmp_path, database, phase="remove")
    assert not result["changed"] and database.writes() == []
    database = Database({}, ldap_root=False)
    result = run(tmp_path, database, "ldap", connection=LDAP, phase="remove")
    assert not result["changed"] and database.writes() == []


def test_a_failing_module_fails_the_task_naming_the_database(tmp_path):
    class Down(Database):
        def __call__(self, action, module_name, module_args, task_vars):
            return {"failed": True, "msg": "unable to connect to database"}
    result = run(tmp_path, Down({}), "mysql")
    assert result["failed"] and "the mysql database at db:5432" in result["msg"] and "unable to connect" in result["msg"]


def test_ldap_adds_changes_removes_in_one_module_run(tmp_path):
    database = Database({("virtual_alias_map", "info@a.test"): "bob@a.test", ("virtual_alias_map", "old@a.test"): "x"})
    result = run(tmp_path, database, "ldap", rows={"info@a.test": "ann@a.test", "new@a.test": "ann@a.test"},
                 connection=LDAP)
    assert (result["added"], result["updated"], result["removed"]) == (1, 1, 1)
    # The search reads the host's scope only: mx2's entries are neither changed nor removed.
    assert database.calls[0][1]["dn"] == "ou=mx1,ou=postfix,dc=x,dc=test"
    (write,) = database.writes()
    args = write[1]
    assert (args["server_uri"], args["bind_dn"], args["bind_pw"]) == ("ldap://db:389", "cn=admin,dc=x,dc=test", "pw")
    assert args["add"] == [{"dn": "cn=new@a.test,ou=virtual_alias_map,ou=mx1,ou=postfix,dc=x,dc=test",
                            "attributes": {"objectClass": "organizationalRole", "cn": "new@a.test",
                                           "description": "ann@a.test"}}]
    assert args["replace"] == [{"dn": "cn=info@a.test,ou=virtual_alias_map,ou=mx1,ou=postfix,dc=x,dc=test",
                                "attribute": "description", "value": "ann@a.test"}]
    assert args["delete"] == ["cn=old@a.test,ou=virtual_alias_map,ou=mx1,ou=postfix,dc=x,dc=test"]
    assert "pw" not in str(result)


def test_ldap_missing_base_is_created_first(tmp_path):
    database = Database({}, ldap_root=False)
    result = run(tmp_path, database, "ldap", connection=LDAP)
    assert result["created"][0] == "ou=mx1," + LDAP["name"]
    (write,) = database.writes()
    assert [(a["dn"], a["attributes"]) for a in write[1]["add"][:3]] == [
        (LDAP["name"], {"ou": "postfix", "objectClass": "organizationalUnit"}),
        ("ou=mx1," + LDAP["name"], {"ou": "mx1", "objectClass": "organizationalUnit"}),
        ("ou=virtual_alias_map,ou=mx1," + LDAP["name"], {"ou": "virtual_alias_map", "objectClass": "organizationalUnit"})]


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_tls_sql_loader_checks_the_server_certificate(tmp_path, backend):
    database = Database({}, present=False)
    run(tmp_path, database, backend, connection=dict(CONNECTION, tls=True, ca_file="/etc/ssl/db-ca.pem"))
    (_name, args, _check), = database.calls
    assert (args["tls"], args["ca_file"]) == (True, "/etc/ssl/db-ca.pem")


def test_tls_ldap_loader_uses_starttls_for_the_search_and_the_writer(tmp_path):
    database = Database({})
    run(tmp_path, database, "ldap", connection=dict(LDAP, tls=True, ca_file="/etc/ssl/db-ca.pem"))
    search, write = database.calls[0][1], database.writes()[0][1]
    assert (search["start_tls"], search["validate_certs"], search["ca_path"]) == (True, True, "/etc/ssl/db-ca.pem")
    assert (write["start_tls"], write["ca_file"]) == (True, "/etc/ssl/db-ca.pem")


def test_without_tls_no_tls_option_is_passed(tmp_path):
    database = Database({}, present=False)
    run(tmp_path, database, "pgsql")
    assert all(c[1]["tls"] is False and "ca_file" not in c[1] for c in database.calls)
