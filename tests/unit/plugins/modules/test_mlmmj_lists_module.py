# -*- coding: utf-8 -*-
"""The mlmmj_lists module on real directories, with stand-in mlmmj tools (a subscriber file per list)."""
import json
import os
import pwd
import stat

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import mlmmj_lists

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the module gives control/ to root")

TOOL = """#!/bin/sh
echo "$0 $*" >> "{log}"
dir="$2"; addr="$4"
case "$0" in
  *mlmmj-list) cat "$dir/subscribers.d/all" 2>/dev/null; echo "Changing to uid 0" >&2 ;;
  *mlmmj-sub) echo "$addr" >> "$dir/subscribers.d/all" ;;
  *mlmmj-unsub) grep -vx "$addr" "$dir/subscribers.d/all" > "$dir/subscribers.d/new"; mv "$dir/subscribers.d/new" "$dir/subscribers.d/all" ;;
esac
"""


@pytest.fixture
def host(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("mlmmj-list", "mlmmj-sub", "mlmmj-unsub"):
        tool = bindir / name
        tool.write_text(TOOL.format(log=tmp_path / "tools.log"))
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    (tmp_path / "spool").mkdir()
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "help").write_text("help text\n")
    return tmp_path


def spec(host, **change):
    one = {"address": "news@x.test", "dir": str(host / "spool" / "news@x.test"), "owners": ["o@x.test"],
           "subscribers": ["a@x.test", "b@x.test"], "headers": ["List-Id: <news.x.test>"]}
    one.update(change)
    return one


def run(host, capsys, lists, **args):
    args.update(lists=lists, spool=str(host / "spool"), text_dir=str(host / "texts"),
                state_file=str(host / "state" / "lists.json"), user="nobody")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mlmmj_lists.main()
    return json.loads(capsys.readouterr().out)


def tools(host):
    log = host / "tools.log"
    return [line.split()[0].rsplit("/", 1)[1] for line in log.read_text().splitlines()] if log.exists() else []


def test_create_subscribe_and_stay_idempotent(host, capsys):
    first = run(host, capsys, [spec(host)], _ansible_diff=True)
    assert first["changed"] and first["created"] == ["news@x.test"]
    assert first["lists"]["news@x.test"]["subscribed"] == ["a@x.test", "b@x.test"]
    top = host / "spool" / "news@x.test"
    nobody = pwd.getpwnam("nobody").pw_uid
    assert os.stat(top).st_uid == nobody and stat.S_IMODE(os.stat(top).st_mode) == 0o700
    for sub in ("incoming", "archive", "subscribers.d", "queue/discarded", "index"):
        assert os.stat(top / sub).st_uid == nobody, sub
    for sub in ("control", "text"):
        assert os.stat(top / sub).st_uid == 0 and stat.S_IMODE(os.stat(top / sub).st_mode) == 0o755
    assert (top / "text" / "help").read_text() == "help text\n"
    assert (top / "control" / "listaddress").read_text() == "news@x.test\n"
    assert (top / "control" / "customheaders").read_text() == "List-Id: <news.x.test>\n"
    assert not (top / "control" / "subonlypost").exists()
    assert "subscriber a@x.test" in first["diff"][0]["after"] and first["diff"][0]["before"] == ""
    again = run(host, capsys, [spec(host)])
    assert not again["changed"] and tools(host).count("mlmmj-sub") == 2


def test_policy_and_owner_changes_and_a_dropped_subscriber(host, capsys):
    run(host, capsys, [spec(host)])
    (host / "spool" / "news@x.test" / "subscribers.d" / "all").open("a").write("self@x.test\n")
    changed = run(host, capsys, [spec(host, owners=["p@x.test"], subscribers=["a@x.test"], subscribers_only=True)])
    entry = changed["lists"]["news@x.test"]
    assert entry == {"control": ["owner", "subonlypost"], "subscribed": [], "unsubscribed": ["b@x.test"]}
    control = host / "spool" / "news@x.test" / "control"
    assert (control / "owner").read_text() == "p@x.test\n" and (control / "subonlypost").exists()
    subscribers = (host / "spool" / "news@x.test" / "subscribers.d" / "all").read_text().split()
    assert subscribers == ["a@x.test", "self@x.test"]
    back = run(host, capsys, [spec(host, owners=["p@x.test"], subscribers=["a@x.test"])])
    assert back["lists"]["news@x.test"]["control"] == ["subonlypost"] and not (control / "subonlypost").exists()


def test_check_mode_changes_nothing(host, capsys):
    checked = run(host, capsys, [spec(host)], _ansible_check_mode=True)
    assert checked["changed"] and checked["created"] == ["news@x.test"]
    assert os.listdir(host / "spool") == [] and not (host / "state").exists() and tools(host) == []
    run(host, capsys, [spec(host)])
    checked = run(host, capsys, [spec(host, subscribers=["c@x.test"])], _ansible_check_mode=True)
    assert checked["lists"]["news@x.test"]["subscribed"] == ["c@x.test"]
    assert checked["lists"]["news@x.test"]["unsubscribed"] == ["a@x.test", "b@x.test"]
    assert "mlmmj-unsub" not in tools(host)


def test_a_control_directory_of_the_lists_user_is_taken_over_and_symlinks_are_not_followed(host, capsys):
    run(host, capsys, [spec(host)])
    control = host / "spool" / "news@x.test" / "control"
    victim = host / "victim"
    victim.write_text("precious\n")
    (control / "owner").unlink()
    os.symlink(str(victim), str(control / "owner"))
    nobody = pwd.getpwnam("nobody")
    os.chown(control, nobody.pw_uid, nobody.pw_gid)
    fixed = run(host, capsys, [spec(host)], _ansible_diff=True)
    assert fixed["changed"] and fixed["lists"]["news@x.test"]["control"] == ["owner"]
    assert "precious" not in json.dumps(fixed)
    assert victim.read_text() == "precious\n"
    assert not os.path.islink(control / "owner") and (control / "owner").read_text() == "o@x.test\n"
    assert os.stat(control).st_uid == 0


def test_a_list_dir_that_is_a_symlink_is_refused(host, capsys):
    elsewhere = host / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), str(host / "spool" / "news@x.test"))
    result = run(host, capsys, [spec(host)])
    assert result["failed"] and "is not a directory (a symbolic link?)" in result["msg"]
    assert os.listdir(elsewhere) == []


def test_a_list_outside_the_spool_is_refused(host, capsys):
    result = run(host, capsys, [spec(host, dir=str(host / "news@x.test"))])
    assert result["failed"] and "is not directly inside the spool" in result["msg"]


def test_a_list_no_longer_given_is_left_alone(host, capsys):
    run(host, capsys, [spec(host)])
    result = run(host, capsys, [])
    assert not result["changed"] and (host / "spool" / "news@x.test" / "archive").is_dir()
