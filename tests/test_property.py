"""Property tests: the engine agrees with the brute-force reference (tests/reference.py) on random estates, and
adding an allow rule never removes reachability.

Hypothesis generates AWS-CLI-shaped JSON: 2-6 security groups with random rules (tcp/udp/icmp/-1/"6"/"17"/
"50"/"1"/"58", port ranges with edges, IPv4 CIDRs from /0 to /32 around the interfaces' addresses and the
internet, IPv6 ranges, group references -- to groups with members, to groups without, to an undescribed group
and to another account's group -- known and unknown prefix lists), 2-8 interfaces with 1-3 groups each
(private IPs in 10.0.0.0/16, some with public IPs), either VPC-less or in one VPC with its main route table and
default ACL; then random queries eni->eni, ip->eni and eni->ip on tcp/udp ports, icmp type/code and protocol 50.

For every query the security-group part of the engine's verdict must equal the reference's; where nothing but
security groups can matter (one VPC, local routes, allow-all default ACL, addresses inside the VPC) the whole
verdict must equal it too.  Runs are derandomized (fixed seed, no example database) so CI is deterministic.
"""

from __future__ import annotations

import ipaddress
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reachgraph
from builders import ACCOUNT, OTHER_ACCOUNT, default_acl, eni, perm, prefix_list, route_table, sg, subnet, vpc
from reachgraph.semantics import bounds
from reference import Packet, Reference

SETTINGS = settings(max_examples=250, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
MIN_CASES = 200

GROUPS = [f"sg-0{n:016x}" for n in range(1, 7)]
UNDESCRIBED = "sg-0dead0000000dead1"          # listed on interfaces or in rules, absent from SecurityGroups
FOREIGN = {"GroupId": "sg-0f0f0f0f0f0f0f0f0", "UserId": OTHER_ACCOUNT}
PL_KNOWN, PL_UNKNOWN = "pl-0aaaaaaaaaaaaaaa1", "pl-0bbbbbbbbbbbbbbb2"
SUBNETS = {"subnet-0000000000000a100": "10.0.0.0/17", "subnet-0000000000000b200": "10.0.128.0/17"}
AZ = {"subnet-0000000000000a100": "us-east-1a", "subnet-0000000000000b200": "us-east-1b"}
PORTS = [0, 1, 22, 80, 443, 999, 1000, 1500, 2000, 2001, 6379, 32768, 65535]
SPECIAL_DESTINATIONS = ["10.0.0.2", "10.0.0.2", "10.0.0.3", "169.254.169.254", "169.254.169.253", "169.254.169.123",
                        "169.254.169.250"]
VPC_NET = ipaddress.ip_network("10.0.0.0/16")


@dataclass
class Case:
    docs: dict[str, Any]
    has_vpc: bool
    queries: list[tuple[tuple[str, str], tuple[str, str], Packet]] = field(default_factory=list)


# -- strategies ---------------------------------------------------------------------------------------------
private_ips = st.builds(lambda x, y: f"10.0.{x}.{y}", st.integers(0, 255), st.integers(4, 254))
public_ips = st.builds(lambda a, b, c: f"{a}.{b}.{c}.{(a * 7 + c) % 250 + 1}", st.sampled_from([3, 8, 52, 54, 198]),
                       st.integers(0, 255), st.integers(0, 255))
outsider_ips = st.lists(st.one_of(private_ips, public_ips), min_size=2, max_size=4)


def pick(draw, seq):
    """One element of seq (an integer draw: cheaper than building a sampled_from strategy per call)."""
    seq = list(seq)
    return seq[draw(st.integers(0, len(seq) - 1))]


def cidr4(draw, anchors: list[str]) -> str:
    which = draw(st.integers(0, 2))
    base = pick(draw, anchors) if which == 0 else draw(private_ips if which == 1 else public_ips)
    prefix = pick(draw, [0, 8, 16, 17, 20, 24, 28, 31, 32])
    return str(ipaddress.ip_network(f"{base}/{prefix}", strict=False))


def permission(draw, anchors: list[str]) -> dict[str, Any]:
    proto = pick(draw, ["tcp", "tcp", "udp", "icmp", "icmp", "-1", "6", "17", "50", "1", "58"])
    lo = hi = None
    if proto in ("tcp", "udp", "6", "17"):
        lo, hi = sorted([pick(draw, PORTS), pick(draw, PORTS)])
    elif proto in ("icmp", "1", "58"):
        lo = pick(draw, [-1, 0, 3, 3, 8])
        hi = -1 if lo == -1 else pick(draw, [-1, 0, 4, 4])
    else:  # -1 and 50: whatever the ports say, they are ignored (SG-7)
        lo, hi = pick(draw, [(None, None), (0, 0), (-1, -1), (80, 80), (1000, 2000)])
    cidrs, cidrs6, groups, pls = [], [], [], []
    for _ in range(draw(st.integers(1, 2))):
        kind = pick(draw, ["cidr", "cidr", "cidr", "cidr6", "group", "group", "group", "pl"])
        if kind == "cidr":
            cidrs.append(cidr4(draw, anchors))
        elif kind == "cidr6":
            cidrs6.append(pick(draw, ["::/0", "2600:1f18::/32", "::ffff:0:0/96"]))
        elif kind == "group":
            choice = pick(draw, GROUPS + [UNDESCRIBED, "foreign", "foreign"])
            groups.append(dict(FOREIGN) if choice == "foreign" else choice)
        else:
            pls.append(pick(draw, [PL_KNOWN, PL_UNKNOWN]))
    return perm(proto, lo, hi, cidrs=sorted(set(cidrs)), cidrs6=sorted(set(cidrs6)), groups=groups,
                prefix_lists=sorted(set(pls)))


def packets(draw, rules: list[dict[str, Any]]) -> Packet:
    """Mostly a packet at an edge of some rule of the estate (lo-1, lo, hi, hi+1; its icmp type/code), so that
    rules are hit and missed by one; else a random one."""
    if rules and draw(st.integers(0, 2)) > 0:
        r = pick(draw, rules)
        proto, lo, hi = r["IpProtocol"], r.get("FromPort"), r.get("ToPort")
        if proto in ("tcp", "udp", "6", "17"):
            port = pick(draw, [lo - 1, lo, hi, hi + 1])
            return Packet(6 if proto in ("tcp", "6") else 17, port=min(max(port, 0), 65535))
        if proto in ("icmp", "1", "58"):
            itype = lo if lo not in (None, -1) else pick(draw, [0, 3, 8, 11])
            code = hi if hi not in (None, -1) else pick(draw, [0, 4])
            return Packet(1, icmp_type=itype, icmp_code=pick(draw, [code, (code + 1) % 6]))
        if proto == "50":
            return Packet(50)
    kind = pick(draw, ["tcp", "tcp", "udp", "icmp", "50"])
    if kind in ("tcp", "udp"):
        port = pick(draw, PORTS) if draw(st.booleans()) else draw(st.integers(0, 65535))
        return Packet(6 if kind == "tcp" else 17, port=port)
    if kind == "icmp":
        return Packet(1, icmp_type=pick(draw, [0, 3, 8, 11]), icmp_code=pick(draw, [0, 4]))
    return Packet(50)


def subnet_of(ip: str) -> str:
    return next(sid for sid, c in SUBNETS.items() if ipaddress.ip_address(ip) in ipaddress.ip_network(c))


@st.composite
def estates(draw) -> Case:
    has_vpc = draw(st.booleans())
    n_groups = draw(st.integers(2, 6))
    groups = GROUPS[:n_groups]
    n_ifaces = draw(st.integers(2, 8))
    ips = draw(st.lists(private_ips, min_size=n_ifaces, max_size=n_ifaces, unique=True))
    publics = draw(st.lists(public_ips, min_size=n_ifaces, max_size=n_ifaces, unique=True))
    interfaces = []
    for n, ip in enumerate(ips):
        pool = list(groups)
        carried = [pool.pop(draw(st.integers(0, len(pool) - 1)))
                   for _ in range(draw(st.integers(1, min(3, len(pool)))))]
        if draw(st.integers(0, 11)) == 0:
            carried.append(UNDESCRIBED)     # a group the snapshot does not describe: its rules are unknown
        public = publics[n] if draw(st.integers(0, 9)) < 3 else None
        interfaces.append(eni(f"eni-0{n:016x}", ip, carried, subnet_id=subnet_of(ip), public_ip=public,
                              az=AZ[subnet_of(ip)]))
    anchors = ips + [p for p in publics[:2]]
    pls = [prefix_list(PL_KNOWN, sorted({cidr4(draw, anchors) for _ in range(draw(st.integers(1, 2)))}))]
    sgs = []
    for gid in groups:
        ingress = [permission(draw, anchors) for _ in range(draw(st.integers(0, 4)))]
        # AWS's allow-all default most of the time, else 0-3 random rules (0: "lets nothing out", SG-3)
        egress = None if draw(st.integers(0, 9)) < 6 else [permission(draw, anchors)
                                                           for _ in range(draw(st.integers(0, 3)))]
        sgs.append(sg(gid, f"group-{gid[-1]}", ingress=ingress, egress=egress))
    docs: dict[str, Any] = {"SecurityGroups": sgs, "NetworkInterfaces": interfaces, "PrefixLists": pls}
    if has_vpc:
        docs["Vpcs"] = [vpc()]
        docs["Subnets"] = [subnet(sid, c, az=AZ[sid]) for sid, c in SUBNETS.items()]
        docs["RouteTables"] = [route_table("rtb-0a1b2c3d4e5f60001")]
        docs["NetworkAcls"] = [default_acl("acl-0a1b2c3d4e5f60001", subnets=list(SUBNETS))]
    case = Case(docs, has_vpc)
    rules = [p for g in sgs for p in g["IpPermissions"] + g["IpPermissionsEgress"]]
    ids = [i["NetworkInterfaceId"] for i in interfaces]
    members = {gid: [n for n, i in enumerate(interfaces) if gid in {g["GroupId"] for g in i["Groups"]}]
               for gid in groups + [UNDESCRIBED]}
    public_of = {n: i["Association"]["PublicIp"] for n, i in enumerate(interfaces) if "Association" in i}
    outsiders = [ip for ip in draw(outsider_ips) if ip not in ips] or ["10.0.255.254"]
    for _ in range(draw(st.integers(2, 12))):
        kind = pick(draw, ["eni->eni", "eni->eni", "ip->eni", "eni->ip"])
        a = draw(st.integers(0, n_ifaces - 1))
        b = (a + draw(st.integers(1, n_ifaces - 1))) % n_ifaces
        # The rules that decide: the destination's ingress (eni->eni, ip->eni) or the source's egress (eni->ip).
        me = b if kind != "eni->ip" else a
        key = "IpPermissionsEgress" if kind == "eni->ip" else "IpPermissions"
        mine = {g["GroupId"] for g in interfaces[me]["Groups"]}
        aimed = [p for g in sgs if g["GroupId"] in mine for p in g[key]]
        rule = pick(draw, aimed) if aimed and draw(st.integers(0, 3)) > 0 else None
        # The peer: often one the chosen rule names (a member of its group, its public IP, an address of its
        # CIDR or prefix list), so that rules are hit -- and missed by one address, family or member.
        peer_n, peer_ip = a if kind != "eni->ip" else b, None
        if rule is not None:
            options: list[tuple[int | None, str | None]] = []
            for pair in rule["UserIdGroupPairs"]:
                for n in members.get(pair["GroupId"], []):
                    if n != me:
                        options += [(n, None), (None, public_of.get(n) or ips[n])]
                if not members.get(pair["GroupId"]):      # another account's, undescribed or memberless group
                    options += [(None, pick(draw, outsiders))]
            for r in rule["IpRanges"]:
                net = ipaddress.ip_network(r["CidrIp"])
                inside = [n for n in range(n_ifaces) if n != me and ipaddress.ip_address(ips[n]) in net]
                options += [(n, None) for n in inside]
                offset = pick(draw, [0, net.num_addresses - 1, net.num_addresses // 2])
                options += [(None, str(net.network_address + offset))]
                if net.prefixlen > 0:
                    options += [(None, str(net.broadcast_address + 1)) if net.broadcast_address.packed != b"\xff" * 4
                                else (None, str(net.network_address - 1))]
            if options:
                peer_n, peer_ip = pick(draw, options)
        if kind == "eni->eni" or (peer_ip is None and peer_n is not None and kind != "eni->ip"
                                  and draw(st.booleans())):
            q = (("eni", ids[peer_n if peer_n is not None else a]), ("eni", ids[b]))
        elif kind == "ip->eni":
            ip = peer_ip or pick(draw, [ips[peer_n if peer_n is not None else a], *public_of.values(), *outsiders])
            q = (("ip", ip), ("eni", ids[b])) if ip != ips[b] else (("eni", ids[a]), ("eni", ids[b]))
        else:
            near = [ips[peer_n if peer_n is not None else b], *public_of.values(), *outsiders]
            if draw(st.integers(0, 3)) == 0:
                ip = pick(draw, SPECIAL_DESTINATIONS)        # SG-14 addresses, and their neighbours
            else:
                ip = peer_ip or pick(draw, near)
            q = (("eni", ids[a]), ("ip", ip)) if ip != ips[a] else (("eni", ids[a]), ("eni", ids[b]))
        if q[0] == q[1]:
            q = (("eni", ids[a]), ("eni", ids[b]))
        case.queries.append((q[0], q[1], packets(draw, [rule] if rule is not None else aimed or rules)))
    return case


# -- running the engine -------------------------------------------------------------------------------------
def load(docs: dict[str, Any]) -> reachgraph.Snapshot:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "estate.json"
        path.write_text(json.dumps(docs))
        return reachgraph.load(path)


def ask(snap: reachgraph.Snapshot, src: tuple[str, str], dst: tuple[str, str], pkt: Packet):
    s, d = src[1], dst[1]
    if pkt.protocol in (6, 17):
        return snap.query(s, d, port=pkt.port, protocol="tcp" if pkt.protocol == 6 else "udp")
    if pkt.protocol == 1:
        return snap.query(s, f"{d}:icmp/{pkt.icmp_type}:{pkt.icmp_code}")
    return snap.query(s, d, protocol=str(pkt.protocol))


def sg_verdict(result) -> str:
    """The verdict of the security-group checks alone (one pair per query here)."""
    assert len(result.pairs) == 1, result.to_dict()
    statuses = {c.status for c in result.pairs[0].checks if c.kind == "security_group"}
    assert statuses, result.to_dict()
    return "blocked" if "deny" in statuses else "unknown" if "unknown" in statuses else "reachable"


def path_neutral(case: Case, src: tuple[str, str], dst: tuple[str, str]) -> bool:
    """Nothing but security groups can matter: one VPC, local routes, allow-all ACL, addresses in the VPC."""
    if not case.has_vpc:
        return False
    return all(kind == "eni" or ipaddress.ip_address(v) in VPC_NET for kind, v in (src, dst))


def describe(case: Case, src, dst, pkt, result, expected) -> str:
    return (f"\nquery {src} -> {dst} {pkt}\nengine: {result.verdict} (sg part {sg_verdict(result)})"
            f"\nreference: {expected}\npairs: {json.dumps([p.to_dict() for p in result.pairs], indent=1)}"
            f"\nestate: {json.dumps(case.docs, indent=1)}")


def check_case(case: Case) -> None:
    snap = load(case.docs)
    ref = Reference(case.docs, {ACCOUNT})
    for src, dst, pkt in case.queries:
        result = ask(snap, src, dst, pkt)
        expected = ref.verdict(src, dst, pkt)
        assert sg_verdict(result) == expected, describe(case, src, dst, pkt, result, expected)
        if path_neutral(case, src, dst):
            assert result.verdict == expected, describe(case, src, dst, pkt, result, expected)


# -- the properties -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [200_000, 3])
def test_answers_do_not_depend_on_what_was_asked_before(limit, monkeypatch):
    """The engine shares work between queries (checks cached per group set and address signature, per pair of
    places, digests of shared checks, sides of an endpoint): every answer, text included, equals a fresh engine's,
    in any order -- also when the caches are so small that they start over all the time."""
    monkeypatch.setattr(bounds, "CACHE_LIMIT", limit)
    if limit < 10:
        monkeypatch.setattr(bounds, "SIDES_PER_INTERFACE", 0)   # the sides cache starts over too
    @settings(SETTINGS, max_examples=40)
    @given(estates())
    def run(case: Case) -> None:
        # Every ordered pair of interfaces, on the traffic of the generated queries: many pairs share group
        # sets, subnets and signatures, which is where a cache keyed too coarsely would answer for another pair.
        ids = [i["NetworkInterfaceId"] for i in case.docs["NetworkInterfaces"]]
        packets = list(dict.fromkeys(pkt for _, _, pkt in case.queries))[:2]
        queries = [(("eni", a), ("eni", b), pkt) for pkt in packets for a in ids for b in ids if a != b]
        queries += case.queries
        forward, backward = load(case.docs), load(case.docs)
        asked = [ask(forward, *q).to_dict() for q in queries]
        assert [ask(backward, *q).to_dict() for q in reversed(queries)] == asked[::-1]
        assert [ask(load(case.docs), *q).to_dict() for q in queries[::7]] == asked[::7]

    run()


def test_engine_agrees_with_reference():
    """The engine's verdict per query equals the brute-force reference's, on >= 200 generated estates."""
    seen: list[int] = []

    @SETTINGS
    @given(estates())
    def run(case: Case) -> None:
        check_case(case)
        seen.append(len(case.queries))

    run()
    assert len(seen) >= MIN_CASES, len(seen)
    assert sum(seen) >= 2 * MIN_CASES


def added_rule(draw, case: Case) -> tuple[str, str, dict[str, Any]]:
    """(group id, IpPermissions or IpPermissionsEgress, permission): usually a rule aimed at one of the queries --
    on the group that decides it, for its protocol and port, naming its peer, another group, another account's
    group or an unknown prefix list -- else a random rule on a random group."""
    docs = case.docs
    ip_of = {i["NetworkInterfaceId"]: i["PrivateIpAddress"] for i in docs["NetworkInterfaces"]}
    groups_of = {i["NetworkInterfaceId"]: [g["GroupId"] for g in i["Groups"]] for i in docs["NetworkInterfaces"]}
    described = [g["GroupId"] for g in docs["SecurityGroups"]]
    if draw(st.integers(0, 3)) == 0:
        return (pick(draw, described), pick(draw, ["IpPermissions", "IpPermissionsEgress"]),
                permission(draw, list(ip_of.values())))
    src, dst, pkt = pick(draw, case.queries)
    if dst[0] == "eni":
        me, key, peer = dst[1], "IpPermissions", src
    else:
        me, key, peer = src[1], "IpPermissionsEgress", dst
    gid = pick(draw, [g for g in groups_of[me] if g in described] or described)
    peer_ip = ip_of[peer[1]] if peer[0] == "eni" else peer[1]
    if pkt.protocol in (6, 17):
        lo = pick(draw, [pkt.port, 0])
        hi = pick(draw, [pkt.port, 65535])
        proto = pick(draw, ["tcp", "6"] if pkt.protocol == 6 else ["udp", "17"])
        ports = (lo, hi)
    elif pkt.protocol == 1:
        proto, ports = "icmp", pick(draw, [(pkt.icmp_type, pkt.icmp_code), (pkt.icmp_type, -1), (-1, -1)])
    else:
        proto, ports = "50", (None, None)
    if draw(st.integers(0, 4)) == 0:
        proto, ports = "-1", (None, None)
    target = pick(draw, ["cidr", "group", "foreign", "pl", "undescribed"])
    net = ipaddress.ip_network(f"{peer_ip}/{pick(draw, [32, 24, 0])}", strict=False)
    kwargs: dict[str, Any] = {
        "cidr": {"cidrs": [str(net)]} if net.version == 4 else {"cidrs6": [str(net)]},
        "group": {"groups": [pick(draw, groups_of.get(peer[1], described))]},
        "foreign": {"groups": [dict(FOREIGN)]},
        "pl": {"prefix_lists": [PL_UNKNOWN]},
        "undescribed": {"groups": [UNDESCRIBED]},
    }[target]
    return gid, key, perm(proto, *ports, **kwargs)


def test_adding_an_allow_rule_never_removes_reachability():
    """Monotonicity (SG-1: allow-only): after adding one rule to one group, every query that was reachable is
    still reachable, and no unknown becomes blocked."""
    seen: list[int] = []

    @SETTINGS
    @given(st.data())
    def run(data) -> None:
        case = data.draw(estates())
        gid, key, extra = added_rule(data.draw, case)
        grown = json.loads(json.dumps(case.docs))
        next(g for g in grown["SecurityGroups"] if g["GroupId"] == gid)[key].append(extra)
        before, after = load(case.docs), load(grown)
        for src, dst, pkt in case.queries:
            was, now = ask(before, src, dst, pkt).verdict, ask(after, src, dst, pkt).verdict
            assert not (was == "reachable" and now != "reachable"), (src, dst, pkt, gid, key, extra, was, now)
            assert not (was == "unknown" and now == "blocked"), (src, dst, pkt, gid, key, extra, was, now)
        seen.append(1)

    run()
    assert len(seen) >= MIN_CASES, len(seen)
