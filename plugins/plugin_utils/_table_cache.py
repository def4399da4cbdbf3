# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data file each big table got last time, per host and table, on the control node (controller side only).

The lookup_table action plugin keeps here a copy of the ``src`` data file
it sent, once the module has said the table's source is that file's lines
(``delta_ready``). On the next run it compares the new data file with this
copy and sends only the changed lines (see ``module_utils/_table_delta``).
The copy is named after the digest of the request that sent it; the module
applies a delta only to a source that this very request wrote, so a lost,
stale or foreign copy costs a full transfer, never a wrong table.

One file per (host, table path): ``<base>/<key>.<options digest>.<input
digest>``, where key is a digest of the host and path and the options
digest covers the task's options and the module's code. The directory is
private (0700) and the files 0600; they hold nothing that is not in the
data files themselves (the action plugin does not keep inline entries nor
``hide_values`` tables). Files not used for ``KEEP_SECONDS`` are removed.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import stat
import tempfile
import threading
import time

KEEP_SECONDS = 30 * 86400
_SUFFIX = ".data"


def _private_dir(base):
    """``base``, created 0700 if missing; refused (None) unless it is a real directory of ours, 0700."""
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        st = os.lstat(base)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            return None
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(base, 0o700)
    except OSError:
        return None
    return base


class TableCache(object):
    """The cached data file of one (host, table path) for one options digest."""

    def __init__(self, base, host, path, options_digest):
        self.base = base
        self.key = hashlib.sha256(("%s\0%s" % (host, path)).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        self.options = options_digest

    def _names(self):
        try:
            st = os.lstat(self.base)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077:
                return []
            return [name for name in os.listdir(self.base) if name.startswith(self.key + ".")]
        except OSError:
            return []

    def load(self):
        """(input digest, the data bytes) of the cached data file of these options, or None."""
        for name in self._names():
            parts = name[:-len(_SUFFIX)].split(".") if name.endswith(_SUFFIX) else []
            if len(parts) == 3 and parts[1] == self.options:
                path = os.path.join(self.base, name)
                try:
                    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                    with os.fdopen(fd, "rb") as handle:
                        st = os.fstat(handle.fileno())
                        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                            return None
                        data = handle.read()
                except OSError:
                    return None
                return parts[2], data
        return None

    def has(self, input_digest):
        return "%s.%s.%s%s" % (self.key, self.options, input_digest, _SUFFIX) in self._names()

    def prepare(self, data):
        """Start writing ``data`` (bytes) to a temporary file in a thread (it overlaps with the module's run);
        ``store`` then names it, ``discard`` removes it."""
        self._pending = _Writer(self.base, self.key, data)

    _pending = None

    def prepared(self):
        return self._pending is not None

    def store(self, input_digest, data=None, now=None):
        """Keep ``data`` (bytes; default: the prepared data) as what the request ``input_digest`` sent; drop this
        table's other copies."""
        if data is not None:
            self.discard()
            self.prepare(data)
        writer, self._pending = self._pending, None
        tmp = writer.result() if writer is not None else None
        if tmp is None:
            return
        name = "%s.%s.%s%s" % (self.key, self.options, input_digest, _SUFFIX)
        try:
            os.rename(tmp, os.path.join(self.base, name))
        except OSError:
            _unlink(tmp)
            return
        for other in self._names():
            if other != name:
                _unlink(os.path.join(self.base, other))
        _expire(self.base, time.time() if now is None else now)

    def discard(self):
        """Remove the prepared data's temporary file, if any."""
        writer, self._pending = self._pending, None
        tmp = writer.result() if writer is not None else None
        if tmp is not None:
            _unlink(tmp)

    def forget(self):
        """Drop this table's copies (the host no longer has what they sent)."""
        for name in self._names():
            _unlink(os.path.join(self.base, name))


class _Writer(threading.Thread):
    """Writes data to a new private temporary file in the cache directory; result() is its path (None: failed)."""

    def __init__(self, base, key, data):
        super(_Writer, self).__init__()
        self.daemon = True
        self.base, self.key, self.data = base, key, data
        self.path = None
        self.start()

    def run(self):
        if _private_dir(self.base) is None:
            return
        try:
            fd, tmp = tempfile.mkstemp(prefix=".%s." % self.key, suffix=".tmp", dir=self.base)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(self.data)
        except OSError:
            _unlink(tmp)
            return
        self.path = tmp

    def result(self):
        self.join()
        return self.path


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _expire(base, now):
    for name in os.listdir(base):
        path = os.path.join(base, name)
        try:
            if now - os.lstat(path).st_mtime > KEEP_SECONDS:
                os.unlink(path)
        except OSError:
            pass
