"""Model -> one NetworkX graph of what is attached to what and which rule admits whom."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

from reachgraph.gc_pause import gc_paused
from reachgraph.model.records import Model, Rule


def cidr_node(cidr: str) -> str:
    """Node id of an address block."""
    return f"cidr:{cidr}"


@dataclass
class ReachGraph:
    """The graph plus the indices every consumer needs (membership, addresses)."""

    model: Model
    graph: nx.MultiDiGraph
    members: dict[str, frozenset[str]] = field(default_factory=dict)   # group id -> interface ids
    by_ip: dict[str, str] = field(default_factory=dict)                 # private IPv4 or IPv6 -> interface id
    workloads_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # interface id -> workload keys

    def member_count(self, gid: str) -> int:
        """How many interfaces carry the group."""
        return len(self.members.get(gid, ()))

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
    """Build the graph: VPCs, subnets, groups, interfaces, workloads, peers; membership and rule edges."""
    g = nx.MultiDiGraph(source=model.source)
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
    members: dict[str, set[str]] = defaultdict(set)
    by_ip: dict[str, str] = {}
    for iface in model.interfaces.values():
        g.add_node(iface.id, kind="interface", obj=iface, account=iface.account, region=iface.region)
        if iface.subnet_id:
            g.add_edge(iface.id, iface.subnet_id, kind="in_subnet")
        for gid in iface.group_ids:
            _ensure_group(g, gid)
            g.add_edge(iface.id, gid, kind="member")
            members[gid].add(iface.id)
        for ip in iface.private_ipv4 + iface.ipv6:
            by_ip.setdefault(ip, iface.id)
    workloads_of: dict[str, list[str]] = defaultdict(list)
    for w in model.workloads.values():
        g.add_node(w.key, kind="workload", obj=w, name=w.name, account=w.account, region=w.region)
        for eid in w.interface_ids:
            g.add_edge(w.key, eid, kind="has_interface")
            workloads_of[eid].append(w.key)
        if w.parent:
            g.add_edge(w.key, w.parent, kind="part_of")
    for pl in model.prefix_lists.values():
        g.add_node(pl.id, kind="prefix_list", obj=pl, name=pl.name)
    for grp in model.groups.values():
        for rule in grp.ingress + grp.egress:
            peer = _peer_node(g, rule)
            # Ingress edges point from the admitted source to the group; egress from the group to the destination.
            u, v = (peer, grp.id) if rule.direction == "ingress" else (grp.id, peer)
            g.add_edge(u, v, kind="rule", direction=rule.direction, rule=rule, reason=rule.describe())
    return ReachGraph(model=model, graph=g, members={k: frozenset(v) for k, v in members.items()},
                      by_ip=by_ip, workloads_of={k: tuple(v) for k, v in workloads_of.items()})


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
