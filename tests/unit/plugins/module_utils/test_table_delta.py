# -*- coding: utf-8 -*-
"""The delta of two data files applied to a source gives what a full rebuild gives, or is refused."""
import random

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils import _table_delta as td
from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import canonical_lines, render_lines

HEADER = render_lines([], "lmdb")[0].encode()


def source(data):
    """The source the module's fast path writes for a canonical data file (None: not canonical)."""
    lines = canonical_lines(data.decode("utf-8", "surrogateescape"), "lmdb")
    return None if lines is None else render_lines(lines, "lmdb")[0].encode()


def through_delta(old, new):
    """The new source through compute/render/parse/apply, or None where the delta is refused."""
    base = source(old)
    assert base is not None
    delta = td.compute(old, new)
    if delta is None:
        return None
    removed, added = td.parse(td.render(*delta))
    try:
        pieces, added_keys, removed_keys, modified_keys = td.apply(base, HEADER, removed, added)
    except td.DeltaError:
        return None
    return b"".join(pieces), added_keys, removed_keys, modified_keys


def test_one_changed_value_is_one_line_out_one_in_and_a_modified_key():
    old = b"".join(b"k%05d\tv%d\n" % (i, i) for i in range(2000))
    new = old.replace(b"k01000\tv1000\n", b"k01000\tchanged\n")
    assert td.compute(old, new) == ([b"k01000\tv1000"], [b"k01000\tchanged"])
    text, added, removed, modified = through_delta(old, new)
    assert text == source(new)
    assert (added, removed, modified) == ([], [], [b"k01000"])


def test_order_of_the_data_file_does_not_matter_and_a_permutation_is_no_change():
    old = b"b\t2\na\t1\nc\t3\n"
    assert td.compute(old, b"c\t3\nb\t2\na\t1\n") == ([], [])
    assert through_delta(old, b"c\t3\nd\t4\na\t1\n")[0] == source(b"c\t3\nd\t4\na\t1\n")


def test_missing_final_newline_and_empty_files():
    assert through_delta(b"a\t1\nb\t2", b"a\t1\nb\t3")[0] == source(b"a\t1\nb\t3\n")
    assert through_delta(b"", b"a\t1\n")[0] == source(b"a\t1\n")
    assert through_delta(b"a\t1\n", b"")[0] == source(b"")


@pytest.mark.parametrize("new", [
    b"a\t1\nb\t2\nb\t2\n",          # a line twice
    b"a\t1\nb\t2\nb\t9\n",          # a key twice
    b"a\t1\nB\t2\n",                # upper case key: the general path folds it
    b"a\t1\n# comment\nb\t2\n",     # a comment
    b"a\t1\n\nb\t2\n",              # an empty line
    b"a\t1\nb  2\n",                # not TAB-separated
    b"a\t1\nb\t2 \n",               # trailing blank
    b"a\t1\nb\t2\r\n",              # CRLF
    b"a\t1\nb\t\xc3\xa9\n",         # not ASCII
])
def test_what_the_fast_path_does_not_take_is_refused(new):
    assert source(new) is None
    assert through_delta(b"a\t1\nb\t2\n", new) is None


def test_apply_refuses_a_source_that_is_not_the_one_the_delta_was_made_for():
    base = source(b"a\t1\nb\t2\n")
    with pytest.raises(td.DeltaError):
        td.apply(base, HEADER, [b"c\t3"], [])  # not there
    with pytest.raises(td.DeltaError):
        td.apply(base, HEADER, [], [b"a\t9"])  # already there and not removed
    with pytest.raises(td.DeltaError):
        td.apply(b"# edited by hand\n" + base, HEADER, [], [b"c\t3"])
    with pytest.raises(td.DeltaError):
        td.apply(base[:-1], HEADER, [], [b"c\t3"])
    with pytest.raises(td.DeltaError):
        td.parse(b"-a\t1\n")
    with pytest.raises(td.DeltaError):
        td.parse(td.MAGIC + b"+A\t1\n")
    with pytest.raises(td.DeltaError):
        td.parse(td.MAGIC + b"a\t1\n")


def test_max_changes():
    old = b"a\t1\nb\t2\nc\t3\n"
    assert td.compute(old, b"a\t9\nb\t9\nc\t3\n", max_changes=3) is None
    assert td.compute(old, b"a\t9\nb\t2\nc\t3\n", max_changes=3) is not None


@pytest.mark.parametrize("seed", range(300))
def test_random_changes_give_the_full_rebuild_or_are_refused(seed):
    rnd = random.Random(seed)
    keys = [b"k%d" % i for i in range(rnd.choice((3, 8, 40, 200)))]
    values = [b"v", b"w", b"x y", b"z"]
    old_keys = rnd.sample(keys, rnd.randint(0, len(keys)))
    old_lines = [b"%s\t%s" % (k, rnd.choice(values)) for k in old_keys]
    new_lines = list(old_lines)
    for _step in range(rnd.randint(0, 6)):
        what = rnd.random()
        if what < 0.3 and new_lines:
            del new_lines[rnd.randrange(len(new_lines))]
        elif what < 0.6:
            new_lines.insert(rnd.randint(0, len(new_lines)), b"%s\t%s" % (rnd.choice(keys), rnd.choice(values)))
        elif what < 0.9 and new_lines:
            i = rnd.randrange(len(new_lines))
            new_lines[i] = b"%s\t%s" % (td.key_of(new_lines[i]), rnd.choice(values))
        elif new_lines:
            new_lines.append(new_lines[rnd.randrange(len(new_lines))])  # a line twice
    if rnd.random() < 0.2:
        rnd.shuffle(new_lines)
    old = b"".join(line + b"\n" for line in old_lines)
    new = b"".join(line + b"\n" for line in new_lines)
    got = through_delta(old, new)
    want = source(new)
    if want is None:
        assert got is None
    else:
        assert got is not None and got[0] == want
        old_map = dict(line.split(b"\t", 1) for line in old_lines)
        new_map = dict(line.split(b"\t", 1) for line in new_lines)
        assert got[1] == sorted(set(new_map) - set(old_map))
        assert got[2] == sorted(set(old_map) - set(new_map))
        assert got[3] == sorted(k for k in set(new_map) & set(old_map) if new_map[k] != old_map[k])


def test_a_large_file_with_scattered_changes():
    rnd = random.Random(7)
    old_lines = [b"user%d@d%d.example\tbox%d" % (i, i % 100, i) for i in range(50000)]
    new_lines = list(old_lines)
    for i in rnd.sample(range(len(new_lines)), 60):
        new_lines[i] += b"x"
    new_lines.insert(100, b"new@x\tv")
    del new_lines[40000:40005]
    old = b"\n".join(old_lines) + b"\n"
    new = b"\n".join(new_lines) + b"\n"
    assert through_delta(old, new)[0] == source(new)
