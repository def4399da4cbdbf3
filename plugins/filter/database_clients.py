# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: database_clients
short_description: Check the mail hosts allowed to the database servers and give their pg_hba.conf and MariaDB forms
version_added: 0.3.0
description:
  - Checks every entry of C(vhosting_database_server__clients) (an IPv4/IPv6 address or CIDR network, no host bits)
    and returns, for each, its C(cidr) form for C(pg_hba.conf) and its C(mariadb) form, the host part of a MariaDB
    account - the address of a single host (C(192.0.2.7)), C(address/netmask) for an IPv4 network
    (C(10.89.0.0/255.255.255.0)), null for IPv6.
  - Refuses, naming the entry, MariaDB's wildcards (C(%), C(_)), host names, and networks wider than C(/8) (IPv4) or
    C(/32) (IPv6), which include C(0.0.0.0/0) and C(::/0).
options:
  _input:
    description: The list of addresses and networks.
    type: list
    elements: str
    required: true
  name:
    description: The variable named in error messages.
    type: str
    default: vhosting_database_server__clients
"""

EXAMPLES = r"""
- name: The MariaDB host parts of the mail hosts' networks
  ansible.builtin.debug:
    msg: "{{ ['10.89.0.0/24', '192.0.2.7'] | vhosting.postfix.database_clients | map(attribute='mariadb') }}"
  # -> ['10.89.0.0/255.255.255.0', '192.0.2.7']
"""

RETURN = r"""
_value:
  description: One entry per address or network, duplicates dropped, in the given order.
  type: list
  elements: dict
  contains:
    cidr:
      description: The network as C(pg_hba.conf) takes it, e.g. C(10.89.0.0/24), C(192.0.2.7/32).
      type: str
    mariadb:
      description: The host part of a MariaDB account, or null for IPv6.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.module_utils._network_tables import (
    CLIENTS_VARIABLE,
    NetworkTableError,
    database_clients,
)


def clients(entries, name=CLIENTS_VARIABLE):
    try:
        return database_clients(entries, name)
    except NetworkTableError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"database_clients": clients}
