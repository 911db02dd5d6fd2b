"""One test per AWS fact of semantics.md (SG-1 .. SG-14, ECS-1/2/4, EC-1/2/3), on small hand-written AWS JSON.

Each test writes AWS-CLI-shaped JSON with tests/builders.py into tmp_path, loads it with
reachgraph.load and asserts the verdict and the blocker (code, direction, component) or, when
allowed, the rule that allowed it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import reachgraph
from builders import (
    ACCOUNT, OTHER_ACCOUNT, SUBNET_A, SUBNET_B, VPC, cache_cluster, cache_eni, default_acl, ecs_service, ecs_task,
    eni, estate, peering, perm, prefix_list, replication_group, route, route_table, sg, subnet, task_eni, vpc,
    write_estate,
)

CLIENT_SG, SERVER_SG = "sg-0c11e47000000c001", "sg-05e97e70000005001"
CLIENT, SERVER = "eni-0c11e470000000c01", "eni-05e97e70000000501"
CLIENT_IP, SERVER_IP = "10.0.1.10", "10.0.2.20"


def load(tmp_path: Path, groups: list[dict], enis: list[dict], **extra) -> reachgraph.Snapshot:
    """Write the estate (VPC, two subnets, the given groups and interfaces, extra keys) and load it."""
    return reachgraph.load(write_estate(tmp_path / "snap", estate(SecurityGroups=groups, NetworkInterfaces=enis,
                                                                 **extra)))


def pair_estate(tmp_path: Path, *, server_ingress: list[dict], client_egress: list[dict] | None = None,
                server_egress: list[dict] | None = None, client_ingress: list[dict] = (),
                client_kwargs: dict | None = None, server_kwargs: dict | None = None, **extra) -> reachgraph.Snapshot:
    """A client interface (10.0.1.10, CLIENT_SG) and a server interface (10.0.2.20, SERVER_SG)."""
    groups = [sg(CLIENT_SG, "client", ingress=list(client_ingress), egress=client_egress),
              sg(SERVER_SG, "server", ingress=server_ingress, egress=server_egress)]
    enis = [eni(CLIENT, CLIENT_IP, [CLIENT_SG], subnet_id=SUBNET_A, **(client_kwargs or {})),
            eni(SERVER, SERVER_IP, [SERVER_SG], subnet_id=SUBNET_B, az="us-east-1b", **(server_kwargs or {}))]
    return load(tmp_path, groups, enis, **extra)


def explain(result: reachgraph.QueryResult) -> str:
    """The verdict and every check of every pair, for assertion messages."""
    lines = [f"{result.verdict} {result.traffic} unknown={list(result.unknown_reasons)}"]
    for p in result.pairs:
        lines.append(f"  {p.source}({p.source_address}) -> {p.destination}({p.destination_address}): {p.verdict}")
        lines += [f"    {c.kind} {c.direction} {c.component} {c.status} {c.code or ''} {c.detail}" for c in p.checks]
    return "\n".join(lines)


def only_blocker(result: reachgraph.QueryResult) -> reachgraph.result.Blocker:
    assert len(result.blockers) == 1, [b.to_dict() for b in result.blockers]
    return result.blockers[0]


def assert_blocked(result, *, direction: str, component: str, code: str = "ENI_SG_RULES_MISMATCH") -> None:
    assert result.verdict == "blocked", explain(result)
    b = only_blocker(result)
    assert (b.code, b.direction, b.component) == (code, direction, component), b.to_dict()


def sg_checks(result, direction: str) -> list:
    """The security-group checks of one direction, over all pairs."""
    return [c for p in result.pairs for c in p.checks if c.kind == "security_group" and c.direction == direction]


def assert_allowed_by(result, *, direction: str, component: str, contains: str) -> None:
    assert result.verdict == "reachable", explain(result)
    assert not result.blockers
    hits = [a for a in result.allowed_by if a.direction == direction and a.component == component]
    assert hits, [a.to_dict() for a in result.allowed_by]
    assert any(contains in a.rule for a in hits), [a.rule for a in hits]


# -- security groups ----------------------------------------------------------------------------------
def test_sg_1_allow_only_no_deny_rules(tmp_path):
    """SG-1 "Allow-only. There are no deny rules." A narrower rule never subtracts from a broader one,
    and with no admitting rule the default is deny."""
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 443, 443, cidrs=["10.0.0.0/8"]),
                                                 perm("tcp", 443, 443, cidrs=["10.0.9.9/32"])])
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert_allowed_by(r, direction="ingress", component=SERVER_SG, contains="from 10.0.0.0/8")
    assert not any("10.0.9.9/32" in a.rule for a in r.allowed_by)
    assert_blocked(snap.query(CLIENT, f"{SERVER}:444"), direction="ingress", component=SERVER_SG)


def test_sg_2_union_of_groups(tmp_path):
    """SG-2 "Union: an interface with several groups is allowed what any rule of any group allows." """
    g80, g443 = "sg-0000000000000a080", "sg-0000000000000a443"
    groups = [sg(CLIENT_SG, "client"),
              sg(g80, "web80", ingress=[perm("tcp", 80, 80, groups=[CLIENT_SG])]),
              sg(g443, "web443", ingress=[perm("tcp", 443, 443, cidrs=["10.0.1.0/24"])])]
    enis = [eni(CLIENT, CLIENT_IP, [CLIENT_SG]), eni(SERVER, SERVER_IP, [g80, g443], subnet_id=SUBNET_B)]
    snap = load(tmp_path, groups, enis)
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:80"), direction="ingress", component=g80, contains="tcp/80")
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:443"), direction="ingress", component=g443, contains="tcp/443")
    r = snap.query(CLIENT, f"{SERVER}:22")
    assert r.verdict == "blocked"
    b = only_blocker(r)
    assert (b.code, b.direction) == ("ENI_SG_RULES_MISMATCH", "ingress")
    assert b.component in (g80, g443)
    assert set(b.groups) == {g80, g443}


def test_sg_3_new_group_no_inbound_and_no_outbound_rules(tmp_path):
    """SG-3 "A new group has no inbound rules and one outbound allow-all rule ... A group with no outbound
    rules lets nothing out." """
    # The server's group is brand new: no inbound rules -> nothing admitted.
    snap = pair_estate(tmp_path / "a", server_ingress=[])
    assert_blocked(snap.query(CLIENT, f"{SERVER}:443"), direction="ingress", component=SERVER_SG,
                   code="SG_HAS_NO_RULES")
    # The client's group has had its outbound rule removed -> nothing leaves, even to an open server.
    snap = pair_estate(tmp_path / "b", client_egress=[], server_ingress=[perm("-1", cidrs=["0.0.0.0/0"])])
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert_blocked(r, direction="egress", component=CLIENT_SG, code="SG_HAS_NO_RULES")
    # The default allow-all outbound rule lets the client out to anything.
    snap = pair_estate(tmp_path / "c", server_ingress=[perm("tcp", 443, 443, cidrs=["10.0.1.10/32"])])
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:443"), direction="egress", component=CLIENT_SG,
                      contains="to 0.0.0.0/0")


def test_sg_3_default_group_admits_its_own_members(tmp_path):
    """SG-3 "The VPC's default group admits all traffic from its own members and allows all outbound." """
    default = "sg-0defa017000000001"
    groups = [sg(default, "default", description="default VPC security group",
                 ingress=[perm("-1", groups=[default])]),
              sg(CLIENT_SG, "client")]
    enis = [eni("eni-0000000000000d001", "10.0.1.5", [default]),
            eni("eni-0000000000000d002", "10.0.2.5", [default], subnet_id=SUBNET_B),
            eni(CLIENT, CLIENT_IP, [CLIENT_SG])]
    snap = load(tmp_path, groups, enis)
    for target in ("eni-0000000000000d002:5432", "eni-0000000000000d002:53/udp", "eni-0000000000000d002:icmp/8"):
        assert_allowed_by(snap.query("eni-0000000000000d001", target), direction="ingress", component=default,
                          contains=f"from {default}")
    assert_blocked(snap.query(CLIENT, "eni-0000000000000d002:5432"), direction="ingress", component=default)


def test_sg_4_stateful_reply_never_checked(tmp_path):
    """SG-4 "Stateful: replies are always allowed. A->B:P needs A's egress to admit (B, P) and B's ingress to
    admit (A, P); never check the reply against security groups." """
    # The server may send nothing out and the client admits nothing in: the replies must not matter.
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 443, 443, groups=[CLIENT_SG])], server_egress=[],
                       client_ingress=[])
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert_allowed_by(r, direction="ingress", component=SERVER_SG, contains=f"from {CLIENT_SG}")
    assert [c.direction for p in r.pairs for c in p.checks if c.kind == "security_group"] == ["egress", "ingress"]
    # The other direction is a different question, and it is blocked by the client's (empty) ingress.
    back = snap.query(SERVER, f"{CLIENT}:443")
    assert back.verdict == "blocked"
    assert {(b.direction, b.component) for b in back.blockers} == {("egress", SERVER_SG), ("ingress", CLIENT_SG)}


def test_sg_5_destination_port_only(tmp_path):
    """SG-5 "Rules filter destination ports only." Egress tcp/443 lets a client (ephemeral source port) reach
    :443; an ingress rule on the ephemeral range does not admit :443."""
    snap = pair_estate(tmp_path / "a", client_egress=[perm("tcp", 443, 443, cidrs=["10.0.0.0/16"])],
                       server_ingress=[perm("tcp", 443, 443, cidrs=["10.0.1.0/24"])])
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert_allowed_by(r, direction="egress", component=CLIENT_SG, contains="tcp/443 to 10.0.0.0/16")
    snap = pair_estate(tmp_path / "b", server_ingress=[perm("tcp", 32768, 60999, cidrs=["10.0.1.0/24"])])
    assert_blocked(snap.query(CLIENT, f"{SERVER}:443"), direction="ingress", component=SERVER_SG)


def test_sg_6_group_reference_matches_private_ips_of_members_only(tmp_path):
    """SG-6 "A rule that names another group matches the private IPs of the interfaces that carry that group,
    never their public or Elastic IPs. It does not import the other group's rules." """
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 6379, 6379, groups=[CLIENT_SG])],
                       client_ingress=[perm("-1", cidrs=["0.0.0.0/0"])],
                       client_kwargs={"public_ip": "3.80.3.41"}, server_kwargs={"public_ip": "3.80.3.42"})
    # From the member interface, by id and by its private IP: admitted.
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:6379"), direction="ingress", component=SERVER_SG,
                      contains=f"from {CLIENT_SG}")
    assert_allowed_by(snap.query(CLIENT_IP, f"{SERVER}:6379"), direction="ingress", component=SERVER_SG,
                      contains=f"from {CLIENT_SG}")
    # From the member's PUBLIC IP (e.g. traffic hair-pinned through the internet): not a member address.
    r = snap.query("3.80.3.41", f"{SERVER}:6379")
    assert_blocked(r, direction="ingress", component=SERVER_SG)
    # The referenced group's own rules (allow all inbound) are not imported into the server's group.
    assert_blocked(snap.query("198.51.100.7", f"{SERVER}:6379"), direction="ingress", component=SERVER_SG)


def test_sg_6_group_with_no_members_matches_nothing(tmp_path):
    """SG-6 "A group with no member interfaces matches nothing." (the incident: Redis admitted only the
    group the service had left). Neither an ingress nor an egress rule naming it admits anyone."""
    empty = "sg-0e0e0e0e0e0e0e0e0"
    groups = [sg(empty, "old-tasks"),
              sg(CLIENT_SG, "client", egress=[perm("-1", groups=[empty])]),
              sg(SERVER_SG, "server", ingress=[perm("tcp", 6379, 6379, groups=[empty])])]
    snap = load(tmp_path, groups, [eni(CLIENT, CLIENT_IP, [CLIENT_SG]),
                                   eni(SERVER, SERVER_IP, [SERVER_SG], subnet_id=SUBNET_B)])
    r = snap.query(CLIENT, f"{SERVER}:6379")
    assert r.verdict == "blocked", explain(r)
    by_direction = {b.direction: b for b in r.blockers}
    assert set(by_direction) == {"egress", "ingress"}, explain(r)
    assert (by_direction["egress"].code, by_direction["egress"].component) == ("ENI_SG_RULES_MISMATCH", CLIENT_SG)
    assert (by_direction["ingress"].code, by_direction["ingress"].component) == ("ENI_SG_RULES_MISMATCH", SERVER_SG)
    assert f"{empty} (old-tasks, 0 member interfaces)" in by_direction["ingress"].detail
    # Once an interface carries the group, both rules match it.
    snap = load(tmp_path / "joined", groups, [eni(CLIENT, CLIENT_IP, [CLIENT_SG, empty]),
                                              eni(SERVER, SERVER_IP, [SERVER_SG, empty], subnet_id=SUBNET_B)])
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:6379"), direction="ingress", component=SERVER_SG,
                      contains=f"from {empty}")


def test_sg_7_all_protocols_ignore_ports(tmp_path):
    """SG-7 "'-1' means all protocols. For -1 and for any protocol other than tcp/udp/icmp/icmpv6, all ports
    are allowed whatever FromPort/ToPort say (even 0/0)." """
    snap = pair_estate(tmp_path, server_ingress=[perm("-1", 0, 0, cidrs=["10.0.1.0/24"])])
    for dst in (f"{SERVER}:6379", f"{SERVER}:53/udp", f"{SERVER}:icmp/8", f"{SERVER}:0/50"):
        assert_allowed_by(snap.query(CLIENT, dst), direction="ingress", component=SERVER_SG,
                          contains="all traffic from 10.0.1.0/24")


def test_sg_7_other_protocol_number_ignores_ports(tmp_path):
    """SG-7 "For any protocol other than tcp/udp/icmp/icmpv6 (e.g. "50", ESP), all ports are allowed whatever
    FromPort/ToPort say (even 0/0)" -- and such a rule admits only that protocol."""
    snap = pair_estate(tmp_path, server_ingress=[perm("50", 0, 0, cidrs=["10.0.1.0/24"])])
    r = snap.query(CLIENT, SERVER, protocol="50")
    assert_allowed_by(r, direction="ingress", component=SERVER_SG, contains="proto 50")
    assert r.protocol == "50"
    assert_blocked(snap.query(CLIENT, f"{SERVER}:0/tcp"), direction="ingress", component=SERVER_SG)
    assert_blocked(snap.query(CLIENT, SERVER, protocol="51"), direction="ingress", component=SERVER_SG)


def test_sg_7_numeric_protocol_strings(tmp_path):
    """SG-7 "IpProtocol is tcp, udp, icmp, icmpv6 or a number ("6"=tcp, "17"=udp, "1"=icmp, "58"=icmpv6)." """
    snap = pair_estate(tmp_path, server_ingress=[perm("6", 443, 443, cidrs=["10.0.1.0/24"]),
                                                 perm("17", 53, 53, cidrs=["10.0.1.0/24"]),
                                                 perm("1", 8, -1, cidrs=["10.0.1.0/24"])])
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:443/tcp"), direction="ingress", component=SERVER_SG,
                      contains="tcp/443")
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:53/udp"), direction="ingress", component=SERVER_SG,
                      contains="udp/53")
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:icmp/8"), direction="ingress", component=SERVER_SG,
                      contains="icmp/8")
    # Numbers in the query too: protocol 6 is tcp.
    assert snap.query(CLIENT, f"{SERVER}:443/6").verdict == "reachable"
    assert_blocked(snap.query(CLIENT, f"{SERVER}:53/tcp"), direction="ingress", component=SERVER_SG)
    assert_blocked(snap.query(CLIENT, f"{SERVER}:443/udp"), direction="ingress", component=SERVER_SG)


def test_sg_8_inclusive_port_ranges(tmp_path):
    """SG-8 "tcp/udp ports are the inclusive range FromPort..ToPort." """
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 1000, 2000, cidrs=["10.0.1.0/24"]),
                                                 perm("udp", 5000, 5000, cidrs=["10.0.1.0/24"])])
    for port in (1000, 1500, 2000):
        assert snap.query(CLIENT, f"{SERVER}:{port}").verdict == "reachable", port
    for port in (999, 2001):
        assert_blocked(snap.query(CLIENT, f"{SERVER}:{port}"), direction="ingress", component=SERVER_SG)
    assert snap.query(CLIENT, f"{SERVER}:5000/udp").verdict == "reachable"
    for port in (4999, 5001):
        assert_blocked(snap.query(CLIENT, f"{SERVER}:{port}/udp"), direction="ingress", component=SERVER_SG)


def test_sg_8_icmp_type_and_code(tmp_path):
    """SG-8 "For icmp, FromPort is the ICMP type and ToPort the code, -1 meaning any." """
    snap = pair_estate(tmp_path / "a", server_ingress=[perm("icmp", 8, -1, cidrs=["10.0.1.0/24"]),
                                                       perm("icmp", 3, 4, cidrs=["10.0.1.0/24"])])
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:icmp/8"), direction="ingress", component=SERVER_SG,
                      contains="icmp/8")
    assert snap.query(CLIENT, f"{SERVER}:icmp/8:5").verdict == "reachable"      # code -1: any code
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:icmp/3:4"), direction="ingress", component=SERVER_SG,
                      contains="icmp/3:4")
    assert_blocked(snap.query(CLIENT, f"{SERVER}:icmp/3:3"), direction="ingress", component=SERVER_SG)
    assert_blocked(snap.query(CLIENT, f"{SERVER}:icmp/0"), direction="ingress", component=SERVER_SG)
    assert_blocked(snap.query(CLIENT, f"{SERVER}:443"), direction="ingress", component=SERVER_SG)
    # icmp with type -1: every type and code.
    snap = pair_estate(tmp_path / "b", server_ingress=[perm("icmp", -1, -1, cidrs=["10.0.1.0/24"])])
    for dst in (f"{SERVER}:icmp/0", f"{SERVER}:icmp/3:4", f"{SERVER}:icmp/8"):
        assert snap.query(CLIENT, dst).verdict == "reachable", dst
    assert_blocked(snap.query(CLIENT, f"{SERVER}:7/udp"), direction="ingress", component=SERVER_SG)


def test_sg_9_ipv4_and_ipv6_are_separate(tmp_path):
    """SG-9 "IPv4 and IPv6 are separate: 0.0.0.0/0 does not admit IPv6, ::/0 does not admit IPv4." Both
    interfaces are dual-stack; the query is asked once over IPv4 and once over IPv6."""
    dual = {"client_kwargs": {"ipv6": ["2600:1f18:aaaa:1::10"]}, "server_kwargs": {"ipv6": ["2600:1f18:aaaa:2::20"]}}
    snap = pair_estate(tmp_path / "a", server_ingress=[perm("tcp", 443, 443, cidrs6=["::/0"])],
                       client_egress=[perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"])], **dual)
    assert_blocked(snap.query(CLIENT, f"{SERVER}:443"), direction="ingress", component=SERVER_SG)
    assert_blocked(snap.query("10.0.1.99", f"{SERVER}:443"), direction="ingress", component=SERVER_SG)
    r = snap.query(CLIENT, f"{SERVER}:443", ip_version=6)
    assert_allowed_by(r, direction="ingress", component=SERVER_SG, contains="from ::/0")
    assert [(p.source_address, p.destination_address) for p in r.pairs] == [("2600:1f18:aaaa:1::10",
                                                                              "2600:1f18:aaaa:2::20")]
    snap = pair_estate(tmp_path / "b", server_ingress=[perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])], **dual)
    assert snap.query(CLIENT, f"{SERVER}:443").verdict == "reachable"
    r = snap.query(CLIENT, f"{SERVER}:443", ip_version=6)
    # This client's outbound allow-all is IPv4-only (as AWS creates it in a VPC without IPv6): both sides block.
    assert r.verdict == "blocked", explain(r)
    assert {(b.code, b.direction, b.component) for b in r.blockers} == {
        ("ENI_SG_RULES_MISMATCH", "egress", CLIENT_SG), ("ENI_SG_RULES_MISMATCH", "ingress", SERVER_SG)}


def test_sg_10_prefix_list_known(tmp_path):
    """SG-10 "A prefix list (PrefixListIds) matches any address in any of its entries." """
    pl = "pl-0123456789abcdef0"
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 443, 443, prefix_lists=[pl])],
                       PrefixLists=[prefix_list(pl, ["10.0.1.0/24", "10.0.3.128/25"], name="corp")])
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:443"), direction="ingress", component=SERVER_SG,
                      contains=f"from {pl}")
    assert snap.query("10.0.3.200", f"{SERVER}:443").verdict == "reachable"     # second entry
    assert_blocked(snap.query("10.0.3.100", f"{SERVER}:443"), direction="ingress", component=SERVER_SG)


def test_sg_10_unknown_prefix_list_matches_nothing(tmp_path):
    """SG-10 "An unknown prefix list matches nothing and deserves a warning." """
    pl = "pl-0fffffffffffffff0"
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 443, 443, prefix_lists=[pl])])
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert_blocked(r, direction="ingress", component=SERVER_SG)
    assert pl in r.blockers[0].detail


def test_sg_10_unknown_prefix_list_warns(tmp_path):
    """SG-10 "An unknown prefix list matches nothing and deserves a warning." """
    pl = "pl-0fffffffffffffff0"
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 443, 443, prefix_lists=[pl])])
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert r.verdict == "blocked"
    assert any(pl in w for w in r.warnings), r.warnings


def test_sg_11_cross_account_reference_is_unknown(tmp_path):
    """SG-11 "A reference to a group of an account that is not in the snapshot cannot be resolved: that answer
    is unknown (Reachability Analyzer says UNKNOWN_PEERED_SGS)." """
    pcx, peer_vpc = "pcx-0f0f0f0f0f0f0f0f0", "vpc-0f0f0f0f0f0f0f0f0"
    foreign = {"GroupId": "sg-0f0f0f0f0f0f0f0f0", "UserId": OTHER_ACCOUNT, "VpcId": peer_vpc,
               "VpcPeeringConnectionId": pcx, "PeeringStatus": "active"}
    # Our side of the peering is complete (connection active, route to 10.1.0.0/16); the other account is not
    # in the snapshot, so nobody can say which of its addresses carry its group.
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 443, 443, groups=[foreign])],
                       VpcPeeringConnections=[peering(pcx, VPC, peer_vpc, accepter_owner=OTHER_ACCOUNT)],
                       RouteTables=[route_table("rtb-0a1b2c3d4e5f60001", local=["10.0.0.0/16"],
                                                routes=[route("10.1.0.0/16", VpcPeeringConnectionId=pcx)])])
    r = snap.query("10.1.5.9", f"{SERVER}:443")      # an address in the other account's peered VPC
    assert r.verdict == "unknown", explain(r)
    assert not r.blockers
    assert any("UNKNOWN_PEERED_SGS" in x for x in r.unknown_reasons), r.unknown_reasons
    # An interface of the snapshot never carries the other account's group: that one is decidable.
    assert_blocked(snap.query(CLIENT, f"{SERVER}:443"), direction="ingress", component=SERVER_SG)


def test_sg_11_peered_group_reference_needs_active_peering(tmp_path):
    """SG-11 "A reference to a group in a peered VPC works in the same region while the peering is active." """
    peer_vpc, peer_sg, pcx = "vpc-0bbbbbbbbbbbbbbb1", "sg-0bbbbbbbbbbbbbbb1", "pcx-0123456789abcdef0"
    peer_subnet = "subnet-0bbbbbbbbbbbbbb01"
    pair = {"GroupId": peer_sg, "UserId": ACCOUNT, "VpcId": peer_vpc, "VpcPeeringConnectionId": pcx,
            "PeeringStatus": "active"}
    for status in ("active", "deleted"):
        docs = estate(
            SecurityGroups=[sg(peer_sg, "peer-app", vpc_id=peer_vpc),
                            sg(SERVER_SG, "server", ingress=[perm("tcp", 443, 443, groups=[pair])])],
            NetworkInterfaces=[eni("eni-0bbbbbbbbbbbbbb01", "10.1.1.7", [peer_sg], vpc_id=peer_vpc,
                                   subnet_id=peer_subnet),
                               eni(SERVER, SERVER_IP, [SERVER_SG], subnet_id=SUBNET_B)],
            VpcPeeringConnections=[peering(pcx, VPC, peer_vpc, status=status)])
        docs["Vpcs"].append(vpc(peer_vpc, "10.1.0.0/16"))
        docs["Subnets"].append(subnet(peer_subnet, "10.1.1.0/24", vpc_id=peer_vpc))
        docs["RouteTables"] = [route_table("rtb-0a0000000000000a1", routes=[route("10.1.0.0/16",
                                                                                  VpcPeeringConnectionId=pcx)]),
                               route_table("rtb-0b0000000000000b1", vpc_id=peer_vpc, local=["10.1.0.0/16"],
                                           routes=[route("10.0.0.0/16", VpcPeeringConnectionId=pcx)])]
        docs["NetworkAcls"].append(default_acl("acl-0b0000000000000b1", vpc_id=peer_vpc, subnets=[peer_subnet]))
        snap = reachgraph.load(write_estate(tmp_path / status, docs))
        r = snap.query("eni-0bbbbbbbbbbbbbb01", f"{SERVER}:443")
        if status == "active":
            assert_allowed_by(r, direction="ingress", component=SERVER_SG, contains=f"from {peer_sg}")
        else:
            # The security group rule no longer matches (and the routes through the peering are dead too).
            assert r.verdict == "blocked", explain(r)
            ingress = sg_checks(r, "ingress")
            assert ingress and all(c.status == "deny" and c.component == SERVER_SG for c in ingress), explain(r)


def test_sg_12_stale_reference_matches_nothing(tmp_path):
    """SG-12 "A reference to a deleted group is stale and matches nothing." """
    deleted = "sg-0de1e7ed00000de1e"
    snap = pair_estate(tmp_path, server_ingress=[perm("tcp", 443, 443, groups=[deleted])])
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert_blocked(r, direction="ingress", component=SERVER_SG)
    assert deleted in r.blockers[0].detail and "not in the snapshot" in r.blockers[0].detail
    # From an address outside the snapshot: still decidable (same account), still blocked -- not unknown.
    assert_blocked(snap.query("10.0.3.3", f"{SERVER}:443"), direction="ingress", component=SERVER_SG)


def test_sg_13_quotas_never_change_verdicts(tmp_path):
    """SG-13 "Quotas (useful for lints, never for verdicts): 60 inbound rules per group ..., 5 groups per
    interface by default (up to 16)." The 70th rule and the 7th group still count."""
    many = [perm("tcp", 10000 + n, 10000 + n, cidrs=["10.0.1.0/24"]) for n in range(70)]
    extra = [f"sg-000000000000000{n:02d}" for n in range(6)]
    groups = [sg(CLIENT_SG, "client"), sg(SERVER_SG, "server", ingress=many)]
    groups += [sg(g, f"g{n}", ingress=[perm("tcp", 20000 + n, 20000 + n, cidrs=["10.0.1.0/24"])])
               for n, g in enumerate(extra)]
    snap = load(tmp_path, groups, [eni(CLIENT, CLIENT_IP, [CLIENT_SG]),
                                   eni(SERVER, SERVER_IP, [SERVER_SG, *extra], subnet_id=SUBNET_B)])
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:10069"), direction="ingress", component=SERVER_SG,
                      contains="tcp/10069")
    assert_allowed_by(snap.query(CLIENT, f"{SERVER}:20005"), direction="ingress", component=extra[5],
                      contains="tcp/20005")
    assert snap.query(CLIENT, f"{SERVER}:10070").verdict == "blocked"


def test_sg_14_amazon_dns_and_metadata_not_filtered(tmp_path):
    """SG-14 "Amazon DNS (VPC+2), DHCP, instance metadata and time sync are not filtered." The client's group has
    no outbound rules at all, yet the security groups let these through."""
    snap = pair_estate(tmp_path, client_egress=[], server_ingress=[])
    for dst in ("10.0.0.2:53/udp", "10.0.0.2:53/tcp", "169.254.169.254:80", "169.254.169.253:53/udp",
                "169.254.169.123:123/udp"):
        r = snap.query(CLIENT, dst)
        egress = sg_checks(r, "egress")
        assert egress and all(c.status == "allow" for c in egress), (dst, explain(r))
        assert not [b for b in r.blockers if b.code in ("SG_HAS_NO_RULES", "ENI_SG_RULES_MISMATCH")], explain(r)
    r = snap.query(CLIENT, "10.0.0.2:53/udp")
    assert r.verdict == "reachable" and not r.blockers, explain(r)
    # Any other address in the VPC is filtered as usual by the (empty) egress.
    assert_blocked(snap.query(CLIENT, "10.0.0.3:53/udp"), direction="egress", component=CLIENT_SG,
                   code="SG_HAS_NO_RULES")


@pytest.mark.parametrize("dst", ["169.254.169.254:80", "169.254.169.253:53/udp", "169.254.169.123:123/udp"])
def test_sg_14_link_local_services_are_reachable(tmp_path, dst):
    """SG-14: instance metadata, Amazon DNS and time sync at 169.254.169.x answer every instance."""
    snap = pair_estate(tmp_path, client_egress=[], server_ingress=[])
    r = snap.query(CLIENT, dst)
    assert r.verdict == "reachable" and not r.blockers, explain(r)


# -- ECS ---------------------------------------------------------------------------------------------
CLUSTER = "shop"
REDIS_SG, API_SG, OLD_SG = "sg-0aedc5000000000a1", "sg-0a0a0a0a0a0a0a0a1", "sg-00d00d00d00d00d01"


def ecs_estate(tmp_path: Path, *, tasks: list[dict], task_enis: list[dict], service_groups=(API_SG,),
               redis_admits=(API_SG,), port: int = 6379, members=("cache-001",), cache_enis=None,
               egress=None) -> reachgraph.Snapshot:
    """ECS service `api` (cluster shop) and a Redis replication group `cache` of the given members."""
    groups = [sg(API_SG, "api-tasks", egress=egress), sg(OLD_SG, "old-tasks"),
              sg(REDIS_SG, "redis", ingress=[perm("tcp", port, port, groups=list(redis_admits))])]
    if cache_enis is None:
        cache_enis = [cache_eni(f"eni-0cac4e00000000{n:03d}", f"10.0.2.{50 + n}", m, [REDIS_SG])
                      for n, m in enumerate(members)]
    return load(tmp_path, groups, task_enis + cache_enis,
                services=[ecs_service("api", CLUSTER, list(service_groups))], tasks=tasks,
                CacheClusters=[cache_cluster(m, [REDIS_SG], port=port, replication_group="cache") for m in members],
                ReplicationGroups=[replication_group("cache", list(members), port=port)])


def test_ecs_1_task_interface_groups_come_from_the_interface(tmp_path):
    """ECS-1 "The task's groups are not in describe-tasks: read them from the interface
    (describe-network-interfaces)" -- the interface wins over the service's configuration."""
    snap = ecs_estate(tmp_path, service_groups=[API_SG],
                      tasks=[ecs_task("1111aaaa2222bbbb", CLUSTER, "api", eni_id="eni-0a5c00000000000a1",
                                      ip="10.0.1.23")],
                      task_enis=[task_eni("eni-0a5c00000000000a1", "10.0.1.23", [OLD_SG])])
    r = snap.query("api", "cache:6379")
    assert_blocked(r, direction="ingress", component=REDIS_SG)
    assert r.source.interfaces == ("eni-0a5c00000000000a1",)
    assert "carries " + OLD_SG in r.blockers[0].detail
    assert r.fixes == (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol tcp --port 6379 "
                       f"--source-group {OLD_SG}",)


def test_ecs_1_missing_task_interface_inferred_from_attachment_and_service(tmp_path):
    """ECS-1 "awsvpc tasks each have an interface: describe-tasks lists it under attachments ... read [the groups]
    ... from the service's networkConfiguration.awsvpcConfiguration.securityGroups when the interface is missing." """
    snap = ecs_estate(tmp_path, service_groups=[API_SG],
                      tasks=[ecs_task("1111aaaa2222bbbb", CLUSTER, "api", eni_id="eni-0a5c00000000000a1",
                                      ip="10.0.1.23")],
                      task_enis=[])       # describe-network-interfaces does not list the task's interface
    iface = snap.model.interfaces["eni-0a5c00000000000a1"]
    assert iface.group_ids == (API_SG,) and iface.private_ipv4 == ("10.0.1.23",) and iface.subnet_id == SUBNET_A
    r = snap.query("api", "cache:6379")
    assert_allowed_by(r, direction="ingress", component=REDIS_SG, contains=f"from {API_SG}")
    assert [p.source_address for p in r.pairs] == ["10.0.1.23"]
    # The same estate where Redis admits another group: blocked, naming the inferred interface's group.
    snap = ecs_estate(tmp_path / "b", service_groups=[API_SG], redis_admits=[OLD_SG],
                      tasks=[ecs_task("1111aaaa2222bbbb", CLUSTER, "api", eni_id="eni-0a5c00000000000a1",
                                      ip="10.0.1.23")], task_enis=[])
    r = snap.query("api", "cache:6379")
    assert_blocked(r, direction="ingress", component=REDIS_SG)
    assert r.fixes[0].endswith(f"--source-group {API_SG}")


def test_ecs_2_task_belongs_to_service_of_same_cluster(tmp_path):
    """ECS-2 "A task belongs to a service when its group is service:<serviceName> in the same cluster." """
    tasks = [ecs_task("1111aaaa2222bbbb", CLUSTER, "api", eni_id="eni-0a5c00000000000a1", ip="10.0.1.23"),
             ecs_task("3333cccc4444dddd", CLUSTER, "api", eni_id="eni-0a5c00000000000a2", ip="10.0.1.24"),
             # same service name, other cluster: not a task of shop/api
             ecs_task("5555eeee6666ffff", "other", "api", eni_id="eni-0a5c00000000000a3", ip="10.0.1.25"),
             # a standalone task of the same cluster
             ecs_task("7777aaaa8888bbbb", CLUSTER, None, eni_id="eni-0a5c00000000000a4", ip="10.0.1.26")]
    enis = [task_eni(f"eni-0a5c00000000000a{n}", f"10.0.1.{22 + n}", [API_SG]) for n in range(1, 5)]
    snap = ecs_estate(tmp_path, tasks=tasks, task_enis=enis)
    r = snap.query("api", "cache:6379")
    assert r.verdict == "reachable"
    assert r.source.interfaces == ("eni-0a5c00000000000a1", "eni-0a5c00000000000a2")
    assert r.counts["pairs"] == 2


def test_ecs_4_precreated_attachment_is_unknown_not_blocked(tmp_path):
    """ECS-4 "A task attachment in PRECREATED state may have no interface yet: unknown, not blocked." """
    tasks = [ecs_task("1111aaaa2222bbbb", CLUSTER, "api", eni_id=None, ip=None, attachment_status="PRECREATED",
                      last_status="PROVISIONING")]
    # Redis admits the service's group, but the task's interface does not exist yet: not reachable either.
    snap = ecs_estate(tmp_path, tasks=tasks, task_enis=[], redis_admits=[API_SG])
    r = snap.query("api", "cache:6379")
    assert r.verdict == "unknown", explain(r)
    assert not r.blockers and not r.fixes
    assert any("PRECREATED" in x for x in r.unknown_reasons), r.unknown_reasons


# -- ElastiCache ---------------------------------------------------------------------------------------
def _api_task(n: int = 1) -> tuple[list[dict], list[dict]]:
    tasks = [ecs_task(f"{n:04d}aaaa2222bbbb", CLUSTER, "api", eni_id=f"eni-0a5c00000000000a{n}", ip=f"10.0.1.{22 + n}")]
    return tasks, [task_eni(f"eni-0a5c00000000000a{n}", f"10.0.1.{22 + n}", [API_SG])]


def test_ec_1_node_interfaces_found_by_description(tmp_path):
    """EC-1 "Interfaces are recognisable by Description "ElastiCache <cache-cluster-id>" and RequesterId
    "amazon-elasticache"" -- their addresses are the destinations."""
    tasks, enis = _api_task()
    snap = ecs_estate(tmp_path, tasks=tasks, task_enis=enis, members=("cache-001", "cache-002"))
    r = snap.query("api", "cache:6379")
    assert r.verdict == "reachable"
    assert sorted(r.destination.interfaces) == ["eni-0cac4e00000000000", "eni-0cac4e00000000001"]
    assert sorted(p.destination_address for p in r.pairs) == ["10.0.2.50", "10.0.2.51"]


def test_ec_1_fallback_to_cluster_groups_without_interfaces(tmp_path):
    """EC-1 "fall back to the cluster's groups and subnet group when no interface matches." The cluster's
    SecurityGroups decide the ingress."""
    tasks, enis = _api_task()
    snap = ecs_estate(tmp_path / "ok", tasks=tasks, task_enis=enis, cache_enis=[])
    r = snap.query("api", "cache:6379")
    assert len(r.destination.interfaces) == 1 and r.counts["pairs"] == 1
    ingress = sg_checks(r, "ingress")
    assert [c.status for c in ingress] == ["allow"] and ingress[0].component == REDIS_SG, explain(r)
    snap = ecs_estate(tmp_path / "blocked", tasks=tasks, task_enis=enis, cache_enis=[], redis_admits=[OLD_SG])
    r = snap.query("api", "cache:6379")
    assert r.verdict == "blocked"
    assert any((b.code, b.direction, b.component) == ("ENI_SG_RULES_MISMATCH", "ingress", REDIS_SG)
               for b in r.blockers), explain(r)
    assert r.fixes == (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol tcp --port 6379 "
                       f"--source-group {API_SG}",)


def test_ec_1_fallback_is_never_a_wrong_blocked(tmp_path):
    """EC-1 fallback with groups that admit the client, one VPC, default ACL: reachable (at worst unknown)."""
    tasks, enis = _api_task()
    snap = ecs_estate(tmp_path, tasks=tasks, task_enis=enis, cache_enis=[])
    r = snap.query("api", "cache:6379")
    assert r.verdict in ("reachable", "unknown") and not r.blockers, explain(r)


def test_ec_2_replication_group_name_resolves_to_parent(tmp_path):
    """EC-2 "A replication group's members are all destinations" -- and a name matching the group and its
    member clusters (cache, cache-001, cache-002) means the group."""
    tasks, enis = _api_task()
    snap = ecs_estate(tmp_path, tasks=tasks, task_enis=enis, members=("cache-001", "cache-002"))
    r = snap.query("api", "cache")
    assert r.destination.kind == "workload" and r.destination.id.startswith("elasticache_replication_group:")
    assert len(r.destination.interfaces) == 2 and r.counts["pairs"] == 2
    one = snap.query("api", "cache-002")
    assert one.destination.id.startswith("elasticache_cluster:") and one.destination.interfaces == (
        "eni-0cac4e00000000001",)


def test_ec_2_one_member_blocked_makes_partial(tmp_path):
    """EC-2 "clients may talk to any primary or replica ... One unreachable member makes the answer partial." """
    tasks, enis = _api_task()
    members = ("cache-001", "cache-002")
    cache_enis = [cache_eni("eni-0cac4e00000000000", "10.0.2.50", "cache-001", [REDIS_SG], subnet_id=SUBNET_B),
                  cache_eni("eni-0cac4e00000000001", "10.0.3.50", "cache-002", [REDIS_SG],
                            subnet_id="subnet-0c0000000000000c1")]
    # The tasks may only talk to 10.0.2.0/24: the replica in 10.0.3.0/24 is out of reach.
    snap = ecs_estate(tmp_path, tasks=tasks, task_enis=enis, members=members, cache_enis=cache_enis,
                      egress=[perm("tcp", 6379, 6379, cidrs=["10.0.2.0/24"])])
    r = snap.query("api", "cache:6379")
    assert r.verdict == "partial", explain(r)
    assert {p.destination: p.verdict for p in r.pairs} == {"eni-0cac4e00000000000": "reachable",
                                                           "eni-0cac4e00000000001": "blocked"}
    b = only_blocker(r)
    assert (b.code, b.direction, b.component) == ("ENI_SG_RULES_MISMATCH", "egress", API_SG)


def test_ec_3_port_comes_from_the_data(tmp_path):
    """EC-3 "The port comes from the data (CacheNodes[].Endpoint.Port, NodeGroups[].PrimaryEndpoint.Port,
    ConfigurationEndpoint.Port); don't assume 6379." """
    tasks, enis = _api_task()
    snap = ecs_estate(tmp_path, tasks=tasks, task_enis=enis, port=6380, members=("cache-001", "cache-002"))
    r = snap.query("api", "cache")
    assert (r.protocol, r.port) == ("tcp", 6380)
    assert r.verdict == "reachable"
    assert snap.query("api", "cache-001").port == 6380
    assert_blocked(snap.query("api", "cache:6379"), direction="ingress", component=REDIS_SG)
