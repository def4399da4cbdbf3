# -*- coding: utf-8 -*-
"""The DNS records of several mail hosts, merged and rendered on the control node."""
import base64
import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.vhosting.postfix.plugins.filter import dns_records as plugin
from ansible_collections.vhosting.postfix.plugins.plugin_utils._dns_records import (
    DnsRecordsError,
    merge,
    mta_sts_id,
    nsupdate_items,
    quote_txt,
    shorten,
    split_txt,
    table,
    zone_fragment,
)

# An RSA 2048 record: about 400 characters.
DKIM = "v=DKIM1; k=rsa; p=" + base64.b64encode(bytes(range(256)) + bytes(38)).decode()


def rec(name, rtype, value, domain="signed.test", ttl=3600, state="present"):
    return {"domain": domain, "name": name, "type": rtype, "value": value, "ttl": ttl, "state": state}


def mx1():
    return {"host": "mx1", "records": [
        rec("signed.test", "MX", "10 mx1.signed.test."),
        rec("signed.test", "TXT", "v=spf1 mx -all"),
        rec("_dmarc.signed.test", "TXT", "v=DMARC1; p=reject"),
        rec("s1._domainkey.signed.test", "TXT", DKIM),
        rec("s0._domainkey.signed.test", "TXT", None, state="absent"),
        rec("mx1.signed.test", "TXT", "v=spf1 a -all", domain="mx1.signed.test"),
        rec("other.test", "MX", "20 mx1.signed.test.", domain="other.test"),
    ]}


def mx2():
    return {"host": "mx2", "records": [
        rec("signed.test", "MX", "20 mx2.signed.test.", ttl=300),
        rec("other.test", "MX", "10 mx2.signed.test.", domain="other.test"),
        rec("other.test", "TXT", "v=spf1 mx -all", domain="other.test"),
    ]}


def names(records):
    return [(r["name"], r["type"], r["value"]) for r in records]


# --------------------------------------------------------------------------
# merge
# --------------------------------------------------------------------------

def test_merge_groups_per_domain_sorted_from_the_root():
    merged = merge([mx1(), mx2()])
    assert list(merged) == ["other.test", "signed.test"]
    assert names(merged["signed.test"]) == [
        ("signed.test", "MX", "10 mx1.signed.test."),
        ("signed.test", "MX", "20 mx2.signed.test."),
        ("signed.test", "TXT", "v=spf1 mx -all"),
        ("_dmarc.signed.test", "TXT", "v=DMARC1; p=reject"),
        ("s0._domainkey.signed.test", "TXT", None),
        ("s1._domainkey.signed.test", "TXT", DKIM),
        # The SRS domain's record goes with the hosted domain it is in.
        ("mx1.signed.test", "TXT", "v=spf1 a -all"),
    ]
    assert names(merged["other.test"]) == [("other.test", "MX", "10 mx2.signed.test."),
                                           ("other.test", "MX", "20 mx1.signed.test."),
                                           ("other.test", "TXT", "v=spf1 mx -all")]
    assert merged["signed.test"][-1]["domain"] == "signed.test"


def test_an_rrset_has_the_smallest_ttl_and_records_name_their_hosts():
    merged = merge([mx1(), mx2()])
    mx = [r for r in merged["signed.test"] if r["type"] == "MX"]
    assert [r["ttl"] for r in mx] == [300, 300]
    assert [r["hosts"] for r in mx] == [["mx1"], ["mx2"]]


def test_the_same_record_from_several_hosts_is_one_record():
    one = {"host": "mx1", "records": [rec("signed.test", "TXT", "v=spf1 mx -all"), rec("signed.test", "MX", "10 mx.signed.test.")]}
    two = {"host": "mx2", "records": [rec("signed.test", "TXT", "v=spf1 mx -all"), rec("signed.test", "MX", "10 mx.signed.test.")]}
    merged = merge([one, two, {"host": "mx3", "records": []}])
    assert names(merged["signed.test"]) == [("signed.test", "MX", "10 mx.signed.test."),
                                            ("signed.test", "TXT", "v=spf1 mx -all")]
    assert merged["signed.test"][1]["hosts"] == ["mx1", "mx2"]


def test_names_and_types_are_normalised():
    merged = merge([{"host": "mx1", "records": [rec("Signed.TEST.", "mx", "10 MX1.signed.test.", domain="SIGNED.test")]}])
    assert merged == {"signed.test": [{"domain": "signed.test", "name": "signed.test", "type": "MX",
                                       "value": "10 mx1.signed.test.", "ttl": 3600, "state": "present",
                                       "hosts": ["mx1"]}]}


def test_merge_of_nothing():
    assert merge([]) == {}
    assert merge(None) == {}


def test_two_keys_for_one_selector_name_both_hosts():
    other = dict(mx2(), records=[rec("s1._domainkey.signed.test", "TXT", DKIM.replace("AAEC", "ZZZZ"))])
    with pytest.raises(DnsRecordsError) as raised:
        merge([mx1(), other])
    message = str(raised.value)
    assert "DKIM selector s1 of signed.test" in message
    assert "mx1 and mx2 have different keys" in message
    assert "give each host its own selector" in message


def test_two_spf_records_name_both_hosts():
    other = dict(mx2(), records=[rec("signed.test", "TXT", "v=spf1 a mx -all")])
    with pytest.raises(DnsRecordsError, match=r"signed.test TXT: mx1 and mx2 want different SPF records .*RFC 7208"):
        merge([mx1(), other])


def test_two_dmarc_records_name_both_hosts():
    other = dict(mx2(), records=[rec("_dmarc.signed.test", "TXT", "v=DMARC1; p=none")])
    with pytest.raises(DnsRecordsError, match=r"_dmarc.signed.test TXT: mx1 and mx2 want different DMARC records"):
        merge([mx1(), other])


def test_two_srs_spf_records_name_both_hosts():
    other = dict(mx2(), records=[rec("mx1.signed.test", "TXT", "v=spf1 -all", domain="mx1.signed.test")])
    with pytest.raises(DnsRecordsError, match=r"mx1.signed.test TXT: mx1 and mx2 want different SPF records"):
        merge([mx1(), other])


def test_a_record_published_by_one_host_and_deleted_by_another_names_both():
    other = dict(mx2(), records=[rec("s0._domainkey.signed.test", "TXT", DKIM)])
    with pytest.raises(DnsRecordsError) as raised:
        merge([mx1(), other])
    message = str(raised.value)
    assert message.startswith("s0._domainkey.signed.test TXT: mx2 publishes it and mx1 deletes it")


def test_one_mx_target_with_two_preferences_is_refused():
    other = {"host": "mx1-clone", "records": [rec("signed.test", "MX", "20 mx1.signed.test.")]}
    with pytest.raises(DnsRecordsError, match=r"signed.test MX: mx1 gives '10 mx1.signed.test.' and mx1-clone gives "
                                              r"'20 mx1.signed.test.'"):
        merge([mx1(), other])


def test_an_absent_record_from_two_hosts_is_one():
    other = {"host": "mx2", "records": [rec("s0._domainkey.signed.test", "TXT", None, state="absent", ttl=60)]}
    merged = merge([mx1(), other])
    (absent,) = [r for r in merged["signed.test"] if r["state"] == "absent"]
    assert absent == {"domain": "signed.test", "name": "s0._domainkey.signed.test", "type": "TXT", "value": None,
                      "ttl": 60, "state": "absent", "hosts": ["mx1", "mx2"]}


@pytest.mark.parametrize("results, message", [
    ({"host": "mx1"}, "must be a list"),
    ([{"records": []}], "item 0: must be {host, records}"),
    ([{"host": "", "records": []}], "host must be the inventory name"),
    ([{"host": "mx1", "records": [rec("signed.test", "A", "192.0.2.1")]}], "type 'A' is not one of MX, TXT"),
    ([{"host": "mx1", "records": [rec("signed.test", "MX", "mx1.signed.test")]}], "is not 'PREFERENCE TARGET.'"),
    ([{"host": "mx1", "records": [rec("bad name.test", "TXT", "x")]}], "is not a DNS name"),
    ([{"host": "mx1", "records": [rec("signed.test", "TXT", None)]}], "has no value"),
    ([{"host": "mx1", "records": [rec("signed.test", "TXT", "x", ttl="1h")]}], "is not a TTL"),
    ([{"host": "mx1", "records": [rec("signed.test", "TXT", "x", state="gone")]}], "state 'gone'"),
])
def test_malformed_input_is_refused(results, message):
    with pytest.raises(DnsRecordsError) as raised:
        merge(results)
    assert message in str(raised.value)


# --------------------------------------------------------------------------
# TXT strings
# --------------------------------------------------------------------------

def unquote(text):
    """The strings of a quoted TXT value, unescaped (RFC 1035 5.1)."""
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    assert " ".join('"%s"' % s for s in strings) == text
    out = []
    for string in strings:
        data = bytearray()
        i = 0
        while i < len(string):
            if string[i] == "\\" and string[i + 1:i + 4].isdigit():
                data.append(int(string[i + 1:i + 4]))
                i += 4
            elif string[i] == "\\":
                data.extend(string[i + 1].encode())
                i += 2
            else:
                data.extend(string[i].encode())
                i += 1
        out.append(bytes(data))
    return out


def test_a_400_character_dkim_value_gives_two_strings():
    assert 390 < len(DKIM) < 420
    chunks = split_txt(DKIM)
    assert [len(c) for c in chunks] == [255, len(DKIM) - 255]
    assert "".join(chunks) == DKIM
    strings = unquote(quote_txt(DKIM))
    assert len(strings) == 2
    assert b"".join(strings).decode() == DKIM


def test_splitting_at_exactly_255_bytes_and_short_values():
    assert split_txt("a" * 255) == ["a" * 255]
    assert split_txt("a" * 256) == ["a" * 255, "a"]
    assert split_txt("a" * 510) == ["a" * 255] * 2
    assert split_txt("") == [""]
    assert quote_txt("v=spf1 mx -all") == '"v=spf1 mx -all"'


def test_splitting_counts_bytes_and_never_cuts_a_character():
    text = "é" * 200  # 400 bytes
    chunks = split_txt(text)
    assert [len(c.encode("utf-8")) for c in chunks] == [254, 146]
    assert "".join(chunks) == text


def test_quotes_and_backslashes_are_escaped():
    assert quote_txt('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
    assert quote_txt("tab\there é") == '"tab\\009here \\195\\169"'
    text = 'a"b\\c' * 100
    strings = unquote(quote_txt(text))
    assert all(len(s) <= 255 for s in strings)
    assert b"".join(strings).decode() == text


def test_dnspython_reads_the_quoted_form_as_one_record_of_several_strings():
    rdata = pytest.importorskip("dns.rdata")
    import dns.rdataclass
    import dns.rdatatype

    text = DKIM + ' "quoted" \\ é'
    parsed = rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, quote_txt(text))
    assert len(parsed.strings) == 2
    assert b"".join(parsed.strings).decode("utf-8") == text


def test_shorten_in_the_middle():
    assert shorten("abcdefghij", 0) == "abcdefghij"
    assert shorten("abcdefghij", 10) == "abcdefghij"
    assert shorten("abcdefghijklmnop", 9) == "abc...nop"


# --------------------------------------------------------------------------
# Table, zone fragment
# --------------------------------------------------------------------------

def test_table_is_aligned_shortens_long_values_and_says_so():
    text = table(merge([mx1(), mx2()]))
    lines = text.splitlines()
    assert lines[0] == "DNS records of 2 domains (from mx1 and mx2)"
    assert "signed.test:" in lines and "other.test:" in lines
    header = [line for line in lines if line.strip().startswith("NAME")]
    assert len(header) == 2 and header[0] == header[1]
    value_column = header[0].index("VALUE")
    rows = [line for line in lines if line.startswith("  ") and not line.strip().startswith("NAME")]
    assert all(len(line) > value_column and line[value_column - 2:value_column] == "  " for line in rows)
    dkim = [line for line in rows if line.strip().startswith("s1._domainkey")][0]
    assert "..." in dkim and DKIM not in text and len(dkim[value_column:]) == 72
    assert "s0._domainkey.signed.test  TXT   -     (delete)" in text
    assert "signed.test                MX    300   10 mx1.signed.test." in text
    assert lines[-1].startswith("Values longer than 72 characters are shortened in the middle")
    assert all(line == line.rstrip() for line in lines)


def test_table_in_full_and_of_nothing():
    text = table(merge([mx1()]), width=0)
    assert DKIM in text and "shortened" not in text
    assert table({}).startswith("No DNS records")


def test_zone_fragment_of_a_domain():
    fragment = zone_fragment(merge([mx1(), mx2()]), "signed.test")
    lines = fragment.splitlines()
    assert lines[0] == "; DNS records of signed.test, made by vhosting.postfix from the mail hosts mx1 and mx2."
    body = [line for line in lines if not line.startswith(";")]
    assert [line.split()[:4] for line in body] == [
        ["signed.test.", "300", "IN", "MX"], ["signed.test.", "300", "IN", "MX"],
        ["signed.test.", "3600", "IN", "TXT"], ["_dmarc.signed.test.", "3600", "IN", "TXT"],
        ["s1._domainkey.signed.test.", "3600", "IN", "TXT"], ["mx1.signed.test.", "3600", "IN", "TXT"]]
    assert body[0].endswith("IN  MX   10 mx1.signed.test.")
    assert body[2].endswith('IN  TXT  "v=spf1 mx -all"')
    assert body[4].endswith(quote_txt(DKIM))
    assert lines[-1] == "; deleted: s0._domainkey.signed.test. TXT"
    assert "s0._domainkey" not in "\n".join(body)
    assert fragment.endswith("\n")


def test_zone_fragment_of_an_unknown_domain():
    with pytest.raises(DnsRecordsError, match="no records of nowhere.test"):
        zone_fragment(merge([mx1()]), "nowhere.test")


def test_dnspython_reads_the_zone_fragment():
    zone = pytest.importorskip("dns.zone")
    import dns.rdatatype

    merged = merge([mx1(), mx2()])
    text = "$ORIGIN signed.test.\n@ 3600 IN SOA ns. host. 1 1 1 1 1\n@ 3600 IN NS ns.\n" + zone_fragment(merged, "signed.test")
    parsed = zone.from_text(text, origin="signed.test.", relativize=False)
    txt = parsed.find_rdataset("s1._domainkey.signed.test.", dns.rdatatype.TXT)
    assert b"".join(list(txt)[0].strings).decode() == DKIM
    mx = parsed.find_rdataset("signed.test.", dns.rdatatype.MX)
    assert sorted(r.to_text() for r in mx) == ["10 mx1.signed.test.", "20 mx2.signed.test."]


# --------------------------------------------------------------------------
# nsupdate
# --------------------------------------------------------------------------

def test_nsupdate_items_one_per_rrset():
    items = nsupdate_items(merge([mx1(), mx2()]))
    by_record = dict(((i["record"], i["type"]), i) for i in items)
    assert by_record[("signed.test.", "MX")] == {"zone": "signed.test", "record": "signed.test.", "type": "MX",
                                                 "value": ["10 mx1.signed.test.", "20 mx2.signed.test."], "ttl": 300,
                                                 "state": "present"}
    assert by_record[("signed.test.", "TXT")]["value"] == ['"v=spf1 mx -all"']
    dkim = by_record[("s1._domainkey.signed.test.", "TXT")]["value"]
    assert len(dkim) == 1 and len(unquote(dkim[0])) == 2
    assert by_record[("s0._domainkey.signed.test.", "TXT")] == {
        "zone": "signed.test", "record": "s0._domainkey.signed.test.", "type": "TXT", "value": [], "ttl": 3600,
        "state": "absent"}
    assert by_record[("other.test.", "MX")]["zone"] == "other.test"
    assert len(items) == 8


def test_nsupdate_zone_is_the_longest_suffix_else_the_domain():
    merged = merge([mx1(), mx2()])
    zones = {(i["record"], i["type"]): i["zone"]
             for i in nsupdate_items(merged, ["test", "signed.test.", "_domainkey.signed.test", "elsewhere.test"])}
    assert zones[("s1._domainkey.signed.test.", "TXT")] == "_domainkey.signed.test"
    assert zones[("_dmarc.signed.test.", "TXT")] == "signed.test"
    assert zones[("other.test.", "MX")] == "test"
    zones = {(i["record"], i["type"]): i["zone"] for i in nsupdate_items(merged, ["ed.test", "signed.test"])}
    # Whole labels only: signed.test is not within ed.test; no zone for other.test -> its domain.
    assert zones[("signed.test.", "MX")] == "signed.test"
    assert zones[("other.test.", "MX")] == "other.test"


def test_nsupdate_keep_adds_values_to_the_replaced_rrsets():
    merged = merge([mx1()])
    keep = [{"name": "signed.test.", "type": "TXT", "value": "google-site-verification=abc"},
            {"name": "signed.test", "type": "MX", "value": "30 backup.provider.test."},
            {"name": "untouched.test", "type": "TXT", "value": "x"}]
    items = nsupdate_items(merged, keep=keep)
    by_record = dict(((i["record"], i["type"]), i) for i in items)
    assert by_record[("signed.test.", "TXT")]["value"] == ['"v=spf1 mx -all"', '"google-site-verification=abc"']
    assert by_record[("signed.test.", "MX")]["value"] == ["10 mx1.signed.test.", "30 backup.provider.test."]
    assert ("untouched.test.", "TXT") not in by_record


def test_nsupdate_keep_refuses_a_second_spf_record():
    keep = [{"name": "signed.test", "type": "TXT", "value": "v=spf1 include:provider.test -all"}]
    with pytest.raises(DnsRecordsError, match="second SPF record"):
        nsupdate_items(merge([mx1()]), keep=keep)


def test_nsupdate_bad_zones():
    with pytest.raises(DnsRecordsError, match="zones must be a list"):
        nsupdate_items(merge([mx1()]), "signed.test")
    with pytest.raises(DnsRecordsError, match=r"zones\[0\]"):
        nsupdate_items(merge([mx1()]), ["not a zone"])


# --------------------------------------------------------------------------
# The filter plugin
# --------------------------------------------------------------------------

def test_filters_are_registered():
    filters = plugin.FilterModule().filters()
    assert sorted(filters) == ["dns_nsupdate_items", "dns_records_merge", "dns_records_table", "dns_zone_fragment"]
    assert filters["dns_records_merge"] is plugin.dns_records_merge


def test_filter_errors_are_ansible_filter_errors_naming_the_filter():
    other = dict(mx2(), records=[rec("s1._domainkey.signed.test", "TXT", DKIM + "A")])
    with pytest.raises(AnsibleFilterError, match=r"vhosting.postfix.dns_records_merge: DKIM selector s1 .*mx1 and mx2"):
        plugin.dns_records_merge([mx1(), other])
    with pytest.raises(AnsibleFilterError, match="vhosting.postfix.dns_zone_fragment: no records of x.test"):
        plugin.dns_zone_fragment({}, "x.test")


def test_filters_end_to_end():
    merged = plugin.dns_records_merge([mx1(), mx2()])
    assert plugin.dns_records_table(merged).startswith("DNS records of 2 domains")
    assert plugin.dns_zone_fragment(merged, "other.test").count(" IN ") == 3
    assert len(plugin.dns_nsupdate_items(merged, ["signed.test"])) == 8


# --------------------------------------------------------------------------
# MTA-STS and TLS reporting
# --------------------------------------------------------------------------

def with_mta_sts(result, domains, mode="enforce", max_age=604800, rua="mailto:tlsrpt@signed.test"):
    return dict(result, mta_sts={"mode": mode, "max_age": max_age, "rua": rua}, mta_sts_domains=domains)


def test_the_mta_sts_policy_lists_every_mx_of_the_domain_primaries_and_backups():
    merged = merge([with_mta_sts(mx1(), ["signed.test"]), mx2()])
    records = dict(((r["name"], r["type"]), r) for r in merged["signed.test"])
    record = records[("_mta-sts.signed.test", "TXT")]
    # mx2 backs signed.test up (preference 20): its name is in the policy too, or senders would refuse it.
    assert record["policy"] == ("version: STSv1\r\nmode: enforce\r\nmx: mx1.signed.test\r\nmx: mx2.signed.test\r\n"
                                "max_age: 604800\r\n")
    assert record["value"] == "v=STSv1; id=" + mta_sts_id(record["policy"])
    assert re.match(r"^v=STSv1; id=[0-9a-f]{32}$", record["value"])
    # The RRset's TTL is the MX's (300, the smallest).
    assert record["ttl"] == 300 and record["hosts"] == ["mx1"]
    assert records[("_smtp._tls.signed.test", "TXT")]["value"] == "v=TLSRPTv1; rua=mailto:tlsrpt@signed.test"
    # other.test asked for nothing.
    assert not [r for r in merged["other.test"] if r["name"].startswith("_")]
    # The renderings take them as TXT records.
    assert re.search(r'^_mta-sts\.signed\.test\.\s+300\s+IN\s+TXT\s+"v=STSv1; id=[0-9a-f]{32}"$',
                     zone_fragment(merged, "signed.test"), re.MULTILINE)


def test_the_policy_id_changes_when_an_mx_goes_away():
    both = merge([with_mta_sts(mx1(), ["signed.test"]), mx2()])
    alone = merge([with_mta_sts(mx1(), ["signed.test"])])
    value = dict(((r["name"]), r["value"]) for r in both["signed.test"])["_mta-sts.signed.test"]
    assert value != dict(((r["name"]), r["value"]) for r in alone["signed.test"])["_mta-sts.signed.test"]


def test_mode_none_with_a_report_address_publishes_only_the_tls_report_record():
    merged = merge([with_mta_sts(mx1(), ["signed.test"], mode="none")])
    assert [r["name"] for r in merged["signed.test"] if r["name"].startswith("_")] == [
        "_dmarc.signed.test", "_smtp._tls.signed.test"]


def test_two_hosts_of_a_domain_with_different_settings_are_named():
    with pytest.raises(DnsRecordsError) as info:
        merge([with_mta_sts(mx1(), ["signed.test"]), with_mta_sts(mx2(), ["signed.test"], mode="testing")])
    assert "signed.test: mx1 and mx2 want different MTA-STS or TLS report settings" in str(info.value)


@pytest.mark.parametrize("settings, message", [
    ({"mode": "strict"}, "MTA-STS mode 'strict' is not one of none, testing, enforce"),
    ({"mode": "enforce", "max_age": 40000000}, "MTA-STS max_age 40000000 is not a number of seconds"),
    ({"mode": "enforce", "rua": "tlsrpt@signed.test"}, "TLS report address 'tlsrpt@signed.test' is not mailto:"),
    ({"mode": "enforce", "rua": "mailto:a@b.test;x=1"}, "is not mailto:ADDRESS"),
])
def test_bad_mta_sts_settings_are_refused(settings, message):
    with pytest.raises(DnsRecordsError) as info:
        merge([dict(mx1(), mta_sts=settings, mta_sts_domains=["signed.test"])])
    assert message in str(info.value)
