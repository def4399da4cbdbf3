# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the postconf module's flow: what it runs, in which order, and when not.

postconf is replaced by a recorder that answers the read-only queries
(-dH, -M) from fixed text and records every other call; the files the
module reads (main.cf) are real files in a temporary directory.
"""
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.vhosting.postfix.plugins.modules import postconf

KNOWN = "myhostname\nmydomain\nrelayhost\ninet_interfaces\nsyslog_name\nsmtpd_banner\n"
MASTER = "smtp       inet  n       -       y       -       -       smtpd\n"


class Recorder:
    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def __call__(self, module, argv, **kwargs):
        self.calls.append(argv)
        return self.answer(argv)

    def answer(self, argv):
        option = argv[3]
        if option == self.fail_on:
            return 1, "", "postconf: fatal: something broke"
        if option == "-dH":
            return 0, KNOWN, ""
        if option == "-M" and len(argv) == 4:
            return 0, MASTER, ""
        return 0, "", ""


def run_module(monkeypatch, tmp_path, capsys, args, recorder=None, main_cf="myhostname = old\nrelayhost = r\n"):
    if main_cf is not None:
        (tmp_path / "main.cf").write_text(main_cf)
    recorder = recorder or Recorder()

    def fake_run_command(self, argv, **kwargs):
        return recorder(self, argv, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", fake_run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *a, **k: "/usr/sbin/postconf")
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
