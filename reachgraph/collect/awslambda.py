"""Lambda: functions attached to a VPC (the others have no interface to reach or be reached on)."""

from __future__ import annotations

from collections.abc import Iterable

from botocore.client import BaseClient

from reachgraph.collect.calls import Item, paginate
from reachgraph.collect.context import UnitContext

SERVICE = "lambda"
PAGE = 50  # ListFunctions returns at most 50 per page whatever MaxItems says
OPERATIONS: tuple[str, ...] = ("ListFunctions",)


def get_functions(client: BaseClient) -> list[Item]:
    """Every function ($LATEST versions)."""
    return paginate(client, "list_functions", "Functions", PAGE)


def vpc_functions(functions: Iterable[Item]) -> list[Item]:
    """Only functions with VPC subnets; VpcId alone is not trusted (some endpoints always fill it)."""
    return [f for f in functions if (f.get("VpcConfig") or {}).get("SubnetIds")]


def collect(ctx: UnitContext) -> None:
    """Collect VPC-attached Lambda functions for one account/region."""
    client = ctx.client("lambda")
    functions = ctx.call("ListFunctions", lambda: get_functions(client))
    if functions is not None:
        ctx.put("Functions", vpc_functions(functions))
