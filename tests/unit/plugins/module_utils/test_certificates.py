"""_certificates: what host_probe reports of a certificate and its key (real files made with openssl)."""
import os
import subprocess

import pytest

from ansible_collections.vhosting.postfix.plugins.module_utils._certificates import covers, inspect

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/openssl"), reason="needs openssl")


def make(tmp_path, stem, *names):
    cert, key = str(tmp_path / (stem + ".crt")), str(tmp_path / (stem + ".key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=%s" % names[0], "-addext",
                    "subjectAltName=" + ",".join("DNS:" + n for n in names), "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def test_a_good_certificate_reports_its_names_and_no_problem(tmp_path):
    cert, key = make(tmp_path, "mx", "mx.example.test", "*.virt.test")
    found = inspect(cert, key, ["mx.example.test", "mail.virt.test"])
    assert found["problems"] == [] and found["covers"] and found["key_match"]
    assert found["names"] == ["mx.example.test", "*.virt.test"] and found["not_after"]


def test_a_key_of_another_certificate_is_named(tmp_path):
    cert, _key = make(tmp_path, "mx", "mx.example.test")
    _other, other_key = make(tmp_path, "other", "other.test")
    found = inspect(cert, other_key, ["mx.example.test"])
    assert found["problems"] == ["%s: the key is not the certificate's key (%s)" % (other_key, cert)]


def test_a_name_the_certificate_does_not_cover_is_named(tmp_path):
    cert, key = make(tmp_path, "mx", "mx.example.test")
    found = inspect(cert, key, ["mail.virt.test"])
    assert found["problems"] == ["%s: does not cover mail.virt.test (it covers mx.example.test)" % cert]
    assert not found["covers"]


def test_missing_files_are_problems_only_when_required(tmp_path):
    cert, key = str(tmp_path / "none.crt"), str(tmp_path / "none.key")
    assert inspect(cert, key, ["mx.test"])["problems"] == ["%s: no such certificate file on the host" % cert]
    quiet = inspect(cert, key, ["mx.test"], required=False)
    assert quiet["problems"] == [] and not quiet["exists"] and not quiet["covers"]
    real, _key = make(tmp_path, "mx", "mx.test")
    assert inspect(real, key, ["mx.test"])["problems"] == ["%s: no such key file on the host (the key of %s)" % (key, real)]


def test_a_file_that_is_not_a_certificate_is_named(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    key = tmp_path / "k.key"
    key.write_text("x\n")
    found = inspect(str(bad), str(key), ["mx.test"])
    assert len(found["problems"]) == 1 and found["problems"][0].startswith("%s: not a PEM certificate" % bad)


@pytest.mark.parametrize("patterns, name, expected", [
    (["mx.test"], "MX.test.", True),
    (["*.virt.test"], "mail.virt.test", True),
    (["*.virt.test"], "a.b.virt.test", False),
    (["*.virt.test"], "virt.test", False),
    (["mx.test"], "mx2.test", False),
])
def test_covers(patterns, name, expected):
    assert covers(patterns, name) is expected
