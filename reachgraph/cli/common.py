"""What every command shares: snapshot option, error handling, output consoles."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from reachgraph.errors import ReachgraphError

F = TypeVar("F", bound=Callable[..., Any])

SNAPSHOT_HELP = "Snapshot folder or file (default: $REACHGRAPH_SNAPSHOT)."
EXIT_OK, EXIT_FINDING, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


def stdout_console() -> Console:
    """Console for results: colour only on a terminal, never wrapped when piped."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        # Piped or captured: never wrap tables at 80 columns; the reader is a file or a program.
        console = Console(highlight=False, soft_wrap=True, width=1000)
    return console


def stderr_console() -> Console:
    """Console for progress, warnings and errors."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print a one-line error to stderr and exit."""
    sys.stderr.write(f"reachgraph: error: {' '.join(message.split())}\n")
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn reachgraph's own errors into a one-line message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReachgraphError as exc:
            fail(str(exc))
        except BrokenPipeError:
            # `reachgraph ... | head` closing the pipe is not an error.
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush
            finally:
                raise typer.Exit(0)
        except KeyboardInterrupt:
            sys.stderr.write("reachgraph: interrupted\n")
            raise typer.Exit(130)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug of ours: say so in one line; the traceback on request
            if os.environ.get("REACHGRAPH_DEBUG"):
                raise
            sys.stderr.write(f"reachgraph: internal error: {type(exc).__name__}: {exc}; this is a bug, please "
                             "report it (set REACHGRAPH_DEBUG=1 to see the traceback)\n")
            raise typer.Exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def snapshot_path(value: str | None) -> str:
    """The snapshot path from --snapshot or $REACHGRAPH_SNAPSHOT, or a usage error."""
    path = value or os.environ.get("REACHGRAPH_SNAPSHOT")
    if not path:
        fail("no snapshot given; pass --snapshot PATH or set REACHGRAPH_SNAPSHOT")
    return path  # type: ignore[return-value]


def print_json(obj: Any) -> None:
    """Print one JSON document, deterministic (sorted keys, 2-space indent)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def warn(console: Console, message: str) -> None:
    """Print a warning line to stderr."""
    console.print(f"[yellow]warning:[/yellow] {message}", markup=True, highlight=False)


def parse_port_range(text: str, option: str) -> tuple[int, int]:
    """'32768-60999' -> (32768, 60999), or a one-line usage error."""
    lo, sep, hi = text.partition("-")
    try:
        pair = (int(lo), int(hi if sep else lo))
    except ValueError:
        fail(f"{option} {text!r} is not a port range; write LO-HI, e.g. 1024-65535")
    if not (0 <= pair[0] <= pair[1] <= 65535):
        fail(f"{option} {text!r} must satisfy 0 <= LO <= HI <= 65535")
    return pair
