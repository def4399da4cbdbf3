# -*- coding: utf-8 -*-
"""The fingerprint's key on the control node: made once, 0600 in a 0700 directory, atomic, never half written."""
import multiprocessing
import os
import stat

import pytest

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _fingerprint_key


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_key_lives_under_ansible_home(tmp_path):
    assert _fingerprint_key.key_path(str(tmp_path)) == str(tmp_path / "vhosting-postfix" / "fingerprint.key")


def test_made_once_with_mode_0600_in_a_0700_directory_then_read_back(tmp_path):
    path = _fingerprint_key.key_path(str(tmp_path / "home"))
    key = _fingerprint_key.load_or_create(path)
    assert isinstance(key, bytes) and len(key) == 32
    assert _mode(path) == 0o600
    assert _mode(os.path.dirname(path)) == 0o700
    assert _fingerprint_key.load_or_create(path) == key
    assert os.listdir(os.path.dirname(path)) == ["fingerprint.key"]  # no temporary file left


def test_each_control_node_gets_its_own_random_key(tmp_path):
    first = _fingerprint_key.load_or_create(str(tmp_path / "a" / "fingerprint.key"))
    second = _fingerprint_key.load_or_create(str(tmp_path / "b" / "fingerprint.key"))
    assert first != second


def test_a_concurrent_creator_wins_and_this_one_reads_its_key(tmp_path, monkeypatch):
    path = _fingerprint_key.key_path(str(tmp_path))
    os.makedirs(os.path.dirname(path), mode=0o700)
    theirs = b"t" * 32
    real_link = os.link

    def link_after_the_other_worker(src, dst):
        # The other worker links its complete key between our read and our link.
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, theirs)
        os.close(fd)
        return real_link(src, dst)
    monkeypatch.setattr(_fingerprint_key.os, "link", link_after_the_other_worker)
    assert _fingerprint_key.load_or_create(path) == theirs
    assert os.listdir(os.path.dirname(path)) == ["fingerprint.key"]


def _worker(path, queue):
    queue.put(_fingerprint_key.load_or_create(path))


def test_many_workers_at_once_all_get_the_same_key(tmp_path):
    path = _fingerprint_key.key_path(str(tmp_path))
    queue = multiprocessing.get_context("fork").Queue()
    workers = [multiprocessing.get_context("fork").Process(target=_worker, args=(path, queue)) for _i in range(8)]
    for worker in workers:
        worker.start()
    keys = [queue.get(timeout=30) for _w in workers]
    for worker in workers:
        worker.join(30)
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert _fingerprint_key.load_or_create(path) == keys[0]


@pytest.mark.parametrize("content, mode, message", [
    (b"", 0o600, "holds 0 bytes instead of 32"),
    (b"x" * 31, 0o600, "holds 31 bytes instead of 32"),
    (b"x" * 40, 0o600, "holds 33 bytes instead of 32"),
    (b"x" * 32, 0o640, "readable or writable by others (mode 0640)"),
    (b"x" * 32, 0o604, "readable or writable by others"),
])
def test_an_unusable_key_file_is_refused_naming_it_never_quoting_it(tmp_path, content, mode, message):
    path = _fingerprint_key.key_path(str(tmp_path))
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as handle:
        handle.write(content)
    os.chmod(path, mode)
    with pytest.raises(_fingerprint_key.FingerprintKeyError) as info:
        _fingerprint_key.load_or_create(path)
    assert message in str(info.value) and path in str(info.value)
    assert "xxxx" not in str(info.value)


def test_a_symlink_is_not_followed(tmp_path):
    path = _fingerprint_key.key_path(str(tmp_path))
    os.makedirs(os.path.dirname(path))
    target = tmp_path / "elsewhere"
    target.write_bytes(b"y" * 32)
    os.chmod(str(target), 0o600)
    os.symlink(str(target), path)
    with pytest.raises(OSError):
        _fingerprint_key.load_or_create(path)


def test_a_failed_write_leaves_neither_a_key_nor_a_temporary_file(tmp_path, monkeypatch):
    path = _fingerprint_key.key_path(str(tmp_path))

    def full(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_fingerprint_key.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        _fingerprint_key.load_or_create(path)
    monkeypatch.undo()
    assert os.listdir(os.path.dirname(path)) == []
    assert len(_fingerprint_key.load_or_create(path)) == 32
