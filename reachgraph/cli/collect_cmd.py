"""reachgraph collect: snapshot AWS accounts into one file, read-only, with progress and a summary."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reachgraph.cli.app import app
from reachgraph.cli.common import handle_errors, print_json, stderr_console, stdout_console
from reachgraph.errors import InputError

if TYPE_CHECKING:  # boto3 loads only when collect runs, so other commands start fast
    from reachgraph.collect import CollectResult, ProgressEvent

EXIT_WITH_ERRORS = 3
# Kept literal (not imported) for the same reason; a test checks it equals collect.DEFAULT_SERVICES.
DEFAULT_SERVICES_OPTION = "ec2,ecs,elasticache,rds,elbv2,lambda"


class LineProgress:
    """One log line per finished unit on stderr: for CI logs and pipes."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == "plan":
            self.console.print(f"collect: {event.total} units (account x region x service)")
            return
        assert event.unit is not None
        counts = ", ".join(f"{k} {n}" for k, n in sorted(event.resources.items())) or "nothing"
        failed = f", {len(event.errors)} failed calls" if event.errors else ""
        self.console.print(f"collect: [{event.done}/{event.total}] {event.unit.account} {event.unit.region} "
                           f"{event.unit.service}: {counts}{failed}", markup=False)

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class BarProgress:
    """A rich progress bar on stderr: one row per account/region, counts per finished service."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console)
        self.rows: dict[tuple[str, str], Any] = {}
        self.status: dict[tuple[str, str], list[str]] = {}
        self.overall: Any = None

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == "plan":
            self.overall = self.progress.add_task("all", total=event.total, status="0 API calls")
            per_row: dict[tuple[str, str], int] = {}
            for unit in event.units:
                per_row[(unit.account, unit.region)] = per_row.get((unit.account, unit.region), 0) + 1
            for key, total in per_row.items():
                self.rows[key] = self.progress.add_task(f"{key[0]} {key[1]}", total=total, status="")
                self.status[key] = []
            return
        assert event.unit is not None
        key = (event.unit.account, event.unit.region)
        mark = "!" if event.errors else ""
        self.status[key].append(f"{event.unit.service} {sum(event.resources.values())}{mark}")
        self.progress.update(self.rows[key], advance=1, status=" ".join(self.status[key]))
        self.progress.update(self.overall, advance=1, status=f"{event.api_calls} API calls")

    def __enter__(self) -> BarProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@app.command("collect")
@handle_errors
def collect_command(
    output: str = typer.Option(..., "-o", "--output", metavar="FILE",
                               help="Snapshot file to write (.json, or .json.gz to compress)."),
    profile: Optional[list[str]] = typer.Option(None, "--profile", metavar="PROFILE",
                                                help="AWS profile (repeat for several accounts)."),
    region: Optional[list[str]] = typer.Option(None, "--region", metavar="REGION", help="Region (repeatable)."),
    all_regions: bool = typer.Option(False, "--all-regions", help="Every region enabled for the account."),
    role_arn: Optional[list[str]] = typer.Option(
        None, "--role-arn", metavar="ARN", help="Role to assume in each target account (repeatable)."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", metavar="URL",
                                               help="AWS-compatible endpoint for every client (e.g. moto_server)."),
    services: str = typer.Option(DEFAULT_SERVICES_OPTION, "--services", metavar="LIST",
                                 help="Comma-separated services to collect."),
    max_workers: int = typer.Option(8, "--max-workers", min=1, metavar="N", help="Parallel API workers."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress and no summary line."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Snapshot AWS accounts, read-only, into one file for query, audit and diff.

    Exit status: 0 complete, 3 written with errors (listed in the file's manifest), 2 usage error.
    """
    from reachgraph.collect import collect  # noqa: PLC0415 - keep boto3 off other commands' start-up

    target = Path(output)
    if not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise InputError("output folder does not exist", str(target.parent), "create it or choose another -o path")
    err = stderr_console()
    reporter: LineProgress | BarProgress | None = None
    if not quiet:
        reporter = BarProgress(err) if sys.stderr.isatty() else LineProgress(err)
    with reporter or contextlib.nullcontext():
        result = collect(profiles=profile or (), regions=region or (), all_regions=all_regions,
                         role_arns=role_arn or (), endpoint_url=endpoint_url, services=services,
                         max_workers=max_workers, progress=reporter)
    written = result.write(target)
    if not quiet:
        for e in result.errors:
            err.print(f"reachgraph: warning: {e.describe()}", markup=False, highlight=False)
    if as_json:
        print_json(summary_dict(result, str(written)))
    elif not quiet:
        stdout_console().print(summary_line(result, str(written)), markup=False, highlight=False)
    if result.errors:
        raise typer.Exit(EXIT_WITH_ERRORS)


def summary_dict(result: CollectResult, output: str) -> dict[str, Any]:
    """The --json summary: what was collected, how many calls, what failed."""
    s = result.stats
    return {"output": output, "complete": result.complete, "accounts": list(s.accounts), "regions": list(s.regions),
            "services": list(s.services), "resources": s.resources, "api_calls": s.api_calls,
            "errors": result.document["manifest"]["errors"], "elapsed_seconds": round(s.elapsed_seconds, 2)}


def summary_line(result: CollectResult, output: str) -> str:
    """One line: where, how much of what, API calls, errors, time."""
    s = result.stats
    counts = ", ".join(f"{k} {n}" for k, n in s.resources.items() if n) or "no resources"
    n_err = len(result.errors)
    return (f"wrote {output}: {_plural(len(s.accounts), 'account')}, {_plural(len(s.regions), 'region')}; "
            f"{counts}; {_plural(s.api_calls, 'API call')}; {_plural(n_err, 'error')}; {s.elapsed_seconds:.1f}s")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
