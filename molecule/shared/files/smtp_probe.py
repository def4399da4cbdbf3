# Test helper of the molecule "relay" and "dovecot" scenarios (copied to a
# client host). Reads a JSON list of probes {id, server, sender, rcpt,
# subject, port (default 25), starttls (default false)} on stdin;
# for each, opens its own SMTP session, sends MAIL FROM and the RCPT TO
# command exactly as given (no quoting or rewriting by a library), and, only
# when the recipient is accepted and rcpt_only is not set, the message (so that a relay that gets
# through is also delivered, and can be found). Prints a JSON list of
# {id, server, rcpt, code, reply, accepted, data_code}.
import json
import smtplib
import ssl
import sys


def probe(case):
    result = {"id": case["id"], "server": case["server"], "rcpt": case["rcpt"],
              "code": None, "reply": "", "accepted": False, "data_code": None}
    smtp = smtplib.SMTP(case["server"], case.get("port", 25), local_hostname="bad.client.test", timeout=30)
    try:
        smtp.ehlo()
        if case.get("starttls"):
            # The test hosts' certificates are self-signed: not verified.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            smtp.starttls(context=context)
            smtp.ehlo()
        code, reply = smtp.docmd("MAIL FROM:<%s>" % case["sender"])
        if code != 250:
            result.update(code=code, reply="MAIL FROM: " + reply.decode("utf-8", "replace"))
            return result
        code, reply = smtp.docmd("RCPT TO:<%s>" % case["rcpt"])
        result.update(code=code, reply=reply.decode("utf-8", "replace"))
        if 200 <= code < 300:
            result["accepted"] = True
            if case.get("rcpt_only"):
                return result
            body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nopen relay probe %s\r\n"
                    % (case["sender"], case["rcpt"], case["subject"], case["id"]))
            code, _reply = smtp.docmd("DATA")
            if code == 354:
                smtp.send(body.replace("\r\n.", "\r\n..") + ".\r\n")
                code, _reply = smtp.getreply()
            result["data_code"] = code
    finally:
        try:
            smtp.quit()
        except smtplib.SMTPException:
            smtp.close()
    return result


def main():
    cases = json.load(sys.stdin)
    json.dump([probe(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
