"""Raw EC2 network responses -> model records (VPCs, subnets, groups, interfaces, ACLs, routes)."""

from __future__ import annotations

from typing import Any

from reachgraph.model import shape as f
from reachgraph.model.index import IndexBuilder
from reachgraph.model.protocols import has_ports, normalize_protocol
from reachgraph.model.records import (
    AclEntry, Direction, Interface, NetworkAcl, Peering, PeerKind, PrefixList, Route, RouteTable, Rule, SecurityGroup,
    Subnet, Vpc,
)
from reachgraph.snapshot import RawDocument


class NetworkParser:
    """Accumulates network records from raw documents; later documents never overwrite earlier ids."""

    def __init__(self) -> None:
        self.vpcs: dict[str, Vpc] = {}
        self.subnets: dict[str, Subnet] = {}
        self.groups: dict[str, SecurityGroup] = {}
        self.interfaces: dict[str, Interface] = {}
        self.prefix_lists: dict[str, PrefixList] = {}
        self.acls: dict[str, NetworkAcl] = {}
        self.route_tables: dict[str, RouteTable] = {}
        self.peerings: dict[str, Peering] = {}
        # (group, egress, protocol, from, to, peer) -> sgr- id, from describe-security-group-rules
        self.rule_ids: dict[tuple[Any, ...], str] = {}
        # Interfaces share a few group sets: each set is kept once (100k interfaces, some thousand sets).
        self._group_sets: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.index = IndexBuilder()

    # -- VPCs and subnets -------------------------------------------------------------------------
    def vpcs_doc(self, doc: RawDocument) -> None:
        """Vpcs."""
        def one(item: dict[str, Any]) -> None:
            vid = f.req(item, "VpcId")
            v4 = [f.cidr(c["CidrBlock"], v6=False) for c in f.objs(item, "CidrBlockAssociationSet")
                  if f.s(f.obj(c, "CidrBlockState"), "State") in (None, "associated")]
            if f.s(item, "CidrBlock") and f.cidr(item["CidrBlock"], v6=False) not in v4:
                v4.insert(0, f.cidr(item["CidrBlock"], v6=False))
            v6 = [f.cidr(c["Ipv6CidrBlock"], v6=True) for c in f.objs(item, "Ipv6CidrBlockAssociationSet")
                  if c.get("Ipv6CidrBlock")]
            self.vpcs.setdefault(vid, Vpc(id=vid, account=doc.account or f.s(item, "OwnerId"), region=doc.region,
                                          cidrs_v4=tuple(v4), cidrs_v6=tuple(v6), is_default=f.b(item, "IsDefault")))
        f.each(doc.items, doc.key, doc.source, one)

    def subnets_doc(self, doc: RawDocument) -> None:
        """Subnets."""
        def one(item: dict[str, Any]) -> None:
            sid = f.req(item, "SubnetId")
            az = f.s(item, "AvailabilityZone")
            v4 = f.s(item, "CidrBlock")
            v6 = [f.cidr(c["Ipv6CidrBlock"], v6=True) for c in f.objs(item, "Ipv6CidrBlockAssociationSet")
                  if c.get("Ipv6CidrBlock")]
            self.subnets.setdefault(sid, Subnet(
                id=sid, vpc_id=f.s(item, "VpcId"), account=doc.account or f.s(item, "OwnerId"),
                region=doc.region or f.region_of_az(az), cidr_v4=f.cidr(v4, v6=False) if v4 else None,
                cidrs_v6=tuple(v6), az=az))
        f.each(doc.items, doc.key, doc.source, one)

    # -- security groups --------------------------------------------------------------------------
    def groups_doc(self, doc: RawDocument) -> None:
        """SecurityGroups (describe-security-groups)."""
        def one(item: dict[str, Any]) -> None:
            gid = f.req(item, "GroupId")
            if gid in self.groups:
                return
            ids = self.rule_ids
            ingress = tuple(r for p in f.objs(item, "IpPermissions") for r in _rules(gid, "ingress", p, ids))
            egress = tuple(r for p in f.objs(item, "IpPermissionsEgress") for r in _rules(gid, "egress", p, ids))
            tags = tuple(sorted((str(t.get("Key")), str(t.get("Value"))) for t in f.objs(item, "Tags")))
            self.groups[gid] = SecurityGroup(
                id=gid, name=f.s(item, "GroupName") or gid, vpc_id=f.s(item, "VpcId"),
                account=doc.account or f.s(item, "OwnerId"), region=doc.region,
                description=f.s(item, "Description") or "", ingress=ingress, egress=egress, tags=tags)
        f.each(doc.items, doc.key, doc.source, one)

    def group_rules_doc(self, doc: RawDocument) -> None:
        """SecurityGroupRules (describe-security-group-rules): rule ids for explanations and fixes.

        Read before SecurityGroups, so each rule is made once, with its id.
        """
        def one(item: dict[str, Any]) -> None:
            rid = f.req(item, "SecurityGroupRuleId")
            gid = f.req(item, "GroupId")
            egress = f.b(item, "IsEgress")
            proto = normalize_protocol(item.get("IpProtocol", "-1"))
            ref = f.obj(item, "ReferencedGroupInfo")
            peer = (f.s(item, "CidrIpv4") or f.s(item, "CidrIpv6") or f.s(item, "PrefixListId")
                    or f.s(ref, "GroupId"))
            if peer is None:
                raise f.ShapeError("rule names no CIDR, prefix list or group")
            if "/" in peer:
                peer = f.cidr(peer)
            lo, hi = _ports(proto, f.i(item, "FromPort"), f.i(item, "ToPort"))
            self.rule_ids[(gid, egress, proto, lo, hi, peer)] = rid
        f.each(doc.items, doc.key, doc.source, one)

    # -- interfaces -------------------------------------------------------------------------------
    def interfaces_doc(self, doc: RawDocument) -> None:
        """NetworkInterfaces (describe-network-interfaces)."""
        f.each(doc.items, doc.key, doc.source, lambda item: self.add_interface(item, doc))

    def add_interface(self, item: dict[str, Any], doc: RawDocument, *, instance_id: str | None = None,
                      vpc_id: str | None = None, subnet_id: str | None = None) -> str:
        """Add one interface object (also used for Instances[].NetworkInterfaces); returns its id."""
        eid = f.req(item, "NetworkInterfaceId")
        if eid in self.interfaces:
            return eid
        groups = tuple(f.req(g, "GroupId") for g in f.objs(item, "Groups"))
        primary = f.s(item, "PrivateIpAddress")
        private = [f.ip(primary)] if primary else []
        public: list[str] = []
        assoc = f.obj(item, "Association")
        if f.s(assoc, "PublicIp"):
            public.append(f.ip(assoc["PublicIp"]))
        for a in f.objs(item, "PrivateIpAddresses"):
            addr = f.s(a, "PrivateIpAddress")
            if addr and f.ip(addr) not in private:
                private.append(f.ip(addr))
            pub = f.s(f.obj(a, "Association"), "PublicIp")
            if pub and f.ip(pub) not in public:
                public.append(f.ip(pub))
        v6 = [f.ip(a["Ipv6Address"]) for a in f.objs(item, "Ipv6Addresses") if a.get("Ipv6Address")]
        az = f.s(item, "AvailabilityZone")
        attachment = f.obj(item, "Attachment")
        self.put_interface(Interface(
            id=eid, vpc_id=f.s(item, "VpcId") or vpc_id, subnet_id=f.s(item, "SubnetId") or subnet_id,
            account=doc.account or f.s(item, "OwnerId"), region=doc.region or f.region_of_az(az),
            group_ids=self._group_set(groups), private_ipv4=tuple(private), public_ipv4=tuple(public),
            ipv6=tuple(v6), az=az, description=f.s(item, "Description") or "",
            interface_type=f.s(item, "InterfaceType") or "interface", requester_id=f.s(item, "RequesterId"),
            status=f.s(item, "Status"), instance_id=f.s(attachment, "InstanceId") or instance_id))
        return eid

    def put_interface(self, iface: Interface) -> None:
        """Keep an interface unless its id is already known (the first one wins), and index it."""
        if iface.id not in self.interfaces:
            self.interfaces[iface.id] = iface
            self.index.add(iface)

    def _group_set(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        key = tuple(sorted(set(groups)))
        return self._group_sets.setdefault(key, key)

    def infer_interfaces(self, name: str, what: str, subnet_ids: list[str], groups: tuple[str, ...],
                         account: str | None, region: str | None, public: bool | None = False) -> list[str]:
        """For a resource whose interfaces AWS does not list: one per subnet, with the declared groups and an
        unknown address in that subnet (EC-4, RDS, load balancers, Lambda)."""
        out = []
        for sid in sorted(set(subnet_ids)) or ["unknown"]:
            sub = self.subnets.get(sid)
            eid = f"eni-of-{what}-{name}-{sid}"
            self.put_interface(Interface(
                id=eid, vpc_id=sub.vpc_id if sub else None, subnet_id=sid if sub else None, account=account,
                region=region, group_ids=groups, az=sub.az if sub else None,
                description=f"{what} {name} (inferred)", inferred=True, public_hint=public,
                uncertain=None if groups else f"{what} {name}'s security groups are unknown"))
            out.append(eid)
        return out

    # -- prefix lists, ACLs, routes, peering ------------------------------------------------------
    def prefix_lists_doc(self, doc: RawDocument) -> None:
        """PrefixLists ({PrefixListId, PrefixListName, Cidrs})."""
        def one(item: dict[str, Any]) -> None:
            pid = f.req(item, "PrefixListId")
            self.prefix_lists.setdefault(pid, PrefixList(
                id=pid, name=f.s(item, "PrefixListName") or pid,
                cidrs=tuple(sorted({f.cidr(c) for c in f.strs(item, "Cidrs")})),
                account=doc.account or f.s(item, "OwnerId"), region=doc.region))
        f.each(doc.items, doc.key, doc.source, one)

    def acls_doc(self, doc: RawDocument) -> None:
        """NetworkAcls; entries kept sorted by rule number (NACL-2)."""
        def one(item: dict[str, Any]) -> None:
            aid = f.req(item, "NetworkAclId")
            entries = []
            for e in f.objs(item, "Entries"):
                rng, icmp = f.obj(e, "PortRange"), f.obj(e, "IcmpTypeCode")
                block = f.s(e, "CidrBlock") or f.s(e, "Ipv6CidrBlock")
                if block is None:
                    raise f.ShapeError("ACL entry has neither CidrBlock nor Ipv6CidrBlock")
                number = f.i(e, "RuleNumber")
                if number is None:
                    raise f.ShapeError("ACL entry has no RuleNumber")
                action = (f.s(e, "RuleAction") or "").lower()
                if action not in ("allow", "deny"):
                    raise f.ShapeError(f"ACL RuleAction {action!r} is neither allow nor deny")
                entries.append(AclEntry(
                    rule_number=number, egress=f.b(e, "Egress"), action=action,
                    protocol=normalize_protocol(e.get("Protocol", "-1")), cidr=f.cidr(block),
                    port_from=f.i(rng, "From"), port_to=f.i(rng, "To"),
                    icmp_type=f.i(icmp, "Type"), icmp_code=f.i(icmp, "Code")))
            entries.sort(key=lambda x: (x.egress, x.rule_number))
            subnets = tuple(sorted({f.req(a, "SubnetId") for a in f.objs(item, "Associations")
                                    if a.get("SubnetId")}))
            self.acls.setdefault(aid, NetworkAcl(
                id=aid, vpc_id=f.s(item, "VpcId"), account=doc.account or f.s(item, "OwnerId"), region=doc.region,
                is_default=f.b(item, "IsDefault"), subnet_ids=subnets, entries=tuple(entries)))
        f.each(doc.items, doc.key, doc.source, one)

    def route_tables_doc(self, doc: RawDocument) -> None:
        """RouteTables."""
        def one(item: dict[str, Any]) -> None:
            rid = f.req(item, "RouteTableId")
            assocs = f.objs(item, "Associations")
            routes = []
            for r in f.objs(item, "Routes"):
                dest = (f.s(r, "DestinationCidrBlock") or f.s(r, "DestinationIpv6CidrBlock")
                        or f.s(r, "DestinationPrefixListId"))
                if dest is None:
                    continue
                if not dest.startswith("pl-"):
                    dest = f.cidr(dest)
                target = next((r[k] for k in ("GatewayId", "NatGatewayId", "VpcPeeringConnectionId",
                                              "TransitGatewayId", "NetworkInterfaceId", "InstanceId",
                                              "EgressOnlyInternetGatewayId", "LocalGatewayId",
                                              "CarrierGatewayId", "CoreNetworkArn")
                               if isinstance(r.get(k), str)), "unknown")
                routes.append(Route(destination=dest, target=target, state=f.s(r, "State") or "active"))
            self.route_tables.setdefault(rid, RouteTable(
                id=rid, vpc_id=f.s(item, "VpcId"), account=doc.account or f.s(item, "OwnerId"), region=doc.region,
                main=any(a.get("Main") is True for a in assocs),
                subnet_ids=tuple(sorted({f.req(a, "SubnetId") for a in assocs if a.get("SubnetId")})),
                routes=tuple(routes)))
        f.each(doc.items, doc.key, doc.source, one)

    def peerings_doc(self, doc: RawDocument) -> None:
        """VpcPeeringConnections."""
        def one(item: dict[str, Any]) -> None:
            pid = f.req(item, "VpcPeeringConnectionId")
            req, acc = f.obj(item, "RequesterVpcInfo"), f.obj(item, "AccepterVpcInfo")
            self.peerings.setdefault(pid, Peering(
                id=pid, status=f.s(f.obj(item, "Status"), "Code") or "unknown",
                requester_vpc=f.s(req, "VpcId"), accepter_vpc=f.s(acc, "VpcId"),
                requester_cidrs=_peer_cidrs(req), accepter_cidrs=_peer_cidrs(acc),
                requester_account=f.s(req, "OwnerId"), accepter_account=f.s(acc, "OwnerId"),
                requester_region=f.s(req, "Region"), accepter_region=f.s(acc, "Region")))
        f.each(doc.items, doc.key, doc.source, one)


def _peer_cidrs(info: dict[str, Any]) -> tuple[str, ...]:
    blocks = [f.cidr(c["CidrBlock"]) for c in f.objs(info, "CidrBlockSet") if c.get("CidrBlock")]
    if f.s(info, "CidrBlock") and f.cidr(info["CidrBlock"]) not in blocks:
        blocks.insert(0, f.cidr(info["CidrBlock"]))
    blocks += [f.cidr(c["Ipv6CidrBlock"]) for c in f.objs(info, "Ipv6CidrBlockSet") if c.get("Ipv6CidrBlock")]
    return tuple(blocks)


def _ports(proto: str, lo: int | None, hi: int | None) -> tuple[int | None, int | None]:
    """Ports as the engine reads them: None for protocols whose ports mean nothing (SG-7)."""
    if not has_ports(proto):
        return None, None
    if proto in ("tcp", "udp"):
        lo = 0 if lo is None or lo == -1 else lo
        hi = 65535 if hi is None or hi == -1 else hi
        if not (0 <= lo <= 65535 and 0 <= hi <= 65535):
            raise f.ShapeError(f"port range {lo}-{hi} is outside 0-65535")
        return lo, hi
    return (-1 if lo is None else lo), (-1 if hi is None else hi)


def _rules(gid: str, direction: Direction, perm: dict[str, Any], rule_ids: dict[tuple[Any, ...], str]) -> list[Rule]:
    """Split one IpPermission into one Rule per peer, each with its sgr- id if describe-security-group-rules gave
    one; never merge permissions (Cartography's mistake)."""
    proto = normalize_protocol(perm.get("IpProtocol", "-1"))
    lo, hi = _ports(proto, f.i(perm, "FromPort"), f.i(perm, "ToPort"))
    egress = direction == "egress"

    def rule(peer_kind: PeerKind, peer: str, r: dict[str, Any], **more: Any) -> Rule:
        return Rule(group_id=gid, direction=direction, protocol=proto, from_port=lo, to_port=hi, peer_kind=peer_kind,
                    peer=peer, description=f.s(r, "Description"),
                    rule_id=rule_ids.get((gid, egress, proto, lo, hi, peer)), **more)

    out: list[Rule] = []
    for r in f.objs(perm, "IpRanges"):
        out.append(rule("cidr4", f.cidr(f.req(r, "CidrIp"), v6=False), r))
    for r in f.objs(perm, "Ipv6Ranges"):
        out.append(rule("cidr6", f.cidr(f.req(r, "CidrIpv6"), v6=True), r))
    for r in f.objs(perm, "PrefixListIds"):
        out.append(rule("prefix_list", f.req(r, "PrefixListId"), r))
    for r in f.objs(perm, "UserIdGroupPairs"):
        # Egress pairs name destinations, ingress pairs name sources: the direction says which.
        out.append(rule("group", f.req(r, "GroupId"), r, peer_account=f.s(r, "UserId"), peer_vpc=f.s(r, "VpcId"),
                        peering_id=f.s(r, "VpcPeeringConnectionId")))
    return out
