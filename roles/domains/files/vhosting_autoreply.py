# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vhosting-autoreply: the autoreply program of the vhosting.postfix collection.

Postfix's pipe(8) runs it (master.cf service ``vhosting_autoreply``, as an
unprivileged user without a shell, with the host's python3 in isolated mode)
for each autoreply copy of a message::

    /usr/bin/python3 -I vhosting-autoreply SENDER MAILBOX      # argv=... ${sender} ${mailbox}

with the message on standard input. SENDER is the envelope sender
(``MAILER-DAEMON`` for the null sender), MAILBOX the local part of the copy's
address ``alice@example.org@autoreply.example.net``, i.e. the mailbox
``alice@example.org`` (``alice@example.org+tag`` with an extension). The
settings come from /etc/vhosting-postfix/autoreply.json, written by the
domains role.

It follows RFC 3834 and the safety rules of Sieve vacation (RFC 5230): no
reply to an empty or MAILER-DAEMON sender, to owner-*, *-request, noreply
and other robot senders, to a message with Auto-Submitted other than "no",
Precedence bulk/list/junk or any List-* header, or when the mailbox is in
neither To: nor Cc:; at most one reply per sender per ``days`` (a state
file per mailbox, locked, so concurrent deliveries agree). The reply has
Auto-Submitted: auto-replied, In-Reply-To and References, and goes out with
the null envelope sender, so that nothing can bounce or reply to it. It is
handed to the local Postfix over SMTP (127.0.0.1:25, as mlmmj does), not
through sendmail(1): postdrop's setgid bit does not work for a delivery agent
started under systemd's NoNewPrivileges (Debian 13's postfix unit in a
container).

Exit status: 0 after replying and after deciding not to (no bounce), also
when Postfix refuses the reply for good; 75 (EX_TEMPFAIL) only when it could
not decide or send (settings or state unreadable, Postfix not answering or
answering 4xx), so that Postfix retries. The mailbox's own copy of the
message is another recipient: it is delivered in every case.

Standard library only: it runs with the host's python3.
"""
from __future__ import absolute_import, division, print_function

import datetime
import email
import email.message
import email.policy
import email.utils
import fcntl
import json
import os
import re
import smtplib
import socket
import sys
import time
import unicodedata

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is no target
    from urllib import quote

EX_OK = 0
EX_USAGE = 64
EX_TEMPFAIL = 75
CONFIG = "/etc/vhosting-postfix/autoreply.json"
SMTP_TIMEOUT = 60

# Local parts of senders that must never get an automatic reply (RFC 5230
# section 4.6 and RFC 3834 section 2): mailer daemons, list software and
# their request/owner addresses, and addresses that say they read nothing.
_ROBOT = re.compile(r"^(?:mailer-daemon|listserv|majordomo|owner-.*|.*-request|no-?reply|no_reply|do-?not-?reply"
                    r"|.*[+-]bounces?(?:[+-].*)?)$", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_ADDRESS = re.compile(r"^[^\s<>()@,;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$")


class Undecidable(Exception):
    """Something the program needs is missing: tell Postfix to try again later."""


# ----------------------------------------------------------------- the rules

def _local(address):
    return address.rpartition("@")[0]


def strip_extension(address, delimiter):
    """alice+tag@example.org -> alice@example.org (first delimiter character in the local part)."""
    local, at, domain = address.rpartition("@")
    if not at or not delimiter:
        return address
    positions = [local.find(d) for d in delimiter if local.find(d) > 0]
    return "%s@%s" % (local[:min(positions)], domain) if positions else address


def header_addresses(message, names=("To", "Cc"), delimiter="+"):
    """The addresses of the given headers, lower case, extensions removed."""
    values = []
    for name in names:
        values.extend(str(v) for v in message.get_all(name, []))
    found = set()
    for _name, address in email.utils.getaddresses(values):
        if "@" in address:
            found.add(strip_extension(address.strip().lower(), delimiter))
    return found


def reason_not_to_reply(sender, message, settings, today, delimiter="+"):
    """Why this message gets no reply (a text), or None when it may get one.

    ``sender`` is the envelope sender, ``settings`` the mailbox's settings
    ({subject, body, days, from, until, addresses}), ``today`` a date.
    Each rule is one test; the order only decides which reason is named.
    """
    sender = (sender or "").strip()
    if sender in ("", "<>") or sender.lower() == "mailer-daemon":
        return "the envelope sender is empty (a bounce or another automatic message)"
    if not _ADDRESS.match(sender) or sender.startswith("-"):
        return "the envelope sender %r is not a usable address" % sender
    if _ROBOT.match(_local(sender)):
        return "the sender %s is a mailer daemon, list or no-reply address" % sender
    addresses = set(a.lower() for a in settings["addresses"])
    if strip_extension(sender.lower(), delimiter) in addresses:
        return "the sender is the mailbox itself"
    auto = str(message.get("Auto-Submitted", "no")).split(";", 1)[0].strip().lower()
    if auto != "no":
        return "Auto-Submitted: %s" % auto
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return "Precedence: %s" % precedence
    lists = sorted(set(k for k in message.keys() if k.lower().startswith("list-")))
    if lists:
        return "a mailing list message (%s)" % ", ".join(lists)
    if not header_addresses(message, delimiter=delimiter) & addresses:
        return "the mailbox is in neither To: nor Cc: (Bcc, a list or an alias it does not know)"
    start, end = settings.get("from"), settings.get("until")
    if start and today < datetime.date(*map(int, start.split("-"))):
        return "the autoreply starts on %s" % start
    if end and today > datetime.date(*map(int, end.split("-"))):
        return "the autoreply ended on %s" % end
    return None


def due(replied, sender, now, days):
    """True when ``sender`` got no reply in the last ``days`` days (``replied``: sender -> epoch seconds)."""
    last = replied.get(sender.lower())
    return last is None or now - last >= days * 86400 or now < last


def prune(replied, now, days):
    """The state without the senders whose period is over (bounded size)."""
    return dict((s, t) for s, t in replied.items() if 0 <= now - t < days * 86400)


def one_line(text):
    """``text`` as one header line: control characters and Unicode line and paragraph separators (which the email
    package reads as line ends, and refuses in a header) become spaces, runs of white space one space."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return " ".join(cleaned.split())


def build_reply(message, address, sender, settings, now):
    """The reply (an EmailMessage) to ``message`` from ``address`` to the envelope ``sender``."""
    reply = email.message.EmailMessage(policy=email.policy.default)
    reply["From"] = address
    reply["To"] = sender
    subject = one_line(settings.get("subject") or "")
    if not subject:
        original = one_line(str(message.get("Subject", "")))
        subject = "Auto: %s" % original if original else "Automatic reply"
    reply["Subject"] = subject
    reply["Date"] = email.utils.formatdate(now, localtime=True)
    reply["Message-ID"] = email.utils.make_msgid(domain=address.rpartition("@")[2])
    reply["Auto-Submitted"] = "auto-replied"
    # Outlook/Exchange honour this one rather than Auto-Submitted.
    reply["X-Auto-Response-Suppress"] = "All"
    original_id = _MESSAGE_ID.findall(str(message.get("Message-ID", "")))[:1]
    if original_id:
        reply["In-Reply-To"] = original_id[0]
        references = _MESSAGE_ID.findall(str(message.get("References", "")))[-20:]
        if not references:
            references = _MESSAGE_ID.findall(str(message.get("In-Reply-To", "")))[:1]
        reply["References"] = " ".join(references + original_id)
    reply.set_content(settings["body"])
    return reply


def find_settings(config, mailbox):
    """(address, settings) of the pipe's MAILBOX argument, or (None, None) for an address without an autoreply."""
    addresses = config.get("addresses") or {}
    delimiter = config.get("recipient_delimiter") or ""
    mailbox = (mailbox or "").strip().lower()
    candidates = [mailbox, strip_extension(mailbox, delimiter)]
    # Postfix appends an unmatched extension after the last @ of the copy: alice@example.org+tag.
    local, at, domain = mailbox.rpartition("@")
    for char in delimiter:
        if at and char in domain and char != "-":
            candidates.append("%s@%s" % (local, domain.split(char, 1)[0]))
    for candidate in candidates:
        if candidate in addresses:
            return candidate, addresses[candidate]
    return None, None


# ----------------------------------------------------------------- the state

def state_path(state_dir, address):
    return os.path.join(state_dir, quote(address, safe="@._+=-") + ".json")


class State(object):
    """The senders a mailbox replied to, under an exclusive lock (concurrent deliveries wait their turn)."""

    def __init__(self, state_dir, address):
        self.path = state_path(state_dir, address)
        self.lock = None
        self.replied = {}

    def __enter__(self):
        try:
            self.lock = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        except OSError as exc:
            raise Undecidable("cannot lock %s.lock: %s" % (self.path, exc))
        try:
            with open(self.path, "r") as handle:
                data = json.load(handle)
            self.replied = dict((str(k), float(v)) for k, v in data.get("replied", {}).items())
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) != 2:
                raise Undecidable("cannot read %s: %s" % (self.path, exc))
        except (ValueError, AttributeError, TypeError):
            self.replied = {}  # a damaged state: start again (at worst one reply more)
        return self

    def save(self, replied):
        tmp = "%s.%d.tmp" % (self.path, os.getpid())
        try:
            with open(tmp, "w") as handle:
                json.dump({"replied": replied}, handle, sort_keys=True)
            os.rename(tmp, self.path)
        except (IOError, OSError) as exc:
            raise Undecidable("cannot write %s: %s" % (self.path, exc))

    def __exit__(self, *exc):
        if self.lock is not None:
            os.close(self.lock)


# ------------------------------------------------------------------ the run

def load_config(path):
    try:
        with open(path, "r") as handle:
            config = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        raise Undecidable("cannot read the settings %s: %s" % (path, exc))
    if not isinstance(config, dict) or config.get("version") != 1 or not isinstance(config.get("addresses"), dict):
        raise Undecidable("%s is not a version 1 autoreply settings file" % path)
    return config


class Refused(Exception):
    """Postfix refused the reply for good (5xx): retrying cannot help."""


def smtp_submit(reply, sender, config):
    """Hand the reply to the local Postfix with the null envelope sender (MAIL FROM:<>): it can never bounce back."""
    host, port = config.get("smtp_host") or "127.0.0.1", int(config.get("smtp_port") or 25)
    try:
        client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        try:
            client.sendmail("", [sender], reply.as_bytes())
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, socket.error):
                pass
    except smtplib.SMTPRecipientsRefused as exc:
        code = list(exc.recipients.values())[0][0]
        if 500 <= code < 600:
            raise Refused("Postfix refused the reply to %s: %s" % (sender, exc.recipients))
        raise Undecidable("Postfix deferred the reply to %s: %s" % (sender, exc.recipients))
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise Refused("Postfix refused the reply to %s: %d %s" % (sender, exc.smtp_code, exc.smtp_error))
        raise Undecidable("Postfix deferred the reply to %s: %d %s" % (sender, exc.smtp_code, exc.smtp_error))
    except (smtplib.SMTPException, socket.error) as exc:
        raise Undecidable("cannot hand the reply to Postfix at %s:%d: %s" % (host, port, exc))


def log(text):
    try:
        import syslog  # pylint: disable=import-outside-toplevel

        syslog.openlog("vhosting-autoreply", 0, syslog.LOG_MAIL)
        syslog.syslog(syslog.LOG_INFO, text)
    except Exception:  # pylint: disable=broad-except
        pass


def handle(config, sender, mailbox, message, now, today, submit):
    """Decide for one recipient and reply when due; returns what happened (for the log)."""
    address, settings = find_settings(config, mailbox)
    if address is None:
        return "%s: no autoreply (any more)" % mailbox
    reason = reason_not_to_reply(sender, message, settings, today, config.get("recipient_delimiter") or "")
    if reason:
        return "%s: no reply to %s: %s" % (address, sender, reason)
    days = int(settings.get("days") or 7)
    with State(config.get("state_dir") or "/var/lib/vhosting-autoreply", address) as state:
        if not due(state.replied, sender, now, days):
            return "%s: no reply to %s: already replied within %d days" % (address, sender, days)
        try:
            submit(build_reply(message, address, sender, settings, now), sender, config)
            outcome = "%s: replied to %s" % (address, sender)
        except Refused as exc:
            outcome = "%s: no reply to %s: %s" % (address, sender, exc)
        # Recorded either way: a refused reply is not tried again within the period either.
        replied = prune(state.replied, now, days)
        replied[sender.lower()] = now
        state.save(replied)
    return outcome


def main(argv=None, stdin=None, config_path=CONFIG, submit=smtp_submit, now=None, today=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        sys.stderr.write("usage: vhosting-autoreply SENDER MAILBOX...\n")
        return EX_USAGE
    data = (stdin or sys.stdin.buffer).read()  # all of it: pipe(8) expects the message to be read
    now = time.time() if now is None else now
    today = datetime.date.today() if today is None else today
    try:
        config = load_config(config_path)
    except Undecidable as exc:
        log("deferred: %s" % exc)
        sys.stderr.write("%s\n" % exc)
        return EX_TEMPFAIL
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:  # pylint: disable=broad-except
        message = email.message.Message()
    status = EX_OK
    sender = argv[0]
    for mailbox in argv[1:]:
        try:
            log(handle(config, sender, mailbox, message, now, today, submit))
        except Undecidable as exc:
            log("deferred: %s: %s" % (mailbox, exc))
            sys.stderr.write("%s\n" % exc)
            status = EX_TEMPFAIL
    return status


if __name__ == "__main__":
    sys.exit(main())
