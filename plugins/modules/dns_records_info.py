#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dns_records_info
short_description: The DNS records that the domains of a mail host need (MX, SPF, DMARC, DKIM)
version_added: 0.4.0
description:
  - Lists the DNS records that the domains hosted on this host need, from the mail authentication part of the host's
    model (C(vhosting_postfix__model.mail_auth.dns), built by the vhosting.postfix.mail_auth role) and the DKIM public
    keys on the host.
  - "The records: the MX of each hosted domain (preference 10) and of each backup domain (preference 20), pointing at
    this host; the SPF record (TXT at the domain) and the DMARC record (TXT at C(_dmarc.<domain>)) when the model has
    one; a TXT record C(<selector>._domainkey.<domain>) per DKIM selector, whose value is the content of
    C(<key_directory>/<domain>/<selector>.txt); the SPF record of the SRS domain when the model has one. The TXT
    record of each retired selector is listed with I(state=absent): it is to be deleted from the DNS."
  - Reads only the public C(.txt) files, never the private keys. The domain and selector names are checked to be DNS
    labels before any path is made of them, and a C(.txt) file must hold one DKIM record
    (C(v=DKIM1; k=rsa|ed25519; p=<base64>)), else the module fails naming the file.
  - A selector whose C(.txt) file is not there yet (a check-mode run before the key was made) is listed in I(missing),
    with a warning, and has no record.
  - Never changes anything. The controller side (merging the records of several hosts, the table, zone-file fragments
    and C(community.general.nsupdate) items) is done by the C(vhosting.postfix.dns_records_merge),
    C(dns_records_table), C(dns_zone_fragment) and C(dns_nsupdate_items) filters; see C(playbooks/dns_records.yml) and
    docs/dns-records.md.
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
  dns:
    description:
      - The DNS part of the host's mail authentication model, C(vhosting_postfix__model.mail_auth.dns).
      - "Keys: C(myhostname) (this host's name, the MX target), C(ttl), C(domains) (hosted domain -> C({spf, dmarc,
        selectors, retired})), C(backup_domains), C(srs_domain) and C(srs_spf)."
    type: dict
    required: true
  key_directory:
    description: The directory of the DKIM keys, C(<key_directory>/<domain>/<selector>.txt).
    type: path
    default: /etc/opendkim/keys
seealso:
  - module: vhosting.postfix.lookup_info
"""

EXAMPLES = r"""
- name: The DNS records of this host's domains
  vhosting.postfix.dns_records_info:
    dns: "{{ vhosting_postfix__model.mail_auth.dns }}"
  register: dns_read

- name: Show them
  ansible.builtin.debug:
    msg: "{{ dns_read.records | map(attribute='name') | list }}"
"""

RETURN = r"""
records:
  description:
    - The records, sorted. I(name) is absolute, without the trailing dot; I(value) is the MX preference and target
      (C(10 mx1.example.org.)) or the plain text of the TXT record (unquoted, not split), null for a record to delete.
  type: list
  elements: dict
  returned: success
  contains:
    domain:
      description: The hosted or backup domain the record belongs to.
      type: str
    name:
      description: The owner name.
      type: str
    type:
      description: C(MX) or C(TXT).
      type: str
    value:
      description: The record's value, or null when I(state=absent).
      type: str
    ttl:
      description: The TTL, in seconds.
      type: int
    state:
      description: C(present), or C(absent) for the record of a retired DKIM selector.
      type: str
  sample:
    - {domain: example.org, name: example.org, type: MX, value: "10 mx1.example.org.", ttl: 3600, state: present}
    - {domain: example.org, name: example.org, type: TXT, value: "v=spf1 mx -all", ttl: 3600, state: present}
    - {domain: example.org, name: s0._domainkey.example.org, type: TXT, value: null, ttl: 3600, state: absent}
missing:
  description: The DKIM selectors of the model whose C(.txt) file is not on the host (they have no record).
  type: list
  elements: dict
  returned: success
  contains:
    domain:
      description: The domain.
      type: str
    selector:
      description: The selector.
      type: str
    path:
      description: The file that is not there.
      type: str
  sample: [{domain: example.org, selector: s2, path: /etc/opendkim/keys/example.org/s2.txt}]
"""

import errno
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule
# A DNS label as the collection accepts it for a domain or a DKIM selector (the dkim_keys module's rule): lower
# case letters, digits and inner hyphens, 1 to 63 characters. Nothing else ever becomes a path component.
from ansible_collections.vhosting.postfix.plugins.module_utils._dkim_keys import SELECTOR_RE as LABEL_RE
# A DKIM key record (RFC 6376 3.6.1) as opendkim-genkey makes it: v=DKIM1 first, a key type this collection
# signs with, the public key in base64; the tags h= (hash algorithms), s= (service), t= (flags) may be there too.
_DKIM_TAG_RE = re.compile(r"^([a-z]+)\s*=\s*(.*)\Z")
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/]+={0,2}\Z")
_OPTIONAL_TAG_RE = re.compile(r"^[A-Za-z0-9:*._-]+\Z")
DKIM_KEY_TYPES = ("rsa", "ed25519")
# An RSA 4096 record is about 750 characters; a larger file is not a DKIM public key.
MAX_TXT_FILE = 8192
PRIMARY_PREFERENCE = 10
BACKUP_PREFERENCE = 20


class DnsRecordsError(ValueError):
    """The model or a key file is not what the module can publish."""


def is_domain(name):
    """True when ``name`` is a domain of DNS labels (lower case, at least two labels, at most 253 characters)."""
    if not isinstance(name, str) or len(name) > 253:
        return False
    labels = name.split(".")
    return len(labels) >= 2 and all(LABEL_RE.match(label) for label in labels)


def is_selector(name):
    """True when ``name`` is one DNS label (a DKIM selector)."""
    return isinstance(name, str) and bool(LABEL_RE.match(name))


def check_dkim_record(text):
    """None when ``text`` is one DKIM key record, else what is wrong with it."""
    if not text or any(ord(c) < 0x20 or ord(c) > 0x7e for c in text):
        return "it must be one line of printable ASCII"
    tags = [t.strip() for t in text.split(";")]
    if tags and tags[-1] == "":
        tags.pop()
    seen, order = {}, []
    for tag in tags:
        match = _DKIM_TAG_RE.match(tag)
        if not match:
            return "%r is not a tag=value pair" % tag[:40]
        key, value = match.group(1), match.group(2).strip()
        if key in seen:
            return "the tag %s= is given twice" % key
        seen[key] = value
        order.append(key)
    if not order or order[0] != "v" or seen["v"] != "DKIM1":
        return "it must start with v=DKIM1"
    if seen.get("k") not in DKIM_KEY_TYPES:
        return "k= must be one of %s" % ", ".join(DKIM_KEY_TYPES)
    if not _BASE64_RE.match(seen.get("p", "")):
        return "p= must be the public key in base64"
    for key in seen:
        if key in ("v", "k", "p"):
            continue
        if key not in ("h", "s", "t", "n") or (key != "n" and not _OPTIONAL_TAG_RE.match(seen[key])):
            return "the tag %s=%r is not expected in a DKIM key record" % (key, seen[key][:40])
    if seen["k"] == "ed25519" and len(seen["p"]) != 44:
        return "an ed25519 public key is 44 base64 characters, not %d" % len(seen["p"])
    return None


def read_txt(path):
    """The DKIM record in ``path`` (one line), or None when the file does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        if exc.errno == errno.ELOOP:
            raise DnsRecordsError("%s is a symbolic link; the DKIM record must be a file of its own" % path)
        raise DnsRecordsError("cannot read %s: %s" % (path, exc.strerror))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DnsRecordsError("%s is not a regular file" % path)
        data = os.read(fd, MAX_TXT_FILE + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_TXT_FILE:
        raise DnsRecordsError("%s is larger than %d bytes: not a DKIM public key record" % (path, MAX_TXT_FILE))
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise DnsRecordsError("%s: a DKIM record is ASCII text" % path)
    problem = check_dkim_record(text)
    if problem:
        raise DnsRecordsError("%s does not hold one DKIM key record (v=DKIM1; k=rsa|ed25519; p=<base64>): %s"
                              % (path, problem))
    return text


def _text(value, what, prefix):
    """The SPF/DMARC text ``value`` (None stays None), checked to start with ``prefix``."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DnsRecordsError("%s must be a non-empty string or null, not %r" % (what, value))
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in value):
        raise DnsRecordsError("%s must be one line without control characters: %r" % (what, value))
    if not value.lower().startswith(prefix.lower()):
        raise DnsRecordsError("%s must start with %s: %r" % (what, prefix, value))
    return value


def _names(value, what, check, kind):
    if value is None:
        return []
    if not isinstance(value, list):
        raise DnsRecordsError("%s must be a list, not %r" % (what, value))
    bad = [v for v in value if not check(v)]
    if bad:
        raise DnsRecordsError("%s: %s not %s (lower case DNS labels: letters, digits, inner hyphens)"
                              % (what, ", ".join(repr(b) for b in bad), kind))
    if len(set(value)) != len(value):
        raise DnsRecordsError("%s names an entry twice: %r" % (what, value))
    return list(value)


def _suffix_domain(name, domains):
    """The longest of ``domains`` that is ``name`` or a parent of it, else ``name``."""
    best = name
    for domain in domains:
        if (name == domain or name.endswith("." + domain)) and (best == name or len(domain) > len(best)):
            best = domain
    return best


def _sort_key(record):
    return (list(reversed(record["name"].split("."))), record["type"], record["state"], record["value"] or "")


def dns_records(dns, key_directory):
    """The records of the model ``dns`` and the key files under ``key_directory``: (records, missing).

    Pure but for reading the ``.txt`` files; raises DnsRecordsError naming what is wrong.
    """
    if not isinstance(dns, dict):
        raise DnsRecordsError("dns must be a dict, not %r" % (dns,))
    unknown = sorted(set(dns) - set(("myhostname", "ttl", "domains", "backup_domains", "srs_domain", "srs_spf")))
    if unknown:
        raise DnsRecordsError("dns: unknown keys %s" % ", ".join(unknown))
    myhostname = dns.get("myhostname")
    if not is_domain(myhostname):
        raise DnsRecordsError("dns.myhostname: %r is not a host name (lower case DNS labels)" % (myhostname,))
    ttl = dns.get("ttl", 3600)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 2147483647:
        raise DnsRecordsError("dns.ttl: %r is not a TTL in seconds (0 to 2147483647)" % (ttl,))
    domains = dns.get("domains") or {}
    if not isinstance(domains, dict):
        raise DnsRecordsError("dns.domains must be a dict of domain -> {spf, dmarc, selectors, retired}")
    bad = [d for d in domains if not is_domain(d)]
    if bad:
        raise DnsRecordsError("dns.domains: %s not domain names (lower case DNS labels: letters, digits, inner "
                              "hyphens)" % ", ".join(repr(b) for b in sorted(bad, key=str)))
    backups = _names(dns.get("backup_domains"), "dns.backup_domains", is_domain, "domain names")
    both = sorted(set(backups) & set(domains))
    if both:
        raise DnsRecordsError("dns: %s both hosted here and backed up here" % ", ".join(both))
    srs_domain = dns.get("srs_domain")
    if srs_domain is not None and not is_domain(srs_domain):
        raise DnsRecordsError("dns.srs_domain: %r is not a domain name (lower case DNS labels)" % (srs_domain,))
    srs_spf = _text(dns.get("srs_spf"), "dns.srs_spf", "v=spf1")

    def record(domain, name, rtype, value, state="present"):
        return {"domain": domain, "name": name, "type": rtype, "value": value, "ttl": ttl, "state": state}

    records, missing = [], []
    target = myhostname + "."
    for domain in sorted(domains):
        spec = domains[domain] or {}
        where = "dns.domains[%s]" % domain
        if not isinstance(spec, dict):
            raise DnsRecordsError("%s must be a dict {spf, dmarc, selectors, retired}" % where)
        unknown = sorted(set(spec) - set(("spf", "dmarc", "selectors", "retired")))
        if unknown:
            raise DnsRecordsError("%s: unknown keys %s" % (where, ", ".join(unknown)))
        spf = _text(spec.get("spf"), where + ".spf", "v=spf1")
        dmarc = _text(spec.get("dmarc"), where + ".dmarc", "v=DMARC1")
        selectors = _names(spec.get("selectors"), where + ".selectors", is_selector, "DKIM selectors")
        retired = _names(spec.get("retired"), where + ".retired", is_selector, "DKIM selectors")
        again = sorted(set(selectors) & set(retired))
        if again:
            raise DnsRecordsError("%s: %s both in use and retired" % (where, ", ".join(again)))
        records.append(record(domain, domain, "MX", "%d %s" % (PRIMARY_PREFERENCE, target)))
        if spf is not None:
            records.append(record(domain, domain, "TXT", spf))
        if dmarc is not None:
            records.append(record(domain, "_dmarc." + domain, "TXT", dmarc))
        for selector in selectors:
            # Both names are DNS labels (checked above): the path stays inside key_directory.
            path = os.path.join(key_directory, domain, selector + ".txt")
            text = read_txt(path)
            if text is None:
                missing.append({"domain": domain, "selector": selector, "path": path})
                continue
            records.append(record(domain, "%s._domainkey.%s" % (selector, domain), "TXT", text))
        for selector in retired:
            records.append(record(domain, "%s._domainkey.%s" % (selector, domain), "TXT", None, "absent"))
    for domain in sorted(backups):
        records.append(record(domain, domain, "MX", "%d %s" % (BACKUP_PREFERENCE, target)))
    # The SRS domain's SPF record, unless the SRS domain is a hosted domain (its own spf then counts).
    if srs_domain and srs_spf is not None and srs_domain not in domains:
        records.append(record(_suffix_domain(srs_domain, list(domains) + backups), srs_domain, "TXT", srs_spf))
    records.sort(key=_sort_key)
    return records, missing


def main():
    module = AnsibleModule(
        argument_spec=dict(dns=dict(type="dict", required=True), key_directory=dict(type="path", default="/etc/opendkim/keys")),
        supports_check_mode=True,
    )
    try:
        records, missing = dns_records(module.params["dns"], module.params["key_directory"])
    except DnsRecordsError as exc:
        module.fail_json(msg=str(exc))
    for item in missing:
        module.warn("DKIM selector %s of %s: %s is not there (yet), so its record is not listed; run the "
                    "vhosting.postfix.mail_auth role (not in check mode) to make the key" % (item["selector"], item["domain"], item["path"]))
    module.exit_json(changed=False, records=records, missing=missing)


if __name__ == "__main__":
    main()
