# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the postconf module's flow: what it runs, in which order, and when not.

postconf is replaced by a recorder that answers the read-only queries
(-dH, -M) from fixed text and records every other call; the files the
module reads and writes (main.cf, the state file, the pending-reload
marker) are real files in a temporary directory.
"""
import json
import os
import stat

import pytest

from ansible.module_utils import basic
from module_args import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import postconf

KNOWN = "myhostname\nmydomain\nrelayhost\ninet_interfaces\nsyslog_name\nsmtpd_banner\n"
MASTER = "smtp       inet  n       -       y       -       -       smtpd\n"


class Recorder:
    def __init__(self, fail_on=None, master=MASTER, marker=None):
        self.calls = []
        self.fail_on = fail_on
        self.master = master
        self.marker = marker  # path of the pending marker, to see it at each write
        self.marker_seen = []

    def __call__(self, module, argv, **kwargs):
        self.calls.append(argv)
        if self.marker and is_write(argv):
            self.marker_seen.append(self.marker.read_text() if self.marker.exists() else None)
        return self.answer(argv)

    def answer(self, argv):
        option = argv[3]
        if option == self.fail_on:
            return 1, "", "postconf: fatal: something broke"
        if option == "-dH":
            return 0, KNOWN, ""
        if option == "-M" and len(argv) == 4:
            return 0, self.master, ""
        return 0, "", ""


def is_write(argv):
    return argv[3] in ("-e", "-X", "-MX") or (argv[3] == "-M" and len(argv) > 4)


def run_module(monkeypatch, tmp_path, capsys, args, recorder=None, main_cf="myhostname = old\nrelayhost = r\n"):
    if main_cf is not None:
        (tmp_path / "main.cf").write_text(main_cf)
    recorder = recorder or Recorder()

    def fake_run_command(self, argv, **kwargs):
        return recorder(self, argv, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", fake_run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *a, **k: "/usr/sbin/postconf")
    # Never the host's /var/lib/vhosting-postfix: marker and state live in tmp_path.
    args = dict({"pending_file": str(tmp_path / "pending" / "reload-pending"),
                 "state_file": str(tmp_path / "state" / "etc_postfix.json")}, **args)
    args = dict(args, config_dir=str(tmp_path))
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            postconf.main()
    result = json.loads(capsys.readouterr().out)
    return result, recorder.calls


def test_sets_many_parameters_with_one_postconf_run(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"myhostname": "new", "mydomain": "example.test", "inet_interfaces": "all"},
        "absent": ["relayhost"]})
    assert result["changed"] is True and result["restart_required"] is True
    writes = [call[3:] for call in calls if call[3] in ("-e", "-X")]
    assert writes == [["-X", "relayhost"], ["-e", "myhostname=new", "mydomain=example.test", "inet_interfaces=all"]]
    assert all(call[:3] == ["/usr/sbin/postconf", "-c", str(tmp_path)] for call in calls)
    assert len(calls) == 3  # -dH, -X, -e
    assert result["commands"] == [call for call in calls if call[3] != "-dH"]


def test_unchanged_runs_no_writer(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "old"}})
    assert result["changed"] is False and result["changes"] == [] and result["commands"] == []
    assert [call[3] for call in calls] == ["-dH"]


def test_check_mode_writes_nothing(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"myhostname": "new"},
        "services": [{"service": "smtp", "type": "inet", "maxproc": 10}],
        "_ansible_check_mode": True})
    assert result["changed"] is True
    assert [call[3] for call in calls] == ["-M", "-dH"]  # reads only
    assert [command[3] for command in result["commands"]] == ["-M", "-e"]
    assert result["diff"][0]["before"] == "myhostname = old\n"
    assert result["diff"][1]["after"].split() == ["smtp", "inet", "n", "-", "y", "-", "10", "smtpd"]


def test_unknown_parameter_fails_before_any_write(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"myhostname": "new", "no_such_parameter": "x"}})
    assert result["failed"] is True
    assert result["msg"].startswith("unknown Postfix parameter(s): no_such_parameter. ")
    assert [call[3] for call in calls] == ["-dH"]


def test_user_defined_allows_unknown_names(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"my_class": "permit"}, "user_defined": ["my_class"]})
    assert result["changed"] is True
    # every name is user-defined: postconf -d is not even asked
    assert [call[3:] for call in calls] == [["-e", "my_class=permit"]]


def test_invalid_arguments_fail_before_running_postconf(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"myhostname": "a\nb"}})
    assert result["failed"] is True
    assert result["msg"] == "parameter myhostname: value must not contain a newline: 'a\\nb'"
    assert calls == []


def test_missing_main_cf(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "x"}}, main_cf=None)
    assert result["failed"] is True and "main.cf does not exist" in result["msg"]
    assert calls == []


def test_postconf_failure_reports_stderr(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "new"}},
                               recorder=Recorder(fail_on="-e"))
    assert result["failed"] is True
    assert "postconf: fatal: something broke" in result["msg"]
    assert result["stderr"] == "postconf: fatal: something broke"


def test_per_service_names_of_new_services_are_learned_in_a_scratch_copy(monkeypatch, tmp_path, capsys):
    class Sandbox(Recorder):
        def answer(self, argv):
            if argv[3] == "-dH" and argv[2] != str(tmp_path):
                # the scratch copy has the new service, so Postfix knows its parameters
                return 0, KNOWN + "autoreply_destination_recipient_limit\n", ""
            return super().answer(argv)

    recorder = Sandbox()
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"autoreply_destination_recipient_limit": 1},
        "services": [{"service": "autoreply", "type": "unix", "command": "pipe argv=/bin/cat"}]},
        recorder=recorder)
    assert result["changed"] is True, result
    scratch = [call for call in calls if call[2] != str(tmp_path)]
    assert [call[3] for call in scratch] == ["-M", "-dH"]
    real_writes = [call[3] for call in calls if call[2] == str(tmp_path) and call[3] in ("-M", "-e") and len(call) > 4]
    assert real_writes == ["-M", "-e"]


# --- ownership: owner, state_file, adopt ------------------------------------

AUTOREPLY_LINE = "autoreply  unix  -       n       n       -       -       pipe argv=/bin/cat\n"
AUTOREPLY = {"service": "autoreply", "type": "unix", "command": "pipe argv=/bin/cat"}


def state_path(tmp_path):
    return tmp_path / "state" / "etc_postfix.json"


def marker_path(tmp_path):
    return tmp_path / "pending" / "reload-pending"


def write_state(tmp_path, parameters=None, services=None):
    path = state_path(tmp_path)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"version": 1, "config_dir": str(tmp_path),
                                "parameters": parameters or {}, "services": services or {}}))
    return path


def read_state(tmp_path):
    return json.loads(state_path(tmp_path).read_text())


def writes(calls):
    return [call[3:] for call in calls if is_write(call)]


def test_without_owner_no_state_file_is_read_or_written(monkeypatch, tmp_path, capsys):
    path = state_path(tmp_path)
    path.parent.mkdir()
    path.write_text("not json")  # would fail if it were read
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "new"}})
    assert result["changed"] is True and "failed" not in result
    assert path.read_text() == "not json"
    assert result["owned"] is None and "state_file" not in result and result["state_changed"] is False
    assert result["removed"] == {"parameters": [], "services": []}
    os.unlink(str(path))
    run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "new2"}})
    assert not path.exists()


def test_first_run_records_ownership_in_a_new_state_file(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "owner": "server", "parameters": {"myhostname": "old", "mydomain": "example.test"},
        "services": [AUTOREPLY]})
    assert result["changed"] is True and result["state_changed"] is True
    assert result["owned"] == {"parameters": ["mydomain", "myhostname"], "services": ["autoreply/unix"]}
    assert result["state_file"] == str(state_path(tmp_path))
    assert read_state(tmp_path) == {
        "version": 1, "config_dir": str(tmp_path),
        "parameters": {"mydomain": "server", "myhostname": "server"},
        "services": {"autoreply/unix": "server"}}
    assert stat.S_IMODE(state_path(tmp_path).stat().st_mode) == 0o644
    assert stat.S_IMODE(state_path(tmp_path).parent.stat().st_mode) == 0o755
    assert os.listdir(str(state_path(tmp_path).parent)) == ["etc_postfix.json"]  # no temporary file left
    assert result["diff"][-1]["before_header"] == str(state_path(tmp_path))
    assert result["diff"][-1]["before"] == "" and '"mydomain": "server"' in result["diff"][-1]["after"]
    assert writes(calls) == [["-M", "autoreply/unix=" + result["changes"][0]["after"]],
                             ["-e", "mydomain=example.test"]]


def test_what_the_owner_no_longer_sets_is_removed_in_one_run_each(monkeypatch, tmp_path, capsys):
    write_state(tmp_path, {"myhostname": "server", "relayhost": "server", "mydomain": "server"},
                {"autoreply/unix": "server"})
    recorder = Recorder(master=MASTER + AUTOREPLY_LINE)
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "owner": "server", "parameters": {"myhostname": "old"}, "absent": ["smtpd_banner"]},
        recorder=recorder, main_cf="myhostname = old\nrelayhost = r\nsmtpd_banner = hi\n")
    assert result["changed"] is True
    # -M is read although no service is requested: the owner had one
    assert writes(calls) == [["-MX", "autoreply/unix"], ["-X", "smtpd_banner", "relayhost"]]
    assert result["removed"] == {"parameters": ["relayhost"], "services": ["autoreply/unix"]}
    assert {"kind": "parameter", "name": "relayhost", "before": "r", "after": None} in result["changes"]
    assert {"kind": "service", "name": "autoreply/unix", "before": AUTOREPLY_LINE.rstrip("\n"),
            "after": None} in result["changes"]
    assert result["diff"][0]["before"] == "smtpd_banner = hi\nrelayhost = r\n" and result["diff"][0]["after"] == ""
    assert result["diff"][1]["before"] == AUTOREPLY_LINE and result["diff"][1]["after"] == ""
    assert result["owned"] == {"parameters": ["myhostname"], "services": []}
    # mydomain was not in main.cf: nothing to remove, the record is dropped all the same
    assert read_state(tmp_path)["parameters"] == {"myhostname": "server"}
    assert read_state(tmp_path)["services"] == {}


def test_unchanged_owner_run_writes_nothing(monkeypatch, tmp_path, capsys):
    path = write_state(tmp_path, {"myhostname": "server"})
    path.write_text(path.read_text())
    before = path.stat().st_mtime_ns
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "server", "parameters": {"myhostname": "old"}})
    assert result["changed"] is False and result["state_changed"] is False and result["commands"] == []
    assert writes(calls) == [] and path.stat().st_mtime_ns == before
    assert result["pending"] is None and not marker_path(tmp_path).exists()


def test_nothing_owned_and_no_state_file_creates_none(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "relay"})
    assert result["changed"] is False and calls == []
    assert not state_path(tmp_path).exists()
    assert result["owned"] == {"parameters": [], "services": []}


def test_a_name_recorded_for_another_owner_is_not_removed(monkeypatch, tmp_path, capsys):
    write_state(tmp_path, {"myhostname": "relay", "relayhost": "server"})
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "relay", "parameters": {}})
    assert writes(calls) == [["-X", "myhostname"]]
    assert read_state(tmp_path)["parameters"] == {"relayhost": "server"}
    # the other owner's name moves when this owner sets it
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "relay", "parameters": {"relayhost": "r"}},
                               main_cf="relayhost = r\n")
    assert result["changed"] is True and result["commands"] == [] and result["state_changed"] is True
    assert read_state(tmp_path)["parameters"] == {"relayhost": "relay"}


def test_check_mode_shows_removals_and_writes_nothing(monkeypatch, tmp_path, capsys):
    path = write_state(tmp_path, {"myhostname": "server", "relayhost": "server"}, {"autoreply/unix": "server"})
    text = path.read_text()
    recorder = Recorder(master=MASTER + AUTOREPLY_LINE)
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "owner": "server", "parameters": {"myhostname": "old"}, "_ansible_check_mode": True}, recorder=recorder)
    assert result["changed"] is True
    assert [call[3] for call in calls] == ["-M", "-dH"]  # reads only
    assert [command[3] for command in result["commands"]] == ["-MX", "-X"]
    assert result["removed"] == {"parameters": ["relayhost"], "services": ["autoreply/unix"]}
    assert [change["after"] for change in result["changes"]] == [None, None]
    assert result["diff"][0]["before"] == "relayhost = r\n"
    assert result["diff"][1]["before"] == AUTOREPLY_LINE
    assert result["owned"] == {"parameters": ["myhostname"], "services": []}
    assert path.read_text() == text
    assert not marker_path(tmp_path).exists() and result["pending"] is None


def test_adopt_migrates_an_old_list(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {
        "owner": "relay", "adopt": ["relayhost", "relay_domains", "myhostname"],
        "parameters": {"myhostname": "old"}})
    assert writes(calls) == [["-X", "relayhost"]]
    assert result["removed"]["parameters"] == ["relayhost"]
    assert read_state(tmp_path)["parameters"] == {"myhostname": "relay"}


def test_adopt_without_owner_is_refused(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"adopt": ["relayhost"]})
    assert result["failed"] is True and result["msg"].startswith("adopt needs owner")
    assert calls == []


def test_corrupt_state_file_fails_naming_it_and_changes_nothing(monkeypatch, tmp_path, capsys):
    path = state_path(tmp_path)
    path.parent.mkdir()
    path.write_text('{"parameters": ["relayhost"]}\n')
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "relay", "parameters": {"myhostname": "new"}})
    assert result["failed"] is True
    assert result["msg"].startswith("%s is not a usable state file of the vhosting.postfix.postconf module: "
                                    "it has no 'version' key" % path)
    assert "Nothing was changed" in result["msg"]
    assert calls == [] and path.read_text() == '{"parameters": ["relayhost"]}\n'
    assert not marker_path(tmp_path).exists()


def test_default_state_file_is_derived_from_config_dir(monkeypatch, tmp_path, capsys):
    from ansible_collections.vhosting.postfix.plugins.modules import postconf as module
    monkeypatch.setattr(module, "default_state_file", lambda config_dir: str(tmp_path / "derived.json"))
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {
        "owner": "server", "state_file": None, "parameters": {"myhostname": "old"}})
    assert result["state_file"] == str(tmp_path / "derived.json")
    assert json.loads((tmp_path / "derived.json").read_text())["parameters"] == {"myhostname": "server"}


def test_postconf_failure_keeps_the_old_state_and_the_marker(monkeypatch, tmp_path, capsys):
    path = write_state(tmp_path, {"myhostname": "server", "relayhost": "server"})
    text = path.read_text()
    recorder = Recorder(fail_on="-X", marker=marker_path(tmp_path))
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "server", "parameters": {"myhostname": "old"}},
                               recorder=recorder)
    assert result["failed"] is True
    assert "postconf: fatal: something broke" in result["msg"]
    assert "the state file %s was not updated" % path in result["msg"]
    assert path.read_text() == text
    assert recorder.marker_seen == ["reload"]  # written before postconf ran
    assert marker_path(tmp_path).read_text() == "reload" and result["pending"] == "reload"
    # the next run retries the removal
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "server", "parameters": {"myhostname": "old"}})
    assert writes(calls) == [["-X", "relayhost"]]
    assert read_state(tmp_path)["parameters"] == {"myhostname": "server"}


# --- the pending-reload marker ------------------------------------------------

def test_marker_is_written_before_postconf_runs(monkeypatch, tmp_path, capsys):
    recorder = Recorder(marker=marker_path(tmp_path))
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"myhostname": "new"}, "services": [AUTOREPLY]}, recorder=recorder)
    assert recorder.marker_seen == ["reload", "reload"]  # -M and -e both saw it
    assert result["pending"] == "reload"
    assert stat.S_IMODE(marker_path(tmp_path).stat().st_mode) == 0o644
    assert stat.S_IMODE(marker_path(tmp_path).parent.stat().st_mode) == 0o755


def test_marker_says_restart_and_is_never_downgraded(monkeypatch, tmp_path, capsys):
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"inet_interfaces": "all"}})
    assert result["restart_required"] is True and result["pending"] == "restart"
    assert marker_path(tmp_path).read_text() == "restart"
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "new"}})
    assert result["changed"] is True and not result["restart_required"]
    assert result["pending"] == "restart" and marker_path(tmp_path).read_text() == "restart"


def test_marker_upgrades_reload_to_restart(monkeypatch, tmp_path, capsys):
    marker_path(tmp_path).parent.mkdir()
    marker_path(tmp_path).write_text("reload")
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"inet_interfaces": "all"}})
    assert result["pending"] == "restart" and marker_path(tmp_path).read_text() == "restart"


def test_marker_is_not_written_when_nothing_changes_or_in_check_mode(monkeypatch, tmp_path, capsys):
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "old"}})
    assert result["pending"] is None and not marker_path(tmp_path).exists()
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"inet_interfaces": "all"}, "_ansible_check_mode": True})
    assert result["changed"] is True and result["pending"] is None and not marker_path(tmp_path).exists()
    # an earlier run left a marker: it is reported, and left alone
    marker_path(tmp_path).parent.mkdir()
    marker_path(tmp_path).write_text("reload")
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "old"}})
    assert result["pending"] == "reload" and marker_path(tmp_path).read_text() == "reload"


def test_state_only_change_writes_no_marker(monkeypatch, tmp_path, capsys):
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "server", "parameters": {"myhostname": "old"}})
    assert result["changed"] is True and result["commands"] == [] and writes(calls) == []
    assert result["pending"] is None and not marker_path(tmp_path).exists()


def test_empty_pending_file_disables_the_marker(monkeypatch, tmp_path, capsys):
    result, _calls = run_module(monkeypatch, tmp_path, capsys, {
        "parameters": {"inet_interfaces": "all"}, "pending_file": ""})
    assert result["changed"] is True and result["pending"] is None
    assert not marker_path(tmp_path).parent.exists()


def test_unwritable_marker_fails_before_postconf_runs(monkeypatch, tmp_path, capsys):
    (tmp_path / "pending").write_text("a file where the directory should be")
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"parameters": {"myhostname": "new"}})
    assert result["failed"] is True
    assert result["msg"].startswith("cannot write the pending-reload marker %s" % marker_path(tmp_path))
    assert writes(calls) == []


# The state file exactly as the module wrote it before _owner_state (sorted keys, two-space indent).
OLD_STATE_FILE = """{{
  "config_dir": "{config_dir}",
  "parameters": {{
    "myhostname": "server",
    "mydomain": "relay",
    "relayhost": "server"
  }},
  "services": {{
    "autoreply/unix": "server"
  }},
  "version": 1
}}
"""


def test_a_state_file_of_the_old_code_is_used_and_rewritten_in_the_same_format(monkeypatch, tmp_path, capsys):
    path = state_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(OLD_STATE_FILE.format(config_dir=tmp_path).encode("utf-8"))
    recorder = Recorder(master=MASTER + AUTOREPLY_LINE)
    result, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "server", "parameters": {"myhostname": "old"}},
                               recorder=recorder)
    assert writes(calls) == [["-MX", "autoreply/unix"], ["-X", "relayhost"]]
    assert result["removed"] == {"parameters": ["relayhost"], "services": ["autoreply/unix"]}
    expected = ('{\n  "config_dir": "%s",\n  "parameters": {\n    "mydomain": "relay",\n    "myhostname": "server"\n'
                '  },\n  "services": {},\n  "version": 1\n}\n' % tmp_path)
    assert path.read_bytes() == expected.encode("utf-8")
    assert result["diff"][-1]["before"] == OLD_STATE_FILE.format(config_dir=tmp_path)
    before = path.stat().st_mtime_ns
    again, calls = run_module(monkeypatch, tmp_path, capsys, {"owner": "server", "parameters": {"myhostname": "old"}},
                              main_cf="myhostname = old\n")
    assert again["changed"] is False and writes(calls) == [] and path.stat().st_mtime_ns == before
