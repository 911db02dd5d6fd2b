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
