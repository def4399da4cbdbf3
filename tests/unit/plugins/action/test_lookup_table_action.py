# -*- coding: utf-8 -*-
"""The lookup_table action and module together (the module runs in-process on a temporary "host" with a stand-in
postmap): a big data file changed by a few lines travels as a delta once the controller has a copy of the last one."""
import contextlib
import io
import json
import os
import shutil
import stat
from unittest import mock

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.action import lookup_table as action_plugin
from ansible_collections.vhosting.postfix.plugins.action.lookup_table import ActionModule
from ansible_collections.vhosting.postfix.plugins.modules import lookup_table as module

FAKE_POSTMAP = """#!/bin/sh
echo "$@" >> "{log}"
for last; do :; done
src="${{last#*:}}"
if [ "$1" = "-i" ] || [ "$1" = "-d" ]; then cat >> "$src.lmdb"; exit 0; fi
cp "$src" "$src.lmdb"
"""


@pytest.fixture
def host(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "postmap"
    fake.write_text(FAKE_POSTMAP.format(log=tmp_path / "postmap.log"))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    for name in ("etc", "remote", "cache"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(action_plugin, "cache_base", lambda: str(tmp_path / "cache"))
    probe = tmp_path / "etc" / "xattr-probe"
    probe.write_text("")
    try:
        os.setxattr(str(probe), "user.vhosting.test", b"1")
    except OSError:
        pytest.skip("no user extended attributes on this filesystem")
    finally:
        probe.unlink()
    return tmp_path


class Host(object):
    """Runs the module in-process for the action; records the calls (their arguments)."""

    def __init__(self, check_mode):
        self.calls = []
        self.check_mode = check_mode

    def __call__(self, action, module_name, module_args, task_vars):
        assert module_name == "vhosting.postfix.lookup_table"
        self.calls.append(dict(module_args))
        out = io.StringIO()
        with patch_module_args(dict(module_args, _ansible_check_mode=self.check_mode)):
            with contextlib.redirect_stdout(out):
                with pytest.raises(SystemExit):
                    module.main()
        return json.loads(out.getvalue())


def run(host, data, check_mode=False, **args):
    src = host / "data.txt"
    src.write_bytes(data)
    task = mock.MagicMock()
    task.async_val = 0
    task.check_mode = check_mode
    task.delegate_to = None
    task.args = dict({"path": str(host / "etc" / "virtual"), "type": "lmdb", "src": "data.txt"}, **args)
    play_context = mock.MagicMock()
    play_context.check_mode = check_mode
    connection = mock.MagicMock()
    connection._shell.tmpdir = str(host / "remote")
    connection._shell.join_path.side_effect = os.path.join
    action = ActionModule(task, connection, play_context, mock.MagicMock(), mock.MagicMock(), None)
    fake_host = Host(check_mode)
    with mock.patch.object(ActionModule, "_execute_module", autospec=True, side_effect=fake_host), \
            mock.patch.object(ActionModule, "_find_needle", return_value=str(src)), \
            mock.patch.object(ActionModule, "_transfer_file", side_effect=shutil.copy), \
            mock.patch.object(ActionModule, "_fixup_perms2"), \
            mock.patch.object(ActionModule, "_remove_tmp_path"):
        result = action.run(task_vars={"inventory_hostname": "mx1"})
    return result, fake_host.calls


def data(n=20000, changed=(), extra=()):
    lines = ["user%d@d%d.example\tbox%d@hosting.example" % (i, i % 100, i) for i in range(n)]
    for i in changed:
        lines[i] = "user%d@d%d.example\tmoved@elsewhere.example" % (i, i % 100)
    return ("\n".join(lines + list(extra)) + "\n").encode()


def full_source(host, content):
    """The source a full run without any copy on the controller writes for `content`."""
    other = host / "other"
    shutil.rmtree(str(other), ignore_errors=True)
    other.mkdir()
    (host / "cache2").mkdir(exist_ok=True)
    with mock.patch.object(action_plugin, "cache_base", lambda: str(host / "cache2" / "x")):
        result, _calls = run(host, content, path=str(other / "virtual"))
    assert not result.get("delta")
    return (other / "virtual").read_bytes()


def test_first_build_no_change_one_change_and_a_hand_edit(host):
    first, calls = run(host, data())
    assert first["changed"] and first["delta_ready"] and len(calls) == 2 and "src" in calls[1]
    assert len(os.listdir(str(host / "cache"))) == 1
    same, calls = run(host, data())
    assert same["input_unchanged"] and not same["changed"] and len(calls) == 1 and "delta" not in calls[0]
    changed, calls = run(host, data(changed=(5, 19000), extra=("new@x\tv",)))
    assert changed["delta"] and changed["changed"] and changed["incremental"] and len(calls) == 1
    assert (changed["added"], changed["removed"], changed["modified"], changed["entries"]) == (1, 0, 2, 20001)
    assert (host / "etc" / "virtual").read_bytes() == full_source(host, data(changed=(5, 19000), extra=("new@x\tv",)))
    # The source edited on the host: the delta is refused and the full path repairs the table.
    source = host / "etc" / "virtual"
    source.write_bytes(source.read_bytes().replace(b"user7@d7.example\tbox7@", b"user7@d7.example\tHAND@"))
    repaired, calls = run(host, data(changed=(6,)))
    assert repaired["changed"] and not repaired.get("delta") and len(calls) == 2 and "delta" in calls[0]
    assert source.read_bytes() == full_source(host, data(changed=(6,)))
    # And the next change goes as a delta again.
    again, calls = run(host, data(changed=(6, 8)))
    assert again["delta"] and again["modified"] == 1 and len(calls) == 1
    assert source.read_bytes() == full_source(host, data(changed=(6, 8)))


def test_check_mode_reports_the_delta_and_keeps_the_copy(host):
    run(host, data())
    names = os.listdir(str(host / "cache"))
    text = (host / "etc" / "virtual").read_bytes()
    check, calls = run(host, data(changed=(3,)), check_mode=True)
    assert check["delta"] and check["changed"] and check["modified"] == 1 and len(calls) == 1
    assert (host / "etc" / "virtual").read_bytes() == text and os.listdir(str(host / "cache")) == names
    real, calls = run(host, data(changed=(3,)))
    assert real["delta"] and real["changed"]


def test_not_delta_ready_forgets_the_copy_and_bad_data_fails_as_before(host):
    run(host, data())
    assert os.listdir(str(host / "cache"))
    commented, calls = run(host, data() + b"# a comment\n")
    # The general path: the same entries, so no change, but the source is no longer the data file's lines.
    assert not commented["changed"] and not commented.get("delta") and "delta_ready" not in commented
    assert os.listdir(str(host / "cache")) == []
    run(host, data())
    twice, calls = run(host, data(extra=("user5@d5.example\tagain",)))
    assert twice["failed"] and "user5@d5.example" in twice["msg"] and len(calls) == 2


def test_no_copy_for_secret_small_or_inline_tables(host):
    run(host, data(), hide_values=True)
    run(host, data(100))
    assert os.listdir(str(host / "cache")) == []


def test_a_permutation_of_the_data_file_is_no_change(host):
    run(host, data())
    lines = data().splitlines(True)
    shuffled, calls = run(host, b"".join(lines[10000:] + lines[:10000]))
    assert not shuffled["changed"] and shuffled["delta"] and len(calls) == 1
