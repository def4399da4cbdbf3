"""Test helper of the molecule "dbtables" scenario (copied to the mail hosts).

Connect to the scenario's database server as Postfix's reader three ways and print one line each:

  tls        TLS, the server's certificate checked against the test CA and the host name (must work: a row count)
  plain      no TLS (the server must refuse)
  untrusted  TLS checked against the system's CAs only (the client must refuse the test CA's certificate)

Usage: db_tls.py BACKEND HOST CA_FILE; the reader's DN or name and password in VH_USER and VH_PASSWORD (never on
the command line). Each line: "<way> ok <detail>" or "<way> refused <error>".
"""
import os
import sys

BACKEND, HOST, CA = sys.argv[1:4]
USER, PASSWORD = os.environ["VH_USER"], os.environ["VH_PASSWORD"]
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"


def pgsql(way):
    import psycopg2
    ssl = {"tls": dict(sslmode="verify-full", sslrootcert=CA), "plain": dict(sslmode="disable"),
           "untrusted": dict(sslmode="verify-full", sslrootcert=SYSTEM_CA)}[way]
    with psycopg2.connect(host=HOST, dbname="vhosting_postfix", user=USER, password=PASSWORD, connect_timeout=10,
                          **ssl) as conn:
        cur = conn.cursor()
        cur.execute("SELECT COUNT(*) FROM vhosting_postfix_rows")
        count = cur.fetchone()[0]
        cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return "%s rows, ssl=%s" % (count, cur.fetchone()[0])


def mysql(way):
    import pymysql
    ssl = {"tls": dict(ssl={"ca": CA, "check_hostname": True}), "plain": dict(ssl_disabled=True),
           "untrusted": dict(ssl={"ca": SYSTEM_CA, "check_hostname": True})}[way]
    conn = pymysql.connect(host=HOST, user=USER, password=PASSWORD, database="vhosting_postfix", connect_timeout=10,
                           **ssl)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM vhosting_postfix_rows")
        count = cur.fetchone()[0]
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        return "%s rows, cipher=%s" % (count, cur.fetchone()[1] or "none")


def ldap_(way):
    import ldap
    conn = ldap.initialize("ldap://%s" % HOST)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    if way != "plain":
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, CA if way == "tls" else SYSTEM_CA)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.start_tls_s()
    conn.simple_bind_s(USER, PASSWORD)
    entries = conn.search_s("ou=postfix,dc=net,dc=test", ldap.SCOPE_SUBTREE, "(objectClass=organizationalRole)",
                            ["cn"])
    return "%d entries" % len(entries)


def main():
    connect = {"pgsql": pgsql, "mysql": mysql, "ldap": ldap_}[BACKEND]
    for way in ("tls", "plain", "untrusted"):
        try:
            print("%s ok %s" % (way, connect(way)))
        except Exception as exc:  # every refusal, whatever the driver calls it
            print("%s refused %s" % (way, " ".join(str(exc).split())[:300]))


if __name__ == "__main__":
    main()
