# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pure core of the postconf module."""
import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._postconf import (
    PostconfError,
    normalise_value,
    parse_main_cf,
    parse_master_services,
    plan_parameters,
    plan_services,
    postconf_commands,
    render_diff,
    render_service,
    render_value,
    restart_required,
    split_command,
    split_list,
    unknown_message,
    unknown_names,
    validate_request,
)

MAIN_CF = """\
# See /usr/share/postfix/main.cf.dist for a commented, more complete version
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no

   # an indented comment
mydestination = $myhostname,
    localhost.$mydomain
# a comment inside a continued line
    localhost
myhostname=old.example.test
myhostname = mx.example.test
relayhost =
not a parameter line
smtpd_recipient_restrictions = permit_mynetworks,  reject_unauth_destination
"""

# As printed by "postconf -M" (one line per service, -o options inline).
MASTER = "".join([
    "smtp       inet  n       -       y       -       -       smtpd\n",
    "pickup     unix  n       -       y       60      1       pickup\n",
    "submission inet  n       -       y       -       -       smtpd -o syslog_name=postfix/submission"
    " -o {smtpd_banner=a b} -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n",
    "autoreply  unix  -       n       n       -       -       pipe -o syslog_name=postfix/ar flags=F user=nobody argv=/bin/cat -o ${recipient}\n",
    "tlsmgr     unix  -       -       y       1000?   1       tlsmgr\n",
])


def request(parameters=None, absent=None, user_defined=None, services=None):
    return validate_request(parameters, absent, user_defined, services)


# --- main.cf parsing ------------------------------------------------------

def test_parse_main_cf_continuations_comments_and_last_wins():
    parsed = parse_main_cf(MAIN_CF)
    assert parsed["smtpd_banner"] == "$myhostname ESMTP $mail_name (Debian/GNU)"
    assert parsed["biff"] == "no"
    assert parsed["mydestination"] == "$myhostname, localhost.$mydomain localhost"
    assert parsed["myhostname"] == "mx.example.test"
    assert parsed["relayhost"] == ""
    assert "not a parameter line" not in parsed
    assert "not" not in parsed
    assert list(parsed)[-2:] == ["relayhost", "smtpd_recipient_restrictions"]


def test_parse_main_cf_empty():
    assert parse_main_cf("") == {}
    assert parse_main_cf("   leading continuation without a line\n") == {}


# --- values ---------------------------------------------------------------

def test_split_list_keeps_brace_groups():
    assert split_list("a,b  c ,, d") == ["a", "b", "c", "d"]
    assert split_list("inet:localhost:8891, { inet:host:1,  default_action=accept }") == [
        "inet:localhost:8891", "{ inet:host:1, default_action=accept }"]
    assert split_list("{ unbalanced") is None
    assert split_list("x }") is None


@pytest.mark.parametrize("name,left,right", [
    ("mydestination", "a,b", "a, b"),
    ("mydestination", "a b", "a,b"),
    ("smtpd_recipient_restrictions", "permit_mynetworks,  reject", "permit_mynetworks reject"),
    ("virtual_alias_maps", "lmdb:/etc/postfix/virtual", " lmdb:/etc/postfix/virtual "),
    ("inet_protocols", "ipv4,ipv6", "ipv4, ipv6"),
    ("smtpd_banner", "$myhostname  ESMTP", "$myhostname ESMTP"),
])
def test_normalise_equal(name, left, right):
    assert normalise_value(name, left) == normalise_value(name, right)


@pytest.mark.parametrize("name,left,right", [
    ("smtpd_banner", "hello, world", "hello world"),
    ("mydestination", "a, b", "b, a"),
    ("myhostname", "A.example", "a.example"),
    ("smtpd_recipient_restrictions", "reject", "reject, permit"),
])
def test_normalise_different(name, left, right):
    assert normalise_value(name, left) != normalise_value(name, right)


def test_normalise_as_list_for_yaml_lists():
    assert normalise_value("my_list", "a,b", as_list=True) == normalise_value("my_list", "a, b", as_list=True)
    assert normalise_value("my_list", "a,b") != normalise_value("my_list", "a, b")


def test_render_value_types():
    assert render_value("x ", "p") == ("x", False)
    assert render_value(True, "p") == ("yes", False)
    assert render_value(False, "p") == ("no", False)
    assert render_value(10240000, "p") == ("10240000", False)
    assert render_value(["a", " b ", 3, ""], "p") == ("a, b, 3", True)
    assert render_value(["a", "b"], "p", separator=",") == ("a,b", True)


@pytest.mark.parametrize("value,fragment", [
    (None, "value is null"),
    ("a\nb", "newline"),
    ("a\rb", "newline"),
    (["a", "b\nc"], "newline"),
    ({"a": 1}, "mapping"),
    ([["nested"]], "list item 0"),
    (1.5, "unsupported type float"),
])
def test_render_value_errors_name_the_item(value, fragment):
    with pytest.raises(PostconfError) as err:
        render_value(value, "parameter myhostname")
    assert "parameter myhostname" in str(err.value)
    assert fragment in str(err.value)


# --- master.cf parsing ----------------------------------------------------

def test_parse_master_services():
    services = parse_master_services(MASTER)
    assert list(services) == ["smtp/inet", "pickup/unix", "submission/inet", "autoreply/unix", "tlsmgr/unix"]
    assert services["pickup/unix"]["wakeup"] == "60"
    assert services["pickup/unix"]["maxproc"] == "1"
    assert services["tlsmgr/unix"]["wakeup"] == "1000?"
    sub = services["submission/inet"]
    assert sub["command"] == "smtpd"
    assert sub["overrides"] == [("syslog_name", "postfix/submission"), ("smtpd_banner", "a b"),
                                ("smtpd_client_restrictions", "permit_sasl_authenticated,reject")]
    auto = services["autoreply/unix"]
    # the -o after the first non-option argument belongs to pipe's argv
    assert auto["command"] == "pipe flags=F user=nobody argv=/bin/cat -o ${recipient}"
    assert auto["overrides"] == [("syslog_name", "postfix/ar")]
    assert auto["unpriv"] == "n" and auto["chroot"] == "n" and auto["private"] == "-"


def test_parse_master_services_bad_line():
    with pytest.raises(PostconfError) as err:
        parse_master_services("smtp inet n - y\n")
    assert "line 1" in str(err.value)


def test_split_command_keeps_daemon_flags():
    assert split_command("smtpd -v -o a=b -ox=y -D", "w") == ("smtpd -v -D", [("a", "b"), ("x", "y")])
    with pytest.raises(PostconfError):
        split_command("smtpd -o", "w")


def test_render_service_roundtrip():
    services = parse_master_services(MASTER)
    for key, service in services.items():
        again = parse_master_services(render_service(service) + "\n")[key]
        assert again == service


# --- validation -----------------------------------------------------------

@pytest.mark.parametrize("kwargs,fragment", [
    (dict(parameters={"bad-name": "x"}), "'bad-name' is not a valid Postfix parameter name"),
    (dict(parameters={"myhostname": "a\nb"}), "parameter myhostname: value must not contain a newline"),
    (dict(absent=["a b"]), "absent: 'a b'"),
    (dict(user_defined=["x;y"]), "user_defined: 'x;y'"),
    (dict(parameters={"relayhost": "x"}, absent=["relayhost"]), "both 'parameters' and 'absent': relayhost"),
    (dict(services=[{"service": "foo", "type": "tcp"}]), "service foo: type 'tcp' is invalid"),
    (dict(services=[{"service": "foo/bar", "type": "unix"}]), "service 'foo/bar' is not a valid"),
    (dict(services=[{"service": "foo", "type": "unix", "state": "gone"}]), "service foo/unix: state 'gone'"),
    (dict(services=[{"service": "foo", "type": "unix", "chroot": "maybe"}]), "service foo/unix: chroot must be"),
    (dict(services=[{"service": "foo", "type": "unix", "maxproc": -1}]), "service foo/unix: maxproc must not be negative"),
    (dict(services=[{"service": "foo", "type": "unix", "maxproc": "many"}]), "service foo/unix: maxproc must be"),
    (dict(services=[{"service": "foo", "type": "unix", "wakeup": True}]), "service foo/unix: wakeup must be"),
    (dict(services=[{"service": "foo", "type": "unix", "command": "pipe\nx"}]), "service foo/unix command: value must not contain a newline"),
    (dict(services=[{"service": "foo", "type": "unix", "command": "smtpd -o a=b"}]), "service foo/unix: command contains -o a"),
    (dict(services=[{"service": "foo", "type": "unix", "parameters": {"a": "{x}"}}]), "service foo/unix -o a: -o values cannot contain braces"),
    (dict(services=[{"service": "foo", "type": "unix", "parameters": {"a": "x\ny"}}]), "service foo/unix -o a: value must not contain a newline"),
    (dict(services=[{"service": "foo", "type": "unix", "colour": "red"}]), "services[0]: unknown option(s) colour"),
    (dict(services=[{"service": "foo", "type": "unix"}, {"service": "foo", "type": "unix"}]), "service foo/unix is listed more than once"),
    (dict(services=["foo"]), "services[0]: must be a mapping"),
])
def test_validation_errors_name_the_item(kwargs, fragment):
    with pytest.raises(PostconfError) as err:
        request(**kwargs)
    assert fragment in str(err.value)


def test_validation_normalises_service_fields():
    req = request(services=[{"service": "autoreply", "type": "unix", "private": "-", "unpriv": False,
                             "chroot": "no", "wakeup": 60, "maxproc": "10", "command": "pipe  argv=/bin/cat",
                             "parameters": {"syslog_name": "postfix/ar", "x_maps": ["a", "b"], "gone": None}}])
    service = req["services"][0]
    assert (service["private"], service["unpriv"], service["chroot"], service["wakeup"], service["maxproc"]) == \
        ("-", "n", "n", "60", "10")
    assert service["command"] == "pipe argv=/bin/cat"
    assert service["overrides"] == [("syslog_name", "postfix/ar", False), ("x_maps", "a,b", True), ("gone", None, False)]
    assert service["state"] == "present" and service["exclusive_parameters"] is False


def test_unknown_names_and_message():
    req = request(parameters={"myhostname": "x", "my_class": "permit", "foo_bar": 1},
                  user_defined=["my_class"],
                  services=[{"service": "s", "type": "unix", "parameters": {"bogus_o": "1", "syslog_name": "x", "dropped": None}}])
    unknown = unknown_names(req, {"myhostname", "syslog_name"})
    assert unknown == [("foo_bar", "parameters"), ("bogus_o", "-o override of service s/unix")]
    message = unknown_message(unknown)
    assert message.startswith("unknown Postfix parameter(s): foo_bar, bogus_o (-o override of service s/unix). ")
    assert "user_defined" in message


# --- planning -------------------------------------------------------------

def test_plan_parameters_only_what_differs():
    current = parse_main_cf(MAIN_CF)
    req = request(parameters={
        "mydestination": ["$myhostname", "localhost.$mydomain", "localhost"],  # same list
        "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",  # same list
        "biff": False,  # same
        "myhostname": "mail.example.test",  # changed
        "smtpd_banner": "$myhostname ESMTP",  # changed
        "message_size_limit": 0,  # new
    }, absent=["relayhost", "not_there"])
    plan = plan_parameters(current, req)
    assert plan["set"] == [("myhostname", "mail.example.test"), ("smtpd_banner", "$myhostname ESMTP"),
                           ("message_size_limit", "0")]
    assert plan["remove"] == ["relayhost"]
    assert plan["changes"] == [
        {"kind": "parameter", "name": "myhostname", "before": "mx.example.test", "after": "mail.example.test"},
        {"kind": "parameter", "name": "smtpd_banner", "before": "$myhostname ESMTP $mail_name (Debian/GNU)",
         "after": "$myhostname ESMTP"},
        {"kind": "parameter", "name": "message_size_limit", "before": None, "after": "0"},
        {"kind": "parameter", "name": "relayhost", "before": "", "after": None},
    ]
    assert not restart_required(plan["changes"])


def test_plan_parameters_empty_value_is_a_value():
    plan = plan_parameters({"relayhost": ""}, request(parameters={"relayhost": ""}))
    assert plan["set"] == [] and plan["changes"] == []
    plan = plan_parameters({}, request(parameters={"relayhost": ""}))
    assert plan["set"] == [("relayhost", "")]


def test_restart_required():
    plan = plan_parameters({"inet_interfaces": "all"}, request(parameters={"inet_interfaces": "loopback-only"}))
    assert restart_required(plan["changes"])
    plan = plan_parameters({"inet_protocols": "all"}, request(absent=["inet_protocols"]))
    assert restart_required(plan["changes"])
    plan = plan_parameters({"inet_interfaces": "127.0.0.1,[::1]"},
                           request(parameters={"inet_interfaces": ["127.0.0.1", "[::1]"]}))
    assert plan["changes"] == [] and not restart_required(plan["changes"])


def test_plan_services_add_modify_remove():
    current = parse_master_services(MASTER)
    req = request(services=[
        {"service": "smtp", "type": "inet", "maxproc": 50},
        {"service": "pickup", "type": "unix", "wakeup": "60", "maxproc": 1},  # unchanged
        {"service": "vacation", "type": "unix", "unpriv": False, "chroot": False,
         "command": "pipe flags=F user=nobody argv=/bin/cat ${recipient}",
         "parameters": {"syslog_name": "postfix/vacation"}},
        {"service": "tlsmgr", "type": "unix", "state": "absent"},
        {"service": "gone", "type": "unix", "state": "absent"},  # not there: nothing
    ])
    plan = plan_services(current, req)
    assert plan["remove"] == ["tlsmgr/unix"]
    assert plan["added"] == ["vacation/unix"]
    assert [key for key, _line in plan["write"]] == ["smtp/inet", "vacation/unix"]
    lines = dict(plan["write"])
    assert lines["smtp/inet"].split() == ["smtp", "inet", "n", "-", "y", "-", "50", "smtpd"]
    assert lines["vacation/unix"].split() == ["vacation", "unix", "-", "n", "n", "-", "-", "pipe", "-o",
                                              "syslog_name=postfix/vacation", "flags=F", "user=nobody",
                                              "argv=/bin/cat", "${recipient}"]
    kinds = [(change["name"], change["before"] is None, change["after"] is None) for change in plan["changes"]]
    assert kinds == [("smtp/inet", False, False), ("vacation/unix", True, False), ("tlsmgr/unix", False, True)]
    assert postconf_commands({"set": [], "remove": []}, plan) == [
        ["-MX", "tlsmgr/unix"],
        ["-M", "smtp/inet=" + lines["smtp/inet"], "vacation/unix=" + lines["vacation/unix"]],
    ]


def test_plan_services_new_service_needs_command():
    with pytest.raises(PostconfError) as err:
        plan_services({}, request(services=[{"service": "x", "type": "unix", "maxproc": 1}]))
    assert str(err.value) == "service x/unix is not in master.cf; 'command' is needed to add it"


def test_plan_services_overrides_merge_and_normalise():
    current = parse_master_services(MASTER)
    # same list with other separators, same banner with other spacing: no change
    same = request(services=[{"service": "submission", "type": "inet", "parameters": {
        "smtpd_client_restrictions": ["permit_sasl_authenticated", "reject"],
        "smtpd_banner": "a  b"}}])
    assert plan_services(current, same)["changes"] == []
    # change one, remove one, add one: others kept, order kept
    req = request(services=[{"service": "submission", "type": "inet", "parameters": {
        "syslog_name": "postfix/sub", "smtpd_banner": None, "smtpd_tls_security_level": "encrypt"}}])
    plan = plan_services(current, req)
    line = dict(plan["write"])["submission/inet"]
    parsed = parse_master_services(line + "\n")["submission/inet"]
    assert parsed["overrides"] == [("syslog_name", "postfix/sub"),
                                   ("smtpd_client_restrictions", "permit_sasl_authenticated,reject"),
                                   ("smtpd_tls_security_level", "encrypt")]


def test_plan_services_exclusive_overrides():
    current = parse_master_services(MASTER)
    req = request(services=[{"service": "submission", "type": "inet", "exclusive_parameters": True,
                             "parameters": {"syslog_name": "postfix/submission"}}])
    plan = plan_services(current, req)
    parsed = parse_master_services(dict(plan["write"])["submission/inet"] + "\n")["submission/inet"]
    assert parsed["overrides"] == [("syslog_name", "postfix/submission")]
    # exclusive and already exact: no change
    current = parse_master_services(dict(plan["write"])["submission/inet"] + "\n")
    assert plan_services(current, req)["changes"] == []


def test_plan_services_whitespace_override_uses_braces():
    req = request(services=[{"service": "s", "type": "unix", "command": "smtp",
                             "parameters": {"smtp_helo_name": "a b"}}])
    line = dict(plan_services({}, req)["write"])["s/unix"]
    assert "-o {smtp_helo_name=a b}" in line
    assert parse_master_services(line + "\n")["s/unix"]["overrides"] == [("smtp_helo_name", "a b")]


def test_plan_services_duplicate_overrides_collapse():
    current = parse_master_services("s unix - - n - - smtp -o a=1 -o b=2 -o a=3\n")
    plan = plan_services(current, request(services=[{"service": "s", "type": "unix", "parameters": {"a": "3"}}]))
    # Postfix already sees a=3 (last wins): nothing to do
    assert plan["changes"] == []
    plan = plan_services(current, request(services=[{"service": "s", "type": "unix", "parameters": {"a": "4"}}]))
    parsed = parse_master_services(dict(plan["write"])["s/unix"] + "\n")["s/unix"]
    assert parsed["overrides"] == [("a", "4"), ("b", "2")]


def test_plan_services_command_change_keeps_overrides():
    current = parse_master_services(MASTER)
    req = request(services=[{"service": "autoreply", "type": "unix",
                             "command": "pipe flags=F user=nobody argv=/bin/true"}])
    parsed = parse_master_services(dict(plan_services(current, req)["write"])["autoreply/unix"] + "\n")
    assert parsed["autoreply/unix"]["command"] == "pipe flags=F user=nobody argv=/bin/true"
    assert parsed["autoreply/unix"]["overrides"] == [("syslog_name", "postfix/ar")]
    same = request(services=[{"service": "autoreply", "type": "unix",
                              "command": "pipe   flags=F user=nobody argv=/bin/cat -o ${recipient}"}])
    assert plan_services(current, same)["changes"] == []


def test_render_diff_and_commands():
    param_plan = plan_parameters({"myhostname": "a", "relayhost": "r"},
                                 request(parameters={"myhostname": "b", "mydomain": "d"}, absent=["relayhost"]))
    service_plan = plan_services({}, request(services=[{"service": "s", "type": "unix", "command": "smtp"}]))
    diff = render_diff(service_plan["changes"] + param_plan["changes"], "/etc/postfix/")
    assert diff == [
        {"before_header": "/etc/postfix/main.cf", "after_header": "/etc/postfix/main.cf",
         "before": "myhostname = a\nrelayhost = r\n", "after": "myhostname = b\nmydomain = d\n"},
        {"before_header": "/etc/postfix/master.cf", "after_header": "/etc/postfix/master.cf",
         "before": "", "after": dict(service_plan["write"])["s/unix"] + "\n"},
    ]
    assert postconf_commands(param_plan, service_plan) == [
        ["-M", "s/unix=" + dict(service_plan["write"])["s/unix"]],
        ["-X", "relayhost"],
        ["-e", "myhostname=b", "mydomain=d"],
    ]
    assert render_diff([], "/etc/postfix") == []
