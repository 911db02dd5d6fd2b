"""Workload flows (the matrix) and multi-hop paths (issue 6 part 4), and their cost (issue 8).

The flow matrix must agree with the query engine pair by pair: a brute-force reference evaluates every ordered
pair of top-level workloads on every port any rule or endpoint names, with every interface, and the optimised
matrix (candidate index + interface equivalence classes) must give the same flows with the same pair counts.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

import reachgraph
from builders import (
    ACCOUNT, SUBNET_A, SUBNET_B, VPC, cache_cluster, cache_eni, ecs_service, ecs_task, eni, estate, instance, perm,
    replication_group, sg, task_eni, write_estate,
)
from conftest import run_cli
from path_builders import lb_arn, lb_eni, listener, load_balancer
from reachgraph.flows import INTERNET, Candidate, FlowAnalysis, rule_candidates, top_level_workloads
from reachgraph.model.records import Rule

LB_SG, APP_SG, CACHE_SG, DB_SG, AUDIT_SG = (f"sg-0f0000000000000{n}" for n in "12345")
LB_ID = "50dc6c495c0c9188"


def route_tables(public_subnets: list[str]) -> list[dict]:
    """A main table (local only) and a public table with a route to an internet gateway (describe-route-tables)."""
    local = {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable",
             "State": "active"}
    return [
        {"RouteTableId": "rtb-0000000000000main", "VpcId": VPC, "OwnerId": ACCOUNT, "Routes": [local],
         "Associations": [{"Main": True, "RouteTableAssociationId": "rtbassoc-0000000000000001",
                           "RouteTableId": "rtb-0000000000000main"}]},
        {"RouteTableId": "rtb-00000000000public", "VpcId": VPC, "OwnerId": ACCOUNT,
         "Routes": [local, {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0000000000000001",
                            "Origin": "CreateRoute", "State": "active"}],
         "Associations": [{"Main": False, "SubnetId": s, "RouteTableAssociationId": f"rtbassoc-00000000000001{n}",
                           "RouteTableId": "rtb-00000000000public"} for n, s in enumerate(public_subnets)]},
    ]


def three_tier(tmp_path: Path, *, tasks: int = 3, audit_box: bool = True) -> Path:
    """internet -> ALB `edge` (443) -> ECS service `app` (8080) -> Redis `cache` (6379) and instance `db` (5432);
    instance `audit-box` admits 9000 only from the first app task's address (10.0.2.11/32); `db` also admits
    8000-8100 from the ALB (a range, no endpoint port)."""
    groups = [
        sg(LB_SG, "edge-lb", ingress=[perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])]),
        sg(APP_SG, "app", ingress=[perm("tcp", 8080, 8080, groups=[LB_SG])]),
        sg(CACHE_SG, "cache", ingress=[perm("tcp", 6379, 6379, groups=[APP_SG])]),
        sg(DB_SG, "db", ingress=[perm("tcp", 5432, 5432, groups=[APP_SG]), perm("tcp", 8000, 8100, groups=[LB_SG])]),
        sg(AUDIT_SG, "audit", ingress=[perm("tcp", 9000, 9000, cidrs=["10.0.2.11/32"])]),
    ]
    arn = lb_arn("edge", LB_ID)
    enis = [lb_eni("eni-0e000000000000b1", "10.0.1.5", [LB_SG], "edge", LB_ID,
                   subnet_id=SUBNET_A, public_ip="203.0.113.5")]
    ecs_tasks = []
    for n in range(tasks):
        # all but the last task in subnet B (one equivalence class, except 10.0.2.11 which a /32 rule singles out)
        subnet, ip = (SUBNET_B, f"10.0.2.{11 + n}") if n < tasks - 1 else (SUBNET_A, "10.0.1.40")
        eid = f"eni-0a{n:015x}"
        enis.append(task_eni(eid, ip, [APP_SG], subnet_id=subnet))
        ecs_tasks.append(ecs_task(f"{n:032x}", "prod", "app", eni_id=eid, ip=ip, subnet_id=subnet))
    enis += [cache_eni("eni-0c0000000000000c1", "10.0.2.50", "cache-001", [CACHE_SG]),
             cache_eni("eni-0c0000000000000c2", "10.0.2.51", "cache-002", [CACHE_SG])]
    db_nic = eni("eni-0d0000000000000d1", "10.0.2.60", [DB_SG], subnet_id=SUBNET_B)
    reservations = [instance("i-0d00000000000000d", "db", db_nic)]
    if audit_box:
        reservations.append(instance("i-0a00000000000000a", "audit-box",
                                     eni("eni-0a0000000000000a9", "10.0.2.70", [AUDIT_SG], subnet_id=SUBNET_B)))
    docs = estate(
        SecurityGroups=groups, NetworkInterfaces=enis, Reservations=reservations,
        services=[ecs_service("app", "prod", [APP_SG], subnets=[SUBNET_B], running=tasks, container_port=8080)],
        tasks=ecs_tasks,
        CacheClusters=[cache_cluster("cache-001", [CACHE_SG], replication_group="cache"),
                       cache_cluster("cache-002", [CACHE_SG], replication_group="cache")],
        ReplicationGroups=[replication_group("cache", ["cache-001", "cache-002"])],
        LoadBalancers=[load_balancer("edge", LB_ID, [(SUBNET_A, "us-east-1a")], groups=[LB_SG],
                                     scheme="internet-facing")],
        Listeners=[listener(arn, 443)], RouteTables=route_tables([SUBNET_A]))
    return write_estate(tmp_path / "estate", docs)


@pytest.fixture(scope="module")
def tier(tmp_path_factory) -> reachgraph.Snapshot:
    return reachgraph.load(three_tier(tmp_path_factory.mktemp("flows")))


def by_traffic(flows) -> dict[tuple[str, str, str], object]:
    return {(f.source_name, f.destination_name, f.traffic_text): f for f in flows}


# -- the matrix ---------------------------------------------------------------------------------------
def test_flows_list_endpoint_and_rule_ports_between_top_level_workloads(tier):
    flows = by_traffic(tier.flows())
    assert flows[("edge", "app", "tcp/8080")].verdict == "reachable"
    assert flows[("app", "cache", "tcp/6379")].verdict == "reachable"
    assert flows[("app", "db", "tcp/5432")].verdict == "reachable"  # a rule port: db has no endpoint port
    # tasks and member clusters are folded into their service and replication group
    names = {n for key in flows for n in key[:2]}
    assert names == {"edge", "app", "cache", "db", "audit-box"}
    assert all(f.exists for f in flows.values())


def test_flow_pair_counts_cover_every_interface(tier):
    f = by_traffic(tier.flows())[("app", "cache", "tcp/6379")]
    assert (f.pairs, f.reachable_pairs) == (6, 6)  # 3 tasks x 2 cache nodes
    assert "endpoint port" in f.basis
    assert any("sg-0f00000000000003 ingress tcp/6379 from sg-0f00000000000002" in b for b in f.basis)


def test_a_cidr_rule_for_one_task_gives_a_partial_flow(tier):
    """The /32 rule admits only task 10.0.2.11: app -> audit-box is partial, 1 of 3 pairs."""
    f = by_traffic(tier.flows())[("app", "audit-box", "tcp/9000")]
    assert f.verdict == "partial"
    assert (f.reachable_pairs, f.pairs) == (1, 3)


def test_a_port_range_rule_is_one_flow_evaluated_at_its_first_port(tier):
    f = by_traffic(tier.flows())[("edge", "db", "tcp/8000-8100")]
    assert f.verdict == "reachable" and f.port == 8000


def test_blocked_candidates_only_with_include_blocked(tier):
    shown = by_traffic(tier.flows())
    everything = by_traffic(tier.flows(include_blocked=True))
    assert set(shown) <= set(everything)
    # the cache's endpoint port from the ALB: the ALB matches no cache rule, so it is not even a candidate
    assert ("edge", "cache", "tcp/6379") not in everything
    # db's endpoint-less 5432 from the cache: not a candidate either (no rule names the cache)
    assert all(f.verdict != "blocked" for f in shown.values())


def test_internet_flows_only_on_request(tier):
    assert not [f for f in tier.flows() if f.source == INTERNET]
    web = by_traffic(tier.flows(include_internet=True))
    assert web[("internet", "edge", "tcp/443")].verdict == "reachable"
    assert ("internet", "app", "tcp/8080") not in web


def test_flows_are_sorted_and_deterministic(tier, tmp_path):
    first = [f.to_dict() for f in tier.flows(include_internet=True)]
    again = reachgraph.load(three_tier(tmp_path))
    assert first == [f.to_dict() for f in again.flows(include_internet=True)]
    keys = [(f["source"] != "internet", f["source"], f["destination"]) for f in first]
    assert keys == sorted(keys)


# -- the reference: brute force through the engine ----------------------------------------------------
def brute_force(snap: reachgraph.Snapshot) -> tuple[dict[tuple, tuple[str, int, int]], dict[tuple, set]]:
    """Every ordered pair of top-level workloads x the destination's endpoint ports and the traffic of *every*
    ingress rule of its groups, every interface (exact=True), no index: the naive matrix. Also returns, per flow,
    the rules that named its traffic (None for an endpoint port)."""
    fa = FlowAnalysis(snap.reach, snap._engine, exact=True)
    out, named = {}, {}
    for dkey, d in top_level_workloads(snap.model).items():
        side = fa.side(dkey)
        cands: dict[Candidate, set] = {Candidate("tcp", str(p), p): {None} for p in d.ports}
        for gid in side.groups:
            for r in snap.model.groups[gid].ingress:
                for c in rule_candidates(r, d.ports):
                    cands.setdefault(c, set()).add(r)
        for skey in top_level_workloads(snap.model):
            if skey == dkey:
                continue
            for c, rules in cands.items():
                f, _ = fa.evaluate(skey, dkey, c)
                if f.exists:
                    out[f.key] = (f.verdict, f.pairs, f.reachable_pairs)
                    named[f.key] = rules
    return out, named


def names_source(rule: Rule, snap: reachgraph.Snapshot, skey: str) -> bool:
    """Does the rule's peer take in the source workload (one of its groups, or a block holding an address)?"""
    ifaces = [snap.model.interfaces[e] for e in snap.model.workloads[skey].interface_ids]
    if rule.peer_kind == "group":
        return any(rule.peer in i.group_ids for i in ifaces)
    blocks = [rule.peer] if rule.peer_kind != "prefix_list" else list(snap.model.prefix_lists[rule.peer].cidrs)
    return any(ipaddress.ip_address(a) in ipaddress.ip_network(b) for b in blocks for i in ifaces
               for a in i.private_ipv4 if ipaddress.ip_address(a).version == ipaddress.ip_network(b).version)


def test_flows_match_the_brute_force_reference(tier):
    """Same answers where both list a flow; the reference's extra flows are only traffic that no endpoint and
    no rule admitting the source names (the matrix's definition of a candidate)."""
    fast = {f.key: (f.verdict, f.pairs, f.reachable_pairs) for f in tier.flows()}
    ref, named = brute_force(tier)
    assert {k: ref.get(k) for k in fast} == fast
    for key in set(ref) - set(fast):
        assert None not in named[key] and not any(names_source(r, tier, key[0]) for r in named[key]), key


def test_equivalence_classes_change_no_answer(tier):
    exact = FlowAnalysis(tier.reach, tier._engine, exact=True)
    fast = FlowAnalysis(tier.reach, tier._engine)
    a = [f.to_dict() for f in exact.flows(include_internet=True, include_blocked=True)]
    b = [f.to_dict() for f in fast.flows(include_internet=True, include_blocked=True)]
    assert a == b
    assert fast.stats.interface_pairs_evaluated < exact.stats.interface_pairs_evaluated
    assert fast.stats.interface_pairs_represented == exact.stats.interface_pairs_represented


def test_cost_does_not_grow_with_tasks_of_one_class(tmp_path):
    """Issue 8: 40 tasks in one subnet with one group are one class; the engine sees a constant number of
    interface pairs however many tasks the service runs."""
    evaluated = {}
    for n in (4, 40):
        snap = reachgraph.load(three_tier(tmp_path / str(n), tasks=n, audit_box=False))
        fa = FlowAnalysis(snap.reach, snap._engine)
        flows = by_traffic(fa.flows())
        assert flows[("app", "cache", "tcp/6379")].pairs == 2 * n
        evaluated[n] = fa.stats.interface_pairs_evaluated
        assert fa.stats.candidate_pairs < fa.stats.ordered_pairs
    assert evaluated[4] == evaluated[40]


def test_all_traffic_between_members_of_a_shared_group_is_one_flow(tmp_path):
    """A self-referencing all-traffic rule (the default group's shape) lets members reach each other on every
    port: the matrix lists it as tcp/all (evaluated at the destination's endpoint port) beside the endpoint port."""
    shared = "sg-0f00000000000009"
    groups = [sg(shared, "mesh", ingress=[perm("-1", groups=[shared])]), sg(APP_SG, "app")]
    nics = [task_eni("eni-0a0000000000000a1", "10.0.1.11", [APP_SG, shared]),
            eni("eni-0a0000000000000b1", "10.0.1.12", [shared])]
    docs = estate(SecurityGroups=groups, NetworkInterfaces=nics,
                  services=[ecs_service("app", "prod", [APP_SG, shared], container_port=8080)],
                  tasks=[ecs_task("a" * 32, "prod", "app", eni_id="eni-0a0000000000000a1", ip="10.0.1.11")],
                  Reservations=[instance("i-0a0000000000000b1", "worker", nics[1])])
    snap = reachgraph.load(write_estate(tmp_path / "mesh", docs))
    flows = by_traffic(snap.flows())
    assert flows[("worker", "app", "tcp/all")].port == 8080
    assert flows[("worker", "app", "tcp/8080")].verdict == "reachable"
    assert flows[("app", "worker", "tcp/all")].verdict == "reachable"


def test_rule_candidates_name_ports_ranges_all_and_icmp():
    def rule(protocol, lo, hi):
        return Rule("sg-1", "ingress", protocol, lo, hi, "cidr4", "10.0.0.0/8")
    assert rule_candidates(rule("tcp", 22, 22), ()) == [Candidate("tcp", "22", 22)]
    assert rule_candidates(rule("udp", 1000, 2000), ()) == [Candidate("udp", "1000-2000", 1000)]
    assert rule_candidates(rule("tcp", 0, 65535), ()) == [Candidate("tcp", "all", 0)]
    # a range or all traffic is evaluated at the destination's endpoint port inside it, when it has one
    assert rule_candidates(rule("tcp", 8000, 8100), (443, 8080)) == [Candidate("tcp", "8000-8100", 8080)]
    assert rule_candidates(rule("-1", None, None), (443,)) == [Candidate("tcp", "all", 443)]
    assert rule_candidates(rule("-1", None, None), ()) == [Candidate("tcp", "all", 0)]
    assert rule_candidates(rule("icmp", 8, -1), ()) == [Candidate("icmp", "8", 8, 0)]
    assert rule_candidates(rule("icmp", -1, -1), ()) == [Candidate("icmp", "all", 8, 0)]


# -- paths --------------------------------------------------------------------------------------------
def test_paths_internet_to_cache_is_multi_hop_through_the_alb_and_app(tier):
    result = tier.paths("internet", "cache")
    assert [p.nodes for p in result.paths] == [("internet", "edge", "app", "cache")]
    p = result.paths[0]
    assert p.multi_hop and p.label == "multi-hop (3 hops)"
    assert [h.traffic for h in p.hops] == [("tcp/443",), ("tcp/8080",), ("tcp/6379",)]


def test_paths_direct_hop_is_not_multi_hop(tier):
    result = tier.paths("app", "cache")
    assert result.paths[0].label == "direct" and not result.paths[0].multi_hop


def test_paths_respect_max_hops(tier):
    assert not tier.paths("internet", "cache", max_hops=2).paths
    assert tier.paths("internet", "cache", max_hops=3).paths


def test_paths_shortest_first(tier):
    result = tier.paths("edge", "db")
    lengths = [len(p.hops) for p in result.paths]
    assert lengths == sorted(lengths) and lengths[0] == 1   # edge -> db directly (8000-8100), then via app
    assert ("edge", "app", "db") in [p.nodes for p in result.paths]


def test_paths_cli(tier, tmp_path):
    snap_dir = three_tier(tmp_path)
    ok = run_cli("paths", "internet", "cache", "--snapshot", str(snap_dir), "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["paths"][0]["label"] == "multi-hop (3 hops)" and data["multi_hop"] == 1
    text = run_cli("paths", "internet", "cache", "--snapshot", str(snap_dir))
    assert text.returncode == 0 and "MULTI-HOP" in text.stdout
    none = run_cli("paths", "db", "cache", "--max-hops", "1", "--snapshot", str(snap_dir))
    assert none.returncode == 1 and "no path" in none.stdout
    bad = run_cli("paths", "internet", "nosuchthing", "--snapshot", str(snap_dir))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "nosuchthing" in bad.stderr
    to_internet = run_cli("paths", "app", "internet", "--snapshot", str(snap_dir))
    assert to_internet.returncode == 2


# -- CLI ----------------------------------------------------------------------------------------------
def test_flows_cli_json_csv_and_table(tmp_path):
    snap_dir = three_tier(tmp_path)
    j = run_cli("flows", "--snapshot", str(snap_dir), "--json")
    assert j.returncode == 0, j.stderr
    data = json.loads(j.stdout)
    traffic = {(f["source"], f["destination"], f["traffic"]) for f in data["flows"]}
    assert ("app", "cache", "tcp/6379") in traffic
    assert data["stats"]["workloads"] == 5 and "seconds" not in data["stats"]
    assert run_cli("flows", "--snapshot", str(snap_dir), "--json").stdout == j.stdout   # byte-identical
    c = run_cli("flows", "--snapshot", str(snap_dir), "--csv", "--internet")
    lines = c.stdout.splitlines()
    assert lines[0] == "source,source_kind,destination,destination_kind,traffic,verdict,pairs,via"
    assert any(line.startswith("internet,internet,edge,load_balancer,tcp/443,reachable") for line in lines)
    t = run_cli("flows", "--snapshot", str(snap_dir), "--stats")
    assert t.returncode == 0 and "app" in t.stdout and "evaluations" in t.stderr
    both = run_cli("flows", "--snapshot", str(snap_dir), "--json", "--csv")
    assert both.returncode == 2


def test_flows_cli_snapshot_from_environment_and_missing(tmp_path):
    snap_dir = three_tier(tmp_path)
    env = run_cli("flows", env={"REACHGRAPH_SNAPSHOT": str(snap_dir)})
    assert env.returncode == 0 and "cache" in env.stdout
    missing = run_cli("flows")
    assert missing.returncode == 2 and "REACHGRAPH_SNAPSHOT" in missing.stderr
    nowhere = run_cli("flows", "--snapshot", str(tmp_path / "nope"))
    assert nowhere.returncode == 2 and nowhere.stderr.count("\n") == 1


def test_incident_flows(before_snapshot, after_snapshot):
    before = by_traffic(before_snapshot.flows())
    after = by_traffic(after_snapshot.flows())
    key = ("hokusai-api-development", "hokusai-redis-development", "tcp/6379")
    assert key not in before and after[key].verdict == "reachable"
    assert before[("hokusai-alb-development", "hokusai-api-development", "tcp/8000")].verdict == "reachable"


def test_addresses_between_two_cuts_of_a_subnet_are_one_class(tmp_path):
    """A /32 rule cuts its host out of the subnet; the addresses on either side of the cut are still alike for
    every rule, ACL entry and route, so interfaces there share one answer -- and the singled-out host keeps its
    own, with the rule that names it."""
    from reachgraph.semantics.addresses import parse_range

    snap = reachgraph.load(three_tier(tmp_path, tasks=6))
    classes = snap._engine.classes
    atom = lambda ip: classes.atom(SUBNET_B, parse_range(ip))  # noqa: E731
    assert atom("10.0.2.11").text == "10.0.2.11"                    # the host the /32 rule names
    assert atom("10.0.2.12") == atom("10.0.2.16") == atom("10.0.2.255")
    assert atom("10.0.2.12").text == "10.0.2.12-10.0.2.255"
    assert atom("10.0.2.0").text == "10.0.2.0-10.0.2.10"
    assert classes.atom(SUBNET_B, parse_range("10.0.1.7")) is None  # not in that subnet
    flows = by_traffic(snap.flows())
    assert flows[("app", "audit-box", "tcp/9000")].verdict == "partial"      # only 10.0.2.11 is admitted
    assert flows[("app", "audit-box", "tcp/9000")].reachable_pairs == 1
