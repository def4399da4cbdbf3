# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host model's large tables as data files on the control node (controller side only).

A table of the model (``virtual_alias_map``: address -> targets,
``virtual_mailbox_map``: address -> path, ...) can hold 100,000 entries on a
host with 10,000 domains. Carried in the ``vhosting_postfix__model`` fact
and templated into a task's ``entries``, it costs Ansible seconds per task
and per host (see bench/README.md). The ``vhosting.postfix.host_model_facts``
action writes them instead, once per model, as ``key<TAB>value`` files (the
lookup_table module's fast format) into a directory named after the model's
fingerprint, and the fact carries their paths; the roles give those to
``vhosting.postfix.lookup_table`` as ``src``, which then needs no transfer
at all when the table on the host is what the same request gave last time.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import time

from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic

# Model directories of other fingerprints older than this are removed.
KEEP_SECONDS = 86400


def render(mapping):
    """``key<TAB>value`` lines, sorted by key; list values joined with ", " (as the module joins them)."""
    lines = []
    for key in sorted(mapping):
        value = mapping[key]
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        key, value = str(key), str(value)
        if not key or any(c.isspace() for c in key) or "\n" in value or not value.strip():
            raise ValueError("table entry %r -> %r cannot be written as a key<TAB>value line" % (key, value))
        lines.append("%s\t%s\n" % (key, value))
    return "".join(lines)


def write(base, fingerprint, tables, now=None):
    """Write {name: mapping} under base/fingerprint/, return {name: path}.

    Each file is rendered and compared with what is there (a directory of the
    same fingerprint may come from an earlier run, or another release of the
    collection); a differing or missing one is replaced atomically, so that
    concurrent workers and runs only ever see complete files.
    """
    directory = os.path.join(base, fingerprint)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    paths = {}
    for name, mapping in tables.items():
        path = paths[name] = os.path.join(directory, "%s.txt" % name)
        text = render(mapping)
        try:
            with open(path, "r", encoding="utf-8", errors="surrogateescape") as handle:
                if handle.read() == text:
                    continue
        except (IOError, OSError):
            pass
        write_atomic(path, text.encode("utf-8", "surrogateescape"), mode=0o600)
    _expire(base, fingerprint, time.time() if now is None else now)
    return paths


def _expire(base, keep, now):
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if name == keep or not os.path.isdir(path):
            continue
        try:
            if now - os.stat(path).st_mtime > KEEP_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
