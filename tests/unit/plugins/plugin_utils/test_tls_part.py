"""The tls part: where the certificates come from, Postfix's TLS parameters, the SNI table, bad input."""
import pytest
from role_values import role_values as values

from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model

DOMAINS = {"vhosting_domain__virt": {"domain": "virt.test", "class": "mailbox", "mailboxes": ["carol"]}}
ACME = dict(vhosting_tls__source="acme", vhosting_tls__acme_email="hostmaster@example.test",
            vhosting_tls__acme_directory="https://acme.test:14000/dir")


def refused(**overrides):
    with pytest.raises(ModelError) as info:
        host_model(values(**overrides), DOMAINS)
    return info.value.problems


def test_self_signed_by_default_with_starttls_offered_on_port_25_and_opportunistic_outbound():
    model = host_model(values(), DOMAINS)
    tls = model["tls"]
    assert tls["source"] == "selfsigned"
    assert tls["default"]["cert"] == "/etc/vhosting-postfix/tls/selfsigned.crt"
    assert tls["parameters"] == {
        "smtpd_tls_chain_files": ["/etc/vhosting-postfix/tls/selfsigned.key", "/etc/vhosting-postfix/tls/selfsigned.crt"],
        "smtpd_tls_security_level": "may", "smtpd_tls_received_header": "yes", "smtpd_tls_loglevel": "1",
        "smtp_tls_security_level": "may", "smtp_tls_loglevel": "1"}
    assert tls["packages"] == ["openssl"]
    # No SNI name: no table, and what an earlier run made is swept (index files and source).
    assert tls["tables"] == {} and "/etc/postfix/vhosting_tls_sni" in model["stale_files"]["tls"]
    assert "/etc/postfix/vhosting_tls_sni.lmdb" in model["stale_files"]["tls"]
    # Without ACME the renewal hook and the timer drop-in are removed again.
    assert "/etc/letsencrypt/renewal-hooks/deploy/vhosting-postfix" in model["stale_files"]["tls"]
    # The probe reads the certificate (not required: the role makes it).
    assert model["probe"]["certificates"] == [{"cert": "/etc/vhosting-postfix/tls/selfsigned.crt",
                                               "key": "/etc/vhosting-postfix/tls/selfsigned.key",
                                               "names": ["mx.example.test"], "required": False}]


def test_dane_outbound_asks_for_dnssec_lookups_and_only_then():
    tls = host_model(values(vhosting_tls__smtp_security_level="dane"), DOMAINS)["tls"]
    assert tls["parameters"]["smtp_tls_security_level"] == "dane"
    assert tls["parameters"]["smtp_dns_support_level"] == "dnssec"
    # Back to may: the parameter is no longer set (the postconf owner "tls" removes it from main.cf).
    assert "smtp_dns_support_level" not in host_model(values(), DOMAINS)["tls"]["parameters"]


def test_acme_one_lineage_per_name_and_an_sni_table_of_keys_and_chains():
    model = host_model(values(vhosting_tls__names=["mail.virt.test"], **ACME), DOMAINS)
    tls = model["tls"]
    assert [(c["name"], c["lineage"]) for c in tls["certificates"]] == [
        ("mx.example.test", "vhosting-mx.example.test"), ("mail.virt.test", "vhosting-mail.virt.test")]
    assert tls["default"]["cert"] == "/etc/letsencrypt/live/vhosting-mx.example.test/fullchain.pem"
    assert tls["parameters"]["smtpd_tls_chain_files"] == [
        "/etc/letsencrypt/live/vhosting-mx.example.test/privkey.pem",
        "/etc/letsencrypt/live/vhosting-mx.example.test/fullchain.pem"]
    assert tls["parameters"]["tls_server_sni_maps"] == "lmdb:/etc/postfix/vhosting_tls_sni"
    assert tls["tables"] == {"/etc/postfix/vhosting_tls_sni": "tls_sni"}
    assert model["maps"]["tls_sni"] == {"mail.virt.test": "/etc/letsencrypt/live/vhosting-mail.virt.test/privkey.pem "
                                                          "/etc/letsencrypt/live/vhosting-mail.virt.test/fullchain.pem"}
    assert tls["wanted_lineages"] == ["vhosting-mx.example.test.conf", "vhosting-mail.virt.test.conf"]
    assert tls["packages"] == ["certbot"] and "certbot.timer" in model["probe"]["units"]
    assert "/etc/letsencrypt/renewal" in model["probe"]["listings"]
    assert tls["acme"] == {"directory": "https://acme.test:14000/dir", "email": "hostmaster@example.test",
                           "key_type": "ecdsa", "calendar": "*-*-* 00,12:00:00", "random_delay": 43200}
    assert tls["sni_index_suffixes"] == [".lmdb"]
    assert "/etc/letsencrypt/renewal-hooks/deploy/vhosting-postfix" not in model["stale_files"]["tls"]


def test_given_files_are_required_on_the_host_with_the_names_they_must_cover():
    model = host_model(values(vhosting_tls__source="files", vhosting_tls__cert_file="/etc/ssl/mx.pem",
                              vhosting_tls__key_file="/etc/ssl/private/mx.key",
                              vhosting_tls__names=[{"name": "Mail.Virt.Test", "cert_file": "/etc/ssl/virt.pem",
                                                    "key_file": "/etc/ssl/private/virt.key"}]), DOMAINS)
    assert model["probe"]["certificates"] == [
        {"cert": "/etc/ssl/mx.pem", "key": "/etc/ssl/private/mx.key", "names": ["mx.example.test"], "required": True},
        {"cert": "/etc/ssl/virt.pem", "key": "/etc/ssl/private/virt.key", "names": ["mail.virt.test"],
         "required": True}]
    assert model["tls"]["packages"] == []


@pytest.mark.parametrize("overrides, message", [
    ({"vhosting_tls__source": "letsencrypt"}, "vhosting_tls__source: 'letsencrypt' is not one of acme, files, selfsigned"),
    (dict(ACME, vhosting_tls__acme_email=None), "vhosting_tls__acme_email: None is not an address"),
    (dict(ACME, vhosting_tls__acme_email="x@y.test; rm -rf /"), "vhosting_tls__acme_email: 'x@y.test; rm -rf /' is not"),
    (dict(ACME, vhosting_tls__acme_directory="http://acme.test/dir"), "vhosting_tls__acme_directory: 'http://acme.test/dir' is not an https:// URL"),
    (dict(ACME, vhosting_tls__acme_directory="https://acme.test/$(id)"), "is not an https:// URL"),
    (dict(ACME, vhosting_tls__renew_calendar="daily\nExecStart=/bin/sh"), "vhosting_tls__renew_calendar"),
    (dict(ACME, vhosting_tls__renew_random_delay=-1), "vhosting_tls__renew_random_delay: -1"),
    (dict(ACME, vhosting_tls__names=["mail.virt.test --server=https://evil"]),
     "vhosting_tls__names[0]: 'mail.virt.test --server=https://evil' is not a mail host name"),
    (dict(ACME, vhosting_tls__names=["mail.virt.test", "MAIL.virt.test"]), "vhosting_tls__names: mail.virt.test: given twice"),
    (dict(ACME, vhosting_tls__names=["mx.example.test"]), "given twice (or it is myhostname"),
    (dict(ACME, vhosting_tls__names=[{"name": "mail.virt.test", "cert_file": "/etc/ssl/a.pem"}]),
     "cert_file and key_file are only for vhosting_tls__source files"),
    ({"vhosting_tls__source": "files"}, "vhosting_tls__cert_file and vhosting_tls__key_file: give both"),
    ({"vhosting_tls__source": "files", "vhosting_tls__cert_file": "/etc/ssl/mx.pem", "vhosting_tls__key_file": "/etc/ssl/mx.key",
      "vhosting_tls__names": ["mail.virt.test"]}, "vhosting_tls__names: mail.virt.test: with vhosting_tls__source files, give cert_file and key_file"),
    ({"vhosting_tls__source": "files", "vhosting_tls__cert_file": "/etc/ssl/mx.pem", "vhosting_tls__key_file": "/etc/ssl/mx.key",
      "vhosting_tls__names": [{"name": "mail.virt.test", "cert_file": "/etc/shadow", "key_file": "/etc/ssl/k"}]},
     "vhosting_tls__names: mail.virt.test: cert_file '/etc/shadow' is /etc/shadow"),
    ({"vhosting_tls__names": [{"name": "mail.virt.test", "cert": "/etc/ssl/a.pem"}]}, "unknown key(s) cert"),
    ({"vhosting_tls__smtpd_security_level": "encrypt"}, "vhosting_tls__smtpd_security_level: 'encrypt' is not one of may, none"),
    ({"vhosting_tls__smtp_security_level": "verify"},
     "vhosting_tls__smtp_security_level: 'verify' is not one of may, encrypt, dane, none"),
])
def test_bad_tls_input_is_refused_naming_the_item(overrides, message):
    found = refused(**overrides)
    assert any(message in p for p in found), found


def test_the_tls_parameters_cannot_be_set_twice():
    found = refused(vhosting_server__parameters={"smtpd_tls_security_level": "encrypt"})
    assert any("smtpd_tls_security_level set by the vhosting.postfix.tls role" in p for p in found), found


def test_the_mta_sts_settings_are_in_the_fact_and_checked():
    model = host_model(values(vhosting_tls__mta_sts="enforce", vhosting_tls__tlsrpt_rua="mailto:tlsrpt@virt.test"),
                       DOMAINS)
    assert model["tls"]["mta_sts"] == {"mode": "enforce", "max_age": 604800, "rua": "mailto:tlsrpt@virt.test"}
    found = refused(vhosting_tls__mta_sts="enforce", vhosting_tls__tlsrpt_rua="tlsrpt@virt.test")
    assert any("TLS report address 'tlsrpt@virt.test' is not mailto:ADDRESS" in p for p in found), found
