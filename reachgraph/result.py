"""Query results: plain, immutable records with a stable JSON form (the CLI's --json contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
        if self.protocol in ("tcp", "udp"):
            return f"{self.protocol}/{self.port}"
        if self.protocol in ("icmp", "icmpv6"):
            return f"{self.protocol}/{self.port}:{self.icmp_code if self.icmp_code is not None else 0}"
        return f"proto {self.protocol}"

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
