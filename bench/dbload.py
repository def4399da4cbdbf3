#!/usr/bin/env python
"""Network tables: loading 100,000 addresses over 1,000 domains into each database, against its bulk tool.

Two bench hosts (containers of the test image with sshd, see _hosts.py):
``db`` with PostgreSQL, MariaDB and OpenLDAP set up by the collection's
vhosting.postfix.database_server role, and ``mx``, the mail host from which
vhosting.postfix.network_tables loads the rows (the action runs its modules
there, as the domains role does) and from which the bulk tools run over the
same network. For each backend:

* **first load**: one playbook with the network_tables task (phase all),
  100,000 rows of virtual_mailbox_map (``userNNN@dNNNN.bench.test``) into an
  empty scope;
* **one change**: the same rows with one value changed;
* **bulk**: the same 100,000 rows with the database's own tool into another
  scope of the same table: ``\\copy`` (psql, COPY FROM STDIN), ``LOAD DATA
  LOCAL INFILE`` (mysql) and ``ldapadd`` (LDAP, one LDIF).

The loader's figures are ansible-playbook's whole run (start-up included),
and "net": the same minus a run of the same playbook shape with one trivial
module (Ansible's own fixed cost, measured three times, the best kept); the
bulk tools' figures are the command's run on ``mx`` (timed there). Targets
(issue 24): first load <= 3x bulk, one change <= 0.05x first load. Run with
bench/dbload.sh; figures go to WORKDIR/results.json.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _hosts  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD_ADMIN = "bench-Loader-1"
PASSWORD_READER = "bench-Reader-2"
SUFFIX = "dc=bench,dc=test"
BACKENDS = ("pgsql", "mysql", "ldap")
CONNECTIONS = {
    "pgsql": {"port": 5432, "name": "vhosting_postfix", "user": "vhosting_postfix", "admin_user": "vhosting_admin"},
    "mysql": {"port": 3306, "name": "vhosting_postfix", "user": "vhosting_postfix", "admin_user": "vhosting_admin"},
    "ldap": {"port": 389, "name": "ou=postfix," + SUFFIX, "user": "cn=vhosting_postfix," + SUFFIX,
             "admin_user": "cn=admin," + SUFFIX},
}
LOAD_PLAY = """---
- name: Load the rows (vhosting.postfix.network_tables)
  hosts: mx
  gather_facts: false
  tasks:
    - name: Load
      vhosting.postfix.network_tables:
        backend: "{{ backend }}"
        connection: "{{ connection }}"
        login_password: "{{ password }}"
        reader_password: "{{ reader_password }}"
        tables: {virtual_mailbox_map: "{{ data }}"}
      register: loaded
    - name: Show the counts
      ansible.builtin.debug:
        msg: "LOADED {{ loaded.added }} {{ loaded.updated }} {{ loaded.removed }}"
"""
# The same run with one trivial module instead of the loader: Ansible's own cost (start-up, SSH, one module run),
# taken off the loader's figures for the "net" columns.
OVERHEAD_PLAY = """---
- name: One trivial module on the mail host
  hosts: mx
  gather_facts: false
  tasks:
    - name: Nothing
      ansible.builtin.command: "true"
      changed_when: false
"""
SETUP_PLAY = """---
- name: Database servers
  hosts: db
  gather_facts: true
  roles:
    - role: vhosting.postfix.database_server
      vars:
        vhosting_database_server__backends: [pgsql, mysql, ldap]
        vhosting_database_server__admin_password: %(admin)s
        vhosting_database_server__reader_password: %(reader)s
        vhosting_database_server__clients: ["%(mx)s"]
        vhosting_database_server__ldap_suffix: "%(suffix)s"
- name: The loader's drivers and the bulk tools
  hosts: mx
  gather_facts: false
  tasks:
    - name: Install them
      ansible.builtin.apt:
        name: [python3-psycopg2, python3-pymysql, python3-ldap, postgresql-client, mariadb-client, ldap-utils]
"""


def rows(count, domains, changed=False):
    per = count // domains
    lines = []
    for d in range(domains):
        for u in range(per):
            value = "d%04d.bench.test/user%03d/" % (d, u)
            if changed and d == 0 and u == 0:
                value = "d0000.bench.test/changed/"
            lines.append(("user%03d@d%04d.bench.test" % (u, d), value))
    return lines


def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)
    return path


def load(args, inventory, env, backend, data):
    connection = dict(CONNECTIONS[backend], host=args.db_address, table="vhosting_postfix_rows", scope="bench-mx",
                      load=True)
    extra = ["-e", json.dumps({"backend": backend, "connection": connection, "password": PASSWORD_ADMIN,
                               "reader_password": PASSWORD_READER, "data": data})]
    seconds, output, _recap = _hosts.run_playbook(inventory, env, extra, playbook=args.load_play)
    counts = [line for line in output.splitlines() if "LOADED" in line]
    return seconds, counts[-1].split("LOADED", 1)[1].strip().strip('"') if counts else "?"


def bulk(hosts, mx, backend, db, pairs):
    """Seconds of the bulk tool's run on mx for the rows (scope bench-bulk)."""
    if backend == "ldap":
        base = "ou=bench-bulk,ou=postfix," + SUFFIX
        parts = ["dn: %s\nobjectClass: organizationalUnit\nou: bench-bulk\n" % base,
                 "dn: ou=virtual_mailbox_map,%s\nobjectClass: organizationalUnit\nou: virtual_mailbox_map\n" % base]
        parts += ["dn: cn=%s,ou=virtual_mailbox_map,%s\nobjectClass: organizationalRole\ncn: %s\ndescription: %s\n"
                  % (k, base, k, v) for k, v in pairs]
        _hosts.sh(["podman", "exec", "-i", mx, "bash", "-c", "cat > /tmp/bulk.ldif"], data="\n".join(parts))
        command = ("ldapadd -x -H ldap://%s -D cn=admin,%s -w %s -f /tmp/bulk.ldif >/dev/null"
                   % (db, SUFFIX, PASSWORD_ADMIN))
    else:
        text = "".join("bench-bulk\tvirtual_mailbox_map\t%s\t%s\n" % (k, v) for k, v in pairs)
        _hosts.sh(["podman", "exec", "-i", mx, "bash", "-c", "cat > /tmp/bulk.tsv"], data=text)
        if backend == "pgsql":
            command = ("PGPASSWORD=%s psql -q -h %s -U vhosting_admin -d vhosting_postfix -c \"\\\\copy "
                       "vhosting_postfix_rows (scope, map_name, lookup_key, lookup_value) FROM '/tmp/bulk.tsv'\""
                       % (PASSWORD_ADMIN, db))
        else:
            command = ("mysql --local-infile=1 -h %s -u vhosting_admin -p%s vhosting_postfix -e \"LOAD DATA LOCAL "
                       "INFILE '/tmp/bulk.tsv' INTO TABLE vhosting_postfix_rows (scope, map_name, lookup_key, "
                       "lookup_value)\"" % (db, PASSWORD_ADMIN))
    script = "s=$(date +%%s.%%N); %s; e=$(date +%%s.%%N); echo \"$s $e\"" % command
    out = hosts.exec(mx, script).stdout.split()
    return float(out[-1]) - float(out[-2])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--workdir", default="/var/tmp/vhosting-bench/dbload")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    hosts = _hosts.Hosts("vh-bench-db", 2)
    db, mx = hosts.names
    results = {"machine": _hosts.machine(), "rows": args.rows, "domains": args.domains, "backends": {}}
    try:
        args.db_address = hosts.addresses[db]
        inventory = os.path.join(args.workdir, "hosts.json")
        hosts.inventory(inventory)
        with open(inventory) as handle:
            tree = json.load(handle)
        tree = {"all": {"hosts": tree["mail_servers"]["hosts"]}}
        tree["all"]["hosts"] = {"db": tree["all"]["hosts"][db], "mx": tree["all"]["hosts"][mx]}
        write(inventory, json.dumps(tree))
        env = _hosts.playbook_env(args.workdir)
        setup = write(os.path.join(args.workdir, "setup.yml"), SETUP_PLAY % {
            "admin": PASSWORD_ADMIN, "reader": PASSWORD_READER, "mx": hosts.addresses[mx], "suffix": SUFFIX})
        args.load_play = write(os.path.join(args.workdir, "load.yml"), LOAD_PLAY)
        _hosts.log("setting up PostgreSQL, MariaDB and OpenLDAP on %s" % db)
        _hosts.run_playbook(inventory, env, playbook=setup)
        overhead_play = write(os.path.join(args.workdir, "overhead.yml"), OVERHEAD_PLAY)
        overhead = min(_hosts.run_playbook(inventory, env, playbook=overhead_play)[0] for _run in range(3))
        results["overhead"] = overhead
        _hosts.log("Ansible's fixed cost (one trivial module): %.1f s" % overhead)
        pairs = rows(args.rows, args.domains)
        first = write(os.path.join(args.workdir, "rows.txt"), "".join("%s\t%s\n" % kv for kv in pairs))
        changed = write(os.path.join(args.workdir, "rows-changed.txt"),
                        "".join("%s\t%s\n" % kv for kv in rows(args.rows, args.domains, True)))
        for backend in args.backends.split(","):
            figures = {}
            _hosts.log("%s: first load of %d rows" % (backend, len(pairs)))
            figures["first"], figures["first_counts"] = load(args, inventory, env, backend, first)
            _hosts.log("%s: no change" % backend)
            figures["none"], figures["none_counts"] = load(args, inventory, env, backend, first)
            _hosts.log("%s: one changed row" % backend)
            figures["one"], figures["one_counts"] = load(args, inventory, env, backend, changed)
            _hosts.log("%s: bulk tool" % backend)
            figures["bulk"] = bulk(hosts, mx, backend, args.db_address, pairs)
            for name in ("first", "none", "one"):
                figures[name + "_net"] = max(figures[name] - overhead, 0.01)
            figures["first_over_bulk"] = figures["first"] / figures["bulk"]
            figures["one_over_first"] = figures["one"] / figures["first"]
            figures["net_first_over_bulk"] = figures["first_net"] / figures["bulk"]
            figures["net_one_over_first"] = figures["one_net"] / figures["first_net"]
            results["backends"][backend] = figures
            print("%-6s first %6.1f s (net %6.1f; %s)  no change %5.1f s (net %5.1f)  one change %5.1f s (net %5.1f; "
                  "%s)  bulk %6.1f s  first/bulk %5.2fx, net %5.2fx (<= 3x)  one/first %5.3fx, net %5.3fx "
                  "(<= 0.05x)" % (
                      backend, figures["first"], figures["first_net"], figures["first_counts"], figures["none"],
                      figures["none_net"], figures["one"], figures["one_net"], figures["one_counts"], figures["bulk"],
                      figures["first_over_bulk"], figures["net_first_over_bulk"], figures["one_over_first"],
                      figures["net_one_over_first"]))
            sys.stdout.flush()
    finally:
        write(os.path.join(args.workdir, "results.json"), json.dumps(results, indent=1))
        hosts.close()
    print("machine: %s" % results["machine"])


if __name__ == "__main__":
    main()
