"""Disposable test hosts for the benchmarks: podman containers of the test image with sshd.

Used by bench/domains.py, bench/fleet.py and bench/delivery.py. The bench
image (``localhost/vhosting-bench-debianNN``) is the test image plus
openssh-server (from Debian's mirror) and the bench key in root's
authorized_keys; it is built once and rebuilt when the key or the base image
changes. Containers get systemd as PID 1, like the Molecule test hosts, and
sit on one podman network reachable from this machine, so ansible-playbook
runs here (the controller) and reaches them over SSH, as an operator's
does, or over the podman connection.
"""
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

STATE = os.environ.get("VH_STATE") or os.path.expanduser("~/.cache/vhosting-postfix")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETWORK = "vh-bench"


def sh(cmd, check=True, capture=True, timeout=None, data=None):
    proc = subprocess.run(cmd, input=data, stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None, universal_newlines=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        shown = " ".join(map(shlex.quote, cmd))
        sys.exit("failed (rc=%d): %s\n%s" % (proc.returncode, shown, (proc.stdout or "")[-3000:]))
    return proc


def base_image():
    return os.environ.get("VH_IMAGE") or "localhost/vhosting-debian12:latest"


def key_path():
    path = os.path.join(STATE, "bench-ssh", "id_ed25519")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vhosting-bench", "-f", path])
    return path


def bench_image():
    """The bench image for the base image, built if missing or stale."""
    base = base_image()
    base_id = sh(["podman", "image", "inspect", "--format", "{{.Id}}", base]).stdout.strip()
    with open(key_path() + ".pub") as handle:
        pub = handle.read().strip()
    # The base image, the key and this recipe's version (apt lists kept, as the test image has them).
    label = "%s-%s-2" % (base_id[:12], hashlib.sha256(pub.encode()).hexdigest()[:12])
    name = "localhost/vhosting-bench-" + base.rsplit("/", 1)[-1].split(":")[0].replace("vhosting-", "")
    have = sh(["podman", "image", "inspect", "--format", '{{index .Labels "org.vhosting.bench"}}', name],
              check=False).stdout.strip()
    if have == label:
        return name
    log("building %s (openssh-server from Debian's mirror)" % name)
    builder = "vh-bench-build"
    sh(["podman", "rm", "-f", "-t", "0", builder], check=False)
    sh(["podman", "run", "-d", "--name", builder, base])
    script = ("set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null; "
              "apt-get install -y -q openssh-server >/dev/null; mkdir -p -m 0700 /root/.ssh; "
              "printf '%s\\n' " + shlex.quote(pub) + " > /root/.ssh/authorized_keys; "
              "chmod 0600 /root/.ssh/authorized_keys; systemctl enable ssh >/dev/null 2>&1 || true")
    sh(["podman", "exec", builder, "bash", "-c", script], timeout=900)
    sh(["podman", "stop", "-t", "5", builder])
    sh(["podman", "commit", "-q", "--change", 'CMD ["/sbin/init"]', "--change", "LABEL org.vhosting.bench=" + label,
        builder, name])
    sh(["podman", "rm", "-f", "-t", "0", builder])
    return name


def log(message):
    sys.stderr.write("==> %s\n" % message)
    sys.stderr.flush()


class Hosts(object):
    """N containers of the bench image on the bench network; removed by close()."""

    def __init__(self, prefix, count):
        self.names = ["%s-%02d" % (prefix, i) for i in range(1, count + 1)]
        self.image = bench_image()
        if sh(["podman", "network", "exists", NETWORK], check=False).returncode != 0:
            sh(["podman", "network", "create", NETWORK])
        for name in self.names:
            sh(["podman", "rm", "-f", "-t", "0", name], check=False)
            sh(["podman", "run", "-d", "--name", name, "--hostname", "%s.bench.test" % name, "--network", NETWORK,
                "--systemd", "always", self.image, "/sbin/init"])
        self.addresses = {}
        for name in self.names:
            info = json.loads(sh(["podman", "inspect", name]).stdout)[0]
            nets = info["NetworkSettings"]["Networks"]
            self.addresses[name] = nets[NETWORK]["IPAddress"]
        self.wait_for_ssh()

    def wait_for_ssh(self, timeout=120):
        deadline = time.monotonic() + timeout
        for name in self.names:
            while True:
                proc = sh(["podman", "exec", name, "systemctl", "is-active", "ssh"], check=False)
                if proc.stdout.strip() == "active":
                    break
                if time.monotonic() > deadline:
                    sys.exit("%s: sshd did not start: %s" % (name, proc.stdout))
                time.sleep(0.5)

    def inventory(self, path, connection="ssh", host_vars=None):
        """An inventory file of the hosts in group mail_servers (YAML), for the given connection."""
        hosts = {}
        for name in self.names:
            entry = {"ansible_python_interpreter": "/usr/bin/python3"}
            if connection == "ssh":
                entry.update(ansible_host=self.addresses[name], ansible_user="root",
                             ansible_ssh_private_key_file=key_path())
            else:
                entry.update(ansible_connection="containers.podman.podman", ansible_host=name)
            entry.update((host_vars or {}).get(name, {}))
            hosts[name] = entry
        with open(path, "w") as handle:
            json.dump({"mail_servers": {"hosts": hosts}}, handle, indent=1)
        return path

    def exec(self, name, script, check=True, timeout=None):
        return sh(["podman", "exec", name, "bash", "-c", script], check=check, timeout=timeout)

    def close(self):
        """Remove the hosts, unless VHOSTING_BENCH_KEEP=1 (to look at them after a run; the next run replaces them)."""
        if os.environ.get("VHOSTING_BENCH_KEEP") == "1":
            log("kept (VHOSTING_BENCH_KEEP=1): %s" % " ".join(self.names))
            return
        for name in self.names:
            sh(["podman", "rm", "-f", "-t", "0", name], check=False)


def write_domains(directory, count, suffix, mailboxes=10):
    """One inventory file per domain (as docs/inventory.md documents): mailbox domains dNNNNN.SUFFIX with
    `mailboxes` mailboxes and one alias each."""
    os.makedirs(directory, exist_ok=True)
    boxes = "".join("    - user%02d\n" % j for j in range(mailboxes))
    for i in range(count):
        domain = "d%05d.%s" % (i, suffix)
        with open(os.path.join(directory, "%s.yml" % domain), "w") as handle:
            handle.write("---\nvhosting_domain__d%05d:\n  domain: %s\n  class: mailbox\n  mailboxes:\n%s"
                         "  aliases:\n    info: user00@%s\n" % (i, domain, boxes, domain))


def playbook_env(workdir, forks=5):
    """ansible-playbook's environment: SSH with pipelining and ControlPersist, no host key prompts."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=/dev/null "
                            "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(workdir, "cp"),
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "tmp"),
        "ANSIBLE_HOME": os.path.join(workdir, "ansible-home"),
        # As docs/inventory.md recommends for an inventory of one file per domain: the group_vars files are read
        # once per run, not merged again before every task (ANSIBLE_RUN_VARS_PLUGINS=demand bench/... measures
        # Ansible's default).
        "ANSIBLE_RUN_VARS_PLUGINS": os.environ.get("ANSIBLE_RUN_VARS_PLUGINS", "start"),
    })
    return env


def busy_cpu_seconds():
    """CPU seconds this machine has spent busy since boot, all cores (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    ticks = sum(fields[:8]) - fields[3] - fields[4]
    return ticks / float(os.sysconf("SC_CLK_TCK"))


def run_playbook(inventory, env, extra=(), timeout=3600, playbook="vhosting.postfix.site", cpu=None):
    """(seconds, output, recap {host: {ok, changed, skipped, failed, ...}}) of one ansible-playbook run.

    With a dict as cpu, also fills in the CPU seconds the run cost: "machine" (every process of this machine,
    the hosts' containers included) and "controller" (ansible-playbook and its children on this side)."""
    cmd = [shutil.which("ansible-playbook") or "ansible-playbook", "-i", inventory, playbook] + list(extra)
    busy_before, children_before = busy_cpu_seconds(), os.times()
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          timeout=timeout, check=False)
    elapsed = time.monotonic() - start
    if cpu is not None:
        children_after = os.times()
        cpu["machine"] = busy_cpu_seconds() - busy_before
        cpu["controller"] = (children_after.children_user + children_after.children_system
                             - children_before.children_user - children_before.children_system)
    if proc.returncode != 0:
        sys.exit("ansible-playbook failed (rc=%d):\n%s" % (proc.returncode, proc.stdout[-5000:]))
    return elapsed, proc.stdout, recap(proc.stdout)


def recap(output):
    result = {}
    seen = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            seen = True
            continue
        if seen and ":" in line and "ok=" in line:
            host, rest = line.split(":", 1)
            result[host.strip()] = dict((k, int(v)) for k, v in (item.split("=") for item in rest.split()))
    return result


def machine():
    """What the figures were measured on."""
    cpus = os.cpu_count()
    with open("/proc/meminfo") as handle:
        mem = int(handle.readline().split()[1]) // 1024 // 1024
    return "%s, %d cores, %d GiB, %s" % (time.strftime("%Y-%m-%d"), cpus, mem, base_image())
