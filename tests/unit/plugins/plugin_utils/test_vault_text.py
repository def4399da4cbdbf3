# -*- coding: utf-8 -*-
"""plain(): vault-encrypted inventory values as the text they hold on every ansible-core the collection claims.

On ansible-core 2.16 (tests/lint/test_oldest_ansible_core.py runs this file there) a templated ``!vault`` value is an
AnsibleVaultEncryptedUnicode, not a str; from 2.19 on templating has decrypted it and plain() walks nothing.
"""
from ansible_collections.vhosting.postfix.plugins.plugin_utils import _vault_text


def test_plain_leaves_plain_values_as_they_are():
    value = {"mailboxes": {"alice": {"password": "pw-1", "quota": 3}}, "aliases": ["a", None]}
    assert _vault_text.plain(value) == value


def test_plain_takes_the_text_of_each_vault_value_in_dicts_and_lists():
    if _vault_text._VAULT_TYPE is None:
        from ansible.release import __version__
        assert tuple(int(p) for p in __version__.split(".")[:2]) >= (2, 19), __version__
        return
    from ansible.parsing.vault import VaultLib, VaultSecret
    secret = VaultSecret(b"test-only vault password")
    vault = VaultLib([("default", secret)])
    encrypted = _vault_text._VAULT_TYPE.from_plaintext("alice-Pw-1", vault, secret)
    assert not isinstance(encrypted, str)  # what the validation used to refuse
    result = _vault_text.plain({"mailboxes": {"alice": {"password": encrypted}}, "list": [encrypted, 1]})
    assert result == {"mailboxes": {"alice": {"password": "alice-Pw-1"}}, "list": ["alice-Pw-1", 1]}
    for text in (result["mailboxes"]["alice"]["password"], result["list"][0]):
        assert isinstance(text, str) and not isinstance(text, _vault_text._VAULT_TYPE)
