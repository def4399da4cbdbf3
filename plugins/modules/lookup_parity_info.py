#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lookup_parity_info
short_description: Check with postmap -q that a database table gives exactly the answers of a file table
version_added: 0.3.0
description:
  - The Virtual Domain Hosting Howto's advice before a network database replaces a file table - verify with
    C(postmap -q) that both give the same answers.
  - Looks up, in both tables, every key of the reference table's source file, its upper-case and
    C(recipient_delimiter) variants (C(alice+tag@example.org)), a sub-domain of every domain, and keys that no
    table may answer (an unknown user of every domain, a domain nobody hosts), in batches of O(batch) keys per
    C(postmap -q -) run.
  - Fails when any answer differs, naming each key with both answers; returns the counts otherwise.
  - Never changes anything. The C(vhosting.postfix.domains) role runs it before main.cf is switched to the
    database (the parity gate); C(playbooks/parity.yml) runs it on its own.
  - Formerly called C(vhosting.postfix.lookup_parity) (read-only modules are named C(*_info)); that name still works
    (it redirects here, with a deprecation warning) until version 1.0.0 of the collection.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Read-only; runs in check mode too (and reports a table that does not exist yet instead of failing).
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
options:
  reference:
    description: The file table, C(type:path) (e.g. C(lmdb:/etc/postfix/virtual)).
    type: str
    required: true
  candidate:
    description: The database table, C(type:path) (e.g. C(pgsql:/etc/postfix/vhosting-db/virtual_alias_map.cf)).
    type: str
    required: true
  source:
    description: The source file whose keys are compared; default the reference's path.
    type: path
  keys:
    description: More keys to compare.
    type: list
    elements: str
    default: []
  delimiter:
    description: The C(recipient_delimiter) of the host (its first character makes the C(+tag) variants).
    type: str
    default: "+"
  batch:
    description: Keys per C(postmap -q -) run.
    type: int
    default: 1000
seealso:
  - module: vhosting.postfix.lookup_info
  - module: vhosting.postfix.network_tables
"""

EXAMPLES = r"""
- name: Compare the PostgreSQL virtual alias table with the file
  vhosting.postfix.lookup_parity_info:
    reference: lmdb:/etc/postfix/virtual
    candidate: pgsql:/etc/postfix/vhosting-db/virtual_alias_map.cf
"""

RETURN = r"""
compared:
  description: Number of keys looked up in both tables.
  type: int
  returned: always
equal:
  description: Number of keys with the same answer in both.
  type: int
  returned: always
absent:
  description: Number of keys that neither table may answer (unknown users, a domain nobody hosts).
  type: int
  returned: always
differences:
  description: Each differing key with both answers (null - not found); at most 100.
  type: list
  elements: dict
  returned: always
  sample: [{"key": "info@example.org", "file": "alice@example.org", "database": "bob@example.org"}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vhosting.postfix.plugins.module_utils._network_tables import compare, parity_keys, source_keys
from ansible_collections.vhosting.postfix.plugins.module_utils._postmap_query import QueryError, query

SHOWN = 100


def _describe(difference):
    if difference.get("must_not_be_found"):
        return "%s: must not be found, both answer %r" % (difference["key"], difference["file"])
    return "%s: file %s, database %s" % (
        difference["key"], "not found" if difference["file"] is None else repr(difference["file"]),
        "not found" if difference["database"] is None else repr(difference["database"]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            reference=dict(type="str", required=True),
            candidate=dict(type="str", required=True),
            source=dict(type="path"),
            keys=dict(type="list", elements="str", default=[], no_log=False),
            delimiter=dict(type="str", default="+"),
            batch=dict(type="int", default=1000),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for name in ("reference", "candidate"):
        if ":" not in params[name]:
            module.fail_json(msg="%s %r must be written type:path" % (name, params[name]))
    if params["batch"] < 1:
        module.fail_json(msg="batch must be at least 1")
    source = params["source"] or params["reference"].split(":", 1)[1]
    candidate_file = params["candidate"].split(":", 1)[1]
    for path in (source, candidate_file):
        if not os.path.exists(path):
            if module.check_mode:
                module.exit_json(changed=False, compared=0, equal=0, absent=0, differences=[], skipped=True,
                                 msg="%s does not exist yet (check mode): parity not checked" % path)
            module.fail_json(msg="%s does not exist" % path, compared=0, equal=0, absent=0, differences=[])
    try:
        with open(source, "r", encoding="utf-8", errors="surrogateescape") as handle:
            keys, absent = parity_keys(source_keys(handle.read()) + params["keys"], params["delimiter"])
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (source, exc))
    postmap = module.get_bin_path("postmap", required=True)
    try:
        reference = query(module.run_command, postmap, params["reference"], keys, params["batch"])
        candidate = query(module.run_command, postmap, params["candidate"], keys, params["batch"])
    except QueryError as exc:
        module.fail_json(msg=str(exc), compared=0, equal=0, absent=len(absent), differences=[])
    differences = compare(keys, absent, reference, candidate)
    counts = dict(compared=len(keys), equal=len(keys) - len(differences), absent=len(absent),
                  differences=differences[:SHOWN])
    msg = "%s vs %s: %d keys compared, %d equal" % (params["reference"], params["candidate"], counts["compared"],
                                                    counts["equal"])
    if differences:
        module.fail_json(msg="%s; %d differ: %s%s" % (
            msg, len(differences), "; ".join(_describe(d) for d in differences[:20]),
            " ..." if len(differences) > 20 else ""), **counts)
    module.exit_json(changed=False, msg=msg, **counts)


if __name__ == "__main__":
    main()
