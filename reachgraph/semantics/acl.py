"""Network ACL evaluation (NACL-1 .. NACL-7): first match by rule number over address x port rectangles."""

from __future__ import annotations

from dataclasses import dataclass

from reachgraph.model.records import AclEntry, Model, NetworkAcl
from reachgraph.semantics.addresses import parse_range
from reachgraph.semantics.rects import Rect, Split, first_match

ALL_PORTS = (0, 65535)
LINUX_EPHEMERAL = (32768, 60999)      # Linux, and so ECS/Fargate tasks (NACL-6)
WIDE_EPHEMERAL = (1024, 65535)        # NAT gateway, Lambda, ELB (NACL-6)
ICMP_REPLY_TYPES = {8: 0, 13: 14, 128: 129}  # echo -> echo reply (v4 and v6), timestamp -> timestamp reply


@dataclass(frozen=True)
class AclQuestion:
    """What crosses the subnet boundary: protocol, address intervals (one IP version), destination ports."""

    protocol: str
    version: int
    addresses: tuple[tuple[int, int], ...]
    ports: tuple[int, int]            # tcp/udp: destination port range; icmp: encoded type/code range


def icmp_ports(icmp_type: int, code: int | None) -> tuple[int, int]:
    """ICMP type/code as a point in the port dimension: type * 256 + code."""
    if code is None or code < 0:
        return (icmp_type * 256, icmp_type * 256 + 255)
    return (icmp_type * 256 + code, icmp_type * 256 + code)


class AclIndex:
    """Which ACL applies to which subnet, built once per model."""

    def __init__(self, model: Model) -> None:
        self.by_subnet: dict[str, NetworkAcl] = {}
        self.default_of_vpc: dict[str, NetworkAcl] = {}
        for acl in model.acls.values():
            for sid in acl.subnet_ids:
                self.by_subnet.setdefault(sid, acl)
            if acl.is_default and acl.vpc_id:
                self.default_of_vpc.setdefault(acl.vpc_id, acl)

    def of_subnet(self, subnet_id: str, vpc_id: str | None) -> NetworkAcl | None:
        """The subnet's explicitly associated ACL, else its VPC's default ACL (NACL-4)."""
        return self.by_subnet.get(subnet_id) or self.default_of_vpc.get(vpc_id or "")


def acl_of_subnet(model: Model, subnet_id: str, vpc_id: str | None) -> NetworkAcl | None:
    """The subnet's explicitly associated ACL, else its VPC's default ACL (NACL-4); one-off lookups."""
    return AclIndex(model).of_subnet(subnet_id, vpc_id)


def _entry_rect(e: AclEntry, q: AclQuestion) -> Rect | None:
    """The part of (address x port) space an entry matches for this protocol and version, or None."""
    if e.protocol != "-1" and e.protocol != q.protocol:
        return None
    block = parse_range(e.cidr)
    if block.version != q.version:
        return None
    if e.protocol == "-1" or q.protocol not in ("tcp", "udp", "icmp", "icmpv6"):
        ports = ALL_PORTS
    elif q.protocol in ("tcp", "udp"):
        ports = (e.port_from if e.port_from is not None else 0, e.port_to if e.port_to is not None else 65535)
    else:
        t = -1 if e.icmp_type is None else e.icmp_type
        ports = ALL_PORTS if t == -1 else icmp_ports(t, e.icmp_code)
    return (block.lo, block.hi, ports[0], ports[1])


def evaluate(acl: NetworkAcl, egress: bool, q: AclQuestion) -> Split:
    """First-match evaluation in ascending rule number, whatever the JSON order (NACL-2, NACL-7)."""
    entries = []
    for e in sorted((e for e in acl.entries if e.egress == egress), key=lambda e: e.rule_number):
        rect = _entry_rect(e, q)
        if rect is not None:
            entries.append((rect, e.action == "allow", e.rule_number))
    space = [(lo, hi, q.ports[0], q.ports[1]) for lo, hi in q.addresses]
    return first_match(space, entries)
