import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _release_numbers():
    out = subprocess.run(
        ["bash", "-c", '. "$1" && echo "$VH_RELEASES"', "_", str(ROOT / "scripts" / "lib.sh")],
        capture_output=True, text=True, check=False,
    ).stdout
    return out.split()


def pytest_configure(config):
    config.addinivalue_line("markers", "full: slow tests left out of the fast target (scripts/test.sh --fast)")
    config.addinivalue_line("markers", "duration(n): rough relative duration; longer tests are run first")
    for release in _release_numbers():
        config.addinivalue_line("markers", "debian%s: runs on the Debian %s test hosts" % (release, release))


def pytest_collection_modifyitems(config, items):
    # Longest first (stable): with pytest-xdist (scripts/test.sh runs -n 2) the
    # Molecule scenarios start at once and the lint and unit tests fill the gaps.
    def weight(item):
        mark = item.get_closest_marker("duration")
        return -(mark.args[0] if mark else 0)

    items.sort(key=weight)


def pytest_terminal_summary(terminalreporter):
    # The seconds of each Molecule step per scenario run (recorded by
    # tests/molecule/test_scenarios.py), to see where CI's time goes.
    rows = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            steps = dict(getattr(report, "user_properties", [])).get("steps")
            if report.when == "call" and steps:
                rows.append((report.nodeid.rsplit("[", 1)[-1].rstrip("]"), steps))
    if not rows:
        return
    names = ["create", "prepare", "converge", "idempotence", "verify", "destroy"]
    terminalreporter.write_sep("=", "Molecule steps (seconds)")
    terminalreporter.write_line("%-24s" % "run" + "".join("%12s" % n for n in names) + "%10s" % "total")
    for run, steps in sorted(rows, key=lambda r: -sum(r[1].values())):
        terminalreporter.write_line("%-24s" % run + "".join(
            "%12s" % ("%.0f" % steps[n] if n in steps else "-") for n in names) + "%10.0f" % sum(steps.values()))
