# -*- coding: utf-8 -*-
"""Mailing lists and autoreplies in the hosted-domain model and the host model (issue 10)."""
import datetime

import pytest

from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import DomainModelError, domain_model
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model
from role_values import role_values

OPTS = {"mydomain": "example.test", "myhostname": "mx.example.test", "mydestination": ["$myhostname", "localhost"]}


def lists_domain(**lists):
    return {"vhosting_domain__lists": {"domain": "lists.test", "class": "alias", "aliases": {"info": "root"},
                                       "lists": lists}}


def box(autoreply=None, **extra):
    settings = {"autoreply": autoreply} if autoreply is not None else None
    spec = {"domain": "box.test", "class": "mailbox", "mailboxes": {"alice": settings, "bob": None}}
    spec.update(extra)
    return {"vhosting_domain__box": spec}


def problems(definitions, options=None):
    with pytest.raises(DomainModelError) as info:
        domain_model(definitions, dict(OPTS, **(options or {})))
    return info.value.problems


AWAY = {"subject": "Away", "body": "Back on Monday."}

# ------------------------------------------------------------------- lists


def test_a_list_is_aliased_to_its_local_alias_with_its_command_addresses():
    model = domain_model(lists_domain(news={"owners": ["Owner@Example.Test"], "subscribers": ["b@x.test", "A@x.test"]}),
                         OPTS)
    alias = model["virtual_alias_map"]
    assert alias["news@lists.test"] == ["mlmmj_lists.test_news@localhost"]
    for command in ("subscribe", "unsubscribe", "owner", "help"):
        assert alias["news+%s@lists.test" % command] == ["mlmmj_lists.test_news+%s@localhost" % command]
    (news,) = model["lists"]
    assert news["owners"] == ["owner@example.test"] and news["subscribers"] == ["a@x.test", "b@x.test"]
    assert (news["subscribers_only"], news["moderated"], news["closed"]) == (False, False, False)
    assert "List-Id: <news.lists.test>" in news["headers"] and "Precedence: list" in news["headers"]
    assert "news@lists.test" in model["recipients"]["lists.test"]


def test_list_policy_switches_and_moderators_default_to_the_owners():
    model = domain_model(lists_domain(team={"owners": ["o@x.test"], "moderated": True, "subscribers_only": True,
                                            "closed": True}), OPTS)
    (team,) = model["lists"]
    assert team["moderators"] == ["o@x.test"] and team["subscribers_only"] and team["closed"]


def test_lists_live_in_mailbox_domains_too_but_not_in_forwarding_or_canonical_ones():
    model = domain_model(box(lists={"news": {"owners": ["alice@box.test"]}}), OPTS)
    assert model["lists"][0]["address"] == "news@box.test"
    fwd = {"vhosting_domain__f": {"domain": "f.test", "class": "forwarding", "lists": {"n": {"owners": ["a@x.test"]}}}}
    assert "unknown key(s) lists (a key of classes alias, mailbox) for class forwarding" in problems(fwd)[0]


@pytest.mark.parametrize("settings, message", [
    ({}, "list news@lists.test: owners must name at least one address"),
    ({"owners": ["not an address"]}, "is not a valid e-mail address"),
    ({"owners": ["a@x.test"], "subscribers": ["b@x.test", "B@X.test"]}, "b@x.test is given twice"),
    ({"owners": ["a@x.test"], "moderators": ["m@x.test"]}, "moderators are only used with moderated: true"),
    ({"owners": ["a@x.test"], "closed": "yes"}, "closed must be true or false, got 'yes'"),
    ({"owners": ["a@x.test"], "subscriber": []}, "unknown key(s) subscriber"),
    ("owner@x.test", "settings must be a dict"),
])
def test_bad_list_settings_are_refused_naming_variable_domain_and_list(settings, message):
    found = problems(lists_domain(news=settings))
    assert len(found) == 1 and found[0].startswith("vhosting_domain__lists (domain lists.test), list ")
    assert message in found[0]


def test_every_bad_list_is_reported_at_once():
    found = problems(lists_domain(a={}, b={"owners": ["x"]}))
    assert len(found) == 2


def test_a_list_address_that_is_also_an_alias_is_refused():
    spec = lists_domain(info={"owners": ["a@x.test"]})
    assert "info@lists.test is both a list address and an alias" in problems(spec)[0]
    spec = box(lists={"alice": {"owners": ["a@x.test"]}})
    assert "alice@box.test is both a list address and a mailbox" in problems(spec)[0]


def test_lists_need_a_delimiter_and_names_without_it():
    assert "needs a recipient delimiter other than '-'" in problems(lists_domain(n={"owners": ["a@x.test"]}),
                                                                    {"recipient_delimiter": ""})[0]
    dashed_name = lists_domain(**{"a-b": {"owners": ["a@x.test"]}})
    assert "must not contain the recipient delimiter '-'" in problems(dashed_name, {"recipient_delimiter": "+-"})[0]
    dashed = {"vhosting_domain__d": {"domain": "my-lists.test", "class": "alias", "lists": {"n": {"owners": ["a@x.test"]}}}}
    assert "'-'" in problems(dashed, {"recipient_delimiter": "+-"})[0]
    assert domain_model(dashed, OPTS)["lists"][0]["alias"] == "mlmmj_my-lists.test_n"


# --------------------------------------------------------------- autoreplies

def test_an_autoreply_keeps_the_mail_and_sends_a_copy_to_the_autoreply_domain():
    spec = box(AWAY, aliases={"sales": "alice@box.test"})
    model = domain_model(spec, OPTS)
    assert model["virtual_alias_map"]["alice@box.test"] == ["alice@box.test", "alice@box.test@autoreply.example.test"]
    assert "bob@box.test" not in model["virtual_alias_map"]
    assert model["autoreply_domain"] == "autoreply.example.test"
    assert model["autoreplies"] == {"alice@box.test": {
        "subject": "Away", "body": "Back on Monday.\n", "days": 7, "from": None, "until": None,
        "addresses": ["alice@box.test", "sales@box.test"]}}
    assert model["virtual_mailbox_map"]["alice@box.test"] == "box.test/alice/"


def test_an_autoreply_beside_a_catch_all_keeps_the_mailbox_mapped_to_itself():
    model = domain_model(box(AWAY, catch_all="bob@box.test"), OPTS)
    assert model["virtual_alias_map"]["alice@box.test"] == ["alice@box.test", "alice@box.test@autoreply.example.test"]
    assert model["virtual_alias_map"]["bob@box.test"] == ["bob@box.test"]


def test_dates_and_days():
    got = domain_model(box(dict(AWAY, days=1, **{"from": datetime.date(2026, 12, 1), "until": "2026-12-24"})),
                       OPTS)["autoreplies"]["alice@box.test"]
    assert (got["days"], got["from"], got["until"]) == (1, "2026-12-01", "2026-12-24")


@pytest.mark.parametrize("autoreply, message", [
    ({"body": "x"}, "autoreply subject must be a non-empty text on one line"),
    ({"subject": "a\nb", "body": "x"}, "on one line"),
    ({"subject": "s"}, "autoreply body must be a non-empty text"),
    (dict(AWAY, days=0), "autoreply days must be a whole number from 1 to 365"),
    (dict(AWAY, days=True), "got True"),
    (dict(AWAY, **{"from": "1.12.2026"}), "autoreply from '1.12.2026' is not a date YYYY-MM-DD"),
    (dict(AWAY, **{"from": "2026-12-02", "until": "2026-12-01"}), "until 2026-12-01 is before from 2026-12-02"),
    (dict(AWAY, reply_to="x"), "autoreply: unknown key(s) reply_to"),
    ("away", "autoreply must be a dict"),
])
def test_bad_autoreplies_are_refused_naming_the_mailbox(autoreply, message):
    found = problems(box(autoreply))
    assert len(found) == 1 and found[0].startswith("vhosting_domain__box (domain box.test), mailbox alice@box.test: ")
    assert message in found[0]


def test_the_autoreply_domain_in_mydestination_is_refused_with_the_howtos_reason():
    found = problems(box(AWAY), {"autoreply_domain": "mx.example.test"})
    assert found == ["vhosting_domains__autoreply_domain: mx.example.test is in mydestination; the howto says 'DO NOT "
                     "list autoreply.mydomain.tld in mydestination!': a local or hosted domain is a final destination "
                     "that accepts mail from anyone, so anyone could make this host send autoreplies to arbitrary "
                     "addresses; its mail must only come from the virtual alias copies"]
    found = problems(box(AWAY), {"mydestination": ["$myhostname", "autoreply.$mydomain"]})
    assert "autoreply.example.test is in mydestination" in found[0]


def test_a_hosted_autoreply_domain_is_refused():
    spec = dict(box(AWAY), vhosting_domain__ar={"domain": "autoreply.example.test", "class": "alias"})
    found = problems(spec)
    assert "autoreply.example.test is a hosted alias domain (vhosting_domain__ar); the howto says" in found[0]


def test_the_autoreply_domain_matters_only_when_there_are_autoreplies():
    spec = dict(box(), vhosting_domain__ar={"domain": "autoreply.example.test", "class": "alias"})
    assert domain_model(spec, OPTS)["autoreply_domain"] is None


def test_autoreply_domain_option():
    model = domain_model(box(AWAY), dict(OPTS, autoreply_domain="Vacation.Example.NET"))
    assert model["autoreply_domain"] == "vacation.example.net"
    assert "need an autoreply domain" in problems(box(AWAY), {"mydomain": ""})[0]


# ------------------------------------------------------------------ host model

def values(**overrides):
    return role_values(**overrides)


def test_the_domains_role_writes_the_lists_aliases_and_package():
    defs = dict(lists_domain(news={"owners": ["o@x.test"], "subscribers": ["s@x.test"]}))
    part = host_model(values(), defs)["domains_role"]
    assert part["aliases_entries"] == {
        "mlmmj_lists.test_news": '"|/usr/bin/mlmmj-receive -L /var/spool/vhosting-postfix/lists/news@lists.test/"'}
    assert part["aliases_type"] == "lmdb" and part["packages"] == ["mlmmj"] and part["lists_user"] == "nobody"
    (news,) = part["lists"]
    assert news["dir"] == "/var/spool/vhosting-postfix/lists/news@lists.test" and news["subscribers"] == ["s@x.test"]
    assert part["services"] == [] and part["autoreply"] is None


def test_the_probe_reads_mlmmj_its_timer_and_the_autoreply_account_only_when_they_are_used():
    with_lists = host_model(values(), lists_domain(news={"owners": ["o@x.test"]}))["probe"]
    assert "mlmmj" in with_lists["packages"]
    assert set(["postfix.service", "vhosting-mlmmj-maintd.timer"]) <= set(with_lists["units"])
    without = host_model(values(), box())["probe"]
    assert "mlmmj" not in without["packages"] and "vhosting-mlmmj-maintd.timer" not in without["units"]
    # The timer's unit files are always looked for: a timer left by earlier lists is stopped and removed.
    assert "/etc/systemd/system/vhosting-mlmmj-maintd.timer" in without["paths"]
    assert without["users"] == ["vmail"] and without["groups"] == ["vmail"]
    away = host_model(values(), box(AWAY))
    user = away["domains_role"]["autoreply"]["user"]
    assert user in away["probe"]["users"] and user in away["probe"]["groups"]


def test_lists_run_as_postfixs_default_privs():
    defs = lists_domain(news={"owners": ["o@x.test"]})
    part = host_model(values(vhosting_server__parameters={"default_privs": "lists"}), defs)["domains_role"]
    assert part["lists_user"] == "lists"


def test_a_host_without_lists_or_autoreplies_gets_neither():
    model = host_model(values(), box())
    part = model["domains_role"]
    assert part["lists"] == [] and part["aliases_entries"] == {} and part["packages"] == []
    assert part["services"] == [] and part["autoreply"] is None and model["maps"]["transport_map"] == {}
    assert "smtpd_recipient_restrictions" not in part["parameters"]


def test_the_domains_role_writes_the_autoreply_transport_service_and_refusal():
    model = host_model(values(), box(AWAY))
    part = model["domains_role"]
    assert model["maps"]["transport_map"] == {"autoreply.example.test": "vhosting_autoreply:"}
    assert part["parameters"]["transport_maps"] == ["lmdb:/etc/postfix/vhosting_transport"]
    assert part["parameters"]["vhosting_autoreply_destination_recipient_limit"] == 1
    assert part["parameters"]["smtpd_recipient_restrictions"] == [
        "check_recipient_access inline:{autoreply.example.test=REJECT}"]
    (service,) = part["services"]
    assert service["command"] == ("pipe user=vhosting-autoreply argv=/usr/bin/python3 -I "
                                  "/usr/local/lib/vhosting-postfix/vhosting-autoreply ${sender} ${mailbox}")
    assert (service["service"], service["type"], service["unpriv"], service["chroot"]) == (
        "vhosting_autoreply", "unix", "n", "n")
    config = part["autoreply"]["config"]
    assert config["domain"] == "autoreply.example.test" and config["recipient_delimiter"] == "+"
    assert list(config["addresses"]) == ["alice@box.test"]
    assert "autoreplies" not in model["domains"] and "lists" not in model["domains"]


def test_the_relay_roles_restrictions_follow_the_autoreply_refusal():
    part = host_model(values(vhosting_relay__transport={"far.test": "smtp:[far]"}), box(AWAY))
    restrictions = part["domains_role"]["parameters"]["smtpd_recipient_restrictions"]
    assert restrictions == ["check_recipient_access inline:{autoreply.example.test=REJECT}", "permit_mynetworks",
                            "reject_unauth_destination"]
    assert "smtpd_recipient_restrictions" not in part["relay"]["parameters"]
    assert part["relay"]["parameters"]["smtpd_relay_restrictions"] == ["permit_mynetworks", "reject_unauth_destination"]


def test_smtpd_recipient_restrictions_in_server_parameters_conflict_with_an_autoreply():
    with pytest.raises(ModelError) as info:
        host_model(values(vhosting_server__parameters={"smtpd_recipient_restrictions": "permit"}), box(AWAY))
    assert "smtpd_recipient_restrictions set by the vhosting.postfix.domains role" in str(info.value)


def test_autoreply_domain_variable_reaches_the_model():
    model = host_model(values(vhosting_domains__autoreply_domain="away.example.test"), box(AWAY))
    assert model["maps"]["transport_map"] == {"away.example.test": "vhosting_autoreply:"}
