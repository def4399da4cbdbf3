# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vhosting.postfix.dovecot_users.

The host model (a fact, printed by verbose runs) lists the store's accounts
without their secrets: each says in which ``vhosting_domain__*`` variable and
under which mailbox key its password is. This plugin reads them there, on
the control node, and runs the module with ``users`` (whose password fields
are no_log). Nothing of the secrets is returned.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

_SECRETS = ("password", "password_hash")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        accounts = args.pop("accounts", None)
        if accounts is not None:
            try:
                args["users"] = self._users(accounts, task_vars)
            except AnsibleError as exc:
                result.update(failed=True, msg=to_text(exc))
                return result
        result.update(self._execute_module(module_name="vhosting.postfix.dovecot_users", module_args=args,
                                           task_vars=task_vars))
        return result

    def _users(self, accounts, task_vars):
        templar = self._templar.copy_with_new_env(available_variables=task_vars)
        definitions = {}
        users = []
        for account in accounts:
            varname, key = account.get("varname"), account.get("key")
            if varname not in definitions:
                if varname not in task_vars:
                    raise AnsibleError("account %s: the variable %s is not defined for this host"
                                       % (account.get("login"), varname))
                definitions[varname] = templar.template(task_vars[varname])
            mailboxes = (definitions[varname] or {}).get("mailboxes") or {}
            settings = mailboxes.get(key) if isinstance(mailboxes, dict) else None
            if not isinstance(settings, dict):
                raise AnsibleError("account %s: %s has no mailbox %r with a password" % (account.get("login"), varname, key))
            user = dict((name, account[name]) for name in ("login", "uid", "gid", "home"))
            for name in _SECRETS:
                if settings.get(name) is not None:
                    # A vault-encrypted value is decrypted here, as a plain string.
                    user[name] = to_text(settings[name])
            users.append(user)
        return users
