# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: read_path
short_description: Check a path of a file a role reads and copies (a certificate or a key)
version_added: 0.3.0
description:
  - Returns the path when a role may read it and copy it elsewhere, for example the database servers' TLS
    certificate and key; fails naming the variable otherwise - not an absolute path of letters, digits and
    C(. _ - + = @ /), C(..) in it, or a file of the system, Postfix or Dovecot (C(/etc/shadow), C(/etc/postfix/main.cf),
    Dovecot's own configuration, ...), which a copy would hand to another user.
  - The same rule as the certificate and key paths of the C(vhosting.postfix.tls) role.
options:
  _input:
    description: The path.
    type: str
    required: true
  name:
    description: The variable named in the error.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The key's path, checked
  ansible.builtin.debug:
    msg: "{{ '/etc/ssl/db/privkey.pem' | vhosting.postfix.read_path('vhosting_database_server__tls_key') }}"
"""

RETURN = r"""
_value:
  description: The path, unchanged.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vhosting.postfix.plugins.plugin_utils._host_checks import path_problem


def read_path(path, name):
    why = path_problem(path, "read")
    if why:
        raise AnsibleFilterError("%s: %r %s" % (name, path, why))
    return path


class FilterModule(object):
    def filters(self):
        return {"read_path": read_path}
