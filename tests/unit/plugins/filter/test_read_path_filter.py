"""The read_path filter: the tls role's rule for paths a role reads and copies, for the database_server role."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.vhosting.postfix.plugins.filter.read_path import FilterModule, read_path


def test_registered_name():
    assert FilterModule().filters() == {"read_path": read_path}


def test_a_certificate_path_is_returned():
    assert read_path("/etc/ssl/db/fullchain.pem", "v") == "/etc/ssl/db/fullchain.pem"


@pytest.mark.parametrize("path, why", [
    ("/etc/shadow", "is /etc/shadow, a system or configuration file"),
    ("/etc/ssl/../shadow", "contains '..'"),
    ("/etc/postfix/main.cf", "a system or configuration file"),
    ("etc/ssl/key.pem", "must be an absolute file name"),
    ("/etc/ssl/key pem", "must be an absolute file name"),
])
def test_system_files_and_bad_paths_are_refused_naming_the_variable(path, why):
    with pytest.raises(AnsibleFilterError) as err:
        read_path(path, "vhosting_database_server__tls_key")
    assert str(err.value).startswith("vhosting_database_server__tls_key: %r " % path) and why in str(err.value)
