# -*- coding: utf-8 -*-
"""The controller's private copies of the data files sent last time (issue 21)."""
import os
import stat

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _table_cache
from ansible_collections.vhosting.postfix.plugins.plugin_utils._table_cache import TableCache


def test_store_load_and_one_copy_per_host_and_table(tmp_path):
    base = str(tmp_path / "cache")
    cache = TableCache(base, "mx1", "/etc/postfix/virtual", "opts1")
    assert cache.load() is None
    cache.store("d1", b"a\t1\n")
    assert cache.load() == ("d1", b"a\t1\n") and cache.has("d1")
    cache.prepare(b"a\t2\n")
    cache.store("d2")
    assert cache.load() == ("d2", b"a\t2\n") and not cache.has("d1")
    assert len(os.listdir(base)) == 1
    # Other options (or code), another host or table: no copy.
    assert TableCache(base, "mx1", "/etc/postfix/virtual", "opts2").load() is None
    assert TableCache(base, "mx2", "/etc/postfix/virtual", "opts1").load() is None
    assert TableCache(base, "mx1", "/etc/postfix/other", "opts1").load() is None
    # A new options digest replaces the copy of this host and table.
    TableCache(base, "mx1", "/etc/postfix/virtual", "opts2").store("d3", b"b\t1\n")
    assert cache.load() is None and len(os.listdir(base)) == 1
    TableCache(base, "mx1", "/etc/postfix/virtual", "opts2").forget()
    assert os.listdir(base) == []


def test_private_directory_and_files(tmp_path):
    base = tmp_path / "cache"
    TableCache(str(base), "mx1", "/etc/postfix/virtual", "o").store("d1", b"a\t1\n")
    assert stat.S_IMODE(base.stat().st_mode) == 0o700
    (name,) = os.listdir(str(base))
    assert stat.S_IMODE((base / name).stat().st_mode) == 0o600
    os.chmod(str(base), 0o755)
    TableCache(str(base), "mx1", "/etc/postfix/virtual", "o").store("d2", b"a\t2\n")
    assert stat.S_IMODE(base.stat().st_mode) == 0o700


def test_a_link_in_place_of_the_directory_or_a_copy_is_not_used(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "cache"
    link.symlink_to(real)
    TableCache(str(link), "mx1", "/etc/postfix/virtual", "o").store("d1", b"a\t1\n")
    assert os.listdir(str(real)) == []
    base = tmp_path / "cache2"
    cache = TableCache(str(base), "mx1", "/etc/postfix/virtual", "o")
    cache.store("d1", b"a\t1\n")
    (name,) = os.listdir(str(base))
    os.unlink(str(base / name))
    (base / name).symlink_to(tmp_path / "real")
    assert cache.load() is None


def test_discard_and_expiry(tmp_path):
    base = str(tmp_path / "cache")
    cache = TableCache(base, "mx1", "/etc/postfix/virtual", "o")
    cache.prepare(b"a\t1\n")
    cache.discard()
    assert os.listdir(base) == []
    old = TableCache(base, "mx9", "/etc/postfix/virtual", "o")
    old.store("d1", b"a\t1\n")
    (name,) = os.listdir(base)
    past = os.stat(os.path.join(base, name)).st_mtime - _table_cache.KEEP_SECONDS - 10
    os.utime(os.path.join(base, name), (past, past))
    cache.store("d2", b"b\t1\n")
    assert old.load() is None and cache.load() == ("d2", b"b\t1\n")
