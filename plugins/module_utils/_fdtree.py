# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Symlink-safe file system work under a base directory, through file descriptors.

This is the single place where the host side of the collection walks,
creates, inspects, changes and removes directories and files below a
directory that somebody else than root may write to (the mailbox base of
``vhosting.postfix.mailboxes``, a list directory of
``vhosting.postfix.mlmmj_lists``). Its rules:

* every entry is opened relative to the descriptor of its parent
  (``openat``), with ``O_NOFOLLOW``: a symbolic link is never followed, it
  is refused (:class:`LinkRefused`) or handled as the link itself;
* a decision is taken on what a descriptor refers to (``fstat``) and
  applied to that same object (``fchown``/``fchmod``), never to whatever a
  path names by then, so an entry swapped for a link in between cannot
  redirect a change;
* owner before mode (:func:`set_owner_mode`), as ``chown`` may clear the
  set-id bits;
* removal (:func:`remove_at`) goes down through directory descriptors and
  unlinks links themselves, never what they point to;
* files read in there are opened ``O_NONBLOCK`` (a planted FIFO must not
  hang a run) and ``O_NOCTTY``.

Writing a file atomically under a directory descriptor is
:func:`ansible_collections.vhosting.postfix.plugins.module_utils._atomic.write_atomic`
with ``dir_fd``.

:class:`FdTree` is the handle-based file system interface that
``_mailboxes.reconcile`` works through (see that module's docstring for the
contract): handles are descriptors, the base is reached from ``/`` one
component at a time (:meth:`FdTree.open_parent`). The rest are plain
functions on descriptors. Refusals are :class:`FdTreeError` and its
subclasses; a user of :class:`FdTree` that needs its own exception classes
(with its own wording) sets the class attributes ``error``,
``link_refused`` and ``wrong_type`` of a subclass. Everything else is an
``OSError`` from the system call.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# A directory, never through a symbolic link.
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# A file to inspect or read. O_NONBLOCK: a FIFO put in place of a file must not hang the module.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _CLOEXEC
# A new file, created exclusively (never through a link, never over something that is there).
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NOCTTY | _CLOEXEC
# Symbolic links of root followed on the way to a base (as the kernel's own limit).
MAX_LINKS = 40
# How deep a directory tree remove_at removes; a deeper one is refused.
MAX_DEPTH = 32
# A directory FdTree.open_parent creates above a base (root's).
PARENT_DIRECTORY_MODE = 0o755

_TYPES = ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "directory"), (stat.S_ISREG, "regular file"),
          (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"))


class FdTreeError(ValueError):
    """A file system state refused (the message names the path)."""


class LinkRefused(FdTreeError):
    """A symbolic link where a real directory or file is needed; it is not followed.

    ``owner``: the uid of a symbolic link on the way to a base, refused
    because it is not root's (root's own links there are followed).
    ``advice`` (a class attribute) ends the message.
    """

    advice = ""

    def __init__(self, path, target=None, owner=None):
        self.path = path
        self.target = target
        self.owner = owner
        arrow = " -> %s" % target if target is not None else ""
        whose = " (owned by uid %d, not root)" % owner if owner is not None else ""
        super(LinkRefused, self).__init__("%s is a symbolic link%s%s; refusing to follow it%s"
                                          % (path, arrow, whose, self.advice))


class WrongType(FdTreeError):
    """Something else than the directory or regular file a path needs."""

    def __init__(self, path, wanted, found=None):
        self.path = path
        self.wanted = wanted
        self.found = found
        found_text = " (it is a %s)" % found if found else ""
        super(WrongType, self).__init__("%s exists but is not a %s%s" % (path, wanted, found_text))


def file_type_name(mode, regular="regular file"):
    """A word for the file type of an st_mode, for messages (``regular``: the word for a regular file)."""
    for test, name in _TYPES:
        if test(mode):
            return regular if name == "regular file" else name
    return "special file"


# ---------------------------------------------------------------- descriptors

def open_dir(name, dir_fd=None):
    """A descriptor of the directory ``name`` (of ``dir_fd``); OSError (ELOOP, ENOTDIR, ...) for anything else."""
    return os.open(name, DIR_FLAGS, dir_fd=dir_fd)


def lstat_at(dir_fd, name):
    """The ``lstat`` of the entry ``name`` of a directory descriptor, None when there is none."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def set_owner_mode(fd, uid, gid, mode):
    """chown, then chmod (which chown may have cleared set-id bits for), of what ``fd`` refers to."""
    os.fchown(fd, uid, gid)
    os.fchmod(fd, mode)


def read_fd(fd, limit):
    """At most ``limit`` bytes from a descriptor (less at its end)."""
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def remove_at(dir_fd, name, max_depth=MAX_DEPTH, depth=0):
    """Remove the entry ``name`` and, if it is a directory, everything in it, never following a link.

    A directory tree deeper than ``max_depth`` is refused (FdTreeError)
    rather than removed.
    """
    found = lstat_at(dir_fd, name)
    if found is None:
        return
    if not stat.S_ISDIR(found.st_mode):
        os.unlink(name, dir_fd=dir_fd)
        return
    if depth >= max_depth:
        raise FdTreeError("%s: directories nested more than %d deep; remove them by hand" % (name, max_depth))
    sub = open_dir(name, dir_fd=dir_fd)
    try:
        for inner in os.listdir(sub):
            remove_at(sub, inner, max_depth, depth + 1)
    finally:
        os.close(sub)
    os.rmdir(name, dir_fd=dir_fd)


# ---------------------------------------------------------------- the handle interface

class FdTree:
    """The handle-based file system interface of ``_mailboxes.reconcile``, on file descriptors only.

    Every entry is opened relative to its parent's descriptor with
    O_NOFOLLOW, and owner and mode are changed with fchown/fchmod on the
    descriptor that was inspected: no path is ever resolved twice, so a
    symbolic link swapped in between cannot redirect a change.
    """

    error = FdTreeError
    link_refused = LinkRefused
    wrong_type = WrongType

    def open_base(self, path):
        parent = self.open_parent(path, create=False)
        if parent is None:
            return None
        try:
            return self.open_dir(parent, os.path.basename(path), path)
        finally:
            os.close(parent)

    def make_base(self, path):
        created = []
        parent = self.open_parent(path, create=True, created=created)
        try:
            return self.make_dir(parent, os.path.basename(path), path, 0o700), created
        finally:
            os.close(parent)

    def open_parent(self, path, create, created=None):
        """A descriptor of the directory holding ``path``, walked from / one component at a time.

        A symbolic link on the way is followed only when root owns it (its
        target walked the same way); a link of another user is refused, as
        that user could point it anywhere. A missing directory: None, or,
        with ``create``, a new one of root, mode 0755 (its path appended to
        ``created``).
        """
        pending = os.path.dirname(path).split("/")
        fd = os.open("/", DIR_FLAGS)
        here, links = "", 0
        try:
            while pending:
                part = pending.pop(0)
                if part in ("", "."):
                    continue
                if part == "..":
                    step, here = os.open("..", DIR_FLAGS, dir_fd=fd), os.path.dirname(here)
                else:
                    step = self._step(fd, part, here + "/" + part, create, created)
                    if step is None:
                        return None
                    if isinstance(step, str):  # root's symbolic link: walk its target instead
                        links += 1
                        if links > MAX_LINKS:
                            raise self.error("%s/%s: too many levels of symbolic links" % (here, part))
                        pending[:0] = step.split("/")
                        if step.startswith("/"):
                            os.close(fd)
                            fd, here = os.open("/", DIR_FLAGS), ""
                        continue
                    here += "/" + part
                os.close(fd)
                fd = step
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _step(self, parent, name, path, create, created):
        """Descriptor of the directory ``name`` above the base; None when missing; a root's link's target."""
        try:
            return os.open(name, DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(name, PARENT_DIRECTORY_MODE, dir_fd=parent)
            except FileExistsError:
                return self._step(parent, name, path, False, created)  # created meanwhile
            handle = self.make_dir_checked(parent, name, path)
            if os.geteuid() == 0:
                os.fchown(handle, 0, 0)
            os.fchmod(handle, PARENT_DIRECTORY_MODE)
            created.append(path)
            return handle
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            found = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if not stat.S_ISLNK(found.st_mode):
                raise self.wrong_type(path, "directory", file_type_name(found.st_mode))
            target = os.readlink(name, dir_fd=parent)
            again = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if (again.st_dev, again.st_ino) != (found.st_dev, found.st_ino):
                raise self.error("%s was replaced while it was being read; refusing to follow it" % path)
            if found.st_uid != 0:
                raise self.link_refused(path, target, owner=found.st_uid)
            return target

    def open_dir(self, parent, name, path):
        try:
            return open_dir(name, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                self._refuse(name, parent, path, "directory", exc)
            raise

    def open_file(self, parent, name, path):
        try:
            return os.open(name, READ_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self._refuse(name, parent, path, "regular file", exc)
            raise

    def make_dir(self, parent, name, path, mode):
        os.mkdir(name, mode, dir_fd=parent)
        return self.make_dir_checked(parent, name, path)

    def make_dir_checked(self, parent, name, path):
        """The directory ``name`` this run has just created, refused if somebody else's took its place."""
        handle = self.open_dir(parent, name, path)
        if handle is None:
            raise FileNotFoundError(errno.ENOENT, "removed right after it was created")
        if os.fstat(handle).st_uid != os.geteuid():
            os.close(handle)
            raise self.error("%s was replaced by another directory right after it was created; "
                             "refusing to adopt it" % path)
        return handle

    def make_file(self, parent, name, path, mode):
        return os.open(name, NEW_FILE_FLAGS, mode, dir_fd=parent)

    def stat(self, handle):
        return os.fstat(handle)

    def peek(self, parent, name):
        return lstat_at(parent, name)

    def set_owner_mode(self, handle, uid, gid, mode):
        set_owner_mode(handle, uid, gid, mode)

    def close(self, handle):
        os.close(handle)

    def _refuse(self, name, parent, path, wanted, exc):
        """Explain an ELOOP/ENOTDIR of O_NOFOLLOW/O_DIRECTORY (a diagnosis only: nothing is done to it)."""
        try:
            found = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError:
            raise exc
        if stat.S_ISLNK(found.st_mode):
            try:
                target = os.readlink(name, dir_fd=parent)
            except OSError:
                target = None
            raise self.link_refused(path, target)
        if wanted == "directory" and not stat.S_ISDIR(found.st_mode):
            raise self.wrong_type(path, wanted, file_type_name(found.st_mode))
        raise exc
