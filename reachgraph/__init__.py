"""reachgraph: network reachability graph analyzer for AWS.

    >>> import reachgraph
    >>> snap = reachgraph.load("examples/incident-2025-11-07/before")
    >>> snap.query("api", "redis:6379").verdict
    'blocked'
"""

from reachgraph.api import Snapshot, load
from reachgraph.errors import InputError, ReachgraphError
from reachgraph.result import QueryResult

__version__ = "0.1.0"

__all__ = ["Snapshot", "load", "QueryResult", "InputError", "ReachgraphError", "__version__"]
