# -*- coding: utf-8 -*-
"""The lookup_table module's flow on real files, with a stand-in postmap.

The stand-in is a small shell script in a temporary PATH directory: it builds
"index" files by copying the source (so the test can see which source an
index was built from), or fails like postmap does when told to.
"""
import json
import os
import stat

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import lookup_table

FAKE_POSTMAP = """#!/bin/sh
echo "$@" >> "{log}"
for last; do :; done
src="${{last#*:}}"
# What postmap sees: umask, the mode of the source's directory, the source's and (in place) the index's mode.
printf '%s %s %s %s %s\\n' "$1" "$(umask)" "$(stat -c %a "$(dirname "$src")")" "$(stat -c %a "$src")" \\
  "$(stat -c %a "$src.lmdb" 2>/dev/null || echo none)" >> "{log}.seen"
if [ -e "{fail}" ]; then echo "postmap: fatal: disk full" >&2; exit 1; fi
if [ "$1" = "-q" ]; then
  bad=$(grep -n BADPATTERN "$src" | cut -d: -f1)
  if [ -n "$bad" ]; then echo "postmap: warning: $src, line $bad: bad pattern" >&2; fi
  exit 1
fi
if [ "$1" = "-i" ] || [ "$1" = "-d" ]; then cat >> "$src.lmdb"; exit 0; fi
cp "$src" "$src.lmdb"
"""


@pytest.fixture
def host(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "postmap"
    fake.write_text(FAKE_POSTMAP.format(log=tmp_path / "postmap.log", fail=tmp_path / "fail"))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    etc = tmp_path / "etc"
    etc.mkdir()
    return tmp_path


def run(host, capsys, **args):
    args.setdefault("path", str(host / "etc" / "virtual"))
    args.setdefault("type", "lmdb")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            lookup_table.main()
    return json.loads(capsys.readouterr().out)


def postmap_calls(host):
    log = host / "postmap.log"
    return log.read_text().splitlines() if log.exists() else []


def postmap_seen(host):
    """[(first argument, umask, directory mode, source mode, index mode)] of each postmap run."""
    log = host / "postmap.log.seen"
    return [tuple(line.split()) for line in log.read_text().splitlines()] if log.exists() else []


def attrs(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_create_then_no_change_runs_postmap_once(host, capsys):
    first = run(host, capsys, entries={"a@x": "A", "b@x": ["B", "C"]})
    assert first["changed"] and first["rebuilt"] and first["added"] == 2
    assert len(postmap_calls(host)) == 1
    source = (host / "etc" / "virtual").read_text()
    assert source.endswith("a@x\tA\nb@x\tB, C\n")
    assert (host / "etc" / "virtual.lmdb").read_text() == source
    second = run(host, capsys, entries={"a@x": "A", "b@x": ["B", "C"]})
    assert not second["changed"] and not second["rebuilt"]
    assert len(postmap_calls(host)) == 1
    assert not [p for p in os.listdir(host / "etc") if p.endswith(".vhtmp")]


def test_failed_postmap_keeps_the_previous_source_and_index(host, capsys):
    run(host, capsys, entries={"a@x": "A"})
    before = (host / "etc" / "virtual").read_text()
    (host / "fail").write_text("")
    result = run(host, capsys, entries={"a@x": "changed"})
    assert result["failed"] and not result["changed"]
    assert "postmap: fatal: disk full" in result["msg"] and result["stderr"].strip() == "postmap: fatal: disk full"
    assert result["rc"] == 1 and result["cmd"][0].endswith("postmap")
    assert (host / "etc" / "virtual").read_text() == before
    assert (host / "etc" / "virtual.lmdb").read_text() == before
    assert sorted(os.listdir(host / "etc")) == ["virtual", "virtual.lmdb"]


def test_check_mode_writes_nothing(host, capsys):
    run(host, capsys, entries={"a@x": "A"})
    before = (host / "etc" / "virtual").read_text()
    result = run(host, capsys, entries={"a@x": "B"}, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] and result["modified"] == 1
    assert "a@x\tB" in result["diff"]["after"] and "a@x\tA" in result["diff"]["before"]
    assert (host / "etc" / "virtual").read_text() == before
    assert len(postmap_calls(host)) == 1


def test_stale_index_is_rebuilt_without_touching_the_source(host, capsys):
    run(host, capsys, entries={"a@x": "A"})
    source = host / "etc" / "virtual"
    future = source.stat().st_mtime + 60
    os.utime(source, (future, future))
    result = run(host, capsys, entries={"a@x": "A"})
    assert result["changed"] and result["rebuilt"] and result["modified"] == 0
    assert source.stat().st_mtime == future
    assert (host / "etc" / "virtual.lmdb").stat().st_mtime >= os.stat(host / "etc" / "virtual").st_mtime - 60


def test_source_is_never_newer_than_its_index(host, capsys):
    run(host, capsys, entries={"a@x": "A"})
    run(host, capsys, entries={"a@x": "B"})
    assert os.stat(host / "etc" / "virtual.lmdb").st_mtime_ns >= os.stat(host / "etc" / "virtual").st_mtime_ns


def test_small_change_to_a_big_table_goes_incremental(host, capsys):
    data = host / "big.txt"
    data.write_text("".join("u%d@x\tv%d\n" % (i, i) for i in range(20000)))
    run(host, capsys, src=str(data), format="postmap")
    data.write_text("".join("u%d@x\t%s\n" % (i, "new" if i == 5 else "v%d" % i) for i in range(20000) if i != 6))
    result = run(host, capsys, src=str(data), format="postmap")
    assert result["changed"] and result["incremental"] and result["modified"] == 1 and result["removed"] == 1
    calls = postmap_calls(host)
    assert calls[-2].startswith("-d - lmdb:") and calls[-1].startswith("-i -r lmdb:")


def test_bad_entry_changes_nothing(host, capsys):
    result = run(host, capsys, entries={"bad key": "x"})
    assert result["failed"] and result["msg"].endswith("virtual: key 'bad key' contains whitespace")
    assert os.listdir(host / "etc") == []
    assert postmap_calls(host) == []


def test_hide_values_creates_a_private_file_and_hides_the_diff(host, capsys):
    result = run(host, capsys, entries={"[relay]:587": "user:pw"}, hide_values=True, _ansible_diff=True)
    # Called directly, the module's own arguments echo the entries; through the
    # action plugin they travel in a file and never appear in the invocation.
    result.pop("invocation")
    assert "user:pw" not in json.dumps(result)
    assert "[relay]:587\t********" in result["diff"]["after"]
    assert stat.S_IMODE(os.stat(host / "etc" / "virtual").st_mode) == 0o600


def test_unsorted_upper_case_and_canonical_data_files_give_the_same_table(host, capsys):
    canonical = host / "canonical.txt"
    canonical.write_text("b@x\tB\na@x\tA\n")
    messy = host / "messy.txt"
    messy.write_text("# comment\nB@X   B\na@x\tA\n")
    first = run(host, capsys, src=str(canonical), format="postmap")
    assert first["changed"] and first["entries"] == 2
    again = run(host, capsys, src=str(messy), format="postmap")
    assert not again["changed"] and not again["rebuilt"]


def test_duplicate_key_in_a_canonical_data_file_is_named(host, capsys):
    data = host / "dup.txt"
    data.write_text("a@x\tA\nb@x\tB\na@x\tC\n")
    result = run(host, capsys, src=str(data), format="postmap")
    assert result["failed"] and result["msg"].endswith("key 'a@x' is given twice")
    assert os.listdir(host / "etc") == []


@pytest.mark.parametrize("items, plain", [
    ([("a@x", "v, w", "present"), ("/^a b/", "x", "present")], False),  # a key with a blank: JSON
    ([("a@x", "v, w", "present"), ("/^a/", "x", "present")], True),
    ([("#a", "v", "present")], False),
    ([("a", "v\nx", "present")], False),
    ([("a", "v", "absent")], False),
    ([("a", "", "present")], False),
    ([("a", None, "present")], False),
])
def test_action_plugin_ships_plain_entries_as_postmap_lines(items, plain):
    """Inline entries travel as key<TAB>value lines only when they read back unchanged; else as JSON."""
    from ansible_collections.vhosting.postfix.plugins.action.lookup_table import _plain
    from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import parse_data

    assert _plain(items) is plain
    if plain:
        text = "".join("%s\t%s\n" % (k, v) for k, v, _s in items)
        assert parse_data(text, "postmap") == items


# ------------------------------------------------- index attributes (secrets)

def test_a_table_turning_secret_takes_its_index_with_it(host, capsys):
    """0644, then mode 0600 + hide_values with the same entries: source and index 0600, same owner and group."""
    source, index = host / "etc" / "virtual", host / "etc" / "virtual.lmdb"
    run(host, capsys, entries={"[relay]:587": "user:pw"}, mode="0644")
    assert attrs(source)[2] == attrs(index)[2] == 0o644
    secret = run(host, capsys, entries={"[relay]:587": "user:pw"}, mode="0600", hide_values=True)
    assert secret["changed"] and not secret["rebuilt"]
    assert secret["index_fixed"] == [str(index)]
    assert attrs(source) == attrs(index) and attrs(index)[2] == 0o600
    again = run(host, capsys, entries={"[relay]:587": "user:pw"}, mode="0600", hide_values=True)
    assert not again["changed"] and again["index_fixed"] == []


def test_index_attributes_are_checked_on_every_run(host, capsys):
    source, index = host / "etc" / "virtual", host / "etc" / "virtual.lmdb"
    run(host, capsys, entries={"a@x": "secret"}, mode="0600")
    os.chmod(index, 0o644)
    checked = run(host, capsys, entries={"a@x": "secret"}, _ansible_check_mode=True, _ansible_diff=True)
    assert checked["changed"] and checked["index_fixed"] == [str(index)] and not checked["rebuilt"]
    assert checked["diff"]["before_header"] == "%s (attributes)" % index
    assert checked["diff"]["before"].endswith("mode=0644\n") and checked["diff"]["after"].endswith("mode=0600\n")
    assert attrs(index)[2] == 0o644  # check mode touches nothing
    fixed = run(host, capsys, entries={"a@x": "secret"})
    assert fixed["changed"] and fixed["index_fixed"] == [str(index)]
    assert attrs(index) == attrs(source) and attrs(index)[2] == 0o600
    assert len(postmap_calls(host)) == 1  # attributes are fixed without rebuilding
    assert not run(host, capsys, entries={"a@x": "secret"})["changed"]


def test_check_mode_predicts_the_index_mode_from_the_mode_option(host, capsys):
    index = host / "etc" / "virtual.lmdb"
    run(host, capsys, entries={"a@x": "A"}, mode="0644")
    checked = run(host, capsys, entries={"a@x": "A"}, mode="u=rw,g=,o=", _ansible_check_mode=True)
    assert checked["changed"] and checked["index_fixed"] == [str(index)]
    assert attrs(index)[2] == 0o644
    done = run(host, capsys, entries={"a@x": "A"}, mode="u=rw,g=,o=")
    assert done["changed"] and attrs(index)[2] == 0o600 == attrs(host / "etc" / "virtual")[2]


def test_postmap_builds_in_a_private_directory_with_umask_077(host, capsys):
    """The temporary source and index live in a 0700 directory next to the target, with the final mode."""
    run(host, capsys, entries={"a@x": "secret"}, mode="0640")
    (cmd, umask, dir_mode, src_mode, _index), = postmap_seen(host)
    assert (umask, dir_mode, src_mode) == ("0077", "700", "640")
    assert cmd.startswith("lmdb:%s/.virtual." % (host / "etc")) and cmd.endswith("/virtual")
    assert attrs(host / "etc" / "virtual.lmdb")[2] == 0o640
    assert sorted(os.listdir(host / "etc")) == ["virtual", "virtual.lmdb"]


def test_a_new_secret_index_is_never_readable_by_others(host, capsys):
    run(host, capsys, entries={"a@x": "secret"}, hide_values=True)
    assert attrs(host / "etc" / "virtual")[2] == attrs(host / "etc" / "virtual.lmdb")[2] == 0o600


def test_a_stale_index_is_rebuilt_with_the_source_attributes(host, capsys):
    source, index = host / "etc" / "virtual", host / "etc" / "virtual.lmdb"
    run(host, capsys, entries={"a@x": "A"}, mode="0600")
    os.unlink(index)
    result = run(host, capsys, entries={"a@x": "A"})
    assert result["changed"] and result["rebuilt"] and result["index_fixed"] == []
    assert attrs(index) == attrs(source)
    assert sorted(os.listdir(host / "etc")) == ["virtual", "virtual.lmdb"]


def test_the_incremental_path_ends_with_the_source_attributes(host, capsys):
    source, index = host / "etc" / "virtual", host / "etc" / "virtual.lmdb"
    data = host / "big.txt"
    data.write_text("".join("u%d@x\tv%d\n" % (i, i) for i in range(20000)))
    run(host, capsys, src=str(data), format="postmap", mode="0644")
    data.write_text("".join("u%d@x\t%s\n" % (i, "new" if i == 5 else "v%d" % i) for i in range(20000)))
    result = run(host, capsys, src=str(data), format="postmap", mode="0600")
    assert result["changed"] and result["incremental"]
    # The index was already 0600 when postmap -i wrote the new value into it.
    assert postmap_seen(host)[-1][0] == "-i" and postmap_seen(host)[-1][4] == "600"
    assert postmap_seen(host)[-1][1] == "0077"
    assert attrs(index) == attrs(source) and attrs(source)[2] == 0o600
    assert sorted(os.listdir(host / "etc")) == ["virtual", "virtual.lmdb"]


def test_no_temporary_files_after_a_rejected_pattern_table(host, capsys):
    result = run(host, capsys, type="regexp", entries=[{"key": "/a/", "value": "x"}, {"key": "/BADPATTERN/", "value": "y"}])
    assert result["failed"] and "key '/BADPATTERN/': Postfix rejects this regexp entry: bad pattern" in result["msg"]
    assert os.listdir(host / "etc") == []


def test_no_temporary_files_after_a_failed_postmap(host, capsys):
    (host / "fail").write_text("")
    result = run(host, capsys, entries={"a@x": "A"}, mode="0600")
    assert result["failed"] and not result["changed"]
    assert os.listdir(host / "etc") == []


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_index_follows_the_owner_and_group_of_the_source(host, capsys):
    import pwd  # pylint: disable=import-outside-toplevel

    nobody = pwd.getpwnam("nobody")
    source, index = host / "etc" / "virtual", host / "etc" / "virtual.lmdb"
    run(host, capsys, entries={"a@x": "A"})
    result = run(host, capsys, entries={"a@x": "A"}, owner="nobody", group=str(nobody.pw_gid))
    assert result["changed"] and result["index_fixed"] == [str(index)]
    assert attrs(index) == attrs(source) and attrs(source)[:2] == (nobody.pw_uid, nobody.pw_gid)
    changed = run(host, capsys, entries={"a@x": "B"}, owner="nobody")
    assert changed["changed"] and changed["rebuilt"] and attrs(index) == attrs(source)
    assert attrs(source)[0] == nobody.pw_uid


# ------------------------------------------------ pattern tables with spaces

@pytest.mark.parametrize("table_type", ["regexp", "pcre"])
def test_non_exclusive_pattern_table_with_spaces_keeps_exactly_the_intended_lines(host, capsys, table_type):
    path = host / "etc" / "header_checks"
    run(host, capsys, path=str(path), type=table_type,
        entries=[{"key": "/^Subject: .*buy now/", "value": "REJECT spam"}, {"key": "/^From: a b/i", "value": "OK"}])
    result = run(host, capsys, path=str(path), type=table_type, exclusive=False,
                 entries=[{"key": "/^Subject: .*buy now/", "value": "REJECT spam"},
                          {"key": "/^Subject: free money/", "value": "HOLD"}])
    assert result["changed"] and (result["added"], result["removed"], result["modified"]) == (1, 0, 0)
    body = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert body == ["/^Subject: .*buy now/\tREJECT spam", "/^From: a b/i\tOK", "/^Subject: free money/\tHOLD"]
    again = run(host, capsys, path=str(path), type=table_type, exclusive=False,
                entries=[{"key": "/^Subject: .*buy now/", "value": "REJECT spam"}])
    assert not again["changed"]


def test_documentation_parses_and_documents_index_fixed():
    import yaml  # pylint: disable=import-outside-toplevel

    doc = yaml.safe_load(lookup_table.DOCUMENTATION)
    returned = yaml.safe_load(lookup_table.RETURN)
    assert doc["module"] == "lookup_table"
    assert {"module": "vhosting.postfix.lookup_info"} in doc["seealso"]
    assert returned["index_fixed"]["type"] == "list" and returned["index_fixed"]["returned"] == "always"


class Killed(BaseException):
    """Stands for kill -9: no except clause of the module catches it."""


def kill_at(monkeypatch, first_arg):
    """Make the module 'die' when it calls postmap with `first_arg`, leaving what a kill -9 leaves (the
    private directory too: with a real kill no cleanup runs)."""
    real_run = lookup_table.Table.run

    def dying_run(self, args, *rest, **kwargs):
        if args[0] == first_arg:
            raise Killed()
        return real_run(self, args, *rest, **kwargs)

    monkeypatch.setattr(lookup_table.Table, "run", dying_run)
    monkeypatch.setattr(lookup_table.Table, "cleanup", lambda self: None)


def big_table(host, capsys, changed=()):
    data = host / "big.txt"
    data.write_text("".join("u%d@x\t%s\n" % (i, "new%d" % i if i in changed else "v%d" % i)
                            for i in range(20000) if i != 7 or not changed))
    return run(host, capsys, src=str(data), format="postmap")


def test_a_run_killed_between_postmap_d_and_i_is_repaired_by_the_next_run(host, capsys, monkeypatch):
    big_table(host, capsys)
    with monkeypatch.context() as patched:
        kill_at(patched, "-i")
        with pytest.raises(Killed):
            big_table(host, capsys, changed=(5,))
        capsys.readouterr()
    etc = host / "etc"
    # What the kill left: the new source, an index newer than it without the new value, the marker.
    assert "u5@x\tnew5" in (etc / "virtual").read_text()
    assert os.stat(etc / "virtual.lmdb").st_mtime_ns >= os.stat(etc / "virtual").st_mtime_ns
    assert (etc / ".virtual.vhpending").exists()
    result = big_table(host, capsys, changed=(5,))
    assert result["changed"] and result["rebuilt"] and not result["incremental"]
    assert result["added"] == result["removed"] == result["modified"] == 0
    assert (etc / "virtual.lmdb").read_text() == (etc / "virtual").read_text()
    assert sorted(os.listdir(etc)) == ["virtual", "virtual.lmdb"]
    again = big_table(host, capsys, changed=(5,))
    assert not again["changed"] and not again["rebuilt"]


def test_a_killed_full_rebuild_leaves_nothing_after_the_next_run(host, capsys, monkeypatch):
    run(host, capsys, entries={"a@x": "A"})
    with monkeypatch.context() as patched:
        kill_at(patched, "lmdb:%s" % (host / "etc"))  # never matches: kill at the full build instead
        real_build = lookup_table.Table.build_index

        def dying_build(self, tmp):
            real_build(self, tmp)
            raise Killed()

        patched.setattr(lookup_table.Table, "build_index", dying_build)
        with pytest.raises(Killed):
            run(host, capsys, entries={"a@x": "B"})
        capsys.readouterr()
    etc = host / "etc"
    left = [name for name in os.listdir(etc) if name.endswith(".vhtmp")]
    assert len(left) == 1 and left[0].startswith(".virtual.")
    # A killed run of another table's is not this table's to remove.
    (etc / ".other.abcdefgh.vhtmp").mkdir()
    check = run(host, capsys, entries={"a@x": "A"}, _ansible_check_mode=True)
    assert check["changed"] and check["leftovers_removed"] == [str(etc / left[0])]
    assert (etc / left[0]).is_dir()
    result = run(host, capsys, entries={"a@x": "A"})
    assert result["changed"] and not result["rebuilt"] and result["leftovers_removed"] == [str(etc / left[0])]
    assert sorted(os.listdir(etc)) == [".other.abcdefgh.vhtmp", "virtual", "virtual.lmdb"]
    assert (etc / "virtual.lmdb").read_text() == (etc / "virtual").read_text()
    assert not run(host, capsys, entries={"a@x": "A"})["changed"]


def xattrs_work(directory):
    probe = directory / "xattr-probe"
    probe.write_text("")
    try:
        os.setxattr(str(probe), "user.vhosting.test", b"1")
        return True
    except OSError:
        return False
    finally:
        probe.unlink()


def test_probe_says_unchanged_only_while_request_source_and_index_are_those_of_the_recorded_run(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    source = host / "etc" / "virtual"
    assert run(host, capsys, probe=True, input_digest="d1")["probe_miss"]  # no table yet
    first = run(host, capsys, entries={"a@x": "A", "b@x": "B"}, input_digest="d1")
    assert first["changed"] and len(postmap_calls(host)) == 1
    hit = run(host, capsys, probe=True, input_digest="d1")
    assert hit["input_unchanged"] and not hit["changed"] and hit["entries"] == 2
    assert len(postmap_calls(host)) == 1
    assert run(host, capsys, probe=True, input_digest="d2")["reason"] == "another request"
    # The source edited by hand (same length): the content is read, not trusted.
    source.write_text(source.read_text().replace("a@x\tA", "a@x\tZ"))
    later = source.stat().st_mtime - 10
    os.utime(source, (later, later))
    assert run(host, capsys, probe=True, input_digest="d1")["reason"] == "the source changed since"
    assert run(host, capsys, entries={"a@x": "A", "b@x": "B"}, input_digest="d1")["changed"]
    assert run(host, capsys, probe=True, input_digest="d1")["input_unchanged"]
    # A stale index, or the pending marker of a killed run: the full run repairs it.
    (host / "etc" / ".virtual.vhpending").write_text("")
    assert run(host, capsys, probe=True, input_digest="d1")["probe_miss"]
    assert run(host, capsys, entries={"a@x": "A", "b@x": "B"}, input_digest="d1")["rebuilt"]
    # Attributes are still checked and fixed on a probe hit.
    os.chmod(str(host / "etc" / "virtual.lmdb"), 0o666)
    fixed = run(host, capsys, probe=True, input_digest="d1")
    assert fixed["input_unchanged"] and fixed["changed"] and fixed["index_fixed"] == [str(host / "etc" / "virtual.lmdb")]
    assert attrs(host / "etc" / "virtual.lmdb") == attrs(source)


def test_input_digest_changes_with_the_data_and_the_options(tmp_path):
    from ansible_collections.vhosting.postfix.plugins.action.lookup_table import input_digest  # pylint: disable=import-outside-toplevel

    data = tmp_path / "data"
    data.write_text("a\tb\n")
    one = input_digest({"path": "/etc/postfix/virtual", "type": "lmdb", "src": "x"}, str(data))
    assert one == input_digest({"type": "lmdb", "path": "/etc/postfix/virtual", "src": "y"}, str(data))
    assert one != input_digest({"path": "/etc/postfix/virtual", "type": "hash"}, str(data))
    data.write_text("a\tc\n")
    assert one != input_digest({"path": "/etc/postfix/virtual", "type": "lmdb"}, str(data))


# ------------------------------------------------------------ delta runs (issue 21)

def _data(n, changed=(), extra=()):
    lines = ["k%06d@x\tv%d" % (i, i) for i in range(n)]
    for i in changed:
        lines[i] = "k%06d@x\tnew%d" % (i, i)
    return ("\n".join(lines + list(extra)) + "\n").encode()


def _delta_file(host, old, new, name="delta"):
    from ansible_collections.vhosting.postfix.plugins.module_utils import _table_delta  # pylint: disable=import-outside-toplevel

    path = host / name
    path.write_bytes(_table_delta.render(*_table_delta.compute(old, new)))
    return str(path)


def _full(host, capsys, data, digest, path=None, **args):
    src = host / ("data-%s" % digest)
    src.write_bytes(data)
    if path:
        args["path"] = path
    return run(host, capsys, src=str(src), format="postmap", input_digest=digest, **args)


def test_a_delta_gives_the_full_runs_source_byte_for_byte_and_is_recorded(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old, new = _data(3000), _data(3000, changed=(7, 2500), extra=("zz@x\tadded",))
    first = _full(host, capsys, old, "d1")
    assert first["delta_ready"] and "delta" not in first
    result = run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
                 base_digest="d1")
    assert result["delta"] and result["changed"] and result["delta_ready"] and result["rebuilt"]
    assert (result["entries"], result["added"], result["removed"], result["modified"]) == (3001, 1, 0, 2)
    reference = _full(host, capsys, new, "d2", path=str(host / "etc" / "reference"))
    assert reference["entries"] == 3001
    source = host / "etc" / "virtual"
    assert source.read_bytes() == (host / "etc" / "reference").read_bytes()
    assert (host / "etc" / "virtual.lmdb").read_bytes() == source.read_bytes()  # the stand-in index is a copy
    assert run(host, capsys, probe=True, format="postmap", input_digest="d2")["input_unchanged"]
    assert sorted(os.listdir(host / "etc")) == ["reference", "reference.lmdb", "virtual", "virtual.lmdb"]


def test_a_small_change_to_a_big_table_by_delta_goes_incremental(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old, new = _data(12000), _data(12000, changed=(5000,))
    _full(host, capsys, old, "d1")
    calls = len(postmap_calls(host))
    result = run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
                 base_digest="d1")
    assert result["delta"] and result["incremental"] and result["modified"] == 1
    assert [c.split()[0] for c in postmap_calls(host)[calls:]] == ["-i"]
    assert b"k005000@x\tnew5000\n" in (host / "etc" / "virtual").read_bytes()


def test_a_delta_is_refused_unless_the_source_is_exactly_what_its_base_request_wrote(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old, new = _data(3000), _data(3000, changed=(1,))
    source = host / "etc" / "virtual"
    _full(host, capsys, old, "d1")
    delta = _delta_file(host, old, new)

    def probe(**args):
        return run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=delta, **args)

    assert probe(base_digest="other")["probe_miss"]
    # Edited by hand: the sha256 of the source differs from the record.
    text = source.read_bytes()
    source.write_bytes(text.replace(b"k000002@x\tv2\n", b"k000002@x\tby hand\n"))
    assert probe(base_digest="d1")["probe_miss"]
    assert source.read_bytes() != text and "by hand" in source.read_text()
    # Repaired by the full path; then a stale index refuses the delta too.
    _full(host, capsys, old, "d1")
    (host / "etc" / ".virtual.vhpending").write_text("")
    assert probe(base_digest="d1")["probe_miss"]
    os.unlink(str(host / "etc" / ".virtual.vhpending"))
    # Leftovers of a killed run: the full path removes them.
    os.mkdir(str(host / "etc" / ".virtual.abcdefgh.vhtmp"))
    assert probe(base_digest="d1")["probe_miss"]
    os.rmdir(str(host / "etc" / ".virtual.abcdefgh.vhtmp"))
    assert probe(base_digest="d1")["delta"]


def test_a_delta_is_refused_after_a_request_the_general_path_took(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old = _data(3000) + b"# a comment\n"
    first = _full(host, capsys, old, "d1")
    assert first["changed"] and "delta_ready" not in first
    new = old.replace(b"k000001@x\tv1\n", b"k000001@x\tw\n")
    assert run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
               base_digest="d1")["probe_miss"]


def test_a_delta_making_a_key_twice_changes_nothing(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old = _data(3000)
    new = _data(3000, extra=("k000005@x\tagain",))
    _full(host, capsys, old, "d1")
    text = (host / "etc" / "virtual").read_bytes()
    result = run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
                 base_digest="d1")
    assert result["probe_miss"]
    assert (host / "etc" / "virtual").read_bytes() == text
    # The full path names the key.
    failed = _full(host, capsys, new, "d2")
    assert failed["failed"] and "k000005@x" in failed["msg"]


def test_a_delta_in_check_mode_reports_and_writes_nothing(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old, new = _data(3000), _data(3000, changed=(3,))
    _full(host, capsys, old, "d1")
    text = (host / "etc" / "virtual").read_bytes()
    calls = len(postmap_calls(host))
    result = run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
                 base_digest="d1", _ansible_check_mode=True, _ansible_diff=True)
    assert result["delta"] and result["changed"] and result["modified"] == 1
    assert "k000003@x\tv3 -> new3" in result["diff"]["after"]
    assert (host / "etc" / "virtual").read_bytes() == text and len(postmap_calls(host)) == calls
    assert run(host, capsys, probe=True, format="postmap", input_digest="d1")["input_unchanged"]


def test_a_delta_with_diff_on_a_small_table_leaves_the_whole_text_to_the_full_path(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old, new = _data(50), _data(50, changed=(3,))
    _full(host, capsys, old, "d1")
    assert run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
               base_digest="d1", _ansible_diff=True)["probe_miss"]
    assert run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
               base_digest="d1")["delta"]


def test_a_delta_hides_values_in_its_diff_summary(host, capsys):
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    old, new = _data(3000), _data(3000, changed=(3,))
    _full(host, capsys, old, "d1", hide_values=True)
    result = run(host, capsys, probe=True, format="postmap", input_digest="d2", delta=_delta_file(host, old, new),
                 base_digest="d1", hide_values=True, _ansible_diff=True)
    assert result["delta"] and "new3" not in json.dumps(result) and "********" in result["diff"]["after"]


# ------------------------------------- file_contents: postmap -F (tls_server_sni_maps)

def pem_files(host, *names, **kwargs):
    """Stand-in key and certificate files under host/certs (mtime `age` seconds ago, if given); their paths."""
    directory = host / "certs"
    directory.mkdir(exist_ok=True)
    paths = []
    for name in names:
        path = directory / name
        path.write_text("-----BEGIN %s-----\nSECRET-%s\n" % (name, name))
        if "age" in kwargs:
            set_age(kwargs["age"], path)
        paths.append(str(path))
    return paths


def set_age(seconds, *paths, **kwargs):
    """Set the mtime of paths to `seconds` ago (follow_symlinks=False: the symbolic link itself)."""
    import time  # pylint: disable=import-outside-toplevel

    when = time.time() - seconds
    for path in paths:
        os.utime(str(path), (when, when), follow_symlinks=kwargs.get("follow_symlinks", True))


def sni(host, capsys, entries, **args):
    args.setdefault("path", str(host / "etc" / "sni"))
    args.setdefault("file_contents", True)
    return run(host, capsys, entries=entries, **args)


def snapshot(*paths):
    """Content and mtime of files: what 'left untouched' compares."""
    return [(open(str(p), "rb").read(), os.stat(str(p)).st_mtime_ns) for p in paths]


def test_file_contents_builds_with_postmap_F_a_private_table_and_shows_only_the_names(host, capsys):
    key, chain = pem_files(host, "key.pem", "chain.pem")
    source, index = host / "etc" / "sni", host / "etc" / "sni.lmdb"
    result = sni(host, capsys, {"mail.example.net": "%s %s" % (key, chain), "Other.Example": [key, chain]},
                 _ansible_diff=True)
    assert result["changed"] and result["rebuilt"] and not result["incremental"] and result["added"] == 2
    calls = postmap_calls(host)
    assert len(calls) == 1 and calls[0].startswith("-F lmdb:%s/.sni." % (host / "etc")) and calls[0].endswith("/sni")
    text = source.read_text()
    assert text.startswith("# %s\n" % lookup_table.FILE_CONTENTS_MARKER)
    assert "mail.example.net\t%s %s\n" % (key, chain) in text and "other.example\t%s, %s\n" % (key, chain) in text
    assert attrs(source)[2] == attrs(index)[2] == 0o600
    assert "mail.example.net\t%s %s" % (key, chain) in result["diff"]["after"]  # the names are not secret
    assert "SECRET" not in json.dumps(result)  # the content is never read into the result
    again = sni(host, capsys, {"mail.example.net": "%s %s" % (key, chain), "Other.Example": [key, chain]})
    assert not again["changed"] and not again["rebuilt"] and len(postmap_calls(host)) == 1


@pytest.mark.parametrize("bad, problem", [
    ("missing", "does not exist"),
    ("relative", "is not an absolute path"),
    ("directory", "is not a regular file"),
    ("dangling", "is a symbolic link to a missing file"),
])
def test_file_contents_refuses_a_file_postmap_could_not_read_and_changes_nothing(host, capsys, bad, problem):
    key, chain = pem_files(host, "key.pem", "chain.pem")
    source, index = host / "etc" / "sni", host / "etc" / "sni.lmdb"
    sni(host, capsys, {"a.example": "%s %s" % (key, chain)})
    name = {"missing": str(host / "certs" / "gone.pem"), "relative": "certs/chain.pem", "directory": str(host / "certs"),
            "dangling": str(host / "certs" / "dangling.pem")}[bad]
    if bad == "dangling":
        os.symlink(str(host / "certs" / "nowhere.pem"), name)
    before = snapshot(source, index)
    for check_mode in (True, False):
        result = sni(host, capsys, {"a.example": "%s %s" % (key, chain), "b.example": [key, name]},
                     _ansible_check_mode=check_mode)
        assert result["failed"] and not result["changed"]
        assert "key 'b.example': %s %s" % (name, problem) in result["msg"] and "file_contents" in result["msg"]
    assert snapshot(source, index) == before
    assert len(postmap_calls(host)) == 1
    assert sorted(os.listdir(host / "etc")) == ["sni", "sni.lmdb"]


def test_file_contents_refuses_a_missing_file_of_a_new_table_and_creates_nothing(host, capsys):
    key, = pem_files(host, "key.pem")
    result = sni(host, capsys, {"a.example": "%s %s" % (key, host / "certs" / "fullchain.pem")})
    assert result["failed"] and "key 'a.example': %s does not exist" % (host / "certs" / "fullchain.pem") in result["msg"]
    assert os.listdir(host / "etc") == [] and postmap_calls(host) == []


def test_file_contents_checks_the_entries_kept_from_the_source_too(host, capsys):
    key, chain, other = pem_files(host, "key.pem", "chain.pem", "other.pem")
    source, index = host / "etc" / "sni", host / "etc" / "sni.lmdb"
    sni(host, capsys, {"a.example": "%s %s" % (key, chain)})
    os.unlink(chain)
    before = snapshot(source, index)
    result = sni(host, capsys, {"b.example": "%s %s" % (key, other)}, exclusive=False)
    assert result["failed"] and "key 'a.example': %s does not exist" % chain in result["msg"]
    assert snapshot(source, index) == before and len(postmap_calls(host)) == 1


def built_sni(host, capsys):
    """An SNI table built from a key and chain that are older than its source and index."""
    key, chain = pem_files(host, "key.pem", "chain.pem", age=300)
    source, index = host / "etc" / "sni", host / "etc" / "sni.lmdb"
    entries = {"mail.example.net": "%s %s" % (key, chain)}
    sni(host, capsys, entries)
    set_age(100, source, index)
    return key, chain, source, index, entries


def test_a_file_newer_than_the_index_makes_it_stale_with_the_same_source(host, capsys):
    key, chain, source, index, entries = built_sni(host, capsys)
    assert not sni(host, capsys, entries)["changed"]  # the files are older than the index
    text = source.read_bytes()
    set_age(50, chain)  # renewed after the index was built
    result = sni(host, capsys, entries)
    assert result["changed"] and result["rebuilt"] and not result["incremental"]
    assert (result["added"], result["removed"], result["modified"]) == (0, 0, 0)
    assert source.read_bytes() == text
    assert postmap_calls(host)[-1].startswith("-F lmdb:") and len(postmap_calls(host)) == 2
    assert os.stat(str(index)).st_mtime_ns > os.stat(chain).st_mtime_ns
    assert attrs(index) == attrs(source)
    again = sni(host, capsys, entries)
    assert not again["changed"] and len(postmap_calls(host)) == 2


def test_without_file_contents_a_newer_file_named_in_a_value_is_no_reason_to_rebuild(host, capsys):
    key, = pem_files(host, "key.pem", age=300)
    source, index = host / "etc" / "sni", host / "etc" / "sni.lmdb"
    sni(host, capsys, {"a.example": key}, file_contents=False)
    set_age(100, source, index)
    set_age(50, key)
    assert not sni(host, capsys, {"a.example": key}, file_contents=False)["changed"]
    assert sni(host, capsys, {"a.example": key})["rebuilt"]


@pytest.mark.parametrize("target_age, link_age", [(50, 400), (400, None)], ids=["newer-target", "link-replaced"])
def test_a_symbolic_link_pointed_at_another_file_makes_the_index_stale(host, capsys, target_age, link_age):
    """certbot renews into archive/ and repoints live/: a newer target, or a link replaced after the build (even by
    one pointing at an older file, a rollback), rebuilds the index."""
    key, old, new = pem_files(host, "key.pem", "chain1.pem", "chain2.pem", age=300)
    live = host / "certs" / "fullchain.pem"
    os.symlink(old, str(live))
    set_age(300, live, follow_symlinks=False)
    source, index = host / "etc" / "sni", host / "etc" / "sni.lmdb"
    entries = {"mail.example.net": "%s %s" % (key, live)}
    sni(host, capsys, entries)
    set_age(100, source, index)
    assert not sni(host, capsys, entries)["changed"]
    set_age(target_age, new)
    os.unlink(str(live))
    os.symlink(new, str(live))
    if link_age is not None:
        set_age(link_age, live, follow_symlinks=False)
    result = sni(host, capsys, entries)
    assert result["changed"] and result["rebuilt"] and result["modified"] == 0
    assert not sni(host, capsys, entries)["changed"]


def test_check_mode_reports_the_rebuild_for_a_newer_file_and_writes_nothing(host, capsys):
    key, chain, source, index, entries = built_sni(host, capsys)
    set_age(50, key)
    before = snapshot(source, index)
    checked = sni(host, capsys, entries, _ansible_check_mode=True)
    assert checked["changed"] and checked["rebuilt"]
    assert snapshot(source, index) == before and len(postmap_calls(host)) == 1
    assert sorted(os.listdir(host / "etc")) == ["sni", "sni.lmdb"]
    assert sni(host, capsys, entries)["rebuilt"] and len(postmap_calls(host)) == 2


def test_the_probe_misses_when_a_file_is_newer_than_the_index(host, capsys):
    """The action plugin's fast path: the same request, but a renewed certificate must not be 'input_unchanged'."""
    if not xattrs_work(host / "etc"):
        pytest.skip("no user extended attributes on this filesystem")
    key, chain = pem_files(host, "key.pem", "chain.pem", age=300)
    source, index = host / "etc" / "sni", host / "etc" / "sni.lmdb"
    entries = {"mail.example.net": "%s %s" % (key, chain)}
    first = sni(host, capsys, entries, input_digest="d1")
    assert first["changed"] and "delta_ready" not in first  # never a delta: that would update the index in place
    assert run(host, capsys, path=str(source), probe=True, file_contents=True, input_digest="d1")["input_unchanged"]
    set_age(100, source, index)
    set_age(50, chain)
    missed = run(host, capsys, path=str(source), probe=True, file_contents=True, input_digest="d1")
    assert missed["probe_miss"] and "stale" in missed["reason"]
    assert sni(host, capsys, entries, input_digest="d1")["rebuilt"]
    assert run(host, capsys, path=str(source), probe=True, file_contents=True, input_digest="d1")["input_unchanged"]


@pytest.mark.parametrize("args, named", [
    ({"type": "texthash"}, "not texthash"),
    ({"type": "pcre"}, "not pcre"),
    ({"type": "lmdb", "aliases": True, "path": "aliases"}, "aliases=true"),
])
def test_file_contents_is_refused_for_a_table_postmap_does_not_index(host, capsys, args, named):
    key, = pem_files(host, "key.pem")
    if "path" in args:
        args["path"] = str(host / "etc" / args["path"])
    for probe in (False, True):
        extra = {"probe": True, "input_digest": "d1"} if probe else {}
        result = sni(host, capsys, {"a.example": key}, **dict(args, **extra))
        assert result["failed"] and "file_contents" in result["msg"] and named in result["msg"]
    assert os.listdir(host / "etc") == [] and postmap_calls(host) == []


def test_turning_file_contents_on_and_off_rebuilds_the_index(host, capsys):
    key, chain = pem_files(host, "key.pem", "chain.pem")
    entries = {"mail.example.net": "%s %s" % (key, chain)}
    sni(host, capsys, entries, file_contents=False)
    assert not postmap_calls(host)[-1].startswith("-F")
    on = sni(host, capsys, entries, _ansible_diff=True)
    assert on["changed"] and on["rebuilt"] and (on["added"], on["modified"]) == (0, 0)
    assert postmap_calls(host)[-1].startswith("-F lmdb:")
    assert lookup_table.FILE_CONTENTS_MARKER in on["diff"]["after"]
    assert lookup_table.FILE_CONTENTS_MARKER not in on["diff"]["before"]
    assert not sni(host, capsys, entries)["changed"]
    off = sni(host, capsys, entries, file_contents=False)
    assert off["changed"] and off["rebuilt"] and not postmap_calls(host)[-1].startswith("-F")
    assert len(postmap_calls(host)) == 3


def test_file_contents_never_updates_a_big_index_in_place(host, capsys):
    key, chain, other = pem_files(host, "key.pem", "chain.pem", "other.pem")
    data = host / "big.txt"
    data.write_text("".join("h%d.example\t%s %s\n" % (i, key, chain) for i in range(20000)))
    run(host, capsys, path=str(host / "etc" / "sni"), src=str(data), format="postmap", file_contents=True)
    data.write_text("".join("h%d.example\t%s %s\n" % (i, key, other if i == 5 else chain) for i in range(20000)))
    result = run(host, capsys, path=str(host / "etc" / "sni"), src=str(data), format="postmap", file_contents=True)
    assert result["changed"] and result["rebuilt"] and result["modified"] == 1 and not result["incremental"]
    calls = postmap_calls(host)
    assert len(calls) == 2 and all(call.startswith("-F lmdb:") for call in calls)
