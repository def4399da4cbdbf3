# -*- coding: utf-8 -*-
"""remove_files: every stale path in one call, links removed as links, nothing outside what was named."""
import json

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import remove_files


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            remove_files.main()
    return json.loads(capsys.readouterr().out)


def test_existing_files_and_trees_are_removed_and_reported_in_order(tmp_path, capsys):
    (tmp_path / "virtual.db").write_text("x")
    tree = tmp_path / "vhosting-db"
    (tree / "inner").mkdir(parents=True)
    (tree / "inner" / "a.cf").write_text("password = s\n")
    paths = [str(tmp_path / "virtual.db"), str(tmp_path / "virtual.cdb"), str(tree)]
    result = run(capsys, paths=paths)
    assert result["changed"] is True
    assert result["removed"] == [str(tmp_path / "virtual.db"), str(tree)]
    assert not (tmp_path / "virtual.db").exists() and not tree.exists()


def test_nothing_there_is_no_change(tmp_path, capsys):
    result = run(capsys, paths=[str(tmp_path / "gone.lmdb"), str(tmp_path / "no" / "such.db")])
    assert result == {"changed": False, "removed": [], "invocation": result["invocation"]}


def test_check_mode_reports_and_keeps(tmp_path, capsys):
    (tmp_path / "t.db").write_text("x")
    result = run(capsys, paths=[str(tmp_path / "t.db")], _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True and result["removed"] == [str(tmp_path / "t.db")]
    assert (tmp_path / "t.db").exists()
    assert result["diff"]["before"] == "%s\n" % (tmp_path / "t.db")


def test_a_link_is_removed_itself_never_its_target(tmp_path, capsys):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious").write_text("mail")
    (tmp_path / "t.lmdb").symlink_to(keep / "precious")
    (tmp_path / "dir-link").symlink_to(keep)
    run(capsys, paths=[str(tmp_path / "t.lmdb"), str(tmp_path / "dir-link")])
    assert (keep / "precious").read_text() == "mail"
    assert not (tmp_path / "t.lmdb").is_symlink() and not (tmp_path / "dir-link").is_symlink()


def test_a_link_inside_a_tree_is_not_followed(tmp_path, capsys):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious").write_text("mail")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "escape").symlink_to(keep)
    run(capsys, paths=[str(tree)])
    assert not tree.exists() and (keep / "precious").read_text() == "mail"


def test_a_link_as_the_paths_directory_is_refused(tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    (real / "t.db").write_text("x")
    (tmp_path / "via").symlink_to(real)
    result = run(capsys, paths=[str(tmp_path / "via" / "t.db")])
    assert result["failed"] is True and "without following a link" in result["msg"]
    assert (real / "t.db").exists()


@pytest.mark.parametrize("path, why", [
    ("relative/t.db", "is not an absolute path"),
    ("/etc/postfix/../passwd", "contains '..'"),
    ("/etc", "is a directory of the system"),
    ("/var/spool/postfix/", "is a directory of the system"),
    ("/", "is a directory of the system"),
])
def test_bad_paths_are_refused_before_anything_is_removed(tmp_path, capsys, path, why):
    (tmp_path / "t.db").write_text("x")
    result = run(capsys, paths=[str(tmp_path / "t.db"), path])
    assert result["failed"] is True and why in result["msg"] and "nothing was removed" in result["msg"]
    assert (tmp_path / "t.db").exists()
