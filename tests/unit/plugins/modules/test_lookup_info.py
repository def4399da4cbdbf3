# -*- coding: utf-8 -*-
"""The lookup_info module (formerly lookup): answers of `postmap -q -` mapped to the keys, and its flow with a stand-in postmap."""
import json
import os
import pathlib
import stat
import subprocess
import sys

import jinja2
import pytest
import yaml

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import lookup_info
from ansible_collections.vhosting.postfix.plugins.module_utils._postmap_query import parse_answers

# Answers like postmap -q - does: "key<TAB>value" for each key found, rc 1 when none is.
FAKE_POSTMAP = """#!/bin/sh
echo "$@" >> "{log}"
found=1
while read -r key; do
  case "$key" in
    alice@example.com) printf '%s\\t%s\\n' "$key" "alice, bob"; found=0 ;;
    broken) echo "postmap: fatal: open database broken.lmdb: No such file" >&2; exit 1 ;;
  esac
done
exit $found
"""


@pytest.fixture
def fake_postmap(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "postmap"
    fake.write_text(FAKE_POSTMAP.format(log=tmp_path / "postmap.log"))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    return tmp_path / "postmap.log"


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            lookup_info.main()
    return json.loads(capsys.readouterr().out)


def test_parse_answers_maps_values_and_missing_keys():
    values = parse_answers(["a@x", "b@x", "c@x"], "a@x\tA, B\nc@x\tC\n")
    assert values == {"a@x": "A, B", "b@x": None, "c@x": "C"}


def test_parse_answers_matches_keys_that_postfix_folded():
    assert parse_answers(["Info@X"], "info@x\tI\n") == {"Info@X": "I"}


def test_all_keys_in_one_postmap_run(fake_postmap, capsys):
    result = run(capsys, table="lmdb:/etc/postfix/virtual", keys=["alice@example.com", "nobody@example.com"])
    assert not result["changed"]
    assert result["entries"] == {"alice@example.com": "alice, bob", "nobody@example.com": None}
    assert result["values"] == result["entries"]  # the deprecated alias
    assert result["found"] == 1 and result["missing"] == ["nobody@example.com"]
    assert fake_postmap.read_text().splitlines() == ["-q - lmdb:/etc/postfix/virtual"]


def test_no_key_found_is_not_an_error(fake_postmap, capsys):
    result = run(capsys, table="lmdb:/etc/postfix/virtual", keys=["nobody@example.com"])
    assert not result.get("failed") and result["entries"] == result["values"] == {"nobody@example.com": None}


def test_postmap_fatal_fails_with_its_stderr(fake_postmap, capsys):
    result = run(capsys, table="lmdb:/etc/postfix/virtual", keys=["broken"])
    assert result["failed"] and "fatal: open database broken.lmdb" in result["msg"]
    assert result["rc"] == 1 and result["cmd"][-3:] == ["-q", "-", "lmdb:/etc/postfix/virtual"]


@pytest.mark.parametrize("args, message", [
    (dict(table="/etc/postfix/virtual", keys=["a"]), "must be written type:name"),
    (dict(table="lmdb:/etc/postfix/virtual", keys=["a\nb"]), "keys must be non-empty single lines: ['a\\nb']"),
    (dict(table="lmdb:/etc/postfix/virtual", keys=[""]), "keys must be non-empty single lines: ['']"),
])
def test_bad_arguments(fake_postmap, capsys, args, message):
    result = run(capsys, **args)
    assert result["failed"] and message in result["msg"]
    assert not fake_postmap.exists()


def test_check_mode_runs_the_query(fake_postmap, capsys):
    result = run(capsys, table="lmdb:/etc/postfix/virtual", keys=["alice@example.com"], _ansible_check_mode=True)
    assert result["entries"]["alice@example.com"] == "alice, bob" and not result["changed"]


ROOT = pathlib.Path(__file__).resolve().parents[4]


def test_old_name_redirects_to_lookup_info_with_a_deprecation():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    route = runtime["plugin_routing"]["modules"]["lookup"]
    assert route["redirect"] == "vhosting.postfix.lookup_info"
    assert route["deprecation"]["removal_version"] == "1.0.0"
    assert "lookup_info" in route["deprecation"]["warning_text"]
    assert (ROOT / "plugins" / "modules" / "lookup_info.py").is_file()
    assert not (ROOT / "plugins" / "modules" / "lookup.py").exists()


def test_ansible_resolves_the_old_name_to_lookup_info():
    """What a playbook using vhosting.postfix.lookup gets: the lookup_info module and a deprecation warning."""
    collections = next(p for p in sys.path if os.path.isdir(os.path.join(p, "ansible_collections", "vhosting", "postfix")))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="1")
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    proc = subprocess.run([ansible_doc, "-t", "module", "--json", "vhosting.postfix.lookup"], env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    (doc,) = docs.values()
    assert doc["doc"]["module"] == "lookup_info"
    assert "vhosting.postfix.lookup_info" in " ".join(proc.stderr.split())


def _example_conditions():
    """The `that` conditions of the module's EXAMPLES (the assert task after the registered lookup)."""
    tasks = yaml.safe_load(lookup_info.EXAMPLES)
    (register,) = [t["register"] for t in tasks if "vhosting.postfix.lookup_info" in t]
    (conditions,) = [t["ansible.builtin.assert"]["that"] for t in tasks if "ansible.builtin.assert" in t]
    return register, conditions


def test_the_documented_example_works_in_a_template(fake_postmap, capsys):
    # The example registers the result and reads it in Jinja: result.values
    # is the dict method there, so the example must use entries.
    register, conditions = _example_conditions()
    result = run(capsys, table="lmdb:/etc/postfix/virtual", keys=["alice@example.com", "nobody@example.com"])
    result["entries"]["info@example.com"] = result["values"]["info@example.com"] = "alice@example.com"
    env = jinja2.Environment()
    env.tests["none"] = lambda value: value is None
    for condition in conditions:
        assert ".values" not in condition, condition
        assert env.compile_expression(condition)(**{register: result}) is True, condition


def test_values_is_shadowed_by_the_dict_method_in_jinja():
    # Why entries exists: the old key cannot be read with a dot in a template.
    found = {"entries": {"a": "b"}, "values": {"a": "b"}}
    env = jinja2.Environment()
    assert env.compile_expression("found.entries['a']")(found=found) == "b"
    assert callable(env.compile_expression("found.values")(found=found))
    assert env.compile_expression("found['values']['a']")(found=found) == "b"


def test_the_documentation_declares_entries_and_values_as_its_deprecated_alias():
    returns = yaml.safe_load(lookup_info.RETURN)
    assert returns["entries"]["type"] == returns["values"]["type"] == "dict"
    assert returns["entries"]["version_added"] == "0.4.0"
    assert "eprecated alias of RV(entries)" in " ".join(returns["values"]["description"])
