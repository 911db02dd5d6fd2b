"""Workload-to-workload flows: the matrix an auditor wants, computed through the query engine.

For each ordered pair of distinct top-level workloads (ECS tasks and member clusters are folded into their
service or replication group), the candidate traffic is the destination's endpoint ports plus the ports named by
the ingress rules of the destination's groups that admit the source. Every candidate is answered by
`QueryEngine.evaluate`, so ACLs, routes and whatever else the engine learns apply here too. A port range or an
all-traffic rule is one flow (`tcp/8000-8100`, `tcp/all`), evaluated at the destination's endpoint port inside
it, else at its first port.

Cost does not grow with interfaces squared:

- candidate pairs come from an index (group -> workloads, address -> workloads), not from all pairs: a pair
  whose destination admits nothing from the source is certainly blocked (SG-1) and is never evaluated, and an
  endpoint port is evaluated only for sources that some matching rule admits on it (unless the engine could
  answer unknown: unknown groups, uncertain interfaces, or an interface shared by both sides);
- interfaces the engine cannot tell apart (same groups, subnet, VPC and public address, in a subnet no CIDR of
  any rule, prefix list, ACL or route cuts) form one equivalence class; the engine evaluates one representative
  pair per pair of classes and weighs it by their sizes (`QueryEngine.evaluate(detail=False)`). `exact=True`
  evaluates every pair instead (the tests compare both).
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable

from reachgraph.flowtable import EXISTING, INTERNET, Candidate, Flow, FlowTable, FlowView  # noqa: F401 - re-exported
from reachgraph.graph import ReachGraph
from reachgraph.model.records import Model, Rule, Workload
from reachgraph.query import QueryEngine
from reachgraph.resolve import Endpoint
from reachgraph.result import QueryResult
from reachgraph.semantics.addresses import AddrRange, is_public, parse_range
from reachgraph.semantics.traffic import Traffic, rule_admits

ENDPOINT_BASIS = "endpoint port"


def top_level_workloads(model: Model) -> dict[str, Workload]:
    """Workloads people name: everything except children (tasks, member clusters) whose parent is present."""
    return {k: w for k, w in model.workloads.items() if not (w.parent and w.parent in model.workloads)}


@dataclass
class FlowStats:
    """What the flow computation did (the numbers issue 8 asks for)."""

    workloads: int = 0
    ordered_pairs: int = 0             # workloads x (workloads - 1): what a naive matrix would consider
    candidate_pairs: int = 0           # ordered pairs with at least one candidate (the rest are certainly blocked)
    evaluations: int = 0               # engine.evaluate calls
    interface_pairs_evaluated: int = 0  # pairs the engine evaluated: one per pair of equivalence classes
    interface_pairs_represented: int = 0  # what those evaluations stand for
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(self.__dict__, seconds=round(self.seconds, 4))


@dataclass
class _Side:
    key: str
    name: str
    kind: str
    endpoint: Endpoint                 # all interfaces
    groups: frozenset[str]             # interface groups and declared groups
    ports: tuple[int, ...] = ()

    @cached_property
    def end(self) -> tuple[str, str, str]:
        """Key, name and kind: how a flow table stores this end."""
        return (self.key, self.name, self.kind)


class FlowAnalysis:
    """Flows of one snapshot, computed once and cached; also evaluates single flows on demand (diff, audit)."""

    def __init__(self, rg: ReachGraph, engine: QueryEngine, *, exact: bool = False) -> None:
        self.rg = rg
        self.engine = engine
        self.model = rg.model
        self.exact = exact
        self.top = top_level_workloads(rg.model)
        self.stats = FlowStats()
        self._sides: dict[str, _Side] = {}
        self._table = FlowTable()          # the matrix, then (once asked for) the flows from the internet
        self._computed = False
        self._internet_flows: list[Flow] | None = None
        self._by_group: dict[str, set[str]] | None = None
        self._addr_index: tuple[dict[int, list[tuple[int, str]]], list[tuple[AddrRange, str]]] | None = None
        self._fuzzy_src: list[str] | None = None
        self._by_iface: dict[str, set[str]] | None = None
        self._in_block: dict[tuple[int, int, int], frozenset[str]] = {}   # address block -> workloads in it
        self._prepared: dict[int, tuple[frozenset[str], tuple[str, ...]]] = {}   # reasons -> sorted
        self._traffics: dict[int, tuple[Candidate, Traffic]] = {}

    # -- sides ---------------------------------------------------------------------------------------
    def side(self, key: str) -> _Side:
        """The endpoint of a top-level workload (or the internet), with its class representatives."""
        s = self._sides.get(key)
        if s is not None:
            return s
        if key == INTERNET:
            ep = self.engine.resolver.resolve(INTERNET)
            s = _Side(INTERNET, INTERNET, INTERNET, ep, frozenset())
        else:
            w = self.model.workloads[key]
            ep = self.engine.resolver.resolve_workload(w)   # shares its sides with queries and fan-out
            groups = frozenset(w.group_ids) | {g for i in ep.interfaces for g in i.group_ids}
            s = _Side(key, w.name, w.kind, ep, groups, w.ports)
        self._sides[key] = s
        return s

    # -- evaluating --------------------------------------------------------------------------------
    def evaluate(self, src_key: str, dst_key: str, cand: Candidate,
                 basis: tuple[str, ...] = ()) -> tuple[Flow, QueryResult]:
        """Evaluate one flow through the engine (class representatives unless the sides share interfaces)."""
        s, d = self.side(src_key), self.side(dst_key)
        # The engine weighs one representative pair per pair of interface classes (exact=True: every pair).
        before = self.engine.rows_evaluated
        result = self.engine.evaluate(s.endpoint, d.endpoint, cand.traffic(), detail=self.exact)
        self.stats.interface_pairs_evaluated += self.engine.rows_evaluated - before
        flow = self._flow(s, d, cand, basis, result.verdict, result.counts.get("pairs", 0),
                          result.counts.get("reachable", 0), {a.rule for a in result.allowed_by},
                          {f"{b.code} {b.component}: {b.detail}" for b in result.blockers}, result.unknown_reasons)
        return flow, result

    def _matrix_flow(self, src_key: str, dst_key: str, cand: Candidate, basis: frozenset[str]) -> None:
        """Add one flow to the matrix: the engine's tally, without the fixes and records a QueryResult carries."""
        s, d = self.side(src_key), self.side(dst_key)
        if self.exact:
            f = self.evaluate(src_key, dst_key, cand, tuple(basis))[0]
            self._table.add(s.end, d.end, cand, f.verdict, f.pairs, f.reachable_pairs, f.basis, f.allowed_by,
                            f.blockers, f.unknown_reasons)
            return
        # Candidates and their reasons are shared objects (one per rule signature): prepare each once.
        hit = self._prepared.get(id(basis))
        if hit is None or hit[0] is not basis:
            hit = self._prepared[id(basis)] = (basis, tuple(sorted(basis)))
        traffic = self._traffics.get(id(cand))
        if traffic is None or traffic[0] is not cand:
            traffic = self._traffics[id(cand)] = (cand, cand.traffic())
        before = self.engine.rows_evaluated
        fs = self.engine.flow_summary(s.endpoint, d.endpoint, traffic[1])
        self.stats.evaluations += 1
        self.stats.interface_pairs_evaluated += self.engine.rows_evaluated - before
        self.stats.interface_pairs_represented += fs.pairs
        self._table.add(s.end, d.end, cand, fs.verdict, fs.pairs, fs.reachable, hit[1],
                        tuple(sorted(fs.allowed)), tuple(sorted(fs.blockers)), fs.unknown_reasons)

    def _flow(self, s: _Side, d: _Side, cand: Candidate, basis: tuple[str, ...], verdict: str, total: int,
              reach: int, allowed: set[str], blockers: set[str], unknown: Iterable[str]) -> Flow:
        self.stats.evaluations += 1
        self.stats.interface_pairs_represented += total
        return Flow(source=s.key, source_name=s.name, source_kind=s.kind, destination=d.key,
                    destination_name=d.name, destination_kind=d.kind, protocol=cand.protocol, ports=cand.ports,
                    port=cand.port, code=cand.code, verdict=verdict, pairs=total, reachable_pairs=reach,
                    basis=tuple(sorted(set(basis))), allowed_by=tuple(sorted(allowed)),
                    blockers=tuple(sorted(blockers)), unknown_reasons=tuple(unknown))

    def evaluate_key(self, key: tuple[str, str, str, str], port: int | None,
                     code: int | None = None) -> tuple[Flow, QueryResult] | None:
        """Evaluate a flow named by its key (from another snapshot); None when a side is not in this one."""
        src, dst, proto, ports = key
        for k in (src, dst):
            if k != INTERNET and k not in self.top:
                return None
        return self.evaluate(src, dst, Candidate(proto, ports, port, code))

    # -- the matrix ----------------------------------------------------------------------------------
    def flows(self, include_blocked: bool = False, include_internet: bool = False) -> FlowView:
        """Every candidate flow between top-level workloads (and from the internet), sorted; a sequence that
        makes each Flow record when it is read (a large estate's matrix holds millions)."""
        if not self._computed:
            start = time.perf_counter()
            self._compute()
            self._computed = True
            self.engine.forget()
            self.stats.seconds += time.perf_counter() - start
        if include_internet:
            self.internet_flows()
        return self._table.view(include_blocked=include_blocked, include_internet=include_internet)

    def internet_flows(self) -> list[Flow]:
        """Flows from the internet to every workload whose groups admit a public address."""
        if self._internet_flows is None:
            start = time.perf_counter()
            first = len(self._table)
            for dkey in sorted(self.top):
                cands = self._sources_for(dkey, internet=True).get(INTERNET)
                for cand, basis in sorted((cands or {}).items()):
                    self._matrix_flow(INTERNET, dkey, cand, basis)
            self._internet_flows = [self._table.flow(i) for i in range(first, len(self._table))]
            self.stats.seconds += time.perf_counter() - start
        return list(self._internet_flows)

    def _compute(self) -> None:
        n = len(self.top)
        self.stats.workloads = n
        self.stats.ordered_pairs = n * (n - 1)
        for dkey in sorted(self.top):
            per_source = self._sources_for(dkey, internet=False)
            for skey in sorted(per_source):
                if skey == dkey or skey == INTERNET:
                    continue
                self.stats.candidate_pairs += 1
                for cand, basis in sorted(per_source[skey].items()):
                    self._matrix_flow(skey, dkey, cand, basis)

    def candidates(self, src_key: str, dst_key: str) -> dict[Candidate, frozenset[str]]:
        """The candidate traffic for one ordered pair, with why each is a candidate (read-only)."""
        return self._sources_for(dst_key, internet=src_key == INTERNET).get(src_key, {})

    def _sources_for(self, dkey: str, internet: bool) -> dict[str, dict[Candidate, frozenset[str]]]:
        """Sources whose traffic some ingress rule of the destination might admit, with candidate traffic.

        A source gets the traffic its matching rules name, and the destination's endpoint ports that one of
        those rules admits; any other traffic is certainly denied at the destination's ingress (SG-1), so it is
        never evaluated, unless the engine might answer unknown or the two share an interface. Sources matched
        by the same rules share one (read-only) candidate dict: a wide CIDR rule matches thousands of them."""
        d = self.side(dkey)
        rules: list[Rule] = []
        matched: dict[str, list[int]] = defaultdict(list)   # source -> the rules (indices) that may admit it
        for gid in sorted(d.groups):
            grp = self.model.groups.get(gid)
            for rule in grp.ingress if grp else ():
                sources = ([INTERNET] if self.admits_internet(rule) else []) if internet \
                    else self._matching_sources(rule)
                if not sources:
                    continue
                i = len(rules)
                rules.append(rule)
                for skey in sources:
                    matched[skey].append(i)
        forced: set[str] = set()
        if not internet:
            # Cannot be ruled out: destinations with unknown groups or interfaces, sources with unknown groups,
            # and sources sharing an interface with the destination (nothing filters that).
            every = sorted(self.top) if self._fuzzy(d) else self._fuzzy_sources()
            by_iface = self._iface_index()
            shared = {k for i in d.endpoint.interfaces for k in by_iface.get(i.id, ())}
            forced = set(every) | shared
            for skey in forced:
                matched[skey]  # noqa: B018 - create the entry
        by_rules: dict[tuple[tuple[int, ...], bool], dict[Candidate, frozenset[str]]] = {}
        result: dict[str, dict[Candidate, frozenset[str]]] = {}
        for skey, idx in matched.items():
            sig = (tuple(idx), skey in forced)
            entry = by_rules.get(sig)
            if entry is None:
                entry = by_rules[sig] = _candidate_traffic([rules[i] for i in idx], d.ports, sig[1])
            if entry:
                result[skey] = entry
        return result

    def _fuzzy(self, d: _Side) -> bool:
        """The engine may answer unknown for any source: missing groups, uncertain or no interfaces."""
        if not d.endpoint.interfaces:
            return False  # no interfaces: nothing to evaluate against; the workload's notes say why
        return any(i.uncertain or any(g not in self.model.groups for g in i.group_ids)
                   for i in d.endpoint.interfaces)

    def _fuzzy_sources(self) -> list[str]:
        if self._fuzzy_src is None:
            self._fuzzy_src = sorted(k for k in self.top if any(
                i.uncertain and not i.group_ids for i in self.side(k).endpoint.interfaces))
        return self._fuzzy_src

    # -- indices -------------------------------------------------------------------------------------
    def _iface_index(self) -> dict[str, set[str]]:
        if self._by_iface is None:
            idx: dict[str, set[str]] = defaultdict(set)
            for k in self.top:
                for i in self.side(k).endpoint.interfaces:
                    idx[i.id].add(k)
            self._by_iface = idx
        return self._by_iface

    def _group_index(self) -> dict[str, set[str]]:
        if self._by_group is None:
            idx: dict[str, set[str]] = defaultdict(set)
            for k in self.top:
                for g in self.side(k).groups:
                    idx[g].add(k)
            self._by_group = idx
        return self._by_group

    def _address_index(self) -> tuple[dict[int, list[tuple[int, str]]], list[tuple[AddrRange, str]]]:
        if self._addr_index is None:
            points: dict[int, list[tuple[int, str]]] = {4: [], 6: []}
            ranges: list[tuple[AddrRange, str]] = []
            for k in sorted(self.top):
                for i in self.side(k).endpoint.interfaces:
                    for a in i.private_ipv4 + i.ipv6:
                        r = parse_range(a)
                        points[r.version].append((r.lo, k))
                    if not i.primary_ipv4:
                        sub = self.model.subnets.get(i.subnet_id or "")
                        vpc = self.model.vpcs.get(i.vpc_id or "")
                        block = (sub.cidr_v4 if sub and sub.cidr_v4 else
                                 vpc.cidrs_v4[0] if vpc and vpc.cidrs_v4 else "0.0.0.0/0")
                        ranges.append((parse_range(block, exact=False), k))
            for v in points:
                points[v].sort()
            self._addr_index = (points, ranges)
        return self._addr_index

    def _sources_in(self, block: AddrRange) -> frozenset[str]:
        hit = self._in_block.get((block.version, block.lo, block.hi))
        if hit is None:
            hit = self._in_block[(block.version, block.lo, block.hi)] = frozenset(self._sources_in_uncached(block))
        return hit

    def _sources_in_uncached(self, block: AddrRange) -> set[str]:
        points, ranges = self._address_index()
        pts = points[block.version]
        i = bisect.bisect_left(pts, (block.lo, ""))
        out = set()
        while i < len(pts) and pts[i][0] <= block.hi:
            out.add(pts[i][1])
            i += 1
        out.update(k for r, k in ranges if r.overlaps(block))
        return out

    def _matching_sources(self, rule: Rule) -> set[str] | frozenset[str]:
        """Top-level workloads the rule's peer might take in (a superset: the engine decides); do not modify."""
        if rule.peer_kind == "group":
            return self._group_index().get(rule.peer, frozenset())
        if rule.peer_kind in ("cidr4", "cidr6"):
            return self._sources_in(parse_range(rule.peer))
        pl = self.model.prefix_lists.get(rule.peer)
        out: set[str] = set()
        for c in pl.cidrs if pl else ():
            out |= self._sources_in(parse_range(c))
        return out

    def admits_internet(self, rule: Rule) -> bool:
        if rule.peer_kind in ("cidr4", "cidr6"):
            return is_public(parse_range(rule.peer))
        if rule.peer_kind == "prefix_list":
            pl = self.model.prefix_lists.get(rule.peer)
            return bool(pl) and any(is_public(parse_range(c)) for c in pl.cidrs)  # type: ignore[union-attr]
        return False


def _candidate_traffic(rules: list[Rule], endpoint_ports: tuple[int, ...],
                       forced: bool) -> dict[Candidate, frozenset[str]]:
    """The traffic these matching rules name, plus each endpoint port one of them admits (every endpoint port
    when forced), each with the rule descriptions (and "endpoint port") that make it a candidate."""
    entry: dict[Candidate, set[str]] = defaultdict(set)
    for rule in rules:
        for c in rule_candidates(rule, endpoint_ports):
            entry[c].add(rule.describe())
    for p in endpoint_ports:
        t = Traffic("tcp", p)
        admitting = [r for r in rules if rule_admits(r.protocol, r.from_port, r.to_port, t)]
        if admitting or forced:
            entry[Candidate("tcp", str(p), p)].update({ENDPOINT_BASIS} | {r.describe() for r in admitting})
    return {c: frozenset(b) for c, b in entry.items()}


def rule_candidates(rule: Rule, endpoint_ports: tuple[int, ...]) -> list[Candidate]:
    """The traffic a rule names: one port; a range or all traffic as one flow (`tcp/8000-8100`, `tcp/all`),
    evaluated at the destination's first endpoint port inside it, else at its first port; or an ICMP type."""
    p = rule.protocol
    if p in ("tcp", "udp", "-1"):
        proto = "tcp" if p == "-1" else p
        lo = 0 if p == "-1" or rule.from_port is None else rule.from_port
        hi = 65535 if p == "-1" or rule.to_port is None else rule.to_port
        if lo == hi:
            return [Candidate(proto, str(lo), lo)]
        inside = [x for x in endpoint_ports if lo <= x <= hi] if proto == "tcp" else []
        return [Candidate(proto, "all" if (lo, hi) == (0, 65535) else f"{lo}-{hi}", inside[0] if inside else lo)]
    if p in ("icmp", "icmpv6"):
        t = -1 if rule.from_port is None else rule.from_port
        c = -1 if rule.to_port is None else rule.to_port
        if t == -1:
            return [Candidate(p, "all", 8 if p == "icmp" else 128, 0)]
        return [Candidate(p, str(t) if c == -1 else f"{t}:{c}", t, 0 if c == -1 else c)]
    return [Candidate(p, "all")]


def flow_graph(flows: Iterable[Flow], verdicts: tuple[str, ...] = ("reachable", "partial")) -> Any:
    """A NetworkX DiGraph: one node per workload (and the internet), one edge per pair with its flows."""
    import networkx as nx

    g = nx.DiGraph()
    for f in flows:
        if f.verdict not in verdicts:
            continue
        g.add_node(f.source, name=f.source_name, kind=f.source_kind)
        g.add_node(f.destination, name=f.destination_name, kind=f.destination_kind)
        if g.has_edge(f.source, f.destination):
            g.edges[f.source, f.destination]["flows"].append(f)
        else:
            g.add_edge(f.source, f.destination, flows=[f])
    return g
