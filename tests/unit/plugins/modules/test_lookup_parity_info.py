# -*- coding: utf-8 -*-
"""The lookup_parity_info module with a stand-in postmap that answers from two key files (file table, database table)."""
import json
import os
import stat

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import lookup_parity_info

# postmap -q - TYPE:PATH: answers each key (folded to lower case) from
# $TABLES/<basename of PATH>.answers ("key<TAB>value" lines); "down" in the
# path fails like a database that cannot be reached.
FAKE_POSTMAP = """#!/bin/sh
echo "$@" >> "{log}"
table="$3"
case "$table" in *down*) cat >/dev/null; echo "postmap: fatal: table $table: query error: connection refused" >&2; exit 1 ;; esac
answers="{tables}/$(basename "${{table#*:}}").answers"
found=1
while read -r key; do
  low=$(printf '%s' "$key" | tr 'A-Z' 'a-z')
  value=$(awk -F '\\t' -v k="$low" '$1 == k {{ print $2 }}' "$answers")
  if [ -n "$value" ]; then printf '%s\\t%s\\n' "$low" "$value"; found=0; fi
done
exit $found
"""


@pytest.fixture
def tables(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "postmap"
    fake.write_text(FAKE_POSTMAP.format(log=tmp_path / "postmap.log", tables=tmp_path))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    return tmp_path


def write(tables, name, rows, source=False):
    text = "".join("%s\t%s\n" % row for row in rows)
    (tables / (name + ".answers")).write_text(text)
    (tables / name).write_text("# source\n" + "".join("%s %s\n" % row for row in rows) if source else "hosts = db\n")
    return str(tables / name)


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            lookup_parity_info.main()
    return json.loads(capsys.readouterr().out)


ROWS = [("info@a.test", "ann@a.test"), ("@a.test", "bob@a.test"), ("ann@a.test", "a.test/ann/")]


def test_equal_tables_pass_with_counts(tables, capsys):
    source = write(tables, "virtual", ROWS, source=True)
    cf = write(tables, "virtual.cf", ROWS)
    result = run(capsys, reference="lmdb:" + source, candidate="pgsql:" + cf, batch=5)
    assert not result.get("failed") and not result["changed"]
    assert result["compared"] == result["equal"] > len(ROWS) and result["absent"] >= 2
    assert result["msg"].endswith("%d keys compared, %d equal" % (result["compared"], result["compared"]))
    # Batches of 5 keys: several postmap runs per table.
    runs = (tables / "postmap.log").read_text().splitlines()
    assert len(runs) == 2 * -(-result["compared"] // 5)


def test_a_diverging_row_fails_naming_the_key_and_both_answers(tables, capsys):
    source = write(tables, "virtual", ROWS, source=True)
    cf = write(tables, "virtual.cf", [("info@a.test", "mallory@a.test")] + ROWS[1:])
    result = run(capsys, reference="lmdb:" + source, candidate="mysql:" + cf)
    assert result["failed"]
    assert "info@a.test: file 'ann@a.test', database 'mallory@a.test'" in result["msg"]
    # The upper-case variant differs too (Postfix folds it to the same key).
    assert {"key": "INFO@A.TEST", "file": "ann@a.test", "database": "mallory@a.test"} in result["differences"]


def test_a_row_only_in_the_database_is_a_difference(tables, capsys):
    source = write(tables, "virtual", ROWS, source=True)
    cf = write(tables, "virtual.cf", ROWS + [("vhosting-parity-nobody@a.test", "x@a.test")])
    result = run(capsys, reference="lmdb:" + source, candidate="ldap:" + cf)
    assert result["failed"] and "vhosting-parity-nobody@a.test: file not found, database 'x@a.test'" in result["msg"]


def test_a_database_that_cannot_be_reached_fails_with_postmaps_message(tables, capsys):
    source = write(tables, "virtual", ROWS, source=True)
    result = run(capsys, reference="lmdb:" + source, candidate="pgsql:" + write(tables, "down.cf", ROWS))
    assert result["failed"] and "query error: connection refused" in result["msg"]


def test_a_missing_table_fails_but_is_skipped_in_check_mode(tables, capsys):
    source = write(tables, "virtual", ROWS, source=True)
    missing = str(tables / "absent.cf")
    assert run(capsys, reference="lmdb:" + source, candidate="pgsql:" + missing)["failed"]
    result = run(capsys, reference="lmdb:" + source, candidate="pgsql:" + missing, _ansible_check_mode=True)
    assert not result.get("failed") and result["skipped"] and "check mode" in result["msg"]
