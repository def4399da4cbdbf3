"""The host model: every role's input validated together, every problem reported, one domain model per host."""
import os

import pytest
import yaml

from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import (
    ModelError,
    check_variable_names,
    host_model,
)
from ansible_collections.vhosting.postfix.plugins.plugin_utils._parts import stale_indexes as stale_index_files
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay_part import relay_parameters
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay import local_names_from_results, relay_recipients
from role_values import ROLES
from role_values import role_values as values

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def _specs():
    specs = {}
    for role in ROLES:
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
            specs[role] = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
    return specs


BOX = {"vhosting_domain__box": {"domain": "box.test", "class": "mailbox", "mailboxes": ["bob"],
                                "aliases": {"news": "bob-news@box.test"}}}


def problems_of(*args, **kwargs):
    with pytest.raises(ModelError) as info:
        host_model(*args, **kwargs)
    return info.value.problems


# ---------------------------------------------------------------- variable names

def test_every_role_variable_of_the_argument_specs_is_known():
    specs = _specs()
    names = set().union(*specs.values())
    assert check_variable_names(names, specs) == []


def test_a_typo_in_a_role_variable_is_refused_naming_it_and_the_closest_name():
    problems = check_variable_names(["vhosting_domains__mailbox_bse"], _specs())
    assert problems == ["vhosting_domains__mailbox_bse: the vhosting.postfix.domains role has no such variable "
                        "(did you mean vhosting_domains__mailbox_base?)"]


def test_a_domain_variable_with_one_underscore_is_refused():
    problems = check_variable_names(["vhosting_domain_example_org", "vhosting_domains_example_net"], _specs())
    assert len(problems) == 2
    assert all("vhosting_domain__<name> (two underscores)" in p for p in problems)
    assert problems[0].startswith("vhosting_domain_example_org:")


def test_removed_variables_say_what_replaces_them():
    problems = check_variable_names(["vhosting_domains__recipient_delimiter", "vhosting_relay__state_file"], _specs())
    assert "use vhosting_server__recipient_delimiter" in problems[0]
    assert problems[1].startswith("vhosting_relay__state_file: this variable was removed")


def test_domain_definitions_and_internal_facts_are_not_flagged():
    assert check_variable_names(["vhosting_domain__x", "vhosting_postfix__model", "other_var"], _specs()) == []


def test_an_unknown_vhosting_variable_of_no_role_is_refused():
    problems = check_variable_names(["vhosting_serverr__myhostname"], _specs())
    assert problems == ["vhosting_serverr__myhostname: no role of vhosting.postfix reads this variable "
                        "(did you mean vhosting_server__myhostname?)"]


# ---------------------------------------------------------------- one model

def test_the_server_delimiter_is_the_one_the_domain_model_uses():
    # bob-news@ resolves to bob@ only with "-" as delimiter: one value per host, everywhere.
    model = host_model(values(vhosting_server__recipient_delimiter="-"), BOX)
    assert model["maps"]["virtual_alias_map"]["news@box.test"] == ["bob-news@box.test"]
    assert model["server"]["parameters"]["recipient_delimiter"] == "-"
    problems = problems_of(values(vhosting_server__recipient_delimiter="+"), BOX)
    assert problems == ["vhosting_domain__box (domain box.test), alias news@box.test: target bob-news@box.test is not "
                        "a recipient of the hosted domain box.test (no such mailbox or alias, and no catch-all)"]


def test_every_problem_is_reported_not_only_the_first():
    definitions = {
        "vhosting_domain__a": {"domain": "a.test", "class": "mailbx"},
        "vhosting_domain__b": {"domain": "b..test", "class": "alias"},
        "vhosting_domain__c": {"domain": "c.test", "class": "alias", "aliases": {"x": "y@c.test", "y": "x@c.test"}},
    }
    problems = problems_of(values(vhosting_server__mynetworks=["10.1.2.3/8"],
                                  vhosting_domains__table_type="texthash"), definitions)
    text = "\n".join(problems)
    assert len(problems) == 5, problems
    assert "vhosting_domain__a (domain a.test): unknown class 'mailbx'" in text
    assert "vhosting_domain__b: 'b..test' is not a valid domain name" in text
    assert "alias loop" in text
    assert "10.1.2.3/8" in text and "host bits" in text
    assert "vhosting_domains__table_type: 'texthash' is not an indexed table type" in text


def test_canonical_domains_join_mydestination_once():
    model = host_model(values(), {"vhosting_domain__c": {"domain": "shared.test", "class": "canonical",
                                                         "users": ["alice"]}})
    assert model["server"]["parameters"]["mydestination"] == ["$myhostname", "localhost.$mydomain", "localhost",
                                                              "shared.test"]
    # No virtual domain: the domains role writes no table and sets no virtual_* parameter.
    assert model["domains_role"]["parameters"] == {}
    assert model["domains_role"]["tables"] == {}


def test_mynetworks_wide_networks_need_the_opt_in():
    problems = problems_of(values(vhosting_server__mynetworks=["0.0.0.0/0"]), {})
    assert "vhosting_server__mynetworks_allow_wide" in problems[0]
    model = host_model(values(vhosting_server__mynetworks=["0.0.0.0/0"], vhosting_server__mynetworks_allow_wide=True), {})
    assert model["server"]["parameters"]["mynetworks"] == ["0.0.0.0/0"]


def test_a_parameter_of_another_role_is_refused_in_the_server_parameters():
    problems = problems_of(values(vhosting_server__parameters={"virtual_alias_maps": "lmdb:/x"}), BOX_OK)
    assert problems == ["vhosting_server__parameters: virtual_alias_maps set by the vhosting.postfix.domains role "
                        "(from its own variables); remove it from vhosting_server__parameters"]
    problems = problems_of(values(vhosting_server__parameters={"transport_maps": "lmdb:/t"},
                                  vhosting_relay__transport={"example.net": "smtp:[mx.example.net]"}), {})
    assert "transport_maps set by the vhosting.postfix.relay role" in problems[0]
    # Without transport entries of the relay role, transport_maps is the server's to set.
    model = host_model(values(vhosting_server__parameters={"transport_maps": "lmdb:/t"}), {})
    assert model["server"]["parameters"]["transport_maps"] == "lmdb:/t"
    assert model["relay"]["parameters"] == {}


BOX_OK = {"vhosting_domain__box": {"domain": "box.test", "class": "mailbox", "mailboxes": ["bob"]}}


def test_packages_follow_every_table_type_in_use():
    model = host_model(values(vhosting_server__default_database_type="hash", vhosting_domains__table_type="cdb",
                              vhosting_server__map_types=["pcre"]), BOX_OK)
    assert model["server"]["packages"] == ["postfix", "postfix-cdb", "postfix-pcre"]


def test_the_probe_asks_for_the_accounts_the_domains_role_creates():
    canonical = {"vhosting_domain__c": {"domain": "shared.test", "class": "canonical", "users": ["alice"]}}
    model = host_model(values(), dict(BOX_OK, **canonical))
    assert model["probe"]["users"] == ["alice", "vmail"] and model["probe"]["groups"] == ["vmail"]
    # Accounts the role does not create are not asked for: no mailbox domain, or no UNIX users wanted.
    model = host_model(values(vhosting_domains__create_unix_users=False), canonical)
    assert model["probe"]["users"] == [] and model["probe"]["groups"] == []


# ---------------------------------------------------------------- stale index files

def test_a_type_switch_makes_the_old_index_files_stale():
    model = host_model(values(vhosting_server__default_database_type="hash", vhosting_domains__table_type="hash",
                              vhosting_relay__table_type="hash"), BOX_OK)
    # Every other index type of postmap, dbm's .dir/.pag included (the lookup_table module's own rule).
    assert [p for p in model["stale_index_files"]["server"] if p.startswith("/etc/aliases")] == [
        "/etc/aliases.cdb", "/etc/aliases.dir", "/etc/aliases.lmdb", "/etc/aliases.pag"]
    domains = model["stale_index_files"]["domains"]
    assert "/etc/postfix/virtual.lmdb" in domains and "/etc/postfix/vmailbox.cdb" in domains
    assert "/etc/postfix/virtual.db" not in domains
    # The relay role uses no table here: all its index files are stale.
    assert "/etc/postfix/transport.db" in model["stale_index_files"]["relay"]


def test_stale_index_files_of_an_unused_table_include_every_type():
    assert stale_index_files({"/t": None}) == ["/t.cdb", "/t.db", "/t.dir", "/t.lmdb", "/t.pag"]
    assert stale_index_files({"/t": "cdb"}) == ["/t.db", "/t.dir", "/t.lmdb", "/t.pag"]
    assert stale_index_files({"/t": "hash"}) == ["/t.cdb", "/t.dir", "/t.lmdb", "/t.pag"]


# ---------------------------------------------------------------- relay

def test_relay_parameters_nothing_by_default():
    model = {"relay_domains": [], "transport_map": {}}
    assert relay_parameters(model, values(), "", [], [], {}) == {}


def test_relay_parameters_of_a_backup_mx():
    model = {"relay_domains": ["a.test"], "transport_map": {"a.test": "relay:[mx1]"}}
    params = relay_parameters(model, values(), "", ["permit_sasl_authenticated"], ["reject_unknown_sender_domain"],
                              {"maximal_queue_lifetime": "10d"})
    assert params["relay_domains"] == ["a.test"]
    assert params["relay_recipient_maps"] == "lmdb:/etc/postfix/relay_recipients"
    assert params["transport_maps"] == "lmdb:/etc/postfix/transport"
    assert params["maximal_queue_lifetime"] == "10d"
    assert params["smtpd_relay_restrictions"] == ["permit_mynetworks", "permit_sasl_authenticated",
                                                  "reject_unauth_destination"]
    assert params["smtpd_recipient_restrictions"][-1] == "reject_unknown_sender_domain"
    never = relay_parameters(model, values(vhosting_relay__manage_restrictions="never"), "", [], [], {})
    assert "smtpd_relay_restrictions" not in never


def test_backup_of_a_canonical_primary_accepts_its_local_names():
    primaries = [{"host": "mx1", "nexthop": "[mx1]", "options": None, "definitions": {
        "vhosting_domain__c": {"domain": "shared.test", "class": "canonical", "users": ["alice"]},
        "vhosting_domain__m": {"domain": "box.test", "class": "mailbox", "mailboxes": ["bob"]}}}]
    model = host_model(values(vhosting_relay__backup_for=["mx1"]), {}, primaries, "backup")
    relay = model["relay"]
    assert relay["canonical"] == {"mx1": ["shared.test"]}
    entries = relay_recipients(relay["model"], {"mx1": ["root", "alice", "www-data", "Bad Name"]})
    assert entries["root@shared.test"] == "OK"
    assert entries["www-data@shared.test"] == "OK"
    assert "bob@box.test" in entries
    assert not [k for k in entries if k.startswith("bad")]
    assert "root@box.test" not in entries  # only canonical domains take the local names


def test_local_names_from_results_splits_failures():
    # The read task's output: getent passwd and each alias source file, base64-encoded (see parse_local_names).
    stdout = "passwd cm9vdDp4OjA6MDo6LzovYmluL3NoCg==\nsource cdb:/etc/aliases IGFsaWNlIDogeAphbGljZTogcm9vdAo=\n"
    results = [{"item": {"key": "mx1"}, "rc": 0, "stdout": stdout},
               {"item": {"key": "mx2"}, "rc": 1, "stdout": ""},
               {"item": {"key": "mx3"}, "unreachable": True}]
    read = local_names_from_results(results)
    assert (read["names"], read["unread"]) == ({"mx1": ["root", "alice"]}, ["mx2", "mx3"])


def test_a_bad_primary_definition_fails_the_backup_too():
    primaries = [{"host": "mx1", "nexthop": "[mx1]", "options": None, "definitions": {
        "vhosting_domain__a": {"domain": "a.test", "class": "alias"},
        "vhosting_domain__b": {"domain": "a.test", "class": "mailbox"}}}]
    problems = problems_of(values(vhosting_relay__backup_for=["mx1"]), {}, primaries, "backup")
    assert problems == ["vhosting_relay__backup_for: primary mx1: domain a.test is in two classes: alias in "
                        "vhosting_domain__a and mailbox in vhosting_domain__b; a domain belongs to exactly one class"]


def test_the_fingerprint_follows_every_input():
    from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import fingerprint

    key = b"k" * 32
    base = fingerprint(values(), BOX_OK, [], "mx", key)
    assert base == host_model(values(), BOX_OK, [], "mx", key)["fingerprint"]
    assert fingerprint(values(), BOX_OK, [], "mx", key) == base
    assert fingerprint(values(vhosting_server__recipient_delimiter="-"), BOX_OK, [], "mx", key) != base
    assert fingerprint(values(), BOX, [], "mx", key) != base
    assert fingerprint(values(), BOX_OK, [], "mx2", key) != base


def test_the_fact_leaves_out_what_only_the_build_needs():
    domains = host_model(values(), BOX_OK)["domains"]
    assert "mailboxes" not in domains and "recipients" not in domains
    assert domains["counts"] == {"domains": 1, "mailboxes": 1}
    assert "virtual_mailbox_map" not in domains


def test_more_than_1000_canonical_domains_go_into_a_table_named_in_mydestination():
    many = dict(("vhosting_domain__c%04d" % i, {"domain": "c%04d.test" % i, "class": "canonical", "users": []})
                for i in range(1001))
    model = host_model(values(), many)
    server = model["server"]
    assert server["parameters"]["mydestination"] == ["$myhostname", "localhost.$mydomain", "localhost",
                                                     "lmdb:/etc/postfix/vhosting_mydestination"]
    assert server["tables"] == {"/etc/postfix/vhosting_mydestination": "mydestination_map"}
    assert server["table_type"] == "lmdb"
    assert len(model["maps"]["mydestination_map"]) == 1001 and model["maps"]["mydestination_map"]["c0000.test"] == "OK"
    # At 1,000 names (with the three defaults) the list stays inline and the table's index files are stale.
    few = host_model(values(), dict(list(many.items())[:997]))
    assert "lmdb:/etc/postfix/vhosting_mydestination" not in few["server"]["parameters"]["mydestination"]
    assert len(few["server"]["parameters"]["mydestination"]) == 1000 and few["server"]["tables"] == {}
    assert "/etc/postfix/vhosting_mydestination.lmdb" in few["stale_index_files"]["server"]
    # The table's source goes too (a file of the collection's own), and was not stale while in use.
    assert "/etc/postfix/vhosting_mydestination" in few["stale_files"]["server"]
    assert "/etc/postfix/vhosting_mydestination" not in model["stale_files"]["server"]
