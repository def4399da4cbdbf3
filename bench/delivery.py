#!/usr/bin/env python
"""Delivery: a host configured by the collection against the same host with a hand-written main.cf.

Three bench hosts (containers of the test image with sshd, see _hosts.py):
``collection`` (playbooks/site.yml over SSH: one mailbox domain box.test with
4 mailboxes), ``hand`` (Postfix from the same packages, Debian's main.cf plus
the howto's virtual mailbox lines, written here by hand, same table type,
mailbox base, uid and gid) and ``client``, which runs ``smtp-source``
(Postfix's load generator): 4 parallel runs of ``--messages``/4 messages,
one per mailbox, ``--sessions`` sessions each. A round is timed from the
start of smtp-source until every message is a file in the Maildirs; the
rounds alternate between the two hosts, and the best of each is compared
(target: collection >= 0.9x the hand-written rate). Run with
bench/delivery.sh.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _hosts  # noqa: E402  pylint: disable=wrong-import-position

TARGET = 0.9
DOMAIN = "box.test"
BOXES = ["ann", "bob", "cid", "dee"]

HAND_MAIN_CF = """
myhostname = mx.hand.test
mydestination = $myhostname, localhost
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
default_database_type = lmdb
alias_maps = lmdb:/etc/aliases
alias_database = lmdb:/etc/aliases
recipient_delimiter = +
virtual_mailbox_domains = box.test
virtual_mailbox_base = /var/mail/vhosts
virtual_mailbox_maps = lmdb:/etc/postfix/vmailbox
virtual_alias_maps = lmdb:/etc/postfix/virtual
virtual_minimum_uid = 100
virtual_uid_maps = static:5000
virtual_gid_maps = static:5000
"""

HAND_SETUP = r"""
set -e
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get install -y -q --no-download postfix postfix-lmdb >/dev/null
cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
cat >> /etc/postfix/main.cf <<'EOF'
%(main_cf)s
EOF
groupadd -g 5000 vmail; useradd -u 5000 -g 5000 -d /var/mail/vhosts -s /usr/sbin/nologin -M vmail
install -d -o vmail -g vmail -m 0750 /var/mail/vhosts
: > /etc/postfix/vmailbox
for box in %(boxes)s; do printf '%%s@box.test\tbox.test/%%s/\n' "$box" "$box" >> /etc/postfix/vmailbox; done
printf 'postmaster@box.test\tpostmaster@localhost\n' > /etc/postfix/virtual
touch /etc/aliases; postalias lmdb:/etc/aliases; postmap lmdb:/etc/postfix/vmailbox; postmap lmdb:/etc/postfix/virtual
postfix check
systemctl restart postfix
"""


def delivered(hosts, name):
    out = hosts.exec(name, "find /var/mail/vhosts/box.test -path '*/new/*' -type f 2>/dev/null | wc -l").stdout
    return int(out.strip() or 0)


def install_smtp_source(hosts, name):
    """smtp-source (Postfix's package, unconfigured) on the client `name`, from the image's package cache."""
    _hosts.log("installing smtp-source on %s" % name)
    hosts.exec(name, "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections;"
                     " DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download postfix >/dev/null")


def round_trip(hosts, name, address, messages, sessions, timeout, client, sender="load@client.test"):
    """Seconds from smtp-source's start on `client` until `messages` more files are in the Maildirs of `name`."""
    before = delivered(hosts, name)
    each = messages // len(BOXES)
    runs = "".join("smtp-source -s %d -m %d -l 2000 -f %s -t %s@%s %s:25 & pids=\"$pids $!\"; "
                   % (sessions, each, sender, box, DOMAIN, address) for box in BOXES)
    start = time.monotonic()
    # smtp-source stops at the first reply it does not expect (a 4xx after DATA): fail now, not after `timeout`.
    proc = hosts.exec(client, "%src=0; for pid in $pids; do wait $pid || rc=1; done; exit $rc" % runs, check=False,
                      timeout=timeout)
    if proc.returncode != 0:
        sys.exit("%s: smtp-source failed:\n%s" % (name, proc.stdout[-3000:]))
    while True:
        count = delivered(hosts, name) - before
        if count >= each * len(BOXES):
            return time.monotonic() - start, count
        if time.monotonic() - start > timeout:
            sys.exit("%s: only %d of %d messages delivered after %ds" % (name, count, each * len(BOXES), timeout))
        time.sleep(0.2)


def arguments(doc, workdir):
    """The options of the delivery benchmarks (this one and bench/signing.py); the work directory made."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--workdir", default=workdir)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    return args


def main():
    args = arguments(__doc__, "/var/tmp/vhosting-bench/delivery")
    hosts = _hosts.Hosts("vh-bench-dlv", 3)
    collection, hand, client = hosts.names
    try:
        inv = os.path.join(args.workdir, "inventory")
        os.makedirs(os.path.join(inv, "group_vars", "mail_servers"), exist_ok=True)
        with open(os.path.join(inv, "group_vars", "mail_servers", "box.test.yml"), "w") as handle:
            handle.write("---\nvhosting_server__myhostname: mx.collection.test\nvhosting_server__inet_protocols: ipv4\n"
                         "vhosting_domain__box_test:\n  domain: box.test\n  class: mailbox\n  mailboxes: [%s]\n"
                         % ", ".join(BOXES))
        only = _hosts.Hosts.__new__(_hosts.Hosts)
        only.names, only.addresses = [collection], hosts.addresses
        inventory = only.inventory(os.path.join(inv, "hosts.json"))
        _hosts.log("configuring %s with the collection" % collection)
        _hosts.run_playbook(inventory, _hosts.playbook_env(args.workdir))
        _hosts.log("configuring %s by hand" % hand)
        hosts.exec(hand, HAND_SETUP % {"main_cf": HAND_MAIN_CF.strip(), "boxes": " ".join(BOXES)})
        install_smtp_source(hosts, client)
        rounds = {collection: [], hand: []}
        # A warm-up message to each, then alternating rounds.
        for name in (collection, hand):
            round_trip(hosts, name, hosts.addresses[name], len(BOXES), 1, args.timeout, client)
        for i in range(args.rounds):
            for name in (collection, hand) if i % 2 == 0 else (hand, collection):
                seconds, count = round_trip(hosts, name, hosts.addresses[name], args.messages, args.sessions,
                                            args.timeout, client)
                rounds[name].append(round(seconds, 2))
                _hosts.log("%s: %d messages in %.1f s (%.0f/s)" % (name, count, seconds, count / seconds))
        params = {}
        for name in (collection, hand):
            params[name] = len(hosts.exec(name, "postconf -n").stdout.splitlines())
    finally:
        hosts.close()
    best = dict((name, min(times)) for name, times in rounds.items())
    rate = dict((name, args.messages // len(BOXES) * len(BOXES) / best[name]) for name in best)
    ratio = rate[collection] / rate[hand]
    print("\nDelivery (%s): %d messages, 4 mailboxes, smtp-source 4 x %d sessions, best of %d rounds"
          % (_hosts.machine(), args.messages, args.sessions, args.rounds))
    print("| host | main.cf (postconf -n lines) | rounds (s) | best rate |")
    print("| --- | ---: | --- | ---: |")
    for label, name in (("collection", collection), ("hand-written", hand)):
        print("| %s | %d | %s | %.0f msg/s |" % (label, params[name], ", ".join("%.1f" % t for t in rounds[name]),
                                                 rate[name]))
    print("collection / hand-written rate: %.2fx (target >= %.1fx: %s)" % (ratio, TARGET,
                                                                           "met" if ratio >= TARGET else "NOT met"))
    with open(os.path.join(args.workdir, "results.json"), "w") as handle:
        json.dump({"machine": _hosts.machine(), "rounds": rounds, "rates": rate, "ratio": ratio}, handle, indent=1)


if __name__ == "__main__":
    main()
