#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sql_rows
short_description: Bring one scope of the network tables' SQL table to the model's rows, in one module run
version_added: 0.5.0
description:
  - The SQL writer of the network tables (the C(vhosting.postfix.network_tables) action calls it; the domains role
    runs that action). In one run on the managed host, over one connection as the loader (and, for MariaDB, one as
    Postfix's user for the check of its privileges) it checks the table, reads the digests of its 256 key ranges for
    the scope, reads the rows of the ranges that differ from the model, and writes the difference in one
    transaction - removals and changes as two statements, new rows in bulk (PostgreSQL C(COPY), MariaDB multi-row
    C(INSERT)). Only rows of O(scope) are read or written.
  - Refuses, before any write, a table without a scope column (the layout of a release before the scopes) and a
    table that Postfix's user (O(reader_user)) may change.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Reads and reports the difference; creates and writes nothing.
    support: full
  diff_mode:
    description: The rows that change, one C(map key value) line each (at most 200 lines per side).
    support: full
options:
  backend:
    description: The database.
    type: str
    required: true
    choices: [pgsql, mysql]
  host:
    description: The database server.
    type: str
    required: true
  port:
    description: Its port.
    type: int
    required: true
  database:
    description: The database's name.
    type: str
    required: true
  user:
    description: The loader's account (may write the table).
    type: str
    required: true
  password:
    description: Its password.
    type: str
    required: true
  reader_user:
    description: Postfix's account, which must not be able to change the table.
    type: str
    required: true
  reader_password:
    description: Its password (MariaDB only - there the privilege check runs as that account).
    type: str
    default: ""
  table:
    description: The table (letters, digits, C(_)); created with the scope column and primary key when missing.
    type: str
    required: true
  scope:
    description: The rows' writer (letters, digits, C(.), C(_), C(-)); no other scope's rows are read or written.
    type: str
    required: true
  tables:
    description:
      - The model's rows, per map name (one of the collection's maps) as C(key<TAB>value) lines. A map that is not
        listed has no rows (its rows of the scope are removed).
    type: dict
    required: true
  phase:
    description: C(upsert) writes added and changed rows, C(remove) removes rows, C(all) both.
    type: str
    default: all
    choices: [all, upsert, remove]
  tls:
    description:
      - Encrypt the connection and refuse a server whose certificate is not signed by a CA of O(ca_file) or does
        not name O(host) (PostgreSQL C(sslmode=verify-full); MariaDB with the certificate and host name checked).
    type: bool
    default: false
  ca_file:
    description: The CA certificates (PEM) that O(tls) trusts.
    type: str
    default: /etc/ssl/certs/ca-certificates.crt
requirements:
  - python3-psycopg2 (PostgreSQL) or python3-pymysql (MariaDB) on the managed host
"""

EXAMPLES = r"""
- name: The rows of mx1 in the fleet's PostgreSQL table
  vhosting.postfix.sql_rows:
    backend: pgsql
    host: db.example.org
    port: 5432
    database: vhosting_postfix
    user: vhosting_admin
    password: "{{ vault_loader_password }}"
    reader_user: vhosting_postfix
    table: vhosting_postfix_rows
    scope: mx1
    tls: true
    ca_file: /etc/ssl/certs/example-ca.pem
    tables:
      virtual_alias_map: "info@example.org\tann@example.org\n"
"""

RETURN = r"""
added:
  description: Rows added (in check mode, to add).
  type: int
  returned: always
updated:
  description: Rows whose value changed.
  type: int
  returned: always
removed:
  description: Rows removed.
  type: int
  returned: always
pending_remove:
  description: In the C(upsert) phase, the rows the C(remove) phase will take.
  type: int
  returned: always
created:
  description: The table, when it was created (or, in check mode, would be).
  type: list
  elements: str
  returned: always
digest_reads:
  description: 1 when the key ranges' digests were read (the table was there).
  type: int
  returned: always
rows_read:
  description: Rows read back (those of the key ranges whose digests differ).
  type: int
  returned: always
"""

import io
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.vhosting.postfix.plugins.module_utils import _sql_rows as core

try:
    import psycopg2
    PSYCOPG2_ERROR = None
except ImportError:  # pragma: no cover - the module fails naming the package
    psycopg2 = None
    PSYCOPG2_ERROR = traceback.format_exc()
try:
    import pymysql
    PYMYSQL_ERROR = None
except ImportError:  # pragma: no cover
    pymysql = None
    PYMYSQL_ERROR = traceback.format_exc()

CONNECT_TIMEOUT = 10


class Session(object):
    """The core's database calls over a DB-API connection (psycopg2 and PyMySQL both take %(name)s parameters)."""

    def __init__(self, backend, connection):
        self.backend, self.connection = backend, connection

    def rows(self, query, params):
        cursor = self.connection.cursor()
        try:
            cursor.execute(query, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, record)) for record in cursor.fetchall()]
        finally:
            cursor.close()

    def run(self, statements, params):
        cursor = self.connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement, params)
        finally:
            cursor.close()

    def insert(self, table, rows):
        cursor = self.connection.cursor()
        try:
            if self.backend == "pgsql":
                cursor.copy_expert(core.insert_statement(self.backend, table), io.StringIO(core.copy_text(rows)))
            else:
                cursor.executemany(core.insert_statement(self.backend, table), rows)
        finally:
            cursor.close()

    def commit(self):
        self.connection.commit()

    def close(self):
        try:
            self.connection.close()
        except Exception:  # pylint: disable=broad-except
            pass


def connect_args(params, user, password):
    """The driver's connect() keywords for one account."""
    if params["backend"] == "pgsql":
        args = dict(host=params["host"], port=params["port"], dbname=params["database"], user=user, password=password,
                    connect_timeout=CONNECT_TIMEOUT, application_name="vhosting.postfix")
        if params["tls"]:
            args.update(sslmode="verify-full", sslrootcert=params["ca_file"])
        return args
    args = dict(host=params["host"], port=params["port"], database=params["database"], user=user, password=password,
                charset="utf8mb4", connect_timeout=CONNECT_TIMEOUT, autocommit=False)
    if params["tls"]:
        # (PyMySQL builds its own ssl dict from these when any is given: an ssl={"ca": ...} next to them is lost.)
        args.update(ssl_ca=params["ca_file"], ssl_verify_cert=True, ssl_verify_identity=True)
    return args


def connect(params, user, password):
    driver = psycopg2 if params["backend"] == "pgsql" else pymysql
    return Session(params["backend"], driver.connect(**connect_args(params, user, password)))


class _NoDriver(Exception):
    """Stands for the error class of a driver that is not installed (never raised)."""


def driver_errors():
    return (psycopg2.Error if psycopg2 else _NoDriver, pymysql.err.Error if pymysql else _NoDriver)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend=dict(type="str", required=True, choices=["pgsql", "mysql"]),
            host=dict(type="str", required=True),
            port=dict(type="int", required=True),
            database=dict(type="str", required=True),
            user=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
            reader_user=dict(type="str", required=True),
            reader_password=dict(type="str", default="", no_log=True),
            table=dict(type="str", required=True),
            scope=dict(type="str", required=True),
            tables=dict(type="dict", required=True),
            phase=dict(type="str", default="all", choices=["all", "upsert", "remove"]),
            tls=dict(type="bool", default=False),
            ca_file=dict(type="str", default="/etc/ssl/certs/ca-certificates.crt"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    # Ansible echoes a module's arguments in its result: not the rows (100,000 of them are 5 MB, sent back and parsed
    # by the controller for nothing). The passwords are masked in it as in every result (no_log).
    sizes = dict((name, "(%d lines)" % (text or "").count("\n")) for name, text in (params["tables"] or {}).items())
    invocation = {"module_args": dict(params, tables=sizes)}
    if params["backend"] == "pgsql" and psycopg2 is None:
        module.fail_json(msg=missing_required_lib("psycopg2 (Debian: python3-psycopg2)"), exception=PSYCOPG2_ERROR,
                         invocation=invocation)
    if params["backend"] == "mysql" and pymysql is None:
        module.fail_json(msg=missing_required_lib("PyMySQL (Debian: python3-pymysql)"), exception=PYMYSQL_ERROR,
                         invocation=invocation)
    sessions = []
    try:
        desired = core.parse_tables(params["tables"])
        session = connect(params, params["user"], params["password"])
        sessions.append(session)
        reader = None
        if params["backend"] == "mysql":
            reader = connect(params, params["reader_user"], params["reader_password"])
            sessions.append(reader)
        report = core.sync(session, params["backend"], params["table"], params["scope"], desired, reader=reader,
                           reader_user=params["reader_user"], phase=params["phase"], check_mode=module.check_mode,
                           diff=module._diff)
    except core.SqlRowsError as exc:
        module.fail_json(msg=to_native(exc), invocation=invocation)
    except Exception as exc:  # pylint: disable=broad-except
        if not isinstance(exc, driver_errors()):
            raise  # a bug: Ansible shows the traceback
        module.fail_json(msg=to_native(exc).strip(), invocation=invocation)
    finally:
        for session in sessions:
            session.close()
    result = dict(changed=report.pop("changed"), msg=report.pop("summary"), invocation=invocation)
    before, after = report.pop("before", None), report.pop("after", None)
    if before is not None or after is not None:
        result["diff"] = {"before": before, "after": after, "before_header": "%s rows" % params["backend"],
                          "after_header": "%s rows" % params["backend"]}
    result.update(report)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
