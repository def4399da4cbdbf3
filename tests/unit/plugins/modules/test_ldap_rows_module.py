# -*- coding: utf-8 -*-
"""ldap_rows applies adds, replaces and deletes in that order over one connection (python-ldap replaced by a fake)."""
import json
import sys
import types

import pytest
from module_args import patch_module_args


class _Error(Exception):
    pass


def _fake_ldap():
    module = types.ModuleType("ldap")
    module.LDAPError = _Error
    module.ALREADY_EXISTS = type("ALREADY_EXISTS", (_Error,), {})
    module.NO_SUCH_OBJECT = type("NO_SUCH_OBJECT", (_Error,), {})
    module.MOD_REPLACE = 2
    return module


@pytest.fixture
def rows(monkeypatch):
    monkeypatch.setitem(sys.modules, "ldap", _fake_ldap())
    sys.modules.pop("ansible_collections.vhosting.postfix.plugins.modules.ldap_rows", None)
    from ansible_collections.vhosting.postfix.plugins.modules import ldap_rows
    yield ldap_rows
    sys.modules.pop("ansible_collections.vhosting.postfix.plugins.modules.ldap_rows", None)


class Connection(object):
    def __init__(self, ldap, existing=(), missing=(), failing=()):
        self.ldap, self.existing, self.missing, self.failing, self.calls = ldap, set(existing), set(missing), \
            set(failing), []

    def _check(self, dn):
        if dn in self.failing:
            raise self.ldap.LDAPError({"desc": "Insufficient access", "info": "no write access to parent"})

    def add_s(self, dn, modlist):
        self.calls.append(("add", dn, modlist))
        self._check(dn)
        if dn in self.existing:
            raise self.ldap.ALREADY_EXISTS({"desc": "Already exists"})

    def modify_s(self, dn, modlist):
        self.calls.append(("modify", dn, modlist))
        self._check(dn)

    def delete_s(self, dn):
        self.calls.append(("delete", dn))
        self._check(dn)
        if dn in self.missing:
            raise self.ldap.NO_SUCH_OBJECT({"desc": "No such object"})


def test_adds_replaces_deletes_in_order_and_counts_what_changed(rows):
    connection = Connection(rows.ldap, existing={"ou=t,dc=x"}, missing={"cn=gone,ou=t,dc=x"})
    counts = rows.apply(connection,
                        [{"dn": "ou=t,dc=x", "attributes": {"objectClass": "organizationalUnit", "ou": "t"}},
                         {"dn": "cn=a,ou=t,dc=x", "attributes": {"objectClass": "organizationalRole", "cn": "a",
                                                                 "description": ["x", "y"]}}],
                        [{"dn": "cn=b,ou=t,dc=x", "attribute": "description", "value": "z"}],
                        ["cn=c,ou=t,dc=x", "cn=gone,ou=t,dc=x"])
    assert counts == [1, 1, 1]
    assert [c[:2] for c in connection.calls] == [("add", "ou=t,dc=x"), ("add", "cn=a,ou=t,dc=x"),
                                                 ("modify", "cn=b,ou=t,dc=x"), ("delete", "cn=c,ou=t,dc=x"),
                                                 ("delete", "cn=gone,ou=t,dc=x")]
    assert connection.calls[1][2] == [("objectClass", [b"organizationalRole"]), ("cn", [b"a"]),
                                      ("description", [b"x", b"y"])]
    assert connection.calls[2][2] == [(2, "description", [b"z"])]


def test_the_first_failure_names_its_dn_and_stops(rows):
    connection = Connection(rows.ldap, failing={"cn=b,ou=t,dc=x"})
    with pytest.raises(rows.RowError) as caught:
        rows.apply(connection, [], [{"dn": "cn=b,ou=t,dc=x", "attribute": "description", "value": "z"}],
                   ["cn=c,ou=t,dc=x"])
    assert str(caught.value) == "cn=b,ou=t,dc=x: Insufficient access (no write access to parent)"
    assert [c[0] for c in connection.calls] == ["modify"]


class ProbeConnection(object):
    """Answers the write probe as OpenLDAP does: the access check first, then the value."""

    def __init__(self, ldap, outcome):
        self.ldap, self.outcome, self.calls = ldap, outcome, []

    def modify_s(self, dn, modlist):
        self.calls.append((dn, modlist))
        answer = self.outcome.get(dn, "missing")
        if answer == "missing":
            raise self.ldap.NO_SUCH_OBJECT({"desc": "No such object"})
        if answer == "writable":
            raise self.ldap.TYPE_OR_VALUE_EXISTS({"desc": "Type or value exists"})
        if answer == "refused":
            raise self.ldap.LDAPError({"desc": "Insufficient access"})


@pytest.fixture
def probe_rows(rows):
    rows.ldap.TYPE_OR_VALUE_EXISTS = type("TYPE_OR_VALUE_EXISTS", (_Error,), {})
    rows.ldap.MOD_ADD = 0
    return rows


def test_the_write_probe_adds_a_value_every_entry_has_on_the_first_entry_that_exists(probe_rows):
    dns = ["ou=mx1,ou=postfix,dc=x", "ou=postfix,dc=x", "dc=x"]
    reader = ProbeConnection(probe_rows.ldap, {"ou=postfix,dc=x": "refused", "dc=x": "writable"})
    assert probe_rows.write_probe(reader, dns) == ("ou=postfix,dc=x", False)
    assert reader.calls == [(dns[0], [(0, "objectClass", [b"top"])]), (dns[1], [(0, "objectClass", [b"top"])])]
    writer = ProbeConnection(probe_rows.ldap, {"ou=mx1,ou=postfix,dc=x": "writable"})
    assert probe_rows.write_probe(writer, dns) == ("ou=mx1,ou=postfix,dc=x", True)
    # A server that accepts the value it has (nothing changes) let the identity write too.
    accepting = ProbeConnection(probe_rows.ldap, {"ou=mx1,ou=postfix,dc=x": "accepted"})
    assert probe_rows.write_probe(accepting, dns) == ("ou=mx1,ou=postfix,dc=x", True)
    assert probe_rows.write_probe(ProbeConnection(probe_rows.ldap, {}), dns) == (None, False)


def test_the_result_counts_the_entries_and_echoes_neither_them_nor_the_passwords(rows, monkeypatch, capsys):
    connection = Connection(rows.ldap)
    connection.simple_bind_s = lambda dn, pw: connection.calls.append(("bind", dn))
    connection.set_option = lambda *args: None
    monkeypatch.setattr(rows.ldap, "initialize", lambda uri: connection, raising=False)
    rows.ldap.OPT_NETWORK_TIMEOUT = 1
    entries = [{"dn": "cn=ann@a.test,ou=mx1,dc=x", "attributes": {"cn": "ann@a.test", "description": "a.test/ann/"}},
               {"dn": "cn=bob@a.test,ou=mx1,dc=x", "attributes": {"cn": "bob@a.test", "description": "a.test/bob/"}}]
    args = dict(server_uri="ldap://db.test", bind_dn="cn=loader,dc=x", bind_pw="Loader-Secret-9", add=entries,
                delete=["cn=old@a.test,ou=mx1,dc=x"])
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            rows.main()
    result = json.loads(capsys.readouterr().out)
    assert result["changed"] and (result["added"], result["replaced"], result["deleted"]) == (2, 0, 1)
    assert [c[0] for c in connection.calls] == ["bind", "add", "add", "delete"]
    # The arguments echoed in the result give the numbers of entries, not the entries (100,000 are megabytes).
    module_args = result["invocation"]["module_args"]
    assert (module_args["add"], module_args["replace"], module_args["delete"]) == (
        "(2 entries)", "(0 entries)", "(1 entries)")
    assert module_args["bind_dn"] == "cn=loader,dc=x"
    assert "ann@a.test" not in json.dumps(result) and "Loader-Secret-9" not in json.dumps(result)
