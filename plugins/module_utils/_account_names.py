# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one definition of a UNIX account or group name, for the model on the control node and the modules on
the host."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# What useradd(8) accepts on Debian (adduser's NAME_REGEX without the trailing $ of machine accounts):
# a lower-case letter or '_', then letters, digits, '_', '-'; at most 32.
ACCOUNT_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
