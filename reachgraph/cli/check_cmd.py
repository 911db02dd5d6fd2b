"""`reachgraph check INTENTS.yaml`: declared expectations against a snapshot, for CI and monitoring."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from reachgraph.api import load
from reachgraph.atomic import write_atomic
from reachgraph.cli.app import app
from reachgraph.cli.audit_cmd import echo, plain_table
from reachgraph.cli.common import (
    SNAPSHOT_HELP,
    handle_errors,
    print_json,
    snapshot_path,
)
from reachgraph.errors import InputError
from reachgraph.intents import check_intents, load_intents
from reachgraph.whatif import apply_whatif


@app.command("check")
@handle_errors
def check_command(
    intents: Annotated[str, typer.Argument(help="YAML list of intents: from, to, expect (and name, port, "
                                                "protocol).")],
    snapshot: Annotated[Optional[str], typer.Option("--snapshot", "-s", help=SNAPSHOT_HELP)] = None,
    junit: Annotated[Optional[str], typer.Option("--junit", help="Also write JUnit XML to this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
    plan: Annotated[Optional[str], typer.Option(
        "--plan", help="What-if: check as if this Terraform plan (terraform show -json PLANFILE) were applied.")] = None,
    assume: Annotated[Optional[list[str]], typer.Option(
        "--assume", help="What-if (repeatable), as in `reachgraph query --assume`.")] = None,
) -> None:
    """Check intents against a snapshot: each is a query and the verdict it must give.

    Exit status: 0 every intent holds, 1 an intent is violated or cannot be evaluated (a name that resolves to
    nothing is an error, never a pass), 2 usage or input error (bad YAML, missing file).
    """
    items = load_intents(intents)
    if junit is not None:
        parent = Path(junit).parent
        if not (parent if str(parent) else Path(".")).is_dir():
            raise InputError("folder for the JUnit file does not exist", str(parent), "create it or pick another path")
    snap = load(snapshot_path(snapshot))
    whatif = apply_whatif(snap, plan=plan, assume=assume or ())  # --plan / --assume; a no-op without them
    snap = whatif.snapshot
    for line in whatif.summary_lines() + [f"warning: {w}" for w in whatif.warnings]:
        sys.stderr.write(line + "\n")
    report = check_intents(snap, items, intents_file=intents)
    if junit is not None:
        write_atomic(junit, report.to_junit().encode("utf-8"))
    if as_json:
        print_json({**report.to_dict(), **({"whatif": whatif.to_dict()} if whatif.active else {})})
    else:
        rows = [(r.status.upper(), r.intent.title, r.intent.expect, r.verdict or "-", r.traffic or "-")
                for r in report.results]
        for line in plain_table(rows, ("STATUS", "INTENT", "EXPECT", "GOT", "TRAFFIC")):
            echo(line)
        problems = [r for r in report.results if r.status != "pass"]
        if problems:
            echo()
        for r in problems:
            echo(f"{r.status.upper()} {r.intent.where}: {r.intent.title}")
            echo(f"  {r.message}")
            for fix in r.fixes:
                echo(f"  fix: {fix}")
        c = report.counts
        echo(f"{c['pass']} passed, {c['fail']} failed, {c['error']} errors")
    raise typer.Exit(0 if report.passed else 1)
