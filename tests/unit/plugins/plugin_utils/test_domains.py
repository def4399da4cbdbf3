import pytest

from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import DomainModelError, domain_model


def full_inventory():
    return {
        "vhosting_domain__shared_test": {"domain": "shared.test", "class": "canonical", "users": ["carol", "dave"]},
        "vhosting_domain__shared2_test": {"domain": "Shared2.TEST", "class": "canonical",
                                          "users": [{"name": "erin", "comment": "Erin", "uid": 2001}]},
        "vhosting_domain__alias_test": {
            "domain": "alias.test", "class": "alias",
            "aliases": {"info": "carol", "ext": "someone@elsewhere.test", "Team": ["carol", "dave", "t@elsewhere.test"]},
            "catch_all": "dave",
        },
        "vhosting_domain__mail_test": {
            "domain": "mail.test", "class": "mailbox",
            "mailboxes": {"anna": None, "ben": {"format": "mbox"}, "cid": {"path": "mail.test/custom/cid/"}},
            "aliases": {"sales": "anna@mail.test", "both": ["anna@mail.test", "ben@mail.test"]},
            "catch_all": "ben@mail.test",
        },
        "vhosting_domain__box_test": {"domain": "box.test", "class": "mailbox", "mailboxes": ["x", "y"]},
        "vhosting_domain__fwd_test": {"domain": "fwd.test", "class": "forwarding",
                                      "aliases": {"a": "a@elsewhere.test", "b": ["b@elsewhere.test", "c@elsewhere.test"]}},
    }


def test_domain_lists_are_sorted_and_lower_case():
    model = domain_model(full_inventory())
    assert model["canonical_domains"] == ["shared.test", "shared2.test"]
    assert model["alias_domains"] == ["alias.test", "fwd.test"]
    assert model["forwarding_domains"] == ["fwd.test"]
    assert model["mailbox_domains"] == ["box.test", "mail.test"]
    assert model["domains"]["shared2.test"] == {"class": "canonical", "varname": "vhosting_domain__shared2_test"}


def test_alias_map_local_remote_multi_and_catch_all():
    amap = domain_model(full_inventory())["virtual_alias_map"]
    assert amap["info@alias.test"] == ["carol@localhost"]
    assert amap["ext@alias.test"] == ["someone@elsewhere.test"]
    assert amap["team@alias.test"] == ["carol@localhost", "dave@localhost", "t@elsewhere.test"]
    assert amap["@alias.test"] == ["dave@localhost"]
    assert amap["a@fwd.test"] == ["a@elsewhere.test"]
    assert amap["b@fwd.test"] == ["b@elsewhere.test", "c@elsewhere.test"]
    assert list(amap) == sorted(amap)


def test_role_accounts_default_and_override():
    inv = full_inventory()
    inv["vhosting_domain__fwd_test"]["aliases"]["postmaster"] = "hostmaster@elsewhere.test"
    model = domain_model(inv, {"role_account_target": ["root", "ops@elsewhere.test"]})
    amap = model["virtual_alias_map"]
    for domain in ("alias.test", "mail.test", "box.test"):
        assert amap["postmaster@%s" % domain] == ["root@localhost", "ops@elsewhere.test"]
        assert amap["abuse@%s" % domain] == ["root@localhost", "ops@elsewhere.test"]
    assert amap["postmaster@fwd.test"] == ["hostmaster@elsewhere.test"]
    assert "postmaster@shared.test" not in amap  # canonical: /etc/aliases handles it
    model = domain_model(full_inventory(), {"role_accounts": []})
    assert not [k for k in model["virtual_alias_map"] if k.startswith(("postmaster@", "abuse@"))]


def test_catch_all_never_swallows_existing_mailboxes():
    model = domain_model(full_inventory())
    amap = model["virtual_alias_map"]
    assert amap["@mail.test"] == ["ben@mail.test"]
    for box in ("anna@mail.test", "ben@mail.test", "cid@mail.test"):
        assert amap[box] == [box]
    # no catch-all in box.test: no self mappings there
    assert "x@box.test" not in amap and "y@box.test" not in amap


def test_mailboxes_paths_and_formats():
    model = domain_model(full_inventory(), {"mailbox_base": "/srv/mail/", "vmail_uid": 6000, "vmail_gid": 6001})
    assert model["virtual_mailbox_map"] == {
        "anna@mail.test": "mail.test/anna/",
        "ben@mail.test": "mail.test/ben",
        "cid@mail.test": "mail.test/custom/cid/",
        "x@box.test": "box.test/x/",
        "y@box.test": "box.test/y/",
    }
    boxes = {b["address"]: b for b in model["mailboxes"]}
    assert boxes["anna@mail.test"] == {"address": "anna@mail.test", "domain": "mail.test", "path": "mail.test/anna/",
                                       "full_path": "/srv/mail/mail.test/anna", "maildir": True, "uid": 6000, "gid": 6001,
                                       "key": "anna", "store": "virtual"}
    assert boxes["ben@mail.test"]["maildir"] is False
    assert model["mailbox_base"] == "/srv/mail"
    assert [b["address"] for b in model["mailboxes"]] == ["x@box.test", "y@box.test", "anna@mail.test",
                                                          "ben@mail.test", "cid@mail.test"]


def test_unix_users_shared_by_every_canonical_domain():
    model = domain_model(full_inventory())
    assert [u["name"] for u in model["unix_users"]] == ["carol", "dave", "erin"]
    erin = model["unix_users"][2]
    assert erin == {"name": "erin", "uid": 2001, "comment": "Erin", "domains": ["shared2.test"]}
    # every user receives mail in every canonical domain
    assert model["recipients"]["shared.test"] == ["carol@shared.test", "dave@shared.test", "erin@shared.test",
                                                  "postmaster@shared.test"]
    assert "carol@shared2.test" in model["recipients"]["shared2.test"]


def test_recipients():
    rcpt = domain_model(full_inventory())["recipients"]
    assert rcpt["alias.test"] == ["@alias.test"]
    assert rcpt["mail.test"] == ["@mail.test"]
    assert rcpt["box.test"] == ["abuse@box.test", "postmaster@box.test", "x@box.test", "y@box.test"]
    assert rcpt["fwd.test"] == ["a@fwd.test", "abuse@fwd.test", "b@fwd.test", "postmaster@fwd.test"]


def test_empty_inventory():
    model = domain_model({})
    assert model["alias_domains"] == [] and model["mailbox_domains"] == [] and model["canonical_domains"] == []
    assert model["virtual_alias_map"] == {} and model["virtual_mailbox_map"] == {} and model["mailboxes"] == []


def test_removing_a_mailbox_removes_its_entries():
    inv = full_inventory()
    del inv["vhosting_domain__mail_test"]["mailboxes"]["anna"]
    inv["vhosting_domain__mail_test"]["aliases"] = {"both": ["ben@mail.test"]}
    model = domain_model(inv)
    assert "anna@mail.test" not in model["virtual_mailbox_map"]
    assert "anna@mail.test" not in model["virtual_alias_map"]
    assert all(b["address"] != "anna@mail.test" for b in model["mailboxes"])


def test_scales_to_many_domains():
    inv = {}
    for i in range(1000):
        inv["vhosting_domain__d%d" % i] = {"domain": "d%d.test" % i, "class": "mailbox",
                                           "mailboxes": ["u%d" % j for j in range(10)], "catch_all": "u0@d%d.test" % i}
    model = domain_model(inv)
    assert len(model["mailboxes"]) == 10000
    assert len(model["virtual_alias_map"]) == 1000 * (10 + 1 + 2)


def err(inv, options=None):
    with pytest.raises(DomainModelError) as exc:
        domain_model(inv, options)
    return str(exc.value)


def test_domain_in_two_classes():
    inv = full_inventory()
    inv["vhosting_domain__other"] = {"domain": "MAIL.test", "class": "alias", "aliases": {"x": "x@elsewhere.test"}}
    msg = err(inv)
    assert "domain mail.test is in two classes" in msg
    assert "vhosting_domain__mail_test" in msg and "vhosting_domain__other" in msg


def test_domain_defined_twice():
    inv = full_inventory()
    inv["vhosting_domain__again"] = {"domain": "alias.test", "class": "alias", "aliases": {"x": "carol"}}
    msg = err(inv)
    assert "domain alias.test is defined twice, by vhosting_domain__again and by vhosting_domain__alias_test" in msg


def test_virtual_domain_also_in_mydestination():
    inv = full_inventory()
    inv["vhosting_domain__mx"] = {"domain": "mx.example.test", "class": "alias", "aliases": {"x": "carol"}}
    msg = err(inv, {"mydestination": ["$myhostname", "localhost"], "myhostname": "mx.example.test"})
    assert "vhosting_domain__mx (domain mx.example.test)" in msg and "also in mydestination" in msg
    # canonical domains may be there
    inv["vhosting_domain__mx"]["class"] = "canonical"
    del inv["vhosting_domain__mx"]["aliases"]
    domain_model(inv, {"mydestination": ["$myhostname"], "myhostname": "mx.example.test"})


@pytest.mark.parametrize("domain", ["nodot", "bad_char.test", "-lead.test", "a..b.test", "x.123", "", "ex ample.test",
                                    "é.test", None])
def test_invalid_domain(domain):
    msg = err({"vhosting_domain__bad": {"domain": domain, "class": "alias"}})
    assert msg.startswith("vhosting_domain__bad")


@pytest.mark.parametrize("aliases, fragment", [
    ({"bad local": "carol"}, "'bad local' is not a valid local part"),
    ({"x@alias.test": "carol"}, "must be a local part only"),
    ({"x": "not an address"}, "target 'not an address' is neither an address"),
    ({"x": "a@b@c.test"}, "'a@b@c.test' is not a valid e-mail address"),
    ({"x": "a@nodot_.test"}, "is not a valid e-mail address"),
    ({"x": []}, "expected a target address or a non-empty list"),
])
def test_invalid_addresses(aliases, fragment):
    msg = err({"vhosting_domain__a": {"domain": "alias.test", "class": "alias", "aliases": aliases}})
    assert fragment in msg and "vhosting_domain__a (domain alias.test)" in msg


def test_alias_pointing_at_itself():
    msg = err({"vhosting_domain__a": {"domain": "alias.test", "class": "alias", "aliases": {"Loop": "loop@ALIAS.test"}}})
    assert msg == "vhosting_domain__a (domain alias.test), alias loop@alias.test: alias loop, the alias points at itself"


def test_alias_loop_across_domains():
    msg = err({
        "vhosting_domain__a": {"domain": "a.test", "class": "alias", "aliases": {"x": "y@b.test"}},
        "vhosting_domain__b": {"domain": "b.test", "class": "alias", "aliases": {"y": ["carol", "x@a.test"]}},
    })
    assert "alias loop x@a.test -> y@b.test -> x@a.test" in msg


def test_alias_loop_through_catch_all():
    msg = err({"vhosting_domain__a": {"domain": "a.test", "class": "alias", "catch_all": "nobody@a.test"}})
    assert "alias @a.test: alias loop, the alias points at itself" in msg


def test_target_unknown_in_hosted_domain():
    msg = err({
        "vhosting_domain__a": {"domain": "a.test", "class": "alias", "aliases": {"x": "nosuch@m.test"}},
        "vhosting_domain__m": {"domain": "m.test", "class": "mailbox", "mailboxes": ["u"]},
    })
    assert "alias x@a.test: target nosuch@m.test is not a recipient of the hosted domain m.test" in msg


def test_target_with_extension_resolves():
    model = domain_model({
        "vhosting_domain__a": {"domain": "a.test", "class": "alias", "aliases": {"x": "u+tag@m.test"}},
        "vhosting_domain__m": {"domain": "m.test", "class": "mailbox", "mailboxes": ["u"]},
    })
    assert model["virtual_alias_map"]["x@a.test"] == ["u+tag@m.test"]


@pytest.mark.parametrize("path, fragment", [
    ("/var/mail/x/", "is absolute"),
    ("m.test/../etc/", "contains '..'"),
    ("m.test//x/", "empty component"),
    ("m.test/a b/", "may only hold letters, digits"),
])
def test_bad_mailbox_path(path, fragment):
    msg = err({"vhosting_domain__m": {"domain": "m.test", "class": "mailbox", "mailboxes": {"u": {"path": path}}}})
    assert "vhosting_domain__m (domain m.test), mailbox u@m.test" in msg and fragment in msg


def test_format_contradicts_path():
    msg = err({"vhosting_domain__m": {"domain": "m.test", "class": "mailbox",
                                      "mailboxes": {"u": {"path": "m.test/u", "format": "maildir"}}}})
    assert "format maildir contradicts path 'm.test/u'" in msg


def test_uid_below_minimum():
    msg = err({}, {"vmail_uid": 50, "minimum_uid": 100})
    assert "uid 50 is below virtual_minimum_uid 100" in msg
    msg = err({"vhosting_domain__c": {"domain": "c.test", "class": "canonical", "users": [{"name": "u", "uid": 0}]}})
    assert "vhosting_domain__c (domain c.test), user u: uid: 0 is below the minimum 1" in msg


def test_mailbox_and_alias_with_same_address():
    msg = err({"vhosting_domain__m": {"domain": "m.test", "class": "mailbox", "mailboxes": ["u"],
                                      "aliases": {"U": "x@elsewhere.test"}}})
    assert msg == ("vhosting_domain__m (domain m.test): u@m.test is both a mailbox and an alias; "
                   "use another address for the alias")


def test_unknown_class_and_keys():
    assert "unknown class 'virtual'" in err({"vhosting_domain__x": {"domain": "x.test", "class": "virtual"}})
    msg = err({"vhosting_domain__x": {"domain": "x.test", "class": "alias", "mailboxes": ["u"]}})
    assert "unknown key(s) mailboxes (a key of class mailbox) for class alias" in msg
    msg = err({"vhosting_domain__x": {"domain": "x.test", "class": "mailbox", "mailboxes": {"u": {"quota": 1}}}})
    assert "mailbox u@x.test: unknown key(s) quota" in msg
    msg = err({"vhosting_domain__x": {"domain": "x.test", "class": "canonical", "users": [{"name": "u", "shell": "/bin/sh"}]}})
    assert "unknown key(s) shell" in msg
    assert "unknown option 'bogus'" in err({}, {"bogus": 1})


@pytest.mark.parametrize("spec, expected", [
    # A missing class says so (it read "unknown class None").
    ({"domain": "x.test", "mailboxes": ["u"]},
     "vhosting_domain__x (domain x.test): no class: set 'class' to one of canonical, alias, mailbox, forwarding"),
    ({"domain": "x.test", "class": "mailboxes"}, "unknown class 'mailboxes' (did you mean mailbox?)"),
    ({"domain": "x.test", "class": "virtual"}, "unknown class 'virtual' (one of:"),
    # A per-domain key close to an allowed one gets a "did you mean".
    ({"domain": "x.test", "class": "mailbox", "mailbox": ["u"]},
     "unknown key(s) mailbox (did you mean mailboxes?) for class mailbox"),
    ({"domain": "x.test", "class": "alias", "alias": {"a": "b@c.test"}, "catchall": "b@c.test"},
     "unknown key(s) alias (did you mean aliases?), catchall (did you mean catch_all?) for class alias"),
    ({"domain": "x.test", "class": "mailbox", "mailboxes": {"u": {"passwd": "x"}}},
     "mailbox u@x.test: unknown key(s) passwd (did you mean password?)"),
    ({"domain": "x.test", "class": "canonical", "users": [{"name": "u", "uuid": 5}]}, "unknown key(s) uuid (did you mean uid?)"),
    # Nothing close: no guess.
    ({"domain": "x.test", "class": "mailbox", "quota": 1}, "unknown key(s) quota for class mailbox"),
])
def test_a_mistyped_class_or_key_gets_a_did_you_mean(spec, expected):
    assert expected in err({"vhosting_domain__x": spec})


def test_forwarding_domain_rules():
    msg = err({"vhosting_domain__f": {"domain": "f.test", "class": "forwarding", "aliases": {"a": "b@f.test"}}})
    assert "target b@f.test is in the forwarding domain itself" in msg


def test_conflicting_user_attributes():
    msg = err({
        "vhosting_domain__c1": {"domain": "c1.test", "class": "canonical", "users": [{"name": "u", "uid": 2000}]},
        "vhosting_domain__c2": {"domain": "c2.test", "class": "canonical", "users": [{"name": "u", "uid": 2001}]},
    })
    assert "vhosting_domain__c2 (domain c2.test): user u has uid 2001 here but 2000 in c1.test" in msg


def test_definition_must_be_dict():
    assert "a domain definition must be a dict" in err({"vhosting_domain__x": "x.test"})
    assert "a domain definition must be a dict" in err({"vhosting_domain__x": []})


def test_state_absent_is_no_domain_and_present_is_the_default():
    ann = {"domain": "a.test", "class": "mailbox", "mailboxes": ["ann"]}
    model = domain_model({"vhosting_domain__a": dict(ann, state="present"),
                          "vhosting_domain__b": {"domain": "b.test", "class": "mailbox", "state": "absent"},
                          "vhosting_domain__c": {"state": "absent"}})
    assert model["mailbox_domains"] == ["a.test"]
    assert "vhosting_domain__b: state must be present or absent, got 'gone'" in err(
        {"vhosting_domain__b": dict(ann, state="gone")})
    # Left empty is still a mistake, not a removal.
    assert "a domain definition must be a dict" in err({"vhosting_domain__x": None})
