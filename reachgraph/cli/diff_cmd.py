"""`reachgraph diff OLD NEW`: flows gained and lost with their causes, then what changed."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from reachgraph.api import load
from reachgraph.cli.app import app
from reachgraph.cli.audit_cmd import echo
from reachgraph.cli.common import SNAPSHOT_HELP, handle_errors, print_json, snapshot_path
from reachgraph.errors import InputError
from reachgraph.whatif import annotate_diff, apply_whatif

FLOW_TITLES = {"lost": "flows lost", "degraded": "flows degraded (now partial)", "gained": "flows gained",
               "improved": "flows restored for every interface", "changed": "flows whose answer changed"}


@app.command("diff")
@handle_errors
def diff_command(
    old: Annotated[str, typer.Argument(help="The earlier snapshot (folder or file).")],
    new: Annotated[Optional[str], typer.Argument(help="The later snapshot (default: --snapshot or "
                                                      "$REACHGRAPH_SNAPSHOT).")] = None,
    snapshot: Annotated[Optional[str], typer.Option("--snapshot", "-s", help="The later snapshot when NEW is "
                                                                               "not given; " + SNAPSHOT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as one JSON object.")] = False,
    plan: Annotated[Optional[str], typer.Option(
        "--plan", help="Diff OLD against itself with this Terraform plan (terraform show -json PLANFILE) applied: "
                       "the flows the plan would gain and lose.")] = None,
    assume: Annotated[Optional[list[str]], typer.Option(
        "--assume", help="Diff OLD against itself with these changes (repeatable), as in `query --assume`.")] = None,
) -> None:
    """What changed between two snapshots: flows between workloads gained and lost (with causes), then security
    groups, rules, memberships and workloads added and removed.

    Exit status: 0 no flow lost, 1 a flow was lost or degraded, 2 usage or input error.
    """
    old_snap = load(old)
    if plan is not None or assume:  # what-if: OLD against itself with the plan / --assume applied
        if new is not None:
            raise InputError("--plan and --assume diff one snapshot against itself", hint="give only OLD")
        whatif = apply_whatif(old_snap, plan=plan, assume=assume or ())
        for line in whatif.summary_lines() + [f"warning: {w}" for w in whatif.warnings]:
            sys.stderr.write(line + "\n")
        label = " + ".join([old, *([whatif.plan] if whatif.plan else []), *(["--assume"] if assume else [])])
        result = annotate_diff(old_snap.diff(whatif.snapshot), whatif, old_snap, label)
    else:
        whatif = None
        new_snap = load(new or snapshot_path(snapshot))
        result = old_snap.diff(new_snap)
    if as_json:
        print_json({**result.to_dict(), **({"whatif": whatif.to_dict()} if whatif else {})})
    else:
        echo(f"diff {result.old} -> {result.new}")
        for change, title in FLOW_TITLES.items():
            items = result.flows_of(change)
            if not items and change not in ("lost", "gained"):
                continue
            echo(f"{title} ({len(items)}):")
            for f in items:
                echo(f"  {f.describe()}  {f.old_verdict} -> {f.new_verdict}")
                if f.causes:
                    echo(f"    cause: {'; '.join(f.causes)}")
        for kind in ("workload", "group", "rule", "membership"):
            for ch in ("added", "removed"):
                items = result.changes_of(kind, ch)
                if items:
                    echo(f"{kind}s {ch} ({len(items)}):")
                    for c in items:
                        echo(f"  {c.detail}")
        if result.empty:
            echo("no changes")
    raise typer.Exit(1 if result.lost else 0)
