"""Fan-out queries: everything a source can reach (`SRC '*'`), everyone who can reach a destination
(`'*' DST:PORT`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reachgraph.model.records import Workload
from reachgraph.query import QueryEngine
from reachgraph.resolve import Endpoint, split_destination
from reachgraph.semantics.traffic import Traffic

WILDCARD = "*"


@dataclass(frozen=True)
class FanoutRow:
    """One (source, destination, traffic) answer of a fan-out query."""

    source: str
    source_kind: str
    destination: str
    destination_kind: str
    traffic: str
    verdict: str
    via: str          # the admitting rules (reachable) or the first blocker (otherwise)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(source=self.source, source_kind=self.source_kind, destination=self.destination,
                    destination_kind=self.destination_kind, traffic=self.traffic, verdict=self.verdict, via=self.via)


def top_level_workloads(engine: QueryEngine) -> list[Workload]:
    """Workloads people name: not tasks or member clusters whose parent is in the snapshot."""
    wl = engine.model.workloads
    return [w for w in wl.values() if not (w.parent and w.parent in wl)]


def candidate_ports(engine: QueryEngine, w: Workload) -> list[Traffic]:
    """The traffic worth asking about for a destination: its endpoint ports and single ports its rules name."""
    out: dict[tuple[str, int], None] = {("tcp", p): None for p in w.ports}
    groups = {g for e in w.interface_ids if e in engine.model.interfaces for g in engine.model.interfaces[e].group_ids}
    for gid in sorted(groups):
        grp = engine.model.groups.get(gid)
        for r in grp.ingress if grp else ():
            if r.protocol in ("tcp", "udp") and r.from_port is not None and r.from_port == r.to_port:
                out[(r.protocol, r.from_port)] = None
    return [Traffic(p, n) for p, n in sorted(out, key=lambda x: (x[1], x[0]))]


def reachable_from(engine: QueryEngine, source: str) -> list[FanoutRow]:
    """Every workload SOURCE reaches, on each port its endpoint or rules name (blocked pairs omitted)."""
    src = engine.resolver.resolve(source)
    rows = []
    for w in top_level_workloads(engine):
        if src.workload is not None and w.key == src.workload.key:
            continue
        dst = engine.resolver.resolve_workload(w)
        for t in candidate_ports(engine, w):
            r = engine.evaluate(src, dst, t, detail=False)
            if r.verdict != "blocked":
                rows.append(_row(src, dst, r))
    return sorted(rows, key=lambda x: (x.destination, x.traffic))


def reachers_of(engine: QueryEngine, destination: str, port: int | None = None,
                protocol: str | None = None) -> list[FanoutRow]:
    """Every workload, referenced group, CIDR and the internet that reaches DESTINATION (blocked omitted)."""
    host, spec = split_destination(destination)
    dst = engine.resolver.resolve(host)
    t = engine.traffic_for(dst, spec, port, protocol)
    sources: list[Endpoint] = [engine.resolver.resolve_workload(w) for w in top_level_workloads(engine)
                               if not (dst.workload is not None and w.key == dst.workload.key)]
    peers: set[tuple[str, str]] = set()
    for iface in dst.interfaces:
        for gid in iface.group_ids:
            grp = engine.model.groups.get(gid)
            for r in grp.ingress if grp else ():
                peers.add((r.peer_kind, r.peer))
    for kind, peer in sorted(peers):
        if kind == "group" and engine.rg.members.get(peer):
            sources.append(engine.resolver.resolve(peer))
        elif kind in ("cidr4", "cidr6") and peer not in ("0.0.0.0/0", "::/0"):
            sources.append(engine.resolver.resolve(peer))
    sources.append(engine.resolver.resolve("internet"))
    rows = []
    for src in sources:
        if src.kind not in ("address", "internet") and not src.interfaces:
            continue
        r = engine.evaluate(src, dst, t, detail=False)
        if r.verdict != "blocked":
            rows.append(_row(src, dst, r))
    return sorted(rows, key=lambda x: (x.source_kind, x.source))


def _row(src: Endpoint, dst: Endpoint, r: Any) -> FanoutRow:
    if r.verdict == "reachable":
        via = "; ".join(a.rule for a in r.allowed_by if a.direction == "ingress" and a.component.startswith("sg-"))
    else:
        via = r.blockers[0].detail if r.blockers else "; ".join(r.unknown_reasons)
    return FanoutRow(source=_name(src), source_kind=src.kind if src.workload is None else src.workload.kind,
                     destination=_name(dst), destination_kind=dst.kind if dst.workload is None else dst.workload.kind,
                     traffic=r.traffic, verdict=r.verdict, via=via)


def _name(ep: Endpoint) -> str:
    return ep.workload.name if ep.workload is not None else ep.id
