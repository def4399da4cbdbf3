"""Dovecot's passwd-file: SHA512-CRYPT in the standard library, verify, keep a hash that still verifies."""
import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._dovecot_users import (
    HEADER,
    owned,
    UsersError,
    make_hash,
    masked,
    parse,
    plan,
    sha512_crypt,
    verify,
)

# Computed with glibc's crypt(3) and `openssl passwd -6` on Debian 12.
VECTORS = [
    ("Hello world!", "saltstring", None,
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("secret", "toolongsaltstringXYZ", None,
     "$6$toolongsaltstrin$YbDr56I3YnFMzFdiKjmvZJQFadx22PE13HAFEyCcNt7LQj3KY3OctF6ymrQHwjCUk.FcwaWOEAV7s6i0EMV4i0"),
    ("Hello world!", "saltstringsaltstring", 10000,
     "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/"
     "y3RnOaw5v."),
    ("", "abc", None,
     "$6$abc$mJP3a6FyA8uCnzRtlnNypPwjnvpi5TP9qOrInzrfDmwxUQG38PkpCPdqfTb8JQfAngapMxeim4AZ..hSdRRzD."),
    ("x" * 200, "abc", 1000,
     "$6$rounds=1000$abc$wMssqTC1HqTo.g4BLK4SdcvPFHZKoLbmoHVGHf63yhKa1kqdKX.IEWjHDY/9TeW5DxOS040sMmrN.ujYx1Jne/"),
]


@pytest.mark.parametrize("password, salt, rounds, expected", VECTORS)
def test_sha512_crypt_matches_glibc(password, salt, rounds, expected):
    assert sha512_crypt(password, salt, rounds) == expected


def test_verify_accepts_the_right_password_only():
    hashed = make_hash("pw 1")
    assert hashed.startswith("{SHA512-CRYPT}$6$")
    assert verify("pw 1", hashed) is True
    assert verify("pw 2", hashed) is False
    assert verify("pw 1", "{SHA512-CRYPT}garbage") is False
    # Another scheme: this module cannot tell.
    assert verify("pw 1", "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$x$y") is None
    assert verify("pw 1", "$6$no-scheme") is None


def test_two_hashes_of_one_password_differ_by_salt():
    assert make_hash("same") != make_hash("same")


USER = {"login": "alice@box.test", "password": "s3cret", "uid": 5000, "gid": 5000, "home": "/var/mail/vhosts/box.test/alice"}


def test_a_hash_that_still_verifies_is_kept():
    text, changes, _before, _after = plan(None, [USER])
    assert changes == {"added": ["alice@box.test"], "removed": [], "updated": []}
    again, changes, _before, after = plan(text, [USER])
    assert again == text
    assert changes == {"added": [], "removed": [], "updated": []}
    assert "s3cret" not in after and "$6$" not in after


def test_a_changed_password_gets_a_new_hash_and_a_removed_account_leaves():
    text, _c, _b, _a = plan(None, [USER, dict(USER, login="bob@box.test", home="/var/mail/vhosts/box.test/bob")])
    new, changes, before, after = plan(text, [dict(USER, password="other")])
    assert changes == {"added": [], "removed": ["bob@box.test"], "updated": ["alice@box.test"]}
    assert verify("other", parse(new)["alice@box.test"]["hash"])
    assert "<new hash>" in after and "$6$" not in before + after


def test_a_given_hash_is_written_as_it_is():
    hashed = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"
    text, _c, _b, _a = plan(None, [dict(USER, password=None, password_hash=hashed)])
    assert text == HEADER + "\nalice@box.test:%s:5000:5000::/var/mail/vhosts/box.test/alice::\n" % hashed


PASSWD = ("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n")


@pytest.mark.parametrize("text, mine", [
    (None, True), ("", True), ("\n", True),
    (HEADER + "\n", True),
    (HEADER + "\nanything at all\n", True),
    # A file of an earlier release, without the header: only accounts as this module writes them.
    ("alice@box.test:{SHA512-CRYPT}$6$salt$hash:5000:5000::/var/mail/vhosts/box.test/alice::\n", True),
    # /etc/passwd, /etc/shadow, an operator's file: never replaced, never removed.
    (PASSWD, False),
    ("root:$y$j9T$abc:19000:0:99999:7:::\n", False),
    ("# my own users\nbob:{PLAIN}x:1:1::/home/bob::\nnot an account\n", False),
])
def test_only_a_file_of_the_module_s_own_may_be_replaced_or_removed(text, mine):
    assert owned(text) is mine


def test_a_scheme_that_cannot_be_verified_is_replaced_for_a_plain_password():
    old = "alice@box.test:{ARGON2ID}$argon2id$x:5000:5000::/var/mail/vhosts/box.test/alice::\n"
    new, changes, _b, _a = plan(old, [USER])
    assert changes["updated"] == ["alice@box.test"]
    assert verify("s3cret", parse(new)["alice@box.test"]["hash"])


@pytest.mark.parametrize("user, message", [
    (dict(USER, login="a b"), "a login has no whitespace"),
    (dict(USER, password_hash="{X}y"), "exactly one of password and password_hash"),
    (dict(USER, password=None), "exactly one of password and password_hash"),
    (dict(USER, password="two\nlines"), "spans lines"),
    (dict(USER, password=None, password_hash="nobrace"), "is not {SCHEME}hash"),
    (dict(USER, home="relative"), "absolute path"),
    (dict(USER, uid="x"), "uid must be a whole number"),
])
def test_bad_accounts_are_refused_without_quoting_secrets(user, message):
    with pytest.raises(UsersError) as info:
        plan(None, [user])
    assert message in str(info.value)
    assert "s3cret" not in str(info.value)


def test_duplicate_logins_are_refused():
    with pytest.raises(UsersError, match="given twice"):
        plan(None, [USER, dict(USER, login="Alice@box.test")])


def test_masked_hides_the_password_field():
    assert masked("a@b.c:{SHA512-CRYPT}$6$x$y:1:2::/h::") == "a@b.c:<hash>:1:2::/h::"
