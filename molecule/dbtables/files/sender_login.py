# Test helper of the molecule "dbtables" scenario: which sender addresses an
# authenticated account may use on the submission service. Usage:
# sender_login.py SERVER USER PASSWORD RCPT SENDER...; for each sender a new
# session (EHLO, STARTTLS, AUTH PLAIN, MAIL FROM, RCPT TO, RSET, QUIT: no
# message is sent) and prints {sender: [RCPT code, reply]} as JSON. The
# scenario's certificate is self-signed: not checked here (test only).
import json
import smtplib
import ssl
import sys


def probe(server, user, password, rcpt, sender):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    smtp = smtplib.SMTP(server, 587, local_hostname="submit.client.test", timeout=20)
    try:
        smtp.ehlo()
        smtp.starttls(context=context)
        smtp.ehlo()
        smtp.login(user, password)
        code, reply = smtp.docmd("MAIL FROM:<%s>" % sender)
        if code == 250:
            code, reply = smtp.docmd("RCPT TO:<%s>" % rcpt)
        smtp.docmd("RSET")
        return [code, reply.decode("utf-8", "replace")]
    finally:
        smtp.quit()


def main():
    server, user, password, rcpt = sys.argv[1:5]
    print(json.dumps(dict((sender, probe(server, user, password, rcpt, sender)) for sender in sys.argv[5:])))


if __name__ == "__main__":
    main()
