# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the mailboxes module on a real filesystem, as root, in a temporary directory.

Besides creating and fixing, these show that a symbolic link anywhere in a
mailbox path (also one swapped in while the module runs) never makes the
module change the owner or mode of what the link points to, and that the
module leaves no descriptor open however many mailboxes it handles.
"""
import json
import os
import stat

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import mailboxes

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changes owners: needs root")

UID = 4321
GID = 4322
OTHER = 1111  # owner of the files an attacker would like to get
ALICE = {"path": "example.org/alice/", "maildir": True}
DAVE = {"path": "example.org/dave", "maildir": False}


def run_module(capsys, base, boxes, **extra):
    args = dict(base=str(base), owner=UID, group=GID, mailboxes=boxes)
    args.update(extra)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mailboxes.main()
    return json.loads(capsys.readouterr().out)


def info(path):
    st = os.lstat(str(path))
    return (stat.S_IFMT(st.st_mode), st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


def tree(root):
    """Every path below root (not following links) -> (type, uid, gid, mode)."""
    found = {".": info(root)}
    for directory, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            found[os.path.relpath(path, str(root))] = info(path)
    return found


def open_fds():
    return len(os.listdir("/proc/self/fd"))


DIR_OK = (stat.S_IFDIR, UID, GID, 0o700)
FILE_OK = (stat.S_IFREG, UID, GID, 0o600)


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "vhosts"
    path.mkdir(mode=0o750)
    return path


@pytest.fixture
def outside(tmp_path):
    """What a symbolic link would point to: a directory and a file of someone else."""
    path = tmp_path / "outside"
    path.mkdir(mode=0o755)
    (path / "alice").mkdir(mode=0o755)
    secret = path / "secret"
    secret.write_text("not yours\n")
    for item in (path, path / "alice", secret):
        os.chown(str(item), OTHER, OTHER)
    os.chmod(str(secret), 0o640)
    return path


# --- creating and fixing --------------------------------------------------

def test_creates_maildir_mbox_and_missing_parents(capsys, base):
    result = run_module(capsys, base, [ALICE, DAVE, {"path": "example.net/team/"}])
    assert result["changed"] is True and result["fixed_count"] == 0 and result["fixed"] == []
    assert result["created_count"] == 11
    assert result["created"][:3] == [str(base / "example.org"), str(base / "example.org/alice"),
                                     str(base / "example.org/alice/cur")]
    found = tree(base)
    assert found.pop(".") == (stat.S_IFDIR, 0, 0, 0o750)  # the base itself is not touched
    assert found.pop("example.org/dave") == FILE_OK
    assert os.path.getsize(str(base / "example.org/dave")) == 0
    assert sorted(found) == sorted(["example.org", "example.org/alice", "example.org/alice/cur",
                                    "example.org/alice/new", "example.org/alice/tmp", "example.net",
                                    "example.net/team", "example.net/team/cur", "example.net/team/new",
                                    "example.net/team/tmp"])
    assert set(found.values()) == {DIR_OK}


def test_second_run_changes_nothing(capsys, base):
    run_module(capsys, base, [ALICE, DAVE])
    before = tree(base)
    result = run_module(capsys, base, [ALICE, DAVE])
    assert result == {"changed": False, "created_count": 0, "fixed_count": 0, "created": [], "fixed": [],
                      "invocation": result["invocation"]}
    assert tree(base) == before


def test_fixes_owner_and_mode_of_mailboxes_only(capsys, base):
    run_module(capsys, base, [ALICE, DAVE])
    mail = base / "example.org/alice/new/1700000000.M1P2.host"
    mail.write_text("Subject: hi\n\n")
    os.chmod(str(mail), 0o644)
    os.chmod(str(base / "example.org"), 0o755)
    os.chown(str(base / "example.org"), 0, 0)
    os.chmod(str(base / "example.org/alice"), 0o755)
    os.chown(str(base / "example.org/alice/cur"), 0, GID)
    os.chmod(str(base / "example.org/dave"), 0o644)
    result = run_module(capsys, base, [ALICE, DAVE])
    assert result["changed"] is True and result["created_count"] == 0
    assert result["fixed"] == [str(base / "example.org/alice"), str(base / "example.org/alice/cur"),
                               str(base / "example.org/dave")]
    assert info(base / "example.org/alice") == DIR_OK
    assert info(base / "example.org/alice/cur") == DIR_OK
    assert info(base / "example.org/dave") == FILE_OK
    assert info(base / "example.org") == (stat.S_IFDIR, 0, 0, 0o755)  # existing intermediate: left alone
    assert info(mail) == (stat.S_IFREG, 0, 0, 0o644)                 # the mail inside: untouched
    assert mail.read_text() == "Subject: hi\n\n"


def test_modes_and_names(capsys, base):
    result = run_module(capsys, base, [ALICE, DAVE], owner="root", group="0", directory_mode="0750", file_mode="0660")
    assert result["created_count"] == 6
    assert info(base / "example.org/alice/tmp") == (stat.S_IFDIR, 0, 0, 0o750)
    assert info(base / "example.org/dave") == (stat.S_IFREG, 0, 0, 0o660)
    result = run_module(capsys, base, [ALICE], owner="no-such-user-here")
    assert result["failed"] is True and result["msg"] == "owner: no user named 'no-such-user-here' on this host"


def test_check_mode_changes_nothing(capsys, base):
    before = tree(base)
    result = run_module(capsys, base, [ALICE, DAVE], _ansible_check_mode=True)
    assert result["changed"] is True and result["created_count"] == 6
    assert tree(base) == before
    run_module(capsys, base, [ALICE, DAVE])
    os.chmod(str(base / "example.org/alice/tmp"), 0o777)
    os.chown(str(base / "example.org/dave"), 0, 0)
    before = tree(base)
    result = run_module(capsys, base, [ALICE, DAVE, {"path": "example.org/bob/"}], _ansible_check_mode=True)
    assert (result["created_count"], result["fixed_count"]) == (4, 2)
    assert tree(base) == before


def test_check_mode_on_a_missing_base_reports_everything(capsys, tmp_path):
    result = run_module(capsys, tmp_path / "nope", [ALICE, DAVE], _ansible_check_mode=True)
    assert result["changed"] is True and result["created_count"] == 6
    assert not (tmp_path / "nope").exists()
    result = run_module(capsys, tmp_path / "nope", [ALICE, DAVE])
    assert result["failed"] is True and result["msg"] == "mailbox base %s does not exist" % (tmp_path / "nope")


def test_diff_mode(capsys, base):
    run_module(capsys, base, [ALICE])
    os.chmod(str(base / "example.org/alice"), 0o750)
    result = run_module(capsys, base, [ALICE, DAVE], _ansible_diff=True)
    assert result["diff"]["before"] == "%s/example.org/alice  directory  %d:%d  0750\n" % (base, UID, GID)
    assert result["diff"]["after"] == ("%s/example.org/alice  directory  %d:%d  0700\n"
                                       "%s/example.org/dave  file  %d:%d  0600\n" % (base, UID, GID, base, UID, GID))
    assert "diff" not in run_module(capsys, base, [ALICE, DAVE])


def test_never_changes_anything_by_path(capsys, base, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("path-based chown/chmod called with %r" % (args,))

    for name in ("chown", "lchown", "chmod", "lchmod"):
        monkeypatch.setattr(os, name, forbidden, raising=False)
    assert run_module(capsys, base, [ALICE, DAVE])["created_count"] == 6
    fd = os.open(str(base / "example.org/alice/cur"), os.O_RDONLY)
    os.fchmod(fd, 0o755)
    os.close(fd)
    assert run_module(capsys, base, [ALICE, DAVE])["fixed_count"] == 1


# --- symbolic links ---------------------------------------------------------

@pytest.mark.parametrize("rel, boxes, target", [
    ("example.org/alice", [ALICE], "alice"),        # the Maildir itself
    ("example.org", [ALICE, DAVE], "."),            # an intermediate directory
    ("example.org/alice/cur", [ALICE], "alice"),    # cur/
    ("example.org/dave", [DAVE], "secret"),         # an mbox file
])
@pytest.mark.parametrize("existing", [True, False], ids=["mailbox-existed", "new-mailbox"])
def test_symbolic_links_are_refused_and_their_targets_untouched(capsys, base, outside, rel, boxes, target, existing):
    if existing:
        run_module(capsys, base, [ALICE, DAVE])
        for path in tree(base):  # wrong modes everywhere: the module would like to fix them
            if path != ".":
                os.chmod(str(base / path), 0o755)
    else:
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
    victim = outside / target
    if (base / rel).is_dir():
        os.rename(str(base / rel), str(base) + "/moved-away")
    elif (base / rel).exists():
        os.unlink(str(base / rel))
    os.symlink(str(victim), str(base / rel))
    before = tree(outside)
    for check in (False, True):
        result = run_module(capsys, base, boxes, _ansible_check_mode=check)
        assert result["failed"] is True
        assert result["msg"].startswith("%s/%s is a symbolic link -> %s; refusing" % (base, rel, victim)), result["msg"]
        assert tree(outside) == before  # owner, mode and contents of the target: unchanged


def test_symbolic_link_as_base_is_refused(capsys, tmp_path, outside):
    os.symlink(str(outside), str(tmp_path / "vhosts"))
    before = tree(outside)
    result = run_module(capsys, tmp_path / "vhosts", [ALICE, DAVE])
    assert result["failed"] is True
    assert result["msg"].startswith("%s is a symbolic link -> %s; refusing" % (tmp_path / "vhosts", outside))
    assert tree(outside) == before


def test_race_directory_swapped_for_a_link_after_inspection(capsys, base, outside, monkeypatch):
    """Between the decision (fstat: mode 0755 must become 0700) and the change, the
    owner of example.org replaces alice/ by a symlink to a file of someone else.
    The change applies to the directory that was inspected, never to the target."""
    run_module(capsys, base, [ALICE])
    os.chmod(str(base / "example.org/alice"), 0o755)
    real = mailboxes.FdFilesystem.set_owner_mode
    swapped = []

    def swap_then_fix(self, handle, uid, gid, mode):
        if not swapped:
            os.rename(str(base / "example.org/alice"), str(base / "example.org/alice.moved"))
            os.symlink(str(outside / "secret"), str(base / "example.org/alice"))
            swapped.append(True)
        return real(self, handle, uid, gid, mode)

    monkeypatch.setattr(mailboxes.FdFilesystem, "set_owner_mode", swap_then_fix)
    before = tree(outside)
    result = run_module(capsys, base, [ALICE])
    assert swapped and result["fixed_count"] == 1
    assert tree(outside) == before
    assert info(outside / "secret") == (stat.S_IFREG, OTHER, OTHER, 0o640)
    assert info(base / "example.org/alice.moved") == DIR_OK  # what was inspected is what changed
    monkeypatch.undo()
    result = run_module(capsys, base, [ALICE])  # and the link is refused from now on
    assert result["failed"] is True and "example.org/alice is a symbolic link" in result["msg"]


def test_race_parent_swapped_for_a_link_during_the_walk(capsys, base, outside, monkeypatch):
    """example.org is replaced by a link to another tree after the module opened it:
    the walk goes on in the directory it opened, not in the link's target."""
    run_module(capsys, base, [ALICE])
    os.chmod(str(base / "example.org/alice"), 0o755)
    os.mkdir(str(outside / "alice/cur"), 0o755)
    os.chown(str(outside / "alice/cur"), OTHER, OTHER)
    real = mailboxes.FdFilesystem.open_dir
    swapped = []

    def swap_then_open(self, parent, name, path):
        if name == "alice" and not swapped:
            os.rename(str(base / "example.org"), str(base / "example.org.moved"))
            os.symlink(str(outside), str(base / "example.org"))
            swapped.append(True)
        return real(self, parent, name, path)

    monkeypatch.setattr(mailboxes.FdFilesystem, "open_dir", swap_then_open)
    before = tree(outside)
    result = run_module(capsys, base, [ALICE, {"path": "example.org/bob/"}])
    assert swapped and not result.get("failed"), result
    assert tree(outside) == before  # nothing fixed or created in the link's target
    assert info(base / "example.org.moved/alice") == DIR_OK
    assert info(base / "example.org.moved/bob/new") == DIR_OK


# --- other things in the way ----------------------------------------------

def test_hard_linked_mbox_is_not_given_away(capsys, base, outside):
    (base / "example.org").mkdir()
    os.link(str(outside / "secret"), str(base / "example.org/dave"))
    result = run_module(capsys, base, [DAVE])
    assert result["failed"] is True
    assert result["msg"].startswith("%s/example.org/dave has 2 hard links; refusing" % base)
    assert info(outside / "secret") == (stat.S_IFREG, OTHER, OTHER, 0o640)


def test_fifo_as_mbox_is_refused_without_hanging(capsys, base):
    (base / "example.org").mkdir()
    os.mkfifo(str(base / "example.org/dave"), 0o600)
    result = run_module(capsys, base, [DAVE])
    assert result["failed"] is True
    assert result["msg"] == "%s/example.org/dave exists but is not a regular file (it is a FIFO)" % base


def test_wrong_types_are_refused(capsys, base, tmp_path):
    (base / "example.org").mkdir()
    (base / "example.org/alice").write_text("")
    result = run_module(capsys, base, [ALICE])
    assert result["msg"] == "%s/example.org/alice exists but is not a directory (it is a regular file)" % base
    (tmp_path / "plain").write_text("")
    result = run_module(capsys, tmp_path / "plain", [ALICE])
    assert result["msg"] == "%s exists but is not a directory (it is a regular file)" % (tmp_path / "plain")


def test_failure_reports_what_was_done_before(capsys, base, outside):
    (base / "example.org").mkdir()
    os.symlink(str(outside), str(base / "example.org/zed"))
    result = run_module(capsys, base, [ALICE, {"path": "example.org/zed/"}])
    assert result["failed"] is True and result["changed"] is True and result["created_count"] == 4
    assert info(base / "example.org/alice/new") == DIR_OK


@pytest.mark.parametrize("path, message", [
    ("/etc/", "mailboxes[1]: path '/etc/' is absolute; mailbox paths are relative to the base"),
    ("example.org/../../etc/", "mailboxes[1]: path 'example.org/../../etc/' has an empty, '.' or '..' component"),
    ("example.org/./x", "has an empty, '.' or '..' component"),
    ("example.org//x/", "has an empty, '.' or '..' component"),
])
def test_path_validation_fails_before_touching_anything(capsys, base, path, message):
    result = run_module(capsys, base, [ALICE, {"path": path, "maildir": True}])
    assert result["failed"] is True and message in result["msg"]
    assert os.listdir(str(base)) == []


# --- descriptors ------------------------------------------------------------

def test_no_descriptor_leak_with_a_thousand_mailboxes(capsys, base, outside, monkeypatch):
    live, peak = set(), []

    class CountingFs(mailboxes.FdFilesystem):
        def _track(self, handle):
            if handle is not None:
                live.add(handle)
                peak.append(len(live))
            return handle

        def open_base(self, path):
            return self._track(super().open_base(path))

        def open_dir(self, parent, name, path):
            return self._track(super().open_dir(parent, name, path))

        def open_file(self, parent, name, path):
            return self._track(super().open_file(parent, name, path))

        def make_dir(self, parent, name, path, mode):
            return self._track(super().make_dir(parent, name, path, mode))

        def make_file(self, parent, name, path, mode):
            return self._track(super().make_file(parent, name, path, mode))

        def close(self, handle):
            live.remove(handle)
            super().close(handle)

    monkeypatch.setattr(mailboxes, "FdFilesystem", CountingFs)
    boxes = [{"path": "d%02d.example/u%04d%s" % (i % 10, i, "" if i % 4 == 3 else "/")} for i in range(1000)]
    fds = open_fds()
    assert run_module(capsys, base, boxes)["created_count"] == 10 + 750 * 4 + 250
    assert open_fds() == fds and not live
    for rel in ("d01.example/u0001", "d02.example/u0002/cur", "d03.example/u0003"):
        os.chmod(str(base / rel), 0o755)
    assert run_module(capsys, base, boxes)["fixed_count"] == 3
    assert run_module(capsys, base, boxes)["changed"] is False
    os.symlink(str(outside), str(base / "d09.example/zz"))
    assert run_module(capsys, base, boxes + [{"path": "d09.example/zz/"}])["failed"] is True
    assert open_fds() == fds and not live
    assert max(peak) <= 4  # base, domain, mailbox, cur/new/tmp


# --- the base itself (base_mode; issue 19 item 7) ---------------------------
# The role used to create the base with ansible.builtin.file, which follows a
# symbolic link and gives its target to vmail; the module now creates and
# corrects the base itself, through descriptors.

def test_base_mode_creates_the_base_and_the_missing_directories_above_it(capsys, tmp_path):
    base = tmp_path / "srv" / "mail" / "vhosts"
    result = run_module(capsys, base, [ALICE], base_mode="0750")
    assert result["changed"] is True and not result.get("failed"), result
    assert result["created"][:3] == [str(tmp_path / "srv"), str(tmp_path / "srv/mail"), str(base)]
    assert info(tmp_path / "srv") == (stat.S_IFDIR, 0, 0, 0o755)
    assert info(tmp_path / "srv/mail") == (stat.S_IFDIR, 0, 0, 0o755)
    assert info(base) == (stat.S_IFDIR, UID, GID, 0o750)
    assert info(base / "example.org/alice/new") == DIR_OK
    assert run_module(capsys, base, [ALICE], base_mode="0750")["changed"] is False


def test_base_mode_corrects_an_existing_base_and_check_mode_only_reports(capsys, base):
    result = run_module(capsys, base, [], base_mode="0750", _ansible_check_mode=True, _ansible_diff=True)
    assert result["fixed"] == [str(base)] and info(base) == (stat.S_IFDIR, 0, 0, 0o750)
    assert result["diff"]["before"] == "%s  directory  0:0  0750\n" % base
    result = run_module(capsys, base, [], base_mode="0750")
    assert result["fixed"] == [str(base)] and info(base) == (stat.S_IFDIR, UID, GID, 0o750)


def test_check_mode_on_a_missing_base_with_base_mode_creates_nothing(capsys, tmp_path):
    result = run_module(capsys, tmp_path / "a" / "vhosts", [ALICE], base_mode="0750", _ansible_check_mode=True)
    assert result["changed"] is True and result["created"][0] == str(tmp_path / "a" / "vhosts")
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_a_base_that_is_a_symlink_to_a_directory_is_refused_and_its_target_untouched(capsys, tmp_path, outside,
                                                                                     check):
    os.symlink(str(outside), str(tmp_path / "vhosts"))
    before = tree(outside)
    result = run_module(capsys, tmp_path / "vhosts", [ALICE], base_mode="0750", _ansible_check_mode=check)
    assert result["failed"] is True
    assert result["msg"].startswith("%s is a symbolic link -> %s; refusing" % (tmp_path / "vhosts", outside))
    assert tree(outside) == before  # owner and mode of the target: still OTHER's, 0755
    assert info(outside) == (stat.S_IFDIR, OTHER, OTHER, 0o755)


def test_a_symlink_of_another_user_above_the_base_is_refused(capsys, tmp_path, outside):
    link = tmp_path / "srv"
    os.symlink(str(outside), str(link))
    os.lchown(str(link), OTHER, OTHER)
    before = tree(outside)
    result = run_module(capsys, link / "vhosts", [ALICE], base_mode="0750")
    assert result["failed"] is True
    assert result["msg"].startswith("%s is a symbolic link -> %s (owned by uid %d, not root); refusing"
                                    % (link, outside, OTHER)), result["msg"]
    assert tree(outside) == before and not (outside / "vhosts").exists()


def test_a_symlink_of_root_above_the_base_is_followed(capsys, tmp_path):
    real = tmp_path / "data"
    real.mkdir()
    os.symlink("data", str(tmp_path / "srv"))  # relative, root's: like /var/mail -> spool/mail
    result = run_module(capsys, tmp_path / "srv" / "vhosts", [ALICE], base_mode="0750")
    assert not result.get("failed"), result
    assert info(real / "vhosts") == (stat.S_IFDIR, UID, GID, 0o750)
    assert info(real / "vhosts/example.org/alice") == DIR_OK


# --- the mailboxes as a data file (src) ------------------------------------

def run_src(capsys, base, text, tmp_path, **extra):
    src = tmp_path / "mailboxes.txt"
    src.write_text(text)
    args = dict(base=str(base), owner=UID, group=GID, src=str(src))
    args.update(extra)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mailboxes.main()
    return json.loads(capsys.readouterr().out)


def test_a_data_file_gives_the_same_mailboxes_as_the_list(capsys, base, tmp_path):
    result = run_src(capsys, base, "example.org/alice/\tmaildir\nexample.org/dave\tmbox\n", tmp_path)
    assert result["changed"] is True and result["created_count"] == 6
    found = tree(base)
    assert found["example.org/dave"] == FILE_OK and found["example.org/alice/new"] == DIR_OK
    # The same mailboxes as a list: nothing left to do.
    assert run_module(capsys, base, [ALICE, DAVE])["changed"] is False
    assert run_src(capsys, base, "", tmp_path)["changed"] is False  # an empty file does nothing


@pytest.mark.parametrize("text, message", [
    ("example.org/alice/\n", "line 1: 'example.org/alice/' is not 'path<TAB>maildir' or 'path<TAB>mbox'"),
    ("a/\tmaildir\nb\tfile\n", "line 2: 'b\\tfile' is not"),
    ("../etc/\tmaildir\n", ".."),
])
def test_a_bad_data_file_fails_naming_the_line_and_changes_nothing(capsys, base, tmp_path, text, message):
    result = run_src(capsys, base, text, tmp_path)
    assert result["failed"] is True and message in result["msg"]
    assert os.listdir(str(base)) == []


def test_mailboxes_and_src_exclude_each_other_and_one_is_required(capsys, base, tmp_path):
    src = tmp_path / "m.txt"
    src.write_text("")
    for args in (dict(mailboxes=[ALICE], src=str(src)), {}):
        with patch_module_args(dict(base=str(base), owner=UID, group=GID, **args)):
            with pytest.raises(SystemExit):
                mailboxes.main()
        assert json.loads(capsys.readouterr().out)["failed"] is True
