#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: network_tables
short_description: Load the host model's lookup tables into PostgreSQL, MySQL/MariaDB or LDAP
version_added: 0.3.0
description:
  - An action plugin. It compares what the database holds with the model's table data files and writes only the
    difference, with modules run on the managed host - SQL with one run of M(vhosting.postfix.sql_rows) (the key
    ranges' digests, the rows of the ranges that differ, one transaction, new rows in bulk; no other collection
    needed), LDAP with C(community.general.ldap_search) and M(vhosting.postfix.ldap_rows).
  - Only the rows of the connection's C(scope) (the writer - the mail host, or hosts that serve the same domains)
    are read, written and removed; other scopes in the same table or base DN are never touched.
  - SQL - one table (C(vhosting_postfix_rows) by default) with the columns C(scope), C(map_name), C(lookup_key),
    C(lookup_value), created when missing; the changes of a phase in one transaction (new rows with PostgreSQL
    C(COPY) or MariaDB multi-row C(INSERT)). A table without the
    C(scope) column (the layout before scopes) is refused and left alone. LDAP - C(ou=<scope>) under the base DN,
    one C(ou=<table>) per table below it, one C(organizationalRole) entry C(cn=<key>) per row with the value in
    C(description) (core schema only), read with C(community.general.ldap_search) and written with
    M(vhosting.postfix.ldap_rows) - every change of a phase in one module run, new entries first, removals last.
  - Only the collection's own tables (C(virtual_alias_map), C(virtual_mailbox_map), C(transport_map),
    C(virtual_alias_domains_map), C(virtual_mailbox_domains_map), and the Dovecot role's C(sender_login_map)) are
    read and written; rows of those tables that the model no longer has are removed.
  - Keys are stored in lower case (postmap folds them in files, Postfix folds them before every query).
  - The C(vhosting.postfix.domains) role runs it; the password is passed with C(no_log) and never returned.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  action:
    support: full
    description: Runs on the control node and executes the database modules on the managed host.
  check_mode:
    support: full
    description: Reads the database and reports the difference; writes nothing.
  diff_mode:
    support: full
    description: One C(table key value) line per row removed, changed or added (at most 200 shown).
options:
  backend:
    description: The database.
    type: str
    choices: [pgsql, mysql, ldap]
    required: true
  connection:
    description:
      - The connection as the host model has it (C(vhosting_postfix__model.domains_role.network.connection)) -
        C(host), C(port), C(name) (database, or LDAP base DN), C(user) (Postfix's), C(admin_user) (the loader's
        user or bind DN), C(table), C(scope), C(tls) and C(ca_file) (the loader checks the server's certificate as
        Postfix does - PostgreSQL C(verify-full), MariaDB with the host name, LDAP StartTLS).
    type: dict
    required: true
  login_password:
    description:
      - The password of C(admin_user). Default - C(admin_password), else C(password), of the variable
        C(vhosting_domains__database), read by the action itself so that the password is in no task argument.
    type: str
  reader_password:
    description:
      - The password of Postfix's user (C(user) of the connection). MariaDB shows an account only its own privileges,
        so Postfix's user itself is asked whether it may change the table (C(INSERT), C(UPDATE), C(DELETE), C(DROP)
        or C(ALTER) - refused, nothing written); PostgreSQL asks as the loader (C(has_table_privilege)); LDAP binds
        as Postfix's user and adds a value the scope entry already has (M(vhosting.postfix.ldap_rows)'s write probe -
        C(typeOrValueExists) means it may write - refused, nothing written). Default -
        C(password) of the variable C(vhosting_domains__database), read by the action itself.
    type: str
  phase:
    description:
      - C(upsert) writes the added and changed rows, C(remove) removes the rows the model no longer has, C(all) both.
      - The domains role runs C(upsert) in its tasks and C(remove) in a handler, after Postfix's reload, so that a
        domain moved from one host to another is taken by one of them at every moment.
    type: str
    choices: [all, upsert, remove]
    default: all
  tables:
    description: Table name -> data file on the control node (C(key<TAB>value) lines, C(vhosting_postfix__model.table_files)).
    type: dict
    required: true
requirements:
  - On the managed host, the driver of the database module (python3-psycopg2, python3-pymysql, python3-ldap);
    the vhosting.postfix.server role installs it when a network backend is in use.
seealso:
  - module: vhosting.postfix.lookup_parity
"""

EXAMPLES = r"""
- name: Load the tables into PostgreSQL
  vhosting.postfix.network_tables:
    backend: pgsql
    connection: "{{ vhosting_postfix__model.domains_role.network.connection }}"
    tables: "{{ vhosting_postfix__model.table_files }}"
"""

RETURN = r"""
added:
  description: Rows (entries) added.
  type: int
  returned: success
updated:
  description: Rows whose value changed.
  type: int
  returned: success
removed:
  description: Rows removed.
  type: int
  returned: success
created:
  description: The SQL table, or the LDAP containers, created.
  type: list
  elements: str
  returned: success
rows:
  description: Rows of the model.
  type: int
  returned: success
scope:
  description: The scope whose rows were compared and written.
  type: str
  returned: success
phase:
  description: The phase that ran (C(all), C(upsert) or C(remove)).
  type: str
  returned: success
pending_remove:
  description:
    - In the C(upsert) phase, the rows the C(remove) phase will remove. They make the task C(changed), so that it
      notifies the handler that removes them.
  type: int
  returned: success
"""
