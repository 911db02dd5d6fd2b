"""RDS: DB instances and clusters (endpoints, groups, subnet groups)."""

from __future__ import annotations

from botocore.client import BaseClient

from reachgraph.collect.calls import Item, paginate
from reachgraph.collect.context import UnitContext

SERVICE = "rds"
PAGE = 100  # largest MaxRecords
OPERATIONS: tuple[str, ...] = ("DescribeDBInstances", "DescribeDBClusters")


def get_db_instances(client: BaseClient) -> list[Item]:
    """Every DB instance."""
    return paginate(client, "describe_db_instances", "DBInstances", PAGE)


def get_db_clusters(client: BaseClient) -> list[Item]:
    """Every DB cluster (Aurora, Multi-AZ clusters)."""
    return paginate(client, "describe_db_clusters", "DBClusters", PAGE)


def collect(ctx: UnitContext) -> None:
    """Collect DB instances and clusters for one account/region."""
    client = ctx.client("rds")
    for key, operation, getter in (("DBInstances", "DescribeDBInstances", get_db_instances),
                                   ("DBClusters", "DescribeDBClusters", get_db_clusters)):
        items = ctx.call(operation, lambda getter=getter: getter(client))  # type: ignore[misc]
        if items is not None:
            ctx.put(key, items)
