# -*- coding: utf-8 -*-
"""_postmap_query: the keys reach postmap -q - exactly, one per line, no empty key."""
from ansible_collections.vhosting.postfix.plugins.module_utils._postmap_query import query


def test_no_empty_key_reaches_postmap():
    seen = []

    def run_command(cmd, data=None, binary_data=False, environ_update=None):
        # AnsibleModule.run_command appends a newline unless binary_data is set.
        stdin = data if binary_data else data + "\n"
        keys = stdin.split("\n")[:-1]
        seen.extend(keys)
        if "" in keys:  # what lmdb answers for an empty key on an empty table
            return 1, "", "postmap: fatal: error reading lmdb:x: MDB_BAD_VALSIZE: Unsupported size of key\n"
        return 1, "", ""

    assert query(run_command, "postmap", "lmdb:/etc/postfix/empty", ["canon.test", "hosted.test"]) == {
        "canon.test": None, "hosted.test": None}
    assert seen == ["canon.test", "hosted.test"]
