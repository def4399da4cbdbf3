# -*- coding: utf-8 -*-
"""The host_model action's run(), fed the way a play feeds it.

The inventory is a real YAML file read by Ansible's own InventoryManager and
VariableManager, task_vars are what VariableManager.get_vars gives a task
(``groups``, ``hostvars`` as a real HostVars, the inventory values trusted as
templates), the loader is a real DataLoader (the action reads the roles'
defaults and argument specs with it) and the templar a real Templar. Only the
task and the connection, which the action never uses, are mocks. ANSIBLE_HOME,
where the action keeps its fingerprint key and writes the model's tables, is a
temporary directory.
"""
import os
import stat
from unittest import mock

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.vhosting.postfix.plugins.action.host_model_facts import ActionModule

BOX = {"domain": "box.test", "class": "mailbox", "mailboxes": ["bob"], "aliases": {"info": "bob@box.test"}}
ALIAS = {"domain": "alias.test", "class": "alias", "aliases": {"sales": "bob@box.test"}}
DOMAINS = {"vhosting_domain__box_test": BOX, "vhosting_domain__alias_test": ALIAS}
# The virtual alias table of DOMAINS: the aliases, and the role accounts of both domains.
ALIAS_TABLE = ("abuse@alias.test\tpostmaster@localhost\n"
               "abuse@box.test\tpostmaster@localhost\n"
               "info@box.test\tbob@box.test\n"
               "postmaster@alias.test\tpostmaster@localhost\n"
               "postmaster@box.test\tpostmaster@localhost\n"
               "sales@alias.test\tbob@box.test\n")
SUMMARY = ("0 canonical, 1 alias/forwarding, 1 mailbox domains (0 stored by Dovecot); 1 mailboxes (0 Dovecot "
           "accounts), 6 alias entries; backup MX for 0 domains")
FAILED = "vhosting.postfix: %d problem%s in the inventory of %s, nothing was changed on any host:\n"


class Play(object):
    """An inventory file (host -> variables, group -> hosts) as a play sees it."""

    def __init__(self, directory, hosts, groups=None):
        tree = {"all": {"hosts": dict((h, v or {}) for h, v in hosts.items()),
                        "children": dict((g, {"hosts": dict((h, None) for h in members)})
                                         for g, members in (groups or {}).items())}}
        path = directory / "hosts.yml"
        path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
        self.loader = DataLoader()
        self.inventory = InventoryManager(loader=self.loader, sources=[str(path)])
        self.variables = VariableManager(loader=self.loader, inventory=self.inventory)
        # As the TaskQueueManager does: HostVars registers itself with the variable manager.
        HostVars(inventory=self.inventory, variable_manager=self.variables, loader=self.loader)

    def task_vars(self, host):
        return self.variables.get_vars(host=self.inventory.get_host(host), include_hostvars=True)

    def run(self, host, task_vars=None, play="play-1"):
        task_vars = self.task_vars(host) if task_vars is None else task_vars
        task = mock.MagicMock()
        task.async_val = 0
        task.check_mode = False
        # The play the task runs in, as Ansible's blocks carry it.
        task._play = None
        task._parent = mock.MagicMock(_play=mock.MagicMock(_uuid=play))
        action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), self.loader,
                              Templar(loader=self.loader, variables=task_vars), None)
        return action.run(task_vars=task_vars)

    def set_facts(self, host, result):
        """What Ansible does with a task result's ansible_facts (injected as variables of the host too)."""
        self.variables.set_host_facts(host, result["ansible_facts"])


@pytest.fixture
def home(tmp_path, monkeypatch):
    """ANSIBLE_HOME of the control node, empty."""
    path = tmp_path / "ansible-home"
    path.mkdir()
    monkeypatch.setenv("ANSIBLE_HOME", str(path))
    return path


def play(tmp_path, hosts, groups=None):
    directory = tmp_path / "inventory"
    directory.mkdir(exist_ok=True)
    return Play(directory, hosts, groups)


def model_of(result):
    assert not result.get("failed"), result.get("msg")
    return result["ansible_facts"]["vhosting_postfix__model"]


def files_under(path):
    return sorted(os.path.relpath(os.path.join(d, f), str(path)) for d, _dirs, files in os.walk(str(path))
                  for f in files)


def key_file(home):
    return home / "vhosting-postfix" / "fingerprint.key"


# ---------------------------------------------------------------- a valid host

def test_a_valid_host_gets_its_model_and_the_tables_as_files(tmp_path, home):
    result = play(tmp_path, {"mx1": DOMAINS}).run("mx1")
    model = model_of(result)
    assert result["changed"] is False
    assert result["msg"] == SUMMARY
    assert set(["version", "host", "domains", "server", "domains_role", "relay", "dovecot", "stale_index_files",
                "fingerprint", "table_files"]) <= set(model)
    assert "maps" not in model  # moved to the files
    assert model["host"] == "mx1"
    assert len(model["fingerprint"]) == 64 and int(model["fingerprint"], 16) >= 0
    assert model["domains"]["alias_domains"] == ["alias.test"]
    assert model["domains"]["mailbox_domains"] == ["box.test"]
    tables = model["table_files"]
    base = home / "tmp" / "vhosting-postfix-tables" / model["fingerprint"]
    assert tables["virtual_alias_map"] == str(base / "virtual_alias_map.txt")
    with open(tables["virtual_alias_map"], encoding="utf-8") as handle:
        assert handle.read() == ALIAS_TABLE
    with open(tables["virtual_mailbox_map"], encoding="utf-8") as handle:
        assert handle.read() == "bob@box.test\tbox.test/bob/\n"
    assert model["table_entries"]["virtual_alias_map"] == 6
    # The mailboxes too: a data file for the mailboxes module, not a list in the fact.
    with open(tables["mailboxes"], encoding="utf-8") as handle:
        assert handle.read() == "box.test/bob/\tmaildir\n"
    assert "mailboxes" not in model["domains_role"]


def test_the_same_input_again_is_recognised_and_any_change_rebuilds(tmp_path, home):
    inventory = play(tmp_path, {"mx1": DOMAINS})
    first = inventory.run("mx1")
    model = model_of(first)
    inventory.set_facts("mx1", first)
    task_vars = inventory.task_vars("mx1")
    assert task_vars["vhosting_postfix__model"]["fingerprint"] == model["fingerprint"]

    # A later play of the run: the templated input is compared (and the model now belongs to that play too).
    again = inventory.run("mx1", task_vars, play="play-2")
    assert again["changed"] is False and again["msg"] == "input unchanged since the last validation: " + SUMMARY
    assert model_of(again)["play"] == "play-2"
    assert dict(model_of(again), play=None) == dict(model, play=None)

    # One alias target changed: a full rebuild, with a fingerprint of its own.
    changed = dict(task_vars, vhosting_domain__alias_test=dict(ALIAS, aliases={"sales": "info@box.test"}))
    rebuilt = model_of(inventory.run("mx1", changed))
    assert rebuilt["fingerprint"] != model["fingerprint"]
    with open(rebuilt["table_files"]["virtual_alias_map"], encoding="utf-8") as handle:
        assert "sales@alias.test\tinfo@box.test\n" in handle.read()
    with open(model["table_files"]["virtual_alias_map"], encoding="utf-8") as handle:
        assert handle.read() == ALIAS_TABLE  # the earlier model's files stay as they were

    # A table file of the known model is gone (a cleaned ANSIBLE_HOME/tmp): rebuilt, the file written again.
    os.unlink(model["table_files"]["virtual_mailbox_map"])
    result = inventory.run("mx1", task_vars)
    assert not result["msg"].startswith("input unchanged")
    assert model_of(result)["fingerprint"] == model["fingerprint"]
    assert os.path.exists(model["table_files"]["virtual_mailbox_map"])


def test_a_known_model_with_another_fingerprint_is_not_taken_for_the_current_one(tmp_path, home):
    inventory = play(tmp_path, {"mx1": DOMAINS})
    model = model_of(inventory.run("mx1"))
    stale = dict(model, fingerprint="0" * 64)
    result = inventory.run("mx1", dict(inventory.task_vars("mx1"), vhosting_postfix__model=stale), play="play-2")
    assert model_of(result)["fingerprint"] == model["fingerprint"]


# ---------------------------------------------------------------- variable names

def test_a_typo_in_a_role_variable_fails_with_the_closest_name(tmp_path, home):
    result = play(tmp_path, {"mx1": dict(DOMAINS, vhosting_server__myhostnme="mx1.example.org")}).run("mx1")
    problem = ("vhosting_server__myhostnme: the vhosting.postfix.server role has no such variable "
               "(did you mean vhosting_server__myhostname?)")
    assert result["failed"] is True and result["changed"] is False
    assert result["problems"] == [problem]
    assert result["msg"] == FAILED % (1, "", "mx1") + "  - " + problem
    assert "ansible_facts" not in result
    assert not (home / "tmp" / "vhosting-postfix-tables").exists()


def test_a_domain_variable_with_one_underscore_is_not_a_domain_definition(tmp_path, home):
    result = play(tmp_path, {"mx1": dict(DOMAINS, vhosting_domains_x={"domain": "x.test", "class": "alias"})}).run(
        "mx1")
    assert result["failed"] is True and "ansible_facts" not in result
    (problem,) = result["problems"]
    assert problem.startswith("vhosting_domains_x: not a domain definition: domain variables are named "
                              "vhosting_domain__<name> (two underscores)")


def test_a_name_with_a_look_alike_letter_is_refused(tmp_path, home):
    inventory = play(tmp_path, {"mx1": DOMAINS})
    # U+043E CYRILLIC SMALL LETTER O for the o of vhosting (inventory files still accept such names, with a
    # deprecation warning; given here as the variable manager would pass it).
    name = u"vh\u043esting_server__myhostname"
    result = inventory.run("mx1", dict(inventory.task_vars("mx1"), **{name: "mx1.example.org"}))
    assert result["failed"] is True and "ansible_facts" not in result
    assert result["problems"] == [u"%s: looks like a vhosting.postfix variable but contains U+043E CYRILLIC SMALL "
                                  u"LETTER O; no role reads it" % name]


# ---------------------------------------------------------------- values

def test_a_value_of_the_wrong_type_fails_naming_role_and_variable_and_builds_nothing(tmp_path, home):
    # A bad domain besides: the model is not built from unusable values, so it is not looked at.
    hosts = {"mx1": dict(DOMAINS, vhosting_domains__vmail_uid="five thousand",
                         vhosting_domain__bad={"domain": "b..test", "class": "alias"})}
    result = play(tmp_path, hosts).run("mx1")
    assert result["failed"] is True and result["changed"] is False and "ansible_facts" not in result
    (problem,) = result["problems"]
    assert problem.startswith("vhosting.postfix.domains role: ")
    assert "vhosting_domains__vmail_uid" in problem and "int" in problem
    assert result["msg"].startswith(FAILED % (1, "", "mx1") + "  - vhosting.postfix.domains role: ")
    assert files_under(home) == []  # no key made, no table written


def test_every_problem_is_listed_at_once(tmp_path, home):
    hosts = {"mx1": dict(DOMAINS, vhosting_domain__bad={"domain": "b..test", "class": "alias"},
                         vhosting_relay__maximal_queue_lifetime="ten days")}
    result = play(tmp_path, hosts).run("mx1")
    assert result["failed"] is True and "ansible_facts" not in result
    problems = result["problems"]
    assert len(problems) == 2, problems
    assert problems[0].startswith("vhosting_domain__bad: 'b..test' is not a valid domain name")
    assert problems[1] == ("vhosting_relay__maximal_queue_lifetime: 'ten days' is not a Postfix time value (a "
                           "number with an optional unit s, m, h, d or w, e.g. 300s or 5d)")
    # Each problem on a line of its own, once.
    assert result["msg"] == FAILED % (2, "s", "mx1") + "  - %s\n  - %s" % tuple(problems)
    assert result["msg"].count(problems[0]) == 1
    assert not (home / "tmp" / "vhosting-postfix-tables").exists()


def test_templates_in_the_inventory_are_resolved(tmp_path, home):
    hosts = {"mx1": dict(DOMAINS, vhosting_server__myhostname="{{ inventory_hostname }}.example.org",
                         vhosting_domains__mailbox_base="/srv/{{ vhosting_server__mydomain }}/mail")}
    model = model_of(play(tmp_path, hosts).run("mx1"))
    parameters = model["server"]["parameters"]
    assert parameters["myhostname"] == "mx1.example.org"
    # The roles' templated defaults see it too: mydomain is myhostname without its first label.
    assert parameters["mydomain"] == "example.org"
    assert model["domains_role"]["parameters"]["virtual_mailbox_base"] == "/srv/example.org/mail"


def test_a_template_that_fails_is_a_problem_naming_the_variable(tmp_path, home):
    result = play(tmp_path, {"mx1": dict(DOMAINS, vhosting_server__myhostname="{{ no_such_variable }}")}).run("mx1")
    assert result["failed"] is True and "ansible_facts" not in result
    # mydomain's default is made from myhostname: it cannot be resolved either.
    assert [p.split(":")[0] for p in result["problems"]] == ["vhosting_server__myhostname", "vhosting_server__mydomain"]
    assert all("'no_such_variable' is undefined" in p for p in result["problems"])
    assert files_under(home) == []


# ---------------------------------------------------------------- a backup MX

def test_a_backup_mx_relays_the_domains_of_its_primary(tmp_path, home):
    hosts = {"mx1": dict(DOMAINS, vhosting_server__myhostname="{{ inventory_hostname }}.example.org"),
             # The backup's own options are not the primary's: mx1 keeps abuse@ of the default role accounts.
             "mx2": {"vhosting_relay__backup_for": ["primaries"], "vhosting_domains__role_accounts": ["postmaster"]}}
    result = play(tmp_path, hosts, {"primaries": ["mx1"], "backups": ["mx2"]}).run("mx2")
    model = model_of(result)
    relay = model["relay"]["model"]
    assert relay["relay_domains"] == ["alias.test", "box.test"]
    assert model["relay"]["parameters"]["relay_domains"] == ["alias.test", "box.test"]
    # The next hop is the primary's own myhostname, templated with the primary's variables.
    assert dict((d, info["nexthop"]) for d, info in relay["domains"].items()) == {
        "alias.test": "[mx1.example.org]", "box.test": "[mx1.example.org]"}
    assert relay["domains"]["box.test"]["recipients"] == ["abuse@box.test", "bob@box.test", "info@box.test",
                                                          "postmaster@box.test"]
    with open(model["table_files"]["relay_transport_map"], encoding="utf-8") as handle:
        assert handle.read() == "alias.test\trelay:[mx1.example.org]\nbox.test\trelay:[mx1.example.org]\n"
    # The backup hosts none of them itself.
    assert model["domains"]["mailbox_domains"] == [] and model["domains"]["alias_domains"] == []
    assert result["msg"].endswith("0 alias entries; backup MX for 2 domains")


def test_a_backup_mx_is_current_while_its_primaries_are_and_rebuilt_when_one_changes(tmp_path, home):
    hosts = {"mx1": DOMAINS, "mx2": {"vhosting_relay__backup_for": ["mx1"]}}
    inventory = play(tmp_path, hosts)
    first = inventory.run("mx2")
    model = model_of(first)
    inventory.set_facts("mx2", first)
    assert inventory.run("mx2", play="play-2")["msg"].startswith("input unchanged since the last validation: ")

    # Only the primary's inventory changes (a new alias on mx1): the backup's model is rebuilt.
    hosts["mx1"] = dict(DOMAINS, vhosting_domain__alias_test=dict(ALIAS, aliases={"sales": "bob@box.test",
                                                                                  "new": "bob@box.test"}))
    changed = play(tmp_path, hosts)
    result = changed.run("mx2", dict(changed.task_vars("mx2"), vhosting_postfix__model=model), play="run-2")
    rebuilt = model_of(result)
    assert rebuilt["fingerprint"] != model["fingerprint"]
    assert "new@alias.test" in rebuilt["relay"]["model"]["relay_recipients"]


def test_a_backup_mx_for_a_host_not_in_the_inventory_fails(tmp_path, home):
    result = play(tmp_path, {"mx1": DOMAINS, "mx2": {"vhosting_relay__backup_for": ["mx9"]}}).run("mx2")
    assert result["failed"] is True and "ansible_facts" not in result
    assert result["problems"] == ["vhosting_relay__backup_for[0]: 'mx9' is neither a host nor a group of the "
                                  "inventory"]


def test_a_bad_definition_of_the_primary_fails_the_backup(tmp_path, home):
    hosts = {"mx1": dict(DOMAINS, vhosting_domain__bad={"domain": "box.test", "class": "alias"}),
             "mx2": {"vhosting_relay__backup_for": ["mx1"]}}
    result = play(tmp_path, hosts).run("mx2")
    assert result["failed"] is True and "ansible_facts" not in result
    assert result["problems"] == ["vhosting_relay__backup_for: primary mx1: domain box.test is in two classes: "
                                  "alias in vhosting_domain__bad and mailbox in vhosting_domain__box_test; a domain "
                                  "belongs to exactly one class"]


def test_an_unresolvable_template_of_the_primary_is_a_problem_of_the_backup(tmp_path, home):
    hosts = {"mx1": dict(DOMAINS, vhosting_server__myhostname="{{ no_such_variable }}"),
             "mx2": {"vhosting_relay__backup_for": ["mx1"]}}
    result = play(tmp_path, hosts).run("mx2")
    assert result["failed"] is True and "ansible_facts" not in result
    assert result["problems"][0].startswith("vhosting_relay__backup_for: primary mx1: vhosting_server__myhostname: ")


# ---------------------------------------------------------------- the fingerprint's key

def test_the_fingerprint_key_is_made_once_private_and_reused(tmp_path, home):
    inventory = play(tmp_path, {"mx1": DOMAINS})
    assert not key_file(home).exists()
    first = model_of(inventory.run("mx1"))
    path = key_file(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    key = path.read_bytes()
    assert len(key) == 32
    assert model_of(inventory.run("mx1"))["fingerprint"] == first["fingerprint"]
    assert path.read_bytes() == key
    # The fingerprint is keyed with that file: another key, another fingerprint of the same input.
    path.write_bytes(bytes(255 - b for b in key))
    assert model_of(inventory.run("mx1"))["fingerprint"] != first["fingerprint"]


def test_a_key_readable_by_others_fails_without_quoting_it(tmp_path, home):
    path = key_file(home)
    path.parent.mkdir(mode=0o700)
    path.write_bytes(b"k" * 32)
    path.chmod(0o644)
    result = play(tmp_path, {"mx1": DOMAINS}).run("mx1")
    assert result["failed"] is True and "ansible_facts" not in result
    (problem,) = result["problems"]
    assert problem.startswith("cannot read or make the key of the model's fingerprint on the control node: ")
    assert "readable or writable by others (mode 0644)" in problem and "k" * 32 not in result["msg"]


def test_within_one_play_the_untemplated_input_is_enough(tmp_path, home):
    inventory = play(tmp_path, {"mx1": DOMAINS})
    with mock.patch("ansible_collections.vhosting.postfix.plugins.action.host_model_facts.display") as shown:
        first = inventory.run("mx1", play="p")
        inventory.set_facts("mx1", first)
        task_vars = inventory.task_vars("mx1")
        # The dependency before the next role of the same play: no templating, no new facts.
        again = inventory.run("mx1", task_vars, play="p")
    assert again == {"changed": False, "msg": "validated earlier in this play: " + SUMMARY}
    # The summary at default verbosity, one line for the host, not again for the later roles.
    assert shown.display.call_args_list == [mock.call("vhosting.postfix model of mx1: " + SUMMARY, stderr=True)]
    # A vhosting variable that differs (set between two roles of the play): validated and built again.
    changed = dict(task_vars, vhosting_domain__alias_test=dict(ALIAS, aliases={"sales": "info@box.test"}))
    rebuilt = inventory.run("mx1", changed, play="p")
    assert model_of(rebuilt)["fingerprint"] != model_of(first)["fingerprint"]
    # A bad value set between two roles is still caught.
    broken = dict(task_vars, vhosting_server__myhostname="bad host!")
    assert inventory.run("mx1", broken, play="p")["failed"] is True


def test_within_one_play_a_template_that_now_means_something_else_builds_the_model_again(tmp_path, home):
    # A role applied once per item of a loop with vars: {type: "{{ item }}"}: the untemplated text is the same
    # each time, the value is not.
    inventory = play(tmp_path, {"mx1": dict(DOMAINS, db_type="hash",
                                            vhosting_server__default_database_type="{{ db_type }}")})
    first = inventory.run("mx1", play="p")
    assert model_of(first)["server"]["parameters"]["alias_maps"] == "hash:/etc/aliases"
    inventory.set_facts("mx1", first)
    task_vars = inventory.task_vars("mx1")
    assert inventory.run("mx1", task_vars, play="p")["msg"].startswith("validated earlier in this play")
    task_vars["db_type"] = "cdb"
    again = inventory.run("mx1", task_vars, play="p")
    assert model_of(again)["server"]["parameters"]["alias_maps"] == "cdb:/etc/aliases"


# ---------------------------------------------------------------- warnings

DOVECOT_BOX = {"domain": "imap.test", "class": "mailbox", "store": "dovecot",
               "mailboxes": {"ann": {"password": "a secret of the test"}}}


@pytest.mark.parametrize("cert, warned", [(None, True), ("/etc/ssl/mail.crt", False)])
def test_a_self_signed_test_certificate_is_announced_as_a_warning(tmp_path, home, cert, warned):
    host = {"vhosting_domain__imap_test": DOVECOT_BOX}
    if cert:
        host.update(vhosting_tls__source="files", vhosting_tls__cert_file=cert,
                    vhosting_tls__key_file="/etc/ssl/private/mail.key")
    result = play(tmp_path, {"mx1": host}).run("mx1")
    assert (model_of(result)["tls"]["source"] == "selfsigned") is (not cert)
    if warned:
        assert len(result["warnings"]) == 1
        assert result["warnings"][0].startswith("mx1: vhosting_tls__source is selfsigned, so IMAP and submission")
        assert "self-signed certificate made on the host (/etc/vhosting-postfix/tls/selfsigned.crt)" in result["warnings"][0]
    else:
        assert "warnings" not in result


def test_a_host_without_dovecot_gets_no_certificate_warning(tmp_path, home):
    assert "warnings" not in play(tmp_path, {"mx1": DOMAINS}).run("mx1")


def test_the_old_name_host_model_runs_the_same_action_on_the_control_node():
    # meta/runtime.yml redirects the module; Ansible looks the action up by the task's own name first, so without
    # this alias the old name would send the module to the host.
    from ansible_collections.vhosting.postfix.plugins.action.host_model import ActionModule as Old

    assert Old is ActionModule


# ------------------------------------------------- one database for the fleet

DB = {"host": "db.test", "name": "vhosting_postfix", "user": "reader", "password": "pw"}
OTHER_BOX = dict(BOX, domain="other.test")


def test_hosts_with_their_own_scopes_share_one_database(tmp_path, home):
    hosts = {"mx1": dict(DOMAINS, vhosting_domains__backend="pgsql", vhosting_domains__database=DB),
             "mx2": {"vhosting_domain__other_test": OTHER_BOX, "vhosting_domains__backend": "pgsql",
                     "vhosting_domains__database": DB}}
    inventory = play(tmp_path, hosts)
    mx1 = model_of(inventory.run("mx1"))
    assert mx1["domains_role"]["network"]["connection"]["scope"] == "mx1"
    # Each database table names its data file (the loader's task and handler take it from there).
    assert [(t["name"], t["data"]) for t in mx1["domains_role"]["network"]["tables"]][:2] == [
        ("virtual_alias_map", mx1["table_files"]["virtual_alias_map"]),
        ("virtual_mailbox_map", mx1["table_files"]["virtual_mailbox_map"])]
    assert model_of(inventory.run("mx2"))["domains_role"]["network"]["connection"]["scope"] == "mx2"


def test_a_shared_scope_with_the_same_rows_passes(tmp_path, home):
    shared = dict(DB, scope="site-a")
    hosts = {"mx1": dict(DOMAINS, vhosting_domains__backend="mysql", vhosting_domains__database=shared),
             "mx1b": dict(DOMAINS, vhosting_domains__backend="mysql", vhosting_domains__database=shared)}
    model_of(play(tmp_path, hosts).run("mx1"))


@pytest.mark.parametrize("limited", [False, True])
def test_two_writers_of_one_scope_with_different_rows_are_refused_before_anything(tmp_path, home, limited):
    shared = dict(DB, scope="site-a")
    changed = dict(DOMAINS, vhosting_domain__alias_test=dict(ALIAS, aliases={"sales": "info@box.test"}))
    hosts = {"mx1": dict(DOMAINS, vhosting_domains__backend="pgsql", vhosting_domains__database=shared),
             "mx2": dict(changed, vhosting_domains__backend="pgsql", vhosting_domains__database=shared),
             # Another database, or another scope: no conflict.
             "mx3": dict(changed, vhosting_domains__backend="pgsql", vhosting_domains__database=dict(DB, scope="b")),
             "mx4": dict(changed, vhosting_domains__backend="mysql", vhosting_domains__database=shared)}
    inventory = play(tmp_path, hosts)
    # As with --limit mx1 (mx2 is in the inventory, not in the play): the same refusal.
    task_vars = inventory.task_vars("mx1")
    if limited:
        task_vars = dict(task_vars, ansible_play_hosts=["mx1"], ansible_play_hosts_all=["mx1"])
    result = inventory.run("mx1", task_vars)
    assert result["failed"] is True and "ansible_facts" not in result
    assert result["problems"] == [
        "vhosting_domains__database: mx1 and mx2 write the same rows (pgsql on db.test:5432, vhosting_postfix, "
        "table vhosting_postfix_rows, scope site-a), but their inventories give different rows (0 rows only on mx1, "
        "1 changed, 0 only on mx2; virtual_alias_map sales@alias.test: 'bob@box.test' on mx1, 'info@box.test' on "
        "mx2), so each run would undo the other's: give each host its own scope (the default, its inventory "
        "name), or the same domains"]
    assert not (home / "tmp").exists() or files_under(home / "tmp") == []
