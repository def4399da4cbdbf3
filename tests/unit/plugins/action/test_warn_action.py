# -*- coding: utf-8 -*-
"""vhosting.postfix.warn: a warning in the result, nothing else, no connection."""
from unittest import mock

import pytest

from ansible_collections.vhosting.postfix.plugins.action.warn import ActionModule


def run(args):
    task = mock.MagicMock()
    task.args = args
    task.async_val = 0
    connection = mock.MagicMock()
    action = ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), None)
    return action.run(task_vars={}), connection


def test_the_message_is_a_warning_of_an_ok_result_and_the_host_is_not_contacted():
    result, connection = run({"msg": "could not read the local recipient names of mx1:\n  cdb:/etc/aliases missing."})
    assert result.get("failed") is not True and result["changed"] is False
    assert result["warnings"] == ["could not read the local recipient names of mx1: cdb:/etc/aliases missing."]
    assert result["msg"] == result["warnings"][0]
    assert connection.method_calls == [] and not connection.exec_command.called
    assert ActionModule._requires_connection is False


@pytest.mark.parametrize("msg", [None, "", "   ", 3, ["a"]])
def test_no_message_fails(msg):
    result, _connection = run({"msg": msg})
    assert result["failed"] is True and "msg must be a non-empty string" in result["msg"]
