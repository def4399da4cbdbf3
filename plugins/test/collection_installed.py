# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: collection_installed
short_description: Whether a collection is installed on the control node
version_added: 0.4.0
description:
  - True when Ansible finds the collection C(namespace.name) in its collection paths (C(COLLECTIONS_PATHS), and
    Python's C(sys.path) unless C(COLLECTIONS_SCAN_SYS_PATH) is false) - the way it resolves C(namespace.name.module)
    in a task.
  - For the collections that only some features need (community.general, community.mysql, community.postgresql;
    the collection's C(requirements.yml)). A play checks before the first task that uses one, and fails with a
    message that names the collection instead of Ansible's C(couldn't resolve module/action).
  - C(ansible.builtin) is always installed.
options:
  _input:
    description: The collection name, C(namespace.name).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The PostgreSQL backend needs community.postgresql
  ansible.builtin.assert:
    that: "'community.postgresql' is vhosting.postfix.collection_installed"
    fail_msg: "install it: ansible-galaxy collection install community.postgresql"
"""

RETURN = r"""
_value:
  description: Whether the collection is installed.
  type: bool
"""

import importlib
import os.path

from ansible.errors import AnsibleError
from ansible.utils.collection_loader import AnsibleCollectionRef

# The collection's requirements.yml (the optional collections), two levels up
# from plugins/test/.
REQUIREMENTS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "requirements.yml"))


def collection_installed(name):
    """Whether Ansible's collection loader finds the collection ``namespace.name``."""
    if not isinstance(name, str) or not AnsibleCollectionRef.is_valid_collection_name(name):
        raise AnsibleError("vhosting.postfix.collection_installed: %r is not a collection name (namespace.name)" % (name,))
    if name == "ansible.builtin":
        return True
    try:
        # The collection loader (installed by every ansible-* command) answers
        # from the configured collection paths, as for a task's FQCN.
        importlib.import_module("ansible_collections.%s" % name)
    except ImportError:
        return False
    return True


def install_hint(name, upgrade=False):
    """The commands that install (or upgrade) one of the optional collections."""
    command = "ansible-galaxy collection install%s" % (" --upgrade" if upgrade else "")
    return "%s %s (or every optional collection of vhosting.postfix: %s -r %s)" % (command, name, command, REQUIREMENTS)


class TestModule(object):
    def tests(self):
        return {"collection_installed": collection_installed}
