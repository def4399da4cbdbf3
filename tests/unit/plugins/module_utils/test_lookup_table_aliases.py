# -*- coding: utf-8 -*-
"""aliases(5) files in the lookup_table core, and the owner bookkeeping."""
import json

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (
    LookupTableError,
    alias_entries,
    alias_source_lines,
    edit_aliases,
    render_aliases,
    validate_alias_keys,
)
from ansible_collections.vhosting.postfix.plugins.module_utils._owner_state import (
    check_table_owner,
    parse_table_state,
    plan_table_ownership,
    render_table_state,
    table_state_file,
)

DEBIAN = """# See man 5 aliases for format
postmaster:    root
Root: admin,
\tother@example.org
"quoted name": x
"""


def test_entries_fold_names_and_join_continuation_lines():
    assert alias_entries(DEBIAN) == [
        ("postmaster", "root", [1]),
        ("root", "admin, other@example.org", [2, 3]),
        ('"quoted name"', "x", [4]),
    ]
    assert alias_source_lines(DEBIAN)[0] == '"quoted name"\tx'


def test_edit_keeps_every_other_line_byte_for_byte_and_appends_new_names():
    items = [("mlmmj_x", '"|/usr/bin/mlmmj-receive -L /s/x/"', "present")]
    out = edit_aliases(DEBIAN, items)
    assert out == DEBIAN + 'mlmmj_x: "|/usr/bin/mlmmj-receive -L /s/x/"\n'
    assert edit_aliases(out, items) == out


def test_edit_replaces_a_changed_name_with_all_its_continuation_lines():
    out = edit_aliases(DEBIAN, [("root", "carol", "present")])
    assert out.splitlines() == ["# See man 5 aliases for format", "postmaster:    root", "root: carol",
                                '"quoted name": x']


def test_edit_keeps_the_layout_of_a_line_that_already_says_the_same():
    text = "postmaster:\troot\n"
    assert edit_aliases(text, [("POSTMASTER", "root", "present")]) == text


def test_edit_removes_absent_names_and_ignores_unknown_ones():
    out = edit_aliases(DEBIAN, [("root", None, "absent"), ("nosuch", None, "absent")])
    assert out == "# See man 5 aliases for format\npostmaster:    root\n\"quoted name\": x\n"


def test_edit_of_a_missing_file_or_one_without_final_newline():
    assert edit_aliases(None, [("a", "b", "present")]) == "a: b\n"
    assert edit_aliases("x: y", [("a", "b", "present")]) == "x: y\na: b\n"


def test_a_name_written_twice_is_rewritten_once():
    out = edit_aliases("a: 1\nb: 2\na: 1\n", [("a", "1", "present")])
    assert out == "a: 1\nb: 2\n"


def test_render_exclusive_aliases():
    text, first = render_aliases([("a", "b"), ("c", "d, e")])
    assert text.endswith("a: b\nc: d, e\n") and text.startswith("# Ansible managed\n")
    assert first == 4


@pytest.mark.parametrize("key", ["a:b", '"a"'])
def test_alias_names_with_a_colon_or_a_quote_are_refused(key):
    with pytest.raises(LookupTableError, match="must not contain ':'"):
        validate_alias_keys([(key, "x", "present")])


# ------------------------------------------------------------------ owner

def test_owner_needs_a_non_exclusive_table_and_a_plain_name():
    assert check_table_owner(None, True) is None
    assert check_table_owner("lists", False) == "lists"
    with pytest.raises(LookupTableError, match="managed_by needs exclusive: false"):
        check_table_owner("lists", True)
    with pytest.raises(LookupTableError, match="is invalid"):
        check_table_owner("no/slash", False)


def test_state_file_path_and_round_trip():
    assert table_state_file("/etc/aliases") == "/var/lib/vhosting-postfix/lookup_table/etc_aliases.json"
    text = render_table_state("/etc/aliases", {"lists": ["b", "a"], "empty": []})
    assert json.loads(text) == {"version": 1, "path": "/etc/aliases", "owners": {"lists": ["a", "b"]}}
    assert parse_table_state(text, "/etc/aliases", "f") == {"lists": ["a", "b"]}
    assert parse_table_state(None, "/etc/aliases", "f") == {}


@pytest.mark.parametrize("text, detail", [
    ("{", "not valid JSON"),
    ('{"version": 2, "path": "/etc/aliases", "owners": {}}', "not a version 1"),
    ('{"version": 1, "path": "/etc/other", "owners": {}}', "records the table '/etc/other'"),
    ('{"version": 1, "path": "/etc/aliases", "owners": {"lists": "a"}}', "must have a list of keys"),
    ('{"version": 1, "path": "/etc/aliases", "owners": {}, "x": 1}', "unexpected keys"),
])
def test_unusable_state_files_are_refused_naming_the_file(text, detail):
    with pytest.raises(LookupTableError, match="f is not a usable state file.*%s" % detail):
        parse_table_state(text, "/etc/aliases", "f")


def test_plan_removes_what_the_owner_no_longer_sets_and_nothing_else():
    owners = {"lists": ["gone", "kept"], "other": ["theirs"]}
    items = [("Kept", "x", "present"), ("new", "y", "present")]
    stale, after = plan_table_ownership(owners, "lists", items, str.lower)
    assert stale == ["gone"]
    assert after == {"lists": ["kept", "new"], "other": ["theirs"]}


def test_a_key_another_owner_set_since_is_not_stale_and_ownership_moves():
    owners = {"lists": ["shared"], "other": ["shared", "taken"]}
    stale, after = plan_table_ownership(owners, "lists", [("taken", "x", "present")], str.lower)
    assert stale == []
    assert after == {"lists": ["taken"], "other": ["shared"]}


def test_an_owner_that_sets_nothing_any_more_leaves_the_state():
    stale, after = plan_table_ownership({"lists": ["a"]}, "lists", [], str.lower)
    assert stale == ["a"] and after == {}
