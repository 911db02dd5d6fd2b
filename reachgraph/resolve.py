"""Turn what a user types (api, redis:6379, sg-..., 10.0.2.50, internet) into endpoints and traffic."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from reachgraph.errors import InputError
from reachgraph.graph import ReachGraph
from reachgraph.model.protocols import normalize_protocol
from reachgraph.model.records import Interface, Workload
from reachgraph.semantics.addresses import AddrRange, parse_range

EndpointKind = Literal["workload", "security_group", "interface", "address", "internet"]

KIND_LABELS = {
    "ecs_service": "ECS service", "ecs_task": "ECS task", "elasticache_replication_group": "ElastiCache replication group",
    "elasticache_cluster": "ElastiCache cluster", "elasticache_serverless": "ElastiCache serverless cache",
    "ec2_instance": "EC2 instance", "rds_instance": "RDS instance", "rds_cluster": "RDS cluster",
    "load_balancer": "load balancer", "lambda": "Lambda function",
}


class Unresolved(Exception):
    """A name that matches nothing in a snapshot with collection errors: the answer is unknown, not an error."""

    def __init__(self, name: str, reasons: tuple[str, ...]) -> None:
        super().__init__(name)
        self.name = name
        self.reasons = reasons


@dataclass(frozen=True)
class Endpoint:
    """One side of a query: the interfaces it stands for, or an address outside the snapshot."""

    kind: EndpointKind
    text: str                       # what the user typed
    id: str                         # workload key, sg-, eni- id, CIDR or "internet"
    label: str                      # "ECS service hokusai-api-development, 2 tasks"
    interfaces: tuple[Interface, ...] = ()
    address: AddrRange | None = None
    workload: Workload | None = None
    default_port: int | None = None
    notes: tuple[str, ...] = ()

    def short(self) -> str:
        """The user's word, with the resolved name when it differs."""
        name = self.workload.name if self.workload else self.id
        return self.text if self.text == name else f"{self.text} ({name})"


@dataclass(frozen=True)
class PortSpec:
    """The part after ':' of DESTINATION[:PORT][/PROTOCOL]."""

    protocol: str | None = None
    port: int | None = None
    code: int | None = None


def split_destination(text: str) -> tuple[str, PortSpec]:
    """'redis:6379/tcp' -> ('redis', PortSpec('tcp', 6379)); IPv6 with a port needs brackets: [2600::1]:443."""
    raw = text.strip()
    if not raw:
        raise InputError("empty destination", hint="give a name, id or address, e.g. redis:6379")
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep:
            raise InputError(f"unclosed '[' in {text!r}", hint="write IPv6 with a port as [2600:1f18::1]:443")
        if rest and not rest.startswith(":"):
            raise InputError(f"unexpected {rest!r} after ']' in {text!r}", hint="write [2600:1f18::1]:443")
        return host, _port_spec(rest[1:], text) if rest else PortSpec()
    if _is_address(raw):
        return raw, PortSpec()
    host, sep, spec = raw.partition(":")
    if sep:
        return host, _port_spec(spec, text)
    # 'redis/udp': a protocol without a port; but '10.0.0.0/16' is a CIDR, handled above.
    head, slash, proto = raw.rpartition("/")
    if slash and head and not _is_address(raw):
        return head, _port_spec("/" + proto, text)
    return raw, PortSpec()


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
        return True
    except ValueError:
        return False


def _port_spec(spec: str, text: str) -> PortSpec:
    spec = spec.strip()
    if not spec:
        raise InputError(f"nothing after ':' in {text!r}", hint="write NAME:PORT, e.g. redis:6379")
    port_part, _, proto_part = spec.partition("/")
    if port_part.lower() in ("icmp", "icmpv6"):
        # icmp/TYPE[:CODE]  (echo request is icmp/8)
        proto = port_part.lower()
        if not proto_part:
            return PortSpec(proto, -1, -1)
        type_text, _, code_text = proto_part.partition(":")
        return PortSpec(proto, _number(type_text, 0, 255, "ICMP type", text),
                        _number(code_text, 0, 255, "ICMP code", text) if code_text else None)
    protocol = None
    if proto_part:
        try:
            protocol = normalize_protocol(proto_part)
        except ValueError:
            raise InputError(f"unknown protocol {proto_part!r} in {text!r}",
                             hint="use tcp, udp, icmp, icmpv6 or a protocol number 0-255") from None
        if protocol == "-1":
            raise InputError(f"protocol 'all' is not a query in {text!r}", hint="ask about one protocol and port")
    if not port_part:
        return PortSpec(protocol)
    if protocol in ("icmp", "icmpv6"):
        return PortSpec(protocol, _number(port_part, 0, 255, "ICMP type", text))
    return PortSpec(protocol, _number(port_part, 0, 65535, "port", text))


def _number(value: str, lo: int, hi: int, what: str, text: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise InputError(f"bad {what} {value!r} in {text!r}", hint=f"use a number {lo}-{hi}") from None
    if not lo <= n <= hi:
        raise InputError(f"{what} {n} in {text!r} is outside {lo}-{hi}", hint=f"use a number {lo}-{hi}")
    return n


class Resolver:
    """Resolves names against one graph, in the order the design fixes."""

    def __init__(self, rg: ReachGraph) -> None:
        self.rg = rg
        self.model = rg.model
        # Exact and case-insensitive names, indexed once: a point query should not scan every workload.
        self._by_name: dict[str, list[Workload]] = {}
        self._by_lower: dict[str, list[Workload]] = {}
        # The interface tuple of each workload and group, made once: the engine caches a side's evaluation by
        # the tuple's identity, so every query, fan-out and flow naming the same workload shares it.
        self._interfaces: dict[str, tuple[Interface, ...]] = {}
        for w in self.model.workloads.values():
            self._by_name.setdefault(w.name, []).append(w)
            self._by_lower.setdefault(w.name.lower(), []).append(w)

    def resolve(self, text: str) -> Endpoint:
        """AWS id, IP/CIDR, 'internet', exact workload name, unique substring; else InputError with candidates."""
        name = text.strip()
        if not name:
            raise InputError("empty name", hint="give a workload name, an sg-/eni-/i- id or an address")
        low = name.lower()
        if low.startswith("sg-"):
            return self._group(name)
        if low.startswith("eni-"):
            return self._interface(name)
        if low.startswith("i-"):
            return self._instance(name)
        if _is_address(name):
            return self._address(name)
        if low == "internet":
            return Endpoint(kind="internet", text=name, id="internet", label="the internet (any public address)",
                            address=parse_range("0.0.0.0/0"))
        return self._workload(name)

    def _group(self, gid: str) -> Endpoint:
        grp = self.model.groups.get(gid)
        members = self._interfaces_of(gid, lambda: sorted(self.rg.members.get(gid, ())))
        if grp is None and not members:
            raise InputError(f"no security group {gid} in the snapshot", self.model.source,
                             "check the id, or collect the account and region that hold it")
        label = f"security group {gid} ({grp.name if grp else 'not described'}, {len(members)} member interfaces)"
        return Endpoint(kind="security_group", text=gid, id=gid, label=label, interfaces=members)

    def _interfaces_of(self, key: str, ids: Callable[[], Iterable[str]]) -> tuple[Interface, ...]:
        """The interfaces of a workload or group (`key`), in the order `ids` gives, made once per key."""
        hit = self._interfaces.get(key)
        if hit is None:
            interfaces = self.model.interfaces
            hit = self._interfaces[key] = tuple(interfaces[e] for e in ids() if e in interfaces)
        return hit

    def _interface(self, eid: str) -> Endpoint:
        iface = self.model.interfaces.get(eid)
        if iface is None:
            raise InputError(f"no network interface {eid} in the snapshot", self.model.source,
                             "check the id, or collect the account and region that hold it")
        return Endpoint(kind="interface", text=eid, id=eid, label=self._iface_label(iface), interfaces=(iface,),
                        default_port=self._port_of_interface(eid))

    def _instance(self, iid: str) -> Endpoint:
        for w in self.model.workloads.values():
            if w.kind == "ec2_instance" and w.key.endswith(":" + iid):
                return self._from_workload(w, iid)
        raise InputError(f"no EC2 instance {iid} in the snapshot", self.model.source,
                         "check the id, or add describe-instances output to the snapshot")

    def _address(self, text: str) -> Endpoint:
        rng = parse_range(text)
        if rng.lo == rng.hi:
            eid = self.rg.by_ip.get(rng.text)
            if eid:
                iface = self.model.interfaces[eid]
                # Keep the exact address: a secondary IP is evaluated as itself, not as the primary.
                return Endpoint(kind="interface", text=text, id=eid, label=f"{text} ({self._iface_label(iface)})",
                                interfaces=(iface,), default_port=self._port_of_interface(eid), address=rng)
        label = f"address {rng.text}" if rng.lo == rng.hi else f"address block {rng.text}"
        return Endpoint(kind="address", text=text, id=rng.text, label=f"{label} (outside the snapshot)", address=rng)

    def _iface_label(self, iface: Interface) -> str:
        owners = [self.model.workloads[k].name for k in self.rg.workloads_of.get(iface.id, ())]
        addr = iface.primary_ipv4 or "address unknown"
        return f"interface {iface.id} ({addr}{', ' + owners[0] if owners else ''})"

    def _port_of_interface(self, eid: str) -> int | None:
        for key in self.rg.workloads_of.get(eid, ()):
            port = self.model.workloads[key].default_port
            if port is not None:
                return port
        return None

    def _workload(self, text: str) -> Endpoint:
        workloads = self.model.workloads.values()
        exact = self._by_name.get(text) or self._by_lower.get(text.lower()) or []
        candidates = exact or [w for w in workloads if text.lower() in w.name.lower()]
        candidates = _prefer_parents(candidates)
        if len(candidates) == 1:
            return self._from_workload(candidates[0], text)
        if candidates:
            listing = "; ".join(f"{w.name} ({KIND_LABELS.get(w.kind, w.kind)}){_where(w)}" for w in candidates[:12])
            raise InputError(f"{text!r} is ambiguous: it matches {len(candidates)} workloads: {listing}",
                             hint="use a longer part of the name, or an sg-/eni-/i- id")
        groups = [g for g in self.model.groups.values() if g.name == text or g.name.lower() == text.lower()]
        if len(groups) == 1:
            return self._group(groups[0].id)
        if self.model.errors:
            raise Unresolved(text, tuple(e.describe() for e in self.model.errors))
        names = sorted({w.name for w in workloads if w.kind != "ecs_task"} | {g.name for g in self.model.groups.values()})
        close = difflib.get_close_matches(text, names, n=5, cutoff=0.5)
        hint = f"did you mean: {', '.join(close)}" if close else (
            f"known workloads: {', '.join(sorted({w.name for w in workloads if w.kind != 'ecs_task'})[:8]) or 'none'}")
        raise InputError(f"no workload, group or address matches {text!r}", hint=hint)

    def resolve_workload(self, w: Workload) -> Endpoint:
        """The endpoint of a workload already known (fan-out queries)."""
        return self._from_workload(w, w.name)

    def _from_workload(self, w: Workload, text: str) -> Endpoint:
        ifaces = self._interfaces_of(w.key, lambda: w.interface_ids)
        return Endpoint(kind="workload", text=text, id=w.key, label=w.label or f"{KIND_LABELS.get(w.kind, w.kind)} "
                        f"{w.name}", interfaces=ifaces, workload=w, default_port=w.default_port, notes=w.notes)


def _prefer_parents(candidates: list[Workload]) -> list[Workload]:
    """A name matching a parent and its own members (a replication group and its clusters) means the parent."""
    keys = {w.key for w in candidates}
    return [w for w in candidates if not (w.parent and w.parent in keys)]


def _where(w: Workload) -> str:
    """' in cluster X' for ECS services, which share names across clusters."""
    if w.kind == "ecs_service" and "/" in w.key:
        return f" in cluster {w.key.rsplit(':', 1)[-1].split('/', 1)[0]}"
    return ""
