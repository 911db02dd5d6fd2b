"""Property test: the engine's ACL and route verdicts agree with a brute-force packet-level reference
(tests/reference_path.py) on generated estates.

Hypothesis generates 1-2 VPCs with 2-3 subnets, an interface per subnet (sometimes a second one in the first
subnet), allow-all security groups (so only ACLs and routes decide), custom network ACLs with random entries
(allow/deny, random rule numbers in random JSON order, protocols -1/tcp/udp/icmp/50, port ranges, ICMP type/code,
CIDRs from /0 to /32, IPv6 entries that must never match), edited or stock default ACLs with or without listed
associations, main and explicit route tables with local, peering (active, pending, deleted, to a VPC outside the
estate), blackhole, internet-gateway and transit-gateway routes. Up to 8 ordered pairs of interfaces per estate are
asked about 3-4 kinds of traffic (tcp, udp, icmp echo/timestamp/unreachable, protocol 50) with a 16-port ephemeral
range, which the reference enumerates port by port. A second, expected-to-fail property asks the same of an address
(no interface) inside one of the subnets.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reachgraph
from builders import eni, perm, route_table, sg, subnet, vpc, write_json
from path_builders import acl_entry, network_acl, state_route
from reference_path import ReferencePath

EPHEMERAL = (40000, 40015)
VPC_IDS = ("vpc-0a0000000000000a0", "vpc-0b0000000000000b0")
VPC_CIDRS = ("10.0.0.0/16", "10.1.0.0/16")
PHANTOM_VPC, PHANTOM_CIDR = "vpc-0f0000000000000f0", "10.2.0.0/16"
PCX_MAIN, PCX_PHANTOM = "pcx-0ab0000000000ab01", "pcx-0af0000000000af01"
IGW, TGW = "igw-0a0000000000000a1", "tgw-0a0000000000000a1"
HOSTS = (10, 100, 130, 250)          # spread across the /25 halves of each /24

PORT_RANGES = [None, (0, 65535), (443, 443), (80, 443), (53, 53), (22, 22), (1024, 65535), (32768, 60999)]
REPLY_RANGES = [(40000, 40015), (40000, 40007), (40008, 40015), (40005, 40010), (40015, 40015), (40001, 40015),
                (39000, 40003)]          # parts of the 16-port ephemeral range the reference enumerates
ICMP_CODES = [None, (-1, -1), (8, -1), (0, -1), (8, 0), (0, 0), (3, -1), (8, 5), (0, 3), (13, -1), (14, 0),
              (3, 1)]


@st.composite
def acl_entries(draw, cidr_pool: list[str]) -> list[dict]:
    """Random entries for both directions, in random JSON order, with distinct rule numbers per direction."""
    out = []
    for egress in (False, True):
        n = draw(st.integers(0, 5))
        numbers = draw(st.lists(st.integers(1, 400), min_size=n, max_size=n, unique=True))
        for number in numbers:
            protocol = draw(st.sampled_from(["-1", "-1", "6", "6", "6", "17", "1", "50"]))
            action = draw(st.sampled_from(["allow", "allow", "allow", "deny", "deny"]))
            if draw(st.integers(0, 9)) == 0:
                cidr = draw(st.sampled_from(["::/0", "2600:1f18::/32"]))
            else:
                cidr = draw(st.sampled_from(cidr_pool))
            ports = None
            if protocol in ("6", "17"):
                ports = draw(st.sampled_from(REPLY_RANGES if draw(st.booleans()) else PORT_RANGES))
            icmp = draw(st.sampled_from(ICMP_CODES)) if protocol == "1" else None
            out.append(acl_entry(number, action, egress=egress, protocol=protocol, cidr=cidr, ports=ports, icmp=icmp))
        if draw(st.integers(0, 9)) < 4:        # often an early entry about part of the clients' reply ports
            number = draw(st.integers(1, 60).filter(lambda x: x not in numbers))
            out.append(acl_entry(number, draw(st.sampled_from(["allow", "deny", "deny"])), egress=egress,
                                 protocol=draw(st.sampled_from(["6", "6", "17"])),
                                 cidr=draw(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8"] + cidr_pool[-3:])),
                                 ports=draw(st.sampled_from(REPLY_RANGES))))
        if draw(st.integers(0, 9)) < 5:        # often an early ICMP entry with a type and a code
            number = draw(st.integers(61, 99).filter(lambda x: x not in numbers))
            out.append(acl_entry(number, draw(st.sampled_from(["allow", "deny"])), egress=egress, protocol="1",
                                 cidr=draw(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8"])),
                                 icmp=draw(st.sampled_from([(8, 0), (8, 5), (0, 0), (0, 3), (8, -1), (0, -1),
                                                            (13, -1), (14, 0), (-1, -1)]))))
        if draw(st.integers(0, 9)) < 7:        # usually a broad allow late on: the random entries are exceptions
            out.append(acl_entry(draw(st.integers(300, 500)), "allow", egress=egress))
    if draw(st.booleans()):
        out += [acl_entry(32767, "deny", egress=False), acl_entry(32767, "deny", egress=True)]
    return draw(st.permutations(out))


@st.composite
def estates(draw) -> dict:
    """One generated estate, as the AWS CLI would print it (top-level key -> items)."""
    n_vpcs = draw(st.integers(1, 2))
    n_subnets = draw(st.integers(2, 3))
    subnet_vpc = [0, 1 if n_vpcs == 2 else 0] + ([draw(st.integers(0, n_vpcs - 1))] if n_subnets == 3 else [])
    subnets, enis, cidrs = [], [], []
    third_octet = {0: 1, 1: 1}
    for i, v in enumerate(subnet_vpc):
        cidr = f"10.{v}.{third_octet[v]}.0/24"
        third_octet[v] += 1
        sid = f"subnet-0{i}00000000000000{i}"
        subnets.append(subnet(sid, cidr, vpc_id=VPC_IDS[v], az=f"us-east-1{'abc'[i]}"))
        cidrs.append(cidr)
    hosts = []
    for i, (s, v) in enumerate(zip(subnets, subnet_vpc)):
        host = draw(st.sampled_from(HOSTS))
        ip = s["CidrBlock"].replace("0/24", str(host))
        hosts.append(ip)
        enis.append(eni(f"eni-0{i}0000000000000{i}1", ip, [f"sg-0{v}00000000000000a"], subnet_id=s["SubnetId"],
                        vpc_id=VPC_IDS[v]))
    if draw(st.booleans()):          # a neighbour in the first subnet (NACL-5)
        host = draw(st.sampled_from([h for h in HOSTS if f".{h}" != hosts[0][hosts[0].rfind("."):]]))
        ip = subnets[0]["CidrBlock"].replace("0/24", str(host))
        hosts.append(ip)
        enis.append(eni("eni-0900000000000009", ip, ["sg-0000000000000000a"], subnet_id=subnets[0]["SubnetId"],
                        vpc_id=VPC_IDS[0]))
    halves = [c.replace("0/24", "0/25") for c in cidrs] + [c.replace("0/24", "128/25") for c in cidrs]
    cidr_pool = (["0.0.0.0/0", "0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/15", "192.168.0.0/16", PHANTOM_CIDR]
                 + list(VPC_CIDRS[:n_vpcs]) + cidrs + halves + [f"{h}/32" for h in hosts])

    # network ACLs: a default per VPC (stock or edited; associations listed or not), custom ACLs on some subnets
    acls = []
    custom = [draw(st.integers(0, 9)) < 6 for _ in subnets]
    for v in range(n_vpcs):
        mine = [s["SubnetId"] for s, c, sv in zip(subnets, custom, subnet_vpc) if sv == v and not c]
        listed = mine if draw(st.booleans()) else []
        if draw(st.booleans()):
            entries = [acl_entry(100, "allow", egress=False), acl_entry(100, "allow", egress=True)]
        else:
            entries = draw(acl_entries(cidr_pool))
        acls.append(network_acl(f"acl-0{v}0000000000000d0", entries, subnets=listed, vpc_id=VPC_IDS[v],
                                is_default=True, star=False))
    for i, (s, c, v) in enumerate(zip(subnets, custom, subnet_vpc)):
        if c:
            acls.append(network_acl(f"acl-0{i}0000000000000c{i}", draw(acl_entries(cidr_pool)),
                                    subnets=[s["SubnetId"]], vpc_id=VPC_IDS[v], star=False))
    acls = draw(st.permutations(acls))

    # peerings
    peerings = [{"VpcPeeringConnectionId": PCX_PHANTOM, "Status": {"Code": "active", "Message": "Active"},
                 "RequesterVpcInfo": {"VpcId": VPC_IDS[0], "CidrBlock": VPC_CIDRS[0], "OwnerId": "111122223333",
                                      "Region": "us-east-1"},
                 "AccepterVpcInfo": {"VpcId": PHANTOM_VPC, "CidrBlock": PHANTOM_CIDR, "OwnerId": "111122223333",
                                     "Region": "us-east-1"}}]
    if n_vpcs == 2:
        status = draw(st.sampled_from(["active"] * 6 + ["pending-acceptance", "deleted"]))
        peerings.append({"VpcPeeringConnectionId": PCX_MAIN, "Status": {"Code": status, "Message": status},
                         "RequesterVpcInfo": {"VpcId": VPC_IDS[0], "CidrBlock": VPC_CIDRS[0],
                                              "OwnerId": "111122223333", "Region": "us-east-1"},
                         "AccepterVpcInfo": {"VpcId": VPC_IDS[1], "CidrBlock": VPC_CIDRS[1],
                                             "OwnerId": "111122223333", "Region": "us-east-1"}})

    # route tables: a main table per VPC, explicit tables for some subnets; never a route inside the own VPC
    def routes_for(v: int) -> list[dict]:
        other = 1 - v
        dests = ["0.0.0.0/0", "10.0.0.0/8", PHANTOM_CIDR]
        if n_vpcs == 2:
            dests += [VPC_CIDRS[other]] * 3 + [c for c, sv in zip(cidrs, subnet_vpc) if sv == other]
            dests += [c.replace("0/24", half) for c, sv in zip(cidrs, subnet_vpc) if sv == other
                      for half in ("0/25", "128/25")]
            dests += [f"{h}/32" for h, e in zip(hosts, enis) if e["VpcId"] == VPC_IDS[other]]
        out = []
        if n_vpcs == 2 and draw(st.integers(0, 9)) < 7:   # usually the peering route for the whole peer VPC
            out.append(state_route(VPC_CIDRS[other], "active", VpcPeeringConnectionId=PCX_MAIN))
            dests = [d for d in dests if d != VPC_CIDRS[other]]
        chosen = draw(st.lists(st.sampled_from(dests), max_size=3, unique=True))
        for d in chosen:
            kind = draw(st.sampled_from(["pcx", "pcx", "pcx", "blackhole", "igw", "tgw", "phantom", "phantom"]))
            if kind == "pcx" and n_vpcs == 2:
                out.append(state_route(d, "active", VpcPeeringConnectionId=PCX_MAIN))
            elif kind == "blackhole":
                out.append(state_route(d, "blackhole", VpcPeeringConnectionId="pcx-0de1e7ed00000de01"))
            elif kind == "igw":
                out.append(state_route(d, "active", GatewayId=IGW))
            elif kind == "tgw":
                out.append(state_route(d, "active", TransitGatewayId=TGW))
            elif v == 0:
                out.append(state_route(d, "active", VpcPeeringConnectionId=PCX_PHANTOM))
        if v == 0 and n_vpcs == 2 and draw(st.integers(0, 9)) < 3:
            # a specific route for part of the peer VPC sent over the other peering: not transitive (RT-4)
            used = {r["DestinationCidrBlock"] for r in out}
            specific = [c for c, sv in zip(cidrs, subnet_vpc) if sv == 1 and c not in used]
            if specific:
                out.append(state_route(draw(st.sampled_from(specific)), "active",
                                       VpcPeeringConnectionId=PCX_PHANTOM))
        return draw(st.permutations(out))

    tables = []
    for v in range(n_vpcs):
        tables.append(route_table(f"rtb-0{v}0000000000000d0", vpc_id=VPC_IDS[v], local=[VPC_CIDRS[v]],
                                  routes=routes_for(v)))
    for i, (s, v) in enumerate(zip(subnets, subnet_vpc)):
        if draw(st.integers(0, 9)) < 4:
            tables.append(route_table(f"rtb-0{i}0000000000000e{i}", vpc_id=VPC_IDS[v], main=False,
                                      subnets=[s["SubnetId"]], local=[VPC_CIDRS[v]], routes=routes_for(v)))

    allow_all = [perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"])]
    groups = [sg(f"sg-0{v}00000000000000a", f"open-{v}", ingress=allow_all, egress=allow_all, vpc_id=VPC_IDS[v])
              for v in range(n_vpcs)]
    return {"Vpcs": [vpc(VPC_IDS[v], VPC_CIDRS[v]) for v in range(n_vpcs)], "Subnets": subnets,
            "SecurityGroups": groups, "NetworkInterfaces": enis, "NetworkAcls": acls, "RouteTables": tables,
            "VpcPeeringConnections": peerings}


# (protocol, port or ICMP type, ICMP code): echo requests (reply type 0), a timestamp request (reply type 14)
# and a destination-unreachable message, which has no reply at all (so needs no return route).
TRAFFIC = st.sampled_from([("tcp", 443, None), ("tcp", 22, None), ("tcp", 40003, None), ("udp", 53, None),
                           ("icmp", 8, 0), ("icmp", 8, 5), ("icmp", 13, 0), ("icmp", 3, 1), ("50", None, None)])


def ask(snap: reachgraph.Snapshot, src: str, dst: str, protocol: str, port: int | None, code: int | None):
    if protocol == "icmp":
        return snap.query(src, f"{dst}:icmp/{port}:{code}", ephemeral_ports=EPHEMERAL)
    if protocol in ("tcp", "udp"):
        return snap.query(src, f"{dst}:{port}/{protocol}", ephemeral_ports=EPHEMERAL)
    return snap.query(src, dst, protocol=protocol, ephemeral_ports=EPHEMERAL)


def explain(docs: dict, result, trace: list[str]) -> str:
    lines = [f"engine: {result.verdict} {result.traffic}", f"reference trace: {trace}"]
    for p in result.pairs:
        lines += [f"  {c.kind} {c.direction} {c.component} {c.status} {c.code or ''} {c.detail}" for c in p.checks]
    lines.append("ACLs:")
    for acl in docs["NetworkAcls"]:
        lines.append(f"  {acl['NetworkAclId']} default={acl['IsDefault']} "
                     f"subnets={[a['SubnetId'] for a in acl['Associations']]}")
        lines += [f"    {e}" for e in sorted(acl["Entries"], key=lambda e: (e["Egress"], e["RuleNumber"]))]
    lines.append("route tables:")
    for t in docs["RouteTables"]:
        assocs = [(a.get("Main"), a.get("SubnetId")) for a in t["Associations"]]
        lines.append(f"  {t['RouteTableId']} {t['VpcId']} {assocs}")
        lines += [f"    {r}" for r in t["Routes"]]
    peerings = [(p["VpcPeeringConnectionId"], p["Status"]["Code"]) for p in docs["VpcPeeringConnections"]]
    lines.append(f"peerings: {peerings}")
    lines.append("interfaces: " + ", ".join(f"{e['NetworkInterfaceId']}={e['PrivateIpAddress']}@{e['SubnetId']}"
                                            for e in docs["NetworkInterfaces"]))
    return "\n".join(lines)


@settings(max_examples=220, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(docs=estates(), traffic=st.lists(TRAFFIC, min_size=3, max_size=4, unique=True), seed=st.integers(0, 2**16))
def test_engine_agrees_with_the_packet_level_reference(docs, traffic, seed):
    """design.md quality bar: a brute-force reference evaluator cross-checks the engine on generated estates
    (NACL-1..7, RT-1..5): per interface pair and traffic, the verdicts are equal."""
    reference = ReferencePath(docs, ephemeral=EPHEMERAL)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n, key in enumerate(sorted(docs)):
            write_json(folder / f"describe-{n:02d}.json", {key: docs[key]})
        snap = reachgraph.load(folder)
    ids = [e["NetworkInterfaceId"] for e in docs["NetworkInterfaces"]]
    pairs = [(a, b) for a in ids for b in ids if a != b]
    random.Random(seed).shuffle(pairs)
    for src, dst in pairs[:8]:
        for protocol, port, code in traffic:
            expected = reference.verdict(src, dst, protocol, port, icmp=(port, code) if protocol == "icmp" else None)
            result = ask(snap, src, dst, protocol, port, code)
            assert result.verdict == expected, f"{src} -> {dst} {protocol}/{port}: expected {expected}\n" + \
                explain(docs, result, reference.trace)
    # A group as the destination stands for all its member interfaces: the verdicts aggregate per design.md
    # (reachable: every pair; blocked: none; partial: some do, some don't; otherwise unknown).
    group = "sg-0000000000000000a"
    members = [e["NetworkInterfaceId"] for e in docs["NetworkInterfaces"] if group in
               [g["GroupId"] for g in e["Groups"]]]
    src = random.Random(seed + 1).choice(ids)
    protocol, port, code = traffic[0]
    verdicts = [reference.verdict(src, m, protocol, port, icmp=(port, code) if protocol == "icmp" else None)
                for m in members]
    expected = ("reachable" if set(verdicts) == {"reachable"} else "blocked" if set(verdicts) == {"blocked"}
                else "partial" if {"reachable", "blocked"} <= set(verdicts) else "unknown")
    result = ask(snap, src, group, protocol, port, code)
    assert result.verdict == expected, f"{src} -> {group} ({members}) {protocol}/{port}: {verdicts}\n" + \
        explain(docs, result, [])
    assert {(p.destination, p.verdict) for p in result.pairs} == set(zip(members, verdicts))


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(docs=estates(), traffic=st.lists(TRAFFIC, min_size=2, max_size=3, unique=True), host=st.sampled_from([77, 200]),
       seed=st.integers(0, 2**16))
def test_engine_agrees_with_the_reference_for_addresses_inside_subnets(docs, traffic, host, seed):
    """The same cross-check with one side an address (no interface) inside one of the estate's subnets: it lives
    behind that subnet's ACL and route table (NACL-4, RT-2), both as a source and as a destination."""
    reference = ReferencePath(docs, ephemeral=EPHEMERAL)
    with tempfile.TemporaryDirectory() as tmp:
        for n, key in enumerate(sorted(docs)):
            write_json(Path(tmp) / f"describe-{n:02d}.json", {key: docs[key]})
        snap = reachgraph.load(Path(tmp))
    rng = random.Random(seed)
    subnet_cidr = rng.choice(docs["Subnets"])["CidrBlock"]
    ip = subnet_cidr.replace("0/24", str(host))
    key = reference.add_host(ip)
    ids = [e["NetworkInterfaceId"] for e in docs["NetworkInterfaces"]]
    for other in rng.sample(ids, min(3, len(ids))):
        for (src, dst, s_text, d_text) in ((key, other, ip, other), (other, key, other, ip)):
            for protocol, port, code in traffic:
                expected = reference.verdict(src, dst, protocol, port,
                                             icmp=(port, code) if protocol == "icmp" else None)
                result = ask(snap, s_text, d_text, protocol, port, code)
                assert result.verdict == expected, f"{s_text} -> {d_text} {protocol}/{port}: expected " \
                    f"{expected}\n" + explain(docs, result, reference.trace)


# -- the reference itself, on hand-made cases (so that it is not vacuous) --------------------------------
def _two_subnet_docs(server_entries: list[dict], routes: list[dict] = ()) -> dict:
    subnets = [subnet("subnet-0a", "10.0.1.0/24", vpc_id=VPC_IDS[0]), subnet("subnet-0b", "10.0.2.0/24",
                                                                              vpc_id=VPC_IDS[0])]
    return {"Vpcs": [vpc(VPC_IDS[0], VPC_CIDRS[0])], "Subnets": subnets,
            "NetworkInterfaces": [eni("eni-a", "10.0.1.10", [], subnet_id="subnet-0a", vpc_id=VPC_IDS[0]),
                                  eni("eni-b", "10.0.2.20", [], subnet_id="subnet-0b", vpc_id=VPC_IDS[0])],
            "NetworkAcls": [network_acl("acl-default", [acl_entry(100, "allow", egress=False),
                                                        acl_entry(100, "allow", egress=True)],
                                        vpc_id=VPC_IDS[0], is_default=True),
                            network_acl("acl-b", server_entries, subnets=["subnet-0b"], vpc_id=VPC_IDS[0])],
            "RouteTables": [route_table("rtb-main", vpc_id=VPC_IDS[0], local=[VPC_CIDRS[0]], routes=list(routes))],
            "VpcPeeringConnections": []}


def test_reference_checks_every_ephemeral_reply_port_and_rule_order():
    """The reference itself: first match by rule number whatever the order; every ephemeral port checked."""
    allow_443 = acl_entry(100, "allow", egress=False, protocol="6", cidr="10.0.1.0/24", ports=(443, 443))
    ref = ReferencePath(_two_subnet_docs([allow_443, acl_entry(100, "allow", egress=True, protocol="6",
                                                               ports=(40000, 40015))]), ephemeral=EPHEMERAL)
    assert ref.verdict("eni-a", "eni-b", "tcp", 443) == "reachable"
    ref = ReferencePath(_two_subnet_docs([allow_443, acl_entry(100, "allow", egress=True, protocol="6",
                                                               ports=(40000, 40014))]), ephemeral=EPHEMERAL)
    assert ref.verdict("eni-a", "eni-b", "tcp", 443) == "blocked"
    assert any("40015" in t for t in ref.trace), ref.trace
    deny_first = acl_entry(50, "deny", egress=False, protocol="6", cidr="10.0.1.10/32", ports=(443, 443))
    ref = ReferencePath(_two_subnet_docs([allow_443, acl_entry(100, "allow", egress=True), deny_first]),
                        ephemeral=EPHEMERAL)
    assert ref.verdict("eni-a", "eni-b", "tcp", 443) == "blocked"
    assert ref.verdict("eni-b", "eni-a", "tcp", 443) == "blocked"      # the reply into b hits the '*'
    assert ref.verdict("eni-a", "eni-b", "udp", 443) == "blocked"
    v6_only = [acl_entry(10, "allow", egress=False, cidr="::/0"), acl_entry(10, "allow", egress=True, cidr="::/0")]
    assert ReferencePath(_two_subnet_docs(v6_only)).verdict("eni-a", "eni-b", "tcp", 443) == "blocked"


def test_reference_icmp_and_routes():
    """The reference itself: echo reply type 0; blackhole and transit gateway routes for another VPC."""
    icmp = [acl_entry(10, "allow", egress=False, protocol="1", icmp=(8, -1)),
            acl_entry(10, "allow", egress=True, protocol="1", icmp=(0, -1))]
    ref = ReferencePath(_two_subnet_docs(icmp))
    assert ref.verdict("eni-a", "eni-b", "icmp", icmp=(8, 0)) == "reachable"
    assert ref.verdict("eni-a", "eni-b", "tcp", 443) == "blocked"
    docs = _two_subnet_docs([acl_entry(1, "allow", egress=False), acl_entry(1, "allow", egress=True)])
    docs["Vpcs"].append(vpc(VPC_IDS[1], VPC_CIDRS[1]))
    docs["Subnets"].append(subnet("subnet-0c", "10.1.1.0/24", vpc_id=VPC_IDS[1]))
    docs["NetworkInterfaces"].append(eni("eni-c", "10.1.1.30", [], subnet_id="subnet-0c", vpc_id=VPC_IDS[1]))
    docs["NetworkAcls"].append(network_acl("acl-d1", [acl_entry(1, "allow", egress=False),
                                                      acl_entry(1, "allow", egress=True)],
                                           vpc_id=VPC_IDS[1], is_default=True))
    docs["RouteTables"] = [
        route_table("rtb-main", vpc_id=VPC_IDS[0], local=[VPC_CIDRS[0]],
                    routes=[state_route("10.1.0.0/16", "active", TransitGatewayId=TGW),
                            state_route("10.1.1.30/32", "blackhole", VpcPeeringConnectionId="pcx-gone")]),
        route_table("rtb-main-1", vpc_id=VPC_IDS[1], local=[VPC_CIDRS[1]],
                    routes=[state_route("10.0.0.0/16", "active", TransitGatewayId=TGW)])]
    ref = ReferencePath(docs)
    assert ref.verdict("eni-a", "eni-c", "tcp", 443) == "blocked"       # the /32 blackhole wins
    docs["RouteTables"][0]["Routes"].pop()
    assert ReferencePath(docs).verdict("eni-a", "eni-c", "tcp", 443) == "unknown"
    assert ReferencePath(docs).verdict("eni-a", "eni-b", "tcp", 443) == "reachable"
