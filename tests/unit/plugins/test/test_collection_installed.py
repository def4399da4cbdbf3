# -*- coding: utf-8 -*-
"""The collection_installed test plugin, and the network_tables action's check of the optional collections with it
(a missing collection fails before any module runs, naming the collection and the install command)."""
import os
from unittest import mock

import pytest
import yaml
# What Ansible passes as shared_loader_obj (ansible-core 2.19 uses it whatever is passed).
from ansible.plugins import loader as plugin_loader
from ansible.errors import AnsibleError

from ansible_collections.vhosting.postfix.plugins.action import network_tables as action
from ansible_collections.vhosting.postfix.plugins.test import collection_installed as plugin


def test_the_test_is_registered():
    assert plugin.TestModule().tests() == {"collection_installed": plugin.collection_installed}


@pytest.mark.parametrize("name", ["community.general", "community.postgresql", "vhosting.postfix", "ansible.builtin"])
def test_installed_collections(name):
    # The venv's ansible package brings the community collections; the unit
    # tests put this checkout on sys.path as vhosting.postfix.
    assert plugin.collection_installed(name) is True


@pytest.mark.parametrize("name", ["community.vhosting_absent", "vhosting_absent.postfix"])
def test_absent_collections(name):
    assert plugin.collection_installed(name) is False


@pytest.mark.parametrize("name", ["community", "community.general.nsupdate", "", "Community.General!", None, 3])
def test_a_name_that_is_no_collection_name_is_an_error(name):
    with pytest.raises(AnsibleError, match="is not a collection name"):
        plugin.collection_installed(name)


def test_install_hint_names_the_collection_and_the_collections_requirements_yml():
    hint = plugin.install_hint("community.mysql")
    assert hint.startswith("ansible-galaxy collection install community.mysql (")
    assert plugin.REQUIREMENTS.endswith(os.path.join("vhosting", "postfix", "requirements.yml"))
    assert os.path.isfile(plugin.REQUIREMENTS) and hint.endswith("-r %s)" % plugin.REQUIREMENTS)
    assert "install --upgrade community.mysql" in plugin.install_hint("community.mysql", upgrade=True)


def test_requirements_yml_lists_the_collections_that_the_backends_need():
    with open(plugin.REQUIREMENTS) as handle:
        listed = {c["name"] for c in yaml.safe_load(handle)["collections"]}
    # The mail host's LDAP reads, and the database_server role's modules for each backend.
    with open(os.path.join(os.path.dirname(plugin.REQUIREMENTS), "roles", "database_server", "tasks", "main.yml")) as h:
        server = yaml.safe_load(h)[0]["vars"]["vhosting_postfix__database_server_collections"]
    needed = {name.rsplit(".", 1)[0] for name in action._LDAP_MODULES} | set(server.values())
    assert needed == {"community.general", "community.mysql", "community.postgresql"} and needed <= listed


class Loader(object):
    """A module loader that resolves every name but the given ones."""

    def __init__(self, absent=()):
        self.absent, self.asked = set(absent), []

    def find_plugin_with_context(self, name, collection_list=None):
        self.asked.append(name)
        return mock.Mock(resolved=name not in self.absent)


@pytest.mark.parametrize("backend, collection", [("ldap", "community.general")])
def test_a_missing_collection_is_named_with_the_install_command(monkeypatch, backend, collection):
    seen = []

    def absent(name):
        seen.append(name)
        return False

    monkeypatch.setattr(action, "collection_installed", absent)
    loader = Loader()
    name, modules, why = action.missing_modules(backend, loader)
    assert seen == [collection] and name == collection and modules and loader.asked == []
    assert why.startswith("the %s backend needs the collection %s (" % (backend, collection))
    assert "ansible-galaxy collection install %s (" % collection in why and plugin.REQUIREMENTS in why


def test_an_installed_collection_without_the_module_is_named_with_the_upgrade_command(monkeypatch):
    monkeypatch.setattr(action, "_loader_configured", lambda: True)
    loader = Loader(absent=["community.general.ldap_search"])
    name, modules, why = action.missing_modules("ldap", loader, ["vhosting.postfix"])
    assert (name, modules) == ("community.general", ["community.general.ldap_search"])
    assert loader.asked == list(action._LDAP_MODULES)
    assert "ansible-galaxy collection install --upgrade community.general (" in why


@pytest.mark.parametrize("backend", ["pgsql", "mysql", "ldap"])
def test_installed_modules_pass(monkeypatch, backend):
    monkeypatch.setattr(action, "_loader_configured", lambda: True)
    assert action.missing_modules(backend, Loader()) is None


@pytest.mark.parametrize("backend", ["pgsql", "mysql"])
def test_sql_needs_no_other_collection(monkeypatch, backend):
    # The SQL exchange is the collection's own sql_rows: no collection is asked for, none can be missing.
    seen = []
    monkeypatch.setattr(action, "collection_installed", lambda name: seen.append(name) or False)
    assert action.missing_modules(backend, Loader()) is None and seen == []


def test_the_action_fails_before_any_module_runs(monkeypatch, tmp_path):
    monkeypatch.setattr(action, "collection_installed", lambda name: False)
    task = mock.MagicMock()
    task.async_val = 0
    task.check_mode = False
    task.args = {"backend": "ldap", "connection": {"host": "db", "port": 389}, "login_password": "Login-Secret-7Q",
                 "tables": {"virtual_alias_map": str(tmp_path / "absent.txt")}}
    module = action.ActionModule(task, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), plugin_loader)
    with mock.patch.object(action.ActionModule, "_execute_module") as execute:
        result = module.run(task_vars={})
    assert execute.call_count == 0
    assert result["failed"] and not result["changed"] and result["missing_collection"] == "community.general"
    assert result["msg"].startswith("network_tables: the ldap backend needs the collection community.general")
    # (A password that no temporary directory name can contain by chance.)
    assert "Login-Secret-7Q" not in str(result)
