"""Parse proposed changes typed on the command line (`--assume`) and AWS CLI commands (query's fixes).

    authorize-ingress GROUP PROTOCOL PORTS PEER   (authorize-ingress sg-0454e74e2924a7754 tcp 6379 sg-0864e6f6aee2a5cf4)
    revoke-ingress    GROUP PROTOCOL PORTS PEER
    authorize-egress  GROUP PROTOCOL PORTS PEER
    revoke-egress     GROUP PROTOCOL PORTS PEER
    move WORKLOAD GROUP[,GROUP...]                   e.g. move api sg-0864e6f6aee2a5cf4
    aws ec2 authorize-security-group-ingress ...     (the commands `query` prints as fixes, and revoke-*)

PROTOCOL is tcp, udp, icmp, icmpv6, all (-1) or a number; PORTS is 6379, 1000-2000 or all (icmp: TYPE[:CODE]);
PORTS may be left out for `all` and other portless protocols. PEER is an sg- id, ACCOUNT/sg- id, pl- id, CIDR or IP.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from reachgraph.errors import InputError
from reachgraph.model.protocols import has_ports, normalize_protocol
from reachgraph.whatif.changes import AuthorizeRule, Change, MoveWorkload, RevokeRule, make_rule

ASSUME_SYNTAX = ("expected 'authorize-ingress|revoke-ingress|authorize-egress|revoke-egress GROUP PROTOCOL PORT[-PORT] "
                 "PEER', 'move WORKLOAD GROUP[,GROUP...]' or an 'aws ec2 authorize-security-group-ingress ...' command")

_VERBS = {"authorize-ingress": (AuthorizeRule, "ingress"), "revoke-ingress": (RevokeRule, "ingress"),
          "authorize-egress": (AuthorizeRule, "egress"), "revoke-egress": (RevokeRule, "egress")}
_CLI_VERBS = {"authorize-security-group-ingress": (AuthorizeRule, "ingress"),
              "revoke-security-group-ingress": (RevokeRule, "ingress"),
              "authorize-security-group-egress": (AuthorizeRule, "egress"),
              "revoke-security-group-egress": (RevokeRule, "egress")}


class _Bad(ValueError):
    """A reason an --assume text is wrong; becomes one InputError line."""


def _error(text: str, reason: str) -> InputError:
    return InputError(f"bad --assume {' '.join(text.split())!r}: {reason}", hint=ASSUME_SYNTAX)


def parse_assume(text: str) -> list[Change]:
    """One --assume text -> the changes it stands for (an AWS CLI command may hold several permissions)."""
    if not isinstance(text, str) or not text.strip():
        raise _error(str(text), "empty")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise _error(text, str(exc)) from None
    try:
        if words[0] == "aws":
            return _cli(words, origin=f"--assume {' '.join(text.split())}")
        verb = words[0].lower()
        if verb in _VERBS:
            return [_short_rule(verb, words[1:], origin=f"--assume {' '.join(words)}")]
        if verb == "move":
            return [_move(words[1:], origin=f"--assume {' '.join(words)}")]
        raise _Bad(f"unknown verb {words[0]!r}")
    except _Bad as exc:
        raise _error(text, str(exc)) from None


def parse_fix(command: str) -> list[Change]:
    """An AWS CLI command (as QueryResult.fixes holds them) -> changes; InputError if it is not one."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise _error(command, str(exc)) from None
    try:
        if not words or words[0] != "aws":
            raise _Bad("not an 'aws ...' command")
        return _cli(words, origin=command)
    except _Bad as exc:
        raise _error(command, str(exc)) from None


def parse_many(texts: list[str] | tuple[str, ...]) -> list[Change]:
    """Several --assume texts, in order."""
    out: list[Change] = []
    for t in texts:
        out += parse_assume(t)
    return out


# -- the short forms --------------------------------------------------------------------------------------

def _group_id(value: str, what: str = "GROUP") -> str:
    if not (value.startswith("sg-") or value.startswith("tf:")) or len(value) < 4:
        raise _Bad(f"{what} must be a security group id (sg-...), got {value!r}")
    return value


def _short_rule(verb: str, args: list[str], origin: str) -> Change:
    cls, direction = _VERBS[verb]
    if len(args) not in (3, 4):
        raise _Bad(f"{verb} takes GROUP PROTOCOL PORTS PEER ({len(args)} word{'s' * (len(args) != 1)} given)")
    group = _group_id(args[0])
    proto = _protocol(args[1])
    if len(args) == 3:
        if has_ports(proto):
            raise _Bad(f"{args[1]} needs PORTS (e.g. 443, 1000-2000 or all)")
        ports_text, peer = "all", args[2]
    else:
        ports_text, peer = args[2], args[3]
    lo, hi = _ports(proto, ports_text)
    return cls(_rule(group, direction, proto, lo, hi, peer), origin=origin)


def _protocol(text: str) -> str:
    try:
        return normalize_protocol(text)
    except ValueError:
        raise _Bad(f"unknown protocol {text!r} (use tcp, udp, icmp, icmpv6, all or a number 0-255)") from None


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Bad(f"bad {what} {text!r}") from None


def _ports(proto: str, text: str) -> tuple[int | None, int | None]:
    t = text.strip().lower()
    if t in ("all", "any", "*", "-1", "-"):
        return -1, -1
    if not has_ports(proto):
        return None, None
    if proto in ("icmp", "icmpv6"):
        typ, _, code = t.partition(":")
        return _int(typ, "ICMP type"), (_int(code, "ICMP code") if code else -1)
    lo, sep, hi = t.partition("-")
    a = _int(lo, "port")
    b = _int(hi, "port") if sep else a
    if not (0 <= a <= b <= 65535):
        raise _Bad(f"port range {text!r} is not within 0-65535")
    return a, b


def _rule(group: str, direction: str, proto: str, lo: int | None, hi: int | None, peer: str,
          description: str | None = None) -> Any:
    try:
        return make_rule(group, direction, proto, lo, hi, peer, description=description)
    except ValueError as exc:
        raise _Bad(str(exc)) from None


def _move(args: list[str], origin: str) -> Change:
    if len(args) < 2:
        raise _Bad("move takes WORKLOAD GROUP[,GROUP...]")
    groups = [g for part in args[1:] for g in part.split(",") if g]
    if not groups:
        raise _Bad("move needs at least one group")
    return MoveWorkload(target=args[0], group_ids=tuple(_group_id(g) for g in groups), origin=origin)


# -- AWS CLI commands ---------------------------------------------------------------------------------------

def _options(words: list[str]) -> dict[str, list[str]]:
    """--name value [value...] pairs; `--name=value` too."""
    opts: dict[str, list[str]] = {}
    current: str | None = None
    for w in words:
        if w.startswith("--"):
            name, eq, value = w[2:].partition("=")
            current = name
            opts.setdefault(name, [])
            if eq:
                opts[name].append(value)
            continue
        if current is None:
            raise _Bad(f"unexpected {w!r}")
        opts[current].append(w)
    return opts


def _one(opts: dict[str, list[str]], name: str) -> str | None:
    values = opts.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise _Bad(f"--{name} takes one value")
    return values[0]


def _cli(words: list[str], origin: str) -> list[Change]:
    if len(words) < 3 or words[1] != "ec2" or words[2] not in _CLI_VERBS:
        raise _Bad("only 'aws ec2 authorize-security-group-ingress|egress' and 'revoke-security-group-ingress|egress' "
                   "are understood")
    cls, direction = _CLI_VERBS[words[2]]
    opts = _options(words[3:])
    group = _one(opts, "group-id")
    if group is None:
        raise _Bad("--group-id is required (group names are not resolved)")
    group = _group_id(group, "--group-id")
    perms = opts.get("ip-permissions")
    if perms:
        changes: list[Change] = []
        for text in perms:
            for perm in _permissions(text):
                changes += [cls(r, origin=origin) for r in _perm_rules(group, direction, perm)]
        if not changes:
            raise _Bad("--ip-permissions names no CIDR, prefix list or group")
        return changes
    proto_text = _one(opts, "protocol")
    if proto_text is None:
        raise _Bad("--protocol or --ip-permissions is required")
    proto = _protocol(proto_text)
    port = _one(opts, "port")
    lo, hi = _ports(proto, port) if port is not None else (-1, -1)
    peer = _one(opts, "source-group") or _one(opts, "cidr")
    if peer is None:
        raise _Bad("--source-group or --cidr is required")
    owner = _one(opts, "group-owner")
    if owner and peer.startswith("sg-"):
        peer = f"{owner}/{peer}"
    return [cls(_rule(group, direction, proto, lo, hi, peer), origin=origin)]


def _permissions(text: str) -> list[dict[str, Any]]:
    """--ip-permissions as JSON (a list or one object) or AWS CLI shorthand."""
    t = text.strip()
    if t.startswith("[") or t.startswith("{"):
        try:
            value = json.loads(t)
        except json.JSONDecodeError:
            value = None
        if value is not None:
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(x, dict) for x in items):
                raise _Bad("--ip-permissions JSON must be an object or a list of objects")
            return items
    parsed, rest = _shorthand_struct(t, 0, top=True)
    if rest != len(t):
        raise _Bad(f"cannot read --ip-permissions near {t[rest:rest + 20]!r}")
    return [parsed]


def _shorthand_struct(t: str, i: int, top: bool = False) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while i < len(t):
        if not top and t[i] == "}":
            return out, i + 1
        eq = t.find("=", i)
        if eq < 0:
            raise _Bad(f"expected KEY=VALUE in --ip-permissions near {t[i:i + 20]!r}")
        key = t[i:eq].strip()
        value, i = _shorthand_value(t, eq + 1)
        out[key] = value
        if i < len(t) and t[i] == ",":
            i += 1
    if not top:
        raise _Bad("unclosed '{' in --ip-permissions")
    return out, i


def _shorthand_value(t: str, i: int) -> tuple[Any, int]:
    if i < len(t) and t[i] == "[":
        items: list[Any] = []
        i += 1
        while i < len(t) and t[i] != "]":
            if t[i] == "{":
                item, i = _shorthand_struct(t, i + 1)
            else:
                item, i = _scalar(t, i)
            items.append(item)
            if i < len(t) and t[i] == ",":
                i += 1
        if i >= len(t):
            raise _Bad("unclosed '[' in --ip-permissions")
        return items, i + 1
    if i < len(t) and t[i] == "{":
        return _shorthand_struct(t, i + 1)
    return _scalar(t, i)


def _scalar(t: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(t) and t[j] not in ",]}":
        j += 1
    return t[i:j].strip().strip("\"'"), j


def _perm_rules(group: str, direction: str, perm: dict[str, Any]) -> list[Any]:
    proto = _protocol(str(perm.get("IpProtocol", "-1")))
    lo = _opt_int(perm.get("FromPort"), "FromPort")
    hi = _opt_int(perm.get("ToPort"), "ToPort")
    rules = []
    for key, field_name in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"), ("PrefixListIds", "PrefixListId"),
                            ("UserIdGroupPairs", "GroupId")):
        for item in _list(perm.get(key), key):
            value = item.get(field_name)
            if not isinstance(value, str) or not value:
                raise _Bad(f"{key} item lacks {field_name}")
            if key == "UserIdGroupPairs" and item.get("UserId"):
                value = f"{item['UserId']}/{value}"
            rules.append(_rule(group, direction, proto, lo, hi, value, description=item.get("Description")))
    return rules


def _list(value: Any, key: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise _Bad(f"{key} must be a list of objects")
    return value


def _opt_int(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    return _int(str(value), what)
