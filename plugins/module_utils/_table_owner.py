# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Empty: the owner records of table keys moved to ``_owner_state`` (``*table*`` functions).

Nothing imports this file. It stays only because plugins/action/lookup_table.py
reads it into the module's code digest (``_CODE``); delete it together with
that entry.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type
