# -*- coding: utf-8 -*-
"""The old name lookup_parity: a redirect to lookup_parity_info (meta/runtime.yml) with a deprecation; the module's
own tests are in test_lookup_parity_info.py."""
import json
import os
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[4]


def _env():
    collections = next(p for p in sys.path if os.path.isdir(os.path.join(p, "ansible_collections", "vhosting", "postfix")))
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="1")


def test_old_name_redirects_to_lookup_parity_info_with_a_deprecation():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    route = runtime["plugin_routing"]["modules"]["lookup_parity"]
    assert route["redirect"] == "vhosting.postfix.lookup_parity_info"
    assert route["deprecation"]["removal_version"] == "1.0.0"
    assert "lookup_parity_info" in route["deprecation"]["warning_text"]
    assert (ROOT / "plugins" / "modules" / "lookup_parity_info.py").is_file()
    assert not (ROOT / "plugins" / "modules" / "lookup_parity.py").exists()


def test_ansible_resolves_the_old_name_to_lookup_parity_info():
    """What a playbook using vhosting.postfix.lookup_parity gets: lookup_parity_info and a deprecation warning."""
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    proc = subprocess.run([ansible_doc, "-t", "module", "--json", "vhosting.postfix.lookup_parity"], env=_env(),
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    (doc,) = json.loads(proc.stdout).values()
    assert doc["doc"]["module"] == "lookup_parity_info"
    assert "vhosting.postfix.lookup_parity_info" in " ".join(proc.stderr.split())


def test_a_task_with_the_old_name_runs_lookup_parity_info(tmp_path):
    """A play on localhost with the old name: the task runs the new module (here its argument check) and warns."""
    playbook = tmp_path / "old_name.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "old name", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [{"name": "parity under the old name", "vhosting.postfix.lookup_parity": {
            "reference": "no-type", "candidate": "pgsql:/nonexistent.cf"}, "register": "parity", "ignore_errors": True},
            {"name": "the module answered", "ansible.builtin.assert": {
                "that": ["parity is failed", "parity.msg == \"reference 'no-type' must be written type:path\""]}}],
    }]))
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    env = dict(_env(), ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0")
    proc = subprocess.run([ansible_playbook, "-i", "localhost,", str(playbook)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "vhosting.postfix.lookup_parity is now vhosting.postfix.lookup_parity_info" in " ".join(out.split())
