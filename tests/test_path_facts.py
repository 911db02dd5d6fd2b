"""One test per network-path fact of semantics.md (NACL-1 .. NACL-7, RT-1 .. RT-5, SG-11 across peering), plus
IPv6 and ICMP queries and partial verdicts, on small hand-written AWS JSON (tests/builders.py, tests/path_builders.py).

Security groups are kept wide open in these fixtures (the server admits everything from the VPC) so that the
network ACL or the route table under test is what decides. Every blocker is asserted by code, direction and
component (the acl-/rtb- id), and ACL details must name the deciding rule number.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reachgraph
from answers import explain, keys
from builders import (
    REGION, SUBNET_A, SUBNET_A_CIDR, SUBNET_B, SUBNET_B_CIDR, VPC, VPC_CIDR, VPC_IPV6, cache_cluster, cache_eni,
    ecs_service, ecs_task, eni, estate, peering, perm, prefix_list, replication_group, route, route_table, sg, subnet,
    task_eni, vpc, write_estate,
)
from conftest import run_cli
from path_builders import (
    allow_all_acl, allow_in, allow_out, deny_in, deny_out, function, lambda_eni, lb_eni, network_acl,
    state_route,
)

CLIENT_SG, SERVER_SG = "sg-0c11e47000000c001", "sg-05e97e70000005001"
CLIENT, SERVER, NEIGHBOUR = "eni-0c11e470000000c01", "eni-05e97e70000000501", "eni-0c11e470000000c02"
CLIENT_IP, SERVER_IP, NEIGHBOUR_IP = "10.0.1.10", "10.0.2.20", "10.0.1.11"
CLIENT_IP6, SERVER_IP6 = "2600:1f18:aaaa:1::10", "2600:1f18:aaaa:2::20"
ACL_A, ACL_B, ACL_DEFAULT = "acl-0aaaaaaaaaaaaaaa1", "acl-0bbbbbbbbbbbbbbb1", "acl-0defa017000000001"
SUBNET_C, SUBNET_C_CIDR = "subnet-0c0000000000000c1", "10.0.3.0/24"
LINUX = "32768-60999"


# -- fixtures and assertions ------------------------------------------------------------------------
def cli(*args: str):
    """The CLI in-process (fast); a few tests use conftest.run_cli to exercise the installed script too."""
    from reachgraph.cli import app

    res = CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200", "REACHGRAPH_SNAPSHOT": ""})
    res.returncode = res.exit_code
    return res


def open_groups(*, server_ingress: list[dict] | None = None) -> list[dict]:
    """Both may send anything anywhere (v4 and v6); both admit everything from the VPC (the server: unless
    `server_ingress` says otherwise)."""
    return [sg(CLIENT_SG, "client", egress=[perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"])],
               ingress=[perm("-1", cidrs=["10.0.0.0/8"], cidrs6=[VPC_IPV6])]),
            sg(SERVER_SG, "server", egress=[perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"])],
               ingress=server_ingress if server_ingress is not None else
               [perm("-1", cidrs=["10.0.0.0/8"], cidrs6=[VPC_IPV6])])]


def base_enis() -> list[dict]:
    """CLIENT in subnet A, NEIGHBOUR also in subnet A, SERVER in subnet B; all dual-stack."""
    return [eni(CLIENT, CLIENT_IP, [CLIENT_SG], subnet_id=SUBNET_A, ipv6=[CLIENT_IP6]),
            eni(NEIGHBOUR, NEIGHBOUR_IP, [CLIENT_SG], subnet_id=SUBNET_A, ipv6=["2600:1f18:aaaa:1::11"]),
            eni(SERVER, SERVER_IP, [SERVER_SG], subnet_id=SUBNET_B, az="us-east-1b", ipv6=[SERVER_IP6])]


def acl_docs(acls: list[dict] | None = None, *, groups: list[dict] | None = None, enis: list[dict] | None = None,
             **extra) -> dict:
    """The builders' dual-stack VPC with the given network ACLs (default: the stock allow-all default ACL)."""
    docs = estate(SecurityGroups=groups or open_groups(), NetworkInterfaces=enis or base_enis(), **extra)
    if acls is not None:
        docs["NetworkAcls"] = acls
    return docs


def load_docs(tmp_path: Path, docs: dict, name: str = "snap") -> reachgraph.Snapshot:
    return reachgraph.load(write_estate(tmp_path / name, docs))


def server_acl(entries: list[dict], *, star: bool = True) -> list[dict]:
    """A custom ACL on the server's subnet B; subnet A keeps the VPC's allow-all default ACL."""
    return [allow_all_acl(ACL_DEFAULT, subnets=[SUBNET_A]),
            network_acl(ACL_B, entries, subnets=[SUBNET_B], star=star)]


def client_acl(entries: list[dict]) -> list[dict]:
    """A custom ACL on the client's subnet A; subnet B keeps the allow-all default ACL."""
    return [allow_all_acl(ACL_DEFAULT, subnets=[SUBNET_B]), network_acl(ACL_A, entries, subnets=[SUBNET_A])]






def blocker(result, code: str, direction: str, component: str):
    """The one blocker with that code, direction and component."""
    hits = [b for b in result.blockers if (b.code, b.direction, b.component) == (code, direction, component)]
    assert len(hits) == 1, (explain(result), [b.to_dict() for b in result.blockers])
    return hits[0]


def assert_only_acl_blocker(result, direction: str, acl: str, *, rule: str):
    """Blocked by exactly one ACL crossing, whose detail names the deciding rule number."""
    assert result.verdict == "blocked", explain(result)
    assert keys(result) == {("SUBNET_ACL_RESTRICTION", direction, acl)}, explain(result)
    b = result.blockers[0]
    assert f"rule {rule}" in b.detail or f"rules {rule}" in b.detail, b.detail
    return b


def assert_reachable(result):
    assert result.verdict == "reachable", explain(result)
    assert not result.blockers
    return result


def acl_checks(result, direction: str) -> list:
    return [c for p in result.pairs for c in p.checks if c.kind == "network_acl" and c.direction == direction]


# -- network ACLs ---------------------------------------------------------------------------------------
def test_nacl_1_reply_blocked_by_outbound_acl_admitting_only_443(tmp_path):
    """NACL-1 "Stateless: the reply must be allowed by the ACLs too, in the other direction." The server's
    subnet admits tcp/443 in and allows only tcp/443 out: the request arrives, the reply to the client's
    ephemeral port (32768-60999) is dropped by the server subnet's outbound rules."""
    snap = load_docs(tmp_path, acl_docs(server_acl([
        allow_in(100, "tcp", VPC_CIDR, ports=(443, 443)),
        allow_out(100, "tcp", "0.0.0.0/0", ports=(443, 443)),
        deny_out(200, "-1", "0.0.0.0/0")])))
    r = snap.query(CLIENT, f"{SERVER}:443")
    b = assert_only_acl_blocker(r, "egress-reply", ACL_B, rule="200")
    assert LINUX in b.detail, b.detail
    # the request itself was admitted, by rule 100 inbound
    inbound = acl_checks(r, "ingress")
    assert inbound and all(c.status == "allow" and "100" in c.detail for c in inbound), explain(r)
    assert r.fixes == () or all("authorize-security-group" not in f for f in r.fixes), r.fixes

    # Mirror image: the client's own subnet admits only tcp/443 inbound; the reply coming back is dropped there.
    snap = load_docs(tmp_path, acl_docs(client_acl([
        allow_out(100, "tcp", "0.0.0.0/0", ports=(443, 443)),
        allow_in(100, "tcp", "0.0.0.0/0", ports=(443, 443))])), "mirror")
    b = assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:443"), "ingress-reply", ACL_A, rule="*")
    assert LINUX in b.detail, b.detail


def test_nacl_2_lowest_rule_number_wins_whatever_the_json_order(tmp_path):
    """NACL-2 "Entries are evaluated by ascending RuleNumber, first match wins, whatever their order in the
    JSON. Rule 32767 (*) denies everything left." The allow (rule 200) is listed first, the narrower deny
    (rule 100) after it: the deny wins for the client's /24, the allow still admits the rest of the VPC."""
    snap = load_docs(tmp_path, acl_docs(server_acl([
        allow_in(200, "tcp", VPC_CIDR, ports=(443, 443)),
        deny_in(100, "tcp", SUBNET_A_CIDR, ports=(443, 443)),
        allow_out(100)])))
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert_only_acl_blocker(r, "ingress", ACL_B, rule="100")
    # an address of the VPC outside 10.0.1.0/24 is admitted by rule 200
    ok = assert_reachable(snap.query("10.0.3.7", f"{SERVER}:443"))
    assert any("rule 200" in c.detail for c in acl_checks(ok, "ingress")), explain(ok)
    # another port matches neither entry: the implicit '*' (32767) denies it
    assert_only_acl_blocker(snap.query("10.0.3.7", f"{SERVER}:80"), "ingress", ACL_B, rule="*")

    # Reversed: a low-numbered allow listed after a higher-numbered deny also wins.
    snap = load_docs(tmp_path, acl_docs(server_acl([
        deny_in(300, "tcp", SUBNET_A_CIDR, ports=(443, 443)),
        allow_in(150, "tcp", f"{CLIENT_IP}/32", ports=(443, 443)),
        allow_out(100)])), "reversed")
    r = assert_reachable(snap.query(CLIENT, f"{SERVER}:443"))
    assert any("rule 150" in c.detail for c in acl_checks(r, "ingress")), explain(r)
    assert_only_acl_blocker(snap.query(NEIGHBOUR, f"{SERVER}:443"), "ingress", ACL_B, rule="300")


def test_nacl_3_custom_acl_with_only_star_entries_denies_everything(tmp_path):
    """NACL-3 "The default ACL allows all; a new custom ACL denies all until rules are added." A new custom
    ACL holds only the '*' entries (32767 IPv4, 32768 IPv6, both directions)."""
    snap = load_docs(tmp_path, acl_docs(server_acl([])))
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert r.verdict == "blocked", explain(r)
    # every blocking crossing is reported: the request inbound and the reply outbound, both on the new ACL
    assert keys(r) == {("SUBNET_ACL_RESTRICTION", "ingress", ACL_B),
                       ("SUBNET_ACL_RESTRICTION", "egress-reply", ACL_B)}, explain(r)
    assert all("rule *" in b.detail or "32767" in b.detail for b in r.blockers), [b.detail for b in r.blockers]
    # and over IPv6 too (the 32768 '*' entry)
    r6 = snap.query(CLIENT, f"{SERVER}:443", ip_version=6)
    assert r6.verdict == "blocked", explain(r6)
    assert ("SUBNET_ACL_RESTRICTION", "ingress", ACL_B) in keys(r6)

    # The VPC's default ACL (allow all, as AWS creates it) lets the same traffic through, naming rule 100.
    snap = load_docs(tmp_path, acl_docs(), "default")
    r = assert_reachable(snap.query(CLIENT, f"{SERVER}:443"))
    assert any("rule 100" in c.detail for c in acl_checks(r, "ingress")), explain(r)

    # A dump without the '*' entries still ends in the implicit deny: only tcp/80 is admitted here.
    snap = load_docs(tmp_path, acl_docs(server_acl([allow_in(100, "tcp", VPC_CIDR, ports=(80, 80)),
                                                     allow_out(100)], star=False)), "no-star")
    assert_reachable(snap.query(CLIENT, f"{SERVER}:80"))
    assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:443"), "ingress", ACL_B, rule="*")


def test_nacl_4_subnet_without_association_uses_the_vpc_default_acl(tmp_path):
    """NACL-4 "A subnet has exactly one ACL; without an explicit association it uses the VPC's default ACL."
    The default ACL (listing no association) was edited to deny tcp/443 inbound at rule 90; subnet A is
    explicitly associated with an allow-all custom ACL, subnet B has no association."""
    default = network_acl(ACL_DEFAULT, [deny_in(90, "tcp", "0.0.0.0/0", ports=(443, 443)), allow_in(100),
                                        allow_out(100)], is_default=True)
    custom_a = allow_all_acl(ACL_A, subnets=[SUBNET_A], is_default=False)
    other_vpc_default = network_acl("acl-0f0f0f0f0f0f0f0f1", [], vpc_id="vpc-0f0f0f0f0f0f0f0f0", is_default=True)
    snap = load_docs(tmp_path, acl_docs([custom_a, other_vpc_default, default]))
    assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:443"), "ingress", ACL_DEFAULT, rule="90")
    # subnet A's explicit association wins over the default: the server reaches the client on 443
    r = assert_reachable(snap.query(SERVER, f"{CLIENT}:443"))
    assert {c.component for c in acl_checks(r, "ingress")} == {ACL_A}, explain(r)
    # a port the default ACL allows is fine from A to B
    assert_reachable(snap.query(CLIENT, f"{SERVER}:8443"))


def test_nacl_5_same_subnet_traffic_is_not_evaluated_by_the_acl(tmp_path):
    """NACL-5 "ACLs act at the subnet boundary: traffic between two interfaces of the same subnet is not
    evaluated by the ACL." Subnet A carries a deny-all ACL; its two interfaces still talk."""
    snap = load_docs(tmp_path, acl_docs(client_acl([deny_in(1), deny_out(1)])))
    r = assert_reachable(snap.query(CLIENT, f"{NEIGHBOUR}:443"))
    assert not [c for p in r.pairs for c in p.checks if c.kind == "network_acl"], explain(r)
    # leaving the subnet crosses it: blocked outbound at rule 1 (and the reply inbound)
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert r.verdict == "blocked", explain(r)
    assert keys(r) == {("SUBNET_ACL_RESTRICTION", "egress", ACL_A),
                       ("SUBNET_ACL_RESTRICTION", "ingress-reply", ACL_A)}, explain(r)
    assert all("(rule 1)" in b.detail for b in r.blockers), [b.detail for b in r.blockers]


def test_nacl_6_reply_to_the_clients_ephemeral_range(tmp_path):
    """NACL-6 "Replies go to the client's ephemeral port: Linux (and so ECS/Fargate tasks) 32768-60999, NAT
    gateway / Lambda / ELB 1024-65535, Windows 49152-65535. When an ACL admits only part of the client's range,
    say which part fails." The server's subnet allows outbound only tcp 1024-32767 (a Windows-era rule)."""
    snap = load_docs(tmp_path, acl_docs(server_acl([allow_in(100), allow_out(100, "tcp", "0.0.0.0/0",
                                                                             ports=(1024, 32767))])))
    r = snap.query(CLIENT, f"{SERVER}:443")
    b = assert_only_acl_blocker(r, "egress-reply", ACL_B, rule="*")
    assert LINUX in b.detail, b.detail       # the whole Linux range fails, and the answer says so
    # a client whose ephemeral range is 1024-32767 gets its replies
    assert_reachable(snap.query(CLIENT, f"{SERVER}:443", ephemeral_ports=(1024, 32767)))

    # Only part of the range admitted (1024-49151): the detail names the failing part, 49152-60999.
    snap = load_docs(tmp_path, acl_docs(server_acl([allow_in(100), allow_out(100, "tcp", "0.0.0.0/0",
                                                                             ports=(1024, 49151))])), "part")
    b = assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:443"), "egress-reply", ACL_B, rule="*")
    assert "ports 49152-60999 (rule" in b.detail, b.detail           # only the failing part is named as denied
    assert "ephemeral" in b.detail and LINUX in b.detail, b.detail
    assert_reachable(snap.query(CLIENT, f"{SERVER}:443", ephemeral_ports=(32768, 49151)))


def test_nacl_6_cli_ephemeral_ports_option(tmp_path):
    """NACL-6 from the CLI: `--ephemeral-ports 1024-32767` replaces the Linux default 32768-60999."""
    folder = write_estate(tmp_path / "snap", acl_docs(server_acl([
        allow_in(100), allow_out(100, "tcp", "0.0.0.0/0", ports=(1024, 32767))])))
    default = run_cli("query", CLIENT, f"{SERVER}:443", "--snapshot", str(folder), "--json")
    assert default.returncode == 1, default.stderr
    doc = json.loads(default.stdout)
    assert doc["verdict"] == "blocked"
    assert [(b["code"], b["direction"], b["component"]) for b in doc["blockers"]] == \
        [("SUBNET_ACL_RESTRICTION", "egress-reply", ACL_B)]
    ok = cli("query", CLIENT, f"{SERVER}:443", "--snapshot", str(folder), "--ephemeral-ports", "1024-32767")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("REACHABLE"), ok.stdout
    bad = cli("query", CLIENT, f"{SERVER}:443", "--snapshot", str(folder), "--ephemeral-ports", "60999-1024")
    assert bad.returncode == 2 and "ephemeral" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_nacl_6_lambda_and_load_balancer_clients_use_1024_65535(tmp_path):
    """NACL-6 "NAT gateway / Lambda / ELB 1024-65535": an ACL that admits replies only to 32768-65535 is enough
    for a Linux client but not for a Lambda or load balancer client in the same subnet."""
    fn_sg = "sg-0f00000000000f001"
    enis = base_enis() + [lambda_eni("eni-0f00000000000f001", "10.0.1.30", [fn_sg], "resize", subnet_id=SUBNET_A),
                          lb_eni("eni-0f00000000000f002", "10.0.1.31", [fn_sg], "web", "50dc6c495c0c9188",
                                 subnet_id=SUBNET_A)]
    docs = acl_docs(server_acl([allow_in(100), allow_out(100, "tcp", "0.0.0.0/0", ports=(32768, 65535))]),
                    groups=open_groups() + [sg(fn_sg, "fn")], enis=enis,
                    Functions=[function("resize", subnets=[SUBNET_A], groups=[fn_sg])])
    snap = load_docs(tmp_path, docs)
    assert_reachable(snap.query(CLIENT, f"{SERVER}:443"))
    for client in ("eni-0f00000000000f001", "eni-0f00000000000f002"):
        b = assert_only_acl_blocker(snap.query(client, f"{SERVER}:443"), "egress-reply", ACL_B, rule="*")
        assert "1024-32767" in b.detail, b.detail
    # naming the function resolves to its hyperplane interface, with the same answer
    r = snap.query("resize", f"{SERVER}:443")
    assert r.verdict == "blocked" and keys(r) == {("SUBNET_ACL_RESTRICTION", "egress-reply", ACL_B)}, explain(r)


def test_nacl_7_ingress_matches_source_egress_matches_destination(tmp_path):
    """NACL-7 "Ingress entries match the source CIDR, egress entries the destination CIDR; a missing PortRange
    means all ports; protocol -1 means all." Inbound admits tcp (no PortRange) from the client's /24; outbound
    admits protocol -1 to the client's /24 only."""
    snap = load_docs(tmp_path, acl_docs(server_acl([allow_in(100, "tcp", SUBNET_A_CIDR),
                                                     allow_out(100, "-1", SUBNET_A_CIDR)])))
    for port in (22, 443, 65535):                          # no PortRange: every port
        assert_reachable(snap.query(CLIENT, f"{SERVER}:{port}"))
    # udp is not tcp: the inbound entry is for protocol 6 only
    assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:53/udp"), "ingress", ACL_B, rule="*")
    # a source outside 10.0.1.0/24 does not match the inbound entry
    r = snap.query("10.0.3.7", f"{SERVER}:443")
    assert r.verdict == "blocked" and ("SUBNET_ACL_RESTRICTION", "ingress", ACL_B) in keys(r), explain(r)

    # Outbound entry naming the server's own subnet (the reply's *source*) does not admit the reply.
    snap = load_docs(tmp_path, acl_docs(server_acl([allow_in(100, "tcp", SUBNET_A_CIDR),
                                                     allow_out(100, "-1", SUBNET_B_CIDR)])), "egress-src")
    assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:443"), "egress-reply", ACL_B, rule="*")
    # Inbound entry naming the server's own subnet (the request's *destination*) does not admit the request.
    snap = load_docs(tmp_path, acl_docs(server_acl([allow_in(100, "tcp", SUBNET_B_CIDR),
                                                     allow_out(100, "-1", SUBNET_A_CIDR)])), "ingress-dst")
    assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:443"), "ingress", ACL_B, rule="*")


def test_nacl_7_ipv6_entries_match_only_ipv6(tmp_path):
    """NACL-7 / SG-9: an ACL entry's Ipv6CidrBlock matches only IPv6 packets, CidrBlock only IPv4."""
    v6_only = server_acl([allow_in(100, "-1", "::/0"), allow_out(100, "-1", "::/0")])
    snap = load_docs(tmp_path, acl_docs(v6_only))
    r = snap.query(CLIENT, f"{SERVER}:443")
    assert r.verdict == "blocked", explain(r)
    assert keys(r) == {("SUBNET_ACL_RESTRICTION", "ingress", ACL_B),
                       ("SUBNET_ACL_RESTRICTION", "egress-reply", ACL_B)}, explain(r)
    r6 = assert_reachable(snap.query(CLIENT, f"{SERVER}:443", ip_version=6))
    assert {p.destination_address for p in r6.pairs} == {SERVER_IP6}, explain(r6)

    v4_only = server_acl([allow_in(100), allow_out(100)])
    snap = load_docs(tmp_path, acl_docs(v4_only), "v4")
    assert_reachable(snap.query(CLIENT, f"{SERVER}:443"))
    r6 = snap.query(CLIENT, f"{SERVER}:443", ip_version=6)
    assert r6.verdict == "blocked", explain(r6)
    b = blocker(r6, "SUBNET_ACL_RESTRICTION", "ingress", ACL_B)
    assert "32768" in b.detail or "rule *" in b.detail, b.detail   # the IPv6 '*' entry decides


def test_nacl_7_icmp_entries_with_type_and_code(tmp_path):
    """NACL-7 with ICMP: `b:icmp/8` is an echo request (type 8); its echo reply (type 0) must pass the ACLs the
    other way. Entries with IcmpTypeCode match only that type (code -1: any code)."""
    groups = open_groups()
    good = server_acl([allow_in(100, "icmp", VPC_CIDR, icmp=(8, -1)), allow_out(100, "icmp", VPC_CIDR, icmp=(0, -1))])
    snap = load_docs(tmp_path, acl_docs(good, groups=groups))
    r = assert_reachable(snap.query(CLIENT, f"{SERVER}:icmp/8"))
    assert (r.protocol, r.port) == ("icmp", 8)
    # a timestamp request (type 13) matches no inbound entry (and its reply, type 14, no outbound one)
    r = snap.query(CLIENT, f"{SERVER}:icmp/13")
    assert keys(r) == {("SUBNET_ACL_RESTRICTION", "ingress", ACL_B),
                       ("SUBNET_ACL_RESTRICTION", "egress-reply", ACL_B)}, explain(r)
    assert "type 13" in blocker(r, "SUBNET_ACL_RESTRICTION", "ingress", ACL_B).detail
    assert "type 14" in blocker(r, "SUBNET_ACL_RESTRICTION", "egress-reply", ACL_B).detail

    # Outbound admits only destination-unreachable (type 3) and denies other ICMP at rule 150: no echo reply.
    no_reply = server_acl([allow_in(100, "icmp", VPC_CIDR, icmp=(8, -1)),
                           allow_out(100, "icmp", VPC_CIDR, icmp=(3, -1)), deny_out(150, "icmp", "0.0.0.0/0"),
                           allow_out(200)])
    snap = load_docs(tmp_path, acl_docs(no_reply, groups=groups), "no-reply")
    b = assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:icmp/8"), "egress-reply", ACL_B, rule="150")
    assert "type 0" in b.detail, b.detail
    # tcp is untouched by the ICMP entries (rule 200 allows the reply)
    assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:443"), "ingress", ACL_B, rule="*")

    # Code-specific entry: type 8 code 0 matches the echo request (code 0), code 5 would not.
    coded = server_acl([allow_in(100, "icmp", VPC_CIDR, icmp=(8, 5)), allow_out(100)])
    snap = load_docs(tmp_path, acl_docs(coded, groups=groups), "coded")
    assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:icmp/8"), "ingress", ACL_B, rule="*")
    assert_reachable(snap.query(CLIENT, f"{SERVER}:icmp/8:5"))


@pytest.mark.parametrize("inbound, verdict", [("10.0.1.0/25", "unknown"), (SUBNET_A_CIDR, "reachable"),
                                               ("10.0.9.0/24", "blocked")])
def test_nacl_7_task_with_unknown_address_against_a_cidr_entry(tmp_path, inbound, verdict):
    """NACL-7 with an address the snapshot lacks (a task attachment without privateIPv4Address, ECS-1): the task
    is somewhere in subnet A. An entry covering the whole subnet decides, one covering none of it decides, one
    covering half of it cannot be decided: `unknown`, never a guess."""
    docs = acl_docs(server_acl([allow_in(100, "-1", inbound), allow_out(100)]),
                    services=[ecs_service("svc", "prod", [CLIENT_SG])],
                    tasks=[ecs_task("33333333333333333333333333333333", "prod", "svc", eni_id="eni-0333333333333333a",
                                    ip=None)])
    r = load_docs(tmp_path, docs).query("svc", f"{SERVER}:443")
    assert r.verdict == verdict, explain(r)
    if verdict == "unknown":
        assert not r.blockers and any(ACL_B in x for x in r.unknown_reasons), explain(r)
    if verdict == "blocked":
        assert keys(r) == {("SUBNET_ACL_RESTRICTION", "ingress", ACL_B)}, explain(r)


def test_nacl_7_icmpv6_echo_over_ipv6(tmp_path):
    """NACL-7 with ICMPv6 (protocol 58): `b:icmpv6/128 --ipv6` is an echo request; its reply is type 129."""
    good = server_acl([allow_in(100, "icmpv6", "::/0", icmp=(128, -1)), allow_out(100, "icmpv6", "::/0",
                                                                              icmp=(129, -1))])
    snap = load_docs(tmp_path, acl_docs(good))
    r = assert_reachable(snap.query(CLIENT, f"{SERVER}:icmpv6/128", ip_version=6))
    assert {p.destination_address for p in r.pairs} == {SERVER_IP6}
    bad = server_acl([allow_in(100, "icmpv6", "::/0", icmp=(128, -1)), allow_out(100, "icmpv6", "::/0",
                                                                             icmp=(1, -1))])
    snap = load_docs(tmp_path, acl_docs(bad), "bad")
    b = assert_only_acl_blocker(snap.query(CLIENT, f"{SERVER}:icmpv6/128", ip_version=6), "egress-reply", ACL_B,
                                rule="32768")
    assert "type 129" in b.detail, b.detail


def test_nacl_4_acl_missing_from_the_snapshot_is_unknown(tmp_path):
    """NACL-4 in a partial dump: the peer VPC's ACLs were not collected, so its subnet's ACL (explicit or
    default) cannot be evaluated -- `unknown` naming the subnet, never `blocked` and never `reachable`."""
    docs = peered_docs(rtb_main=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)])
    docs["NetworkAcls"] = [a for a in docs["NetworkAcls"] if a["VpcId"] != PEER_VPC]
    r = load_docs(tmp_path, docs).query(CLIENT, f"{PEER}:443")
    assert r.verdict == "unknown" and not r.blockers, explain(r)
    assert any(SUBNET_P in x and "NACL-4" in x for x in r.unknown_reasons), r.unknown_reasons


def test_nacl_4_an_address_inside_a_known_subnet_crosses_that_subnets_acl(tmp_path):
    """NACL-4/NACL-1 for addresses: a host at 10.0.1.99 (no interface in the snapshot) lives in subnet A, so its
    packets leave and enter through subnet A's ACL like any interface's there. A deny-all ACL on A blocks it."""
    snap = load_docs(tmp_path, acl_docs(client_acl([deny_in(1), deny_out(1)])))
    for src in ("10.0.1.99", SUBNET_A_CIDR):
        r = snap.query(src, f"{SERVER}:443")
        assert r.verdict == "blocked", explain(r)
        assert ("SUBNET_ACL_RESTRICTION", "egress", ACL_A) in keys(r), explain(r)
    r = snap.query(SERVER, "10.0.1.99:443")
    assert r.verdict == "blocked", explain(r)
    assert ("SUBNET_ACL_RESTRICTION", "ingress", ACL_A) in keys(r), explain(r)


# -- IPv6 and ICMP queries ------------------------------------------------------------------------------
def test_ipv6_query_uses_ipv6_addresses_rules_and_acl_entries(tmp_path):
    """SG-9 with the path: `query a b --ipv6` evaluates the interfaces' IPv6 addresses against IPv6 group
    rules and ACL entries; an IPv4-only rule does not admit it."""
    groups = open_groups(server_ingress=[perm("tcp", 443, 443, cidrs=[VPC_CIDR])])
    folder = write_estate(tmp_path / "v4rule", acl_docs(groups=groups))
    r = cli("query", CLIENT, f"{SERVER}:443", "--snapshot", str(folder), "--ipv6", "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "blocked"
    assert [(b["code"], b["direction"], b["component"]) for b in doc["blockers"]] == \
        [("ENI_SG_RULES_MISMATCH", "ingress", SERVER_SG)]
    assert {(p["source_address"], p["destination_address"]) for p in doc["pairs"]} == {(CLIENT_IP6, SERVER_IP6)}
    assert cli("query", CLIENT, f"{SERVER}:443", "--snapshot", str(folder)).returncode == 0

    groups = open_groups(server_ingress=[perm("tcp", 443, 443, cidrs6=["2600:1f18:aaaa:1::/64"])])
    folder = write_estate(tmp_path / "v6rule", acl_docs(groups=groups))
    ok = cli("query", CLIENT, f"{SERVER}:443", "--snapshot", str(folder), "--ipv6")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert cli("query", CLIENT, f"{SERVER}:443", "--snapshot", str(folder)).returncode == 1
    # an interface without an IPv6 address cannot take part in an IPv6 query
    enis = base_enis()[:2] + [eni(SERVER, SERVER_IP, [SERVER_SG], subnet_id=SUBNET_B)]
    snap = load_docs(tmp_path, acl_docs(groups=groups, enis=enis), "no-v6")
    r6 = snap.query(CLIENT, f"{SERVER}:443", ip_version=6)
    assert r6.verdict == "blocked", explain(r6)
    assert SERVER in {b.component for b in r6.blockers}


def test_ipv6_named_address_of_an_interface_is_that_interface(tmp_path):
    """Query contract: SOURCE/DESTINATION may be an IPv6 address; the server's own IPv6 address is the server,
    inside the VPC (local route), evaluated against IPv6 rules -- exactly like `SERVER --ipv6`."""
    groups = open_groups(server_ingress=[perm("tcp", 443, 443, cidrs6=["2600:1f18:aaaa:1::/64"])])
    snap = load_docs(tmp_path, acl_docs(groups=groups))
    assert_reachable(snap.query(CLIENT, f"{SERVER}:443", ip_version=6))
    r = snap.query(CLIENT, f"[{SERVER_IP6}]:443")
    assert_reachable(r)
    assert r.destination.interfaces == (SERVER,), r.destination.to_dict()


def test_icmp_over_ipv6_is_an_input_error(tmp_path):
    """`icmp` is IPv4's protocol (1); asking for it over IPv6 is a clear input error (exit 2), not a verdict."""
    folder = write_estate(tmp_path / "snap", acl_docs())
    r = run_cli("query", CLIENT, f"{SERVER}:icmp/8", "--snapshot", str(folder), "--ipv6")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "icmp" in r.stderr and "IPv6" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""
    snap = load_docs(tmp_path, acl_docs(), "api")
    with pytest.raises(reachgraph.InputError):
        snap.query(CLIENT, f"{SERVER}:icmp/8", ip_version=6)
    # icmp over IPv4 is a normal query
    assert cli("query", CLIENT, f"{SERVER}:icmp/8", "--snapshot", str(folder)).returncode == 0


# -- partial verdicts -----------------------------------------------------------------------------------
def three_subnet_docs(acls: list[dict], **keys_) -> dict:
    docs = estate(**keys_)
    docs["Subnets"].append(subnet(SUBNET_C, SUBNET_C_CIDR, az="us-east-1c", ipv6=["2600:1f18:aaaa:3::/64"]))
    docs["NetworkAcls"] = acls
    return docs


def test_partial_when_only_some_task_subnets_are_blocked(tmp_path):
    """Verdicts (design.md): `partial` when some pairs get through and some don't, and the answer says which.
    The service's two tasks live in subnets A and C; only C's ACL denies traffic to the server's subnet."""
    acl_c = "acl-0ccccccccccccccc1"
    t1, t2 = "eni-0a5000000000000a1", "eni-0a5000000000000a2"
    docs = three_subnet_docs(
        [allow_all_acl(ACL_DEFAULT, subnets=[SUBNET_A, SUBNET_B]),
         network_acl(acl_c, [deny_out(50, "-1", SUBNET_B_CIDR), allow_out(100), allow_in(100)], subnets=[SUBNET_C])],
        SecurityGroups=open_groups(),
        NetworkInterfaces=[task_eni(t1, "10.0.1.21", [CLIENT_SG], subnet_id=SUBNET_A),
                           task_eni(t2, "10.0.3.22", [CLIENT_SG], subnet_id=SUBNET_C),
                           eni(SERVER, SERVER_IP, [SERVER_SG], subnet_id=SUBNET_B)],
        services=[ecs_service("orders-api", "prod", [CLIENT_SG], subnets=[SUBNET_A, SUBNET_C], running=2)],
        tasks=[ecs_task("11111111111111111111111111111111", "prod", "orders-api", eni_id=t1, ip="10.0.1.21"),
               ecs_task("22222222222222222222222222222222", "prod", "orders-api", eni_id=t2, ip="10.0.3.22",
                        subnet_id=SUBNET_C)])
    folder = write_estate(tmp_path / "snap", docs)
    r = reachgraph.load(folder).query("orders-api", f"{SERVER}:443")
    assert r.verdict == "partial", explain(r)
    assert {(p.source, p.verdict) for p in r.pairs} == {(t1, "reachable"), (t2, "blocked")}, explain(r)
    b = blocker(r, "SUBNET_ACL_RESTRICTION", "egress", acl_c)
    assert b.pairs == 1 and "rule 50" in b.detail, b.to_dict()
    assert r.counts["reachable"] == 1 and r.counts["blocked"] == 1
    out = cli("query", "orders-api", f"{SERVER}:443", "--snapshot", str(folder))
    assert out.returncode == 1 and out.stdout.startswith("PARTIAL"), out.stdout
    not_through = out.stdout.split("do not get through", 1)[1]
    assert t2 in not_through and t1 not in not_through, out.stdout


def test_partial_when_only_some_cache_nodes_are_blocked(tmp_path):
    """EC-2 with ACLs: the replication group's member nodes sit in subnets B and C; C's ACL denies tcp/6379
    inbound at rule 60, so one member is unreachable: `partial`, naming the blocked node's interface."""
    acl_c, redis_sg = "acl-0ccccccccccccccc2", "sg-0edd15000000ed001"
    n1, n2 = "eni-0edd150000000ed01", "eni-0edd150000000ed02"
    docs = three_subnet_docs(
        [allow_all_acl(ACL_DEFAULT, subnets=[SUBNET_A, SUBNET_B]),
         network_acl(acl_c, [deny_in(60, "tcp", "0.0.0.0/0", ports=(6379, 6379)), allow_in(100), allow_out(100)],
                     subnets=[SUBNET_C])],
        SecurityGroups=[*open_groups(), sg(redis_sg, "redis", ingress=[perm("tcp", 6379, 6379, groups=[CLIENT_SG])])],
        NetworkInterfaces=[*base_enis(), cache_eni(n1, "10.0.2.50", "sessions-001", [redis_sg]),
                           cache_eni(n2, "10.0.3.50", "sessions-002", [redis_sg], subnet_id=SUBNET_C,
                                     az="us-east-1c")],
        CacheClusters=[cache_cluster("sessions-001", [redis_sg], replication_group="sessions"),
                       cache_cluster("sessions-002", [redis_sg], replication_group="sessions", az="us-east-1c")],
        ReplicationGroups=[replication_group("sessions", ["sessions-001", "sessions-002"])])
    r = reachgraph.load(write_estate(tmp_path / "snap", docs)).query(CLIENT, "sessions")
    assert r.port == 6379
    assert r.verdict == "partial", explain(r)
    assert {(p.destination, p.verdict) for p in r.pairs} == {(n1, "reachable"), (n2, "blocked")}, explain(r)
    b = blocker(r, "SUBNET_ACL_RESTRICTION", "ingress", acl_c)
    assert "rule 60" in b.detail and b.pairs == 1, b.to_dict()


# -- routes ---------------------------------------------------------------------------------------------
PEER_VPC, PEER_CIDR = "vpc-0bbbbbbbbbbbbbbb1", "10.1.0.0/16"
THIRD_VPC, THIRD_CIDR = "vpc-0ccccccccccccccc1", "10.2.0.0/16"
SUBNET_P, SUBNET_P2, SUBNET_T = "subnet-0b0000000000000e1", "subnet-0b0000000000000e2", "subnet-0c0000000000000f1"
PEER_SG, THIRD_SG = "sg-0bbbbbbbbbbbbbbb1", "sg-0ccccccccccccccc1"
PEER, PEER2, THIRD = "eni-0bbbbbbbbbbbbbb01", "eni-0bbbbbbbbbbbbbb02", "eni-0ccccccccccccc001"
PEER_IP, PEER2_IP, THIRD_IP = "10.1.1.20", "10.1.2.20", "10.2.1.20"
PCX, PCX_BC = "pcx-0ab0000000000ab01", "pcx-0bc0000000000bc01"
RTB_MAIN, RTB_A, RTB_PEER, RTB_THIRD = ("rtb-0a0000000000000d1", "rtb-0a0000000000000a1", "rtb-0b0000000000000d1",
                                        "rtb-0c0000000000000d1")


def peered_docs(*, rtb_main: list[dict] = (), rtb_a: list[dict] | None = None, rtb_peer: list[dict] = (),
                pcx_status: str = "active", peer_ingress: list[dict] | None = None, third: bool = False,
                rtb_third: list[dict] = (), server_ingress: list[dict] | None = None,
                peerings: list[dict] | None = None) -> dict:
    """VPC A (10.0.0.0/16: CLIENT in subnet A, SERVER in B) peered with VPC P (10.1.0.0/16: PEER in 10.1.1.0/24,
    PEER2 in 10.1.2.0/24) by PCX. Main table of A gets `rtb_main`, an explicit table for subnet A gets `rtb_a`
    (None: subnet A uses the main table), P's main table gets `rtb_peer`. With third=True, VPC T (10.2.0.0/16)
    is peered with P only (PCX_BC), for the transitive case. Default allow-all ACLs everywhere."""
    docs = estate(
        SecurityGroups=[*open_groups(server_ingress=server_ingress),
                        sg(PEER_SG, "peer", vpc_id=PEER_VPC,
                           ingress=peer_ingress if peer_ingress is not None else [perm("-1", cidrs=["10.0.0.0/8"])]),
                        sg(THIRD_SG, "third", vpc_id=THIRD_VPC, ingress=[perm("-1", cidrs=["10.0.0.0/8"])])],
        NetworkInterfaces=[*base_enis(),
                           eni(PEER, PEER_IP, [PEER_SG], subnet_id=SUBNET_P, vpc_id=PEER_VPC),
                           eni(PEER2, PEER2_IP, [PEER_SG], subnet_id=SUBNET_P2, vpc_id=PEER_VPC)],
        VpcPeeringConnections=peerings if peerings is not None else
        [peering(PCX, VPC, PEER_VPC, status=pcx_status, requester_cidr=VPC_CIDR, accepter_cidr=PEER_CIDR)])
    docs["Vpcs"].append(vpc(PEER_VPC, PEER_CIDR))
    docs["Subnets"] += [subnet(SUBNET_P, "10.1.1.0/24", vpc_id=PEER_VPC),
                        subnet(SUBNET_P2, "10.1.2.0/24", vpc_id=PEER_VPC, az="us-east-1b")]
    docs["NetworkAcls"] = [allow_all_acl(ACL_DEFAULT, subnets=[SUBNET_A, SUBNET_B]),
                           allow_all_acl("acl-0bbbbbbbbbbbbbbd1", subnets=[SUBNET_P, SUBNET_P2], vpc_id=PEER_VPC)]
    tables = [route_table(RTB_MAIN, local=[VPC_CIDR, VPC_IPV6], routes=list(rtb_main)),
              route_table(RTB_PEER, vpc_id=PEER_VPC, local=[PEER_CIDR], routes=list(rtb_peer))]
    if rtb_a is not None:
        tables.append(route_table(RTB_A, main=False, subnets=[SUBNET_A], local=[VPC_CIDR, VPC_IPV6],
                                  routes=list(rtb_a)))
    if third:
        docs["Vpcs"].append(vpc(THIRD_VPC, THIRD_CIDR))
        docs["Subnets"].append(subnet(SUBNET_T, "10.2.1.0/24", vpc_id=THIRD_VPC))
        docs["NetworkInterfaces"].append(eni(THIRD, THIRD_IP, [THIRD_SG], subnet_id=SUBNET_T, vpc_id=THIRD_VPC))
        docs["NetworkAcls"].append(allow_all_acl("acl-0ccccccccccccccd1", subnets=[SUBNET_T], vpc_id=THIRD_VPC))
        docs["VpcPeeringConnections"].append(peering(PCX_BC, PEER_VPC, THIRD_VPC, requester_cidr=PEER_CIDR,
                                                     accepter_cidr=THIRD_CIDR))
        tables.append(route_table(RTB_THIRD, vpc_id=THIRD_VPC, local=[THIRD_CIDR], routes=list(rtb_third)))
    docs["RouteTables"] = tables
    return docs


def to_peer(cidr: str = PEER_CIDR, pcx: str = PCX) -> dict:
    return route(cidr, VpcPeeringConnectionId=pcx)


def test_rt_1_local_route_inside_one_vpc(tmp_path):
    """RT-1 "Every route table has a local route for each VPC CIDR: inside one VPC, routing never blocks." The
    subnets' tables hold nothing but their local routes (plus, for subnet A, a default route to a deleted NAT
    gateway, now a blackhole) -- two subnets of the VPC still reach each other, both ways."""
    docs = peered_docs(rtb_a=[state_route("0.0.0.0/0", "blackhole", NatGatewayId="nat-0deadbeef00000001")])
    snap = load_docs(tmp_path, docs)
    for src, dst in ((CLIENT, SERVER), (SERVER, CLIENT)):
        r = assert_reachable(snap.query(src, f"{dst}:443"))
        assert not [c for p in r.pairs for c in p.checks if c.kind == "route" and c.status != "allow"], explain(r)
    # the same table drops what leaves the VPC: the peer is not reachable (no route, and a blackhole default)
    r = snap.query(CLIENT, f"{PEER}:443")
    assert r.verdict == "blocked", explain(r)
    assert ("BAD_STATE_ROUTE", "egress", RTB_A) in keys(r), explain(r)


def test_rt_2_explicit_table_else_main_table(tmp_path):
    """RT-2 "The subnet's explicitly associated route table applies, else the VPC's main table." Only subnet A's
    explicit table routes to the peered VPC; subnet B falls back to the main table, which has no such route."""
    snap = load_docs(tmp_path, peered_docs(rtb_a=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)]))
    r = assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
    assert any(c.component == RTB_A and c.status == "allow" for p in r.pairs for c in p.checks
               if c.kind == "route"), explain(r)
    r = snap.query(SERVER, f"{PEER}:443")
    assert r.verdict == "blocked", explain(r)
    assert keys(r) == {("NO_ROUTE_TO_DESTINATION", "egress", RTB_MAIN)}, explain(r)
    assert PEER_IP in r.blockers[0].detail or "10.1.1.0/24" in r.blockers[0].detail, r.blockers[0].detail


def test_rt_3_longest_prefix_wins_and_blackhole_drops(tmp_path):
    """RT-3 "Longest prefix wins; a blackhole route drops." 10.1.0.0/16 goes to the active peering, but the more
    specific 10.1.2.0/24 is a blackhole (its old target is gone): PEER (10.1.1.20) is reachable, PEER2
    (10.1.2.20) is not. Listing the /24 first in the JSON changes nothing."""
    blackhole = state_route("10.1.2.0/24", "blackhole", VpcPeeringConnectionId="pcx-0de1e7ed000000001")
    snap = load_docs(tmp_path, peered_docs(rtb_main=[blackhole, to_peer()], rtb_peer=[to_peer(VPC_CIDR)]))
    assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
    r = snap.query(CLIENT, f"{PEER2}:443")
    assert r.verdict == "blocked", explain(r)
    assert keys(r) == {("BAD_STATE_ROUTE", "egress", RTB_MAIN)}, explain(r)
    assert "10.1.2.0/24" in r.blockers[0].detail and "blackhole" in r.blockers[0].detail, r.blockers[0].detail

    # The other way round: a /16 blackhole, a /24 to the active peering -> the /24 wins for 10.1.1.20.
    snap = load_docs(tmp_path, peered_docs(
        rtb_main=[state_route(PEER_CIDR, "blackhole", VpcPeeringConnectionId="pcx-0de1e7ed000000001"),
                  to_peer("10.1.1.0/24")], rtb_peer=[to_peer(VPC_CIDR)]), "reverse")
    assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
    assert keys(snap.query(CLIENT, f"{PEER2}:443")) == {("BAD_STATE_ROUTE", "egress", RTB_MAIN)}


def pl_route(pl: str, pcx: str = PCX) -> dict:
    """A route whose destination is a managed prefix list (DestinationPrefixListId)."""
    return {"DestinationPrefixListId": pl, "VpcPeeringConnectionId": pcx, "Origin": "CreateRoute", "State": "active"}


def test_rt_3_prefix_list_destination(tmp_path):
    """RT-3 with a managed prefix list as the destination: the route covers exactly the list's CIDRs."""
    pl = "pl-0123456789abcdef0"
    docs = peered_docs(rtb_main=[pl_route(pl)], rtb_peer=[to_peer(VPC_CIDR)])
    docs["PrefixLists"] = [prefix_list(pl, ["10.1.1.0/24"], "peer-apps")]
    snap = load_docs(tmp_path, docs)
    assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
    assert keys(snap.query(CLIENT, f"{PEER2}:443")) == {("NO_ROUTE_TO_DESTINATION", "egress", RTB_MAIN)}


def test_rt_3_route_to_an_unknown_prefix_list_is_unknown(tmp_path):
    """design.md "unknown (the answer depends on data the snapshot lacks) ... Never guess": the subnet's table
    routes a prefix list to the peering, and the list's entries were not collected."""
    docs = peered_docs(rtb_main=[pl_route("pl-0123456789abcdef0")], rtb_peer=[to_peer(VPC_CIDR)])
    r = load_docs(tmp_path, docs).query(CLIENT, f"{PEER}:443")
    assert r.verdict == "unknown" and not r.blockers, explain(r)
    assert any("pl-0123456789abcdef0" in x for x in r.unknown_reasons + r.warnings), (r.unknown_reasons, r.warnings)


def test_rt_4_active_peering_with_routes_on_both_sides(tmp_path):
    """RT-4 "VPC peering needs status active and a route on both sides (the reply needs one too)." """
    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)]))
    r = assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
    routes = {(c.direction, c.component) for p in r.pairs for c in p.checks if c.kind == "route"}
    assert routes == {("egress", RTB_MAIN), ("egress-reply", RTB_PEER)}, explain(r)
    assert_reachable(snap.query(PEER, f"{SERVER}:443"))


def test_rt_4_missing_return_route_blocks_on_the_reply_side(tmp_path):
    """RT-4: the requester routes to the peering but the accepter's table has no route back: the request
    arrives, the reply has nowhere to go. The blocker names the accepter's route table and the reply leg."""
    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[]))
    r = snap.query(CLIENT, f"{PEER}:443")
    assert r.verdict == "blocked", explain(r)
    assert keys(r) == {("NO_ROUTE_TO_DESTINATION", "egress-reply", RTB_PEER)}, explain(r)
    assert CLIENT_IP in r.blockers[0].detail or SUBNET_A_CIDR in r.blockers[0].detail, r.blockers[0].detail
    # From the other side it is the forward leg that has no route.
    r = snap.query(PEER, f"{CLIENT}:443")
    assert keys(r) == {("NO_ROUTE_TO_DESTINATION", "egress", RTB_PEER)}, explain(r)


@pytest.mark.parametrize("case", ["source-address-no-route-back", "source-address-in-peer-subnet-no-route-out",
                                  "destination-address-in-peer-subnet-no-route-back"])
def test_rt_4_addresses_in_a_peered_vpc_need_routes_both_ways(tmp_path, case):
    """RT-4 "a route on both sides (the reply needs one too)" holds for addresses as well as interfaces.
    10.1.1.99 is a host of the peered VPC's subnet 10.1.1.0/24 (which uses P's main table); 10.1.5.5 is somewhere
    in the peered VPC. Whatever the source's table says, the server's own table must route the reply back."""
    if case == "source-address-no-route-back":
        snap = load_docs(tmp_path, peered_docs(rtb_main=[], rtb_peer=[to_peer(VPC_CIDR)]))
        for src in ("10.1.5.5", "10.1.1.99"):
            r = snap.query(src, f"{SERVER}:443")
            assert r.verdict == "blocked", explain(r)
            assert ("NO_ROUTE_TO_DESTINATION", "egress-reply", RTB_MAIN) in keys(r), explain(r)
    elif case == "source-address-in-peer-subnet-no-route-out":
        snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[]))
        r = snap.query("10.1.1.99", f"{SERVER}:443")
        assert r.verdict == "blocked", explain(r)
        assert ("NO_ROUTE_TO_DESTINATION", "egress", RTB_PEER) in keys(r), explain(r)
    else:
        snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[]))
        r = snap.query(SERVER, "10.1.1.99:443")
        assert r.verdict == "blocked", explain(r)
        assert ("NO_ROUTE_TO_DESTINATION", "egress-reply", RTB_PEER) in keys(r), explain(r)


def test_rt_4_peering_is_not_transitive(tmp_path):
    """RT-4 "... it is not transitive." A peers P, P peers T; A's table sends T's CIDR to the A-P peering and T
    routes back through T-P: A still cannot reach T."""
    docs = peered_docs(rtb_main=[to_peer(), to_peer(THIRD_CIDR)],
                       rtb_peer=[to_peer(VPC_CIDR), to_peer(THIRD_CIDR, PCX_BC)],
                       rtb_third=[to_peer(PEER_CIDR, PCX_BC), to_peer(VPC_CIDR, PCX_BC)], third=True)
    snap = load_docs(tmp_path, docs)
    assert_reachable(snap.query(PEER, f"{THIRD}:443"))          # each peering works on its own
    assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
    r = snap.query(CLIENT, f"{THIRD}:443")
    assert r.verdict == "blocked", explain(r)
    forward = [b for b in r.blockers if (b.direction, b.component) == ("egress", RTB_MAIN)]
    assert forward and forward[0].code in ("NO_ROUTE_TO_DESTINATION", "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"), \
        explain(r)
    assert PCX in forward[0].detail, forward[0].detail
    # An address of T sent over A-P is outside P's CIDR: the peering will not carry it.
    r = snap.query(CLIENT, "10.2.1.99:443")
    assert r.verdict == "blocked", explain(r)
    assert ("PCX_REQUIRES_ADDRESS_IN_VPC_CIDR", "egress", RTB_MAIN) in keys(r), explain(r)


def test_rt_4_pending_peering_carries_nothing(tmp_path):
    """RT-4 "VPC peering needs status active": a peering still `pending-acceptance` carries nothing, even with
    routes on both sides."""
    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)],
                                           pcx_status="pending-acceptance"))
    r = snap.query(CLIENT, f"{PEER}:443")
    assert r.verdict == "blocked", explain(r)
    forward = [b for b in r.blockers if (b.direction, b.component) == ("egress", RTB_MAIN)]
    assert forward and forward[0].code in ("NO_ROUTE_TO_DESTINATION", "BAD_STATE_ROUTE"), explain(r)
    assert PCX in forward[0].detail and "pending-acceptance" in forward[0].detail, forward[0].detail


def test_icmp_message_without_reply_needs_no_return_route(tmp_path):
    """NACL-1/RT-4 apply to replies; an ICMP destination-unreachable message (type 3) has none, so only the
    forward route matters: requester -> accepter arrives even when the accepter has no route back."""
    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[]))
    r = snap.query(CLIENT, f"{PEER}:443")
    assert keys(r) == {("NO_ROUTE_TO_DESTINATION", "egress-reply", RTB_PEER)}, explain(r)   # tcp needs it
    assert_reachable(snap.query(CLIENT, f"{PEER}:icmp/3:1"))


def test_rt_5_transit_gateway_route_is_unknown_not_blocked(tmp_path):
    """RT-5 "Transit gateway paths ... until they are modelled, a path that needs one is unknown, not blocked."""
    tgw = "tgw-0123456789abcdef0"
    docs = peered_docs(rtb_main=[route(PEER_CIDR, TransitGatewayId=tgw)],
                       rtb_peer=[route(VPC_CIDR, TransitGatewayId=tgw)], peerings=[])
    folder = write_estate(tmp_path / "snap", docs)
    r = reachgraph.load(folder).query(CLIENT, f"{PEER}:443")
    assert r.verdict == "unknown", explain(r)
    assert not r.blockers and not r.fixes
    assert any("transit gateway" in x and "RT-5" in x for x in r.unknown_reasons), r.unknown_reasons
    out = cli("query", CLIENT, f"{PEER}:443", "--snapshot", str(folder), "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["verdict"] == "unknown"
    # a blocker elsewhere on the path still blocks: unknown never hides a known deny
    docs = peered_docs(rtb_main=[route(PEER_CIDR, TransitGatewayId=tgw)],
                       rtb_peer=[route(VPC_CIDR, TransitGatewayId=tgw)], peerings=[], peer_ingress=[])
    r = load_docs(tmp_path, docs, "sg").query(CLIENT, f"{PEER}:443")
    assert r.verdict == "blocked" and ("SG_HAS_NO_RULES", "ingress", PEER_SG) in keys(r), explain(r)


def test_sg_11_group_reference_across_peering_with_the_whole_path(tmp_path):
    """SG-11 "A reference to a group in a peered VPC works in the same region while the peering is active;
    cross-region group references are not possible." With routes on both sides, the peer's rule naming the
    client's group admits it over an active peering; over a deleted one the reference matches nothing."""
    pair = {"GroupId": CLIENT_SG, "UserId": "111122223333", "VpcId": VPC, "VpcPeeringConnectionId": PCX,
            "PeeringStatus": "active"}
    ingress = [perm("tcp", 443, 443, groups=[pair])]
    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)],
                                           peer_ingress=ingress))
    r = assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
    assert any(a.component == PEER_SG and CLIENT_SG in a.rule for a in r.allowed_by), \
        [a.to_dict() for a in r.allowed_by]

    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)],
                                           peer_ingress=ingress, pcx_status="deleted"), "deleted")
    r = snap.query(CLIENT, f"{PEER}:443")
    assert r.verdict == "blocked", explain(r)
    assert ("ENI_SG_RULES_MISMATCH", "ingress", PEER_SG) in keys(r), explain(r)
    assert any(b.component == RTB_MAIN for b in r.blockers), explain(r)   # and the route, every blocker

    # An inter-region peering carries packets, but group references across it are not possible.
    cross = peering(PCX, VPC, PEER_VPC, requester_cidr=VPC_CIDR, accepter_cidr=PEER_CIDR)
    cross["AccepterVpcInfo"]["Region"] = "us-west-2"
    assert cross["RequesterVpcInfo"]["Region"] == REGION
    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)],
                                           peer_ingress=ingress, peerings=[cross]), "cross-region")
    r = snap.query(CLIENT, f"{PEER}:443")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", PEER_SG)}, explain(r)
    # a CIDR rule over the same inter-region peering does admit it
    snap = load_docs(tmp_path, peered_docs(rtb_main=[to_peer()], rtb_peer=[to_peer(VPC_CIDR)],
                                           peer_ingress=[perm("tcp", 443, 443, cidrs=[SUBNET_A_CIDR])],
                                           peerings=[cross]), "cross-region-cidr")
    assert_reachable(snap.query(CLIENT, f"{PEER}:443"))
