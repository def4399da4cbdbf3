# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stale_indexes
short_description: The index files that other table types left next to Postfix lookup table sources
version_added: 0.1.0
description:
  - For each lookup table source path, the index files that C(postmap) makes for the B(other) indexed table types
    (C(.lmdb) for lmdb, C(.db) for hash and btree, C(.cdb) for cdb, C(.dir) and C(.pag) for dbm and sdbm), that
    is, what is left behind when a table changes type. The files of the given type itself are never listed.
  - For an unindexed type (C(texthash), C(regexp), C(pcre), C(cidr)) every index file is stale.
  - The filter only names files, it does not look at the host. Remove them (M(ansible.builtin.file) with C(state=absent))
    only after main.cf stops naming the old type.
options:
  _input:
    description: Table source paths, as a list or a single string.
    type: raw
    required: true
  table_type:
    description: The type the tables have now.
    type: str
    required: true
    choices: [lmdb, hash, btree, cdb, dbm, sdbm, texthash, regexp, pcre, cidr]
"""

EXAMPLES = r"""
- name: The virtual alias table is hash now; remove what lmdb, cdb and dbm left behind
  ansible.builtin.file:
    path: "{{ item }}"
    state: absent
  loop: "{{ ['/etc/postfix/virtual'] | vhosting.postfix.stale_indexes('hash') }}"
  # -> /etc/postfix/virtual.lmdb, /etc/postfix/virtual.cdb, /etc/postfix/virtual.dir, /etc/postfix/virtual.pag
"""

RETURN = r"""
_value:
  description: The stale index file paths, in the order of the input, each once.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (
    LookupTableError,
    stale_index_files,
)

_TABLE_REF = re.compile(r"^[a-z][a-z0-9_]*:")


def stale_indexes(paths, table_type):
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, (list, tuple)):
        raise AnsibleFilterError("stale_indexes: expected a list of table source paths, got %s" % type(paths).__name__)
    result = []
    for path in paths:
        if not isinstance(path, str) or not path.strip():
            raise AnsibleFilterError("stale_indexes: %r is not a table source path" % (path,))
        if _TABLE_REF.match(path):
            raise AnsibleFilterError("stale_indexes: %r is a table reference; give the source path (%s)"
                                     % (path, path.split(":", 1)[1]))
        try:
            names = stale_index_files(path, table_type)
        except LookupTableError as exc:
            raise AnsibleFilterError("stale_indexes: %s" % exc)
        result.extend(name for name in names if name not in result)
    return result


class FilterModule(object):
    def filters(self):
        return {"stale_indexes": stale_indexes}
