# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_owner_state: the two state file formats stay byte for byte what the old code wrote.

The texts below are exactly what _postconf_state.render_state and
_table_owner.render_state wrote before the two were merged; hosts have such
files, so they must still be read, and written again unchanged.
"""
import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import LookupTableError
from ansible_collections.vhosting.postfix.plugins.module_utils._owner_state import (
    OWNER_RULE,
    StateError,
    check_table_owner,
    default_state_file,
    parse_state,
    parse_table_state,
    plan_ownership,
    plan_table_ownership,
    render_state,
    render_table_state,
    table_state_file,
    validate_ownership,
)
from ansible_collections.vhosting.postfix.plugins.module_utils._postconf import PostconfError, validate_request

# Written by the old _postconf_state.render_state.
OLD_POSTCONF_STATE = (
    '{\n'
    '  "config_dir": "/etc/postfix",\n'
    '  "parameters": {\n'
    '    "myhostname": "server",\n'
    '    "relay_domains": "relay",\n'
    '    "transport_maps": "domains"\n'
    '  },\n'
    '  "services": {\n'
    '    "autoreply/unix": "domains",\n'
    '    "smtp/inet": "server"\n'
    '  },\n'
    '  "version": 1\n'
    '}\n')
OLD_POSTCONF_EMPTY = '{\n  "config_dir": "/etc/postfix",\n  "parameters": {},\n  "services": {},\n  "version": 1\n}\n'
# Written by the old _table_owner.render_state.
OLD_TABLE_STATE = (
    '{\n'
    '  "owners": {\n'
    '    "lists": [\n'
    '      "mlmmj_example.org_all",\n'
    '      "mlmmj_example.org_news"\n'
    '    ],\n'
    '    "server": [\n'
    '      "postmaster"\n'
    '    ]\n'
    '  },\n'
    '  "path": "/etc/aliases",\n'
    '  "version": 1\n'
    '}\n')
OLD_TABLE_EMPTY = '{\n  "owners": {},\n  "path": "/etc/aliases",\n  "version": 1\n}\n'


def test_an_old_postconf_state_file_is_read_and_written_again_byte_for_byte(tmp_path):
    path = tmp_path / "etc_postfix.json"
    path.write_bytes(OLD_POSTCONF_STATE.encode("utf-8"))
    state = parse_state(path.read_text(encoding="utf-8"), str(path), "/etc/postfix")
    assert state["parameters"] == {"myhostname": "server", "relay_domains": "relay", "transport_maps": "domains"}
    assert state["services"] == {"autoreply/unix": "domains", "smtp/inet": "server"}
    assert render_state(state).encode("utf-8") == path.read_bytes()


def test_a_postconf_state_after_a_run_is_written_as_the_old_code_did():
    state = parse_state(OLD_POSTCONF_STATE, "f", "/etc/postfix")
    plan = plan_ownership(state, "server", validate_request({}, None, None, None))
    assert plan["stale_parameters"] == ["myhostname"] and plan["stale_services"] == ["smtp/inet"]
    plan = plan_ownership(plan["state"], "relay", validate_request({}, None, None, None))
    plan = plan_ownership(plan["state"], "domains", validate_request({}, None, None, None))
    assert render_state(plan["state"]) == OLD_POSTCONF_EMPTY


def test_an_old_table_state_file_is_read_and_written_again_byte_for_byte(tmp_path):
    path = tmp_path / "etc_aliases.json"
    path.write_bytes(OLD_TABLE_STATE.encode("utf-8"))
    owners = parse_table_state(path.read_text(encoding="utf-8"), "/etc/aliases", str(path))
    assert owners == {"lists": ["mlmmj_example.org_all", "mlmmj_example.org_news"], "server": ["postmaster"]}
    assert render_table_state("/etc/aliases", owners).encode("utf-8") == path.read_bytes()
    # unsorted keys and an owner without keys: written as the old code did
    assert render_table_state("/etc//aliases", {"server": ["postmaster"], "x": [],
                                                "lists": ["mlmmj_example.org_news", "mlmmj_example.org_all"]}) \
        == OLD_TABLE_STATE
    _stale, after = plan_table_ownership(owners, "lists", [], str.lower)
    _stale, after = plan_table_ownership(after, "server", [], str.lower)
    assert render_table_state("/etc/aliases", after) == OLD_TABLE_EMPTY


@pytest.mark.parametrize("config_dir,expected", [
    ("/etc/postfix", "/var/lib/vhosting-postfix/postconf/etc_postfix.json"),
    ("//etc/postfix/", "/var/lib/vhosting-postfix/postconf/etc_postfix.json"),
    ("/", "/var/lib/vhosting-postfix/postconf/root.json"),
    ("", "/var/lib/vhosting-postfix/postconf/root.json"),
])
def test_postconf_state_file_names(config_dir, expected):
    assert default_state_file(config_dir) == expected


@pytest.mark.parametrize("path,expected", [
    ("/etc/aliases", "/var/lib/vhosting-postfix/lookup_table/etc_aliases.json"),
    ("/etc/postfix//virtual", "/var/lib/vhosting-postfix/lookup_table/etc_postfix_virtual.json"),
    ("/", "/var/lib/vhosting-postfix/lookup_table/.json"),  # as before: no 'root' for tables
])
def test_table_state_file_names(path, expected):
    assert table_state_file(path) == expected


@pytest.mark.parametrize("owner,good", [
    ("server", True), ("a.b-c_d", True), ("9x", True), ("a" * 64, True),
    ("a" * 65, False), ("-x", False), ("_x", False), ("no/slash", False), ("has space", False), (1, False),
])
def test_both_modules_apply_the_same_owner_rule_and_name_their_option(owner, good):
    if good:
        assert validate_ownership(owner, [])[0] == owner
        assert check_table_owner(owner, False) == owner
        return
    with pytest.raises(PostconfError, match=r"^owner .* is invalid: " + OWNER_RULE):
        validate_ownership(owner, [])
    with pytest.raises(LookupTableError, match=r"^managed_by .* is invalid: " + OWNER_RULE):
        check_table_owner(owner, False)


def test_unusable_files_are_refused_with_each_modules_error_and_advice():
    with pytest.raises(StateError) as postconf_error:
        parse_state("{", "/s/p.json", "/etc/postfix")
    with pytest.raises(LookupTableError) as table_error:
        parse_table_state("{", "/etc/aliases", "/s/t.json")
    assert not isinstance(table_error.value, PostconfError)
    assert str(postconf_error.value).startswith(
        "/s/p.json is not a usable state file of the vhosting.postfix.postconf module: not valid JSON (")
    assert str(postconf_error.value).endswith(
        ". Nothing was changed. Restore it from a backup, or move it away (the module then forgets which names "
        "each owner set; 'adopt' can take them over again), or set state_file to another path")
    assert str(table_error.value).startswith(
        "/s/t.json is not a usable state file of the vhosting.postfix.lookup_table module: not valid JSON (")
    assert str(table_error.value).endswith(
        ". Nothing was changed. Restore it, or move it away (the keys its owners set are then kept in the table "
        "until removed by hand)")


def test_each_format_refuses_the_other():
    with pytest.raises(StateError, match="it has no 'version' key|unexpected keys"):
        parse_state(OLD_TABLE_STATE, "f", "/etc/postfix")
    with pytest.raises(LookupTableError, match="unexpected keys config_dir, parameters, services, version"):
        parse_table_state(OLD_POSTCONF_STATE, "/etc/aliases", "f")
    for version in ("true", "2", '"1"'):
        with pytest.raises(LookupTableError, match="not a version 1 state object"):
            parse_table_state(OLD_TABLE_EMPTY.replace('"version": 1', '"version": %s' % version), "/etc/aliases", "f")


def test_a_name_the_owner_lists_absent_is_stale_for_postconf_but_not_for_tables():
    # The two callers report it differently (kept as they were): postconf lists it
    # among its removals, lookup_table removes it as a requested absent key only.
    state = parse_state(OLD_POSTCONF_STATE, "f", "/etc/postfix")
    plan = plan_ownership(state, "server", validate_request({}, ["myhostname"], None, None))
    assert plan["stale_parameters"] == ["myhostname"] and "myhostname" not in plan["state"]["parameters"]
    stale, after = plan_table_ownership({"lists": ["a", "b"]}, "lists", [("A", None, "absent")], str.lower)
    assert stale == ["b"] and after == {}


def test_a_table_key_recorded_for_two_owners_stays_with_the_other():
    # Only a hand-edited (or very old) file has it; it is accepted and kept as before.
    owners = parse_table_state('{"version": 1, "path": "/t", "owners": {"a": ["k"], "b": ["k"]}}', "/t", "f")
    stale, after = plan_table_ownership(owners, "a", [], str.lower)
    assert stale == [] and after == {"b": ["k"]}


@pytest.mark.parametrize("owner", ["server\n", "lists\n", "a\nb"])
def test_an_owner_with_a_line_end_is_refused(owner):
    with pytest.raises(Exception):
        check_table_owner(owner, False)
