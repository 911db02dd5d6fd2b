"""The collector: the only package that imports boto3. `collect(...)` snapshots AWS accounts read-only."""

from __future__ import annotations

import sys as _sys
import types as _types
from typing import Any

from reachgraph.collect.api import CollectResult, CollectStats, collect, parse_services
from reachgraph.collect.runner import DEFAULT_SERVICES, ProgressEvent

__all__ = ["DEFAULT_SERVICES", "CollectResult", "CollectStats", "ProgressEvent", "collect", "parse_services"]


class _CallableCollector(_types.ModuleType):
    """Lets `reachgraph.collect(...)` (this package, called) return a loaded Snapshot, while
    `reachgraph.collect.collect(...)` keeps returning the raw CollectResult."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Collect and load: see `reachgraph.api.collect`."""
        from reachgraph.api import collect as collect_snapshot  # noqa: PLC0415

        return collect_snapshot(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableCollector
