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

For a big ``src`` data file (see ``_table_cache()``) it also keeps a private
copy of the data file it sent, per host and table (``plugin_utils/_table_cache``),
once the module said the source is that file's lines. When the data file has
changed since, the probe carries only the lines removed and added
(``module_utils/_table_delta``), and the module applies them if the source is
still exactly what the request of that copy wrote; else the data file is
transferred and processed whole, as without the copy.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import tempfile
import threading

from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (
    LookupTableError,
    detect_format,
    normalise_entries,
    validate,
)
from ansible_collections.vhosting.postfix.plugins.module_utils import _table_delta
from ansible_collections.vhosting.postfix.plugins.plugin_utils._remote_tmp import send_to_tmp
from ansible_collections.vhosting.postfix.plugins.plugin_utils._table_cache import TableCache

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CODE = (os.path.join(_ROOT, "modules", "lookup_table.py"), os.path.join(_ROOT, "module_utils", "_lookup_table.py"),
         os.path.join(_ROOT, "module_utils", "_owner_state.py"), os.path.join(_ROOT, "module_utils", "_table_delta.py"))
# Data files smaller than this are sent whole (it costs less than a delta's bookkeeping).
DELTA_MIN_BYTES = 256 * 1024
# A delta has at most one changed line per DELTA_BYTES_PER_CHANGE bytes of the data file (and up to 100 anyway);
# more changes are cheaper to send whole.
DELTA_BYTES_PER_CHANGE = 1024
_CODE_DIGEST = []


def _code_digest():
    if not _CODE_DIGEST:
        digest = hashlib.sha256()
        for path in _CODE:
            with open(path, "rb") as handle:
                digest.update(handle.read())
        _CODE_DIGEST.append(digest.hexdigest())
    return _CODE_DIGEST[0]


def _options_hash(args):
    digest = hashlib.sha256(_code_digest().encode("ascii"))
    digest.update(json.dumps(dict((k, v) for k, v in args.items() if k not in ("src", "input_digest")), sort_keys=True,
                             default=str).encode("utf-8", "surrogateescape"))
    return digest


def options_digest(args):
    """The digest of the module's code and the task's options (src aside): what a cached data file is valid for."""
    return _options_hash(args).hexdigest()


def input_digest(args, data_path, data=None):
    """The digest of one request: the module's code, the task's options (src aside) and the data's bytes
    (``data``, else read from ``data_path``)."""
    digest = _options_hash(args)
    if data is not None:
        digest.update(data)
        return digest.hexdigest()
    with open(data_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_base():
    """The directory of the data files sent last time (private, see _table_cache)."""
    return os.path.join(C.config.get_config_value("ANSIBLE_HOME"), "tmp", "vhosting-postfix-table-cache")


class _InputDigest(threading.Thread):
    """input_digest() of data in memory, computed in a thread (hashlib releases the GIL on big buffers) while the
    cached data file is read and compared."""

    def __init__(self, args, data):
        super(_InputDigest, self).__init__()
        self.daemon = True
        self.digest = _options_hash(args)
        self.data = data
        self.start()

    def run(self):
        self.digest.update(self.data)

    def hexdigest(self):
        self.join()
        return self.digest.hexdigest()


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
        self._delta_tmp = None
        cache = None
        src_given = "src" in args
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
            cache = self._table_cache(args, source, task_vars) if src_given else None
            data = None
            if cache is not None:
                with open(source, "rb") as handle:
                    data = handle.read()
            if not args.get("managed_by"):
                if data is None:
                    args["input_digest"] = input_digest(args, source)
                    delta = None
                else:
                    digest = _InputDigest(args, data)
                    delta = self._delta(cache, data)
                    args["input_digest"] = digest.hexdigest()
                probe_args = dict(args, probe=True)
                if delta is not None and delta[0] != args["input_digest"]:
                    self._send_delta(probe_args, delta)
                    if not self._play_context.check_mode:
                        cache.prepare(data)  # written while the module runs; kept if the delta applies
                probe = self._execute_module(module_name="vhosting.postfix.lookup_table",
                                             module_args=probe_args, task_vars=task_vars)
                if not probe.get("probe_miss"):
                    self._keep(cache, probe, args["input_digest"], data)
                    result.update(probe)
                    return result
            if (cache is not None and not cache.prepared() and not self._play_context.check_mode
                    and not cache.has(args.get("input_digest"))):
                cache.prepare(data)  # written while the module runs; kept if the module says delta_ready
            args["src"] = send_to_tmp(self, source, "lookup_table_entries")
            result.update(self._execute_module(module_name="vhosting.postfix.lookup_table", module_args=args,
                                               task_vars=task_vars))
            self._keep(cache, result, args.get("input_digest"), data)
        except LookupTableError as exc:
            result.update(failed=True, changed=False, msg="%s: %s" % (args.get("path"), to_native(exc)))
        except AnsibleActionFail as exc:
            result.update(exc.result)
        finally:
            if cache is not None:
                cache.discard()
            for name in (local_tmp, self._delta_tmp):
                if name:
                    os.unlink(name)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _table_cache(self, args, source, task_vars):
        """The cache of this host's table, when its data may travel as a delta: a big canonical-looking src data
        file (postmap format, exclusive, not aliases, not hide_values, no managed_by); else None."""
        try:
            plain = (args.get("format") == "postmap" and not args.get("managed_by")
                     and boolean(args.get("exclusive", True)) and not boolean(args.get("hide_values", False))
                     and not boolean(args.get("aliases", False)))
        except TypeError:
            return None  # the module names the bad option
        if not plain or os.path.getsize(source) < DELTA_MIN_BYTES:
            return None
        host = self._task.delegate_to or task_vars.get("inventory_hostname") or self._play_context.remote_addr
        return TableCache(cache_base(), host, args.get("path"), options_digest(args))

    @staticmethod
    def _delta(cache, data):
        """(input digest of the cached data file, removed lines, added lines) since the cached data file, or None
        (no cached file, the same data, or a delta that cannot stand for the data)."""
        cached = cache.load()
        if cached is None or cached[1] == data:
            return None
        delta = _table_delta.compute(cached[1], data, max(100, len(data) // DELTA_BYTES_PER_CHANGE))
        return None if delta is None else (cached[0],) + delta

    def _send_delta(self, probe_args, delta):
        """Transfer the delta file and name it in probe_args (delta, base_digest)."""
        fd, self._delta_tmp = tempfile.mkstemp(prefix="vhosting-lookup-table-", suffix=".delta")
        with os.fdopen(fd, "wb") as handle:
            handle.write(_table_delta.render(delta[1], delta[2]))
        probe_args.update(delta=send_to_tmp(self, self._delta_tmp, "lookup_table_delta"), base_digest=delta[0])

    def _keep(self, cache, result, digest, data):
        """After a run (not in check mode): keep the data file sent when the module says the source is its lines."""
        if cache is None or not digest or result.get("failed") or self._play_context.check_mode:
            return
        if not result.get("delta_ready"):
            cache.forget()
        elif not cache.has(digest):
            cache.store(digest, None if cache.prepared() else data)
