# -*- coding: utf-8 -*-
"""The lookup_table module on an aliases(5) file, with a stand-in postalias, and its owner option."""
import json
import os
import stat

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import lookup_table

FAKE_POSTALIAS = """#!/bin/sh
echo "$@" >> "{log}"
for last; do :; done
src="${{last#*:}}"
cp "$src" "$src.lmdb"
"""

DEBIAN = "# See man 5 aliases for format\npostmaster:    root\n"
LIST = '"|/usr/bin/mlmmj-receive -L /var/spool/mlmmj/news@x.test/"'


@pytest.fixture
def host(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "postalias"
    fake.write_text(FAKE_POSTALIAS.format(log=tmp_path / "postalias.log"))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    # postmap must not be what builds an aliases index
    (bindir / "postmap").write_text("#!/bin/sh\nexit 99\n")
    (bindir / "postmap").chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "aliases").write_text(DEBIAN)
    return tmp_path


def run(host, capsys, **args):
    args.setdefault("path", str(host / "etc" / "aliases"))
    args.setdefault("type", "lmdb")
    args.setdefault("aliases", True)
    args.setdefault("exclusive", False)
    args.setdefault("managed_by", "lists")
    args.setdefault("state_file", str(host / "state" / "etc_aliases.json"))
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            lookup_table.main()
    return json.loads(capsys.readouterr().out)


def calls(host):
    log = host / "postalias.log"
    return log.read_text().splitlines() if log.exists() else []


def test_entries_join_the_operators_file_and_leave_with_the_owner(host, capsys):
    added = run(host, capsys, entries={"mlmmj_x.test_news": LIST}, _ansible_diff=True)
    assert added["changed"] and added["rebuilt"] and added["added"] == 1 and added["entries"] == 2
    assert (host / "etc" / "aliases").read_text() == DEBIAN + "mlmmj_x.test_news: %s\n" % LIST
    assert added["diff"]["before"] == DEBIAN and added["diff"]["after"].endswith(LIST + "\n")
    assert len(calls(host)) == 1 and calls(host)[0].startswith("lmdb:")
    state = json.loads((host / "state" / "etc_aliases.json").read_text())
    assert state["owners"] == {"lists": ["mlmmj_x.test_news"]}

    again = run(host, capsys, entries={"mlmmj_x.test_news": LIST})
    assert not again["changed"] and not again["rebuilt"] and len(calls(host)) == 1

    # The operator adds a name by hand; the owner drops its entry.
    with open(host / "etc" / "aliases", "a") as handle:
        handle.write("# mine\nwebmaster: root\n")
    gone = run(host, capsys, entries={})
    assert gone["changed"] and gone["stale_removed"] == ["mlmmj_x.test_news"] and gone["removed"] == 1
    assert (host / "etc" / "aliases").read_text() == DEBIAN + "# mine\nwebmaster: root\n"
    assert json.loads((host / "state" / "etc_aliases.json").read_text())["owners"] == {}
    assert not run(host, capsys, entries={})["changed"]


def test_check_mode_reports_the_stale_key_and_writes_nothing(host, capsys):
    run(host, capsys, entries={"a": "root", "b": "root"})
    before = (host / "etc" / "aliases").read_text()
    state = (host / "state" / "etc_aliases.json").read_text()
    checked = run(host, capsys, entries={"a": "root"}, _ansible_check_mode=True)
    assert checked["changed"] and checked["stale_removed"] == ["b"]
    assert (host / "etc" / "aliases").read_text() == before
    assert (host / "state" / "etc_aliases.json").read_text() == state


def test_the_operators_names_are_never_removed(host, capsys):
    result = run(host, capsys, entries=[{"key": "postmaster", "state": "absent"}], managed_by=None)
    assert result["changed"]  # an explicit absent entry is obeyed
    run(host, capsys, entries={"x": "root"})
    kept = run(host, capsys, entries={})
    assert kept["stale_removed"] == ["x"]
    assert "webmaster" not in (host / "etc" / "aliases").read_text()


def test_an_owner_without_entries_on_a_fresh_host_writes_no_state(host, capsys):
    (host / "etc" / "aliases.lmdb").write_text(DEBIAN)  # what newaliases built
    result = run(host, capsys, entries={})
    assert not result["changed"] and not (host / "state").exists() and calls(host) == []


def test_a_stale_index_of_an_untouched_file_is_rebuilt_by_postalias(host, capsys):
    result = run(host, capsys, entries={})
    assert result["changed"] and result["rebuilt"] and len(calls(host)) == 1
    assert (host / "etc" / "aliases").read_text() == DEBIAN


def test_owner_with_an_exclusive_table_is_refused(host, capsys):
    result = run(host, capsys, entries={"a": "b"}, exclusive=True)
    assert result["failed"] and "managed_by needs exclusive: false" in result["msg"]
    assert (host / "etc" / "aliases").read_text() == DEBIAN


def test_an_alias_name_with_a_colon_is_refused(host, capsys):
    result = run(host, capsys, entries={"a:b": "c"})
    assert result["failed"] and "must not contain ':'" in result["msg"]


def test_a_broken_state_file_changes_nothing(host, capsys):
    (host / "state").mkdir()
    (host / "state" / "etc_aliases.json").write_text("{")
    result = run(host, capsys, entries={"a": "b"})
    assert result["failed"] and "not a usable state file" in result["msg"]
    assert (host / "etc" / "aliases").read_text() == DEBIAN


def test_exclusive_aliases_table_is_rendered_whole(host, capsys):
    result = run(host, capsys, entries={"b": "root", "a": "x, y"}, exclusive=True, managed_by=None)
    assert result["changed"] and result["entries"] == 2
    assert (host / "etc" / "aliases").read_text().endswith("a: x, y\nb: root\n")


# The state file exactly as the module wrote it before _owner_state (sorted keys, two-space indent).
OLD_STATE_FILE = """{{
  "owners": {{
    "lists": [
      "mlmmj_x.test_news",
      "mlmmj_x.test_old"
    ],
    "server": [
      "webmaster"
    ]
  }},
  "path": "{path}",
  "version": 1
}}
"""


def test_a_state_file_of_the_old_code_is_used_and_rewritten_in_the_same_format(host, capsys):
    aliases = host / "etc" / "aliases"
    aliases.write_text(DEBIAN + "webmaster: root\nmlmmj_x.test_old: %s\nmlmmj_x.test_news: %s\n" % (LIST, LIST))
    state = host / "state" / "etc_aliases.json"
    state.parent.mkdir()
    state.write_bytes(OLD_STATE_FILE.format(path=aliases).encode("utf-8"))
    result = run(host, capsys, entries={"mlmmj_x.test_news": LIST})
    assert result["changed"] and result["stale_removed"] == ["mlmmj_x.test_old"] and result["removed"] == 1
    assert aliases.read_text() == DEBIAN + "webmaster: root\nmlmmj_x.test_news: %s\n" % LIST
    expected = ('{\n  "owners": {\n    "lists": [\n      "mlmmj_x.test_news"\n    ],\n    "server": [\n'
                '      "webmaster"\n    ]\n  },\n  "path": "%s",\n  "version": 1\n}\n' % aliases)
    assert state.read_bytes() == expected.encode("utf-8")
    before = state.stat().st_mtime_ns
    again = run(host, capsys, entries={"mlmmj_x.test_news": LIST})
    assert not again["changed"] and again["stale_removed"] == [] and state.stat().st_mtime_ns == before
