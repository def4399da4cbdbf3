# -*- coding: utf-8 -*-
"""One check for the reloads that an earlier run left pending (vhosting.postfix.common).

vhosting.postfix.common runs before every role of a play (allow_duplicates).
It used to stat Postfix's marker each time: a converge whose server role
changed main.cf (the postconf module writes the marker before the change)
then said, before each later role, that "an earlier run" did not get to
reload, each time as changed. The check must look for every service's marker
once per host and run (guard fact), before any role changed anything, and
the dovecot role must not keep a copy of its own.
"""
import pathlib

import jinja2
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
COMMON = ROOT / "roles" / "common"
GUARD = "vhosting_postfix__pending_checked"
REGISTRY = "vhosting_postfix__reload_markers"


def load(path):
    return yaml.safe_load(path.read_text())


def tasks(items):
    for item in items or []:
        yield item
        for key in ("block", "rescue", "always"):
            yield from tasks(item.get(key))


def when_list(task):
    when = task.get("when", [])
    return when if isinstance(when, list) else [when]


def listens(handler):
    topics = handler.get("listen", [])
    return topics if isinstance(topics, list) else [topics]


def marker_checks():
    """The top-level block of common's tasks that reports the markers, and its report task."""
    found = []
    for top in load(COMMON / "tasks" / "main.yml"):
        for task in tasks(top.get("block")):
            if "ansible.builtin.debug" in task and "marker" in str(task.get("loop", "")):
                found.append((top, task))
    return found


def probe_task():
    (found,) = [t for t in load(COMMON / "tasks" / "main.yml") if "vhosting.postfix.host_probe" in t]
    return found


def markers():
    return load(COMMON / "vars" / "main.yml")[REGISTRY]


def render(expression, **context):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["default"] = lambda value, default=None: default if isinstance(value, jinja2.Undefined) else value
    env.filters["dict2items"] = lambda value: [{"key": k, "value": v} for k, v in value.items()]
    body = expression.strip()
    assert body.startswith("{{") and body.endswith("}}")
    return env.compile_expression(body[2:-2].strip())(**context)


def test_every_service_is_one_entry_with_its_marker_topic_and_role():
    entries = markers()
    assert [entry["name"] for entry in entries] == ["Postfix", "Dovecot"]
    for entry in entries:
        assert set(entry) == {"name", "marker", "topic", "role"}
        assert entry["marker"].startswith("/var/lib/vhosting-postfix/")
    # the paths of earlier versions: their markers are still picked up
    assert {entry["name"]: entry["marker"] for entry in entries} == {
        "Postfix": "/var/lib/vhosting-postfix/reload-pending",
        "Dovecot": "/var/lib/vhosting-postfix/dovecot-reload-pending",
    }
    # the marker the postconf module writes by default
    text = (ROOT / "plugins" / "module_utils" / "_owner_state.py").read_text()
    assert 'PENDING_FILE = STATE_ROOT + "/reload-pending"' in text


def test_each_topic_has_handlers_in_its_role_that_reload_and_remove_the_marker():
    for entry in markers():
        role = entry["role"].rsplit(".", 1)[1]
        handlers = load(ROOT / "roles" / role / "handlers" / "main.yml")
        listening = [h for h in handlers if entry["topic"] in listens(h)]
        # systemd's reload, or (Postfix) systemctl reload in a handler that waits for the old processes to end
        assert any("reloaded" in str(h.get("ansible.builtin.systemd_service", {}).get("state"))
                   or "systemctl reload " in str(h.get("ansible.builtin.shell", "")) for h in listening)
        removes = [h for h in listening if h.get("ansible.builtin.file", {}).get("path") == entry["marker"]]
        assert len(removes) == 1 and removes[0]["ansible.builtin.file"]["state"] == "absent"


def test_one_guarded_check_for_all_markers():
    found = marker_checks()
    assert len(found) == 1, "exactly one task reports the markers"
    top, report = found[0]
    # The markers are read with the host probe, before any role of the play changed anything.
    tasks_list = load(COMMON / "tasks" / "main.yml")
    probe = probe_task()
    assert tasks_list.index(probe) < tasks_list.index(top)
    assert REGISTRY in probe["vhosting.postfix.host_probe"]["paths"] and "marker" in probe[
        "vhosting.postfix.host_probe"]["paths"]
    assert "vhosting_postfix__unchecked" in str(report.get("loop")) and "vhosting_postfix__probe" in str(report)
    # guarded: the block runs only for services this run has not looked for yet
    assert "block" in top
    unchecked = top["vars"]["vhosting_postfix__unchecked"]
    assert GUARD in unchecked and REGISTRY in unchecked
    assert any("vhosting_postfix__unchecked" in str(w) for w in when_list(top))
    body = top["block"]
    # the guard is set last, after the report
    last = body[-1]
    assert GUARD in last.get("ansible.builtin.set_fact", {})
    assert [t for t in body if "ansible.builtin.debug" in t] == [report]
    assert report["changed_when"] is True
    assert "item.topic" in report["notify"]
    assert "An earlier run changed the {{ item.name }} configuration" in " ".join(
        report["ansible.builtin.debug"]["msg"].split())


def test_the_report_names_only_markers_the_probe_found():
    _top, report = marker_checks()[0]
    present = render(report["vars"]["vhosting_postfix__present"], vhosting_postfix__probe={"paths": {
        "/var/lib/vhosting-postfix/reload-pending": True, "/var/lib/vhosting-postfix/dovecot-reload-pending": False}})
    found = render(report["loop"], vhosting_postfix__unchecked=markers(), vhosting_postfix__present=list(present))
    assert [entry["name"] for entry in found] == ["Postfix"]


def test_the_guard_looks_once_per_service_and_only_where_its_handlers_are():
    top, _stat = marker_checks()[0]
    expression = top["vars"]["vhosting_postfix__unchecked"]
    remember = top["block"][-1]["ansible.builtin.set_fact"][GUARD]
    names = ["vhosting.postfix.server", "vhosting.postfix.common"]
    everything = names + ["vhosting.postfix.dovecot"]

    def unchecked(checked, roles):
        context = {REGISTRY: markers(), "ansible_role_names": roles}
        if checked is not None:
            context[GUARD] = checked
        return [entry["name"] for entry in render(expression, **context)]

    # first pass of the run: both, or Postfix only in a play without the dovecot role
    assert unchecked(None, everything) == ["Postfix", "Dovecot"]
    assert unchecked(None, names) == ["Postfix"]
    # what the first pass remembers
    after = render(remember, **{REGISTRY: markers(), "vhosting_postfix__unchecked": markers()[:1]})
    assert list(after) == ["Postfix"]
    # later passes: nothing again (the marker may be this run's own), but
    # Dovecot when its role comes later in the run
    assert unchecked(["Postfix"], names) == []
    assert unchecked(["Postfix"], everything) == ["Dovecot"]
    assert unchecked(["Postfix", "Dovecot"], everything) == []


def test_the_handlers_look_again_after_they_ran_but_not_in_check_mode():
    handlers = load(COMMON / "handlers" / "main.yml")
    rearm = [h for h in handlers if GUARD in h.get("ansible.builtin.set_fact", {})]
    assert len(rearm) == 1
    assert rearm[0]["ansible.builtin.set_fact"][GUARD] == []
    # and the probe is read again (the markers it saw are gone)
    assert rearm[0]["ansible.builtin.set_fact"]["vhosting_postfix__probe"] == {}
    assert "not ansible_check_mode" in when_list(rearm[0])
    topics = {entry["topic"] for entry in markers()} | {"vhosting_postfix_restart"}
    assert set(rearm[0]["listen"]) == topics
    assert handlers[-1] is rearm[0], "after the other handlers of the role"


def test_no_role_has_a_check_of_its_own():
    for path in sorted((ROOT / "roles").glob("*/tasks/*.yml")):
        if path.parent.parent.name == "common":
            continue
        text = path.read_text()
        assert "An earlier run" not in text, path
        for task in tasks(load(path)):
            stat = task.get("ansible.builtin.stat")
            if stat:
                assert "reload-pending" not in str(stat.get("path")), (path, task.get("name"))
