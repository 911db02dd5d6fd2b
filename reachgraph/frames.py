"""pandas views of a snapshot, for notebooks: security groups, rules, interfaces, workloads, flows, findings.

Every view reads the graph (`reachgraph.graph.ReachGraph`), never the raw AWS JSON, so it shows exactly what
the query engine sees. The frames are plain `pandas.DataFrame`s with fixed columns and dtypes, sorted, so the
same snapshot always gives the same frame:

- text columns are pandas' nullable ``string`` dtype (missing values are ``<NA>``);
- ports are nullable integers (``Int64``): ``<NA>`` where the protocol has no ports (``-1``, ``gre``...);
- counts are ``int64``; lists of ids are tuples (``object`` columns), so they can be hashed and compared;
- finding severities are an ordered categorical (info < low < medium < high < critical), so
  ``df[df.severity >= "high"]`` works.

Use them through `Snapshot`: ``snap.security_groups()``, ``snap.rules()``, ``snap.interfaces()``,
``snap.workloads()``, ``snap.flows().to_frame()`` and ``snap.audit().to_frame()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reachgraph.flowtable import FlowView
from reachgraph.graph import ReachGraph
from reachgraph.resolve import KIND_LABELS

if TYPE_CHECKING:
    import pandas as pd

    from reachgraph.audit import Finding
    from reachgraph.flows import Flow

__all__ = [
    "AUDIT_COLUMNS", "FLOW_COLUMNS", "INTERFACE_COLUMNS", "RULE_COLUMNS", "SECURITY_GROUP_COLUMNS",
    "SEVERITY_ORDER", "WORKLOAD_COLUMNS", "FindingList", "FlowList", "audit", "flows", "interfaces", "rules",
    "security_groups", "workloads",
]

# column -> dtype ("string", "Int64", "int64", "bool", "object" for tuples, "severity" for the categorical)
SECURITY_GROUP_COLUMNS: dict[str, str] = {
    "id": "string", "name": "string", "vpc": "string", "account": "string", "region": "string",
    "description": "string", "members": "int64", "workloads": "object", "ingress_rules": "int64",
    "egress_rules": "int64", "referenced_by": "object", "is_default": "bool",
}
RULE_COLUMNS: dict[str, str] = {
    "group": "string", "group_name": "string", "direction": "string", "protocol": "string",
    "from_port": "Int64", "to_port": "Int64", "ports": "string", "peer_kind": "string", "peer": "string",
    "peer_name": "string", "peer_members": "Int64", "rule_id": "string", "description": "string",
}
INTERFACE_COLUMNS: dict[str, str] = {
    "id": "string", "workloads": "object", "private_ip": "string", "private_ips": "object",
    "public_ip": "string", "ipv6": "object", "groups": "object", "subnet": "string", "vpc": "string",
    "az": "string", "account": "string", "region": "string", "type": "string", "status": "string",
    "description": "string",
}
WORKLOAD_COLUMNS: dict[str, str] = {
    "name": "string", "kind": "string", "kind_label": "string", "label": "string", "interfaces": "int64",
    "interface_ids": "object", "groups": "object", "default_port": "Int64", "ports": "object",
    "parent": "string", "account": "string", "region": "string", "notes": "object",
}
FLOW_COLUMNS: dict[str, str] = {
    "source": "string", "source_kind": "string", "destination": "string", "destination_kind": "string",
    "protocol": "string", "ports": "string", "port": "Int64", "traffic": "string", "verdict": "string",
    "pairs": "int64", "reachable_pairs": "int64", "via": "string", "basis": "object", "allowed_by": "object",
    "blockers": "object", "unknown_reasons": "object",
}
AUDIT_COLUMNS: dict[str, str] = {
    "severity": "severity", "code": "string", "id": "string", "resources": "object", "workloads": "object",
    "message": "string", "fix": "string", "fixes": "object",
}
SEVERITY_ORDER: tuple[str, ...] = ("info", "low", "medium", "high", "critical")


def _frame(rows: Iterable[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    """Rows -> a DataFrame with exactly these columns and dtypes (also when there are no rows)."""
    import pandas as pd  # noqa: PLC0415 - pandas loads only when a frame is asked for

    rows = list(rows)
    data: dict[str, Any] = {}
    for col, dtype in columns.items():
        values = [r.get(col) for r in rows]
        if dtype == "severity":
            data[col] = pd.Categorical(values, categories=list(SEVERITY_ORDER), ordered=True)
        elif dtype == "object":
            data[col] = pd.Series(values, dtype=object)
        elif dtype == "string":
            data[col] = pd.array([None if v is None else str(v) for v in values], dtype="string")
        elif dtype == "Int64":
            data[col] = pd.array(values, dtype="Int64")
        else:
            data[col] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(columns)).reset_index(drop=True)


def _workload_names(rg: ReachGraph, interface_ids: Iterable[str]) -> tuple[str, ...]:
    """Names of the top-level workloads these interfaces belong to, sorted."""
    keys = {rg.top_of(k) for e in interface_ids for k in rg.workloads_of.get(e, ())}
    return tuple(sorted(rg.model.workloads[k].name for k in keys if k in rg.model.workloads))


# -- security groups and rules -------------------------------------------------------------------------------
def security_groups(rg: ReachGraph) -> pd.DataFrame:
    """One row per security group in the snapshot, sorted by id.

    Columns: ``id``, ``name``, ``vpc``, ``account``, ``region``, ``description``; ``members`` (how many
    interfaces carry the group: 0 means its rules and every rule naming it match nothing); ``workloads``
    (names of the workloads behind those interfaces); ``ingress_rules`` / ``egress_rules`` (one per rule and
    peer); ``referenced_by`` (ids of the other groups whose rules name this one); ``is_default``.
    """
    rows = []
    for gid in sorted(rg.model.groups):
        g = rg.model.groups[gid]
        referrers = sorted({r.group_id for r in rg.referencing_rules(gid) if r.group_id != gid})
        members = rg.members.get(gid, frozenset())
        rows.append({"id": g.id, "name": g.name, "vpc": g.vpc_id, "account": g.account, "region": g.region,
                     "description": g.description, "members": len(members),
                     "workloads": _workload_names(rg, members), "ingress_rules": len(g.ingress),
                     "egress_rules": len(g.egress), "referenced_by": tuple(referrers), "is_default": g.is_default})
    return _frame(rows, SECURITY_GROUP_COLUMNS)


def rules(rg: ReachGraph) -> pd.DataFrame:
    """One row per security-group rule and peer (AWS permissions naming several peers are split), sorted by
    group, ingress before egress, then in AWS's order.

    Columns: ``group``, ``group_name``, ``direction`` (ingress/egress), ``protocol`` (tcp, udp, icmp, icmpv6,
    ``-1`` for all traffic, or a protocol number), ``from_port`` / ``to_port`` (``Int64``; for ICMP the type and
    code, ``-1`` meaning any; ``<NA>`` when the protocol has no ports), ``ports`` (as an engineer writes it:
    ``tcp/6379``, ``all traffic``), ``peer_kind`` (group, cidr4, cidr6, prefix_list), ``peer``, ``peer_name``
    (the peer group's name when it is in the snapshot), ``peer_members`` (interfaces carrying the peer group;
    ``<NA>`` for address peers), ``rule_id`` (``sgr-...`` when the snapshot has it), ``description``.
    """
    rows = []
    for gid in sorted(rg.model.groups):
        g = rg.model.groups[gid]
        for r in g.ingress + g.egress:
            peer_group = rg.model.groups.get(r.peer) if r.peer_kind == "group" else None
            rows.append({
                "group": g.id, "group_name": g.name, "direction": r.direction, "protocol": r.protocol,
                "from_port": r.from_port if r.protocol != "-1" else None,
                "to_port": r.to_port if r.protocol != "-1" else None,
                "ports": r.ports_text(), "peer_kind": r.peer_kind, "peer": r.peer,
                "peer_name": peer_group.name if peer_group else None,
                "peer_members": rg.member_count(r.peer) if r.peer_kind == "group" else None,
                "rule_id": r.rule_id, "description": r.description,
            })
    return _frame(rows, RULE_COLUMNS)


# -- interfaces and workloads ----------------------------------------------------------------------------------
def interfaces(rg: ReachGraph) -> pd.DataFrame:
    """One row per network interface, sorted by id.

    Columns: ``id``, ``workloads`` (names of the workloads it belongs to), ``private_ip`` (the primary private
    IPv4), ``private_ips``, ``public_ip``, ``ipv6``, ``groups`` (its security groups, in AWS's order),
    ``subnet``, ``vpc``, ``az``, ``account``, ``region``, ``type`` (interface, nat_gateway, ...),
    ``status``, ``description``.
    """
    rows = []
    for eid in sorted(rg.model.interfaces):
        i = rg.model.interfaces[eid]
        rows.append({"id": i.id, "workloads": _workload_names(rg, [i.id]), "private_ip": i.primary_ipv4,
                     "private_ips": tuple(i.private_ipv4), "public_ip": i.public_ipv4[0] if i.public_ipv4 else None,
                     "ipv6": tuple(i.ipv6), "groups": tuple(i.group_ids), "subnet": i.subnet_id, "vpc": i.vpc_id,
                     "az": i.az, "account": i.account, "region": i.region, "type": i.interface_type,
                     "status": i.status, "description": i.description})
    return _frame(rows, INTERFACE_COLUMNS)


def workloads(rg: ReachGraph, include_members: bool = False) -> pd.DataFrame:
    """One row per workload people name in a query (ECS services, ElastiCache replication groups, RDS, load
    balancers, Lambda functions, EC2 instances), sorted by kind and name. ``include_members=True`` adds ECS
    tasks and member cache clusters, with their ``parent``.

    Columns: ``name``, ``kind`` (ecs_service, elasticache_replication_group, ...), ``kind_label`` ("ECS
    service"), ``label`` (what `query` prints), ``interfaces`` (count) and ``interface_ids``, ``groups`` (the
    security groups on those interfaces, or the declared ones when no interface is known), ``default_port``
    (``Int64``: the port `query` uses when none is given) and ``ports``, ``parent`` (name), ``account``,
    ``region``, ``notes`` (why its interfaces may be incomplete).
    """
    wl = rg.model.workloads
    rows = []
    for w in sorted(wl.values(), key=lambda w: (w.kind, w.name, w.key)):
        parent = wl.get(w.parent) if w.parent else None
        if parent is not None and not include_members:
            continue
        groups: dict[str, None] = {}
        for eid in w.interface_ids:
            iface = rg.model.interfaces.get(eid)
            for gid in iface.group_ids if iface else ():
                groups[gid] = None
        if not groups:
            groups = dict.fromkeys(w.group_ids)
        rows.append({"name": w.name, "kind": w.kind, "kind_label": KIND_LABELS.get(w.kind, w.kind), "label": w.label,
                     "interfaces": len(w.interface_ids), "interface_ids": tuple(w.interface_ids),
                     "groups": tuple(groups), "default_port": w.default_port, "ports": tuple(w.ports),
                     "parent": parent.name if parent else None, "account": w.account, "region": w.region,
                     "notes": tuple(w.notes)})
    return _frame(rows, WORKLOAD_COLUMNS)


# -- flows and findings ---------------------------------------------------------------------------------------
def flows(records: Iterable[Flow]) -> pd.DataFrame:
    """Flow records (`Snapshot.flows()`) as a DataFrame, one row per source, destination and traffic.

    Columns: ``source``, ``source_kind``, ``destination``, ``destination_kind``, ``protocol``, ``ports``
    (``6379``, ``8000-8100``, ``all``), ``port`` (``Int64``: the port evaluated), ``traffic`` (``tcp/6379``),
    ``verdict``, ``pairs`` and ``reachable_pairs`` (interface pairs), ``via`` (the admitting rules, or what
    blocks it, as `reachgraph flows` prints), ``basis`` (why this traffic was a candidate), ``allowed_by``,
    ``blockers``, ``unknown_reasons``.
    """
    rows = []
    for f in records:
        rows.append({"source": f.source_name, "source_kind": f.source_kind, "destination": f.destination_name,
                     "destination_kind": f.destination_kind, "protocol": f.protocol, "ports": f.ports, "port": f.port,
                     "traffic": f.traffic_text, "verdict": f.verdict, "pairs": f.pairs,
                     "reachable_pairs": f.reachable_pairs, "via": f.row()["via"], "basis": tuple(f.basis),
                     "allowed_by": tuple(f.allowed_by), "blockers": tuple(f.blockers),
                     "unknown_reasons": tuple(f.unknown_reasons)})
    return _frame(rows, FLOW_COLUMNS)


def audit(records: Iterable[Finding]) -> pd.DataFrame:
    """Audit findings (`Snapshot.audit()`) as a DataFrame, most severe first.

    Columns: ``severity`` (ordered categorical), ``code`` (RULE_NAMES_EMPTY_GROUP, INTERNET_EXPOSED, ...),
    ``id`` (stable: CODE:resources), ``resources`` (AWS ids), ``workloads`` (names), ``message`` (one line),
    ``fix`` (the first fix command, or ``<NA>``) and ``fixes`` (all of them).
    """
    rows = [{"severity": f.severity, "code": f.code, "id": f.id, "resources": tuple(f.resources),
             "workloads": tuple(f.workloads), "message": f.message, "fix": f.fix, "fixes": tuple(f.fixes)}
            for f in records]
    return _frame(rows, AUDIT_COLUMNS)


class FlowList(FlowView):
    """The sequence of `Flow` records `Snapshot.flows()` returns (records are made as they are read: a large
    estate's matrix holds millions); `.to_frame()` is the DataFrame view, and Jupyter shows it as that table."""

    def to_frame(self) -> pd.DataFrame:
        """The flows as a DataFrame (see `reachgraph.frames.flows`)."""
        return flows(self)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()  # type: ignore[operator]


class FindingList(list):  # type: ignore[type-arg] - a list of reachgraph.audit.Finding
    """The list of `Finding` records `Snapshot.audit()` returns, most severe first; `.to_frame()` is the
    DataFrame view, and Jupyter shows it as that table."""

    def to_frame(self) -> pd.DataFrame:
        """The findings as a DataFrame (see `reachgraph.frames.audit`)."""
        return audit(self)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()  # type: ignore[operator]

