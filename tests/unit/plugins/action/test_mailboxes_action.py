# -*- coding: utf-8 -*-
"""The mailboxes action: a src data file travels to the host's temporary directory as a file and the module gets
its remote name; a list of mailboxes goes to the module unchanged."""
import os
import shutil
from unittest import mock

from ansible_collections.vhosting.postfix.plugins.action.mailboxes import REMOTE_NAME, ActionModule


def run(tmp_path, args):
    task = mock.MagicMock()
    task.async_val = 0
    task.check_mode = False
    task.args = args
    connection = mock.MagicMock()
    connection._shell.tmpdir = str(tmp_path / "remote")
    connection._shell.join_path.side_effect = os.path.join
    action = ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), None)
    calls = []

    def execute(_self, module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args)))
        return {"changed": False}
    with mock.patch.object(ActionModule, "_execute_module", autospec=True, side_effect=execute), \
            mock.patch.object(ActionModule, "_find_needle", side_effect=lambda _d, name: str(tmp_path / name)), \
            mock.patch.object(ActionModule, "_transfer_file", side_effect=shutil.copy), \
            mock.patch.object(ActionModule, "_fixup_perms2"), \
            mock.patch.object(ActionModule, "_remove_tmp_path") as removed:
        result = action.run(task_vars={})
    assert removed.called  # the temporary directory goes, whatever happened
    return result, calls


def test_a_data_file_travels_as_a_file_and_the_module_reads_the_copy(tmp_path):
    (tmp_path / "remote").mkdir()
    (tmp_path / "m.txt").write_text("box.test/bob/\tmaildir\n")
    result, calls = run(tmp_path, {"base": "/srv/vmail", "owner": 5000, "group": 5000, "src": "m.txt"})
    assert result == {"changed": False}
    ((name, args),) = calls
    remote = str(tmp_path / "remote" / REMOTE_NAME)
    assert name == "vhosting.postfix.mailboxes" and args["src"] == remote and "mailboxes" not in args
    with open(remote) as handle:
        assert handle.read() == "box.test/bob/\tmaildir\n"


def test_a_list_goes_to_the_module_unchanged(tmp_path):
    boxes = [{"path": "box.test/bob/", "maildir": True}]
    _result, calls = run(tmp_path, {"base": "/srv/vmail", "owner": 5000, "group": 5000, "mailboxes": boxes})
    assert calls == [("vhosting.postfix.mailboxes", {"base": "/srv/vmail", "owner": 5000, "group": 5000,
                                                     "mailboxes": boxes})]
