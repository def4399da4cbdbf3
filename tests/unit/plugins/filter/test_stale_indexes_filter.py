"""The stale_indexes filter: index files that other table types left next to table sources."""
import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.vhosting.postfix.plugins.filter import stale_indexes as plugin
from ansible_collections.vhosting.postfix.plugins.filter.stale_indexes import FilterModule, stale_indexes


def test_registered_name():
    assert FilterModule().filters() == {"stale_indexes": stale_indexes}


def test_hash_table_lists_the_other_types_index_files():
    assert stale_indexes(["/etc/postfix/virtual"], "hash") == [
        "/etc/postfix/virtual.lmdb",
        "/etc/postfix/virtual.cdb",
        "/etc/postfix/virtual.dir",
        "/etc/postfix/virtual.pag",
    ]


def test_several_paths_in_order_and_a_single_string():
    assert stale_indexes(["/etc/postfix/virtual", "/etc/postfix/vmailbox", "/etc/postfix/virtual"], "dbm") == [
        "/etc/postfix/virtual.lmdb", "/etc/postfix/virtual.db", "/etc/postfix/virtual.cdb",
        "/etc/postfix/vmailbox.lmdb", "/etc/postfix/vmailbox.db", "/etc/postfix/vmailbox.cdb",
    ]
    assert stale_indexes("/etc/postfix/transport", "lmdb") == [
        "/etc/postfix/transport.db", "/etc/postfix/transport.cdb",
        "/etc/postfix/transport.dir", "/etc/postfix/transport.pag",
    ]
    assert stale_indexes([], "lmdb") == []


def test_an_unindexed_type_makes_every_index_stale():
    assert stale_indexes(["/etc/postfix/header_checks"], "pcre") == [
        "/etc/postfix/header_checks" + s for s in (".lmdb", ".db", ".cdb", ".dir", ".pag")]


@pytest.mark.parametrize("paths, table_type, message", [
    (["/etc/postfix/virtual"], "mysql", "stale_indexes: type 'mysql' is not supported"),
    ({"a": 1}, "lmdb", "stale_indexes: expected a list of table source paths, got dict"),
    ([""], "lmdb", "stale_indexes: '' is not a table source path"),
    ([None], "lmdb", "stale_indexes: None is not a table source path"),
    (["lmdb:/etc/postfix/virtual"], "hash",
     "stale_indexes: 'lmdb:/etc/postfix/virtual' is a table reference; give the source path (/etc/postfix/virtual)"),
])
def test_bad_input_is_named(paths, table_type, message):
    with pytest.raises(AnsibleFilterError) as err:
        stale_indexes(paths, table_type)
    assert str(err.value).startswith(message)


def test_documentation_matches_the_plugin():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "stale_indexes"
    assert doc["options"]["table_type"]["choices"] == [
        "lmdb", "hash", "btree", "cdb", "dbm", "sdbm", "texthash", "regexp", "pcre", "cidr"]
    assert yaml.safe_load(plugin.RETURN)["_value"]["type"] == "list"
