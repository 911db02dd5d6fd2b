"""The Python API: load a snapshot once, then ask it questions. The CLI is a thin layer over this."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import networkx as nx

from reachgraph import frames
from reachgraph.fanout import WILDCARD, FanoutRow, reachable_from, reachers_of
from reachgraph.frames import FindingList, FlowList
from reachgraph.gc_pause import collect_handed_off
from reachgraph.graph import ReachGraph, build_graph, expand_graph
from reachgraph.model.build import build_model
from reachgraph.model.records import Model
from reachgraph.query import QueryEngine
from reachgraph.resolve import split_destination
from reachgraph.snapshot import CollectionError, RawSnapshot, read_snapshot

if TYPE_CHECKING:
    import pandas as pd


class Snapshot:
    """A loaded snapshot: the model, the graph, and the questions you can ask of them."""

    def __init__(self, raw: RawSnapshot, model: Model | None = None) -> None:
        self.model: Model = model if model is not None else build_model(raw)
        self.reach: ReachGraph = build_graph(self.model)
        # The model holds everything answers need; the raw responses would only double the memory.
        self.raw = replace(raw, documents=())

    def with_model(self, model: Model) -> Snapshot:
        """A new Snapshot over a changed model (what-if analysis); this one is untouched."""
        return Snapshot(self.raw, model)

    def with_changes(self, changes: Any) -> Snapshot:
        """A new Snapshot with proposed changes applied (what-if); this one is untouched.

        `changes`: reachgraph.whatif change records and/or --assume strings, e.g.
        'authorize-ingress sg-0454e74e2924a7754 tcp 6379 sg-0864e6f6aee2a5cf4', 'move api sg-...' or an
        'aws ec2 authorize-security-group-ingress ...' command. Changes that cannot apply as written are
        listed in the new snapshot's `warnings`.
        """
        from reachgraph.whatif import apply_to_model  # noqa: PLC0415 - what-if code loads only when used

        return self.with_model(apply_to_model(self.model, changes)[0])

    def with_plan(self, plan: Any) -> tuple[Snapshot, list[str]]:
        """This snapshot as it would be after a Terraform plan (`terraform show -json PLANFILE` path or dict).

        Returns the new Snapshot and the warnings: resources the plan changes that reachgraph does not model,
        values unknown until apply that could not be traced, changes AWS would refuse. This one is untouched.
        """
        from reachgraph.whatif import apply_whatif  # noqa: PLC0415 - what-if code loads only when used

        result = apply_whatif(self, plan=plan)
        return result.snapshot, list(result.warnings)

    @property
    def source(self) -> str:
        """Where the snapshot was read from."""
        return self.raw.source

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The full NetworkX graph: interfaces, groups, workloads and their parts, subnets, VPCs, peers.

        Built on first use from the group-level graph (`group_graph`) and the model; on 100k interfaces
        that takes seconds and some hundreds of MB, which queries, audit and diagrams never need.
        """
        return expand_graph(self.reach)

    @property
    def group_graph(self) -> nx.MultiDiGraph:
        """The group-level NetworkX graph every answer reads: VPCs, subnets, groups, prefix lists, address blocks;
        one edge per rule (interfaces and workloads are in `graph`)."""
        return self.reach.graph

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things the loader noticed (ignored keys, ...)."""
        return self.model.warnings

    @property
    def errors(self) -> tuple[CollectionError, ...]:
        """Calls the collector could not make; answers that need their data are `unknown`."""
        return self.raw.errors

    @cached_property
    def _engine(self) -> QueryEngine:
        return QueryEngine(self.reach)

    def query(self, source: str, destination: str, port: int | None = None, protocol: str | None = None, *,
              ephemeral_ports: tuple[int, int] | None = None, ip_version: int | None = None) -> Any:
        """Can SOURCE reach DESTINATION[:PORT][/PROTOCOL]? Same result object the CLI prints.

        ephemeral_ports: the client's reply port range for stateless ACLs (default 32768-60999, Linux/ECS);
        ip_version: 6 to evaluate IPv6 addresses (default: IPv6 only when an IPv6 address is named).
        With '*' as SOURCE or DESTINATION, returns a pandas DataFrame of the fan-out instead.
        """
        if source.strip() == WILDCARD:
            return self.reachers_of(destination, port=port, protocol=protocol)
        if split_destination(destination)[0] == WILDCARD:
            return self.reachable_from(source)
        return self._engine.query(source, destination, port=port, protocol=protocol, ephemeral=ephemeral_ports,
                                  ip_version=ip_version)

    def reachable_from(self, source: str) -> pd.DataFrame:
        """Everything SOURCE reaches, one row per destination and port (blocked ones omitted)."""
        return _frame(reachable_from(self._engine, source))

    def reachers_of(self, destination: str, port: int | None = None, protocol: str | None = None) -> pd.DataFrame:
        """Every workload, referenced group, CIDR and the internet that reaches DESTINATION."""
        return _frame(reachers_of(self._engine, destination, port=port, protocol=protocol))

    # -- DataFrame views (reachgraph.frames): what the engine sees, one row per thing ---------------------------
    def security_groups(self) -> pd.DataFrame:
        """One row per security group: id, name, vpc, members (interfaces), rule counts, referenced_by, ..."""
        return frames.security_groups(self.reach)

    def rules(self) -> pd.DataFrame:
        """One row per security-group rule and peer; from_port/to_port are integers (Int64), not strings."""
        return frames.rules(self.reach)

    def interfaces(self) -> pd.DataFrame:
        """One row per network interface: addresses, groups, subnet, the workloads it belongs to."""
        return frames.interfaces(self.reach)

    def workloads(self, include_members: bool = False) -> pd.DataFrame:
        """One row per workload you can name in a query (with ECS tasks and member clusters if asked)."""
        return frames.workloads(self.reach, include_members=include_members)

    # -- flows, paths, audit, diff, intents (reachgraph.flows / paths / audit / diff / intents) ------------
    @cached_property
    def flow_analysis(self) -> Any:
        """The workload flow matrix, computed once (a reachgraph.flows.FlowAnalysis)."""
        from reachgraph.flows import FlowAnalysis  # noqa: PLC0415

        return FlowAnalysis(self.reach, self._engine)

    def flows(self, include_blocked: bool = False, include_internet: bool = False) -> FlowList:
        """Every workload-to-workload flow with its ports: reachgraph.flows.Flow records, sorted.

        A sequence (`reachgraph.frames.FlowList`) that makes each `Flow` as it is read; `.to_frame()` gives the
        DataFrame, which Jupyter shows.
        """
        view = self.flow_analysis.flows(include_blocked=include_blocked, include_internet=include_internet)
        return FlowList(view.table, view.rows)

    def paths(self, source: str, destination: str, max_hops: int = 4, include_unknown: bool = False) -> Any:
        """Multi-hop paths through workloads, e.g. internet -> alb -> api -> redis (reachgraph.paths.PathsResult)."""
        from reachgraph.paths import find_paths  # noqa: PLC0415

        return find_paths(self.flow_analysis, source, destination, max_hops=max_hops,
                          include_unknown=include_unknown)

    def audit(self) -> FindingList:
        """Findings, most severe first: reachgraph.audit.Finding records.

        A list (`reachgraph.frames.FindingList`); `.to_frame()` gives the DataFrame, which Jupyter shows.
        """
        from reachgraph.audit import Auditor  # noqa: PLC0415

        return FindingList(Auditor(self.reach, self._engine, self.flow_analysis, self.raw).run())

    def diff(self, other: Snapshot) -> Any:
        """What changed from this snapshot (old) to `other` (new): a reachgraph.diff.DiffResult."""
        from reachgraph.diff import diff_analyses  # noqa: PLC0415

        return diff_analyses(self.flow_analysis, other.flow_analysis, self.source, other.source)

    def check(self, intents: Any) -> Any:
        """Check intents (a YAML path or reachgraph.intents.Intent records): a reachgraph.intents.CheckReport."""
        from reachgraph.intents import check_intents  # noqa: PLC0415

        return check_intents(self, intents)

    def __repr__(self) -> str:
        m = self.model
        return (f"<reachgraph.Snapshot {self.source!r}: {len(m.groups)} security groups, {len(m.interfaces)} "
                f"interfaces, {len(m.workloads)} workloads>")

    def diagram(self, *, vpcs: Any = (), focus: str | None = None, depth: int = 1, highlight: Any = None,
                rankdir: str = "LR") -> Any:
        """Every security-group dependency as a `graphviz.Digraph` (Jupyter renders it inline).

        vpcs: only these VPCs; focus/depth: the neighbourhood of a workload, group or address;
        highlight: "SRC -> DST:PORT" (or a QueryResult) to colour what admits and what blocks it.
        `.source` is the DOT text; `.pipe(format="svg")` renders with Graphviz's `dot`.
        """
        from reachgraph.render.diagram_model import build_diagram, parse_highlight  # noqa: PLC0415
        from reachgraph.render.graphviz import to_digraph  # noqa: PLC0415 - graphviz loads only when drawing

        result = self.query(*parse_highlight(highlight)) if isinstance(highlight, str) else highlight
        return to_digraph(build_diagram(self.reach, vpcs=vpcs, focus=focus, depth=depth, highlight=result,
                                        rankdir=rankdir, resolver=self._engine.resolver))


def load(path: str | os.PathLike[str]) -> Snapshot:
    """Load a snapshot folder of AWS CLI JSON, or a snapshot file written by `reachgraph collect`."""
    collect_handed_off()          # free earlier snapshots that are garbage before reading another
    raw = read_snapshot(path)
    model = build_model(raw)
    # The model holds everything answers need, so the raw responses go as soon as it is made (on an organisation's
    # estate they are over a gigabyte; the group-level graph built next is tens of MB).
    raw = replace(raw, documents=())
    return Snapshot(raw, model)



def collect(profiles: Iterable[str] = (), regions: Iterable[str] = (), *, all_regions: bool = False,
            role_arns: Iterable[str] = (), endpoint_url: str | None = None,
            services: str | Iterable[str] | None = None, max_workers: int = 8,
            output: str | os.PathLike[str] | None = None) -> Snapshot:
    """Collect a snapshot from AWS (read-only, as `reachgraph collect` does) and load it.

    Same options as the command: `regions` (or `all_regions`, or the profile's configured region), `profiles`,
    `role_arns` to assume, `endpoint_url` (e.g. a moto server), `services` ("ec2,ecs,..."). With `output`, the
    snapshot file is also written there (.json or .json.gz) and becomes the Snapshot's `source`. Calls that
    failed are in the Snapshot's `errors`; answers that need their data are `unknown`. Needs credentials.
    Also reachable as `reachgraph.collect(...)`; `reachgraph.collect.collect(...)` returns the raw result.
    """
    from pathlib import Path  # noqa: PLC0415

    from reachgraph.collect.api import collect as run_collect  # noqa: PLC0415 - boto3 loads only here
    from reachgraph.snapshot import _from_snapshot_file  # noqa: PLC0415

    result = run_collect(profiles=profiles, regions=regions, all_regions=all_regions, role_arns=role_arns,
                         endpoint_url=endpoint_url, services=services, max_workers=max_workers)
    if output is not None:
        return load(result.write(output))
    manifest = result.document["manifest"]
    where = ",".join(manifest.get("accounts", [])) + "/" + ",".join(manifest.get("regions", []))
    return Snapshot(_from_snapshot_file(Path(f"collect:{where}"), result.document))


def _frame(rows: list[FanoutRow]) -> pd.DataFrame:
    import pandas as pd

    columns = ["source", "source_kind", "destination", "destination_kind", "traffic", "verdict", "via"]
    return pd.DataFrame([r.to_dict() for r in rows], columns=columns)
