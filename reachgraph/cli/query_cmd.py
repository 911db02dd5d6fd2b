"""`reachgraph query SOURCE DESTINATION[:PORT][/PROTOCOL]`."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from reachgraph.api import load
from reachgraph.errors import InputError
from reachgraph.cli.app import app
from reachgraph.cli.common import (
    SNAPSHOT_HELP, handle_errors, parse_port_range, print_json, snapshot_path, stderr_console, stdout_console, warn,
)
from reachgraph.fanout import WILDCARD, reachable_from, reachers_of
from reachgraph.render.text import fanout_table, query_lines
from reachgraph.resolve import split_destination
from reachgraph.whatif import apply_whatif

EXIT_BY_VERDICT = {"reachable": 0, "partial": 1, "blocked": 1, "unknown": 1}


@app.command("query")
@handle_errors
def query_command(
    source: Annotated[str, typer.Argument(help="Workload name, sg-/eni-/i- id, IP or CIDR, or 'internet'.")],
    destination: Annotated[str, typer.Argument(
        help="DESTINATION[:PORT][/PROTOCOL], e.g. redis:6379, db:5432/tcp, 10.0.0.5:53/udp, web:icmp/8.")],
    snapshot: Annotated[Optional[str], typer.Option("--snapshot", "-s", help=SNAPSHOT_HELP)] = None,
    port: Annotated[Optional[int], typer.Option("--port", "-p", help="Destination port (overrides :PORT).")] = None,
    protocol: Annotated[Optional[str], typer.Option("--protocol", help="tcp (default), udp, icmp or a number.")] = None,
    ephemeral_ports: Annotated[Optional[str], typer.Option(
        "--ephemeral-ports", help="Client reply ports for ACLs, LO-HI (default 32768-60999; NAT/Lambda/ELB "
                                  "1024-65535).")] = None,
    ipv6: Annotated[bool, typer.Option("--ipv6", help="Evaluate the endpoints' IPv6 addresses.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    plan: Annotated[Optional[str], typer.Option(
        "--plan", help="What-if: answer as if this Terraform plan (terraform show -json PLANFILE) were applied.")] = None,
    assume: Annotated[Optional[list[str]], typer.Option(
        "--assume", help="What-if (repeatable): 'authorize-ingress|revoke-ingress|authorize-egress|revoke-egress "
                         "GROUP PROTOCOL PORT PEER', 'move WORKLOAD GROUP[,GROUP]' or an 'aws ec2 ...' fix.")] = None,
) -> None:
    """Can SOURCE reach DESTINATION? Verdict, every blocking rule, and the fix.

    Exit status: 0 reachable, 1 partial/blocked/unknown, 2 usage or input error.
    """
    eph = parse_port_range(ephemeral_ports, "--ephemeral-ports") if ephemeral_ports else None
    snap = load(snapshot_path(snapshot))
    whatif = apply_whatif(snap, plan=plan, assume=assume or ())  # --plan / --assume; a no-op without them
    snap = whatif.snapshot
    for line in whatif.summary_lines() + ([f"warning: {w}" for w in whatif.warnings] if as_json else []):
        sys.stderr.write(line + "\n")
    if source.strip() == WILDCARD or split_destination(destination)[0] == WILDCARD:
        _fanout(snap, source, destination, port, protocol, as_json)
        return
    result = snap.query(source, destination, port=port, protocol=protocol, ephemeral_ports=eph,
                        ip_version=6 if ipv6 else None)
    err = stderr_console()
    if as_json:
        print_json({**result.to_dict(), **({"whatif": whatif.to_dict()} if whatif.active else {})})
    else:
        for w in snap.warnings:
            warn(err, w)
        console = stdout_console()
        for line in query_lines(result):
            console.print(line, markup=True, highlight=False)
    raise typer.Exit(EXIT_BY_VERDICT[result.verdict])


def _fanout(snap, source: str, destination: str, port: int | None, protocol: str | None, as_json: bool) -> None:
    """`query SRC '*'` and `query '*' DST`: a table of everything reachable, exit 0 when anything is."""
    if source.strip() == WILDCARD and split_destination(destination)[0] == WILDCARD:
        raise InputError("'*' on both sides is the whole flow matrix", hint="use `reachgraph flows`")
    engine = snap._engine
    if source.strip() == WILDCARD:
        rows = reachers_of(engine, destination, port=port, protocol=protocol)
        title = f"who reaches {destination}"
    else:
        rows = reachable_from(engine, source)
        title = f"what {source} reaches"
    if as_json:
        print_json({"query": title, "rows": [r.to_dict() for r in rows]})
    else:
        stdout_console().print(fanout_table(rows, title))
    raise typer.Exit(0 if rows else 1)
