import pytest

from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay import (
    RelayError,
    check_nexthop,
    check_relayhost,
    check_restrictions,
    check_transport,
    expand_backup_for,
    queue_parameters,
    relay_model,
)

GROUPS = {
    "all": ["mx1", "mx2", "backup", "client"],
    "primaries": ["mx1", "mx2"],
    "mail": ["mx1", "mx2", "backup"],
    "empty": [],
    "ungrouped": ["client"],
}

MAILBOX = {
    "vhosting_domain__hosted": {
        "domain": "Hosted.Test",
        "class": "mailbox",
        "mailboxes": ["alice", "bob"],
        "aliases": {"info": "alice@hosted.test"},
    },
}
CATCHALL = {
    "vhosting_domain__any": {"domain": "any.test", "class": "alias", "aliases": {"x": "a@elsewhere.test"},
                             "catch_all": "a@elsewhere.test"},
}
CANONICAL = {
    "vhosting_domain__shared": {"domain": "shared.test", "class": "canonical", "users": ["carol"]},
}


def primary(host, definitions, nexthop=None, **options):
    return {"host": host, "nexthop": nexthop or "[%s]" % host, "definitions": definitions, "options": options}


# expand_backup_for


def test_groups_and_hosts_expand_in_order_without_duplicates_or_self():
    result = expand_backup_for(["mail", "mx1", {"name": "mx2", "nexthop": "[10.0.0.2]:25"}], GROUPS, "backup")
    assert result == [{"host": "mx1", "nexthop": None}, {"host": "mx2", "nexthop": "[10.0.0.2]:25"}]


def test_unknown_name_is_named():
    with pytest.raises(RelayError, match=r"vhosting_relay__backup_for\[1\]: 'mx9' is neither a host nor a group"):
        expand_backup_for(["mx1", "mx9"], GROUPS, "backup")


def test_empty_group_and_nexthop_for_a_group_are_refused():
    with pytest.raises(RelayError, match="group 'empty' has no hosts"):
        expand_backup_for(["empty"], GROUPS, "backup")
    with pytest.raises(RelayError, match="single host"):
        expand_backup_for([{"name": "primaries", "nexthop": "[x.test]"}], GROUPS, "backup")
    with pytest.raises(RelayError, match="unknown key"):
        expand_backup_for([{"name": "mx1", "via": "x"}], GROUPS, "backup")


def test_none_and_empty_mean_no_primaries():
    assert expand_backup_for(None, GROUPS) == []
    assert expand_backup_for([], GROUPS) == []
    with pytest.raises(RelayError, match="expected a list"):
        expand_backup_for("mx1", GROUPS)


# next hops and transports


@pytest.mark.parametrize("value,expected", [
    ("[MX1.Example.Org]", "[mx1.example.org]"),
    ("[mx1.example.org]:2525", "[mx1.example.org]:2525"),
    ("example.org", "example.org"),
    ("example.org:25", "example.org:25"),
    ("[192.0.2.1]", "[192.0.2.1]"),
    ("[ipv6:2001:db8::1]", "[ipv6:2001:db8::1]"),
    ("vh-relay-primary", "vh-relay-primary"),
])
def test_nexthops(value, expected):
    assert check_nexthop(value, "x") == expected


@pytest.mark.parametrize("value", ["", "[bad host]", "host:99999", "host:port", "a..b", "[x]:", "-x.test", None, 3])
def test_bad_nexthops(value):
    with pytest.raises(RelayError, match="^x: "):
        check_nexthop(value, "x")


def test_transport_values():
    assert check_transport("smtp:[MX.example.net]:25", "t") == "smtp:[mx.example.net]:25"
    assert check_transport("relay:", "t") == "relay:"
    assert check_transport(":[x.test]", "t") == ":[x.test]"
    assert check_transport("lmtp:unix:private/dovecot-lmtp", "t") == "lmtp:unix:private/dovecot-lmtp"
    for bad in ("smtp", "smtp:[a b]", "smtp:x,y", ":", "Bad Name:x"):
        with pytest.raises(RelayError, match="^t: "):
            check_transport(bad, "t")


# relay_model


def test_derived_domains_recipients_and_transport():
    model = relay_model([primary("mx1", MAILBOX, "[vh-mx1]")])
    assert model["relay_domains"] == ["hosted.test"]
    assert model["relay_recipients"] == {
        "abuse@hosted.test": "OK", "alice@hosted.test": "OK", "bob@hosted.test": "OK",
        "info@hosted.test": "OK", "postmaster@hosted.test": "OK",
    }
    assert model["transport_map"] == {"hosted.test": "relay:[vh-mx1]"}
    assert model["domains"]["hosted.test"]["source"] == "host mx1"


def test_primary_options_are_used_for_its_model():
    model = relay_model([primary("mx1", MAILBOX, role_accounts=["postmaster", "hostmaster"], vmail_uid=None)])
    assert "hostmaster@hosted.test" in model["relay_recipients"]
    assert "abuse@hosted.test" not in model["relay_recipients"]


def test_catch_all_domain_accepts_any_address():
    model = relay_model([primary("mx1", CATCHALL)])
    assert model["relay_recipients"] == {"@any.test": "OK"}


def test_canonical_domain_recipients_are_users_and_postmaster():
    model = relay_model([primary("mx1", CANONICAL)])
    assert model["relay_recipients"] == {"carol@shared.test": "OK", "postmaster@shared.test": "OK"}


def test_explicit_domains_add_and_replace():
    model = relay_model(
        [primary("mx1", dict(MAILBOX, **CANONICAL))],
        explicit=[
            {"domain": "Other.Test", "nexthop": "[mx.other.test]:2525", "recipients": ["Zed", "amy@other.test"]},
            {"domain": "shared.test", "primary": "mx1.shared.test", "recipients": ["carol", "root", "@shared.test"]},
        ],
    )
    assert model["relay_domains"] == ["hosted.test", "other.test", "shared.test"]
    assert model["transport_map"]["other.test"] == "relay:[mx.other.test]:2525"
    assert model["transport_map"]["shared.test"] == "relay:[mx1.shared.test]"
    assert model["relay_recipients"]["amy@other.test"] == "OK"
    assert model["relay_recipients"]["zed@other.test"] == "OK"
    assert model["relay_recipients"]["@shared.test"] == "OK"
    assert "carol@shared.test" not in model["relay_recipients"]
    assert model["domains"]["shared.test"]["source"] == "vhosting_relay__backup_domains[1]"


@pytest.mark.parametrize("entry,message", [
    ({"domain": "o.test", "recipients": ["a"]}, r"\[0\] \(domain o.test\): give exactly one of 'nexthop'"),
    ({"domain": "o.test", "nexthop": "[x]", "primary": "x", "recipients": ["a"]}, "exactly one"),
    ({"domain": "o.test", "primary": "x"}, "'recipients' must be a non-empty list"),
    ({"domain": "o.test", "primary": "x", "recipients": []}, "non-empty"),
    ({"domain": "o.test", "primary": "x", "recipients": ["a@else.test"]}, "'a@else.test' is not in the domain o.test"),
    ({"domain": "o.test", "primary": "x", "recipients": ["@else.test"]}, "not in the domain"),
    ({"domain": "o.test", "primary": "x", "recipients": ["a b"]}, "not a valid local part"),
    ({"domain": "o", "primary": "x", "recipients": ["a"]}, "not a valid domain name"),
    ({"domain": "o.test", "primary": "x y", "recipients": ["a"]}, "not a valid host name"),
    ({"domain": "o.test", "primary": "x", "recipients": ["a"], "typo": 1}, "unknown key.*typo"),
    ("o.test", "expected a dict"),
])
def test_bad_explicit_entries_are_named(entry, message):
    with pytest.raises(RelayError, match=message):
        relay_model([], explicit=[entry])


def test_duplicate_domains_are_refused():
    with pytest.raises(RelayError, match="primary mx2: domain hosted.test is also hosted on host mx1"):
        relay_model([primary("mx1", MAILBOX), primary("mx2", MAILBOX)])
    entry = {"domain": "o.test", "primary": "x", "recipients": ["a"]}
    with pytest.raises(RelayError, match=r"\[1\] \(domain o.test\): the domain is already listed.*\[0\]"):
        relay_model([], explicit=[entry, dict(entry, domain="O.test.")])


def test_invalid_primary_inventory_names_the_host():
    bad = {"vhosting_domain__x": {"domain": "x.test", "class": "nosuch"}}
    with pytest.raises(RelayError, match="vhosting_relay__backup_for: primary mx1: vhosting_domain__x"):
        relay_model([primary("mx1", bad)])
    with pytest.raises(RelayError, match="primary mx1: the host has no vhosting_domain__"):
        relay_model([primary("mx1", {})])
    with pytest.raises(RelayError, match=r"primary mx1 \(next hop\)"):
        relay_model([primary("mx1", MAILBOX, "[bad host]")])


def test_local_domain_cannot_be_relayed():
    with pytest.raises(RelayError, match="host mx1: domain hosted.test is hosted on this host itself"):
        relay_model([primary("mx1", MAILBOX)], local_domains=["HOSTED.test.", "$myhostname"])


def test_extra_transport_entries():
    model = relay_model([primary("mx1", MAILBOX)], transport={"External.Test": "smtp:[vh-internet]:25",
                                                              ".sub.test": "smtp:", "u@x.test": ":[y.test]"})
    assert model["transport_map"] == {
        ".sub.test": "smtp:", "external.test": "smtp:[vh-internet]:25",
        "hosted.test": "relay:[mx1]", "u@x.test": ":[y.test]",
    }
    with pytest.raises(RelayError, match=r"vhosting_relay__transport\['hosted.test'\]: hosted.test is a backup MX"):
        relay_model([primary("mx1", MAILBOX)], transport={"hosted.test": "smtp:[x]"})
    with pytest.raises(RelayError, match="listed twice"):
        relay_model([], transport={"a.test": "smtp:", "A.test": "smtp:"})
    with pytest.raises(RelayError, match="not a valid domain"):
        relay_model([], transport={"bad domain": "smtp:"})


def test_transport_name_is_checked():
    assert relay_model([primary("mx1", MAILBOX)], transport_name="backup")["transport_map"] == {
        "hosted.test": "backup:[mx1]"}
    with pytest.raises(RelayError, match="vhosting_relay__transport_name"):
        relay_model([], transport_name="a b")


def test_nothing_configured_is_empty():
    assert relay_model([]) == {"relay_domains": [], "relay_recipients": {}, "transport_map": {}, "domains": {}}


# relayhost, restrictions, queue


def test_relayhost():
    assert check_relayhost("") == ""
    assert check_relayhost(None) == ""
    assert check_relayhost("[Smtp.Example.Net]:587") == "[smtp.example.net]:587"
    with pytest.raises(RelayError, match="vhosting_relay__relayhost"):
        check_relayhost("smtp example")
    with pytest.raises(RelayError, match="vhosting_relay__relayhost"):
        check_relayhost(["x"])


def test_restrictions():
    assert check_restrictions(["permit_sasl_authenticated", "check_sasl_access  lmdb:/etc/postfix/sa"], "r") == [
        "permit_sasl_authenticated", "check_sasl_access lmdb:/etc/postfix/sa"]
    assert check_restrictions(None, "r") == []
    for bad in (["permit"], ["PERMIT"], ["a, b"], [""], "permit_sasl_authenticated", [1]):
        with pytest.raises(RelayError, match="^r: "):
            check_restrictions(bad, "r")


def test_queue_parameters():
    values = {"maximal_queue_lifetime": "10d", "bounce_queue_lifetime": "5D", "minimal_backoff_time": 300,
              "maximal_backoff_time": "30m", "queue_run_delay": "300s"}
    assert queue_parameters(values) == {"maximal_queue_lifetime": "10d", "bounce_queue_lifetime": "5d",
                                        "minimal_backoff_time": "300", "maximal_backoff_time": "30m",
                                        "queue_run_delay": "300s"}
    with pytest.raises(RelayError, match="vhosting_relay__minimal_backoff_time \\(2h\\) is longer"):
        queue_parameters(dict(values, minimal_backoff_time="2h"))
    with pytest.raises(RelayError, match="vhosting_relay__bounce_queue_lifetime"):
        queue_parameters(dict(values, bounce_queue_lifetime="11d"))
    with pytest.raises(RelayError, match="vhosting_relay__queue_run_delay: '5 min'"):
        queue_parameters(dict(values, queue_run_delay="5 min"))
    with pytest.raises(RelayError, match="hold mail"):
        queue_parameters(dict(values, maximal_queue_lifetime="0", bounce_queue_lifetime="0"))
    with pytest.raises(RelayError, match="unknown"):
        queue_parameters({"typo_time": "1s"})
