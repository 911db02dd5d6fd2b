"""The collector: the only package that imports boto3. `collect(...)` snapshots AWS accounts read-only."""

from __future__ import annotations

from reachgraph.collect.api import CollectResult, CollectStats, collect, parse_services
from reachgraph.collect.runner import DEFAULT_SERVICES, ProgressEvent

__all__ = ["DEFAULT_SERVICES", "CollectResult", "CollectStats", "ProgressEvent", "collect", "parse_services"]
