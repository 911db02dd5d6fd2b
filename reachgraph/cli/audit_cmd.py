"""`reachgraph audit`: findings with severity, ids, a one-line explanation and a fix."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from typing import Annotated, Any, Iterable, Optional, Sequence

import typer

from reachgraph.api import load
from reachgraph.audit import CSV_COLUMNS, SEVERITIES, parse_severity
from reachgraph.cli.app import app
from reachgraph.cli.common import SNAPSHOT_HELP, fail, handle_errors, print_json, snapshot_path, stderr_console, warn


def plain_table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> list[str]:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    out = []
    for r in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(r, widths)] + [str(r[-1])]
        out.append("  ".join(cells).rstrip())
    return out


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    """CSV on stdout with a header row."""
    w = csv.DictWriter(sys.stdout, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(r)


def echo(line: str = "") -> None:
    """One line on stdout, verbatim (no markup)."""
    sys.stdout.write(line + "\n")


@app.command("audit")
@handle_errors
def audit_command(
    snapshot: Annotated[Optional[str], typer.Option("--snapshot", "-s", help=SNAPSHOT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as one JSON object.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the findings as CSV.")] = False,
    fail_on: Annotated[Optional[str], typer.Option(
        "--fail-on", help=f"Exit 1 when a finding at or above this severity exists ({', '.join(SEVERITIES)}).")] = None,
    min_severity: Annotated[Optional[str], typer.Option(
        "--min-severity", help="Show only findings at or above this severity.")] = None,
) -> None:
    """Audit a snapshot: rules naming empty or missing groups, unused groups, internet exposure, ingress nobody
    can use, ACL reply gaps, shadowed rules, groups near quota.

    Exit status: 0 no finding at or above --fail-on (always 0 without --fail-on), 1 a finding at or above it,
    2 usage or input error.
    """
    if as_json and as_csv:
        fail("--json and --csv cannot be used together; pick one")
    threshold = parse_severity(fail_on) if fail_on is not None else None
    floor = parse_severity(min_severity) if min_severity is not None else "info"
    snap = load(snapshot_path(snapshot))
    findings = [f for f in snap.audit() if f.at_least(floor)]
    counts = Counter(f.severity for f in findings)
    if as_json:
        print_json({"snapshot": snap.source, "findings": [f.to_dict() for f in findings],
                    "counts": {s: counts.get(s, 0) for s in SEVERITIES}, "fail_on": threshold})
    elif as_csv:
        write_csv((f.row() for f in findings), CSV_COLUMNS)
    else:
        err = stderr_console()
        for w in snap.warnings:
            warn(err, w)
        for f in findings:
            echo(f"{f.severity.upper():<9}{f.code}  {' '.join(f.resources)}")
            echo(f"  {f.message}")
            for fix in f.fixes:
                echo(f"  fix: {fix}")
            echo()
        summary = ", ".join(f"{counts[s]} {s}" for s in reversed(SEVERITIES) if counts.get(s))
        echo(f"{len(findings)} finding{'s' * (len(findings) != 1)}{': ' + summary if summary else ''}")
    if threshold is not None and any(f.at_least(threshold) for f in findings):
        raise typer.Exit(1)
    raise typer.Exit(0)
