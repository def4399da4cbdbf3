#!/usr/bin/env python
"""Signing: the delivery rate of a host that signs with DKIM against the same host without it.

Four bench hosts (containers of the test image with sshd, see _hosts.py):
``plain`` and ``signing``, both configured by the collection in one run of
playbooks/site.yml over SSH (one mailbox domain box.test with 4 mailboxes,
the client's address as a /32 in ``vhosting_server__mynetworks``), the
second with ``vhosting_mail_auth__dkim: true`` (OpenDKIM signs the mail of
trusted clients whose From is in box.test, see docs/mail-auth.md), and
``client``, which runs ``smtp-source`` as in bench/delivery.py, with
``-f load@box.test`` (smtp-source writes its sender into the From: header),
and ``outside``, a client that is not trusted, with ``-f load@outside.test``:
its mail is inbound mail, which OpenDKIM verifies and does not sign.
After a warm-up message to each host, one delivered message is read on each:
the signing host's must carry a DKIM-Signature with d=box.test and the plain
host's none, or the benchmark stops. Then rounds alternate between the two
hosts and the best of each is compared (target: signing >= 0.8x the plain
rate), first for the trusted client's mail (signed), then for the outside
client's (inbound, the delivery benchmark's case with signing on). The
signing host's messages of the first phase must all be signed (Postfix
delivers unsigned mail when the milter fails), those of the second none.
Run with bench/signing.sh.
"""
import email
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _hosts  # noqa: E402  pylint: disable=wrong-import-position
from delivery import BOXES, DOMAIN, arguments, delivered, install_smtp_source, round_trip  # noqa: E402  pylint: disable=wrong-import-position

TARGET = 0.8
SENDER = "load@%s" % DOMAIN
OUTSIDE_SENDER = "load@outside.test"
MAILDIRS = "/var/mail/vhosts/%s" % DOMAIN


def newest_header(hosts, name):
    """The header section of the newest message in the Maildirs of `name`."""
    path = hosts.exec(name, "find %s -path '*/new/*' -type f -printf '%%T@ %%p\\n' | sort -n | tail -n 1"
                      % MAILDIRS).stdout.split(" ", 1)[-1].strip()
    if not path:
        sys.exit("%s: no message delivered" % name)
    return hosts.exec(name, "sed '/^\\r\\?$/q' %s" % path).stdout


def dkim_domains(header):
    """The d= tags of the DKIM-Signature headers of a header section."""
    message = email.message_from_string(header)
    domains = []
    for value in message.get_all("DKIM-Signature") or []:
        tags = dict(tag.strip().split("=", 1) for tag in " ".join(value.split()).split(";") if "=" in tag)
        domains.append(tags.get("d", "").replace(" ", ""))
    return domains


def signed(hosts, name):
    """How many messages in the Maildirs of `name` carry a DKIM-Signature header."""
    out = hosts.exec(name, "find %s -path '*/new/*' -type f -exec grep -l -m 1 '^DKIM-Signature:' {} + | wc -l"
                     % MAILDIRS, check=False).stdout
    return int(out.strip() or 0)


def opendkim_report(hosts, name):
    """What OpenDKIM and Postfix's milter client logged on `name` (counted; pids, queue ids and clients left
    out), and how OpenDKIM's process ended when it did."""
    script = "\n".join([
        "echo \"opendkim restarts by systemd: $(systemctl show opendkim -p NRestarts --value 2>/dev/null)\"",
        "journalctl --no-pager -o short | sed -E 's/^.{15} [^ ]+ //'"
        " | grep -E '^(opendkim|postfix/[a-z]+)\\[[0-9]+\\]: .*(milter|VBR|key|resolver)'"
        " | grep -v 'DKIM-Signature field added'"
        " | sed -E 's/\\[[0-9]+\\]: ([0-9A-F]{8,}: )?/: /; s/ from [^ ]*\\[[0-9.]*\\]:/:/; s/; from=<.*//'"
        " | sort | uniq -c | sort -rn | head -n 12",
        "journalctl --no-pager -o cat -u opendkim | grep -E 'exited|Failed with' | sort | uniq -c | head -n 5",
    ])
    out = hosts.exec(name, script, check=False).stdout
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


def alternate(hosts, names, args, client, sender, rounds):
    """args.rounds rounds per host, alternating which goes first; the seconds of each appended to rounds[name]."""
    for i in range(args.rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            seconds, count = round_trip(hosts, name, hosts.addresses[name], args.messages, args.sessions,
                                        args.timeout, client, sender)
            rounds[name].append(round(seconds, 2))
            _hosts.log("%s from %s: %d messages in %.1f s (%.0f/s)" % (name, client, count, seconds, count / seconds))


def main():
    args = arguments(__doc__, "/var/tmp/vhosting-bench/signing")
    hosts = _hosts.Hosts("vh-bench-sig", 4)
    plain, signing, client, outside = hosts.names
    phases = (("signed", client, SENDER), ("inbound", outside, OUTSIDE_SENDER))
    rounds = dict((phase, {plain: [], signing: []}) for phase, _c, _s in phases)
    counts = {}
    try:
        inv = os.path.join(args.workdir, "inventory")
        os.makedirs(os.path.join(inv, "group_vars", "mail_servers"), exist_ok=True)
        os.makedirs(os.path.join(inv, "host_vars"), exist_ok=True)
        with open(os.path.join(inv, "group_vars", "mail_servers", "box.test.yml"), "w") as handle:
            handle.write("---\nvhosting_server__inet_protocols: ipv4\n"
                         "vhosting_server__mynetworks: [127.0.0.0/8, %s/32]\n"
                         "vhosting_domain__box_test:\n  domain: box.test\n  class: mailbox\n  mailboxes: [%s]\n"
                         % (hosts.addresses[client], ", ".join(BOXES)))
        for name, label, dkim in ((plain, "plain", "false"), (signing, "signing", "true")):
            with open(os.path.join(inv, "host_vars", "%s.yml" % name), "w") as handle:
                handle.write("---\nvhosting_server__myhostname: mx.%s.test\nvhosting_mail_auth__dkim: %s\n"
                             % (label, dkim))
        only = _hosts.Hosts.__new__(_hosts.Hosts)
        only.names, only.addresses = [plain, signing], hosts.addresses
        inventory = only.inventory(os.path.join(inv, "hosts.json"))
        _hosts.log("configuring %s and %s (DKIM) with the collection" % (plain, signing))
        _hosts.run_playbook(inventory, _hosts.playbook_env(args.workdir))
        for name in (client, outside):
            install_smtp_source(hosts, name)
        found = {}
        try:
            # A warm-up message to each mailbox of each host; then one of them must be signed on `signing` (by
            # the box.test key) and none on `plain`: a signing benchmark that signs nothing must fail.
            for name in (plain, signing):
                round_trip(hosts, name, hosts.addresses[name], len(BOXES), 1, args.timeout, client, SENDER)
            for name in (plain, signing):
                header = newest_header(hosts, name)
                found[name] = dkim_domains(header)
                _hosts.log("%s: DKIM-Signature d= %s" % (name, ", ".join(found[name]) or "(none)"))
                if name == plain and found[name]:
                    sys.exit("%s: a message signed although DKIM is off, header:\n%s" % (name, header))
                if name == signing and DOMAIN not in found[name]:
                    sys.exit("%s: a message not signed with d=%s, header:\n%s" % (name, DOMAIN, header))
            for phase, sender_host, sender in phases:
                alternate(hosts, (plain, signing), args, sender_host, sender, rounds[phase])
                # Postfix delivers mail unsigned while the milter is down (milter_default_action = accept): every
                # message of the trusted client on `signing` must carry a signature, and inbound mail none.
                counts[phase] = dict((name, (signed(hosts, name), delivered(hosts, name))) for name in (plain, signing))
            (signed_s, total_s), (signed_i, total_i) = counts["signed"][signing], counts["inbound"][signing]
            if signed_s != total_s or counts["inbound"][plain][0] or signed_i != signed_s:
                sys.exit("signed messages on %s: %d of %d after the trusted client's mail, %d of %d after the inbound "
                         "mail; on %s: %d" % (signing, signed_s, total_s, signed_i, total_i, plain,
                                              counts["inbound"][plain][0]))
        except SystemExit as failure:
            report = opendkim_report(hosts, signing)
            _hosts.log("%s (signing), OpenDKIM and milter messages of the run:" % signing)
            sys.stderr.write("".join("    %s\n" % line for line in report))
            with open(os.path.join(args.workdir, "results.json"), "w") as handle:
                json.dump({"machine": _hosts.machine(), "messages": args.messages, "sessions": args.sessions,
                           "failed": str(failure.code), "rounds": rounds,
                           "dkim_domains": {"plain": found.get(plain), "signing": found.get(signing)},
                           "opendkim": report}, handle, indent=1)
            raise
    finally:
        hosts.close()
    results = {"machine": _hosts.machine(), "messages": args.messages, "sessions": args.sessions, "phases": {}}
    print("\nSigning (%s): %d messages, 4 mailboxes, smtp-source 4 x %d sessions, best of %d rounds"
          % (_hosts.machine(), args.messages, args.sessions, args.rounds))
    print("| mail | host | DKIM-signed messages (all) | rounds (s) | best rate | signing / plain |")
    print("| --- | --- | ---: | --- | ---: | ---: |")
    for phase, sender_host, _sender in phases:
        rate = dict((name, args.messages // len(BOXES) * len(BOXES) / min(rounds[phase][name]))
                    for name in (plain, signing))
        ratio = rate[signing] / rate[plain]
        label = "trusted client, signed" if phase == "signed" else "outside client, inbound (verified)"
        for host, name in (("plain", plain), ("signing", signing)):
            print("| %s | %s | %d of %d | %s | %.0f msg/s | %s |" % (
                label, host, counts[phase][name][0], counts[phase][name][1],
                ", ".join("%.1f" % t for t in rounds[phase][name]), rate[name],
                "%.2fx (target >= %.1fx: %s)" % (ratio, TARGET, "met" if ratio >= TARGET else "NOT met")
                if name == signing else ""))
        results["phases"][phase] = {"client": sender_host, "rounds": rounds[phase], "rates": rate, "ratio": ratio,
                                    "signed": counts[phase]}
    results["dkim_domains"] = {"plain": found[plain], "signing": found[signing]}
    with open(os.path.join(args.workdir, "results.json"), "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
