# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the ownership core of the postconf module (state file, removals, marker)."""
import json

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._postconf import (
    PostconfError,
    parse_master_services,
    plan_parameters,
    plan_services,
    postconf_commands,
    validate_request,
)
from ansible_collections.vhosting.postfix.plugins.module_utils._owner_state import (
    StateError,
    default_state_file,
    empty_state,
    owned_by,
    parse_pending,
    parse_state,
    pending_after,
    plan_ownership,
    previously_owned,
    removed_names,
    render_state,
    validate_ownership,
    with_removals,
)

PATH = "/var/lib/vhosting-postfix/postconf/etc_postfix.json"
AUTOREPLY = {"service": "autoreply", "type": "unix", "command": "pipe argv=/bin/cat"}
MASTER = ("smtp       inet  n       -       y       -       -       smtpd\n"
          "autoreply  unix  -       n       n       -       -       pipe argv=/bin/cat\n")


def request(parameters=None, absent=None, services=None):
    return validate_request(parameters, absent, None, services)


def state(parameters=None, services=None):
    return dict(empty_state("/etc/postfix"), parameters=dict(parameters or {}),
                services=dict(services or {}))


# --- paths and arguments ----------------------------------------------------

@pytest.mark.parametrize("config_dir,expected", [
    ("/etc/postfix", PATH),
    ("/etc/postfix/", PATH),
    ("/etc//postfix", PATH),
    ("/etc/postfix-out", "/var/lib/vhosting-postfix/postconf/etc_postfix-out.json"),
    ("/srv/mail/postfix", "/var/lib/vhosting-postfix/postconf/srv_mail_postfix.json"),
    ("/", "/var/lib/vhosting-postfix/postconf/root.json"),
])
def test_default_state_file_is_derived_from_config_dir(config_dir, expected):
    assert default_state_file(config_dir) == expected


def test_validate_ownership():
    assert validate_ownership(None, []) == (None, [])
    assert validate_ownership("", None) == (None, [])
    assert validate_ownership("relay", ["relayhost", "relayhost", "autoreply/unix"]) == (
        "relay", ["relayhost", "autoreply/unix"])


@pytest.mark.parametrize("owner,adopt,fragment", [
    (None, ["relayhost"], "adopt needs owner"),
    ("has space", [], "owner 'has space' is invalid"),
    ("-x", [], "owner '-x' is invalid"),
    ("a" * 65, [], "at most 64 characters"),
    ("relay", ["relay-host"], "adopt: 'relay-host' is neither"),
    ("relay", ["autoreply/tcp"], "adopt: 'autoreply/tcp' is neither"),
])
def test_validate_ownership_errors(owner, adopt, fragment):
    with pytest.raises(PostconfError) as err:
        validate_ownership(owner, adopt)
    assert fragment in str(err.value)


# --- the state file -------------------------------------------------------

def test_state_roundtrip_and_format():
    original = state({"myhostname": "server", "relayhost": "relay"}, {"autoreply/unix": "domains"})
    text = render_state(original)
    assert json.loads(text) == {
        "version": 1, "config_dir": "/etc/postfix",
        "parameters": {"myhostname": "server", "relayhost": "relay"},
        "services": {"autoreply/unix": "domains"}}
    assert text.endswith("}\n") and text == render_state(json.loads(text))
    assert parse_state(text, PATH, "/etc/postfix/") == original


@pytest.mark.parametrize("text,fragment", [
    ("", "not valid JSON"),
    ("{\"version\": 1,", "not valid JSON"),
    ("[]", "the JSON is not an object"),
    ('{"parameters": ["relayhost"]}', "it has no 'version' key"),
    ('{"version": 2, "config_dir": "/etc/postfix", "parameters": {}, "services": {}}',
     "version 2 is not supported"),
    ('{"version": true, "config_dir": "/etc/postfix", "parameters": {}, "services": {}}',
     "version True is not supported"),
    ('{"version": 1, "config_dir": "/etc/postfix", "parameters": {}}', "missing keys services"),
    ('{"version": 1, "config_dir": "/etc/postfix", "parameters": {}, "services": {}, "x": 1}',
     "unexpected keys x"),
    ('{"version": 1, "config_dir": "/etc/postfix-out", "parameters": {}, "services": {}}',
     "it records config_dir '/etc/postfix-out', not '/etc/postfix'"),
    ('{"version": 1, "config_dir": "/etc/postfix", "parameters": ["relayhost"], "services": {}}',
     "'parameters' must be an object parameter name -> owner"),
    ('{"version": 1, "config_dir": "/etc/postfix", "parameters": {"a b": "x"}, "services": {}}',
     "'a b' is not a valid parameter name"),
    ('{"version": 1, "config_dir": "/etc/postfix", "parameters": {"relayhost": 1}, "services": {}}',
     "the owner of parameter name 'relayhost' is invalid: 1"),
    ('{"version": 1, "config_dir": "/etc/postfix", "parameters": {}, "services": {"smtp": "x"}}',
     "'smtp' is not a valid service name/type"),
])
def test_corrupt_or_foreign_state_is_refused_naming_the_file(text, fragment):
    with pytest.raises(StateError) as err:
        parse_state(text, PATH, "/etc/postfix")
    message = str(err.value)
    assert message.startswith(PATH + " is not a usable state file of the vhosting.postfix.postconf module: ")
    assert fragment in message
    assert "Nothing was changed" in message and "move it away" in message


# --- ownership ------------------------------------------------------------

def test_first_run_records_what_the_owner_sets():
    plan = plan_ownership(empty_state("/etc/postfix"), "server",
                          request({"p1": "a", "p2": "b"}, services=[AUTOREPLY]))
    assert plan["stale_parameters"] == [] and plan["stale_services"] == []
    assert plan["state"]["parameters"] == {"p1": "server", "p2": "server"}
    assert plan["state"]["services"] == {"autoreply/unix": "server"}
    assert plan["owned"] == {"parameters": ["p1", "p2"], "services": ["autoreply/unix"]}


def test_what_the_owner_no_longer_sets_is_stale():
    old = state({"p1": "server", "p2": "server", "p3": "domains"}, {"autoreply/unix": "server"})
    plan = plan_ownership(old, "server", request({"p1": "a"}), existing_services=["autoreply/unix"])
    assert plan["stale_parameters"] == ["p2"]
    assert plan["stale_services"] == ["autoreply/unix"]
    assert plan["state"]["parameters"] == {"p1": "server", "p3": "domains"}
    assert plan["state"]["services"] == {}
    assert plan["owned"] == {"parameters": ["p1"], "services": []}
    assert old["parameters"]["p2"] == "server"  # the old state is not modified


def test_a_name_another_owner_set_later_is_not_removed():
    # A set p1 and p2; then B set p2, so the state records p2 for B.
    old = state({"p1": "a", "p2": "a"})
    after_b = plan_ownership(old, "b", request({"p2": "x"}))["state"]
    assert after_b["parameters"] == {"p1": "a", "p2": "b"}
    plan = plan_ownership(after_b, "a", request({}))
    assert plan["stale_parameters"] == ["p1"]
    assert plan["state"]["parameters"] == {"p2": "b"}


def test_a_name_set_now_is_reassigned_to_the_owner():
    plan = plan_ownership(state({"relayhost": "relay"}), "server", request({"relayhost": "[mx]"}))
    assert plan["state"]["parameters"] == {"relayhost": "server"}
    assert plan["owned"]["parameters"] == ["relayhost"]
    assert owned_by(plan["state"], "relay") == {"parameters": [], "services": []}


def test_adopt_takes_over_names_recorded_for_nobody():
    old = state({"transport_maps": "domains"})
    adopt = ["relay_domains", "relayhost", "transport_maps"]
    assert previously_owned(old, "relay", adopt) == ({"relay_domains", "relayhost"}, set())
    plan = plan_ownership(old, "relay", request({"relay_domains": "example.org"}), adopt)
    assert plan["stale_parameters"] == ["relayhost"]  # transport_maps belongs to domains
    assert plan["state"]["parameters"] == {"relay_domains": "relay", "transport_maps": "domains"}


def test_tuning_a_stock_service_does_not_take_it_over():
    smtp = {"service": "smtp", "type": "inet", "maxproc": 50}
    plan = plan_ownership(state(), "server", request(services=[smtp, AUTOREPLY]),
                          existing_services=["smtp/inet"])
    assert plan["state"]["services"] == {"autoreply/unix": "server"}
    adopted = plan_ownership(state(), "server", request(services=[smtp]), ["smtp/inet"],
                             existing_services=["smtp/inet"])
    assert adopted["state"]["services"] == {"smtp/inet": "server"}
    moved = plan_ownership(state(services={"autoreply/unix": "domains"}), "server",
                           request(services=[AUTOREPLY]), existing_services=["autoreply/unix"])
    assert moved["state"]["services"] == {"autoreply/unix": "server"}


def test_a_service_listed_absent_is_not_set_and_an_override_is_part_of_its_service():
    old = state(services={"autoreply/unix": "server", "relay2/unix": "server"})
    plan = plan_ownership(old, "server", request(services=[
        {"service": "autoreply", "type": "unix", "state": "absent"},
        {"service": "relay2", "type": "unix", "parameters": {"syslog_name": "x"}}]),
        existing_services=["autoreply/unix", "relay2/unix"])
    assert plan["stale_services"] == ["autoreply/unix"]
    assert plan["state"]["services"] == {"relay2/unix": "server"}


def test_removals_join_the_request_once():
    req = request({"p1": "a"}, absent=["p2"], services=[{"service": "autoreply", "type": "unix",
                                                         "state": "absent"}])
    merged = with_removals(req, ["p2", "p3"], ["autoreply/unix", "old/unix"])
    assert merged["absent"] == ["p2", "p3"]
    assert [(spec["key"], spec["state"]) for spec in merged["services"]] == [
        ("autoreply/unix", "absent"), ("old/unix", "absent")]
    assert req["absent"] == ["p2"]  # the original request is not modified
    current = parse_master_services(MASTER + "old        unix  -       -       n       -       -       pipe argv=/x\n")
    service_plan = plan_services(current, merged)
    param_plan = plan_parameters({"p1": "a", "p2": "b", "p3": "c"}, merged)
    assert postconf_commands(param_plan, service_plan) == [
        ["-MX", "autoreply/unix", "old/unix"], ["-X", "p2", "p3"]]
    assert param_plan["changes"][-1] == {"kind": "parameter", "name": "p3", "before": "c", "after": None}
    assert service_plan["changes"][1]["after"] is None


def test_removed_names_are_those_really_there():
    plan = {"stale_parameters": ["p2", "gone"], "stale_services": ["autoreply/unix", "old/unix"]}
    assert removed_names(plan, {"p2": "x"}, parse_master_services(MASTER)) == {
        "parameters": ["p2"], "services": ["autoreply/unix"]}


# --- the pending-reload marker -----------------------------------------------

def test_pending_marker_never_downgrades():
    assert pending_after(None, False) == "reload"
    assert pending_after(None, True) == "restart"
    assert pending_after("reload", True) == "restart"
    assert pending_after("restart", False) == "restart"
    assert parse_pending("restart\n") == "restart"
    assert parse_pending("reload") == "reload"
    assert parse_pending("") == "reload"  # a marker exists: at least a reload is pending
