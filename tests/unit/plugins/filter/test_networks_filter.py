"""The mynetworks filter: _networks behind Ansible's filter interface, with allow_wide."""
import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.vhosting.postfix.plugins.filter import networks
from ansible_collections.vhosting.postfix.plugins.filter.networks import FilterModule, mynetworks


def test_registered_name():
    assert FilterModule().filters() == {"mynetworks": mynetworks}


def test_normalises():
    assert mynetworks(["127.0.0.0/8", "::1", "192.0.2.7"]) == ["127.0.0.0/8", "[::1]/128", "192.0.2.7/32"]


def test_host_bits_fail_naming_the_entry_and_the_variable():
    with pytest.raises(AnsibleFilterError) as err:
        mynetworks(["192.168.1.10/8"], "vhosting_server__mynetworks")
    assert str(err.value) == ("vhosting_server__mynetworks: '192.168.1.10/8' has host bits set; "
                              "did you mean 192.0.0.0/8 or the host 192.168.1.10/32?")


@pytest.mark.parametrize("entry", ["0.0.0.0/0", "::/0", "10.0.0.0/7"])
def test_wide_networks_need_allow_wide(entry):
    with pytest.raises(AnsibleFilterError, match="refused unless vhosting_server__mynetworks_allow_wide: true"):
        mynetworks([entry])
    with pytest.raises(AnsibleFilterError, match="refused unless"):
        mynetworks([entry], allow_wide=False)
    assert len(mynetworks([entry], allow_wide=True)) == 1


@pytest.mark.parametrize("value, allowed", [(True, True), ("true", True), ("yes", True), (False, False), ("no", False)])
def test_allow_wide_takes_ansible_booleans(value, allowed):
    if allowed:
        assert mynetworks(["0.0.0.0/0"], allow_wide=value) == ["0.0.0.0/0"]
    else:
        with pytest.raises(AnsibleFilterError, match="refused unless"):
            mynetworks(["0.0.0.0/0"], allow_wide=value)


def test_allow_wide_refuses_non_booleans():
    with pytest.raises(AnsibleFilterError, match="mynetworks: allow_wide must be true or false, got 'maybe'"):
        mynetworks(["0.0.0.0/0"], allow_wide="maybe")


def test_documentation_names_the_option_and_its_default():
    options = yaml.safe_load(networks.DOCUMENTATION)["options"]
    assert options["allow_wide"] == {
        "description": options["allow_wide"]["description"], "type": "bool", "default": False}
    assert "netaddr" not in networks.DOCUMENTATION
