#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: postconf
short_description: Set and remove Postfix main.cf parameters and master.cf services idempotently
version_added: 0.1.0
description:
  - Sets main.cf parameters (C(postconf -e)) and removes them (C(postconf -X)).
  - Adds, changes and removes master.cf services, their fields and their C(-o) parameter
    overrides (C(postconf -M), C(postconf -MX)).
  - Reads the current state first (main.cf directly, C(postconf -M) for master.cf) and changes only
    what differs. Values are compared the way Postfix sees them, so C(a,b), C(a, b) and C(a b) are
    the same value of a list parameter (names ending in C(_maps), C(_restrictions), C(_domains),
    C(_networks), C(_classes), C(_checks), C(_milters), C(_protocols), and C(mydestination),
    C(inet_interfaces) and a few more), and of any parameter given as a YAML list. Other values are
    compared with whitespace runs collapsed, so commas stay significant in e.g. C(smtpd_banner).
  - All arguments are validated before anything is written. A parameter name that Postfix does not
    know (C(postconf -d), which includes the per-service parameters of master.cf services, also of
    services this task adds) is refused unless listed in O(user_defined).
  - However many parameters and services change, the module runs at most four writing postconf
    commands (one each of C(-MX), C(-M), C(-X), C(-e)); reading costs one C(postconf -dH) and, when
    O(services) is given, one C(postconf -M).
  - When a parameter is unknown and the task also adds services (or changes their commands), the
    module applies the service changes to a temporary copy of main.cf and master.cf to learn the
    per-service parameter names; the real configuration is not touched before validation passed.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Computes the complete change set, the diff and RV(restart_required), and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows changed main.cf parameters as C(name = value) lines and changed master.cf services
      as master.cf lines.
options:
  parameters:
    description:
      - main.cf parameters to set, name -> value.
      - A value is a string, an integer, a boolean (written as C(yes)/C(no)) or a list (joined with
        C(", ")). Values must not contain newlines. Use O(absent) to remove a parameter.
    type: dict
    default: {}
  absent:
    description:
      - Names of main.cf parameters to remove (C(postconf -X)). Names not in main.cf are ignored.
      - These names are not checked against the names Postfix knows, so stale user-defined
        parameters can be removed.
    type: list
    elements: str
    default: []
  user_defined:
    description:
      - Parameter names that are allowed in O(parameters) and in service C(parameters) although
        Postfix does not know them (for example a restriction class or a name used as C($name) in
        master.cf).
    type: list
    elements: str
    default: []
  services:
    description:
      - master.cf services, each identified by O(services[].service) and O(services[].type).
      - For an existing service only the given fields change; the others keep their values.
        A new service needs O(services[].command); omitted fields of a new service are C(-).
    type: list
    elements: dict
    default: []
    suboptions:
      service:
        description: The service name (first master.cf column), e.g. C(smtp), C(autoreply), C(127.0.0.1:10025).
        type: str
        required: true
      type:
        description: The service type, one of C(inet), C(unix), C(fifo), C(pass), C(unix-dgram).
        type: str
        required: true
      state:
        description: Whether the service should be in master.cf.
        type: str
        choices: [present, absent]
        default: present
      private:
        description: The private column, C(y), C(n), C(-) or a boolean.
        type: raw
      unpriv:
        description: The unpriv column, C(y), C(n), C(-) or a boolean.
        type: raw
      chroot:
        description: The chroot column, C(y), C(n), C(-) or a boolean.
        type: raw
      wakeup:
        description: The wakeup column, a number of seconds, C(N?) or C(-).
        type: raw
      maxproc:
        description: The maxproc column (process limit), a number or C(-).
        type: raw
      command:
        description:
          - The command and its arguments, without C(-o) options (those go to
            O(services[].parameters)), e.g. C(pipe flags=F user=vmail argv=/usr/bin/vacation ${user}).
        type: str
      parameters:
        description:
          - C(-o name=value) overrides of main.cf parameters for this service.
          - Lists are joined with C(,). A null value removes that override. Values with whitespace
            are written as C(-o {name=value}); braces inside values are refused.
          - Not exclusive by default, other C(-o) overrides of the service are kept; see
            O(services[].exclusive_parameters).
        type: dict
      exclusive_parameters:
        description:
          - When true, C(-o) overrides of the service that are not in O(services[].parameters) are
            removed, so the service has exactly the listed overrides.
        type: bool
        default: false
  config_dir:
    description: The Postfix configuration directory, passed to postconf as C(-c). It must contain main.cf.
    type: path
    default: /etc/postfix
notes:
  - RV(restart_required) is true when C(inet_interfaces) or C(inet_protocols) changed. Postfix needs
    a restart, not a reload, for those; any other change (including master.cf) needs a reload.
  - postconf itself writes the files (through a temporary file it renames), so comments and the
    layout of untouched parameters and services are kept.
seealso:
  - name: postconf(1)
    description: Postfix configuration utility.
    link: https://www.postfix.org/postconf.1.html
  - name: master(5)
    description: Postfix master process configuration file format.
    link: https://www.postfix.org/master.5.html
"""

EXAMPLES = r"""
- name: Base parameters of a virtual mailbox host
  vhosting.postfix.postconf:
    parameters:
      myhostname: mx.example.com
      mydestination: [$myhostname, localhost.$mydomain, localhost]
      virtual_mailbox_domains: lmdb:/etc/postfix/vmailbox_domains
      smtpd_helo_required: true
      message_size_limit: 52428800
  register: main_cf
  notify: vhosting_postfix_reload

- name: Remove parameters that are no longer wanted
  vhosting.postfix.postconf:
    absent: [relayhost, smtp_sasl_auth_enable]

- name: A user-defined restriction class
  vhosting.postfix.postconf:
    parameters:
      smtpd_restriction_classes: permissive
      permissive: permit
    user_defined: [permissive]

- name: An autoreply pipe service and a submission service with -o overrides
  vhosting.postfix.postconf:
    services:
      - service: autoreply
        type: unix
        private: "-"
        unpriv: false
        chroot: false
        command: pipe flags=F user=nobody argv=/usr/local/bin/autoreply ${sender} ${recipient}
      - service: submission
        type: inet
        private: false
        chroot: false
        command: smtpd
        parameters:
          syslog_name: postfix/submission
          smtpd_tls_security_level: encrypt
          smtpd_client_restrictions: [permit_sasl_authenticated, reject]
        exclusive_parameters: true
      - service: smtp
        type: inet
        maxproc: 50
      - service: uucp
        type: unix
        state: absent
"""

RETURN = r"""
changed:
  description: Whether main.cf or master.cf changed (in check mode, whether they would change).
  returned: always
  type: bool
changes:
  description:
    - One entry per changed parameter or service. C(kind) is C(parameter) or C(service); C(name) is
      the parameter name or C(service/type); C(before)/C(after) are the value (parameters) or the
      master.cf line (services), null when absent before or after.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: parameter, name: myhostname, before: localhost, after: mx.example.com}
    - {kind: service, name: autoreply/unix, before: null,
       after: "autoreply  unix  -       n       n       -       -       pipe flags=F user=nobody argv=/bin/cat"}
restart_required:
  description: True when inet_interfaces or inet_protocols changed, which needs a Postfix restart.
  returned: always
  type: bool
commands:
  description: The postconf commands that were run (in check mode, that would be run) to apply the changes.
  returned: always
  type: list
  elements: list
  sample: [["postconf", "-c", "/etc/postfix", "-e", "myhostname=mx.example.com"]]
diff:
  description: Before/after of the changed main.cf parameters and master.cf services, one entry per file.
  returned: always
  type: list
  elements: dict
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vhosting.postfix.plugins.module_utils._postconf import (
    PostconfError,
    parse_main_cf,
    parse_master_services,
    plan_parameters,
    plan_services,
    postconf_commands,
    render_diff,
    restart_required,
    unknown_message,
    unknown_names,
    validate_request,
)


class Postconf:
    """Runs postconf against one configuration directory."""

    def __init__(self, module, binary, config_dir):
        self.module = module
        self.binary = binary
        self.config_dir = config_dir

    def argv(self, args, config_dir=None):
        return [self.binary, "-c", config_dir or self.config_dir] + list(args)

    def run(self, args, config_dir=None):
        argv = self.argv(args, config_dir)
        rc, out, err = self.module.run_command(argv, environ_update={"LC_ALL": "C"})
        if rc != 0:
            detail = err.strip() or out.strip()
            self.module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join(argv[:4]), rc, detail),
                                  rc=rc, stdout=out, stderr=err, cmd=argv)
        return out

    def known_names(self, config_dir=None):
        return set(self.run(["-dH"], config_dir).split())


def known_with_new_services(postconf, service_commands):
    """Parameter names Postfix knows once the planned services exist.

    Applies the service changes to a temporary copy of main.cf and
    master.cf and asks ``postconf -d`` there; the real files stay untouched.
    """
    scratch = tempfile.mkdtemp(prefix="vhosting-postconf-")
    try:
        for name in ("main.cf", "master.cf"):
            source = os.path.join(postconf.config_dir, name)
            if os.path.exists(source):
                shutil.copyfile(source, os.path.join(scratch, name))
        for args in service_commands:
            postconf.run(args, scratch)
        return postconf.known_names(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            parameters=dict(type="dict", default={}),
            absent=dict(type="list", elements="str", default=[]),
            user_defined=dict(type="list", elements="str", default=[]),
            services=dict(
                type="list", elements="dict", default=[],
                options=dict(
                    service=dict(type="str", required=True),
                    type=dict(type="str", required=True),
                    state=dict(type="str", choices=["present", "absent"], default="present"),
                    private=dict(type="raw"),
                    unpriv=dict(type="raw"),
                    chroot=dict(type="raw"),
                    wakeup=dict(type="raw"),
                    maxproc=dict(type="raw"),
                    command=dict(type="str"),
                    parameters=dict(type="dict"),
                    exclusive_parameters=dict(type="bool", default=False),
                ),
            ),
            config_dir=dict(type="path", default="/etc/postfix"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    config_dir = params["config_dir"]
    try:
        request = validate_request(params["parameters"], params["absent"],
                                   params["user_defined"], params["services"])
    except PostconfError as exc:
        module.fail_json(msg=str(exc))

    main_cf = os.path.join(config_dir, "main.cf")
    if not os.path.isfile(main_cf):
        module.fail_json(msg="%s does not exist; postconf needs a main.cf (it may be empty)" % main_cf)
    binary = module.get_bin_path("postconf", required=True, opt_dirs=["/usr/sbin", "/sbin"])
    postconf = Postconf(module, binary, config_dir)

    try:
        with open(main_cf, "r", encoding="utf-8", errors="surrogateescape") as handle:
            current_main = parse_main_cf(handle.read())
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (main_cf, exc))

    try:
        current_services = {}
        if request["services"]:
            current_services = parse_master_services(postconf.run(["-M"]))
        service_plan = plan_services(current_services, request)
        param_plan = plan_parameters(current_main, request)
    except PostconfError as exc:
        module.fail_json(msg=str(exc))

    if unknown_names(request, ()):  # some name is not in user_defined: ask Postfix
        known = postconf.known_names()
        unknown = unknown_names(request, known)
        if unknown and service_plan["write"]:
            service_only = postconf_commands({"set": [], "remove": []}, service_plan)
            unknown = unknown_names(request, known_with_new_services(postconf, service_only))
        if unknown:
            module.fail_json(msg=unknown_message(unknown), unknown=[name for name, _w in unknown])

    changes = service_plan["changes"] + param_plan["changes"]
    commands = [postconf.argv(args) for args in postconf_commands(param_plan, service_plan)]
    result = dict(
        changed=bool(changes),
        changes=changes,
        restart_required=restart_required(changes),
        commands=commands,
        diff=render_diff(changes, config_dir),
    )
    if not module.check_mode:
        for argv in commands:
            rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C"})
            if rc != 0:
                result.update(rc=rc, stdout=out, stderr=err, cmd=argv)
                module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join(argv[:4]), rc,
                                                                err.strip() or out.strip()),
                                 **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
