"""Seeded, deterministic synthetic AWS estates for benchmarks and equivalence tests.

`generate(size, seed, out)` writes a snapshot folder `OUT/ACCOUNT/REGION/*.json` holding exactly what the AWS
CLI prints (`aws ec2 describe-... --output json`, 4-space indent), so the estate loads through the same code as a
real one:

- several VPCs per account: a hub VPC peered with every spoke, some spoke-spoke peerings, one peering pending
  acceptance and one deleted; route tables (public: internet gateway; private: NAT gateway per AZ, peering
  routes, an S3 gateway-endpoint prefix-list route, sometimes a blackhole transit-gateway route; the main table
  serves the data subnets, and in the last VPC it lacks the hub route, as drifted estates do);
- subnets in three tiers and three AZs with custom network ACLs (web ports in, ephemeral-port reply rules, data
  ports only from the VPC and the hub; in every fourth VPC the data tier's reply rule covers 49152-65535 only,
  the classic NACL-6 mistake), plus each VPC's default ACL;
- security groups in layers (internet -> load balancer -> services -> data stores) referencing each other,
  across peerings too, with noise: SSH from a corporate prefix list, port ranges from VPC CIDRs, statsd over
  UDP, ICMP, IPv6 rules, restricted egress in some groups, stale references to deleted groups, a reference
  across the pending peering, and unused groups (launch-wizard, legacy) to reach the group count;
- ECS Fargate services with many awsvpc tasks (describe-services, describe-tasks with their ENI attachments,
  task definitions, and the task ENIs in describe-network-interfaces), ElastiCache replication groups with node
  ENIs described "ElastiCache <cluster-id>", RDS instances (and Aurora clusters) with "RDSNetworkInterface" ENIs,
  application load balancers with listeners and "ELB app/NAME/ID" ENIs, EC2 instances (describe-instances with
  their interfaces), NAT gateways and VPC endpoint interfaces.

Sizes: S about 1k interfaces, 100 groups, 50 top-level workloads; M 10k / 1k / 500; L 100k / 10k / 5k.
The same size and seed always give byte-identical files.

    python -m reachgraph.synth --size S --seed 1 -o /tmp/estate-S
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Json = dict[str, Any]

REGION = "us-east-1"
AZS = ("us-east-1a", "us-east-1b", "us-east-1c")
ECS_REQUESTER = "578734482556"          # the account AWS uses for Fargate task interfaces
CORP_CIDRS = ("203.0.113.0/24", "198.51.100.0/25", "192.0.2.64/26")
S3_CIDRS = ("52.216.0.0/15", "54.231.0.0/16", "3.5.0.0/19", "16.182.0.0/16")
MONITOR_PORT = 9100
STATSD_PORT = 8125
CONTAINER_PORTS = (8080, 8000, 3000, 9000, 5000, 8443, 50051)


@dataclass(frozen=True)
class SizeSpec:
    """Targets of one size: interfaces, security groups, top-level workloads, VPCs, accounts."""

    interfaces: int
    groups: int
    workloads: int
    vpcs: int
    accounts: int


SIZES: dict[str, SizeSpec] = {
    "XS": SizeSpec(interfaces=200, groups=30, workloads=15, vpcs=2, accounts=1),
    "S": SizeSpec(interfaces=1_000, groups=100, workloads=50, vpcs=3, accounts=1),
    "M": SizeSpec(interfaces=10_000, groups=1_000, workloads=500, vpcs=6, accounts=2),
    "L": SizeSpec(interfaces=100_000, groups=10_000, workloads=5_000, vpcs=16, accounts=3),
}

_NOUNS = ("api", "billing", "checkout", "search", "catalog", "auth", "orders", "payments", "inventory", "notify",
          "reports", "profile", "media", "gateway", "ledger", "pricing", "shipping", "reviews", "recs", "events",
          "audit", "sessions", "cart", "tax", "fraud", "loyalty", "chat", "mail", "export", "ingest", "geo",
          "quotes", "claims", "identity", "metering", "feeds", "tickets", "booking", "wallet", "kyc")
_ROLES = ("api", "worker", "web", "consumer", "scheduler", "grpc", "admin", "sync", "indexer", "webhook")
_ENVS = ("prod", "staging", "dev", "qa")


# -- ids ------------------------------------------------------------------------------------------------
class _Ids:
    """AWS-looking ids that are unique by construction: an odd-multiplier permutation of a counter."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.counts: dict[str, int] = defaultdict(int)

    def _params(self, prefix: str, width: int) -> tuple[int, int, int]:
        h = hashlib.sha256(f"{self.seed}:{prefix}:{width}".encode()).digest()
        mod = 16 ** width
        mult = int.from_bytes(h[:16], "big") % mod | 1
        salt = int.from_bytes(h[16:], "big") % mod
        return mod, mult, salt

    def new(self, prefix: str, width: int = 17) -> str:
        n = self.counts[prefix]
        self.counts[prefix] += 1
        mod, mult, salt = self._params(prefix, width)
        return f"{prefix}-{(n * mult + salt) % mod:0{width}x}"

    def hex(self, prefix: str, width: int) -> str:
        """Unique bare hex of a given width (ELB ids, ECS task ids), drawn from a named counter."""
        return self.new(prefix, width).split("-", 1)[1]


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def _ts(rng: random.Random, year: int = 2026) -> str:
    day = rng.randrange(1, 300)
    month, dom = 1 + (day - 1) // 28 % 12, 1 + (day - 1) % 28
    return f"{year}-{month:02d}-{dom:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:" \
           f"{rng.randrange(60):02d}.{rng.randrange(1000):03d}000+00:00"


def _ip(n: int) -> str:
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _ip_int(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


# -- the estate in memory ----------------------------------------------------------------------------
@dataclass(eq=False, repr=False)
class _Subnet:
    id: str
    vpc: _Vpc
    tier: str
    az: str
    cidr: str
    next_host: int = 0
    last_host: int = 0


@dataclass(eq=False, repr=False)
class _Vpc:
    index: int
    id: str
    account: str
    cidr: str
    name: str
    ipv6: str | None = None
    subnets: dict[str, list[_Subnet]] = field(default_factory=dict)   # tier -> per AZ
    igw: str = ""
    nats: list[str] = field(default_factory=list)                      # per AZ
    s3_endpoint: str = ""
    peers: list[tuple[_Vpc, str, str]] = field(default_factory=list)   # (other, pcx id, status)
    default_sg: str = ""
    monitor_sg: str = ""


@dataclass(eq=False, repr=False)
class _Group:
    id: str
    name: str
    vpc: _Vpc
    description: str
    ingress: list[tuple] = field(default_factory=list)   # (proto, from, to, kind, peer, extra)
    egress: list[tuple] | None = None                    # None: AWS's default allow-all


class _Estate:
    def __init__(self, spec: SizeSpec, seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self.rng = random.Random(f"reachgraph-synth:{seed}")
        self.ids = _Ids(seed)
        self.accounts = [f"{self.rng.randrange(10 ** 11, 10 ** 12):012d}" for _ in range(spec.accounts)]
        # (account, key) -> items; written as ACCOUNT/REGION/<file>.json
        self.docs: dict[str, dict[str, list[Json]]] = {a: defaultdict(list) for a in self.accounts}
        self.ecs_files: dict[str, dict[str, dict[str, list[Json]]]] = {a: {} for a in self.accounts}
        self.groups: dict[str, _Group] = {}
        self.vpcs: list[_Vpc] = []
        self.prefix_lists: dict[str, dict[str, str]] = {}   # account -> {"corp": id, "s3": id}
        self.deleted_groups = [self.ids.new("sg") for _ in range(max(2, spec.groups // 200))]
        self.pending_pcx: tuple[_Vpc, _Vpc, str] | None = None
        self.n_interfaces = 0
        self.n_workloads = 0
        self.api_calls: dict[str, int] = defaultdict(int)
        self._names: set[str] = set()

    # -- naming --------------------------------------------------------------------------------------
    def unique(self, base: str) -> str:
        name, n = base, 2
        while name in self._names:
            name = f"{base}-{n}"
            n += 1
        self._names.add(name)
        return name

    # -- network ------------------------------------------------------------------------------------
    def build_network(self) -> None:
        spec = self.spec
        for a in self.accounts:
            corp = self.ids.new("pl")
            self.prefix_lists[a] = {"corp": corp}
        s3_pl = self.ids.new("pl")   # AWS-managed: the same id in every account
        for a in self.accounts:
            self.prefix_lists[a]["s3"] = s3_pl
            self.docs[a]["PrefixLists"] += [
                {"PrefixListId": self.prefix_lists[a]["corp"], "PrefixListName": "corp-vpn",
                 "Cidrs": list(CORP_CIDRS)},
                {"PrefixListId": s3_pl, "PrefixListName": f"com.amazonaws.{REGION}.s3", "Cidrs": list(S3_CIDRS)},
            ]
        for v in range(spec.vpcs):
            account = self.accounts[0] if v == 0 else self.accounts[v % len(self.accounts)]
            name = "hub" if v == 0 else f"{_ENVS[v % len(_ENVS)]}-{v}"
            vpc = _Vpc(index=v, id=self.ids.new("vpc"), account=account, cidr=f"10.{v}.0.0/16", name=name,
                       ipv6=f"2600:1f18:{0x4000 + v:x}:ff00::/56" if v == 0 else None)
            self.vpcs.append(vpc)
            # public 10.v.0-11.x (/22 per AZ), data 10.v.16-39.x (/21), app 10.v.64-255.x (/18): 49k task addresses
            tiers = {"public": (0, 22), "app": (64, 18), "data": (16, 21)}
            for tier, (base, plen) in tiers.items():
                per = 1 << (32 - plen)
                vpc.subnets[tier] = []
                for z, az in enumerate(AZS):
                    start = _ip_int(f"10.{v}.0.0") + (base << 8) + z * per
                    vpc.subnets[tier].append(_Subnet(
                        id=self.ids.new("subnet"), vpc=vpc, tier=tier, az=az, cidr=f"{_ip(start)}/{plen}",
                        next_host=start + 4, last_host=start + per - 2))
            vpc.igw = self.ids.new("igw")
            vpc.s3_endpoint = self.ids.new("vpce")
        # peerings: hub <-> every spoke; odd spokes <-> next spoke; one pending and one deleted
        hub = self.vpcs[0]
        for spoke in self.vpcs[1:]:
            self._peer(hub, spoke, "active")
        for i in range(1, len(self.vpcs) - 1, 2):
            self._peer(self.vpcs[i], self.vpcs[i + 1], "active")
        if len(self.vpcs) >= 3:
            a, b = self.vpcs[1], self.vpcs[-1]
            if not any(o is b for o, _, _ in a.peers):
                pcx = self._peer(a, b, "pending-acceptance")
                self.pending_pcx = (a, b, pcx)
        if len(self.vpcs) >= 4:
            self._peer(self.vpcs[2], self.vpcs[-1], "deleted")
        for vpc in self.vpcs:
            self._vpc_docs(vpc)
            vpc.default_sg = self._default_group(vpc)
            vpc.monitor_sg = self.new_group(vpc, f"{vpc.name}-monitoring", "Prometheus scrapers").id
            self._nat_gateways(vpc)
        for vpc in self.vpcs:
            self._route_tables(vpc)
            self._acls(vpc)

    def _peer(self, a: _Vpc, b: _Vpc, status: str) -> str:
        pcx = self.ids.new("pcx")
        a.peers.append((b, pcx, status))
        b.peers.append((a, pcx, status))
        item = {
            "AccepterVpcInfo": {"CidrBlock": b.cidr, "CidrBlockSet": [{"CidrBlock": b.cidr}], "OwnerId": b.account,
                                "PeeringOptions": {"AllowDnsResolutionFromRemoteVpc": False,
                                                   "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                                                   "AllowEgressFromLocalVpcToRemoteClassicLink": False},
                                "VpcId": b.id, "Region": REGION},
            "RequesterVpcInfo": {"CidrBlock": a.cidr, "CidrBlockSet": [{"CidrBlock": a.cidr}], "OwnerId": a.account,
                                 "PeeringOptions": {"AllowDnsResolutionFromRemoteVpc": False,
                                                    "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                                                    "AllowEgressFromLocalVpcToRemoteClassicLink": False},
                                 "VpcId": a.id, "Region": REGION},
            "Status": {"Code": status, "Message": {"active": "Active", "deleted": "Deleted by " + a.account,
                                                   "pending-acceptance": f"Pending Acceptance by {b.account}"}[status]},
            "Tags": [{"Key": "Name", "Value": f"{a.name}-to-{b.name}"}],
            "VpcPeeringConnectionId": pcx,
        }
        if status == "pending-acceptance":
            item["ExpirationTime"] = "2026-12-05T10:00:00+00:00"
        for account in dict.fromkeys((a.account, b.account)):
            self.docs[account]["VpcPeeringConnections"].append(item)
        return pcx

    def _vpc_docs(self, vpc: _Vpc) -> None:
        d = self.docs[vpc.account]
        item: Json = {
            "CidrBlock": vpc.cidr, "DhcpOptionsId": "dopt-0c1a2b3c4d5e6f708", "State": "available",
            "VpcId": vpc.id, "OwnerId": vpc.account, "InstanceTenancy": "default",
            "CidrBlockAssociationSet": [{"AssociationId": self.ids.new("vpc-cidr-assoc"), "CidrBlock": vpc.cidr,
                                         "CidrBlockState": {"State": "associated"}}],
            "IsDefault": False, "Tags": [{"Key": "Name", "Value": vpc.name}],
        }
        if vpc.ipv6:
            item["Ipv6CidrBlockAssociationSet"] = [{
                "AssociationId": self.ids.new("vpc-cidr-assoc"), "Ipv6CidrBlock": vpc.ipv6,
                "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": REGION, "Ipv6Pool": "Amazon"}]
        d["Vpcs"].append(item)
        for tier, subs in vpc.subnets.items():
            for s in subs:
                free = s.last_host - s.next_host + 1
                d["Subnets"].append({
                    "AvailabilityZone": s.az, "AvailabilityZoneId": f"use1-az{AZS.index(s.az) + 1}",
                    "AvailableIpAddressCount": free, "CidrBlock": s.cidr, "DefaultForAz": False,
                    "MapPublicIpOnLaunch": tier == "public", "MapCustomerOwnedIpOnLaunch": False, "State": "available",
                    "SubnetId": s.id, "VpcId": vpc.id, "OwnerId": vpc.account, "AssignIpv6AddressOnCreation": False,
                    "Ipv6CidrBlockAssociationSet": [],
                    "Tags": [{"Key": "Name", "Value": f"{vpc.name}-{tier}-{s.az[-1]}"}],
                    "SubnetArn": f"arn:aws:ec2:{REGION}:{vpc.account}:subnet/{s.id}",
                    "EnableDns64": False, "Ipv6Native": False,
                    "PrivateDnsNameOptionsOnLaunch": {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                                                      "EnableResourceNameDnsAAAARecord": False}})
        d["InternetGateways"].append({
            "Attachments": [{"State": "available", "VpcId": vpc.id}], "InternetGatewayId": vpc.igw,
            "OwnerId": vpc.account, "Tags": [{"Key": "Name", "Value": f"{vpc.name}-igw"}]})

    def _route_tables(self, vpc: _Vpc) -> None:
        d = self.docs[vpc.account]
        active_peers = [(o, pcx) for o, pcx, st in vpc.peers if st == "active"]
        local = [{"DestinationCidrBlock": vpc.cidr, "GatewayId": "local", "Origin": "CreateRouteTable",
                  "State": "active"}]
        if vpc.ipv6:
            local.append({"DestinationIpv6CidrBlock": vpc.ipv6, "GatewayId": "local", "Origin": "CreateRouteTable",
                          "State": "active"})

        def peer_routes(skip_hub: bool = False) -> list[Json]:
            return [{"DestinationCidrBlock": o.cidr, "VpcPeeringConnectionId": pcx, "Origin": "CreateRoute",
                     "State": "active"} for o, pcx in active_peers if not (skip_hub and o.index == 0)]

        def table(name: str, routes: list[Json], subnets: list[_Subnet], main: bool = False) -> None:
            rtb = self.ids.new("rtb")
            assocs: list[Json] = []
            if main:
                assocs.append({"Main": True, "RouteTableAssociationId": self.ids.new("rtbassoc"),
                               "RouteTableId": rtb, "AssociationState": {"State": "associated"}})
            assocs += [{"Main": False, "RouteTableAssociationId": self.ids.new("rtbassoc"), "RouteTableId": rtb,
                        "SubnetId": s.id, "AssociationState": {"State": "associated"}} for s in subnets]
            d["RouteTables"].append({"Associations": assocs, "PropagatingVgws": [], "RouteTableId": rtb,
                                     "Routes": routes, "Tags": [{"Key": "Name", "Value": f"{vpc.name}-{name}"}],
                                     "VpcId": vpc.id, "OwnerId": vpc.account})

        # main table: the data subnets use it implicitly; the last VPC's has drifted (no hub route)
        last = vpc.index == len(self.vpcs) - 1 and vpc.index > 0
        table("main", local + peer_routes(skip_hub=last), [], main=True)
        table("public", local + [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": vpc.igw, "Origin": "CreateRoute",
                                  "State": "active"}] + peer_routes(), vpc.subnets["public"])
        for z, sub in enumerate(vpc.subnets["app"]):
            routes = local + [
                {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": vpc.nats[z], "Origin": "CreateRoute",
                 "State": "active"},
                {"DestinationPrefixListId": self.prefix_lists[vpc.account]["s3"], "GatewayId": vpc.s3_endpoint,
                 "Origin": "CreateRouteTable", "State": "active"}] + peer_routes()
            if vpc.index % 3 == 1:
                routes.append({"DestinationCidrBlock": "10.200.0.0/16", "TransitGatewayId": self.ids.new("tgw"),
                               "Origin": "CreateRoute", "State": "blackhole"})
            table(f"private-{sub.az[-1]}", routes, [sub])

    def _acls(self, vpc: _Vpc) -> None:
        d = self.docs[vpc.account]
        hub = self.vpcs[0].cidr

        def entry(n: int, egress: bool, proto: str, cidr: str, action: str = "allow",
                  ports: tuple[int, int] | None = None, icmp: tuple[int, int] | None = None) -> Json:
            e: Json = {"CidrBlock" if ":" not in cidr else "Ipv6CidrBlock": cidr, "Egress": egress,
                       "Protocol": proto, "RuleAction": action, "RuleNumber": n}
            if ports is not None:
                e["PortRange"] = {"From": ports[0], "To": ports[1]}
            if icmp is not None:
                e["IcmpTypeCode"] = {"Code": icmp[1], "Type": icmp[0]}
            return e

        def tail(egress: bool) -> list[Json]:
            return [entry(32767, egress, "-1", "0.0.0.0/0", "deny"), entry(32767, egress, "-1", "::/0", "deny")]

        def acl(name: str, entries: list[Json], subnets: list[_Subnet], default: bool = False) -> None:
            aid = self.ids.new("acl")
            d["NetworkAcls"].append({
                "Associations": [{"NetworkAclAssociationId": self.ids.new("aclassoc"), "NetworkAclId": aid,
                                  "SubnetId": s.id} for s in subnets],
                "Entries": entries, "IsDefault": default, "NetworkAclId": aid,
                "Tags": [] if default else [{"Key": "Name", "Value": f"{vpc.name}-{name}"}],
                "VpcId": vpc.id, "OwnerId": vpc.account})

        default_app = vpc.index % 3 == 2     # these VPCs never gave the app tier its own ACL
        allow_all = [entry(100, False, "-1", "0.0.0.0/0"), entry(101, False, "-1", "::/0"), *tail(False),
                     entry(100, True, "-1", "0.0.0.0/0"), entry(101, True, "-1", "::/0"), *tail(True)]
        acl("default", allow_all, vpc.subnets["app"] if default_app else [], default=True)
        public = [
            entry(100, False, "6", "0.0.0.0/0", ports=(443, 443)),
            entry(110, False, "6", "0.0.0.0/0", ports=(80, 80)),
            entry(120, False, "6", "0.0.0.0/0", ports=(1024, 65535)),
            entry(130, False, "-1", vpc.cidr),
            entry(140, False, "6", "::/0", ports=(443, 443)),
            *tail(False),
            entry(100, True, "-1", "0.0.0.0/0"), entry(101, True, "-1", "::/0"), *tail(True)]
        acl("public", public, vpc.subnets["public"])
        if not default_app:
            app = [
                entry(90, False, "6", f"10.{vpc.index}.60.0/24", "deny", ports=(0, 65535)),   # a retired range
                entry(100, False, "6", vpc.cidr, ports=(0, 65535)),
                entry(110, False, "6", hub if vpc.index else "10.0.0.0/8", ports=(0, 65535)),
                entry(120, False, "6", "0.0.0.0/0", ports=(1024, 65535)),
                entry(130, False, "17", "0.0.0.0/0", ports=(1024, 65535)),
                entry(140, False, "1", "10.0.0.0/8", icmp=(-1, -1)),
                *tail(False),
                entry(100, True, "-1", "0.0.0.0/0"), *tail(True)]
            acl("app", app, vpc.subnets["app"])
        reply_lo = 49152 if vpc.index % 4 == 3 else 32768     # NACL-6 mistake in every fourth VPC
        data = [
            entry(100, False, "6", vpc.cidr, ports=(5432, 5432)),
            entry(101, False, "6", vpc.cidr, ports=(3306, 3306)),
            entry(110, False, "6", vpc.cidr, ports=(6379, 6379)),
            entry(120, False, "6", hub, ports=(5432, 5432)),
            entry(121, False, "6", hub, ports=(6379, 6379)),
            entry(130, False, "6", "0.0.0.0/0", ports=(32768, 65535)),
            *tail(False),
            entry(100, True, "6", vpc.cidr, ports=(reply_lo, 65535)),
            entry(110, True, "6", hub, ports=(reply_lo, 65535)),
            entry(120, True, "6", "0.0.0.0/0", ports=(443, 443)),
            entry(130, True, "6", "0.0.0.0/0", ports=(80, 80)),
            *tail(True)]
        acl("data", data, vpc.subnets["data"])

    def _nat_gateways(self, vpc: _Vpc) -> None:
        d = self.docs[vpc.account]
        for sub in vpc.subnets["public"]:
            nat = self.ids.new("nat")
            vpc.nats.append(nat)
            public_ip = self._public_ip()
            eni = self.eni(sub, [], description=f"Interface for NAT Gateway {nat}", interface_type="nat_gateway",
                           requester="AROAR7SBPIBBCE7EXAMPLE:nat", public_ip=public_ip, attach=False)
            d["NatGateways"].append({
                "CreateTime": _ts(self.rng), "NatGatewayAddresses": [{
                    "AllocationId": self.ids.new("eipalloc"), "NetworkInterfaceId": eni["NetworkInterfaceId"],
                    "PrivateIp": eni["PrivateIpAddress"], "PublicIp": public_ip,
                    "AssociationId": self.ids.new("eipassoc"), "IsPrimary": True, "Status": "succeeded"}],
                "NatGatewayId": nat, "State": "available", "SubnetId": sub.id, "VpcId": vpc.id,
                "Tags": [{"Key": "Name", "Value": f"{vpc.name}-nat-{sub.az}"}], "ConnectivityType": "public"})

    def _public_ip(self) -> str:
        return _ip(_ip_int("3.80.0.0") + self.rng.randrange(1, 1 << 19))

    # -- security groups ----------------------------------------------------------------------------
    def new_group(self, vpc: _Vpc, name: str, description: str) -> _Group:
        g = _Group(id=self.ids.new("sg"), name=name, vpc=vpc, description=description)
        self.groups[g.id] = g
        return g

    def _default_group(self, vpc: _Vpc) -> str:
        g = self.new_group(vpc, "default", "default VPC security group")
        g.ingress.append(("-1", None, None, "group", g.id, {}))
        return g.id

    def ref(self, rule_owner: _Group, target: str) -> tuple[str, str, dict]:
        """A group reference, with peering details when the target lives in another VPC."""
        tgt = self.groups.get(target)
        if tgt is None or tgt.vpc is rule_owner.vpc:
            return "group", target, {}
        pcx = next((p for o, p, st in rule_owner.vpc.peers if o is tgt.vpc and st != "deleted"), None)
        status = next((st for o, p, st in rule_owner.vpc.peers if p == pcx), None)
        return "group", target, {"UserId": tgt.vpc.account, "VpcId": tgt.vpc.id, "VpcPeeringConnectionId": pcx,
                                 "PeeringStatus": status}

    def peered(self, a: _Vpc, b: _Vpc) -> bool:
        return a is b or any(o is b and st == "active" for o, _, st in a.peers)

    # -- interfaces ---------------------------------------------------------------------------------
    def alloc_ip(self, sub: _Subnet) -> str:
        if sub.next_host > sub.last_host:
            # the subnet is full: spill into the next AZ's subnet of the same tier
            for other in sub.vpc.subnets[sub.tier]:
                if other.next_host <= other.last_host:
                    return self.alloc_ip(other)
            raise RuntimeError(f"tier {sub.tier} of {sub.vpc.name} is full")
        ip = _ip(sub.next_host)
        sub.next_host += 1
        return ip

    def subnet_of_ip(self, vpc: _Vpc, tier: str, ip: str) -> _Subnet:
        n = _ip_int(ip)
        for s in vpc.subnets[tier]:
            base, plen = s.cidr.split("/")
            lo = _ip_int(base)
            if lo <= n < lo + (1 << (32 - int(plen))):
                return s
        raise AssertionError(ip)

    def eni(self, sub: _Subnet, groups: list[str], *, description: str = "", interface_type: str = "interface",
            requester: str | None = None, public_ip: str | None = None, instance_id: str | None = None,
            attach: bool = True, device: int = 0, ip: str | None = None) -> Json:
        """One describe-network-interfaces item, recorded in its account's NetworkInterfaces."""
        ip = ip or self.alloc_ip(sub)
        sub = self.subnet_of_ip(sub.vpc, sub.tier, ip)
        eid = self.ids.new("eni")
        n = self.n_interfaces
        self.n_interfaces += 1
        mac = f"0a:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}:{self.seed % 256:02x}"
        dns = f"ip-{ip.replace('.', '-')}.ec2.internal"
        item: Json = {"AvailabilityZone": sub.az, "Description": description,
                      "Groups": [{"GroupId": g, "GroupName": self.groups[g].name} for g in groups],
                      "InterfaceType": interface_type, "Ipv6Addresses": [], "MacAddress": mac,
                      "NetworkInterfaceId": eid, "OwnerId": sub.vpc.account, "PrivateDnsName": dns,
                      "PrivateIpAddress": ip}
        primary: Json = {"Primary": True, "PrivateDnsName": dns, "PrivateIpAddress": ip}
        if public_ip:
            assoc = {"IpOwnerId": "amazon", "PublicDnsName": f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com",
                     "PublicIp": public_ip}
            item["Association"] = assoc
            primary["Association"] = dict(assoc)
        item["PrivateIpAddresses"] = [primary]
        if requester:
            item["RequesterId"] = requester
        item["RequesterManaged"] = requester is not None
        item["SourceDestCheck"] = interface_type != "nat_gateway"
        item["Status"] = "in-use"
        item["SubnetId"] = sub.id
        item["TagSet"] = []
        item["VpcId"] = sub.vpc.id
        if attach:
            att: Json = {"AttachTime": _ts(self.rng), "AttachmentId": self.ids.new("eni-attach"),
                         "DeleteOnTermination": True, "DeviceIndex": device, "NetworkCardIndex": 0,
                         "Status": "attached"}
            if instance_id:
                att["InstanceId"] = instance_id
                att["InstanceOwnerId"] = sub.vpc.account
            else:
                att["InstanceOwnerId"] = requester or "amazon-aws"
            item = {"Attachment": att, **item}
        self.docs[sub.vpc.account]["NetworkInterfaces"].append(item)
        return item

    # -- applications ------------------------------------------------------------------------------
    def build_apps(self) -> None:
        """Applications until the workload target is met; then tasks fill the interface target."""
        rng = self.rng
        spec = self.spec
        self.services: list[dict[str, Any]] = []
        self.apps: list[dict[str, Any]] = []
        self.shared_instances()
        while self.n_workloads < spec.workloads:
            # the hub holds twice a spoke's share of applications
            v = rng.randrange(len(self.vpcs) + 1)
            self.app(self.vpcs[max(0, v - 1)])
        self.cross_vpc_rules()
        self.noise_groups()
        self.place_tasks()

    def shared_instances(self) -> None:
        hub = self.vpcs[0]
        bastion = self.new_group(hub, "bastion", "SSH from the corporate VPN")
        bastion.ingress.append(("tcp", 22, 22, "prefix_list", self.prefix_lists[hub.account]["corp"], {}))
        self.bastion_sg = bastion.id
        self.instance(hub.subnets["public"][0], "bastion-1", [bastion.id, hub.default_sg], public=True)
        self.endpoint_sg = self.new_group(hub, "vpc-endpoints", "HTTPS to interface endpoints")
        self.endpoint_sg.ingress.append(("tcp", 443, 443, "cidr4", "10.0.0.0/8", {}))
        for svc in ("ssm", "ecr.api", "logs", "sts"):
            for sub in hub.subnets["app"][:2]:
                self.eni(sub, [self.endpoint_sg.id], description=f"VPC Endpoint Interface {self.ids.new('vpce')}",
                         interface_type="vpc_endpoint", requester="727180483921", attach=False)
        for vpc in self.vpcs:
            mon = self.groups[vpc.monitor_sg]
            if vpc.index:
                mon.ingress.append(("tcp", 9090, 9090, *self.ref(mon, self.groups[self.vpcs[0].monitor_sg].id)))
            self.instance(vpc.subnets["app"][vpc.index % 3], f"{vpc.name}-prometheus", [mon.id])

    def app(self, vpc: _Vpc) -> None:
        rng = self.rng
        name = self.unique(f"{rng.choice(_NOUNS)}-{vpc.name.split('-')[0]}")
        cluster = f"{vpc.name}-cluster"
        app: dict[str, Any] = {"name": name, "vpc": vpc, "services": []}
        self.apps.append(app)
        common = None
        if rng.random() < 0.3:
            common = self.new_group(vpc, f"{name}-common", f"{name} shared: members talk to each other")
            common.ingress.append(("tcp", 0, 65535, "group", common.id, {}))
        # services
        n_services = min(1 + int(rng.expovariate(1 / 2.6)), 12, max(1, self.spec.workloads - self.n_workloads))
        svc_groups = []
        for k in range(n_services):
            role = _ROLES[k % len(_ROLES)] if k < len(_ROLES) else f"{_ROLES[k % len(_ROLES)]}{k}"
            sname = f"{name}-{role}"
            port = rng.choice(CONTAINER_PORTS)
            g = self.new_group(vpc, f"{sname}-tasks", f"ECS tasks of {sname}")
            g.ingress.append(("tcp", MONITOR_PORT, MONITOR_PORT, "group", vpc.monitor_sg, {}))
            if rng.random() < 0.12:
                g.ingress.append(("tcp", 22, 22, "prefix_list", self.prefix_lists[vpc.account]["corp"], {}))
            if rng.random() < 0.10:
                g.ingress.append(("tcp", 8000, 8999, "cidr4", vpc.cidr, {}))
            if rng.random() < 0.08:
                g.ingress.append(("udp", STATSD_PORT, STATSD_PORT, "cidr4", vpc.cidr, {}))
            if rng.random() < 0.06:
                g.ingress.append(("icmp", 8, -1, "cidr4", "10.0.0.0/8", {}))
            groups = [g.id] + ([common.id] if common else [])
            svc = {"name": sname, "cluster": cluster, "vpc": vpc, "port": port, "group": g, "groups": groups,
                   "lb": None, "app": name, "tasks": 0}
            app["services"].append(svc)
            self.services.append(svc)
            svc_groups.append(g)
            self.n_workloads += 1
        # service-to-service calls inside the app
        for svc in app["services"]:
            for caller in app["services"]:
                if caller is not svc and rng.random() < 0.35:
                    svc["group"].ingress.append(("tcp", svc["port"], svc["port"], "group", caller["group"].id, {}))
        # load balancer in front of the first services
        room = lambda: self.n_workloads < self.spec.workloads  # noqa: E731 - stop at the workload target
        if rng.random() < 0.7 and room():
            self.load_balancer(app, internet=rng.random() < 0.5)
        # data stores
        if rng.random() < 0.5 and room():
            self.redis(app)
        if rng.random() < 0.6 and room():
            self.database(app)
        if rng.random() < 0.3 and room():
            workers = self.new_group(vpc, f"{name}-workers", f"{name} batch workers")
            workers.ingress.append(("tcp", 22, 22, *self.ref(workers, self.bastion_sg)))
            workers.ingress.append(("tcp", MONITOR_PORT, MONITOR_PORT, "group", vpc.monitor_sg, {}))
            for k in range(1 + int(rng.random() < 0.3)):
                inst_groups = [workers.id] + ([vpc.default_sg] if rng.random() < 0.2 else [])
                self.instance(vpc.subnets["app"][rng.randrange(3)], f"{name}-worker-{k + 1}", inst_groups,
                              stopped=rng.random() < 0.03, second_nic=rng.random() < 0.1)
            app["workers"] = workers
        # restricted egress in some service groups (the rest keep AWS's allow-all)
        for svc in app["services"]:
            if rng.random() < 0.2:
                g = svc["group"]
                g.egress = [("tcp", 443, 443, "cidr4", "0.0.0.0/0", {}),
                            ("tcp", 443, 443, "prefix_list", self.prefix_lists[vpc.account]["s3"], {}),
                            ("tcp", 0, 65535, "cidr4", vpc.cidr, {}), ("udp", 53, 53, "cidr4", vpc.cidr, {})]
                if app.get("redis"):
                    g.egress.append(("tcp", 6379, 6379, "group", app["redis"].id, {}))

    def load_balancer(self, app: dict[str, Any], internet: bool) -> None:
        rng = self.rng
        vpc: _Vpc = app["vpc"]
        lbname = f"{app['name']}-{'alb' if internet else 'int'}"[:32]
        g = self.new_group(vpc, f"{lbname}-lb", f"load balancer {lbname}")
        if internet:
            g.ingress += [("tcp", 443, 443, "cidr4", "0.0.0.0/0", {}), ("tcp", 80, 80, "cidr4", "0.0.0.0/0", {})]
            if vpc.ipv6:
                g.ingress.append(("tcp", 443, 443, "cidr6", "::/0", {}))
        else:
            g.ingress += [("tcp", 443, 443, "cidr4", vpc.cidr, {}),
                          ("tcp", 443, 443, "prefix_list", self.prefix_lists[vpc.account]["corp"], {})]
            if vpc.index:
                g.ingress.append(("tcp", 443, 443, "cidr4", self.vpcs[0].cidr, {}))
        behind = app["services"][:max(1, min(len(app["services"]), 1 + int(rng.random() < 0.4)))]
        for svc in behind:
            svc["lb"] = lbname
            svc["group"].ingress.append(("tcp", svc["port"], svc["port"], "group", g.id, {}))
        if rng.random() < 0.3:
            g.egress = [("tcp", s["port"], s["port"], "group", s["group"].id, {}) for s in behind]
        tier = "public" if internet else "app"
        lb_id = self.ids.hex("elb", 16)
        arn = f"arn:aws:elasticloadbalancing:{REGION}:{vpc.account}:loadbalancer/app/{lbname}/{lb_id}"
        zones = []
        for sub in vpc.subnets[tier]:
            self.eni(sub, [g.id], description=f"ELB app/{lbname}/{lb_id}", requester="amazon-elb",
                     public_ip=self._public_ip() if internet else None)
            zones.append({"ZoneName": sub.az, "SubnetId": sub.id, "LoadBalancerAddresses": []})
        d = self.docs[vpc.account]
        d["LoadBalancers"].append({
            "LoadBalancerArn": arn,
            "DNSName": f"{'' if internet else 'internal-'}{lbname}-{rng.randrange(10 ** 9, 10 ** 10)}.{REGION}.elb.amazonaws.com",
            "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K", "CreatedTime": _ts(rng), "LoadBalancerName": lbname,
            "Scheme": "internet-facing" if internet else "internal", "VpcId": vpc.id, "State": {"Code": "active"},
            "Type": "application", "AvailabilityZones": zones, "SecurityGroups": [g.id],
            "IpAddressType": "dualstack" if internet and vpc.ipv6 else "ipv4"})
        for port, proto in ((443, "HTTPS"), (80, "HTTP")):
            if port == 80 and not internet:
                continue
            d["Listeners"].append({
                "ListenerArn": f"arn:aws:elasticloadbalancing:{REGION}:{vpc.account}:listener/app/{lbname}/{lb_id}/"
                               f"{self.ids.hex('listener', 16)}",
                "LoadBalancerArn": arn, "Port": port, "Protocol": proto,
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:"
                                    f"{vpc.account}:targetgroup/{lbname[:24]}-tg/{self.ids.hex('tg', 16)}"}]})
        app["lb"] = g
        self.n_workloads += 1

    def redis(self, app: dict[str, Any]) -> None:
        rng = self.rng
        vpc: _Vpc = app["vpc"]
        rid = f"{app['name']}-redis"[:40]
        g = self.new_group(vpc, f"{rid}", f"Redis {rid}")
        callers = [s for s in app["services"] if rng.random() < 0.6] or app["services"][:1]
        for s in callers:
            g.ingress.append(("tcp", 6379, 6379, "group", s["group"].id, {}))
        if rng.random() < 0.15:
            # the incident: a rule still naming the group the service used before it moved
            g.ingress.append(("tcp", 6379, 6379, "group", rng.choice(self.deleted_groups), {}))
        if rng.random() < 0.1:
            g.ingress.append(("tcp", 6379, 6379, "cidr4", vpc.cidr, {}))
        if vpc.index and rng.random() < 0.2:
            hub_services = [s for s in self.services if s["vpc"].index == 0]
            if hub_services:
                g.ingress.append(("tcp", 6379, 6379, *self.ref(g, rng.choice(hub_services)["group"].id)))
        n_nodes = 2 if rng.random() < 0.7 else 3
        members = [f"{rid}-{k + 1:03d}" for k in range(n_nodes)]
        d = self.docs[vpc.account]
        suffix = f"{rng.getrandbits(24):06x}"
        for k, cid in enumerate(members):
            sub = vpc.subnets["data"][k % 3]
            self.eni(sub, [g.id], description=f"ElastiCache {cid}", requester="amazon-elasticache")
            d["CacheClusters"].append({
                "CacheClusterId": cid, "CacheNodeType": "cache.r7g.large", "Engine": "redis",
                "EngineVersion": "7.1.0", "CacheClusterStatus": "available", "NumCacheNodes": 1,
                "PreferredAvailabilityZone": sub.az, "CacheClusterCreateTime": _ts(rng),
                "PreferredMaintenanceWindow": "sun:05:00-sun:06:00", "PendingModifiedValues": {},
                "CacheSecurityGroups": [],
                "CacheParameterGroup": {"CacheParameterGroupName": "default.redis7", "ParameterApplyStatus": "in-sync",
                                        "CacheNodeIdsToReboot": []},
                "CacheSubnetGroupName": f"{vpc.name}-data",
                "CacheNodes": [{"CacheNodeId": "0001", "CacheNodeStatus": "available", "CacheNodeCreateTime": _ts(rng),
                                "Endpoint": {"Address": f"{cid}.{suffix}.0001.use1.cache.amazonaws.com",
                                             "Port": 6379},
                                "ParameterGroupStatus": "in-sync", "CustomerAvailabilityZone": sub.az}],
                "AutoMinorVersionUpgrade": True, "SecurityGroups": [{"SecurityGroupId": g.id, "Status": "active"}],
                "ReplicationGroupId": rid, "SnapshotRetentionLimit": 0, "SnapshotWindow": "03:00-04:00",
                "AuthTokenEnabled": False, "TransitEncryptionEnabled": False, "AtRestEncryptionEnabled": True,
                "ARN": f"arn:aws:elasticache:{REGION}:{vpc.account}:cluster:{cid}",
                "ReplicationGroupLogDeliveryEnabled": False, "LogDeliveryConfigurations": [],
                "NetworkType": "ipv4", "IpDiscovery": "ipv4"})
        d["ReplicationGroups"].append({
            "ReplicationGroupId": rid, "Description": f"{app['name']} cache", "GlobalReplicationGroupInfo": {},
            "Status": "available", "PendingModifiedValues": {}, "MemberClusters": members,
            "NodeGroups": [{
                "NodeGroupId": "0001", "Status": "available",
                "PrimaryEndpoint": {"Address": f"master.{rid}.{suffix}.use1.cache.amazonaws.com", "Port": 6379},
                "ReaderEndpoint": {"Address": f"replica.{rid}.{suffix}.use1.cache.amazonaws.com", "Port": 6379},
                "NodeGroupMembers": [{"CacheClusterId": cid, "CacheNodeId": "0001",
                                      "ReadEndpoint": {"Address": f"{cid}.{suffix}.0001.use1.cache.amazonaws.com",
                                                       "Port": 6379},
                                      "PreferredAvailabilityZone": vpc.subnets["data"][k % 3].az,
                                      "CurrentRole": "primary" if k == 0 else "replica"}
                                     for k, cid in enumerate(members)]}],
            "AutomaticFailover": "enabled", "MultiAZ": "enabled", "SnapshotRetentionLimit": 0,
            "ClusterEnabled": False, "CacheNodeType": "cache.r7g.large", "AuthTokenEnabled": False,
            "TransitEncryptionEnabled": False, "AtRestEncryptionEnabled": True,
            "ARN": f"arn:aws:elasticache:{REGION}:{vpc.account}:replicationgroup:{rid}",
            "LogDeliveryConfigurations": [], "DataTiering": "disabled", "AutoMinorVersionUpgrade": True,
            "NetworkType": "ipv4", "IpDiscovery": "ipv4", "ClusterMode": "disabled", "Engine": "redis"})
        app["redis"] = g
        self.n_workloads += 1

    def database(self, app: dict[str, Any]) -> None:
        rng = self.rng
        vpc: _Vpc = app["vpc"]
        mysql = rng.random() < 0.3
        port = 3306 if mysql else 5432
        aurora = rng.random() < 0.3
        dbname = f"{app['name']}-db"[:50]
        g = self.new_group(vpc, f"{dbname}", f"{'MySQL' if mysql else 'PostgreSQL'} {dbname}")
        callers = [s for s in app["services"] if rng.random() < 0.5] or app["services"][:1]
        for s in callers:
            g.ingress.append(("tcp", port, port, "group", s["group"].id, {}))
        g.ingress.append(("tcp", port, port, *self.ref(g, self.bastion_sg)))
        if rng.random() < 0.2:
            g.ingress.append(("tcp", port, port, "prefix_list", self.prefix_lists[vpc.account]["corp"], {}))
        if rng.random() < 0.1:
            g.ingress.append(("tcp", 0, 65535, "cidr4", "10.0.0.0/8", {}))
        g.egress = [] if rng.random() < 0.5 else None      # databases often have no outbound rules
        d = self.docs[vpc.account]
        engine = ("aurora-mysql" if mysql else "aurora-postgresql") if aurora else ("mysql" if mysql else "postgres")
        subnet_group = {"DBSubnetGroupName": f"{vpc.name}-data", "DBSubnetGroupDescription": "data tier",
                        "VpcId": vpc.id, "SubnetGroupStatus": "Complete",
                        "Subnets": [{"SubnetIdentifier": s.id, "SubnetAvailabilityZone": {"Name": s.az},
                                     "SubnetOutpost": {}, "SubnetStatus": "Active"} for s in vpc.subnets["data"]],
                        "SupportedNetworkTypes": ["IPV4"]}
        host_suffix = f"c{rng.getrandbits(40):010x}"
        instances = [f"{dbname}-{k + 1}" for k in range(2)] if aurora else [dbname]
        for k, iname in enumerate(instances):
            sub = vpc.subnets["data"][k % 3]
            self.eni(sub, [g.id], description="RDSNetworkInterface", requester="amazon-rds")
            item: Json = {
                "DBInstanceIdentifier": iname, "DBInstanceClass": "db.r6g.large", "Engine": engine,
                "DBInstanceStatus": "available", "MasterUsername": "app",
                "Endpoint": {"Address": f"{iname}.{host_suffix}.{REGION}.rds.amazonaws.com", "Port": port,
                             "HostedZoneId": "Z2R2ITUGPM61AM"},
                "AllocatedStorage": 100, "InstanceCreateTime": _ts(rng), "PreferredBackupWindow": "04:00-04:30",
                "BackupRetentionPeriod": 7, "DBSecurityGroups": [],
                "VpcSecurityGroups": [{"VpcSecurityGroupId": g.id, "Status": "active"}],
                "AvailabilityZone": sub.az, "DBSubnetGroup": subnet_group, "MultiAZ": not aurora,
                "EngineVersion": "16.4" if not mysql else "8.0.39", "AutoMinorVersionUpgrade": True,
                "PubliclyAccessible": False, "StorageType": "gp3", "DbInstancePort": 0,
                "StorageEncrypted": True, "DbiResourceId": f"db-{rng.getrandbits(100):026X}"[:29],
                "DBInstanceArn": f"arn:aws:rds:{REGION}:{vpc.account}:db:{iname}", "DeletionProtection": True,
                "NetworkType": "IPV4"}
            if aurora:
                item["DBClusterIdentifier"] = dbname
            d["DBInstances"].append(item)
        if aurora:
            d["DBClusters"].append({
                "AllocatedStorage": 1, "AvailabilityZones": list(AZS), "BackupRetentionPeriod": 7,
                "DBClusterIdentifier": dbname, "DBSubnetGroup": f"{vpc.name}-data", "Status": "available",
                "Endpoint": f"{dbname}.cluster-{host_suffix}.{REGION}.rds.amazonaws.com",
                "ReaderEndpoint": f"{dbname}.cluster-ro-{host_suffix}.{REGION}.rds.amazonaws.com",
                "MultiAZ": True, "Engine": engine, "EngineVersion": "16.4" if not mysql else "8.0.mysql_aurora.3.05.2",
                "Port": port, "MasterUsername": "app",
                "DBClusterMembers": [{"DBInstanceIdentifier": iname, "IsClusterWriter": k == 0,
                                      "DBClusterParameterGroupStatus": "in-sync", "PromotionTier": 1}
                                     for k, iname in enumerate(instances)],
                "VpcSecurityGroups": [{"VpcSecurityGroupId": g.id, "Status": "active"}],
                "StorageEncrypted": True, "DBClusterArn": f"arn:aws:rds:{REGION}:{vpc.account}:cluster:{dbname}",
                "DeletionProtection": True, "NetworkType": "IPV4"})
        app["db"] = g
        self.n_workloads += 1

    def instance(self, sub: _Subnet, name: str, groups: list[str], *, public: bool = False, stopped: bool = False,
                 second_nic: bool = False) -> None:
        rng = self.rng
        iid = self.ids.new("i")
        nics = [self.eni(sub, groups, description="Primary network interface", instance_id=iid,
                         public_ip=self._public_ip() if public else None)]
        if second_nic:
            other = sub.vpc.subnets["data"][AZS.index(sub.az)]
            nics.append(self.eni(other, [groups[0]], description=f"{name} data interface", instance_id=iid,
                                 device=1))
        vpc = sub.vpc
        inst_nics = []
        for nic in nics:
            n = {k: v for k, v in nic.items() if k not in ("AvailabilityZone", "InterfaceType", "RequesterManaged",
                                                            "TagSet", "RequesterId")}
            n["InterfaceType"] = "interface"
            n["Attachment"] = {k: v for k, v in nic["Attachment"].items() if k not in ("InstanceId", "InstanceOwnerId")}
            inst_nics.append(n)
        primary = nics[0]
        state = "stopped" if stopped else "running"
        inst: Json = {
            "AmiLaunchIndex": 0, "ImageId": f"ami-{rng.getrandbits(68):017x}", "InstanceId": iid,
            "InstanceType": rng.choice(("t3.medium", "m6i.large", "c6i.xlarge", "r6i.large")),
            "LaunchTime": _ts(rng), "Monitoring": {"State": "disabled"},
            "Placement": {"AvailabilityZone": sub.az, "GroupName": "", "Tenancy": "default"},
            "PrivateDnsName": primary["PrivateDnsName"], "PrivateIpAddress": primary["PrivateIpAddress"],
            "ProductCodes": [], "PublicDnsName": "", "State": {"Code": 80 if stopped else 16, "Name": state},
            "StateTransitionReason": "", "SubnetId": sub.id, "VpcId": vpc.id, "Architecture": "x86_64",
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
                "AttachTime": _ts(rng), "DeleteOnTermination": True, "Status": "attached",
                "VolumeId": self.ids.new("vol")}}],
            "ClientToken": "", "EbsOptimized": True, "EnaSupport": True, "Hypervisor": "xen",
            "NetworkInterfaces": inst_nics, "RootDeviceName": "/dev/xvda", "RootDeviceType": "ebs",
            "SecurityGroups": [{"GroupId": g, "GroupName": self.groups[g].name} for g in groups],
            "SourceDestCheck": True, "Tags": [{"Key": "Name", "Value": name}], "VirtualizationType": "hvm",
            "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2}, "MetadataOptions": {
                "State": "applied", "HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}}
        if public and "Association" in primary:
            inst["PublicIpAddress"] = primary["Association"]["PublicIp"]
        self.docs[vpc.account]["Reservations"].append({
            "Groups": [], "Instances": [inst], "OwnerId": vpc.account, "ReservationId": self.ids.new("r")})
        self.n_workloads += 1

    # -- more rules --------------------------------------------------------------------------------
    def cross_vpc_rules(self) -> None:
        """Hub services admit a few spoke services through peering references; spokes admit the hub's CIDR."""
        rng = self.rng
        hub_services = [s for s in self.services if s["vpc"].index == 0]
        spoke_services = [s for s in self.services if s["vpc"].index != 0]
        for s in hub_services:
            for caller in rng.sample(spoke_services, min(len(spoke_services), rng.randrange(0, 4))):
                g = s["group"]
                if self.peered(g.vpc, caller["vpc"]):
                    g.ingress.append(("tcp", s["port"], s["port"], *self.ref(g, caller["group"].id)))
                else:
                    g.ingress.append(("tcp", s["port"], s["port"], "cidr4", caller["vpc"].cidr, {}))
        if self.pending_pcx and hub_services:
            a, b, _ = self.pending_pcx
            owners = [s for s in self.services if s["vpc"] is a]
            targets = [s for s in self.services if s["vpc"] is b]
            if owners and targets:
                g = owners[0]["group"]
                g.ingress.append(("tcp", owners[0]["port"], owners[0]["port"], *self.ref(g, targets[0]["group"].id)))

    def noise_groups(self) -> None:
        """Groups nobody uses (launch-wizard, legacy, k8s leftovers) until the group target is met."""
        rng = self.rng
        used = [g for g in self.groups.values()]
        n = 0
        while len(self.groups) < self.spec.groups:
            vpc = self.vpcs[rng.randrange(len(self.vpcs))]
            kind = rng.random()
            if kind < 0.35:
                g = self.new_group(vpc, f"launch-wizard-{n + 1}", f"launch-wizard-{n + 1} created {_ts(rng)[:10]}")
                g.ingress.append(("tcp", 22, 22, "cidr4", "0.0.0.0/0", {}))
            elif kind < 0.7:
                g = self.new_group(vpc, f"legacy-{rng.choice(_NOUNS)}-{n + 1}", "do not delete")
                for _ in range(rng.randrange(1, 6)):
                    target = rng.choice(used)
                    port = rng.choice((80, 443, 8080, 5432, 6379, 3306, 9200))
                    if target.vpc is vpc:
                        g.ingress.append(("tcp", port, port, "group", target.id, {}))
                    else:
                        g.ingress.append(("tcp", port, port, "cidr4", target.vpc.cidr, {}))
                if rng.random() < 0.3:
                    g.ingress.append(("tcp", 0, 65535, "cidr4", "10.0.0.0/8", {}))
                if rng.random() < 0.2:
                    g.ingress.append(("tcp", 6379, 6379, "group", rng.choice(self.deleted_groups), {}))
            else:
                g = self.new_group(vpc, f"k8s-elb-{rng.getrandbits(32):08x}", "Security group for Kubernetes ELB")
                g.ingress += [("tcp", 443, 443, "cidr4", "0.0.0.0/0", {}), ("icmp", 3, 4, "cidr4", "0.0.0.0/0", {})]
                if rng.random() < 0.3:
                    g.ingress.append(("tcp", 443, 443, "cidr6", "::/0", {}))
            n += 1

    # -- ECS tasks ---------------------------------------------------------------------------------
    def place_tasks(self) -> None:
        """Share the remaining interface budget among services, heavy-tailed, at least one task each."""
        rng = self.rng
        budget = max(len(self.services), self.spec.interfaces - self.n_interfaces)
        weights = [rng.paretovariate(1.6) for _ in self.services]
        total = sum(weights)
        counts = [max(1, int(budget * w / total)) for w in weights]
        # hand out the rounding remainder deterministically, largest weights first
        order = sorted(range(len(self.services)), key=lambda i: -weights[i])
        k = 0
        while sum(counts) < budget and order:
            counts[order[k % len(order)]] += 1
            k += 1
        for svc, n in zip(self.services, counts):
            svc["tasks"] = n
        by_account_cluster: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for svc in self.services:
            by_account_cluster[(svc["vpc"].account, svc["cluster"])].append(svc)
        for (account, cluster), svcs in by_account_cluster.items():
            services_out, tasks_out = [], []
            for svc in svcs:
                s_item, t_items = self.ecs_service(svc)
                services_out.append(s_item)
                tasks_out += t_items
            self.ecs_files[account][cluster] = {"services": services_out, "tasks": tasks_out}

    def ecs_service(self, svc: dict[str, Any]) -> tuple[Json, list[Json]]:
        rng = self.rng
        vpc: _Vpc = svc["vpc"]
        account = vpc.account
        cluster_arn = f"arn:aws:ecs:{REGION}:{account}:cluster/{svc['cluster']}"
        family = svc["name"]
        rev = rng.randrange(1, 90)
        td_arn = f"arn:aws:ecs:{REGION}:{account}:task-definition/{family}:{rev}"
        self.docs[account]["taskDefinitions"].append({
            "taskDefinitionArn": td_arn, "family": family, "revision": rev, "networkMode": "awsvpc",
            "containerDefinitions": [{
                "name": family.rsplit("-", 1)[-1], "image": f"{account}.dkr.ecr.{REGION}.amazonaws.com/{family}:"
                                                            f"{rng.getrandbits(28):07x}",
                "cpu": 0, "portMappings": [{"containerPort": svc["port"], "hostPort": svc["port"], "protocol": "tcp"}],
                "essential": True, "environment": [], "mountPoints": [], "volumesFrom": [],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": f"/ecs/{family}", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}}}],
            "status": "ACTIVE", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
            "compatibilities": ["EC2", "FARGATE"], "registeredAt": _ts(rng)})
        subnets = vpc.subnets["app"]
        item: Json = {
            "serviceArn": f"arn:aws:ecs:{REGION}:{account}:service/{svc['cluster']}/{svc['name']}",
            "serviceName": svc["name"], "clusterArn": cluster_arn, "loadBalancers": [], "serviceRegistries": [],
            "status": "ACTIVE", "desiredCount": svc["tasks"], "runningCount": svc["tasks"], "pendingCount": 0,
            "launchType": "FARGATE", "platformVersion": "LATEST", "platformFamily": "Linux",
            "taskDefinition": td_arn,
            "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                        "maximumPercent": 200, "minimumHealthyPercent": 100},
            "deployments": [{"id": f"ecs-svc/{rng.getrandbits(60):019d}", "status": "PRIMARY", "taskDefinition": td_arn,
                             "desiredCount": svc["tasks"], "pendingCount": 0, "runningCount": svc["tasks"],
                             "failedTasks": 0, "createdAt": _ts(rng), "updatedAt": _ts(rng), "launchType": "FARGATE",
                             "platformVersion": "1.4.0", "rolloutState": "COMPLETED"}],
            "events": [{"id": _uuid(rng), "createdAt": _ts(rng),
                        "message": f"(service {svc['name']}) has reached a steady state."} for _ in range(2)],
            "createdAt": _ts(rng), "placementConstraints": [], "placementStrategy": [],
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": [s.id for s in subnets], "securityGroups": list(svc["groups"]),
                "assignPublicIp": "DISABLED"}},
            "schedulingStrategy": "REPLICA", "enableECSManagedTags": True, "propagateTags": "NONE",
            "enableExecuteCommand": False}
        if svc["lb"]:
            item["loadBalancers"] = [{
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{account}:targetgroup/"
                                  f"{svc['name'][:24]}/{self.ids.hex('tg', 16)}",
                "containerName": family.rsplit("-", 1)[-1], "containerPort": svc["port"]}]
        tasks = []
        for k in range(svc["tasks"]):
            sub = subnets[k % 3]
            nic = self.eni(sub, svc["groups"], description=f"arn:aws:ecs:{REGION}:{account}:attachment/{_uuid(rng)}",
                           requester=ECS_REQUESTER)
            task_id = self.ids.hex("task", 32)
            att_id = nic["Description"].rsplit("/", 1)[1]
            ip = nic["PrivateIpAddress"]
            sub = self.subnet_of_ip(vpc, "app", ip)
            tasks.append({
                "attachments": [{"id": att_id, "type": "ElasticNetworkInterface", "status": "ATTACHED", "details": [
                    {"name": "subnetId", "value": sub.id},
                    {"name": "networkInterfaceId", "value": nic["NetworkInterfaceId"]},
                    {"name": "macAddress", "value": nic["MacAddress"]},
                    {"name": "privateDnsName", "value": nic["PrivateDnsName"]},
                    {"name": "privateIPv4Address", "value": ip}]}],
                "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
                "availabilityZone": sub.az, "clusterArn": cluster_arn, "connectivity": "CONNECTED",
                "connectivityAt": _ts(rng),
                "containers": [{
                    "containerArn": f"arn:aws:ecs:{REGION}:{account}:container/{svc['cluster']}/{task_id}/{_uuid(rng)}",
                    "taskArn": f"arn:aws:ecs:{REGION}:{account}:task/{svc['cluster']}/{task_id}",
                    "name": family.rsplit("-", 1)[-1], "lastStatus": "RUNNING",
                    "networkInterfaces": [{"attachmentId": att_id, "privateIpv4Address": ip}],
                    "healthStatus": "UNKNOWN", "cpu": "0"}],
                "cpu": "512", "createdAt": _ts(rng), "desiredStatus": "RUNNING", "enableExecuteCommand": False,
                "group": f"service:{svc['name']}", "healthStatus": "UNKNOWN", "lastStatus": "RUNNING",
                "launchType": "FARGATE", "memory": "1024", "platformVersion": "1.4.0", "platformFamily": "Linux",
                "startedAt": _ts(rng), "startedBy": "ecs-svc/0000000000000000000", "tags": [],
                "taskArn": f"arn:aws:ecs:{REGION}:{account}:task/{svc['cluster']}/{task_id}",
                "taskDefinitionArn": td_arn, "version": 3, "ephemeralStorage": {"sizeInGiB": 20}})
        return item, tasks

    # -- output --------------------------------------------------------------------------------------
    def group_docs(self) -> None:
        for g in self.groups.values():
            account = g.vpc.account
            ingress = self._permissions(g.ingress, account)
            egress = (self._permissions(g.egress, account) if g.egress is not None else
                      [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
                        "PrefixListIds": [], "UserIdGroupPairs": []}])
            self.docs[account]["SecurityGroups"].append({
                "Description": g.description, "GroupName": g.name, "IpPermissions": ingress, "OwnerId": account,
                "GroupId": g.id, "IpPermissionsEgress": egress,
                "Tags": [{"Key": "Name", "Value": g.name}] if g.name != "default" else [], "VpcId": g.vpc.id,
                "SecurityGroupArn": f"arn:aws:ec2:{REGION}:{account}:security-group/{g.id}"})
            rules = [(False, r) for r in g.ingress] + [
                (True, r) for r in (g.egress if g.egress is not None else [("-1", None, None, "cidr4", "0.0.0.0/0",
                                                                             {})])]
            for egress_flag, (proto, lo, hi, kind, peer, extra) in rules:
                item: Json = {"SecurityGroupRuleId": self.ids.new("sgr"), "GroupId": g.id, "GroupOwnerId": account,
                              "IsEgress": egress_flag, "IpProtocol": proto,
                              "FromPort": -1 if lo is None else lo, "ToPort": -1 if hi is None else hi}
                if kind == "cidr4":
                    item["CidrIpv4"] = peer
                elif kind == "cidr6":
                    item["CidrIpv6"] = peer
                elif kind == "prefix_list":
                    item["PrefixListId"] = peer
                else:
                    info = {"GroupId": peer, "UserId": extra.get("UserId", account)}
                    info.update({k: v for k, v in extra.items() if k in ("VpcId", "VpcPeeringConnectionId",
                                                                         "PeeringStatus") and v})
                    item["ReferencedGroupInfo"] = info
                item["Tags"] = []
                self.docs[account]["SecurityGroupRules"].append(item)

    def _permissions(self, rules: list[tuple], account: str) -> list[Json]:
        perms: dict[tuple, Json] = {}
        for proto, lo, hi, kind, peer, extra in rules:
            key = (proto, lo, hi)
            p = perms.get(key)
            if p is None:
                p = {"IpProtocol": proto}
                if lo is not None:
                    p["FromPort"] = lo
                if hi is not None:
                    p["ToPort"] = hi
                p.update({"IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []})
                perms[key] = p
            if kind == "cidr4":
                if not any(r["CidrIp"] == peer for r in p["IpRanges"]):
                    p["IpRanges"].append({"CidrIp": peer})
            elif kind == "cidr6":
                if not any(r["CidrIpv6"] == peer for r in p["Ipv6Ranges"]):
                    p["Ipv6Ranges"].append({"CidrIpv6": peer})
            elif kind == "prefix_list":
                if not any(r["PrefixListId"] == peer for r in p["PrefixListIds"]):
                    p["PrefixListIds"].append({"PrefixListId": peer})
            else:
                if any(r["GroupId"] == peer for r in p["UserIdGroupPairs"]):
                    continue
                pair = {"GroupId": peer, "UserId": extra.get("UserId", account)}
                pair.update({k: v for k, v in extra.items() if k in ("VpcId", "VpcPeeringConnectionId",
                                                                     "PeeringStatus") and v})
                p["UserIdGroupPairs"].append(pair)
        return list(perms.values())

    def stats(self) -> dict[str, Any]:
        top = sum(len(self.docs[a]["Reservations"]) + len(self.docs[a]["ReplicationGroups"])
                  + len(self.docs[a]["LoadBalancers"]) + len(self.docs[a]["DBClusters"])
                  + sum(1 for i in self.docs[a]["DBInstances"] if "DBClusterIdentifier" not in i)
                  for a in self.accounts) + len(self.services)
        rules = sum(len(self.docs[a]["SecurityGroupRules"]) for a in self.accounts)
        tasks = sum(len(f["tasks"]) for a in self.accounts for f in self.ecs_files[a].values())
        return {"interfaces": self.n_interfaces, "security_groups": len(self.groups), "rules": rules,
                "top_level_workloads": top, "ecs_services": len(self.services), "ecs_tasks": tasks,
                "vpcs": len(self.vpcs), "accounts": len(self.accounts), "regions": 1,
                "api_calls": self.api_call_estimate()}

    def api_call_estimate(self) -> dict[str, int]:
        """What `reachgraph collect` would call for this estate (pages of the largest size AWS allows)."""
        def pages(n: int, size: int) -> int:
            return max(1, -(-n // size))
        out: dict[str, int] = defaultdict(int)
        for a in self.accounts:
            d = self.docs[a]
            for key, size in (("Vpcs", 1000), ("Subnets", 1000), ("SecurityGroups", 1000),
                              ("SecurityGroupRules", 1000), ("NetworkInterfaces", 1000), ("NetworkAcls", 1000),
                              ("RouteTables", 100), ("VpcPeeringConnections", 1000), ("InternetGateways", 1000),
                              ("NatGateways", 1000), ("Reservations", 1000)):
                out["ec2"] += pages(len(d[key]), size)
            out["ec2"] += 1 + len(self.prefix_lists[a])       # DescribeManagedPrefixLists + entries per list
            clusters = self.ecs_files[a]
            out["ecs"] += 1                                    # ListClusters
            for f in clusters.values():
                out["ecs"] += pages(len(f["services"]), 100) + pages(len(f["services"]), 10)
                out["ecs"] += pages(len(f["tasks"]), 100) * 2    # ListTasks + DescribeTasks
            out["ecs"] += len(d["taskDefinitions"])
            out["elasticache"] += pages(len(d["CacheClusters"]), 100) + pages(len(d["ReplicationGroups"]), 100) + 1
            out["rds"] += pages(len(d["DBInstances"]), 100) + pages(len(d["DBClusters"]), 100)
            out["elbv2"] += pages(len(d["LoadBalancers"]), 400) + len(d["LoadBalancers"])
        out["total"] = sum(out.values())
        return dict(out)


_FILES = (  # top-level key -> file name, in the order the AWS CLI user would have run them
    ("Vpcs", "describe-vpcs.json"), ("Subnets", "describe-subnets.json"),
    ("SecurityGroups", "describe-security-groups.json"), ("SecurityGroupRules", "describe-security-group-rules.json"),
    ("NetworkInterfaces", "describe-network-interfaces.json"), ("NetworkAcls", "describe-network-acls.json"),
    ("RouteTables", "describe-route-tables.json"), ("VpcPeeringConnections", "describe-vpc-peering-connections.json"),
    ("InternetGateways", "describe-internet-gateways.json"), ("NatGateways", "describe-nat-gateways.json"),
    ("PrefixLists", "describe-prefix-lists.json"), ("Reservations", "describe-instances.json"),
    ("taskDefinitions", "ecs-describe-task-definitions.json"),
    ("CacheClusters", "elasticache-describe-cache-clusters.json"),
    ("ReplicationGroups", "elasticache-describe-replication-groups.json"),
    ("DBInstances", "rds-describe-db-instances.json"), ("DBClusters", "rds-describe-db-clusters.json"),
    ("LoadBalancers", "elbv2-describe-load-balancers.json"), ("Listeners", "elbv2-describe-listeners.json"),
)


def build(size: str | SizeSpec, seed: int = 1) -> _Estate:
    """Generate an estate in memory (no files)."""
    spec = SIZES[size.upper()] if isinstance(size, str) else size
    est = _Estate(spec, seed)
    est.build_network()
    est.build_apps()
    est.group_docs()
    return est


def _dump(document: Any) -> str:
    return json.dumps(document, indent=4) + "\n"


def write(est: _Estate, out: str | Path) -> dict[str, Any]:
    """Write the estate as OUT/ACCOUNT/REGION/*.json; returns the statistics."""
    root = Path(out)
    files = 0
    total = 0
    for account in est.accounts:
        folder = root / account / REGION
        folder.mkdir(parents=True, exist_ok=True)
        d = est.docs[account]
        for key, name in _FILES:
            if not d.get(key):
                continue
            text = _dump({key: d[key]})
            (folder / name).write_text(text)
            files += 1
            total += len(text)
        for cluster, docs in sorted(est.ecs_files[account].items()):
            for key, call in (("services", "describe-services"), ("tasks", "describe-tasks")):
                text = _dump({key: docs[key], "failures": []})
                (folder / f"ecs-{call}-{cluster}.json").write_text(text)
                files += 1
                total += len(text)
    stats = est.stats()
    stats.update(files=files, bytes=total)
    info = {"generator": "reachgraph.synth", "size": next((k for k, v in SIZES.items() if v == est.spec), "custom"),
            "seed": est.seed, **stats}
    (root / "SYNTH-INFO.txt").write_text("".join(f"{k}: {v}\n" for k, v in info.items()))
    return stats


def generate(size: str | SizeSpec, seed: int = 1, out: str | Path = "estate") -> dict[str, Any]:
    """Generate and write one estate; returns its statistics (interfaces, groups, workloads, files, bytes)."""
    return write(build(size, seed), out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reachgraph.synth",
                                     description="Write a synthetic AWS estate (AWS CLI JSON) for benchmarks.")
    parser.add_argument("--size", default="S", type=str.upper, choices=sorted(SIZES),
                        help="S ~1k interfaces, M ~10k, L ~100k (XS ~200 for quick tests)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--out", required=True, help="output folder (created)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"error: {out} exists and is not empty", file=sys.stderr)
        return 2
    stats = generate(args.size, args.seed, out)
    for k, v in stats.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
