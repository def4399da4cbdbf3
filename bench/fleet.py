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
bench/fleet.sh.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _hosts  # noqa: E402  pylint: disable=wrong-import-position

TARGET = 2.5


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
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    results = {}
    for connection in args.connections.split(","):
        for count in [int(c) for c in args.counts.split(",")]:
            hosts = _hosts.Hosts("vh-bench-fleet", count)
            try:
                inventory = write_inventory(args.workdir, hosts, connection, args.domains)
                env = _hosts.playbook_env(args.workdir, forks=max(count, 5))
                row = {}
                for run in ("first", "again"):
                    seconds, _out, recap = _hosts.run_playbook(inventory, env)
                    per_host = [recap[name] for name in hosts.names]
                    row[run] = {"seconds": round(seconds, 1),
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


def report(results, args):
    print("\nFleet (%s), %d domains x 10 mailboxes per host, forks = hosts" % (_hosts.machine(), args.domains))
    print("| connection | hosts | first run | tasks ok/changed per host | no-change run | tasks ok/skipped per host |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key in sorted(results):
        connection, count = key.split("/")
        row = results[key]
        print("| %s | %s | %.1f s | %d/%d | %.1f s | %d/%d |" % (
            connection, count, row["first"]["seconds"], row["first"]["ok"], row["first"]["changed"],
            row["again"]["seconds"], row["again"]["ok"], row["again"]["skipped"]))
    for connection in args.connections.split(","):
        one, ten = results.get("%s/1" % connection), results.get("%s/10" % connection)
        if one and ten:
            for run in ("first", "again"):
                ratio = ten[run]["seconds"] / one[run]["seconds"]
                print("%s, 10 hosts / 1 host, %s run: %.2fx (target <= %.1fx: %s)"
                      % (connection, run, ratio, TARGET, "met" if ratio <= TARGET else "NOT met"))


if __name__ == "__main__":
    main()
