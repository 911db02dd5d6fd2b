"""A brute-force, packet-level reference evaluator for network ACLs and routes (NACL-1..7, RT-1..5).

It reads the raw AWS JSON (the dicts tests/builders.py and tests/path_builders.py produce) and nothing of
reachgraph: no import of reachgraph.semantics or reachgraph.query, no intervals, no rectangles. It builds every
concrete packet a connection needs and walks each one through the ACL entries (sorted by rule number, first match
wins, the implicit `*` deny at the end) and the route tables (longest prefix per destination address):

- the request, source interface -> destination interface on the queried protocol/port;
- every reply, destination -> source, once for each port of the client's ephemeral range (tcp/udp), the echo
  reply for an ICMP echo request, or the same protocol for other protocols.

Security groups are not modelled: the property test gives every interface allow-all groups so that only ACLs and
routes decide. IPv4 only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Json = dict[str, Any]

PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
ECHO_REPLY = {8: 0, 13: 14}


@lru_cache(maxsize=4096)
def network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A parsed CIDR (cached: the same few blocks are checked for every packet)."""
    return ipaddress.ip_network(cidr)


@dataclass(frozen=True)
class Packet:
    """One IPv4 packet as an ACL and a route table see it."""

    protocol: int           # IP protocol number
    src: ipaddress.IPv4Address
    dst: ipaddress.IPv4Address
    dport: int | None = None            # tcp/udp destination port
    icmp: tuple[int, int] | None = None  # icmp (type, code)

    def __str__(self) -> str:
        what = f"proto {self.protocol}"
        if self.dport is not None:
            what += f" port {self.dport}"
        if self.icmp is not None:
            what += f" icmp {self.icmp[0]}/{self.icmp[1]}"
        return f"{self.src} -> {self.dst} {what}"


class ReferencePath:
    """Answers reachable / blocked / unknown for one pair of interfaces by enumerating packets."""

    def __init__(self, docs: Json, ephemeral: tuple[int, int] = (32768, 60999)) -> None:
        self.ephemeral = ephemeral
        self.vpc_cidrs: dict[str, list[ipaddress.IPv4Network]] = {}
        for v in docs.get("Vpcs", []):
            blocks = [c["CidrBlock"] for c in v.get("CidrBlockAssociationSet", [])] or [v["CidrBlock"]]
            self.vpc_cidrs[v["VpcId"]] = [ipaddress.ip_network(b) for b in blocks]
        self.subnet_vpc = {s["SubnetId"]: s["VpcId"] for s in docs.get("Subnets", [])}
        self.subnet_cidr = {s["SubnetId"]: s["CidrBlock"] for s in docs.get("Subnets", [])}
        self.enis: dict[str, tuple[ipaddress.IPv4Address, str, str]] = {
            e["NetworkInterfaceId"]: (ipaddress.ip_address(e["PrivateIpAddress"]), e["SubnetId"], e["VpcId"])
            for e in docs.get("NetworkInterfaces", [])}
        self.acls: list[Json] = list(docs.get("NetworkAcls", []))
        self.tables: list[Json] = list(docs.get("RouteTables", []))
        self.peerings = {p["VpcPeeringConnectionId"]: p for p in docs.get("VpcPeeringConnections", [])}
        self.trace: list[str] = []

    def add_host(self, ip: str) -> str:
        """A host with no interface in the snapshot at `ip`, inside one of the subnets: it lives behind that
        subnet's ACL and route table like any interface there. Returns its key for verdict()."""
        addr = ipaddress.ip_address(ip)
        for sid, vpc_id in self.subnet_vpc.items():
            if addr in network(self.subnet_cidr[sid]):
                self.enis[f"host:{ip}"] = (addr, sid, vpc_id)
                return f"host:{ip}"
        raise ValueError(f"{ip} is in no subnet of the estate")

    # -- network ACLs -------------------------------------------------------------------------------------
    def acl_of(self, subnet_id: str) -> Json | None:
        """The explicitly associated ACL, else the VPC's default ACL (NACL-4)."""
        for acl in self.acls:
            if any(a.get("SubnetId") == subnet_id for a in acl.get("Associations", [])):
                return acl
        vpc = self.subnet_vpc.get(subnet_id)
        for acl in self.acls:
            if acl.get("IsDefault") and acl.get("VpcId") == vpc:
                return acl
        return None

    @staticmethod
    def entry_matches(e: Json, egress: bool, pkt: Packet) -> bool:
        """Does one ACL entry match the packet? (NACL-7: ingress the source, egress the destination.)"""
        if bool(e.get("Egress")) != egress:
            return False
        if "CidrBlock" not in e:
            return False                     # an IPv6 entry never matches an IPv4 packet
        proto = str(e.get("Protocol", "-1"))
        if proto != "-1" and int(proto) != pkt.protocol:
            return False
        addr = pkt.src if not egress else pkt.dst
        if addr not in network(e["CidrBlock"]):
            return False
        if proto == "-1":
            return True
        if pkt.protocol in (6, 17):
            rng = e.get("PortRange")
            return rng is None or rng["From"] <= (pkt.dport or 0) <= rng["To"]
        if pkt.protocol == 1:
            tc = e.get("IcmpTypeCode")
            if tc is None or tc.get("Type", -1) == -1:
                return True
            assert pkt.icmp is not None
            return tc["Type"] == pkt.icmp[0] and tc.get("Code", -1) in (-1, pkt.icmp[1])
        return True

    def acl_decides(self, subnet_id: str, egress: bool, pkt: Packet) -> tuple[str, str]:
        """('allow'|'deny'|'unknown', why) for one crossing of the subnet boundary."""
        acl = self.acl_of(subnet_id)
        if acl is None:
            return "unknown", f"no ACL for {subnet_id}"
        for e in sorted(acl.get("Entries", []), key=lambda e: e["RuleNumber"]):
            if self.entry_matches(e, egress, pkt):
                return e["RuleAction"], f"{acl['NetworkAclId']} rule {e['RuleNumber']}"
        return "deny", f"{acl['NetworkAclId']} implicit *"

    # -- routes ---------------------------------------------------------------------------------------------
    def table_of(self, subnet_id: str) -> Json | None:
        """The explicitly associated route table, else the VPC's main table (RT-2)."""
        for t in self.tables:
            if any(a.get("SubnetId") == subnet_id for a in t.get("Associations", [])):
                return t
        vpc = self.subnet_vpc.get(subnet_id)
        for t in self.tables:
            if t.get("VpcId") == vpc and any(a.get("Main") for a in t.get("Associations", [])):
                return t
        return None

    def route_decides(self, subnet_id: str, dst: ipaddress.IPv4Address) -> tuple[str, str]:
        """Longest prefix for one destination address (RT-1, RT-3, RT-4, RT-5)."""
        table = self.table_of(subnet_id)
        if table is None:
            return "unknown", f"no route table for {subnet_id}"
        best, best_len = None, -1
        for r in table.get("Routes", []):
            if "DestinationCidrBlock" not in r:
                continue
            net = network(r["DestinationCidrBlock"])
            if dst in net and net.prefixlen > best_len:
                best, best_len = r, net.prefixlen
        if best is None:
            return "deny", f"{table['RouteTableId']}: no route to {dst}"
        where = f"{table['RouteTableId']} {best['DestinationCidrBlock']}"
        if best.get("State", "active") != "active":
            return "deny", f"{where} is {best['State']}"
        if best.get("GatewayId") == "local":
            own = self.vpc_cidrs.get(self.subnet_vpc.get(subnet_id, ""), [])
            return ("allow" if any(dst in n for n in own) else "deny"), f"{where} local"
        if "VpcPeeringConnectionId" in best:
            pcx = self.peerings.get(best["VpcPeeringConnectionId"])
            if pcx is None:
                return "unknown", f"{where}: peering not in snapshot"
            if pcx["Status"]["Code"] != "active":
                return "deny", f"{where}: {pcx['VpcPeeringConnectionId']} is {pcx['Status']['Code']}"
            me = self.subnet_vpc.get(subnet_id)
            req, acc = pcx["RequesterVpcInfo"], pcx["AccepterVpcInfo"]
            other = acc if req["VpcId"] == me else req if acc["VpcId"] == me else None
            if other is None:
                return "deny", f"{where}: peering does not touch {me}"
            blocks = [other["CidrBlock"]] + [c["CidrBlock"] for c in other.get("CidrBlockSet", [])]
            if not any(dst in network(b) for b in blocks):
                return "deny", f"{where}: {dst} outside the peer VPC's CIDRs"
            return "allow", f"{where} via {pcx['VpcPeeringConnectionId']}"
        if "TransitGatewayId" in best:
            return "unknown", f"{where}: transit gateway"
        return "deny", f"{where}: gateway towards the internet for a private address"

    # -- one pair ------------------------------------------------------------------------------------------
    def packets(self, protocol: str, port: int | None, icmp: tuple[int, int] | None,
                s_ip: ipaddress.IPv4Address, d_ip: ipaddress.IPv4Address) -> tuple[Packet, list[Packet]]:
        """The request and every reply packet of one connection."""
        number = PROTO_NUMBERS.get(protocol) or int(protocol)
        if number in (6, 17):
            request = Packet(number, s_ip, d_ip, dport=port)
            replies = [Packet(number, d_ip, s_ip, dport=e) for e in range(self.ephemeral[0], self.ephemeral[1] + 1)]
        elif number == 1:
            assert icmp is not None
            request = Packet(1, s_ip, d_ip, icmp=icmp)
            reply = ECHO_REPLY.get(icmp[0])
            replies = [] if reply is None else [Packet(1, d_ip, s_ip, icmp=(reply, 0))]
        else:
            request = Packet(number, s_ip, d_ip)
            replies = [Packet(number, d_ip, s_ip)]
        return request, replies

    def verdict(self, src_eni: str, dst_eni: str, protocol: str = "tcp", port: int | None = None,
                icmp: tuple[int, int] | None = None) -> str:
        """reachable / blocked / unknown for src -> dst; the reasons are left in self.trace."""
        s_ip, s_sub, s_vpc = self.enis[src_eni]
        d_ip, d_sub, d_vpc = self.enis[dst_eni]
        self.trace = []
        if s_sub == d_sub:
            self.trace.append("same subnet: no ACL, local route")
            return "reachable"              # NACL-5, RT-1
        request, replies = self.packets(protocol, port, icmp, s_ip, d_ip)
        results: list[tuple[str, str]] = []
        # the request: out of the source subnet, into the destination subnet, routed by the source's table
        results.append(self._step("request egress", self.acl_decides(s_sub, True, request), request))
        results.append(self._step("request ingress", self.acl_decides(d_sub, False, request), request))
        results.append(self._step("request route", self.route_decides(s_sub, d_ip), request))
        # every reply: out of the destination subnet, into the source subnet, routed by the destination's table
        for reply in replies:
            results.append(self._step("reply egress", self.acl_decides(d_sub, True, reply), reply))
            results.append(self._step("reply ingress", self.acl_decides(s_sub, False, reply), reply))
        if replies:
            results.append(self._step("reply route", self.route_decides(d_sub, s_ip), replies[0]))
        statuses = {status for status, _ in results}
        return "blocked" if "deny" in statuses else "unknown" if "unknown" in statuses else "reachable"

    def _step(self, what: str, decision: tuple[str, str], pkt: Packet) -> tuple[str, str]:
        if decision[0] != "allow":
            self.trace.append(f"{what} {pkt}: {decision[0]} ({decision[1]})")
        return decision
