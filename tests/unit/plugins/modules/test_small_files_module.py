# -*- coding: utf-8 -*-
"""small_files on real files in a temporary directory (the current user as owner and group)."""
import grp
import json
import os
import pwd
import stat

import pytest
from module_args import patch_module_args

from ansible_collections.vhosting.postfix.plugins.modules import small_files

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(capsys, files, **extra):
    args = dict(files=[dict(f, owner=USER, group=GROUP) for f in files], **extra)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            small_files.main()
    return json.loads(capsys.readouterr().out)


def test_writes_what_differs_fixes_modes_and_leaves_the_rest(tmp_path, capsys):
    same, other, mode_only = tmp_path / "same", tmp_path / "other", tmp_path / "mode"
    same.write_text("s\n")
    os.chmod(same, 0o644)
    other.write_text("old\n")
    mode_only.write_text("m\n")
    os.chmod(mode_only, 0o600)
    new = tmp_path / "new"
    files = [{"path": str(same), "content": "s\n"}, {"path": str(other), "content": "new\n", "mode": "0640"},
             {"path": str(mode_only), "content": "m\n"}, {"path": str(new), "content": "n\n", "mode": "0755"}]
    result = run(capsys, files, _ansible_diff=True)
    assert result["changed"] and result["written"] == [str(other), str(new)] and result["fixed"] == [str(mode_only)]
    assert other.read_text() == "new\n" and stat.S_IMODE(other.stat().st_mode) == 0o640
    assert new.read_text() == "n\n" and stat.S_IMODE(new.stat().st_mode) == 0o755
    assert stat.S_IMODE(mode_only.stat().st_mode) == 0o644
    assert [d["after"] for d in result["diff"]] == ["new\n", "n\n"] and result["diff"][0]["before"] == "old\n"
    assert not run(capsys, files)["changed"]  # the second run changes nothing


def test_check_mode_reports_and_writes_nothing(tmp_path, capsys):
    target = tmp_path / "f"
    target.write_text("old\n")
    result = run(capsys, [{"path": str(target), "content": "new\n"},
                          {"path": str(tmp_path / "missing-dir" / "g"), "content": "g\n"}], _ansible_check_mode=True)
    assert result["changed"] and result["written"] == [str(target), str(tmp_path / "missing-dir" / "g")]
    assert target.read_text() == "old\n" and not (tmp_path / "missing-dir").exists()


def test_a_refused_file_leaves_every_file_as_it_was(tmp_path, capsys):
    first, link = tmp_path / "first", tmp_path / "link"
    first.write_text("old\n")
    link.symlink_to(first)
    result = run(capsys, [{"path": str(first), "content": "new\n"}, {"path": str(link), "content": "x\n"}])
    assert result["failed"] and result["msg"] == "%s: exists and is not a regular file (left alone)" % link
    assert first.read_text() == "old\n"
    missing = run(capsys, [{"path": str(tmp_path / "nodir" / "x"), "content": "x\n"}])
    assert missing["failed"] and missing["msg"].endswith("/nodir/x: its directory does not exist")
