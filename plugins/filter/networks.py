# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mynetworks
short_description: Validate and normalise a Postfix network list
version_added: 0.1.0
description:
  - Checks every entry of a network list such as C(mynetworks) with netaddr and returns it in the form
    Postfix expects; fails naming the first bad entry.
  - Host bits are cleared (C(10.1.2.3/8) becomes C(10.0.0.0/8)), IPv6 networks are written C([addr]/len),
    a bare address gets its full prefix length, duplicates are dropped, lookup table references pass unchanged.
options:
  _input:
    description: A list of addresses, CIDR networks or table references, or one comma/space separated string.
    type: raw
    required: true
  what:
    description: The name used in error messages.
    type: str
    default: mynetworks
"""

EXAMPLES = r"""
- name: Normalise mynetworks
  ansible.builtin.debug:
    msg: "{{ ['127.0.0.0/8', '::1', '192.0.2.7/24'] | vhosting.postfix.mynetworks }}"
  # -> ['127.0.0.0/8', '[::1]/128', '192.0.2.0/24']
"""

RETURN = r"""
_value:
  description: The normalised list.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.module_utils._networks import NetworkError, normalise_networks


def mynetworks(entries, what="mynetworks"):
    try:
        return normalise_networks(entries, what)
    except NetworkError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"mynetworks": mynetworks}
