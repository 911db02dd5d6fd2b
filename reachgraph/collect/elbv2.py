"""ELBv2: application/network/gateway load balancers and their listeners."""

from __future__ import annotations

from botocore.client import BaseClient

from reachgraph.collect.calls import Item, distinct, paginate
from reachgraph.collect.context import UnitContext

SERVICE = "elbv2"
PAGE = 400  # largest PageSize
OPERATIONS: tuple[str, ...] = ("DescribeLoadBalancers", "DescribeListeners")


def get_load_balancers(client: BaseClient) -> list[Item]:
    """Every v2 load balancer."""
    return paginate(client, "describe_load_balancers", "LoadBalancers", PAGE)


def get_listeners(client: BaseClient, load_balancer_arn: str) -> list[Item]:
    """The listeners of one load balancer (AWS takes one ARN per call)."""
    return paginate(client, "describe_listeners", "Listeners", PAGE, LoadBalancerArn=load_balancer_arn)


def collect(ctx: UnitContext) -> None:
    """Collect load balancers and, per load balancer, its listeners."""
    client = ctx.client("elbv2")
    balancers = ctx.call("DescribeLoadBalancers", lambda: get_load_balancers(client))
    if balancers is None:
        return
    ctx.put("LoadBalancers", balancers)
    listeners: list[Item] = []
    for arn in distinct(lb.get("LoadBalancerArn", "") for lb in balancers):
        listeners.extend(ctx.call("DescribeListeners", lambda arn=arn: get_listeners(client, arn),  # type: ignore[misc]
                                  detail=arn) or [])
    ctx.put("Listeners", listeners)
