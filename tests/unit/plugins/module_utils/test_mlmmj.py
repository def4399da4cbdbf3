# -*- coding: utf-8 -*-
"""The decisions of the mlmmj_lists module: control files and subscribers."""
import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._mlmmj import (
    MlmmjError,
    check_list,
    control_changes,
    control_files,
    parse_state,
    parse_subscribers,
    plan_subscribers,
    render_state,
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


def test_only_differing_control_files_change_and_switched_off_policies_go():
    wanted = control_files(SPEC)
    current = dict(wanted, owner="old@x.test\n", subonlypost="")
    assert control_changes(wanted, current) == [("owner", "o@x.test\n"), ("subonlypost", None)]
    assert control_changes(wanted, dict(wanted)) == []


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
