# -*- coding: utf-8 -*-
"""The autoreply program's decision rules, one by one, and a whole run with a stand-in sendmail."""
import datetime
import email
import email.policy
import importlib.util
import json
import os
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_SPEC = importlib.util.spec_from_file_location(
    "vhosting_autoreply", os.path.join(ROOT, "roles", "domains", "files", "vhosting_autoreply.py"))
ar = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ar)

SETTINGS = {"subject": "Away", "body": "Back on Monday.\n", "days": 7, "from": None, "until": None,
            "addresses": ["alice@box.test", "sales@box.test"]}
TODAY = datetime.date(2026, 12, 1)


def message(headers="", to="alice@box.test"):
    text = "From: bob@far.test\nTo: %s\nSubject: Hello\nMessage-ID: <m1@far.test>\n%s\nbody\n" % (to, headers)
    return email.message_from_string(text, policy=email.policy.compat32)


def reason(sender="bob@far.test", msg=None, settings=None, today=TODAY):
    return ar.reason_not_to_reply(sender, msg if msg is not None else message(), settings or SETTINGS, today, "+")


def test_an_ordinary_message_gets_a_reply():
    assert reason() is None


@pytest.mark.parametrize("sender", ["", "<>", "MAILER-DAEMON", "mailer-daemon"])
def test_no_reply_to_an_empty_or_mailer_daemon_sender(sender):
    assert reason(sender).startswith("the envelope sender is empty")


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@far.test", "owner-news@far.test", "news-request@far.test",
                                    "noreply@far.test", "no-reply@far.test", "do-not-reply@far.test",
                                    "donotreply@far.test", "listserv@far.test", "majordomo@far.test",
                                    "news+bounces-3-bob=far.test@far.test", "news-bounces@far.test"])
def test_no_reply_to_robot_senders(sender):
    assert "mailer daemon, list or no-reply" in reason(sender)


@pytest.mark.parametrize("sender", ["not an address", "bob", "-oQ/tmp@far.test", "bob@far"])
def test_no_reply_to_an_unusable_sender(sender):
    assert reason(sender) is not None


def test_no_reply_to_the_mailbox_itself():
    assert reason("Alice+x@box.test") == "the sender is the mailbox itself"


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated", "auto-notified; owner-email=x@y", "Auto-Replied"])
def test_no_reply_to_auto_submitted_other_than_no(value):
    assert reason(msg=message("Auto-Submitted: %s\n" % value)).startswith("Auto-Submitted: auto-")


def test_auto_submitted_no_is_a_human():
    assert reason(msg=message("Auto-Submitted: no\n")) is None


@pytest.mark.parametrize("value", ["bulk", "list", "junk", "BULK"])
def test_no_reply_to_precedence_bulk_list_junk(value):
    assert reason(msg=message("Precedence: %s\n" % value)) == "Precedence: %s" % value.lower()


def test_precedence_first_class_gets_a_reply():
    assert reason(msg=message("Precedence: first-class\n")) is None


@pytest.mark.parametrize("header", ["List-Id: <news.far.test>", "List-Unsubscribe: <mailto:x@y>", "List-Post: NO",
                                    "list-help: <mailto:x@y>"])
def test_no_reply_to_any_list_header(header):
    assert reason(msg=message(header + "\n")).startswith("a mailing list message")


@pytest.mark.parametrize("to, expected", [
    ("someone@else.test", "neither"),
    ("Alice <ALICE@box.test>", None),
    ("alice+tag@box.test", None),
    ("sales@box.test", None),
    ("list@far.test", "neither"),
])
def test_the_mailbox_must_be_in_to_or_cc(to, expected):
    got = reason(msg=message(to=to))
    assert (got is None) if expected is None else (expected in got)


def test_cc_counts_as_well():
    assert reason(msg=message("Cc: x@y.test, alice@box.test\n", to="other@far.test")) is None


def test_the_date_window():
    window = dict(SETTINGS, **{"from": "2026-12-02", "until": "2026-12-24"})
    assert reason(settings=window) == "the autoreply starts on 2026-12-02"
    assert reason(settings=window, today=datetime.date(2026, 12, 2)) is None
    assert reason(settings=window, today=datetime.date(2026, 12, 24)) is None
    assert reason(settings=window, today=datetime.date(2026, 12, 25)) == "the autoreply ended on 2026-12-24"


def test_one_reply_per_sender_per_days():
    day = 86400
    assert ar.due({}, "bob@far.test", 1000.0, 7)
    assert not ar.due({"bob@far.test": 1000.0}, "BOB@far.test", 1000.0 + 7 * day - 1, 7)
    assert ar.due({"bob@far.test": 1000.0}, "bob@far.test", 1000.0 + 7 * day, 7)
    assert ar.due({"bob@far.test": 1000.0}, "carol@far.test", 1001.0, 7)
    assert ar.prune({"old@x": 0.0, "new@x": 100.0}, 7 * day + 50, 7) == {"new@x": 100.0}


def test_the_reply_headers():
    original = message("References: <r0@far.test>\n")
    reply = ar.build_reply(original, "alice@box.test", "bob@far.test", SETTINGS, 1_700_000_000)
    assert reply["From"] == "alice@box.test" and reply["To"] == "bob@far.test" and reply["Subject"] == "Away"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == "<m1@far.test>" and reply["References"] == "<r0@far.test> <m1@far.test>"
    assert reply["Message-ID"].endswith("@box.test>")
    assert reply.get_content() == "Back on Monday.\n"


def test_the_reply_without_a_subject_setting_and_with_a_hostile_message_id():
    original = message().__class__()
    original["Message-ID"] = "<ok@far.test>\nBcc: victim@x"
    original["Subject"] = "Hi\n there"
    reply = ar.build_reply(original, "alice@box.test", "bob@far.test", dict(SETTINGS, subject=None), 0)
    assert reply["Subject"] == "Auto: Hi there" and reply["In-Reply-To"] == "<ok@far.test>"
    assert "Bcc" not in reply


@pytest.mark.parametrize("mailbox, found", [
    ("alice@box.test", "alice@box.test"),
    ("ALICE@box.test", "alice@box.test"),
    ("alice@box.test+tag", "alice@box.test"),
    ("alice+tag@box.test", "alice@box.test"),
    ("zoe@box.test", None),
])
def test_the_pipes_mailbox_argument_names_the_settings(mailbox, found):
    config = {"recipient_delimiter": "+", "addresses": {"alice@box.test": SETTINGS}}
    assert ar.find_settings(config, mailbox)[0] == found


# ------------------------------------------------------------ a whole run

@pytest.fixture
def setup(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    config = tmp_path / "autoreply.json"
    config.write_text(json.dumps({"version": 1, "domain": "autoreply.example.test", "recipient_delimiter": "+",
                                  "state_dir": str(state), "addresses": {"alice@box.test": SETTINGS}}))
    return tmp_path


class Postfix(object):
    """Stands in for the local Postfix's SMTP server: records each reply, or fails as told."""

    def __init__(self):
        self.sent = []
        self.fail = None
        self.lock = threading.Lock()

    def __call__(self, reply, sender, config):
        if self.fail:
            raise self.fail
        with self.lock:
            self.sent.append((sender, reply))


class Stdin(object):
    def __init__(self, data):
        self.data = data
        self.read_all = False

    def read(self):
        self.read_all = True
        return self.data


def run(setup, postfix, sender="bob@far.test", mailbox="alice@box.test", headers="", now=1_700_000_000.0):
    stdin = Stdin(("From: bob@far.test\nTo: alice@box.test\nSubject: Hi\nMessage-ID: <m@far.test>\n%s\nx\n"
                   % headers).encode())
    code = ar.main([sender, mailbox], stdin=stdin, config_path=str(setup / "autoreply.json"), submit=postfix,
                   now=now, today=TODAY)
    assert stdin.read_all
    return code


def test_one_reply_then_none_within_days(setup):
    postfix = Postfix()
    assert run(setup, postfix) == ar.EX_OK
    (sender, reply), = postfix.sent
    assert sender == "bob@far.test" and reply["Auto-Submitted"] == "auto-replied"
    assert run(setup, postfix, now=1_700_000_000.0 + 3600) == ar.EX_OK
    assert len(postfix.sent) == 1
    assert run(setup, postfix, now=1_700_000_000.0 + 8 * 86400) == ar.EX_OK
    assert len(postfix.sent) == 2


def test_suppressed_messages_exit_0_without_a_reply(setup):
    postfix = Postfix()
    assert run(setup, postfix, headers="Precedence: bulk\n") == ar.EX_OK
    assert run(setup, postfix, sender="MAILER-DAEMON") == ar.EX_OK
    assert run(setup, postfix, mailbox="nosuch@box.test") == ar.EX_OK
    assert postfix.sent == []


def test_unreadable_settings_or_a_deferring_postfix_defer_and_record_nothing(setup):
    postfix = Postfix()
    good = (setup / "autoreply.json").read_text()
    (setup / "autoreply.json").write_text("{")
    assert run(setup, postfix) == ar.EX_TEMPFAIL and postfix.sent == []
    (setup / "autoreply.json").write_text(good)
    postfix.fail = ar.Undecidable("451 try later")
    assert run(setup, postfix) == ar.EX_TEMPFAIL
    postfix.fail = None
    assert run(setup, postfix) == ar.EX_OK  # nothing was recorded: the retry replies
    assert len(postfix.sent) == 1


def test_a_reply_postfix_refuses_for_good_is_not_retried(setup):
    postfix = Postfix()
    postfix.fail = ar.Refused("550 no such user")
    assert run(setup, postfix) == ar.EX_OK
    postfix.fail = None
    assert run(setup, postfix, now=1_700_000_000.0 + 60) == ar.EX_OK
    assert postfix.sent == []


def test_an_unwritable_state_directory_defers(setup):
    os.rename(str(setup / "state"), str(setup / "gone"))
    assert run(setup, Postfix()) == ar.EX_TEMPFAIL


def test_usage():
    assert ar.main(["only-one"], stdin=Stdin(b"")) == ar.EX_USAGE


def test_concurrent_deliveries_reply_once(setup):
    postfix = Postfix()
    codes = []
    threads = [threading.Thread(target=lambda: codes.append(run(setup, postfix))) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [ar.EX_OK] * 8 and len(postfix.sent) == 1


class FakeSMTP(object):
    """smtplib.SMTP as the local Postfix answers it."""
    calls = []
    answers = []  # what the server answers to the message (raised), if anything

    def __init__(self, host, port, timeout):
        self.calls.append(("connect", host, port, timeout))

    def sendmail(self, from_addr, to_addrs, data):
        self.calls.append(("sendmail", from_addr, to_addrs, data))
        for answer in self.answers:
            raise answer

    def quit(self):
        self.calls.append(("quit",))


@pytest.fixture
def smtp(monkeypatch):
    FakeSMTP.calls, FakeSMTP.answers = [], []
    monkeypatch.setattr(ar.smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def test_the_reply_goes_to_the_local_postfix_with_the_null_sender(smtp):
    reply = ar.build_reply(message(), "alice@box.test", "bob@far.test", SETTINGS, 0)
    ar.smtp_submit(reply, "bob@far.test", {})
    assert smtp.calls[0] == ("connect", "127.0.0.1", 25, ar.SMTP_TIMEOUT)
    assert smtp.calls[1][:3] == ("sendmail", "", ["bob@far.test"]) and smtp.calls[2] == ("quit",)
    assert b"Auto-Submitted: auto-replied" in smtp.calls[1][3]


@pytest.mark.parametrize("answer, raised", [
    (ar.smtplib.SMTPRecipientsRefused({"bob@far.test": (554, b"Relay access denied")}), ar.Refused),
    (ar.smtplib.SMTPRecipientsRefused({"bob@far.test": (450, b"try later")}), ar.Undecidable),
    (ar.smtplib.SMTPDataError(552, b"too big"), ar.Refused),
    (ar.smtplib.SMTPSenderRefused(451, b"later", ""), ar.Undecidable),
    (ar.smtplib.SMTPServerDisconnected("gone"), ar.Undecidable),
    (ConnectionRefusedError(111, "refused"), ar.Undecidable),
])
def test_postfix_answers_map_to_refused_or_undecidable(smtp, answer, raised):
    smtp.answers = [answer]
    with pytest.raises(raised):
        ar.smtp_submit(ar.build_reply(message(), "alice@box.test", "bob@far.test", SETTINGS, 0), "bob@far.test", {})
