"""Answer 'can SOURCE reach DESTINATION on PORT': evaluate every interface pair, explain, suggest the fix."""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, replace

from reachgraph.errors import InputError
from reachgraph.fixes import Need, suggest_fixes
from reachgraph.graph import ReachGraph
from reachgraph.model.protocols import normalize_protocol
from reachgraph.model.records import Interface, Rule
from reachgraph.resolve import Endpoint, PortSpec, Resolver, Unresolved, split_destination
from reachgraph.result import Allowance, Blocker, Check, EndpointSummary, PairResult, QueryResult
from reachgraph.semantics.acl import LINUX_EPHEMERAL, WIDE_EPHEMERAL
from reachgraph.semantics.addresses import AddrRange, any_of, parse_range, public_intervals, span_text
from reachgraph.semantics.classes import AddressClasses
from reachgraph.semantics.path import End, PathEvaluator
from reachgraph.semantics.sg import Factor, Peer, SgEvaluator
from reachgraph.semantics.traffic import Traffic

# SG-14: traffic to these is not filtered by security groups.
_UNFILTERED_V4 = {"169.254.169.253": "Amazon DNS", "169.254.169.254": "instance metadata",
                  "169.254.169.123": "Amazon Time Sync"}


@dataclass(frozen=True)
class _Side:
    iface: Interface | None
    addr: AddrRange      # the address evaluated: the IP, or the whole subnet when all its addresses are alike
    label: str
    end: End | None      # None: the interface has no address of the queried family
    shown: str = ""      # the address shown in pair results
    key: tuple = ()      # equivalence class: sides with equal keys get equal answers


def _version_of(src: Endpoint, dst: Endpoint) -> int:
    """IPv6 when the user named an IPv6 address on either side, else IPv4."""
    for ep in (dst, src):
        if ep.kind in ("address", "interface") and ep.address is not None:
            return ep.address.version
    return 4


class QueryEngine:
    """Evaluates queries on one graph; caches per-group rule candidates across queries."""

    def __init__(self, rg: ReachGraph) -> None:
        self.rg = rg
        self.model = rg.model
        self.resolver = Resolver(rg)
        self.sg = SgEvaluator(rg.model, rg.members)
        self.path = PathEvaluator(rg.model)
        self.classes = AddressClasses(rg.model)
        self._pair_cache: dict[tuple, tuple[tuple[Check, ...], str, str]] = {}

    # -- entry points ------------------------------------------------------------------------------
    def query(self, source: str, destination: str, port: int | None = None, protocol: str | None = None,
              ephemeral: tuple[int, int] | None = None, ip_version: int | None = None) -> QueryResult:
        """Resolve both names, pick the traffic, evaluate every pair."""
        host, spec = split_destination(destination)
        try:
            src = self.resolver.resolve(source)
            dst = self.resolver.resolve(host)
        except Unresolved as exc:
            return self._unresolved(source, host, exc, spec, port, protocol)
        traffic = self.traffic_for(dst, spec, port, protocol)
        return self.evaluate(src, dst, traffic, ephemeral=ephemeral, ip_version=ip_version)

    def traffic_for(self, dst: Endpoint, spec: PortSpec, port: int | None = None,
                    protocol: str | None = None) -> Traffic:
        """Protocol: argument, then DESTINATION's /PROTOCOL, then tcp; port: argument, then :PORT, then endpoint."""
        proto = spec.protocol or "tcp"
        if protocol is not None:
            try:
                proto = normalize_protocol(protocol)
            except ValueError:
                raise InputError(f"unknown protocol {protocol!r}",
                                 hint="use tcp, udp, icmp, icmpv6 or a protocol number 0-255") from None
        if proto == "-1":
            raise InputError("protocol 'all' is not a query", hint="ask about one protocol and port")
        if proto in ("tcp", "udp"):
            chosen = port if port is not None else spec.port if spec.port is not None else dst.default_port
            if chosen is None:
                raise InputError(f"no port given and {dst.short()} has no endpoint port in the snapshot",
                                 hint=f"give one, e.g. {dst.text}:443")
            if not 0 <= chosen <= 65535:
                raise InputError(f"port {chosen} is outside 0-65535")
            return Traffic(proto, chosen)
        if proto in ("icmp", "icmpv6"):
            icmp_type = spec.port if spec.port not in (None, -1) else (8 if proto == "icmp" else 128)
            return Traffic(proto, icmp_type, spec.code if spec.code not in (None, -1) else 0)
        return Traffic(proto)

    def evaluate(self, src: Endpoint, dst: Endpoint, t: Traffic, ephemeral: tuple[int, int] | None = None,
                 ip_version: int | None = None) -> QueryResult:
        """Evaluate resolved endpoints for one kind of traffic."""
        if src.kind in ("address", "internet") and dst.kind in ("address", "internet"):
            raise InputError(f"neither {src.text!r} nor {dst.text!r} is in the snapshot",
                             hint="at least one side must be a workload, group, interface or an address of one")
        version = ip_version or _version_of(src, dst)
        if t.protocol == "icmp" and version == 6 or t.protocol == "icmpv6" and version == 4:
            raise InputError(f"{t.protocol} does not travel over IPv{version}",
                             hint="use icmp with IPv4 and icmpv6 with IPv6")
        sources = self._sides(src, version, ephemeral)
        dests = self._sides(dst, version, ephemeral)
        pairs = [self._pair(s, d, src, dst, t) for s in sources for d in dests]
        return self._aggregate(src, dst, t, pairs, sources, dests)

    # -- sides and pairs ---------------------------------------------------------------------------
    def _sides(self, ep: Endpoint, version: int, ephemeral: tuple[int, int] | None) -> list[_Side]:
        if ep.kind == "internet":
            eph = ephemeral or LINUX_EPHEMERAL
            return [_Side(None, any_of(version), "the internet",
                          End(None, version, public_intervals(version), "some", internet=True, ephemeral=eph),
                          shown="internet", key=("internet", version, eph))]
        if ep.kind == "address":
            assert ep.address is not None
            return self._address_sides(ep, ep.address, ephemeral or LINUX_EPHEMERAL)
        out = []
        for i in ep.interfaces:
            addr = ep.address if ep.kind == "interface" and ep.address is not None else self._address_of(i, version)
            eph = ephemeral or self._ephemeral_of(i)
            if addr is None:
                out.append(_Side(i, any_of(version), f"{i.id} (no IPv{version} address)", None, shown="none"))
                continue
            shown = addr.text if addr.exact else "unknown"
            uniform = self.classes.subnet_range(i.subnet_id, version)
            if uniform is not None and (not addr.exact or addr.within(uniform)):
                addr = uniform  # every address of the subnet is alike: evaluate the subnet once
            mode = "all" if addr.exact else "one"
            end = End(i, version, ((addr.lo, addr.hi),), mode, ephemeral=eph)
            key = (i.group_ids or (i.id,), i.subnet_id, i.vpc_id, addr.lo, addr.hi, mode, eph, i.has_public,
                   bool(i.ipv6), i.uncertain)
            out.append(_Side(i, addr, f"{i.id} ({shown})", end, shown=shown, key=key))
        return out

    def _address_sides(self, ep: Endpoint, a: AddrRange, eph: tuple[int, int]) -> list[_Side]:
        """An address outside the snapshot's interfaces, cut along the subnets it lies in: each part crosses
        its own subnet's ACL and routes (NACL-4, RT-2); parts outside every subnet are placed nowhere."""
        pieces: list[tuple[int, int, Interface | None]] = []
        covered: list[tuple[int, int]] = []
        for sub in self.model.subnets.values():
            for block in (sub.cidr_v4,) + sub.cidrs_v6 if sub.cidr_v4 else sub.cidrs_v6:
                r = parse_range(block)
                lo, hi = max(r.lo, a.lo), min(r.hi, a.hi)
                if r.version != a.version or lo > hi:
                    continue
                site = Interface(id=span_text(a.version, lo, hi), vpc_id=sub.vpc_id, subnet_id=sub.id,
                                 account=sub.account, region=sub.region, group_ids=(), az=sub.az,
                                 description=f"an address in {sub.id}", inferred=True)
                pieces.append((lo, hi, site))
                covered.append((lo, hi))
        pieces += [(lo, hi, None) for lo, hi in _gaps(a.lo, a.hi, covered)]
        out = []
        for lo, hi, site in sorted(pieces, key=lambda x: x[0]):
            text = span_text(a.version, lo, hi)
            rng = AddrRange(a.version, lo, hi, True, text)
            label = ep.label if (lo, hi) == (a.lo, a.hi) else f"{text} (part of {a.text})"
            out.append(_Side(None, rng, label, End(None, a.version, ((lo, hi),), "all", ephemeral=eph, where=site),
                             shown=text, key=("address", a.version, lo, hi, eph, site.subnet_id if site else None)))
        return out

    def _ephemeral_of(self, iface: Interface) -> tuple[int, int]:
        """NACL-6: NAT gateways, Lambda and load balancers use 1024-65535; Linux and ECS tasks 32768-60999."""
        if iface.interface_type in ("nat_gateway", "lambda", "network_load_balancer") or \
                iface.description.startswith(("ELB ", "AWS Lambda")):
            return WIDE_EPHEMERAL
        return LINUX_EPHEMERAL

    def _address_of(self, iface: Interface, version: int = 4) -> AddrRange | None:
        if version == 6:
            if iface.ipv6:
                return parse_range(iface.ipv6[0])
            sub = self.model.subnets.get(iface.subnet_id or "")
            if iface.inferred and sub and sub.cidrs_v6:
                return parse_range(sub.cidrs_v6[0], exact=False)
            return any_of(6) if iface.inferred else None
        if iface.primary_ipv4:
            return parse_range(iface.primary_ipv4)
        # Address unknown: the endpoint is somewhere in its subnet or VPC; rules covering all of it still decide.
        sub = self.model.subnets.get(iface.subnet_id or "")
        if sub and sub.cidr_v4:
            return parse_range(sub.cidr_v4, exact=False)
        vpc = self.model.vpcs.get(iface.vpc_id or "")
        if vpc and vpc.cidrs_v4:
            return parse_range(vpc.cidrs_v4[0], exact=False)
        return any_of(4)

    def _pair(self, s: _Side, d: _Side, src: Endpoint, dst: Endpoint, t: Traffic) -> PairResult:
        checks: list[Check] = []
        if s.iface is not None and d.iface is not None and s.iface.id == d.iface.id:
            checks.append(Check(kind="same_interface", direction=None, component=s.iface.id, status="allow",
                                detail="source and destination are the same interface; nothing filters it"))
        elif s.end is None or d.end is None:
            missing = s if s.end is None else d
            assert missing.iface is not None
            checks.append(Check(kind="address", direction=None, component=missing.iface.id, status="deny",
                                code="NO_ADDRESS_IN_FAMILY", detail=f"{missing.label}: it cannot send or receive "
                                                                    "this address family"))
        else:
            key = (s.key, d.key, t, src.kind, dst.kind, src.workload.group_ids if src.workload else (),
                   dst.workload.group_ids if dst.workload else ())
            cached = self._pair_cache.get(key)
            if cached is None:
                cached = self._pair_cache[key] = (tuple(self._class_checks(s, d, src, dst, t)), _ids(s), _ids(d))
            found, rep_s, rep_d = cached
            checks.extend(_rebind(found, ((rep_s, _ids(s)), (rep_d, _ids(d)))))
        statuses = {c.status for c in checks}
        verdict = "blocked" if "deny" in statuses else "unknown" if "unknown" in statuses else "reachable"
        return PairResult(source=s.iface.id if s.iface else src.id, source_address=s.shown,
                          destination=d.iface.id if d.iface else dst.id, destination_address=d.shown,
                          verdict=verdict, checks=tuple(checks))

    def _class_checks(self, s: _Side, d: _Side, src: Endpoint, dst: Endpoint, t: Traffic) -> list[Check]:
        """Every check for one pair; equal for all pairs of the same two equivalence classes."""
        assert s.end is not None and d.end is not None
        checks: list[Check] = []
        s_end, d_end = s.end, d.end
        if s.iface is not None:
            check, d_end = self._egress(s, d, d_end, src, dst, t)
            checks.append(check)
        if d.iface is not None:
            check, s_end = self._ingress(s, d, s_end, src, dst, t)
            checks.append(check)
        if not (checks and checks[0].kind == "security_group" and "(SG-14)" in checks[0].detail):
            # Amazon DNS, metadata and time sync are filtered by neither groups nor ACLs, and need no route.
            checks += self.path.checks(s_end, d_end, t)
        return checks

    def _egress(self, s: _Side, d: _Side, d_end: End, src: Endpoint, dst: Endpoint,
                t: Traffic) -> tuple[Check, End]:
        assert s.iface is not None
        if dst.kind == "internet":
            return self._internet_check("egress", s.iface, d_end, t, src)
        unfiltered = self._unfiltered(s.iface, d)
        if unfiltered:
            return Check(kind="security_group", direction="egress", component=s.iface.id, status="allow",
                         detail=unfiltered), d_end
        peer = Peer(d.addr, d.iface, d.label)
        return self._sg_check(self.sg.evaluate("egress", s.iface, peer, t), t, peer,
                              src.workload.group_ids if src.workload else ()), d_end

    def _ingress(self, s: _Side, d: _Side, s_end: End, src: Endpoint, dst: Endpoint,
                 t: Traffic) -> tuple[Check, End]:
        assert d.iface is not None
        if src.kind == "internet":
            return self._internet_check("ingress", d.iface, s_end, t, dst)
        peer = Peer(s.addr, s.iface, s.label)
        return self._sg_check(self.sg.evaluate("ingress", d.iface, peer, t), t, peer,
                              dst.workload.group_ids if dst.workload else ()), s_end

    def _internet_check(self, direction: str, iface: Interface, internet: End, t: Traffic,
                        ep: Endpoint) -> tuple[Check, End]:
        """Which public addresses the groups let in (or out); the internet end narrows to them."""
        if not iface.group_ids and not iface.inferred:
            return self._ungrouped(iface, direction), internet
        spans, rules, reasons = self.sg.public_admitted(direction, iface, t, internet.version)
        verb = "admits" if direction == "ingress" else "allows"
        if spans and not iface.uncertain:
            first = rules[0]
            return Check(kind="security_group", direction=direction, component=first.group_id, status="allow",
                         detail=f"{first.group_id} {verb} {t.text()} {'from' if direction == 'ingress' else 'to'} "
                                f"the internet (rule: {_rule_phrase(first)})",
                         rules=tuple(r.describe() for r in rules), rule_ids=tuple(r.rule_id for r in rules
                                                                                  if r.rule_id),
                         groups=iface.group_ids), replace(internet, addrs=tuple(spans))
        component = self._component(Factor(direction, "deny", iface.id, iface.group_ids), 
                                    ep.workload.group_ids if ep.workload else ())
        if reasons:
            return Check(kind="security_group", direction=direction, component=component, status="unknown",
                         detail="; ".join(reasons), groups=iface.group_ids), internet
        groups = ", ".join(f"{g} ({self._gname(g)})" for g in iface.group_ids)
        return Check(kind="security_group", direction=direction, component=component, status="deny",
                     code="ENI_SG_RULES_MISMATCH",
                     detail=f"no {direction} rule of {groups} {verb} {t.text()} "
                            f"{'from' if direction == 'ingress' else 'to'} any public address",
                     groups=iface.group_ids), internet

    def _ungrouped(self, iface: Interface, direction: str) -> Check:
        return Check(kind="security_group", direction=direction, component=iface.id, status="allow",
                     detail=f"{iface.id} ({iface.interface_type}) carries no security groups; they do not filter it")

    def _unfiltered(self, src: Interface, d: _Side) -> str | None:
        """SG-14: Amazon DNS (VPC base + 2), metadata and time sync are not filtered by security groups."""
        if d.iface is not None or not d.addr.exact or d.addr.lo != d.addr.hi or d.addr.version != 4:
            return None
        ip = str(ipaddress.ip_address(d.addr.lo))
        if ip in _UNFILTERED_V4:
            return f"{ip} is {_UNFILTERED_V4[ip]}, which security groups do not filter (SG-14)"
        vpc = self.model.vpcs.get(src.vpc_id or "")
        for block in vpc.cidrs_v4 if vpc else ():
            if d.addr.lo == parse_range(block).lo + 2:
                return f"{ip} is the VPC's Amazon DNS resolver, which security groups do not filter (SG-14)"
        return None

    # -- explaining one factor ---------------------------------------------------------------------
    def _sg_check(self, f: Factor, t: Traffic, peer: Peer, preferred: tuple[str, ...]) -> Check:
        iface = self.model.interfaces.get(f.interface)
        if iface is not None and not iface.group_ids and not iface.inferred:
            return self._ungrouped(iface, f.direction)
        verb, word = ("allows", "to") if f.direction == "egress" else ("admits", "from")
        if f.status == "allow":
            rule = f.rules[0]
            return Check(kind="security_group", direction=f.direction, component=rule.group_id, status="allow",
                         detail=f"{rule.group_id} {verb} {t.text()} (rule: {_rule_phrase(rule)})",
                         rules=tuple(r.describe() for r in f.rules),
                         rule_ids=tuple(r.rule_id for r in f.rules if r.rule_id), groups=f.groups,
                         warnings=f.warnings)
        component = self._component(f, preferred)
        if f.status == "unknown":
            return Check(kind="security_group", direction=f.direction, component=component, status="unknown",
                         detail="; ".join(f.reasons) or "cannot decide", rules=tuple(r.describe() for r in f.rules),
                         groups=f.groups, warnings=f.warnings)
        known = [self.model.groups[g] for g in f.groups if g in self.model.groups]
        no_rules = bool(known) and all(not (g.egress if f.direction == "egress" else g.ingress) for g in known)
        return Check(kind="security_group", direction=f.direction, component=component, status="deny",
                     code="SG_HAS_NO_RULES" if no_rules else "ENI_SG_RULES_MISMATCH",
                     detail=self._deny_detail(f, t, peer, no_rules),
                     rules=tuple(r.describe() for r in f.near_misses),
                     rule_ids=tuple(r.rule_id for r in f.near_misses if r.rule_id), groups=f.groups,
                     warnings=f.warnings)

    def _component(self, f: Factor, preferred: tuple[str, ...]) -> str:
        """The group to name: the one with rules for this traffic, else the workload's own, else the first."""
        near = sorted({r.group_id for r in f.near_misses})
        if near:
            return near[0]
        own = [g for g in preferred if g in f.groups]
        return (own or list(f.groups) or [f.interface])[0]

    def _deny_detail(self, f: Factor, t: Traffic, peer: Peer, no_rules: bool) -> str:
        verb, word = ("allows", "to") if f.direction == "egress" else ("admits", "from")
        groups = ", ".join(f"{g} ({self._gname(g)})" for g in f.groups) or f"{f.interface} (no groups)"
        who = self._peer_phrase(peer, "destination" if f.direction == "egress" else "source")
        if no_rules:
            return f"{groups} {'has' if len(f.groups) == 1 else 'have'} no {f.direction} rules: nothing is " \
                   f"{'allowed out' if f.direction == 'egress' else 'admitted'}"
        if f.near_misses:
            by_group: dict[str, list[str]] = {}
            for r in f.near_misses:
                by_group.setdefault(r.group_id, []).append(self._rule_peer(r))
            parts = [f"{g} ({self._gname(g)}) {verb} {t.text()} only {word} {', '.join(dict.fromkeys(p))}"
                     for g, p in sorted(by_group.items())]
            return "; ".join(parts) + f"; {who}"
        return f"no {f.direction} rule of {groups} {verb} {t.text()} {word} anyone; {who}"

    def _peer_phrase(self, peer: Peer, role: str) -> str:
        if peer.iface is not None:
            return f"the {role} carries {', '.join(peer.iface.group_ids) or 'no security groups'}"
        return f"the {role} is {peer.label}"

    def _rule_peer(self, r: Rule) -> str:
        if r.peer_kind == "group":
            if r.peer in self.model.groups:
                n = len(self.rg.members.get(r.peer, ()))
                return f"{r.peer} ({self._gname(r.peer)}, {n} member interface{'s' * (n != 1)})"
            return f"{r.peer} (not in the snapshot: deleted, or in an account not collected)"
        if r.peer_kind == "prefix_list":
            pl = self.model.prefix_lists.get(r.peer)
            return f"{r.peer} ({pl.name})" if pl else f"{r.peer} (unknown prefix list)"
        return r.peer

    def _gname(self, gid: str) -> str:
        g = self.model.groups.get(gid)
        return g.name if g else "not in snapshot"

    # -- the whole answer --------------------------------------------------------------------------
    def _aggregate(self, src: Endpoint, dst: Endpoint, t: Traffic, pairs: list[PairResult],
                   sources: list[_Side], dests: list[_Side]) -> QueryResult:
        counts = Counter(p.verdict for p in pairs)
        unknown_reasons: list[str] = []
        warnings = list(dict.fromkeys(src.notes + dst.notes)) + self.path.coverage_warnings()
        if not pairs:
            empty = src if not sources else dst
            verdict = "unknown"
            unknown_reasons.append(f"{empty.short()} has no network interfaces in the snapshot"
                                   + (f" ({'; '.join(empty.notes)})" if empty.notes else ""))
        elif counts["reachable"] == len(pairs):
            verdict = "reachable"
        elif counts["blocked"] == len(pairs):
            verdict = "blocked"
        elif counts["reachable"] and counts["blocked"]:
            verdict = "partial"
        else:
            verdict = "unknown"
        blockers: dict[tuple, list[int]] = {}
        allowed: dict[tuple, Allowance] = {}
        needs: list[Need] = []
        side_of = {(s.iface.id if s.iface else src.id): s for s in sources}
        dside_of = {(d.iface.id if d.iface else dst.id): d for d in dests}
        for p in pairs:
            for c in p.checks:
                warnings.extend(c.warnings)
                if c.status == "deny":
                    key = (c.code, c.direction, c.component, c.detail, c.groups)
                    blockers.setdefault(key, []).append(1)
                    if c.kind == "security_group":
                        needs.append(self._need(c, side_of[p.source], dside_of[p.destination], src, dst))
                elif c.status == "unknown":
                    unknown_reasons.append(c.detail)
                elif p.verdict == "reachable":
                    for rule_text, rid in _zip_rules(c):
                        allowed.setdefault((c.direction, c.component, rule_text),
                                           Allowance(c.direction or "", c.component, rule_text, rid))
        blocker_list = tuple(Blocker(code=k[0], direction=k[1], component=k[2], detail=k[3], groups=k[4],
                                     pairs=len(v)) for k, v in blockers.items())
        # Opening a group to the internet is a decision, not a fix: no command for internet sources.
        fixes = suggest_fixes(needs, t) if blockers and src.kind != "internet" else ()
        if any(p.verdict == "unknown" for p in pairs) and self.model.errors:
            warnings += [e.describe() for e in self.model.errors]
        return QueryResult(
            verdict=verdict, source=_summary(src), destination=_summary(dst), protocol=t.protocol, port=t.port,
            icmp_code=t.code, pairs=tuple(pairs), allowed_by=tuple(allowed.values()), blockers=blocker_list,
            fixes=fixes, warnings=tuple(dict.fromkeys(warnings)), unknown_reasons=tuple(dict.fromkeys(unknown_reasons)),
            counts={"pairs": len(pairs), "reachable": counts["reachable"], "blocked": counts["blocked"],
                    "unknown": counts["unknown"]})

    def _need(self, c: Check, s: _Side, d: _Side, src: Endpoint, dst: Endpoint) -> Need:
        if c.direction == "ingress":
            return Need("ingress", c.component, s.iface, _cidr_text(s.addr, src),
                        src.workload.group_ids if src.workload else ())
        return Need("egress", c.component, d.iface, _cidr_text(d.addr, dst),
                    dst.workload.group_ids if dst.workload else ())

    def _unresolved(self, source: str, host: str, exc: Unresolved, spec: PortSpec, port: int | None,
                    protocol: str | None) -> QueryResult:
        reason = (f"{exc.name!r} matches nothing in the snapshot, and the snapshot is incomplete: "
                  + "; ".join(exc.reasons))
        return QueryResult(
            verdict="unknown", source=EndpointSummary(source, "unresolved", source, source),
            destination=EndpointSummary(host, "unresolved", host, host), protocol=spec.protocol or protocol or "tcp",
            port=port if port is not None else spec.port, unknown_reasons=(reason,),
            warnings=tuple(e.describe() for e in self.model.errors))


def _zip_rules(c: Check) -> list[tuple[str, str | None]]:
    ids: list[str | None] = list(c.rule_ids) if len(c.rule_ids) == len(c.rules) else [None] * len(c.rules)
    return list(zip(c.rules, ids)) or [(c.detail, None)]


def _rule_phrase(r: Rule) -> str:
    word = "from" if r.direction == "ingress" else "to"
    rid = f", {r.rule_id}" if r.rule_id else ""
    return f"{r.ports_text()} {word} {r.peer}{rid}"


def _cidr_text(addr: AddrRange, ep: Endpoint) -> str:
    if ep.kind == "internet":
        return "0.0.0.0/0"
    return addr.text or str(addr)


def _summary(ep: Endpoint) -> EndpointSummary:
    return EndpointSummary(text=ep.text, kind=ep.kind, id=ep.id, label=ep.label,
                           interfaces=tuple(i.id for i in ep.interfaces))


def _ids(side: _Side) -> str:
    return side.iface.id if side.iface is not None else ""


def _rebind(checks: tuple[Check, ...], swaps: tuple[tuple[str, str], ...]) -> tuple[Check, ...]:
    """Checks computed for a class's first interface, naming the interface actually asked about."""
    swaps = tuple((a, b) for a, b in swaps if a and a != b)
    if not swaps:
        return checks
    out = []
    for c in checks:
        if any(a in c.component or a in c.detail for a, _ in swaps):
            component, detail = c.component, c.detail
            for a, b in swaps:
                component, detail = component.replace(a, b), detail.replace(a, b)
            c = replace(c, component=component, detail=detail)
        out.append(c)
    return tuple(out)


def _gaps(lo: int, hi: int, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [lo, hi] outside every covered interval."""
    out, cursor = [], lo
    for a, b in sorted(covered):
        if a > cursor:
            out.append((cursor, a - 1))
        cursor = max(cursor, b + 1)
    if cursor <= hi:
        out.append((cursor, hi))
    return out
