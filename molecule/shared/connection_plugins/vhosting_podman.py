# Test hosts only (not part of the collection's plugins): the connection of
# every Molecule scenario, set per host by molecule/shared/create.yml and
# found through connection_plugins in each molecule.yml.
"""containers.podman.podman with pipelining.

The podman connection runs each module in four or five ``podman exec`` calls
(temporary directory, module file, chmod, run, clean up) because it declares
no pipelining: its ``podman exec`` is run without ``-i``, so standard input
never reaches the container. This subclass adds ``-i`` when there is data to
send and declares pipelining, so a module is one ``podman exec -i ...
python3`` call with the module on its standard input. Files (copy, template)
still go through the parent's mounted container file system.
"""
from __future__ import annotations

DOCUMENTATION = """
    name: vhosting_podman
    short_description: Run tasks in a podman container, modules pipelined
    description:
      - The containers.podman.podman connection with pipelining, for the test hosts of the Molecule scenarios.
    options:
      remote_addr:
        description: The name or ID of the container.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: The user that runs commands in the container.
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments of the podman command.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: The podman executable.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
      pipelining:
        description: Send modules on the standard input of podman exec.
        default: true
        type: boolean
        vars:
          - name: ansible_pipelining
"""

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    """The podman connection, with ``podman exec -i`` when there is input."""

    transport = "vhosting_podman"
    has_pipelining = True

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        exec_args = ["exec"]
        if in_data is not None:
            exec_args.append("-i")
        if self.user:
            exec_args.extend(("--user", self.user))
        return self._podman(exec_args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)
