#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lookup_info
short_description: Query Postfix lookup tables with postmap -q
version_added: 0.1.0
description:
  - Looks up one or many keys in any Postfix lookup table (C(lmdb:/etc/postfix/virtual), C(regexp:...),
    C(pgsql:/etc/postfix/pgsql-virtual.cf), ...) with C(postmap -q), all keys in one postmap run, and returns the
    value of each key or null when the key is absent.
  - Never changes anything; for verify steps and table parity checks.
  - Formerly called C(vhosting.postfix.lookup); that name still works (it redirects here, with a deprecation
    warning) until version 1.0.0 of the collection.
  - The answers are in RV(entries). The older return key RV(values) has the same content but cannot be read as
    C(result.values) in a template (Jinja finds the dict method C(values) first); it is deprecated and will be
    removed in version 1.0.0 of the collection.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  table:
    description: The table as main.cf names it, C(type:name).
    type: str
    required: true
  keys:
    description: The keys to look up.
    type: list
    elements: str
    required: true
seealso:
  - module: vhosting.postfix.lookup_table
"""

EXAMPLES = r"""
- name: Query the virtual alias table
  vhosting.postfix.lookup_info:
    table: lmdb:/etc/postfix/virtual
    keys: [info@example.com, nobody@example.com]
  register: found

- name: Check the values
  ansible.builtin.assert:
    that:
      - found.entries['info@example.com'] == 'alice@example.com'
      - found.entries['nobody@example.com'] is none
"""

RETURN = r"""
entries:
  description: Each key with its value, or null when the table has no such key.
  type: dict
  returned: success
  sample: {"info@example.com": "alice@example.com", "nobody@example.com": null}
  version_added: 0.4.0
values:
  description:
    - Deprecated alias of RV(entries), with the same content; will be removed in version 1.0.0 of the collection.
    - A template cannot read it as C(result.values) (that is the dict method); use RV(entries).
  type: dict
  returned: success
  sample: {"info@example.com": "alice@example.com", "nobody@example.com": null}
found:
  description: Number of keys found.
  type: int
  returned: success
missing:
  description: The keys not found.
  type: list
  elements: str
  returned: success
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vhosting.postfix.plugins.module_utils._postmap_query import QueryError, query


def main():
    module = AnsibleModule(
        argument_spec=dict(table=dict(type="str", required=True), keys=dict(type="list", elements="str", required=True, no_log=False)),
        supports_check_mode=True,
    )
    table, keys = module.params["table"], module.params["keys"]
    bad = [k for k in keys if not k or any(c in k for c in "\n\r")]
    if bad:
        module.fail_json(msg="keys must be non-empty single lines: %r" % bad)
    if ":" not in table:
        module.fail_json(msg="table %r must be written type:name, e.g. lmdb:/etc/postfix/virtual" % table)
    postmap = module.get_bin_path("postmap", required=True)
    try:
        values = query(module.run_command, postmap, table, keys, batch=len(keys) or 1)
    except QueryError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    missing = [k for k in keys if values[k] is None]
    # values: the deprecated alias of entries (result.values is the dict method in a template).
    module.exit_json(changed=False, entries=values, values=values, found=len(keys) - len(missing), missing=missing)


if __name__ == "__main__":
    main()
