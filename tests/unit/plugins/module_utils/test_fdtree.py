# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_fdtree on real temporary directories: links are refused or removed as links, never followed.

The attacks are real: symbolic links to a directory and a file of another
user, link loops, FIFOs, directories nested deeper than allowed. Every test
checks that what a link points to is left exactly as it was.
"""
import errno
import os
import stat

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils import _fdtree

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changes owners: needs root")

OTHER = 1111


def info(path):
    st = os.lstat(str(path))
    return (stat.S_IFMT(st.st_mode), st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


def snapshot(root):
    """Every path below root (not following links) -> (type, uid, gid, mode, content of a file)."""
    found = {".": info(root)}
    for directory, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            content = open(path).read() if os.path.isfile(path) and not os.path.islink(path) else None
            found[os.path.relpath(path, str(root))] = info(path) + (content,)
    return found


@pytest.fixture
def victim(tmp_path):
    """What a link would point to: a directory and a file of another user."""
    path = tmp_path / "victim"
    path.mkdir(mode=0o755)
    (path / "keep").write_text("precious\n")
    os.chmod(str(path / "keep"), 0o640)
    for item in (path, path / "keep"):
        os.chown(str(item), OTHER, OTHER)
    return path


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "base"
    path.mkdir(mode=0o755)
    return path


@pytest.fixture
def base_fd(base):
    fd = os.open(str(base), os.O_RDONLY | os.O_DIRECTORY)
    yield fd
    os.close(fd)


# ---------------------------------------------------------------- functions

def test_open_dir_refuses_a_link_and_a_file(base, base_fd, victim):
    os.symlink(str(victim), str(base / "link"))
    (base / "file").write_text("")
    (base / "dir").mkdir()
    with pytest.raises(OSError) as err:  # O_DIRECTORY|O_NOFOLLOW on a link: ENOTDIR on Linux (ELOOP elsewhere)
        _fdtree.open_dir("link", dir_fd=base_fd)
    assert err.value.errno in (errno.ELOOP, errno.ENOTDIR)
    with pytest.raises(NotADirectoryError):
        _fdtree.open_dir("file", dir_fd=base_fd)
    fd = _fdtree.open_dir("dir", dir_fd=base_fd)
    try:
        assert os.fstat(fd).st_ino == os.stat(str(base / "dir")).st_ino
    finally:
        os.close(fd)
    with pytest.raises(OSError) as err:  # the last component of a path is not followed either
        _fdtree.open_dir(str(base / "link"))
    assert err.value.errno in (errno.ELOOP, errno.ENOTDIR)


def test_lstat_at_sees_the_link_itself(base, base_fd, victim):
    os.symlink(str(victim), str(base / "link"))
    assert stat.S_ISLNK(_fdtree.lstat_at(base_fd, "link").st_mode)
    assert _fdtree.lstat_at(base_fd, "missing") is None


def test_file_type_names(base, base_fd):
    (base / "file").write_text("")
    os.mkfifo(str(base / "fifo"))
    os.symlink("nowhere", str(base / "link"))
    names = dict((name, _fdtree.file_type_name(os.lstat(str(base / name)).st_mode))
                 for name in ("file", "fifo", "link"))
    assert names == {"file": "regular file", "fifo": "FIFO", "link": "symbolic link"}
    assert _fdtree.file_type_name(os.lstat(str(base)).st_mode) == "directory"
    assert _fdtree.file_type_name(os.lstat(str(base / "file")).st_mode, regular="file") == "file"


def test_set_owner_mode_changes_the_object_of_the_descriptor_owner_first(base):
    path = base / "prog"
    path.write_text("")
    fd = os.open(str(path), os.O_RDONLY)
    try:
        # fchown clears set-id bits: the mode must be set after it.
        _fdtree.set_owner_mode(fd, OTHER, OTHER, 0o4750)
    finally:
        os.close(fd)
    assert info(path) == (stat.S_IFREG, OTHER, OTHER, 0o4750)


def test_read_fd_stops_at_the_limit(base):
    (base / "big").write_bytes(b"x" * 200000)
    fd = os.open(str(base / "big"), _fdtree.READ_FLAGS)
    try:
        assert _fdtree.read_fd(fd, 70000) == b"x" * 70000
        assert len(_fdtree.read_fd(fd, 10 ** 6)) == 130000
    finally:
        os.close(fd)


def test_read_flags_open_a_fifo_without_hanging_and_refuse_a_link(base, base_fd, victim):
    os.mkfifo(str(base / "fifo"))
    fd = os.open("fifo", _fdtree.READ_FLAGS, dir_fd=base_fd)
    try:
        assert _fdtree.read_fd(fd, 10) == b""
    finally:
        os.close(fd)
    os.symlink(str(victim / "keep"), str(base / "link"))
    with pytest.raises(OSError) as err:
        os.open("link", _fdtree.READ_FLAGS, dir_fd=base_fd)
    assert err.value.errno == errno.ELOOP


def test_remove_at_removes_links_not_their_targets(base, base_fd, victim):
    before = snapshot(victim)
    (base / "tree" / "deep").mkdir(parents=True)
    os.symlink(str(victim), str(base / "tree" / "deep" / "to-dir"))
    os.symlink(str(victim / "keep"), str(base / "tree" / "to-file"))
    os.mkfifo(str(base / "tree" / "fifo"))
    os.symlink(str(victim), str(base / "top-link"))
    _fdtree.remove_at(base_fd, "tree")
    _fdtree.remove_at(base_fd, "top-link")
    _fdtree.remove_at(base_fd, "missing")  # nothing there: nothing done
    assert os.listdir(str(base)) == []
    assert snapshot(victim) == before


def test_remove_at_refuses_a_tree_deeper_than_the_limit(base, base_fd):
    deep = base / "a"
    for _level in range(4):
        deep = deep / "a"
    deep.mkdir(parents=True)
    with pytest.raises(_fdtree.FdTreeError) as err:
        _fdtree.remove_at(base_fd, "a", max_depth=3)
    assert str(err.value) == "a: directories nested more than 3 deep; remove them by hand"
    assert deep.is_dir()
    _fdtree.remove_at(base_fd, "a", max_depth=5)
    assert not (base / "a").exists()
    assert _fdtree.MAX_DEPTH == 32


# ---------------------------------------------------------------- FdTree

class Refused(_fdtree.LinkRefused):
    advice = " (ours)"


class Special(ValueError):
    pass


class OwnTree(_fdtree.FdTree):
    error = Special
    link_refused = Refused


def test_open_base_refuses_a_link_as_base_and_its_target_is_untouched(tmp_path, victim):
    os.symlink(str(victim), str(tmp_path / "vhosts"))
    before = snapshot(victim)
    with pytest.raises(_fdtree.LinkRefused) as err:
        _fdtree.FdTree().open_base(str(tmp_path / "vhosts"))
    assert str(err.value) == "%s is a symbolic link -> %s; refusing to follow it" % (tmp_path / "vhosts", victim)
    assert (err.value.path, err.value.target, err.value.owner) == (str(tmp_path / "vhosts"), str(victim), None)
    with pytest.raises(Refused, match=r" -> %s; refusing to follow it \(ours\)$" % victim):
        OwnTree().open_base(str(tmp_path / "vhosts"))
    assert snapshot(victim) == before


def test_open_base_missing_or_of_the_wrong_type(tmp_path):
    tree = _fdtree.FdTree()
    assert tree.open_base(str(tmp_path / "nope" / "vhosts")) is None
    assert tree.open_base(str(tmp_path / "nope")) is None
    (tmp_path / "plain").write_text("")
    with pytest.raises(_fdtree.WrongType) as err:
        tree.open_base(str(tmp_path / "plain"))
    assert str(err.value) == "%s exists but is not a directory (it is a regular file)" % (tmp_path / "plain")
    with pytest.raises(_fdtree.WrongType, match="is not a directory .it is a regular file.$"):
        tree.open_base(str(tmp_path / "plain" / "below"))  # a file on the way


def test_make_base_creates_roots_parents_0755_and_a_private_base(tmp_path):
    base = tmp_path / "srv" / "mail" / "vhosts"
    tree = _fdtree.FdTree()
    handle, created = tree.make_base(str(base))
    try:
        assert created == [str(tmp_path / "srv"), str(tmp_path / "srv" / "mail")]
        assert os.fstat(handle).st_ino == os.stat(str(base)).st_ino
    finally:
        tree.close(handle)
    assert info(tmp_path / "srv") == (stat.S_IFDIR, 0, 0, 0o755)
    assert info(tmp_path / "srv" / "mail") == (stat.S_IFDIR, 0, 0, 0o755)
    assert info(base)[:3] == (stat.S_IFDIR, 0, 0) and info(base)[3] & 0o077 == 0
    with pytest.raises(FileExistsError):
        tree.make_base(str(base))


def test_a_link_of_another_user_on_the_way_is_refused_roots_is_followed(tmp_path, victim):
    link = tmp_path / "srv"
    os.symlink(str(victim), str(link))
    os.lchown(str(link), OTHER, OTHER)
    before = snapshot(victim)
    with pytest.raises(_fdtree.LinkRefused) as err:
        _fdtree.FdTree().make_base(str(link / "vhosts"))
    assert str(err.value) == ("%s is a symbolic link -> %s (owned by uid %d, not root); refusing to follow it"
                              % (link, victim, OTHER))
    assert snapshot(victim) == before
    (tmp_path / "data").mkdir()
    os.symlink("data", str(tmp_path / "rootlink"))  # relative, root's
    handle = _fdtree.FdTree().open_parent(str(tmp_path / "rootlink" / "vhosts"), create=False)
    try:
        assert os.fstat(handle).st_ino == os.stat(str(tmp_path / "data")).st_ino
    finally:
        os.close(handle)


def test_a_loop_of_roots_links_ends_with_an_error(tmp_path):
    os.symlink("loop", str(tmp_path / "loop"))
    with pytest.raises(_fdtree.FdTreeError, match=r"/loop: too many levels of symbolic links$"):
        _fdtree.FdTree().open_base(str(tmp_path / "loop" / "vhosts"))
    with pytest.raises(Special, match="too many levels"):
        OwnTree().open_base(str(tmp_path / "loop" / "vhosts"))


def test_open_dir_and_open_file_refuse_links_and_name_the_path(base, base_fd, victim):
    tree = _fdtree.FdTree()
    os.symlink(str(victim), str(base / "dir"))
    os.symlink(str(victim / "keep"), str(base / "file"))
    os.mkfifo(str(base / "fifo"))
    before = snapshot(victim)
    with pytest.raises(_fdtree.LinkRefused, match="^x/dir is a symbolic link -> %s; " % victim):
        tree.open_dir(base_fd, "dir", "x/dir")
    with pytest.raises(_fdtree.LinkRefused, match="^x/file is a symbolic link -> %s; " % (victim / "keep")):
        tree.open_file(base_fd, "file", "x/file")
    with pytest.raises(_fdtree.WrongType, match=r"^x/fifo exists but is not a directory \(it is a FIFO\)$"):
        tree.open_dir(base_fd, "fifo", "x/fifo")
    handle = tree.open_file(base_fd, "fifo", "x/fifo")  # opened without hanging; the caller checks the type
    try:
        assert stat.S_ISFIFO(tree.stat(handle).st_mode)
    finally:
        tree.close(handle)
    assert tree.open_dir(base_fd, "missing", "x/missing") is None
    assert tree.open_file(base_fd, "missing", "x/missing") is None
    assert snapshot(victim) == before


def test_a_directory_of_someone_else_is_not_adopted(base, base_fd):
    tree = _fdtree.FdTree()
    (base / "theirs").mkdir()
    os.chown(str(base / "theirs"), OTHER, OTHER)
    with pytest.raises(_fdtree.FdTreeError) as err:
        tree.make_dir_checked(base_fd, "theirs", "x/theirs")
    assert str(err.value) == ("x/theirs was replaced by another directory right after it was created; "
                              "refusing to adopt it")
    with pytest.raises(FileExistsError):
        tree.make_dir(base_fd, "theirs", "x/theirs", 0o700)
    handle = tree.make_dir(base_fd, "mine", "x/mine", 0o700)
    try:
        tree.set_owner_mode(handle, OTHER, OTHER, 0o750)
    finally:
        tree.close(handle)
    assert info(base / "mine") == (stat.S_IFDIR, OTHER, OTHER, 0o750)


def test_make_file_never_writes_through_a_link(base, base_fd, victim):
    tree = _fdtree.FdTree()
    os.symlink(str(victim / "new"), str(base / "dangling"))
    with pytest.raises(FileExistsError):
        tree.make_file(base_fd, "dangling", "x/dangling", 0o600)
    assert not (victim / "new").exists()
    handle = tree.make_file(base_fd, "mbox", "x/mbox", 0o600)
    tree.close(handle)
    assert info(base / "mbox")[0] == stat.S_IFREG
    assert tree.peek(base_fd, "dangling").st_mode & stat.S_IFLNK and tree.peek(base_fd, "nope") is None


def test_a_swap_after_opening_changes_what_was_opened(base, base_fd, victim):
    """The descriptor, not the name, is what set_owner_mode changes."""
    tree = _fdtree.FdTree()
    (base / "box").mkdir(mode=0o755)
    handle = tree.open_dir(base_fd, "box", "x/box")
    try:
        os.rename(str(base / "box"), str(base / "box.moved"))
        os.symlink(str(victim), str(base / "box"))
        tree.set_owner_mode(handle, OTHER, 0, 0o700)
    finally:
        tree.close(handle)
    assert info(base / "box.moved") == (stat.S_IFDIR, OTHER, 0, 0o700)
    assert info(victim) == (stat.S_IFDIR, OTHER, OTHER, 0o755)
