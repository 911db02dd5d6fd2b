"""Reading query results in assertions: explanations for failure messages, blocker keys."""

from __future__ import annotations

from typing import Any


def explain(result: Any) -> str:
    """The verdict, fixes and every check of every pair, for assertion messages."""
    lines = [f"{result.verdict} {result.traffic} unknown={list(result.unknown_reasons)} fixes={list(result.fixes)}"]
    for p in result.pairs:
        lines.append(f"  {p.source}({p.source_address}) -> {p.destination}({p.destination_address}): {p.verdict}")
        lines += [f"    {c.kind} {c.direction} {c.component} {c.status} {c.code or ''} {c.detail}" for c in p.checks]
    return "\n".join(lines)


def keys(result: Any) -> set[tuple[str, str | None, str]]:
    """(code, direction, component) of every blocker."""
    return {(b.code, b.direction, b.component) for b in result.blockers}
