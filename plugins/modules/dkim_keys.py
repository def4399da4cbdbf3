#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkim_keys
short_description: Make the DKIM keys of the hosted domains on the host, and remove those no longer listed
version_added: 0.4.0
description:
  - For each key of O(keys), makes a private key on the host with C(openssl genpkey) (RSA of O(keys[].bits) bits, or
    Ed25519) as C(DIRECTORY/DOMAIN/SELECTOR.private), mode 0640, owner root, group O(group), and writes its public
    DNS record value (C(v=DKIM1; k=rsa; p=...), RFC 6376 and RFC 8463) to C(DIRECTORY/DOMAIN/SELECTOR.txt), 0644.
  - An existing key is never replaced; its owner and mode are corrected, and a missing C(.txt) is made again from
    it. A selector that already holds a key of another type is refused (a new key gets a new selector).
  - With O(exclusive), the keys and C(.txt) files of the directory that O(keys) no longer lists are removed (only
    names the module writes; nothing else in the directory is touched), and so are empty domain directories.
  - Domains and selectors are checked with a strict character set before they become paths; the key directory
    and the domain directories must not be symbolic links. The private keys are never read into the result or
    printed; only the public records are returned.
author:
  - vhosting.postfix maintainers (@vhosting)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
options:
  directory:
    description: The key directory (made 0750 root:O(group) when missing).
    type: path
    required: true
  keys:
    description: Every key the host must have.
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description: The signing domain (lower case).
        type: str
        required: true
      selector:
        description: The selector (one DNS label).
        type: str
        required: true
      type:
        description: The key type of a new key.
        type: str
        choices: [rsa, ed25519]
        default: rsa
      bits:
        description: The size of a new RSA key.
        type: int
        default: 2048
  group:
    description: The group that may read the private keys (the signer's).
    type: str
    default: opendkim
  exclusive:
    description: Remove the keys of the directory that O(keys) does not list.
    type: bool
    default: true
seealso:
  - module: vhosting.postfix.dns_records_info
"""

EXAMPLES = r"""
- name: Make the DKIM keys
  vhosting.postfix.dkim_keys:
    directory: /etc/opendkim/keys
    keys:
      - {domain: example.org, selector: s2026}
      - {domain: example.org, selector: s2027, type: ed25519}
"""

RETURN = r"""
keys:
  description: The public record of each key of O(keys) (in check mode, of the keys that exist already).
  type: list
  elements: dict
  returned: always
  sample: [{"domain": "example.org", "selector": "s2026", "type": "rsa", "record": "v=DKIM1; k=rsa; p=MIIB..."}]
created:
  description: The keys made (C(DOMAIN/SELECTOR)), or that would be made in check mode.
  type: list
  elements: str
  returned: always
removed:
  description: The files removed (or that would be), relative to O(directory).
  type: list
  elements: str
  returned: always
"""

import grp
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.vhosting.postfix.plugins.module_utils._dkim_keys import (
    DkimKeyError,
    check_key,
    record,
    record_type,
    stale,
)


def _is_dir(path):
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise DkimKeyError("%s is a symbolic link; the keys are only written into a real directory" % path)
    if not stat.S_ISDIR(st.st_mode):
        raise DkimKeyError("%s is not a directory" % path)
    return True


def _regular(path):
    """True when path is a regular file, False when absent; a link or another kind of file is refused."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        raise DkimKeyError("%s is not a regular file (a link or another kind of file is never used as a key)" % path)
    return True


def _read(path):
    with open(path, "r") as handle:
        return handle.read().strip()


def _ensure(path, uid, gid, mode):
    st = os.lstat(path)
    if (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, mode):
        return False
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return True


class Keys(object):
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.directory = module.params["directory"].rstrip("/") or "/"
        self.changed = False

    def run_openssl(self, args, data=None):
        rc, out, err = self.module.run_command(["openssl"] + args, data=data, binary_data=True)
        if rc != 0:
            raise DkimKeyError("openssl %s failed: %s" % (args[0], to_native(err).strip()))
        return out

    def public_record(self, kind, private_path):
        pem = self.run_openssl(["pkey", "-in", private_path, "-pubout"])
        return record(kind, pem)

    def make(self, key, domain_dir, gid):
        """Generate the key into a temporary file of the domain directory, then move it into place."""
        if key["type"] == "rsa":
            args = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % key["bits"]]
        else:
            args = ["genpkey", "-algorithm", "ED25519"]
        # mkstemp makes the file 0600; openssl writes into it (umask 077 for anything it creates itself).
        fd, tmp = tempfile.mkstemp(prefix=".%s." % key["selector"], suffix=".tmp", dir=domain_dir)
        os.close(fd)
        umask = os.umask(0o077)
        try:
            self.run_openssl(args + ["-out", tmp])
            text = self.public_record(key["type"], tmp)
            os.chown(tmp, 0, gid)
            os.chmod(tmp, 0o640)
            self.write_txt(os.path.join(domain_dir, key["selector"] + ".txt"), text)
            os.rename(tmp, os.path.join(domain_dir, key["selector"] + ".private"))
        finally:
            os.umask(umask)
            if os.path.exists(tmp):
                os.unlink(tmp)
        return text

    def write_txt(self, path, text):
        fd, tmp = tempfile.mkstemp(prefix=".txt.", dir=os.path.dirname(path))
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)

    def mkdir(self, path, gid):
        if _is_dir(path):
            if not self.check and _ensure(path, 0, gid, 0o750):
                self.changed = True
            return
        self.changed = True
        if not self.check:
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                # The signer's configuration directory (/etc/opendkim), readable by all as the package makes it.
                os.makedirs(parent)
                os.chmod(parent, 0o755)
            os.mkdir(path, 0o700)
            _ensure(path, 0, gid, 0o750)

    def apply(self, wanted, exclusive, gid):
        # Every key checked before anything changes.
        plan = []
        for key in wanted:
            domain_dir = os.path.join(self.directory, key["domain"])
            private = os.path.join(domain_dir, key["selector"] + ".private")
            txt = os.path.join(domain_dir, key["selector"] + ".txt")
            has_dir = _is_dir(self.directory) and _is_dir(domain_dir)
            has_key = has_dir and _regular(private)
            text = _read(txt) if has_dir and _regular(txt) else None
            if has_key and text is not None and record_type(text) not in (None, key["type"]):
                raise DkimKeyError("selector %s of %s already has an %s key; a key is never replaced: give the new %s "
                                   "key a new selector" % (key["selector"], key["domain"], record_type(text),
                                                           key["type"]))
            plan.append((key, domain_dir, private, txt, has_key, text))
        present = []
        if exclusive and _is_dir(self.directory):
            for domain in sorted(os.listdir(self.directory)):
                path = os.path.join(self.directory, domain)
                if os.path.isdir(path) and not os.path.islink(path):
                    present.extend((domain, name) for name in sorted(os.listdir(path)))
        remove = stale(wanted, present)
        keys, created = [], []
        self.mkdir(self.directory, gid)
        for key, domain_dir, private, txt, has_key, text in plan:
            self.mkdir(domain_dir, gid)
            name = "%s/%s" % (key["domain"], key["selector"])
            if not has_key:
                created.append(name)
                self.changed = True
                if self.check:
                    continue
                text = self.make(key, domain_dir, gid)
            else:
                if not self.check and _ensure(private, 0, gid, 0o640):
                    self.changed = True
                if record_type(text) != key["type"]:
                    self.changed = True
                    if self.check:
                        continue
                    text = self.public_record(key["type"], private)
                    self.write_txt(txt, text)
                elif not self.check and _ensure(txt, 0, 0, 0o644):
                    self.changed = True
            keys.append({"domain": key["domain"], "selector": key["selector"], "type": key["type"], "record": text})
        removed = []
        for domain, name in remove:
            removed.append("%s/%s" % (domain, name))
            self.changed = True
            if not self.check:
                os.unlink(os.path.join(self.directory, domain, name))
        wanted_domains = set(k["domain"] for k in wanted)
        for domain in sorted(set(d for d, _n in remove) - wanted_domains):
            path = os.path.join(self.directory, domain)
            if not self.check and not os.listdir(path):
                os.rmdir(path)
        return keys, created, removed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directory=dict(type="path", required=True),
            keys=dict(type="list", elements="dict", required=True, no_log=False, options=dict(
                domain=dict(type="str", required=True),
                selector=dict(type="str", required=True),
                type=dict(type="str", choices=["rsa", "ed25519"], default="rsa"),
                bits=dict(type="int", default=2048),
            )),
            group=dict(type="str", default="opendkim"),
            exclusive=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    directory = module.params["directory"]
    if not os.path.isabs(directory) or ".." in directory.split("/") or directory.rstrip("/") in ("", "/etc", "/var"):
        module.fail_json(msg="directory %r must be an absolute path of its own, without '..'" % directory)
    try:
        wanted = [check_key(k) for k in module.params["keys"]]
        seen = set()
        for key in wanted:
            if (key["domain"], key["selector"]) in seen:
                raise DkimKeyError("selector %s of %s is listed twice" % (key["selector"], key["domain"]))
            seen.add((key["domain"], key["selector"]))
        try:
            gid = grp.getgrnam(module.params["group"]).gr_gid
        except KeyError:
            if not module.check_mode:
                raise DkimKeyError("group %s does not exist (is the signer installed?)" % module.params["group"])
            gid = 0
        keys_ = Keys(module)
        keys, created, removed = keys_.apply(wanted, module.params["exclusive"], gid)
    except (DkimKeyError, OSError, IOError) as exc:
        module.fail_json(msg="dkim_keys: %s" % to_native(exc))
    result = {"changed": keys_.changed, "keys": keys, "created": created, "removed": removed}
    if module._diff:
        result["diff"] = {"before": "".join("%s\n" % r for r in removed),
                          "after": "".join("%s\n" % c for c in created)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
