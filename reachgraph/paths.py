"""Multi-hop paths through workloads (lateral movement): internet -> load balancer -> api -> redis.

The flow graph has one node per top-level workload plus `internet`, and an edge wherever a flow exists
(reachable or partial; unknown on request). Paths are simple paths in that graph, shortest first, found with
NetworkX; a path of more than one hop is labelled multi-hop: each hop is reachable on its own, and the path is
what an attacker (or a request) holding each workload in turn could follow.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import networkx as nx

from reachgraph.errors import InputError
from reachgraph.flows import INTERNET, Flow, FlowAnalysis, flow_graph


@dataclass(frozen=True)
class Hop:
    """One edge of a path: every flow from one node to the next."""

    source: str
    destination: str
    traffic: tuple[str, ...]
    verdicts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"source": self.source, "destination": self.destination, "traffic": list(self.traffic),
                "verdicts": list(self.verdicts)}


@dataclass(frozen=True)
class Path:
    """A sequence of workloads, each reaching the next."""

    nodes: tuple[str, ...]          # names
    keys: tuple[str, ...]           # workload keys (or "internet")
    hops: tuple[Hop, ...]

    @property
    def multi_hop(self) -> bool:
        """More than one hop."""
        return len(self.hops) > 1

    @property
    def label(self) -> str:
        """'direct' or 'multi-hop (3 hops)'."""
        return f"multi-hop ({len(self.hops)} hops)" if self.multi_hop else "direct"

    @property
    def certain(self) -> bool:
        """Every hop reachable for every interface pair."""
        return all(v == "reachable" for h in self.hops for v in h.verdicts)

    def text(self) -> str:
        """'internet -[tcp/443]-> alb -[tcp/8000]-> api'."""
        out = self.nodes[0]
        for h in self.hops:
            out += f" -[{','.join(h.traffic)}]-> {h.destination}"
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"nodes": list(self.nodes), "keys": list(self.keys), "hops": [h.to_dict() for h in self.hops],
                "label": self.label, "multi_hop": self.multi_hop, "certain": self.certain, "text": self.text()}


@dataclass(frozen=True)
class PathsResult:
    """All paths found between what SOURCE and DESTINATION resolved to."""

    source: str
    destination: str
    sources: tuple[str, ...]
    destinations: tuple[str, ...]
    max_hops: int
    paths: tuple[Path, ...]
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form of `reachgraph paths --json`."""
        return {"source": self.source, "destination": self.destination, "sources": list(self.sources),
                "destinations": list(self.destinations), "max_hops": self.max_hops,
                "paths": [p.to_dict() for p in self.paths], "count": len(self.paths),
                "multi_hop": sum(1 for p in self.paths if p.multi_hop), "truncated": self.truncated}


def _nodes_for(fa: FlowAnalysis, text: str, role: str) -> tuple[list[str], str]:
    ep = fa.engine.resolver.resolve(text)
    if ep.kind == "internet":
        if role == "destination":
            raise InputError("paths run from the internet, not to it",
                             hint="use `reachgraph query SOURCE internet:PORT` for egress to the internet")
        return [INTERNET], INTERNET
    if ep.workload is not None:
        return [fa.rg.top_of(ep.workload.key)], ep.workload.name
    keys = sorted({fa.rg.top_of(k) for i in ep.interfaces for k in fa.rg.workloads_of.get(i.id, ())})
    keys = [k for k in keys if k in fa.top]
    if not keys:
        raise InputError(f"{text!r} is {ep.label}, which belongs to no workload",
                         hint="paths run between workloads (and from the internet); name a workload")
    return keys, ep.label


def find_paths(fa: FlowAnalysis, source: str, destination: str, *, max_hops: int = 4, limit: int = 100,
               include_unknown: bool = False) -> PathsResult:
    """Simple paths from SOURCE to DESTINATION over the flow graph, shortest first."""
    if max_hops < 1:
        raise InputError(f"--max-hops must be at least 1, not {max_hops}")
    srcs, _ = _nodes_for(fa, source, "source")
    dsts, _ = _nodes_for(fa, destination, "destination")
    verdicts = ("reachable", "partial", "unknown") if include_unknown else ("reachable", "partial")
    flows: list[Flow] = fa.flows(include_internet=INTERNET in srcs)
    g = flow_graph(flows, verdicts)
    found: list[list[str]] = []
    truncated = False
    for s in srcs:
        for d in dsts:
            if s == d or s not in g or d not in g:
                continue
            if not nx.has_path(g, s, d):
                continue
            gen = nx.shortest_simple_paths(g, s, d)
            for p in itertools.takewhile(lambda p: len(p) - 1 <= max_hops, gen):
                found.append(p)
                if len(found) > limit:
                    truncated = True
                    break
            if truncated:
                break
        if truncated:
            break
    paths = [_path(fa, g, p) for p in found]
    paths.sort(key=lambda p: (len(p.hops), p.nodes))
    name = lambda k: INTERNET if k == INTERNET else fa.model.workloads[k].name  # noqa: E731
    return PathsResult(source, destination, tuple(name(k) for k in srcs), tuple(name(k) for k in dsts), max_hops,
                       tuple(paths[:limit]), truncated)


def _path(fa: FlowAnalysis, g: Any, keys: list[str]) -> Path:
    hops = []
    for a, b in zip(keys, keys[1:]):
        fl = sorted(g.edges[a, b]["flows"], key=lambda f: (f.protocol, f.port if f.port is not None else -1, f.ports))
        hops.append(Hop(g.nodes[a]["name"], g.nodes[b]["name"], tuple(f.traffic_text for f in fl),
                        tuple(f.verdict for f in fl)))
    return Path(tuple(g.nodes[k]["name"] for k in keys), tuple(keys), tuple(hops))
