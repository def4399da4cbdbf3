# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory values as plain text on every ansible-core the collection claims (controller side).

Before ansible-core 2.19 a ``!vault`` value stays an AnsibleVaultEncryptedUnicode
after templating (not a str: a type check refuses it, and a module argument
made of it reaches the host as ``{"__ansible_vault": ...}`` instead of the
text); from 2.19 on templating decrypts it. The action plugins pass what they
template through ``plain``.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from ansible.release import __version__ as _CORE_VERSION
    if tuple(int(part) for part in _CORE_VERSION.split(".")[:2]) < (2, 19):
        from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode as _VAULT_TYPE
    else:
        _VAULT_TYPE = None
except (ImportError, ValueError):  # pragma: no cover - a core without them decrypts while templating
    _VAULT_TYPE = None


def plain(value):
    """``value`` with each vault-encrypted string (ansible-core before 2.19: an AnsibleVaultEncryptedUnicode, not a
    str, even after templating) replaced by the text it holds; dicts and lists recursively, everything else as it
    is. From 2.19 on templating decrypts them, and nothing is walked."""
    if _VAULT_TYPE is None:
        return value
    if isinstance(value, _VAULT_TYPE):
        return str(value)
    if isinstance(value, dict):
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
