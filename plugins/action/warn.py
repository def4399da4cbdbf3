# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vhosting.postfix.warn: a task that only warns (control node, no connection)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six import string_types
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("msg",))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        msg = self._task.args.get("msg")
        if not isinstance(msg, string_types) or not msg.strip():
            result.update(failed=True, msg="vhosting.postfix.warn: msg must be a non-empty string")
            return result
        text = " ".join(msg.split())
        result.update(changed=False, msg=text, warnings=[text])
        return result
