"""Command-line interface: thin commands over the Python API."""

from __future__ import annotations

import sys

from reachgraph.cli.app import app
import importlib

# Each module registers its commands on `app` when imported; the order is the help's order.
_COMMAND_MODULES = ("query_cmd", "collect_cmd", "diagram_cmd", "audit_cmd", "diff_cmd", "check_cmd", "flows_cmd")

for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(f"reachgraph.cli.{_name}")
    except ModuleNotFoundError as exc:  # pragma: no cover - a command not written yet
        if exc.name != f"reachgraph.cli.{_name}":
            raise


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="reachgraph")
    except KeyboardInterrupt:  # pragma: no cover
        sys.stderr.write("reachgraph: interrupted\n")
        sys.exit(130)


__all__ = ["app", "main"]
