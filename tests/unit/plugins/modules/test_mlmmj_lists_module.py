# -*- coding: utf-8 -*-
"""The mlmmj_lists module on real directories, with stand-in mlmmj tools (a subscriber file per list)."""
import json
import os
import pwd
import stat

import pytest

from module_args import patch_module_args
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
    assert entry == {"control": ["owner", "subonlypost"], "repaired": [], "subscribed": [],
                     "unsubscribed": ["b@x.test"]}
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


# --- what the list's user may not change (issue 19, items 5 and 6) ----------

NOBODY = pwd.getpwnam("nobody")
ALL_FILES = ["customheaders", "delimiter", "listaddress", "owner"]


def list_dir(host):
    return host / "spool" / "news@x.test"


def owner_mode(path):
    info = os.lstat(str(path))
    return (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))


def contents(directory):
    """name -> (uid, gid, mode, content) of the entries of a directory, not following links."""
    return dict((name, owner_mode(directory / name) + ((directory / name).read_text(),))
                for name in sorted(os.listdir(str(directory))))


def give_to_nobody(*paths):
    for path in paths:
        os.chown(str(path), NOBODY.pw_uid, NOBODY.pw_gid, follow_symlinks=False)


def test_a_planted_relayhost_and_other_control_files_are_removed(host, capsys):
    run(host, capsys, [spec(host)])
    control = list_dir(host) / "control"
    (control / "relayhost").write_text("evil.example\n")
    (control / "smtphelo").write_text("evil.example\n")
    checked = run(host, capsys, [spec(host)], _ansible_check_mode=True, _ansible_diff=True)
    assert checked["changed"] and checked["lists"]["news@x.test"]["control"] == ["relayhost", "smtphelo"]
    assert "control/relayhost: evil.example\\n\n" in checked["diff"][0]["before"]
    assert "relayhost" not in checked["diff"][0]["after"]
    assert (control / "relayhost").exists()
    fixed = run(host, capsys, [spec(host)])
    assert fixed["changed"] and fixed["lists"]["news@x.test"]["control"] == ["relayhost", "smtphelo"]
    assert sorted(os.listdir(str(control))) == ALL_FILES
    assert not run(host, capsys, [spec(host)])["changed"]


def test_a_control_directory_swapped_by_the_lists_user_is_put_back_with_its_policy(host, capsys):
    """The list's user renames control/ away and puts its own copy there, without subonlypost."""
    run(host, capsys, [spec(host, subscribers_only=True)])
    top = list_dir(host)
    os.rename(str(top / "control"), str(top / "control.old"))
    (top / "control").mkdir()
    for name in ALL_FILES:
        (top / "control" / name).write_text((top / "control.old" / name).read_text())
    (top / "control" / "relayhost").write_text("evil.example\n")
    give_to_nobody(top / "control", *(top / "control").iterdir())
    fixed = run(host, capsys, [spec(host, subscribers_only=True)])
    assert (top / "control" / "subonlypost").exists()
    assert owner_mode(top / "control") == (0, 0, 0o755)
    assert contents(top / "control") == contents(top / "control.old")  # the user's copies are gone, all root's
    entry = fixed["lists"]["news@x.test"]
    assert entry["repaired"] == ["control"]
    assert entry["control"] == ["listaddress", "owner", "delimiter", "customheaders", "subonlypost", "relayhost"]
    assert not run(host, capsys, [spec(host, subscribers_only=True)])["changed"]


def test_a_symlink_in_place_of_control_is_replaced_and_not_followed(host, capsys):
    run(host, capsys, [spec(host, subscribers_only=True)])
    top = list_dir(host)
    victim = host / "victim"
    victim.mkdir(mode=0o700)
    (victim / "relayhost").write_text("evil.example\n")
    (victim / "owner").write_text("mallory@x.test\n")
    give_to_nobody(victim, *victim.iterdir())
    before = contents(victim)
    for name in os.listdir(str(top / "control")):
        os.unlink(str(top / "control" / name))
    os.rmdir(str(top / "control"))
    os.symlink(str(victim), str(top / "control"))
    fixed = run(host, capsys, [spec(host, subscribers_only=True)])
    assert not os.path.islink(str(top / "control")) and owner_mode(top / "control") == (0, 0, 0o755)
    assert sorted(os.listdir(str(top / "control"))) == sorted(ALL_FILES + ["subonlypost"])
    assert (top / "control" / "owner").read_text() == "o@x.test\n"
    assert contents(victim) == before and owner_mode(victim) == (NOBODY.pw_uid, NOBODY.pw_gid, 0o700)
    assert fixed["lists"]["news@x.test"]["repaired"] == ["control"]


def test_check_mode_reports_a_symlink_in_place_of_control_and_leaves_it(host, capsys):
    run(host, capsys, [spec(host, subscribers_only=True)])
    top = list_dir(host)
    victim = host / "victim"
    victim.mkdir()
    (victim / "relayhost").write_text("evil.example\n")
    os.rename(str(top / "control"), str(top / "control.old"))
    os.symlink(str(victim), str(top / "control"))
    checked = run(host, capsys, [spec(host, subscribers_only=True)], _ansible_check_mode=True, _ansible_diff=True)
    assert checked["lists"]["news@x.test"]["repaired"] == ["control"]
    assert checked["lists"]["news@x.test"]["control"] == ["listaddress", "owner", "delimiter", "customheaders",
                                                          "subonlypost"]
    assert checked["diff"][0]["before"].startswith("control/: (a symbolic link)\n")
    assert "relayhost" not in checked["diff"][0]["before"]
    assert os.path.islink(str(top / "control")) and os.listdir(str(victim)) == ["relayhost"]


def test_control_and_every_file_in_it_are_roots(host, capsys):
    run(host, capsys, [spec(host)])
    control = list_dir(host) / "control"
    give_to_nobody(control, *control.iterdir())
    os.chmod(str(control), 0o777)
    os.chmod(str(control / "owner"), 0o666)
    fixed = run(host, capsys, [spec(host)], _ansible_diff=True)
    assert owner_mode(control) == (0, 0, 0o755)
    assert dict((name, owner_mode(control / name)) for name in ALL_FILES) == dict.fromkeys(ALL_FILES, (0, 0, 0o644))
    assert fixed["lists"]["news@x.test"]["repaired"] == ["control"]
    assert sorted(fixed["lists"]["news@x.test"]["control"]) == ALL_FILES
    assert "control/: (a directory of %d:%d, mode 0777)\n" % (NOBODY.pw_uid, NOBODY.pw_gid) in fixed["diff"][0]["before"]
    assert not run(host, capsys, [spec(host)])["changed"]


def test_planted_directories_fifos_and_links_in_control_go_without_following_or_hanging(host, capsys):
    run(host, capsys, [spec(host, subscribers_only=True)])
    control = list_dir(host) / "control"
    victim = host / "victim"
    victim.mkdir()
    (victim / "keep").write_text("precious\n")
    (control / "deep" / "er").mkdir(parents=True)
    os.symlink(str(victim), str(control / "deep" / "er" / "link"))
    os.mkfifo(str(control / "fifo"))
    os.unlink(str(control / "subonlypost"))
    os.symlink(str(victim / "keep"), str(control / "subonlypost"))
    os.unlink(str(control / "owner"))
    (control / "owner").mkdir()
    fixed = run(host, capsys, [spec(host, subscribers_only=True)])
    assert sorted(os.listdir(str(control))) == sorted(ALL_FILES + ["subonlypost"])
    assert (control / "owner").read_text() == "o@x.test\n" and not os.path.islink(str(control / "subonlypost"))
    assert (victim / "keep").read_text() == "precious\n" and os.listdir(str(victim)) == ["keep"]
    assert fixed["lists"]["news@x.test"]["control"] == ["owner", "subonlypost", "deep", "fifo"]


def test_a_text_directory_swapped_for_a_link_is_copied_afresh(host, capsys):
    run(host, capsys, [spec(host)])
    top = list_dir(host)
    victim = host / "victim"
    victim.mkdir()
    (victim / "help").write_text("mallory's help\n")
    os.unlink(str(top / "text" / "help"))
    os.rmdir(str(top / "text"))
    os.symlink(str(victim), str(top / "text"))
    fixed = run(host, capsys, [spec(host)], _ansible_diff=True)
    assert owner_mode(top / "text") == (0, 0, 0o755) and (top / "text" / "help").read_text() == "help text\n"
    assert (victim / "help").read_text() == "mallory's help\n"
    assert fixed["lists"]["news@x.test"]["repaired"] == ["text"] and fixed["lists"]["news@x.test"]["control"] == []
    assert fixed["diff"][0]["before"].startswith("text/: (a symbolic link)\ncontrol/listaddress: ")
    assert fixed["diff"][0]["after"].startswith("control/listaddress: ")
    # A text/ of root keeps what root put there.
    (top / "text" / "footer").write_text("root's own text\n")
    assert not run(host, capsys, [spec(host)])["changed"] and (top / "text" / "footer").exists()


def test_the_state_file_of_subscribers_is_roots_alone(host, capsys):
    run(host, capsys, [spec(host)])
    state = host / "state" / "lists.json"
    assert owner_mode(state) == (0, 0, 0o600)
    text = state.read_text()
    os.chmod(str(state), 0o644)
    checked = run(host, capsys, [spec(host)], _ansible_check_mode=True, _ansible_diff=True)
    assert checked["changed"] and owner_mode(state) == (0, 0, 0o644)
    assert checked["diff"][-1]["before"] == "owner uid 0, mode 0644\n"
    assert run(host, capsys, [spec(host)])["changed"]
    assert owner_mode(state) == (0, 0, 0o600) and state.read_text() == text
    assert not run(host, capsys, [spec(host)])["changed"]


def test_a_tree_planted_in_control_deeper_than_fdtree_removes_fails_naming_the_list(host, capsys):
    run(host, capsys, [spec(host)])
    control = list_dir(host) / "control"
    deep = control / "deep"
    for _level in range(33):
        deep = deep / "d"
    deep.mkdir(parents=True)
    result = run(host, capsys, [spec(host)])
    assert result["failed"] and result["msg"] == ("list directory %s: d: directories nested more than 32 deep; "
                                                  "remove them by hand" % list_dir(host))
    assert deep.is_dir()


def test_control_files_are_written_through_the_directory_and_leave_no_temporary_file(host, capsys, monkeypatch):
    run(host, capsys, [spec(host)])
    control = list_dir(host) / "control"
    (control / "owner").write_text("mallory@x.test\n")
    opened = []
    real_open = os.open

    def record(path, flags, *args, **kwargs):
        opened.append((path, kwargs.get("dir_fd")))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", record)
    assert run(host, capsys, [spec(host)])["lists"]["news@x.test"]["control"] == ["owner"]
    monkeypatch.undo()
    temporaries = [(path, dir_fd) for path, dir_fd in opened if path.startswith(".owner.")]
    assert len(temporaries) == 1 and temporaries[0][1] is not None and "/" not in temporaries[0][0]
    assert sorted(os.listdir(str(control))) == ALL_FILES and (control / "owner").read_text() == "o@x.test\n"
    assert owner_mode(control / "owner") == (0, 0, 0o644)
