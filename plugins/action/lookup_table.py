# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vhosting.postfix.lookup_table.

Ships the entries to the host in a file instead of module arguments: inline
`entries` are validated here on the control node and written as JSON; a
`src` data file is transferred as it is. The module then reads that file. So
a very large table never passes through Ansible's variables or the module's
argument JSON, and `hide_values` keeps values out of the logged invocation.

Before it transfers anything, it asks the module (``probe``) whether the
table is still what the same request gave on an earlier run: the request's
digest (the data file's bytes, the task's options and the code of the
module and its module_utils) is recorded on the source, together with the
sha256 of the content that run wrote. When both still match (the module
reads the source to check), the data is not transferred and not processed
again; the attributes are checked as on every run.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import tempfile

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (
    LookupTableError,
    detect_format,
    normalise_entries,
    validate,
)

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CODE = (os.path.join(_ROOT, "modules", "lookup_table.py"), os.path.join(_ROOT, "module_utils", "_lookup_table.py"),
         os.path.join(_ROOT, "module_utils", "_owner_state.py"))
_CODE_DIGEST = []


def _code_digest():
    if not _CODE_DIGEST:
        digest = hashlib.sha256()
        for path in _CODE:
            with open(path, "rb") as handle:
                digest.update(handle.read())
        _CODE_DIGEST.append(digest.hexdigest())
    return _CODE_DIGEST[0]


def input_digest(args, data_path):
    """The digest of one request: the module's code, the task's options (src aside) and the data's bytes."""
    digest = hashlib.sha256(_code_digest().encode("ascii"))
    digest.update(json.dumps(dict((k, v) for k, v in args.items() if k != "src"), sort_keys=True,
                             default=str).encode("utf-8", "surrogateescape"))
    with open(data_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_PLAIN_KEY = re.compile(r"[^\s#]\S*\Z")
_PLAIN_VALUE = re.compile(r"\S(?:[^\r\n]*\S)?\Z")


def _plain(items):
    """True when every entry reads back the same from a `key<TAB>value` line (postmap format)."""
    key_ok, value_ok = _PLAIN_KEY.match, _PLAIN_VALUE.match
    return all(s == "present" and v is not None and key_ok(k) and value_ok(v) for k, v, s in items)


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        local_tmp = None
        try:
            if ("entries" in args) == ("src" in args):
                raise AnsibleActionFail("exactly one of entries or src is required")
            if "entries" in args:
                items = normalise_entries(args.pop("entries"))
                table_type = args.get("type")
                if table_type:
                    validate(items, table_type)
                fd, local_tmp = tempfile.mkstemp(prefix="vhosting-lookup-table-", suffix=".data")
                with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
                    if _plain(items):
                        # key<TAB>value lines: the module reads a canonical file without per-entry work.
                        handle.writelines("%s\t%s\n" % (k, v) for k, v, _s in items)
                        args["format"] = "postmap"
                    else:
                        json.dump([{"key": k, "value": v, "state": s} for k, v, s in items], handle)
                        args["format"] = "json"
                source = local_tmp
            else:
                try:
                    source = self._find_needle("files", args.pop("src"))
                except AnsibleError as exc:
                    raise AnsibleActionFail(to_native(exc))
                if args.get("format", "auto") == "auto":
                    # The host sees a temporary name: decide by the real one here.
                    with open(source, "r", errors="replace") as handle:
                        args["format"] = detect_format(os.path.basename(source), handle.read(64))
            if not args.get("managed_by"):
                args["input_digest"] = input_digest(args, source)
                probe = self._execute_module(module_name="vhosting.postfix.lookup_table",
                                             module_args=dict(args, probe=True), task_vars=task_vars)
                if not probe.get("probe_miss"):
                    result.update(probe)
                    return result
            remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "lookup_table_entries")
            self._transfer_file(source, remote)
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            args["src"] = remote
            result.update(self._execute_module(module_name="vhosting.postfix.lookup_table", module_args=args,
                                               task_vars=task_vars))
        except LookupTableError as exc:
            result.update(failed=True, changed=False, msg="%s: %s" % (args.get("path"), to_native(exc)))
        except AnsibleActionFail as exc:
            result.update(exc.result)
        finally:
            if local_tmp:
                os.unlink(local_tmp)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
