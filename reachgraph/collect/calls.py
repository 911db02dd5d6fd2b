"""Small helpers every service module shares: paging, batching, JSON-safe items."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from botocore.client import BaseClient

T = TypeVar("T")
Item = dict[str, Any]


def paginate(client: BaseClient, method: str, result_key: str, page_size: int | None = None,
             **params: Any) -> list[Any]:
    """All items under `result_key` across every page of a paginated call, in AWS order."""
    config = {"PageSize": page_size} if page_size else {}
    items: list[Any] = []
    for page in client.get_paginator(method).paginate(PaginationConfig=config, **params):
        items.extend(page.get(result_key, []))
    return items


def batched(values: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive chunks of at most `size` values (the batch limits of describe_* calls)."""
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def jsonable(value: Any) -> Any:
    """A copy of a boto3 response fragment that json.dumps accepts: datetimes become ISO strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def distinct(values: Iterable[T]) -> list[T]:
    """Unique values, sorted, so call order (and the snapshot) never depends on dict order."""
    return sorted({v for v in values if v})  # type: ignore[type-var]
