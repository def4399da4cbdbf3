# Test helper of the molecule "mail_auth" scenario (copied to the hosts).
# Reads a JSON list of operations on stdin, prints a JSON list of results.
# Standard library, plus python3-dkim (the independent DKIM verifier) for
# "find". Certificates are not verified (self-signed test certificates).
#   {"op": "send", "server", "port", "helo", "sender", "rcpt", "data",
#    "starttls", "user", "password"}
#       -> {"stage": where it stopped, "code", "reply", "sent": bool}
#      data: the message (headers and body, "\n" line ends); user: AUTH first
#   {"op": "find", "maildir", "subject", "text", "alter": bool}
#      (a message matches when its Subject holds subject, or it holds text)
#       -> {"found": n, "messages": [{"file", "return_path", "from",
#           "authentication_results": [...], "dkim_selectors": [...],
#           "dkim_pass": bool (python3-dkim on the message as stored, without
#           the receiver's own headers), "altered_pass": bool or None}]}
#   {"op": "raw", "maildir", "subject"} -> {"data": the first message found}
import email
import email.policy
import glob
import json
import os
import smtplib
import ssl
import sys
import time


def _context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def send(case):
    result = {"stage": None, "code": None, "reply": "", "sent": False}

    def stop(stage, code, reply):
        result.update(stage=stage, code=code, reply=reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)
        return result

    smtp = smtplib.SMTP(case["server"], case.get("port", 25), local_hostname=case.get("helo", "client.test"), timeout=60)
    try:
        smtp.ehlo()
        if case.get("starttls"):
            smtp.starttls(context=_context())
            smtp.ehlo()
        if case.get("user"):
            try:
                smtp.login(case["user"], case["password"])
            except smtplib.SMTPAuthenticationError as exc:
                return stop("auth", exc.smtp_code, exc.smtp_error)
        code, reply = smtp.docmd("MAIL FROM:<%s>" % case["sender"])
        if code != 250:
            return stop("mail", code, reply)
        code, reply = smtp.docmd("RCPT TO:<%s>" % case["rcpt"])
        if code not in (250, 251):
            return stop("rcpt", code, reply)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            return stop("data", code, reply)
        lines = case["data"].replace("\r\n", "\n").split("\n")
        smtp.send("".join(("." + line if line.startswith(".") else line) + "\r\n" for line in lines) + ".\r\n")
        code, reply = smtp.getreply()
        result["sent"] = code == 250
        return stop("end", code, reply)
    finally:
        try:
            smtp.quit()
        except smtplib.SMTPException:
            smtp.close()


def _messages(maildir, subject, text=None):
    found = []
    for path in sorted(glob.glob(os.path.join(maildir, "new", "*")) + glob.glob(os.path.join(maildir, "cur", "*"))):
        with open(path, "rb") as handle:
            data = handle.read()
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        if subject in str(message.get("Subject", "")) or (text and text.encode() in data):
            found.append((path, data, message))
    return found


def _verify(data, attempts=1):
    """Whether python3-dkim verifies the message. A DNS answer lost under load (a timeout, SERVFAIL) fails a
    verification like a bad signature does, so a verification that should pass gets a few attempts; a bad
    signature fails every one of them."""
    import dkim  # python3-dkim: an implementation of its own, not OpenDKIM
    for attempt in range(attempts):
        try:
            if dkim.verify(data):
                return True
        except Exception:  # pylint: disable=broad-except
            pass
        if attempt + 1 < attempts:
            time.sleep(2)
    return False


def find(case):
    messages = []
    for path, data, message in _messages(case["maildir"], case.get("subject", "\0"), case.get("text")):
        selectors = []
        for header in message.get_all("DKIM-Signature") or []:
            tags = dict(part.strip().split("=", 1) for part in "".join(header.split()).split(";") if "=" in part)
            selectors.append("%s/%s" % (tags.get("d"), tags.get("s")))
        entry = {
            "file": path,
            "return_path": message.get("Return-Path"),
            "from": message.get("From"),
            "authentication_results": [" ".join(h.split()) for h in message.get_all("Authentication-Results") or []],
            "dkim_selectors": selectors,
            "dkim_pass": _verify(data, attempts=4),
            "altered_pass": None,
        }
        if case.get("alter"):
            # Changed "in transit": a line added to the body.
            entry["altered_pass"] = _verify(data.rstrip(b"\r\n") + b"\ntampered in transit\n")
        messages.append(entry)
    return {"found": len(messages), "messages": messages}


def raw(case):
    found = _messages(case["maildir"], case["subject"])
    return {"data": found[0][1].decode("utf-8", "replace") if found else None}


def main():
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append(globals()[case["op"]](case))
        except (OSError, smtplib.SMTPException) as exc:
            results.append({"error": "%s: %s" % (type(exc).__name__, exc)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
