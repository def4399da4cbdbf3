# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic replacement of a small file (the modules' state files and markers), and its directories."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def make_dirs(directory):
    """Create ``directory`` and missing parents, mode 0755."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            if os.path.isdir(path):  # created meanwhile by a parallel run
                continue
            raise
        os.chmod(path, 0o755)


def write_atomic(path, text, mode=0o644, uid=None, gid=None):
    """Write ``text`` to ``path`` through a temporary file renamed over it.

    The temporary file is private (0600) until it has its final owner
    (``uid``/``gid``, when given) and ``mode``, so a secret is never readable
    by others, not even for a moment.
    """
    directory = os.path.dirname(os.path.abspath(path))
    make_dirs(directory)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if uid is not None or gid is not None:
            os.chown(tmp, -1 if uid is None else uid, -1 if gid is None else gid)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
