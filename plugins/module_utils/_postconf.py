# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure core of the ``vhosting.postfix.postconf`` module.

Everything here works on text and plain data, without running programs or
touching files, so it is unit-tested without a host:

* :func:`parse_main_cf` reads main.cf the way Postfix does (continuation
  lines, comments, last definition wins);
* :func:`parse_master_services` reads the output of ``postconf -M``;
* :func:`normalise_value` compares values the way Postfix sees them;
* :func:`validate_request` checks the module arguments (all errors name the
  offending item);
* :func:`plan_parameters` / :func:`plan_services` compute the change set,
  :func:`postconf_commands` the postconf command lines, :func:`render_diff`
  the diff.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SERVICE_TYPES = ("inet", "unix", "fifo", "pass", "unix-dgram")
SERVICE_STATES = ("present", "absent")
# master.cf columns 3-7, in column order, by their module option names.
SERVICE_FIELDS = ("private", "unpriv", "chroot", "wakeup", "maxproc")
SERVICE_OPTION_KEYS = frozenset(
    ("service", "type", "state", "command", "parameters", "exclusive_parameters") + SERVICE_FIELDS
)
# Changing one of these needs a full Postfix stop/start; a reload is not
# enough (the master process keeps its listening sockets across a reload).
RESTART_PARAMETERS = frozenset(("inet_interfaces", "inet_protocols"))

_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9_.:\[\]*-]+$")
_WAKEUP = re.compile(r"^(-|[0-9]+\??)$")
_MAXPROC = re.compile(r"^(-|[0-9]+)$")

# Parameters whose value is a list that Postfix splits at commas and/or
# whitespace: for these, "a,b", "a, b" and "a b" are the same value.
# Everything else (banners, templates, single values) is compared with only
# leading/trailing whitespace removed and inner whitespace runs collapsed.
_LIST_SUFFIXES = (
    "_maps", "_restrictions", "_domains", "_networks", "_classes", "_checks",
    "_milters", "_exclude_ciphers", "_ehlo_keywords", "_protocols",
)
_LIST_NAMES = frozenset((
    "mydestination", "inet_interfaces", "proxy_interfaces", "alias_database",
    "debug_peer_list", "notify_classes", "propagate_unmatched_extensions",
    "masquerade_exceptions", "authorized_submit_users", "authorized_mailq_users",
    "authorized_flush_users", "authorized_verp_clients", "authorized_xclient_hosts",
    "authorized_xforward_hosts", "smtpd_authorized_xclient_hosts",
    "smtpd_authorized_xforward_hosts", "smtpd_authorized_verp_clients",
))


class PostconfError(ValueError):
    """Invalid module arguments, or a state the module cannot reconcile."""


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------

def is_list_parameter(name):
    """True when Postfix treats the value of ``name`` as a comma/space list."""
    return name in _LIST_NAMES or name.endswith(_LIST_SUFFIXES)


def split_list(value):
    """Split a Postfix list value at commas and whitespace.

    ``{ ... }`` groups (Postfix 3.0 syntax, e.g. in smtpd_milters) stay one
    element, with inner whitespace collapsed. Returns None when the braces
    do not balance, so the caller falls back to a plain comparison.
    """
    tokens = []
    current = []
    depth = 0
    for char in value:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return None
        if depth == 0 and (char == "," or char.isspace()):
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(char)
    if depth != 0:
        return None
    if current:
        tokens.append("".join(current))
    return [" ".join(token.split()) for token in tokens]


def normalise_value(name, value, as_list=False):
    """Return the form of ``value`` used to decide whether it changed.

    List parameters (see :func:`is_list_parameter`, or ``as_list`` when the
    caller gave a YAML list) become "a, b, c"; other values keep their
    words, with whitespace runs collapsed to one space (which is also how
    ``postconf -n`` shows them).
    """
    text = "" if value is None else str(value)
    if as_list or is_list_parameter(name):
        tokens = split_list(text)
        if tokens is not None:
            return ", ".join(tokens)
    return " ".join(text.split())


def _scalar_text(value, what):
    """Render one scalar module value (str, int, bool) as Postfix text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise PostconfError("%s: value %r has unsupported type %s (use a string, an integer, "
                        "a boolean or a list)" % (what, value, type(value).__name__))


def _check_text(text, what):
    if "\n" in text or "\r" in text:
        raise PostconfError("%s: value must not contain a newline: %r" % (what, text))
    if "\0" in text:
        raise PostconfError("%s: value must not contain a NUL character" % what)


def render_value(value, what, separator=", "):
    """Render a module value as Postfix text.

    Returns ``(text, is_list)``. Lists are joined with ``separator``;
    booleans become yes/no. Raises PostconfError naming ``what``.
    """
    if value is None:
        raise PostconfError("%s: value is null; list the name in 'absent' to remove a "
                            "parameter" % what)
    if isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            if isinstance(item, (list, tuple, dict)) or item is None:
                raise PostconfError("%s: list item %d (%r) must be a string or a number"
                                    % (what, index, item))
            text = _scalar_text(item, what).strip()
            _check_text(text, what)
            if text:
                items.append(text)
        return separator.join(items), True
    if isinstance(value, dict):
        raise PostconfError("%s: value must be a string, number, boolean or list, not a "
                            "mapping" % what)
    text = _scalar_text(value, what)
    _check_text(text, what)
    return text.strip(), False


# --------------------------------------------------------------------------
# Reading the current state
# --------------------------------------------------------------------------

def parse_main_cf(text):
    """Parse main.cf text into a dict name -> raw value (last definition wins).

    Follows Postfix's rules: a logical line starts with non-whitespace; a
    line starting with whitespace continues it; blank lines and lines whose
    first non-blank character is ``#`` are ignored (also inside a
    continued logical line).
    """
    logical = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0].isspace():
            if logical:
                logical[-1] += " " + stripped
            continue
        logical.append(line.rstrip())
    result = {}
    for entry in logical:
        if "=" not in entry:
            continue
        name, _sep, value = entry.partition("=")
        name = name.strip()
        if _NAME.match(name):
            result.pop(name, None)
            result[name] = value.strip()
    return result


def tokenize_command(text):
    """Split a master.cf command at whitespace, keeping ``{ ... }`` groups."""
    tokens = []
    current = []
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
        if depth == 0 and char.isspace():
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def _parse_override(token, where):
    """``name=value`` or ``{ name = value }`` -> (name, value)."""
    if token.startswith("{") and token.endswith("}"):
        token = token[1:-1].strip()
    name, sep, value = token.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name):
        raise PostconfError("%s: cannot parse the -o option %r" % (where, token))
    return name, value.strip()


def split_command(command, where):
    """Split a master.cf command into (command without -o, [(name, value)]).

    Only options before the first non-option argument are daemon options
    (getopt stops there), so a ``-o`` later in e.g. a pipe(8) argv is left
    alone.
    """
    tokens = tokenize_command(command)
    if not tokens:
        return "", []
    kept = [tokens[0]]
    overrides = []
    index = 1
    while index < len(tokens) and tokens[index].startswith("-"):
        token = tokens[index]
        if token == "--":
            break
        if token == "-o":
            if index + 1 >= len(tokens):
                raise PostconfError("%s: -o without a value" % where)
            overrides.append(_parse_override(tokens[index + 1], where))
            index += 2
            continue
        if token.startswith("-o"):
            overrides.append(_parse_override(token[2:], where))
            index += 1
            continue
        kept.append(token)
        index += 1
    kept.extend(tokens[index:])
    return " ".join(kept), overrides


def parse_master_services(text):
    """Parse ``postconf -M`` output into an ordered dict "name/type" -> service.

    A service is a dict with service, type, private, unpriv, chroot, wakeup,
    maxproc, command (without -o options) and overrides (list of
    (name, value) in file order).
    """
    services = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(None, 7)
        if len(fields) < 8:
            raise PostconfError("cannot parse line %d of postconf -M output: %r" % (number, line))
        key = "%s/%s" % (fields[0], fields[1])
        command, overrides = split_command(fields[7], "master.cf service %s" % key)
        services[key] = {
            "service": fields[0],
            "type": fields[1],
            "private": fields[2],
            "unpriv": fields[3],
            "chroot": fields[4],
            "wakeup": fields[5],
            "maxproc": fields[6],
            "command": command,
            "overrides": overrides,
        }
    return services


# --------------------------------------------------------------------------
# Validation of the module arguments
# --------------------------------------------------------------------------

def _check_name(name, what):
    if not isinstance(name, str) or not _NAME.match(name):
        raise PostconfError("%s: %r is not a valid Postfix parameter name (letters, digits "
                            "and underscores only)" % (what, name))


def _flag(value, field, where):
    if value is None:
        return None
    if isinstance(value, bool):
        return "y" if value else "n"
    if isinstance(value, str):
        mapping = {"y": "y", "yes": "y", "true": "y", "n": "n", "no": "n", "false": "n", "-": "-"}
        text = value.strip().lower()
        if text in mapping:
            return mapping[text]
    raise PostconfError("%s: %s must be y, n, - or a boolean, not %r" % (where, field, value))


def _number_field(value, field, pattern, where):
    if value is None:
        return None
    if isinstance(value, bool):
        raise PostconfError("%s: %s must be a number or -, not %r" % (where, field, value))
    if isinstance(value, int):
        if value < 0:
            raise PostconfError("%s: %s must not be negative: %r" % (where, field, value))
        return str(value)
    if isinstance(value, str) and pattern.match(value.strip()):
        return value.strip()
    raise PostconfError("%s: %s must be a number or - (wakeup also N?), not %r"
                        % (where, field, value))


def validate_service(spec, index):
    """Check and normalise one entry of ``services``; errors name it."""
    where = "services[%d]" % index
    if not isinstance(spec, dict):
        raise PostconfError("%s: must be a mapping with service and type, not %r" % (where, spec))
    unknown = sorted(set(spec) - SERVICE_OPTION_KEYS)
    if unknown:
        raise PostconfError("%s: unknown option(s) %s (valid: %s)"
                            % (where, ", ".join(unknown), ", ".join(sorted(SERVICE_OPTION_KEYS))))
    name = spec.get("service")
    if not isinstance(name, str) or not _SERVICE_NAME.match(name):
        raise PostconfError("%s: service %r is not a valid master.cf service name" % (where, name))
    where = "service %s" % name
    stype = spec.get("type")
    if stype not in SERVICE_TYPES:
        raise PostconfError("%s: type %r is invalid (one of %s)"
                            % (where, stype, ", ".join(SERVICE_TYPES)))
    key = "%s/%s" % (name, stype)
    where = "service %s" % key
    state = spec.get("state") or "present"
    if state not in SERVICE_STATES:
        raise PostconfError("%s: state %r is invalid (present or absent)" % (where, state))
    result = {"service": name, "type": stype, "key": key, "state": state}
    result["private"] = _flag(spec.get("private"), "private", where)
    result["unpriv"] = _flag(spec.get("unpriv"), "unpriv", where)
    result["chroot"] = _flag(spec.get("chroot"), "chroot", where)
    result["wakeup"] = _number_field(spec.get("wakeup"), "wakeup", _WAKEUP, where)
    result["maxproc"] = _number_field(spec.get("maxproc"), "maxproc", _MAXPROC, where)
    command = spec.get("command")
    if command is not None:
        if not isinstance(command, str) or not command.strip():
            raise PostconfError("%s: command must be a non-empty string, not %r" % (where, command))
        _check_text(command, where + " command")
        stripped, overrides = split_command(command, where)
        if overrides:
            raise PostconfError("%s: command contains -o %s; put -o overrides in the "
                                "service's 'parameters'" % (where, overrides[0][0]))
        command = stripped
    result["command"] = command
    exclusive = spec.get("exclusive_parameters")
    if exclusive is None:
        exclusive = False
    if not isinstance(exclusive, bool):
        raise PostconfError("%s: exclusive_parameters must be a boolean, not %r" % (where, exclusive))
    result["exclusive_parameters"] = exclusive
    params = spec.get("parameters")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise PostconfError("%s: parameters must be a mapping name -> value, not %r" % (where, params))
    overrides = []
    for pname, pvalue in params.items():
        pwhere = "%s -o %s" % (where, pname)
        _check_name(pname, pwhere)
        if pvalue is None:
            overrides.append((pname, None, False))
            continue
        text, is_list = render_value(pvalue, pwhere, separator=",")
        if "{" in text or "}" in text:
            raise PostconfError("%s: -o values cannot contain braces; define a main.cf "
                                "parameter and use $name instead" % pwhere)
        overrides.append((pname, text, is_list))
    result["overrides"] = overrides
    return result


def validate_request(parameters, absent, user_defined, services):
    """Check all module arguments before anything is read or written.

    Returns a dict with ``parameters`` (list of (name, text, is_list)),
    ``absent`` (list of names), ``user_defined`` (set) and ``services``
    (list of validated service dicts).
    """
    parameters = parameters or {}
    absent = absent or []
    user_defined = user_defined or []
    services = services or []
    if not isinstance(parameters, dict):
        raise PostconfError("parameters must be a mapping name -> value")
    params = []
    for name, value in parameters.items():
        _check_name(name, "parameters")
        text, is_list = render_value(value, "parameter %s" % name)
        params.append((name, text, is_list))
    for name in absent:
        _check_name(name, "absent")
    for name in user_defined:
        _check_name(name, "user_defined")
    both = sorted(set(parameters) & set(absent))
    if both:
        raise PostconfError("parameter(s) listed in both 'parameters' and 'absent': %s"
                            % ", ".join(both))
    checked = []
    seen = set()
    for index, spec in enumerate(services):
        service = validate_service(spec, index)
        if service["key"] in seen:
            raise PostconfError("service %s is listed more than once in 'services'" % service["key"])
        seen.add(service["key"])
        checked.append(service)
    return {
        "parameters": params,
        "absent": list(dict.fromkeys(absent)),
        "user_defined": set(user_defined),
        "services": checked,
    }


def requested_names(request):
    """Names that must be known to Postfix, as (name, where) pairs."""
    names = [(name, "parameters") for name, _text, _is_list in request["parameters"]]
    for service in request["services"]:
        if service["state"] != "present":
            continue
        for name, value, _is_list in service["overrides"]:
            if value is not None:
                names.append((name, "-o override of service %s" % service["key"]))
    return names


def unknown_names(request, known):
    """Requested names neither known to Postfix nor listed in user_defined."""
    allowed = set(known) | request["user_defined"]
    return [(name, where) for name, where in requested_names(request) if name not in allowed]


def unknown_message(unknown):
    """The error for unknown parameter names, naming each of them."""
    parts = []
    for name, where in unknown:
        parts.append(name if where == "parameters" else "%s (%s)" % (name, where))
    return ("unknown Postfix parameter(s): %s. Postfix does not know them (postconf -d, "
            "including per-service parameters of master.cf services); list them in "
            "user_defined if they are meant to be user-defined parameters"
            % ", ".join(parts))


# --------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------

def _display(value):
    return None if value is None else " ".join(value.split())


def plan_parameters(current, request):
    """Compare main.cf (parsed) with the request.

    Returns a dict with ``set`` (list of (name, text) for ``postconf -e``),
    ``remove`` (names for ``postconf -X``) and ``changes`` (list of
    {kind, name, before, after}).
    """
    to_set = []
    to_remove = []
    changes = []
    for name, text, is_list in request["parameters"]:
        before = current.get(name)
        if before is not None and normalise_value(name, before, is_list) == normalise_value(
                name, text, is_list):
            continue
        to_set.append((name, text))
        changes.append({"kind": "parameter", "name": name,
                        "before": _display(before), "after": text})
    for name in request["absent"]:
        if name in current:
            to_remove.append(name)
            changes.append({"kind": "parameter", "name": name,
                            "before": _display(current[name]), "after": None})
    return {"set": to_set, "remove": to_remove, "changes": changes}


def _override_text(name, value):
    if re.search(r"\s", value):
        return "-o {%s=%s}" % (name, value)
    return "-o %s=%s" % (name, value)


def render_service(service):
    """One master.cf line for a service dict; -o options follow the command name."""
    tokens = tokenize_command(service["command"])
    parts = tokens[:1]
    parts.extend(_override_text(name, value) for name, value in service["overrides"])
    parts.extend(tokens[1:])
    return "%-10s %-5s %-7s %-7s %-7s %-7s %-7s %s" % (
        service["service"], service["type"], service["private"], service["unpriv"],
        service["chroot"], service["wakeup"], service["maxproc"], " ".join(parts))


def _overrides_view(overrides):
    """Effective -o settings (the last one of a name wins), normalised."""
    view = {}
    for name, value in overrides:
        view[name] = normalise_value(name, value)
    return view


def same_service(before, after):
    """True when two service dicts mean the same to Postfix."""
    for field in SERVICE_FIELDS:
        if before[field] != after[field]:
            return False
    if tokenize_command(before["command"]) != tokenize_command(after["command"]):
        return False
    return _overrides_view(before["overrides"]) == _overrides_view(after["overrides"])


def desired_service(current, spec):
    """The complete service after applying ``spec`` to ``current`` (None: new)."""
    if current is None:
        if spec["command"] is None:
            raise PostconfError("service %s is not in master.cf; 'command' is needed to add it"
                                % spec["key"])
        result = {"service": spec["service"], "type": spec["type"], "command": spec["command"]}
        for field in SERVICE_FIELDS:
            result[field] = spec[field] if spec[field] is not None else "-"
        overrides = []
    else:
        result = dict(current)
        for field in SERVICE_FIELDS:
            if spec[field] is not None:
                result[field] = spec[field]
        if spec["command"] is not None:
            result["command"] = spec["command"]
        if spec["exclusive_parameters"]:
            wanted = set(name for name, _value, _is_list in spec["overrides"])
            overrides = [item for item in current["overrides"] if item[0] in wanted]
        else:
            overrides = list(current["overrides"])
    for name, value, is_list in spec["overrides"]:
        if value is None:
            overrides = [item for item in overrides if item[0] != name]
            continue
        positions = [index for index, item in enumerate(overrides) if item[0] == name]
        if not positions:
            overrides.append((name, value))
            continue
        current_value = overrides[positions[-1]][1]
        if normalise_value(name, current_value, is_list) == normalise_value(name, value, is_list):
            value = current_value  # the same to Postfix: keep the current text
        first = positions[0]
        overrides = [item for index, item in enumerate(overrides)
                     if item[0] != name or index == first]
        overrides[first] = (name, value)
    result["overrides"] = overrides
    return result


def plan_services(current, request):
    """Compare master.cf (parsed ``postconf -M``) with the requested services.

    Returns a dict with ``write`` (list of (key, line) for ``postconf -M``),
    ``remove`` (keys for ``postconf -MX``), ``added`` (keys of new
    services) and ``changes`` (list of {kind, name, before, after}).
    """
    write = []
    remove = []
    added = []
    changes = []
    for spec in request["services"]:
        key = spec["key"]
        before = current.get(key)
        if spec["state"] == "absent":
            if before is not None:
                remove.append(key)
                changes.append({"kind": "service", "name": key,
                                "before": render_service(before), "after": None})
            continue
        after = desired_service(before, spec)
        if before is not None and same_service(before, after):
            continue
        line = render_service(after)
        write.append((key, line))
        if before is None:
            added.append(key)
        changes.append({"kind": "service", "name": key,
                        "before": None if before is None else render_service(before),
                        "after": line})
    return {"write": write, "remove": remove, "added": added, "changes": changes}


def render_diff(changes, config_dir):
    """Ansible diff (list of before/after dicts) for main.cf and master.cf."""
    diffs = []
    for kind, filename in (("parameter", "main.cf"), ("service", "master.cf")):
        selected = [change for change in changes if change["kind"] == kind]
        if not selected:
            continue
        before = []
        after = []
        for change in selected:
            if kind == "parameter":
                if change["before"] is not None:
                    before.append("%s = %s" % (change["name"], change["before"]))
                if change["after"] is not None:
                    after.append("%s = %s" % (change["name"], change["after"]))
            else:
                if change["before"] is not None:
                    before.append(change["before"])
                if change["after"] is not None:
                    after.append(change["after"])
        path = "%s/%s" % (config_dir.rstrip("/"), filename)
        diffs.append({
            "before_header": path, "after_header": path,
            "before": "".join(line + "\n" for line in before),
            "after": "".join(line + "\n" for line in after),
        })
    return diffs


def restart_required(changes):
    """True when a changed parameter needs a Postfix restart, not a reload."""
    return any(change["kind"] == "parameter" and change["name"] in RESTART_PARAMETERS
               for change in changes)


def postconf_commands(param_plan, service_plan):
    """The postconf argument lists (without binary and -c) that apply a plan.

    At most four postconf runs, however many parameters and services change.
    """
    commands = []
    if service_plan["remove"]:
        commands.append(["-MX"] + list(service_plan["remove"]))
    if service_plan["write"]:
        commands.append(["-M"] + ["%s=%s" % (key, line) for key, line in service_plan["write"]])
    if param_plan["remove"]:
        commands.append(["-X"] + list(param_plan["remove"]))
    if param_plan["set"]:
        commands.append(["-e"] + ["%s=%s" % (name, text) for name, text in param_plan["set"]])
    return commands
