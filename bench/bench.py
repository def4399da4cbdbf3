#!/usr/bin/env python
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of vhosting.postfix.lookup_table against raw postmap and the usual approaches.

Runs every case as a user would: one `ansible-playbook` run per step, local
connection, on the machine it runs on (which needs postmap; bench/run.sh
provides a disposable container). Prints a table of wall-clock seconds and
the ratios of the targets. Not a test: it prints figures.

Usage: bench.py [--sizes 10000,100000,1000000] [--timeout 600] [--workdir DIR]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def entries(n, changed=False):
    """n virtual-alias entries as key/value lines; `changed` alters the value of one key."""
    for i in range(1, n + 1):
        value = "mailbox%d@hosting.example" % i
        if changed and i == n // 2:
            value = "moved%d@elsewhere.example" % i
        yield "user%d@d%d.example" % (i, i % 1000), value


def write_data(path, n, changed=False):
    with open(path, "w") as handle:
        handle.writelines("%s\t%s\n" % kv for kv in entries(n, changed))


def write_vars(path, n, changed=False):
    with open(path, "w") as handle:
        json.dump({"bench_entries": dict(entries(n, changed))}, handle)


PLAY = """- name: Bench
  hosts: localhost
  connection: local
  gather_facts: false
{vars_files}  tasks:
{tasks}
  handlers:
    - name: Postmap the table
      ansible.builtin.command: postmap lmdb:{work}/template-table
      changed_when: true
"""

TASKS = {
    "empty": "    - name: Nothing\n      ansible.builtin.meta: noop\n",
    "vars": "    - name: Use the variable once\n      ansible.builtin.debug:\n        msg: \"{{ bench_entries | length }}\"\n",
    "module_src": ("    - name: Table from a data file\n      vhosting.postfix.lookup_table:\n"
                   "        path: {work}/module-src-table\n        type: lmdb\n        src: {data}\n        format: postmap\n"),
    "module_inline": ("    - name: Table from inline entries\n      vhosting.postfix.lookup_table:\n"
                      "        path: {work}/module-inline-table\n        type: lmdb\n        entries: \"{{{{ bench_entries }}}}\"\n"),
    "template": ("    - name: Table from a template\n      ansible.builtin.template:\n"
                 "        src: {here}/table.j2\n        dest: {work}/template-table\n        mode: '0644'\n"
                 "      notify: Postmap the table\n"),
    "lineinfile": ("    - name: One line per entry\n      ansible.builtin.lineinfile:\n"
                   "        path: {work}/lineinfile-table\n        regexp: \"^{{{{ item.key | regex_escape }}}}\\\\s\"\n"
                   "        line: \"{{{{ item.key }}}}\\t{{{{ item.value }}}}\"\n        create: true\n        mode: '0644'\n"
                   "      loop: \"{{{{ bench_entries | dict2items }}}}\"\n      notify: Postmap the lineinfile table\n"),
}
LINEINFILE_HANDLER = ("    - name: Postmap the lineinfile table\n      ansible.builtin.command: postmap lmdb:{work}/lineinfile-table\n"
                      "      changed_when: true\n")


def playbook(work, kind, vars_file=None, data=None):
    tasks = TASKS[kind].format(work=work, data=data, here=HERE)
    vars_files = "  vars_files:\n    - %s\n" % vars_file if vars_file else ""
    text = PLAY.format(vars_files=vars_files, tasks=tasks, work=work)
    if kind == "lineinfile":
        text += LINEINFILE_HANDLER.format(work=work)
    path = os.path.join(work, "play-%s.yml" % kind)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def timed(cmd, timeout, env=None):
    start = time.monotonic()
    # A session of its own: on timeout the whole process group (ansible's workers) is killed.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            universal_newlines=True, start_new_session=True)
    try:
        out = proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, "stopped after %ds" % timeout
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), out[-4000:]))
    return elapsed, out


def play(path, timeout):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    return timed(["ansible-playbook", "-i", "localhost,", path], timeout, env)


def changed_in(output):
    for line in output.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--timeout", type=int, default=600, help="seconds before a run is stopped (default 600)")
    parser.add_argument("--lineinfile-timeout", type=int, default=240)
    parser.add_argument("--inline-max", type=int, default=1000000, help="largest N for inline entries")
    parser.add_argument("--workdir", default="/var/tmp/vhosting-bench")
    parser.add_argument("--cases", default="raw,vars,src,inline,template,lineinfile",
                        help="groups of cases to run (default: all)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cases = set(args.cases.split(","))
    if not shutil.which("postmap"):
        sys.exit("postmap not found: run bench/run.sh (a disposable container) or install postfix postfix-lmdb")
    results = {}
    lineinfile_stopped = None
    print("postfix %s, python %s, %s" % (subprocess.run(["postconf", "-h", "mail_version"], stdout=subprocess.PIPE,
                                                        universal_newlines=True, check=False).stdout.strip(),
                                         sys.version.split()[0], time.strftime("%Y-%m-%d %H:%M")))
    for n in sizes:
        work = os.path.join(args.workdir, str(n))
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        data, data2 = os.path.join(work, "data.txt"), os.path.join(work, "data-changed.txt")
        vars1, vars2 = os.path.join(work, "vars.json"), os.path.join(work, "vars-changed.json")
        write_data(data, n)
        write_data(data2, n, changed=True)
        write_vars(vars1, n)
        write_vars(vars2, n, changed=True)
        row = results[n] = {}

        def record(name, elapsed, out=None):
            row[name] = elapsed
            shown = "%.2fs" % elapsed if elapsed is not None else out
            extra = "" if out is None or elapsed is None else "  (changed=%s)" % changed_in(out)
            print("  N=%-8d %-34s %s%s" % (n, name, shown, extra), flush=True)

        raw = os.path.join(work, "raw")
        shutil.copy(data, raw)
        record("ansible-playbook empty play", *play(playbook(work, "empty"), args.timeout))
        if "raw" in cases:
            record("raw postmap lmdb", timed(["postmap", "lmdb:" + raw], args.timeout)[0])
        if "vars" in cases:
            record("ansible load vars (vars_files)", *play(playbook(work, "vars", vars1), args.timeout))
        if "src" in cases:
            run_src(work, data, data2, record, args.timeout)
        if "inline" in cases:
            run_inline(work, vars1, vars2, n, record, args)
        if "template" in cases:
            run_template(work, vars1, vars2, record, args.timeout)
        if "lineinfile" in cases:
            if lineinfile_stopped is None:
                elapsed, out = play(playbook(work, "lineinfile", vars1), args.lineinfile_timeout)
                record("lineinfile per entry: first build", elapsed, out)
                if elapsed is None:
                    lineinfile_stopped = n
            else:
                print("  N=%-8d lineinfile per entry: not run (stopped at N=%d after %ds)"
                      % (n, lineinfile_stopped, args.lineinfile_timeout))
        shutil.rmtree(work, ignore_errors=True)

    report(results)
    with open(os.path.join(args.workdir, "results.json"), "w") as handle:
        json.dump(results, handle, indent=1)


def run_src(work, data, data2, record, timeout):
    src_play = playbook(work, "module_src", data=data)
    record("module src: first build", *play(src_play, timeout))
    record("module src: no change", *play(src_play, timeout))
    src_play2 = playbook(work, "module_src", data=data2)
    record("module src: one entry changed", *play(src_play2, timeout))


def run_inline(work, vars1, vars2, n, record, args):
    if n > args.inline_max:
        print("  N=%-8d module inline: skipped (--inline-max %d)" % (n, args.inline_max))
        return
    inline_play = playbook(work, "module_inline", vars1)
    record("module inline: first build", *play(inline_play, args.timeout))
    record("module inline: no change", *play(inline_play, args.timeout))
    record("module inline: one entry changed", *play(playbook(work, "module_inline", vars2), args.timeout))


def run_template(work, vars1, vars2, record, timeout):
    record("template+postmap: first build", *play(playbook(work, "template", vars1), timeout))
    record("template+postmap: no change", *play(playbook(work, "template", vars1), timeout))
    record("template+postmap: one entry changed", *play(playbook(work, "template", vars2), timeout))


def ratio(a, b):
    return "%.3f" % (a / b) if a is not None and b else "n/a"


def report(results):
    names = []
    for row in results.values():
        names.extend(k for k in row if k not in names)
    sizes = sorted(results)
    print("\nWall-clock seconds of each ansible-playbook run (includes ~startup of the empty play)")
    print("%-38s" % "case" + "".join("%14s" % ("N=%d" % n) for n in sizes))
    for name in names:
        cells = []
        for n in sizes:
            value = results[n].get(name)
            cells.append("%14s" % ("%.2f" % value if value is not None else "-"))
        print("%-38s" % name + "".join(cells))
    print("\nTargets (net = wall time minus the empty play, i.e. without ansible-playbook's startup)")
    for n in sizes:
        r = results[n]
        base = r.get("ansible-playbook empty play") or 0

        def net(name):
            value = r.get(name)
            return None if value is None else max(value - base, 0.001)

        lines = [
            ("src first build / raw postmap lmdb (<= 10)", net("module src: first build"), r.get("raw postmap lmdb")),
            ("src first build / template first build (<= 0.1)", net("module src: first build"),
             net("template+postmap: first build")),
            ("src no change / src first build (<= 0.2)", net("module src: no change"), net("module src: first build")),
            ("inline first build / ansible load vars (<= 1.2)", net("module inline: first build"),
             net("ansible load vars (vars_files)")),
            ("inline no change / ansible load vars", net("module inline: no change"),
             net("ansible load vars (vars_files)")),
            ("src one change / src first build (<= 0.2)", net("module src: one entry changed"),
             net("module src: first build")),
        ]
        for label, a, b in lines:
            print("  N=%-8d %-52s %s" % (n, label, ratio(a, b)))


if __name__ == "__main__":
    main()
