# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""write_atomic on real temporary directories: modes, owners, dir_fd (no link followed), replace=False."""
import os
import stat

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils import _atomic
from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic

OTHER = 1111
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="changes owners: needs root")


def owner_mode(path):
    info = os.lstat(str(path))
    return (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))


def test_replaces_a_file_with_its_mode_and_makes_missing_directories(tmp_path):
    path = tmp_path / "a" / "b" / "state.json"
    assert write_atomic(str(path), "one\n") is True
    assert path.read_text() == "one\n" and owner_mode(path)[2] == 0o644
    assert stat.S_IMODE(os.stat(str(tmp_path / "a")).st_mode) == 0o755
    inode = os.stat(str(path)).st_ino
    write_atomic(str(path), u"zw\u00f6lf\n", mode=0o600)
    assert path.read_bytes() == u"zw\u00f6lf\n".encode("utf-8") and owner_mode(path)[2] == 0o600
    assert os.stat(str(path)).st_ino != inode  # a new file renamed over the old one
    write_atomic(str(path), b"\xff raw\n", mode=0o640)
    assert path.read_bytes() == b"\xff raw\n" and owner_mode(path)[2] == 0o640
    assert os.listdir(str(path.parent)) == ["state.json"]


@root_only
def test_owner_and_mode_are_set_before_the_rename(tmp_path, monkeypatch):
    """Nobody sees the new file with the wrong owner or mode, not even for a moment."""
    path = tmp_path / "secret"
    seen = []
    real_rename = os.rename

    def rename(src, dst, **kwargs):
        seen.append(owner_mode(src))
        return real_rename(src, dst, **kwargs)

    monkeypatch.setattr(_atomic.os, "rename", rename)
    write_atomic(str(path), "s3cret\n", mode=0o640, uid=0, gid=OTHER)
    assert seen == [(0, OTHER, 0o640)] and owner_mode(path) == (0, OTHER, 0o640)
    write_atomic(str(path), "s3cret\n", mode=0o4750, uid=OTHER)  # set-id bits survive: fchmod after fchown
    assert owner_mode(path) == (OTHER, 0, 0o4750)  # gid unchanged: the new file's, root's


def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "file"
    path.write_text("old\n")

    def broken(fd, mode):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic.os, "fchmod", broken)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(str(path), "new\n")
    assert path.read_text() == "old\n" and os.listdir(str(tmp_path)) == ["file"]


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(str(victim), str(tmp_path / "file"))
    write_atomic(str(tmp_path / "file"), "mine\n")
    assert not os.path.islink(str(tmp_path / "file")) and (tmp_path / "file").read_text() == "mine\n"
    assert victim.read_text() == "precious\n"


@root_only
def test_dir_fd_writes_into_the_opened_directory_even_when_its_path_is_a_link_by_now(tmp_path):
    control = tmp_path / "control"
    control.mkdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "owner").write_text("precious\n")
    fd = os.open(str(control), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.rename(str(control), str(tmp_path / "control.moved"))
        os.symlink(str(victim), str(control))
        write_atomic("owner", b"o@x.test\n", mode=0o644, uid=0, gid=0, dir_fd=fd)
        # A link in place of the file itself is replaced, not written through.
        os.symlink(str(victim / "owner"), str(tmp_path / "control.moved" / "listaddress"))
        write_atomic("listaddress", "l@x.test\n", mode=0o644, uid=0, gid=0, dir_fd=fd)
    finally:
        os.close(fd)
    moved = tmp_path / "control.moved"
    assert (moved / "owner").read_text() == "o@x.test\n" and owner_mode(moved / "owner") == (0, 0, 0o644)
    assert not os.path.islink(str(moved / "listaddress")) and (moved / "listaddress").read_text() == "l@x.test\n"
    assert sorted(os.listdir(str(moved))) == ["listaddress", "owner"]
    assert os.listdir(str(victim)) == ["owner"] and (victim / "owner").read_text() == "precious\n"


def test_dir_fd_takes_a_name_not_a_path_and_makes_no_directory(tmp_path):
    (tmp_path / "gone").mkdir()
    fd = os.open(str(tmp_path / "gone"), os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(ValueError, match="must be a name"):
            write_atomic("sub/file", "x", dir_fd=fd)
        os.rmdir(str(tmp_path / "gone"))
        with pytest.raises(FileNotFoundError):
            write_atomic("file", "x", dir_fd=fd)
    finally:
        os.close(fd)
    assert os.listdir(str(tmp_path)) == []


def test_replace_false_keeps_what_is_there(tmp_path):
    path = tmp_path / "key"
    assert write_atomic(str(path), b"first", mode=0o600, replace=False) is True
    assert write_atomic(str(path), b"second", mode=0o600, replace=False) is False
    assert path.read_bytes() == b"first" and owner_mode(path)[2] == 0o600
    assert os.listdir(str(tmp_path)) == ["key"]
    fd = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert write_atomic("key", b"third", replace=False, dir_fd=fd) is False
        assert write_atomic("other", b"third", mode=0o640, replace=False, dir_fd=fd) is True
    finally:
        os.close(fd)
    assert path.read_bytes() == b"first" and (tmp_path / "other").read_bytes() == b"third"
    assert owner_mode(tmp_path / "other")[2] == 0o640 and sorted(os.listdir(str(tmp_path))) == ["key", "other"]
