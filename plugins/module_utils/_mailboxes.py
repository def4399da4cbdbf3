# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure core of the ``vhosting.postfix.mailboxes`` module.

Creates virtual mailboxes (Maildir directories with cur/ new/ tmp/, mbox
files) under virtual_mailbox_base and corrects their owner and mode. This
file does no I/O of its own:

* :func:`validate_request` checks the module arguments (every error names
  the offending mailbox) and builds the tree of what must exist, each
  directory once however many mailboxes share it;
* :func:`reconcile` walks that tree through a small filesystem interface
  (below) and decides, node by node, what is created and what is fixed; in
  check mode it only reports;
* :class:`Summary` counts everything and keeps the first
  :data:`LIST_MAX` paths of each kind, :func:`render_diff` makes the
  before/after text.

The filesystem interface works on *handles* of already opened objects, so
that a decision taken on what a handle refers to is applied to that same
object, never to whatever a path names by then. ``_fdtree.FdTree``
implements it with directory file descriptors (``openat`` with
``O_NOFOLLOW``, ``fchown``/``fchmod``; the module uses it with this file's
exceptions); the unit tests with an in-memory tree. Its methods:

``open_base(path)``
    handle of the base directory, None when it (or a directory above it)
    does not exist; raises :class:`SymlinkRefused` / :class:`WrongType`
    when it is not a real directory, or when a directory above it is a
    symbolic link of a user other than root.
``make_base(path)``
    (only with ``base_mode``) create the base, private like ``make_dir``,
    and the directories above it that are missing (root's, 0755); returns
    (handle of the base, the paths of the directories created above it).
    ``FileExistsError`` when the base exists.
``open_dir(parent, name, path)`` / ``open_file(parent, name, path)``
    handle of the entry ``name`` of the directory ``parent``, None when it
    does not exist; never follows a symbolic link (raises
    :class:`SymlinkRefused`); ``open_dir`` raises :class:`WrongType` for a
    non-directory. ``path`` is only for messages.
``make_dir(parent, name, path, mode)`` / ``make_file(parent, name, path, mode)``
    create the entry (exclusively: ``FileExistsError`` when something is
    there) and return its handle. New directories are created private
    (0700, owned by whoever runs the module) and handed over to the
    mailbox owner only once everything below them exists; nothing is
    looked up in a directory this run created.
``stat(handle)``
    an ``os.stat_result``-like object (st_mode, st_uid, st_gid, st_nlink).
``peek(parent, name)``
    the same for the entry ``name`` of ``parent`` without following a
    symbolic link (``lstat``), None when it does not exist. Only used to
    skip a leaf that is already right; nothing is ever changed on its word.
``set_owner_mode(handle, uid, gid, mode)``
    chown, then chmod, of the object the handle refers to.
``close(handle)``

At most one handle per level of the tree is open at any time (the walk is
depth-first), so any number of mailboxes needs a handful of descriptors.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import stat

from ansible_collections.vhosting.postfix.plugins.module_utils import _fdtree
from ansible_collections.vhosting.postfix.plugins.module_utils._fdtree import file_type_name

LIST_MAX = 200
MAILDIR_SUBDIRS = ("cur", "new", "tmp")
DEFAULT_DIRECTORY_MODE = 0o700
DEFAULT_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700  # what a new directory has until it is complete and handed over
PARENT_DIRECTORY_MODE = _fdtree.PARENT_DIRECTORY_MODE  # a directory created above the base (root's)
MAX_ID = 2 ** 32 - 2  # (uid_t)-1 means "unchanged" to chown(2)

# Node kinds, in the order a directory node may be upgraded to.
DIR = "directory"        # intermediate directory: created when missing, never corrected
SUBDIR = "subdirectory"  # cur/ new/ tmp/ of a Maildir: created and corrected
MAILDIR = "maildir"      # the Maildir itself: created and corrected
MBOX = "mbox"            # an mbox file: created and corrected
_DIR_RANK = {DIR: 0, SUBDIR: 1, MAILDIR: 2}


class MailboxesError(ValueError):
    """Invalid arguments, or a filesystem state the module refuses to work on."""


class SymlinkRefused(MailboxesError, _fdtree.LinkRefused):
    """A symbolic link where a mailbox path needs a real directory or file.

    ``owner``: the uid of a symbolic link above the base, refused because
    it is not root's (root's own links there are followed).
    """

    advice = (" or to use it as (part of) a mailbox "
              "(remove it, or move what it points to into its place)")


class WrongType(MailboxesError, _fdtree.WrongType):
    """Something else than the directory or regular file that a mailbox path needs."""


# ---------------------------------------------------------------- request

class Node:
    """One path under the base: its kind, the mailbox that asked for it, its children."""

    __slots__ = ("kind", "origin", "children")

    def __init__(self, kind, origin):
        self.kind = kind
        self.origin = origin
        self.children = None if kind == MBOX else {}


def resolve_id(value, lookup, what):
    """A uid or gid from an int, a string of digits or a name (``lookup(name)`` -> id, KeyError if unknown)."""
    if isinstance(value, bool) or value is None:
        raise MailboxesError("%s: %r is neither a numeric id nor a name" % (what, value))
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, str) and value.strip():
        if lookup is None:
            raise MailboxesError("%s: %r is a name, and no name lookup is available" % (what, value))
        try:
            number = int(lookup(value.strip()))
        except KeyError:
            raise MailboxesError("%s: no %s named %r on this host" % (what, "user" if what == "owner" else "group",
                                                                      value.strip()))
    else:
        raise MailboxesError("%s: %r is neither a numeric id nor a name" % (what, value))
    if not 0 <= number <= MAX_ID:
        raise MailboxesError("%s: %d is out of range" % (what, number))
    return number


def parse_mode(value, what, default):
    """A permission mode from an int (as YAML reads 0700) or an octal string ("0700", "700")."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise MailboxesError("%s: %r is not a mode" % (what, value))
    if isinstance(value, int):
        mode = value
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("0o"):
            text = text[2:]
        if not text or any(char not in "01234567" for char in text):
            raise MailboxesError("%s: %r is not an octal mode such as '0700'" % (what, value))
        mode = int(text, 8)
    else:
        raise MailboxesError("%s: %r is not a mode" % (what, value))
    if not 0 <= mode <= 0o7777:
        raise MailboxesError("%s: %r is out of range (0000-7777 octal)" % (what, value))
    return mode


def split_mailbox_path(path, where):
    """The components of a mailbox path relative to the base, or MailboxesError.

    One trailing ``/`` (the Maildir convention) is allowed; absolute paths,
    empty, ``.`` and ``..`` components and NUL characters are refused.
    """
    if not isinstance(path, str) or not path:
        raise MailboxesError("%s: path must be a non-empty string, got %r" % (where, path))
    if "\0" in path:
        raise MailboxesError("%s: path %r contains a NUL character" % (where, path))
    if path.startswith("/"):
        raise MailboxesError("%s: path %r is absolute; mailbox paths are relative to the base" % (where, path))
    parts = (path[:-1] if path.endswith("/") else path).split("/")
    bad = [part for part in parts if part in ("", ".", "..")]
    if bad:
        raise MailboxesError("%s: path %r has an empty, '.' or '..' component" % (where, path))
    return parts


# What Ansible's bool type accepts besides true/false (the argument spec
# leaves the items of ``mailboxes`` to this module: see validate_request).
_BOOLEANS = {"yes": True, "on": True, "true": True, "1": True, "y": True, "t": True,
             "no": False, "off": False, "false": False, "0": False, "n": False, "f": False}


def _check_base(base):
    if not isinstance(base, str) or not base.startswith("/"):
        raise MailboxesError("base: %r must be an absolute path" % (base,))
    if "\0" in base:
        raise MailboxesError("base: %r contains a NUL character" % (base,))
    stripped = base.rstrip("/")
    if not stripped:
        raise MailboxesError("base: the mailbox base must not be /")
    if any(part in (".", "..") for part in stripped.split("/")[1:]):
        raise MailboxesError("base: %r has a '.' or '..' component" % (base,))
    return stripped


def _add(node, name, kind, origin):
    """Make sure ``node`` has a child ``name`` of (at least) ``kind``; return the child."""
    child = node.children.get(name)
    if child is None:
        child = node.children[name] = Node(kind, origin)
        return child
    if (child.kind == MBOX) != (kind == MBOX):
        file_origin, dir_origin = (child.origin, origin) if child.kind == MBOX else (origin, child.origin)
        raise MailboxesError("mailbox %r is an mbox file, but mailbox %r needs that path as a directory"
                             % (file_origin, dir_origin))
    if kind != MBOX and _DIR_RANK[kind] > _DIR_RANK[child.kind]:
        child.kind = kind
        child.origin = origin
    return child


def parse_mailbox_lines(text):
    """The mailboxes of a data file: one ``path<TAB>maildir`` or ``path<TAB>mbox`` line per mailbox (as the
    host_model action writes them), as validate_request's list of dicts. Raises MailboxesError naming the line."""
    mailboxes = []
    for number, line in enumerate(text.splitlines(), 1):
        path, tab, kind = line.partition("\t")
        if not tab or kind not in ("maildir", "mbox"):
            raise MailboxesError("src line %d: %r is not 'path<TAB>maildir' or 'path<TAB>mbox'" % (number, line))
        mailboxes.append({"path": path, "maildir": kind == "maildir"})
    return mailboxes


def validate_request(base, owner, group, mailboxes, directory_mode=None, file_mode=None,
                     user_lookup=None, group_lookup=None, base_mode=None):
    """Check the module arguments and build the tree of what must exist.

    ``mailboxes`` is a list of dicts ``{"path": "example.org/alice/", "maildir": True}``;
    a missing or null ``maildir`` means "ends in /". The items are checked
    here rather than by the module's argument spec (the spec's per-item
    validation of ten thousand items costs more than the whole walk), with
    Ansible's boolean words accepted for ``maildir``. ``user_lookup`` /
    ``group_lookup`` map names to ids (KeyError when unknown). Returns a
    dict: base (without trailing /), uid, gid, directory_mode, file_mode,
    base_mode (None: the base is neither created nor corrected), tree (the
    root :class:`Node`, the base itself) and count (mailboxes).
    """
    request = {
        "base": _check_base(base),
        "uid": resolve_id(owner, user_lookup, "owner"),
        "gid": resolve_id(group, group_lookup, "group"),
        "directory_mode": parse_mode(directory_mode, "directory_mode", DEFAULT_DIRECTORY_MODE),
        "file_mode": parse_mode(file_mode, "file_mode", DEFAULT_FILE_MODE),
        "base_mode": parse_mode(base_mode, "base_mode", None),
    }
    if not isinstance(mailboxes, (list, tuple)):
        raise MailboxesError("mailboxes: must be a list of {path, maildir} dicts")
    root = Node(DIR, None)
    for index, item in enumerate(mailboxes):
        where = "mailboxes[%d]" % index
        if not isinstance(item, dict):
            raise MailboxesError("%s: %r is not a dict with keys path and maildir" % (where, item))
        unknown = sorted(set(item) - set(("path", "maildir")))
        if unknown:
            raise MailboxesError("%s: unknown key(s) %s (allowed: path, maildir)" % (where, ", ".join(unknown)))
        path = item.get("path")
        parts = split_mailbox_path(path, where)
        maildir = item.get("maildir")
        if maildir is None:
            maildir = path.endswith("/")
        elif not isinstance(maildir, bool):
            maildir = _BOOLEANS.get(str(maildir).strip().lower() if isinstance(maildir, (str, int)) else None)
            if maildir is None:
                raise MailboxesError("%s (%s): maildir must be a boolean, got %r" % (where, path, item["maildir"]))
        node = root
        for part in parts[:-1]:
            node = _add(node, part, DIR, path)
        node = _add(node, parts[-1], MAILDIR if maildir else MBOX, path)
        if maildir:
            for sub in MAILDIR_SUBDIRS:
                _add(node, sub, SUBDIR, path)
    request["tree"] = root
    request["count"] = len(mailboxes)
    return request


# ---------------------------------------------------------------- result

def format_mode(mode):
    return "%04o" % mode


class Summary:
    """Complete counts of what was (or would be) created and fixed; the first LIST_MAX paths of each."""

    def __init__(self, limit=LIST_MAX):
        self.limit = limit
        self.created_count = 0
        self.fixed_count = 0
        self.created = []   # paths
        self.fixed = []
        self.entries = []   # (path, type, before or None, after), in walk order, for the diff

    def add_created(self, path, kind, uid, gid, mode):
        self.created_count += 1
        if len(self.created) < self.limit:
            self.created.append(path)
            self.entries.append((path, kind, None, (uid, gid, mode)))

    def add_fixed(self, path, kind, before, after):
        self.fixed_count += 1
        if len(self.fixed) < self.limit:
            self.fixed.append(path)
            self.entries.append((path, kind, before, after))

    @property
    def changed(self):
        return bool(self.created_count or self.fixed_count)

    def result(self):
        return {
            "changed": self.changed,
            "created_count": self.created_count,
            "fixed_count": self.fixed_count,
            "created": list(self.created),
            "fixed": list(self.fixed),
        }


def _line(path, kind, state):
    uid, gid, mode = state
    return "%s  %s  %d:%d  %s\n" % (path, kind, uid, gid, format_mode(mode))


def render_diff(summary, base):
    """Before/after text: one line per listed path, ``path  type  uid:gid  mode``.

    Created paths appear only in ``after``; fixed paths in both, with their
    old and new owner and mode. Counts are complete; at most LIST_MAX paths
    of each kind are listed, and a last line says how many more there are.
    """
    before, after = [], []
    for path, kind, old, new in summary.entries:
        if old is not None:
            before.append(_line(path, kind, old))
        after.append(_line(path, kind, new))
    more_created = summary.created_count - len(summary.created)
    more_fixed = summary.fixed_count - len(summary.fixed)
    if more_created or more_fixed:
        after.append("# ... and %d more created, %d more fixed (%d created, %d fixed in all)\n"
                     % (more_created, more_fixed, summary.created_count, summary.fixed_count))
    return {
        "before_header": "%s (mailboxes before)" % base,
        "after_header": "%s (mailboxes after: %d created, %d fixed)" % (base, summary.created_count,
                                                                        summary.fixed_count),
        "before": "".join(before),
        "after": "".join(after),
    }


# ---------------------------------------------------------------- the walk

def _os_error(path, action, exc):
    reason = getattr(exc, "strerror", None) or str(exc)
    return MailboxesError("cannot %s %s: %s" % (action, path, reason))


class _Walk:
    """One run of :func:`reconcile`: the request, the filesystem, the summary."""

    def __init__(self, request, fs, check, summary):
        self.fs = fs
        self.check = check
        self.summary = summary
        self.uid = request["uid"]
        self.gid = request["gid"]
        self.dir_mode = request["directory_mode"]
        self.file_mode = request["file_mode"]

    def missing(self, node, path):
        """Check mode: ``path`` and everything below it would be created."""
        if node.kind == MBOX:
            self.summary.add_created(path, "file", self.uid, self.gid, self.file_mode)
            return
        self.summary.add_created(path, "directory", self.uid, self.gid, self.dir_mode)
        for name, child in node.children.items():
            self.missing(child, path + "/" + name)

    def enforce(self, handle, node, path, mode=None):
        """Correct owner and mode of an existing mailbox object (decided and applied on the handle).

        ``mode``: the mode of a directory other than the directory mode (the base's).
        """
        fs = self.fs
        try:
            st = fs.stat(handle)
        except OSError as exc:
            raise _os_error(path, "inspect", exc)
        if node.kind == MBOX:
            if not stat.S_ISREG(st.st_mode):
                raise WrongType(path, "regular file", file_type_name(st.st_mode))
            kind, mode = "file", self.file_mode
        else:
            kind, mode = "directory", self.dir_mode if mode is None else mode
        current = (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
        wanted = (self.uid, self.gid, mode)
        if current == wanted:
            return
        if kind == "file" and st.st_nlink != 1:
            # A hard link to some other file (planted by whoever owns the
            # directory) must not make root give that file away.
            raise MailboxesError("%s has %d hard links; refusing to change its owner or mode (a mailbox file "
                                 "has exactly one)" % (path, st.st_nlink))
        self.summary.add_fixed(path, kind, current, wanted)
        if not self.check:
            try:
                fs.set_owner_mode(handle, self.uid, self.gid, mode)
            except OSError as exc:
                raise _os_error(path, "change owner and mode of", exc)

    def visit_file(self, parent, name, node, path, fresh=False, retry=True):
        """An mbox file: create it, or correct the existing one.

        ``fresh``: the parent was created by this run, so the file cannot be
        there yet and is created straight away (should something have
        appeared meanwhile, it is inspected like an existing file).
        """
        fs = self.fs
        handle = None
        if not fresh:
            try:
                handle = fs.open_file(parent, name, path)
            except OSError as exc:
                raise _os_error(path, "open", exc)
            if handle is not None:
                try:
                    self.enforce(handle, node, path)
                finally:
                    fs.close(handle)
                return
            if self.check:
                self.missing(node, path)
                return
        try:
            handle = fs.make_file(parent, name, path, self.file_mode)
        except FileExistsError as exc:
            if not retry:
                raise _os_error(path, "create", exc)
            return self.visit_file(parent, name, node, path, False, False)  # appeared meanwhile: inspect it
        except OSError as exc:
            raise _os_error(path, "create", exc)
        try:
            self.summary.add_created(path, "file", self.uid, self.gid, self.file_mode)
            fs.set_owner_mode(handle, self.uid, self.gid, self.file_mode)
        except OSError as exc:
            raise _os_error(path, "change owner and mode of", exc)
        finally:
            fs.close(handle)

    def visit_dir(self, parent, name, node, path, fresh=False, retry=True):
        """A directory: create it (then everything below it), or correct it if enforced; then its children."""
        fs = self.fs
        handle = None
        if not fresh:
            try:
                handle = fs.open_dir(parent, name, path)
            except OSError as exc:
                raise _os_error(path, "open", exc)
            if handle is None and self.check:
                self.missing(node, path)
                return
        created = handle is None
        if created:
            try:
                # Private (root's, 0700) until everything below it exists, so
                # that nobody can put anything in it meanwhile.
                handle = fs.make_dir(parent, name, path, PRIVATE_DIRECTORY_MODE)
            except FileExistsError as exc:
                if not retry:
                    raise _os_error(path, "create", exc)
                return self.visit_dir(parent, name, node, path, False, False)  # appeared meanwhile: inspect it
            except OSError as exc:
                raise _os_error(path, "create", exc)
        try:
            if created:
                self.summary.add_created(path, "directory", self.uid, self.gid, self.dir_mode)
                try:
                    self.children(handle, node, path, True)
                finally:
                    # Also when something below failed: a directory this run
                    # created is never left behind as root's.
                    try:
                        fs.set_owner_mode(handle, self.uid, self.gid, self.dir_mode)
                    except OSError as exc:
                        raise _os_error(path, "change owner and mode of", exc)
            else:
                if node.kind != DIR:
                    self.enforce(handle, node, path)
                self.children(handle, node, path, False)
        finally:
            fs.close(handle)

    def in_order(self, parent, name, node, path):
        """Whether a leaf (mbox file, cur/ new/ tmp/) needs nothing: one ``peek``, no descriptor.

        Only ever decides that nothing is to be done; anything else (missing,
        wrong owner or mode, a symbolic link, a wrong type) takes the full
        path through a descriptor, where the decision is taken again on what
        the descriptor refers to.
        """
        try:
            st = self.fs.peek(parent, name)
        except OSError:
            return False
        if st is None:
            return False
        if node.kind == MBOX:
            wanted, type_ok = self.file_mode, stat.S_ISREG(st.st_mode)
        else:
            wanted, type_ok = self.dir_mode, stat.S_ISDIR(st.st_mode)
        return type_ok and st.st_uid == self.uid and st.st_gid == self.gid and stat.S_IMODE(st.st_mode) == wanted

    def children(self, handle, node, path, fresh=False):
        """Visit the children of a directory node (``fresh``: the directory was just created)."""
        for name, child in node.children.items():
            child_path = path + "/" + name
            if child.kind == MBOX:
                if fresh or not self.in_order(handle, name, child, child_path):
                    self.visit_file(handle, name, child, child_path, fresh)
            elif fresh or child.children or not self.in_order(handle, name, child, child_path):
                self.visit_dir(handle, name, child, child_path, fresh)


def _new_base(walk, request, fs):
    """Create the missing base (and the directories above it), then everything below it; hand it over last."""
    base, mode = request["base"], request["base_mode"]
    try:
        handle, parents = fs.make_base(base)
    except FileExistsError:
        return None  # created meanwhile: inspected like an existing base
    except OSError as exc:
        raise _os_error(base, "create the mailbox base", exc)
    try:
        for path in parents:
            walk.summary.add_created(path, "directory", 0, 0, PARENT_DIRECTORY_MODE)
        walk.summary.add_created(base, "directory", walk.uid, walk.gid, mode)
        try:
            walk.children(handle, request["tree"], base, True)
        finally:
            try:
                fs.set_owner_mode(handle, walk.uid, walk.gid, mode)
            except OSError as exc:
                raise _os_error(base, "change owner and mode of", exc)
    finally:
        fs.close(handle)
    return walk.summary


def reconcile(request, fs, check=False, summary=None):
    """Create what is missing and fix owner/mode, through ``fs``; return the :class:`Summary`.

    In check mode nothing is created or changed: missing paths (and all
    below them) are reported as created, wrong owners/modes as fixed.
    Without ``base_mode`` a missing base is an error, except in check mode
    (where an earlier task of the same run would have created it), and the
    base's owner and mode are left alone. With it, the base is created
    when missing (the directories above it too, root's, 0755) and its
    owner, group and mode corrected like a mailbox's. Raises
    MailboxesError (or a subclass) naming the path at the first problem;
    ``summary``, when given, then holds what was done before it.
    """
    summary = Summary() if summary is None else summary
    walk = _Walk(request, fs, check, summary)
    base = request["base"]
    root = request["tree"]
    base_mode = request.get("base_mode")
    for _attempt in range(2):
        try:
            handle = fs.open_base(base)
        except OSError as exc:
            raise _os_error(base, "open the mailbox base", exc)
        if handle is not None:
            break
        if check:
            if base_mode is not None:
                summary.add_created(base, "directory", walk.uid, walk.gid, base_mode)
            for name, child in root.children.items():
                walk.missing(child, base + "/" + name)
            return summary
        if base_mode is None:
            raise MailboxesError("mailbox base %s does not exist" % base)
        if _new_base(walk, request, fs) is not None:
            return summary
    else:
        raise MailboxesError("mailbox base %s was created and removed again meanwhile" % base)
    try:
        if base_mode is not None:
            walk.enforce(handle, root, base, base_mode)
        walk.children(handle, root, base)
    finally:
        fs.close(handle)
    return summary
