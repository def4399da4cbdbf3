# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure core of the lookup_table module: Postfix lookup table sources as a model.

A table is an ordered list of (key, value) pairs. This file knows how Postfix
reads a source file (comments, continuation lines, case folding of
fixed-string tables), validates requested entries, plans a change (added,
removed, modified keys), renders a deterministic source text and summarises
the change for a diff. No I/O, no Ansible imports: unit-tested directly,
used by the action plugin on the control node and by the module on the host.
cidr keys are checked by _networks, the collection's one CIDR implementation.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import itertools
import json
import operator
import re

from ansible_collections.vhosting.postfix.plugins.module_utils._networks import NetworkError, cidr_key

# Indexed (postmap-built) types and the files postmap creates next to the source.
INDEX_SUFFIXES = {
    "lmdb": (".lmdb",),
    "hash": (".db",),
    "btree": (".db",),
    "cdb": (".cdb",),
    "dbm": (".dir", ".pag"),
    "sdbm": (".dir", ".pag"),
}
# Fixed-string tables read straight from the source (no index; folded keys).
TEXT_FIXED_TYPES = ("texthash",)
# Pattern tables: the given order is the lookup order.
ORDERED_TYPES = ("regexp", "pcre", "cidr")
FIXED_TYPES = tuple(INDEX_SUFFIXES) + TEXT_FIXED_TYPES
SUPPORTED_TYPES = FIXED_TYPES + ORDERED_TYPES
# Types that `postmap -i` / `postmap -d` can update in place.
INCREMENTAL_TYPES = ("lmdb", "hash", "btree")
# Pattern tables whose keys are /pattern/flags (regexp_table(5), pcre_table(5)).
DELIMITED_TYPES = ("regexp", "pcre")
# Whitespace as Postfix's ISSPACE() sees it (C locale).
_SPACE = " \t\n\v\f\r"

HEADER = (
    "# {marker}\n"
    "# Postfix {type} table maintained by the vhosting.postfix.lookup_table module.\n"
    "# Manual changes are overwritten on the next run.\n"
)
HIDDEN = "********"
DIFF_LINE_LIMIT = 2000
DIFF_SAMPLE = 20


class LookupTableError(ValueError):
    """Bad input: the message names the offending key or item."""


def is_ordered(table_type):
    return table_type in ORDERED_TYPES


def is_fixed(table_type):
    return table_type not in ORDERED_TYPES


def fold(key, table_type):
    """The key as Postfix stores and looks it up (fixed-string tables fold case)."""
    return key.lower() if is_fixed(table_type) else key


def _check_type(table_type):
    if table_type not in SUPPORTED_TYPES:
        raise LookupTableError("type %r is not supported (one of: %s)" % (table_type, ", ".join(SUPPORTED_TYPES)))


def _all_index_suffixes():
    """Every index suffix postmap can create, each once, in a fixed order."""
    suffixes = []
    for group in INDEX_SUFFIXES.values():
        suffixes.extend(s for s in group if s not in suffixes)
    return suffixes


def index_files(path, table_type):
    """The index files postmap builds for the source `path` of `table_type` ([] for unindexed types)."""
    _check_type(table_type)
    return [path + suffix for suffix in INDEX_SUFFIXES.get(table_type, ())]


def stale_index_files(path, table_type):
    """The index files of the OTHER indexed types for the source `path`.

    What an earlier type of the same table may have left behind: for
    ``/etc/postfix/virtual`` as ``hash`` these are ``virtual.lmdb``,
    ``virtual.cdb``, ``virtual.dir`` and ``virtual.pag`` (not ``virtual.db``,
    which hash itself uses, as btree does). For an unindexed type (texthash,
    regexp, pcre, cidr) every index file is stale.
    """
    own = set(index_files(path, table_type))
    return [path + suffix for suffix in _all_index_suffixes() if path + suffix not in own]


# ---------------------------------------------------------------- input

def _value_text(key, value):
    if isinstance(value, bool):
        raise LookupTableError("entry %r: value %r is a boolean; quote it if you mean the text" % (key, value))
    if isinstance(value, (list, tuple)):
        if not value:
            raise LookupTableError("entry %r: the list of values is empty" % key)
        parts = [_value_text(key, v) for v in value]
        return ", ".join(parts)
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise LookupTableError("entry %r: value must be a string or a list of strings, got %s" % (key, type(value).__name__))
    return value.strip()


def normalise_entries(entries):
    """Turn the module's `entries` (dict or list of dicts) into [(key, value, state)]."""
    result = []
    if entries is None:
        return result
    if isinstance(entries, dict):
        for key, value in entries.items():
            result.append((_key_text(key), None if value is None else _value_text(key, value), "present"))
        return result
    if not isinstance(entries, (list, tuple)):
        raise LookupTableError("entries must be a dict (key: value) or a list of {key, value, state}, got %s"
                               % type(entries).__name__)
    for index, item in enumerate(entries):
        if not isinstance(item, dict) or "key" not in item:
            raise LookupTableError("entries[%d]: expected a dict with at least `key`, got %r" % (index, item))
        unknown = set(item) - {"key", "value", "state"}
        if unknown:
            raise LookupTableError("entries[%d] (%r): unknown field(s) %s" % (index, item.get("key"), ", ".join(sorted(unknown))))
        key = _key_text(item["key"])
        state = item.get("state", "present")
        if state not in ("present", "absent"):
            raise LookupTableError("entry %r: state must be present or absent, got %r" % (key, state))
        value = item.get("value")
        if state == "present":
            value = None if value is None else _value_text(key, value)
        else:
            value = None
        result.append((key, value, state))
    return result


def _key_text(key):
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise LookupTableError("key %r must be a string" % (key,))
    return str(key)


def detect_format(name, head):
    """The format of a data file named `name` starting with `head` (format: auto)."""
    if name.endswith(".json") or head.lstrip().startswith(("{", "[")):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    return "postmap"


def parse_data(text, fmt="auto", name="src", table_type=None):
    """Parse a data file (postmap, csv or json) into [(key, value, state)].

    `table_type` tells how postmap-format lines are split (see parse_source).
    """
    if fmt == "auto":
        fmt = detect_format(name, text[:64])
    if fmt == "json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise LookupTableError("%s: not valid JSON: %s" % (name, exc))
        return normalise_entries(data)
    if fmt == "csv":
        result = []
        for lineno, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if not row or (len(row) == 1 and not row[0].strip()) or row[0].lstrip().startswith("#"):
                continue
            if len(row) < 2:
                raise LookupTableError("%s line %d: a CSV row needs a key and a value: %r" % (name, lineno, row))
            values = [v.strip() for v in row[1:] if v.strip()]
            result.append((row[0].strip(), ", ".join(values), "present"))
        return result
    if fmt == "postmap":
        return [(k, v, "present") for k, v in parse_source(text, table_type)]
    raise LookupTableError("unknown format %r (auto, postmap, csv or json)" % fmt)


def parse_source(text, table_type=None):
    """Parse a Postfix table source the way postmap reads it: [(key, value)].

    Blank lines and lines starting with # are ignored; a line starting with
    whitespace continues the previous logical line. In a regexp or pcre
    table the key is the pattern with its delimiters and flags, which may
    contain whitespace (``/^Subject: .*buy now/i REJECT``), as in
    regexp_table(5) and pcre_table(5); in other tables it ends at the first
    whitespace.
    """
    logical = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":
            if logical:
                logical[-1] = logical[-1].rstrip(_SPACE) + " " + line.strip(_SPACE)
            continue
        logical.append(line)
    return [split_line(line, table_type) for line in logical]


def pattern_end(text):
    """The index just past the ``[!...]/pattern/flags`` at the start of `text`, or None.

    Follows Postfix's parser (dict_regexp.c, dict_pcre.c): any number of
    ``!``, optional whitespace, a delimiter character, the pattern up to the
    next unescaped delimiter (a backslash escapes the next character), then
    flag characters up to whitespace. None when the pattern is not closed.
    """
    i, n = 0, len(text)
    while i < n and text[i] == "!":
        i += 1
    while i < n and text[i] in _SPACE:
        i += 1
    if i >= n:
        return None
    delim = text[i]
    i += 1
    while i < n and text[i] != delim:
        i += 2 if text[i] == "\\" else 1
    if i >= n:
        return None
    i += 1
    while i < n and text[i] not in _SPACE:
        i += 1
    return i


def split_line(line, table_type=None):
    """(key, value) of one logical source line of a table of `table_type`."""
    if table_type in DELIMITED_TYPES and not line[:1].isalnum():  # if/endif lines start with a letter
        end = pattern_end(line)
        if end is not None:
            return line[:end], line[end:].strip(_SPACE)
    parts = line.split(None, 1)
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


# ----------------------------------------------------------- validation

_PATTERN_DELIM = re.compile(r"^(!*)(\S)")


def _check_pattern_key(key, table_type):
    match = _PATTERN_DELIM.match(key)
    delim = match.group(2) if match else ""
    if not delim or delim.isalnum() or delim in "\\":
        raise LookupTableError("key %r: a %s pattern must be written /pattern/flags" % (key, table_type))
    end = pattern_end(key)
    if end is None:
        raise LookupTableError("key %r: the %s pattern is not closed with %r" % (key, table_type, delim))
    if end != len(key):
        raise LookupTableError("key %r: %r after the %s pattern's flags would be read as the start of the value"
                               % (key, key[end:], table_type))
    if "\t" in key:
        raise LookupTableError("key %r contains a TAB character; match it with [[:blank:]] or \\t (pcre)" % key)


def validate(items, table_type):
    """Check requested entries; raise LookupTableError naming the first bad one.

    The same checks run on the control node (action plugin) and on the host
    (module); cidr keys are checked by _networks.cidr_key.
    """
    _check_type(table_type)
    seen = {}
    for key, value, state in items:
        if key == "" or not key.strip():
            raise LookupTableError("an entry has an empty key")
        if "\n" in key or "\r" in key:
            raise LookupTableError("key %r contains a newline" % key)
        if key.startswith("#"):
            raise LookupTableError("key %r starts with '#', which Postfix reads as a comment" % key)
        if table_type in DELIMITED_TYPES:
            _check_pattern_key(key, table_type)
        elif re.search(r"\s", key):
            raise LookupTableError("key %r contains whitespace" % key)
        elif table_type == "cidr":
            try:
                cidr_key(key)
            except NetworkError as exc:
                raise LookupTableError("key %s" % exc)
        if state == "present":
            if value is None:
                raise LookupTableError("entry %r has no value" % key)
            if "\n" in value or "\r" in value:
                raise LookupTableError("entry %r: the value contains a newline" % key)
            if value == "":
                raise LookupTableError("entry %r has an empty value" % key)
        folded = fold(key, table_type)
        if is_fixed(table_type) and folded in seen and seen[folded] != key:
            raise LookupTableError("keys %r and %r are the same key for Postfix (a %s table folds keys to lower case)"
                                   % (seen[folded], key, table_type))
        if folded in seen and seen[folded] == key:
            raise LookupTableError("key %r is given twice" % key)
        seen[folded] = key


# -------------------------------------------------------------- planning

def plan(current, items, table_type, exclusive=True):
    """Compute the desired table from the current pairs and the requested items.

    Returns (desired_pairs, added_keys, removed_keys, modified_keys). For
    fixed-string tables the result is sorted by folded key; pattern tables
    keep the requested order (and, when not exclusive, the current order with
    new entries appended).
    """
    fixed = is_fixed(table_type)
    cur = {}
    for key, value in current:
        cur[fold(key, table_type)] = (key, value)
    if exclusive:
        desired = [(k, v) for k, v, s in items if s == "present"]
    else:
        desired_map = dict(cur)
        order = [fold(k, table_type) for k, _v in current]
        for key, value, state in items:
            fkey = fold(key, table_type)
            if state == "absent":
                desired_map.pop(fkey, None)
            else:
                if fkey not in desired_map:
                    order.append(fkey)
                desired_map[fkey] = (key, value)
        desired = [desired_map[f] for f in order if f in desired_map]
    if fixed:
        desired = sorted(((fold(k, table_type), v) for k, v in desired), key=lambda kv: kv[0])
    new = {fold(k, table_type): v for k, v in desired}
    old = {f: kv[1] for f, kv in cur.items()}
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    modified = [k for k in new if k in old and old[k] != new[k]]
    return desired, added, removed, modified


def render(pairs, table_type, marker="Ansible managed"):
    """Render the source text; returns (text, first_entry_line_number)."""
    header = HEADER.format(marker=marker, type=table_type)
    lines = [header]
    lines.extend("%s\t%s\n" % (k, v) for k, v in pairs)
    return "".join(lines), header.count("\n") + 1


# ------------------------------------------------------ fast line path
#
# Big tables come as data files in postmap format, usually already "canonical":
# one `key<TAB>value` line per entry, no comments, no continuation lines. For
# those the whole table is handled as a list of lines with C-level operations
# (regular expressions over the whole text, split, sort, set difference), with
# no Python code per entry. Anything else takes the general path above.

# A canonical fixed-string table text: `key<TAB>value` lines, printable ASCII,
# the key without blanks, upper case letters or a leading #, the value without
# TABs and without leading or trailing blanks. One pass of the regex engine.
CANONICAL_LINE = r'[!"$-@\[-~][!-@\[-~]*\t[!-~](?:[ -~]*[!-~])?'
_CANONICAL_FIXED = re.compile(r"(?:%s\n)*" % CANONICAL_LINE)


def canonical_lines(text, table_type):
    """The lines of a canonical fixed-string table text, sorted, or None.

    None means "not canonical, use the general path" (comments, other
    separators, upper case or non-ASCII keys, duplicate keys, pattern types):
    the general path then either normalises the text or names the bad entry.
    """
    if table_type not in FIXED_TYPES:
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    if _CANONICAL_FIXED.fullmatch(text) is None:
        return None
    lines = text.split("\n")
    lines.pop()
    lines.sort()  # key<TAB>value sorts by key: TAB sorts before every key character
    keys = list(map(operator.itemgetter(0), map(operator.methodcaller("partition", "\t"), lines)))
    if any(map(operator.eq, keys, itertools.islice(keys, 1, None))):
        return None  # a duplicate key: the general path names it
    return lines


def strip_header(text):
    """The text after the leading comment lines (the header this module writes)."""
    start = 0
    while text.startswith("#", start):
        end = text.find("\n", start)
        if end < 0:
            return ""
        start = end + 1
    return text[start:]


def source_lines(text, table_type):
    """The entries of an existing source file as `key<TAB>value` lines (keys folded)."""
    if text is None:
        return []
    if is_fixed(table_type):
        lines = canonical_lines(strip_header(text), table_type)
        if lines is not None:
            return lines
    lines = ["%s\t%s" % (fold(k, table_type), v) for k, v in parse_source(text, table_type)]
    if is_fixed(table_type):
        lines.sort()
    return lines


def pairs_to_lines(pairs):
    return ["%s\t%s" % kv for kv in pairs]


def lines_to_pairs(lines):
    return [tuple(line.split("\t", 1)) if "\t" in line else (line, "") for line in lines]


def render_lines(lines, table_type, marker="Ansible managed"):
    """The source text for `key<TAB>value` lines; returns (text, first_entry_line_number)."""
    header = HEADER.format(marker=marker, type=table_type)
    body = "\n".join(lines)
    return header + body + ("\n" if lines else ""), header.count("\n") + 1


def _common_run(a, i, b, j):
    """Length of the common run of a[i:] and b[j:] (galloping; the slices compare in C)."""
    limit = min(len(a) - i, len(b) - j)
    lo, step = 0, 1
    while True:
        hi = min(lo + step, limit)
        if hi == lo:
            return lo
        if a[i + lo:i + hi] != b[j + lo:j + hi]:
            break
        lo, step = hi, step * 2
    while hi - lo > 1:  # the first difference is in [lo, hi)
        mid = (lo + hi) // 2
        if a[i + lo:i + mid] == b[j + lo:j + mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _sorted_difference(current, desired):
    """(lines only in current, lines only in desired) of two sorted lists, merging past common runs."""
    old_only, new_only = [], []
    i = j = 0
    n, m = len(current), len(desired)
    while i < n and j < m:
        if current[i] == desired[j]:
            run = _common_run(current, i, desired, j)
            i += run
            j += run
        elif current[i] < desired[j]:
            old_only.append(current[i])
            i += 1
        else:
            new_only.append(desired[j])
            j += 1
    old_only.extend(current[i:])
    new_only.extend(desired[j:])
    return old_only, new_only


def diff_lines(current, desired, table_type="lmdb"):
    """Compare two line lists by content: (added, removed, modified, upsert_lines).

    added/removed/modified are key lists (sorted); upsert_lines are the desired
    lines of the added and modified keys (input for `postmap -i`). Fixed-string
    tables are sorted lists and are merged; pattern tables are compared as sets.
    """
    if not current:
        return sorted(k for k, _v in lines_to_pairs(desired)), [], [], list(desired)
    if is_fixed(table_type):
        old_only, new_only = _sorted_difference(current, desired)
    else:
        old_only = set(current).difference(desired)
        new_only = set(desired).difference(current)
    old = dict(lines_to_pairs(old_only))
    new = dict(lines_to_pairs(new_only))
    added = sorted(k for k in new if k not in old)
    removed = sorted(k for k in old if k not in new)
    modified = sorted(k for k in new if k in old)
    upserts = sorted(new_only)
    return added, removed, modified, upserts


def summarise_lines(added, removed, modified, current, desired, hide_values=False, sample=DIFF_SAMPLE):
    """A bounded summary of a change between two line lists; only sampled keys are looked up."""
    wanted_new = set(added[:sample]) | set(modified[:sample])
    wanted_old = set(removed[:sample]) | set(modified[:sample])
    new = dict(lines_to_pairs(line for line in desired if line.split("\t", 1)[0] in wanted_new))
    old = dict(lines_to_pairs(line for line in current if line.split("\t", 1)[0] in wanted_old))

    def show(value):
        return HIDDEN if hide_values else value

    out = ["# %d added, %d removed, %d changed keys (showing at most %d of each)\n"
           % (len(added), len(removed), len(modified), sample)]
    out.extend("+ %s\t%s\n" % (k, show(new[k])) for k in added[:sample])
    out.extend("- %s\t%s\n" % (k, show(old[k])) for k in removed[:sample])
    out.extend("~ %s\t%s -> %s\n" % (k, show(old[k]), show(new[k])) for k in modified[:sample])
    return "".join(out)


def diff_text_lines(lines, table_type, hide_values=False, marker="Ansible managed"):
    """The source text shown in a diff (values hidden on request)."""
    if hide_values:
        lines = ["%s\t%s" % (k, HIDDEN) for k, _v in lines_to_pairs(lines)]
    return render_lines(lines, table_type, marker)[0]


def use_incremental(table_type, total, changes):
    """postmap -i/-d pays off for small changes to big indexed tables (see bench/README.md)."""
    return table_type in INCREMENTAL_TYPES and total >= 10000 and 0 < changes * 100 <= total


# ------------------------------------------------------ aliases(5) files
#
# The local aliases file (/etc/aliases) is a lookup table too, indexed by
# postalias: `name: value` lines (continuation lines and comments as in other
# sources). The collection's entries live there beside the operator's and the
# Debian package's, so in non-exclusive mode it is edited in place: only the
# logical lines of the managed names change, every other line (comments,
# layout, other names) is kept byte for byte.

def split_alias_line(line):
    """(name, value) of one logical aliases(5) line (the name as written, unfolded)."""
    text = line.strip(_SPACE)
    if text.startswith('"'):
        end = text.find('"', 1)
        if end > 0 and text[end + 1:].lstrip(_SPACE).startswith(":"):
            return text[:end + 1], text[end + 1:].lstrip(_SPACE)[1:].strip(_SPACE)
    name, _sep, value = text.partition(":")
    return name.strip(_SPACE), value.strip(_SPACE)


def alias_entries(text):
    """[(folded name, value, [line indexes])] of the logical lines of an aliases(5) text."""
    entries = []
    for index, line in enumerate((text or "").splitlines()):
        if not line.strip(_SPACE) or line.lstrip(_SPACE).startswith("#"):
            continue
        if line[0] in " \t":
            if entries:
                name, value, lines = entries[-1]
                entries[-1] = (name, (value + " " + line.strip(_SPACE)).strip(_SPACE), lines + [index])
            continue
        name, value = split_alias_line(line)
        entries.append((name.lower(), value, [index]))
    return entries


def alias_source_lines(text):
    """The entries of an aliases(5) text as sorted `name<TAB>value` lines (the last of a name twice wins)."""
    return sorted("%s\t%s" % kv for kv in dict((n, v) for n, v, _l in alias_entries(text)).items())


def render_aliases(pairs, marker="Ansible managed"):
    """An aliases(5) text of exactly `pairs` (exclusive mode); returns (text, first_entry_line_number)."""
    header = HEADER.format(marker=marker, type="aliases(5)")
    return header + "".join("%s: %s\n" % kv for kv in pairs), header.count("\n") + 1


def edit_aliases(text, items):
    """`text` with the requested [(key, value, state)] applied in place (non-exclusive mode).

    A present key whose line already says the same (whitespace aside) is left
    as written; another value replaces its logical line(s) with `name: value`;
    a new key is appended; an absent key's lines are removed. Every other line
    is kept as it is.
    """
    lines = (text or "").splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    where = {}  # folded name -> [(value, line indexes)], one per logical line naming it
    for name, value, indexes in alias_entries(text):
        where.setdefault(name, []).append((value, indexes))
    replaced = {}
    appended = []
    for key, value, state in items:
        name = key.lower()
        found = where.get(name, [])
        indexes = [i for _v, entry in found for i in entry]
        if state == "absent":
            replaced.update((i, "") for i in indexes)
            continue
        if len(found) == 1 and " ".join(found[0][0].split()) == " ".join(value.split()):
            continue
        new = "%s: %s\n" % (name, value)
        if indexes:
            replaced[indexes[0]] = new
            replaced.update((i, "") for i in indexes[1:])
        else:
            appended.append(new)
    return "".join(replaced.get(i, line) for i, line in enumerate(lines)) + "".join(appended)


def validate_alias_keys(items):
    """Alias names end at the first ':' and must not look like a comment."""
    for key, _value, _state in items:
        if ":" in key or key.startswith('"'):
            raise LookupTableError("alias name %r must not contain ':' or start with a quote" % key)


# ------------------------------------------------------ planning a run

def plan_source(before_text, lines, items, table_type, exclusive, aliases, index_stale, indexed,
                marker="Ansible managed"):
    """Compare a table's source text with the request: the new text and what changes.

    ``before_text`` is the source's text (None: there is none yet). The
    request is either ``lines``, canonical ``key<TAB>value`` lines (the fast
    path of a clean postmap-format file; ``items`` is then None), or the
    validated ``items`` [(key, value, state)]. An ordinary table is rendered
    whole (``exclusive``) or merged with the current entries, and may be
    updated in place (``postmap -i/-d``). An aliases(5) file (``aliases``) is
    rendered whole when ``exclusive``, else edited in place (every other line
    kept), never updated incrementally, and an edit of a missing file that
    leaves it empty does not create it. ``index_stale`` is called (at most
    once, only for an existing source) to ask whether the index files are
    missing or older than the source; ``indexed`` says whether the type has
    index files at all. ``marker`` is the first header line of a rendered
    (not aliases) source: a different one makes the text differ, so the
    index is rebuilt.

    Returns a dict: ``before_text``, ``after_text``, ``first_line`` (of the
    first entry), ``lines`` (the new entries), ``current`` (the existing
    entries; ``lines`` when the text is unchanged), ``added``/``removed``/
    ``modified`` (keys), ``upserts`` (lines for ``postmap -i``),
    ``content_changed``, ``stale`` (same text, stale index: rebuild it),
    ``incremental``, ``aliases``, and the module's ``entries`` (count),
    ``rebuilt`` and ``changed``.
    """
    current = None
    if aliases:
        if items is None:
            items = [tuple(line.split("\t", 1)) + ("present",) for line in lines]
        current = alias_source_lines(before_text)
        if exclusive:
            after_text, first_line = render_aliases(plan([], items, table_type, True)[0])
        else:
            after_text, first_line = edit_aliases(before_text, items), 1
        lines = alias_source_lines(after_text)
        entries = len(alias_entries(after_text))
        content_changed = after_text != (before_text or "")
    else:
        if lines is None:
            current = source_lines(before_text, table_type)
            lines = pairs_to_lines(plan(lines_to_pairs(current), items, table_type, exclusive)[0])
        after_text, first_line = render_lines(lines, table_type, marker)
        entries = len(lines)
        content_changed = after_text != before_text
    if content_changed:
        if current is None:
            current = source_lines(before_text, table_type)
        added, removed, modified, upserts = diff_lines(current, lines, table_type)
        if aliases:
            upserts = []
    else:
        # Same text, same entries: the current file need not be parsed at all.
        current = lines
        added, removed, modified, upserts = [], [], [], []
    stale = bool(not content_changed and before_text is not None and index_stale())
    incremental = bool(content_changed and not aliases and before_text is not None and not index_stale()
                       and use_incremental(table_type, len(lines), len(added) + len(removed) + len(modified)))
    return dict(before_text=before_text, after_text=after_text, first_line=first_line, lines=lines, current=current,
                added=added, removed=removed, modified=modified, upserts=upserts, content_changed=content_changed,
                stale=stale, incremental=incremental, aliases=aliases, entries=entries,
                rebuilt=bool(indexed) and (content_changed or stale), changed=content_changed or stale)
