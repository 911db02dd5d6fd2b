"""Diff two snapshots in the terms an engineer cares about: flows gained and lost, each with its cause, then the
groups, rules, memberships and workloads that changed.

Flows are compared by (source workload, destination workload, protocol, ports); both sides are answered by each
snapshot's query engine. A flow that one snapshot did not list as a candidate is evaluated there on demand, so
a loss is never missed because a rule that named the pair disappeared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reachgraph.flows import INTERNET, Flow, FlowAnalysis
from reachgraph.model.records import Model, Rule
from reachgraph.result import QueryResult
from reachgraph.semantics.traffic import Traffic, rule_admits

LIVE = ("reachable", "partial")
SG_CODES = ("ENI_SG_RULES_MISMATCH", "SG_HAS_NO_RULES")


@dataclass(frozen=True)
class FlowChange:
    """A flow that appeared, disappeared or changed verdict, and why."""

    change: str                 # gained, lost, degraded, improved, changed
    source: str
    source_kind: str
    destination: str
    destination_kind: str
    traffic: str
    old_verdict: str            # reachable, partial, blocked, unknown, absent (a side is not in that snapshot)
    new_verdict: str
    causes: tuple[str, ...]
    key: tuple[str, str, str, str]

    def describe(self) -> str:
        """'hokusai-api-development -> hokusai-redis-development tcp/6379'."""
        return f"{self.source} -> {self.destination} {self.traffic}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"change": self.change, "source": self.source, "source_kind": self.source_kind,
                "destination": self.destination, "destination_kind": self.destination_kind,
                "traffic": self.traffic, "old_verdict": self.old_verdict, "new_verdict": self.new_verdict,
                "causes": list(self.causes), "source_key": self.key[0], "destination_key": self.key[1]}


@dataclass(frozen=True)
class Change:
    """A structural change: a group, rule, membership or workload added or removed."""

    kind: str                   # group, rule, membership, workload
    change: str                 # added, removed
    id: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": self.kind, "change": self.change, "id": self.id, "detail": self.detail}


@dataclass(frozen=True)
class DiffResult:
    """Everything that changed from OLD to NEW."""

    old: str
    new: str
    flows: tuple[FlowChange, ...]
    changes: tuple[Change, ...]

    def flows_of(self, change: str) -> list[FlowChange]:
        """Flow changes of one kind (gained, lost, degraded, improved, changed)."""
        return [f for f in self.flows if f.change == change]

    def changes_of(self, kind: str, change: str) -> list[Change]:
        """Structural changes of one kind (group/rule/membership/workload) and direction (added/removed)."""
        return [c for c in self.changes if c.kind == kind and c.change == change]

    @property
    def lost(self) -> bool:
        """Was any flow lost or degraded (the CLI's exit status 1)?"""
        return any(f.change in ("lost", "degraded") for f in self.flows)

    @property
    def empty(self) -> bool:
        """Nothing changed."""
        return not self.flows and not self.changes

    def to_dict(self) -> dict[str, Any]:
        """JSON form of `reachgraph diff --json`."""
        flows = {c: [f.to_dict() for f in self.flows_of(c)] for c in ("gained", "lost", "degraded", "improved",
                                                                          "changed")}
        out: dict[str, Any] = {"old": self.old, "new": self.new, "flows": flows, "lost": self.lost}
        for kind in ("group", "rule", "membership", "workload"):
            out[kind + "s"] = {ch: [c.to_dict() for c in self.changes_of(kind, ch)] for ch in ("added", "removed")}
        out["summary"] = {k: len(v) for k, v in flows.items()} | {
            f"{kind}s_{ch}": len(self.changes_of(kind, ch)) for kind in ("group", "rule", "membership", "workload")
            for ch in ("added", "removed")}
        return out


def rule_key(r: Rule) -> tuple:
    """A rule's identity across snapshots (rule ids change when a rule is recreated)."""
    return (r.group_id, r.direction, r.protocol, r.from_port, r.to_port, r.peer_kind, r.peer)


def _rule_text(r: Rule) -> str:
    return r.describe()


def _groups_of(fa: FlowAnalysis, key: str) -> frozenset[str] | None:
    if key == INTERNET:
        return frozenset()
    if key not in fa.top:
        return None
    return frozenset(g for i in fa.side(key).endpoint.interfaces for g in i.group_ids)


def _name(fa: FlowAnalysis, key: str) -> str:
    return INTERNET if key == INTERNET else fa.model.workloads[key].name


def _gname(model: Model, gid: str) -> str:
    g = model.groups.get(gid)
    return f"{gid} ({g.name})" if g else gid


def _ids(groups: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(groups))


class Differ:
    """Compares two flow analyses (and their models)."""

    def __init__(self, old: FlowAnalysis, new: FlowAnalysis, old_name: str, new_name: str) -> None:
        self.old, self.new = old, new
        self.old_name, self.new_name = old_name, new_name
        self._old_rules = {rule_key(r) for g in old.model.groups.values() for r in g.ingress + g.egress}
        self._new_rules = {rule_key(r) for g in new.model.groups.values() for r in g.ingress + g.egress}

    def run(self) -> DiffResult:
        """Flow changes with causes, then structural changes."""
        return DiffResult(self.old_name, self.new_name, tuple(self.flow_changes()), tuple(self.structural()))

    # -- flows ---------------------------------------------------------------------------------------
    def flow_changes(self) -> list[FlowChange]:
        """Compare every flow that exists (or may) in either snapshot."""
        old_flows = {f.key: f for f in self.old.flows(include_blocked=True, include_internet=True)}
        new_flows = {f.key: f for f in self.new.flows(include_blocked=True, include_internet=True)}
        keys = sorted(k for k in set(old_flows) | set(new_flows)
                      if (k in old_flows and old_flows[k].exists) or (k in new_flows and new_flows[k].exists))
        out = []
        for key in keys:
            o = self._flow(self.old, key, old_flows.get(key), new_flows.get(key))
            n = self._flow(self.new, key, new_flows.get(key), old_flows.get(key))
            ov = o[0].verdict if o else "absent"
            nv = n[0].verdict if n else "absent"
            change = _classify(ov, nv)
            if change is None:
                continue
            any_flow = (n or o)[0]  # type: ignore[index]
            if change in ("lost", "degraded"):
                causes = self._lost_causes(key, o, n)
            elif change in ("gained", "improved"):
                causes = self._gained_causes(key, o, n)
            else:
                causes = tuple((n[1].unknown_reasons if n and nv == "unknown" else ()) or
                               (o[1].unknown_reasons if o and ov == "unknown" else ()))
            out.append(FlowChange(change, any_flow.source_name, any_flow.source_kind, any_flow.destination_name,
                                  any_flow.destination_kind, any_flow.traffic_text, ov, nv, causes, key))
        order = {"lost": 0, "degraded": 1, "gained": 2, "improved": 3, "changed": 4}
        return sorted(out, key=lambda c: (order[c.change], c.source, c.destination, c.traffic))

    def _flow(self, fa: FlowAnalysis, key: tuple[str, str, str, str], mine: Flow | None,
              theirs: Flow | None) -> tuple[Flow, QueryResult] | None:
        """This snapshot's answer for a flow, evaluated fresh so the blockers and rules are at hand."""
        ref = mine or theirs
        assert ref is not None
        return fa.evaluate_key(key, ref.port, ref.code)

    def _moves(self, key: tuple[str, str, str, str]) -> tuple[list[str], dict[str, tuple[frozenset, frozenset]]]:
        """'X moved from A to B' for each side whose groups changed; and the old/new groups per side."""
        texts: list[str] = []
        groups: dict[str, tuple[frozenset, frozenset]] = {}
        for side in (key[0], key[1]):
            og, ng = _groups_of(self.old, side), _groups_of(self.new, side)
            if og is None or ng is None:
                continue
            groups[side] = (og, ng)
            if og == ng:
                continue
            name = _name(self.new, side)
            left, joined = og - ng, ng - og
            if left and joined:
                texts.append(f"{name} moved from {_ids(left)} to {_ids(joined)}")
            elif left:
                texts.append(f"{name} left {_ids(left)}")
            else:
                texts.append(f"{name} joined {_ids(joined)}")
        return texts, groups

    def _lost_causes(self, key: tuple[str, str, str, str], o: tuple[Flow, QueryResult] | None,
                     n: tuple[Flow, QueryResult] | None) -> tuple[str, ...]:
        if n is None:
            gone = [k for k in key[:2] if k != INTERNET and k not in self.new.top]
            return tuple(f"{self.old.model.workloads[k].name} is not in {self.new_name}" for k in gone)
        flow, result = n
        moves, groups = self._moves(key)
        causes = list(moves)
        t = Traffic(flow.protocol, flow.port, flow.code)
        for b in result.blockers:
            if b.code in SG_CODES and b.direction in ("ingress", "egress"):
                causes.append(self._sg_cause(b.component, b.direction, t, key, groups, o))
            else:
                causes.append(f"{b.code} at {b.component}: {b.detail}")
        if flow.verdict == "unknown":
            causes += [f"now unknown: {r}" for r in result.unknown_reasons]
        return tuple(dict.fromkeys(causes)) or ("the engine gives no blocker; see `reachgraph query`",)

    def _sg_cause(self, gid: str, direction: str, t: Traffic, key: tuple[str, str, str, str],
                  groups: dict[str, tuple[frozenset, frozenset]], o: tuple[Flow, QueryResult] | None) -> str:
        """Why group `gid` blocks now: a rule removed, or it still names the group the other side left."""
        peer_side = key[0] if direction == "ingress" else key[1]
        verb, word = ("admits", "from") if direction == "ingress" else ("allows", "to")
        new_g = self.new.model.groups.get(gid)
        old_g = self.old.model.groups.get(gid)
        if new_g is None:
            return f"{gid} is not in {self.new_name}"
        now = [r for r in (new_g.ingress if direction == "ingress" else new_g.egress)
               if rule_admits(r.protocol, r.from_port, r.to_port, t)]
        before = [r for r in ((old_g.ingress if direction == "ingress" else old_g.egress) if old_g else ())
                  if rule_admits(r.protocol, r.from_port, r.to_port, t)]
        removed = [r for r in before if rule_key(r) not in {rule_key(x) for x in now}]
        used_before = {a.rule for a in o[1].allowed_by} if o else set()
        removed_used = [r for r in removed if r.describe() in used_before] or removed
        parts = []
        if removed_used:
            parts.append("; ".join(f"rule {r.rule_id + ' ' if r.rule_id else ''}({r.ports_text()} {word} {r.peer}) "
                                   f"was removed from {gid}" for r in removed_used))
        og, ng = groups.get(peer_side, (frozenset(), frozenset()))
        left = og - ng
        group_peers = {r.peer for r in now if r.peer_kind == "group"}
        if not now:
            parts.append(f"{gid} no longer {verb} {t.text()} {word} anyone")
        elif left and group_peers and group_peers <= left and len(group_peers) == len(now):
            parts.append(f"{gid} still {verb} only the old group{'s' if len(group_peers) > 1 else ''}")
        elif not removed_used:
            parts.append(f"{gid} {verb} {t.text()} only {word} {', '.join(sorted({r.peer for r in now}))}")
        return "; ".join(parts)

    def _gained_causes(self, key: tuple[str, str, str, str], o: tuple[Flow, QueryResult] | None,
                       n: tuple[Flow, QueryResult] | None) -> tuple[str, ...]:
        if o is None:
            new = [k for k in key[:2] if k != INTERNET and k not in self.old.top]
            return tuple(f"{self.new.model.workloads[k].name} is new in {self.new_name}" for k in new)
        assert n is not None
        moves, _ = self._moves(key)
        causes = list(moves)
        by_text = {r.describe(): r for g in self.new.model.groups.values() for r in g.ingress + g.egress}
        for a in n[1].allowed_by:
            r = by_text.get(a.rule)
            if r is not None and rule_key(r) not in self._old_rules:
                causes.append(f"rule added: {r.describe()}")
        for b in o[1].blockers:
            causes.append(f"was blocked by {b.code} at {b.component}")
        return tuple(dict.fromkeys(causes))

    # -- structure -----------------------------------------------------------------------------------
    def structural(self) -> list[Change]:
        """Groups, rules, memberships and workloads added and removed."""
        om, nm = self.old.model, self.new.model
        out: list[Change] = []
        for gid in sorted(set(om.groups) | set(nm.groups)):
            if gid not in om.groups:
                g = nm.groups[gid]
                out.append(Change("group", "added", gid, f"{_gname(nm, gid)}: {len(g.ingress)} inbound, "
                                                         f"{len(g.egress)} outbound rules"))
            elif gid not in nm.groups:
                out.append(Change("group", "removed", gid, _gname(om, gid)))
            else:
                out += self._rules(om.groups[gid].ingress + om.groups[gid].egress,
                                   nm.groups[gid].ingress + nm.groups[gid].egress)
        for key in sorted(set(self.old.top) | set(self.new.top)):
            if key not in self.old.top:
                w = nm.workloads[key]
                out.append(Change("workload", "added", w.name, w.label or w.name))
                continue
            if key not in self.new.top:
                w = om.workloads[key]
                out.append(Change("workload", "removed", w.name, w.label or w.name))
                continue
            og, ng = _groups_of(self.old, key) or frozenset(), _groups_of(self.new, key) or frozenset()
            name = nm.workloads[key].name
            for gid in sorted(ng - og):
                out.append(Change("membership", "added", f"{name}:{gid}", f"{name} joined {_gname(nm, gid)}"))
            for gid in sorted(og - ng):
                out.append(Change("membership", "removed", f"{name}:{gid}", f"{name} left {_gname(om, gid)}"))
        # Interfaces outside any workload (hand-made ENIs): their own memberships.
        for eid in sorted(set(om.interfaces) & set(nm.interfaces)):
            if self.old.rg.workloads_of.get(eid) or self.new.rg.workloads_of.get(eid):
                continue
            og, ng = set(om.interfaces[eid].group_ids), set(nm.interfaces[eid].group_ids)
            for gid in sorted(ng - og):
                out.append(Change("membership", "added", f"{eid}:{gid}", f"{eid} joined {_gname(nm, gid)}"))
            for gid in sorted(og - ng):
                out.append(Change("membership", "removed", f"{eid}:{gid}", f"{eid} left {_gname(om, gid)}"))
        return out

    def _rules(self, old: tuple[Rule, ...], new: tuple[Rule, ...]) -> list[Change]:
        ok = {rule_key(r): r for r in old}
        nk = {rule_key(r): r for r in new}
        out = [Change("rule", "added", nk[k].rule_id or _rule_text(nk[k]), _rule_text(nk[k]))
               for k in sorted(set(nk) - set(ok), key=str)]
        out += [Change("rule", "removed", ok[k].rule_id or _rule_text(ok[k]), _rule_text(ok[k]))
                for k in sorted(set(ok) - set(nk), key=str)]
        return out


def _classify(old: str, new: str) -> str | None:
    if old == new:
        return None
    was, now = old in LIVE, new in LIVE
    if was and not now:
        return "lost"
    if now and not was:
        return "gained"
    if old == "reachable" and new == "partial":
        return "degraded"
    if old == "partial" and new == "reachable":
        return "improved"
    if {old, new} <= {"blocked", "absent"}:
        return None
    return "changed"


def diff_analyses(old: FlowAnalysis, new: FlowAnalysis, old_name: str = "old", new_name: str = "new") -> DiffResult:
    """Diff two snapshots' flow analyses."""
    return Differ(old, new, old_name, new_name).run()
