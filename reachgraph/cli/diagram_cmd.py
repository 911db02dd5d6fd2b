"""`reachgraph diagram`: every security-group dependency, drawn as DOT, SVG, PNG, PDF or Mermaid."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from reachgraph.api import load
from reachgraph.atomic import write_atomic
from reachgraph.cli.app import app
from reachgraph.cli.common import (
    SNAPSHOT_HELP,
    handle_errors,
    print_json,
    snapshot_path,
    stderr_console,
    warn,
)
from reachgraph.errors import InputError
from reachgraph.render.diagram_model import (
    DEFAULT_THRESHOLD,
    build_diagram,
    parse_highlight,
)

FORMATS = ("svg", "png", "pdf", "dot", "mermaid")
EXTENSIONS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
              ".mermaid": "mermaid", ".md": "mermaid"}
BINARY = ("png", "pdf")


@app.command("diagram")
@handle_errors
def diagram_command(
    snapshot: Annotated[Optional[str], typer.Option("--snapshot", "-s", help=SNAPSHOT_HELP)] = None,
    output: Annotated[Optional[str], typer.Option(
        "-o", "--output", help="File to write; its extension picks the format (.svg .png .pdf .dot .gv .mmd .md). "
        "Without it, DOT (or --format's text) goes to stdout.")] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="svg, png, pdf, dot or mermaid (default: from -o's extension, else dot).")] = None,
    vpc: Annotated[Optional[list[str]], typer.Option(
        "--vpc", help="Only groups in this VPC, plus what their rules name (repeatable).")] = None,
    focus: Annotated[Optional[str], typer.Option(
        "--focus", help="Draw the neighbourhood of a workload, sg- id, interface or address.")] = None,
    depth: Annotated[int, typer.Option("--depth", min=0, help="Rule hops around --focus.")] = 1,
    highlight: Annotated[Optional[str], typer.Option(
        "--highlight", help='Colour a query\'s path: "SOURCE -> DESTINATION[:PORT]", e.g. "api -> redis:6379".')
    ] = None,
    rankdir: Annotated[str, typer.Option("--rankdir", help="LR (left to right) or TB (top to bottom).")] = "LR",
    collapse_above: Annotated[int, typer.Option(
        "--collapse-above", min=1, help="Above this many nodes, collapse workloads into their groups.")
    ] = DEFAULT_THRESHOLD,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print a machine summary {nodes, edges, clusters, title, output} on stdout.")] = False,
) -> None:
    """Draw every security-group dependency: groups, workloads, rules with ports, stale references.

    Exit status: 0 written, 2 usage or input error (and for svg/png/pdf when Graphviz is missing).
    """
    chosen = _format(fmt, output)
    target = Path(output) if output else None
    if target is not None and not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise InputError("output folder does not exist", str(target.parent), "create it or choose another -o path")
    if target is None and chosen in BINARY and _stdout_is_tty() and not as_json:
        raise InputError(f"{chosen} is binary and stdout is a terminal", hint=f"write it to a file: -o diagram.{chosen}")
    if chosen in ("svg", "png", "pdf"):
        from reachgraph.render.graphviz import GraphvizMissing, dot_available  # noqa: PLC0415

        if not dot_available():  # fail before loading anything
            raise GraphvizMissing(chosen)

    snap = load(snapshot_path(snapshot))
    err = stderr_console()
    for w in snap.warnings:
        warn(err, w)
    result = snap.query(*parse_highlight(highlight)) if highlight else None
    diagram = build_diagram(snap.reach, vpcs=vpc or (), focus=focus, depth=depth, highlight=result,
                            rankdir=rankdir, threshold=collapse_above, resolver=snap._engine.resolver)
    data = _render(diagram, chosen, markdown=target is not None and target.suffix.lower() == ".md")

    if target is not None:
        try:
            write_atomic(target, data)
        except OSError as exc:
            raise InputError(f"cannot write the diagram: {exc.strerror or exc}", str(target)) from None
    elif not as_json:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    if as_json:
        summary = diagram.summary()
        summary.update(output=str(target) if target is not None else None, format=chosen)
        print_json(summary)
    elif target is not None:
        err.print(f"wrote {target} ({chosen}): {len(diagram.nodes)} nodes, {len(diagram.edges)} edges"
                  + (" (workloads collapsed)" if diagram.collapsed else ""), markup=False, highlight=False)


def _stdout_is_tty() -> bool:
    return sys.stdout.isatty()


def _format(fmt: str | None, output: str | None) -> str:
    if fmt is not None:
        value = fmt.lower()
        if value == "mmd":
            value = "mermaid"
        if value not in FORMATS:
            raise InputError(f"unknown --format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
        return value
    if output is None:
        return "dot"
    suffix = Path(output).suffix.lower()
    if suffix not in EXTENSIONS:
        raise InputError(f"cannot tell the format from {output!r}",
                         hint=f"use an extension ({', '.join(sorted(EXTENSIONS))}) or --format")
    return EXTENSIONS[suffix]


def _render(diagram, fmt: str, *, markdown: bool) -> bytes:  # noqa: ANN001 - Diagram, imported lazily
    if fmt == "mermaid":
        from reachgraph.render.mermaid import to_markdown, to_mermaid  # noqa: PLC0415

        return (to_markdown(diagram) if markdown else to_mermaid(diagram)).encode("utf-8")
    from reachgraph.render.graphviz import render, to_dot  # noqa: PLC0415

    if fmt == "dot":
        return to_dot(diagram).encode("utf-8")
    return render(diagram, fmt)
