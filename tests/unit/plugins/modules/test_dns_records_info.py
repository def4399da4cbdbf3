# -*- coding: utf-8 -*-
"""dns_records_info: the records of a host's domains from its model and its DKIM .txt files, read-only."""
import base64
import json
import os

import pytest

from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import dns_records_info
from ansible_collections.vhosting.postfix.plugins.modules.dns_records_info import DnsRecordsError, dns_records

RSA = "v=DKIM1; k=rsa; p=" + base64.b64encode(bytes(range(256)) + bytes(38)).decode()
ED25519 = "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(range(32))).decode()


def model(**domains):
    dns = {"myhostname": "mx1.signed.test", "ttl": 3600,
           "domains": {"signed.test": {"spf": "v=spf1 mx -all", "dmarc": "v=DMARC1; p=reject",
                                       "selectors": ["s1", "s2"], "retired": ["s0"]}},
           "backup_domains": ["other.test"], "srs_domain": "mx1.signed.test", "srs_spf": "v=spf1 a -all"}
    dns.update(domains)
    return dns


@pytest.fixture
def keys(tmp_path):
    directory = tmp_path / "keys"
    (directory / "signed.test").mkdir(parents=True)
    (directory / "signed.test" / "s1.txt").write_text(RSA + "\n")
    (directory / "signed.test" / "s2.txt").write_text(ED25519 + "\n")
    private = directory / "signed.test" / "s1.private"
    private.write_text("-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n")
    private.chmod(0o000)
    return directory


def by_name(records):
    return dict(((r["name"], r["type"]), r) for r in records)


def test_every_record_of_a_hosted_and_a_backup_domain(keys):
    records, missing = dns_records(model(), str(keys))
    assert missing == []
    found = by_name(records)
    assert found[("signed.test", "MX")]["value"] == "10 mx1.signed.test."
    assert found[("other.test", "MX")] == {"domain": "other.test", "name": "other.test", "type": "MX",
                                           "value": "20 mx1.signed.test.", "ttl": 3600, "state": "present"}
    assert found[("signed.test", "TXT")]["value"] == "v=spf1 mx -all"
    assert found[("_dmarc.signed.test", "TXT")]["value"] == "v=DMARC1; p=reject"
    assert found[("s1._domainkey.signed.test", "TXT")]["value"] == RSA
    assert found[("s2._domainkey.signed.test", "TXT")]["value"] == ED25519
    # The SRS domain is below the hosted domain: its SPF record goes with it.
    assert found[("mx1.signed.test", "TXT")] == {"domain": "signed.test", "name": "mx1.signed.test", "type": "TXT",
                                                 "value": "v=spf1 a -all", "ttl": 3600, "state": "present"}
    assert len(records) == 8
    assert all(r["ttl"] == 3600 for r in records)


def test_a_retired_selector_is_a_record_to_delete(keys):
    records, _missing = dns_records(model(), str(keys))
    assert by_name(records)[("s0._domainkey.signed.test", "TXT")] == {
        "domain": "signed.test", "name": "s0._domainkey.signed.test", "type": "TXT", "value": None, "ttl": 3600,
        "state": "absent"}


def test_records_are_sorted_from_the_root(keys):
    records, _missing = dns_records(model(), str(keys))
    assert [(r["name"], r["type"]) for r in records] == [
        ("other.test", "MX"), ("signed.test", "MX"), ("signed.test", "TXT"), ("_dmarc.signed.test", "TXT"),
        ("s0._domainkey.signed.test", "TXT"), ("s1._domainkey.signed.test", "TXT"),
        ("s2._domainkey.signed.test", "TXT"), ("mx1.signed.test", "TXT")]


def test_no_spf_no_dmarc_no_srs(keys):
    dns = model(domains={"signed.test": {"spf": None, "dmarc": None, "selectors": [], "retired": []}},
                backup_domains=[], srs_domain=None, srs_spf=None)
    records, missing = dns_records(dns, str(keys))
    assert records == [{"domain": "signed.test", "name": "signed.test", "type": "MX", "value": "10 mx1.signed.test.",
                        "ttl": 3600, "state": "present"}]
    assert missing == []


def test_the_srs_spf_of_a_hosted_srs_domain_is_its_own_spf(keys):
    records, _missing = dns_records(model(srs_domain="signed.test", srs_spf="v=spf1 a -all"), str(keys))
    assert [r["value"] for r in records if r["name"] == "signed.test" and r["type"] == "TXT"] == ["v=spf1 mx -all"]


def test_an_srs_domain_elsewhere_is_its_own_domain(keys):
    records, _missing = dns_records(model(srs_domain="srs.example.net"), str(keys))
    assert by_name(records)[("srs.example.net", "TXT")]["domain"] == "srs.example.net"


def test_a_missing_key_file_is_reported_not_invented(keys):
    (keys / "signed.test" / "s2.txt").unlink()
    records, missing = dns_records(model(), str(keys))
    assert missing == [{"domain": "signed.test", "selector": "s2", "path": str(keys / "signed.test" / "s2.txt")}]
    assert ("s2._domainkey.signed.test", "TXT") not in by_name(records)


@pytest.mark.parametrize("selector", ["S1", "s_1", "-s1", "s1-", "a" * 64, "../s1", "s1/x", "", "s1.s2", "s1\n", 7])
def test_a_selector_that_is_not_a_dns_label_is_refused(keys, selector):
    dns = model(domains={"signed.test": {"spf": None, "dmarc": None, "selectors": [selector], "retired": []}})
    with pytest.raises(DnsRecordsError, match=r"dns.domains\[signed.test\].selectors: .* not DKIM selectors"):
        dns_records(dns, str(keys))


def test_a_retired_selector_that_is_not_a_label_is_refused(keys):
    dns = model(domains={"signed.test": {"spf": None, "dmarc": None, "selectors": [], "retired": ["../../etc"]}})
    with pytest.raises(DnsRecordsError, match="retired: '../../etc' not DKIM selectors"):
        dns_records(dns, str(keys))


@pytest.mark.parametrize("domain", ["../etc", "Signed.test", "signed", "signed..test", "-x.test", "x_y.test",
                                    "signed.test/..", ".signed.test", "signed.test."])
def test_a_domain_that_is_not_dns_labels_is_refused(keys, domain):
    dns = model(domains={domain: {"spf": None, "dmarc": None, "selectors": ["s1"], "retired": []}})
    with pytest.raises(DnsRecordsError, match="dns.domains: .* not domain names"):
        dns_records(dns, str(keys))


def test_bad_backup_srs_and_hostnames_are_refused(keys):
    with pytest.raises(DnsRecordsError, match="dns.backup_domains: 'a b.test' not domain names"):
        dns_records(model(backup_domains=["a b.test"]), str(keys))
    with pytest.raises(DnsRecordsError, match="dns.srs_domain"):
        dns_records(model(srs_domain="../srs"), str(keys))
    with pytest.raises(DnsRecordsError, match="dns.myhostname"):
        dns_records(model(myhostname="mx1"), str(keys))
    with pytest.raises(DnsRecordsError, match="both hosted here and backed up here"):
        dns_records(model(backup_domains=["signed.test"]), str(keys))


def test_a_selector_both_in_use_and_retired_is_refused(keys):
    dns = model(domains={"signed.test": {"spf": None, "dmarc": None, "selectors": ["s1"], "retired": ["s1"]}})
    with pytest.raises(DnsRecordsError, match="s1 both in use and retired"):
        dns_records(dns, str(keys))


def test_spf_and_dmarc_must_be_what_they_say(keys):
    with pytest.raises(DnsRecordsError, match=r"spf must start with v=spf1"):
        dns_records(model(domains={"signed.test": {"spf": "v=DMARC1; p=none", "selectors": []}}), str(keys))
    with pytest.raises(DnsRecordsError, match=r"dmarc must be one line"):
        dns_records(model(domains={"signed.test": {"dmarc": "v=DMARC1;\np=none", "selectors": []}}), str(keys))
    with pytest.raises(DnsRecordsError, match="unknown keys dkim"):
        dns_records(model(domains={"signed.test": {"dkim": True}}), str(keys))


@pytest.mark.parametrize("content, problem", [
    ("s1._domainkey IN TXT ( \"v=DKIM1; k=rsa; \" \"p=MIIB\" )", "not a tag=value pair"),
    ("k=rsa; v=DKIM1; p=MIIB", "must start with v=DKIM1"),
    ("v=DKIM1; k=dsa; p=MIIB", "k= must be one of rsa, ed25519"),
    ("v=DKIM1; k=rsa; p=", "p= must be the public key in base64"),
    ("v=DKIM1; k=rsa; p=MII B", "p= must be the public key in base64"),
    ("v=DKIM1; k=ed25519; p=AAAA", "44 base64 characters"),
    ("v=DKIM1; k=rsa; p=MIIB; x=\"oops\"", "not expected"),
    ("v=DKIM1; k=rsa; k=rsa; p=MIIB", "given twice"),
    ("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", "one line of printable ASCII"),
])
def test_a_txt_file_that_is_not_one_dkim_record_is_refused(keys, content, problem):
    (keys / "signed.test" / "s1.txt").write_text(content + "\n")
    with pytest.raises(DnsRecordsError, match="s1.txt does not hold one DKIM key record") as raised:
        dns_records(model(), str(keys))
    assert problem in str(raised.value)


def test_the_optional_tags_of_opendkim_genkey_are_accepted(keys):
    text = "v=DKIM1; h=sha256; k=rsa; s=email; t=s; p=" + RSA.split("p=", 1)[1]
    (keys / "signed.test" / "s1.txt").write_text(text + "\n")
    records, _missing = dns_records(model(), str(keys))
    assert by_name(records)[("s1._domainkey.signed.test", "TXT")]["value"] == text


def test_a_linked_or_special_txt_file_is_refused(keys, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text(RSA)
    (keys / "signed.test" / "s1.txt").unlink()
    (keys / "signed.test" / "s1.txt").symlink_to(outside)
    with pytest.raises(DnsRecordsError, match="is a symbolic link"):
        dns_records(model(), str(keys))
    (keys / "signed.test" / "s1.txt").unlink()
    (keys / "signed.test" / "s1.txt").mkdir()
    with pytest.raises(DnsRecordsError, match="not a regular file"):
        dns_records(model(), str(keys))


def test_a_huge_txt_file_is_refused(keys):
    (keys / "signed.test" / "s1.txt").write_text(RSA + "A" * 9000)
    with pytest.raises(DnsRecordsError, match="larger than 8192 bytes"):
        dns_records(model(), str(keys))


def test_the_private_key_is_never_opened(keys, monkeypatch):
    opened = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(dns_records_info.os, "open", spy)
    dns_records(model(), str(keys))
    assert sorted(os.path.basename(p) for p in opened) == ["s1.txt", "s2.txt"]


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            dns_records_info.main()
    return json.loads(capsys.readouterr().out)


def test_the_module_in_check_mode_warns_about_missing_keys_and_changes_nothing(keys, capsys, monkeypatch):
    # Where a warning goes depends on what else the process imported (a controller sends it to the display):
    # the module's call is what is checked.
    warned = []
    monkeypatch.setattr(dns_records_info.AnsibleModule, "warn", lambda self, msg, *a, **kw: warned.append(msg))
    (keys / "signed.test" / "s2.txt").unlink()
    before = sorted(os.listdir(str(keys / "signed.test")))
    result = run(capsys, dns=model(), key_directory=str(keys), _ansible_check_mode=True)
    assert result["changed"] is False and "failed" not in result
    assert [m["selector"] for m in result["missing"]] == ["s2"]
    assert len(warned) == 1 and warned[0].startswith("DKIM selector s2 of signed.test: ")
    assert len(result["records"]) == 7
    assert sorted(os.listdir(str(keys / "signed.test"))) == before


def test_the_module_fails_with_the_reason(keys, capsys):
    result = run(capsys, dns=model(domains={"../x": {}}), key_directory=str(keys))
    assert result["failed"] is True
    assert "not domain names" in result["msg"]
