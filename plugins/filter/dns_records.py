# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dns_records_merge
short_description: Merge the DNS records that several mail hosts need, per domain
version_added: 0.4.0
description:
  - Takes a list of C({host, records}), the C(records) that the C(vhosting.postfix.dns_records_info) module returned
    on each host, and returns a dict of domain to its records, sorted; a record that several hosts give is listed
    once, with the hosts in its C(hosts).
  - Fails naming both hosts when two hosts disagree on a record that must be unique (the SPF record of a name, a
    domain's DMARC record, the key of one DKIM selector - give each host its own selector), when one host publishes a
    record that another deletes (a retired DKIM selector), or when one MX target has two preferences.
  - An RRset has one TTL (RFC 2181 5.2), the smallest that the hosts give.
  - An item may also carry C(mta_sts) (the host's C({mode, max_age, rua}), from C(vhosting_tls__*)) and
    C(mta_sts_domains) (the domains it hosts). Then each such domain gets a C(_mta-sts) TXT record (mode C(testing) or
    C(enforce); its id is a digest of the policy, which lists every MX target of the domain in the merged records, and
    the record carries the policy text in C(policy)) and a C(_smtp._tls) TXT record (when C(rua) is set). Hosts of one
    domain that give different settings are an error naming both.
  - "The same plugin file provides the filters C(dns_records_table) (the merged records as a plain aligned text table,
    one block per domain, columns name, type, TTL and value; a value longer than I(width) characters, default 72, is
    shortened in the middle and a last line says so; C(width=0) shows everything), C(dns_zone_fragment) (the records
    of one domain as a zone-file fragment in RFC 1035 master file syntax: absolute names with the trailing dot, TXT
    values as quoted strings of at most 255 bytes with double quotes and backslashes escaped, a record to delete as a
    comment line C(; deleted) NAME TYPE) and C(dns_nsupdate_items) (the arguments of C(community.general.nsupdate),
    one item per RRset, C({zone, record, type, value, ttl, state}); I(zones) lists the zones, each record going to
    the longest one that the name is within, else to its domain; I(keep) lists other records C({name, type, value})
    that must stay in the RRsets that the update replaces)."
  - See docs/dns-records.md and C(playbooks/dns_records.yml).
options:
  _input:
    description: List of C({host, records}), optionally with C(mta_sts) and C(mta_sts_domains).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Merge the records of the play's hosts (each registered dns_records_info as dns_read)
  ansible.builtin.set_fact:
    merged: >-
      {{ [{'host': 'mx1', 'records': hostvars['mx1'].dns_read.records},
          {'host': 'mx2', 'records': hostvars['mx2'].dns_read.records}] | vhosting.postfix.dns_records_merge }}

- name: Show them
  ansible.builtin.debug:
    msg: "{{ (merged | vhosting.postfix.dns_records_table).splitlines() }}"

- name: Write the zone fragment of example.org
  ansible.builtin.copy:
    content: "{{ merged | vhosting.postfix.dns_zone_fragment('example.org') }}"
    dest: /srv/dns/example.org.zone
    mode: "0644"

- name: The nsupdate items, for the zones example.org and mail.example.org
  ansible.builtin.debug:
    msg: "{{ merged | vhosting.postfix.dns_nsupdate_items(['example.org', 'mail.example.org']) }}"
"""

RETURN = r"""
_value:
  description: Domain -> its records, sorted by name (from the root), type and value.
  type: dict
  sample:
    example.org:
      - {domain: example.org, name: example.org, type: MX, value: "10 mx1.example.org.", ttl: 3600, state: present,
         hosts: [mx1]}
      - {domain: example.org, name: s1._domainkey.example.org, type: TXT, value: "v=DKIM1; k=ed25519; p=...",
         ttl: 3600, state: present, hosts: [mx1]}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.plugin_utils._dns_records import (
    TABLE_WIDTH,
    DnsRecordsError,
    merge,
    nsupdate_items,
    table,
    zone_fragment,
)


def _wrap(name, func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except DnsRecordsError as exc:
        raise AnsibleFilterError("vhosting.postfix.%s: %s" % (name, exc))


def _plain(value):
    """Lists and dicts as the plain types the pure code checks for (Ansible's templated containers may be subclasses)."""
    if isinstance(value, dict):
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dns_records_merge(results):
    return _wrap("dns_records_merge", merge, _plain(results))


def dns_records_table(merged, width=TABLE_WIDTH):
    return _wrap("dns_records_table", table, _plain(merged), width)


def dns_zone_fragment(merged, domain):
    return _wrap("dns_zone_fragment", zone_fragment, _plain(merged), domain)


def dns_nsupdate_items(merged, zones=None, keep=None):
    return _wrap("dns_nsupdate_items", nsupdate_items, _plain(merged), _plain(zones), _plain(keep))


class FilterModule(object):
    def filters(self):
        return {
            "dns_records_merge": dns_records_merge,
            "dns_records_table": dns_records_table,
            "dns_zone_fragment": dns_zone_fragment,
            "dns_nsupdate_items": dns_nsupdate_items,
        }
