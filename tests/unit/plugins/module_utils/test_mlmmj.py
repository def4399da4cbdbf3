# -*- coding: utf-8 -*-
"""The decisions of the mlmmj_lists module: control files and subscribers."""
import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._mlmmj import (
    MlmmjError,
    check_list,
    control_changes,
    control_files,
    describe_control,
    describe_dir,
    dir_action,
    entry_text,
    parse_state,
    parse_subscribers,
    plan_subscribers,
    render_state,
    trusted_dir,
)

SPEC = {"address": "news@x.test", "dir": "/var/spool/mlmmj/news@x.test", "owners": ["o@x.test"],
        "subscribers": ["a@x.test"], "moderators": [], "subscribers_only": False, "moderated": False,
        "closed": False, "delimiter": "+", "headers": ["List-Id: <news.x.test>"]}


def test_control_files_of_an_open_list():
    assert control_files(SPEC) == {
        "listaddress": "news@x.test\n", "owner": "o@x.test\n", "delimiter": "+\n",
        "customheaders": "List-Id: <news.x.test>\n", "subonlypost": None, "moderated": None, "moderators": None,
        "closedlistsub": None}


def test_policy_switches_are_files_and_moderators_default_to_the_owners():
    files = control_files(dict(SPEC, subscribers_only=True, moderated=True, closed=True))
    assert (files["subonlypost"], files["moderated"], files["closedlistsub"]) == ("", "", "")
    assert files["moderators"] == "o@x.test\n"
    assert control_files(dict(SPEC, moderated=True, moderators=["m@x.test", "n@x.test"]))["moderators"] == \
        "m@x.test\nn@x.test\n"


def root_file(content, **change):
    entry = {"type": "file", "uid": 0, "gid": 0, "mode": 0o644, "nlink": 1, "content": content}
    entry.update(change)
    return entry


def on_disk(files):
    return dict((name, root_file(content)) for name, content in files.items() if content is not None)


def test_only_differing_control_files_change_and_switched_off_policies_go():
    wanted = control_files(SPEC)
    found = on_disk(dict(wanted, owner="old@x.test\n", subonlypost=""))
    assert control_changes(wanted, found) == [("owner", "o@x.test\n"), ("subonlypost", None)]
    assert control_changes(wanted, on_disk(wanted)) == []


def test_control_holds_the_inventorys_files_and_nothing_else():
    wanted = control_files(dict(SPEC, subscribers_only=True))
    found = on_disk(wanted)
    del found["subonlypost"]
    found["relayhost"] = root_file("evil.example\n")
    found["smtphelo"] = root_file("x\n", uid=65534)
    found[".owner.vhtmp"] = root_file("")
    found["sub"] = {"type": "directory", "uid": 65534, "gid": 65534, "mode": 0o755, "nlink": 2, "content": None}
    assert control_changes(wanted, found) == [("subonlypost", ""), (".owner.vhtmp", None), ("relayhost", None),
                                              ("smtphelo", None), ("sub", None)]


@pytest.mark.parametrize("change", [
    {"uid": 65534}, {"gid": 65534}, {"mode": 0o666}, {"mode": 0o600}, {"nlink": 2},
    {"type": "symbolic link", "content": None}, {"type": "FIFO", "content": None}, {"content": None},
], ids=["owner", "group", "world-writable", "private", "hard-linked", "symlink", "fifo", "too-large"])
def test_a_control_file_with_the_right_content_but_not_roots_alone_is_rewritten(change):
    wanted = control_files(SPEC)
    found = on_disk(wanted)
    found["owner"] = dict(root_file("o@x.test\n"), **change)
    assert control_changes(wanted, found) == [("owner", "o@x.test\n")]


@pytest.mark.parametrize("entry, action", [
    (None, "create"),
    ({"type": "symbolic link", "uid": 0, "gid": 0, "mode": 0o777}, "replace"),
    ({"type": "file", "uid": 0, "gid": 0, "mode": 0o755}, "replace"),
    ({"type": "directory", "uid": 65534, "gid": 65534, "mode": 0o755}, "take over"),
    ({"type": "directory", "uid": 0, "gid": 65534, "mode": 0o755}, "take over"),
    ({"type": "directory", "uid": 0, "gid": 0, "mode": 0o777}, "take over"),
    ({"type": "directory", "uid": 0, "gid": 0, "mode": 0o755}, None),
])
def test_what_a_directory_of_root_needs(entry, action):
    assert dir_action(entry) == action


def test_only_roots_unwritable_directories_are_trusted():
    assert trusted_dir({"type": "directory", "uid": 0, "gid": 0, "mode": 0o750})
    assert not trusted_dir({"type": "directory", "uid": 0, "gid": 0, "mode": 0o775})
    assert not trusted_dir({"type": "directory", "uid": 65534, "gid": 0, "mode": 0o755})
    assert not trusted_dir({"type": "symbolic link", "uid": 0, "gid": 0, "mode": 0o777})
    assert not trusted_dir(None)


def test_the_diff_says_what_is_wrong_with_an_entry():
    assert entry_text(root_file("o@x.test\n")) == "o@x.test\n"
    assert entry_text(root_file("o@x.test\n", uid=65534)) == "o@x.test\n(owner 65534:0, mode 0644, 1 links)\n"
    assert entry_text(root_file(None)) == "(a file too large to be a control file)\n"
    assert entry_text({"type": "symbolic link"}) == "(a symbolic link)\n"
    assert describe_dir("control", {"type": "directory", "uid": 0, "gid": 0, "mode": 0o755}) == ""
    assert describe_dir("control", {"type": "symbolic link"}) == "control/: (a symbolic link)\n"
    assert describe_dir("control", {"type": "directory", "uid": 65534, "gid": 65534, "mode": 0o700}) == \
        "control/: (a directory of 65534:65534, mode 0700)\n"
    text = describe_control({"relayhost": "evil\n", "owner": "o@x.test\n", "gone": None})
    assert text.splitlines()[1] == "control/owner: o@x.test\\n"
    assert text.splitlines()[-1] == "control/relayhost: evil\\n" and "gone" not in text


def test_subscribers_the_inventory_added_and_dropped_leave_self_subscribed_ones_stay():
    current = ["a@x.test", "self@x.test", "dropped@x.test"]
    add, remove = plan_subscribers(current, ["a@x.test", "New@x.test"], earlier=["a@x.test", "dropped@x.test"])
    assert add == ["new@x.test"] and remove == ["dropped@x.test"]


def test_a_dropped_subscriber_who_already_left_is_not_unsubscribed_again():
    assert plan_subscribers(["a@x.test"], ["a@x.test"], earlier=["gone@x.test"]) == ([], [])


def test_mlmmj_list_output_is_parsed_case_insensitively():
    assert parse_subscribers("B@x.test\nChanging to uid 65534\na@x.test\n\n") == ["a@x.test", "b@x.test"]


@pytest.mark.parametrize("change, message", [
    ({"owners": []}, "owners is empty"),
    ({"subscribers": ["not an address"]}, "'not an address' is not an address"),
    ({"dir": "relative"}, "must be an absolute path"),
    ({"delimiter": "-"}, "one character other than '-'"),
    ({"headers": ["X-Bad"]}, "must be 'Name: value'"),
    ({"extra": 1}, "unknown key(s) extra"),
])
def test_bad_lists_are_refused(change, message):
    with pytest.raises(MlmmjError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_list(dict(SPEC, **change))


def test_state_round_trip_and_bad_state():
    text = render_state({"news@x.test": ["b@x.test", "a@x.test"]})
    assert parse_state(text, "f") == {"news@x.test": ["a@x.test", "b@x.test"]}
    assert parse_state(None, "f") == {}
    with pytest.raises(MlmmjError, match="f is not valid JSON"):
        parse_state("{", "f")
    with pytest.raises(MlmmjError, match="not a version 1 state file"):
        parse_state('{"version": 2, "lists": {}}', "f")
