"""Typed, immutable records of the network, built once from raw AWS responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from reachgraph.model.index import InterfaceIndex

Direction = Literal["ingress", "egress"]
PeerKind = Literal["cidr4", "cidr6", "prefix_list", "group"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One security-group rule for one peer (AWS permissions with several peers are split)."""

    group_id: str
    direction: Direction
    protocol: str          # normalised: "tcp", "udp", "icmp", "icmpv6", "-1" or a protocol number
    from_port: int | None  # tcp/udp: first port; icmp: type (-1 any)
    to_port: int | None    # tcp/udp: last port; icmp: code (-1 any)
    peer_kind: PeerKind
    peer: str              # CIDR, pl- id or sg- id
    peer_account: str | None = None
    peer_vpc: str | None = None
    peering_id: str | None = None
    description: str | None = None
    rule_id: str | None = None
    # describe(), written once when the rule is made: the parser still holds its fields then, while the graph's
    # build, which labels every edge with it, would have to fetch each rule from memory again.
    reason: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        word = "from" if self.direction == "ingress" else "to"
        rid = f" ({self.rule_id})" if self.rule_id else ""
        reason = f"{self.group_id} {self.direction} {self.ports_text()} {word} {self.peer}{rid}"
        object.__setattr__(self, "reason", reason)

    def ports_text(self) -> str:
        """Protocol and ports as an engineer writes them: tcp/6379, udp/1000-2000, all, icmp/8."""
        if self.protocol == "-1":
            return "all traffic"
        if self.protocol in ("tcp", "udp"):
            lo, hi = self.from_port, self.to_port
            if lo is None or hi is None or (lo <= 0 and hi >= 65535):
                return f"{self.protocol}/all"
            return f"{self.protocol}/{lo}" if lo == hi else f"{self.protocol}/{lo}-{hi}"
        if self.protocol in ("icmp", "icmpv6"):
            if self.from_port in (None, -1):
                return f"{self.protocol}/all"
            code = "" if self.to_port in (None, -1) else f":{self.to_port}"
            return f"{self.protocol}/{self.from_port}{code}"
        return f"proto {self.protocol}"

    def peer_text(self) -> str:
        """The peer as written in the rule."""
        return self.peer

    def describe(self) -> str:
        """'sg-x ingress tcp/6379 from sg-y (sgr-z)'."""
        return self.reason


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A security group and its rules, one Rule per peer."""

    id: str
    name: str
    vpc_id: str | None
    account: str | None
    region: str | None
    description: str = ""
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def is_default(self) -> bool:
        """The VPC's default group (never flagged as unused, admits its own members)."""
        return self.name == "default"


@dataclass(frozen=True, slots=True)
class Interface:
    """A network interface: the thing security groups, subnets and ACLs actually apply to."""

    id: str
    vpc_id: str | None
    subnet_id: str | None
    account: str | None
    region: str | None
    group_ids: tuple[str, ...]
    private_ipv4: tuple[str, ...] = ()    # primary first
    public_ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    az: str | None = None
    description: str = ""
    interface_type: str = "interface"
    requester_id: str | None = None
    status: str | None = None
    instance_id: str | None = None
    # Built from a workload (task attachment, cluster groups) rather than describe-network-interfaces.
    inferred: bool = False
    # Why this interface's addresses or groups are not certain (e.g. a PRECREATED task attachment).
    uncertain: str | None = None
    # Inferred interfaces: whether AWS gives them a public address (LB scheme, assignPublicIp), if known.
    public_hint: bool | None = None

    @property
    def has_public(self) -> bool | None:
        """Whether the interface has a public IPv4 address; None when an inferred interface leaves it open."""
        if self.public_ipv4:
            return True
        if self.public_hint is not None:
            return self.public_hint
        return None if self.inferred else False

    @property
    def primary_ipv4(self) -> str | None:
        """The primary private IPv4 address, if known."""
        return self.private_ipv4[0] if self.private_ipv4 else None


@dataclass(frozen=True, slots=True)
class Workload:
    """Something people name in a query: an ECS service, a Redis cluster, an instance..."""

    key: str                  # unique: "kind:account:region:name"
    kind: str                 # ecs_service, ecs_task, elasticache_replication_group, elasticache_cluster,
                              # elasticache_serverless, ec2_instance, rds_instance, rds_cluster, load_balancer, lambda
    name: str
    account: str | None
    region: str | None
    interface_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()          # declared groups (service config, cluster groups)
    ports: tuple[int, ...] = ()              # endpoint ports, first is the default
    parent: str | None = None                # key of the workload this one belongs to
    label: str = ""                          # "ECS service hokusai-api-development, 2 tasks"
    notes: tuple[str, ...] = ()              # reasons its interfaces may be incomplete
    arn: str | None = None

    @property
    def default_port(self) -> int | None:
        """The endpoint port a query uses when none is given."""
        return self.ports[0] if self.ports else None


@dataclass(frozen=True, slots=True)
class Vpc:
    """A VPC and its address blocks."""

    id: str
    account: str | None
    region: str | None
    cidrs_v4: tuple[str, ...] = ()
    cidrs_v6: tuple[str, ...] = ()
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet: where an interface lives, and so which ACL and route table apply."""

    id: str
    vpc_id: str | None
    account: str | None
    region: str | None
    cidr_v4: str | None = None
    cidrs_v6: tuple[str, ...] = ()
    az: str | None = None


@dataclass(frozen=True, slots=True)
class PrefixList:
    """A managed or AWS-service prefix list and its CIDRs."""

    id: str
    name: str
    cidrs: tuple[str, ...]
    account: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class AclEntry:
    """One network ACL entry."""

    rule_number: int
    egress: bool
    action: str            # "allow" | "deny"
    protocol: str          # number string or "-1"
    cidr: str              # CidrBlock or Ipv6CidrBlock
    port_from: int | None = None
    port_to: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


@dataclass(frozen=True, slots=True)
class NetworkAcl:
    """A network ACL: its subnets and entries (sorted by rule number)."""

    id: str
    vpc_id: str | None
    account: str | None
    region: str | None
    is_default: bool
    subnet_ids: tuple[str, ...] = ()
    entries: tuple[AclEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """One route of a route table."""

    destination: str          # CIDR or pl- id
    target: str               # "local", igw-..., nat-..., pcx-..., tgw-..., vpce-..., eni-...
    state: str = "active"


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A route table: main or explicitly associated subnets, and its routes."""

    id: str
    vpc_id: str | None
    account: str | None
    region: str | None
    main: bool = False
    subnet_ids: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class Peering:
    """A VPC peering connection."""

    id: str
    status: str
    requester_vpc: str | None
    accepter_vpc: str | None
    requester_cidrs: tuple[str, ...] = ()
    accepter_cidrs: tuple[str, ...] = ()
    requester_account: str | None = None
    accepter_account: str | None = None
    requester_region: str | None = None
    accepter_region: str | None = None


@dataclass(frozen=True)
class Model:
    """The whole estate, keyed by AWS id (workloads by key). Built by `build_model`."""

    source: str
    vpcs: dict[str, Vpc] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    prefix_lists: dict[str, PrefixList] = field(default_factory=dict)
    workloads: dict[str, Workload] = field(default_factory=dict)
    acls: dict[str, NetworkAcl] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    peerings: dict[str, Peering] = field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    # Calls the collector could not make (CollectionError), and loader warnings.
    errors: tuple = ()
    warnings: tuple[str, ...] = ()
    # group id -> where raw responses other than security groups name it (resources not modelled yet)
    group_mentions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Group members and addresses, indexed by the parser; used only while it fits `interfaces` (InterfaceIndex.fits).
    interface_index: InterfaceIndex | None = field(default=None, repr=False, compare=False)
