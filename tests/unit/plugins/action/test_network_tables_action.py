# -*- coding: utf-8 -*-
"""The network_tables action with the database modules replaced by a recorder: reads always, writes only a difference."""
from unittest import mock

import pytest

# What Ansible passes as shared_loader_obj (ansible-core 2.19 uses it whatever is passed).
from ansible.plugins import loader as plugin_loader
from ansible_collections.vhosting.postfix.plugins.action.network_tables import ActionModule

CONNECTION = {"host": "db", "port": 5432, "name": "vhosting_postfix", "user": "reader", "admin_user": "loader",
              "table": "vhosting_postfix_lookup", "load": True}
LDAP = dict(CONNECTION, port=389, name="ou=postfix,dc=x,dc=test", admin_user="cn=admin,dc=x,dc=test")


class Database(object):
    """Answers the modules' calls from rows {(map, key): value}; records every call and its check mode."""

    def __init__(self, rows, present=True, ldap_root=True):
        self.rows, self.present, self.ldap_root, self.calls = dict(rows), present, ldap_root, []

    def __call__(self, action, module_name, module_args, task_vars):
        self.calls.append((module_name, module_args, action._task.check_mode))
        query = module_args.get("query")
        if module_name == "community.general.ldap_search":
            if not self.ldap_root:
                return {"failed": True, "msg": "Base not found: " + module_args["dn"]}
            return {"results": [{"dn": "cn=%s,ou=%s,%s" % (k, m, LDAP["name"]), "cn": k, "description": v}
                                for (m, k), v in self.rows.items()]}
        if module_name.startswith("community.general."):
            return {"changed": True}
        mysql = module_name == "community.mysql.mysql_query"
        if isinstance(query, str) and "present" in query:
            result = [{"present": int(self.present)}]
        elif isinstance(query, str) and query.startswith("SELECT map_name"):
            result = [{"map_name": m, "lookup_key": k, "lookup_value": v} for (m, k), v in sorted(self.rows.items())]
        else:
            return {"changed": True, "query_result": []}
        return {"query_result": [result] if mysql else result}

    def writes(self):
        return [c for c in self.calls if isinstance(c[1].get("query"), list) or "CREATE" in str(c[1].get("query"))
                or c[0] in ("community.general.ldap_entry", "community.general.ldap_attrs")]


def run(tmp_path, database, backend="pgsql", check_mode=False, diff=False, rows=None, connection=None):
    data = tmp_path / "virtual_alias_map.txt"
    data.write_text("".join("%s\t%s\n" % kv for kv in (rows or {"info@a.test": "ann@a.test"}).items()))
    task = mock.MagicMock()
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    task.args = {"backend": backend, "connection": connection or CONNECTION, "login_password": "pw",
                 "tables": {"virtual_alias_map": str(data)}}
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
    assert database.writes() == [] and len(database.calls) == 2


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_a_difference_is_written_in_one_call(tmp_path, backend):
    database = Database({("virtual_alias_map", "info@a.test"): "bob@a.test", ("transport_map", "a.test"): "lmtp:x"})
    result = run(tmp_path, database, backend, rows={"info@a.test": "ann@a.test", "new@a.test": "ann@a.test"})
    assert result["changed"] and (result["added"], result["updated"], result["removed"]) == (1, 1, 1)
    (write,) = database.writes()
    assert len(write[1]["query"]) == 2 and "ann@a.test" in write[1]["named_args"]["upsert"]
    assert "transport_map" in write[1]["named_args"]["remove"]
    assert write[1].get("single_transaction") is (True if backend == "mysql" else None)
    assert write[1]["login_password"] == "pw" and "pw" not in str(result)


def test_check_mode_reads_without_check_mode_and_writes_nothing(tmp_path):
    database = Database({})
    result = run(tmp_path, database, "mysql", check_mode=True, diff=True)
    assert result["changed"] and result["added"] == 1 and "check mode: nothing written" in result["msg"]
    assert database.writes() == []
    # mysql_query has no check mode: the reads run as reads.
    assert [c[2] for c in database.calls] == [False, False]
    assert result["diff"]["after"] == "virtual_alias_map info@a.test ann@a.test\n"


def test_a_missing_table_is_created(tmp_path):
    database = Database({}, present=False)
    result = run(tmp_path, database)
    assert result["created"] == ["vhosting_postfix_lookup"] and result["added"] == 1
    assert "CREATE TABLE IF NOT EXISTS vhosting_postfix_lookup" in database.writes()[0][1]["query"]


def test_a_failing_module_fails_the_task_naming_the_database(tmp_path):
    class Down(Database):
        def __call__(self, action, module_name, module_args, task_vars):
            return {"failed": True, "msg": "unable to connect to database"}
    result = run(tmp_path, Down({}), "mysql")
    assert result["failed"] and "the mysql database at db:5432" in result["msg"] and "unable to connect" in result["msg"]


def test_ldap_adds_changes_removes_entry_by_entry_new_first(tmp_path):
    database = Database({("virtual_alias_map", "info@a.test"): "bob@a.test", ("virtual_alias_map", "old@a.test"): "x"})
    result = run(tmp_path, database, "ldap", rows={"info@a.test": "ann@a.test", "new@a.test": "ann@a.test"},
                 connection=LDAP)
    assert (result["added"], result["updated"], result["removed"]) == (1, 1, 1)
    modules = [(c[0].rsplit(".", 1)[1], c[1].get("dn"), c[1].get("state")) for c in database.writes()]
    assert modules == [
        ("ldap_entry", "ou=virtual_alias_map,ou=postfix,dc=x,dc=test", None),
        ("ldap_entry", "cn=new@a.test,ou=virtual_alias_map,ou=postfix,dc=x,dc=test", None),
        ("ldap_attrs", "cn=info@a.test,ou=virtual_alias_map,ou=postfix,dc=x,dc=test", "exact"),
        ("ldap_entry", "cn=old@a.test,ou=virtual_alias_map,ou=postfix,dc=x,dc=test", "absent"),
    ]


def test_ldap_missing_base_is_created_first(tmp_path):
    database = Database({}, ldap_root=False)
    result = run(tmp_path, database, "ldap", connection=LDAP)
    assert result["created"][0] == LDAP["name"]
    assert database.writes()[0][1]["dn"] == LDAP["name"] and database.writes()[0][1]["attributes"] == {"ou": "postfix"}
