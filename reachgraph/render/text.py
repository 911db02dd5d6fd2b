"""Query results as terminal text (rich markup); the CLI prints it, notebooks can too."""

from __future__ import annotations

from collections import defaultdict

from rich.markup import escape
from rich.table import Table

from reachgraph.fanout import FanoutRow

from reachgraph.result import Check, QueryResult

VERDICT_STYLE = {"reachable": "bold green", "partial": "bold yellow", "blocked": "bold red", "unknown": "bold magenta"}
STATUS_WORD = {"allow": "[green]ok[/green]", "deny": "[red]BLOCKED[/red]", "unknown": "[magenta]UNKNOWN[/magenta]"}


def query_lines(r: QueryResult) -> list[str]:
    """The human report: verdict first, then each component's word, then the fix."""
    style = VERDICT_STYLE[r.verdict]
    out = [f"[{style}]{r.verdict.upper()}[/{style}]  {escape(r.source.text)} -> {escape(r.destination.text)} "
           f"{r.traffic}",
           f"  from  {escape(r.source.label)}",
           f"  to    {escape(r.destination.label)}"]
    c = r.counts
    if c.get("pairs"):
        parts = [f"{c[k]} {k}" for k in ("reachable", "blocked", "unknown") if c.get(k)]
        out.append(f"  {c['pairs']} interface pair{'s' * (c['pairs'] != 1)}: {', '.join(parts)}")
    out.append("")
    for line in _component_lines(r):
        out.append("  " + line)
    if r.verdict == "partial":
        out.append("")
        out.append("  pairs that do not get through:")
        for p in r.pairs:
            if p.verdict != "reachable":
                out.append(f"    {p.verdict:<8} {p.source} ({p.source_address}) -> {p.destination} "
                           f"({p.destination_address})")
    if r.unknown_reasons:
        out.append("")
        out.append("[magenta]why unknown:[/magenta]")
        out += [f"  - {escape(x)}" for x in r.unknown_reasons]
    if r.fixes:
        out.append("")
        out.append("[bold]fix:[/bold]")
        out += [f"  {escape(x)}" for x in r.fixes]
    if r.warnings:
        out.append("")
        out += [f"[yellow]warning:[/yellow] {escape(w)}" for w in r.warnings]
    return out


_DIRECTION_ORDER = {"egress": 0, "ingress": 1, "egress-reply": 2, "ingress-reply": 3}
_KIND_ORDER = {"same_interface": 0, "address": 1, "security_group": 2, "network_acl": 3, "route": 4}
_STATUS_ORDER = {"deny": 0, "unknown": 1, "allow": 2}


def _component_lines(r: QueryResult) -> list[str]:
    """One line per distinct (component, direction, status) across all pairs, in the order a packet meets them."""
    seen: dict[tuple, list[Check]] = defaultdict(list)
    pairs_of: dict[tuple, set[int]] = defaultdict(set)   # by pair index: the engine may share Check objects
    for n, p in enumerate(r.pairs):
        for ch in p.checks:
            key = (ch.kind, ch.direction or "", ch.component, ch.status, ch.code or "",
                   ch.detail if ch.status != "allow" else "")
            seen[key].append(ch)
            pairs_of[key].add(n)
    total = r.counts.get("pairs", 0)
    lines = []

    def order(k: tuple) -> tuple:
        egress_side = k[1] == "egress" and k[0] == "security_group"
        return (_DIRECTION_ORDER.get(k[1], 4), 0 if egress_side else _KIND_ORDER.get(k[0], 5) * (
            -1 if k[1] == "ingress" else 1), k[2], _STATUS_ORDER[k[3]])

    for key in sorted(seen, key=order):
        checks = seen[key]
        first = checks[0]
        pairs = len(pairs_of[key])
        scope = f" [dim]({pairs} of {total} pairs)[/dim]" if total > 1 and pairs < total else ""
        detail = first.detail
        if first.status == "allow" and detail.startswith(first.component + " "):
            detail = detail[len(first.component) + 1:]
        head = f"{(first.direction or first.kind):<13} {first.component:<22} {STATUS_WORD[first.status]}"
        if first.status == "allow":
            lines.append(f"{head}  {escape(detail)}{scope}")
        else:
            code = f"  [red]{first.code}[/red]" if first.code else ""
            lines.append(f"{head}{code}{scope}")
            lines.append(f"{'':<13} {escape(detail)}")
    return lines


def fanout_table(rows: list[FanoutRow], title: str) -> Table:
    """A fan-out answer as a table: verdict first."""
    table = Table(title=title, title_justify="left", show_lines=False, box=None, pad_edge=False)
    for col in ("verdict", "source", "destination", "traffic", "via"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = VERDICT_STYLE[r.verdict]
        table.add_row(f"[{style}]{r.verdict}[/{style}]", escape(r.source), escape(r.destination), r.traffic,
                      escape(r.via))
    if not rows:
        table.add_row("-", "nothing", "", "", "")
    return table
