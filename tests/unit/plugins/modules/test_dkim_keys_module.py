# -*- coding: utf-8 -*-
"""dkim_keys: keys made once with openssl, private keys 0640 root:GROUP, public records only, retired keys removed."""
import base64
import json
import os
import shutil
import stat

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.module_utils import _dkim_keys
from ansible_collections.vhosting.postfix.plugins.modules import dkim_keys

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None or os.geteuid() != 0,
                                reason="needs openssl and root (chown)")


def run(capsys, **args):
    args.setdefault("group", "root")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            dkim_keys.main()
    return json.loads(capsys.readouterr().out)


def test_keys_are_made_once_private_and_their_records_returned(tmp_path, capsys):
    keys = [{"domain": "signed.test", "selector": "s1", "bits": 1024},
            {"domain": "signed.test", "selector": "ed", "type": "ed25519"}]
    first = run(capsys, directory=str(tmp_path / "keys"), keys=keys)
    assert first["changed"] and first["created"] == ["signed.test/s1", "signed.test/ed"]
    private = tmp_path / "keys" / "signed.test" / "s1.private"
    st = os.stat(str(private))
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 0
    assert stat.S_IMODE(os.stat(str(tmp_path / "keys")).st_mode) == 0o750
    records = dict((k["selector"], k["record"]) for k in first["keys"])
    assert records["s1"].startswith("v=DKIM1; k=rsa; p=MIG")
    assert (tmp_path / "keys" / "signed.test" / "s1.txt").read_text().strip() == records["s1"]
    # RFC 8463: the 32 bytes of the Ed25519 key.
    assert len(base64.b64decode(records["ed"].split("p=")[1])) == 32
    assert "PRIVATE" not in json.dumps(first)
    second = run(capsys, directory=str(tmp_path / "keys"), keys=keys)
    assert not second["changed"] and second["keys"] == first["keys"]


def test_check_mode_makes_nothing(tmp_path, capsys):
    result = run(capsys, directory=str(tmp_path / "keys"), keys=[{"domain": "a.test", "selector": "s1"}],
                 _ansible_check_mode=True)
    assert result["changed"] and result["created"] == ["a.test/s1"] and not (tmp_path / "keys").exists()


def test_unlisted_keys_are_removed_and_nothing_else(tmp_path, capsys):
    directory = str(tmp_path / "keys")
    run(capsys, directory=directory, keys=[{"domain": "a.test", "selector": "s1", "bits": 1024},
                                           {"domain": "b.test", "selector": "s1", "bits": 1024}])
    (tmp_path / "keys" / "a.test" / "README").write_text("operator's")
    result = run(capsys, directory=directory, keys=[{"domain": "a.test", "selector": "s2", "bits": 1024}])
    assert result["removed"] == ["a.test/s1.private", "a.test/s1.txt", "b.test/s1.private", "b.test/s1.txt"]
    assert sorted(os.listdir(directory)) == ["a.test"]
    assert sorted(os.listdir(os.path.join(directory, "a.test"))) == ["README", "s2.private", "s2.txt"]


def test_a_selector_never_gets_a_key_of_another_type(tmp_path, capsys):
    directory = str(tmp_path / "keys")
    run(capsys, directory=directory, keys=[{"domain": "a.test", "selector": "s1", "bits": 1024}])
    before = (tmp_path / "keys" / "a.test" / "s1.private").read_bytes()
    result = run(capsys, directory=directory, keys=[{"domain": "a.test", "selector": "s1", "type": "ed25519"}])
    assert result["failed"] and "already has an rsa key" in result["msg"]
    assert (tmp_path / "keys" / "a.test" / "s1.private").read_bytes() == before


def test_a_lost_record_is_made_again_from_the_key(tmp_path, capsys):
    directory = str(tmp_path / "keys")
    first = run(capsys, directory=directory, keys=[{"domain": "a.test", "selector": "s1", "bits": 1024}])
    os.unlink(os.path.join(directory, "a.test", "s1.txt"))
    again = run(capsys, directory=directory, keys=[{"domain": "a.test", "selector": "s1", "bits": 1024}])
    assert again["changed"] and again["created"] == [] and again["keys"] == first["keys"]


def test_a_linked_directory_or_key_is_refused(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "keys").mkdir()
    os.symlink(str(elsewhere), str(tmp_path / "keys" / "a.test"))
    result = run(capsys, directory=str(tmp_path / "keys"), keys=[{"domain": "a.test", "selector": "s1"}])
    assert result["failed"] and "symbolic link" in result["msg"] and os.listdir(str(elsewhere)) == []


@pytest.mark.parametrize("key, message", [
    ({"domain": "../etc", "selector": "s1"}, "is not a lower-case domain name"),
    ({"domain": "a.test", "selector": "s1/../x"}, "is not a DNS label"),
    ({"domain": "A.test", "selector": "s1"}, "is not a lower-case domain name"),
    ({"domain": "a.test", "selector": "s1", "bits": 512}, "an RSA key of 512 bits"),
])
def test_bad_names_are_refused_before_anything_is_made(tmp_path, capsys, key, message):
    result = run(capsys, directory=str(tmp_path / "keys"), keys=[key])
    assert result["failed"] and message in result["msg"] and not (tmp_path / "keys").exists()


def test_stale_only_names_the_module_writes():
    wanted = [{"domain": "a.test", "selector": "s2"}]
    present = [("a.test", "s1.private"), ("a.test", "s1.txt"), ("a.test", "s2.private"), ("a.test", "notes.md"),
               ("a.test", ".hidden.private"), ("Not A Domain", "s1.private")]
    assert _dkim_keys.stale(wanted, present) == [("a.test", "s1.private"), ("a.test", "s1.txt")]
