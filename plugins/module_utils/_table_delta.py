# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changes between two canonical table data files, and their application to a table source (issue 21).

A big table's data file changes by a few lines between runs. The action
plugin keeps the data file it sent last time (see
``plugin_utils/_table_cache``); when the host's source is still what that
request gave, only the lines removed and added since travel, and the module
splices them into the source instead of reading, validating and sorting a
million lines again.

``compute`` (control node) finds the changed lines of two data files by
their common head and tail (compared as bytes, in C), and compares the
lines in between as sets. ``apply`` (host) puts them into the sorted
source with a binary search per line. Both work on bytes. Only canonical
data takes this path: every added line must be a ``key<TAB>value`` line as
``_lookup_table.canonical_lines`` takes it, the previous data must have
been taken whole by that fast path (the module records so), and ``apply``
refuses a line to remove that is not in the source and a key that would be
there twice. Whatever is refused takes the full path, which gives the same
table (or names the bad entry). No I/O, no Ansible imports.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import CANONICAL_LINE, _common_run

_LINE = re.compile(CANONICAL_LINE.encode("ascii"))
MAGIC = b"vhosting.postfix lookup_table delta v1\n"
_FIRST_BLOCK = 1 << 16
_MAX_BLOCK = 1 << 22
# How far (lines skipped in both files together) _ordered_changes looks to find its way back to common lines.
RESYNC_WINDOW = 16


class DeltaError(ValueError):
    """The delta does not fit the source (or is not canonical): take the full path."""


def _same(a, i, b, j, length):
    """a[i:i + length] == b[j:j + length], compared in place (memcmp, no copies)."""
    return a.startswith(memoryview(b)[j:j + length], i)


def _common_prefix(a, b, limit):
    """Length of the common prefix of a and b, at most limit (doubling blocks, then bisection)."""
    lo, step = 0, _FIRST_BLOCK
    while lo < limit:
        hi = min(lo + step, limit)
        if not _same(a, lo, b, lo, hi - lo):
            break
        lo, step = hi, min(step * 2, _MAX_BLOCK)
    else:
        return limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _same(a, lo, b, lo, mid - lo):
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a, b, limit):
    """Length of the common suffix of a and b, at most limit."""
    na, nb = len(a), len(b)
    lo, step = 0, _FIRST_BLOCK
    while lo < limit:
        hi = min(lo + step, limit)
        if not _same(a, na - hi, b, nb - hi, hi - lo):
            break
        lo, step = hi, min(step * 2, _MAX_BLOCK)
    else:
        return limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _same(a, na - mid, b, nb - mid, mid - lo):
            lo = mid
        else:
            hi = mid
    return lo


def _lines(data):
    lines = data.split(b"\n")
    lines.pop()  # data ends with a newline (or is empty)
    return lines


def key_of(line):
    return line.partition(b"\t")[0]


def compute(old, new, max_changes=None):
    """(removed lines, added lines), each sorted, from the data file ``old`` to ``new`` (bytes); or None.

    None when the delta cannot stand for ``new``: an added line that is not a
    canonical ``key<TAB>value`` line, a line given twice among the changed
    region, or more than ``max_changes`` changed lines. Lines are compared as
    whole lines: the order of the files does not matter, only their lines.
    """
    if old and not old.endswith(b"\n"):
        old += b"\n"
    if new and not new.endswith(b"\n"):
        new += b"\n"
    limit = min(len(old), len(new))
    head = _common_prefix(old, new, limit)
    head = old.rfind(b"\n", 0, head) + 1  # a line start in both
    tail = _common_suffix(old, new, limit - head)
    old_end, new_end = len(old) - tail, len(new) - tail
    if not ((old_end == head or old[old_end - 1:old_end] == b"\n") and
            (new_end == head or new[new_end - 1:new_end] == b"\n")):
        # Not a line start in both: the tail starts after its first newline (the tail ends with one).
        old_end = old.index(b"\n", old_end) + 1
        new_end = len(new) - (len(old) - old_end)
    old_lines, new_lines = _lines(old[head:old_end]), _lines(new[head:new_end])
    removed, added = _ordered_changes(old_lines, new_lines)
    if removed is None:
        return None
    if len(set(added)) != len(added):
        return None  # a line given twice: the full path names it
    # A line that only moved is no change (the source is sorted).
    moved = set(removed).intersection(added)
    if moved:
        removed = [line for line in removed if line not in moved]
        added = [line for line in added if line not in moved]
    removed.sort()
    added.sort()
    if max_changes is not None and len(removed) + len(added) > max_changes:
        return None
    if not all(map(_LINE.fullmatch, added)):
        return None
    return removed, added


def _ordered_changes(old, new):
    """(lines only in old, lines only in new) of two line lists that mostly keep their order.

    Walks both lists past common runs (galloping slice compares, in C) and,
    at a difference, looks for the nearest pair of equal lines within
    RESYNC_WINDOW; when there is none, the rest is compared as sets. (None,
    None) when a line is there twice where the sets are compared.
    """
    removed, added = [], []
    i = j = 0
    n, m = len(old), len(new)
    while i < n and j < m:
        run = _common_run(old, i, new, j)
        i += run
        j += run
        if i >= n or j >= m:
            break
        step = _resync(old, i, new, j)
        if step is None:
            rest_old, rest_new = old[i:], new[j:]
            old_set, new_set = set(rest_old), set(rest_new)
            if len(old_set) != len(rest_old) or len(new_set) != len(rest_new):
                return None, None
            removed.extend(old_set.difference(new_set))
            added.extend(new_set.difference(old_set))
            return removed, added
        skip_old, skip_new = step
        removed.extend(old[i:i + skip_old])
        added.extend(new[j:j + skip_new])
        i += skip_old
        j += skip_new
    removed.extend(old[i:])
    added.extend(new[j:])
    return removed, added


def _resync(old, i, new, j):
    """(lines of old, lines of new) to skip from i and j to the nearest equal pair (fewest skipped), or None."""
    for total in range(1, RESYNC_WINDOW + 1):
        for skip_old in range(total + 1):
            skip_new = total - skip_old
            if i + skip_old < len(old) and j + skip_new < len(new) and old[i + skip_old] == new[j + skip_new]:
                return skip_old, skip_new
    return None


def render(removed, added):
    """The delta file: a magic line, then ``-line`` and ``+line`` lines."""
    parts = [MAGIC]
    parts.extend(b"-%s\n" % line for line in removed)
    parts.extend(b"+%s\n" % line for line in added)
    return b"".join(parts)


def parse(data):
    """(removed, added) of a delta file, each sorted; DeltaError if it is not one or a line is not canonical."""
    if not data.startswith(MAGIC):
        raise DeltaError("not a delta file")
    removed, added = [], []
    for line in _lines(data[len(MAGIC):]):
        if line[:1] == b"-":
            removed.append(line[1:])
        elif line[:1] == b"+":
            added.append(line[1:])
        else:
            raise DeltaError("not a delta line")
    if not all(map(_LINE.fullmatch, removed)) or not all(map(_LINE.fullmatch, added)):
        raise DeltaError("a changed line is not a canonical key<TAB>value line")
    removed.sort()
    added.sort()
    return removed, added


def _lower_bound(text, lo, hi, target):
    """The offset of the first line >= target among the sorted lines in text[lo:hi] (hi if none).

    lo and hi are line starts; every line ends with a newline.
    """
    while lo < hi:
        mid = (lo + hi) // 2
        start = text.rfind(b"\n", lo, mid) + 1
        if start < lo:
            start = lo
        end = text.index(b"\n", start, hi)
        if text[start:end] < target:
            lo = end + 1
        else:
            hi = start
    return lo


def apply(text, header, removed, added):
    """The source ``text`` (bytes: ``header`` then sorted ``key<TAB>value`` lines) with the delta applied.

    Returns (new text, added keys, removed keys, modified keys), keys sorted
    (bytes); the new text is a list of pieces (bytes-like, views of ``text``)
    to write or hash one after the other (``b"".join`` gives the bytes).
    DeltaError when the text does not start with the header or does not end
    with a newline, a line to remove is not there, a key is added twice, or
    an added key is already in the table and not removed.
    """
    body = len(header)
    end = len(text)
    if not text.startswith(header) or (end > body and not text.endswith(b"\n")):
        raise DeltaError("the source is not what the module wrote")
    removed_keys = set(map(key_of, removed))
    added_keys = list(map(key_of, added))
    if len(set(added_keys)) != len(added_keys) or len(removed_keys) != len(removed):
        raise DeltaError("a key is given twice")
    for key in added_keys:
        if key not in removed_keys:
            probe = key + b"\t"
            at = _lower_bound(text, body, end, probe)
            if text.startswith(probe, at):
                raise DeltaError("an added key is already in the table")
    view = memoryview(text)
    pieces = [view[:body]]
    pos = body
    for line, is_added in sorted([(line, False) for line in removed] + [(line, True) for line in added]):
        at = _lower_bound(text, pos, end, line)
        pieces.append(view[pos:at])
        if is_added:
            pieces.append(line + b"\n")
            pos = at
        else:
            if not text.startswith(line + b"\n", at):
                raise DeltaError("a line to remove is not in the source")
            pos = at + len(line) + 1
    pieces.append(view[pos:])
    added_set = set(added_keys)
    return (pieces, sorted(added_set - removed_keys), sorted(removed_keys - added_set),
            sorted(added_set & removed_keys))
