"""The internet as an endpoint (issue 4): `internet` (any public address) and an external public address such as
203.0.113.10 (TEST-NET-3, what a user would try), as a source and as a destination.

A source on the internet reaches an interface only through a public or Elastic IP on it, an internet gateway route
in its subnet's table (the reply leaves that way), ACLs both ways and ingress rules admitting a public address.
As a destination, the internet is reached through an internet gateway (which needs the public IP) or a NAT gateway
whose own subnet routes to an internet gateway. Opening a group to the internet is a decision, never a fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reachgraph
from answers import explain, keys
from builders import (
    SUBNET_A, SUBNET_B, SUBNET_B_CIDR, VPC_CIDR, VPC_IPV6, eni, estate, perm, route, route_table,
    sg, write_estate,
)
from conftest import run_cli
from path_builders import (
    allow_all_acl, allow_in, allow_out, deny_in, lb_arn, listener, load_balancer, nat_eni, nat_gateway, network_acl,
)

IGW, NAT, EIGW = "igw-0a1b2c3d4e5f60001", "nat-0a1b2c3d4e5f60009", "eigw-0a1b2c3d4e5f60008"
WEB_SG, APP_SG, CLIENT_SG = "sg-0e0000000000e0001", "sg-0e0000000000e0002", "sg-0e0000000000e0003"
WEB, WEB_NOIP, APP, CLIENT, NAT_ENI = ("eni-0e00000000000e001", "eni-0e00000000000e002", "eni-0e00000000000e003",
                                      "eni-0e00000000000e004", "eni-0e00000000000e009")
WEB_IP, WEB_PUBLIC, APP_IP = "10.0.1.10", "54.210.0.10", "10.0.2.20"
RTB_PUBLIC, RTB_PRIVATE = "rtb-0e0000000000e0001", "rtb-0e0000000000e0002"
ACL_PUBLIC, ACL_PRIVATE = "acl-0e0000000000e0001", "acl-0e0000000000e0002"
HOST = "203.0.113.10"   # TEST-NET-3: the internet host a user would try


def cli(*args: str):
    """The CLI in-process (fast); conftest.run_cli exercises the installed script in a few places."""
    from reachgraph.cli import app

    res = CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200", "REACHGRAPH_SNAPSHOT": ""})
    res.returncode = res.exit_code
    return res


def internet_docs(*, web_ingress: list[dict] | None = None, acl_public: list[dict] | None = None,
                  nat_subnet_routes_to_igw: bool = True, with_nat_eni: bool = True,
                  app_public_ip: str | None = None) -> dict:
    """Subnet A is public (RTB_PUBLIC: 0.0.0.0/0 and ::/0 -> IGW) and holds WEB (public IP 54.210.0.10),
    WEB_NOIP (no public IP), CLIENT and the NAT gateway; subnet B is private (main table RTB_PRIVATE: 0.0.0.0/0 ->
    NAT, ::/0 -> egress-only gateway) and holds APP. `acl_public` entries make a custom ACL on subnet A."""
    ingress = web_ingress if web_ingress is not None else [perm("tcp", 443, 443, cidrs=["0.0.0.0/0"],
                                                                cidrs6=["::/0"])]
    groups = [sg(WEB_SG, "web", ingress=ingress, egress=[perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"])]),
              sg(APP_SG, "app", ingress=[perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])],
                 egress=[perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"])]),
              sg(CLIENT_SG, "client")]
    enis = [eni(WEB, WEB_IP, [WEB_SG], subnet_id=SUBNET_A, public_ip=WEB_PUBLIC, ipv6=["2600:1f18:aaaa:1::10"]),
            eni(WEB_NOIP, "10.0.1.11", [WEB_SG], subnet_id=SUBNET_A),
            eni(CLIENT, "10.0.1.12", [CLIENT_SG], subnet_id=SUBNET_A),
            eni(APP, APP_IP, [APP_SG], subnet_id=SUBNET_B, public_ip=app_public_ip, ipv6=["2600:1f18:aaaa:2::20"])]
    if with_nat_eni:
        enis.append(nat_eni(NAT_ENI, "10.0.1.5", NAT, subnet_id=SUBNET_A, public_ip="54.210.0.5"))
    docs = estate(SecurityGroups=groups, NetworkInterfaces=enis,
                  NatGateways=[nat_gateway(NAT, NAT_ENI, "10.0.1.5", "54.210.0.5", subnet_id=SUBNET_A)])
    public_routes = [route("0.0.0.0/0", GatewayId=IGW), route("::/0", GatewayId=IGW)]
    docs["RouteTables"] = [
        route_table(RTB_PUBLIC, main=False, subnets=[SUBNET_A] if nat_subnet_routes_to_igw else [],
                    local=[VPC_CIDR, VPC_IPV6], routes=public_routes),
        route_table(RTB_PRIVATE, main=True, local=[VPC_CIDR, VPC_IPV6],
                    routes=[route("0.0.0.0/0", NatGatewayId=NAT), route("::/0", EgressOnlyInternetGatewayId=EIGW)])]
    if acl_public is None:
        docs["NetworkAcls"] = [allow_all_acl(ACL_PRIVATE, subnets=[SUBNET_A, SUBNET_B])]
    else:
        docs["NetworkAcls"] = [allow_all_acl(ACL_PRIVATE, subnets=[SUBNET_B]),
                               network_acl(ACL_PUBLIC, acl_public, subnets=[SUBNET_A])]
    return docs


def load_docs(tmp_path: Path, docs: dict, name: str = "snap") -> reachgraph.Snapshot:
    return reachgraph.load(write_estate(tmp_path / name, docs))






def assert_reachable(result):
    assert result.verdict == "reachable", explain(result)
    assert not result.blockers
    return result


@pytest.fixture(scope="module")
def snap(tmp_path_factory) -> reachgraph.Snapshot:
    return load_docs(tmp_path_factory.mktemp("internet"), internet_docs())


# -- the internet as a source --------------------------------------------------------------------------
def test_internet_reaches_an_interface_with_public_ip_igw_route_acls_and_ingress(snap):
    """Public IP + igw route in its subnet's table + ACLs both ways + an ingress rule for 0.0.0.0/0."""
    r = assert_reachable(snap.query("internet", f"{WEB}:443"))
    checks = {(c.kind, c.direction, c.component, c.status) for p in r.pairs for c in p.checks}
    assert ("security_group", "ingress", WEB_SG, "allow") in checks, explain(r)
    assert ("route", "egress-reply", RTB_PUBLIC, "allow") in checks, explain(r)
    assert {("network_acl", d, ACL_PRIVATE, "allow") for d in ("ingress", "egress-reply")} <= checks, explain(r)
    assert any("0.0.0.0/0" in a.rule for a in r.allowed_by if a.component == WEB_SG), r.allowed_by
    # the host a user would try is just as reachable, and so is the public IP's owner asked by its private IP
    assert_reachable(snap.query(HOST, f"{WEB}:443"))
    assert_reachable(snap.query(HOST, f"{WEB_IP}:443"))
    # the group admits 443 only: 22 from the internet is blocked by the group
    r = snap.query("internet", f"{WEB}:22")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", WEB_SG)}, explain(r)


def test_internet_cli_internet_and_external_address(tmp_path):
    """`reachgraph query internet web:443` and `reachgraph query 203.0.113.10 web:443` from the installed CLI."""
    folder = write_estate(tmp_path / "snap", internet_docs())
    r = run_cli("query", "internet", f"{WEB}:443", "--snapshot", str(folder))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("REACHABLE"), r.stdout
    r = cli("query", HOST, f"{WEB}:443", "--snapshot", str(folder), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "reachable" and doc["blockers"] == [] and doc["fixes"] == []
    assert doc["destination"]["interfaces"] == [WEB]
    r = cli("query", HOST, f"{WEB_NOIP}:443", "--snapshot", str(folder), "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["verdict"] == "blocked"


def test_internet_needs_a_public_ip_on_the_interface(snap):
    """Without a public or Elastic IP no internet host can address the interface, whatever its rules say."""
    for src in ("internet", HOST):
        r = snap.query(src, f"{WEB_NOIP}:443")
        assert r.verdict == "blocked", explain(r)
        assert [b.component for b in r.blockers] == [WEB_NOIP], explain(r)
        assert "public" in r.blockers[0].detail, r.blockers[0].detail
        assert r.fixes == ()


def test_internet_blocker_names_the_interface_of_its_own_pair(tmp_path):
    """design.md: `component` is the AWS id of what blocks, and output is deterministic: the answer about B names
    B whatever was asked before, and each pair's check names that pair's interface."""
    other = "eni-0e00000000000e0aa"
    docs = internet_docs()
    docs["NetworkInterfaces"].append(eni(other, "10.0.1.99", [WEB_SG], subnet_id=SUBNET_A))
    snap = load_docs(tmp_path, docs)
    first = snap.query("internet", f"{WEB_NOIP}:443")
    assert [b.component for b in first.blockers] == [WEB_NOIP], explain(first)
    second = snap.query("internet", f"{other}:443")
    assert [b.component for b in second.blockers] == [other], explain(second)
    fresh = load_docs(tmp_path, docs, "fresh").query("internet", f"{other}:443")
    assert second.to_dict() == fresh.to_dict()
    group = snap.query("internet", f"{WEB_SG}:443")         # WEB (public IP), WEB_NOIP and `other`
    assert group.verdict == "partial", explain(group)
    for p in group.pairs:
        for c in p.checks:
            if c.kind == "address":
                assert c.component == p.destination, explain(group)
    assert {b.component for b in group.blockers} == {WEB_NOIP, other}, explain(group)


def test_internet_private_subnet_routing_to_nat_blocks_with_the_reply_route_reason(tmp_path):
    """An interface with a public IP in a subnet whose 0.0.0.0/0 goes to a NAT gateway: the request could
    arrive, but the reply leaves through the NAT gateway and never reaches the client."""
    snap = load_docs(tmp_path, internet_docs(app_public_ip="54.210.0.20"))
    for src in ("internet", HOST):
        r = snap.query(src, f"{APP}:443")
        assert r.verdict == "blocked", explain(r)
        assert keys(r) == {("NO_ROUTE_TO_DESTINATION", "egress-reply", RTB_PRIVATE)}, explain(r)
        assert NAT in r.blockers[0].detail and "repl" in r.blockers[0].detail, r.blockers[0].detail
        assert r.fixes == ()
    # without a public IP it is blocked for that reason too: every blocker is reported
    r = load_docs(tmp_path, internet_docs(), "noip").query("internet", f"{APP}:443")
    assert r.verdict == "blocked"
    assert ("NO_ROUTE_TO_DESTINATION", "egress-reply", RTB_PRIVATE) in keys(r), explain(r)
    assert APP in {b.component for b in r.blockers}, explain(r)


def test_internet_ingress_rules_must_admit_a_public_address(tmp_path):
    """SG-6/SG-9 for the internet: the group must admit some public address (a rule for 10.0.0.0/8 or for a
    group admits no internet host); `internet` passes if any public address does, 203.0.113.10 only if it does."""
    snap = load_docs(tmp_path, internet_docs(web_ingress=[perm("tcp", 22, 22, cidrs=["198.51.100.0/24"]),
                                                          perm("tcp", 443, 443, cidrs=["10.0.0.0/8"],
                                                               groups=[CLIENT_SG])]))
    assert_reachable(snap.query("internet", f"{WEB}:22"))
    r = snap.query(HOST, f"{WEB}:22")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", WEB_SG)}, explain(r)
    r = snap.query("internet", f"{WEB}:443")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", WEB_SG)}, explain(r)
    assert r.fixes == (), r.fixes                    # no command opens a group to the internet
    # an address inside the VPC asking the same thing does get a fix
    r = snap.query(APP, f"{WEB}:22")
    assert r.verdict == "blocked" and r.fixes, explain(r)


def test_internet_acls_must_admit_a_public_address_both_ways(tmp_path):
    """NACL-1/NACL-7 for the internet: subnet A's ACL denies 203.0.113.0/24 at rule 50, then allows all."""
    snap = load_docs(tmp_path, internet_docs(acl_public=[deny_in(50, "-1", "203.0.113.0/24"), allow_in(100),
                                                         allow_out(100)]))
    assert_reachable(snap.query("internet", f"{WEB}:443"))        # other internet hosts still get in
    r = snap.query(HOST, f"{WEB}:443")
    assert r.verdict == "blocked" and keys(r) == {("SUBNET_ACL_RESTRICTION", "ingress", ACL_PUBLIC)}, explain(r)
    assert "rule 50" in r.blockers[0].detail, r.blockers[0].detail

    # inbound admits only the VPC: no internet host gets in
    snap = load_docs(tmp_path, internet_docs(acl_public=[allow_in(100, "-1", VPC_CIDR), allow_out(100)]), "vpc")
    r = snap.query("internet", f"{WEB}:443")
    assert r.verdict == "blocked" and keys(r) == {("SUBNET_ACL_RESTRICTION", "ingress", ACL_PUBLIC)}, explain(r)
    # outbound admits only the VPC: the reply to the internet client is dropped
    snap = load_docs(tmp_path, internet_docs(acl_public=[allow_in(100), allow_out(100, "-1", VPC_CIDR)]), "out")
    r = snap.query("internet", f"{WEB}:443")
    assert r.verdict == "blocked" and keys(r) == {("SUBNET_ACL_RESTRICTION", "egress-reply", ACL_PUBLIC)}, \
        explain(r)

    # the group admits only 198.51.100.0/24 and the ACL only 203.0.113.0/24: no public address passes both
    snap = load_docs(tmp_path, internet_docs(web_ingress=[perm("tcp", 443, 443, cidrs=["198.51.100.0/24"])],
                                             acl_public=[allow_in(100, "-1", "203.0.113.0/24"), allow_out(100)]),
                     "disjoint")
    r = snap.query("internet", f"{WEB}:443")
    assert r.verdict == "blocked", explain(r)
    assert ("SUBNET_ACL_RESTRICTION", "ingress", ACL_PUBLIC) in keys(r), explain(r)


def test_internet_clients_ephemeral_range_for_the_reply(tmp_path):
    """NACL-6 for internet clients: the reply goes to the client's ephemeral port; an outbound ACL admitting only
    1024-32767 fails a Linux client (32768-60999) and serves one using 1024-32767 (`ephemeral_ports`)."""
    snap = load_docs(tmp_path, internet_docs(acl_public=[allow_in(100), allow_out(100, "tcp", "0.0.0.0/0",
                                                                               ports=(1024, 32767))]))
    r = snap.query("internet", f"{WEB}:443")
    assert r.verdict == "blocked" and keys(r) == {("SUBNET_ACL_RESTRICTION", "egress-reply", ACL_PUBLIC)}, explain(r)
    assert "32768-60999" in r.blockers[0].detail, r.blockers[0].detail
    assert_reachable(snap.query("internet", f"{WEB}:443", ephemeral_ports=(1024, 32767)))
    assert_reachable(snap.query(HOST, f"{WEB}:443", ephemeral_ports=(1024, 32767)))


def test_internet_facing_load_balancer_without_its_interfaces_is_not_blocked(tmp_path):
    """An `internet-facing` load balancer's nodes have public addresses by definition; when describe-network-
    interfaces lacks them the public IP is merely unknown, which must never become `blocked` (semantics.md:
    a miss degrades to unknown). An `internal` one is not reachable from the internet."""
    alb_sg, alb_id = "sg-0e0000000000e00a1", "50dc6c495c0c9188"
    docs = internet_docs()
    docs["SecurityGroups"].append(sg(alb_sg, "alb", ingress=[perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])]))
    docs["LoadBalancers"] = [load_balancer("public-alb", alb_id, [(SUBNET_A, "us-east-1a")], groups=[alb_sg],
                                           scheme="internet-facing"),
                             load_balancer("private-alb", "60dc6c495c0c9189", [(SUBNET_A, "us-east-1a")],
                                           groups=[alb_sg], scheme="internal")]
    docs["Listeners"] = [listener(lb_arn("public-alb", alb_id), 443),
                         listener(lb_arn("private-alb", "60dc6c495c0c9189"), 443)]
    snap = load_docs(tmp_path, docs)
    r = snap.query("internet", "private-alb")
    assert r.verdict == "blocked", explain(r)
    r = snap.query("internet", "public-alb")
    assert r.port == 443
    assert r.verdict in ("reachable", "unknown") and not r.blockers, explain(r)


# -- the internet as a destination ---------------------------------------------------------------------
def test_internet_as_destination_through_the_internet_gateway(snap):
    """Outbound through an internet gateway needs the interface's public IP (the gateway translates to it)."""
    r = assert_reachable(snap.query(WEB, "internet:443"))
    assert any(c.kind == "route" and c.component == RTB_PUBLIC and c.status == "allow" and IGW in c.detail
               for p in r.pairs for c in p.checks), explain(r)
    assert_reachable(snap.query(WEB, f"{HOST}:443"))
    r = snap.query(WEB_NOIP, "internet:443")
    assert r.verdict == "blocked", explain(r)
    assert [b.component for b in r.blockers] == [RTB_PUBLIC] and "public" in r.blockers[0].detail, explain(r)
    assert snap.query(WEB_NOIP, f"{HOST}:443").verdict == "blocked"


def test_internet_as_destination_through_a_nat_gateway(snap, tmp_path):
    """A private subnet reaches the internet through a NAT gateway whose own subnet routes to an internet
    gateway; no public IP needed on the private interface."""
    r = assert_reachable(snap.query(APP, "internet:443"))
    assert any(NAT in c.detail for p in r.pairs for c in p.checks if c.kind == "route"), explain(r)
    assert_reachable(snap.query(APP, f"{HOST}:443"))
    # the NAT gateway's subnet without an internet gateway route: nowhere to go
    broken = load_docs(tmp_path, internet_docs(nat_subnet_routes_to_igw=False), "nat-no-igw")
    r = broken.query(APP, "internet:443")
    assert r.verdict == "blocked", explain(r)
    assert any(b.component == RTB_PRIVATE and b.code == "NO_ROUTE_TO_DESTINATION" for b in r.blockers), explain(r)
    # the NAT gateway's interface missing from the snapshot: cannot tell
    r = load_docs(tmp_path, internet_docs(with_nat_eni=False), "nat-missing").query(APP, "internet:443")
    assert r.verdict == "unknown" and not r.blockers, explain(r)
    assert any(NAT in x for x in r.unknown_reasons), r.unknown_reasons


@pytest.mark.parametrize("case, direction, rule", [
    ("nat-subnet-denies-inbound-from-private", "ingress", "rule 10"),
    ("nat-subnet-admits-no-return-traffic", "ingress-reply", "1024-65535"),
    ("nat-subnet-allows-out-only-to-vpc", "egress", "rule *"),
])
def test_internet_through_nat_crosses_the_nat_subnets_acl(tmp_path, case, direction, rule):
    """NACL-1/NACL-6 through a NAT gateway: traffic from a private subnet to the internet enters the NAT
    gateway's subnet (its inbound ACL sees the private source and the destination port), leaves it for the
    internet (outbound ACL), and the replies come back to the NAT gateway's ports 1024-65535 (inbound ACL) and on
    to the client's ephemeral port (outbound ACL). The NAT subnet's ACL can block any of these."""
    entries = {
        "nat-subnet-denies-inbound-from-private": [deny_in(10, "-1", SUBNET_B_CIDR), allow_in(100), allow_out(100)],
        "nat-subnet-admits-no-return-traffic": [allow_in(100, "-1", "10.0.0.0/8"), allow_out(100)],
        "nat-subnet-allows-out-only-to-vpc": [allow_in(100), allow_out(100, "-1", "10.0.0.0/8")],
    }[case]
    snap = load_docs(tmp_path, internet_docs(acl_public=entries))
    for dst in ("internet:443", f"{HOST}:443"):
        r = snap.query(APP, dst)
        assert r.verdict == "blocked", explain(r)
        assert keys(r) == {("SUBNET_ACL_RESTRICTION", direction, ACL_PUBLIC)}, explain(r)
        assert NAT in r.blockers[0].detail and rule in r.blockers[0].detail, r.blockers[0].detail
    # with an allow-all ACL on the NAT gateway's subnet the same path is open
    ok = load_docs(tmp_path, internet_docs(acl_public=[allow_in(100), allow_out(100)]), "open")
    assert_reachable(ok.query(APP, "internet:443"))


def test_internet_ipv6_egress_only_gateway_is_outbound_only(snap):
    """IPv6 and the internet: an egress-only internet gateway lets the private subnet out over IPv6 but no
    internet host in; the public subnet's ::/0 igw route and a ::/0 rule admit IPv6 internet clients."""
    assert_reachable(snap.query(APP, "internet:443", ip_version=6))
    r = snap.query("internet", f"{APP}:443", ip_version=6)
    assert r.verdict == "blocked", explain(r)
    assert any(b.component == RTB_PRIVATE and b.direction == "egress-reply" for b in r.blockers), explain(r)
    assert_reachable(snap.query("internet", f"{WEB}:443", ip_version=6))
    assert_reachable(snap.query("2001:db8:1::10", f"{WEB}:443"))


def test_internet_ipv4_rule_does_not_admit_ipv6_internet(tmp_path):
    """SG-9 for the internet: 0.0.0.0/0 admits IPv4 internet clients only."""
    snap = load_docs(tmp_path, internet_docs(web_ingress=[perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])]))
    assert_reachable(snap.query("internet", f"{WEB}:443"))
    r = snap.query("internet", f"{WEB}:443", ip_version=6)
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", WEB_SG)}, explain(r)


def test_no_fix_command_is_suggested_for_internet_sources(tmp_path):
    """Opening a group to the internet is a decision, not a fix: no `authorize-security-group-ingress` for
    `internet`; one named external host may get a fix for exactly that host, never for 0.0.0.0/0; a private
    source blocked the same way does get one."""
    folder = write_estate(tmp_path / "snap", internet_docs())
    r = cli("query", "internet", f"{WEB}:8443", "--snapshot", str(folder), "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "blocked" and doc["fixes"] == [], doc
    text = cli("query", "internet", f"{WEB}:8443", "--snapshot", str(folder))
    assert text.stdout.startswith("BLOCKED"), text.stdout
    assert "authorize-security-group" not in text.stdout and "fix:" not in text.stdout, text.stdout
    doc = json.loads(cli("query", HOST, f"{WEB}:8443", "--snapshot", str(folder), "--json").stdout)
    assert doc["verdict"] == "blocked"
    assert all("0.0.0.0/0" not in f and f"{HOST}/32" in f for f in doc["fixes"]), doc["fixes"]
    r = cli("query", CLIENT, f"{WEB}:8443", "--snapshot", str(folder), "--json")
    fixes = json.loads(r.stdout)["fixes"]
    assert any("authorize-security-group-ingress" in f and WEB_SG in f and "8443" in f for f in fixes), fixes
