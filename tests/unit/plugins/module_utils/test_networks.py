import importlib
import pathlib
import sys

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils import _networks
from ansible_collections.vhosting.postfix.plugins.module_utils._networks import (
    WIDE_OPT_IN,
    NetworkError,
    cidr_key,
    normalise_network,
    normalise_networks,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("127.0.0.0/8", "127.0.0.0/8"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("192.0.2.7/32", "192.0.2.7/32"),
        ("[192.0.2.7]", "192.0.2.7/32"),
        ("::1", "[::1]/128"),
        ("::1/128", "[::1]/128"),
        ("[::1]/128", "[::1]/128"),
        ("[::1]", "[::1]/128"),
        ("[2001:db8::]/32", "[2001:db8::]/32"),
        ("2001:DB8::/32", "[2001:db8::]/32"),
        ("2001:db8:0:0::/64", "[2001:db8::]/64"),
        (" 198.51.100.0/24 ", "198.51.100.0/24"),
        ("inline:{192.0.2.7=x, 10.0.0.0/8=y}", "inline:{192.0.2.7=x, 10.0.0.0/8=y}"),
    ],
)
def test_normalise_network(entry, expected):
    assert normalise_network(entry) == expected


@pytest.mark.parametrize("entry", ["cidr:/etc/postfix/clients", "lmdb:/etc/postfix/network_table"])
def test_a_file_table_of_networks_needs_the_wide_opt_in(entry):
    with pytest.raises(NetworkError, match=r"is a table whose networks this check cannot see .*"
                                           r"refused unless vhosting_server__mynetworks_allow_wide: true"):
        normalise_network(entry)
    assert normalise_network(entry, allow_wide=True) == entry


@pytest.mark.parametrize("entry, allow_wide", [
    ("static:all", False), ("static:all", True), ("pcre:/etc/postfix/clients.pcre", True),
    ("regexp:/etc/postfix/x", True), ("pgsql:/etc/postfix/x.cf", True), ("unionmap:{static:all}", True),
])
def test_a_table_that_can_match_every_client_is_refused_even_with_the_opt_in(entry, allow_wide):
    with pytest.raises(NetworkError, match=r"can match every client on the Internet"):
        normalise_network(entry, allow_wide=allow_wide)


@pytest.mark.parametrize("entry", ["inline:{0.0.0.0/0=x}", "inline:{192.0.2.7/24=x}", "inline:{mail.example=x}"])
def test_the_keys_of_an_inline_network_table_are_checked(entry):
    with pytest.raises(NetworkError, match=r"mynetworks \(in inline:"):
        normalise_network(entry)


@pytest.mark.parametrize(
    "entry, message",
    [
        ("192.168.1.10/8", "mynetworks: '192.168.1.10/8' has host bits set; "
                           "did you mean 192.0.0.0/8 or the host 192.168.1.10/32?"),
        ("10.1.2.3/8", "mynetworks: '10.1.2.3/8' has host bits set; did you mean 10.0.0.0/8 or the host 10.1.2.3/32?"),
        ("[2001:db8::1]/32", "mynetworks: '[2001:db8::1]/32' has host bits set; "
                             "did you mean [2001:db8::]/32 or the host [2001:db8::1]/128?"),
        ("::1/64", "mynetworks: '::1/64' has host bits set; did you mean [::]/64 or the host [::1]/128?"),
    ],
)
def test_host_bits_are_refused_with_the_network_and_the_host(entry, message):
    """No silent clearing: 192.168.1.10/8 would trust 16 million addresses, not one."""
    with pytest.raises(NetworkError) as err:
        normalise_network(entry)
    assert str(err.value) == message


def test_host_bits_are_refused_even_when_wide_networks_are_allowed():
    with pytest.raises(NetworkError, match="has host bits set; did you mean 0.0.0.0/0 or the host 0.0.0.1/32"):
        normalise_network("0.0.0.1/0", allow_wide=True)


@pytest.mark.parametrize(
    "entry, scope",
    [
        ("0.0.0.0/0", "'0.0.0.0/0' would trust every IPv4 address on the Internet to relay"),
        ("::/0", "'::/0' would trust every IPv6 address on the Internet to relay"),
        ("[::]/0", "'[::]/0' would trust every IPv6 address on the Internet to relay"),
        ("10.0.0.0/7", "'10.0.0.0/7' is wider than /8 (2^25 addresses trusted to relay)"),
        ("128.0.0.0/1", "'128.0.0.0/1' is wider than /8 (2^31 addresses trusted to relay)"),
        ("2000::/3", "'2000::/3' is wider than /32 (2^125 addresses trusted to relay)"),
        ("[2001:db8::]/31", "'[2001:db8::]/31' is wider than /32 (2^97 addresses trusted to relay)"),
    ],
)
def test_wide_networks_are_refused_naming_the_entry_and_the_opt_in(entry, scope):
    with pytest.raises(NetworkError) as err:
        normalise_network(entry)
    assert str(err.value) == "mynetworks: %s; refused unless vhosting_server__mynetworks_allow_wide: true" % scope


def test_the_opt_in_variable_is_a_module_constant():
    assert WIDE_OPT_IN == "vhosting_server__mynetworks_allow_wide"


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("::/0", "[::]/0"),
        ("10.0.0.0/7", "10.0.0.0/7"),
        ("2000::/3", "[2000::]/3"),
    ],
)
def test_wide_networks_with_the_opt_in(entry, expected):
    assert normalise_network(entry, allow_wide=True) == expected


@pytest.mark.parametrize("entry", ["10.0.0.0/8", "[2001:db8::]/32", "0.0.0.0/8"])
def test_the_widest_networks_accepted_by_default(entry):
    assert normalise_network(entry) == entry


@pytest.mark.parametrize(
    "entry, fragment",
    [
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid IP address or CIDR network (prefix length 33 is longer than 32)"),
        ("300.1.1.1", "'300.1.1.1' is not a valid"),
        ("10/8", "'10/8' is not a valid"),
        ("10.1/16", "'10.1/16' is not a valid"),
        ("010.0.0.1", "'010.0.0.1' is not a valid"),
        ("10.0.0.0/x", "prefix length 'x' is not a number"),
        ("10.0.0.0/255.0.0.0", "prefix length '255.0.0.0' is not a number"),
        ("10.0.0.0/", "prefix length '' is not a number"),
        ("::1/129", "'::1/129' is not a valid"),
        ("fe80::1%eth0", "a zone index (%eth0) has no place in a network"),
        ("example.com", "'example.com' is not a valid"),
        ("", "empty entry"),
        ("  ", "empty entry"),
        (5, "entry 5 is not a string"),
        (None, "entry None is not a string"),
    ],
)
def test_bad_network_names_the_entry(entry, fragment):
    with pytest.raises(NetworkError) as err:
        normalise_network(entry)
    assert fragment in str(err.value)
    assert str(err.value).startswith("mynetworks:")


def test_list_keeps_order_and_drops_duplicates():
    assert normalise_networks(["10.0.0.0/8", "127.0.0.0/8", "10.0.0.0/8", "::1", "[::1]/128", "::1/128"]) == [
        "10.0.0.0/8",
        "127.0.0.0/8",
        "[::1]/128",
    ]


def test_list_refuses_the_first_bad_entry():
    with pytest.raises(NetworkError, match=r"'10.0.0.1/8' has host bits set"):
        normalise_networks(["127.0.0.0/8", "10.0.0.1/8", "bad"])


def test_list_passes_allow_wide_on():
    assert normalise_networks(["0.0.0.0/0", "::/0"], allow_wide=True) == ["0.0.0.0/0", "[::]/0"]
    with pytest.raises(NetworkError, match=r"^vhosting_server__mynetworks: '0.0.0.0/0' would trust"):
        normalise_networks(["127.0.0.0/8", "0.0.0.0/0"], what="vhosting_server__mynetworks")


def test_string_input_is_split_like_postfix():
    assert normalise_networks("127.0.0.0/8, [::1]/128 192.0.2.0/24") == [
        "127.0.0.0/8",
        "[::1]/128",
        "192.0.2.0/24",
    ]


def test_error_names_the_variable():
    with pytest.raises(NetworkError, match=r"^vhosting_relay__clients: 'bad'"):
        normalise_networks(["bad"], what="vhosting_relay__clients")


def test_not_a_list():
    with pytest.raises(NetworkError, match="expected a list"):
        normalise_networks({"a": 1})


def test_none_is_an_empty_list():
    assert normalise_networks(None) == []


# ------------------------------------------------------------- cidr keys

@pytest.mark.parametrize(
    "key, expected",
    [
        ("192.0.2.0/24", "192.0.2.0/24"),
        ("198.51.100.7", "198.51.100.7/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),  # any width: a cidr table is not a list of trusted networks
        ("::/0", "[::]/0"),
        ("2001:db8::/32", "[2001:db8::]/32"),
        ("[2001:db8::]/32", "[2001:db8::]/32"),
    ],
)
def test_cidr_key(key, expected):
    assert cidr_key(key) == expected


@pytest.mark.parametrize(
    "key, message",
    [
        ("192.0.2.1/24", "'192.0.2.1/24' has host bits set; did you mean 192.0.2.0/24 or the host 192.0.2.1/32?"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid IP address or CIDR network (prefix length 33 is longer than 32)"),
        ("cidr:/etc/postfix/x", "'cidr:/etc/postfix/x' is not a valid IP address or CIDR network"),
        ("10/8", "'10/8' is not a valid IP address or CIDR network"),
    ],
)
def test_bad_cidr_key_is_named(key, message):
    with pytest.raises(NetworkError) as err:
        cidr_key(key)
    assert str(err.value).startswith(message)


# ---------------------------------------------------- one implementation

def test_no_netaddr_anywhere_in_the_collection():
    users = [str(p.relative_to(ROOT)) for p in (ROOT / "plugins").rglob("*.py") if "netaddr" in p.read_text()]
    assert users == []


def test_networks_work_without_netaddr(monkeypatch):
    """The filter, the action plugin and the module's core all import and validate with netaddr missing."""
    monkeypatch.setitem(sys.modules, "netaddr", None)  # "import netaddr" now raises ImportError
    prefix = "ansible_collections.vhosting.postfix.plugins."
    for name in ("module_utils._networks", "module_utils._lookup_table", "filter.networks", "action.lookup_table"):
        monkeypatch.delitem(sys.modules, prefix + name, raising=False)
        importlib.import_module(prefix + name)
    core = importlib.import_module(prefix + "module_utils._lookup_table")
    with pytest.raises(core.LookupTableError, match="key '192.0.2.1/24' has host bits set"):
        core.validate(core.normalise_entries({"192.0.2.1/24": "OK"}), "cidr")
    assert importlib.import_module(prefix + "filter.networks").mynetworks(["::1"]) == ["[::1]/128"]
    assert _networks.normalise_network("192.0.2.1") == "192.0.2.1/32"
