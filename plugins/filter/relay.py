# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: relay_model
short_description: Build the backup MX tables (relay_domains, relay_recipient_maps, transport) from the primaries' domains
version_added: 0.1.0
description:
  - Takes a list of primaries, each C({host, nexthop, definitions, options}) where I(definitions) are the primary's
    C(vhosting_domain__*) inventory variables, builds each primary's hosted-domain model (the same model the
    vhosting.postfix.domains role builds, see vhosting.postfix.domain_model) and returns what a backup MX needs.
  - Explicit backup domains (I(explicit)) are added, replacing a derived domain of the same name.
  - Validates everything first; errors name the primary host or the variable and entry at fault.
  - The same plugin file provides the filter C(relay_recipients), which adds the primaries' local names (UNIX accounts
    and the names of their alias source files, read from each primary) to the recipients of their canonical domains;
    C(relay_local_names), which parses the registered reads (C(getent passwd) and the alias source files of
    C(alias_maps), base64-encoded) into a dict with the keys C(names) (host to names), C(unread) (hosts that could not
    be read) and C(reasons) (host to why); and C(relay_defer), which maps the relay model's C(canonical) (primary to
    canonical domains) and a list of unread primaries to the defer table (domain to a C(450 4.3.0) reply).
options:
  _input:
    description: List of primaries C({host, nexthop, definitions, options}).
    type: list
    elements: dict
    required: true
  explicit:
    description: Explicit backup domains, each C({domain, nexthop | primary, recipients}).
    type: list
    elements: dict
    default: []
  transport:
    description: Further transport table entries, key (domain, C(.domain), address or C(*)) -> C(transport:nexthop).
    type: dict
    default: {}
  local_domains:
    description: Domains this host delivers itself; relaying one of them is refused.
    type: list
    elements: str
    default: []
  transport_name:
    description: The master.cf transport that carries mail to the primaries.
    type: str
    default: relay
"""

EXAMPLES = r"""
- name: Backup MX model for the explicit domain example.org
  ansible.builtin.debug:
    msg: >-
      {{ [] | vhosting.postfix.relay_model(explicit=[{'domain': 'example.org', 'primary': 'mx1.example.org',
                                                      'recipients': ['alice', 'bob']}]) }}
  # relay_domains: [example.org]; relay_recipients: {alice@example.org: OK, bob@example.org: OK};
  # transport_map: {example.org: 'relay:[mx1.example.org]'}

- name: relay_recipient_maps entries, with alice and root of the primary mx1 in its canonical domains
  ansible.builtin.debug:
    msg: "{{ model | vhosting.postfix.relay_recipients({'mx1': ['alice', 'root']}) }}"

- name: Defer table entries for the canonical domains of the primary mx1, which could not be read
  ansible.builtin.debug:
    msg: "{{ {'mx1': ['example.org']} | vhosting.postfix.relay_defer(['mx1']) }}"
  # {example.org: '450 4.3.0 recipients of example.org are not known yet at this backup MX; try again later'}
"""

RETURN = r"""
_value:
  description: The backup MX model.
  type: dict
  contains:
    relay_domains:
      description: Sorted domains this host is a backup MX for (main.cf relay_domains).
      type: list
      elements: str
    relay_recipients:
      description: relay_recipient_maps entries, address (or C(@domain) for a catch-all domain) -> C(OK).
      type: dict
    transport_map:
      description: Transport table entries, key -> C(transport:nexthop); each relayed domain goes to its primary.
      type: dict
    domains:
      description: Relayed domain -> C({source, nexthop, recipients, canonical}), for reports.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay import (
    RelayError,
    defer_entries,
    local_names_from_results,
    relay_model as _relay_model,
    relay_recipients as _relay_recipients,
)


def _wrap(name, func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except RelayError as exc:
        raise AnsibleFilterError("vhosting.postfix.%s: %s" % (name, exc))


def relay_model(primaries, explicit=None, transport=None, local_domains=None, transport_name="relay"):
    return _wrap("relay_model", _relay_model, list(primaries or []), explicit, transport, local_domains, transport_name)


def relay_recipients(model, local_names=None):
    return _wrap("relay_recipients", _relay_recipients, model, dict(local_names or {}))


def relay_local_names(results):
    return local_names_from_results(list(results or []))


def relay_defer(canonical, unread=None):
    return defer_entries(dict(canonical or {}), list(unread or []))


class FilterModule(object):
    def filters(self):
        return {
            "relay_model": relay_model,
            "relay_recipients": relay_recipients,
            "relay_local_names": relay_local_names,
            "relay_defer": relay_defer,
        }
