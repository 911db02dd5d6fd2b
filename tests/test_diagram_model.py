"""The abstract diagram (reachgraph.render.diagram_model): what is drawn, keyed how, styled how.

Renderers are tested on this form in test_diagram_render.py; here the facts are about the picture:
groups keyed by id, parents not members, merged port labels, one internet node, egress only where
not allow-all, stale/missing/unknown references (SG-6, SG-10, SG-11, SG-12), highlight, focus,
VPC filter and the collapse above a node threshold.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import reachgraph
from builders import (
    ACCOUNT, OTHER_ACCOUNT, VPC, eni, estate, instance, perm, prefix_list, sg, subnet, vpc, write_estate,
)
from reachgraph.errors import InputError
from reachgraph.model.records import Rule
from reachgraph.render.diagram_model import (
    Diagram, build_diagram, describe_interface, merge_ports, parse_highlight, safe_ids,
)

VPC_B = "vpc-0b1b2c3d4e5f60002"
SUBNET_B1 = "subnet-0c0000000000000c1"
REDIS_SG, OLD_SG, NEW_SG, ALB_SG = ("sg-0454e74e2924a7754", "sg-0e61190afc2502b10", "sg-0864e6f6aee2a5cf4",
                                    "sg-0c85c87668427d358")
API_KEY = "ecs_service:123456789012:us-east-1:hokusai-development/hokusai-api-development"
REDIS_KEY = "elasticache_replication_group:123456789012:us-east-1:hokusai-redis-development"

WEB, APP, DB, OLD, GONE, FOREIGN, UNUSED = ("sg-0000000000000web1", "sg-0000000000000app1", "sg-00000000000000db1",
                                            "sg-0000000000000old1", "sg-000000000000gone1", "sg-0000000000foreign",
                                            "sg-00000000000unused")
DEFAULT_A, DEFAULT_B = "sg-0000000000000defa", "sg-0000000000000defb"
PL_CORP, PL_MISSING = "pl-0000000000000corp", "pl-00000000000000404"


def synthetic_docs() -> dict:
    """Two VPCs, each with its own `default`; web -> app -> db with every kind of peer and reference."""
    groups = [
        sg(DEFAULT_A, "default", ingress=[perm("-1", groups=[DEFAULT_A])]),
        sg(DEFAULT_B, "default", ingress=[perm("-1", groups=[DEFAULT_B])], vpc_id=VPC_B),
        sg(WEB, "web", ingress=[perm("tcp", 80, 80, cidrs=["0.0.0.0/0"]),
                                perm("tcp", 443, 443, cidrs=["0.0.0.0/0", "10.20.0.0/16"], cidrs6=["::/0"])],
           egress=[perm("tcp", 8000, 8100, groups=[APP]), perm("tcp", 8101, 8101, groups=[APP])]),
        sg(APP, "app", ingress=[perm("tcp", 8000, 8100, groups=[WEB]), perm("tcp", 8101, 8101, groups=[WEB]),
                                perm("udp", 53, 53, groups=[WEB]), perm("tcp", 22, 22, prefix_lists=[PL_CORP]),
                                perm("tcp", 9000, 9000, prefix_lists=[PL_MISSING])]),
        sg(DB, "db", ingress=[perm("tcp", 5432, 5432, groups=[APP, OLD, GONE]),
                              perm("tcp", 5432, 5432, groups=[{"GroupId": FOREIGN, "UserId": OTHER_ACCOUNT}])],
           egress=[]),
        sg(OLD, "old-app"),
        sg(UNUSED, "unused", vpc_id=VPC_B),
    ]
    nics = {
        "web": eni("eni-00000000000000web", "10.0.1.10", [WEB], instance_id="i-00000000000000web"),
        "app": eni("eni-00000000000000app", "10.0.1.20", [APP], instance_id="i-00000000000000app"),
        "db": eni("eni-000000000000000db", "10.0.1.30", [DB], instance_id="i-000000000000000db"),
    }
    return estate(
        Vpcs=[vpc(), vpc(VPC_B, "10.1.0.0/16")],
        Subnets=estate()["Subnets"] + [subnet(SUBNET_B1, "10.1.1.0/24", vpc_id=VPC_B)],
        SecurityGroups=groups,
        PrefixLists=[prefix_list(PL_CORP, ["192.168.0.0/16"], name="corp-vpn")],
        Reservations=[instance("i-00000000000000web", "web-1", nics["web"]),
                      instance("i-00000000000000app", "app-1", nics["app"]),
                      instance("i-000000000000000db", "db-1", nics["db"])],
        NetworkInterfaces=[*nics.values(),
                           eni("eni-0000000000000defa", "10.0.1.40", [DEFAULT_A]),
                           eni("eni-0000000000000defb", "10.1.1.40", [DEFAULT_B], subnet_id=SUBNET_B1,
                               vpc_id=VPC_B, description="ELB app/internal-lb/0123456789abcdef")],
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> reachgraph.Snapshot:
    return reachgraph.load(write_estate(tmp_path_factory.mktemp("synth") / "snap", synthetic_docs()))


@pytest.fixture(scope="module")
def synth_diagram(synth: reachgraph.Snapshot) -> Diagram:
    return build_diagram(synth.reach)


def edge(d: Diagram, src: str, dst: str, kind: str | None = None):
    found = [e for e in d.edges_between(src, dst) if kind is None or e.kind == kind]
    assert len(found) == 1, f"expected one {kind or ''} edge {src} -> {dst}, found {found}"
    return found[0]


def wl(name: str) -> str:
    return f"ec2_instance:{ACCOUNT}:us-east-1:i-{name}"


# -- groups, clusters, workloads --------------------------------------------------------------------

def test_two_default_groups_in_two_vpcs_stay_two_nodes(synth_diagram: Diagram) -> None:
    """Keyed by id, not by name (aws-security-viz's bug): each VPC's `default` is its own node in its own VPC."""
    a, b = synth_diagram.node(DEFAULT_A), synth_diagram.node(DEFAULT_B)
    assert a.id != b.id
    assert a.lines[0] == ("default", "title") and b.lines[0] == ("default", "title")
    assert a.cluster == f"cluster_vpc_{VPC.replace('-', '_')}"
    assert b.cluster == f"cluster_vpc_{VPC_B.replace('-', '_')}"
    # Self-references are drawn as loops, on each group separately.
    assert edge(synth_diagram, DEFAULT_A, DEFAULT_A).label == "all traffic"
    assert edge(synth_diagram, DEFAULT_B, DEFAULT_B).label == "all traffic"


def test_clusters_nest_account_region_vpc(synth_diagram: Diagram) -> None:
    by_id = {c.id: c for c in synth_diagram.clusters}
    vpc_a = by_id[f"cluster_vpc_{VPC.replace('-', '_')}"]
    region = by_id[vpc_a.parent]
    account = by_id[region.parent]
    assert (vpc_a.kind, region.kind, account.kind) == ("vpc", "region", "account")
    assert "10.0.0.0/16" in vpc_a.label and region.label == "us-east-1" and account.label == f"account {ACCOUNT}"
    # The account not collected gets a cluster of its own, said to be not collected (SG-11).
    assert any(c.label == f"account {OTHER_ACCOUNT} (not collected)" for c in synth_diagram.clusters)


def test_group_label_has_name_id_and_member_count(synth_diagram: Diagram) -> None:
    n = synth_diagram.node(APP)
    assert n.lines[:3] == (("app", "title"), (APP, "id"), ("1 member interface", "text"))
    assert n.style == "group"


def test_workloads_link_to_their_groups(synth_diagram: Diagram) -> None:
    node = synth_diagram.node(wl("00000000000000app"))
    assert node.kind == "workload" and node.lines[0] == ("app-1", "title")
    e = edge(synth_diagram, APP, wl("00000000000000app"), "member")
    assert e.style == "member"


def test_incident_draws_parents_not_tasks_or_member_clusters(before_snapshot) -> None:
    d = build_diagram(before_snapshot.reach)
    kinds = {n.key.split(":")[0] for n in d.nodes if n.kind == "workload"}
    assert "ecs_task" not in kinds and "elasticache_cluster" not in kinds
    api = d.node(API_KEY)
    assert api.lines[:3] == (("hokusai-api-development", "title"), ("ECS service", "id"), ("2 tasks", "text"))
    assert d.node(REDIS_KEY).lines[2] == ("2 members", "text")
    assert edge(d, NEW_SG, API_KEY).kind == "member"
    assert edge(d, REDIS_SG, REDIS_KEY).kind == "member"
    assert not d.edges_between(OLD_SG, API_KEY)


def test_interfaces_without_a_workload_get_one_node(synth_diagram: Diagram) -> None:
    n = synth_diagram.node(f"interfaces:{VPC_B}:{DEFAULT_B}")
    assert n.kind == "interfaces"
    assert ("load balancer internal-lb", "text") in n.lines
    assert edge(synth_diagram, DEFAULT_B, n.key).kind == "member"


def test_describe_interface_names_aws_managed_interfaces() -> None:
    assert describe_interface("ELB app/hokusai-alb-development/1d1ae1d357227f26") == "load balancer hokusai-alb-development"
    assert describe_interface("ELB classic-lb") == "load balancer classic-lb"
    assert describe_interface("RDSNetworkInterface") == "RDS"
    assert describe_interface("VPC Endpoint Interface vpce-0123abcd") == "VPC endpoint vpce-0123abcd"
    assert describe_interface("") == "no description"


# -- rule edges and labels --------------------------------------------------------------------------

def test_rules_between_one_pair_merge_into_one_sorted_label(synth_diagram: Diagram) -> None:
    """tcp/8000-8100 and tcp/8101 are adjacent: one range; udp/53 on its own line; one edge, not three."""
    e = edge(synth_diagram, WEB, APP, "ingress")
    assert e.label == "tcp/8000-8101\nudp/53"
    assert e.style == "ingress"
    assert len(e.rules) == 3


def test_internet_is_one_node_for_both_families(synth_diagram: Diagram) -> None:
    """SG-9 keeps 0.0.0.0/0 and ::/0 apart for evaluation; the picture shows one 'internet'."""
    internet = synth_diagram.node("internet")
    assert internet.kind == "internet" and internet.lines[1] == ("0.0.0.0/0, ::/0", "id")
    assert edge(synth_diagram, "internet", WEB).label == "tcp/80, 443"
    assert not [n for n in synth_diagram.nodes if n.key in ("cidr:0.0.0.0/0", "cidr:::/0")]


def test_other_cidrs_are_nodes_by_block(synth_diagram: Diagram) -> None:
    n = synth_diagram.node("cidr:10.20.0.0/16")
    assert n.kind == "cidr" and n.lines[0][0] == "10.20.0.0/16"
    assert edge(synth_diagram, "cidr:10.20.0.0/16", WEB).label == "tcp/443"


def test_prefix_lists_by_name_and_unknown_ones_warned(synth_diagram: Diagram) -> None:
    """SG-10: an unknown prefix list matches nothing and deserves a warning."""
    corp = synth_diagram.node(PL_CORP)
    assert corp.lines[0] == ("corp-vpn", "title") and corp.style == "prefix_list"
    missing = synth_diagram.node(PL_MISSING)
    assert missing.style == "missing_prefix_list"
    assert edge(synth_diagram, PL_CORP, APP).label == "tcp/22"


def test_egress_drawn_only_where_not_allow_all(synth_diagram: Diagram) -> None:
    """web's egress is restricted: drawn, dashed style; app's is AWS's allow-all (SG-3): not drawn."""
    e = edge(synth_diagram, WEB, APP, "egress")
    assert e.style == "egress" and e.label == "egress tcp/8000-8101"
    assert not [x for x in synth_diagram.edges if x.kind == "egress" and x.src == synth_diagram.node(APP).id]


def test_group_without_egress_says_nothing_gets_out(synth_diagram: Diagram) -> None:
    """SG-3: a group with no outbound rules lets nothing out."""
    assert ("no egress rules: nothing gets out", "warn") in synth_diagram.node(DB).lines


def test_stale_reference_to_a_group_with_no_members(synth_diagram: Diagram) -> None:
    """SG-6: a group with no member interfaces matches nothing; a rule naming it is stale."""
    old = synth_diagram.node(OLD)
    assert old.style == "stale"
    assert any(role == "warn" and "0 member interfaces" in text for text, role in old.lines)
    e = edge(synth_diagram, OLD, DB)
    assert e.style == "stale" and "matches nothing" in e.label


def test_missing_group_is_a_warning_node(synth_diagram: Diagram) -> None:
    """SG-12: a reference to a deleted group is stale and matches nothing."""
    gone = synth_diagram.node(GONE)
    assert gone.kind == "missing_group" and gone.style == "missing"
    assert edge(synth_diagram, GONE, DB).style == "stale"


def test_group_in_an_account_not_collected_is_unknown_not_stale(synth_diagram: Diagram) -> None:
    """SG-11: a group in an account that is not in the snapshot cannot be resolved: unknown, not stale."""
    foreign = synth_diagram.node(FOREIGN)
    assert foreign.style == "unknown"
    assert edge(synth_diagram, FOREIGN, DB).style == "unknown"
    assert foreign.cluster == f"cluster_region_{OTHER_ACCOUNT}_us_east_1"


def test_unreferenced_group_without_members_is_unused_not_stale(synth_diagram: Diagram) -> None:
    assert synth_diagram.node(UNUSED).style == "unused"
    # A default group with no members and only its self-reference is not stale either.


def test_incident_stale_group_stands_out(before_snapshot) -> None:
    """The incident: Redis admits tcp/6379 only from sg-0e61190afc2502b10, which has no members."""
    d = build_diagram(before_snapshot.reach)
    old = d.node(OLD_SG)
    assert old.style == "stale"
    e = edge(d, OLD_SG, REDIS_SG)
    assert e.style == "stale" and e.label.startswith("tcp/6379")
    # The group the API really runs in has no edge to Redis.
    assert not d.edges_between(NEW_SG, REDIS_SG)
    # The ALB rule into the abandoned group applies to nothing.
    assert edge(d, ALB_SG, OLD_SG).style == "inert"
    assert edge(d, ALB_SG, NEW_SG).style == "ingress"
    assert {i.style for i in d.legend if i.what == "node"} >= {"group", "stale", "workload"}


def test_after_fix_the_new_group_reaches_redis(after_snapshot) -> None:
    d = build_diagram(after_snapshot.reach)
    assert edge(d, NEW_SG, REDIS_SG).style == "ingress"
    assert edge(d, NEW_SG, REDIS_SG).label == "tcp/6379"


# -- merge_ports and helpers --------------------------------------------------------------------------

def _r(proto: str, lo: int | None, hi: int | None) -> Rule:
    return Rule("sg-1", "ingress", proto, lo, hi, "cidr4", "10.0.0.0/8")


@pytest.mark.parametrize(("rules", "label"), [
    ([_r("tcp", 443, 443), _r("tcp", 80, 80)], "tcp/80, 443"),
    ([_r("tcp", 1000, 2000), _r("tcp", 1500, 2500), _r("tcp", 2501, 2501)], "tcp/1000-2501"),
    ([_r("tcp", 0, 65535), _r("tcp", 22, 22)], "tcp/all"),
    ([_r("udp", 53, 53), _r("tcp", 53, 53)], "tcp/53\nudp/53"),
    ([_r("tcp", 22, 22), _r("-1", None, None)], "all traffic"),
    ([_r("icmp", 8, -1), _r("icmp", 3, 4)], "icmp/3:4, 8"),
    ([_r("icmp", -1, -1), _r("icmp", 8, 0)], "icmp/all"),
    ([_r("50", None, None), _r("tcp", 22, 22)], "tcp/22\nproto 50"),
    ([_r("tcp", p, p) for p in range(1, 20, 2)], "tcp/1, 3, 5, 7, 9, 11, ... (+4 more)"),
])
def test_merge_ports(rules: list[Rule], label: str) -> None:
    """SG-7/SG-8: -1 is all traffic; tcp/udp are inclusive ranges; icmp is type:code."""
    assert merge_ports(rules) == label


def test_safe_ids_are_unique_and_order_independent() -> None:
    keys = ["a-b", "a_b", "sg-1", "ecs_service:1:us-east-1:x y"]
    ids = safe_ids(keys)
    assert ids == safe_ids(reversed(keys))
    assert len(set(ids.values())) == 4
    assert all(v.replace("_", "").isalnum() for v in ids.values())


@pytest.mark.parametrize("text", ["api redis:6379", "-> redis", "api ->", "* -> redis:6379", "api -> *"])
def test_parse_highlight_rejects_bad_text(text: str) -> None:
    with pytest.raises(InputError):
        parse_highlight(text)


def test_parse_highlight() -> None:
    assert parse_highlight(" api ->  redis:6379 ") == ("api", "redis:6379")


# -- highlight ----------------------------------------------------------------------------------------

def test_highlight_blocked_marks_blocking_group_rule_and_missing_edge(before_snapshot) -> None:
    r = before_snapshot.query("api", "redis:6379")
    d = build_diagram(before_snapshot.reach, highlight=r)
    assert d.verdict == "blocked"
    assert d.notes[0].startswith("api -> redis tcp/6379: BLOCKED")
    assert d.node(REDIS_SG).mark == "block"
    assert d.node(NEW_SG).mark == "allow"            # its egress (allow-all) lets tcp/6379 out
    assert edge(d, OLD_SG, REDIS_SG).mark == "block"  # the only rule on tcp/6379: the near miss
    q = edge(d, NEW_SG, REDIS_SG)
    assert q.kind == "query" and q.mark == "block" and "tcp/6379" in q.label
    assert d.node(API_KEY).mark == "endpoint" and d.node(REDIS_KEY).mark == "endpoint"
    assert edge(d, NEW_SG, API_KEY).mark == "allow"
    assert edge(d, REDIS_SG, REDIS_KEY).mark == "block"
    # Nothing else is marked.
    assert edge(d, ALB_SG, NEW_SG).mark is None
    assert {i.style for i in d.legend if i.what == "mark"} == {"allow", "block", "endpoint"}


def test_highlight_reachable_colours_the_admitting_edge(after_snapshot) -> None:
    d = build_diagram(after_snapshot.reach, highlight=after_snapshot.query("api", "redis:6379"))
    assert d.verdict == "reachable"
    e = edge(d, NEW_SG, REDIS_SG)
    assert e.kind == "ingress" and e.mark == "allow"
    assert d.node(REDIS_SG).mark == "allow" and d.node(NEW_SG).mark == "allow"
    assert edge(d, OLD_SG, REDIS_SG).mark is None
    assert not [x for x in d.edges if x.kind == "query"]


def test_highlight_with_internet_source(before_snapshot) -> None:
    d = build_diagram(before_snapshot.reach, highlight=before_snapshot.query("internet", "redis:6379"))
    assert d.verdict == "blocked"
    assert edge(d, "internet", REDIS_SG).kind == "query"
    assert d.node("internet").mark == "endpoint"


def test_highlight_on_synthetic_estate(synth: reachgraph.Snapshot) -> None:
    d = build_diagram(synth.reach, highlight=synth.query("app-1", "db-1:5432"))
    assert d.verdict == "reachable"
    assert edge(d, APP, DB).mark == "allow"
    assert edge(d, OLD, DB).mark is None


# -- focus, VPC filter, collapse ----------------------------------------------------------------------

def test_focus_depth_zero_is_the_workload_and_its_groups(synth: reachgraph.Snapshot) -> None:
    d = build_diagram(synth.reach, focus="app-1", depth=0)
    assert {n.key for n in d.nodes} == {APP, wl("00000000000000app")}
    assert "neighbourhood of app-1 (EC2 instance), depth 0" in d.notes


def test_focus_depth_one_adds_rule_neighbours(synth: reachgraph.Snapshot) -> None:
    d = build_diagram(synth.reach, focus="app-1", depth=1)
    groups_and_peers = {n.key for n in d.nodes if n.kind != "workload"}
    assert groups_and_peers == {APP, WEB, DB, PL_CORP, PL_MISSING}
    assert {n.key for n in d.nodes if n.kind == "workload"} == {wl(x) for x in
                                                                ("00000000000000app", "00000000000000web",
                                                                 "000000000000000db")}
    assert edge(d, WEB, APP, "ingress") and edge(d, APP, DB)
    assert not [n for n in d.nodes if n.key in (OLD, GONE, "internet")]


def test_focus_depth_two_reaches_further(synth: reachgraph.Snapshot) -> None:
    d = build_diagram(synth.reach, focus="app-1", depth=2)
    keys = {n.key for n in d.nodes}
    assert {"internet", "cidr:10.20.0.0/16", OLD, GONE, FOREIGN} <= keys
    assert DEFAULT_A not in keys and UNUSED not in keys


def test_focus_on_a_group_id_and_on_the_incident(before_snapshot, synth: reachgraph.Snapshot) -> None:
    d = build_diagram(synth.reach, focus=DB, depth=1)
    assert {n.key for n in d.nodes if n.kind != "workload"} == {DB, APP, OLD, GONE, FOREIGN}
    d = build_diagram(before_snapshot.reach, focus="redis", depth=1)
    assert {n.key for n in d.nodes if n.kind.endswith("group")} == {REDIS_SG, OLD_SG}


def test_focus_unknown_name_is_an_input_error(synth: reachgraph.Snapshot) -> None:
    with pytest.raises(InputError, match="no workload, group or address matches"):
        build_diagram(synth.reach, focus="nosuchthing")


def test_vpc_filter_keeps_that_vpc_and_what_its_rules_name(synth: reachgraph.Snapshot) -> None:
    d = build_diagram(synth.reach, vpcs=[VPC_B])
    assert {n.key for n in d.nodes if n.kind == "group"} == {DEFAULT_B, UNUSED}
    assert f"VPC {VPC_B}" in d.notes
    with pytest.raises(InputError, match="no VPC vpc-nope"):
        build_diagram(synth.reach, vpcs=["vpc-nope"])


def test_bad_rankdir_and_depth(synth: reachgraph.Snapshot) -> None:
    with pytest.raises(InputError):
        build_diagram(synth.reach, rankdir="XY")
    with pytest.raises(InputError):
        build_diagram(synth.reach, focus="app-1", depth=-1)
    assert build_diagram(synth.reach, rankdir="tb").rankdir == "TB"


def test_collapse_above_threshold_on_a_small_estate(synth: reachgraph.Snapshot) -> None:
    d = build_diagram(synth.reach, threshold=5)
    assert d.collapsed
    assert not [n for n in d.nodes if n.kind in ("workload", "interfaces")]
    assert any("workloads collapsed into their groups" in x for x in d.notes)
    assert ("workloads: EC2 instance x1", "note") in d.node(APP).lines


def many_groups_docs(n: int) -> dict:
    """n groups in a chain (g[i] admits tcp/5432 from g[i-1]), each with one EC2 instance."""
    ids = [f"sg-{i:017x}" for i in range(1, n + 1)]
    groups = [sg(gid, f"svc-{i:04d}", ingress=[perm("tcp", 5432, 5432, groups=[ids[i - 1]])] if i else [])
              for i, gid in enumerate(ids)]
    reservations = []
    for i, gid in enumerate(ids):
        nic = eni(f"eni-{i + 1:017x}", f"10.0.{i // 200 + 1}.{i % 200 + 10}", [gid], instance_id=f"i-{i + 1:017x}")
        reservations.append(instance(f"i-{i + 1:017x}", f"host-{i:04d}", nic))
    return estate(SecurityGroups=groups, Reservations=reservations)


def test_collapse_above_the_default_threshold(tmp_path: Path) -> None:
    """320 groups + 320 instances is more than 300 nodes: workloads fold into their groups, the title says so."""
    snap = reachgraph.load(write_estate(tmp_path / "big", many_groups_docs(320)))
    d = build_diagram(snap.reach)
    assert d.collapsed
    assert len([n for n in d.nodes if n.kind == "group"]) == 320
    assert not [n for n in d.nodes if n.kind == "workload"]
    assert len([e for e in d.edges if e.kind == "ingress"]) == 319
    assert any("640 nodes is more than 300" in x for x in d.notes)
    # A focus on one host is small again: its workloads are drawn.
    f = build_diagram(snap.reach, focus="host-0100", depth=1)
    assert not f.collapsed and len([n for n in f.nodes if n.kind == "workload"]) == 3


def test_same_graph_same_diagram(before_snapshot) -> None:
    assert build_diagram(before_snapshot.reach) == build_diagram(before_snapshot.reach)


def test_declared_only_groups_and_undescribed_groups(tmp_path: Path) -> None:
    """An ECS service that declares a group its tasks do not carry (ECS-1: the interface decides) gets a
    dotted 'declared only' link; a group carried by an interface but not described is unknown, not stale."""
    from builders import ecs_service, ecs_task, task_eni

    declared, actual, undescribed = "sg-00000000000decl1", "sg-0000000000actual1", "sg-000000000undesc1"
    docs = estate(
        SecurityGroups=[sg(declared, "declared"), sg(actual, "actual")],
        NetworkInterfaces=[task_eni("eni-0000000000000task", "10.0.1.50", [actual, undescribed])],
        services=[ecs_service("worker", "main", [declared])],
        tasks=[ecs_task("0123456789abcdef0123456789abcdef", "main", "worker", eni_id="eni-0000000000000task",
                        ip="10.0.1.50")],
    )
    snap = reachgraph.load(write_estate(tmp_path / "s", docs))
    d = build_diagram(snap.reach)
    key = f"ecs_service:{ACCOUNT}:us-east-1:main/worker"
    assert d.node(key).lines[:3] == (("worker", "title"), ("ECS service", "id"), ("1 task", "text"))
    assert edge(d, actual, key).style == "member"
    e = edge(d, declared, key)
    assert e.style == "declared" and e.label == "declared only"
    und = d.node(undescribed)
    assert und.style == "unknown" and ("1 member interface", "text") in und.lines
    assert und.cluster == f"cluster_vpc_{VPC.replace('-', '_')}"
    assert not [n for n in d.nodes if n.key.startswith("ecs_task")]
