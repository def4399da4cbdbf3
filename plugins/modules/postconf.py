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
  - With O(owner), the module records in a state file (O(state_file)) which main.cf parameters and
    which master.cf services this owner set, and removes what the owner set on an earlier run and no
    longer sets, in the same (at most four) postconf runs. Each name has one owner, whoever set it
    last, so a name another owner set later is not removed. Without O(owner) no state file is read or
    written.
  - Before it changes main.cf or master.cf (not in check mode), the module writes a pending-reload
    marker (O(pending_file)), so that a run that fails half-way still leaves the host marked as
    needing a reload or restart. The collection's handlers delete the marker after a successful
    reload or restart.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Computes the complete change set (also the removals of O(owner)), the diff and
      RV(restart_required), and writes nothing (neither the configuration, nor the state file, nor
      the pending-reload marker).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows changed main.cf parameters as C(name = value) lines and changed master.cf services
      as master.cf lines (removed ones as before lines only); with O(owner), a third entry shows the
      state file before and after when it changes.
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
  owner:
    description:
      - Who sets these parameters and services, e.g. C(server), C(domains), C(relay) (letters, digits,
        C(_), C(.), C(-); at most 64 characters).
      - When given, the module records in O(state_file) the main.cf parameters (the names in
        O(parameters)) and master.cf services (O(services) entries with state C(present); their
        C(-o) overrides belong to the service) that this owner sets, and removes (C(postconf -X),
        C(postconf -MX)) what the owner set on an earlier run and does not set now, unless the state
        file records that name for another owner by now. Ownership moves to whoever set a name last.
      - Names in O(absent) and services with state C(absent) are removed as without O(owner), and are
        no longer recorded for this owner.
      - A service that is in master.cf already and recorded for no owner (a stock service such as
        C(smtp/inet) that the task only tunes) is changed but not recorded, so it is never removed
        when the task stops listing it (that would delete the service, not restore its stock
        definition); list it in O(adopt) to take it over.
      - The state file is written only after the postconf commands succeeded; when one fails it keeps
        the old ownership, so the next run retries the removals. A state file that is not valid JSON,
        has another version or belongs to another configuration directory fails the task, naming the
        file, before anything is changed.
      - Without O(owner) no state file is read or written.
    type: str
  state_file:
    description:
      - The JSON file where O(owner) records ownership, one per configuration directory, shared by all
        owners of that directory. Only used with O(owner).
      - Default C(/var/lib/vhosting-postfix/postconf/) followed by O(config_dir) without its leading
        C(/), C(/) replaced by C(_), and C(.json), e.g.
        C(/var/lib/vhosting-postfix/postconf/etc_postfix.json) for C(/etc/postfix).
      - Missing directories are created (mode C(0755)); the file (mode C(0644)) is replaced atomically
        (temporary file and rename).
      - 'It holds a JSON object: C({"version": 1, "config_dir": "/etc/postfix", "parameters":
        {"myhostname": "server"}, "services": {"autoreply/unix": "domains"}}), each name with its
        one owner.'
    type: path
  adopt:
    description:
      - main.cf parameter names (or master.cf services as C(name/type)) to treat as set by O(owner) on
        an earlier run when the state file records no owner for them, e.g. the list of an older state
        file, to migrate it once. Adopted names that the owner does not set now are removed; names the
        state file records for another owner are left alone. Needs O(owner).
    type: list
    elements: str
    default: []
  pending_file:
    description:
      - The pending-reload marker. Before the module changes main.cf or master.cf (not in check mode)
        it writes C(reload) to this file, or C(restart) when RV(restart_required); an existing
        C(restart) is never downgraded to C(reload). The marker is written before postconf runs, so a
        run that fails later still leaves the host marked. Nothing else deletes it; the collection's
        handlers do after a successful reload or restart.
      - Not written when nothing changes, nor in check mode. An empty string disables the marker.
    type: path
    default: /var/lib/vhosting-postfix/reload-pending
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

- name: The domains role's parameters; what it set earlier and no longer sets is removed
  vhosting.postfix.postconf:
    owner: domains
    parameters:
      virtual_alias_domains: [example.net]
      virtual_alias_maps: lmdb:/etc/postfix/virtual
    services:
      - {service: autoreply, type: unix, unpriv: false, chroot: false, command: "pipe flags=F user=nobody argv=/bin/cat"}
  register: domains_cf
  notify: vhosting_postfix_reload

- name: Read the relay role's old state file on the host (a list of parameter names)
  ansible.builtin.slurp:
    src: /etc/postfix/vhosting_relay.json
  register: old_relay_state

- name: Migrate it once; adopted names the relay role no longer sets are removed
  vhosting.postfix.postconf:
    owner: relay
    adopt: "{{ (old_relay_state.content | b64decode | from_json).parameters }}"
    parameters:
      relay_domains: [example.org]

- name: Reload when an earlier run changed the configuration but failed before its handler ran
  vhosting.postfix.postconf:
    owner: server
    parameters:
      myhostname: mx.example.com
  register: server_cf
  changed_when: server_cf.changed or server_cf.pending is not none
  notify: vhosting_postfix_reload
"""

RETURN = r"""
changed:
  description:
    - Whether main.cf, master.cf or (with O(owner)) the state file changed (in check mode, whether they
      would change).
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
  description:
    - Before/after of the changed main.cf parameters and master.cf services, one entry per file
      (removed ones appear in C(before) only); with O(owner), a last entry for the state file when it
      changes.
  returned: always
  type: list
  elements: dict
removed:
  description:
    - What was removed (in check mode, would be removed) because O(owner) set it on an earlier run (or
      O(adopt) lists it) and no longer sets it. Names that were no longer in main.cf or master.cf are
      not listed. Empty lists without O(owner).
  returned: always
  type: dict
  contains:
    parameters:
      description: main.cf parameter names.
      type: list
      elements: str
    services:
      description: master.cf services as C(name/type).
      type: list
      elements: str
  sample: {parameters: [relayhost], services: [autoreply/unix]}
owned:
  description: What O(owner) owns after the run (in check mode, would own), sorted; null without O(owner).
  returned: always
  type: dict
  contains:
    parameters:
      description: main.cf parameter names.
      type: list
      elements: str
    services:
      description: master.cf services as C(name/type).
      type: list
      elements: str
  sample: {parameters: [myhostname, mydomain], services: []}
pending:
  description:
    - The content of the pending-reload marker after the run, C(reload) or C(restart) (any other
      content of an existing marker counts as C(reload)); null when there is no marker or
      O(pending_file) is empty. In check mode, the marker as it is (check mode does not write it).
  returned: always
  type: str
  sample: reload
state_changed:
  description: Whether the state file changed (would change in check mode); also makes RV(changed) true.
  returned: always
  type: bool
state_file:
  description: The state file used.
  returned: when O(owner) is given
  type: str
  sample: /var/lib/vhosting-postfix/postconf/etc_postfix.json
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic
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
from ansible_collections.vhosting.postfix.plugins.module_utils._owner_state import (
    PENDING_FILE,
    default_state_file,
    empty_state,
    parse_pending,
    parse_state,
    pending_after,
    plan_ownership,
    previously_owned,
    removed_names,
    render_state,
    validate_ownership,
    with_removals,
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


# --------------------------------------------------------------------------
# Files: the state file and the pending-reload marker
# --------------------------------------------------------------------------

def read_text(path):
    """The text of ``path``, or None when it does not exist."""
    try:
        with open(path, "r", encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.lexists(path):
            return None
        raise exc


def load_state(module, path, config_dir):
    """(state, text) of the state file; the empty state and None when missing."""
    try:
        text = read_text(path)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the state file %s: %s. Nothing was changed" % (path, exc))
    if text is None:
        return empty_state(config_dir), None
    try:
        return parse_state(text, path, config_dir), text
    except PostconfError as exc:
        module.fail_json(msg=str(exc), state_file=path)


def read_pending(module, path):
    """The level of an existing marker (reload/restart), None when there is none."""
    if not path:
        return None
    try:
        text = read_text(path)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the pending-reload marker %s: %s. Nothing was changed"
                         % (path, exc))
    return None if text is None else parse_pending(text)


# --------------------------------------------------------------------------
# Reading and planning
# --------------------------------------------------------------------------

def argument_spec():
    return dict(
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
        owner=dict(type="str"),
        state_file=dict(type="path"),
        adopt=dict(type="list", elements="str", default=[]),
        pending_file=dict(type="path", default=PENDING_FILE),
    )


def validate_arguments(module):
    """(request, owner, adopt) or fail before anything is read."""
    params = module.params
    try:
        request = validate_request(params["parameters"], params["absent"],
                                   params["user_defined"], params["services"])
        owner, adopt = validate_ownership(params["owner"], params["adopt"])
    except PostconfError as exc:
        module.fail_json(msg=str(exc))
    return request, owner, adopt


def read_main_cf(module, config_dir):
    main_cf = os.path.join(config_dir, "main.cf")
    if not os.path.isfile(main_cf):
        module.fail_json(msg="%s does not exist; postconf needs a main.cf (it may be empty)" % main_cf)
    try:
        with open(main_cf, "r", encoding="utf-8", errors="surrogateescape") as handle:
            return parse_main_cf(handle.read())
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (main_cf, exc))


class Owned:
    """The ownership side of one run: who, where, the old state and the plan."""

    def __init__(self, owner, adopt, path, state, text):
        self.owner = owner
        self.adopt = adopt
        self.path = path
        self.state = state
        self.text = text
        self.plan = None

    def services_to_check(self):
        """Service keys this owner set earlier: master.cf must be read for them."""
        return previously_owned(self.state, self.owner, self.adopt)[1]

    def new_text(self):
        return render_state(self.plan["state"])

    def changed(self):
        """Whether the state file would change (a missing file is the empty state)."""
        return self.plan["state"] != self.state


def plan_run(module, postconf, request, owned, current_main):
    """The complete plan: (request with removals, parameter plan, service plan, current services)."""
    try:
        current_services = {}
        if request["services"] or (owned and owned.services_to_check()):
            current_services = parse_master_services(postconf.run(["-M"]))
        if owned:
            owned.plan = plan_ownership(owned.state, owned.owner, request, owned.adopt,
                                        current_services)
            request = with_removals(request, owned.plan["stale_parameters"],
                                    owned.plan["stale_services"])
        service_plan = plan_services(current_services, request)
        param_plan = plan_parameters(current_main, request)
    except PostconfError as exc:
        module.fail_json(msg=str(exc))
    return request, param_plan, service_plan, current_services


def check_known(module, postconf, request, service_plan):
    """Fail, naming them, when requested names are unknown to Postfix."""
    if not unknown_names(request, ()):  # every name is user-defined: no need to ask Postfix
        return
    known = postconf.known_names()
    unknown = unknown_names(request, known)
    if unknown and service_plan["write"]:
        service_only = postconf_commands({"set": [], "remove": []}, service_plan)
        unknown = unknown_names(request, known_with_new_services(postconf, service_only))
    if unknown:
        module.fail_json(msg=unknown_message(unknown), unknown=[name for name, _w in unknown])


def build_result(postconf, param_plan, service_plan, owned, removed, pending):
    changes = service_plan["changes"] + param_plan["changes"]
    commands = [postconf.argv(args) for args in postconf_commands(param_plan, service_plan)]
    state_changed = bool(owned and owned.changed())
    result = dict(
        changed=bool(changes) or state_changed,
        changes=changes,
        restart_required=restart_required(changes),
        commands=commands,
        diff=render_diff(changes, postconf.config_dir),
        removed=removed,
        owned=owned.plan["owned"] if owned else None,
        pending=pending,
        state_changed=state_changed,
    )
    if owned:
        result["state_file"] = owned.path
        if state_changed:
            result["diff"].append({"before_header": owned.path, "after_header": owned.path,
                                   "before": owned.text or "", "after": owned.new_text()})
    return result


# --------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------

def mark_pending(module, path, result):
    """Write the pending-reload marker before the configuration changes."""
    level = pending_after(result["pending"], result["restart_required"])
    if path and level != result["pending"]:
        try:
            write_atomic(path, level)
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot write the pending-reload marker %s: %s. Nothing was changed"
                             % (path, exc), **result)
    if path:
        result["pending"] = level


def run_commands(module, result, owned):
    for argv in result["commands"]:
        rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C"})
        if rc != 0:
            kept = ("; the state file %s was not updated, so the next run retries" % owned.path
                    if owned else "")
            result.update(rc=rc, stdout=out, stderr=err, cmd=argv)
            module.fail_json(msg="%s failed (rc=%d): %s%s" % (" ".join(argv[:4]), rc,
                                                              err.strip() or out.strip(), kept),
                             **result)


def save_state(module, owned, result):
    try:
        write_atomic(owned.path, owned.new_text())
    except (IOError, OSError) as exc:
        module.fail_json(msg="the configuration is applied, but the state file %s could not be "
                         "written: %s" % (owned.path, exc), **result)


def apply(module, result, owned, pending_file):
    """Marker first, then postconf, then (only after postconf succeeded) the state."""
    if result["commands"]:
        mark_pending(module, pending_file, result)
        run_commands(module, result, owned)
    if result["state_changed"]:
        save_state(module, owned, result)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    config_dir = params["config_dir"]
    request, owner, adopt = validate_arguments(module)
    current_main = read_main_cf(module, config_dir)
    binary = module.get_bin_path("postconf", required=True, opt_dirs=["/usr/sbin", "/sbin"])
    postconf = Postconf(module, binary, config_dir)
    owned = None
    if owner:
        path = params["state_file"] or default_state_file(config_dir)
        owned = Owned(owner, adopt, path, *load_state(module, path, config_dir))
    pending_file = params["pending_file"] or ""
    pending = read_pending(module, pending_file)

    request, param_plan, service_plan, current_services = plan_run(
        module, postconf, request, owned, current_main)
    check_known(module, postconf, request, service_plan)
    removed = {"parameters": [], "services": []}
    if owned:
        removed = removed_names(owned.plan, current_main, current_services)
    result = build_result(postconf, param_plan, service_plan, owned, removed, pending)
    if not module.check_mode:
        apply(module, result, owned, pending_file)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
