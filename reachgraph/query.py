"""Answer 'can SOURCE reach DESTINATION on PORT': evaluate every interface pair, explain, suggest the fix."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from reachgraph.errors import InputError
from reachgraph.explain import SgExplainer
from reachgraph.fixes import Need, suggest_fixes
from reachgraph.graph import ReachGraph
from reachgraph.model.protocols import normalize_protocol
from reachgraph.model.records import Interface
from reachgraph.resolve import Endpoint, PortSpec, Resolver, Unresolved, split_destination
from reachgraph.result import Blocker, Check, EndpointSummary, PairResult, QueryResult, rebind
from reachgraph.semantics.acl import LINUX_EPHEMERAL, WIDE_EPHEMERAL
from reachgraph.semantics.addresses import AddrRange, any_of, parse_range, public_intervals, span_text
from reachgraph.semantics.bounds import bounded, sides_limit
from reachgraph.semantics.classes import AddressClasses
from reachgraph.semantics.path import End, PathEvaluator
from reachgraph.semantics.rects import subtract_intervals
from reachgraph.semantics.sg import Peer, SgEvaluator
from reachgraph.semantics.traffic import Traffic
from reachgraph.tally import Digest, FlowSummary, Tally, digest, summarize, verdict_of, verdict_of_statuses

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

    @cached_property
    def peer(self) -> Peer:
        """This side as the other side's security groups see it (kept: sides are cached and reused)."""
        return Peer(self.addr, self.iface, self.label)


# A representative pair's verdict, the digests of its checks, its two sides and how many pairs it stands for.
_Row = tuple[str, tuple[Digest, ...], _Side, _Side, int]


# Endpoints whose sides are addresses, not interfaces (no security groups of their own).
_ADDRESSED = ("internet", "address")


def _empty_reason(src: Endpoint, dst: Endpoint, sources: list[_Side]) -> str:
    """Why a query has no pairs: the side without interfaces."""
    empty = src if not sources else dst
    return f"{empty.short()} has no network interfaces in the snapshot" + (
        f" ({'; '.join(empty.notes)})" if empty.notes else "")


def _sg_identity(iface: Interface | None) -> tuple:
    """What a side's own security-group answer depends on (besides the peer and the traffic)."""
    assert iface is not None
    return (iface.group_ids or iface.id, iface.uncertain, iface.inferred)


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
        self.explain = SgExplainer(rg.model, rg.members, self.sg)
        self.classes = AddressClasses(rg.model)
        self._pair_cache: dict[tuple, tuple[tuple[Check, ...], str, str]] = {}
        self._sg_cache: dict[tuple, Check] = {}
        self._side_cache: dict[tuple, tuple[tuple[Interface, ...], list[_Side]]] = {}
        self._class_cache: dict[int, tuple[list[_Side], list[list[_Side]], frozenset[str]]] = {}
        # Sides held by the two caches above, bounded so that one-off endpoints of a long session cannot pile up.
        self._sides_held = 0
        self._sides_limit = sides_limit(len(rg.model.interfaces))
        self._summaries: dict[int, tuple[Endpoint, EndpointSummary]] = {}
        self._digests: dict[int, tuple[object, Digest]] = {}
        self.rows_evaluated = 0   # pairs (or representative pairs of classes) evaluated, for statistics

    def forget(self) -> None:
        """Empty the caches (answers do not change): after a flow matrix, their memory serves what comes next."""
        for cache in (self._pair_cache, self._sg_cache, self._digests, self._summaries):
            cache.clear()
        self.path.forget()
        self.sg.forget()

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
                 ip_version: int | None = None, detail: bool = True) -> QueryResult:
        """Evaluate resolved endpoints for one kind of traffic.

        detail=False evaluates one representative pair per pair of equivalence classes and weighs it by the
        classes' sizes: same verdict, counts, blockers and fixes, but no per-pair list (flows, fan-out)."""
        sources, rows, pairs = self._rows(src, dst, t, ephemeral, ip_version, detail)
        return self._result(src, dst, t, self._tally(src, dst, rows, sources, needs=True), pairs)

    def flow_summary(self, src: Endpoint, dst: Endpoint, t: Traffic) -> FlowSummary:
        """Verdict, counts, allowing rules, blockers and unknown reasons at class level, without fixes or a
        QueryResult: what a flow matrix needs from each of its millions of evaluations."""
        sources, rows, _ = self._rows(src, dst, t, None, None, False)
        return summarize(rows, _empty_reason(src, dst, sources))

    def _rows(self, src: Endpoint, dst: Endpoint, t: Traffic, ephemeral: tuple[int, int] | None,
              ip_version: int | None, detail: bool) -> tuple[list[_Side], list[_Row], tuple[PairResult, ...]]:
        """The sides of the source, and one row per pair (detail) or per pair of classes."""
        if src.kind in ("address", "internet") and dst.kind in ("address", "internet"):
            raise InputError(f"neither {src.text!r} nor {dst.text!r} is in the snapshot",
                             hint="at least one side must be a workload, group, interface or an address of one")
        version = ip_version or _version_of(src, dst)
        if t.protocol == "icmp" and version == 6 or t.protocol == "icmpv6" and version == 4:
            raise InputError(f"{t.protocol} does not travel over IPv{version}",
                             hint="use icmp with IPv4 and icmpv6 with IPv6")
        sources = self._sides(src, version, ephemeral)
        dests = self._sides(dst, version, ephemeral)
        pairs: tuple[PairResult, ...] = ()
        if detail:
            pairs = tuple(self._pair(s, d, src, dst, t) for s in sources for d in dests)
            rows = [(p.verdict, (digest(p.checks),), s, d, 1) for p, (s, d) in
                    zip(pairs, ((s, d) for s in sources for d in dests))]
        else:
            s_classes, s_ids = self._classes_of(sources)
            d_classes, d_ids = self._classes_of(dests)
            if s_ids.isdisjoint(d_ids) and src.kind not in _ADDRESSED and dst.kind not in _ADDRESSED:
                rows = self._interface_class_rows(s_classes, d_classes, src, dst, t)
            elif s_ids.isdisjoint(d_ids):
                # No interface on both sides, so each class pair is one representative pair.
                rows = [self._class_row(sc[0], dc[0], src, dst, t, len(sc) * len(dc))
                        for sc in s_classes for dc in d_classes]
            else:
                rows = [self._class_row(s, d, src, dst, t, n)
                        for sc in s_classes for dc in d_classes for s, d, n in _representatives(sc, dc)]
        self.rows_evaluated += len(rows)
        return sources, rows, pairs

    def _classes_of(self, sides: list[_Side]) -> tuple[list[list[_Side]], frozenset[str]]:
        """Equivalence classes of a (cached) list of sides, and the ids of its interfaces."""
        hit = self._class_cache.get(id(sides))
        if hit is None or hit[0] is not sides:
            ids = frozenset(_ids(s) for s in sides if s.iface is not None)
            hit = self._class_cache[id(sides)] = (sides, _classes(sides), ids)
        return hit[1], hit[2]

    def representatives(self, ep: Endpoint, ip_version: int = 4) -> Endpoint:
        """The endpoint with one interface per equivalence class: same answers, fewer pairs (audits)."""
        if not ep.interfaces:
            return ep
        reps = tuple(c[0].iface for c in self._classes_of(self._sides(ep, ip_version, None))[0]
                     if c[0].iface is not None)
        return replace(ep, interfaces=reps)

    # -- sides and pairs ---------------------------------------------------------------------------
    def _sides(self, ep: Endpoint, version: int, ephemeral: tuple[int, int] | None) -> list[_Side]:
        """The interfaces (or address parts) of an endpoint as evaluated; cached, since flows ask often."""
        # Endpoints are usually reused objects (flows, fan-out): their interface tuple's identity is a cheap key;
        # the cached entry keeps the tuple alive, so the identity cannot be recycled.
        key = (id(ep.interfaces), ep.kind, ep.id, ep.address, version, ephemeral)
        hit = self._side_cache.get(key)
        if hit is None or hit[0] is not ep.interfaces:
            sides = self._sides_uncached(ep, version, ephemeral)
            if self._sides_held + len(sides) > self._sides_limit:
                self._side_cache.clear()
                self._class_cache.clear()
                self._sides_held = 0
            self._sides_held += len(sides)
            hit = self._side_cache[key] = (ep.interfaces, sides)
        return hit[1]

    def _sides_uncached(self, ep: Endpoint, version: int, ephemeral: tuple[int, int] | None) -> list[_Side]:
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
            elif addr.exact and i.group_ids and not i.uncertain:
                # A subnet cut by some block (a /32 rule): the addresses between two cuts are alike. (Interfaces
                # without groups keep their address: a fix for them names it as a CIDR.)
                addr = self.classes.atom(i.subnet_id, addr) or addr
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
        pieces += [(lo, hi, None) for lo, hi in subtract_intervals([(a.lo, a.hi)], covered)]
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
        """One pair's verdict and checks; cached per pair of classes, named for this pair's interfaces."""
        special = self._special(s, d)
        if special is not None:
            checks: tuple[Check, ...] = (special,)
        else:
            key = (s.key, d.key, t, src.kind, dst.kind, src.workload.group_ids if src.workload else (),
                   dst.workload.group_ids if dst.workload else ())
            cached = self._pair_cache.get(key)
            if cached is None:
                flat = tuple(c for part in self._class_parts(s, d, src, dst, t)
                             for c in (part if isinstance(part, tuple) else (part,)))
                cached = bounded(self._pair_cache)[key] = (flat, _ids(s), _ids(d))
            found, rep_s, rep_d = cached
            s_id, d_id = _ids(s), _ids(d)
            checks = found if (rep_s, rep_d) == (s_id, d_id) else rebind(found, ((rep_s, s_id), (rep_d, d_id)))
        verdict = verdict_of_statuses([c.status for c in checks])
        return PairResult(source=s.iface.id if s.iface else src.id, source_address=s.shown,
                          destination=d.iface.id if d.iface else dst.id, destination_address=d.shown,
                          verdict=verdict, checks=checks)

    def _class_row(self, s: _Side, d: _Side, src: Endpoint, dst: Endpoint, t: Traffic, n: int) -> _Row:
        """One representative pair of two classes, weighed by n, digested part by part: the parts (each side's
        security groups, the path) are cached objects shared with other pairs, so each is digested once."""
        special = self._special(s, d)
        parts = (special,) if special is not None else self._class_parts(s, d, src, dst, t)
        digests = tuple(self._digest_of(part) for part in parts)
        return verdict_of(digests), digests, s, d, n

    def _interface_class_rows(self, s_classes: list[list[_Side]], d_classes: list[list[_Side]], src: Endpoint,
                              dst: Endpoint, t: Traffic) -> list[_Row]:
        """Rows for two sets of interface classes with no interface in common (flows, fan-out): the same rows
        _class_row gives, but each side's security-group check is looked up once per class of the other side
        (the classes of one side usually share their groups), leaving one path lookup per pair of classes."""
        pref_s = src.workload.group_ids if src.workload else ()
        pref_d = dst.workload.group_ids if dst.workload else ()
        # Sides numbered by what their own groups' answer depends on: equal numbers, equal checks.
        numbers: dict[tuple, int] = {}
        dests = [(dc[0], len(dc), numbers.setdefault(_sg_identity(dc[0].iface), len(numbers))) for dc in d_classes]
        width = len(d_classes)
        egress: dict[int, Digest] = {}      # (source number, destination class) -> digest
        rows: list[_Row] = []
        path_checks, digest_of, sg_cached = self.path.checks, self._digest_of, self._sg_cached
        for sc in s_classes:
            s = sc[0]
            ns = len(sc)
            s_number = numbers.setdefault(_sg_identity(s.iface), len(numbers)) * width
            ingress: dict[int, Digest] = {}  # destination number -> digest, for this source class
            for j, (d, nd, d_number) in enumerate(dests):
                if s.end is None or d.end is None:
                    rows.append(self._class_row(s, d, src, dst, t, ns * nd))
                    continue
                eg = egress.get(s_number + j)
                if eg is None:
                    eg = egress[s_number + j] = digest_of(sg_cached("egress", s.iface, d.peer, t, pref_s))
                ing = ingress.get(d_number)
                if ing is None:
                    ing = ingress[d_number] = digest_of(sg_cached("ingress", d.iface, s.peer, t, pref_d))
                path = digest_of(path_checks(s.end, d.end, t))
                verdict = verdict_of_statuses((eg.status, ing.status, path.status))
                rows.append((verdict, (eg, ing, path), s, d, ns * nd))
        return rows

    def _special(self, s: _Side, d: _Side) -> Check | None:
        """The pairs no component decides: an interface with itself, a side without an address of the family."""
        if s.iface is not None and d.iface is not None and s.iface.id == d.iface.id:
            return Check(kind="same_interface", direction=None, component=s.iface.id, status="allow",
                         detail="source and destination are the same interface; nothing filters it")
        if s.end is None or d.end is None:
            missing = s if s.end is None else d
            assert missing.iface is not None
            return Check(kind="address", direction=None, component=missing.iface.id, status="deny",
                         code="NO_ADDRESS_IN_FAMILY", detail=f"{missing.label}: it cannot send or receive "
                                                             "this address family")
        return None

    def _class_parts(self, s: _Side, d: _Side, src: Endpoint, dst: Endpoint,
                     t: Traffic) -> list[Check | tuple[Check, ...]]:
        """Every check for one pair, in parts: source egress, destination ingress, the path (ACLs and routes);
        equal for all pairs of the same two equivalence classes."""
        assert s.end is not None and d.end is not None
        parts: list[Check | tuple[Check, ...]] = []
        s_end, d_end = s.end, d.end
        if s.iface is not None:
            check, d_end = self._egress(s, d, d_end, src, dst, t)
            parts.append(check)
        if d.iface is not None:
            check, s_end = self._ingress(s, d, s_end, src, dst, t)
            parts.append(check)
        first = parts[0] if parts else None
        if not (isinstance(first, Check) and first.kind == "security_group" and "(SG-14)" in first.detail):
            # Amazon DNS, metadata and time sync are filtered by neither groups nor ACLs, and need no route.
            parts.append(self.path.checks(s_end, d_end, t))
        return parts

    def _digest_of(self, part: Check | tuple[Check, ...]) -> Digest:
        """The digest of a check or a tuple of checks; remembered per object, since cached parts recur."""
        hit = self._digests.get(id(part))
        if hit is None or hit[0] is not part:
            hit = bounded(self._digests)[id(part)] = (part, digest(part if isinstance(part, tuple) else (part,)))
        return hit[1]

    def _egress(self, s: _Side, d: _Side, d_end: End, src: Endpoint, dst: Endpoint,
                t: Traffic) -> tuple[Check, End]:
        assert s.iface is not None
        if dst.kind == "internet":
            return self.explain.internet("egress", s.iface, d_end, t, src.workload.group_ids if src.workload else ())
        unfiltered = self._unfiltered(s.iface, d)
        if unfiltered:
            return Check(kind="security_group", direction="egress", component=s.iface.id, status="allow",
                         detail=unfiltered), d_end
        return self._sg_cached("egress", s.iface, d.peer, t,
                               src.workload.group_ids if src.workload else ()), d_end

    def _ingress(self, s: _Side, d: _Side, s_end: End, src: Endpoint, dst: Endpoint,
                 t: Traffic) -> tuple[Check, End]:
        assert d.iface is not None
        if src.kind == "internet":
            return self.explain.internet("ingress", d.iface, s_end, t, dst.workload.group_ids if dst.workload else ())
        return self._sg_cached("ingress", d.iface, s.peer, t,
                               dst.workload.group_ids if dst.workload else ()), s_end

    def _sg_cached(self, direction: Literal["egress", "ingress"], iface: Interface, peer: Peer, t: Traffic,
                   preferred: tuple[str, ...]) -> Check:
        """One side's security-group check, computed once for every peer that gets the same answer and text."""
        p = peer.iface
        own = (direction, iface.group_ids or iface.id, iface.uncertain, iface.inferred, peer.addr.version, t,
               preferred)
        if iface.group_ids and self.sg.admits_everyone(direction, iface.group_ids, t, peer.addr.version):
            key = full = own   # the same for every peer of this IP version (AWS's default egress)
        elif p is not None:
            # An interface peer counts through which address rules cover it (its signature), which of its groups
            # the rules name, its VPC and certainty; a deny also names all its groups ("the source carries ...").
            key = own + (self.sg.address_signature(direction, iface.group_ids, t, peer.addr),
                         self.sg.named_groups(direction, iface.group_ids, t, p.group_ids), p.vpc_id, p.uncertain)
            full = key + (p.group_ids,)
        else:
            key = full = own + (peer.addr.lo, peer.addr.hi, peer.addr.exact, peer.label)
        check = self._sg_cache.get(key)
        if check is None and full is not key:
            check = self._sg_cache.get(full)
        if check is None:
            check = self.explain.check(self.sg.evaluate(direction, iface, peer, t), t, peer, preferred)
            bounded(self._sg_cache)[full if check.status == "deny" else key] = check
        return check

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

    # -- the whole answer --------------------------------------------------------------------------
    def _tally(self, src: Endpoint, dst: Endpoint, rows: list[_Row], sources: list[_Side], needs: bool) -> Tally:
        """Add up the rows: counts by verdict, blockers with the pairs they block, allowing rules (of reachable
        pairs), unknown reasons, warnings, and (needs=True) what fixes must provide."""
        tl = Tally()
        counts = tl.counts
        for row in rows:
            counts[row[0]] += row[4]
        total = sum(counts.values())
        unknown_reasons = tl.unknown_reasons
        tl.warnings = warnings = list(dict.fromkeys(src.notes + dst.notes)) + self.path.coverage_warnings()
        if not total:
            unknown_reasons.append(_empty_reason(src, dst, sources))
        blockers, allowed, wanted = tl.blockers, tl.allowed, tl.needs
        seen: set[int] = set()   # digests whose allowances are collected already
        for pair_verdict, digests, s_side, d_side, n in rows:
            for dg in digests:
                if dg.warnings:
                    warnings.extend(dg.warnings)
                for key, sg_check in dg.denies:
                    blockers[key] += n
                    if needs and sg_check is not None:
                        wanted.append(self._need(sg_check, s_side, d_side, src, dst))
                if dg.unknowns:
                    unknown_reasons.extend(dg.unknowns)
                if pair_verdict == "reachable" and id(dg) not in seen:
                    seen.add(id(dg))
                    for key, allowance in dg.allowed:
                        allowed.setdefault(key, allowance)
        tl.unknown_reasons = list(dict.fromkeys(unknown_reasons))
        if counts["unknown"] and self.model.errors:
            warnings += [e.describe() for e in self.model.errors]
        return tl

    def _result(self, src: Endpoint, dst: Endpoint, t: Traffic, tl: Tally,
                pairs: tuple[PairResult, ...]) -> QueryResult:
        blocker_list = tuple(Blocker(code=k[0], direction=k[1], component=k[2], detail=k[3], groups=k[4],
                                     pairs=v) for k, v in tl.blockers.items())
        # Opening a group to the internet is a decision, not a fix: no command for internet sources.
        fixes = suggest_fixes(tl.needs, t) if tl.blockers and src.kind != "internet" else ()
        counts = tl.counts
        return QueryResult(
            verdict=tl.verdict, source=self._summary(src), destination=self._summary(dst), protocol=t.protocol,
            port=t.port, icmp_code=t.code, pairs=pairs, allowed_by=tuple(tl.allowed.values()), blockers=blocker_list,
            fixes=fixes, warnings=tuple(dict.fromkeys(tl.warnings)), unknown_reasons=tuple(tl.unknown_reasons),
            counts={"pairs": tl.total, "reachable": counts["reachable"], "blocked": counts["blocked"],
                    "unknown": counts["unknown"]})

    def _summary(self, ep: Endpoint) -> EndpointSummary:
        """The endpoint as results show it; cached, since flows evaluate the same endpoints many times."""
        hit = self._summaries.get(id(ep))
        if hit is None or hit[0] is not ep:
            hit = bounded(self._summaries)[id(ep)] = (ep, _summary(ep))
        return hit[1]

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


def _cidr_text(addr: AddrRange, ep: Endpoint) -> str:
    if ep.kind == "internet":
        return "0.0.0.0/0"
    return addr.text or str(addr)


def _summary(ep: Endpoint) -> EndpointSummary:
    return EndpointSummary(text=ep.text, kind=ep.kind, id=ep.id, label=ep.label,
                           interfaces=tuple(i.id for i in ep.interfaces))


def _ids(side: _Side) -> str:
    return side.iface.id if side.iface is not None else ""


def _classes(sides: list[_Side]) -> list[list[_Side]]:
    """Sides grouped by equivalence class, in first-seen order."""
    by_key: dict[tuple, list[_Side]] = {}
    for side in sides:
        by_key.setdefault(side.key or ("no-address", _ids(side)), []).append(side)
    return list(by_key.values())


def _representatives(ss: list[_Side], ds: list[_Side]) -> list[tuple[_Side, _Side, int]]:
    """One pair standing for all pairs of two classes, with its weight; pairs of one interface with itself
    (a workload asked about itself) stand apart, since nothing filters them."""
    same = {_ids(s) for s in ss if s.iface is not None} & {_ids(d) for d in ds if d.iface is not None}
    out: list[tuple[_Side, _Side, int]] = []
    if same:
        first = next(s for s in ss if _ids(s) in same)
        out.append((first, first, len(same)))
    rest = len(ss) * len(ds) - len(same)
    if rest:
        pair = next((s, d) for s in ss for d in ds if s.iface is None or d.iface is None or _ids(s) != _ids(d))
        out.append((pair[0], pair[1], rest))
    return out

