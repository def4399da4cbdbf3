# -*- coding: utf-8 -*-
"""host_probe: the answers of dpkg-query, apt-cache, the file system and systemctl, read without changing anything."""
import json
import os
import stat

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import host_probe

DPKG = ("postfix\tii \t3.7.11-0+deb12u1\npostfix-lmdb\tii \t3.7.11-0+deb12u1\n"
        "dovecot-core\trc \t1:2.3.19.1+dfsg1-2.1\n")
POLICY = "dovecot-core:\n  Installed: (none)\n  Candidate: 1:2.3.19.1+dfsg1-2.1+deb12u1\n  Version table:\n"


def test_parse_dpkg_counts_installed_packages_only():
    found = host_probe.parse_dpkg(DPKG, ["postfix", "postfix-lmdb", "dovecot-core", "mlmmj"])
    assert found == {"postfix": "3.7.11-0+deb12u1", "postfix-lmdb": "3.7.11-0+deb12u1", "dovecot-core": None,
                     "mlmmj": None}


def test_parse_candidate():
    assert host_probe.parse_candidate(POLICY) == "1:2.3.19.1+dfsg1-2.1+deb12u1"
    assert host_probe.parse_candidate("dovecot-core:\n  Candidate: (none)\n") == ""
    assert host_probe.parse_candidate("") == ""


@pytest.fixture
def fake_bin(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    scripts = {
        "dpkg-query": "#!/bin/sh\nprintf '%s'\n" % DPKG.replace("\t", "\\t").replace("\n", "\\n"),
        "systemctl": "#!/bin/sh\ncase \"$1 $2\" in\n  'is-active postfix.service') echo active ;;\n"
                     "  'is-enabled postfix.service') echo enabled ;;\n  is-active*) echo inactive; exit 3 ;;\n"
                     "  *) echo disabled; exit 1 ;;\nesac\n",
        "apt-cache": "#!/bin/sh\nprintf '%s'\n" % POLICY.replace("\n", "\\n"),
    }
    for name, text in scripts.items():
        path = bindir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", "%s:/usr/bin:/bin" % bindir)
    return bindir


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            host_probe.main()
    return json.loads(capsys.readouterr().out)


def test_one_call_answers_everything(fake_bin, tmp_path, capsys):
    (tmp_path / "main.cf").write_text("")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    result = run(capsys, packages=["postfix", "mlmmj"],
                 paths=[str(tmp_path / "main.cf"), str(tmp_path / "aliases"), str(tmp_path / "dangling")],
                 units=["postfix.service", "vhosting-mlmmj-maintd.timer"])
    assert result["changed"] is False
    assert result["packages"] == {"postfix": "3.7.11-0+deb12u1", "mlmmj": None}
    assert result["paths"] == {str(tmp_path / "main.cf"): True, str(tmp_path / "aliases"): False,
                               str(tmp_path / "dangling"): True}
    assert result["units"] == {"postfix.service": {"active": "active", "enabled": "enabled"},
                               "vhosting-mlmmj-maintd.timer": {"active": "inactive", "enabled": "disabled"}}
    # No dovecot binary here: the version apt would install.
    assert result["dovecot_version"] == "1:2.3.19.1+dfsg1-2.1+deb12u1"


@pytest.mark.parametrize("args, msg", [
    ({"packages": ["postfix; rm -rf /"]}, "is not a Debian package name"),
    ({"units": ["postfix"]}, "is not a systemd unit name"),
    ({"units": ["../../x.service"]}, "is not a systemd unit name"),
])
def test_bad_names_are_refused(fake_bin, capsys, args, msg):
    result = run(capsys, **args)
    assert result["failed"] is True and msg in result["msg"]


def test_accounts_and_groups_are_read_from_passwd_and_group(fake_bin, capsys):
    import grp
    import pwd
    me = pwd.getpwuid(os.getuid())
    mine = grp.getgrgid(os.getgid())
    result = run(capsys, users=[me.pw_name, "vhosting-no-such-user"], groups=[mine.gr_name, "vhosting-no-such-grp"])
    assert result["users"] == {
        me.pw_name: {"uid": me.pw_uid, "gid": me.pw_gid, "comment": me.pw_gecos, "home": me.pw_dir,
                     "shell": me.pw_shell, "home_exists": os.path.isdir(me.pw_dir)},
        "vhosting-no-such-user": None}
    assert result["groups"] == {mine.gr_name: {"gid": mine.gr_gid}, "vhosting-no-such-grp": None}


@pytest.mark.parametrize("args", [{"users": ["vmail; id"]}, {"groups": ["../etc"]}, {"users": ["Root"]},
                                  {"groups": ["a" * 33]}])
def test_bad_account_names_are_refused(fake_bin, capsys, args):
    result = run(capsys, **args)
    assert result["failed"] is True and "is not an account or group name" in result["msg"]


def test_modes_report_owner_group_and_mode_without_following_links(tmp_path):
    import grp
    import pwd
    directory = tmp_path / "sockets"
    directory.mkdir()
    os.chmod(str(directory), 0o2750)
    link = tmp_path / "link"
    link.symlink_to(directory)
    st = directory.stat()
    owner, group = pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    assert host_probe.mode_of(str(directory)) == "%s:%s:2750" % (owner, group)
    assert host_probe.mode_of(str(link)) == "link"
    assert host_probe.mode_of(str(tmp_path / "absent")) == ""
    plain = tmp_path / "file"
    plain.write_text("x")
    os.chmod(str(plain), stat.S_IRUSR | stat.S_IWUSR)
    assert host_probe.mode_of(str(plain)).endswith(":0600")
