"""`reachgraph flows` (the workload flow matrix) and `reachgraph paths SRC DST` (multi-hop paths)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from reachgraph.api import load
from reachgraph.cli.app import app
from reachgraph.cli.audit_cmd import echo, plain_table, write_csv
from reachgraph.cli.common import SNAPSHOT_HELP, handle_errors, print_json, snapshot_path, stderr_console

FLOW_COLUMNS = ("source", "source_kind", "destination", "destination_kind", "traffic", "verdict", "pairs", "via")


@app.command("flows")
@handle_errors
def flows_command(
    snapshot: Annotated[Optional[str], typer.Option("--snapshot", "-s", help=SNAPSHOT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the flows as one JSON object.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the flows as CSV.")] = False,
    include_blocked: Annotated[bool, typer.Option("--all", help="Also list candidate flows that are blocked.")] = False,
    internet: Annotated[bool, typer.Option("--internet", help="Also list flows from the internet.")] = False,
    stats: Annotated[bool, typer.Option("--stats", help="Print how much was evaluated, and the time, on "
                                                        "stderr.")] = False,
) -> None:
    """Every workload-to-workload flow with its ports: endpoint ports and the ports rules name, each answered by
    the query engine.

    Exit status: 0 (the matrix was computed, whatever it holds), 2 usage or input error.
    """
    if as_json and as_csv:
        from reachgraph.cli.common import fail  # noqa: PLC0415

        fail("--json and --csv cannot be used together; pick one")
    snap = load(snapshot_path(snapshot))
    flows = snap.flows(include_blocked=include_blocked, include_internet=internet)
    st = snap.flow_analysis.stats
    if as_json:
        counts = {k: v for k, v in st.to_dict().items() if k != "seconds"}
        print_json({"snapshot": snap.source, "flows": [f.to_dict() for f in flows], "stats": counts})
    elif as_csv:
        write_csv((f.row() for f in flows), FLOW_COLUMNS)
    else:
        rows = [tuple(f.row()[c] for c in ("source", "destination", "traffic", "verdict", "pairs", "via"))
                for f in flows]
        for line in plain_table(rows, ("SOURCE", "DESTINATION", "TRAFFIC", "VERDICT", "PAIRS", "VIA")):
            echo(line)
        echo(f"{len(flows)} flow{'s' * (len(flows) != 1)} between {st.workloads} workloads")
    if stats:
        stderr_console().print(
            f"flows: {st.workloads} workloads, {st.ordered_pairs} ordered pairs, {st.candidate_pairs} with candidate "
            f"traffic, {st.evaluations} evaluations, {st.interface_pairs_evaluated} interface pairs evaluated for "
            f"{st.interface_pairs_represented}, {st.seconds:.3f}s", markup=False)
    raise typer.Exit(0)


@app.command("paths")
@handle_errors
def paths_command(
    source: Annotated[str, typer.Argument(help="Workload name, id or address, or 'internet'.")],
    destination: Annotated[str, typer.Argument(help="Workload name, id or address.")],
    snapshot: Annotated[Optional[str], typer.Option("--snapshot", "-s", help=SNAPSHOT_HELP)] = None,
    max_hops: Annotated[int, typer.Option("--max-hops", help="Longest path, in hops.")] = 4,
    limit: Annotated[int, typer.Option("--limit", help="Most paths to list.")] = 100,
    include_unknown: Annotated[bool, typer.Option("--include-unknown", help="Also follow flows whose verdict is "
                                                                            "unknown.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the paths as one JSON object.")] = False,
) -> None:
    """Paths through workloads from SOURCE to DESTINATION (lateral movement), shortest first; paths of more
    than one hop are labelled multi-hop.

    Exit status: 0 at least one path, 1 no path, 2 usage or input error.
    """
    snap = load(snapshot_path(snapshot))
    result = snap.paths(source, destination, max_hops=max_hops, include_unknown=include_unknown) if limit == 100 \
        else _paths(snap, source, destination, max_hops, limit, include_unknown)
    if as_json:
        print_json(result.to_dict())
    else:
        for p in result.paths:
            flag = "" if p.certain else "  (some hops partial or unknown)"
            echo(f"{p.label.upper()}  {p.text()}{flag}")
        if not result.paths:
            echo(f"no path from {', '.join(result.sources)} to {', '.join(result.destinations)} within "
                 f"{result.max_hops} hops")
        else:
            multi = sum(1 for p in result.paths if p.multi_hop)
            echo(f"{len(result.paths)} path{'s' * (len(result.paths) != 1)} ({multi} multi-hop)"
                 + ("; more exist, raise --limit" if result.truncated else ""))
    raise typer.Exit(0 if result.paths else 1)


def _paths(snap, source: str, destination: str, max_hops: int, limit: int, include_unknown: bool):
    from reachgraph.paths import find_paths  # noqa: PLC0415

    return find_paths(snap.flow_analysis, source, destination, max_hops=max_hops, limit=limit,
                      include_unknown=include_unknown)
