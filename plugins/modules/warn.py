#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: warn
short_description: Show a warning, as Ansible shows a module's warnings, and change nothing
version_added: 0.4.0
description:
  - Runs on the control node only (an action plugin; the host is not contacted). The task's result is C(ok) and
    O(msg) is shown as a C([WARNING]) line, also at default verbosity, and is part of the result's C(warnings), so
    that a stdout callback (JSON, YAML) and a playbook's recap treat it as a warning, not as the output of a debug
    task.
  - The roles use it for what an operator must read although the run goes on, e.g. a backup MX that could not read a
    primary's local recipients.
  - White space in O(msg) (line breaks of a folded YAML scalar) is collapsed to single spaces.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  msg:
    description: The warning.
    type: str
    required: true
seealso:
  - module: ansible.builtin.debug
"""

EXAMPLES = r"""
- name: Warn that a primary's recipients could not be read
  vhosting.postfix.warn:
    msg: could not read the local recipient names of mx1; its canonical domains get 450 here until a run reads them
"""

RETURN = r"""
msg:
  description: The warning, white space collapsed.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    # Only the action plugin runs; this is its documentation and argument spec.
    module = AnsibleModule(argument_spec={"msg": {"type": "str", "required": True}}, supports_check_mode=True)
    module.warn(module.params["msg"])
    module.exit_json(changed=False, msg=module.params["msg"])


if __name__ == "__main__":
    main()
