# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic writing of a small file, and its directories: the one place for it.

The modules' state files, markers, configuration and control files, and
(imported by ``plugin_utils``) the controller's table files and key: the
content goes into a new private temporary file beside the target, which
gets its owner and mode through its descriptor and is then renamed over the
target (or, with ``replace=False``, linked to its name unless something is
there). A reader sees the old file or the complete new one, never a part.
With ``dir_fd`` the target is a name in an already opened directory
(see ``_fdtree``): nothing is resolved by path, so that a directory another
user can write to cannot redirect the write.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import errno
import os

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NOCTTY | _CLOEXEC
_TEMP_ATTEMPTS = 100


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


def _new_temp(directory, name, dir_fd):
    """(descriptor, path) of a new private (0600) file ``.name.<random>.tmp`` beside ``name``.

    Created exclusively and without following a link (like
    ``tempfile.mkstemp``, which has no ``dir_fd``); with ``dir_fd`` the path
    is a name in that directory.
    """
    for _attempt in range(_TEMP_ATTEMPTS):
        tmp = ".%s.%s.tmp" % (name, binascii.hexlify(os.urandom(6)).decode("ascii"))
        if dir_fd is None:
            tmp = os.path.join(directory, tmp)
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o600, dir_fd=dir_fd), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name for %s" % name)


def write_atomic(path, text, mode=0o644, uid=None, gid=None, dir_fd=None, replace=True):
    """Write ``text`` (str, as UTF-8, or bytes) to ``path`` through a temporary file renamed over it.

    The temporary file is private (0600) until it has its final owner
    (``uid``/``gid``, when given) and ``mode``, so a secret is never readable
    by others, not even for a moment. Owner and mode are set through its
    descriptor, the data is on disk (fsync) before the rename.

    ``dir_fd``: ``path`` is a name in the directory of that descriptor,
    which must exist (no directory is made); nothing follows a symbolic
    link. Without it, missing directories above ``path`` are made (0755).

    ``replace=False``: the new file gets the name only when nothing has it
    (a hard link, which fails on an existing entry: whoever is first wins,
    and everyone then reads the one file); returns whether it was this call.
    With ``replace`` (the default), returns True.
    """
    if dir_fd is None:
        directory = os.path.dirname(os.path.abspath(path))
        make_dirs(directory)
        at = {}
    else:
        if "/" in path:
            raise ValueError("write_atomic: with dir_fd, %r must be a name, not a path" % (path,))
        directory = None
        at = {"src_dir_fd": dir_fd, "dst_dir_fd": dir_fd}
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = _new_temp(directory, os.path.basename(path), dir_fd)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(fd)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(fd, mode)  # after fchown, which may clear set-id bits
        if replace:
            os.rename(tmp, path, **at)
            return True
        try:
            os.link(tmp, path, **at)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp, dir_fd=dir_fd)
        return True
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        raise
