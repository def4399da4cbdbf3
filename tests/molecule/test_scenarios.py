"""Run every Molecule scenario under molecule/ on every Debian release of the
test hosts, one pytest test per (scenario, release): ``default-debian12``,
``default-debian13``, ``domains-debian12``, ...

On the first release each test runs ``molecule test -s NAME`` (syntax,
create, prepare, converge, idempotence with its round-trip count, verify,
destroy); on the others ``molecule converge`` and ``molecule verify`` (the
idempotence run and the syntax check are the same playbooks on every release;
this keeps CI within its budget), except for the scenarios of
WHOLE_SEQUENCE_EVERY_RELEASE. Each runs with the release's image
(VHOSTING_IMAGE in molecule.yml) and a suffix of its own (VHOSTING_SUFFIX, e.g. ``-d13-p4242``: release and the
pytest process) on every container and network name, see
molecule/shared/create.yml. Each run has its own Molecule ephemeral directory
and ANSIBLE_HOME, so runs of one scenario on two releases, two pytest-xdist
workers, or two checkouts on one machine never share state. Containers and
networks of the run are removed afterwards in every case, also when Molecule
failed half-way; those of runs whose pytest process died are removed before.

The releases and their images come from scripts/lib.sh (vh_releases). The
`default` scenario on the first release is the fast one; the others are marked
``full``, and each test carries the marker of its release (``debian12``, ...).
The seconds of each Molecule step are recorded (``steps``) and printed in
pytest's summary (tests/conftest.py).
"""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
TIMEOUT = int(os.environ.get("VHOSTING_SCENARIO_TIMEOUT", "1800"))
# Rough durations (minutes per run in CI, 2026-12-08, the mean of both releases): the runs are handed out longest
# first, one at a time (each pytest-xdist worker holds at most two), to the worker that has room (scripts/test.sh:
# --dist load --maxschedchunk 1;
# tests/conftest.py sorts), and the lint and unit tests fill the gaps.
DURATION = {"dbtables": 18, "mail_auth": 9, "dovecot": 7, "tls": 5, "relay": 5, "faults": 5, "domains": 5,
            "lookup_table": 5, "lists": 3, "postconf": 3, "default": 2}
SUFFIX_RE = re.compile(r"-d\d+-p(\d+)$")
# The tasks that reach a host in the idempotence run (a run that changes
# nothing), per host at most, counted by the vhosting.postfix.round_trips
# callback (loop items each; skipped tasks and control-node actions not).
# Measured 2026-12-06 (the same on Debian 12 and 13). dbtables: its database
# host (the database_server role: 34, 48 since TLS on 2026-12-07 - per
# backend a directory and a copy of the certificate and of the key, and both
# hostssl and host entries per client network); its mail hosts take 24 to 25
# (the parity gate of five database tables, the relay transport table
# included; since 2026-12-08 their .cf files and the health check's three
# files are one small_files run each: 30 to 31 before), the MariaDB one 31
# (39 before) since it has a Dovecot store (the tls and dovecot roles). mail_auth: all five
# roles, the tls role (a dependency of dovecot; 2026-12-07: 37 -> 38) and the
# dns_records playbook (its model, the records' module, the merge and the DNS
# update on the control node) on the receiver. tls: 17 on the mail host.
ROUND_TRIPS = {"default": 3, "lookup_table": 3, "postconf": 1, "domains": 7, "relay": 9, "faults": 14,
               "dovecot": 16, "tls": 17, "lists": 19, "dbtables": 48, "mail_auth": 38}
# Scenarios that run Molecule's whole sequence on every release. The others
# converge and verify on the second release without the idempotence run:
# the same playbooks on another Postfix, with the same round trips (measured
# 2026-12-06 on both), which saves about 4 minutes of CI. dovecot keeps it:
# its role writes a different configuration for Dovecot 2.3 (Debian 12) and
# 2.4 (Debian 13), so a second run that changes something could differ.
WHOLE_SEQUENCE_EVERY_RELEASE = {"dovecot"}
_TRIPS_RE = re.compile(r"^vhosting\.postfix round trips: (.*)$", re.MULTILINE)
_STEP_RE = re.compile(r"\[[\w-]+ > ([\w-]+)\] (Executing|Executed)")


def _releases():
    """[(release, codename, image)] from scripts/lib.sh, the one place for them."""
    out = subprocess.run(
        ["bash", "-c", '. "$1" && vh_releases', "_", str(ROOT / "scripts" / "lib.sh")],
        capture_output=True, text=True, check=True,
    ).stdout
    return [tuple(line.split()) for line in out.splitlines() if line.strip()]


RELEASES = _releases()
FAST = {("default", RELEASES[0][0])}


def _podman(*args):
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


def _networks(scenario):
    with open(ROOT / "molecule" / scenario / "molecule.yml") as f:
        return sorted({p["network"] for p in yaml.safe_load(f)["platforms"]})


def _remove_leftovers(scenario, suffix):
    """Remove the containers and networks of one run, whatever Molecule left."""
    leftovers = _podman("ps", "-a", "--filter", "label=vhosting_suffix=%s" % suffix, "--format", "{{.Names}}").stdout.split()
    if leftovers:
        _podman("rm", "-f", "-t", "0", *leftovers)
    for network in _networks(scenario):
        _podman("network", "rm", "-f", network + suffix)
    return leftovers


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _remove_orphans():
    """Remove containers and networks of runs whose pytest process is gone."""
    names = _podman("ps", "-a", "--filter", "label=owner=molecule", "--format", "{{.Names}}").stdout.split()
    dead = [n for n in names if SUFFIX_RE.search(n) and not _alive(int(SUFFIX_RE.search(n).group(1)))]
    if dead:
        _podman("rm", "-f", "-t", "0", *dead)
    for network in _podman("network", "ls", "--format", "{{.Name}}").stdout.split():
        m = SUFFIX_RE.search(network)
        if m and network.startswith("vh-") and not _alive(int(m.group(1))):
            _podman("network", "rm", "-f", network)


def _params():
    for scenario in sorted(SCENARIOS, key=lambda s: -DURATION.get(s, 0)):
        for release, codename, image in RELEASES:
            marks = [getattr(pytest.mark, "debian" + release), pytest.mark.duration(DURATION.get(scenario, 0))]
            if (scenario, release) not in FAST:
                marks.append(pytest.mark.full)
            yield pytest.param(scenario, release, image, marks=marks, id="%s-debian%s" % (scenario, release))


# Sections of ansible.cfg: what provisioner.config_options may hold.
CFG_SECTIONS = {"defaults", "privilege_escalation", "paramiko_connection", "ssh_connection", "persistent_connection",
                "connection", "colors", "diff", "galaxy", "inventory", "selinux", "tags"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_yml_keeps_settings_where_molecule_reads_them(scenario):
    # Molecule ignores misplaced keys silently: host_vars under config_options
    # becomes an ansible.cfg section and the hosts lose their variables.
    with open(ROOT / "molecule" / scenario / "molecule.yml") as f:
        config = yaml.safe_load(f)
    provisioner = config["provisioner"]
    assert set(provisioner.get("config_options", {})) <= CFG_SECTIONS, provisioner["config_options"]
    assert set(provisioner.get("inventory", {})) <= {"host_vars", "group_vars", "links", "hosts"}, provisioner["inventory"]
    # Every scenario reaches its hosts over SSH with become, as an operator does
    # (molecule/shared/create.yml writes the login per host), modules pipelined
    # (nested runs of the verify playbooks inherit Molecule's ansible.cfg).
    assert provisioner["config_options"].get("connection", {}).get("pipelining") is True, (
        "%s: config_options.connection.pipelining must be true" % scenario)
    assert "connection_plugins" not in provisioner["config_options"]["defaults"], scenario
    names = [p["name"] for p in config["platforms"]]
    assert set(provisioner.get("inventory", {}).get("host_vars", {})) <= set(names), "host_vars for unknown hosts"
    for platform in config["platforms"]:
        assert platform["image"].startswith("${VHOSTING_IMAGE:-"), "%s: image must follow VHOSTING_IMAGE" % platform["name"]
        assert platform["name"].startswith("vh-%s-" % scenario), platform["name"]


def round_trips(text, scenario):
    """{host: tasks that reached it} of the idempotence run in a Molecule log ({} when not found)."""
    start = text.find("[%s > idempotence] Executing" % scenario)
    end = text.find("[%s > idempotence] Executed" % scenario, start)
    if start < 0 or end < 0:
        return {}
    found = _TRIPS_RE.findall(text[start:end])
    if not found:
        return {}
    pairs = [pair.rsplit("=", 1) for pair in found[-1].split() if "=" in pair]
    return dict((host, int(count)) for host, count in pairs)


def run_timed(cmd, out, **kwargs):
    """Run cmd with its output to the file out; return (returncode, {step: seconds}).

    The seconds of each Molecule step (create, converge, idempotence, ...) are
    taken from its "Executing" and "Executed" lines as they arrive; a step that
    runs twice (destroy) adds up. A run still going after timeout seconds is
    killed (also when it prints nothing) and ends with a line saying so."""
    steps, started = {}, {}
    timeout = kwargs.pop("timeout")
    # A session of its own: the watchdog kills Molecule with its ansible-playbook
    # and SSH children, which would otherwise keep the pipe open.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)

    def kill():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    watchdog = threading.Timer(timeout, kill)
    watchdog.start()
    try:
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            out.write(line)
            m = _STEP_RE.search(line)
            if m:
                now = time.monotonic()
                if m.group(2) == "Executing":
                    started[m.group(1)] = now
                elif m.group(1) in started:
                    steps[m.group(1)] = steps.get(m.group(1), 0.0) + now - started.pop(m.group(1))
        rc = proc.wait()
        if not watchdog.is_alive():
            out.write("\nvhosting.postfix: killed after %s s (VHOSTING_SCENARIO_TIMEOUT)\n" % timeout)
        return rc, steps
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            kill()
            proc.wait()


def test_steps_are_timed_from_molecule_lines(tmp_path):
    script = ("echo 'INFO     [s > create] Executing'; sleep 0.2; echo 'INFO     [s > create] Executed: Successful';"
              "echo 'INFO     [s > verify] Executing'; echo 'INFO     [s > verify] Executed: Successful'; exit 3")
    with open(tmp_path / "log", "w") as out:
        rc, steps = run_timed(["bash", "-c", script], out, timeout=60)
    assert rc == 3
    assert set(steps) == {"create", "verify"}
    assert steps["create"] >= 0.2 and steps["verify"] < 0.2
    assert "[s > verify] Executed" in (tmp_path / "log").read_text()


def test_a_silent_run_is_killed_at_its_timeout(tmp_path):
    with open(tmp_path / "log", "w") as out:
        # The sleep is a child of the shell, holding the output pipe open.
        rc, steps = run_timed(["bash", "-c", "echo started; sleep 30; echo done"], out, timeout=0.5)
    assert rc != 0 and steps == {}
    assert "killed after 0.5 s" in (tmp_path / "log").read_text()


def test_round_trips_are_read_from_the_idempotence_run():
    log = ("INFO     [s > converge] Executing\nvhosting.postfix round trips: a=40\n"
           "INFO     [s > idempotence] Executing\nx\nvhosting.postfix round trips: vh-s-a-d12-p1=7 vh-s-b-d12-p1=9\n"
           "INFO     [s > idempotence] Executed: Successful\nvhosting.postfix round trips: a=50\n")
    assert round_trips(log, "s") == {"vh-s-a-d12-p1": 7, "vh-s-b-d12-p1": 9}
    assert round_trips("nothing", "s") == {}


@pytest.mark.parametrize("scenario, release, image", list(_params()))
def test_scenario(scenario, release, image, tmp_path, record_property):
    suffix = "-d%s-p%d" % (release, os.getpid())
    name = "%s-debian%s" % (scenario, release)
    assert _podman("image", "exists", image).returncode == 0, (
        "test-host image %s is missing: run scripts/setup-test-hosts.sh" % image
    )
    _remove_orphans()
    _remove_leftovers(scenario, suffix)
    log = tmp_path / ("molecule-%s.log" % name)
    control_dir = "/tmp/vh-ssh%s" % suffix
    kept = ROOT / "tests" / "output" / log.name  # where people look for it
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOLECULE_")}
    # VHOSTING_CALLBACKS adds callbacks, e.g. ansible.posix.profile_tasks to see the slowest tasks.
    callbacks = ["vhosting.postfix.round_trips"] + [c for c in os.environ.get("VHOSTING_CALLBACKS", "").split(",") if c]
    env.update(
        NO_COLOR="1", PY_COLORS="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
        VHOSTING_IMAGE=image,
        VHOSTING_SUFFIX=suffix,
        ANSIBLE_CALLBACKS_ENABLED=",".join(callbacks),
        MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "ephemeral"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        # SSH's ControlPath must stay under 108 characters (tmp_path is longer).
        ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir,
        # Every ansible-playbook of the run, the verify playbooks' nested runs included (whose output Molecule's log
        # does not show), with a timestamp and process id per line: where a scenario's time goes.
        ANSIBLE_LOG_PATH=str(tmp_path / "ansible.log"),
    )
    full = release == RELEASES[0][0] or scenario in WHOLE_SEQUENCE_EVERY_RELEASE
    # The first release runs Molecule's whole test sequence (syntax and the
    # idempotence run with its round-trip count included); the others converge
    # and verify only (see WHOLE_SEQUENCE_EVERY_RELEASE). The containers go in
    # the finally block either way.
    commands = [["molecule", "test", "-s", scenario]] if full else [
        ["molecule", "converge", "-s", scenario], ["molecule", "verify", "-s", scenario]]
    steps = {}
    # One VHOSTING_SCENARIO_TIMEOUT for the whole run, however many commands it takes.
    deadline = time.monotonic() + TIMEOUT
    try:
        with open(log, "w") as out:
            for command in commands:
                rc, took = run_timed(command, out, cwd=ROOT, env=env, timeout=max(1.0, deadline - time.monotonic()))
                steps.update(took)
                if rc:
                    break
        record_property("steps", steps)
        text = log.read_text(errors="replace")
        assert rc == 0, "%s on Debian %s failed (rc=%d); last lines of %s:\n%s" % (
            " ".join(command), release, rc, kept, "\n".join(text.splitlines()[-80:]),
        )
        # The run must really have converged (twice with idempotence) and verified.
        for step in ("converge", "idempotence", "verify") if full else ("converge", "verify"):
            assert re.search(r"\b%s\b\W+Executed: Successful" % step, text), "step %s did not run in %s" % (step, kept)
        if not full:
            return
        trips = round_trips(text, scenario)
        limit = ROUND_TRIPS.get(scenario)
        if limit is not None:
            assert trips and max(trips.values()) <= limit, (
                "%s: a run that changes nothing reached a host more than %d times: %s" % (name, limit, trips))
    finally:
        _remove_leftovers(scenario, suffix)
        shutil.rmtree(control_dir, ignore_errors=True)
        for source, target in ((log, kept), (tmp_path / "ansible.log", kept.with_name("ansible-%s.log" % name))):
            if source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
