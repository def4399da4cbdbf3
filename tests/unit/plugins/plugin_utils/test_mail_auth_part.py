"""The mail_auth part: DKIM keys and tables, SPF/DMARC/SRS parameters, the DNS records' input, and bad input."""
import pytest
from role_values import role_values

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _mail_auth_part as part
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model


def values(**overrides):
    return role_values(**overrides)


def domains(**signed):
    definition = {"domain": "signed.test", "class": "mailbox", "mailboxes": ["alice"]}
    definition.update(signed)
    return {"vhosting_domain__signed": definition,
            "vhosting_domain__fwd": {"domain": "fwd.test", "class": "forwarding", "aliases": {"fan": "x@else.test"}},
            "vhosting_domain__canon": {"domain": "canon.test", "class": "canonical", "users": ["carl"]}}


def model(definitions=None, **overrides):
    return host_model(values(**overrides), domains() if definitions is None else definitions)


def problems(definitions=None, **overrides):
    with pytest.raises(ModelError) as info:
        model(definitions, **overrides)
    return info.value.problems


def test_everything_off_by_default_changes_nothing_in_postfix():
    auth = model()["mail_auth"]
    assert auth["enabled"] is False and auth["parameters"] == {} and auth["services"] == [] and auth["packages"] == []
    # What the features would have written is removed (when present).
    assert "/etc/opendkim/vhosting-keytable" in model()["stale_files"]["mail_auth"]
    assert "smtpd_milters" not in model()["server"]["parameters"]


def test_dkim_signs_every_hosted_domain_with_the_default_selector_unless_it_opts_out():
    built = model(domains(), vhosting_mail_auth__dkim=True)
    auth = built["mail_auth"]
    assert auth["parameters"]["smtpd_milters"] == ["unix:vhosting-opendkim/opendkim.sock"]
    assert auth["parameters"]["non_smtpd_milters"] == ["unix:vhosting-opendkim/opendkim.sock"]
    # The socket in a directory of its own in Postfix's queue directory, the name relative to it for Postfix.
    assert auth["milter_sockets"] == {"dkim": {
        "directory": "/var/spool/postfix/vhosting-opendkim", "socket": "opendkim.sock", "owner": "opendkim",
        "path": "/var/spool/postfix/vhosting-opendkim/opendkim.sock"}}
    assert "/var/spool/postfix/vhosting-opendkim" not in built["stale_files"]["mail_auth"]
    # Its owner and mode read by the probe (the directory task runs only when they differ).
    assert "/var/spool/postfix/vhosting-opendkim" in built["probe"]["modes"]
    assert "/var/spool/postfix/vhosting-opendmarc" in built["stale_files"]["mail_auth"]
    assert auth["parameters"]["milter_default_action"] == "accept"
    assert [(k["domain"], k["selector"], k["type"], k["bits"]) for k in auth["dkim_keys"]] == [
        ("canon.test", "mail", "rsa", 2048), ("fwd.test", "mail", "rsa", 2048), ("signed.test", "mail", "rsa", 2048)]
    assert built["maps"]["dkim_signingtable"]["*@signed.test"] == "mail._domainkey.signed.test"
    assert built["maps"]["dkim_keytable"]["mail._domainkey.signed.test"] == (
        "signed.test:mail:/etc/opendkim/keys/signed.test/mail.private")
    assert auth["packages"] == ["opendkim"]
    no = model(domains(dkim=False), vhosting_mail_auth__dkim=True)
    assert "*@signed.test" not in no["maps"]["dkim_signingtable"]
    assert no["mail_auth"]["dns"]["domains"]["signed.test"]["selectors"] == []


def test_rotation_publishes_first_signs_when_told_and_retires_after():
    publish = model(domains(dkim={"selectors": ["s1", "s2"], "sign": "s1"}), vhosting_mail_auth__dkim=True)
    assert publish["maps"]["dkim_signingtable"]["*@signed.test"] == "s1._domainkey.signed.test"
    assert sorted(publish["maps"]["dkim_keytable"]) == ["mail._domainkey.canon.test", "mail._domainkey.fwd.test",
                                                        "s1._domainkey.signed.test", "s2._domainkey.signed.test"]
    assert publish["mail_auth"]["dns"]["domains"]["signed.test"]["selectors"] == ["s1", "s2"]
    switch = model(domains(dkim={"selectors": ["s1", "s2"], "sign": "s2"}), vhosting_mail_auth__dkim=True)
    assert switch["maps"]["dkim_signingtable"]["*@signed.test"] == "s2._domainkey.signed.test"
    retire = model(domains(dkim={"selectors": ["s2"], "retired": ["s1"]}), vhosting_mail_auth__dkim=True)
    assert [k["selector"] for k in retire["mail_auth"]["dkim_keys"] if k["domain"] == "signed.test"] == ["s2"]
    assert retire["mail_auth"]["dns"]["domains"]["signed.test"]["retired"] == ["s1"]


def test_an_ed25519_key_is_an_option_per_selector():
    built = model(domains(dkim={"selectors": [{"name": "ed", "type": "ed25519"}]}), vhosting_mail_auth__dkim=True)
    assert [k for k in built["mail_auth"]["dkim_keys"] if k["domain"] == "signed.test"] == [
        {"domain": "signed.test", "selector": "ed", "type": "ed25519", "bits": 256}]


def test_spf_after_the_permits_of_trusted_and_authenticated_clients_with_its_service():
    auth = model(vhosting_mail_auth__spf="reject")["mail_auth"]
    assert auth["parameters"]["smtpd_recipient_restrictions"] == [
        "permit_mynetworks", "permit_sasl_authenticated", "check_policy_service unix:private/policyd_spf"]
    assert auth["services"][0]["service"] == "policyd_spf"
    assert "argv=/usr/bin/policyd-spf /etc/postfix-policyd-spf-python/vhosting.conf" in auth["services"][0]["command"]
    assert auth["spf_reject"] is True and auth["packages"] == ["postfix-policyd-spf-python"]


def test_spf_follows_the_relay_roles_restrictions_without_repeating_its_permits():
    built = model(vhosting_mail_auth__spf="tag", vhosting_relay__manage_restrictions="always")
    restrictions = built["relay"]["parameters"]["smtpd_recipient_restrictions"]
    assert restrictions[-1] == "check_policy_service unix:private/policyd_spf"
    assert restrictions.index("reject_unauth_destination") < restrictions.index(restrictions[-1])
    assert restrictions.count("permit_mynetworks") == 1
    assert "smtpd_recipient_restrictions" not in built["mail_auth"]["parameters"]


def test_dmarc_milter_after_the_signer_and_srs_tables():
    auth = model(vhosting_mail_auth__dkim=True, vhosting_mail_auth__dmarc="reject", vhosting_mail_auth__srs=True)["mail_auth"]
    assert auth["parameters"]["smtpd_milters"] == ["unix:vhosting-opendkim/opendkim.sock", "unix:vhosting-opendmarc/opendmarc.sock"]
    assert auth["parameters"]["non_smtpd_milters"] == ["unix:vhosting-opendkim/opendkim.sock"]
    assert auth["milter_sockets"]["dmarc"]["path"] == "/var/spool/postfix/vhosting-opendmarc/opendmarc.sock"
    assert auth["parameters"]["sender_canonical_maps"] == "tcp:127.0.0.1:10001"
    assert auth["parameters"]["recipient_canonical_maps"] == "tcp:127.0.0.1:10002"
    assert auth["srs"]["domain"] == "mx.example.test"
    assert auth["srs"]["exclude"] == ["canon.test", "fwd.test", "mx.example.test", "signed.test"]
    assert auth["dmarc_reject"] is True
    assert auth["dns"]["srs_spf"] == "v=spf1 a -all" and auth["dns"]["srs_domain"] == "mx.example.test"


def test_the_dns_input_of_each_domain():
    dmarc = {"policy": "reject", "rua": "mailto:d@signed.test", "pct": 50, "subdomain_policy": "none"}
    dns = model(domains(spf="v=spf1 ip4:192.0.2.1 -all", dmarc=dmarc), vhosting_mail_auth__dkim=True)["mail_auth"]["dns"]
    assert dns["myhostname"] == "mx.example.test" and dns["ttl"] == 3600
    assert dns["domains"]["signed.test"] == {
        "spf": "v=spf1 ip4:192.0.2.1 -all", "selectors": ["mail"], "retired": [],
        "dmarc": "v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:d@signed.test"}
    assert dns["domains"]["fwd.test"]["spf"] == "v=spf1 mx -all"
    assert dns["domains"]["fwd.test"]["dmarc"] == "v=DMARC1; p=none"
    off = model(domains(spf=False, dmarc=False))["mail_auth"]["dns"]["domains"]["signed.test"]
    assert off["spf"] is None and off["dmarc"] is None


@pytest.mark.parametrize("signed, message", [
    ({"dkim": {"selectors": ["Bad_Selector"]}}, "dkim selector 'Bad_Selector' is not a DNS label"),
    ({"dkim": {"selectors": ["a.b"]}}, "is not a DNS label"),
    ({"dkim": {"selectors": ["s1; rm -rf /"]}}, "is not a DNS label"),
    ({"dkim": {"selectors": [{"name": "s1", "bits": 512}]}}, "an RSA key of 512 bits; use 1024 to 4096"),
    ({"dkim": {"selectors": [{"name": "s1", "type": "dsa"}]}}, "key type 'dsa' is not one of rsa, ed25519"),
    ({"dkim": {"selectors": ["s1"], "sign": "s2"}}, "dkim sign: 's2' is not one of the domain's selectors"),
    ({"dkim": {"selectors": ["s1"], "retired": ["s1"]}}, "selector s1 is both published and retired"),
    ({"dkim": {"selector": "s1"}}, "dkim: unknown key(s) selector"),
    ({"dkim": "yes"}, "dkim must be true, false or a dict"),
    ({"dmarc": {"policy": "block"}}, "dmarc policy: 'block' is not an RFC 7489 policy (one of none, quarantine, reject)"),
    ({"dmarc": {"policy": "reject", "pct": 120}}, "dmarc pct: 120 must be a whole number from 0 to 100"),
    ({"dmarc": {"rua": "d@signed.test"}}, "dmarc rua: 'd@signed.test' must be a mailto: address"),
    ({"dmarc": {"rua": "mailto:a@b.test; p=none"}}, "must be a mailto: address"),
    ({"spf": "v=spf1 \"a\" -all"}, "spf: "),
    ({"spf": "mx -all"}, "must start with 'v=spf1'"),
])
def test_bad_per_domain_settings_are_refused_naming_variable_and_domain(signed, message):
    found = problems(domains(**signed), vhosting_mail_auth__dkim=True)
    assert any(message in p and "vhosting_domain__signed (signed.test)" in p for p in found), found


def test_per_domain_settings_are_checked_even_while_the_feature_is_off():
    found = problems(domains(dmarc={"policy": "block"}))
    assert any("dmarc policy: 'block'" in p for p in found)


@pytest.mark.parametrize("overrides, message", [
    ({"vhosting_mail_auth__dkim_selector": "Not A Label"}, "vhosting_mail_auth__dkim_selector: 'Not A Label'"),
    ({"vhosting_mail_auth__dkim_key_bits": 768}, "an RSA key of 768 bits"),
    ({"vhosting_mail_auth__spf": "hard"}, "vhosting_mail_auth__spf: 'hard' is not one of off, tag, reject"),
    ({"vhosting_mail_auth__srs_reverse_port": 10001}, "both use port 10001"),
    ({"vhosting_mail_auth__srs_domain": "bad domain"}, "vhosting_mail_auth__srs_domain: 'bad domain' is not a host name"),
    ({"vhosting_mail_auth__spf_record": "v=spf1 mx\n-all"}, "vhosting_mail_auth__spf_record"),
    ({"vhosting_mail_auth__dkim_key_directory": "/etc/passwd.d"}, "vhosting_mail_auth__dkim_key_directory"),
])
def test_bad_site_settings_are_refused(overrides, message):
    found = problems(**overrides)
    assert any(message in p for p in found), found


def test_a_selector_is_one_lower_case_dns_label():
    assert part.selector_name("S2026") == "s2026"
    assert part.selector_name("-a") is None and part.selector_name("a" * 64) is None and part.selector_name(None) is None
