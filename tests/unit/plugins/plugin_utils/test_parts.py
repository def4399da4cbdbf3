"""The registry of parts: a feature registered in one place is picked up by the model, the checks and the ownership.

The toy part below stands for the next feature (a signing milter, say): it is
registered here only, and nothing else of the collection is edited for it.
"""
import os

import pytest
import yaml

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _parts
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import Part
from role_values import role_values

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
BOX = {"vhosting_domain__box": {"domain": "box.test", "class": "mailbox", "mailboxes": ["bob"]}}
TOY_TABLE = "/etc/postfix/vhosting_toy_keys"


def _toy_build(ctx, problems):
    values = ctx["values"]
    if values["vhosting_domains__toy_port"] == 0:
        problems.append("vhosting_domains__toy_port: 0 is not a port")
        return None
    if not values["vhosting_domains__toy_enabled"]:
        return {"table_paths": {values["vhosting_domains__toy_table"]: None}}
    parameters = {
        "smtpd_milters": ["inet:127.0.0.1:%d" % values["vhosting_domains__toy_port"]],
        "toy_option": "yes",
        "smtpd_recipient_restrictions": list(values["vhosting_domains__toy_restrictions"]),
    }
    if values["vhosting_domains__toy_relay"]:
        parameters["smtpd_relay_restrictions"] = values["vhosting_domains__toy_relay"]
    return {
        "parameters": parameters,
        "services": [{"service": "toy", "type": "unix", "command": "pipe argv=/bin/true"}],
        "tables": {values["vhosting_domains__toy_table"]: "toy_keys"},
        "table_paths": {values["vhosting_domains__toy_table"]: "cdb"},
        "packages": ["toy-milter"],
        "postfix_packages": ["postfix-toy"],
        "maps": {"toy_keys": {"box.test": "sel1"}},
        "fact": {"toy_selectors": ["sel1"]},
    }


TOY = Part("toy", "domains", _toy_build,
           path_variables=(("vhosting_domains__toy_key_file", "write", "a private key", "/etc/vhosting-postfix/k"),),
           table_variables=("vhosting_domains__toy_table",))
REGISTRY = _parts.REGISTRY + (TOY,)
COMPOSED = _parts.COMPOSED[:1] + (
    ("smtpd_recipient_restrictions", ("toy", "autoreply", "relay")),
    ("smtpd_milters", ("toy",)),
)


def values(**overrides):
    toy = {"vhosting_domains__toy_enabled": True, "vhosting_domains__toy_port": 8891,
           "vhosting_domains__toy_table": TOY_TABLE, "vhosting_domains__toy_key_file": "/etc/vhosting-postfix/toy.key",
           "vhosting_domains__toy_restrictions": ["reject_unknown_recipient_domain"], "vhosting_domains__toy_relay": None}
    toy.update(overrides)
    return role_values(**toy)


def model(**overrides):
    return host_model(values(**overrides), BOX, hostname="mx", registry=REGISTRY, composed=COMPOSED)


def problems(**overrides):
    with pytest.raises(ModelError) as info:
        model(**overrides)
    return info.value.problems


def test_the_toy_part_reaches_its_roles_fact():
    part = model()["domains_role"]
    assert part["parameters"]["smtpd_milters"] == ["inet:127.0.0.1:8891"]
    assert part["parameters"]["toy_option"] == "yes"
    assert {"service": "toy", "type": "unix", "command": "pipe argv=/bin/true"} in part["services"]
    assert part["tables"][TOY_TABLE] == "toy_keys"
    assert "toy-milter" in part["packages"]
    assert part["toy_selectors"] == ["sel1"]


def test_its_large_table_goes_to_the_maps_and_its_plugin_to_postfix_packages():
    built = model()
    assert built["maps"]["toy_keys"] == {"box.test": "sel1"}
    assert "postfix-toy" in built["server"]["packages"]
    # cdb is a type in use now: its plug-in is installed with Postfix.
    assert "postfix-cdb" in built["server"]["packages"]


def test_its_table_index_files_are_swept_when_it_stops():
    assert TOY_TABLE + ".lmdb" in model()["stale_index_files"]["domains"]
    assert TOY_TABLE + ".cdb" not in model()["stale_index_files"]["domains"]
    assert TOY_TABLE + ".cdb" in model(vhosting_domains__toy_enabled=False)["stale_index_files"]["domains"]


def test_composed_parameters_join_its_elements_in_the_declared_order():
    restrictions = model(vhosting_relay__transport={"far.test": "smtp:[far]"})["domains_role"]["parameters"][
        "smtpd_recipient_restrictions"]
    assert restrictions == ["reject_unknown_recipient_domain", "permit_mynetworks", "reject_unauth_destination"]


def test_a_contributor_that_stops_takes_its_elements_away_and_the_next_one_owns_the_value():
    built = model(vhosting_domains__toy_enabled=False, vhosting_relay__transport={"far.test": "smtp:[far]"})
    assert "smtpd_milters" not in built["domains_role"]["parameters"]
    assert "smtpd_recipient_restrictions" not in built["domains_role"]["parameters"]
    assert built["relay"]["parameters"]["smtpd_recipient_restrictions"] == ["permit_mynetworks",
                                                                            "reject_unauth_destination"]


def test_the_path_check_covers_its_path_variable():
    found = problems(vhosting_domains__toy_key_file="/etc/passwd")
    assert any(p.startswith("vhosting_domains__toy_key_file: '/etc/passwd'") for p in found), found


def test_the_table_check_covers_its_table_variable():
    found = problems(vhosting_domains__toy_table="/etc/postfix/virtual")
    assert any(p.startswith("vhosting_domains__toy_table: '/etc/postfix/virtual' is also vhosting_domains__alias_table")
               for p in found), found


def test_the_relay_policy_judges_its_parameters():
    found = problems(vhosting_domains__toy_relay=["permit"])
    assert any("smtpd_relay_restrictions" in p and "open relay" in p and "vhosting.postfix.domains role" in p
               for p in found), found


def test_the_server_parameters_may_not_set_what_it_sets():
    found = problems(vhosting_server__parameters={"toy_option": "no"})
    assert any("toy_option set by the vhosting.postfix.domains role" in p for p in found), found


def test_its_problems_are_listed_with_every_other_problem():
    found = problems(vhosting_domains__toy_port=0, vhosting_server__myhostname="bad_host!")
    assert "vhosting_domains__toy_port: 0 is not a port" in found
    assert any(p.startswith("vhosting_server__myhostname") for p in found), found


def test_two_parts_setting_one_parameter_outside_composed_is_a_registry_error():
    toy2 = Part("toy2", "relay", lambda ctx, problems: {"parameters": {"toy_option": "no"}})
    with pytest.raises(_parts.RegistryError, match="parts toy and toy2 both set toy_option"):
        host_model(values(), BOX, registry=REGISTRY + (toy2,), composed=COMPOSED)


def test_a_part_contributing_to_a_composed_parameter_must_be_declared():
    with pytest.raises(_parts.RegistryError, match="toy contributes to smtpd_recipient_restrictions"):
        host_model(values(), BOX, registry=REGISTRY, composed=_parts.COMPOSED + (("smtpd_milters", ("toy",)),))


def test_an_unknown_contribution_key_is_a_registry_error():
    odd = Part("odd", "domains", lambda ctx, problems: {"paramters": {}})
    with pytest.raises(_parts.RegistryError, match="unknown contribution key"):
        host_model(values(), BOX, registry=_parts.REGISTRY + (odd,))


def test_two_parts_naming_one_map_is_a_registry_error():
    clash = Part("clash", "relay", lambda ctx, problems: {"maps": {"virtual_alias_map": {}}})
    with pytest.raises(_parts.RegistryError, match="two parts name the map virtual_alias_map"):
        host_model(values(), BOX, registry=_parts.REGISTRY + (clash,))


def test_without_the_toy_nothing_of_it_is_in_the_model():
    plain = host_model(values(), BOX, hostname="mx")
    assert "smtpd_milters" not in plain["domains_role"]["parameters"]
    assert "toy_keys" not in plain["maps"]


def test_every_registered_role_is_in_the_site_playbook_and_has_argument_specs():
    with open(os.path.join(ROOT, "playbooks", "site.yml")) as handle:
        play = yaml.safe_load(handle)[0]
    in_site = [entry["role"].rsplit(".", 1)[-1] for entry in play["roles"]]
    writers = [name for name, _prefix, key, _label in _parts.ROLES if key]
    assert in_site == writers
    for name, prefix, _key, _label in _parts.ROLES:
        with open(os.path.join(ROOT, "roles", name, "meta", "argument_specs.yml")) as handle:
            options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        assert options and all(option.startswith(prefix) for option in options), name


def test_every_part_names_a_registered_role_and_only_known_contribution_keys():
    roles = set(name for name, _prefix, key, _label in _parts.ROLES if key)
    ctx = {"values": role_values(), "definitions": BOX, "domains": None, "primaries": [], "local_domains": []}
    for part in _parts.REGISTRY:
        assert part.role in roles, part
    built = _parts.build(ctx, [])
    assert set(built) == set(part.name for part in _parts.REGISTRY)


def test_the_probe_reads_every_package_stale_file_and_what_the_parts_ask_for():
    built = model()
    probe = built["probe"]
    assert {"postfix", "postfix-lmdb", "toy-milter", "postfix-toy"} <= set(probe["packages"])
    assert {"/etc/postfix/main.cf", "/etc/aliases", "/etc/aliases.lmdb"} <= set(probe["paths"])
    assert set(p for paths in built["stale_files"].values() for p in paths) <= set(probe["paths"])
    assert TOY_TABLE + ".lmdb" in probe["paths"] and "postfix.service" in probe["units"]
    assert built["server"]["alias_database"] == "/etc/aliases.lmdb"
