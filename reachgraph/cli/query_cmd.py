"""`reachgraph query SOURCE DESTINATION[:PORT][/PROTOCOL]`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from reachgraph.api import load
from reachgraph.cli.app import app
from reachgraph.cli.common import (
    SNAPSHOT_HELP, handle_errors, parse_port_range, print_json, snapshot_path, stderr_console, stdout_console, warn,
)
from reachgraph.render.text import query_lines

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
) -> None:
    """Can SOURCE reach DESTINATION? Verdict, every blocking rule, and the fix.

    Exit status: 0 reachable, 1 partial/blocked/unknown, 2 usage or input error.
    """
    eph = parse_port_range(ephemeral_ports, "--ephemeral-ports") if ephemeral_ports else None
    snap = load(snapshot_path(snapshot))
    result = snap.query(source, destination, port=port, protocol=protocol, ephemeral_ports=eph,
                        ip_version=6 if ipv6 else None)
    err = stderr_console()
    if as_json:
        print_json(result.to_dict())
    else:
        for w in snap.warnings:
            warn(err, w)
        console = stdout_console()
        for line in query_lines(result):
            console.print(line, markup=True, highlight=False)
    raise typer.Exit(EXIT_BY_VERDICT[result.verdict])
