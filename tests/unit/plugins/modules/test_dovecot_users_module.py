"""dovecot_users: owner and mode are corrected on the file itself, never through a link put in its place."""
import os
import stat

import pytest

from ansible_collections.vhosting.postfix.plugins.modules import dovecot_users


class Failed(Exception):
    pass


class Module(object):
    def fail_json(self, msg, **_kwargs):
        raise Failed(msg)


def test_owner_and_mode_are_set_on_the_file(tmp_path):
    path = tmp_path / "users"
    path.write_text("x\n")
    os.chmod(path, 0o644)
    dovecot_users._set_owner_mode(Module(), str(path), os.getuid(), os.getgid(), 0o640)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_link_in_the_files_place_is_refused_and_its_target_left_alone(tmp_path):
    target = tmp_path / "shadow"
    target.write_text("secret\n")
    os.chmod(target, 0o600)
    link = tmp_path / "users"
    link.symlink_to(target)
    with pytest.raises(Failed, match="without following a link"):
        dovecot_users._set_owner_mode(Module(), str(link), os.getuid(), os.getgid(), 0o644)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_a_directory_in_the_files_place_is_refused(tmp_path):
    directory = tmp_path / "users"
    directory.mkdir(mode=0o700)
    with pytest.raises(Failed, match="not a regular file"):
        dovecot_users._set_owner_mode(Module(), str(directory), os.getuid(), os.getgid(), 0o644)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
