# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vhosting.postfix.network_tables.

Loads the model's lookup tables into PostgreSQL, MySQL/MariaDB or LDAP, in
the rows of the host's scope only, with modules executed on the managed
host.

* SQL: one run of the collection's sql_rows does the whole exchange (the
  table's check, the digests of its key ranges, the rows of the ranges that
  differ, one transaction with the difference, new rows in bulk: the pure
  core _sql_rows.sync). No other collection is needed, only the host's
  driver (python3-psycopg2, python3-pymysql, installed by the domains role).
* LDAP: community.general's ldap_search reads the scope, the controller
  compares it with the model's data files (_network_tables.changes), and the
  collection's ldap_rows applies every change of the run in one module run
  (new entries first, removals last). community.general is optional
  (requirements.yml, not a galaxy.yml dependency): before any module runs,
  the action checks that ldap_search resolves, and fails naming the missing
  collection and the command that installs it.

``phase`` splits a run: ``upsert`` (added and changed rows; rows left to
remove make it changed), then ``remove``, which the domains role runs as a
handler after Postfix's reload, so that every host's new rows are in service
before any host's old ones go. No difference: no write, changed=false. Check
mode reads and reports, and writes nothing.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase
from ansible.utils.collection_loader import AnsibleCollectionConfig

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables as nt
from ansible_collections.vhosting.postfix.plugins.plugin_utils._vault_text import plain
from ansible_collections.vhosting.postfix.plugins.test.collection_installed import collection_installed, install_hint

# SQL: the whole exchange is one run of the collection's sql_rows (no other collection needed).
SQL_WRITER = "vhosting.postfix.sql_rows"
# LDAP is read with community.general's ldap_search and written with the collection's ldap_rows (every change of a
# run in one module run).
_LDAP_MODULES = ("community.general.ldap_search",)
LDAP_WRITER = "vhosting.postfix.ldap_rows"


def _loader_configured():
    """Whether Ansible's collection loader is set up (every ansible-* command does it before running a play)."""
    return AnsibleCollectionConfig.collection_finder is not None


def missing_modules(backend, module_loader, collection_list=None):
    """Why the backend's modules cannot run: a message naming the collection and how to install it, or None.

    module_loader is the action's (ansible.plugins.loader.module_loader), which
    resolves the names the way _execute_module does. The collection is looked
    for first: resolving a module of a collection that is not installed makes
    the loader print a warning of its own.
    """
    if backend != "ldap":
        return None  # SQL: the collection's own sql_rows, with the host's driver (python3-psycopg2, python3-pymysql)
    names = _LDAP_MODULES
    collection = ".".join(names[0].split(".")[:2])
    if not collection_installed(collection):
        why = "the %s backend needs the collection %s (%s), which is not installed on the control node; " \
            "install it: %s" % (backend, collection, ", ".join(names), install_hint(collection))
        return collection, list(names), why
    if not _loader_configured():
        return None  # outside an ansible-* process (unit tests) the loader resolves nothing
    # Installed, but without the module (too old, or a plugin filter hides it).
    missing = [name for name in names
               if not module_loader.find_plugin_with_context(name, collection_list=collection_list).resolved]
    if not missing:
        return None
    why = "the %s backend needs %s, which the installed collection %s does not have (older than requirements.yml " \
        "asks for?); upgrade it: %s" % (backend, ", ".join(missing), collection, install_hint(collection, upgrade=True))
    return collection, missing, why


class _Failed(Exception):
    def __init__(self, message, result=None):
        Exception.__init__(self, message)
        self.result = result or {}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("backend", "connection", "login_password", "reader_password", "tables", "phase"))

    def _module(self, name, args, task_vars, read_only=False):
        """Run a module on the host; ``read_only`` runs it without check mode (reads that check mode must still do)."""
        check_mode = self._task.check_mode
        if read_only:
            self._task.check_mode = False
        try:
            result = self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        finally:
            self._task.check_mode = check_mode
        if result.get("failed"):
            raise _Failed("%s: %s" % (name, to_native(result.get("msg", result))), result)
        return result

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._task.args
        backend = args.get("backend")
        connection = args.get("connection") or {}
        password, reader_password = args.get("login_password"), args.get("reader_password")
        if password is None or reader_password is None:
            # The role's variable, read here so that the passwords are in no task argument.
            database = plain(self._templar.template(task_vars.get("vhosting_domains__database") or {}))
            if password is None:
                password = database.get("admin_password") or database.get("password") or ""
            if reader_password is None:
                reader_password = database.get("password") or ""
        tables = args.get("tables") or {}
        phase = args.get("phase") or "all"
        if phase not in nt.PHASES:
            raise AnsibleError("network_tables: phase must be one of %s" % ", ".join(nt.PHASES))
        if backend not in nt.NETWORK_BACKENDS:
            raise AnsibleError("network_tables: backend must be one of %s" % ", ".join(nt.NETWORK_BACKENDS))
        missing = missing_modules(backend, self._shared_loader_obj.module_loader, self._task.collections)
        if missing:
            collection, modules, why = missing
            result.update(failed=True, changed=False, missing_collection=collection, missing_modules=modules,
                          msg="network_tables: %s" % why)
            return result
        desired, texts = {}, {}
        try:
            for map_name, path in sorted(tables.items()):
                if map_name not in nt.MAPS:
                    raise AnsibleError("network_tables: unknown table %r (one of %s)" % (map_name, ", ".join(nt.MAPS)))
                with open(self._loader.path_dwim(path), "r", encoding="utf-8", errors="surrogateescape") as handle:
                    texts[map_name] = handle.read()
                desired[map_name] = nt.parse_rows(texts[map_name])
        except (IOError, OSError, nt.NetworkTableError) as exc:
            raise AnsibleError("network_tables: cannot read the model's table data: %s" % to_native(exc))
        try:
            if backend == "ldap":
                delta = self._ldap(connection, password, desired, task_vars, phase, reader_password)
                report = dict(added=len(delta["add"]), updated=len(delta["change"]), removed=len(delta["remove"]),
                              created=delta.get("created", []), pending_remove=delta.get("pending_remove", 0),
                              summary=nt.summary(delta))
                if self._task.diff and (delta["add"] or delta["change"] or delta["remove"]):
                    before, after = nt.diff_text(delta)
                    report["diff"] = {"before": before, "after": after, "before_header": "ldap rows",
                                      "after_header": "ldap rows"}
            else:
                report = self._sql(backend, connection, password, texts, task_vars, phase, reader_password)
                report["summary"] = report.get("msg", "")
        except _Failed as exc:
            result.update(failed=True, changed=False,
                          msg="network_tables: the %s database at %s:%s: %s"
                              % (backend, connection.get("host"), connection.get("port"), exc))
            return result
        # The upsert phase reports rows left to remove as a change too: the role's handler removes them.
        pending = report.get("pending_remove", 0)
        created = report.get("created") or []
        changed = bool(report["added"] or report["updated"] or report["removed"] or created or pending)
        result.update(
            changed=changed,
            added=report["added"], updated=report["updated"], removed=report["removed"],
            created=created, pending_remove=pending,
            rows=sum(len(rows) for rows in desired.values()), scope=connection.get("scope"), phase=phase,
            msg="%s, scope %s: %s%s%s" % (
                backend, connection.get("scope"), report["summary"], "; %d rows to remove next" % pending if pending else "",
                " (check mode: nothing written)" if self._task.check_mode and changed else ""),
        )
        if self._task.diff and changed and report.get("diff"):
            result["diff"] = report["diff"]
        return result

    # --- SQL -----------------------------------------------------------------

    def _sql(self, backend, connection, password, texts, task_vars, phase, reader_password=""):
        """One run of vhosting.postfix.sql_rows on the host: the whole exchange (the table's check, the key ranges'
        digests, the rows of the ranges that differ, one transaction with the difference; _sql_rows.sync)."""
        args = dict(backend=backend, host=connection["host"], port=connection["port"], database=connection["name"],
                    user=connection["admin_user"], password=password, reader_user=connection["user"],
                    reader_password=reader_password, table=connection["table"], scope=connection["scope"],
                    tables=texts, phase=phase, tls=bool(connection.get("tls")))
        if connection.get("tls"):
            args["ca_file"] = connection["ca_file"]
        return self._module(SQL_WRITER, args, task_vars)

    # --- LDAP ----------------------------------------------------------------

    def _ldap(self, connection, password, desired, task_vars, phase, reader_password=""):
        base = {
            "server_uri": "ldap://%s:%d" % (connection["host"], connection["port"]),
            "bind_dn": connection["admin_user"] or None,
            "bind_pw": password,
        }
        if not base["bind_dn"]:
            del base["bind_dn"]
        if connection.get("tls"):
            base.update(start_tls=True, validate_certs=True, ca_path=connection["ca_file"])
        root = connection["name"]
        scope = nt.scope_base(connection)
        created = []
        entries = []
        try:
            entries = self._module("community.general.ldap_search", dict(
                base, dn=scope, scope="children", attrs=["cn", nt.LDAP_VALUE_ATTRIBUTE]), task_vars)["results"]
        except _Failed as exc:
            if "Base not found" not in str(exc):
                raise
            if phase == "remove":
                return nt.phase_of(nt.changes({}, desired), phase)  # no rows of the scope: nothing to remove
            created.append(scope)
        existing = set(e.get("dn", "").lower() for e in entries)
        # ldap_rows leaves an entry that is there as it is: the base DN is made sure of with the scope's entry.
        containers = [(root, "organizationalUnit", {"ou": root.split(",")[0].split("=", 1)[1].strip()}),
                      (scope, "organizationalUnit", {"ou": connection["scope"]})] if created else []
        for map_name in nt.MAPS:
            dn = nt.map_base(connection, map_name)
            if dn.lower() not in existing and phase != "remove":
                if map_name in desired and desired[map_name]:
                    containers.append((dn, "organizationalUnit", {"ou": map_name}))
        current = nt.rows_from_ldap(entries, connection)
        full = nt.changes(current, desired)
        delta = nt.phase_of(full, phase)
        delta["pending_remove"] = len(full["remove"]) if phase == "upsert" else 0
        delta["created"] = created + [dn for dn, _c, _a in containers if dn not in (root, scope)]
        add = [{"dn": dn, "attributes": dict(attributes, objectClass=object_class)}
               for dn, object_class, attributes in containers]
        add += [{"dn": nt.ldap_dn(connection, map_name, key),
                 "attributes": {"objectClass": nt.LDAP_OBJECT_CLASS, "cn": key, nt.LDAP_VALUE_ATTRIBUTE: value}}
                for map_name, key, value in delta["add"]]
        replace = [{"dn": nt.ldap_dn(connection, map_name, key), "attribute": nt.LDAP_VALUE_ATTRIBUTE, "value": new}
                   for map_name, key, _old, new in delta["change"]]
        delete = [nt.ldap_dn(connection, map_name, key) for map_name, key, _old in delta["remove"]]
        # One module run for every change (new entries first, deletions last), not one per row; first (in check
        # mode and in a run without changes too) whether Postfix's reader may write there (nt.ldap_probe_dns).
        try:
            self._module(LDAP_WRITER, dict(server_uri=base["server_uri"], bind_dn=base.get("bind_dn") or "",
                                           bind_pw=base["bind_pw"], start_tls=bool(connection.get("tls")),
                                           ca_file=connection.get("ca_file") or "", add=add, replace=replace,
                                           delete=delete, probe_dns=nt.ldap_probe_dns(connection),
                                           probe_bind_dn=connection["user"], probe_bind_pw=reader_password),
                         task_vars, read_only=not (add or replace or delete))
        except _Failed as exc:
            if not exc.result.get("writable"):
                raise
            raise _Failed("Postfix's LDAP user %s may change the entry %s (adding a value the entry has passed the "
                          "server's access check, and changed nothing): it needs read access only, and its password "
                          "is in a file every Postfix process can read; take its write access away (olcAccess); "
                          "nothing was written" % (connection["user"] or "(anonymous)", exc.result.get("probed")))
        return delta
