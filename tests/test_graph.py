"""The graph layer (reachgraph.graph): the stored group-level graph, its indices, and the full interface-level
expansion `Snapshot.graph` gives NetworkX users. Checked against the model on the synthetic S estate (ECS tasks,
cache nodes, NAT interfaces without groups, groups named but not described) and on the incident example."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

import reachgraph
from reachgraph import synth
from reachgraph.graph import cidr_node


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> reachgraph.Snapshot:
    out = tmp_path_factory.mktemp("graph") / "S"
    synth.generate("S", 1, out)
    return reachgraph.load(out)


def _kinds(g) -> Counter[str]:
    return Counter(d.get("kind") for _, d in g.nodes(data=True))


def test_stored_graph_is_group_level(snap: reachgraph.Snapshot) -> None:
    g, m = snap.group_graph, snap.model
    kinds = _kinds(g)
    assert kinds["interface"] == 0 and kinds["workload"] == 0
    assert kinds["vpc"] == len(m.vpcs) and kinds["subnet"] == len(m.subnets)
    described = {n for n, d in g.nodes(data=True) if d.get("kind") == "security_group" and not d["missing"]}
    assert described == set(m.groups)
    # One edge per rule, from the admitted peer to the group (ingress) or from the group to the peer (egress).
    rules = [d["rule"] for _, _, d in g.edges(data=True) if d["kind"] == "rule"]
    assert Counter(map(id, rules)) == Counter(id(r) for grp in m.groups.values() for r in grp.ingress + grp.egress)
    for u, v, d in g.edges(data=True):
        if d["kind"] == "rule":
            rule = d["rule"]
            own, peer = (v, u) if rule.direction == "ingress" else (u, v)
            assert own == rule.group_id
            assert peer == (rule.peer if rule.peer_kind in ("group", "prefix_list") else cidr_node(rule.peer))


def test_indices_match_the_model(snap: reachgraph.Snapshot) -> None:
    m, rg = snap.model, snap.reach
    members: dict[str, set[str]] = defaultdict(set)
    for iface in m.interfaces.values():
        for gid in iface.group_ids:
            members[gid].add(iface.id)
    assert rg.members == {k: frozenset(v) for k, v in members.items()}
    # A group carried by interfaces but not described is still a node: its rules are unknown, not absent.
    missing = set(members) - set(m.groups)
    assert all(snap.group_graph.nodes[gid]["missing"] for gid in missing)
    for iface in m.interfaces.values():
        for ip in iface.private_ipv4 + iface.ipv6:
            assert ip in rg.by_ip
    owners: dict[str, list[str]] = defaultdict(list)
    for w in m.workloads.values():
        for eid in w.interface_ids:
            owners[eid].append(w.key)
    assert rg.workloads_of == {k: tuple(v) for k, v in owners.items()}
    tasks = [w for w in m.workloads.values() if w.kind == "ecs_task"]
    assert tasks, "the S estate has ECS tasks"
    for t in tasks:
        assert t.key in rg.parts_of[t.parent] and rg.top_of(t.key) == t.parent


def test_full_graph_expands_interfaces_and_workloads(snap: reachgraph.Snapshot) -> None:
    g, m = snap.graph, snap.model
    assert snap.graph is g, "expanded once, then kept"
    kinds = _kinds(g)
    assert kinds["interface"] == len(m.interfaces) and kinds["workload"] == len(m.workloads)
    # Every node and edge of the group-level graph is in the full one.
    assert set(snap.group_graph.nodes) <= set(g.nodes)
    assert snap.group_graph.number_of_edges() < g.number_of_edges()
    for iface in m.interfaces.values():
        out = Counter((v, d["kind"]) for _, v, d in g.out_edges(iface.id, data=True))
        assert out == Counter([(gid, "member") for gid in iface.group_ids]
                              + ([(iface.subnet_id, "in_subnet")] if iface.subnet_id else []))
    for w in m.workloads.values():
        out = Counter((v, d["kind"]) for _, v, d in g.out_edges(w.key, data=True))
        assert out == Counter([(eid, "has_interface") for eid in w.interface_ids]
                              + ([(w.parent, "part_of")] if w.parent else []))


def test_incident_graph_shows_the_stale_reference(example_dir: Path) -> None:
    """The incident in graph form: Redis's group admits a group no interface carries any more."""
    snap = reachgraph.load(example_dir / "before")
    g = snap.group_graph
    peers = {u for u, _, d in g.in_edges("sg-0454e74e2924a7754", data=True) if d["kind"] == "rule"}
    assert "sg-0e61190afc2502b10" in peers and snap.reach.member_count("sg-0e61190afc2502b10") == 0
    assert "sg-0864e6f6aee2a5cf4" not in peers and snap.reach.member_count("sg-0864e6f6aee2a5cf4") > 0
