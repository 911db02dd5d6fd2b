"""Audit: what is wrong or risky in one snapshot, each finding with ids, a one-line explanation and a fix.

Findings read the graph and the model; every reachability statement comes from the query engine (through
`FlowAnalysis`), so ACLs, routes and the internet are accounted for exactly as `reachgraph query` does.

Finding codes:

- RULE_NAMES_EMPTY_GROUP: a rule names a group with no member interfaces. When a workload that looks like the
  group's replacement is blocked by it (the 2025-11-07 incident), the finding says so and is high.
- RULE_NAMES_MISSING_GROUP: a rule names a group that is not in the snapshot (deleted: a stale reference, SG-12).
- RULE_NAMES_UNCOLLECTED_ACCOUNT: a rule names a group of an account the snapshot does not hold (SG-11).
- UNUSED_GROUP: a group attached to nothing and named by no other group's rule (never `default`).
- REFERENCED_UNATTACHED_GROUP: a group attached to nothing that other groups' rules still name.
- INTERNET_EXPOSED: a workload or interface the `internet` endpoint actually reaches, graded by port.
- INGRESS_UNUSABLE_EGRESS: an ingress rule no source can use because the sources' egress forbids the traffic.
- ACL_EPHEMERAL_REPLY: an ACL whose reply rules exclude part of 1024-65535 (NAT gateway, Lambda, ELB; NACL-6).
- SHADOWED_RULE: a rule that a broader rule of the same group already covers.
- GROUP_NEAR_QUOTA: a group near or at 60 rules per direction and address family (SG-13).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from reachgraph.errors import InputError
from reachgraph.flows import INTERNET, Candidate, Flow, FlowAnalysis, rule_candidates
from reachgraph.graph import ReachGraph
from reachgraph.model.records import Interface, NetworkAcl, Rule, SecurityGroup, Workload
from reachgraph.query import QueryEngine
from reachgraph.resolve import KIND_LABELS, Endpoint
from reachgraph.semantics import acl as acls
from reachgraph.semantics.addresses import parse_range
from reachgraph.semantics.rects import merge_intervals, subtract_intervals
from reachgraph.semantics.traffic import Traffic, rule_admits
from reachgraph.snapshot import RawSnapshot

SEVERITIES = ("info", "low", "medium", "high", "critical")

DATA_PORTS = {6379: "Redis", 6380: "Redis (TLS)", 5432: "PostgreSQL", 3306: "MySQL", 1433: "SQL Server",
              1521: "Oracle", 27017: "MongoDB", 9200: "Elasticsearch", 9300: "Elasticsearch transport",
              11211: "Memcached", 9042: "Cassandra", 5984: "CouchDB", 2379: "etcd"}
ADMIN_PORTS = {22: "SSH", 3389: "RDP", 23: "Telnet", 5900: "VNC", 5985: "WinRM", 5986: "WinRM", 2375: "Docker API"}
WEB_PORTS = {80: "HTTP", 443: "HTTPS"}
DATA_KINDS = {"elasticache_replication_group", "elasticache_cluster", "elasticache_serverless", "rds_instance",
              "rds_cluster"}
QUOTA = 60
QUOTA_WARN = 48          # 80% of the default quota
EPHEMERAL = acls.WIDE_EPHEMERAL


def severity_rank(severity: str) -> int:
    """info 0 .. critical 4."""
    return SEVERITIES.index(severity)


def parse_severity(text: str) -> str:
    """A severity name, case-insensitive, or InputError listing the valid ones."""
    value = text.strip().lower()
    if value not in SEVERITIES:
        raise InputError(f"unknown severity {text!r}", hint=f"use one of {', '.join(SEVERITIES)}")
    return value


@dataclass(frozen=True)
class Finding:
    """One problem: what, where (AWS ids), how bad, and the command that fixes it when there is one."""

    code: str
    severity: str
    resources: tuple[str, ...]
    message: str
    fixes: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()     # workload names involved, for people and filters

    @property
    def id(self) -> str:
        """Stable id: CODE:resource/resource..."""
        return f"{self.code}:{'/'.join(self.resources)}"

    @property
    def fix(self) -> str | None:
        """The first fix command."""
        return self.fixes[0] if self.fixes else None

    def at_least(self, severity: str) -> bool:
        """Is this finding at or above a severity?"""
        return severity_rank(self.severity) >= severity_rank(severity)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "code": self.code, "severity": self.severity, "resources": list(self.resources),
                "message": self.message, "fix": self.fix, "fixes": list(self.fixes),
                "workloads": list(self.workloads)}

    def row(self) -> dict[str, str]:
        """Flat form for CSV."""
        return {"severity": self.severity, "code": self.code, "id": self.id, "resources": " ".join(self.resources),
                "workloads": " ".join(self.workloads), "message": self.message, "fix": " && ".join(self.fixes)}


CSV_COLUMNS = ("severity", "code", "id", "resources", "workloads", "message", "fix")


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by code and id; duplicates (same id) dropped."""
    unique = {f.id: f for f in findings}
    return sorted(unique.values(), key=lambda f: (-severity_rank(f.severity), f.code, f.id))


# -- commands ------------------------------------------------------------------------------------------
def _permission(rule: Rule) -> str:
    parts = [f"IpProtocol={rule.protocol}"]
    if rule.protocol in ("tcp", "udp", "icmp", "icmpv6"):
        parts += [f"FromPort={rule.from_port}", f"ToPort={rule.to_port}"]
    if rule.peer_kind == "group":
        parts.append(f"UserIdGroupPairs=[{{GroupId={rule.peer}}}]")
    elif rule.peer_kind == "cidr4":
        parts.append(f"IpRanges=[{{CidrIp={rule.peer}}}]")
    elif rule.peer_kind == "cidr6":
        parts.append(f"Ipv6Ranges=[{{CidrIpv6={rule.peer}}}]")
    else:
        parts.append(f"PrefixListIds=[{{PrefixListId={rule.peer}}}]")
    return ",".join(parts)


def revoke_command(rule: Rule) -> str:
    """The AWS CLI command that removes exactly this rule."""
    verb = "revoke-security-group-ingress" if rule.direction == "ingress" else "revoke-security-group-egress"
    if rule.rule_id:
        return f"aws ec2 {verb} --group-id {rule.group_id} --security-group-rule-ids {rule.rule_id}"
    return f"aws ec2 {verb} --group-id {rule.group_id} --ip-permissions '{_permission(rule)}'"


def _rule_ref(rule: Rule) -> str:
    return rule.rule_id or f"{rule.group_id}:{rule.direction}:{rule.ports_text().replace(' ', '-')}:{rule.peer}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in ranges) or "none"


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if t}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


class Auditor:
    """Runs every check over one snapshot."""

    def __init__(self, rg: ReachGraph, engine: QueryEngine, flows: FlowAnalysis,
                 raw: RawSnapshot | None = None) -> None:
        self.rg = rg
        self.model = rg.model
        self.engine = engine
        self.flows = flows
        self.raw = raw

    def run(self) -> list[Finding]:
        """All findings, most severe first."""
        out: list[Finding] = []
        out += self.group_references()
        out += self.unused_groups()
        out += self.internet_exposure()
        out += self.unusable_ingress()
        out += self.acl_ephemeral()
        out += self.shadowed_rules()
        out += self.quotas()
        return sort_findings(out)

    # -- helpers -----------------------------------------------------------------------------------
    def gname(self, gid: str) -> str:
        """'sg-x (name)'."""
        g = self.model.groups.get(gid)
        return f"{gid} ({g.name})" if g else gid

    def members(self, gid: str) -> frozenset[str]:
        """Interface ids carrying the group."""
        return self.rg.members.get(gid, frozenset())

    def workloads_in(self, gid: str) -> list[Workload]:
        """Top-level workloads with an interface carrying the group."""
        keys = {self.rg.top_of(k) for e in self.members(gid) for k in self.rg.workloads_of.get(e, ())}
        return sorted((self.model.workloads[k] for k in keys if k in self.model.workloads), key=lambda w: w.name)

    def group_endpoint(self, gid: str) -> Endpoint:
        """The group's member interfaces as one endpoint, one representative per equivalence class."""
        ifaces = [self.model.interfaces[e] for e in sorted(self.members(gid)) if e in self.model.interfaces]
        ep = Endpoint(kind="security_group", text=gid, id=gid, label=f"security group {self.gname(gid)}",
                      interfaces=tuple(ifaces))
        return ep if self.flows.exact else self.engine.representatives(ep)

    def attachments(self) -> dict[str, set[str]]:
        """What attaches each group: interfaces, workloads' declared groups, and any other AWS resource in the
        raw snapshot that names it (services not modelled yet must not make a group look unused)."""
        att: dict[str, set[str]] = defaultdict(set)
        for i in self.model.interfaces.values():
            for g in i.group_ids:
                att[g].add(i.id)
        for w in self.model.workloads.values():
            for g in w.group_ids:
                att[g].add(w.key)
        for gid, where in self.model.group_mentions.items():
            att[gid].update(where)
        return att

    # -- rules naming groups -------------------------------------------------------------------------
    def group_references(self) -> list[Finding]:
        """Rules naming member-less, missing or uncollected groups."""
        out: list[Finding] = []
        declared: dict[str, list[Workload]] = defaultdict(list)
        for w in self.model.workloads.values():
            for g in w.group_ids:
                declared[g].append(w)
        for grp in self.model.groups.values():
            for rule in grp.ingress + grp.egress:
                if rule.peer_kind != "group" or rule.peer == grp.id:
                    continue
                if rule.peer not in self.model.groups:
                    out.append(self._missing_group(grp, rule))
                elif not self.members(rule.peer):
                    out.append(self._empty_group(grp, rule, declared.get(rule.peer, [])))
        return out

    def _missing_group(self, grp: SecurityGroup, rule: Rule) -> Finding:
        verb = "admits" if rule.direction == "ingress" else "allows"
        word = "from" if rule.direction == "ingress" else "to"
        if rule.peer_account and rule.peer_account not in self.model.accounts:
            return Finding("RULE_NAMES_UNCOLLECTED_ACCOUNT", "info", (grp.id, _rule_ref(rule), rule.peer),
                           f"{self.gname(grp.id)} {verb} {rule.ports_text()} {word} {rule.peer} of account "
                           f"{rule.peer_account}, which is not in the snapshot: answers through this rule are "
                           f"unknown (UNKNOWN_PEERED_SGS); collect that account to check it")
        return Finding("RULE_NAMES_MISSING_GROUP", "low", (grp.id, _rule_ref(rule), rule.peer),
                       f"{self.gname(grp.id)} {verb} {rule.ports_text()} {word} {rule.peer}, which is not in the "
                       f"snapshot (deleted?): a stale reference matches nothing (SG-12); remove it",
                       (revoke_command(rule),))

    def _empty_group(self, grp: SecurityGroup, rule: Rule, declared_by: list[Workload]) -> Finding:
        empty = rule.peer
        verb, word = ("admits", "from") if rule.direction == "ingress" else ("allows", "to")
        resources = (grp.id, _rule_ref(rule), empty)
        broken = self._broken_by(grp, rule)
        if broken:
            succ, other, cand, result, via = broken[0]
            src, dst = (succ, other) if rule.direction == "ingress" else (other, succ)
            others = self._other_peers(grp, rule, cand.traffic())
            scope = "only " if not others else ""
            also = f" (and from {', '.join(others)})" if others else ""
            names = sorted({(b[0].name if rule.direction == "ingress" else b[1].name) for b in broken})
            msg = (f"{self.gname(grp.id)} {verb} {cand.text} {scope}{word} {self.gname(empty)}{also}, which has no "
                   f"member interfaces: this is why {src.name} cannot reach {dst.name} on {cand.text} "
                   f"({succ.name} carries {', '.join(via)}, which looks like the group {empty} was replaced by)")
            if len(names) > 1:
                msg += f"; also affected: {', '.join(n for n in names if n != succ.name)}"
            wl = tuple(sorted({src.name, dst.name} | set(names)))
            return Finding("RULE_NAMES_EMPTY_GROUP", "high", resources, msg, tuple(result.fixes), wl)
        fix = (revoke_command(rule),)
        if declared_by:
            names = ", ".join(sorted(w.name for w in declared_by))
            return Finding("RULE_NAMES_EMPTY_GROUP", "info", resources,
                           f"{self.gname(grp.id)} {verb} {rule.ports_text()} {word} {self.gname(empty)}, which has no "
                           f"member interfaces now; it is declared by {names}, so it may gain members again",
                           (), tuple(sorted(w.name for w in declared_by)))
        wl = tuple(w.name for w in self.workloads_in(grp.id))
        return Finding("RULE_NAMES_EMPTY_GROUP", "low", resources,
                       f"{self.gname(grp.id)} {verb} {rule.ports_text()} {word} {self.gname(empty)}, which has no "
                       f"member interfaces: the rule matches nothing; clean it up", fix, wl)

    def _other_peers(self, grp: SecurityGroup, rule: Rule, t: Traffic) -> list[str]:
        rules = grp.ingress if rule.direction == "ingress" else grp.egress
        return sorted({r.peer for r in rules if r.peer != rule.peer and rule_admits(r.protocol, r.from_port,
                                                                                    r.to_port, t)})

    def _broken_by(self, grp: SecurityGroup, rule: Rule) -> list[tuple[Workload, Workload, Candidate, Any, list[str]]]:
        """Workloads that look like the empty group's replacement and that this group blocks."""
        own = self.workloads_in(grp.id)
        if not own:
            return []
        successors = self._successors(rule.peer, exclude={w.key for w in own})
        out = []
        for succ, via in successors:
            for other in own:
                src, dst = (succ, other) if rule.direction == "ingress" else (other, succ)
                for cand in self._traffic_for(rule, dst):
                    flow, result = self.flows.evaluate(src.key, dst.key, cand)
                    if flow.verdict == "blocked" and any(b.component == grp.id and b.direction == rule.direction
                                                         for b in result.blockers):
                        out.append((succ, other, cand, result, via))
                        break
        return out

    def _traffic_for(self, rule: Rule, dst: Workload) -> list[Candidate]:
        """One port: that port; a range or all traffic: the destination's endpoint ports inside it, else the
        rule's own candidate."""
        if rule.protocol in ("tcp", "udp") and rule.from_port == rule.to_port:
            return rule_candidates(rule, ())
        ports = [Candidate("tcp", str(p), p) for p in dst.ports
                 if rule_admits(rule.protocol, rule.from_port, rule.to_port, Traffic("tcp", p))]
        return ports or rule_candidates(rule, ())

    def _successors(self, empty: str, exclude: set[str]) -> list[tuple[Workload, list[str]]]:
        """Top-level workloads in groups that look like the empty group: same rules (default egress aside) or a
        similar name."""
        fp_empty = self._fingerprint(empty)
        name_empty = _tokens(self.model.groups[empty].name)
        scored: dict[str, tuple[float, Workload, set[str]]] = {}
        for gid, g in self.model.groups.items():
            if gid == empty or g.is_default or not self.members(gid):
                continue
            rule_sim = _jaccard(fp_empty, self._fingerprint(gid)) if fp_empty else 0.0
            name_sim = _jaccard(name_empty, _tokens(g.name))
            score = max(rule_sim, name_sim)
            if score < 0.5:
                continue
            for w in self.workloads_in(gid):
                if w.key in exclude:
                    continue
                prev = scored.get(w.key)
                if prev is None or score > prev[0]:
                    scored[w.key] = (score, w, {gid})
                elif score == prev[0]:
                    prev[2].add(gid)
        ranked = sorted(scored.values(), key=lambda x: (-x[0], x[1].name))
        return [(w, sorted(gids)) for _, w, gids in ranked]

    def _fingerprint(self, gid: str) -> set[tuple]:
        g = self.model.groups[gid]
        out = set()
        for r in g.ingress + g.egress:
            if r.direction == "egress" and r.protocol == "-1" and r.peer in ("0.0.0.0/0", "::/0"):
                continue  # every new group has it (SG-3): says nothing about purpose
            out.add((r.direction, r.protocol, r.from_port, r.to_port, r.peer_kind,
                     "self" if r.peer == gid else r.peer))
        return out

    # -- unused groups -------------------------------------------------------------------------------
    def unused_groups(self) -> list[Finding]:
        """Groups attached to nothing: unreferenced (delete) or still referenced (clean up the references)."""
        att = self.attachments()
        refs: dict[str, list[Rule]] = defaultdict(list)
        for g in self.model.groups.values():
            for r in g.ingress + g.egress:
                if r.peer_kind == "group" and r.peer != g.id:
                    refs[r.peer].append(r)
        # With collection errors an attachment may simply not have been collected: say so, and grade it info.
        n_err = len(self.model.errors)
        caveat = (f"; the snapshot is incomplete ({_plural(n_err, 'collection error')}), so check before deleting"
                  if n_err else "")
        severity = "info" if n_err else "low"
        out = []
        for g in self.model.groups.values():
            if g.is_default or att.get(g.id):
                continue
            rules = sorted(refs.get(g.id, []), key=lambda r: (r.group_id, r.direction, _rule_ref(r)))
            if not rules:
                out.append(Finding(
                    "UNUSED_GROUP", severity, (g.id,),
                    f"{self.gname(g.id)} is attached to nothing (no interface, instance, ECS service, cache, "
                    f"database, function or load balancer) and no other group's rule names it; delete it{caveat}",
                    (f"aws ec2 delete-security-group --group-id {g.id}",)))
                continue
            holders = sorted({r.group_id for r in rules})
            out.append(Finding(
                "REFERENCED_UNATTACHED_GROUP", severity, (g.id,),
                f"{self.gname(g.id)} is attached to nothing, but {_plural(len(rules), 'rule')} in "
                f"{', '.join(self.gname(h) for h in holders)} still {'names' if len(rules) == 1 else 'name'} it; "
                f"{'that rule matches' if len(rules) == 1 else 'those rules match'} nothing: remove "
                f"{'it' if len(rules) == 1 else 'them'}, then the group{caveat}",
                tuple(revoke_command(r) for r in rules) + (f"aws ec2 delete-security-group --group-id {g.id}",)))
        return out

    # -- internet exposure ---------------------------------------------------------------------------
    def internet_exposure(self) -> list[Finding]:
        """What the internet actually reaches (engine verdicts), graded by port and kind of workload."""
        out = [self._exposure(f.destination, f.destination_name, f.destination_kind, f, self._ifaces_of(f))
               for f in self.flows.internet_flows() if f.verdict in ("reachable", "partial")]
        out += self._orphan_exposure()
        return out

    def _ifaces_of(self, f: Flow) -> list[Interface]:
        w = self.model.workloads[f.destination]
        return [self.model.interfaces[e] for e in w.interface_ids if e in self.model.interfaces]

    def _orphan_exposure(self) -> list[Finding]:
        """Interfaces that belong to no workload (hand-made ENIs, unmodelled services)."""
        internet = self.engine.resolver.resolve(INTERNET)
        out = []
        for iface in self.model.interfaces.values():
            if self.rg.workloads_of.get(iface.id) or not iface.public_ipv4 or not iface.group_ids:
                continue
            ep = Endpoint(kind="interface", text=iface.id, id=iface.id, label=f"interface {iface.id}",
                          interfaces=(iface,))
            cands: set[Candidate] = set()
            for gid in iface.group_ids:
                g = self.model.groups.get(gid)
                for r in g.ingress if g else ():
                    if self.flows.admits_internet(r):
                        cands.update(rule_candidates(r, ()))
            for cand in sorted(cands):
                result = self.engine.evaluate(internet, ep, cand.traffic())
                if result.verdict not in ("reachable", "partial"):
                    continue
                f = Flow(INTERNET, INTERNET, INTERNET, iface.id, iface.id, "interface", cand.protocol, cand.ports,
                         cand.port, result.verdict, 1, int(result.verdict == "reachable"), (),
                         tuple(a.rule for a in result.allowed_by), code=cand.code)
                out.append(self._exposure(iface.id, f"interface {iface.id}"
                                          + (f" ({iface.description})" if iface.description else ""),
                                          "interface", f, [iface]))
        return out

    def _exposure(self, key: str, name: str, kind: str, f: Flow, ifaces: list[Interface]) -> Finding:
        lo, hi = _port_range(f)
        sensitive = {p: n for p, n in {**DATA_PORTS, **ADMIN_PORTS}.items() if lo <= p <= hi and f.protocol == "tcp"}
        label = KIND_LABELS.get(kind, kind)
        if kind in DATA_KINDS:
            severity, why = "critical", f"a {label} should never face the internet"
        elif sensitive:
            severity = "high"
            why = "exposes " + ", ".join(f"{n} ({p})" for p, n in sorted(sensitive.items())[:4])
        elif f.protocol == "tcp" and lo == hi and lo in WEB_PORTS:
            severity, why = "info", f"{WEB_PORTS[lo]}, expected for a public endpoint"
        elif hi - lo > 1024:
            severity, why = "high", "a wide port range"
        else:
            severity, why = "medium", "a port that is not HTTP or HTTPS"
        rules = self._public_rules(ifaces, f)
        scope = "all" if f.verdict == "reachable" else f"{f.reachable_pairs} of {f.pairs}"
        msg = (f"{name} is reachable from the internet on {f.traffic_text} ({scope} interfaces): {why}; admitted by "
               f"{', '.join(r.describe() for r in rules) or ', '.join(f.allowed_by) or 'unknown rules'}")
        fixes = () if severity == "info" else tuple(revoke_command(r) for r in rules)
        resources = tuple(dict.fromkeys([*(r.group_id for r in rules), *(_rule_ref(r) for r in rules)]))
        wl = (name,) if kind != "interface" else ()
        return Finding("INTERNET_EXPOSED", severity, (key.rsplit(":", 1)[-1], f.traffic_text, *resources), msg,
                       fixes, wl)

    def _public_rules(self, ifaces: list[Interface], f: Flow) -> list[Rule]:
        t = Traffic(f.protocol, f.port, f.code)
        out = []
        for gid in sorted({g for i in ifaces for g in i.group_ids}):
            g = self.model.groups.get(gid)
            for r in g.ingress if g else ():
                if self.flows.admits_internet(r) and rule_admits(r.protocol, r.from_port, r.to_port, t):
                    out.append(r)
        return out

    # -- ingress nobody can use ------------------------------------------------------------------------
    def unusable_ingress(self) -> list[Finding]:
        """Ingress from a group whose members' egress forbids the traffic (CDK allowAllOutbound: false)."""
        out = []
        for grp in self.model.groups.values():
            if not self.members(grp.id):
                continue
            for rule in grp.ingress:
                if rule.peer_kind != "group" or rule.peer not in self.model.groups or not self.members(rule.peer):
                    continue
                if rule.protocol not in ("tcp", "udp") or rule.from_port != rule.to_port:
                    continue  # one port: the answer holds for the whole rule
                t = Traffic(rule.protocol, rule.from_port)
                result = self.engine.evaluate(self.group_endpoint(rule.peer), self.group_endpoint(grp.id), t)
                if result.verdict != "blocked" or not result.pairs:
                    continue
                if not all(_sg_status(p, "egress") == "deny" and _sg_status(p, "ingress") == "allow"
                           for p in result.pairs):
                    continue
                wl = tuple(sorted({w.name for w in self.workloads_in(rule.peer)} |
                                  {w.name for w in self.workloads_in(grp.id)}))
                out.append(Finding(
                    "INGRESS_UNUSABLE_EGRESS", "medium", (grp.id, _rule_ref(rule), rule.peer),
                    f"{self.gname(grp.id)} admits {t.text()} from {self.gname(rule.peer)}, but no member of "
                    f"{rule.peer} may send it: their egress allows no {t.text()} to {grp.id}'s members (a group "
                    f"created without allow-all outbound?)", tuple(result.fixes), wl))
        return out

    # -- ACL replies -----------------------------------------------------------------------------------
    def acl_ephemeral(self) -> list[Finding]:
        """ACLs whose reply rules admit only part of 1024-65535, the range NAT gateways, Lambda and load
        balancers use (NACL-6).

        Medium where such a client exists: a NAT gateway in the ACL's subnets (replies from the internet), a
        Lambda or load balancer interface in them (replies from the VPC), or a Lambda or load balancer
        elsewhere that the ACL's subnets reply to. Low where the ACL has reply rules that cover only part of the
        range but no such client uses it today."""
        subnets_of: dict[str, set[str]] = defaultdict(set)
        for sub in self.model.subnets.values():
            acl = acls.acl_of_subnet(self.model, sub.id, sub.vpc_id)
            if acl is not None:
                subnets_of[acl.id].add(sub.id)
        clients = sorted((i for i in self.model.interfaces.values() if _wide_client(i)), key=lambda i: i.id)
        out: list[Finding] = []
        ifaces_in: dict[str, list[Interface]] = defaultdict(list)
        for i in self.model.interfaces.values():
            ifaces_in[i.subnet_id or ""].append(i)
        for acl in self.model.acls.values():
            mine = subnets_of.get(acl.id, set())
            # Ingress rules of the groups behind this ACL: who may open connections to its subnets at all.
            gids = {g for sid in mine for i in ifaces_in.get(sid, ()) for g in i.group_ids}
            server_rules = [r for g in sorted(gids) if g in self.model.groups for r in self.model.groups[g].ingress]
            # (direction, peer block) -> clients whose replies cross this ACL from or to that block
            needs: dict[tuple[bool, str], list[Interface]] = defaultdict(list)
            for c in clients:
                if c.subnet_id in mine:
                    for peer in self._reply_sources(c):
                        needs[(False, peer)].append(c)
                elif c.vpc_id == acl.vpc_id and not _is_nat(c) and self._may_open(c, server_rules):
                    sub = self.model.subnets.get(c.subnet_id or "")
                    if sub and sub.cidr_v4:
                        needs[(True, sub.cidr_v4)].append(c)
            # Each problem once per ACL, direction and admitted ports: (egress, allowed) -> peers, clients, deniers
            issues: dict[tuple[bool, tuple], tuple[list[str], list[Interface], set[int]]] = {}
            for (egress, peer), affected in sorted(needs.items()):
                gap = self._reply_gap(acl, egress, peer, bool(affected))
                if gap is not None:
                    entry = issues.setdefault((egress, tuple(gap[0])), ([], [], set()))
                    entry[0].append(peer)
                    entry[1].extend(affected)
                    entry[2].update(gap[1])
            for egress in (False, True):
                for peer in self._acl_peers(acl, egress):
                    block = parse_range(peer)
                    if any(e == egress and any(block.within(parse_range(p)) or parse_range(p).within(block)
                                               for p in v[0]) for (e, _), v in issues.items()):
                        continue
                    gap = self._reply_gap(acl, egress, peer, False)
                    if gap is None or sum(hi - lo + 1 for lo, hi in gap[0]) < 1024:
                        continue  # no reply rules here (at most a few service ports), and nobody who needs them
                    issues[(egress, tuple(gap[0]) + (peer,))] = ([peer], [], gap[1])
            for (egress, allowed_key), (peers, affected, deniers) in sorted(issues.items(), key=lambda x: (
                    x[0][0], x[1][0])):
                allowed = [a for a in allowed_key if isinstance(a, tuple)]
                out.append(self._acl_finding(acl, egress, peers, allowed, affected, deniers))
        return out

    def _may_open(self, c: Interface, rules: list[Rule]) -> bool:
        """Does some ingress rule name the client (its group, a block or prefix list holding its address)?"""
        addrs = [parse_range(a) for a in c.private_ipv4]
        for r in rules:
            if r.peer_kind == "group" and r.peer in c.group_ids:
                return True
            if r.peer_kind == "cidr4" and any(a.within(parse_range(r.peer)) for a in addrs):
                return True
            if r.peer_kind == "prefix_list":
                pl = self.model.prefix_lists.get(r.peer)
                if pl and any(a.within(parse_range(b)) for b in pl.cidrs if ":" not in b for a in addrs):
                    return True
        return False

    def _reply_sources(self, c: Interface) -> list[str]:
        """Where replies to a wide-range client come from: the internet for a NAT gateway, its VPC otherwise."""
        if _is_nat(c):
            return ["0.0.0.0/0"]
        vpc = self.model.vpcs.get(c.vpc_id or "")
        return list(vpc.cidrs_v4[:1]) if vpc and vpc.cidrs_v4 else []

    def _acl_peers(self, acl: NetworkAcl, egress: bool) -> list[str]:
        blocks = {e.cidr for e in acl.entries if e.egress == egress and e.action == "allow"
                  and e.protocol in ("tcp", "-1")}
        # Broadest first, so narrower blocks repeating the same gap are recognised.
        return sorted(blocks, key=lambda c: (":" in c, parse_range(c).lo - parse_range(c).hi, c))

    def _reply_gap(self, acl: NetworkAcl, egress: bool, peer: str,
                   needed: bool) -> tuple[list[tuple[int, int]], set[int]] | None:
        """The reply ports this ACL admits to or from addresses of `peer` when it admits only part of 1024-65535
        (addresses it denies altogether are a deliberate block, not a reply-range gap), with the entries that
        deny the rest. When every address gets no reply port at all, that is a gap only if a client needs it."""
        block = parse_range(peer)
        q = acls.AclQuestion("tcp", block.version, ((block.lo, block.hi),), EPHEMERAL)
        split = acls.evaluate(acl, egress, q)
        segments = _port_sets_by_address(split.allowed_rects(), block.lo, block.hi, EPHEMERAL)
        partial = [(size, ports) for size, ports in segments if ports and subtract_intervals([EPHEMERAL], ports)]
        if partial:
            allowed = max(partial, key=lambda x: (x[0], x[1]))[1]
        elif needed and not any(ports for _, ports in segments):
            allowed = []
        else:
            return None
        missing = subtract_intervals([EPHEMERAL], allowed)
        return allowed, {n for r, n in split.denied if _overlaps_ports(r, missing)}

    def _acl_finding(self, acl: NetworkAcl, egress: bool, peers: list[str], allowed: list[tuple[int, int]],
                     affected: list[Interface], deniers: set[int]) -> Finding:
        missing = subtract_intervals([EPHEMERAL], allowed)
        where, role = ("outbound", "to") if egress else ("inbound", "from")
        names = sorted({_client_name(i) for i in affected})
        who = (f"; affects {', '.join(names[:5])}{f' and {len(names) - 5} more' if len(names) > 5 else ''}"
               if affected else "; no NAT gateway, Lambda or load balancer relies on it today")
        msg = (f"{acl.id} {where} admits tcp replies {role} {', '.join(peers)} "
               f"{'only on ports ' + _ranges_text(allowed) if allowed else 'on no port'} of 1024-65535; NAT "
               f"gateways, Lambda and load balancers need all of it, so replies on {_ranges_text(missing)} are "
               f"dropped (NACL-6){who}")
        return Finding("ACL_EPHEMERAL_REPLY", "medium" if affected else "low", (acl.id, where, *peers), msg,
                       self._acl_fix(acl, egress, peers, sorted(deniers)))

    def _acl_fix(self, acl: NetworkAcl, egress: bool, peers: list[str], deny_numbers: list[int]) -> tuple[str, ...]:
        used = {e.rule_number for e in acl.entries if e.egress == egress}
        limit = deny_numbers[0] if deny_numbers else 32767
        free = [n for n in range(limit - 1, 0, -1) if n not in used][:len(peers)]
        if len(free) < len(peers):
            return ()
        out = []
        for number, peer in zip(sorted(free), peers):
            family = "--ipv6-cidr-block" if ":" in peer else "--cidr-block"
            out.append(f"aws ec2 create-network-acl-entry --network-acl-id {acl.id} "
                       f"--{'egress' if egress else 'ingress'} --rule-number {number} --protocol tcp --port-range "
                       f"From={EPHEMERAL[0]},To={EPHEMERAL[1]} {family} {peer} --rule-action allow")
        return tuple(out)

    # -- shadowed rules ------------------------------------------------------------------------------
    def shadowed_rules(self) -> list[Finding]:
        """Rules another rule of the same group and direction already covers."""
        out = []
        for g in self.model.groups.values():
            for rules in (g.ingress, g.egress):
                ordered = sorted(rules, key=lambda r: (_rule_ref(r), r.describe()))
                for i, narrow in enumerate(ordered):
                    for j, broad in enumerate(ordered):
                        if i == j or not _covers(broad, narrow, self.model.prefix_lists):
                            continue
                        if _covers(narrow, broad, self.model.prefix_lists) and i < j:
                            continue  # identical: report only the later one
                        out.append(Finding(
                            "SHADOWED_RULE", "low", (g.id, _rule_ref(narrow)),
                            f"{self.gname(g.id)} {narrow.direction} rule {narrow.ports_text()} "
                            f"{'from' if narrow.direction == 'ingress' else 'to'} {narrow.peer} is shadowed by "
                            f"{broad.describe()}: it admits nothing more; remove it", (revoke_command(narrow),)))
                        break
        return out

    # -- quotas --------------------------------------------------------------------------------------
    def quotas(self) -> list[Finding]:
        """SG-13: 60 inbound and 60 outbound rules per group and address family (default quota)."""
        out = []
        for g in self.model.groups.values():
            for direction, rules in (("inbound", g.ingress), ("outbound", g.egress)):
                counts = {4: 0, 6: 0}
                for r in rules:
                    for v, n in self._rule_weight(r).items():
                        counts[v] += n
                for v, n in counts.items():
                    if n < QUOTA_WARN:
                        continue
                    severity = "medium" if n >= QUOTA else "low"
                    state = "is at" if n == QUOTA else "exceeds" if n > QUOTA else "is near"
                    out.append(Finding(
                        "GROUP_NEAR_QUOTA", severity, (g.id, direction, f"ipv{v}"),
                        f"{self.gname(g.id)} has {n} {direction} IPv{v} rules and {state} the default quota of "
                        f"{QUOTA} (SG-13): the next rule, perhaps a fix, may be refused; merge rules or use a prefix "
                        f"list"))
        return out

    def _rule_weight(self, r: Rule) -> dict[int, int]:
        if r.peer_kind == "cidr4":
            return {4: 1}
        if r.peer_kind == "cidr6":
            return {6: 1}
        if r.peer_kind == "group":
            return {4: 1, 6: 1}  # a group reference counts once for each family
        pl = self.model.prefix_lists.get(r.peer)
        if pl is None:
            return {4: 1, 6: 1}
        v6 = sum(1 for c in pl.cidrs if ":" in c)
        return {4: len(pl.cidrs) - v6, 6: v6}  # a prefix list counts as its entries


# -- small pure helpers -----------------------------------------------------------------------------
def _sg_status(pair: Any, direction: str) -> str | None:
    for c in pair.checks:
        if c.kind == "security_group" and c.direction == direction:
            return c.status
    return None


def _port_range(f: Flow) -> tuple[int, int]:
    if f.protocol not in ("tcp", "udp"):
        return (-1, -1)
    if f.ports == "all":
        return (0, 65535)
    lo, _, hi = f.ports.partition("-")
    return int(lo), int(hi or lo)


def _wide_client(i: Interface) -> bool:
    """Interfaces whose replies arrive on 1024-65535: NAT gateways, Lambda, load balancers (NACL-6)."""
    return i.interface_type in ("nat_gateway", "lambda", "network_load_balancer", "gateway_load_balancer") or \
        i.description.startswith(("ELB ", "AWS Lambda", "Interface for NAT"))


def _is_nat(i: Interface) -> bool:
    return i.interface_type == "nat_gateway" or i.description.startswith("Interface for NAT")


def _client_name(i: Interface) -> str:
    kind = ("NAT gateway" if i.interface_type == "nat_gateway" or i.description.startswith("Interface for NAT")
            else "Lambda" if i.interface_type == "lambda" or i.description.startswith("AWS Lambda")
            else "load balancer")
    return f"{kind} {i.id} in {i.subnet_id}"


def _port_sets_by_address(rects: list[tuple[int, int, int, int]], lo: int, hi: int,
                          ports: tuple[int, int]) -> list[tuple[int, list[tuple[int, int]]]]:
    """For each stretch of addresses in [lo, hi] that the ACL treats alike: its size and its allowed ports."""
    cuts = sorted({lo, hi + 1} | {max(lo, r[0]) for r in rects if r[0] <= hi} |
                  {min(hi, r[1]) + 1 for r in rects if r[1] >= lo})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        spans = [(max(r[2], ports[0]), min(r[3], ports[1])) for r in rects if r[0] <= a and b - 1 <= r[1]]
        out.append((b - a, merge_intervals([x for x in spans if x[0] <= x[1]])))
    return out


def _overlaps_ports(rect: tuple[int, int, int, int], ranges: list[tuple[int, int]]) -> bool:
    return any(rect[2] <= hi and lo <= rect[3] for lo, hi in ranges)


def _covers(broad: Rule, narrow: Rule, prefix_lists: dict) -> bool:
    """Does `broad` admit everything `narrow` admits (same group and direction)?"""
    if broad.protocol != "-1":
        if broad.protocol != narrow.protocol:
            return False
        if broad.protocol in ("tcp", "udp"):
            if not (broad.from_port <= narrow.from_port and narrow.to_port <= broad.to_port):  # type: ignore[operator]
                return False
        elif broad.protocol in ("icmp", "icmpv6"):
            if broad.from_port != -1 and (broad.from_port != narrow.from_port or
                                          (broad.to_port != -1 and broad.to_port != narrow.to_port)):
                return False
    if broad.peer_kind == narrow.peer_kind and broad.peer == narrow.peer:
        return True
    if broad.peer_kind in ("cidr4", "cidr6"):
        b = parse_range(broad.peer)
        if narrow.peer_kind == broad.peer_kind:
            return parse_range(narrow.peer).within(b)
        if narrow.peer_kind == "prefix_list" and narrow.peer in prefix_lists:
            cidrs = prefix_lists[narrow.peer].cidrs
            return bool(cidrs) and all(parse_range(c).within(b) for c in cidrs)
    return False
