import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.filter.domains import FilterModule


def test_filter_is_registered_and_passes_options():
    flt = FilterModule().filters()["domain_model"]
    model = flt({"vhosting_domain__m": {"domain": "m.test", "class": "mailbox", "mailboxes": ["u"]}},
                mailbox_base="/srv/vmail", vmail_uid=7000, vmail_gid=7000)
    assert model["mailboxes"][0]["full_path"] == "/srv/vmail/m.test/u"
    assert model["mailboxes"][0]["uid"] == 7000


def test_filter_error_names_the_entry():
    flt = FilterModule().filters()["domain_model"]
    with pytest.raises(AnsibleFilterError) as exc:
        flt({"vhosting_domain__m": {"domain": "m.test", "class": "mailbox", "mailboxes": {"u": {"path": "/abs/"}}}})
    assert str(exc.value).startswith("vhosting.postfix.domain_model: vhosting_domain__m (domain m.test), mailbox u@m.test")
