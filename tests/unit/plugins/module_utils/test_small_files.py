# -*- coding: utf-8 -*-
"""The small_files core: what each file needs, and the refusals naming the path."""
import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils import _small_files as core

WANT = {"path": "/etc/postfix/a.cf", "content": b"a = 1\n", "uid": 0, "gid": 104, "mode": 0o640}


def test_a_missing_file_or_other_content_is_written():
    assert core.plan(WANT, None) == "write"
    assert core.plan(WANT, dict(WANT, regular=True, content=b"a = 2\n")) == "write"


def test_the_right_content_with_other_attributes_gets_only_them_and_a_right_file_nothing():
    assert core.plan(WANT, dict(WANT, regular=True, mode=0o644)) == "attributes"
    assert core.plan(WANT, dict(WANT, regular=True, gid=0)) == "attributes"
    assert core.plan(WANT, dict(WANT, regular=True)) is None


def test_something_else_than_a_regular_file_is_refused():
    with pytest.raises(core.SmallFilesError, match="^/etc/postfix/a.cf: exists and is not a regular file"):
        core.plan(WANT, {"regular": False})


@pytest.mark.parametrize("mode", ["640", "0640", "0755", "1777"])
def test_octal_modes(mode):
    assert core.parse_mode(mode, "/x") == int(mode, 8)


@pytest.mark.parametrize("mode", ["rw-r-----", "0999", "", None, 640, "064000"])
def test_other_modes_are_refused_naming_the_path(mode):
    with pytest.raises(core.SmallFilesError, match="^/etc/x: mode must be an octal string"):
        core.parse_mode(mode, "/etc/x")


@pytest.mark.parametrize("path", ["etc/x", "/etc/../shadow", "/etc/x/", "/etc/\0x", ""])
def test_paths_must_be_absolute_files_without_dotdot(path):
    with pytest.raises(core.SmallFilesError, match="must be absolute"):
        core.check_path(path, set())


def test_a_path_named_twice_is_refused():
    seen = set()
    core.check_path("/etc/x", seen)
    with pytest.raises(core.SmallFilesError, match="^/etc/x: named twice"):
        core.check_path("/etc/x", seen)
