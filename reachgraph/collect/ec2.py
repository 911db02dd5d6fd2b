"""EC2: VPCs, subnets, groups, rules, interfaces, ACLs, routes, peerings, prefix lists, instances."""

from __future__ import annotations

from collections.abc import Iterable

from botocore.client import BaseClient

from reachgraph.collect.calls import Item, distinct, paginate
from reachgraph.collect.context import UnitContext

SERVICE = "ec2"

# snapshot key -> (boto3 method, API operation, largest page AWS accepts). One paginated listing
# each per region: this is the whole EC2 budget apart from prefix-list entries.
LISTINGS: dict[str, tuple[str, str, int]] = {
    "Vpcs": ("describe_vpcs", "DescribeVpcs", 1000),
    "Subnets": ("describe_subnets", "DescribeSubnets", 1000),
    "SecurityGroups": ("describe_security_groups", "DescribeSecurityGroups", 1000),
    "SecurityGroupRules": ("describe_security_group_rules", "DescribeSecurityGroupRules", 1000),
    "NetworkInterfaces": ("describe_network_interfaces", "DescribeNetworkInterfaces", 1000),
    "NetworkAcls": ("describe_network_acls", "DescribeNetworkAcls", 1000),
    "RouteTables": ("describe_route_tables", "DescribeRouteTables", 100),
    "VpcPeeringConnections": ("describe_vpc_peering_connections", "DescribeVpcPeeringConnections", 1000),
    "InternetGateways": ("describe_internet_gateways", "DescribeInternetGateways", 1000),
    "NatGateways": ("describe_nat_gateways", "DescribeNatGateways", 1000),
    "Reservations": ("describe_instances", "DescribeInstances", 1000),
}
PREFIX_LISTS_OPERATION = "DescribeManagedPrefixLists"
ENTRIES_OPERATION = "GetManagedPrefixListEntries"
OPERATIONS: tuple[str, ...] = (*(op for _, op, _ in LISTINGS.values()), PREFIX_LISTS_OPERATION,
                                ENTRIES_OPERATION)


def get_listing(client: BaseClient, key: str) -> list[Item]:
    """Every item of one EC2 listing (all pages), verbatim."""
    method, _, page_size = LISTINGS[key]
    return paginate(client, method, key, page_size)


def get_managed_prefix_lists(client: BaseClient) -> list[Item]:
    """Managed prefix lists visible to the account (own, shared and AWS-managed), without entries."""
    return paginate(client, "describe_managed_prefix_lists", "PrefixLists", 100)


def get_prefix_list_entries(client: BaseClient, prefix_list_id: str) -> list[Item]:
    """The entries (`Cidr`, `Description`) of one managed prefix list."""
    return paginate(client, "get_managed_prefix_list_entries", "Entries", 100, PrefixListId=prefix_list_id)


def referenced_prefix_lists(groups: Iterable[Item] | None, rules: Iterable[Item] | None,
                            route_tables: Iterable[Item] | None) -> set[str]:
    """Prefix-list ids that a group rule or a route names: the only lists whose entries matter."""
    ids: set[str] = set()
    for group in groups or ():
        for perm in (*group.get("IpPermissions", []), *group.get("IpPermissionsEgress", [])):
            ids.update(p.get("PrefixListId", "") for p in perm.get("PrefixListIds", []))
    for rule in rules or ():
        ids.add(rule.get("PrefixListId", ""))
    for table in route_tables or ():
        ids.update(r.get("DestinationPrefixListId", "") for r in table.get("Routes", []))
    ids.discard("")
    return ids


def transform_prefix_lists(lists: Iterable[Item], entries: dict[str, list[Item]]) -> list[Item]:
    """Merge lists with their entries into the `{PrefixListId, PrefixListName, Cidrs}` snapshot shape."""
    merged = []
    for pl in lists:
        pl_id = pl.get("PrefixListId")
        if pl_id not in entries:
            continue
        merged.append({"PrefixListId": pl_id, "PrefixListName": pl.get("PrefixListName", ""),
                       "Cidrs": [e["Cidr"] for e in entries[pl_id] if e.get("Cidr")]})
    return sorted(merged, key=lambda p: p["PrefixListId"])


def collect(ctx: UnitContext) -> None:
    """Collect every EC2 key for one account/region into `ctx`."""
    client = ctx.client("ec2")
    got: dict[str, list[Item] | None] = {}
    for key, (_, operation, _) in LISTINGS.items():
        got[key] = ctx.call(operation, lambda key=key: get_listing(client, key))  # type: ignore[misc]
        if got[key] is not None:
            ctx.put(key, got[key])  # type: ignore[arg-type]
    lists = ctx.call(PREFIX_LISTS_OPERATION, lambda: get_managed_prefix_lists(client))
    if lists is None:
        return
    if got["SecurityGroups"] is None and got["SecurityGroupRules"] is None:
        wanted = {pl["PrefixListId"] for pl in lists}  # no rules to read: fetch them all
    else:
        wanted = referenced_prefix_lists(got["SecurityGroups"], got["SecurityGroupRules"], got["RouteTables"])
    entries: dict[str, list[Item]] = {}
    for pl_id in distinct(pl["PrefixListId"] for pl in lists if pl.get("PrefixListId") in wanted):
        found = ctx.call(ENTRIES_OPERATION, lambda pl_id=pl_id: get_prefix_list_entries(client, pl_id),  # type: ignore[misc]
                         detail=pl_id)
        if found is not None:
            entries[pl_id] = found
    ctx.put("PrefixLists", transform_prefix_lists(lists, entries))

