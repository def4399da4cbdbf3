# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: domain_model
short_description: Validate the per-domain inventory and build the Postfix hosting model
version_added: 0.1.0
description:
  - Takes the dict I(variable name -> domain definition) of every C(vhosting_domain__*) inventory variable
    and returns the domain lists and lookup table contents of the Postfix Virtual Domain Hosting Howto.
  - Validates everything first and fails naming the variable, domain and entry at fault, so that a play
    using it stops before any host changes. See docs/inventory.md for the definition format.
  - Checks made - a domain defined twice or in two classes, a virtual domain that is also in mydestination,
    an invalid domain, local part or address, an unknown class or key, an alias pointing at itself or any
    alias loop, a target inside a hosted domain that does not exist there, a mailbox path that is absolute
    or contains C(..), a vmail uid below the minimum uid, a mailbox and an alias with the same address,
    a forwarding domain forwarding into itself.
options:
  _input:
    description: Dict variable name -> domain definition.
    type: dict
    required: true
  role_accounts:
    description: Local parts every virtual domain gets (RFC 2142) unless the domain defines them itself.
    type: list
    elements: str
    default: [postmaster, abuse]
  role_account_target:
    description: Target (or list of targets) of those role accounts.
    type: raw
    default: postmaster@localhost
  local_domain:
    description: Domain that qualifies bare local account names used as targets; must be in mydestination.
    type: str
    default: localhost
  mailbox_base:
    description: virtual_mailbox_base; mailbox paths are relative to it.
    type: str
    default: /var/mail/vhosts
  minimum_uid:
    description: virtual_minimum_uid.
    type: int
    default: 100
  vmail_uid:
    description: UID that owns the virtual mailboxes (virtual_uid_maps static).
    type: int
    default: 5000
  vmail_gid:
    description: GID that owns the virtual mailboxes (virtual_gid_maps static).
    type: int
    default: 5000
  recipient_delimiter:
    description: Address extension delimiter(s), used to resolve targets such as C(user+tag@domain).
    type: str
    default: "+"
  mydestination:
    description: main.cf mydestination (may use C($myhostname) and C($mydomain)); a virtual domain there is refused.
    type: list
    elements: str
    default: []
  myhostname:
    description: Value of C($myhostname) in I(mydestination).
    type: str
    default: ""
  mydomain:
    description: Value of C($mydomain) in I(mydestination), and of the default autoreply domain.
    type: str
    default: ""
  autoreply_domain:
    description:
      - The domain of the autoreply copies (docs/lists.md); empty means C(autoreply.<mydomain>). Refused when it is in
        I(mydestination) or hosted, if any mailbox has an autoreply.
    type: str
    default: ""
    version_added: 0.2.0
"""

EXAMPLES = r"""
- name: Build the hosting model from every vhosting_domain__* variable
  vars:
    names: "{{ query('ansible.builtin.varnames', '^vhosting_domain__') }}"
  ansible.builtin.set_fact:
    model: "{{ dict(names | zip(query('ansible.builtin.vars', *names))) | vhosting.postfix.domain_model(mailbox_base='/srv/mail') }}"
"""

RETURN = r"""
_value:
  description: The model.
  type: dict
  contains:
    domains:
      description: Domain -> {class, varname}.
      type: dict
    canonical_domains:
      description: Sorted canonical domains (mydestination).
      type: list
      elements: str
    alias_domains:
      description: Sorted virtual alias domains, forwarding domains included (virtual_alias_domains).
      type: list
      elements: str
    forwarding_domains:
      description: Sorted forwarding domains (a subset of alias_domains).
      type: list
      elements: str
    mailbox_domains:
      description: Sorted virtual mailbox domains (virtual_mailbox_domains).
      type: list
      elements: str
    virtual_alias_map:
      description: Key (address or C(@domain)) -> list of targets; role accounts, catch-alls and, beside a catch-all,
        every mailbox mapped to itself.
      type: dict
    virtual_mailbox_map:
      description: Mailbox address -> path relative to the mailbox base (ending in C(/) for Maildir).
      type: dict
    mailboxes:
      description: Mailboxes to create, each {address, domain, path, full_path, maildir, uid, gid}, sorted by domain and address.
      type: list
      elements: dict
    unix_users:
      description: UNIX accounts of the canonical domains, each {name, uid, comment, domains}, sorted by name.
      type: list
      elements: dict
    recipients:
      description: Domain -> sorted list of valid recipient addresses, or [C(@domain)] when a catch-all accepts any.
        For canonical domains, the declared users (of every canonical domain) and postmaster.
      type: dict
    lists:
      description: The mailing lists (docs/lists.md), each {name, domain, address, alias, owners, subscribers,
        moderators, subscribers_only, moderated, closed, delimiter, headers, addresses}, sorted by domain and name.
      type: list
      elements: dict
      version_added: 0.2.0
    autoreply_domain:
      description: The autoreply domain, or null when no mailbox has an autoreply.
      type: str
      version_added: 0.2.0
    autoreplies:
      description: Mailbox address -> its autoreply {subject, body, days, from, until, addresses}.
      type: dict
      version_added: 0.2.0
    mailbox_base:
      description: The mailbox base without a trailing slash.
      type: str
    minimum_uid:
      description: virtual_minimum_uid.
      type: int
    vmail_uid:
      description: The mailbox owner's uid.
      type: int
    vmail_gid:
      description: The mailbox owner's gid.
      type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import DomainModelError, domain_model as _model


def domain_model(definitions, **options):
    try:
        return _model(definitions, options)
    except DomainModelError as exc:
        raise AnsibleFilterError("vhosting.postfix.domain_model: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"domain_model": domain_model}
