"""The graph as an abstract diagram: clusters, nodes, edges, legend and title, with no renderer in sight.

This is the seam between reachgraph and its diagram providers. `build_diagram` reads only the
NetworkX graph (`ReachGraph`) and, for `--highlight`, a `QueryResult`; it never looks at AWS JSON.
Renderers (`graphviz.py`, `mermaid.py`) turn a `Diagram` into text and are tested on it.

What is drawn:

- one cluster per account, region and VPC;
- security groups keyed by id (two VPCs' `default` groups stay two nodes), labelled name, id and
  member count; the workloads that use them (parents only: an ECS service, not its tasks; a
  replication group, not its member clusters), and interfaces that belong to no workload;
- one edge per (peer, group, direction) for the rules between them, labelled with the merged,
  sorted protocols and ports; `0.0.0.0/0` and `::/0` are one `internet` node, other blocks one
  node each, prefix lists by name; egress only where the group does not already allow all;
- warnings: a rule naming a group with no members (or a group not in the snapshot) is `stale`
  (SG-6, SG-12) and so is the group; a group in an account that was not collected is `unknown`
  (SG-11); a rule of a group nobody uses is `inert`;
- `highlight`: the rules and groups that admit a query in one mark, the blocking ones in another,
  with a `query` edge where no rule exists, and the verdict in the title.

Everything is sorted, so the same graph gives the same diagram whatever order its input came in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal

from reachgraph.errors import InputError
from reachgraph.graph import ReachGraph
from reachgraph.model.records import Rule, Workload
from reachgraph.resolve import KIND_LABELS, Resolver
from reachgraph.result import QueryResult

DEFAULT_THRESHOLD = 300
RANKDIRS = ("LR", "TB")
MAX_PORT_ITEMS = 6          # per protocol in an edge label; the tooltip has them all
MAX_DESCRIPTIONS = 2        # interface descriptions shown on an "interfaces without a workload" node

NodeKind = Literal["group", "missing_group", "workload", "interfaces", "internet", "cidr", "prefix_list"]
EdgeKind = Literal["ingress", "egress", "member", "query"]
Mark = Literal["allow", "block", "endpoint"]
# A label line: (text, role); role is title | id | text | warn | note. Renderers choose fonts per role.
Line = tuple[str, str]

INTERNET_KEY = "internet"
INTERNET_CIDRS = ("0.0.0.0/0", "::/0")

# Order and wording of legend entries; only the styles a diagram uses appear in its legend.
NODE_LEGEND: tuple[tuple[str, str], ...] = (
    ("group", "security group (name, id, member interfaces)"),
    ("unused", "security group with no members, named by no rule"),
    ("stale", "stale: group with no members that rules still name"),
    ("missing", "group named by a rule but not in the snapshot"),
    ("unknown", "group in an account that was not collected"),
    ("workload", "workload (ECS service, cache, instance, ...)"),
    ("interfaces", "interfaces that belong to no workload"),
    ("internet", "the internet (0.0.0.0/0, ::/0)"),
    ("cidr", "address block"),
    ("prefix_list", "prefix list"),
    ("missing_prefix_list", "prefix list not in the snapshot: matches nothing"),
)
EDGE_LEGEND: tuple[tuple[str, str], ...] = (
    ("ingress", "ingress rule: source -> group, protocol/ports"),
    ("egress", "egress rule (only where egress is not allow-all)"),
    ("stale", "rule naming a stale or missing group: matches nothing"),
    ("unknown", "rule naming a group in an account not collected"),
    ("inert", "rule of a group with no members: applies to nothing"),
    ("member", "workload uses group"),
    ("declared", "group declared by the workload but on none of its interfaces"),
)
MARK_LEGEND: tuple[tuple[str, str], ...] = (
    ("allow", "admits the highlighted query"),
    ("block", "blocks the highlighted query (red arrows: its rules for that port, which admit others)"),
    ("endpoint", "source / destination of the highlighted query"),
)
PROTOCOL_ORDER = {"tcp": 0, "udp": 1, "icmp": 2, "icmpv6": 3}


# -- the abstract diagram -------------------------------------------------------------------------

@dataclass(frozen=True)
class DCluster:
    """A box around nodes: an account, a region inside it, a VPC inside that."""

    id: str
    kind: Literal["account", "region", "vpc"]
    label: str
    parent: str | None = None


@dataclass(frozen=True)
class DNode:
    """One drawn thing. `key` is the graph's node key (sg- id, workload key, ...), `id` a safe identifier."""

    id: str
    key: str
    kind: NodeKind
    style: str
    lines: tuple[Line, ...]
    cluster: str | None = None
    mark: Mark | None = None
    tooltip: str = ""


@dataclass(frozen=True)
class DEdge:
    """One drawn arrow between two node ids; `rules` are the rule descriptions merged into it."""

    src: str
    dst: str
    kind: EdgeKind
    style: str
    label: str = ""
    mark: Mark | None = None
    rules: tuple[str, ...] = ()
    tooltip: str = ""


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: a node style, an edge style or a highlight mark, and what it means."""

    what: Literal["node", "edge", "mark"]
    style: str
    text: str


@dataclass(frozen=True)
class Diagram:
    """Everything a renderer needs; sorted, so rendering it is deterministic."""

    title: str
    notes: tuple[str, ...]
    rankdir: str
    clusters: tuple[DCluster, ...]
    nodes: tuple[DNode, ...]
    edges: tuple[DEdge, ...]
    legend: tuple[LegendItem, ...]
    collapsed: bool = False
    verdict: str | None = None

    @property
    def title_lines(self) -> tuple[str, ...]:
        """The title and its notes, one per line."""
        return (self.title, *self.notes)

    def node(self, key: str) -> DNode:
        """The node for a graph key (sg- id, workload key, 'internet', 'cidr:10.0.0.0/8', ...)."""
        for n in self.nodes:
            if n.key == key:
                return n
        raise KeyError(key)

    def edges_between(self, src_key: str, dst_key: str) -> list[DEdge]:
        """Edges from one graph key to another."""
        ids = {n.key: n.id for n in self.nodes}
        s, d = ids.get(src_key), ids.get(dst_key)
        return [e for e in self.edges if e.src == s and e.dst == d]

    def summary(self) -> dict[str, Any]:
        """Counts for `--json`."""
        return {"nodes": len(self.nodes), "edges": len(self.edges), "clusters": len(self.clusters),
                "title": " | ".join(self.title_lines), "collapsed": self.collapsed}


# -- helpers shared with the CLI and the API ------------------------------------------------------

def parse_highlight(text: str) -> tuple[str, str]:
    """'api -> redis:6379' -> ('api', 'redis:6379')."""
    src, arrow, dst = text.partition("->")
    src, dst = src.strip(), dst.strip()
    if not arrow or not src or not dst:
        raise InputError(f"bad --highlight {text!r}", hint='write it as "SOURCE -> DESTINATION[:PORT]", e.g. '
                         '"api -> redis:6379"')
    if src == "*" or dst == "*" or dst.startswith("*:") or dst.startswith("*/"):
        raise InputError(f"--highlight {text!r} has a wildcard", hint="highlight one source and one destination")
    return src, dst


def merge_ports(rules: Iterable[Rule]) -> str:
    """Protocols and ports of several rules as one sorted label: 'tcp/80, 443, 8000-8100\\nudp/53'.

    Overlapping and adjacent port ranges merge; an all-traffic rule makes the label 'all traffic'
    (SG-7: it allows every protocol and port, whatever else is there).
    """
    ranges: dict[str, list[tuple[int, int]]] = defaultdict(list)
    icmp: dict[str, set[tuple[int, int]]] = defaultdict(set)
    others: set[str] = set()
    for r in rules:
        if r.protocol == "-1":
            return "all traffic"
        if r.protocol in ("tcp", "udp"):
            lo, hi = r.from_port, r.to_port
            if lo is None or hi is None:
                lo, hi = 0, 65535
            ranges[r.protocol].append((max(lo, 0), min(hi, 65535)))
        elif r.protocol in ("icmp", "icmpv6"):
            t = -1 if r.from_port is None else r.from_port
            c = -1 if r.to_port is None else r.to_port
            icmp[r.protocol].add((t, c if t != -1 else -1))
        else:
            others.add(r.protocol)
    parts: list[tuple[tuple[int, int], str]] = []
    for proto, spans in ranges.items():
        merged = _merge_spans(spans)
        if merged == [(0, 65535)]:
            text = f"{proto}/all"
        else:
            items = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in merged]
            text = f"{proto}/{_clip(items)}"
        parts.append(((PROTOCOL_ORDER[proto], 0), text))
    for proto, types in icmp.items():
        if any(t == -1 for t, _ in types):
            text = f"{proto}/all"
        else:
            items = [str(t) if c == -1 else f"{t}:{c}" for t, c in sorted(types)]
            text = f"{proto}/{_clip(items)}"
        parts.append(((PROTOCOL_ORDER[proto], 0), text))
    for proto in others:
        parts.append(((9, int(proto) if proto.isdigit() else 999), f"proto {proto}"))
    return "\n".join(text for _, text in sorted(parts))


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _clip(items: list[str]) -> str:
    if len(items) <= MAX_PORT_ITEMS:
        return ", ".join(items)
    return ", ".join(items[:MAX_PORT_ITEMS]) + f", ... (+{len(items) - MAX_PORT_ITEMS} more)"


def safe_ids(keys: Iterable[str]) -> dict[str, str]:
    """Graph keys -> identifiers of [A-Za-z0-9_] that DOT and Mermaid accept, unique whatever the order."""
    keys = sorted(set(keys))
    base = {k: "n_" + re.sub(r"[^A-Za-z0-9_]", "_", k) for k in keys}
    counts: dict[str, int] = defaultdict(int)
    for b in base.values():
        counts[b] += 1
    return {k: b if counts[b] == 1 else f"{b}_{hashlib.sha1(k.encode()).hexdigest()[:8]}" for k, b in base.items()}


def describe_interface(description: str) -> str:
    """A short human name for an interface without a workload, from its AWS description."""
    text = description.strip()
    m = re.match(r"^ELB (?:app|net|gwy)/([^/]+)/", text)
    if m:
        return f"load balancer {m.group(1)}"
    m = re.match(r"^ELB ([^/\s]+)$", text)
    if m:
        return f"load balancer {m.group(1)}"
    m = re.match(r"^AWS Lambda VPC ENI-(.+?)(?:-[0-9a-f]{8}-[0-9a-f-]{27})?$", text)
    if m:
        return f"Lambda {m.group(1)}"
    if text.startswith("RDSNetworkInterface"):
        return "RDS"
    m = re.match(r"^VPC Endpoint Interface (vpce-[0-9a-f]+)", text)
    if m:
        return f"VPC endpoint {m.group(1)}"
    if len(text) > 48:
        text = text[:45] + "..."
    return text or "no description"


# -- building ---------------------------------------------------------------------------------------

@dataclass
class _Peer:
    key: str
    kind: NodeKind
    style: str
    lines: tuple[Line, ...]
    cluster_hint: tuple[str | None, str | None, str | None] = (None, None, None)  # account, region, vpc
    tooltip: str = ""


@dataclass
class _Agg:
    """Rules between one (src, dst, direction), merged into one edge."""

    src: str
    dst: str
    direction: str
    owner: str
    rules: list[Rule] = field(default_factory=list)


@dataclass
class _Highlight:
    title: str
    verdict: str
    allow_rules: set[str] = field(default_factory=set)
    block_rules: set[str] = field(default_factory=set)
    allow_groups: set[str] = field(default_factory=set)
    block_groups: set[str] = field(default_factory=set)
    endpoints: set[str] = field(default_factory=set)        # graph keys: workloads, groups, address nodes
    member_marks: dict[tuple[str, str], Mark] = field(default_factory=dict)   # (workload, group) -> mark
    query_edges: dict[tuple[str, str], str] = field(default_factory=dict)     # (src key, dst key) -> label
    extra_nodes: dict[str, _Peer] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, rg: ReachGraph) -> None:
        self.rg = rg
        self.g = rg.graph
        self.accounts = set(rg.model.accounts)
        self.groups: dict[str, dict[str, Any]] = {}
        for n, d in self.g.nodes(data=True):
            if d.get("kind") == "security_group":
                self.groups[n] = d
        self.workloads: dict[str, Workload] = rg.model.workloads
        self.interfaces = rg.model.interfaces
        self.vpcs = {n: d["obj"] for n, d in self.g.nodes(data=True) if d.get("kind") == "vpc"}
        # Files at the top of a snapshot folder give no region to groups and VPCs; subnets and interfaces
        # know theirs from the availability zone.
        self.vpc_region: dict[str, str] = {v.id: v.region for v in self.vpcs.values() if v.region}
        first: dict[str, tuple[str, str]] = {}   # VPC -> (id, region) of its first subnet or interface by id
        for obj in chain(rg.model.subnets.values(), self.interfaces.values()):
            vid = obj.vpc_id
            if obj.region and vid and vid not in self.vpc_region and (vid not in first or obj.id < first[vid][0]):
                first[vid] = (obj.id, obj.region)
        self.vpc_region.update((vid, region) for vid, (_, region) in first.items())
        regions = rg.model.regions
        self.only_region = regions[0] if len(regions) == 1 else None

    # -- graph reading --------------------------------------------------------------------------
    def members(self, gid: str) -> int:
        return self.rg.member_count(gid)

    def iface_groups(self, eid: str) -> list[str]:
        iface = self.interfaces.get(eid)
        return sorted(iface.group_ids) if iface is not None else []

    def top(self, wkey: str) -> str:
        """A workload's top-level ancestor (a task -> its service, a cluster -> its replication group)."""
        return self.rg.top_of(wkey)

    def interfaces_of(self, wkey: str) -> list[str]:
        return sorted(self.workloads[wkey].interface_ids)

    def children(self, wkey: str) -> list[Workload]:
        return [self.workloads[k] for k in self.rg.parts_of.get(wkey, ())]

    def group_vpc(self, gid: str) -> str | None:
        obj = self.groups[gid].get("obj")
        return obj.vpc_id if obj is not None else None

    def region_of(self, region: str | None, vpc: str | None) -> str | None:
        return region or (self.vpc_region.get(vpc) if vpc else None) or self.only_region

    def group_place(self, gid: str) -> tuple[str | None, str | None, str | None]:
        d = self.groups[gid]
        vpc = self.group_vpc(gid)
        return d.get("account"), self.region_of(d.get("region"), vpc), vpc

    # -- rules ----------------------------------------------------------------------------------
    def peer_key(self, node: str) -> str:
        d = self.g.nodes[node]
        if d.get("kind") == "cidr" and d.get("cidr") in INTERNET_CIDRS:
            return INTERNET_KEY
        return node

    def rule_aggregates(self) -> dict[tuple[str, str, str], _Agg]:
        allow_all = self._allow_all_families()
        aggs: dict[tuple[str, str, str], _Agg] = {}
        for u, v, d in self.g.edges(data=True):
            if d.get("kind") != "rule":
                continue
            rule: Rule = d["rule"]
            if rule.direction == "egress" and self._egress_subsumed(rule, allow_all.get(rule.group_id, set())):
                continue
            src, dst = (self.peer_key(u), v) if rule.direction == "ingress" else (u, self.peer_key(v))
            key = (src, dst, rule.direction)
            agg = aggs.get(key)
            if agg is None:
                agg = aggs[key] = _Agg(src, dst, rule.direction, rule.group_id)
            agg.rules.append(rule)
        return aggs

    def _allow_all_families(self) -> dict[str, set[int]]:
        out: dict[str, set[int]] = defaultdict(set)
        for _, _, d in self.g.edges(data=True):
            if d.get("kind") == "rule" and d["direction"] == "egress":
                r: Rule = d["rule"]
                if r.protocol == "-1" and r.peer in INTERNET_CIDRS:
                    out[r.group_id].add(4 if r.peer == "0.0.0.0/0" else 6)
        return out

    def _egress_subsumed(self, rule: Rule, families: set[int]) -> bool:
        """Egress is drawn only where the group does not already allow everything to that address family."""
        if not families:
            return False
        if rule.peer_kind == "cidr4" or rule.peer_kind == "group":
            return 4 in families
        if rule.peer_kind == "cidr6":
            return 6 in families
        pl = self.g.nodes[rule.peer].get("obj") if rule.peer in self.g else None
        if pl is None:
            return False
        versions = {ipaddress.ip_network(c, strict=False).version for c in pl.cidrs}
        return bool(versions) and versions <= families

    # -- node descriptions ----------------------------------------------------------------------
    def group_status(self, gid: str, referenced: set[str]) -> str:
        """group | unused | stale | missing | unknown."""
        d = self.groups[gid]
        if d.get("missing"):
            # Carried by interfaces but not described, or in an account not collected: its rules are unknown.
            return "unknown" if self._foreign(gid) or self.members(gid) else "missing"
        if self.members(gid) == 0:
            return "stale" if gid in referenced else "unused"
        return "group"

    def _foreign(self, gid: str) -> str | None:
        """The uncollected account a missing group belongs to, if a rule says so (SG-11)."""
        for u, v, d in sorted(self._rules_naming(gid), key=lambda e: e[2].describe()):
            acct = d.peer_account
            if acct and acct not in self.accounts:
                return acct
        return None

    def _rules_naming(self, gid: str) -> list[tuple[str, str, Rule]]:
        out = []
        for u, v, d in self.g.in_edges(gid, data=True):
            if d.get("kind") == "rule" and d["direction"] == "egress" and d["rule"].peer == gid:
                out.append((u, v, d["rule"]))
        for u, v, d in self.g.out_edges(gid, data=True):
            if d.get("kind") == "rule" and d["direction"] == "ingress" and d["rule"].peer == gid:
                out.append((u, v, d["rule"]))
        return out

    def group_lines(self, gid: str, status: str, collapsed_workloads: list[Workload] | None) -> tuple[Line, ...]:
        d = self.groups[gid]
        obj = d.get("obj")
        n = self.members(gid)
        if d.get("missing"):
            acct = self._foreign(gid)
            if status == "missing":
                return ((gid, "title"), ("not in the snapshot (deleted?)", "warn"),
                        ("rules naming it match nothing", "warn"))
            if n:
                return ((gid, "title"), (f"{n} member interface{'s' * (n != 1)}", "text"),
                        ("not described in the snapshot: its rules are unknown", "note"))
            return ((gid, "title"), (f"account {acct} not collected", "note"), ("answers are unknown", "note"))
        lines: list[Line] = [(obj.name if obj is not None else gid, "title"), (gid, "id")]
        count = f"{n} member interface{'s' * (n != 1)}"
        if status == "stale":
            lines += [(f"STALE: {count}", "warn"), ("rules naming it match nothing", "warn")]
        else:
            lines.append((count, "text" if n else "note"))
        if obj is not None and not obj.egress:
            lines.append(("no egress rules: nothing gets out", "warn"))
        if collapsed_workloads:
            kinds: dict[str, int] = defaultdict(int)
            for w in collapsed_workloads:
                kinds[KIND_LABELS.get(w.kind, w.kind)] += 1
            text = ", ".join(f"{k} x{c}" for k, c in sorted(kinds.items()))
            lines.append((f"workloads: {text}", "note"))
        return tuple(lines)

    def workload_lines(self, w: Workload) -> tuple[Line, ...]:
        kids = self.children(w.key)
        n_if = len(self.interfaces_of(w.key))
        if w.kind == "ecs_service":
            tasks = sum(1 for k in kids if k.kind == "ecs_task")
            count = f"{tasks} task{'s' * (tasks != 1)}"
        elif kids:
            count = f"{len(kids)} member{'s' * (len(kids) != 1)}"
        else:
            count = f"{n_if} interface{'s' * (n_if != 1)}"
        lines: list[Line] = [(w.name, "title"), (KIND_LABELS.get(w.kind, w.kind), "id"), (count, "text")]
        if w.ports:
            lines.append(("port " + ", ".join(str(p) for p in w.ports), "text"))
        if n_if == 0:
            lines.append(("no interfaces in the snapshot", "warn"))
        return tuple(lines)


def build_diagram(rg: ReachGraph, *, vpcs: Iterable[str] = (), focus: str | None = None, depth: int = 1,
                  highlight: QueryResult | None = None, rankdir: str = "LR",
                  threshold: int = DEFAULT_THRESHOLD, resolver: Resolver | None = None) -> Diagram:
    """Graph -> abstract diagram. Raises InputError for an unknown VPC, focus name or rankdir.

    resolver: the snapshot's, if it has one (indexing names again costs ~0.5 s on 100k workloads)."""
    rankdir = rankdir.upper()
    if rankdir not in RANKDIRS:
        raise InputError(f"unknown --rankdir {rankdir!r}", hint="use LR (left to right) or TB (top to bottom)")
    if depth < 0:
        raise InputError(f"--depth {depth} is negative", hint="use 0 (the workload and its groups), 1, 2, ...")
    b = _Builder(rg)
    vpc_filter = sorted(set(vpcs))
    unknown_vpcs = [v for v in vpc_filter if v not in b.vpcs]
    if unknown_vpcs:
        known = ", ".join(sorted(b.vpcs)) or "none"
        raise InputError(f"no VPC {', '.join(unknown_vpcs)} in the snapshot", hint=f"VPCs in it: {known}")

    aggs = b.rule_aggregates()
    referenced = {a.src if a.direction == "ingress" else a.dst for a in aggs.values()
                  if a.src != a.dst} & set(b.groups)
    # Groups named by another group's rule count as referenced; self-references (the default group) do not.

    # -- workloads and their groups ---------------------------------------------------------------
    wl_groups: dict[str, dict[str, str]] = {}   # top workload key -> group -> "member" | "declared"
    for wkey in sorted(b.workloads):
        top = b.top(wkey)
        if top != wkey:
            continue
        actual: set[str] = set()
        eids = set(b.workloads[wkey].interface_ids)   # a service lists its tasks' interfaces too: each once
        for part in b.rg.parts_of.get(wkey, ()):
            eids.update(b.workloads[part].interface_ids)
        for eid in eids:
            iface = b.interfaces.get(eid)
            if iface is not None:
                actual.update(iface.group_ids)
        declared = {g for g in b.workloads[wkey].group_ids if g in b.groups} - actual
        entry = {g: "member" for g in actual} | {g: "declared" for g in declared}
        if entry:
            wl_groups[wkey] = entry

    # Interfaces with groups but no workload, one node per (VPC, group set).
    orphan_sets: dict[str, tuple[tuple[str, ...], list[str], tuple[str | None, str | None, str | None]]] = {}
    for n, iface in sorted((n, i) for n, i in b.interfaces.items() if not rg.workloads_of.get(n)):
        gids = tuple(b.iface_groups(n))
        if not gids:
            continue
        key = f"interfaces:{iface.vpc_id or '-'}:{'+'.join(gids)}"
        entry2 = orphan_sets.setdefault(key, (gids, [], (iface.account, iface.region, iface.vpc_id)))
        entry2[1].append(iface.description)

    # -- selection: VPC filter, then focus ----------------------------------------------------------
    hl = _highlight_info(b, highlight, wl_groups) if highlight is not None else None
    if vpc_filter:
        owned = {g for g in b.groups if b.group_vpc(g) in vpc_filter}
    else:
        owned = set(b.groups)
    edges = [a for a in aggs.values() if a.owner in owned]
    selected: set[str] = set(owned)
    for a in edges:
        selected.update((a.src, a.dst))
    focus_note = None
    if focus is not None:
        seeds, focus_label, focus_wl = _focus_seeds(b, resolver or Resolver(rg), focus, wl_groups)
        selected = _neighbourhood(seeds, edges, depth) & (selected | seeds)
        edges = [a for a in edges if a.src in selected and a.dst in selected]
        focus_note = f"neighbourhood of {focus_label}, depth {depth}"
        forced_workloads = {focus_wl} if focus_wl else set()
    else:
        forced_workloads = set()
    if hl is not None:
        selected |= hl.allow_groups | hl.block_groups | {k for k in hl.endpoints if k in b.groups}
        for s, t in hl.query_edges:
            selected.update((s, t))
        edges = [a for a in aggs.values() if a.owner in owned | selected and a.src in selected and a.dst in selected]

    # Workloads: those using a selected group (all of them in the full view).
    shown_wl = {w for w, gs in wl_groups.items() if (set(gs) & selected)}
    shown_wl |= {w for w in forced_workloads if w in wl_groups}
    if hl is not None:
        shown_wl |= {k for k in hl.endpoints if k in wl_groups}
    if vpc_filter and focus is None:
        shown_wl = {w for w in shown_wl if any(g in owned for g in wl_groups[w])}
    shown_orphans = {k for k, (gids, _, _) in orphan_sets.items() if set(gids) & selected}

    peers = {k for k in selected if k not in b.groups}
    group_nodes = sorted(k for k in selected if k in b.groups)
    total = len(group_nodes) + len(peers) + len(shown_wl) + len(shown_orphans)
    collapsed = total > threshold
    notes: list[str] = []
    if focus_note:
        notes.append(focus_note)
    if vpc_filter:
        notes.append("VPC " + ", ".join(vpc_filter))
    if collapsed:
        notes.append(f"{total} nodes is more than {threshold}: workloads collapsed into their groups "
                     "(use --focus NAME to see them)")

    # -- nodes --------------------------------------------------------------------------------------
    all_keys = set(group_nodes) | peers | (set() if collapsed else shown_wl | shown_orphans)
    if hl is not None:
        all_keys |= set(hl.extra_nodes)
    ids = safe_ids(all_keys)
    clusters: dict[str, DCluster] = {}
    nodes: list[DNode] = []

    def place(account: str | None, region: str | None, vpc: str | None) -> str | None:
        if account is None and region is None and vpc is None:
            return None
        acct_id = "cluster_acct_" + _safe(account or "unknown")
        if acct_id not in clusters:
            known = account in b.accounts if account else False
            label = f"account {account}" if account else "account unknown"
            if account and not known:
                label += " (not collected)"
            clusters[acct_id] = DCluster(acct_id, "account", label)
        parent = acct_id
        if region is not None or vpc is not None:
            reg_id = f"cluster_region_{_safe(account or 'unknown')}_{_safe(region or 'unknown')}"
            if reg_id not in clusters:
                clusters[reg_id] = DCluster(reg_id, "region", region or "region unknown", acct_id)
            parent = reg_id
        if vpc is not None:
            vpc_id = "cluster_vpc_" + _safe(vpc)
            if vpc_id not in clusters:
                v = b.vpcs.get(vpc)
                blocks = ", ".join((v.cidrs_v4 + v.cidrs_v6) if v else ())
                label = f"VPC {vpc}" + (f"  {blocks}" if blocks else "") + ("" if v else " (not in snapshot)")
                clusters[vpc_id] = DCluster(vpc_id, "vpc", label, parent)
            parent = vpc_id
        return parent

    per_group_wl: dict[str, list[Workload]] = defaultdict(list)
    if collapsed:
        for w in sorted(shown_wl):
            for gid in wl_groups[w]:
                per_group_wl[gid].append(b.workloads[w])

    for gid in group_nodes:
        status = b.group_status(gid, referenced)
        acct, region, vpc = b.group_place(gid)
        if status in ("missing", "unknown"):
            acct, region, vpc = _missing_place(b, gid)
            region = b.region_of(region, vpc)
        mark: Mark | None = None
        if hl is not None:
            if gid in hl.block_groups:
                mark = "block"
            elif gid in hl.allow_groups:
                mark = "allow"
            elif gid in hl.endpoints:
                mark = "endpoint"
        lines = b.group_lines(gid, status, per_group_wl.get(gid) if collapsed else None)
        nodes.append(DNode(ids[gid], gid, "missing_group" if status in ("missing", "unknown") else "group",
                           status, lines, place(acct, region, vpc), mark, _group_tooltip(b, gid, status)))
    for key in sorted(peers):
        peer = _peer_node(b, key, aggs)
        mark = "endpoint" if hl is not None and key in hl.endpoints else None
        nodes.append(DNode(ids[key], key, peer.kind, peer.style, peer.lines, None, mark, peer.tooltip))
    if hl is not None:
        for key, peer in sorted(hl.extra_nodes.items()):
            if key not in peers:
                nodes.append(DNode(ids[key], key, peer.kind, peer.style, peer.lines, None, "endpoint", peer.tooltip))
    edges_out: list[DEdge] = []
    if not collapsed:
        for wkey in sorted(shown_wl):
            w = b.workloads[wkey]
            place_vpc = _workload_vpc(b, wkey, wl_groups[wkey])
            mark = "endpoint" if hl is not None and wkey in hl.endpoints else None
            nodes.append(DNode(ids[wkey], wkey, "workload", "workload", b.workload_lines(w),
                               place(w.account, b.region_of(w.region, place_vpc), place_vpc), mark,
                               w.label or w.name))
            for gid, how in sorted(wl_groups[wkey].items()):
                if gid not in ids:
                    continue
                emark = hl.member_marks.get((wkey, gid)) if hl is not None else None
                # Drawn group -> workload: the workload hangs off its group in the flow of traffic.
                edges_out.append(DEdge(ids[gid], ids[wkey], "member", how,
                                       "declared only" if how == "declared" else "", emark,
                                       tooltip=f"{w.name} {'declares' if how == 'declared' else 'uses'} {gid}"))
        for key in sorted(shown_orphans):
            gids, descs, (acct, region, vpc) = orphan_sets[key]
            named = sorted({describe_interface(x) for x in descs})
            lines: list[Line] = [(f"{len(descs)} interface{'s' * (len(descs) != 1)}", "title"),
                                 ("no workload in the snapshot", "id")]
            lines += [(x, "text") for x in named[:MAX_DESCRIPTIONS]]
            if len(named) > MAX_DESCRIPTIONS:
                lines.append((f"+{len(named) - MAX_DESCRIPTIONS} more", "note"))
            nodes.append(DNode(ids[key], key, "interfaces", "interfaces", tuple(lines),
                               place(acct, b.region_of(region, vpc), vpc),
                               None, "; ".join(sorted(set(descs)))))
            for gid in gids:
                if gid in ids:
                    edges_out.append(DEdge(ids[gid], ids[key], "member", "member", tooltip=f"{key} uses {gid}"))

    # -- rule edges ---------------------------------------------------------------------------------
    status_of = {n.key: n.style for n in nodes}
    for a in sorted(edges, key=lambda x: (x.src, x.dst, x.direction)):
        if a.src not in ids or a.dst not in ids:
            continue
        peer = a.src if a.direction == "ingress" else a.dst
        texts = tuple(sorted(r.describe() for r in a.rules))
        style = a.direction
        if status_of.get(peer) in ("stale", "missing") and peer != a.owner:
            style = "stale"
        elif status_of.get(peer) == "unknown":
            style = "unknown"
        elif status_of.get(a.owner) in ("stale", "unused"):
            style = "inert"
        label = merge_ports(a.rules)
        if a.direction == "egress":
            label = "egress " + label
        peerings = sorted({r.peering_id for r in a.rules if r.peering_id})
        if peerings:
            label += "\nvia " + ", ".join(peerings)
        if style == "stale":
            label += "\n(matches nothing)"
        mark: Mark | None = None
        if hl is not None:
            keys = set(texts) | {r.rule_id for r in a.rules if r.rule_id}
            if keys & hl.allow_rules:
                mark = "allow"
            elif keys & hl.block_rules:
                mark = "block"
        edges_out.append(DEdge(ids[a.src], ids[a.dst], a.direction, style, label, mark, texts,
                               "\n".join(texts)))
    if hl is not None:
        for (s, t), label in sorted(hl.query_edges.items()):
            if s in ids and t in ids:
                edges_out.append(DEdge(ids[s], ids[t], "query", "query", label, "block", (), label))
        notes.insert(0, hl.title)
        notes.extend(hl.notes)

    nodes.sort(key=lambda n: (n.cluster or "", n.kind, n.key))
    edges_out.sort(key=lambda e: (e.src, e.dst, e.kind, e.style, e.label))
    title = _title(b, group_nodes, shown_wl)
    legend = _legend(nodes, edges_out)
    return Diagram(title=title, notes=tuple(notes), rankdir=rankdir,
                   clusters=tuple(sorted(clusters.values(), key=lambda c: c.id)), nodes=tuple(nodes),
                   edges=tuple(edges_out), legend=legend, collapsed=collapsed,
                   verdict=highlight.verdict if highlight is not None else None)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _title(b: _Builder, groups: list[str], workloads: set[str]) -> str:
    accounts = sorted({a for a in (b.groups[g].get("account") for g in groups) if a})
    regions = sorted({r for r in (b.group_place(g)[1] for g in groups) if r})
    where = []
    if accounts:
        where.append(("account " if len(accounts) == 1 else "accounts ") + ", ".join(accounts[:4])
                     + (f" (+{len(accounts) - 4})" if len(accounts) > 4 else ""))
    if regions:
        where.append(", ".join(regions[:4]) + (f" (+{len(regions) - 4})" if len(regions) > 4 else ""))
    real = sum(1 for g in groups if not b.groups[g].get("missing"))
    counts = f"{real} security group{'s' * (real != 1)}, {len(workloads)} workload{'s' * (len(workloads) != 1)}"
    return "Security-group dependencies" + (f": {' / '.join(where)}" if where else "") + f" ({counts})"


def _legend(nodes: list[DNode], edges: list[DEdge]) -> tuple[LegendItem, ...]:
    node_styles = {n.style for n in nodes}
    edge_styles = {e.style for e in edges}
    marks = {n.mark for n in nodes} | {e.mark for e in edges}
    items = [LegendItem("node", s, t) for s, t in NODE_LEGEND if s in node_styles]
    items += [LegendItem("edge", s, t) for s, t in EDGE_LEGEND if s in edge_styles]
    if "query" in edge_styles:
        items.append(LegendItem("edge", "query", "the highlighted query, where no rule admits it"))
    items += [LegendItem("mark", s, t) for s, t in MARK_LEGEND if s in marks]
    return tuple(items)


def _group_tooltip(b: _Builder, gid: str, status: str) -> str:
    obj = b.groups[gid].get("obj")
    if obj is None:
        return f"{gid}: not in the snapshot"
    desc = f" - {obj.description}" if obj.description else ""
    return f"{obj.name} ({gid}){desc}; {b.members(gid)} member interfaces; {len(obj.ingress)} ingress, " \
           f"{len(obj.egress)} egress rules"


def _missing_place(b: _Builder, gid: str) -> tuple[str | None, str | None, str | None]:
    """Where to draw a group that is not in the snapshot: its members' VPC, or what a rule naming it says."""
    for eid in sorted(b.rg.members.get(gid, ())):
        iface = b.interfaces.get(eid)
        if iface is not None:
            return iface.account, iface.region, iface.vpc_id
    for _, _, rule in sorted(b._rules_naming(gid), key=lambda e: e[2].describe()):
        owner = b.groups.get(rule.group_id)
        region = b.group_place(rule.group_id)[1] if owner else None
        if rule.peer_vpc and rule.peer_vpc in b.vpcs:
            v = b.vpcs[rule.peer_vpc]
            return v.account, v.region, v.id
        if rule.peer_account:
            return rule.peer_account, region, None
        if owner:
            return owner.get("account"), region, None
    return None, None, None


def _workload_vpc(b: _Builder, wkey: str, groups: dict[str, str]) -> str | None:
    for member in [wkey] + [k.key for k in b.children(wkey)]:
        for eid in b.interfaces_of(member):
            iface = b.interfaces.get(eid)
            if iface is not None and iface.vpc_id:
                return iface.vpc_id
    for gid in sorted(groups):
        if b.group_vpc(gid):
            return b.group_vpc(gid)
    return None


def _peer_node(b: _Builder, key: str, aggs: dict[tuple[str, str, str], _Agg]) -> _Peer:
    if key == INTERNET_KEY:
        seen = sorted({r.peer for a in aggs.values() for r in a.rules if r.peer in INTERNET_CIDRS})
        return _Peer(key, "internet", "internet", (("internet", "title"), (", ".join(seen) or "0.0.0.0/0", "id")),
                     tooltip="any address: " + ", ".join(seen or ["0.0.0.0/0"]))
    d = b.g.nodes[key] if key in b.g else {}
    kind = d.get("kind")
    if kind == "cidr":
        return _Peer(key, "cidr", "cidr", ((d["cidr"], "title"),), tooltip=f"address block {d['cidr']}")
    if kind == "prefix_list":
        pl = d.get("obj")
        if pl is None:
            return _Peer(key, "prefix_list", "missing_prefix_list",
                         ((key, "title"), ("prefix list not in the snapshot", "warn"), ("matches nothing", "warn")),
                         tooltip=f"{key}: not in the snapshot; rules naming it match nothing (SG-10)")
        n = len(pl.cidrs)
        return _Peer(key, "prefix_list", "prefix_list",
                     ((pl.name, "title"), (pl.id, "id"), (f"{n} block{'s' * (n != 1)}", "text")),
                     tooltip=f"{pl.name} ({pl.id}): " + ", ".join(pl.cidrs[:20]))
    # Address endpoints of a highlighted query that no rule names.
    return _Peer(key, "cidr", "cidr", ((key.removeprefix("cidr:"), "title"),))


def _focus_seeds(b: _Builder, resolver: Resolver, name: str,
                 wl_groups: dict[str, dict[str, str]]) -> tuple[set[str], str, str | None]:
    """What --focus NAME starts from: node keys (groups, peers), a label, and the workload to draw."""
    ep = resolver.resolve(name)
    if ep.kind == "workload":
        top = b.top(ep.id)
        w = b.workloads[top]
        groups = set(wl_groups.get(top, {}))
        if ep.id != top:
            groups |= {g for e in b.interfaces_of(ep.id) for g in b.iface_groups(e)}
        return groups, f"{w.name} ({KIND_LABELS.get(w.kind, w.kind)})", top
    if ep.kind == "security_group":
        obj = b.groups[ep.id].get("obj") if ep.id in b.groups else None
        return {ep.id}, f"{obj.name} ({ep.id})" if obj else ep.id, None
    if ep.kind == "interface":
        iface = ep.interfaces[0]
        owners = b.rg.workloads_of.get(iface.id, ())
        top = b.top(owners[0]) if owners else None
        return set(b.iface_groups(iface.id)), iface.id, top
    if ep.kind == "internet":
        return {INTERNET_KEY}, "the internet", None
    assert ep.address is not None
    hits = set()
    target = ipaddress.ip_network(ep.id, strict=False)
    for n, d in b.g.nodes(data=True):
        if d.get("kind") == "cidr":
            net = ipaddress.ip_network(d["cidr"], strict=False)
            if net.version == target.version and net.overlaps(target):
                hits.add(b.peer_key(n))
    if not hits:
        raise InputError(f"no rule names an address block that holds {ep.id}",
                         hint="focus on a workload, a security group or a CIDR that a rule names")
    return hits, ep.id, None


def _neighbourhood(seeds: set[str], edges: list[_Agg], depth: int) -> set[str]:
    """Nodes within `depth` rule edges of the seeds, in either direction."""
    adj: dict[str, set[str]] = defaultdict(set)
    for a in edges:
        adj[a.src].add(a.dst)
        adj[a.dst].add(a.src)
    seen = set(seeds)
    frontier = set(seeds)
    for _ in range(depth):
        nxt = {m for n in frontier for m in adj[n]} - seen
        if not nxt:
            break
        seen |= nxt
        frontier = nxt
    return seen


def _highlight_info(b: _Builder, r: QueryResult, wl_groups: dict[str, dict[str, str]]) -> _Highlight:
    """Which rules, groups and endpoints a query result lights up."""
    traffic = r.traffic
    title = f"{r.source.text} -> {r.destination.text} {traffic}: {r.verdict.upper()}"
    codes = [f"{x.code} at {x.component}" + (f" ({x.direction})" if x.direction else "") for x in r.blockers]
    if codes:
        title += " - " + "; ".join(sorted(set(codes)))
    hl = _Highlight(title=title, verdict=r.verdict)
    for a in r.allowed_by:
        hl.allow_rules.add(a.rule)
        if a.rule_id:
            hl.allow_rules.add(a.rule_id)
    src_key = _endpoint_key(b, r.source.kind, r.source.id, hl)
    dst_key = _endpoint_key(b, r.destination.kind, r.destination.id, hl)
    for p in r.pairs:
        src_groups = b.iface_groups(p.source)
        dst_groups = b.iface_groups(p.destination)
        for c in p.checks:
            if c.kind != "security_group" or not c.component.startswith("sg-"):
                continue
            side_groups = src_groups if c.direction == "egress" else dst_groups
            side_wl = src_key if c.direction == "egress" else dst_key
            if c.status == "allow":
                if p.verdict == "reachable":
                    hl.allow_rules.update(c.rules)
                    hl.allow_rules.update(c.rule_ids)
                hl.allow_groups.add(c.component)
                mark: Mark = "allow"
            elif c.status == "deny":
                hl.block_rules.update(c.rules)
                hl.block_rules.update(c.rule_ids)
                hl.block_groups.add(c.component)
                mark = "block"
                # No rule admits this traffic: draw the edge that is missing, from the source's groups
                # (or address) to the blocking group, or from the blocking group to the destination's.
                if c.direction == "ingress":
                    froms = src_groups or ([src_key] if src_key and src_key not in b.workloads else [])
                    for s in froms:
                        hl.query_edges[(s, c.component)] = f"{traffic}\nno rule admits it"
                else:
                    tos = dst_groups or ([dst_key] if dst_key and dst_key not in b.workloads else [])
                    for t in tos:
                        hl.query_edges[(c.component, t)] = f"{traffic}\nno rule allows it"
            else:
                continue
            if side_wl and side_wl in wl_groups:
                for gid in side_groups:
                    if gid in wl_groups[side_wl]:
                        prev = hl.member_marks.get((side_wl, gid))
                        hl.member_marks[(side_wl, gid)] = "block" if "block" in (prev, mark) else mark
    hl.allow_groups -= hl.block_groups
    other = sorted({f"{x.code} at {x.component}" for x in r.blockers if not x.component.startswith("sg-")})
    if other:
        hl.notes.append("also blocked outside security groups: " + "; ".join(other))
    if r.verdict == "unknown" and r.unknown_reasons:
        hl.notes.append("unknown: " + r.unknown_reasons[0])
    return hl


def _endpoint_key(b: _Builder, kind: str, ident: str, hl: _Highlight) -> str | None:
    """The diagram key for a query side; address sides get a node of their own if no rule names them."""
    if kind == "workload" and ident in b.workloads:
        key = b.top(ident)
        hl.endpoints.add(key)
        return key
    if kind == "security_group":
        hl.endpoints.add(ident)
        return ident
    if kind == "interface":
        owners = b.rg.workloads_of.get(ident, ())
        if owners:
            key = b.top(owners[0])
            hl.endpoints.add(key)
            return key
        hl.endpoints.update(b.iface_groups(ident))
        return None
    if kind == "internet":
        hl.endpoints.add(INTERNET_KEY)
        hl.extra_nodes[INTERNET_KEY] = _Peer(INTERNET_KEY, "internet", "internet",
                                             (("internet", "title"), ("0.0.0.0/0", "id")))
        return INTERNET_KEY
    if kind == "address":
        key = f"cidr:{ident}"
        hl.endpoints.add(key)
        hl.extra_nodes[key] = _Peer(key, "cidr", "cidr", ((ident, "title"), ("query endpoint", "id")))
        return key
    return None
