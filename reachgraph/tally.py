"""Adding up checks: what one group of checks contributes to a query's verdict, blockers, allowances and unknown
reasons, digested once so that checks shared by many pairs (cached per side and per pair of places) are read once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple

from reachgraph.result import Allowance, Check

BlockerKey = tuple[str | None, str | None, str, str, tuple[str, ...]]   # code, direction, component, detail, groups
Denies = tuple[tuple[BlockerKey, Check | None], ...]      # blocker key; the check when a security group blocks
Allowed = tuple[tuple[tuple, Allowance], ...]               # (direction, component, rule) -> allowance


class Digest:
    """Checks in the form aggregation reads them, in check order.

    What a flow matrix reads (status, allowing rule texts, blocker lines, unknown reasons) is kept; what only a
    query's full result needs (blocker keys, allowances, warnings) is worked out from the checks when first
    asked for: a matrix of an organisation holds a few hundred thousand digests at once."""

    __slots__ = ("status", "checks", "unknowns", "rules", "blocker_lines", "_detail")

    def __init__(self, checks: tuple[Check, ...]) -> None:
        self.checks = checks
        self._detail: tuple[Denies, Allowed, tuple[str, ...]] | None = None
        rules: dict[str, None] = {}
        lines: dict[str, None] = {}
        unknowns: list[str] = []
        for c in checks:
            if c.status == "deny":
                lines[f"{c.code} {c.component}: {c.detail}"] = None
            elif c.status == "unknown":
                unknowns.append(c.detail)
            else:
                for rule_text, _ in _zip_rules(c):
                    rules[rule_text] = None
        self.status = "deny" if lines else "unknown" if unknowns else "allow"   # deny, unknown or allow: the worst
        self.unknowns = tuple(unknowns)                 # details of unknown checks
        self.rules = tuple(rules)                       # the allowing rules' texts, distinct
        self.blocker_lines = tuple(lines)               # "CODE component: detail" of each deny, distinct

    @property
    def denies(self) -> Denies:
        """Blocker key of each deny, with the check when a security group blocks."""
        return self._details()[0]

    @property
    def allowed(self) -> Allowed:
        """(direction, component, rule) -> allowance, for each allowing rule."""
        return self._details()[1]

    @property
    def warnings(self) -> tuple[str, ...]:
        """The checks' warnings."""
        return self._details()[2]

    def _details(self) -> tuple[Denies, Allowed, tuple[str, ...]]:
        if self._detail is None:
            denies: list[tuple[BlockerKey, Check | None]] = []
            allowed: list[tuple[tuple, Allowance]] = []
            warnings: list[str] = []
            for c in self.checks:
                warnings.extend(c.warnings)
                if c.status == "deny":
                    denies.append(((c.code, c.direction, c.component, c.detail, c.groups),
                                   c if c.kind == "security_group" else None))
                elif c.status != "unknown":
                    for rule_text, rid in _zip_rules(c):
                        allowed.append(((c.direction, c.component, rule_text),
                                        Allowance(c.direction or "", c.component, rule_text, rid)))
            self._detail = (tuple(denies), tuple(allowed), tuple(warnings))
        return self._detail


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
            blockers.update(dg.blocker_lines)
        for reason in dg.unknowns:
            unknown.setdefault(reason, None)
    allowed: set[str] = set()
    for dg in {id(d): d for d in reachable}.values():
        allowed.update(dg.rules)
    total = sum(counts.values())
    reasons = tuple(unknown) if total else (empty_reason, *(r for r in unknown if r != empty_reason))
    return FlowSummary(verdict_of_counts(counts), total, counts["reachable"], allowed, blockers, reasons)


def digest(checks: Iterable[Check]) -> Digest:
    """One pass over the checks; their order is kept, so blockers and reasons list as the checks do."""
    return Digest(tuple(checks))


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
