"""A brute-force reference evaluator for security groups, written from the AWS documentation only.

It reads the raw AWS JSON (the dicts tests write to disk: `SecurityGroups`, `NetworkInterfaces`, `Vpcs`,
`PrefixLists`) and decides one packet -- one source IP, one destination IP, one protocol, one port (or ICMP
type/code) -- by walking every rule of every group literally:

- SG-1/SG-2: a side admits the packet if ANY rule of ANY of the interface's groups admits it.
- SG-4: A->B needs A's egress to admit (B's IP, P) and B's ingress to admit (A's IP, P); replies are not checked.
- SG-5/SG-8: tcp/udp match the destination port in FromPort..ToPort inclusive; icmp FromPort=type, ToPort=code,
  -1 any.
- SG-7: "-1" is every protocol; numbers are protocols ("6" tcp, "17" udp, "1" icmp, "58" icmpv6); for -1 and any
  protocol other than tcp/udp/icmp/icmpv6 the ports are ignored.
- SG-6: a group pair matches a packet whose address is a PRIVATE IP of an interface carrying that group.
- SG-9: an IPv4 range never holds an IPv6 address and vice versa.
- SG-10: a prefix list matches the addresses of its entries; an unknown one matches nothing.
- SG-11: a pair naming a group of an account the snapshot does not hold, for an address that is not an
  interface of the snapshot, cannot be decided: unknown.  An interface of the snapshot lists its groups, so
  for it the answer is known.  A group of the snapshot's own account that is not described is deleted (SG-12):
  it matches nothing beyond the interfaces that still list it.
- SG-14: Amazon DNS (VPC primary CIDR base + 2), 169.254.169.253, metadata 169.254.169.254 and time sync
  169.254.169.123 are not filtered on the way out.
- An interface carrying a group the snapshot does not describe: that group's rules are unknown, so the side
  is `allow` if a described group admits the packet, else `unknown`.

It deliberately does not import reachgraph: it is the independent second opinion the property test compares
the engine with.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
UNFILTERED = {"169.254.169.254", "169.254.169.253", "169.254.169.123"}

ALLOW, DENY, UNKNOWN = "allow", "deny", "unknown"
VERDICT = {ALLOW: "reachable", DENY: "blocked", UNKNOWN: "unknown"}


@dataclass(frozen=True)
class Packet:
    """One packet's protocol part: protocol number and destination port, or ICMP type and code."""

    protocol: int
    port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


def protocol_number(text: Any) -> int | None:
    """'tcp' -> 6, '6' -> 6, '50' -> 50; '-1' -> None (all protocols)."""
    s = str(text).strip().lower()
    if s == "-1":
        return None
    if s in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[s]
    return int(s)


def permission_admits_traffic(perm: dict[str, Any], pkt: Packet) -> bool:
    """Does the protocol/port part of one IpPermission admit the packet?"""
    proto = protocol_number(perm.get("IpProtocol", "-1"))
    if proto is None:
        return True                                   # "-1": every protocol, ports ignored
    if proto != pkt.protocol:
        return False
    if proto in (6, 17):
        lo, hi = perm.get("FromPort"), perm.get("ToPort")
        lo = 0 if lo is None or lo == -1 else lo
        hi = 65535 if hi is None or hi == -1 else hi
        return pkt.port is not None and lo <= pkt.port <= hi
    if proto in (1, 58):
        rtype = perm.get("FromPort", -1)
        rcode = perm.get("ToPort", -1)
        rtype = -1 if rtype is None else rtype
        rcode = -1 if rcode is None else rcode
        return (rtype == -1 or rtype == pkt.icmp_type) and (rcode == -1 or rcode == pkt.icmp_code)
    return True                                       # any other protocol: ports ignored


class Reference:
    """The estate, indexed the plain way: groups by id, interfaces by id, private IPs -> interface."""

    def __init__(self, docs: dict[str, Any], own_accounts: set[str]) -> None:
        self.groups = {g["GroupId"]: g for g in docs.get("SecurityGroups", [])}
        self.interfaces = {n["NetworkInterfaceId"]: n for n in docs.get("NetworkInterfaces", [])}
        self.prefix_lists = {p["PrefixListId"]: p for p in docs.get("PrefixLists", [])}
        self.vpcs = {v["VpcId"]: v for v in docs.get("Vpcs", [])}
        self.own_accounts = set(own_accounts)
        self.by_private_ip: dict[str, str] = {}
        for eid, n in self.interfaces.items():
            for ip in self.private_ips(n):
                self.by_private_ip.setdefault(ip, eid)

    @staticmethod
    def private_ips(n: dict[str, Any]) -> list[str]:
        ips = [n["PrivateIpAddress"]] if n.get("PrivateIpAddress") else []
        ips += [a["PrivateIpAddress"] for a in n.get("PrivateIpAddresses", []) if a.get("PrivateIpAddress")]
        return [str(ipaddress.ip_address(i)) for i in dict.fromkeys(ips)]

    def group_ids(self, eid: str) -> list[str]:
        return [g["GroupId"] for g in self.interfaces[eid].get("Groups", [])]

    # -- one rule's peer ------------------------------------------------------------------------------
    def peer_matches(self, kind: str, value: Any, addr: str) -> bool | None:
        ip = ipaddress.ip_address(addr)
        if kind in ("CidrIp", "CidrIpv6"):
            net = ipaddress.ip_network(value, strict=False)
            return net.version == ip.version and ip in net
        if kind == "PrefixListId":
            pl = self.prefix_lists.get(value)
            if pl is None:
                return False                                    # SG-10: unknown list matches nothing
            return any(ipaddress.ip_network(c, strict=False).version == ip.version
                       and ip in ipaddress.ip_network(c, strict=False) for c in pl.get("Cidrs", []))
        # UserIdGroupPairs
        gid, account = value.get("GroupId"), value.get("UserId")
        owner = self.by_private_ip.get(str(ip))
        if owner is not None:
            return gid in self.group_ids(owner)                 # SG-6: private IPs of the members
        if gid not in self.groups and account and account not in self.own_accounts:
            return None                                         # SG-11: another account's members: unknown
        return False                                            # public IPs, outsiders, stale references

    def side(self, direction: str, eid: str, peer_addr: str, pkt: Packet) -> str:
        """egress: may interface `eid` send to peer_addr? ingress: may it receive from peer_addr?"""
        allow = maybe = False
        for gid in self.group_ids(eid):
            group = self.groups.get(gid)
            if group is None:
                maybe = True                                    # its rules are not in the snapshot
                continue
            perms = group.get("IpPermissionsEgress" if direction == "egress" else "IpPermissions", [])
            for perm in perms:
                if not permission_admits_traffic(perm, pkt):
                    continue
                peers = ([("CidrIp", r["CidrIp"]) for r in perm.get("IpRanges", [])]
                         + [("CidrIpv6", r["CidrIpv6"]) for r in perm.get("Ipv6Ranges", [])]
                         + [("PrefixListId", r["PrefixListId"]) for r in perm.get("PrefixListIds", [])]
                         + [("pair", r) for r in perm.get("UserIdGroupPairs", [])])
                for kind, value in peers:
                    hit = self.peer_matches(kind, value, peer_addr)
                    if hit is True:
                        allow = True
                    elif hit is None:
                        maybe = True
        return ALLOW if allow else UNKNOWN if maybe else DENY

    def unfiltered(self, src_eid: str, addr: str) -> bool:
        """SG-14: Amazon DNS, metadata, time sync."""
        if addr in UNFILTERED:
            return True
        vpc = self.vpcs.get(self.interfaces[src_eid].get("VpcId", ""))
        if vpc and vpc.get("CidrBlock"):
            net = ipaddress.ip_network(vpc["CidrBlock"])
            return ipaddress.ip_address(addr) == net.network_address + 2
        return False

    # -- one query --------------------------------------------------------------------------------------
    def primary_ip(self, eid: str) -> str:
        return self.private_ips(self.interfaces[eid])[0]

    def verdict(self, src: tuple[str, str], dst: tuple[str, str], pkt: Packet) -> str:
        """src/dst: ("eni", id) or ("ip", address). Returns reachable / blocked / unknown."""
        src = self._as_interface(src)
        dst = self._as_interface(dst)
        sides: list[str] = []
        s_addr = self.primary_ip(src[1]) if src[0] == "eni" else src[1]
        d_addr = self.primary_ip(dst[1]) if dst[0] == "eni" else dst[1]
        if src[0] == "eni":
            if dst[0] == "ip" and self.unfiltered(src[1], d_addr):
                sides.append(ALLOW)
            else:
                sides.append(self.side("egress", src[1], d_addr, pkt))
        if dst[0] == "eni":
            sides.append(self.side("ingress", dst[1], s_addr, pkt))
        if DENY in sides:
            return VERDICT[DENY]
        return VERDICT[UNKNOWN] if UNKNOWN in sides else VERDICT[ALLOW]

    def _as_interface(self, ep: tuple[str, str]) -> tuple[str, str]:
        """An address that is a private IP of an interface IS that interface (its groups filter it)."""
        if ep[0] == "ip":
            eid = self.by_private_ip.get(str(ipaddress.ip_address(ep[1])))
            if eid is not None:
                return ("eni", eid)
        return ep
