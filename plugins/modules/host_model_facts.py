#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_model_facts
short_description: Validate every role's input for a host and build its model, before anything changes
version_added: 0.2.0
description:
  - Runs on the control node only (an action plugin); it changes nothing anywhere.
  - Resolves every variable of the collection's roles C(vhosting.postfix.server), C(vhosting.postfix.domains)
    and C(vhosting.postfix.relay) for the host, from the inventory and play over the roles' own defaults, so that
    a role's variables are validated even before that role runs. Checks them against the roles'
    C(meta/argument_specs.yml).
  - Refuses C(vhosting_*) variables that no role reads (a typo such as C(vhosting_domains__mailbox_bse) or
    C(vhosting_domains_example_org) would otherwise be ignored silently), naming the variable and the closest
    known name.
  - Builds the hosted-domain model from the host's C(vhosting_domain__*) variables with the options of the server
    and domains roles (one C(recipient_delimiter), one C(mydestination)); for a backup MX also the model of each
    primary, from the primary's own hostvars.
  - Validates the trusted networks (no host bits, nothing wider than C(/8) or C(/32) unless
    C(vhosting_server__mynetworks_allow_wide) is true), the table types (indexed types only), the relay settings,
    and parameters set both by a role and in C(vhosting_server__parameters).
  - On success sets the fact C(vhosting_postfix__model), which the roles use; on failure reports every problem at
    once. The C(vhosting.postfix.common) role runs it with C(any_errors_fatal), so one bad host stops the play for
    every host before any of them changes.
  - Named C(vhosting.postfix.host_model) before 0.4.0 (it sets a fact, hence C(*_facts)); that name still works (it
    redirects here, with a deprecation warning) until version 1.0.0 of the collection.
options: {}
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  action:
    support: full
    description: Runs entirely on the control node.
  check_mode:
    support: full
    description: Changes nothing in any mode.
  diff_mode:
    support: none
    description: Nothing to show.
notes:
  - The collection's roles run it through their dependency C(vhosting.postfix.common); use it directly only to
    validate an inventory (e.g. C(ansible-playbook --check) of a play that has just this task).
seealso:
  - name: The hosted-domain inventory
    description: docs/inventory.md in the collection.
    link: https://example.invalid/vhosting/postfix/docs/inventory.md
"""

EXAMPLES = r"""
- name: Validate the whole play's input and build the host's model
  vhosting.postfix.host_model_facts:
  any_errors_fatal: true
"""

RETURN = r"""
msg:
  description: A summary of the model, or a head line and every problem found, each on a line of its own.
  returned: always
  type: str
problems:
  description: Every problem found, one string each naming the variable and the item at fault.
  returned: failure
  type: list
  elements: str
ansible_facts:
  description: The fact C(vhosting_postfix__model).
  returned: success
  type: dict
  contains:
    vhosting_postfix__model:
      description:
        - The host's model; keys C(domains) (see the vhosting.postfix.domain_model filter), C(server) (C(parameters),
          C(packages), C(mynetworks)), C(domains_role) (C(tables), C(parameters), C(table_type), C(virtual)), C(relay)
          (C(model), C(parameters), C(tables), C(table_type), C(canonical)), C(dovecot), C(stale_index_files),
          C(stale_files) (per role, what it removes), C(table_files) and C(table_entries); C(domains_role.network) is
          the network backend (tables, .cf files, connection without passwords) or null. Built from the registry of
          parts, see docs/architecture.md. C(play) and C(raw_input) let the dependency before the next role of the
          same play recognise its input without templating it again.
      type: dict
"""
