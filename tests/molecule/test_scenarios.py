"""Run every Molecule scenario under molecule/ as one pytest test.

Each test runs ``molecule test -s NAME`` (create, converge, idempotence,
verify, destroy). Scenario containers are removed afterwards in every case,
also when Molecule itself failed half-way. The `default` scenario is the fast
one; the others are marked ``full``.
"""
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
FAST = {"default"}
TIMEOUT = int(os.environ.get("VHOSTING_SCENARIO_TIMEOUT", "1500"))


def _remove_leftovers(name):
    """Remove containers and the network of scenario NAME, whatever Molecule left."""
    prefix = "vh-%s-" % name
    out = subprocess.run(
        ["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=False
    ).stdout.split()
    leftovers = [c for c in out if c.startswith(prefix)]
    if leftovers:
        subprocess.run(["podman", "rm", "-f", "-t", "0"] + leftovers, capture_output=True, check=False)
    subprocess.run(["podman", "network", "rm", "-f", "vh-%s" % name], capture_output=True, check=False)
    return leftovers


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, marks=() if s in FAST else pytest.mark.full) for s in SCENARIOS],
)
def test_scenario(scenario):
    log = ROOT / "tests" / "output" / ("molecule-%s.log" % scenario)
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log, "w") as out:
            proc = subprocess.run(
                ["molecule", "test", "-s", scenario],
                cwd=ROOT,
                env=dict(os.environ, NO_COLOR="1", PY_COLORS="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT,
                check=False,
            )
        text = log.read_text(errors="replace")
        assert proc.returncode == 0, "molecule test -s %s failed (rc=%d); last lines of %s:\n%s" % (
            scenario,
            proc.returncode,
            log,
            "\n".join(text.splitlines()[-80:]),
        )
        # The run must really have converged twice (idempotence) and verified.
        for step in ("converge", "idempotence", "verify"):
            assert re.search(r"\b%s\b\W+Executed: Successful" % step, text), "step %s did not run in %s" % (step, log)
    finally:
        _remove_leftovers(scenario)
