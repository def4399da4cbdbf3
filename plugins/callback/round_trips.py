# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: round_trips
type: aggregate
short_description: Count, per host, the tasks of a run that reached the host
version_added: 0.1.0
description:
  - >-
    At the end of a run, prints one line, C(vhosting.postfix round trips: HOST=N ...), where N counts the task
    executions that ran something on the host (each loop item once; skipped tasks, and actions that run on the control
    node only such as C(debug), C(set_fact), C(assert) and C(vhosting.postfix.host_model_facts), do not count).
  - The collection's tests use it to hold a run that changes nothing to a stated number of round trips per host; an
    operator can enable it to see what a run costs each host.
requirements:
  - enable in configuration (C(callbacks_enabled = vhosting.postfix.round_trips))
"""

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

# Actions that never reach the host.
LOCAL_ACTIONS = frozenset((
    "debug", "set_fact", "assert", "fail", "meta", "include_tasks", "import_tasks", "include_role", "import_role",
    "include_vars", "set_stats", "add_host", "group_by", "pause", "host_model", "host_model_facts", "validate_argument_spec",
    "warn",
))


def _short(action):
    return (action or "").rsplit(".", 1)[-1]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vhosting.postfix.round_trips"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.counts = {}

    def _count(self, result, item=False):
        task = result._task
        if _short(task.action) in LOCAL_ACTIONS:
            return
        if not item and task.loop is not None:
            return  # counted per item
        if result._result.get("skipped"):
            return
        host = result._host.get_name()
        self.counts[host] = self.counts.get(host, 0) + 1

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_runner_item_on_ok(self, result):
        self._count(result, item=True)

    def v2_runner_item_on_failed(self, result):
        self._count(result, item=True)

    def v2_playbook_on_stats(self, stats):
        if str(C.DEFAULT_STDOUT_CALLBACK).rsplit(".", 1)[-1] in ("json", "jsonl"):
            return  # a machine-read output: one more line would break it
        line = " ".join("%s=%d" % (host, self.counts[host]) for host in sorted(self.counts))
        self._display.display("vhosting.postfix round trips: %s" % (line or "none"))
