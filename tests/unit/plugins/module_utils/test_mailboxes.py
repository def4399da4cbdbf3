# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pure core of the mailboxes module, on an in-memory filesystem.

FakeFs implements the core's filesystem interface over a tree of dicts; it
counts open handles (every one must be closed, also after a failure) and
records the calls, so the tests see what the core decides and in which
order, without touching a disk.
"""
import collections
import stat

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._mailboxes import (
    DIR,
    LIST_MAX,
    MAILDIR,
    MBOX,
    SUBDIR,
    MailboxesError,
    Summary,
    SymlinkRefused,
    WrongType,
    parse_mode,
    reconcile,
    render_diff,
    resolve_id,
    split_mailbox_path,
    validate_request,
)

BASE = "/var/mail/vhosts"
UID = 5000
GID = 5001
FakeStat = collections.namedtuple("FakeStat", "st_mode st_uid st_gid st_nlink")


class Entry:
    def __init__(self, kind, uid=0, gid=0, mode=0o755, target=None, nlink=1):
        self.kind = kind  # "dir", "file", "link", "fifo"
        self.uid, self.gid, self.mode, self.nlink = uid, gid, mode, nlink
        self.target = target
        self.children = {} if kind == "dir" else None

    def st(self):
        type_bits = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "link": stat.S_IFLNK, "fifo": stat.S_IFIFO}[self.kind]
        return FakeStat(type_bits | self.mode, self.uid, self.gid, self.nlink)


class FakeFs:
    """The core's filesystem interface over Entry objects."""

    def __init__(self, root=None, umask=0o022):
        self.root = Entry("dir", 0, 0, 0o755) if root is None else root
        self.umask = umask
        self.handles = {}
        self.next_handle = 3
        self.calls = []
        self.peak = 0
        self.parents = []  # what make_base reports as created above the base

    # -- helpers for the tests
    def get(self, rel):
        entry = self.root
        for part in rel.split("/"):
            entry = entry.children[part]
        return entry

    def put(self, rel, entry):
        parent, _sep, name = rel.rpartition("/")
        (self.get(parent) if parent else self.root).children[name] = entry
        return entry

    def _handle(self, entry):
        handle = self.next_handle
        self.next_handle += 1
        self.handles[handle] = entry
        self.peak = max(self.peak, len(self.handles))
        return handle

    # -- the interface
    def open_base(self, path):
        self.calls.append(("open_base", path))
        if self.root is None:
            return None
        if self.root.kind == "link":
            raise SymlinkRefused(path, self.root.target)
        if self.root.kind != "dir":
            raise WrongType(path, "directory", self.root.kind)
        return self._handle(self.root)

    def make_base(self, path):
        self.calls.append(("make_base", path))
        if self.root is not None:
            raise FileExistsError(17, "File exists")
        self.root = Entry("dir", 0, 0, 0o700 & ~self.umask)
        return self._handle(self.root), list(self.parents)

    def open_dir(self, parent, name, path):
        self.calls.append(("open_dir", path))
        entry = self.handles[parent].children.get(name)
        if entry is None:
            return None
        if entry.kind == "link":
            raise SymlinkRefused(path, entry.target)
        if entry.kind != "dir":
            raise WrongType(path, "directory", entry.kind)
        return self._handle(entry)

    def open_file(self, parent, name, path):
        self.calls.append(("open_file", path))
        entry = self.handles[parent].children.get(name)
        if entry is None:
            return None
        if entry.kind == "link":
            raise SymlinkRefused(path, entry.target)
        return self._handle(entry)

    def make_dir(self, parent, name, path, mode):
        self.calls.append(("make_dir", path))
        children = self.handles[parent].children
        if name in children:
            raise FileExistsError(17, "File exists")
        children[name] = Entry("dir", 0, 0, mode & ~self.umask)
        return self._handle(children[name])

    def make_file(self, parent, name, path, mode):
        self.calls.append(("make_file", path))
        children = self.handles[parent].children
        if name in children:
            raise FileExistsError(17, "File exists")
        children[name] = Entry("file", 0, 0, mode & ~self.umask)
        return self._handle(children[name])

    def stat(self, handle):
        return self.handles[handle].st()

    def peek(self, parent, name):
        self.calls.append(("peek", name))
        entry = self.handles[parent].children.get(name)
        return None if entry is None else entry.st()

    def set_owner_mode(self, handle, uid, gid, mode):
        entry = self.handles[handle]
        self.calls.append(("set_owner_mode", uid, gid, mode))
        entry.uid, entry.gid, entry.mode = uid, gid, mode

    def close(self, handle):
        del self.handles[handle]


def req(mailboxes, **kw):
    kw.setdefault("owner", UID)
    kw.setdefault("group", GID)
    return validate_request(kw.pop("base", BASE), kw.pop("owner"), kw.pop("group"), mailboxes, **kw)


def run(fs, mailboxes, check=False, **kw):
    summary = reconcile(req(mailboxes, **kw), fs, check=check)
    assert fs.handles == {}, "handles left open"
    return summary.result()


def state(entry):
    return (entry.kind, entry.uid, entry.gid, oct(entry.mode))


ALICE = {"path": "example.org/alice/", "maildir": True}
DAVE = {"path": "example.org/dave", "maildir": False}


# --- request validation ---------------------------------------------------

@pytest.mark.parametrize("path, message", [
    ("/etc/passwd", "path '/etc/passwd' is absolute"),
    ("example.org/../../etc/", "has an empty, '.' or '..' component"),
    ("../x", "has an empty, '.' or '..' component"),
    ("example.org/./alice/", "has an empty, '.' or '..' component"),
    ("example.org//alice/", "has an empty, '.' or '..' component"),
    ("example.org/alice//", "has an empty, '.' or '..' component"),
    ("/", "is absolute"),
    ("", "path must be a non-empty string"),
    (None, "path must be a non-empty string"),
    (42, "path must be a non-empty string"),
    ("a\0b", "contains a NUL character"),
])
def test_unsafe_paths_are_refused_naming_the_item(path, message):
    with pytest.raises(MailboxesError) as err:
        req([ALICE, {"path": path, "maildir": True}])
    assert str(err.value).startswith("mailboxes[1]: ")
    assert message in str(err.value)


def test_split_mailbox_path_allows_one_trailing_slash():
    assert split_mailbox_path("example.org/alice/", "x") == ["example.org", "alice"]
    assert split_mailbox_path("example.org/dave", "x") == ["example.org", "dave"]
    assert split_mailbox_path("a..b/.c", "x") == ["a..b", ".c"]  # dots inside names are fine


def test_maildir_decides_and_defaults_to_the_trailing_slash():
    tree = req([{"path": "a/x/", "maildir": False}, {"path": "a/y"}, {"path": "a/z/"},
                {"path": "a/w", "maildir": True}, {"path": "a/v", "maildir": "yes"},
                {"path": "a/u/", "maildir": "no"}])["tree"]
    kinds = {name: node.kind for name, node in tree.children["a"].children.items()}
    assert kinds == {"x": MBOX, "y": MBOX, "z": MAILDIR, "w": MAILDIR, "v": MAILDIR, "u": MBOX}
    assert sorted(tree.children["a"].children["w"].children) == ["cur", "new", "tmp"]
    assert all(child.kind == SUBDIR for child in tree.children["a"].children["w"].children.values())
    assert tree.children["a"].kind == DIR


@pytest.mark.parametrize("item, message", [
    ({"path": "a/b/", "maildir": "perhaps"}, "mailboxes[0] (a/b/): maildir must be a boolean, got 'perhaps'"),
    ({"path": "a/b/", "maildir": [True]}, "maildir must be a boolean"),
    ({"path": "a/b/", "format": "mbox"}, "mailboxes[0]: unknown key(s) format (allowed: path, maildir)"),
    ({"maildir": True}, "mailboxes[0]: path must be a non-empty string, got None"),
    ("a/b/", "mailboxes[0]: 'a/b/' is not a dict with keys path and maildir"),
])
def test_bad_items(item, message):
    with pytest.raises(MailboxesError) as err:
        req([item])
    assert message in str(err.value)


def test_mbox_and_directory_on_the_same_path_conflict():
    with pytest.raises(MailboxesError) as err:
        req([{"path": "example.org", "maildir": False}, ALICE])
    assert str(err.value) == ("mailbox 'example.org' is an mbox file, but mailbox 'example.org/alice/' needs "
                              "that path as a directory")
    with pytest.raises(MailboxesError) as err:
        req([ALICE, {"path": "example.org/alice/cur", "maildir": False}])
    assert "'example.org/alice/cur' is an mbox file, but mailbox 'example.org/alice/'" in str(err.value)
    with pytest.raises(MailboxesError):
        req([ALICE, {"path": "example.org/alice", "maildir": False}])


def test_shared_directories_appear_once_and_duplicates_are_harmless():
    request = req([ALICE, DAVE, ALICE, {"path": "example.org/bob/"}])
    domain = request["tree"].children["example.org"]
    assert list(request["tree"].children) == ["example.org"]
    assert list(domain.children) == ["alice", "dave", "bob"]
    assert request["count"] == 4


def test_a_mailbox_path_also_used_as_intermediate_directory_is_enforced():
    tree = req([{"path": "example.org/shared/sub/"}, {"path": "example.org/shared/"}])["tree"]
    assert tree.children["example.org"].children["shared"].kind == MAILDIR
    tree = req([{"path": "example.org/shared/"}, {"path": "example.org/shared/sub/"}])["tree"]
    assert tree.children["example.org"].children["shared"].kind == MAILDIR


@pytest.mark.parametrize("base, message", [
    ("var/mail", "must be an absolute path"),
    ("/", "must not be /"),
    ("///", "must not be /"),
    ("/var/mail/../etc", "has a '.' or '..' component"),
    (None, "must be an absolute path"),
])
def test_bad_base(base, message):
    with pytest.raises(MailboxesError) as err:
        req([ALICE], base=base)
    assert message in str(err.value)


def test_base_loses_its_trailing_slash():
    assert req([ALICE], base="/var/mail/vhosts/")["base"] == "/var/mail/vhosts"


def test_ids_from_numbers_strings_and_names():
    users = {"vmail": 5000}
    assert resolve_id(5000, None, "owner") == 5000
    assert resolve_id("5000", None, "owner") == 5000
    assert resolve_id(0, None, "owner") == 0
    assert resolve_id("vmail", users.__getitem__, "owner") == 5000
    with pytest.raises(MailboxesError, match="owner: no user named 'nobody-here' on this host"):
        resolve_id("nobody-here", users.__getitem__, "owner")
    with pytest.raises(MailboxesError, match="group: no group named 'x' on this host"):
        resolve_id("x", {}.__getitem__, "group")
    for bad in (True, None, -1, 2 ** 32 - 1, "", 1.5):
        with pytest.raises(MailboxesError):
            resolve_id(bad, users.__getitem__, "owner")


def test_modes():
    assert parse_mode(None, "m", 0o700) == 0o700
    assert parse_mode("0750", "m", 0) == 0o750
    assert parse_mode("750", "m", 0) == 0o750
    assert parse_mode("0o2770", "m", 0) == 0o2770
    assert parse_mode(0o700, "m", 0) == 0o700
    for bad in ("0800", "rwx", "u=rwx", "", True, 0o10000, -1, 7.0):
        with pytest.raises(MailboxesError):
            parse_mode(bad, "directory_mode", 0)
    request = req([ALICE], directory_mode="0750", file_mode="0660")
    assert (request["directory_mode"], request["file_mode"]) == (0o750, 0o660)


# --- reconcile: creating, fixing, idempotence -----------------------------

def test_creates_maildir_mbox_and_intermediate_directories():
    fs = FakeFs()
    result = run(fs, [ALICE, DAVE, {"path": "deep/er/box/"}])
    made = ["example.org", "example.org/alice", "example.org/alice/cur", "example.org/alice/new",
            "example.org/alice/tmp", "example.org/dave", "deep", "deep/er", "deep/er/box", "deep/er/box/cur",
            "deep/er/box/new", "deep/er/box/tmp"]
    assert result == {"changed": True, "created_count": 12, "fixed_count": 0,
                      "created": [BASE + "/" + rel for rel in made], "fixed": []}
    for rel in made:
        expected = ("file", UID, GID, "0o600") if rel == "example.org/dave" else ("dir", UID, GID, "0o700")
        assert state(fs.get(rel)) == expected, rel
    assert fs.peak <= 5  # base, deep, er, box, cur: one handle per level


def test_below_a_created_directory_nothing_is_probed():
    fs = FakeFs()
    run(fs, [ALICE, DAVE])
    probes = [call for call in fs.calls if call[0] in ("open_dir", "open_file", "peek")]
    assert probes == [("open_dir", BASE + "/example.org")]


def test_new_directories_stay_private_until_complete():
    fs = FakeFs(umask=0)
    seen = []
    real_make_dir, real_make_file = fs.make_dir, fs.make_file

    def watch(real):
        def make(parent, name, path, mode):
            entry = fs.handles[parent]
            if entry is not fs.root:
                seen.append((path, entry.uid, entry.gid, oct(entry.mode)))
            return real(parent, name, path, mode)
        return make

    fs.make_dir, fs.make_file = watch(real_make_dir), watch(real_make_file)
    run(fs, [ALICE, DAVE], directory_mode="0755")
    assert len(seen) == 5  # alice, dave (in example.org), cur, new, tmp (in alice)
    assert set(owner_mode[1:] for owner_mode in seen) == {(0, 0, "0o700")}  # parent still root's 0700
    assert state(fs.get("example.org/alice")) == ("dir", UID, GID, "0o755")  # handed over afterwards


def test_a_new_directory_is_handed_over_also_when_something_below_fails():
    fs = FakeFs()
    real_make_dir = fs.make_dir

    def fail_on_tmp(parent, name, path, mode):
        if name == "tmp":
            raise OSError(28, "No space left on device")
        return real_make_dir(parent, name, path, mode)

    fs.make_dir = fail_on_tmp
    with pytest.raises(MailboxesError, match="^cannot create /var/mail/vhosts/example.org/alice/tmp: No space left"):
        run(fs, [ALICE])
    assert fs.handles == {}
    for rel in ("example.org", "example.org/alice", "example.org/alice/cur", "example.org/alice/new"):
        assert state(fs.get(rel)) == ("dir", UID, GID, "0o700"), rel


def test_second_run_changes_nothing_and_opens_no_leaf():
    fs = FakeFs()
    run(fs, [ALICE, DAVE])
    fs.calls = []
    assert run(fs, [ALICE, DAVE]) == {"changed": False, "created_count": 0, "fixed_count": 0,
                                      "created": [], "fixed": []}
    assert not [call for call in fs.calls if call[0] in ("make_dir", "make_file", "set_owner_mode")]
    # leaves that are right are only peeked at; directories with children are opened
    assert sorted(call[1] for call in fs.calls if call[0] == "peek") == ["cur", "dave", "new", "tmp"]
    assert [call[1] for call in fs.calls if call[0] in ("open_dir", "open_file")] == [
        BASE + "/example.org", BASE + "/example.org/alice"]


def test_wrong_owner_and_mode_are_fixed_but_not_of_existing_intermediate_dirs():
    fs = FakeFs()
    run(fs, [ALICE, DAVE])
    fs.get("example.org").mode = 0o755
    fs.get("example.org").uid = 0
    fs.get("example.org/alice").mode = 0o755
    fs.get("example.org/alice/new").uid = 1000
    fs.get("example.org/dave").mode = 0o644
    fs.put("example.org/alice/cur/1700000000.M1.host", Entry("file", 0, 0, 0o644))  # mail
    result = run(fs, [ALICE, DAVE])
    assert result["changed"] is True and result["created_count"] == 0 and result["fixed_count"] == 3
    assert result["fixed"] == [BASE + "/example.org/alice", BASE + "/example.org/alice/new", BASE + "/example.org/dave"]
    assert state(fs.get("example.org/alice")) == ("dir", UID, GID, "0o700")
    assert state(fs.get("example.org/alice/new")) == ("dir", UID, GID, "0o700")
    assert state(fs.get("example.org/dave")) == ("file", UID, GID, "0o600")
    assert state(fs.get("example.org")) == ("dir", 0, GID, "0o755")  # intermediate: left alone
    assert state(fs.get("example.org/alice/cur/1700000000.M1.host")) == ("file", 0, 0, "0o644")  # mail: untouched


def test_modes_from_the_request():
    fs = FakeFs()
    run(fs, [ALICE, DAVE], directory_mode="0750", file_mode="0660")
    assert state(fs.get("example.org/alice/tmp")) == ("dir", UID, GID, "0o750")
    assert state(fs.get("example.org")) == ("dir", UID, GID, "0o750")
    assert state(fs.get("example.org/dave")) == ("file", UID, GID, "0o660")
    assert run(fs, [ALICE, DAVE], directory_mode="0700")["fixed_count"] == 5  # alice, cur, new, tmp; dave is 0660


def test_never_deletes_anything():
    fs = FakeFs()
    run(fs, [ALICE, DAVE])
    fs.put("example.org/old", Entry("dir"))
    assert run(fs, [ALICE])["changed"] is False
    assert set(fs.get("example.org").children) == {"alice", "dave", "old"}


# --- check mode -----------------------------------------------------------

def test_check_mode_reports_and_changes_nothing():
    fs = FakeFs()
    result = run(fs, [ALICE, DAVE], check=True)
    assert result["created_count"] == 6 and result["changed"] is True
    assert result["created"][:2] == [BASE + "/example.org", BASE + "/example.org/alice"]
    assert fs.root.children == {}
    run(fs, [ALICE, DAVE])
    fs.get("example.org/alice/cur").mode = 0o777
    fs.calls = []
    result = run(fs, [ALICE, DAVE, {"path": "example.org/new/"}], check=True)
    assert (result["created_count"], result["fixed_count"]) == (4, 1)
    assert fs.get("example.org/alice/cur").mode == 0o777
    assert "new" not in fs.get("example.org").children
    assert not [call for call in fs.calls if call[0] in ("make_dir", "make_file", "set_owner_mode")]


def test_missing_base_fails_except_in_check_mode():
    fs = FakeFs()
    fs.root = None
    with pytest.raises(MailboxesError, match="^mailbox base /var/mail/vhosts does not exist$"):
        run(fs, [ALICE])
    result = run(fs, [ALICE, DAVE], check=True)
    assert result["created_count"] == 6


# --- the base itself (base_mode) --------------------------------------------

def test_base_mode_creates_the_base_and_its_parents_and_hands_it_over_last():
    fs = FakeFs()
    fs.root = None
    fs.parents = ["/var/mail"]
    modes_while_filling = []
    real_make_dir = fs.make_dir

    def watch(parent, name, path, mode):
        modes_while_filling.append(state(fs.root))
        return real_make_dir(parent, name, path, mode)

    fs.make_dir = watch
    result = run(fs, [ALICE], base_mode="0750")
    assert result["created"][:3] == ["/var/mail", BASE, BASE + "/example.org"] and result["created_count"] == 7
    assert set(modes_while_filling) == {("dir", 0, 0, "0o700")}  # private until everything below exists
    assert state(fs.root) == ("dir", UID, GID, "0o750")
    assert state(fs.get("example.org/alice/cur")) == ("dir", UID, GID, "0o700")
    assert run(fs, [ALICE], base_mode="0750")["changed"] is False


def test_base_mode_with_no_mailboxes_creates_the_base_alone():
    fs = FakeFs()
    fs.root = None
    assert run(fs, [], base_mode="0750")["created"] == [BASE]
    assert state(fs.root) == ("dir", UID, GID, "0o750")


def test_base_mode_in_check_mode_reports_the_base_and_creates_nothing():
    fs = FakeFs()
    fs.root = None
    result = run(fs, [ALICE], check=True, base_mode="0750")
    assert result["created"][:2] == [BASE, BASE + "/example.org"] and result["created_count"] == 6
    assert fs.root is None and ("make_base", BASE) not in fs.calls


def test_base_mode_fixes_an_existing_base_and_without_it_the_base_is_left_alone():
    fs = FakeFs()
    run(fs, [ALICE])
    assert state(fs.root) == ("dir", 0, 0, "0o755")
    result = run(fs, [ALICE], check=True, base_mode="0750")
    assert result["fixed"] == [BASE] and state(fs.root) == ("dir", 0, 0, "0o755")
    result = run(fs, [ALICE], base_mode="0750")
    assert result["fixed"] == [BASE] and result["created_count"] == 0
    assert state(fs.root) == ("dir", UID, GID, "0o750")


def test_base_mode_never_goes_through_a_symbolic_link_as_base():
    fs = FakeFs(root=Entry("link", target="/etc"))
    for check in (False, True):
        with pytest.raises(SymlinkRefused, match="^/var/mail/vhosts is a symbolic link -> /etc; "):
            reconcile(req([ALICE], base_mode="0750"), fs, check=check)
    assert [call[0] for call in fs.calls] == ["open_base", "open_base"]  # nothing created, nothing changed


def test_a_base_created_meanwhile_is_inspected_instead():
    fs = FakeFs()
    fs.root = None
    real_open_base = fs.open_base
    opened = []

    def late_base(path):
        opened.append(path)
        if len(opened) == 1:
            handle = real_open_base(path)  # None: missing ...
            fs.root = Entry("dir", 0, 0, 0o755)  # ... and created by someone else right after
            return handle
        return real_open_base(path)

    fs.open_base = late_base
    result = run(fs, [ALICE], base_mode="0750")
    assert result["fixed"] == [BASE] and state(fs.root) == ("dir", UID, GID, "0o750")


def test_a_bad_base_mode_is_refused():
    with pytest.raises(MailboxesError, match="base_mode: '0x750' is not an octal mode"):
        req([ALICE], base_mode="0x750")
    assert req([ALICE])["base_mode"] is None and req([ALICE], base_mode="750")["base_mode"] == 0o750


# --- refusals ---------------------------------------------------------------

@pytest.mark.parametrize("rel, boxes", [
    ("example.org/alice", [ALICE]),            # the Maildir itself
    ("example.org", [ALICE]),                  # an intermediate directory
    ("example.org/alice/cur", [ALICE]),        # cur/
    ("example.org/dave", [DAVE]),              # an mbox file
])
def test_symbolic_links_are_refused_naming_them(rel, boxes):
    fs = FakeFs()
    run(fs, [ALICE, DAVE])
    target = Entry("file", 0, 0, 0o640)
    fs.put(rel, Entry("link", target="/etc/shadow"))
    for check in (False, True):
        with pytest.raises(SymlinkRefused) as err:
            reconcile(req(boxes), fs, check=check)
        assert str(err.value).startswith("%s/%s is a symbolic link -> /etc/shadow; refusing" % (BASE, rel))
        assert err.value.path == "%s/%s" % (BASE, rel)
        assert fs.handles == {}
    assert state(target) == ("file", 0, 0, "0o640")


def test_symbolic_link_as_base_is_refused():
    fs = FakeFs(root=Entry("link", target="/etc"))
    with pytest.raises(SymlinkRefused, match="^/var/mail/vhosts is a symbolic link -> /etc; "):
        run(fs, [ALICE])


def test_wrong_types_are_refused():
    fs = FakeFs()
    run(fs, [ALICE, DAVE])
    fs.put("example.org/dave", Entry("dir"))
    with pytest.raises(WrongType, match="example.org/dave exists but is not a regular file .it is a directory"):
        run(fs, [DAVE])
    fs.put("example.org/dave", Entry("fifo", UID, GID, 0o600))
    with pytest.raises(WrongType, match="is not a regular file"):
        run(fs, [DAVE])
    fs.put("example.org/alice", Entry("file"))
    with pytest.raises(WrongType, match="example.org/alice exists but is not a directory"):
        run(fs, [ALICE])
    assert fs.handles == {}


def test_an_mbox_with_several_hard_links_is_not_given_away():
    fs = FakeFs()
    run(fs, [DAVE])
    shadow = fs.put("example.org/dave", Entry("file", 0, 42, 0o640, nlink=2))
    with pytest.raises(MailboxesError, match="example.org/dave has 2 hard links; refusing"):
        run(fs, [DAVE])
    assert state(shadow) == ("file", 0, 42, "0o640")
    shadow.uid, shadow.gid, shadow.mode = UID, GID, 0o600  # nothing to change: accepted
    assert run(fs, [DAVE])["changed"] is False


def test_an_entry_appearing_between_probe_and_create_is_inspected():
    fs = FakeFs()
    real_make_dir = fs.make_dir

    def racing_make_dir(parent, name, path, mode):
        if name == "alice":  # someone else creates a symlink at the last moment
            fs.handles[parent].children[name] = Entry("link", target="/root")
        return real_make_dir(parent, name, path, mode)

    fs.make_dir = racing_make_dir
    with pytest.raises(SymlinkRefused, match="example.org/alice is a symbolic link -> /root"):
        run(fs, [ALICE])
    assert fs.handles == {}


def test_errors_keep_what_was_done_before():
    fs = FakeFs()
    run(fs, [ALICE])
    fs.put("example.org/zed", Entry("link", target="/"))
    summary = Summary()
    with pytest.raises(SymlinkRefused):
        reconcile(req([{"path": "example.org/bob/"}, {"path": "example.org/zed/"}]), fs, summary=summary)
    assert summary.created_count == 4 and summary.changed
    assert fs.handles == {}


def test_os_errors_name_the_path():
    fs = FakeFs()

    def denied(parent, name, path, mode):
        raise PermissionError(13, "Permission denied")

    fs.make_dir = denied
    with pytest.raises(MailboxesError, match="^cannot create /var/mail/vhosts/example.org: Permission denied$"):
        run(fs, [ALICE])


# --- summary and diff -----------------------------------------------------

def test_counts_are_complete_and_lists_capped():
    fs = FakeFs()
    boxes = [{"path": "d/u%04d/" % i} for i in range(300)]
    result = run(fs, boxes)
    assert result["created_count"] == 1 + 300 * 4
    assert len(result["created"]) == LIST_MAX
    for i in range(300):
        fs.get("d/u%04d/new" % i).mode = 0o755
    result = run(fs, boxes)
    assert result["fixed_count"] == 300 and len(result["fixed"]) == LIST_MAX


def test_render_diff():
    fs = FakeFs()
    run(fs, [ALICE])
    fs.get("example.org/alice").mode = 0o755
    fs.get("example.org/alice").uid = 0
    summary = reconcile(req([ALICE, DAVE]), fs)
    diff = render_diff(summary, BASE)
    assert diff["before"] == BASE + "/example.org/alice  directory  0:5001  0755\n"
    assert diff["after"] == (BASE + "/example.org/alice  directory  5000:5001  0700\n"
                             + BASE + "/example.org/dave  file  5000:5001  0600\n")
    assert diff["after_header"] == BASE + " (mailboxes after: 1 created, 1 fixed)"


def test_render_diff_is_capped_with_complete_counts():
    summary = Summary()
    for i in range(250):
        summary.add_created("/b/%d" % i, "directory", 1, 1, 0o700)
    summary.add_fixed("/b/x", "file", (0, 0, 0o644), (1, 1, 0o600))
    diff = render_diff(summary, "/b")
    lines = diff["after"].splitlines()
    assert len(lines) == LIST_MAX + 1 + 1
    assert lines[-1] == "# ... and 50 more created, 0 more fixed (250 created, 1 fixed in all)"
    assert diff["before"] == "/b/x  file  0:0  0644\n"
