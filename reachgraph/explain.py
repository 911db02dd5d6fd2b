"""Explaining security-group factors in an engineer's words: which rule admits, or what the groups admit
instead and why the peer is not it (the text of blockers and allowed_by)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from reachgraph.model.records import Interface, Model, Rule
from reachgraph.result import Check
from reachgraph.semantics.path import End
from reachgraph.semantics.sg import Factor, Peer, SgEvaluator
from reachgraph.semantics.traffic import Traffic


class SgExplainer:
    """Turns security-group factors into checks with details, blocker codes and the group to name."""

    def __init__(self, model: Model, members: dict[str, frozenset[str]], sg: SgEvaluator) -> None:
        self.model = model
        self.members = members
        self.sg = sg
        self._described: dict[int, tuple[Rule, str]] = {}   # id(rule) -> (rule, rule.describe())

    def internet(self, direction: Literal["egress", "ingress"], iface: Interface, internet: End, t: Traffic,
                 preferred: tuple[str, ...]) -> tuple[Check, End]:
        """Which public addresses the groups let in (or out); the internet end narrows to them."""
        if not iface.group_ids and not iface.inferred:
            return self.ungrouped(iface, direction), internet
        spans, rules, reasons = self.sg.public_admitted(direction, iface, t, internet.version)
        verb = "admits" if direction == "ingress" else "allows"
        if spans and not iface.uncertain:
            first = rules[0]
            return Check(kind="security_group", direction=direction, component=first.group_id, status="allow",
                         detail=f"{first.group_id} {verb} {t.text()} {'from' if direction == 'ingress' else 'to'} "
                                f"the internet (rule: {rule_phrase(first)})",
                         rules=tuple(r.describe() for r in rules), rule_ids=tuple(r.rule_id for r in rules
                                                                                  if r.rule_id),
                         groups=iface.group_ids), replace(internet, addrs=tuple(spans))
        component = self.component(Factor(direction, "deny", iface.id, iface.group_ids), preferred)
        if reasons:
            return Check(kind="security_group", direction=direction, component=component, status="unknown",
                         detail="; ".join(reasons), groups=iface.group_ids), internet
        groups = ", ".join(f"{g} ({self.gname(g)})" for g in iface.group_ids)
        return Check(kind="security_group", direction=direction, component=component, status="deny",
                     code="ENI_SG_RULES_MISMATCH",
                     detail=f"no {direction} rule of {groups} {verb} {t.text()} "
                            f"{'from' if direction == 'ingress' else 'to'} any public address",
                     groups=iface.group_ids), internet

    def ungrouped(self, iface: Interface, direction: str) -> Check:
        """An interface type that carries no groups (NAT gateway, NLB without groups): groups do not filter it."""
        return Check(kind="security_group", direction=direction, component=iface.id, status="allow",
                     detail=f"{iface.id} ({iface.interface_type}) carries no security groups; they do not filter it")

    def check(self, f: Factor, t: Traffic, peer: Peer, preferred: tuple[str, ...]) -> Check:
        """One side's factor as a check: the allowing rule, or what the groups admit instead and who is named."""
        iface = self.model.interfaces.get(f.interface)
        if iface is not None and not iface.group_ids and not iface.inferred:
            return self.ungrouped(iface, f.direction)
        verb, word = ("allows", "to") if f.direction == "egress" else ("admits", "from")
        if f.status == "allow":
            rule = f.rules[0]
            return Check(kind="security_group", direction=f.direction, component=rule.group_id, status="allow",
                         detail=f"{rule.group_id} {verb} {t.text()} (rule: {rule_phrase(rule)})",
                         rules=tuple(map(self.describe, f.rules)),
                         rule_ids=tuple(r.rule_id for r in f.rules if r.rule_id), groups=f.groups,
                         warnings=f.warnings)
        component = self.component(f, preferred)
        if f.status == "unknown":
            return Check(kind="security_group", direction=f.direction, component=component, status="unknown",
                         detail="; ".join(f.reasons) or "cannot decide", rules=tuple(r.describe() for r in f.rules),
                         groups=f.groups, warnings=f.warnings)
        known = [self.model.groups[g] for g in f.groups if g in self.model.groups]
        no_rules = bool(known) and all(not (g.egress if f.direction == "egress" else g.ingress) for g in known)
        return Check(kind="security_group", direction=f.direction, component=component, status="deny",
                     code="SG_HAS_NO_RULES" if no_rules else "ENI_SG_RULES_MISMATCH",
                     detail=self.deny_detail(f, t, peer, no_rules),
                     rules=tuple(r.describe() for r in f.near_misses),
                     rule_ids=tuple(r.rule_id for r in f.near_misses if r.rule_id), groups=f.groups,
                     warnings=f.warnings)

    def describe(self, rule: Rule) -> str:
        """rule.describe(), made once per rule: the same rules explain millions of pairs."""
        hit = self._described.get(id(rule))
        if hit is None or hit[0] is not rule:
            hit = self._described[id(rule)] = (rule, rule.describe())
        return hit[1]

    def component(self, f: Factor, preferred: tuple[str, ...]) -> str:
        """The group to name: the one with rules for this traffic, else the workload's own, else the first."""
        near = sorted({r.group_id for r in f.near_misses})
        if near:
            return near[0]
        own = [g for g in preferred if g in f.groups]
        return (own or list(f.groups) or [f.interface])[0]

    def deny_detail(self, f: Factor, t: Traffic, peer: Peer, no_rules: bool) -> str:
        """'sg-x (name) admits tcp/6379 only from sg-y (0 member interfaces); the source carries sg-z'."""
        verb, word = ("allows", "to") if f.direction == "egress" else ("admits", "from")
        groups = ", ".join(f"{g} ({self.gname(g)})" for g in f.groups) or f"{f.interface} (no groups)"
        who = self.peer_phrase(peer, "destination" if f.direction == "egress" else "source")
        if no_rules:
            return f"{groups} {'has' if len(f.groups) == 1 else 'have'} no {f.direction} rules: nothing is " \
                   f"{'allowed out' if f.direction == 'egress' else 'admitted'}"
        if f.near_misses:
            by_group: dict[str, list[str]] = {}
            for r in f.near_misses:
                by_group.setdefault(r.group_id, []).append(self.rule_peer(r))
            parts = [f"{g} ({self.gname(g)}) {verb} {t.text()} only {word} {', '.join(dict.fromkeys(p))}"
                     for g, p in sorted(by_group.items())]
            return "; ".join(parts) + f"; {who}"
        return f"no {f.direction} rule of {groups} {verb} {t.text()} {word} anyone; {who}"

    def peer_phrase(self, peer: Peer, role: str) -> str:
        """Who the other side is, by its groups (an interface) or its address."""
        if peer.iface is not None:
            return f"the {role} carries {', '.join(peer.iface.group_ids) or 'no security groups'}"
        return f"the {role} is {peer.label}"

    def rule_peer(self, r: Rule) -> str:
        """A rule's peer with what makes it matter: member count, missing, prefix-list name."""
        if r.peer_kind == "group":
            if r.peer in self.model.groups:
                n = len(self.members.get(r.peer, ()))
                return f"{r.peer} ({self.gname(r.peer)}, {n} member interface{'s' * (n != 1)})"
            return f"{r.peer} (not in the snapshot: deleted, or in an account not collected)"
        if r.peer_kind == "prefix_list":
            pl = self.model.prefix_lists.get(r.peer)
            return f"{r.peer} ({pl.name})" if pl else f"{r.peer} (unknown prefix list)"
        return r.peer

    def gname(self, gid: str) -> str:
        """A group's name, or that it is not in the snapshot."""
        g = self.model.groups.get(gid)
        return g.name if g else "not in snapshot"


def rule_phrase(r: Rule) -> str:
    """tcp/6379 from sg-x, sgr-y."""
    word = "from" if r.direction == "ingress" else "to"
    rid = f", {r.rule_id}" if r.rule_id else ""
    return f"{r.ports_text()} {word} {r.peer}{rid}"
