# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mailing lists of the hosted-domain model (the howto's "Mailing lists").

Virtual aliases and virtual mailboxes cannot deliver to a command, so a
list address is aliased to a local address whose ``/etc/aliases`` entry
pipes into the list manager, mlmmj::

    news@example.org          -> mlmmj_example.org_news@localhost   (virtual_alias_maps)
    mlmmj_example.org_news:   "|/usr/bin/mlmmj-receive -L /var/spool/mlmmj/news@example.org/"

mlmmj's own addresses (``news+subscribe@``, ``news+owner@``, the VERP
bounces ``news+bounces-…@``) reach it through the recipient delimiter: the
extension is carried through both aliases (Postfix's
propagate_unmatched_extensions) and mlmmj reads it from local(8)'s
environment. Pure functions, called by ``_domains`` while it validates a
domain definition; every problem names the variable, domain and list.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vhosting.postfix.plugins.plugin_utils import _address
from ansible_collections.vhosting.postfix.plugins.module_utils._owner_state import table_state_file
from ansible_collections.vhosting.postfix.plugins.plugin_utils._part import Part

LIST_KEYS = ("owners", "subscribers", "subscribers_only", "moderated", "moderators", "closed")
FLAGS = ("subscribers_only", "moderated", "closed")
# Addresses of a list written to virtual_alias_maps beside the list's own
# (every other extension, the VERP bounces included, reaches the list through
# the delimiter): list+subscribe@domain, ...
COMMANDS = ("subscribe", "unsubscribe", "owner", "help")
ALIAS_PREFIX = "mlmmj_"
RECEIVE = "/usr/bin/mlmmj-receive"


def mlmmj_delimiter(recipient_delimiter):
    """The delimiter mlmmj uses (its control/delimiter): the first of Postfix's that is not '-', or None."""
    for char in recipient_delimiter or "":
        if char != "-":
            return char
    return None


def alias_name(name, domain):
    """The local alias of a list: mlmmj_<domain>_<name> (a domain has no '_', so no two lists share one)."""
    return "%s%s_%s" % (ALIAS_PREFIX, domain, name)


def _addresses(value, here, what, required=False):
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise _address.DomainModelError("%s: %s must be a list of addresses, got %r" % (here, what, value))
    if required and not value:
        raise _address.DomainModelError("%s: %s must name at least one address (local@domain)" % (here, what))
    result = []
    for item in value:
        address = _address.normalise_address(item, "%s, %s" % (here, what), single_label=True)
        if address in result:
            raise _address.DomainModelError("%s, %s: %s is given twice (addresses are case-insensitive)"
                                            % (here, what, address))
        result.append(address)
    return result


# A list name reaches a command line (/etc/aliases), a directory name and mlmmj's control files: letters, digits
# and '.', '_', '-' inside, so that local(8) runs the command without a shell and nothing becomes a path.
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")


def _one_list(raw_name, settings, where, entry, opts, delimiter):
    domain = entry["domain"]
    name = _address.normalise_local_part(raw_name, "%s, list %r" % (where, raw_name))
    if not _NAME_RE.match(name) or ".." in name:
        odd = ", ".join("%r" % c for c in sorted(set(name) - set("abcdefghijklmnopqrstuvwxyz0123456789._-")))
        raise _address.DomainModelError(
            "%s, list %r: a list name may only hold letters, digits and '.', '_', '-' inside (it becomes a command "
            "argument in /etc/aliases, a directory and mlmmj's files; %s)"
            % (where, raw_name, odd or "it must start and end with a letter or digit, without '..'"))
    address = "%s@%s" % (name, domain)
    here = "%s, list %s" % (where, address)
    settings = settings or {}
    if not isinstance(settings, dict):
        raise _address.DomainModelError("%s: settings must be a dict with keys %s" % (here, ", ".join(LIST_KEYS)))
    unknown = _address.unknown_keys(settings, LIST_KEYS)
    if unknown:
        raise _address.DomainModelError("%s: unknown key(s) %s (allowed: %s)"
                                        % (here, unknown, ", ".join(LIST_KEYS)))
    if delimiter is None:
        raise _address.DomainModelError(
            "%s: a mailing list needs a recipient delimiter other than '-' (vhosting_server__recipient_delimiter, "
            "e.g. '+'): mlmmj's commands and bounces are %s+subscribe@, %s+bounces-...@" % (here, name, name))
    alias = alias_name(name, domain)
    used = sorted(set(c for c in opts["recipient_delimiter"] if c in alias))
    if used:
        raise _address.DomainModelError(
            "%s: the list name and domain must not contain the recipient delimiter %s (its local alias %s would be "
            "split there)" % (here, " or ".join(repr(c) for c in used), alias))
    flags = {}
    for flag in FLAGS:
        value = settings.get(flag, False)
        if not isinstance(value, bool):
            raise _address.DomainModelError("%s: %s must be true or false, got %r" % (here, flag, value))
        flags[flag] = value
    owners = _addresses(settings.get("owners"), here, "owners", required=True)
    moderators = _addresses(settings.get("moderators"), here, "moderators")
    if moderators and not flags["moderated"]:
        raise _address.DomainModelError("%s: moderators are only used with moderated: true" % here)
    addresses = [address] + ["%s%s%s@%s" % (name, delimiter, command, domain) for command in COMMANDS]
    for own in addresses:
        if own in entry["aliases"] or own in entry["mailboxes"]:
            raise _address.DomainModelError("%s: %s is both a list address and %s of the domain; use another "
                                            "name for one of them"
                                            % (here, own, "an alias" if own in entry["aliases"] else "a mailbox"))
    return {
        "name": name,
        "domain": domain,
        "address": address,
        "varname": entry["varname"],
        "alias": alias,
        "delimiter": delimiter,
        "owners": owners,
        "subscribers": sorted(_addresses(settings.get("subscribers"), here, "subscribers")),
        "moderators": moderators or (list(owners) if flags["moderated"] else []),
        "subscribers_only": flags["subscribers_only"],
        "moderated": flags["moderated"],
        "closed": flags["closed"],
        "headers": headers(name, domain, delimiter),
        "addresses": addresses,
    }


def parse_lists(spec, where, entry, opts):
    """Validate a domain's ``lists`` (dict name -> settings); address -> list. Every problem is collected."""
    if spec is None:
        return {}
    if isinstance(spec, (list, tuple)) and all(isinstance(i, str) for i in spec):
        raise _address.DomainModelError("%s: 'lists' must be a dict list name -> settings (owners are required)"
                                        % where)
    if not isinstance(spec, dict):
        raise _address.DomainModelError("%s: 'lists' must be a dict list name -> settings" % where)
    delimiter = mlmmj_delimiter(opts["recipient_delimiter"])
    result = {}
    problems = []
    for raw_name in sorted(spec, key=str):
        try:
            one = _one_list(raw_name, spec[raw_name], where, entry, opts, delimiter)
        except _address.DomainModelError as exc:
            problems.extend(exc.problems)
            continue
        if one["address"] in result:
            problems.append("%s, list %s: defined twice (addresses are case-insensitive)" % (where, one["address"]))
        result[one["address"]] = one
    if problems:
        raise _address.DomainModelError(problems=problems)
    return result


def headers(name, domain, delimiter):
    """The RFC 2369/2919 list headers mlmmj adds to every post (its control/customheaders)."""
    def mailto(command=None):
        return "<mailto:%s%s@%s>" % (name, delimiter + command if command else "", domain)
    return [
        "List-Id: <%s.%s>" % (name, domain),
        "List-Post: %s" % mailto(),
        "List-Help: %s" % mailto("help"),
        "List-Subscribe: %s" % mailto("subscribe"),
        "List-Unsubscribe: %s" % mailto("unsubscribe"),
        "List-Owner: %s" % mailto("owner"),
        "Precedence: list",
    ]


def alias_entries(lists, local_domain):
    """virtual_alias_maps entries of the lists: each list address -> its local alias (extension kept)."""
    entries = {}
    for one in lists:
        for address in one["addresses"]:
            local = address.split("@", 1)[0]
            extension = local[len(one["name"]):]
            entries[address] = ["%s%s@%s" % (one["alias"], extension, local_domain)]
    return entries


def aliases_file_entries(lists, spool):
    """/etc/aliases entries: local alias -> the mlmmj-receive command of the list's directory."""
    return dict((one["alias"], '"|%s -L %s/"' % (RECEIVE, list_dir(spool, one))) for one in lists)


def list_dir(spool, one):
    """The list's mlmmj directory: <spool>/<list address> (flat, as mlmmj-maintd -d expects)."""
    return "%s/%s" % (spool.rstrip("/"), one["address"])


# mlmmj's maintenance timer and its service, installed with the first list.
MAINTENANCE_UNITS = ("/etc/systemd/system/vhosting-mlmmj-maintd.timer", "/etc/systemd/system/vhosting-mlmmj-maintd.service")
# What the lookup_table module records of the lists' entries in /etc/aliases.
ALIASES_STATE = table_state_file("/etc/aliases")


def build_part(ctx, problems):
    """The lists part of the host model: mlmmj's lists, their /etc/aliases entries, the package."""
    del problems  # the lists were validated with the domain model
    values, domains = ctx["values"], ctx["domains"]
    if domains is None:
        return None
    spool = values["vhosting_domains__lists_spool"]
    lists = [dict((k, one[k]) for k in ("address", "owners", "subscribers", "moderators", "subscribers_only",
                                        "moderated", "closed", "delimiter", "headers")) for one in domains["lists"]]
    for one, model in zip(lists, domains["lists"]):
        one["dir"] = list_dir(spool, model)
    entries = aliases_file_entries(domains["lists"], spool)
    return {
        # No list left: mlmmj's maintenance units go (after the timer is stopped, see the domains role).
        "stale_files": [] if lists else list(MAINTENANCE_UNITS),
        "probe": {"paths": list(MAINTENANCE_UNITS) + [ALIASES_STATE],
                  "units": ["vhosting-mlmmj-maintd.timer"] if lists else []},
        "packages": ["mlmmj"] if lists else [],
        "fact": {
            "lists": lists,
            "lists_spool": spool,
            # local(8) runs the commands of a root-owned /etc/aliases as default_privs: mlmmj's files are that user's.
            "lists_user": (values["vhosting_server__parameters"] or {}).get("default_privs") or "nobody",
            "aliases_entries": entries,
            # /etc/aliases is written when there are list entries, or entries of earlier lists to remove.
            "aliases_state": ALIASES_STATE,
            "aliases_type": values["vhosting_server__default_database_type"],
        },
    }


PART = Part("lists", "domains", build_part, path_variables=(
    ("vhosting_domains__lists_spool", "tree", "the list user gets it", "/var/spool/vhosting-postfix/lists"),))
