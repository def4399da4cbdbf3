#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ldap_rows
short_description: Apply many LDAP entry changes over one connection (the network tables' LDAP writer)
version_added: 0.5.0
description:
  - Adds, changes and deletes LDAP entries over one connection in one module run, in that order (new entries first,
    deletions last). The C(vhosting.postfix.network_tables) action uses it to write the rows of an LDAP lookup table,
    so that 100,000 rows cost one round trip to the managed host instead of one module run each.
  - Each change is its own LDAP operation (LDAP has no multi-entry transaction); the first failing one fails the
    module, naming its DN, and the ones before it stay applied (a later run writes the rest).
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Reports what it would change and changes nothing.
    support: full
  diff_mode:
    description: No diff; the action that calls it shows the rows.
    support: none
options:
  server_uri:
    description: The server, C(ldap://host:port).
    type: str
    required: true
  bind_dn:
    description: The DN to bind as; empty - anonymous.
    type: str
    default: ""
  bind_pw:
    description: Its password.
    type: str
    default: ""
  start_tls:
    description:
      - Encrypt the connection with StartTLS before the bind, and refuse a server whose certificate is not signed by
        a CA of O(ca_file) or does not name the host of O(server_uri).
    type: bool
    default: false
  ca_file:
    description: The CA certificates (PEM) that O(start_tls) trusts; empty - the system's.
    type: str
    default: ""
  probe_dns:
    description:
      - Before any change (in check mode too), find out whether O(probe_bind_dn) may change entries, with a change
        that changes nothing - adding the value C(top) to the C(objectClass) of the first of these entries that
        exists. The server checks the access first, then finds the value there already
        (C(typeOrValueExists)); so that answer means the identity may write, and the module fails naming it and the
        entry, before any change of O(add), O(replace) or O(delete). C(insufficientAccess) or any other refusal means
        it may not. The network tables' loader passes Postfix's reader, whose password is in a file every Postfix
        process reads.
    type: list
    elements: str
    default: []
  probe_bind_dn:
    description: The identity of O(probe_dns); empty - anonymous.
    type: str
    default: ""
  probe_bind_pw:
    description: Its password.
    type: str
    default: ""
  add:
    description: Entries to add, each C({dn, attributes}) (C(attributes) - name to a value or a list of values).
    type: list
    elements: dict
    default: []
  replace:
    description: Attribute values to set, each C({dn, attribute, value}).
    type: list
    elements: dict
    default: []
  delete:
    description: DNs of entries to delete (entries without children).
    type: list
    elements: str
    default: []
requirements:
  - python3-ldap on the managed host
"""

EXAMPLES = r"""
- name: Two rows of a table in LDAP
  vhosting.postfix.ldap_rows:
    server_uri: ldap://db.example.org:389
    bind_dn: cn=admin,dc=example,dc=org
    bind_pw: "{{ vault_ldap_loader }}"
    add:
      - dn: cn=ann@example.org,ou=virtual_mailbox_map,ou=mx1,ou=postfix,dc=example,dc=org
        attributes: {objectClass: organizationalRole, cn: ann@example.org, description: example.org/ann/}
    delete:
      - cn=bob@example.org,ou=virtual_mailbox_map,ou=mx1,ou=postfix,dc=example,dc=org
"""

RETURN = r"""
probed:
  description: The entry of O(probe_dns) the write probe used (none - none of them exists, or no probe).
  type: str
  returned: always
writable:
  description: True when the write probe found that O(probe_bind_dn) may write (the module failed, nothing changed).
  type: bool
  returned: when the write probe refused
added:
  description: Entries added (in check mode, to add).
  type: int
  returned: always
replaced:
  description: Entries whose attribute was set.
  type: int
  returned: always
deleted:
  description: Entries deleted.
  type: int
  returned: always
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native

try:
    import ldap
    HAS_LDAP = True
    LDAP_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - the module fails naming the package
    HAS_LDAP = False
    LDAP_IMPORT_ERROR = traceback.format_exc()


def add_modlist(attributes):
    """python-ldap's add list of an entry: [(name, [bytes, ...])] in the given order."""
    out = []
    for name, values in attributes.items():
        values = values if isinstance(values, list) else [values]
        out.append((name, [to_bytes(v, errors="surrogate_or_strict") for v in values]))
    return out


def replace_modlist(attribute, value):
    return [(ldap.MOD_REPLACE, attribute, [to_bytes(value, errors="surrogate_or_strict")])]


def apply(connection, add, replace, delete):
    """Add, replace, delete in that order; raise (dn, error) on the first failure. Returns the three counts."""
    counts = [0, 0, 0]
    for entry in add:
        try:
            connection.add_s(entry["dn"], add_modlist(entry["attributes"]))
        except ldap.ALREADY_EXISTS:
            continue  # a container that is there already (a row is never added twice: the action read them first)
        except ldap.LDAPError as exc:
            raise RowError(entry["dn"], exc)
        counts[0] += 1
    for change in replace:
        try:
            connection.modify_s(change["dn"], replace_modlist(change["attribute"], change["value"]))
        except ldap.LDAPError as exc:
            raise RowError(change["dn"], exc)
        counts[1] += 1
    for dn in delete:
        try:
            connection.delete_s(dn)
        except ldap.NO_SUCH_OBJECT:
            continue  # gone already
        except ldap.LDAPError as exc:
            raise RowError(dn, exc)
        counts[2] += 1
    return counts


def write_probe(connection, dns):
    """(dn, may write) of the first entry of ``dns`` that exists, (None, False) when none does.

    Adds the value ``top`` to its objectClass, which every entry has: the server checks the access before the
    values, so typeOrValueExists means the bound identity may write there (and nothing changed); any other refusal
    means it may not.
    """
    for dn in dns:
        try:
            connection.modify_s(dn, [(ldap.MOD_ADD, "objectClass", [b"top"])])
        except ldap.NO_SUCH_OBJECT:
            continue
        except ldap.TYPE_OR_VALUE_EXISTS:
            return dn, True
        except ldap.LDAPError:
            return dn, False
        return dn, True  # accepted: the value was there already, so nothing changed; the identity may write
    return None, False


def _connect(params, bind_dn, bind_pw):
    connection = ldap.initialize(params["server_uri"])
    connection.protocol_version = 3
    connection.set_option(ldap.OPT_NETWORK_TIMEOUT, 30)
    if params["start_tls"]:
        connection.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        if params["ca_file"]:
            connection.set_option(ldap.OPT_X_TLS_CACERTFILE, params["ca_file"])
        connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # the options above apply from here on
        connection.start_tls_s()
    if bind_dn:
        connection.simple_bind_s(bind_dn, bind_pw)
    return connection


class RowError(Exception):
    def __init__(self, dn, error):
        Exception.__init__(self, "%s: %s" % (dn, _describe(error)))


def _describe(error):
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return "%s%s" % (info.get("desc", to_native(error)), (" (%s)" % info["info"]) if info.get("info") else "")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            server_uri=dict(type="str", required=True),
            bind_dn=dict(type="str", default=""),
            bind_pw=dict(type="str", default="", no_log=True),
            start_tls=dict(type="bool", default=False),
            ca_file=dict(type="str", default=""),
            add=dict(type="list", elements="dict", default=[]),
            replace=dict(type="list", elements="dict", default=[]),
            delete=dict(type="list", elements="str", default=[]),
            probe_dns=dict(type="list", elements="str", default=[]),
            probe_bind_dn=dict(type="str", default=""),
            probe_bind_pw=dict(type="str", default="", no_log=True),
        ),
        supports_check_mode=True,
    )
    if not HAS_LDAP:
        module.fail_json(msg=missing_required_lib("python-ldap (Debian: python3-ldap)"), exception=LDAP_IMPORT_ERROR)
    params = module.params
    counts = dict(added=len(params["add"]), replaced=len(params["replace"]), deleted=len(params["delete"]))
    # Ansible echoes a module's arguments in its result: not the entries (a first load of 100,000 is megabytes sent
    # back and parsed by the controller for nothing), their numbers instead. The passwords are masked as always.
    invocation = {"module_args": dict(params, **dict((key, "(%d entries)" % len(params[key] or []))
                                                     for key in ("add", "replace", "delete")))}
    probed = None
    try:
        if params["probe_dns"]:
            probed, writable = write_probe(_connect(params, params["probe_bind_dn"], params["probe_bind_pw"]),
                                           params["probe_dns"])
            if writable:
                module.fail_json(msg="%s may change the entry %s (adding a value the entry has passed the server's "
                                     "access check, and changed nothing)"
                                     % (params["probe_bind_dn"] or "an anonymous client", probed),
                                 probed=probed, writable=True, invocation=invocation)
        if module.check_mode or not any(counts.values()):
            module.exit_json(changed=any(counts.values()), probed=probed, invocation=invocation, **counts)
        connection = _connect(params, params["bind_dn"], params["bind_pw"])
        added, replaced, deleted = apply(connection, params["add"], params["replace"], params["delete"])
    except RowError as exc:
        module.fail_json(msg="LDAP change failed at %s" % exc, invocation=invocation)
    except ldap.LDAPError as exc:
        module.fail_json(msg="LDAP server %s: %s" % (params["server_uri"], _describe(exc)), invocation=invocation)
    module.exit_json(changed=bool(added or replaced or deleted), probed=probed, added=added, replaced=replaced,
                     deleted=deleted, invocation=invocation)


if __name__ == "__main__":
    main()
