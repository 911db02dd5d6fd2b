"""Model -> the group-level NetworkX graph of which rule admits whom, plus the indices that expand it to interfaces.

The stored graph holds VPCs, subnets, security groups, prefix lists and address blocks, with one edge per rule.
Interfaces and workloads stay in the model, joined to groups by `ReachGraph`'s indices; answers expand a group
to interfaces only when they need to. `expand_graph` draws the full interface-level picture for NetworkX work:
on 100k interfaces it has twenty times the nodes and twelve times the edges of the group-level graph.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from reachgraph.gc_pause import gc_paused
from reachgraph.model.index import index_interfaces
from reachgraph.model.records import Model, Rule, Workload


def cidr_node(cidr: str) -> str:
    """Node id of an address block."""
    return f"cidr:{cidr}"


@dataclass
class ReachGraph:
    """The group-level graph plus the indices every consumer needs (membership, addresses, workloads)."""

    model: Model
    graph: nx.MultiDiGraph
    members: dict[str, frozenset[str]] = field(default_factory=dict)   # group id -> interface ids
    by_ip: dict[str, str] = field(default_factory=dict)                 # private IPv4 or IPv6 -> interface id

    # Which workloads hold an interface, and the parts of a workload, are for audits, diagrams, frames and paths;
    # queries and the flow matrix do not need them, so they are indexed on first use (0.2 s on 100k interfaces).
    @cached_property
    def workloads_of(self) -> dict[str, tuple[str, ...]]:
        """Interface id -> the keys of the workloads that hold it."""
        return self._workload_indices[0]

    @cached_property
    def parts_of(self) -> dict[str, tuple[str, ...]]:
        """Workload key -> its parts' keys (an ECS service's tasks, a replication group's clusters)."""
        return self._workload_indices[1]

    @cached_property
    def _workload_indices(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        with gc_paused():
            return _workload_indices(self.model)

    def member_count(self, gid: str) -> int:
        """How many interfaces carry the group."""
        return len(self.members.get(gid, ()))

    def top_of(self, wkey: str) -> str:
        """A workload's top-level ancestor (a task -> its service, a cache node -> its replication group)."""
        return top_level_of(self.model.workloads, wkey)

    def referencing_rules(self, gid: str) -> list[Rule]:
        """Rules in other groups that name this group."""
        if gid not in self.graph:
            return []
        out = [d["rule"] for _, _, d in self.graph.out_edges(gid, data=True) if d.get("kind") == "rule"
               and d["direction"] == "ingress"]
        out += [d["rule"] for _, _, d in self.graph.in_edges(gid, data=True) if d.get("kind") == "rule"
                and d["direction"] == "egress"]
        return out


@gc_paused()
def build_graph(model: Model) -> ReachGraph:
    """Build the group-level graph (groups, rules, VPCs, subnets, peers) and the interface indices."""
    g = nx.MultiDiGraph(source=model.source, level="group")
    for vpc in model.vpcs.values():
        g.add_node(vpc.id, kind="vpc", obj=vpc, account=vpc.account, region=vpc.region)
    for sub in model.subnets.values():
        g.add_node(sub.id, kind="subnet", obj=sub, account=sub.account, region=sub.region)
        if sub.vpc_id:
            g.add_edge(sub.id, sub.vpc_id, kind="in_vpc")
    for grp in model.groups.values():
        g.add_node(grp.id, kind="security_group", obj=grp, name=grp.name, account=grp.account, region=grp.region,
                   missing=False)
        if grp.vpc_id:
            g.add_edge(grp.id, grp.vpc_id, kind="in_vpc")
    index = model.interface_index
    if index is None or not index.fits(model.interfaces):
        index = index_interfaces(model.interfaces)
    members, by_ip = index.members, index.by_ip
    for gid in sorted(members):
        _ensure_group(g, gid)
    for pl in model.prefix_lists.values():
        g.add_node(pl.id, kind="prefix_list", obj=pl, name=pl.name)
    for grp in model.groups.values():
        for rule in grp.ingress + grp.egress:
            peer = _peer_node(g, rule)
            # Ingress edges point from the admitted source to the group; egress from the group to the destination.
            u, v = (peer, grp.id) if rule.direction == "ingress" else (grp.id, peer)
            g.add_edge(u, v, kind="rule", direction=rule.direction, rule=rule, reason=rule.reason)
    return ReachGraph(model=model, graph=g, members=members, by_ip=by_ip)


def _workload_indices(model: Model) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Interface -> the workloads that hold it, and workload -> its parts (tasks, cache nodes)."""
    workloads_of: dict[str, tuple[str, ...]] = {}
    holders = workloads_of.get
    parts_of: dict[str, list[str]] = defaultdict(list)
    workloads = model.workloads
    for key, w in workloads.items():
        for eid in w.interface_ids:
            held = holders(eid)
            workloads_of[eid] = (key,) if held is None else (*held, key)
        if w.parent in workloads:
            parts_of[w.parent].append(key)
    return workloads_of, {k: tuple(sorted(v)) for k, v in parts_of.items()}


@gc_paused()
def expand_graph(rg: ReachGraph) -> nx.MultiDiGraph:
    """The full interface-level graph: the group-level one plus interfaces and workloads.

    Adds interface nodes (`in_subnet` and `member` edges to their subnet and groups), workload nodes
    (`has_interface` edges to their interfaces, `part_of` edges from a task or cache node to its workload).
    """
    g = rg.graph.copy()
    g.graph["level"] = "interface"
    model = rg.model
    for iface in model.interfaces.values():
        g.add_node(iface.id, kind="interface", obj=iface, account=iface.account, region=iface.region)
        if iface.subnet_id:
            g.add_edge(iface.id, iface.subnet_id, kind="in_subnet")
        for gid in iface.group_ids:
            g.add_edge(iface.id, gid, kind="member")
    for w in model.workloads.values():
        g.add_node(w.key, kind="workload", obj=w, name=w.name, account=w.account, region=w.region)
        for eid in w.interface_ids:
            g.add_edge(w.key, eid, kind="has_interface")
        if w.parent:
            g.add_edge(w.key, w.parent, kind="part_of")
    return g


def top_level_of(workloads: dict[str, Workload], key: str) -> str:
    """A workload's top-level ancestor (a task -> its service, a cache node -> its replication group); the key
    itself when it has no parent in the snapshot."""
    seen = set()
    while key in workloads and workloads[key].parent in workloads and key not in seen:
        seen.add(key)
        key = workloads[key].parent  # type: ignore[assignment]
    return key


def _ensure_group(g: nx.MultiDiGraph, gid: str) -> None:
    if gid not in g:
        g.add_node(gid, kind="security_group", obj=None, name=gid, missing=True)


def _peer_node(g: nx.MultiDiGraph, rule: Rule) -> str:
    if rule.peer_kind == "group":
        _ensure_group(g, rule.peer)
        return rule.peer
    if rule.peer_kind == "prefix_list":
        if rule.peer not in g:
            g.add_node(rule.peer, kind="prefix_list", obj=None, name=rule.peer, missing=True)
        return rule.peer
    node = cidr_node(rule.peer)
    if node not in g:
        g.add_node(node, kind="cidr", cidr=rule.peer)
    return node
