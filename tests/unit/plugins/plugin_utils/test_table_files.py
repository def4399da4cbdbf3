# -*- coding: utf-8 -*-
"""The host model's tables as data files on the control node."""
import os

import pytest

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _table_files


def test_render_sorts_and_joins_like_the_module():
    assert _table_files.render({"b@x": ["c@y", "d@z"], "a@x": "x/a/"}) == "a@x\tx/a/\nb@x\tc@y, d@z\n"
    assert _table_files.render({}) == ""


@pytest.mark.parametrize("mapping", [{"a b": "x"}, {"a": ""}, {"a": "x\ny"}, {"": "x"}])
def test_render_refuses_what_a_key_tab_value_line_cannot_hold(mapping):
    with pytest.raises(ValueError):
        _table_files.render(mapping)


def test_write_once_per_fingerprint_and_expire_old_models(tmp_path):
    base = str(tmp_path / "tables")
    paths = _table_files.write(base, "f1", {"virtual_alias_map": {"a@x": "b@y"}, "transport_map": {}})
    assert open(paths["virtual_alias_map"]).read() == "a@x\tb@y\n" and open(paths["transport_map"]).read() == ""
    mtime = os.stat(paths["virtual_alias_map"]).st_mtime_ns
    assert _table_files.write(base, "f1", {"virtual_alias_map": {"a@x": "b@y"}, "transport_map": {}}) == paths
    assert os.stat(paths["virtual_alias_map"]).st_mtime_ns == mtime
    old = os.path.join(base, "f1")
    os.utime(old, (1, 1))
    newer = _table_files.write(base, "f2", {"virtual_alias_map": {}}, now=1 + _table_files.KEEP_SECONDS + 1)
    assert not os.path.exists(old) and os.path.exists(newer["virtual_alias_map"])
    assert sorted(os.listdir(base)) == ["f2"]


def test_a_directory_of_the_same_fingerprint_from_an_earlier_release_is_completed_and_corrected(tmp_path):
    base = str(tmp_path / "tables")
    old = _table_files.write(base, "f1", {"virtual_alias_map": {"a@x": "old@y"}})
    paths = _table_files.write(base, "f1", {"virtual_alias_map": {"a@x": "b@y"}, "virtual_mailbox_domains_map": {"x": "OK"}})
    assert paths["virtual_alias_map"] == old["virtual_alias_map"]
    assert open(paths["virtual_alias_map"]).read() == "a@x\tb@y\n"
    assert open(paths["virtual_mailbox_domains_map"]).read() == "x\tOK\n"
    assert sorted(os.listdir(os.path.join(base, "f1"))) == ["virtual_alias_map.txt", "virtual_mailbox_domains_map.txt"]


def test_files_are_private_written_atomically_and_keep_undecodable_bytes(tmp_path, monkeypatch):
    base = str(tmp_path / "tables")
    calls = []
    real = _table_files.write_atomic

    def record(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(_table_files, "write_atomic", record)
    paths = _table_files.write(base, "f1", {"virtual_alias_map": {"a@x": u"b\udcff@y"}})
    assert calls == [{"mode": 0o600}]
    path = paths["virtual_alias_map"]
    assert open(path, "rb").read() == b"a@x\tb\xff@y\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(os.path.join(base, "f1")) == ["virtual_alias_map.txt"]
