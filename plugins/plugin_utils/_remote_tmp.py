# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's action plugins send their data files to the host one way (controller side)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def send_to_tmp(action, source, name):
    """Copy the control-node file ``source`` into the task's temporary directory on the host as ``name``,
    readable by the user the module runs as; return its path there. ``action`` is the running action plugin
    (TRANSFERS_FILES, so the directory exists); the directory goes with the task's _remove_tmp_path."""
    shell = action._connection._shell
    remote = shell.join_path(shell.tmpdir, name)
    action._transfer_file(source, remote)
    action._fixup_perms2((shell.tmpdir, remote))
    return remote
