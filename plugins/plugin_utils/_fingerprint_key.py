# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret key of the host model's fingerprint (controller side only).

The ``vhosting.postfix.host_model_facts`` action digests everything the model is
built from, mailbox and database passwords included, into the fingerprint
of the ``vhosting_postfix__model`` fact, which verbose runs print. An
unkeyed digest of that input would let whoever sees the output test guessed
passwords offline; the fingerprint is therefore an HMAC with a key that
never leaves the control node: 32 random bytes in
``$ANSIBLE_HOME/vhosting-postfix/fingerprint.key`` (directory 0700, file
0600), made on first use.

Creation is atomic (``_atomic.write_atomic`` with ``replace=False``): the
bytes go into a new file of the same directory (``O_CREAT|O_EXCL``, mode
0600), which is then hard-linked to the key's name; the link fails when
another worker or run was first, and everyone reads the one file that won.
A reader never sees a partly written key.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic

KEY_BYTES = 32
DIRECTORY = "vhosting-postfix"
FILENAME = "fingerprint.key"


class FingerprintKeyError(Exception):
    """The key file exists but cannot be used (never quotes the key)."""


def key_path(ansible_home):
    """Where the key lives under Ansible's home directory."""
    return os.path.join(ansible_home, DIRECTORY, FILENAME)


def _read(path):
    """The key in ``path``; FileNotFoundError when there is none."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FingerprintKeyError("%s is not a regular file" % path)
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise FingerprintKeyError("%s is readable or writable by others (mode %04o): the key of the model's "
                                      "fingerprints is a secret; remove the file (a new key is made on the next run)"
                                      % (path, stat.S_IMODE(info.st_mode)))
        data = b""
        while len(data) <= KEY_BYTES:
            chunk = os.read(fd, KEY_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) != KEY_BYTES:
        raise FingerprintKeyError("%s holds %d bytes instead of %d; remove it (a new key is made on the next run)"
                                  % (path, len(data), KEY_BYTES))
    return data


def _create(path):
    """Write a new key to ``path`` unless one is there already (another worker may win: both read its key)."""
    write_atomic(path, os.urandom(KEY_BYTES), mode=0o600, replace=False)


def load_or_create(path):
    """The key (bytes) in ``path``, made first when there is none; raises FingerprintKeyError or OSError."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, mode=0o700)
        except FileExistsError:
            pass
    _create(path)
    return _read(path)
