"""How large the engine's caches may grow: a cache that reaches the bound starts over, so memory stays flat on
organisation-sized estates (each cache holds what one destination's evaluation reuses many times over)."""

from __future__ import annotations

from typing import TypeVar

CACHE_LIMIT = 200_000

D = TypeVar("D", bound=dict)


def is_full(cache: dict) -> bool:
    """The cache holds as much as it may."""
    return len(cache) >= CACHE_LIMIT


def bounded(cache: D) -> D:
    """The cache itself, emptied first when it is full."""
    if is_full(cache):
        cache.clear()
    return cache


# Interface sides (an interface as one end of a pair) a query engine keeps: every interface a few times over
# (IP versions, ephemeral port ranges), at least CACHE_LIMIT.
SIDES_PER_INTERFACE = 4


def sides_limit(interfaces: int) -> int:
    """How many sides an engine over this many interfaces may keep."""
    return max(CACHE_LIMIT, SIDES_PER_INTERFACE * interfaces)
