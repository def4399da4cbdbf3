# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plan_source: one planner for ordinary tables and aliases(5) files."""
import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (
    plan_source,
    render_aliases,
    render_lines,
)

DEBIAN = "# See man 5 aliases for format\npostmaster:    root\n"


class IndexStale:
    """A stand-in for Table.index_stale that counts its calls."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.answer


def run(before, lines=None, items=None, table_type="lmdb", exclusive=True, aliases=False, stale=False, indexed=True):
    index_stale = IndexStale(stale)
    work = plan_source(before, lines, items, table_type, exclusive, aliases=aliases, index_stale=index_stale,
                       indexed=indexed)
    return work, index_stale.calls


def test_a_new_table_is_created_and_its_index_is_not_asked_about():
    work, calls = run(None, items=[("b@x", "B", "present"), ("A@x", "A", "present")])
    assert work["after_text"] == render_lines(["a@x\tA", "b@x\tB"], "lmdb")[0]
    assert work["content_changed"] and work["changed"] and work["rebuilt"] and not work["incremental"]
    assert (work["entries"], work["added"], work["removed"], work["upserts"]) == (
        2, ["a@x", "b@x"], [], ["a@x\tA", "b@x\tB"])
    assert work["aliases"] is False and calls == 0


def test_an_empty_new_table_is_still_written():
    work, _calls = run(None, items=[])
    assert work["content_changed"] and work["entries"] == 0 and work["after_text"].startswith("#")


def test_an_unchanged_table_reuses_the_request_and_rebuilds_only_a_stale_index():
    text = render_lines(["a\t1"], "lmdb")[0]
    work, calls = run(text, lines=["a\t1"])
    assert not work["content_changed"] and not work["stale"] and not work["changed"] and not work["rebuilt"]
    assert work["current"] is work["lines"] and calls == 1
    work, calls = run(text, lines=["a\t1"], stale=True)
    assert work["stale"] is True and work["changed"] and work["rebuilt"] and calls == 1
    work, _calls = run(text, lines=["a\t1"], stale=True, table_type="texthash", indexed=False)
    assert work["changed"] and not work["rebuilt"]


def test_a_non_exclusive_request_merges_with_the_current_entries():
    text = render_lines(["a\t1", "b\t2"], "lmdb")[0]
    work, _calls = run(text, items=[("a", None, "absent"), ("b", "3", "present"), ("c", "4", "present")],
                       exclusive=False)
    assert work["lines"] == ["b\t3", "c\t4"] and work["current"] == ["a\t1", "b\t2"]
    assert (work["added"], work["removed"], work["modified"]) == (["c"], ["a"], ["b"])
    assert work["upserts"] == ["b\t3", "c\t4"]


@pytest.mark.parametrize("stale,incremental", [(False, True), (True, False)])
def test_a_small_change_to_a_big_table_is_incremental_unless_the_index_is_stale(stale, incremental):
    lines = ["k%05d\tv" % i for i in range(12000)]
    text = render_lines(lines, "lmdb")[0]
    work, calls = run(text, items=[("k00001", "new", "present")], exclusive=False, stale=stale)
    assert work["incremental"] is incremental and work["modified"] == ["k00001"] and work["rebuilt"]
    assert calls == 1
    work, _calls = run(text, items=[("k00001", "new", "present")], exclusive=False, table_type="cdb")
    assert work["incremental"] is False  # not a type postmap -i updates


def test_an_aliases_file_is_edited_in_place_and_never_incrementally():
    lines = "".join("n%05d: root\n" % i for i in range(12000))
    work, _calls = run(DEBIAN + lines, items=[("n00001", "admin", "present")], exclusive=False, aliases=True)
    assert work["after_text"] == DEBIAN + lines.replace("n00001: root\n", "n00001: admin\n")
    assert work["aliases"] is True and work["incremental"] is False and work["upserts"] == []
    assert work["modified"] == ["n00001"] and work["entries"] == 12001 and work["first_line"] == 1


def test_an_exclusive_aliases_file_is_rendered_whole_also_from_canonical_lines():
    work, _calls = run(DEBIAN, lines=["b\troot", "a\tx, y"], aliases=True)
    assert work["after_text"] == render_aliases([("a", "x, y"), ("b", "root")])[0]
    assert work["lines"] == ["a\tx, y", "b\troot"] and work["current"] == ["postmaster\troot"]
    assert (work["added"], work["removed"], work["entries"]) == (["a", "b"], ["postmaster"], 2)
    assert work["first_line"] == render_aliases([])[1]


def test_a_missing_aliases_file_that_would_stay_empty_is_not_created():
    # Unlike an ordinary table (a header is always written), and the index is not asked about.
    work, calls = run(None, items=[("x", None, "absent")], exclusive=False, aliases=True)
    assert work["after_text"] == "" and not work["content_changed"] and not work["changed"]
    assert not work["stale"] and not work["rebuilt"] and calls == 0


def test_an_unchanged_aliases_file_with_a_stale_index_is_rebuilt():
    work, calls = run(DEBIAN, items=[("postmaster", "root", "present")], exclusive=False, aliases=True, stale=True)
    assert work["after_text"] == DEBIAN and work["stale"] is True and work["rebuilt"] and work["changed"]
    assert work["entries"] == 1 and calls == 1
