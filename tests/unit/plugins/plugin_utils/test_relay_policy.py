# -*- coding: utf-8 -*-
"""The relay policy of the whole main.cf (_relay_policy), through host_model and directly."""
import pytest

from role_values import role_values

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _relay_policy
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model

MAILBOX = {"vhosting_domain__box_test": {"domain": "box.test", "class": "mailbox", "mailboxes": ["ann"]}}


def problems(**overrides):
    with pytest.raises(ModelError) as caught:
        host_model(role_values(**overrides), MAILBOX, hostname="mx")
    return caught.value.problems


def accepted(**overrides):
    return host_model(role_values(**overrides), MAILBOX, hostname="mx")


# The holes of issue 19 (each was accepted before): variable, value, what the message must say.
HOLES = [
    ({"vhosting_server__mynetworks": ["static:all"]},
     r"^vhosting_server__mynetworks: 'static:all' is a static: table, which can match every client"),
    ({"vhosting_server__mynetworks": ["static:all"], "vhosting_server__mynetworks_allow_wide": True},
     r"^vhosting_server__mynetworks: 'static:all' is a static: table"),
    ({"vhosting_server__parameters": {"relay_domains": "static:ALL"}},
     r"^vhosting_server__parameters: relay_domains element 'static:ALL' is a static: table"),
    ({"vhosting_server__parameters": {"relay_domains": "com"}},
     r"^vhosting_server__parameters: relay_domains element 'com' is not a domain name with at least two labels"),
    ({"vhosting_server__parameters": {"smtpd_authorized_xclient_hosts": "0.0.0.0/0"}},
     r"^vhosting_server__parameters: smtpd_authorized_xclient_hosts: '0.0.0.0/0' would trust every IPv4 address"),
    ({"vhosting_server__parameters": {"smtpd_authorized_xclient_hosts": "static:all"}},
     r"^vhosting_server__parameters: smtpd_authorized_xclient_hosts: 'static:all' is a static: table"),
    ({"vhosting_server__parameters": {
        "smtpd_relay_restrictions": "check_client_access static:OK, reject_unauth_destination",
        "smtpd_recipient_restrictions": "check_client_access static:OK, reject_unauth_destination"}},
     r"^vhosting_server__parameters: smtpd_relay_restrictions = .* would make this host an open relay.*"
     r"check_client_access static:OK \(static answers OK for every client\)"),
    ({"vhosting_server__parameters": {
        "smtpd_relay_restrictions": "permit_mynetworks, permit_mx_backup, reject_unauth_destination",
        "smtpd_recipient_restrictions": "permit_mx_backup, reject_unauth_destination"}},
     r"open relay.*permit_mx_backup \(permit_mx_backup may permit clients the collection cannot judge; list it in "
     r"vhosting_server__relay_trusted_restrictions"),
    ({"vhosting_server__parameters": {
        "smtpd_relay_restrictions": "check_sender_access inline:{boss@box.test=OK}, reject_unauth_destination",
        "smtpd_recipient_restrictions": "check_sender_access inline:{boss@box.test=OK}, reject_unauth_destination"}},
     r"open relay.*it answers OK for boss@box.test, which the client chooses itself \(the sender\)"),
    ({"vhosting_relay__sasl_restrictions": ["check_client_access static:OK"]},
     r"^vhosting.postfix.relay role \(vhosting_relay__\*\): smtpd_relay_restrictions = 'permit_mynetworks, "
     r"check_client_access static:OK, reject_unauth_destination'.* would make this host an open relay"),
    ({"vhosting_relay__sasl_restrictions": ["check_client_access cidr:/etc/postfix/trusted"]},
     r"check_client_access cidr:/etc/postfix/trusted \(the answers of cidr:/etc/postfix/trusted are not visible"),
    ({"vhosting_server__parameters": {"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_security_options": "noplaintext"}},
     r"^vhosting_server__parameters: smtpd_sasl_security_options without noanonymous"),
    ({"vhosting_server__relay_trusted_restrictions": ["check_client_access static:OK"]},
     r"^vhosting_server__relay_trusted_restrictions: 'check_client_access static:OK' permits every client; no "
     r"opt-in makes that safe"),
    ({"vhosting_server__relay_trusted_restrictions": ["permit"]},
     r"^vhosting_server__relay_trusted_restrictions: 'permit' permits every client"),
]


@pytest.mark.parametrize("overrides, message", HOLES)
def test_every_way_to_an_open_relay_is_refused_naming_the_parameter_and_the_element(overrides, message):
    found = problems(**overrides)
    assert any(__import__("re").search(message, p) for p in found), found


@pytest.mark.parametrize("overrides", [
    {},
    {"vhosting_relay__sasl_restrictions": ["permit_sasl_authenticated"]},
    {"vhosting_relay__sasl_restrictions": ["check_client_access cidr:/etc/postfix/trusted"],
     "vhosting_server__relay_trusted_restrictions": ["check_client_access cidr:/etc/postfix/trusted"]},
    {"vhosting_server__parameters": {"smtpd_relay_restrictions": "permit_mynetworks, permit_mx_backup, "
                                                                 "reject_unauth_destination"},
     "vhosting_server__relay_trusted_restrictions": ["permit_mx_backup"]},
    {"vhosting_server__parameters": {"smtpd_relay_restrictions": "check_client_access inline:{192.0.2.7=OK}, "
                                                                 "reject_unauth_destination"}},
    {"vhosting_server__parameters": {"smtpd_recipient_restrictions": "permit, reject"}},
    {"vhosting_server__parameters": {"relay_domains": "$mydestination, lmdb:/etc/postfix/relay_domains, other.test"}},
    {"vhosting_server__parameters": {"smtpd_authorized_xclient_hosts": "192.0.2.10"}},
    {"vhosting_server__mynetworks": ["cidr:/etc/postfix/trusted"], "vhosting_server__mynetworks_allow_wide": True},
    {"vhosting_server__mynetworks": ["inline:{192.0.2.0/24=x}"]},
])
def test_a_policy_that_refuses_strangers_passes(overrides):
    accepted(**overrides)


def test_a_restriction_after_the_refusal_is_not_judged():
    assert _relay_policy.list_verdict(["permit_mynetworks", "reject_unauth_destination", "permit"], set(), False) \
        == (True, [])


def test_a_permit_before_the_refusal_is_named():
    denies, opens = _relay_policy.list_verdict(["check_policy_service unix:private/policy", "permit"], set(), False)
    assert not denies
    assert opens[0].startswith("check_policy_service unix:private/policy (check_policy_service may permit")
    assert opens[1] == "permit (permit permits every client)"


def test_restrictions_with_a_table_stay_one_element():
    assert _relay_policy.words("permit_mynetworks, check_client_access static:OK reject_unauth_destination") == [
        "permit_mynetworks", "check_client_access static:OK", "reject_unauth_destination"]
