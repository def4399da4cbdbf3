import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._networks import (
    NetworkError,
    normalise_network,
    normalise_networks,
)


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("127.0.0.0/8", "127.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("::1", "[::1]/128"),
        ("::1/128", "[::1]/128"),
        ("[::1]/128", "[::1]/128"),
        ("[2001:db8::1]/32", "[2001:db8::]/32"),
        ("2001:DB8::/32", "[2001:db8::]/32"),
        (" 198.51.100.0/24 ", "198.51.100.0/24"),
        ("cidr:/etc/postfix/clients", "cidr:/etc/postfix/clients"),
        ("lmdb:/etc/postfix/network_table", "lmdb:/etc/postfix/network_table"),
    ],
)
def test_normalise_network(entry, expected):
    assert normalise_network(entry) == expected


@pytest.mark.parametrize(
    "entry, fragment",
    [
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid"),
        ("300.1.1.1", "'300.1.1.1' is not a valid"),
        ("10/8", "'10/8' is not a valid"),
        ("10.0.0.0/x", "prefix length 'x' is not a number"),
        ("::1/129", "'::1/129' is not a valid"),
        ("example.com", "'example.com' is not a valid"),
        ("", "empty entry"),
        (5, "entry 5 is not a string"),
    ],
)
def test_bad_network_names_the_entry(entry, fragment):
    with pytest.raises(NetworkError) as err:
        normalise_network(entry)
    assert fragment in str(err.value)
    assert str(err.value).startswith("mynetworks:")


def test_list_keeps_order_and_drops_duplicates():
    assert normalise_networks(["10.0.0.1/8", "127.0.0.1/8", "10.0.0.0/8", "::1"]) == [
        "10.0.0.0/8",
        "127.0.0.0/8",
        "[::1]/128",
    ]


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
