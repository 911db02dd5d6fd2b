"""Query results: plain, immutable records with a stable JSON form (the CLI's --json contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from reachgraph.semantics.traffic import Traffic

Verdict = Literal["reachable", "partial", "blocked", "unknown"]
CheckStatus = Literal["allow", "deny", "unknown"]


@dataclass(frozen=True)
class Check:
    """One component's word on one interface pair: a security group side, an ACL, a route."""

    kind: str                      # security_group, network_acl, route, address
    direction: str | None          # egress / ingress (ACLs: outbound, inbound, reply-...)
    component: str                 # AWS id: sg-, acl-, rtb-, eni-
    status: CheckStatus
    detail: str
    code: str | None = None        # Reachability Analyzer explanation code when status is deny
    rules: tuple[str, ...] = ()    # human descriptions of the rules involved
    rule_ids: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()   # all groups of the interface (security_group checks)
    warnings: tuple[str, ...] = ()  # things noticed on the way (an unknown prefix list), not verdicts

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": self.kind, "direction": self.direction, "component": self.component,
                "status": self.status, "detail": self.detail, "code": self.code, "rules": list(self.rules),
                "rule_ids": list(self.rule_ids), "groups": list(self.groups)}


@dataclass(frozen=True)
class PairResult:
    """The verdict for one source interface (or address) and one destination interface (or address)."""

    source: str
    source_address: str
    destination: str
    destination_address: str
    verdict: Literal["reachable", "blocked", "unknown"]
    checks: tuple[Check, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"source": self.source, "source_address": self.source_address, "destination": self.destination,
                "destination_address": self.destination_address, "verdict": self.verdict,
                "checks": [c.to_dict() for c in self.checks]}


@dataclass(frozen=True)
class Blocker:
    """A component that blocks at least one pair, with the Reachability Analyzer code."""

    code: str
    component: str
    detail: str
    direction: str | None = None
    groups: tuple[str, ...] = ()
    pairs: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"code": self.code, "direction": self.direction, "component": self.component,
                "detail": self.detail, "groups": list(self.groups), "pairs": self.pairs}


@dataclass(frozen=True)
class Allowance:
    """A rule that admitted at least one reachable pair."""

    direction: str
    component: str
    rule: str
    rule_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"direction": self.direction, "component": self.component, "rule": self.rule,
                "rule_id": self.rule_id}


@dataclass(frozen=True)
class EndpointSummary:
    """What a query side resolved to."""

    text: str
    kind: str
    id: str
    label: str
    interfaces: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"text": self.text, "kind": self.kind, "id": self.id, "label": self.label,
                "interfaces": list(self.interfaces)}


@dataclass(frozen=True)
class QueryResult:
    """The answer to 'can SOURCE reach DESTINATION on PROTOCOL/PORT', with reasons and fixes."""

    verdict: Verdict
    source: EndpointSummary
    destination: EndpointSummary
    protocol: str
    port: int | None
    pairs: tuple[PairResult, ...] = ()
    allowed_by: tuple[Allowance, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    fixes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    unknown_reasons: tuple[str, ...] = ()
    icmp_code: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def traffic(self) -> str:
        """tcp/6379, icmp/8:0 ..."""
        return Traffic(self.protocol, self.port, self.icmp_code).text()

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `reachgraph query --json`."""
        return {
            "verdict": self.verdict, "source": self.source.to_dict(), "destination": self.destination.to_dict(),
            "protocol": self.protocol, "port": self.port, "icmp_code": self.icmp_code, "traffic": self.traffic,
            "pairs": [p.to_dict() for p in self.pairs], "counts": dict(sorted(self.counts.items())),
            "allowed_by": [a.to_dict() for a in self.allowed_by], "blockers": [b.to_dict() for b in self.blockers],
            "fixes": list(self.fixes), "warnings": list(self.warnings),
            "unknown_reasons": list(self.unknown_reasons),
        }

    # -- display: a terminal (str), the REPL (repr), Jupyter (_repr_html_); none of this changes to_dict ------
    def __str__(self) -> str:
        """The report `reachgraph query` prints, as plain text: verdict first, each component, the fix."""
        from rich.text import Text  # noqa: PLC0415 - the renderer is only needed to print

        from reachgraph.render.text import query_lines  # noqa: PLC0415 - render imports this module

        return "\n".join(Text.from_markup(line).plain.rstrip() for line in query_lines(self)).rstrip() + "\n"

    def __repr__(self) -> str:
        n_block, n_fix = len(self.blockers), len(self.fixes)
        parts = [f"{n_block} blocker{'s' * (n_block != 1)}"] if n_block else []
        parts += [f"{n_fix} fix{'es' * (n_fix != 1)}"] if n_fix else []
        tail = f" ({', '.join(parts)})" if parts else ""
        return f"<QueryResult {self.verdict.upper()} {self.source.text} -> {self.destination.text} {self.traffic}{tail}>"

    def _repr_html_(self) -> str:
        """Jupyter: the verdict first, coloured; then the blockers and allowing rules as tables; then the fix."""
        return _result_html(self)


_VERDICT_COLOURS = {"reachable": ("#1b5e20", "#ffffff"), "partial": ("#f9a825", "#000000"),
                    "blocked": ("#b71c1c", "#ffffff"), "unknown": ("#6a1b9a", "#ffffff")}


def _html_table(caption: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    from html import escape  # noqa: PLC0415

    head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape('' if c is None else str(c))}</td>"
                                    for c in r) + "</tr>" for r in rows)
    return (f"<table><caption style='text-align:left;font-weight:bold'>{escape(caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _result_html(r: QueryResult) -> str:
    from html import escape  # noqa: PLC0415

    bg, fg = _VERDICT_COLOURS.get(r.verdict, ("#424242", "#ffffff"))
    badge = (f"<span class='reachgraph-verdict reachgraph-{r.verdict}' style='background:{bg};color:{fg};"
             f"font-weight:bold;padding:2px 8px;border-radius:3px'>{r.verdict.upper()}</span>")
    out = [f"<div class='reachgraph-result'><p>{badge} <b>{escape(r.source.text)}</b> &rarr; "
           f"<b>{escape(r.destination.text)}</b> <code>{escape(r.traffic)}</code></p>",
           f"<p>from {escape(r.source.label)}<br>to {escape(r.destination.label)}"]
    c = r.counts
    if c.get("pairs"):
        parts = ", ".join(f"{c[k]} {k}" for k in ("reachable", "blocked", "unknown") if c.get(k))
        out.append(f"<br>{c['pairs']} interface pair{'s' * (c['pairs'] != 1)}: {escape(parts)}")
    out.append("</p>")
    if r.blockers:
        out.append(_html_table("blocked by", ("code", "direction", "component", "pairs", "detail"),
                               [(b.code, b.direction, b.component, b.pairs, b.detail) for b in r.blockers]))
    if r.allowed_by:
        out.append(_html_table("allowed by", ("direction", "component", "rule", "rule id"),
                               [(a.direction, a.component, a.rule, a.rule_id) for a in r.allowed_by]))
    if r.unknown_reasons:
        out.append("<p><b>why unknown:</b></p><ul>" + "".join(f"<li>{escape(x)}</li>" for x in r.unknown_reasons)
                   + "</ul>")
    if r.fixes:
        out.append("<p><b>fix:</b></p><pre>" + escape("\n".join(r.fixes)) + "</pre>")
    if r.warnings:
        out.append("<ul>" + "".join(f"<li>warning: {escape(w)}</li>" for w in r.warnings) + "</ul>")
    out.append("</div>")
    return "\n".join(out)


def rebind(checks: tuple[Check, ...], swaps: tuple[tuple[str, str], ...]) -> tuple[Check, ...]:
    """Checks computed for one interface of an equivalence class, naming the interface actually asked about."""
    swaps = tuple((a, b) for a, b in swaps if a and a != b)
    if not swaps:
        return checks
    out = []
    for c in checks:
        if any(a in c.component or a in c.detail for a, _ in swaps):
            component, detail = c.component, c.detail
            for a, b in swaps:
                component, detail = component.replace(a, b), detail.replace(a, b)
            c = Check(kind=c.kind, direction=c.direction, component=component, status=c.status, detail=detail,
                      code=c.code, rules=c.rules, rule_ids=c.rule_ids, groups=c.groups, warnings=c.warnings)
        out.append(c)
    return tuple(out)
