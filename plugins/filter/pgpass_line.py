# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: pgpass_line
short_description: The line of libpq's password file for Postfix's PostgreSQL reader
version_added: 0.3.0
description:
  - "Gives C(host:port:database:user:password) with colons and backslashes escaped, the form of libpq's password
    file (C(passfile)). The domains role writes it (0600, owned by Postfix) when PostgreSQL tables are reached over
    TLS - Postfix ignores its C(user) and C(password) options with a connection URI, and logs the URI when a
    connection fails, so the password must not be in it."
options:
  _input:
    description: The checked connection of the domains role's model (host, port, name, user).
    type: dict
    required: true
  password:
    description: The reader's password.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The password file's line
  ansible.builtin.debug:
    msg: "{{ {'host': 'db.example.org', 'port': 5432, 'name': 'mail', 'user': 'postfix'} | vhosting.postfix.pgpass_line('a:b') }}"
  # -> "db.example.org:5432:mail:postfix:a\\:b\n"
"""

RETURN = r"""
_value:
  description: One line, ending with a line break.
  type: str
"""

from ansible_collections.vhosting.postfix.plugins.module_utils._network_tables import pgpass_line


class FilterModule(object):
    def filters(self):
        return {"pgpass_line": pgpass_line}
