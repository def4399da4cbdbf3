#!/usr/bin/env python
"""Domains scale: playbooks/site.yml on one host for 1, 1,000 and 10,000 domains.

Each size gets a fresh bench host (a container of the test image with sshd,
see _hosts.py) and an inventory as docs/inventory.md documents it: one file
per domain under group_vars/mail_servers/, each a mailbox domain with
``--mailboxes`` mailboxes and one alias. site.yml runs twice over SSH with
pipelining: the first run (packages, accounts, Maildirs, tables) and a
no-change run. Printed: wall times, the tasks each run executed on the host,
and the ratios to the 1-domain run (targets: 1,000 domains <= 1.5x, 10,000
domains <= 3x). Run with bench/run-domains.sh.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _hosts  # noqa: E402  pylint: disable=wrong-import-position

TARGETS = {1000: 1.5, 10000: 3.0}


def write_inventory(workdir, hosts, size, mailboxes):
    inv = os.path.join(workdir, "inventory")
    shutil.rmtree(inv, ignore_errors=True)
    group_vars = os.path.join(inv, "group_vars", "mail_servers")
    os.makedirs(group_vars)
    hosts.inventory(os.path.join(inv, "hosts.json"))
    with open(os.path.join(group_vars, "server.yml"), "w") as handle:
        handle.write("---\nvhosting_server__myhostname: mx.bench.test\n")
    _hosts.write_domains(group_vars, size, "bench.test", mailboxes)
    return os.path.join(inv, "hosts.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,1000,10000")
    parser.add_argument("--mailboxes", type=int, default=10)
    parser.add_argument("--workdir", default="/var/tmp/vhosting-bench/domains")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    results = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        hosts = _hosts.Hosts("vh-bench-dom", 1)
        try:
            inventory = write_inventory(args.workdir, hosts, size, args.mailboxes)
            env = _hosts.playbook_env(args.workdir)
            row = {}
            for run in ("first", "again"):
                seconds, _out, recap = _hosts.run_playbook(inventory, env)
                host = recap[hosts.names[0]]
                row[run] = {"seconds": round(seconds, 1), "ok": host["ok"], "changed": host["changed"],
                            "skipped": host["skipped"]}
                _hosts.log("%d domains, %s run: %.1f s, %s" % (size, run, seconds, host))
            count = hosts.exec(hosts.names[0], "postmap -s lmdb:/etc/postfix/vmailbox | wc -l").stdout.strip()
            row["vmailbox_entries"] = int(count)
            results[size] = row
        finally:
            hosts.close()
    report(results, args)
    with open(os.path.join(args.workdir, "results.json"), "w") as handle:
        json.dump({"machine": _hosts.machine(), "mailboxes": args.mailboxes, "results": results}, handle, indent=1)


def report(results, args):
    print("\nDomains scale (%s), %d mailboxes and 1 alias per domain, site.yml over SSH"
          % (_hosts.machine(), args.mailboxes))
    print("| domains | first run | tasks ok/changed | no-change run | tasks ok/skipped | vmailbox entries |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in sorted(results):
        row = results[size]
        print("| %d | %.1f s | %d/%d | %.1f s | %d/%d | %d |" % (
            size, row["first"]["seconds"], row["first"]["ok"], row["first"]["changed"], row["again"]["seconds"],
            row["again"]["ok"], row["again"]["skipped"], row["vmailbox_entries"]))
    base = results.get(1)
    if base:
        for size, target in sorted(TARGETS.items()):
            if size in results:
                for run in ("first", "again"):
                    ratio = results[size][run]["seconds"] / base[run]["seconds"]
                    print("%d domains / 1 domain, %s run: %.2fx (target <= %.1fx: %s)"
                          % (size, run, ratio, target, "met" if ratio <= target else "NOT met"))


if __name__ == "__main__":
    main()
