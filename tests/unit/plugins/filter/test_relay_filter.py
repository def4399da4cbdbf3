"""The relay filters the relay role uses to read its primaries and write its defer table."""
import base64

import yaml

from ansible_collections.vhosting.postfix.plugins.filter import relay as plugin
from ansible_collections.vhosting.postfix.plugins.filter.relay import FilterModule


def test_registered_names():
    filters = FilterModule().filters()
    assert filters["relay_local_names"] is plugin.relay_local_names
    assert filters["relay_defer"] is plugin.relay_defer


def test_relay_local_names_of_a_cdb_primary_and_an_unreachable_one():
    passwd = base64.b64encode(b"root:x:0:0::/root:/bin/sh\ncarl:x:2001:2001::/home/carl:/bin/sh\n").decode()
    aliases = base64.b64encode(b"postmaster: root\n# comment: x\nwebmaster: carl,\n  dave\n").decode()
    results = [{"item": {"key": "mx1", "value": ["canon.test"]}, "rc": 0,
                "stdout": "passwd %s\nsource cdb:/etc/aliases %s\n" % (passwd, aliases)},
               {"item": {"key": "mx2", "value": ["second.test"]}, "unreachable": True, "msg": "timed out"}]
    read = plugin.relay_local_names(results)
    assert read["names"] == {"mx1": ["root", "carl", "postmaster", "webmaster"]}
    assert read["unread"] == ["mx2"]
    assert read["reasons"] == {"mx2": "unreachable: timed out"}
    assert plugin.relay_local_names(None) == {"names": {}, "unread": [], "reasons": {}}


def test_relay_defer_gives_450_for_the_unread_primaries_only():
    canonical = {"mx1": ["canon.test"], "mx2": ["second.test"]}
    entries = plugin.relay_defer(canonical, ["mx2"])
    assert list(entries) == ["second.test"]
    assert entries["second.test"].startswith("450 4.3.0 recipients of second.test are not known yet at this backup MX")
    assert plugin.relay_defer(canonical, []) == {}
    assert plugin.relay_defer(None, None) == {}


def test_the_documentation_names_the_new_filter():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert "relay_defer" in " ".join(doc["description"])
