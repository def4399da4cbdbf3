# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Queries of any Postfix lookup table with ``postmap -q -`` (lookup_info, lookup_parity)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class QueryError(Exception):
    def __init__(self, msg, cmd=None, rc=None, stderr=""):
        super(QueryError, self).__init__(msg)
        self.details = {"cmd": cmd, "rc": rc, "stderr": stderr}


def parse_answers(keys, output):
    """Map postmap -q - output (key TAB value lines, in input order) to the keys."""
    values = dict.fromkeys(keys)
    for line in output.splitlines():
        key, sep, value = line.partition("\t")
        if not sep:
            key, sep, value = line.partition(" ")
        if key in values and values[key] is None:
            values[key] = value
        else:
            # Postfix may echo a key in the case it stores (fixed tables fold case).
            for wanted in keys:
                if wanted.lower() == key.lower() and values[wanted] is None:
                    values[wanted] = value
                    break
    return values


def query(run_command, postmap, table, keys, batch=1000):
    """{key: value or None} of ``keys`` in ``table``, ``batch`` keys per postmap run.

    ``run_command``: AnsibleModule.run_command. A failed lookup (postmap's
    "fatal:", e.g. a database that cannot be reached) raises QueryError.
    """
    values = {}
    for start in range(0, len(keys), batch):
        part = keys[start:start + batch]
        cmd = [postmap, "-q", "-", table]
        # binary_data: run_command would add a newline of its own, and postmap would look up an empty key
        # (lmdb answers MDB_BAD_VALSIZE for that on an empty table).
        rc, out, err = run_command(cmd, data="\n".join(part) + "\n", binary_data=True, environ_update={"LC_ALL": "C"})
        # rc 1 means "no key found"; anything else non-zero, or a fatal message, is an error.
        if rc not in (0, 1) or "fatal:" in err or "warning:" in err and "lookup error" in err:
            raise QueryError("postmap -q failed for %s: %s" % (table, err.strip() or "exit status %d" % rc),
                             cmd=cmd, rc=rc, stderr=err)
        values.update(parse_answers(part, out))
    return values
