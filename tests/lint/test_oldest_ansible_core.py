"""The unit tests on the oldest ansible-core the collection claims (requires_ansible), not only on the newest.

scripts/setup-venv.sh makes the venv from requirements-oldest.txt (the `ansible` 9 package: ansible-core 2.16 and
the community collections); this test runs every unit test in it, in a process of its own.
"""
import os
import pathlib
import re
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _oldest_venv():
    out = subprocess.run(["bash", "-c", '. "$1" && echo "$VH_OLDEST_VENV"', "_", str(ROOT / "scripts" / "lib.sh")],
                         capture_output=True, text=True, check=True).stdout.strip()
    return pathlib.Path(out)


def test_requirements_oldest_pins_the_claimed_minimum():
    claimed = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    minimum = re.match(r">=(\d+\.\d+)", claimed).group(1)
    assert minimum == "2.16", claimed
    # ansible 9.x is ansible-core 2.16.x.
    assert "ansible>=9,<10" in (ROOT / "requirements-oldest.txt").read_text().split()


@pytest.mark.full
@pytest.mark.duration(1)
def test_the_unit_tests_pass_on_the_oldest_ansible_core():
    venv = _oldest_venv()
    python = venv / "bin" / "python"
    assert python.exists(), "%s is missing: run scripts/setup-venv.sh" % venv
    version = subprocess.run([str(python), "-c", "import ansible.release as r; print(r.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version.startswith("2.16."), version
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTEST_")))
    proc = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1200)
    summary = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    assert proc.returncode == 0, "ansible-core %s: %s\n%s" % (version, summary, proc.stdout[-4000:])
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
