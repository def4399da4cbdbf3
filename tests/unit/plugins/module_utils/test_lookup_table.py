import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (
    HIDDEN,
    LookupTableError,
    detect_format,
    index_files,
    normalise_entries,
    parse_data,
    parse_source,
    pattern_end,
    plan,
    render,
    diff_lines,
    source_lines,
    split_line,
    stale_index_files,
    summarise_lines,
    use_incremental,
    validate,
)


def test_dict_entries_with_lists_render_as_comma_lists():
    items = normalise_entries({"info@example.com": ["a@example.com", "b@example.net"], "n": 5})
    assert items == [("info@example.com", "a@example.com, b@example.net", "present"), ("n", "5", "present")]


def test_list_entries_keep_state_and_order():
    items = normalise_entries([{"key": "/b/", "value": "B"}, {"key": "/a/", "state": "absent"}])
    assert items == [("/b/", "B", "present"), ("/a/", None, "absent")]


@pytest.mark.parametrize(
    "entries, message",
    [
        ("text", "entries must be a dict"),
        ([{"value": "x"}], "entries[0]: expected a dict with at least `key`"),
        ([{"key": "k", "value": "v", "colour": 1}], "unknown field(s) colour"),
        ([{"key": "k", "state": "gone"}], "state must be present or absent"),
        ({"k": []}, "entry 'k': the list of values is empty"),
        ({"k": True}, "is a boolean"),
        ({"k": {"a": 1}}, "value must be a string or a list of strings"),
    ],
)
def test_bad_entries_name_the_item(entries, message):
    with pytest.raises(LookupTableError) as err:
        normalise_entries(entries)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "table_type, entries, message",
    [
        ("lmdb", {"bad key": "x"}, "key 'bad key' contains whitespace"),
        ("lmdb", {"#x": "y"}, "key '#x' starts with '#'"),
        ("lmdb", {"": "y"}, "an entry has an empty key"),
        ("lmdb", {"k": "a\nb"}, "entry 'k': the value contains a newline"),
        ("lmdb", {"k": ""}, "entry 'k' has an empty value"),
        ("hash", {"Alice@Example.com": "a", "alice@example.com": "b"},
         "keys 'Alice@Example.com' and 'alice@example.com' are the same key for Postfix (a hash table folds keys"),
        ("regexp", {"no-delimiters": "x"}, "a regexp pattern must be written /pattern/flags"),
        ("regexp", {"^no-delimiters$": "x"}, "the regexp pattern is not closed with '^'"),
        ("pcre", {"/unclosed": "x"}, "the pcre pattern is not closed with '/'"),
        ("cidr", {"10.0.0.0/33": "OK"},
         "key '10.0.0.0/33' is not a valid IP address or CIDR network (prefix length 33 is longer than 32)"),
        ("cidr", {"10.0.0.1/8": "OK"}, "key '10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8 or the host 10.0.0.1/32?"),
        ("cidr", {"10.0.0.0 /8": "OK"}, "key '10.0.0.0 /8' contains whitespace"),
        ("regexp", {"/a/ b": "x"}, "key '/a/ b': ' b' after the regexp pattern's flags would be read as the start of the value"),
        ("pcre", {"/a/i  /b/": "x"}, "key '/a/i  /b/': '  /b/' after the pcre pattern's flags"),
        ("regexp", {"/a\\/": "x"}, "the regexp pattern is not closed with '/'"),
        ("pcre", {"/a\tb/": "x"}, "key '/a\\tb/' contains a TAB character"),
        ("regexp", {" /a/": "x"}, "a regexp pattern must be written /pattern/flags"),
        ("nosuch", {"k": "v"}, "type 'nosuch' is not supported"),
    ],
)
def test_validation_names_the_offending_key(table_type, entries, message):
    with pytest.raises(LookupTableError) as err:
        validate(normalise_entries(entries), table_type)
    assert message in str(err.value)


def test_pattern_tables_keep_case_distinct_keys():
    validate(normalise_entries([{"key": "/A/", "value": "x"}, {"key": "/a/", "value": "y"}]), "regexp")


def test_same_key_twice_in_list_form():
    with pytest.raises(LookupTableError, match="key 'k' is given twice"):
        validate(normalise_entries([{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]), "lmdb")


def test_valid_cidr_keys():
    validate(normalise_entries({"192.0.2.0/24": "REJECT", "198.51.100.7": "OK", "2001:db8::/32": "OK",
                                "[2001:db8:1::]/48": "OK", "0.0.0.0/0": "DUNNO"}), "cidr")


def test_parse_source_reads_comments_and_continuation_lines():
    text = "# comment\n\nalice@example.com\talice\ninfo@example.com a@example.com,\n  b@example.net\n   \n"
    assert parse_source(text) == [("alice@example.com", "alice"), ("info@example.com", "a@example.com, b@example.net")]


def test_data_formats_give_the_same_items():
    postmap = parse_data("a@x\tA\nb@x B, C\n", "postmap")
    csv_items = parse_data("a@x,A\nb@x,B,C\n", "csv")
    json_items = parse_data('{"a@x": "A", "b@x": ["B", "C"]}', "json")
    assert postmap == csv_items == json_items == [("a@x", "A", "present"), ("b@x", "B, C", "present")]


def test_detect_format():
    assert detect_format("table.csv", "a,b") == "csv"
    assert detect_format("table.txt", ' {"a": 1}') == "json"
    assert detect_format("table.json", "") == "json"
    assert detect_format("virtual", "a b") == "postmap"


@pytest.mark.parametrize("text, fmt, message", [
    ("{", "json", "not valid JSON"),
    ("onlykey\n", "csv", "line 1: a CSV row needs a key and a value"),
    ("a b", "xml", "unknown format 'xml'"),
])
def test_bad_data_files(text, fmt, message):
    with pytest.raises(LookupTableError, match=message):
        parse_data(text, fmt)


def test_plan_exclusive_fixed_table_sorts_and_folds():
    current = [("b@x", "old"), ("gone@x", "x")]
    items = normalise_entries({"B@X": "new", "a@x": "A"})
    desired, added, removed, modified = plan(current, items, "lmdb", exclusive=True)
    assert desired == [("a@x", "A"), ("b@x", "new")]
    assert (added, removed, modified) == (["a@x"], ["gone@x"], ["b@x"])


def test_plan_non_exclusive_keeps_other_keys_and_removes_absent():
    current = [("a@x", "A"), ("b@x", "B"), ("c@x", "C")]
    items = normalise_entries([{"key": "b@x", "state": "absent"}, {"key": "d@x", "value": "D"}])
    desired, added, removed, modified = plan(current, items, "hash", exclusive=False)
    assert desired == [("a@x", "A"), ("c@x", "C"), ("d@x", "D")]
    assert (added, removed, modified) == (["d@x"], ["b@x"], [])


def test_plan_pattern_table_keeps_given_order():
    items = normalise_entries([{"key": "/z/", "value": "1"}, {"key": "/a/", "value": "2"}])
    desired, _a, _r, _m = plan([], items, "pcre")
    assert [k for k, _v in desired] == ["/z/", "/a/"]


def test_plan_non_exclusive_pattern_table_appends_new_rules():
    current = [("/z/", "1"), ("/a/", "2")]
    items = normalise_entries([{"key": "/m/", "value": "3"}, {"key": "/z/", "value": "9"}])
    desired, added, _removed, modified = plan(current, items, "regexp", exclusive=False)
    assert desired == [("/z/", "9"), ("/a/", "2"), ("/m/", "3")]
    assert added == ["/m/"] and modified == ["/z/"]


def test_plan_unchanged_table_has_no_changes():
    current = [("a@x", "A")]
    assert plan(current, normalise_entries({"a@x": "A"}), "cdb")[1:] == ([], [], [])


def test_render_is_deterministic_and_round_trips():
    pairs = [("a@x", "A"), ("b@x", "B, C")]
    text, first = render(pairs, "lmdb")
    assert text == render(list(pairs), "lmdb")[0]
    assert text.startswith("# Ansible managed\n")
    assert text.splitlines()[first - 1] == "a@x\tA"
    assert parse_source(text) == pairs


def test_summary_is_bounded():
    current = ["k%d\tv" % i for i in range(1000)]
    desired = sorted(["k%d\tw" % i for i in range(1000)] + ["new%d\tn" % i for i in range(500)])
    added, removed, modified, _upserts = diff_lines(current, desired)
    lines = summarise_lines(added, removed, modified, current, desired, sample=5).splitlines()
    assert lines[0] == "# 500 added, 0 removed, 1000 changed keys (showing at most 5 of each)"
    assert len(lines) == 11
    assert "~ k0\tv -> w" in lines


def test_incremental_only_for_small_changes_to_big_indexed_tables():
    assert use_incremental("lmdb", 1000000, 1)
    assert use_incremental("hash", 10000, 100)
    assert not use_incremental("hash", 10000, 101)
    assert not use_incremental("lmdb", 9999, 1)
    assert not use_incremental("cdb", 1000000, 1)
    assert not use_incremental("lmdb", 1000000, 0)


# ------------------------------------------------------------ fast line path

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (  # noqa: E402
    canonical_lines,
    diff_lines,
    diff_text_lines,
    pairs_to_lines,
    render_lines,
    source_lines,
    summarise_lines,
)


def test_canonical_text_is_taken_as_lines_and_sorted():
    text = "b@x\tB\na@x\tA, C\n"
    assert canonical_lines(text, "lmdb") == ["a@x\tA, C", "b@x\tB"]
    assert canonical_lines("b@x\tB", "hash") == ["b@x\tB"]  # no final newline
    assert canonical_lines("", "cdb") == []


@pytest.mark.parametrize("text", [
    "# comment\na@x\tA\n",          # comment
    "a@x\tA\n  continued\n",         # continuation line
    "a@x A\n",                       # blank separator
    "a@x\t A\n",                     # value with a leading blank
    "a@x\tA \n",                     # trailing blank
    "a@x\n",                         # no value
    "A@x\tA\n",                      # upper case key (folded by the general path)
    "a@x\tA\r\n",                    # CRLF
    "a@x\tA\n\nb@x\tB\n",            # empty line
    "a@x\tA\na@x\tB\n",              # duplicate key (named by the general path)
    "\u00e4@x\tA\n",                 # non-ASCII
    "a@x\tA\tB\n",                   # TAB inside the value
])
def test_anything_not_canonical_takes_the_general_path(text):
    assert canonical_lines(text, "lmdb") is None


def test_pattern_tables_never_take_the_fast_path():
    assert canonical_lines("a\tb\n", "regexp") is None
    assert canonical_lines("192.0.2.0/24\tOK\n", "cidr") is None


@pytest.mark.parametrize("text", [
    "b@x\tB\na@x\tA, C\n",
    "# h\nB@X   B\na@x\tA,\n  C\n",
])
def test_fast_and_general_paths_give_the_same_table(text):
    """A data file gives the same rendered table whichever path reads it."""
    general = pairs_to_lines(plan([], parse_data(text, "postmap"), "lmdb")[0])
    fast = canonical_lines(text, "lmdb")
    if fast is not None:
        assert fast == general
    rendered = render_lines(general, "lmdb")[0]
    assert rendered == render(plan([], parse_data(text, "postmap"), "lmdb")[0], "lmdb")[0]
    assert source_lines(rendered, "lmdb") == general


def test_source_lines_folds_and_sorts_a_hand_written_file():
    assert source_lines("# hand written\nB@x\tb\na@x   a\n", "hash") == ["a@x\ta", "b@x\tb"]
    assert source_lines(None, "hash") == []
    # pattern tables keep their order and case
    assert source_lines("/B/\tb\n/a/\ta\n", "regexp") == ["/B/\tb", "/a/\ta"]


def _big(n, change=None, drop=None, add=None):
    lines = ["u%07d@x\tv%d" % (i, i) for i in range(n) if i != drop]
    if change is not None:
        lines[change] = "u%07d@x\tchanged" % change
    if add:
        lines = sorted(lines + add)
    return lines


@pytest.mark.parametrize("table_type", ["lmdb", "regexp"])
def test_diff_lines_counts_added_removed_and_modified_keys(table_type):
    old = _big(5000)
    new = _big(5000, change=10, drop=4000, add=["u9999999@x\tnew", "a@x\tfirst"])
    added, removed, modified, upserts = diff_lines(old, new, table_type)
    assert added == ["a@x", "u9999999@x"]
    assert removed == ["u0004000@x"]
    assert modified == ["u0000010@x"]
    assert upserts == ["a@x\tfirst", "u0000010@x\tchanged", "u9999999@x\tnew"]


def test_diff_lines_of_a_new_table_adds_every_key():
    assert diff_lines([], ["b\t2", "a\t1"]) == (["a", "b"], [], [], ["b\t2", "a\t1"])


def test_diff_lines_of_equal_tables_is_empty():
    assert diff_lines(_big(3000), _big(3000)) == ([], [], [], [])


def test_summary_of_lines_is_bounded_and_hides_values():
    old = _big(3000)
    new = _big(3000, change=1, drop=2)
    added, removed, modified, _u = diff_lines(old, new)
    text = summarise_lines(added, removed, modified, old, new, hide_values=True)
    assert text.startswith("# 0 added, 1 removed, 1 changed keys")
    assert "~ u0000001@x\t%s -> %s" % (HIDDEN, HIDDEN) in text
    assert "\tchanged" not in text and "> changed" not in text
    assert len(text.splitlines()) == 3
    shown = summarise_lines(added, removed, modified, old, new)
    assert "~ u0000001@x\tv1 -> changed" in shown and "- u0000002@x\tv2" in shown


def test_diff_text_lines_hides_values():
    assert diff_text_lines(["k\tsecret"], "lmdb", hide_values=True).endswith("k\t%s\n" % HIDDEN)


# ------------------------------------------------ pattern tables with spaces

PATTERN_SOURCE = (
    "# Ansible managed\n"
    "/^Subject: .*buy now/\tREJECT spam\n"
    "!/^From: .* <a b@x>$/i  OK\n"
    "/a\\/b c/ DUNNO\n"
    "#/commented out/ x\n"
    "/^X-Long: multi/\tPREPEND X-Flag: one,\n"
    "  two\n"
    "if /^Received:/\n"
    "/from mx/ WARN\n"
    "endif\n"
)


@pytest.mark.parametrize("table_type", ["regexp", "pcre"])
def test_pattern_keys_with_spaces_are_read_like_postfix(table_type):
    assert parse_source(PATTERN_SOURCE, table_type) == [
        ("/^Subject: .*buy now/", "REJECT spam"),
        ("!/^From: .* <a b@x>$/i", "OK"),
        ("/a\\/b c/", "DUNNO"),  # an escaped delimiter does not end the pattern
        ("/^X-Long: multi/", "PREPEND X-Flag: one, two"),
        ("if", "/^Received:/"),  # if/endif lines start with a letter: not a pattern rule
        ("/from mx/", "WARN"),
        ("endif", ""),
    ]


def test_fixed_tables_still_split_at_the_first_blank():
    assert parse_source("a@x b c\n", "lmdb") == [("a@x", "b c")]
    assert parse_source("/a b/ c\n", "cidr") == [("/a", "b/ c")]
    assert parse_source("/a b/ c\n") == [("/a", "b/ c")]


@pytest.mark.parametrize("text, end", [
    ("/a b/ x", 5),
    ("/a b/ix x", 7),
    ("!/a/ x", 4),
    ("!! /a/ x", 6),  # Postfix skips blanks after the negation
    ("#a b# x", 5),   # any delimiter
    ("/a\\/b/ x", 6),
    ("/a b/", 5),
    ("/unclosed x", None),
    ("/a\\/", None),
    ("!", None),
])
def test_pattern_end(text, end):
    assert pattern_end(text) == end


def test_unclosed_pattern_in_a_source_falls_back_to_the_first_blank():
    assert split_line("/unclosed x y", "regexp") == ("/unclosed", "x y")


@pytest.mark.parametrize("table_type", ["regexp", "pcre"])
def test_non_exclusive_update_of_a_pattern_table_with_spaces_round_trips(table_type):
    """Read the current file, manage two keys, render: exactly the intended lines, no duplicate."""
    first = normalise_entries([
        {"key": "/^Subject: .*buy now/", "value": "REJECT spam"},
        {"key": "/^From: .*lottery winner/i", "value": "DISCARD"},
    ])
    validate(first, table_type)
    text = render(plan([], first, table_type)[0], table_type)[0]
    update = normalise_entries([
        {"key": "/^Subject: .*buy now/", "value": "REJECT spam, really"},
        {"key": "/^Subject: free money/", "value": "HOLD"},
    ])
    validate(update, table_type)
    current = parse_source(text, table_type)
    desired, added, removed, modified = plan(current, update, table_type, exclusive=False)
    assert desired == [
        ("/^Subject: .*buy now/", "REJECT spam, really"),
        ("/^From: .*lottery winner/i", "DISCARD"),
        ("/^Subject: free money/", "HOLD"),
    ]
    assert (added, removed, modified) == (["/^Subject: free money/"], [], ["/^Subject: .*buy now/"])
    again = render(desired, table_type)[0]
    assert plan(parse_source(again, table_type), update, table_type, exclusive=False)[1:] == ([], [], [])
    assert source_lines(again, table_type) == ["%s\t%s" % kv for kv in desired]


def test_pattern_data_file_in_postmap_format_keeps_spaces():
    assert parse_data("/^Subject: a b/ REJECT x\n", "postmap", table_type="pcre") == [
        ("/^Subject: a b/", "REJECT x", "present")]


# ---------------------------------------------------------- index files

def test_index_files_of_each_type():
    assert index_files("/etc/postfix/virtual", "lmdb") == ["/etc/postfix/virtual.lmdb"]
    assert index_files("/etc/postfix/virtual", "hash") == ["/etc/postfix/virtual.db"]
    assert index_files("/etc/postfix/virtual", "btree") == ["/etc/postfix/virtual.db"]
    assert index_files("/etc/postfix/virtual", "cdb") == ["/etc/postfix/virtual.cdb"]
    assert index_files("/etc/postfix/virtual", "dbm") == ["/etc/postfix/virtual.dir", "/etc/postfix/virtual.pag"]
    assert index_files("/etc/postfix/virtual", "sdbm") == ["/etc/postfix/virtual.dir", "/etc/postfix/virtual.pag"]
    for unindexed in ("texthash", "regexp", "pcre", "cidr"):
        assert index_files("/etc/postfix/virtual", unindexed) == []


@pytest.mark.parametrize("table_type, stale", [
    ("lmdb", [".db", ".cdb", ".dir", ".pag"]),
    ("hash", [".lmdb", ".cdb", ".dir", ".pag"]),
    ("btree", [".lmdb", ".cdb", ".dir", ".pag"]),
    ("cdb", [".lmdb", ".db", ".dir", ".pag"]),
    ("dbm", [".lmdb", ".db", ".cdb"]),
    ("sdbm", [".lmdb", ".db", ".cdb"]),
    ("texthash", [".lmdb", ".db", ".cdb", ".dir", ".pag"]),
    ("regexp", [".lmdb", ".db", ".cdb", ".dir", ".pag"]),
    ("cidr", [".lmdb", ".db", ".cdb", ".dir", ".pag"]),
])
def test_stale_index_files_are_those_of_the_other_types(table_type, stale):
    path = "/etc/postfix/virtual"
    assert stale_index_files(path, table_type) == [path + s for s in stale]
    assert not set(stale_index_files(path, table_type)) & set(index_files(path, table_type))


def test_index_helpers_refuse_unknown_types():
    with pytest.raises(LookupTableError, match="type 'mysql' is not supported"):
        stale_index_files("/etc/postfix/virtual", "mysql")
    with pytest.raises(LookupTableError, match="type 'mysql' is not supported"):
        index_files("/etc/postfix/virtual", "mysql")
