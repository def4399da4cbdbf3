"""The model's fingerprint is keyed (HMAC-SHA256): printed with -v, it must not be a password oracle."""
import hashlib
import hmac
import json

import pytest
from role_values import role_values as values

from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_model import MODEL_VERSION, fingerprint, host_model

KEY = bytes(range(32))
HASH = ("{SHA512-CRYPT}$6$iSBsExHOSlkiZOkV$xhxJnyPr08xT8Bd6Iky17gOLYvtLr2nXfygdbX6ebHglKENKRyENX1Fa28Li/LQmKL9ml5/"
        "CRF.fRhnTm/lU6.")
DATABASE = {"host": "db.example.test", "name": "vhosting_postfix", "user": "postfix_ro", "password": "reader-pw-7",
            "admin_user": "loader", "admin_password": "loader-pw-8"}


def store(password):
    return {"vhosting_domain__store": {
        "domain": "store.test", "class": "mailbox", "store": "dovecot",
        "mailboxes": {"alice": {"password": password}, "bob": {"password_hash": HASH}}}}


def _text(vals, definitions, primaries, hostname):
    """The JSON the fingerprint digests (as _host_model writes it)."""
    return json.dumps([MODEL_VERSION, hostname, vals, definitions, primaries or []], sort_keys=True,
                      separators=(",", ":"), default=str).encode("utf-8")


def test_the_fingerprint_is_an_hmac_not_a_plain_digest_of_the_input():
    vals, definitions = values(), store("hunter2")
    keyed = fingerprint(vals, definitions, [], "mx", KEY)
    assert keyed == hmac.new(KEY, _text(vals, definitions, [], "mx"), hashlib.sha256).hexdigest()
    assert keyed != hashlib.sha256(_text(vals, definitions, [], "mx")).hexdigest()
    assert len(keyed) == 64


def test_equal_input_and_key_give_equal_fingerprints_another_key_another_one():
    base = fingerprint(values(), store("hunter2"), [], "mx", KEY)
    assert fingerprint(values(), store("hunter2"), [], "mx", bytes(range(32))) == base
    assert fingerprint(values(), store("hunter2"), [], "mx", b"\xff" * 32) != base
    assert fingerprint(values(), store("hunter3"), [], "mx", KEY) != base


def test_a_password_cannot_be_found_by_recomputing_without_the_key():
    printed = host_model(values(), store("hunter2"), [], "mx", KEY)["fingerprint"]
    guesses = ["123456", "password", "hunter1", "hunter2", "letmein"]

    def found(digest):
        return [g for g in guesses if digest(_text(values(), store(g), [], "mx")) == printed]
    # Whoever reads the fact has the inventory's structure but not the control node's key.
    assert found(lambda text: hashlib.sha256(text).hexdigest()) == []
    assert found(lambda text: hmac.new(b"", text, hashlib.sha256).hexdigest()) == []
    assert found(lambda text: hmac.new(b"\x00" * 32, text, hashlib.sha256).hexdigest()) == []
    # With the key the same search succeeds: the key, and only the key, is what protects the input.
    assert found(lambda text: hmac.new(KEY, text, hashlib.sha256).hexdigest()) == ["hunter2"]


@pytest.mark.parametrize("key", [None, b"", b"short", "a text key of more than sixteen characters"])
def test_the_key_is_required_and_must_be_secret_bytes(key):
    with pytest.raises(ValueError, match="at least 16 secret bytes"):
        fingerprint(values(), {}, [], "mx", key)


def test_without_a_key_the_model_has_no_fingerprint():
    assert host_model(values(), store("hunter2"), [], "mx")["fingerprint"] is None
    assert host_model(values(), store("hunter2"), [], "mx", KEY)["fingerprint"] == fingerprint(
        values(), store("hunter2"), [], "mx", KEY)


def test_the_fact_carries_no_password_and_no_hash():
    model = host_model(values(vhosting_domains__backend="pgsql", vhosting_domains__database=DATABASE),
                       store("hunter2"), [], "mx", KEY)
    text = json.dumps(model, default=str)
    for secret in ("hunter2", HASH, HASH.rsplit("$", maxsplit=1)[-1], "reader-pw-7", "loader-pw-8"):
        assert secret not in text
    # The Dovecot accounts say where the password is, never what it is.
    assert model["dovecot"]["users"][0] == {"login": "alice@store.test", "varname": "vhosting_domain__store",
                                            "key": "alice", "home": "/var/mail/vhosts/store.test/alice",
                                            "uid": 5000, "gid": 5000}
