# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The old name of vhosting.postfix.host_model_facts (until 1.0.0; meta/runtime.yml redirects the module and
warns). Ansible looks an action plugin up by the task's name before it follows a module redirect, so the old name
needs this alias to run on the control node instead of sending the module to the host."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vhosting.postfix.plugins.action.host_model_facts import ActionModule  # noqa: F401

__all__ = ["ActionModule"]
