# -*- coding: utf-8 -*-
"""Issue 19: names that reach a command line, a path or a control file; path variables against system files;
inputs that used to vanish or fail half-way. Each case was accepted before."""
import re

import pytest

from role_values import role_values

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _lists, _parts
from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import DomainModelError, domain_model
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model

MAILBOX = {"vhosting_domain__box_test": {"domain": "box.test", "class": "mailbox", "mailboxes": ["ann"]}}
STORE = {"vhosting_domain__store_test": {"domain": "store.test", "class": "mailbox", "store": "dovecot",
                                         "mailboxes": {"ann": {"password": "secret"}}}}


def problems(definitions=None, **overrides):
    with pytest.raises(ModelError) as caught:
        host_model(role_values(**overrides), MAILBOX if definitions is None else definitions, hostname="mx")
    return caught.value.problems


def lists(name):
    return {"vhosting_domain__lists_test": {"domain": "lists.test", "class": "alias", "aliases": {"info": "root"},
                                            "lists": {name: {"owners": ["owner@box.test"]}}}}


# ------------------------------------------------------------- 1. list names

@pytest.mark.parametrize("name", ["x`id`", "q&a", "a$b", "a|b", "it's", "{a}", "a/b", "a.", "-a", "a..b", "#a"])
def test_a_list_name_that_would_reach_a_shell_or_a_path_is_refused(name):
    found = problems(lists(name))
    assert any(p.startswith("vhosting_domain__lists_test (domain lists.test), list %r: " % name) for p in found), found


def test_a_list_alias_command_never_needs_a_shell():
    model = domain_model(lists("team.news_2"), {"mydomain": "example.test", "recipient_delimiter": "+"})
    command = _lists.aliases_file_entries(model["lists"], "/var/spool/vhosting-postfix/lists")
    assert command == {"mlmmj_lists.test_team.news_2":
                       '"|/usr/bin/mlmmj-receive -L /var/spool/vhosting-postfix/lists/team.news_2@lists.test/"'}
    # No character local(8) would hand to /bin/sh.
    assert re.match(r'^"\|[A-Za-z0-9@._/ -]+"$', list(command.values())[0])


# ----------------------------------------------------- 3. path variables

@pytest.mark.parametrize("name, value, why", [
    ("vhosting_dovecot__users_file", "/etc/passwd", "is /etc/passwd, a file of the system"),
    ("vhosting_dovecot__users_file", "/etc/shadow", "is /etc/shadow"),
    ("vhosting_dovecot__users_file", "/etc/dovecot/dovecot.conf", "a file of the system, Postfix or Dovecot"),
    ("vhosting_dovecot__users_file", "/etc/dovecot/conf.d/10-auth.conf", "a file of the system, Postfix or Dovecot"),
    ("vhosting_dovecot__users_file", "/etc/sudoers", "is in /etc outside /etc/postfix"),
    ("vhosting_dovecot__users_file", "/usr/lib/x", "is inside /usr"),
    ("vhosting_dovecot__users_file", "dovecot-users", "must be an absolute file name"),
    ("vhosting_dovecot__users_file", "/etc/dovecot/../passwd", "contains '..'"),
    ("vhosting_tls__selfsigned_key_file", "/etc/ssh/ssh_host_rsa_key", "is in /etc outside"),
    ("vhosting_tls__selfsigned_key_file", "/root/.ssh/id_rsa", "is inside /root"),
    ("vhosting_tls__selfsigned_cert_file", "/etc/postfix/main.cf", "is /etc/postfix/main.cf"),
    ("vhosting_tls__selfsigned_cert_file", "/etc/vhosting-postfix/tls/my cert.pem", "no spaces"),
    ("vhosting_tls__key_file", "/etc/shadow", "not a certificate or key"),
    ("vhosting_tls__cert_file", "/etc/ssl/certs/$HOST.pem", "no spaces, quotes, '$'"),
    ("vhosting_domains__lists_spool", "/etc", "is inside /etc"),
    ("vhosting_domains__lists_spool", "/", "is the root directory"),
    ("vhosting_domains__lists_spool", "/var/spool", "holds other things"),
    ("vhosting_domains__mailbox_base", "/", "is the root directory"),
    ("vhosting_domains__mailbox_base", "/usr", "is inside /usr"),
    ("vhosting_domains__mailbox_base", "/var/mail/vhosts; rm -rf /", "no spaces"),
    ("vhosting_domains__alias_table", "/etc/cron.d/vhosting", "is in /etc outside"),
    ("vhosting_domains__alias_table", "/etc/postfix/master.cf", "is /etc/postfix/master.cf"),
])
def test_a_path_variable_that_names_a_system_file_or_directory_is_refused(name, value, why):
    found = problems(STORE, **{name: value})
    mine = [p for p in found if p.startswith("%s: %r " % (name, value))]
    assert any(why in p for p in mine), found


def test_two_path_variables_on_one_file_are_refused():
    found = problems(STORE, vhosting_dovecot__users_file="/etc/vhosting-postfix/tls/selfsigned.key")
    assert "vhosting_tls__selfsigned_key_file: '/etc/vhosting-postfix/tls/selfsigned.key' is also " \
           "vhosting_dovecot__users_file" in found[0] or any("is also" in p for p in found), found


@pytest.mark.parametrize("name, value", [
    ("vhosting_dovecot__users_file", "/etc/dovecot/vhosting-users"),
    ("vhosting_dovecot__users_file", "/etc/vhosting-postfix/dovecot-users"),
    ("vhosting_tls__cert_file", "/etc/letsencrypt/live/mx.example.test/fullchain.pem"),
    ("vhosting_domains__lists_spool", "/srv/lists"),
    ("vhosting_domains__mailbox_base", "/srv/mail"),
])
def test_ordinary_paths_pass(name, value):
    overrides = {name: value}
    if name == "vhosting_tls__cert_file":
        overrides["vhosting_tls__key_file"] = "/etc/letsencrypt/live/mx.example.test/privkey.pem"
        overrides["vhosting_tls__source"] = "files"
    host_model(role_values(**overrides), STORE, hostname="mx")


def test_every_path_variable_of_the_roles_is_in_the_registry():
    values = role_values()
    registered = set(name for name, _k, _w, _e in _parts.path_variables()) | set(_parts.table_variables())
    pathlike = set(n for n in values if re.search(r"(_file|_base|_spool|_table)$", n))
    assert pathlike <= registered, pathlike - registered


# ------------------------------------------- 4. inputs that vanish or fail

@pytest.mark.parametrize("spec, where", [
    ({"mailboxes": ["#boss"]}, "mailbox '#boss': '#boss' starts with '#'"),
    ({"mailboxes": ["ann"], "aliases": {"#sales": "ann@box.test"}}, "alias '#sales': '#sales' starts with '#'"),
    ({"mailboxes": ["a/b"]}, "mailbox 'a/b': 'a/b' names the mailbox's directory"),
    ({"mailboxes": ["it's"]}, "mailbox \"it's\": \"it's\" names the mailbox's directory"),
    ({"mailboxes": ["-rf"]}, "mailbox '-rf': '-rf' names the mailbox's directory"),
])
def test_local_parts_that_would_vanish_or_become_odd_paths_are_refused(spec, where):
    definition = {"vhosting_domain__box_test": dict({"domain": "box.test", "class": "mailbox"}, **spec)}
    found = problems(definition)
    assert any(("vhosting_domain__box_test (domain box.test), " + where) in p for p in found), found


@pytest.mark.parametrize("value", ["\n", "@", "+\n", "$", "++", "a", " ", "%", "+,"])
def test_a_recipient_delimiter_outside_its_character_set_is_refused(value):
    found = problems(vhosting_server__recipient_delimiter=value)
    assert any(p.startswith("vhosting_server__recipient_delimiter: %r must be one or more different characters"
                            % value) for p in found), found


@pytest.mark.parametrize("value", ["", "+", "-", "+-", "+=_~"])
def test_ordinary_recipient_delimiters_pass(value):
    host_model(role_values(vhosting_server__recipient_delimiter=value), MAILBOX, hostname="mx")


@pytest.mark.parametrize("name, value", [
    ("vhosting_domains__autoreply_user", "ar flags=R argv=/bin/sh"),
    ("vhosting_domains__vmail_user", "vmail;id"),
    ("vhosting_domains__vmail_group", "Vmail"),
    ("vhosting_domains__autoreply_user", "-o"),
])
def test_account_names_that_would_build_a_command_or_master_cf_line_are_refused(name, value):
    found = problems(**{name: value})
    assert any(p.startswith("%s: %r is not a " % (name, value)) for p in found), found


@pytest.mark.parametrize("subject", ["Away\x0cnow", "Away\x85now", "Away\u2028now", "Away\x00", "Away\u2029"])
def test_an_autoreply_subject_with_a_line_end_the_email_package_sees_is_refused(subject):
    definition = {"vhosting_domain__box_test": {"domain": "box.test", "class": "mailbox", "mailboxes": {
        "ann": {"autoreply": {"subject": subject, "body": "Back soon."}}}}}
    with pytest.raises(DomainModelError, match=r"mailbox ann@box.test: autoreply subject contains U\+"):
        domain_model(definition, {"mydomain": "example.test"})
