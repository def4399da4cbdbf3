"""A mailbox's password_hash: salted, slow schemes only, the value matching its scheme, never quoted."""
import base64

import pytest

from ansible_collections.vhosting.postfix.plugins.plugin_utils._domains import (
    HASH_SCHEMES,
    WEAK_SCHEMES,
    DomainModelError,
    domain_model,
)
from ansible_collections.vhosting.postfix.plugins.module_utils._dovecot_users import make_hash, verify

C64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _chars(alphabet, count, start=0):
    return "".join(alphabet[(start + 7 * i) % len(alphabet)] for i in range(count))


# Values of the form each scheme writes (doveadm pw, crypt(3), libsodium); only their form is checked.
ACCEPTED = {
    "SHA512-CRYPT": "$6$iSBsExHOSlkiZOkV$xhxJnyPr08xT8Bd6Iky17gOLYvtLr2nXfygdbX6ebHglKENKRyENX1Fa28Li/LQmKL9ml5/"
                    "CRF.fRhnTm/lU6.",
    "SHA256-CRYPT": "$5$Wq3mL0aX9pTq2bZc$" + _chars(C64, 43),
    "BLF-CRYPT": "$2y$05$" + _chars(C64, 53),
    "ARGON2I": "$argon2i$v=19$m=32768,t=4,p=1$" + _chars(B64, 22) + "$" + _chars(B64, 43, 5),
    "ARGON2ID": "$argon2id$v=19$m=65536,t=3,p=1$" + _chars(B64, 22) + "$" + _chars(B64, 43, 5),
    "PBKDF2": "$1$Mx2R3tD8kE4pQ7wZ$5000$" + _chars("0123456789abcdef", 40),
    "SSHA256": base64.b64encode(bytes(range(36))).decode("ascii"),
    "SSHA512": base64.b64encode(bytes(range(68))).decode("ascii"),
}
MORE_ACCEPTED = [
    "{SHA512-CRYPT}$6$rounds=100000$Wq3mL0aX9pTq2bZc$" + _chars(C64, 86),
    "{BLF-CRYPT}$2b$12$" + _chars(C64, 53),
    "{BLF-CRYPT}$2a$10$" + _chars(C64, 53),
    "{SSHA512}" + base64.b64encode(bytes(range(72))).decode("ascii"),
]
# Refused schemes and a word of the reason each message gives.
WEAK = {
    "PLAIN": ("hunter2-plain", "plaintext"),
    "CLEARTEXT": ("hunter2-clear", "plaintext"),
    "PLAIN-TRUNC": ("20-hunter2-trunc", "plaintext"),
    "PLAIN-MD5": ("5f4dcc3b5aa765d61d8327deb882cf99", "unsalted"),
    "LDAP-MD5": ("X03MO1qnZdYdgyfeuILPmQ==", "unsalted"),
    "DIGEST-MD5": ("0b4f6c1d2e3a4b5c6d7e8f9a0b1c2d3e", "unsalted"),
    "MD5": ("$1$abcdefgh$ABCDEFGHIJKLMNOPQRSTUV", "fast"),
    "CRYPT": ("abJnggxhB/yWI", "fast"),
    "SHA": ("W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "unsalted"),
    "SHA1": ("W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "unsalted"),
    "SMD5": ("dGhpcyBpcyBhIHNhbHRlZCBtZDU=", "fast"),
    "SSHA": ("dGhpcyBpcyBhIHNhbHRlZCBzaGExIGhhc2g=", "fast"),
    "HMAC-MD5": ("b5b3ef5a2cdcd6d8d3d8a1c1e5d0a7f0b5b3ef5a2cdcd6d8d3d8a1c1e5d0a7f0", "plaintext"),
}
UNKNOWN = ["{SHA256}XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg=", "{SHA512}" + _chars(B64, 88),
           "{MD5-CRYPT}$1$abcdefgh$ABCDEFGHIJKLMNOPQRSTUV", "{SCRAM-SHA-256}4096,abc,def",
           "{SSHA512.HEX}" + _chars("0123456789abcdef", 140), "{NTLM}8846f7eaee8fb117ad06bdd830b7586c",
           "{BCRYPT}$2y$05$" + _chars(C64, 53)]
# A scheme that does not match the value it labels.
MISMATCHED = [
    "{SHA512-CRYPT}$1$abcdefgh$ABCDEFGHIJKLMNOPQRSTUV",
    "{SHA512-CRYPT}" + ACCEPTED["SHA256-CRYPT"],
    "{SHA512-CRYPT}$6$salt$tooshort",
    "{SHA256-CRYPT}" + ACCEPTED["SHA512-CRYPT"],
    "{BLF-CRYPT}" + ACCEPTED["SHA512-CRYPT"],
    "{ARGON2I}" + ACCEPTED["ARGON2ID"],
    "{ARGON2ID}" + ACCEPTED["ARGON2I"],
    "{PBKDF2}" + ACCEPTED["SHA512-CRYPT"],
    "{PBKDF2}$1$abcdefgh$ABCDEFGHIJKLMNOPQRSTUV",
    "{SSHA256}XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg=",  # an unsalted SHA-256: no salt after the digest
    "{SSHA256}" + ACCEPTED["SHA512-CRYPT"],
    "{SSHA512}" + ACCEPTED["SSHA256"],
]
HERE = "vhosting_domain__store (domain store.test), mailbox alice@store.test"


def model(password_hash):
    return domain_model({"vhosting_domain__store": {
        "domain": "store.test", "class": "mailbox", "store": "dovecot",
        "mailboxes": {"alice": {"password_hash": password_hash}}}})


def refused(password_hash):
    with pytest.raises(DomainModelError) as info:
        model(password_hash)
    text = str(info.value)
    assert HERE in text
    assert "value not shown" in text
    body = password_hash.split("}", 1)[1]
    assert body not in text and password_hash not in text
    return text


def test_the_lists_cover_what_the_issue_names():
    assert sorted(HASH_SCHEMES) == sorted(ACCEPTED)
    assert sorted(WEAK_SCHEMES) == sorted(WEAK)


@pytest.mark.parametrize("scheme", sorted(ACCEPTED))
def test_every_accepted_scheme_passes(scheme):
    value = "{%s}%s" % (scheme, ACCEPTED[scheme])
    assert model(value)["dovecot_users"][0]["login"] == "alice@store.test"


@pytest.mark.parametrize("value", MORE_ACCEPTED)
def test_variants_of_accepted_schemes_pass(value):
    assert model(value)["dovecot_domains"] == ["store.test"]


@pytest.mark.parametrize("scheme", sorted(WEAK))
def test_every_weak_scheme_is_refused_saying_why_and_what_is_accepted(scheme):
    secret, reason = WEAK[scheme]
    text = refused("{%s}%s" % (scheme, secret))
    assert "password_hash uses {%s}" % scheme in text
    assert reason in text and "refused" in text
    assert "accepted: {SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT}, {ARGON2I}, {ARGON2ID}, {PBKDF2}, {SSHA256}, " \
           "{SSHA512}" in text
    assert secret not in text


@pytest.mark.parametrize("value", UNKNOWN)
def test_a_scheme_outside_the_allow_list_is_refused(value):
    scheme = value[1:value.index("}")]
    text = refused(value)
    assert "password_hash uses {%s}: not a salted, slow scheme" % scheme in text
    assert "accepted: {SHA512-CRYPT}" in text


@pytest.mark.parametrize("value", MISMATCHED)
def test_a_value_that_is_not_of_its_scheme_is_refused(value):
    scheme = value[1:value.index("}")]
    text = refused(value)
    assert "password_hash says {%s} but its value is not of that scheme" % scheme in text


@pytest.mark.parametrize("value", ["$6$no-scheme", "{sha512-crypt}$6$lower", "{SSHA256}", "{SSHA256}a:b"])
def test_no_scheme_at_all_keeps_the_format_message(value):
    with pytest.raises(DomainModelError) as info:
        model(value)
    assert "password_hash must be {SCHEME}hash" in str(info.value)
    assert value not in str(info.value)


def test_a_plain_password_is_hashed_with_sha512_crypt_which_the_model_accepts():
    made = make_hash("correct horse battery staple")
    assert made.startswith("{SHA512-CRYPT}$6$")
    assert verify("correct horse battery staple", made) is True
    assert verify("wrong", made) is False
    assert model(made)["dovecot_domains"] == ["store.test"]
    assert make_hash("same") != make_hash("same")  # a new random salt each time
