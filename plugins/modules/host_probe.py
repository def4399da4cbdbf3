#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_probe
short_description: Read, in one round trip, what the collection's roles need to know about a host
version_added: 0.1.0
description:
  - Reads, without changing anything, which Debian packages are installed, which files exist, which systemd
    units are active and enabled, the passwd and group entries of some accounts, and the version of Dovecot.
    The C(vhosting.postfix.common) role runs it once per play, so that the roles' tasks that would only confirm
    a state (installing installed packages, creating existing files or accounts, starting a running service) are
    skipped instead of each costing a round trip in a run that changes nothing.
  - Every answer is read at the time of the probe; a task that changes the host afterwards in the same run does not
    update it (the roles only skip a task when the probe shows that its result is already there).
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
  packages:
    description: Debian package names to look up.
    type: list
    elements: str
    default: []
  paths:
    description: Paths whose existence to report (a symbolic link counts as existing, not followed).
    type: list
    elements: path
    default: []
  units:
    description: systemd units whose state to report.
    type: list
    elements: str
    default: []
  users:
    description: Account names whose passwd entry to report.
    type: list
    elements: str
    default: []
  groups:
    description: Group names whose group entry to report.
    type: list
    elements: str
    default: []
  modes:
    description: Paths whose owner, group and permissions to report (not followed when a symbolic link).
    type: list
    elements: path
    default: []
  certificates:
    description:
      - Certificates to read (with Python's ssl module, no key material is returned), each a dict with C(cert) (the
        PEM certificate chain), C(key) (its private key), C(names) (the names it must cover) and C(required) (the
        operator gave the files, so a missing one is a problem; otherwise it is only reported).
    type: list
    elements: dict
    default: []
    version_added: 0.5.0
    suboptions:
      cert:
        description: The certificate (chain) file.
        type: path
        required: true
      key:
        description: Its private key file.
        type: path
        required: true
      names:
        description: The names the certificate must cover.
        type: list
        elements: str
        default: []
      required:
        description: The files must exist.
        type: bool
        default: true
  listings:
    description: Directories whose entries (names only) to report.
    type: list
    elements: path
    default: []
    version_added: 0.5.0
"""

EXAMPLES = r"""
- name: Probe the host
  vhosting.postfix.host_probe:
    packages: [postfix, postfix-lmdb]
    paths: [/etc/postfix/main.cf]
    units: [postfix.service]
    users: [vmail]
    groups: [vmail]
    modes: [/var/spool/postfix/vhosting-opendkim]
    certificates:
      - cert: /etc/ssl/mail/fullchain.pem
        key: /etc/ssl/mail/privkey.pem
        names: [mx1.example.com]
        required: true
    listings: [/etc/letsencrypt/renewal]
  register: probe
"""

RETURN = r"""
packages:
  description: Each package with its installed version, or null when it is not installed.
  type: dict
  returned: always
paths:
  description: Each path with true when it exists.
  type: dict
  returned: always
units:
  description: Each unit with C(active) and C(enabled) (the answers of C(systemctl is-active) and C(is-enabled)).
  type: dict
  returned: always
users:
  description:
    - Each account with C(uid), C(gid), C(comment), C(home), C(shell) and C(home_exists) (the home directory is
      there), or null when there is no such account.
  type: dict
  returned: always
groups:
  description: Each group with its C(gid), or null when there is no such group.
  type: dict
  returned: always
modes:
  description:
    - Each path of O(modes) with C(OWNER:GROUP:MODE) (names, or numbers without a name; the mode in four octal
      digits, e.g. C(opendkim:postfix:2750)), C(link) for a symbolic link, or an empty string when it does not exist.
  type: dict
  returned: always
certificates:
  description:
    - Each certificate path of O(certificates) with C(exists), C(key_exists), C(names) (its DNS names), C(not_after),
      C(covers) (every name asked for is covered), C(key_match) and C(problems) (texts naming the files).
  type: dict
  returned: always
listings:
  description: Each directory of O(listings) with the sorted names of its entries, or null when it does not exist.
  type: dict
  returned: always
dovecot_version:
  description: The output of C(dovecot --version), or the candidate version apt would install, or an empty string.
  type: str
  returned: always
"""

import grp
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vhosting.postfix.plugins.module_utils._account_names import ACCOUNT_RE
from ansible_collections.vhosting.postfix.plugins.module_utils._certificates import inspect

_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_UNIT_RE = re.compile(r"^[A-Za-z0-9@_.:-]+\.(service|timer|socket|target|path)$")


def parse_dpkg(output, names):
    """{name: version or None} from ``dpkg-query -W -f '${Package}\\t${db:Status-Abbrev}\\t${Version}\\n'``."""
    found = dict((name, None) for name in names)
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0] in found and fields[1].startswith("ii"):
            found[fields[0]] = fields[2]
    return found


def account(name):
    """The passwd entry of ``name`` as a dict, or None."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return {"uid": entry.pw_uid, "gid": entry.pw_gid, "comment": entry.pw_gecos, "home": entry.pw_dir,
            "shell": entry.pw_shell, "home_exists": os.path.isdir(entry.pw_dir)}


def group(name):
    """The group entry of ``name`` as a dict, or None."""
    try:
        return {"gid": grp.getgrnam(name).gr_gid}
    except KeyError:
        return None


def parse_candidate(output):
    """The candidate version of ``apt-cache policy`` ('' when none)."""
    match = re.search(r"^\s*Candidate:\s*(\S+)", output, re.MULTILINE)
    return match.group(1) if match and match.group(1) != "(none)" else ""


def mode_of(path):
    """OWNER:GROUP:MODE of ``path`` (not followed), "link" for a symbolic link, "" when absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ""
    if stat.S_ISLNK(st.st_mode):
        return "link"
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group_name = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group_name = str(st.st_gid)
    return "%s:%s:%04o" % (owner, group_name, stat.S_IMODE(st.st_mode))


def listing(path):
    """The sorted entry names of the directory ``path``, or None when it is not a directory."""
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(argument_spec=dict(
        packages=dict(type="list", elements="str", default=[]),
        paths=dict(type="list", elements="path", default=[]),
        units=dict(type="list", elements="str", default=[]),
        users=dict(type="list", elements="str", default=[]),
        groups=dict(type="list", elements="str", default=[]),
        modes=dict(type="list", elements="path", default=[]),
        certificates=dict(type="list", elements="dict", default=[], options=dict(
            cert=dict(type="path", required=True),
            key=dict(type="path", required=True),
            names=dict(type="list", elements="str", default=[]),
            required=dict(type="bool", default=True),
        )),
        listings=dict(type="list", elements="path", default=[]),
    ), supports_check_mode=True)
    packages, units = module.params["packages"], module.params["units"]
    for name in packages:
        if not _PACKAGE_RE.match(name):
            module.fail_json(msg="%r is not a Debian package name" % name)
    for name in units:
        if not _UNIT_RE.match(name):
            module.fail_json(msg="%r is not a systemd unit name" % name)
    for name in module.params["users"] + module.params["groups"]:
        if not ACCOUNT_RE.match(name):
            module.fail_json(msg="%r is not an account or group name" % name)
    result = dict(changed=False, packages=dict((name, None) for name in packages), paths={}, units={},
                  dovecot_version="")
    if packages and module.get_bin_path("dpkg-query"):
        _rc, out, _err = module.run_command(["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Version}\n"]
                                            + packages)
        result["packages"] = parse_dpkg(out, packages)
    for path in module.params["paths"]:
        result["paths"][path] = os.path.lexists(path)
    systemctl = module.get_bin_path("systemctl") if units else None
    for unit in units:
        active = enabled = ""
        if systemctl:
            _rc, active, _err = module.run_command([systemctl, "is-active", unit])
            _rc, enabled, _err = module.run_command([systemctl, "is-enabled", unit])
        result["units"][unit] = {"active": active.strip(), "enabled": enabled.strip()}
    result["users"] = dict((name, account(name)) for name in module.params["users"])
    result["groups"] = dict((name, group(name)) for name in module.params["groups"])
    result["modes"] = dict((path, mode_of(path)) for path in module.params["modes"])
    result["certificates"] = dict((item["cert"], inspect(item["cert"], item["key"], item["names"], item["required"]))
                                  for item in module.params["certificates"])
    result["listings"] = dict((path, listing(path)) for path in module.params["listings"])
    dovecot = module.get_bin_path("dovecot")
    rc, out = 1, ""
    if dovecot:
        rc, out, _err = module.run_command([dovecot, "--version"])
    if rc == 0 and out.strip():
        result["dovecot_version"] = out.strip()
    elif module.get_bin_path("apt-cache"):
        rc, out, _err = module.run_command(["apt-cache", "policy", "dovecot-core"], environ_update={"LC_ALL": "C"})
        result["dovecot_version"] = parse_candidate(out) if rc == 0 else ""
    module.exit_json(**result)


if __name__ == "__main__":
    main()
