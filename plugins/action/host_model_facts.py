# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vhosting.postfix.host_model_facts (runs on the control node only; formerly host_model).

Resolves, for the host it runs for, every variable of the collection's
roles (the inventory and play values over the roles' own defaults/main.yml,
so the relay role's variables are known even while the server role runs),
checks them against the roles' meta/argument_specs.yml, collects the
``vhosting_domain__*`` definitions (and those of the primaries of a backup
MX, from their hostvars), and builds the host's model with the pure core
``_host_model``. Every problem found is reported at once, in the
collection's own words.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections import ChainMap

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import (
    DOMAIN_PREFIX,
    ModelError,
    check_variable_names,
    domain_options,
    fingerprint,
    host_model,
    raw_fingerprint,
)
from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_checks import lookalike_names
from ansible_collections.vhosting.postfix.plugins.plugin_utils._parts import ROLE_PREFIXES
from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay import RelayError, expand_backup_for
from ansible_collections.vhosting.postfix.plugins.plugin_utils import _fingerprint_key, _table_files
from ansible_collections.vhosting.postfix.plugins.plugin_utils._vault_text import plain

display = Display()
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Variables read from a primary's own inventory (not the backup's).
_PRIMARY_ONLY = ("vhosting_relay__address",)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _load(self, path):
        try:
            return self._loader.load_from_file(path, trusted_as_template=True) or {}
        except TypeError:  # ansible-core < 2.19 templates every string anyway
            return self._loader.load_from_file(path) or {}

    def _roles(self):
        """role -> (defaults, argument spec options) of the collection's roles."""
        roles = {}
        for role, _prefix in ROLE_PREFIXES:
            base = os.path.join(_ROOT, "roles", role)
            defaults = self._load(os.path.join(base, "defaults", "main.yml"))
            specs = self._load(os.path.join(base, "meta", "argument_specs.yml"))
            options = specs.get("argument_specs", {}).get("main", {}).get("options", {}) or {}
            roles[role] = (dict(defaults), dict(options))
        return roles

    def _resolver(self, raw_vars, defaults):
        """A function name -> templated value for one host (its variables over the roles' defaults)."""
        layered = ChainMap(raw_vars, defaults)
        templar = self._templar.copy_with_new_env(available_variables=layered)

        def resolve(name, fallback=None):
            if name not in layered:
                return fallback
            return plain(templar.template(layered[name]))
        return resolve

    def _values(self, resolve, roles, problems, where=""):
        """Every role variable, templated and checked against the role's argument spec."""
        values = {}
        for role, (_defaults, options) in sorted(roles.items()):
            params = {}
            for name, spec in options.items():
                try:
                    value = resolve(name, (spec or {}).get("default"))
                except AnsibleError as exc:
                    problems.append("%s%s: %s" % (where, name, to_native(exc)))
                    continue
                if value is not None or name not in _PRIMARY_ONLY:
                    params[name] = value
            result = ArgumentSpecValidator(options).validate(params)
            for error in result.errors:
                problems.append("%svhosting.postfix.%s role: %s" % (where, role, to_native(error)))
            values.update(result.validated_parameters)
        return values

    def _definitions(self, names, resolve, problems, where=""):
        definitions = {}
        for name in names:
            try:
                definitions[name] = resolve(name)
            except AnsibleError as exc:
                problems.append("%s%s: %s" % (where, name, to_native(exc)))
        return definitions

    def _primaries(self, values, task_vars, roles, defaults, problems):
        """The primaries of a backup MX, each {host, nexthop, definitions, options}, from their hostvars."""
        try:
            entries = expand_backup_for(values.get("vhosting_relay__backup_for"), task_vars.get("groups", {}),
                                        task_vars.get("inventory_hostname"))
        except RelayError as exc:
            problems.append(str(exc))
            return []
        hostvars = task_vars.get("hostvars")
        primaries = []
        for entry in entries:
            host = entry["host"]
            raw = hostvars.raw_get(host) if hostvars is not None else {}
            raw = dict(raw) if hasattr(raw, "keys") else {}
            where = "vhosting_relay__backup_for: primary %s: " % host
            resolve = self._resolver(raw, defaults)
            own = self._values(resolve, roles, problems, where)
            names = sorted(n for n in raw if n.startswith(DOMAIN_PREFIX))
            nexthop = entry["nexthop"]
            if nexthop is None:
                try:
                    address = next((resolve(n) for n in ("vhosting_relay__address", "vhosting_server__myhostname",
                                                         "ansible_host") if n in raw), host)
                except AnsibleError:
                    # Already a problem of the primary's values (above); its next hop stays unknown.
                    address = host
                nexthop = "[%s]" % address
            # Where the primary's rows are, when its tables are in a database: a backup MX with the same database
            # and table reads its recipients from them (_relay_part.database_recipients).
            connection = _network_tables.check_database(own.get("vhosting_domains__backend"),
                                                        own.get("vhosting_domains__database"), [], hostname=host)
            database = None
            if connection:
                target = _network_tables.target(own["vhosting_domains__backend"], connection)
                database = {"target": list(target[:5]), "scope": connection["scope"]}
            primaries.append({
                "host": host,
                "nexthop": nexthop,
                "database": database,
                "definitions": self._definitions(names, resolve, problems, where),
                "options": domain_options(own),
            })
        return primaries

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        hostname = task_vars.get("inventory_hostname")
        known = task_vars.get("vhosting_postfix__model")
        play = _play_id(self._task)
        if play is not None and isinstance(known, dict) and known.get("play") == play and _files_exist(known):
            # The dependency runs before each role: within one play, the same
            # untemplated input as for the model this play built or confirmed
            # is the same model, without templating every definition again.
            key = self._key()
            if not isinstance(key, list) and known.get("raw_input") == raw_fingerprint(
                    task_vars, hostname, key, self._resolver(task_vars, {})):
                result.update(changed=False, msg="validated earlier in this play: " + _summary(known))
                return result
        roles = self._roles()
        defaults = {}
        for role_defaults, _options in roles.values():
            defaults.update(role_defaults)
        problems = check_variable_names([n for n in task_vars if n.startswith("vhosting_")],
                                        dict((role, set(options)) for role, (_d, options) in roles.items()))
        problems.extend(lookalike_names(n for n in task_vars if not n.isascii()))
        resolve = self._resolver(task_vars, defaults)
        unusable = []  # values of the wrong type: the model cannot be built from them
        values = self._values(resolve, roles, unusable)
        definitions = self._definitions(sorted(n for n in task_vars if n.startswith(DOMAIN_PREFIX)), resolve, unusable)
        problems.extend(unusable)
        if unusable:
            return self._failed(result, hostname, problems)
        primaries = self._primaries(values, task_vars, roles, defaults, problems)
        key = self._key()
        if isinstance(key, list):
            return self._failed(result, hostname, problems + key)
        raw = raw_fingerprint(task_vars, hostname, key, resolve)
        if not problems and isinstance(known, dict) and known.get("fingerprint") == fingerprint(
                values, definitions, primaries, hostname, key) and _files_exist(known):
            # The same input as for the model this host already has (from an
            # earlier play of this run): it is valid and current; the rest of
            # this play takes the shortcut above.
            result.update(changed=False, msg="input unchanged since the last validation: " + _summary(known),
                          ansible_facts={"vhosting_postfix__model": dict(known, play=play, raw_input=raw)})
            _show(hostname, known, result)
            return result
        try:
            model = host_model(values, definitions, primaries, hostname, key)
        except ModelError as exc:
            problems.extend(exc.problems)
        if problems:
            return self._failed(result, hostname, problems)
        problems = self._peer_problems(model, hostname, task_vars, roles, defaults)
        if problems:
            return self._failed(result, hostname, problems)
        try:
            _tables_to_files(model)
        except (IOError, OSError, ValueError) as exc:
            return self._failed(result, hostname, ["cannot write the model's tables on the control node: %s"
                                                   % to_native(exc)])
        model.update(play=play, raw_input=raw)
        result.update(changed=False, ansible_facts={"vhosting_postfix__model": model},
                      msg=_summary(model))
        _show(hostname, model, result)
        return result

    def _peer_problems(self, model, hostname, task_vars, roles, defaults):
        """Hosts of the inventory (in this play or not: a --limit run must not undo theirs) that write the same
        database rows as this host, with rows of their own that differ (_network_tables.peer_conflicts)."""
        network = (model.get("domains_role") or {}).get("network")
        if not network:
            return []
        mine = _network_tables.target(network["backend"], network["connection"])
        names = [table["name"] for table in network["tables"] if table.get("load", True)]
        hostvars = task_vars.get("hostvars")
        groups = task_vars.get("groups", {})
        peers = []
        for other in groups.get("all", []):
            raw = hostvars.raw_get(other) if other != hostname and hostvars is not None else {}
            raw = dict(raw) if hasattr(raw, "keys") else {}
            if "vhosting_domains__backend" not in raw:
                continue
            resolve = self._resolver(raw, defaults)
            try:
                backend = resolve("vhosting_domains__backend")
                connection = _network_tables.check_database(backend, resolve("vhosting_domains__database", {}),
                                                            [], hostname=other)
            except AnsibleError:
                continue  # that host's own run reports it
            if connection is None or _network_tables.target(backend, connection) != mine:
                continue
            problems = []
            values = self._values(resolve, roles, problems)
            definitions = self._definitions(sorted(n for n in raw if n.startswith(DOMAIN_PREFIX)), resolve, problems)
            rows = None
            if not problems:
                primaries = self._primaries(values, dict(task_vars, inventory_hostname=other), roles, defaults,
                                            problems)
                try:
                    built = host_model(values, definitions, primaries, other)
                    rows = _rows(built, names)
                except ModelError:
                    rows = None
            peers.append((other, None if problems else rows))
        return _network_tables.peer_conflicts(hostname, mine, _rows(model, names), peers)

    @staticmethod
    def _key():
        """The fingerprint's secret, on the control node only (see _fingerprint_key), or [the problem]."""
        try:
            return _fingerprint_key.load_or_create(_fingerprint_key.key_path(C.config.get_config_value("ANSIBLE_HOME")))
        except (IOError, OSError, _fingerprint_key.FingerprintKeyError) as exc:
            return ["cannot read or make the key of the model's fingerprint on the control node: %s" % to_native(exc)]

    @staticmethod
    def _failed(result, hostname, problems):
        count = len(problems)
        result.update(
            failed=True, changed=False, problems=problems,
            msg=failure_message(hostname, problems))
        return result


def failure_message(hostname, problems):
    """The message of a refused inventory: a head line, then each problem on a line of its own."""
    count = len(problems)
    return "vhosting.postfix: %d problem%s in the inventory of %s, nothing was changed on any host:\n%s" % (
        count, "" if count == 1 else "s", hostname, "\n".join("  - %s" % p for p in problems))


def _show(hostname, model, result):
    """The model's summary, one line per host at default verbosity, once per play (not on the later roles'
    "validated earlier in this play"). On standard error, as Ansible's warnings: a stdout callback's output (JSON,
    YAML) stays what it is. What the operator must know although the input is valid comes as the result's
    warnings."""
    display.display("vhosting.postfix model of %s: %s" % (hostname, _summary(model)), stderr=True)
    warnings = []
    dovecot, tls = model.get("dovecot") or {}, model.get("tls") or {}
    if dovecot.get("enabled") and tls.get("source") == "selfsigned":
        warnings.append("%s: vhosting_tls__source is selfsigned, so IMAP and submission use a self-signed "
                        "certificate made on the host (%s), which mail clients do not trust: for tests only (acme or "
                        "files for mail clients)" % (hostname, dovecot.get("tls_cert_file")))
    if warnings:
        result["warnings"] = warnings


def _tables_to_files(model):
    """Move the model's large tables (``maps``, from every part) out of the fact into data files on the control
    node (see _table_files)."""
    tables = model.pop("maps")
    model["table_entries"] = dict((name, len(mapping)) for name, mapping in tables.items())
    base = os.path.join(C.config.get_config_value("ANSIBLE_HOME"), "tmp", "vhosting-postfix-tables")
    model["table_files"] = _table_files.write(base, model["fingerprint"], tables)
    # Each database table names its data file, for the loader's tasks and handler.
    network = (model.get("domains_role") or {}).get("network")
    for entry in (network or {}).get("tables", []):
        entry["data"] = model["table_files"][entry["name"]]


def _rows(model, names):
    """The database rows of a model's tables, as the loader writes them (the data files' lines, keys folded)."""
    return dict((name, _network_tables.parse_rows(_table_files.render(model["maps"].get(name) or {})))
                for name in names)


def _play_id(task):
    """The identity of the play a task runs in (None when it cannot be told)."""
    node = task
    while node is not None:
        play = getattr(node, "_play", None)
        if play is not None:
            return getattr(play, "_uuid", None)
        node = getattr(node, "_parent", None)
    return None


def _files_exist(model):
    return all(os.path.exists(path) for path in (model.get("table_files") or {}).values())


def _summary(model):
    domains = model["domains"]
    relay = model["relay"] or {}
    dovecot = model.get("dovecot") or {}
    return ("%d canonical, %d alias/forwarding, %d mailbox domains (%d stored by Dovecot); %d mailboxes (%d Dovecot "
            "accounts), %d alias entries; backup MX for %d domains"
            % (len(domains["canonical_domains"]), len(domains["alias_domains"]), len(domains["mailbox_domains"]),
               len(domains.get("dovecot_domains", [])), domains["counts"]["mailboxes"], len(dovecot.get("users", [])),
               model.get("table_entries", {}).get("virtual_alias_map", 0),
               len((relay.get("model") or {}).get("relay_domains", []))))
