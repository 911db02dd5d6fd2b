"""reachgraph: network reachability graph analyzer for AWS.

    >>> import reachgraph
    >>> snap = reachgraph.load("examples/incident-2025-11-07/before")
    >>> snap.query("api", "redis:6379").verdict
    'blocked'

`reachgraph.load(path)` reads a snapshot folder or file; `reachgraph.collect(regions=[...], ...)` collects one
from AWS (read-only) and returns the same `Snapshot` (see `reachgraph.api.collect`).
"""

import typing as _typing

from reachgraph.api import Snapshot, load
from reachgraph.errors import InputError, ReachgraphError
from reachgraph.result import QueryResult

__version__ = "0.1.0"

__all__ = ["Snapshot", "load", "collect", "QueryResult", "InputError", "ReachgraphError", "__version__"]


def __getattr__(name: str) -> _typing.Any:
    # `reachgraph.collect` is the collector package, and calling it collects and loads a Snapshot. It is
    # imported on first use so that boto3 stays off `import reachgraph` and the other commands' start-up.
    if name == "collect":
        import importlib  # noqa: PLC0415

        return importlib.import_module("reachgraph.collect")
    raise AttributeError(f"module 'reachgraph' has no attribute {name!r}")
