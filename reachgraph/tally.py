"""Adding up checks: what one group of checks contributes to a query's verdict, blockers, allowances and unknown
reasons, digested once so that checks shared by many pairs (cached per side and per pair of places) are read once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple

from reachgraph.result import Allowance, Check

BlockerKey = tuple[str | None, str | None, str, str, tuple[str, ...]]   # code, direction, component, detail, groups


@dataclass(frozen=True, slots=True)
class Digest:
    """Checks in the form aggregation reads them, in check order."""

    status: str                                          # deny, unknown or allow: the worst of the checks
    denies: tuple[tuple[BlockerKey, Check | None], ...]   # blocker key; the check when a security group blocks
    unknowns: tuple[str, ...]                            # details of unknown checks
    allowed: tuple[tuple[tuple, Allowance], ...]         # (direction, component, rule) -> allowance
    warnings: tuple[str, ...]
    rules: frozenset[str]                                # the allowing rules' texts
    blocker_lines: frozenset[str]                        # "CODE component: detail" of each deny


class FlowSummary(NamedTuple):
    """What a flow records of a query: verdict, pair counts, the rules that allow, what blocks, why unknown."""

    verdict: str
    pairs: int
    reachable: int
    allowed: set[str]
    blockers: set[str]
    unknown_reasons: tuple[str, ...]


def verdict_of_counts(counts: dict[str, int] | Counter[str]) -> str:
    """reachable or blocked when all pairs agree, partial when both occur, else unknown (also: no pairs)."""
    total = sum(counts.values())
    if not total:
        return "unknown"
    if counts["reachable"] == total:
        return "reachable"
    if counts["blocked"] == total:
        return "blocked"
    return "partial" if counts["reachable"] and counts["blocked"] else "unknown"


@dataclass
class Tally:
    """A query's checks added up over its pairs (weighted by class sizes)."""

    counts: Counter[str] = field(default_factory=Counter)               # pairs by verdict
    blockers: Counter[BlockerKey] = field(default_factory=Counter)      # blocker -> pairs it blocks
    allowed: dict[tuple, Allowance] = field(default_factory=dict)       # allowing rules of reachable pairs
    unknown_reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    needs: list[Any] = field(default_factory=list)                      # what fixes must provide (fixes.Need)

    @property
    def total(self) -> int:
        """All pairs."""
        return sum(self.counts.values())

    @property
    def verdict(self) -> str:
        """reachable or blocked when all pairs agree, partial when both occur, else unknown."""
        return verdict_of_counts(self.counts)


def summarize(rows: Iterable[tuple[str, tuple[Digest, ...], Any, Any, int]],
              empty_reason: str) -> FlowSummary:
    """What Tally gives a flow (verdict, counts, allowing rule texts, blocker lines, unknown reasons), read
    once per distinct digest instead of once per pair: the flow matrix makes millions of these."""
    counts = {"reachable": 0, "blocked": 0, "unknown": 0}
    every: list[Digest] = []
    reachable: list[Digest] = []
    for verdict, digests, _, _, n in rows:
        counts[verdict] += n
        every += digests
        if verdict == "reachable":
            reachable += digests
    blockers: set[str] = set()
    unknown: dict[str, None] = {}
    for dg in {id(d): d for d in every}.values():     # distinct digests, in first-seen order
        if dg.blocker_lines:
            blockers |= dg.blocker_lines
        for reason in dg.unknowns:
            unknown.setdefault(reason, None)
    allowed: set[str] = set()
    for dg in {id(d): d for d in reachable}.values():
        allowed |= dg.rules
    total = sum(counts.values())
    reasons = tuple(unknown) if total else (empty_reason, *(r for r in unknown if r != empty_reason))
    return FlowSummary(verdict_of_counts(counts), total, counts["reachable"], allowed, blockers, reasons)


def digest(checks: Iterable[Check]) -> Digest:
    """One pass over the checks; their order is kept, so blockers and reasons list as the checks do."""
    denies: list[tuple[BlockerKey, Check | None]] = []
    unknowns: list[str] = []
    allowed: list[tuple[tuple, Allowance]] = []
    warnings: list[str] = []
    for c in checks:
        warnings.extend(c.warnings)
        if c.status == "deny":
            denies.append(((c.code, c.direction, c.component, c.detail, c.groups),
                           c if c.kind == "security_group" else None))
        elif c.status == "unknown":
            unknowns.append(c.detail)
        else:
            for rule_text, rid in _zip_rules(c):
                allowed.append(((c.direction, c.component, rule_text),
                                Allowance(c.direction or "", c.component, rule_text, rid)))
    status = "deny" if denies else "unknown" if unknowns else "allow"
    return Digest(status, tuple(denies), tuple(unknowns), tuple(allowed), tuple(warnings),
                  frozenset(k[2] for k, _ in allowed), frozenset(f"{k[0]} {k[2]}: {k[3]}" for k, _ in denies))


def verdict_of_statuses(statuses: list[str] | tuple[str, ...]) -> str:
    """A pair's verdict from its checks' statuses: blocked if any denies, else unknown if any cannot tell, else
    reachable."""
    return "blocked" if "deny" in statuses else "unknown" if "unknown" in statuses else "reachable"


def verdict_of(digests: Iterable[Digest]) -> str:
    """A pair's verdict from the digests of its checks."""
    return verdict_of_statuses([d.status for d in digests])


def _zip_rules(c: Check) -> list[tuple[str, str | None]]:
    ids: list[str | None] = list(c.rule_ids) if len(c.rule_ids) == len(c.rules) else [None] * len(c.rules)
    return list(zip(c.rules, ids)) or [(c.detail, None)]
