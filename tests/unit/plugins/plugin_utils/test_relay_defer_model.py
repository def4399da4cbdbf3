"""The defer table of a backup MX for canonical domains: in the model exactly when a primary has canonical domains."""
import pytest

from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import (
    ModelError,
    host_model,
)
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay_part import relay_parameters
from role_values import role_values as values

DEFER = "check_recipient_access lmdb:/etc/postfix/vhosting_relay_defer"
CANONICAL = {"vhosting_domain__c": {"domain": "canon.test", "class": "canonical", "users": ["carl"]}}
MAILBOX = {"vhosting_domain__m": {"domain": "box.test", "class": "mailbox", "mailboxes": ["bob"]}}


def primaries(*definitions):
    merged = {}
    for item in definitions:
        merged.update(item)
    return [{"host": "mx1", "nexthop": "[mx1]", "options": None, "definitions": merged}]


def relay_of(definitions, **overrides):
    return host_model(values(vhosting_relay__backup_for=["mx1"], **overrides), {}, primaries(*definitions),
                      "backup")


def test_a_backup_for_canonical_domains_names_the_defer_table_after_reject_unauth_destination():
    model = relay_of([CANONICAL, MAILBOX])
    relay = model["relay"]
    restrictions = relay["parameters"]["smtpd_recipient_restrictions"]
    assert restrictions == ["permit_mynetworks", "reject_unauth_destination", DEFER]
    assert relay["parameters"]["smtpd_relay_restrictions"] == ["permit_mynetworks", "reject_unauth_destination"]
    assert relay["tables"]["/etc/postfix/vhosting_relay_defer"] == "relay_defer"
    assert relay["canonical"] == {"mx1": ["canon.test"]}
    assert not [p for p in model["stale_index_files"]["relay"] if p == "/etc/postfix/vhosting_relay_defer.lmdb"]
    assert "/etc/postfix/vhosting_relay_defer.cdb" in model["stale_index_files"]["relay"]


def test_the_defer_table_comes_before_the_extra_recipient_restrictions():
    restrictions = relay_of([CANONICAL], vhosting_relay__sasl_restrictions=["permit_sasl_authenticated"],
                            vhosting_relay__recipient_restrictions=["reject_unknown_sender_domain"])[
                                "relay"]["parameters"]["smtpd_recipient_restrictions"]
    assert restrictions == ["permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination", DEFER,
                            "reject_unknown_sender_domain"]


def test_the_defer_table_has_the_relay_table_type_and_path():
    relay = relay_of([CANONICAL], vhosting_relay__table_type="cdb",
                     vhosting_relay__defer_table="/etc/postfix/relay/defer")["relay"]
    restrictions = relay["parameters"]["smtpd_recipient_restrictions"]
    assert restrictions[-1] == "check_recipient_access cdb:/etc/postfix/relay/defer"
    assert relay["tables"]["/etc/postfix/relay/defer"] == "relay_defer"


def test_no_defer_table_without_canonical_domains_and_its_index_files_are_stale():
    model = relay_of([MAILBOX])
    relay = model["relay"]
    assert relay["parameters"]["smtpd_recipient_restrictions"] == ["permit_mynetworks", "reject_unauth_destination"]
    assert "relay_defer" not in relay["tables"].values()
    stale = model["stale_index_files"]["relay"]
    for suffix in (".lmdb", ".db", ".cdb"):
        assert "/etc/postfix/vhosting_relay_defer" + suffix in stale


def test_no_defer_table_when_the_role_leaves_the_restrictions_alone():
    relay = relay_of([CANONICAL], vhosting_relay__manage_restrictions="never")["relay"]
    assert "smtpd_recipient_restrictions" not in relay["parameters"]
    assert "relay_defer" not in relay["tables"].values()


def test_an_explicit_domain_replacing_the_canonical_one_needs_no_defer_table():
    explicit = [{"domain": "canon.test", "primary": "mx1.example.test", "recipients": ["carl"]}]
    relay = relay_of([CANONICAL, MAILBOX], vhosting_relay__backup_domains=explicit)["relay"]
    assert relay["canonical"] == {}
    assert DEFER not in relay["parameters"]["smtpd_recipient_restrictions"]
    assert "relay_defer" not in relay["tables"].values()


def test_no_relay_configuration_no_defer_table():
    model = host_model(values(), {})
    assert model["relay"]["parameters"] == {}
    assert "/etc/postfix/vhosting_relay_defer.lmdb" in model["stale_index_files"]["relay"]


def test_relay_parameters_add_the_defer_table_only_for_canonical_domains():
    canonical = {"relay_domains": ["c.test"], "transport_map": {"c.test": "relay:[mx1]"},
                 "domains": {"c.test": {"source": "host mx1", "canonical": True}}}
    params = relay_parameters(canonical, values(), "", [], ["reject_unknown_sender_domain"], {})
    assert params["smtpd_recipient_restrictions"] == ["permit_mynetworks", "reject_unauth_destination", DEFER,
                                                      "reject_unknown_sender_domain"]
    plain = dict(canonical, domains={"c.test": {"source": "host mx1", "canonical": False}})
    assert DEFER not in relay_parameters(plain, values(), "", [], [], {})["smtpd_recipient_restrictions"]


def test_the_defer_table_is_a_file_of_its_own():
    with pytest.raises(ModelError) as info:
        relay_of([CANONICAL], vhosting_relay__defer_table="/etc/postfix/relay_recipients")
    assert any(p.startswith("vhosting_relay__defer_table: '/etc/postfix/relay_recipients' is also "
                            "vhosting_relay__recipient_table") for p in info.value.problems), info.value.problems
    with pytest.raises(ModelError) as info:
        relay_of([CANONICAL], vhosting_relay__defer_table="defer")
    assert "vhosting_relay__defer_table: 'defer' must be an absolute file name" in info.value.problems
