"""The bad-input battery (molecule/faults/files/bad_inputs.yml) against the validation alone, on the control node.

The faults scenario applies every case to a real host and proves that nothing on it changes; this test runs the
same cases through the host_model action only (no host is contacted: the action needs no connection), so that a
message that drifts from its case, or a case that is accepted, shows in the fast target within seconds.
"""
import json
import os
import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FAULTS = ROOT / "molecule" / "faults"
BASES = {"mx": "vh-faults-mx", "backup": "vh-faults-backup"}


def _host_vars(host):
    merged = {}
    for path in sorted((FAULTS / "inventory" / "host_vars" / host).glob("*.yml")):
        merged.update(yaml.safe_load(path.read_text()) or {})
    return merged


def test_every_bad_input_is_refused_by_the_validation_naming_its_item(tmp_path):
    battery = yaml.safe_load((FAULTS / "files" / "bad_inputs.yml").read_text())
    cases = [dict(case, host="case-%03d" % i) for i, case in enumerate(battery["cases"], 1)]
    assert len(cases) >= 250
    groups = {}
    for base, host in BASES.items():
        groups["cases_" + base] = {"vars": _host_vars(host), "hosts": dict(
            (c["host"], c["vars"]) for c in cases if c.get("base", "mx") == base)}
    inventory = {"all": {"vars": {"ansible_connection": "local"}, "children": dict(
        groups, primaries={"hosts": dict((host, {}) for host in BASES.values())})}}
    (tmp_path / "host_vars").symlink_to(FAULTS / "inventory" / "host_vars")
    (tmp_path / "inventory.yml").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(
        "- hosts: cases_mx:cases_backup\n  gather_facts: false\n  tasks:\n"
        "    - name: Validate\n      vhosting.postfix.host_model_facts:\n")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="8",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")],
                          capture_output=True, text=True, env=env, check=False, cwd=tmp_path)
    results = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
    wrong = []
    for case in cases:
        msg = str(results.get(case["host"], {}).get("msg", ""))
        refused = results.get(case["host"], {}).get("failed") and "nothing was changed on any host" in msg
        if not (refused and re.search(case["expect"], msg)):
            wrong.append("%s: expected %s, got %s" % (case["name"], case["expect"], msg[:600]))
    assert not wrong, "\n".join(wrong)
