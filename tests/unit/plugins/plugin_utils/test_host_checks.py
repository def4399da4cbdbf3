# -*- coding: utf-8 -*-
"""The cross-role checks of _host_checks, through host_model (what the action runs) and directly."""
import pytest

from role_values import role_values

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _host_checks, _postfix_parameters
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model

MAILBOX = {"vhosting_domain__box_test": {"domain": "box.test", "class": "mailbox", "mailboxes": ["ann", "bob"]}}


def problems(definitions=None, **overrides):
    with pytest.raises(ModelError) as caught:
        host_model(role_values(**overrides), MAILBOX if definitions is None else definitions, hostname="mx")
    return caught.value.problems


def test_the_defaults_pass():
    assert host_model(role_values(), MAILBOX, hostname="mx")["domains"]["counts"]["mailboxes"] == 2


@pytest.mark.parametrize("name, value", [
    ("mynetworks", "0.0.0.0/0"), ("myhostname", "other.test"), ("mydestination", "x"),
    ("alias_maps", "hash:/etc/aliases"), ("recipient_delimiter", "-"), ("inet_interfaces", "all"),
])
def test_a_server_owned_parameter_is_refused_naming_its_variable(name, value):
    found = problems(vhosting_server__parameters={name: value})
    assert len(found) == 1 and found[0].startswith("vhosting_server__parameters: %s is set by the " % name)
    assert _host_checks.SERVER_OWNED[name] in found[0]


@pytest.mark.parametrize("given, open_relay", [
    ({"smtpd_relay_restrictions": "permit"}, True),
    ({"smtpd_relay_restrictions": "permit_mynetworks, permit"}, True),
    ({"smtpd_relay_restrictions": ["permit_mynetworks"]}, True),
    ({"smtpd_relay_restrictions": "permit", "smtpd_recipient_restrictions": "permit_mynetworks, reject"}, False),
    ({"smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"}, False),
    ({"smtpd_recipient_restrictions": "permit"}, False),  # the default relay list still defers
    ({"smtpd_relay_restrictions": "permit", "smtpd_recipient_restrictions": "permit, reject"}, True),
])
def test_restrictions_that_open_the_relay_are_refused(given, open_relay):
    values = role_values(vhosting_server__parameters=given)
    if open_relay:
        found = problems(**{"vhosting_server__parameters": given})
        assert len(found) == 1 and "would make this host an open relay" in found[0]
        assert "smtpd_relay_restrictions = " in found[0]
    else:
        host_model(values, MAILBOX, hostname="mx")


def test_a_misspelt_parameter_is_refused_with_the_closest_name():
    found = problems(vhosting_server__parameters={"delay_warning_tme": "4h"})
    assert found == ["vhosting_server__parameters: delay_warning_tme is not a Postfix parameter (Postfix 3.7/3.10 "
                     "postconf -d) (did you mean delay_warning_time?); a parameter of your own belongs in "
                     "vhosting_server__user_defined_parameters"]


def test_per_transport_and_user_defined_parameters_pass():
    host_model(role_values(vhosting_server__parameters={"smtp_destination_concurrency_limit": 5,
                                                        "relay2_destination_rate_delay": "1s", "my_own": "x"},
                           vhosting_server__user_defined_parameters=["my_own"]), MAILBOX, hostname="mx")
    assert _postfix_parameters.is_known("maillog_file") and _postfix_parameters.is_known("smtputf8_enable")
    assert not _postfix_parameters.is_known("my_own") and not _postfix_parameters.is_known("x_time_limitx")


@pytest.mark.parametrize("name, value", [
    ("vhosting_server__myhostname", "mx faults.test"), ("vhosting_server__mydomain", "-bad.test"),
    ("vhosting_server__myorigin", "$myhost"), ("vhosting_server__inet_protocols", "ipv5"),
    ("vhosting_server__inet_protocols", "all, ipv4"), ("vhosting_server__inet_interfaces", "loopback"),
    ("vhosting_server__inet_interfaces", "all, 127.0.0.1"), ("vhosting_server__map_types", ["pcer"]),
])
def test_names_protocols_interfaces_and_map_types_postfix_would_refuse(name, value):
    found = problems(**{name: value})
    assert any(p.startswith(name + ": ") and repr(value if isinstance(value, str) else value[0]) in p
               for p in found), found


@pytest.mark.parametrize("value", ["ipv4", "ipv4, ipv6", ["ipv6", "ipv4"], "all"])
def test_valid_protocols_pass(value):
    host_model(role_values(vhosting_server__inet_protocols=value,
                           vhosting_server__inet_interfaces=["127.0.0.1", "[::1]", "mx.example.test"]),
               MAILBOX, hostname="mx")


@pytest.mark.parametrize("base, where", [
    ("/etc", "inside /etc"), ("/etc/mail", "inside /etc"), ("/var/spool/postfix/x", "inside /var/spool/postfix"),
    ("/var/mail", "holds other things"), ("/home/", "holds other things"), ("//var//mail", "holds other things"),
])
def test_a_mailbox_base_of_the_system_or_another_spool_is_refused(base, where):
    found = problems(vhosting_domains__mailbox_base=base)
    assert any(p.startswith("vhosting_domains__mailbox_base: %r " % base) and where in p for p in found), found


@pytest.mark.parametrize("name, value", [
    ("vhosting_domains__vmail_user", "root"), ("vhosting_domains__vmail_user", "postfix"),
    ("vhosting_domains__vmail_group", "mail"), ("vhosting_domains__vmail_group", "root"),
    ("vhosting_domains__autoreply_user", "nobody"),
])
def test_the_vmail_and_autoreply_accounts_are_never_system_accounts(name, value):
    found = problems(**{name: value})
    assert any(p.startswith("%s: %r is a system " % (name, value)) for p in found), found


def test_the_vmail_gid_is_never_root_s_group():
    assert problems(vhosting_domains__vmail_gid=0) == ["vhosting_domains__vmail_gid: 0 is below the minimum 1"]


def test_domain_model_options_are_named_by_their_variable():
    assert problems(vhosting_domains__vmail_uid=50) == [
        "vhosting_domains__vmail_uid: uid 50 is below virtual_minimum_uid 100; Postfix's virtual(8) would refuse "
        "to deliver"]


@pytest.mark.parametrize("users, expect", [
    ([{"name": "postfix", "uid": 2000}], "user postfix: a system account"),
    (["vmail"], "user vmail: a system account"),
    (["vhosting-autoreply"], "user vhosting-autoreply: a system account"),
    ([{"name": "dave", "uid": 5000}], "user dave: uid 5000 is the vmail user's"),
    ([{"name": "dave", "uid": 999}], "user dave: uid 999 is in the system range"),
    ([{"name": "dave", "comment": "Dave: admin"}], "user dave: comment 'Dave: admin' contains ':'"),
])
def test_canonical_users_that_are_not_people_s_accounts_are_refused(users, expect):
    found = problems({"vhosting_domain__c": {"domain": "c.test", "class": "canonical", "users": users}})
    assert len(found) == 1 and found[0].startswith("vhosting_domain__c (domain c.test), ") and expect in found[0], found


@pytest.mark.parametrize("mailboxes, other, expect", [
    ({"ann": {"path": "n.test/box/"}, "bob": {"path": "n.test/box/"}}, None,
     "mailbox bob@n.test (path 'n.test/box/'): the same files as vhosting_domain__n (domain n.test), mailbox ann@n.test"),
    ({"ann": {"path": "n.test/ann/"}, "bob": {"path": "n.test/ann/new/"}}, None,
     "mailbox bob@n.test (path 'n.test/ann/new/'): inside the mailbox of vhosting_domain__n (domain n.test), "
     "mailbox ann@n.test"),
    ({"ann": {"path": "box.test/ann/"}}, MAILBOX, "the same files as vhosting_domain__box_test (domain box.test), "
     "mailbox ann@box.test"),
])
def test_mailboxes_that_share_or_nest_their_files_are_refused(mailboxes, other, expect):
    definitions = dict(other or {}, vhosting_domain__n={"domain": "n.test", "class": "mailbox", "mailboxes": mailboxes})
    found = problems(definitions)
    assert len(found) == 1 and expect in found[0], found


@pytest.mark.parametrize("name, value, expect", [
    ("vhosting_domains__mailbox_table", "/etc/postfix/main.cf", "is /etc/postfix/main.cf, not a lookup table"),
    ("vhosting_domains__alias_table", "/etc/aliases", "is /etc/aliases, not a lookup table"),
    ("vhosting_relay__recipient_table", "/etc/postfix/virtual", "is also vhosting_domains__alias_table"),
    ("vhosting_dovecot__sender_login_table", "/etc/postfix//vmailbox", "is also vhosting_domains__mailbox_table"),
    ("vhosting_relay__transport_table", "etc/transport", "must be an absolute file name"),
])
def test_table_files_of_postfix_the_system_or_another_role_are_refused(name, value, expect):
    found = problems(**{name: value})
    assert any(p.startswith("%s: %r " % (name, value)) and expect in p for p in found), found


def test_the_local_domain_must_be_in_mydestination_when_a_target_is_in_it():
    bare = dict(MAILBOX, vhosting_domain__a={"domain": "a.test", "class": "alias", "aliases": {"info": "carol"}})
    found = problems(bare, vhosting_domains__local_domain="example.org")
    assert found == ["vhosting_domains__local_domain: 'example.org' is not in mydestination (localhost, "
                     "localhost.example.test, mx.example.test); bare targets (carol@example.org) would leave the host"]
    host_model(role_values(vhosting_domains__local_domain="mx.example.test"), bare, hostname="mx")
    # No target in it (the role accounts go to postmaster@localhost): nothing to refuse.
    host_model(role_values(vhosting_domains__local_domain="example.org"), MAILBOX, hostname="mx")


def test_lookalike_variable_names_are_named_with_the_odd_letters():
    found = _host_checks.lookalike_names([u"vh\u043esting_domain__new_test", u"caf\u00e9", "vhosting_x"])
    assert found == [u"vh\u043esting_domain__new_test: looks like a vhosting.postfix variable but contains "
                     u"U+043E CYRILLIC SMALL LETTER O; no role reads it"]


def test_long_domain_lists_become_tables_and_short_ones_stay_inline():
    from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import DOMAIN_LIST_LIMIT  # noqa

    def definitions(count):
        return dict(("vhosting_domain__d%d" % i, {"domain": "d%d.test" % i, "class": "mailbox", "mailboxes": ["a"]})
                    for i in range(count))
    short = host_model(role_values(), definitions(DOMAIN_LIST_LIMIT), hostname="mx")
    assert short["domains_role"]["parameters"]["virtual_mailbox_domains"][0] == "d0.test"
    assert "/etc/postfix/vhosting_virtual_mailbox_domains" not in short["domains_role"]["tables"]
    long_ = host_model(role_values(), definitions(DOMAIN_LIST_LIMIT + 1), hostname="mx")
    part = long_["domains_role"]
    assert part["parameters"]["virtual_mailbox_domains"] == "lmdb:/etc/postfix/vhosting_virtual_mailbox_domains"
    assert part["tables"]["/etc/postfix/vhosting_virtual_mailbox_domains"] == "virtual_mailbox_domains_map"
    assert len(long_["maps"]["virtual_mailbox_domains_map"]) == DOMAIN_LIST_LIMIT + 1
    assert long_["maps"]["virtual_mailbox_domains_map"]["d7.test"] == "OK"
    # Below the limit again: the table's index files are stale.
    assert "/etc/postfix/vhosting_virtual_mailbox_domains.lmdb" in short["stale_index_files"]["domains"]
    assert "/etc/postfix/vhosting_virtual_mailbox_domains.lmdb" not in long_["stale_index_files"]["domains"]


def test_a_long_relay_domains_list_becomes_a_table():
    from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import DOMAIN_LIST_LIMIT  # noqa

    backup = [{"domain": "p%d.example" % i, "primary": "mx.partner.example", "recipients": ["info"]}
              for i in range(DOMAIN_LIST_LIMIT + 1)]
    model = host_model(role_values(vhosting_relay__backup_domains=backup), {}, hostname="mx")
    relay = model["relay"]
    assert relay["parameters"]["relay_domains"] == "lmdb:/etc/postfix/vhosting_relay_domains"
    assert relay["tables"]["/etc/postfix/vhosting_relay_domains"] == "relay_domains_map"
    # A data file like every large table of the model, not in the fact.
    assert model["maps"]["relay_domains_map"]["p0.example"] == "OK"
    assert "relay_domains_map" not in relay["model"]
    short = host_model(role_values(vhosting_relay__backup_domains=backup[:3]), {}, hostname="mx")["relay"]
    assert short["parameters"]["relay_domains"] == ["p0.example", "p1.example", "p2.example"]
