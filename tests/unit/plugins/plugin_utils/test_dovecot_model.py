"""store: dovecot mailbox domains: validation, the accounts without secrets, sender logins, routing, the role's part."""
import pytest
from role_values import role_values as values

from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import DomainModelError, domain_model
from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import ModelError, host_model

HASH = "{SHA512-CRYPT}$6$iSBsExHOSlkiZOkV$xhxJnyPr08xT8Bd6Iky17gOLYvtLr2nXfygdbX6ebHglKENKRyENX1Fa28Li/LQmKL9ml5/CRF.fRhnTm/lU6."


def store(**overrides):
    definition = {
        "domain": "store.test", "class": "mailbox", "store": "dovecot",
        "mailboxes": {"Alice": {"password": "alice-secret"}, "bob": {"password_hash": HASH}},
        "aliases": {"sales": "alice@store.test", "team": ["alice@store.test", "bob@store.test"],
                    "ext": "someone@elsewhere.test"},
    }
    definition.update(overrides)
    return {"vhosting_domain__store": definition,
            "vhosting_domain__virt": {"domain": "virt.test", "class": "mailbox", "mailboxes": ["carol"],
                                      "aliases": {"to-alice": "alice@store.test"}}}


def problems(definitions):
    with pytest.raises(DomainModelError) as info:
        domain_model(definitions)
    return str(info.value)


def test_the_accounts_carry_where_the_password_is_not_the_password():
    model = domain_model(store())
    assert model["dovecot_domains"] == ["store.test"]
    assert model["mailbox_domains"] == ["store.test", "virt.test"]
    assert model["dovecot_users"] == [
        {"login": "alice@store.test", "varname": "vhosting_domain__store", "key": "Alice",
         "home": "/var/mail/vhosts/store.test/alice", "uid": 5000, "gid": 5000},
        {"login": "bob@store.test", "varname": "vhosting_domain__store", "key": "bob",
         "home": "/var/mail/vhosts/store.test/bob", "uid": 5000, "gid": 5000},
    ]
    assert "alice-secret" not in repr(model) and HASH not in repr(model)
    # Recipient validation at RCPT stays with virtual_mailbox_maps.
    assert "alice@store.test" in model["virtual_mailbox_map"]


def test_an_account_owns_its_address_and_the_aliases_that_deliver_to_it():
    logins = domain_model(store())["sender_logins"]
    assert logins == {
        "alice@store.test": ["alice@store.test"],
        "bob@store.test": ["bob@store.test"],
        "sales@store.test": ["alice@store.test"],
        "team@store.test": ["alice@store.test", "bob@store.test"],
        # An alias of another hosted domain that delivers to alice.
        "to-alice@virt.test": ["alice@store.test"],
    }


@pytest.mark.parametrize("mailboxes, message", [
    ({"alice": None}, "needs exactly one of password"),
    (["alice"], "needs exactly one of password"),
    ({"alice": {"password": "x", "password_hash": HASH}}, "needs exactly one of password"),
    ({"alice": {"password": ""}}, "password must be a non-empty string"),
    ({"alice": {"password_hash": "$6$no-scheme"}}, "password_hash must be {SCHEME}hash"),
    ({"alice": {"password": "x", "format": "mbox"}}, "a store: dovecot mailbox is a Maildir"),
])
def test_bad_accounts_are_refused_naming_the_mailbox_never_the_secret(mailboxes, message):
    text = problems(store(mailboxes=mailboxes))
    assert message in text
    assert "vhosting_domain__store (domain store.test), mailbox alice@store.test" in text
    assert HASH not in text and "$6$no-scheme" not in text


def test_passwords_belong_to_dovecot_domains_only():
    text = problems({"vhosting_domain__v": {"domain": "v.test", "class": "mailbox",
                                            "mailboxes": {"a": {"password": "pw"}}}})
    assert "password is only for mailboxes of a domain with store: dovecot" in text
    assert "pw" not in text.replace("password", "")


def test_an_unknown_store_is_refused():
    assert "unknown store 'courier' (one of: virtual, dovecot)" in problems(store(store="courier"))


def test_dovecot_domains_get_a_transport_entry_first_in_transport_maps():
    model = host_model(values(vhosting_relay__transport={"elsewhere.test": "smtp:[mx.elsewhere.test]"}), store())
    part = model["domains_role"]
    assert model["maps"]["transport_map"] == {"store.test": "lmtp:unix:private/dovecot-lmtp"}
    assert part["tables"]["/etc/postfix/vhosting_transport"] == "transport_map"
    assert part["parameters"]["transport_maps"] == ["lmdb:/etc/postfix/vhosting_transport", "lmdb:/etc/postfix/transport"]
    # One owner for transport_maps: the domains role, while it has entries.
    assert "transport_maps" not in model["relay"]["parameters"]
    assert model["relay"]["tables"]["/etc/postfix/transport"] == "relay_transport_map"
    assert model["maps"]["relay_transport_map"] == {"elsewhere.test": "smtp:[mx.elsewhere.test]"}


def test_without_dovecot_domains_the_relay_role_keeps_transport_maps():
    model = host_model(values(vhosting_relay__transport={"elsewhere.test": "smtp:[mx.elsewhere.test]"}),
                       {"vhosting_domain__virt": {"domain": "virt.test", "class": "mailbox", "mailboxes": ["carol"]}})
    assert "transport_maps" not in model["domains_role"]["parameters"]
    assert model["relay"]["parameters"]["transport_maps"] == ["lmdb:/etc/postfix/transport"]
    assert model["dovecot"] == {"enabled": False, "parameters": {}, "services": [], "tables": {}, "users": [],
                                "packages": [], "dropins": ["/etc/dovecot/conf.d/05-vhosting-auth.conf",
                                                            "/etc/dovecot/conf.d/99-vhosting.conf"]}
    # What the role removes is read first by the host probe.
    assert {"/etc/dovecot/conf.d/99-vhosting.conf", "/etc/dovecot/vhosting-users"} <= set(model["probe"]["paths"])
    # The index of the transport table an earlier store left is stale.
    assert "/etc/postfix/vhosting_transport.lmdb" in model["stale_index_files"]["domains"]
    assert "/etc/postfix/vhosting_sender_logins.lmdb" in model["stale_index_files"]["dovecot"]


def test_the_dovecot_part_sasl_submission_and_sender_logins():
    model = host_model(values(), store())
    part = model["dovecot"]
    assert part["enabled"] and model["tls"]["source"] == "selfsigned"
    assert part["parameters"] == {"smtpd_sasl_type": "dovecot", "smtpd_sasl_path": "private/auth"}
    # The certificate is the tls part's.
    assert part["tls_cert_file"] == "/etc/vhosting-postfix/tls/selfsigned.crt"
    assert part["tls_key_file"] == "/etc/vhosting-postfix/tls/selfsigned.key"
    service, implicit = part["services"]
    assert (service["service"], service["type"], service["command"]) == ("submission", "inet", "smtpd")
    overrides = service["parameters"]
    assert overrides["smtpd_tls_security_level"] == "encrypt" and overrides["smtpd_tls_auth_only"] == "yes"
    # Port 465: the same rules, TLS from the first byte (RFC 8314).
    assert implicit["service"] == "submissions" and implicit["parameters"]["smtpd_tls_wrappermode"] == "yes"
    assert "smtpd_tls_security_level" not in implicit["parameters"]
    same = dict((k, v) for k, v in implicit["parameters"].items() if k not in ("smtpd_tls_wrappermode", "syslog_name"))
    assert same == dict((k, v) for k, v in overrides.items() if k not in ("smtpd_tls_security_level", "syslog_name"))
    assert implicit["parameters"]["syslog_name"] == "postfix/submissions"
    assert overrides["smtpd_sender_login_maps"] == "lmdb:/etc/postfix/vhosting_sender_logins"
    assert overrides["smtpd_sender_restrictions"].startswith("reject_sender_login_mismatch")
    assert overrides["smtpd_relay_restrictions"] == "permit_sasl_authenticated,reject"
    # A data file like every large table of the model.
    assert model["maps"]["sender_login_map"]["team@store.test"] == ["alice@store.test", "bob@store.test"]
    assert part["tables"] == {"/etc/postfix/vhosting_sender_logins": "sender_login_map"}
    assert part["lmtp_socket"] == "/var/spool/postfix/private/dovecot-lmtp"
    assert part["auth_socket"] == "/var/spool/postfix/private/auth"
    # SASL is never enabled for port 25 in main.cf.
    assert "smtpd_sasl_auth_enable" not in part["parameters"]


def test_without_submission_no_service_and_no_sender_login_table():
    model = host_model(values(vhosting_dovecot__submission=False, vhosting_dovecot__submissions=False), store())
    part = model["dovecot"]
    assert part["services"] == [] and part["tables"] == {} and "sender_login_map" not in model["maps"]
    only_465 = host_model(values(vhosting_dovecot__submission=False), store())["dovecot"]
    assert [s["service"] for s in only_465["services"]] == ["submissions"]


@pytest.mark.parametrize("overrides, message", [
    ({"vhosting_dovecot__lmtp_transport": "lmtp:inet:127.0.0.1:24"}, "must be lmtp:unix:private/<name>"),
    ({"vhosting_dovecot__auth_socket": "/run/dovecot/auth"}, "must be private/<name>"),
    ({"vhosting_dovecot__users_file": "users"}, "must be an absolute file name"),
    ({"vhosting_dovecot__table_type": "texthash"}, "is not an indexed table type"),
    ({"vhosting_server__parameters": {"smtpd_sasl_type": "cyrus"}}, "smtpd_sasl_type set by the vhosting.postfix.dovecot role"),
])
def test_bad_dovecot_settings_are_refused(overrides, message):
    with pytest.raises(ModelError) as info:
        host_model(values(**overrides), store())
    assert message in str(info.value)


def test_given_certificates_are_dovecots_and_the_sni_names_get_local_name_blocks():
    part = host_model(values(vhosting_tls__source="files", vhosting_tls__cert_file="/etc/ssl/mx.pem",
                             vhosting_tls__key_file="/etc/ssl/mx.key",
                             vhosting_tls__names=[{"name": "mail.store.test", "cert_file": "/etc/ssl/store.pem",
                                                   "key_file": "/etc/ssl/store.key"}]), store())["dovecot"]
    assert (part["tls_cert_file"], part["tls_key_file"]) == ("/etc/ssl/mx.pem", "/etc/ssl/mx.key")
    assert part["tls_sni"] == [{"name": "mail.store.test", "cert": "/etc/ssl/store.pem", "key": "/etc/ssl/store.key"}]


def test_the_old_certificate_variables_name_their_successors():
    from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import check_variable_names

    found = check_variable_names(["vhosting_dovecot__tls_cert_file", "vhosting_dovecot__selfsigned_key_file"], {})
    assert found == ["vhosting_dovecot__selfsigned_key_file: this variable was removed; use vhosting_tls__selfsigned_key_file",
                     "vhosting_dovecot__tls_cert_file: this variable was removed; use vhosting_tls__cert_file (the "
                     "vhosting.postfix.tls role owns the certificates)"]


def test_the_probe_reads_the_service():
    model = host_model(values(), store())
    assert "dovecot.service" in model["probe"]["units"]


def test_the_fact_carries_no_secret():
    model = host_model(values(), store())
    assert "alice-secret" not in repr(model) and HASH not in repr(model)


def test_with_a_database_the_sender_logins_are_rows_of_the_host_named_in_main_cf():
    database = {"host": "db.example.test", "name": "vhosting_postfix", "user": "postfix_ro", "password": "s3cret"}
    model = host_model(values(vhosting_domains__backend="mysql", vhosting_domains__database=database), store(),
                       hostname="mx1")
    part, role = model["dovecot"], model["domains_role"]
    # In main.cf (proxymap serves only the tables main.cf names), not as a master.cf override.
    assert part["parameters"]["smtpd_sender_login_maps"] == "proxy:mysql:/etc/postfix/vhosting-db/sender_login_map.cf"
    assert all("smtpd_sender_login_maps" not in s["parameters"] for s in part["services"])
    assert all(s["parameters"]["smtpd_sender_restrictions"].startswith("reject_sender_login_mismatch")
               for s in part["services"])
    # The network part writes the reference file (the domains role's table type), loads and checks the rows.
    assert part["tables"] == {} and "/etc/postfix/vhosting_sender_logins" not in model["stale_index_files"]["dovecot"]
    assert role["tables"]["/etc/postfix/vhosting_sender_logins"] == "sender_login_map"
    entry = [t for t in role["network"]["tables"] if t["name"] == "sender_login_map"][0]
    assert entry["load"] and entry["file"] == "lmdb:/etc/postfix/vhosting_sender_logins"
    assert "map_name = 'sender_login_map'" in dict(entry["options"])["query"]
    assert model["maps"]["sender_login_map"]["team@store.test"] == ["alice@store.test", "bob@store.test"]
    assert part["database_sender_logins"] == {"path": "/etc/postfix/vhosting_sender_logins"}
    assert "s3cret" not in repr(model)
