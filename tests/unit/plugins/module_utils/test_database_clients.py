"""vhosting_database_server__clients: the mail hosts allowed to the databases, in pg_hba.conf and MariaDB forms."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.vhosting.postfix.plugins.filter.database_clients import FilterModule, clients
from ansible_collections.vhosting.postfix.plugins.module_utils._network_tables import (
    NetworkTableError,
    database_clients,
)

NAME = "vhosting_database_server__clients"


def test_networks_become_netmask_hosts_and_addresses_exact_hosts():
    assert database_clients(["10.89.0.0/24", "192.0.2.7", "198.51.100.9/32", "172.16.0.0/12", "10.0.0.0/8"]) == [
        {"cidr": "10.89.0.0/24", "mariadb": "10.89.0.0/255.255.255.0"},
        {"cidr": "192.0.2.7/32", "mariadb": "192.0.2.7"},
        {"cidr": "198.51.100.9/32", "mariadb": "198.51.100.9"},
        {"cidr": "172.16.0.0/12", "mariadb": "172.16.0.0/255.240.0.0"},
        {"cidr": "10.0.0.0/8", "mariadb": "10.0.0.0/255.0.0.0"},
    ]


def test_ipv6_is_for_pg_hba_only_and_duplicates_go():
    assert database_clients(["2001:db8::/64", "[2001:db8::5]/128", " 10.1.0.0/16 ", "10.1.0.0/16"]) == [
        {"cidr": "2001:db8::/64", "mariadb": None},
        {"cidr": "2001:db8::5/128", "mariadb": None},
        {"cidr": "10.1.0.0/16", "mariadb": "10.1.0.0/255.255.0.0"},
    ]


def test_nothing_gives_nothing():
    assert database_clients([]) == [] and database_clients(None) == []


@pytest.mark.parametrize("entry", ["%", "10.89.0.%", "10.89.%.%", "_", "10.89.0._", "*"])
def test_mariadb_wildcards_are_refused(entry):
    with pytest.raises(NetworkTableError) as info:
        database_clients([entry])
    assert str(info.value).startswith("%s: %r is a wildcard" % (NAME, entry))


@pytest.mark.parametrize("entry, words", [
    ("0.0.0.0/0", "wider than /8 (every address)"),
    ("::/0", "wider than /32 (every address)"),
    ("10.0.0.0/7", "wider than /8 (2^25 addresses)"),
    ("2001::/16", "wider than /32"),
])
def test_wide_networks_are_refused(entry, words):
    with pytest.raises(NetworkTableError) as info:
        database_clients([entry])
    assert "%s: %r is %s" % (NAME, entry, words) in str(info.value)


@pytest.mark.parametrize("entry, words", [
    ("10.89.0.1/24", "has host bits set; did you mean 10.89.0.0/24 or the host 10.89.0.1/32?"),
    ("mx1.example.org", "is not a valid IP address or CIDR network"),
    ("10/8", "is not a valid IP address or CIDR network"),
    ("", "empty entry"),
    (5, "is not a string"),
])
def test_malformed_entries_are_refused_naming_them(entry, words):
    with pytest.raises(NetworkTableError) as info:
        database_clients(["192.0.2.0/24", entry])
    assert str(info.value).startswith(NAME + ": ")
    assert words in str(info.value)


def test_not_a_list():
    with pytest.raises(NetworkTableError, match="expected a list of addresses or networks, got str"):
        database_clients("10.0.0.0/8")


def test_the_filter():
    assert FilterModule().filters() == {"database_clients": clients}
    assert clients(["10.89.0.0/24"]) == [{"cidr": "10.89.0.0/24", "mariadb": "10.89.0.0/255.255.255.0"}]
    with pytest.raises(AnsibleFilterError, match=r"^vhosting_database_server__clients: '%' is a wildcard"):
        clients(["%"])
    with pytest.raises(AnsibleFilterError, match=r"^other: '0.0.0.0/0' is wider"):
        clients(["0.0.0.0/0"], "other")
