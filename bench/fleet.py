#!/usr/bin/env python
"""Fleet: playbooks/site.yml on 1 host and on 10 hosts in one run.

Fresh bench hosts (containers of the test image with sshd, see _hosts.py)
for each case; every host gets the same inventory (``--domains`` mailbox
domains of 10 mailboxes and one alias each, one file per domain in
group_vars/mail_servers/). Each case runs site.yml twice, a first run and a
no-change run, with as many forks as hosts, over SSH with pipelining and
ControlPersist (how fleets are driven) and over the podman connection (for
comparison). Printed: wall times, the tasks a run executed per host, and
10 hosts / 1 host (target <= 2.5x on this 2-core machine). Run with
bench/fleet.sh; ``--mitogen`` runs the same with Mitogen for Ansible's
mitogen_linear strategy (installed from PyPI into the work directory, not
into the project's venv).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _hosts  # noqa: E402  pylint: disable=wrong-import-position

TARGET = 2.5
MITOGEN = "mitogen==0.3.54"


def write_inventory(workdir, hosts, connection, domains):
    inv = os.path.join(workdir, "inventory")
    shutil.rmtree(inv, ignore_errors=True)
    group_vars = os.path.join(inv, "group_vars", "mail_servers")
    _hosts.write_domains(group_vars, domains, "fleet.test")
    return hosts.inventory(os.path.join(inv, "hosts.json"), connection=connection)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1,10")
    parser.add_argument("--connections", default="ssh,podman")
    parser.add_argument("--domains", type=int, default=10)
    parser.add_argument("--workdir", default="/var/tmp/vhosting-bench/fleet")
    parser.add_argument("--mitogen", action="store_true", help="with the mitogen_linear strategy (%s)" % MITOGEN)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    extra_env = mitogen_env(args.workdir) if args.mitogen else {}
    results = {}
    for connection in args.connections.split(","):
        for count in [int(c) for c in args.counts.split(",")]:
            hosts = _hosts.Hosts("vh-bench-fleet", count)
            try:
                inventory = write_inventory(args.workdir, hosts, connection, args.domains)
                env = _hosts.playbook_env(args.workdir, forks=max(count, 5))
                env.update(extra_env)
                row = {}
                for run in ("first", "again"):
                    cpu = {}
                    seconds, out, recap = _hosts.run_playbook(inventory, env, cpu=cpu)
                    with open(os.path.join(args.workdir, "%s-%d-%s.log" % (connection, count, run)), "w") as log:
                        log.write(out)
                    per_host = [recap[name] for name in hosts.names]
                    row[run] = {"seconds": round(seconds, 1), "cpu": round(cpu["machine"], 1),
                                "controller_cpu": round(cpu["controller"], 1),
                                "ok": max(h["ok"] for h in per_host), "changed": max(h["changed"] for h in per_host),
                                "skipped": max(h["skipped"] for h in per_host)}
                    _hosts.log("%s, %d hosts, %s run: %.1f s, per host %s"
                               % (connection, count, run, seconds, per_host[0]))
                results["%s/%d" % (connection, count)] = row
            finally:
                hosts.close()
    report(results, args)
    with open(os.path.join(args.workdir, "results.json"), "w") as handle:
        json.dump({"machine": _hosts.machine(), "results": results}, handle, indent=1)


def mitogen_env(workdir):
    """Mitogen for Ansible in WORKDIR/mitogen (pip --target), and the environment that selects its strategy."""
    target = os.path.join(workdir, "mitogen")
    if not os.path.isdir(os.path.join(target, "ansible_mitogen")):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", target, MITOGEN], check=True)
    return {"ANSIBLE_STRATEGY_PLUGINS": os.path.join(target, "ansible_mitogen", "plugins", "strategy"),
            "ANSIBLE_STRATEGY": "mitogen_linear",
            "PYTHONPATH": target + os.pathsep + os.environ.get("PYTHONPATH", "")}


def report(results, args):
    print("\nFleet (%s), %d domains x 10 mailboxes per host, forks = hosts%s"
          % (_hosts.machine(), args.domains, ", Mitogen (%s)" % MITOGEN if args.mitogen else ""))
    print("| connection | hosts | first run | tasks ok/changed per host | no-change run | tasks ok/skipped per host |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key in sorted(results):
        connection, count = key.split("/")
        row = results[key]
        print("| %s | %s | %.1f s | %d/%d | %.1f s | %d/%d |" % (
            connection, count, row["first"]["seconds"], row["first"]["ok"], row["first"]["changed"],
            row["again"]["seconds"], row["again"]["ok"], row["again"]["skipped"]))
    # The hosts are containers on the controller's own cores: a run cannot take less than the CPU seconds
    # it costs (controller and hosts together) divided by the cores. That floor, as a ratio to one host's
    # run, says what this machine allows whatever the collection does.
    cores = os.cpu_count()
    print("\n| connection | hosts | run | CPU s (machine) | CPU s (controller) | floor = CPU s / %d cores |" % cores)
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for key in sorted(results):
        connection, count = key.split("/")
        for run in ("first", "again"):
            row = results[key][run]
            print("| %s | %s | %s | %.1f | %.1f | %.1f s |"
                  % (connection, count, run, row["cpu"], row["controller_cpu"], row["cpu"] / cores))
    for connection in args.connections.split(","):
        one, ten = results.get("%s/1" % connection), results.get("%s/10" % connection)
        if one and ten:
            for run in ("first", "again"):
                ratio = ten[run]["seconds"] / one[run]["seconds"]
                floor = ten[run]["cpu"] / cores / one[run]["seconds"]
                print("%s, 10 hosts / 1 host, %s run: %.2fx (target <= %.1fx: %s; CPU floor on this machine %.2fx)"
                      % (connection, run, ratio, TARGET, "met" if ratio <= TARGET else "NOT met", floor))


if __name__ == "__main__":
    main()
