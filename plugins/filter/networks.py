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
  - Checks every entry of a network list such as C(mynetworks) with the Python standard library (C(ipaddress))
    and returns it in the form Postfix expects; fails naming the first bad entry.
  - IPv6 networks are written C([addr]/len), a bare address gets its full prefix length, duplicates are dropped,
    lookup table references (C(cidr:/etc/postfix/clients)) pass unchanged.
  - Nothing is widened silently. An entry with host bits set is refused with the network and the host it may have
    meant (C('192.168.1.10/8' has host bits set; did you mean 192.0.0.0/8 or the host 192.168.1.10/32?)).
    Shorthand such as C(10/8) is refused.
  - Networks wider than C(/8) (IPv4) or C(/32) (IPv6), which include C(0.0.0.0/0) and C(::/0), are refused unless
    O(allow_wide=true); the message names the entry and the variable that opts in,
    C(vhosting_server__mynetworks_allow_wide).
options:
  _input:
    description: A list of addresses, CIDR networks or table references, or one comma/space separated string.
    type: raw
    required: true
  what:
    description: The name used in error messages.
    type: str
    default: mynetworks
  allow_wide:
    description: Accept networks wider than C(/8) (IPv4) or C(/32) (IPv6), including C(0.0.0.0/0) and C(::/0).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Normalise mynetworks
  ansible.builtin.debug:
    msg: "{{ ['127.0.0.0/8', '::1', '192.0.2.7'] | vhosting.postfix.mynetworks }}"
  # -> ['127.0.0.0/8', '[::1]/128', '192.0.2.7/32']

- name: A wide network, on purpose
  ansible.builtin.set_fact:
    trusted: "{{ ['10.0.0.0/7'] | vhosting.postfix.mynetworks('vhosting_server__mynetworks', allow_wide=true) }}"
"""

RETURN = r"""
_value:
  description: The normalised list.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vhosting.postfix.plugins.module_utils._networks import NetworkError, normalise_networks


def mynetworks(entries, what="mynetworks", allow_wide=False):
    try:
        allow_wide = boolean(allow_wide, strict=True)
    except TypeError:
        raise AnsibleFilterError("%s: allow_wide must be true or false, got %r" % (what, allow_wide))
    try:
        return normalise_networks(entries, what, allow_wide)
    except NetworkError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"mynetworks": mynetworks}
