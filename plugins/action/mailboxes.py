# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vhosting.postfix.mailboxes: a ``src`` data file on the control node travels to the host
as a file (one transfer), not as 100,000 module arguments; without ``src`` the module runs as it is."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.vhosting.postfix.plugins.plugin_utils._remote_tmp import send_to_tmp

# The name of the data file in the task's temporary directory on the host.
REMOTE_NAME = "mailboxes_src"


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        try:
            if args.get("src") is not None:
                try:
                    source = self._find_needle("files", args["src"])
                except AnsibleError as exc:
                    result.update(failed=True, changed=False, msg="src: %s" % to_native(exc))
                    return result
                args["src"] = send_to_tmp(self, source, REMOTE_NAME)
            result.update(self._execute_module(module_name="vhosting.postfix.mailboxes", module_args=args,
                                               task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
