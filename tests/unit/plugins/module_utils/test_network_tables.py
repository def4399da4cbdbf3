# -*- coding: utf-8 -*-
"""The pure core of the network lookup tables: validation, .cf options, main.cf switch, row changes, parity."""
import json

import pytest

from role_values import role_values

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables as nt
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model

BOXES = {"vhosting_domain__box_test": {"domain": "box.test", "class": "mailbox", "mailboxes": ["ann", "bob"]},
         "vhosting_domain__alias_test": {"domain": "alias.test", "class": "alias",
                                         "aliases": {"info": "ann@box.test"}, "catch_all": "bob@box.test"}}
PG = {"host": "db.example.test", "name": "vhosting_postfix", "user": "postfix_ro", "password": "s3cret",
      "admin_user": "loader", "admin_password": "t0psecret"}
LDAP = {"host": "ldap.example.test", "name": "ou=postfix,dc=example,dc=test", "user": "cn=reader,dc=example,dc=test",
        "password": "s3cret", "admin_user": "cn=admin,dc=example,dc=test"}


def checked(backend, database, hostname="mx1"):
    problems = []
    return nt.check_database(backend, database, problems, hostname=hostname), problems


def test_file_needs_no_database():
    assert checked("file", {}) == (None, [])


def test_pgsql_connection_gets_defaults_and_no_password():
    connection, problems = checked("pgsql", PG)
    assert problems == []
    assert connection == {"host": "db.example.test", "port": 5432, "name": "vhosting_postfix", "user": "postfix_ro",
                          "admin_user": "loader", "table": nt.DEFAULT_SQL_TABLE, "scope": "mx1", "load": True,
                          "tls": False, "ca_file": ""}
    assert nt.DEFAULT_SQL_TABLE == "vhosting_postfix_rows" != nt.LEGACY_SQL_TABLE
    assert "s3cret" not in json.dumps(connection) and "t0psecret" not in json.dumps(connection)


@pytest.mark.parametrize("backend, change, expected", [
    ("mysql", {"host": ""}, "vhosting_domains__database.host: '' is not a host name"),
    ("mysql", {"host": "db;rm -rf"}, "vhosting_domains__database.host"),
    ("pgsql", {"port": 0}, "vhosting_domains__database.port: 0 is not a TCP port"),
    ("pgsql", {"name": "my-db"}, "vhosting_domains__database.name: 'my-db' is not a database name"),
    ("pgsql", {"user": "x y"}, "vhosting_domains__database.user: 'x y'"),
    ("pgsql", {"table": "t; DROP"}, "vhosting_domains__database.table: 't; DROP' is not an SQL table name"),
    ("pgsql", {"password": ""}, "vhosting_domains__database.password: Postfix's database user needs a password"),
    ("pgsql", {"password": "a\nb"}, "a password with a line break"),
    ("ldap", {"name": "postfix"}, "vhosting_domains__database.name: 'postfix' is not an LDAP base DN"),
    ("ldap", {"user": "reader"}, "vhosting_domains__database.user: 'reader' is not a bind DN"),
    ("pgsql", {"scope": "mx1' OR '1'='1"}, "vhosting_domains__database.scope: \"mx1' OR '1'='1\" is not a scope name"),
    ("ldap", {"scope": "a,ou=x"}, "vhosting_domains__database.scope: 'a,ou=x' is not a scope name"),
    ("pgsql", {"tls": "yes"}, "vhosting_domains__database.tls: 'yes' is not true or false"),
    ("pgsql", {"tls": True, "ca_file": "/etc/ssl/ca.pem&sslmode=disable"},
     "vhosting_domains__database.ca_file: '/etc/ssl/ca.pem&sslmode=disable' is not an absolute path"),
    ("ldap", {"tls": True, "ca_file": "ca.pem"}, "vhosting_domains__database.ca_file: 'ca.pem' is not an absolute path"),
    ("mysql", {"ca_file": "/etc/ssl/ca.pem"}, "vhosting_domains__database.ca_file: set, but tls is not true"),
])
def test_bad_connection_settings_are_refused_naming_the_option(backend, change, expected):
    base = dict(LDAP if backend == "ldap" else PG, **change)
    connection, problems = checked(backend, base)
    assert connection is None and len(problems) == 1 and expected in problems[0]
    assert "s3cret" not in problems[0]


def test_scope_defaults_to_the_host_and_an_unusable_host_name_asks_for_one():
    assert checked("pgsql", PG, hostname="mx2.example.org")[0]["scope"] == "mx2.example.org"
    assert checked("pgsql", dict(PG, scope="site-a"), hostname="mx2")[0]["scope"] == "site-a"
    connection, problems = checked("pgsql", PG, hostname="mx 2")
    assert connection is None and "the default is the host's inventory name, which cannot be one" in problems[0]


def test_target_tells_writers_of_the_same_rows_apart():
    one = checked("pgsql", PG, hostname="mx1")[0]
    assert nt.target("pgsql", one) == nt.target("pgsql", checked("pgsql", dict(PG, host="DB.example.test"))[0])
    assert nt.target("pgsql", one) != nt.target("pgsql", checked("pgsql", PG, hostname="mx2")[0])
    assert nt.target("pgsql", one) != nt.target("pgsql", checked("pgsql", dict(PG, table="other"))[0])
    assert nt.target("pgsql", one) != nt.target("mysql", checked("mysql", PG)[0])


def test_phase_of_splits_a_change_set():
    delta = {"add": [["m", "a", "1"]], "change": [["m", "b", "1", "2"]], "remove": [["m", "c", "3"]]}
    assert nt.phase_of(delta, "upsert") == dict(delta, remove=[])
    assert nt.phase_of(delta, "remove") == dict(delta, add=[], change=[])
    assert nt.phase_of(delta, "all") == delta
    with pytest.raises(nt.NetworkTableError):
        nt.phase_of(delta, "both")


def test_unknown_backend_is_refused():
    assert checked("sqlite", PG)[1] == ["vhosting_domains__backend: 'sqlite' is not one of file, pgsql, mysql, ldap"]


def test_sql_cf_options():
    connection, _problems = checked("mysql", dict(PG, port=3307))
    assert nt.cf_options("mysql", connection, "virtual_alias_map") == [
        ("hosts", "inet:db.example.test:3307"), ("user", "postfix_ro"), ("dbname", "vhosting_postfix"),
        ("query", "SELECT lookup_value FROM vhosting_postfix_rows WHERE scope = 'mx1' "
                  "AND map_name = 'virtual_alias_map' AND lookup_key = '%s'")]
    assert nt.password_option("mysql") == "password"


def test_tls_cf_options_check_the_server_and_keep_the_password_out_of_the_uri():
    pg, _problems = checked("pgsql", dict(PG, tls=True, ca_file="/etc/ssl/db-ca.pem"))
    assert (pg["tls"], pg["ca_file"]) == (True, "/etc/ssl/db-ca.pem")
    options = dict(nt.cf_options("pgsql", pg, "virtual_alias_map", "/etc/postfix/vhosting-db/pgpass"))
    # Postfix ignores user and password with a URI (and logs the URI): the password is in libpq's password file.
    assert options["hosts"] == ("postgresql://postfix_ro@db.example.test:5432/vhosting_postfix?sslmode=verify-full"
                                "&sslrootcert=/etc/ssl/db-ca.pem&passfile=/etc/postfix/vhosting-db/pgpass")
    assert nt.password_option("pgsql", pg) == "" and nt.password_option("pgsql", checked("pgsql", PG)[0]) == "password"
    my, _problems = checked("mysql", dict(PG, tls=True))
    assert my["ca_file"] == nt.DEFAULT_CA_FILE == "/etc/ssl/certs/ca-certificates.crt"
    assert nt.cf_options("mysql", my, "m")[-2:] == [("tls_CAfile", nt.DEFAULT_CA_FILE), ("tls_verify_cert", "yes")]
    ld, _problems = checked("ldap", dict(LDAP, tls=True))
    options = nt.cf_options("ldap", ld, "m")
    assert options[0] == ("server_host", "ldap://ldap.example.test:389")
    assert [o for o in options if o[0].startswith(("start_tls", "tls_"))] == [
        ("start_tls", "yes"), ("tls_ca_cert_file", nt.DEFAULT_CA_FILE), ("tls_require_cert", "yes")]
    odd = dict(nt.cf_options("pgsql", pg, "m", "/etc/postfix/a=b@c+d/vhosting-db/pgpass"))["hosts"]
    assert odd.endswith("&passfile=/etc/postfix/a%3Db%40c%2Bd/vhosting-db/pgpass")
    six, _problems = checked("pgsql", dict(PG, host="2001:db8::5", tls=True))
    assert nt.pgsql_uri(six, "/p").startswith("postgresql://postfix_ro@[2001:db8::5]:5432/")


def test_pgpass_line_escapes_colons_and_backslashes():
    pg, _problems = checked("pgsql", dict(PG, tls=True))
    assert nt.pgpass_line(pg, "a:b\\c") == "db.example.test:5432:vhosting_postfix:postfix_ro:a\\:b\\\\c\n"


def test_the_password_file_is_written_with_tls_only_and_stale_otherwise():
    tables = {"/etc/postfix/virtual": "virtual_alias_map"}
    pg, _problems = checked("pgsql", dict(PG, tls=True))
    part = nt.network_part("pgsql", pg, "/etc/postfix/vhosting-db", tables, {}, "lmdb")
    assert part["passfile"] == "/etc/postfix/vhosting-db/pgpass" and part["password_option"] == ""
    assert "/etc/postfix/vhosting-db/pgpass" not in part["stale_cf_files"]
    plain = nt.network_part("pgsql", checked("pgsql", PG)[0], "/etc/postfix/vhosting-db", tables, {}, "lmdb")
    assert plain["passfile"] == "" and "/etc/postfix/vhosting-db/pgpass" in plain["stale_cf_files"]
    assert "/etc/postfix/vhosting-db/pgpass" in nt.stale_cf_files("/etc/postfix/vhosting-db")


def test_ldap_cf_options_bind_and_anonymous():
    connection, _problems = checked("ldap", LDAP)
    options = dict(nt.cf_options("ldap", connection, "virtual_mailbox_map"))
    assert options["search_base"] == "ou=virtual_mailbox_map,ou=mx1,ou=postfix,dc=example,dc=test"
    assert options["query_filter"] == "(&(objectClass=organizationalRole)(cn=%s))"
    assert options["result_attribute"] == "description" and options["scope"] == "one"
    assert options["bind"] == "yes" and options["bind_dn"] == "cn=reader,dc=example,dc=test"
    anonymous, _problems = checked("ldap", dict(LDAP, user=None))
    assert dict(nt.cf_options("ldap", anonymous, "x"))["bind"] == "no"
    assert nt.password_option("ldap") == "bind_pw"


def test_host_model_switches_main_cf_to_the_database_and_keeps_the_files():
    model = host_model(role_values(vhosting_domains__backend="pgsql", vhosting_domains__database=PG), BOXES,
                       hostname="mx")
    role = model["domains_role"]
    # Through proxymap; the parity gate and the health check query the table directly.
    assert role["parameters"]["virtual_alias_maps"] == "proxy:pgsql:/etc/postfix/vhosting-db/virtual_alias_map.cf"
    assert role["parameters"]["virtual_mailbox_maps"] == "proxy:pgsql:/etc/postfix/vhosting-db/virtual_mailbox_map.cf"
    assert role["network"]["tables"][0]["direct"] == "pgsql:/etc/postfix/vhosting-db/virtual_alias_map.cf"
    assert role["network"]["connection"]["scope"] == "mx"
    assert "vhosting-postfix-dbwatch.timer" in model["probe"]["units"]
    assert "/usr/local/sbin/vhosting-postfix-dbwatch" not in model["stale_files"]["domains"]
    # The files are still written: the parity gate's reference. With a database even a short domain list is a
    # table, so that the domains a host accepts are rows too (a moved domain changes rows, not main.cf).
    assert role["tables"] == {"/etc/postfix/virtual": "virtual_alias_map", "/etc/postfix/vmailbox": "virtual_mailbox_map",
                              "/etc/postfix/vhosting_virtual_alias_domains": "virtual_alias_domains_map",
                              "/etc/postfix/vhosting_virtual_mailbox_domains": "virtual_mailbox_domains_map"}
    assert role["parameters"]["virtual_mailbox_domains"] == \
        "proxy:pgsql:/etc/postfix/vhosting-db/virtual_mailbox_domains_map.cf"
    tables = role["network"]["tables"]
    assert [(t["name"], t["file"], t["source"]) for t in tables] == [
        ("virtual_alias_map", "lmdb:/etc/postfix/virtual", "/etc/postfix/virtual"),
        ("virtual_mailbox_map", "lmdb:/etc/postfix/vmailbox", "/etc/postfix/vmailbox"),
        ("virtual_alias_domains_map", "lmdb:/etc/postfix/vhosting_virtual_alias_domains",
         "/etc/postfix/vhosting_virtual_alias_domains"),
        ("virtual_mailbox_domains_map", "lmdb:/etc/postfix/vhosting_virtual_mailbox_domains",
         "/etc/postfix/vhosting_virtual_mailbox_domains")]
    # With files, short lists stay in main.cf.
    on_files = host_model(role_values(), BOXES, hostname="mx")["domains_role"]["parameters"]
    assert on_files["virtual_mailbox_domains"] == ["box.test"]
    stale = model["stale_files"]["domains"]
    assert "/etc/postfix/vhosting-db/transport_map.cf" in stale
    assert "/etc/postfix/vhosting-db/virtual_alias_map.cf" not in stale and "/etc/postfix/vhosting-db" not in stale
    assert {"postfix-pgsql", "python3-psycopg2"} <= set(model["server"]["packages"])
    assert "s3cret" not in json.dumps(model) and "t0psecret" not in json.dumps(model)


def test_host_model_with_files_removes_every_cf_file():
    model = host_model(role_values(), BOXES, hostname="mx")
    assert model["domains_role"]["network"] is None
    assert model["domains_role"]["parameters"]["virtual_alias_maps"] == "lmdb:/etc/postfix/virtual"
    stale = model["stale_files"]["domains"]
    assert set(nt.stale_cf_files("/etc/postfix/vhosting-db")) <= set(stale) and "/etc/postfix/vhosting-db" in stale
    # The health check goes with the last database table.
    assert {"/usr/local/sbin/vhosting-postfix-dbwatch", "/etc/systemd/system/vhosting-postfix-dbwatch.timer",
            "/etc/systemd/system/vhosting-postfix-dbwatch.service"} <= set(stale)


def test_host_model_refuses_a_bad_database_before_anything():
    with pytest.raises(ModelError) as caught:
        host_model(role_values(vhosting_domains__backend="mysql", vhosting_domains__database=dict(PG, host="")),
                   BOXES, hostname="mx")
    assert any(p.startswith("vhosting_domains__database.host") for p in caught.value.problems)


def test_transport_list_element_is_switched():
    parameters = {"transport_maps": ["lmdb:/etc/postfix/t", "lmdb:/etc/postfix/relay_t"]}
    connection, _problems = checked("pgsql", PG)
    part = nt.network_part("pgsql", connection, "/etc/postfix/vhosting-db", {"/etc/postfix/t": "transport_map"},
                           parameters, "lmdb")
    assert parameters["transport_maps"] == ["proxy:pgsql:/etc/postfix/vhosting-db/transport_map.cf",
                                            "lmdb:/etc/postfix/relay_t"]
    assert [t["name"] for t in part["tables"]] == ["transport_map"]


def test_parse_rows_folds_keys_and_refuses_bad_lines():
    assert nt.parse_rows("Info@X.test\tann@x.test, bob@x.test\n\n") == {"info@x.test": "ann@x.test, bob@x.test"}
    with pytest.raises(nt.NetworkTableError):
        nt.parse_rows("no-tab-here\n")


def test_changes_add_change_remove_and_no_change():
    current = {"virtual_alias_map": {"a@x": "1", "b@x": "2"}, "transport_map": {"x": "lmtp:y"}}
    desired = {"virtual_alias_map": {"a@x": "1", "b@x": "3", "c@x": "4"}}
    delta = nt.changes(current, desired)
    assert delta == {"add": [["virtual_alias_map", "c@x", "4"]], "change": [["virtual_alias_map", "b@x", "2", "3"]],
                     "remove": [["transport_map", "x", "lmtp:y"]]}
    assert nt.summary(delta) == "1 rows added, 1 changed, 1 removed"
    assert nt.changes(desired, desired) == {"add": [], "change": [], "remove": []}
    before, after = nt.diff_text(delta)
    assert before == "transport_map x lmtp:y\nvirtual_alias_map b@x 2\n"
    assert after == "virtual_alias_map b@x 3\nvirtual_alias_map c@x 4\n"


def test_sql_write_passes_data_as_parameters():
    delta = {"add": [["m", "k'; DROP TABLE x; --", "v"]], "change": [["m", "a", "1", "2"]], "remove": [["m", "r", "0"]]}
    args = nt.sql_write_args(delta, "mx1")
    assert args["scope"] == "mx1"
    assert json.loads(args["upsert"]) == [{"m": "m", "k": "k'; DROP TABLE x; --", "v": "v"}, {"m": "m", "k": "a", "v": "2"}]
    assert json.loads(args["remove"]) == [{"m": "m", "k": "r"}]
    for backend in ("pgsql", "mysql"):
        statements = nt.sql_write(backend, "vhosting_postfix_lookup")
        assert len(statements) == 2 and all("DROP" not in s for s in statements)
        assert "%(remove)s" in statements[0] and "%(upsert)s" in statements[1]
        assert "t.scope = %(scope)s" in statements[0] and "SELECT %(scope)s, r.m" in statements[1]
        create = nt.sql_schema(backend, "t")[-1]
        assert create.startswith("CREATE TABLE IF NOT EXISTS t (scope ") and "PRIMARY KEY (scope, map_name, lookup_key)" in create
        select = nt.sql_select_buckets(backend, "t")
        assert select.startswith("SELECT map_name, lookup_key, lookup_value FROM t WHERE scope = %(scope)s "
                                 "AND map_name IN ('virtual_alias_map'") and "%(buckets)s" in select
        assert "WHERE scope = %(scope)s" in nt.sql_digests(backend, "t")


def test_two_hosts_creating_the_postgresql_table_at_once_are_serialised():
    # CREATE TABLE IF NOT EXISTS of two sessions at once fails in one of them on PostgreSQL (pg_type's unique index;
    # seen in CI with two hosts on one database): the lock comes first, in the same transaction.
    lock, create = nt.sql_schema("pgsql", "t")
    assert lock.startswith("SELECT pg_advisory_xact_lock(") and create.startswith("CREATE TABLE IF NOT EXISTS t ")
    (create,) = nt.sql_schema("mysql", "t")  # MariaDB's metadata locks serialise it already
    assert create.startswith("CREATE TABLE IF NOT EXISTS t ") and create.endswith("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")


def test_key_range_digests_find_the_changed_range_only():
    rows = {"virtual_mailbox_map": dict(("u%03d@a.test" % i, "a.test/u%03d/" % i) for i in range(500))}
    digests = nt.bucket_digests(rows)
    assert 200 < len(digests) <= 256 and all(len(b) == 2 for b in digests)
    assert nt.differing_buckets(digests, nt.bucket_digests(rows)) == []
    changed = {"virtual_mailbox_map": dict(rows["virtual_mailbox_map"], **{"u007@a.test": "x/"})}
    assert nt.differing_buckets(digests, nt.bucket_digests(changed)) == [nt.bucket("u007@a.test")]
    # A row moved to another table changes the digest too; an added and a removed row each mark their range.
    moved = {"virtual_alias_map": {"u007@a.test": "a.test/u007/"},
             "virtual_mailbox_map": dict((k, v) for k, v in rows["virtual_mailbox_map"].items() if k != "u007@a.test")}
    assert nt.differing_buckets(digests, nt.bucket_digests(moved)) == [nt.bucket("u007@a.test")]
    # The writer's one-pass index: the same digests, and each row under its key's range.
    digests_again, index = nt.bucket_index(moved)
    assert digests_again == nt.bucket_digests(moved)
    assert all(nt.bucket(k) == b for b, maps in index.items() for rows_of in maps.values() for k in rows_of)
    assert nt.rows_in(index, [nt.bucket("u007@a.test")])["virtual_alias_map"] == {"u007@a.test": "a.test/u007/"}
    assert sum(len(r) for r in nt.rows_in(index, sorted(index)).values()) == 500 and nt.rows_in(index, []) == {}
    # PostgreSQL's to_hex of a negative bigint (two's complement) and MariaDB's unsigned decimal read alike.
    assert nt.digests_from_result([{"bucket": "0a", "digest": "ffffffffffffffff"}, {"bucket": "0b", "digest": "ff"},
                                   {"bucket": "0c", "digest": "18446744073709551615"}]) == {
        "0a": 2 ** 64 - 1, "0b": 255, "0c": 2 ** 64 - 1}
    # The row hash is MD5's first 64 bits of "map<TAB>key<TAB>value", as both databases compute it.
    assert nt.row_hash("m", "k", "v") == int("%s" % __import__("hashlib").md5(b"m\tk\tv").hexdigest()[:16], 16)


def test_rows_from_sql_and_ldap_results():
    assert nt.rows_from_result([{"map_name": "m", "lookup_key": "k", "lookup_value": "v"}]) == {"m": {"k": "v"}}
    connection, _problems = checked("ldap", LDAP)
    entries = [
        {"dn": "ou=virtual_alias_map,ou=mx1,ou=postfix,dc=example,dc=test", "ou": "virtual_alias_map"},
        {"dn": "cn=info@a.test,ou=virtual_alias_map,ou=mx1,ou=postfix,dc=example,dc=test", "cn": "info@a.test",
         "description": "ann@a.test"},
        {"dn": "cn=multi@a.test,ou=virtual_alias_map,ou=mx1,ou=postfix,dc=example,dc=test", "cn": ["multi@a.test"],
         "description": ["x@a.test", "y@a.test"]},
        {"dn": "cn=other,ou=not_ours,ou=mx1,ou=postfix,dc=example,dc=test", "cn": "other", "description": "z"},
        # Another host's scope, and the layout of releases before scopes: not this host's rows.
        {"dn": "cn=b@b.test,ou=virtual_alias_map,ou=mx2,ou=postfix,dc=example,dc=test", "cn": "b@b.test",
         "description": "z"},
        {"dn": "cn=old@a.test,ou=virtual_alias_map,ou=postfix,dc=example,dc=test", "cn": "old@a.test",
         "description": "z"},
    ]
    assert nt.rows_from_ldap(entries, connection) == {
        "virtual_alias_map": {"info@a.test": "ann@a.test", "multi@a.test": "x@a.test, y@a.test"}}


def test_dn_escape():
    assert nt.dn_escape("a+b,c=d") == "a\\+b\\,c\\=d"
    assert nt.dn_escape("#x ") == "\\#x\\ "
    assert nt.dn_escape("@a.test") == "@a.test"
    connection, _problems = checked("ldap", LDAP)
    assert nt.ldap_dn(connection, "virtual_alias_map", "@a.test") == \
        "cn=@a.test,ou=virtual_alias_map,ou=mx1,ou=postfix,dc=example,dc=test"


def test_source_keys_skip_comments_and_continuations():
    text = "# comment\ninfo@a.test ann@a.test,\n  bob@a.test\n\n@a.test  bob@a.test\n"
    assert nt.source_keys(text) == ["info@a.test", "@a.test"]


def test_parity_keys_variants_and_absent():
    keys, absent = nt.parity_keys(["info@a.test", "@a.test", "b.test"], "+")
    assert keys[:3] == ["info@a.test", "@a.test", "b.test"]
    assert {"INFO@A.TEST", "info+tag@a.test", "@A.TEST", "sub.a.test", "sub.b.test"} <= set(keys)
    assert "vhosting-parity-nobody@a.test" in absent and "vhosting-parity-nobody@b.test" in absent
    assert "vhosting-parity.invalid" in absent and set(absent) <= set(keys)
    assert len(keys) == len(set(keys))


def test_compare_reports_value_missing_and_must_not_be_found():
    keys = ["a@x", "b@x", "c@x", "nobody@x"]
    reference = {"a@x": "1", "b@x": "2", "nobody@x": "catch"}
    candidate = {"a@x": "1", "b@x": "3", "c@x": "9", "nobody@x": "catch"}
    assert nt.compare(keys, ["nobody@x"], reference, candidate) == [
        {"key": "b@x", "file": "2", "database": "3"},
        {"key": "c@x", "file": None, "database": "9"},
        {"key": "nobody@x", "file": "catch", "database": "catch", "must_not_be_found": True}]
    assert nt.compare(["a@x"], [], {"a@x": "1"}, {"a@x": "1"}) == []


def test_peer_conflicts_name_both_hosts_and_a_differing_row():
    key = nt.target("pgsql", checked("pgsql", dict(PG, scope="site-a"))[0])
    rows = {"virtual_mailbox_map": {"ann@a.test": "a.test/ann/"}}
    assert nt.peer_conflicts("mx1", key, rows, [("mx1b", rows)]) == []
    (only_mine,) = nt.peer_conflicts("mx1", key, rows, [("mx1b", {})])
    assert only_mine.startswith("vhosting_domains__database: mx1 and mx1b write the same rows (pgsql on "
                                "db.example.test:5432, vhosting_postfix, table vhosting_postfix_rows, scope site-a)")
    assert "1 rows only on mx1" in only_mine and "virtual_mailbox_map ann@a.test: 'a.test/ann/' on mx1, none on mx1b" \
        in only_mine
    (only_theirs,) = nt.peer_conflicts("mx1", key, {}, [("mx1b", rows)])
    assert "none on mx1, 'a.test/ann/' on mx1b" in only_theirs
    (unknown,) = nt.peer_conflicts("mx1", key, rows, [("mx1b", None)])
    assert "the inventory of mx1b cannot be built to compare them" in unknown


def test_relay_recipient_query_reads_the_primaries_scopes_only():
    connection, _problems = checked("pgsql", PG, hostname="backup")
    query = dict(nt.cf_options("pgsql", connection, nt.RELAY_RECIPIENT_MAP, scopes=["mx1", "mx2"]))["query"]
    assert query == ("SELECT DISTINCT 'OK' FROM vhosting_postfix_rows WHERE scope IN ('mx1', 'mx2') "
                     "AND map_name IN ('virtual_alias_map', 'virtual_mailbox_map') AND lookup_key = '%s'")
    ldap, _problems = checked("ldap", LDAP, hostname="backup")
    options = dict(nt.cf_options("ldap", ldap, nt.RELAY_RECIPIENT_MAP, scopes=["mx1"]))
    assert options["search_base"] == "ou=postfix,dc=example,dc=test" and options["scope"] == "sub"
    assert options["query_filter"] == ("(&(objectClass=organizationalRole)(cn=%s)"
                                       "(|(ou:dn:=virtual_alias_map)(ou:dn:=virtual_mailbox_map))(|(ou:dn:=mx1)))")
    assert options["result_attribute"] == "cn" and options["result_format"] == "OK"
    assert options["bind_dn"] == "cn=reader,dc=example,dc=test"


PRIMARY_FILES = {"vhosting_domain__files_test": {"domain": "files.test", "class": "mailbox", "mailboxes": ["carol"]}}
OWN = {"vhosting_domain__own_test": {"domain": "own.test", "class": "mailbox", "mailboxes": ["dan"]}}


def _primary(host, definitions, database):
    connection, _problems = checked(*database, hostname=host) if database else (None, [])
    target = {"target": list(nt.target(database[0], connection)[:5]), "scope": connection["scope"]} if database else None
    return {"host": host, "nexthop": "[%s.test]" % host, "definitions": definitions, "options": {}, "database": target}


def test_backup_mx_reads_the_recipients_of_primaries_in_its_database_from_their_rows():
    primaries = [_primary("mx1", BOXES, ("pgsql", PG)), _primary("mx2", PRIMARY_FILES, None),
                 _primary("mx4", {"vhosting_domain__other_test": {"domain": "other.test", "class": "mailbox",
                                                                  "mailboxes": ["eve"]}},
                          ("pgsql", dict(PG, table="another_table")))]
    model = host_model(role_values(vhosting_domains__backend="pgsql", vhosting_domains__database=PG), OWN,
                       primaries=primaries, hostname="backup")
    relay = model["relay"]
    # mx1's domains from its rows (the database lookup first), mx2's (files) and mx4's (another table) from the file.
    assert relay["parameters"]["relay_recipient_maps"] == [
        "proxy:pgsql:/etc/postfix/vhosting-db/relay_recipient_map.cf", "lmdb:/etc/postfix/relay_recipients"]
    assert set(relay["model"]["relay_recipients"]) == set(
        "%s@%s" % (user, domain) for user, domain in (("carol", "files.test"), ("eve", "other.test"))
        + tuple((user, domain) for user in ("postmaster", "abuse") for domain in ("files.test", "other.test")))
    # The keys of mx1's virtual alias and virtual mailbox rows (the catch-all domain as '@alias.test').
    assert set(model["maps"][nt.RELAY_RECIPIENT_MAP]) == {"ann@box.test", "bob@box.test", "postmaster@box.test",
                                                          "abuse@box.test", "@alias.test"}
    # The transport to the primaries: rows of the backup's own scope, loaded and checked by the network part.
    assert relay["parameters"]["transport_maps"] == ["proxy:pgsql:/etc/postfix/vhosting-db/relay_transport_map.cf"]
    assert "/etc/postfix/transport" not in relay["tables"]
    assert model["maps"]["relay_transport_map"]["box.test"] == "relay:[mx1.test]"
    # A data file, not a fact that every later task carries.
    assert relay["database_recipients"] == {"path": "/etc/postfix/vhosting_relay_recipients_db", "scopes": ["mx1"]}
    role = model["domains_role"]
    assert role["tables"]["/etc/postfix/vhosting_relay_recipients_db"] == nt.RELAY_RECIPIENT_MAP
    transport = [t for t in role["network"]["tables"] if t["name"] == "relay_transport_map"][0]
    assert transport["load"] and "map_name = 'relay_transport_map'" in dict(transport["options"])["query"]
    entry = [t for t in role["network"]["tables"] if t["name"] == nt.RELAY_RECIPIENT_MAP][0]
    assert entry["load"] is False and entry["file"] == "lmdb:/etc/postfix/vhosting_relay_recipients_db"
    assert "scope IN ('mx1')" in dict(entry["options"])["query"]
    assert all(t["load"] for t in role["network"]["tables"] if t is not entry)
    # Every recipient from the database: the file leaves main.cf (its indexes are swept).
    only_db = host_model(role_values(vhosting_domains__backend="pgsql", vhosting_domains__database=PG), OWN,
                         primaries=primaries[:1], hostname="backup")
    assert only_db["relay"]["parameters"]["relay_recipient_maps"] == [
        "proxy:pgsql:/etc/postfix/vhosting-db/relay_recipient_map.cf"]
    assert "/etc/postfix/relay_recipients" not in only_db["relay"]["tables"]
    # The backup on files: every recipient in its file, no reference table, no .cf file.
    on_files = host_model(role_values(), OWN, primaries=primaries, hostname="backup")
    assert on_files["relay"]["parameters"]["relay_recipient_maps"] == "lmdb:/etc/postfix/relay_recipients"
    assert on_files["relay"]["parameters"]["transport_maps"] == ["lmdb:/etc/postfix/transport"]
    assert "/etc/postfix/vhosting_relay_recipients_db" not in on_files["domains_role"]["tables"]
    assert "/etc/postfix/vhosting-db/relay_recipient_map.cf" in on_files["stale_files"]["domains"]


def test_the_ldap_write_probe_tries_the_scope_the_base_dn_and_its_parent():
    connection, _problems = checked("ldap", LDAP)
    assert nt.ldap_probe_dns(connection) == ["ou=mx1,ou=postfix,dc=example,dc=test", "ou=postfix,dc=example,dc=test",
                                             "dc=example,dc=test"]
