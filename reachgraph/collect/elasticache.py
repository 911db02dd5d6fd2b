"""ElastiCache: node-based clusters (with node info), replication groups, serverless caches."""

from __future__ import annotations

from botocore.client import BaseClient

from reachgraph.collect.calls import Item, paginate
from reachgraph.collect.context import UnitContext

SERVICE = "elasticache"
PAGE = 100  # largest MaxRecords of the Describe* calls
OPERATIONS: tuple[str, ...] = ("DescribeCacheClusters", "DescribeReplicationGroups", "DescribeServerlessCaches")


def get_cache_clusters(client: BaseClient) -> list[Item]:
    """Every cache cluster with its nodes and endpoints (ShowCacheNodeInfo)."""
    return paginate(client, "describe_cache_clusters", "CacheClusters", PAGE, ShowCacheNodeInfo=True)


def get_replication_groups(client: BaseClient) -> list[Item]:
    """Every replication group."""
    return paginate(client, "describe_replication_groups", "ReplicationGroups", PAGE)


def get_serverless_caches(client: BaseClient) -> list[Item]:
    """Every serverless cache (AWS documents no maximum page size: use its default)."""
    return paginate(client, "describe_serverless_caches", "ServerlessCaches")


_GETTERS = (("CacheClusters", "DescribeCacheClusters", get_cache_clusters),
            ("ReplicationGroups", "DescribeReplicationGroups", get_replication_groups),
            ("ServerlessCaches", "DescribeServerlessCaches", get_serverless_caches))


def collect(ctx: UnitContext) -> None:
    """Collect the three ElastiCache listings for one account/region; a failed one leaves its key out."""
    client = ctx.client("elasticache")
    for key, operation, getter in _GETTERS:
        items = ctx.call(operation, lambda getter=getter: getter(client))  # type: ignore[misc]
        if items is not None:
            ctx.put(key, items)
