# Test helper of the molecule "dovecot" scenario (copied to the client host).
# Reads a JSON list of probes on stdin and prints a JSON list of results, one
# per probe, in order. Standard library only. Certificates are not verified
# (the scenario's hosts use the role's self-signed test certificate).
#   {"op": "ehlo", "server", "port"}
#       -> {"plain": [EHLO keywords], "tls": [EHLO keywords after STARTTLS] or None}
#   {"op": "submit", "server", "port", "starttls", "user", "password",
#    "sender", "rcpt", "subject"}
#       -> {"stage": where it stopped, "code", "reply", "sent": bool}
#      (user null: no AUTH; each stage is one command and its reply)
#   {"op": "imap", "server", "user", "password", "subject"}
#       -> {"login": bool, "error", "found": number of messages with that Subject,
#           "message": the first one's header lines that matter}
import email
import imaplib
import json
import smtplib
import ssl
import sys


def _context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _keywords(smtp):
    return sorted(smtp.esmtp_features)


def ehlo(case):
    smtp = smtplib.SMTP(case["server"], case["port"], local_hostname="client.elsewhere.test", timeout=30)
    try:
        smtp.ehlo()
        result = {"plain": _keywords(smtp), "auth_plain": smtp.esmtp_features.get("auth", ""), "tls": None}
        if smtp.has_extn("starttls"):
            smtp.starttls(context=_context())
            smtp.ehlo()
            result["tls"] = _keywords(smtp)
            result["auth_tls"] = smtp.esmtp_features.get("auth", "")
        return result
    finally:
        smtp.close()


def submit(case):
    smtp = smtplib.SMTP(case["server"], case["port"], local_hostname="client.elsewhere.test", timeout=30)
    result = {"stage": None, "code": None, "reply": "", "sent": False}

    def stop(stage, code, reply):
        result.update(stage=stage, code=code, reply=reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)
        return result

    try:
        smtp.ehlo()
        if case.get("starttls"):
            code, reply = smtp.starttls(context=_context())
            if code != 220:
                return stop("starttls", code, reply)
            smtp.ehlo()
        if case.get("user") is not None:
            try:
                code, reply = smtp.login(case["user"], case["password"])
            except smtplib.SMTPAuthenticationError as exc:
                return stop("auth", exc.smtp_code, exc.smtp_error)
            except smtplib.SMTPNotSupportedError as exc:
                return stop("auth", 0, str(exc))
        code, reply = smtp.docmd("MAIL FROM:<%s>" % case["sender"])
        if code != 250:
            return stop("mail", code, reply)
        code, reply = smtp.docmd("RCPT TO:<%s>" % case["rcpt"])
        if code not in (250, 251):
            return stop("rcpt", code, reply)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            return stop("data", code, reply)
        body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nsubmission probe\r\n"
                % (case["sender"], case["rcpt"], case["subject"]))
        smtp.send(body + ".\r\n")
        code, reply = smtp.getreply()
        result["sent"] = code == 250
        return stop("end", code, reply)
    finally:
        try:
            smtp.quit()
        except smtplib.SMTPException:
            smtp.close()


def imap(case):
    result = {"login": False, "error": None, "found": 0, "message": None}
    client = imaplib.IMAP4_SSL(case["server"], 993, ssl_context=_context(), timeout=30)
    try:
        try:
            client.login(case["user"], case["password"])
        except imaplib.IMAP4.error as exc:
            result["error"] = str(exc)
            return result
        result["login"] = True
        client.select("INBOX", readonly=True)
        _typ, data = client.search(None, "HEADER", "Subject", case["subject"])
        numbers = data[0].split()
        result["found"] = len(numbers)
        if numbers:
            _typ, fetched = client.fetch(numbers[0], "(RFC822)")
            message = email.message_from_bytes(fetched[0][1])
            result["message"] = {"subject": message["Subject"], "delivered_to": message.get_all("Delivered-To"),
                                 "received": len(message.get_all("Received") or [])}
        client.logout()
        return result
    finally:
        try:
            client.shutdown()
        except OSError:
            pass


def main():
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append(globals()[case["op"]](case))
        except (OSError, smtplib.SMTPException, imaplib.IMAP4.error) as exc:
            results.append({"error": "%s: %s" % (type(exc).__name__, exc)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
