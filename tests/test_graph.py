"""The graph layer (reachgraph.graph): the stored group-level graph, its indices, and the full interface-level
expansion `Snapshot.graph` gives NetworkX users. Checked against the model on the synthetic S estate (ECS tasks,
cache nodes, NAT interfaces without groups, groups named but not described) and on the incident example."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

import reachgraph
from reachgraph import synth
from reachgraph.graph import build_graph, cidr_node
from reachgraph.model.index import index_interfaces
from reachgraph.model.records import Model, Rule
from builders import eni, estate, sg, subnet, vpc, write_estate


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
    holders: dict[str, list[str]] = defaultdict(list)
    for iface in m.interfaces.values():
        for ip in iface.private_ipv4 + iface.ipv6:
            holders[ip].append(iface.id)
    assert rg.by_ip == {ip: min(eids) for ip, eids in holders.items()}
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


def test_the_parser_index_is_the_one_used_and_equals_a_fresh_one(snap: reachgraph.Snapshot) -> None:
    """The parser indexes each interface as it makes it; build uses that index, and it is what one pass over the
    finished model gives."""
    m, rg = snap.model, snap.reach
    index = m.interface_index
    assert index is not None and index.fits(m.interfaces)
    assert rg.members is index.members and rg.by_ip is index.by_ip
    fresh = index_interfaces(m.interfaces)
    assert fresh.members == index.members and fresh.by_ip == index.by_ip


@pytest.mark.parametrize("order", [1, -1])
def test_a_shared_address_belongs_to_the_lowest_interface_id_whatever_the_document_order(
        tmp_path: Path, order: int) -> None:
    """Two VPCs may use the same private range (VPC CIDRs need not be unique across VPCs), so two interfaces can
    hold the same address; which one an address names must not depend on the order AWS listed them."""
    other_vpc, other_subnet = "vpc-0a1b2c3d4e5f60002", "subnet-0c0000000000000c1"
    enis = [eni("eni-0b00000000000000b", "10.0.1.10", ["sg-0b00000000000000b"]),
            eni("eni-0a00000000000000a", "10.0.1.10", ["sg-0a00000000000000a"], vpc_id=other_vpc,
                subnet_id=other_subnet)]
    docs = estate(SecurityGroups=[sg("sg-0a00000000000000a", vpc_id=other_vpc), sg("sg-0b00000000000000b")],
                  NetworkInterfaces=enis[::order])
    docs["Vpcs"] = docs["Vpcs"] + [vpc(other_vpc)]
    docs["Subnets"] = docs["Subnets"] + [subnet(other_subnet, "10.0.1.0/24", vpc_id=other_vpc)]
    s = reachgraph.load(write_estate(tmp_path, docs))
    assert s.reach.by_ip["10.0.1.10"] == "eni-0a00000000000000a"
    assert s.reach.members["sg-0a00000000000000a"] == {"eni-0a00000000000000a"}


def test_an_index_built_for_other_interfaces_is_not_used(snap: reachgraph.Snapshot) -> None:
    """A stale index would be a wrong answer: a model with other interfaces (what-if, hand-made, or its mapping
    changed in place) is indexed again."""
    m = snap.model
    eid = next(e for e, i in m.interfaces.items() if i.group_ids)
    moved = replace(m.interfaces[eid], group_ids=("sg-0f0000000000000f0",))
    changed = replace(m, interfaces={**m.interfaces, eid: moved})   # carries the old index along
    assert changed.interface_index is m.interface_index and not m.interface_index.fits(changed.interfaces)
    rg = build_graph(changed)
    assert rg.members["sg-0f0000000000000f0"] == {eid}
    assert all(eid not in rg.members.get(g, ()) for g in m.interfaces[eid].group_ids)

    # Grown in place after indexing: the count no longer fits either.
    interfaces = dict(changed.interfaces)
    grown = Model(source="hand-made", interfaces=interfaces, interface_index=index_interfaces(interfaces))
    interfaces["eni-0ffffffffffffffff"] = replace(moved, id="eni-0ffffffffffffffff", private_ipv4=("192.0.2.9",))
    rg = build_graph(grown)
    assert rg.by_ip["192.0.2.9"] == "eni-0ffffffffffffffff"
    assert rg.members["sg-0f0000000000000f0"] == {eid, "eni-0ffffffffffffffff"}


def test_a_what_if_move_changes_the_graph_membership(example_dir: Path) -> None:
    """The incident's fix as a what-if: after moving api to the old group, the graph's index says so."""
    snap = reachgraph.load(example_dir / "before")
    after = snap.with_changes(["move api sg-0e61190afc2502b10"])
    assert snap.reach.member_count("sg-0e61190afc2502b10") == 0
    assert after.reach.member_count("sg-0e61190afc2502b10") > 0
    assert after.query("api", "redis:6379").verdict == "reachable"


def test_a_rule_reason_is_written_from_its_own_fields() -> None:
    """Edges carry the rule's reason, written when the rule is made; a changed copy (what-if) gets its own."""
    rule = Rule("sg-0a", "ingress", "tcp", 6379, 6379, "group", "sg-0b", rule_id="sgr-01")
    assert rule.describe() == "sg-0a ingress tcp/6379 from sg-0b (sgr-01)"
    wider = replace(rule, from_port=6000, rule_id=None)
    assert wider.describe() == "sg-0a ingress tcp/6000-6379 from sg-0b"
    assert replace(rule, direction="egress", peer_kind="cidr4", peer="10.0.0.0/8").describe() == \
        "sg-0a egress tcp/6379 to 10.0.0.0/8 (sgr-01)"
    assert replace(rule) == rule and hash(replace(rule)) == hash(rule)
