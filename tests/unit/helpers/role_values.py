"""The roles' defaults as the host_model action resolves them (for host mx.example.test), for the unit tests."""
import os

import yaml

from ansible_collections.vhosting.postfix.plugins.plugin_utils._parts import ROLES as _REGISTERED

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# The roles that write a part of the mail host (the registry's, see _parts.ROLES).
ROLES = tuple(name for name, _prefix, key, _label in _REGISTERED if key)


def role_values(**overrides):
    result = {}
    for role in ROLES:
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as handle:
            result.update(yaml.safe_load(handle))
    # Templated defaults (the server role's default table type), resolved.
    result.update({
        "vhosting_server__myhostname": "mx.example.test",
        "vhosting_server__mydomain": "example.test",
        "vhosting_domains__table_type": "lmdb",
        "vhosting_relay__table_type": "lmdb",
        "vhosting_dovecot__table_type": "lmdb",
    })
    result.update(overrides)
    return result
