# Test helper of the molecule "dbtables" scenario: while a domain moves from
# one mail host to another, asks every host once a second whether it takes a
# recipient of that domain (EHLO, MAIL FROM, RCPT TO, RSET, QUIT: no message
# is sent). Usage: rcpt_watch.py OUT STOP RCPT HOST...; runs until the file
# STOP exists (or 15 minutes), one JSON line per second in OUT:
# {"t": seconds since start, "codes": {host: RCPT code, or null when the
# host did not answer}}.
import json
import os
import smtplib
import sys
import time


def rcpt(host, address):
    try:
        smtp = smtplib.SMTP(host, 25, local_hostname="watch.client.test", timeout=5)
    except (OSError, smtplib.SMTPException):
        return None
    try:
        smtp.ehlo()
        code, _reply = smtp.docmd("MAIL FROM:<watch@example.org>")
        if code != 250:
            return code
        code, _reply = smtp.docmd("RCPT TO:<%s>" % address)
        smtp.docmd("RSET")
        return code
    except (OSError, smtplib.SMTPException):
        return None
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass


def main():
    out, stop, address, hosts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    start = time.monotonic()
    with open(out, "w") as handle:
        while not os.path.exists(stop) and time.monotonic() - start < 900:
            tick = time.monotonic()
            codes = dict((host, rcpt(host, address)) for host in hosts)
            handle.write(json.dumps({"t": round(tick - start, 1), "codes": codes}) + "\n")
            handle.flush()
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))


if __name__ == "__main__":
    main()
