"""A backup MX learns a primary's local names from its alias source files, whatever the table type (issue 19).

The relay role reads ``getent passwd`` and the source files of the primary's
``alias_maps`` (postalias -s cannot list a cdb table) and ships them back as
they are; the pure parsers here turn them into names. A primary that cannot
be read gets 450 (try again later) for its canonical domains, never 550.
"""
import base64
import os
import subprocess

import pytest
import yaml

from ansible_collections.vhosting.postfix.plugins.plugin_utils._relay import (
    RelayError,
    alias_file_names,
    defer_entries,
    local_names_from_results,
    parse_local_names,
    passwd_names,
    relay_recipients,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

# /etc/aliases of a primary with `vhosting_server__default_database_type: cdb`
# (alias_maps = cdb:/etc/aliases): what the backup must accept in its canonical domains.
ALIASES = """\
# See man 5 aliases for format
postmaster:    root
Root: carl@canon.test
# a comment with a colon: not a name
   # an indented comment
webmaster: carl,
    dave,
  notaname: continued
\tothers@elsewhere.test
"help desk": carl
"q\\"uote": carl
"colon:name" : carl
abuse : root

no colon here
root: duplicate, folded
"""

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
carl:x:2001:2001:Carl:/home/carl:/bin/bash
"""


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def output(*parts):
    return "".join(line + "\n" for line in parts)


# ---------------------------------------------------------------- aliases(5)

def test_alias_source_names_folded_in_order_once():
    assert alias_file_names(ALIASES) == ["postmaster", "root", "webmaster", "help desk", 'q"uote', "colon:name",
                                         "abuse"]


def test_continuation_lines_and_comments_define_no_names():
    names = alias_file_names(ALIASES)
    assert "notaname" not in names and "dave" not in names and "others@elsewhere.test" not in names
    assert not [n for n in names if n.startswith("#") or "comment" in n]


def test_a_quoted_name_needs_its_colon_and_a_bare_line_is_skipped():
    assert alias_file_names('"open: x\n"closed" x\nplain\n') == []
    assert alias_file_names("a:b\r\nc:d\r\n") == ["a", "c"]
    assert alias_file_names("") == []


def test_passwd_names():
    assert passwd_names(PASSWD + "\nbroken line\n") == ["root", "daemon", "carl"]


# ---------------------------------------------------------------- the read task's output

def test_a_cdb_primary_is_read_from_its_source_file():
    names = parse_local_names(output("passwd " + b64(PASSWD), "source cdb:/etc/aliases " + b64(ALIASES)))
    assert names[:3] == ["root", "daemon", "carl"]
    assert {"postmaster", "webmaster", "abuse"} <= set(names)
    assert names.count("root") == 1


def test_every_source_counts_and_other_tables_are_skipped():
    names = parse_local_names(output("passwd " + b64("root:x:0:0::/:/bin/sh"),
                                     "source lmdb:/etc/aliases " + b64("a: b"),
                                     "source texthash:/etc/postfix/more " + b64("c: d"),
                                     "skipped nis:mail.aliases",
                                     "source hash:/etc/empty "))
    assert names == ["root", "a", "c"]


def test_no_file_content_is_taken_for_the_protocol():
    # The aliases text contains lines that look like the protocol's: they are base64 inside one line.
    tricky = "missing cdb\npasswd x\nsales: carl\n"
    names = parse_local_names(output("passwd " + b64(PASSWD), "source cdb:/etc/aliases " + b64(tricky)))
    assert names == ["root", "daemon", "carl", "sales"]


@pytest.mark.parametrize("text, message", [
    (output("passwd " + b64(PASSWD), "missing cdb:/etc/aliases"),
     "cdb:/etc/aliases: the source file of this alias table does not exist"),
    (output("source cdb:/etc/aliases " + b64(ALIASES)), "no list of UNIX accounts"),
    ("", "no list of UNIX accounts"),
    (output("passwd " + b64(PASSWD), "postalias: fatal: table cdb:/etc/aliases.cdb: sequence operation is not "
                                     "supported"), "unexpected output line"),
    (output("passwd not*base64"), "not base64"),
])
def test_what_cannot_be_read_is_refused(text, message):
    with pytest.raises(RelayError, match=message.replace("*", r"\*")):
        parse_local_names(text)


def test_results_split_names_and_unread_primaries_with_their_reasons():
    results = [
        {"item": {"key": "mx1"}, "rc": 0, "stdout": output("passwd " + b64(PASSWD),
                                                           "source cdb:/etc/aliases " + b64(ALIASES))},
        {"item": {"key": "mx2"}, "rc": 1, "stdout": "", "stderr": "postconf: fatal: no main.cf\n"},
        {"item": {"key": "mx3"}, "unreachable": True, "msg": "ssh: connect to host mx3 port 22: timed out"},
        {"item": {"key": "mx4"}, "rc": 0, "stdout": output("passwd " + b64(PASSWD), "missing cdb:/etc/aliases")},
    ]
    read = local_names_from_results(results)
    assert sorted(read["names"]) == ["mx1"]
    assert {"root", "postmaster", "carl", "webmaster"} <= set(read["names"]["mx1"])
    assert read["unread"] == ["mx2", "mx3", "mx4"]
    assert read["reasons"]["mx2"] == "the read failed (rc 1): postconf: fatal: no main.cf"
    assert read["reasons"]["mx3"].startswith("unreachable: ssh: connect")
    assert "source file of this alias table does not exist" in read["reasons"]["mx4"]


# ---------------------------------------------------------------- the role's own script

def _read_script():
    with open(os.path.join(ROOT, "roles", "relay", "tasks", "main.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    name = "Read the local recipient names of each primary with canonical domains"
    task = next(t for t in tasks if t["name"] == name)
    return task["ansible.builtin.shell"]


def _primary(tmp_path, alias_maps, files):
    """A fake primary: getent and postconf stand-ins on PATH, alias files under tmp_path."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in (("getent", "cat '%s'" % (tmp_path / "passwd")),
                       ("postconf", "echo '%s'" % alias_maps.replace("TMP", str(tmp_path))),
                       ("postalias", "echo 'postalias: fatal: table cdb:/etc/aliases.cdb: sequence operation is not "
                                     "supported' >&2; exit 1")):
        path = bindir / name
        path.write_text("#!/bin/sh\n%s\n" % body)
        path.chmod(0o755)
    (tmp_path / "passwd").write_text(PASSWD)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]))


def _run(script, env):
    done = subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True, text=True, check=False)
    return {"item": {"key": "mx1"}, "rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def test_the_role_reads_a_cdb_primary_without_postalias(tmp_path):
    script = _read_script()
    assert "{{" not in script and "{%" not in script  # fixed text: no inventory value reaches the shell
    env = _primary(tmp_path, "cdb:TMP/aliases, pcre:TMP/other.pcre", {"aliases": ALIASES, "aliases.cdb": "index"})
    read = local_names_from_results([_run(script, env)])
    assert read["unread"] == [], read
    names = read["names"]["mx1"]
    assert {"root", "postmaster", "carl", "webmaster", "abuse", "daemon"} <= set(names)


def test_the_role_counts_a_primary_without_its_alias_source_as_unread(tmp_path):
    env = _primary(tmp_path, "cdb:TMP/aliases", {"aliases.cdb": "an index without its source"})
    read = local_names_from_results([_run(_read_script(), env)])
    assert read["unread"] == ["mx1"] and read["names"] == {}


def test_the_role_reads_lmdb_hash_and_texthash_sources(tmp_path):
    env = _primary(tmp_path, "lmdb:TMP/a1 hash:TMP/a2,texthash:TMP/a3 proxy:btree:TMP/a4",
                   {"a1": "one: x\n", "a2": "two: x\n", "a3": "three: x\n", "a4": "four: x\n"})
    read = local_names_from_results([_run(_read_script(), env)])
    assert read["names"]["mx1"][-4:] == ["one", "two", "three", "four"]


# ---------------------------------------------------------------- an unread primary: 450, not 550

CANONICAL = {"mx1": ["canon.test", "other.test"], "mx2": ["second.test"]}


def test_the_canonical_domains_of_an_unread_primary_are_deferred():
    entries = defer_entries(CANONICAL, ["mx1"])
    assert sorted(entries) == ["canon.test", "other.test"]
    assert entries["canon.test"] == "450 4.3.0 recipients of canon.test are not known yet at this backup MX; try again later"
    assert "mx1" not in " ".join(entries.values())  # no inventory host name in a public reply
    assert all(value.startswith("450 4.") for value in entries.values())


def test_the_defer_table_is_empty_when_every_primary_was_read():
    assert defer_entries(CANONICAL, []) == {}
    assert defer_entries(CANONICAL, None) == {}
    assert defer_entries({}, ["mx1"]) == {}
    assert sorted(defer_entries(CANONICAL, ["mx2", "mx1", "unknown"])) == ["canon.test", "other.test", "second.test"]


def test_an_odd_host_name_never_reaches_the_reply():
    entries = defer_entries({"mx one\n": ["a.test"]}, ["mx one\n"])
    assert entries == {"a.test": "450 4.3.0 recipients of a.test are not known yet at this backup MX; try again later"}


def test_the_names_read_from_a_cdb_primary_are_accepted_by_the_backup():
    model = {"relay_recipients": {"carl@canon.test": "OK", "postmaster@canon.test": "OK"},
             "domains": {"canon.test": {"source": "host mx1", "canonical": True}}}
    names = parse_local_names(output("passwd " + b64(PASSWD), "source cdb:/etc/aliases " + b64(ALIASES)))
    entries = relay_recipients(model, {"mx1": names})
    for name in ("root", "postmaster", "carl", "webmaster", "abuse", "daemon"):
        assert entries["%s@canon.test" % name] == "OK"
    assert "help desk@canon.test" not in entries  # no valid local part
