"""reachgraph benchmark: cost per estate size, as ratios against references measured in the same run.

    python bench/run.py --sizes S,M,L --out bench/results/latest.json
    python bench/run.py --profile M            # cProfile of load+build, point queries, query * DST, flows

For every size a fresh subprocess (so sizes do not pollute each other's memory or caches) measures:

  json.load      bare `json.load` of every file of the estate: the floor for loading
  load           read_snapshot + build_model + releasing the raw responses
  build          the graph (Snapshot construction over the model: build_graph)
  engine         QueryEngine construction (first query pays it)
  point query    Snapshot.query(SRC, DST:PORT) between top-level workloads by name; median of many pairs
  reachers       query '*' DST (Snapshot.reachers_of), median over a few destinations
  flows          the full workload flow matrix (Snapshot.flows(include_blocked=True)); if it exceeds the budget,
                 extrapolated from a sample of destinations (marked)
  audit          Snapshot.audit() (reuses the flow matrix already computed, as the API does)
  diagram        Snapshot.diagram(focus=WORKLOAD) to DOT text, median over a few workloads
  peak memory    ru_maxrss of the size's process (and RSS right after load + build)

and the naive reference: the brute-force evaluator of the tests (tests/reference.py: every rule of every group,
one interface pair at a time, security groups only) on the same point queries (every interface pair of the two
workloads) and on a sample of the flow matrix's interface pairs, extrapolated to all of them (marked).

It prints ratios (load+build / json.load; point query / (load+build); flows speed-up over brute force) and the
growth exponent of load, build and point query against interfaces (log-log least squares over the sizes run),
each judged against the growth of its floor in the same run (json.load for load; for build, the same graph in
plain dicts), and writes everything to a JSON file.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))      # tests/reference.py: the brute-force evaluator

# Repetitions of the load measurements, and time budgets (seconds) per phase and size.
REPS = {"XS": 5, "S": 5, "M": 3, "L": 2}
# Build's floor takes well under a millisecond on S: more repetitions there keep its exponent out of the noise.
FLOOR_REPS = {"XS": 9, "S": 9, "M": 5, "L": 2}
BUDGET = {
    "point": {"XS": 20, "S": 30, "M": 60, "L": 120},
    "brute_point": {"XS": 20, "S": 30, "M": 60, "L": 120},
    "reachers": {"XS": 20, "S": 30, "M": 60, "L": 180},
    # The whole matrix (flows are stored by column since 0.x: L's 5 million flows fit in a few hundred MB);
    # 0 would mean "extrapolate from a sample of destinations right away".
    "flows": {"XS": 120, "S": 300, "M": 900, "L": 1800},
    "flows_sample": {"XS": 60, "S": 60, "M": 120, "L": 150},
    "brute_flows": {"XS": 20, "S": 30, "M": 60, "L": 120},
    "audit": {"XS": 60, "S": 120, "M": 300, "L": 600},
    "diagram": {"XS": 20, "S": 30, "M": 60, "L": 120},
}
MEM_LIMIT_GB = {"XS": 4, "S": 4, "M": 8, "L": 12}   # RLIMIT_AS per worker: MemoryError, never the OOM killer
TARGETS = {"load_build_over_json": 3.0, "point_over_load_build": 1 / 1000, "flows_speedup": 100.0,
           "peak_memory_mb": 2048.0}


class BudgetExceeded(Exception):
    """A phase ran out of its time budget."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise BudgetExceeded()


class budget:
    """Interrupt the block after `seconds` (SIGALRM; pure-Python code is interrupted between bytecodes)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> budget:
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: Any) -> bool:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return False


def rss_mb() -> float:
    """Current resident set size."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def peak_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def json_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


# ---------------------------------------------------------------------------------------------------------
# the worker: one size in its own process
# ---------------------------------------------------------------------------------------------------------
def worker(size: str, estate: Path, seed: int, profile_dir: Path | None, res: dict[str, Any]) -> dict[str, Any]:
    """Fill `res` phase by phase (so a killed worker still leaves what it measured)."""
    import reachgraph
    from dataclasses import replace

    from reachgraph.api import Snapshot
    from reachgraph.model.build import build_model
    from reachgraph.snapshot import read_snapshot

    res.update({"size": size, "estate": str(estate), "skipped": [], "notes": [],
                "reachgraph_imported_from": str(Path(reachgraph.__file__).parent)})
    files = json_files(estate)
    res["files"] = len(files)
    res["bytes"] = sum(f.stat().st_size for f in files)
    for f in files:                      # warm the page cache: every measurement reads from memory
        f.read_bytes()
    reps = REPS.get(size, 2)

    # -- references and load -------------------------------------------------------------------------
    def load_json() -> list[Any]:
        out = []
        for f in files:
            with open(f, "rb") as fh:
                out.append(json.load(fh))
        return out

    jl = []
    for _ in range(reps):
        gc.collect()
        t, docs = timed(load_json)
        jl.append(t)
        del docs
    res["json_load_s"] = statistics.median(jl)
    res["json_load_all_s"] = jl
    # secondary floor: the same with the cyclic GC off (a loader may switch it off; then compare with this)
    jn = []
    for _ in range(reps):
        gc.collect()
        gc.disable()
        try:
            t, docs = timed(load_json)
        finally:
            gc.enable()
        jn.append(t)
        del docs
    res["json_load_nogc_s"] = statistics.median(jn)
    gc.collect()
    res["rss_before_load_mb"] = rss_mb()

    loads, models, builds = [], [], []
    snap = None
    for _ in range(reps):
        snap = None
        gc.collect()
        t0 = time.perf_counter()
        raw = read_snapshot(estate)
        t1 = time.perf_counter()
        model = build_model(raw)
        # As reachgraph.load does: the raw responses go before the graph. Freeing them is part of loading (it
        # undoes what read_snapshot made), so it is timed with the model, not with the graph.
        raw = replace(raw, documents=())
        t2 = time.perf_counter()
        snap = Snapshot(raw, model)            # build_graph
        t3 = time.perf_counter()
        loads.append(t1 - t0)
        models.append(t2 - t1)
        builds.append(t3 - t2)
        del raw, model
    assert snap is not None
    # Reference for build: the same nodes and edges put into plain dicts, in the same state (right after the model
    # is made). It is the least any Python graph of this data costs, as json.load is for loading; its growth shows
    # what this machine's caches add as the estate outgrows them.
    snap_kept, snap = snap, None
    floors = []
    for _ in range(FLOOR_REPS.get(size, reps)):
        gc.collect()
        model = build_model(read_snapshot(estate))   # the raw responses are gone when it returns, as in load
        gc.disable()                                   # build runs with the cyclic GC paused
        try:
            t, made = timed(lambda m=model: graph_floor(m))
        finally:
            gc.enable()
        floors.append(t)
        del made, model                                # freed outside the timer, as build's graph is
    snap = snap_kept
    res["graph_floor_s"] = statistics.median(floors)
    # Build's work, free of the machine: the bytecode instructions it executes (Python-level work; each C call,
    # such as a dict insert, counts once). Time's growth beyond it is the memory hierarchy, as the floor shows.
    res["build_bytecodes"] = bytecodes(lambda: Snapshot(snap.raw, snap.model))
    res["read_s"] = statistics.median(loads)
    res["model_s"] = statistics.median(models)
    res["load_s"] = statistics.median([a + b for a, b in zip(loads, models)])
    res["build_s"] = statistics.median(builds)
    res["load_build_s"] = statistics.median([a + b + c for a, b, c in zip(loads, models, builds)])
    gc.collect()
    res["rss_after_load_mb"] = rss_mb()
    res["peak_after_load_mb"] = peak_mb()
    m = snap.model
    # The graph Snapshot keeps: group-level since 2026-11 (snap.graph, the interface-level one, is built on use).
    stored = getattr(snap, "group_graph", None)
    if stored is None:
        stored = snap.graph
    top = [w for w in m.workloads.values() if not (w.parent and w.parent in m.workloads)]
    res["counts"] = {"interfaces": len(m.interfaces), "security_groups": len(m.groups),
                     "rules": sum(len(g.ingress) + len(g.egress) for g in m.groups.values()),
                     "workloads": len(m.workloads), "top_level_workloads": len(top), "vpcs": len(m.vpcs),
                     "subnets": len(m.subnets), "acls": len(m.acls), "route_tables": len(m.route_tables),
                     "graph_nodes": stored.number_of_nodes(), "graph_edges": stored.number_of_edges()}
    res["warnings"] = list(snap.warnings)

    t, _ = timed(lambda: snap._engine)
    res["engine_init_s"] = t

    if profile_dir is not None:
        profile(size, estate, snap, profile_dir, res)
        return res

    rng = random.Random(f"bench:{seed}:{size}")
    queries = point_queries(snap, top, rng, 400)
    mem = res["memory_mb"] = {"rss_after_load": res["rss_after_load_mb"]}

    def phase_done(name: str) -> None:
        mem[f"rss_after_{name}"] = rss_mb()
        mem[f"peak_after_{name}"] = peak_mb()

    # -- point queries ----------------------------------------------------------------------------------
    times, verdicts = [], Counter()
    current: list[Any] = [None, 0.0]
    try:
        with budget(BUDGET["point"][size]):
            for src, dst, port in queries:
                current[:] = [f"{src.name} -> {dst.name}:{port} ({len(src.interface_ids)} x "
                              f"{len(dst.interface_ids)} interfaces)", time.perf_counter()]
                try:
                    t, r = timed(lambda: snap.query(src.name, dst.name, port=port))
                except reachgraph.InputError as exc:
                    verdicts["input error"] += 1
                    res["notes"].append(f"point query {src.name} -> {dst.name}:{port}: {exc}")
                    continue
                times.append(t)
                verdicts[r.verdict] += 1
    except BudgetExceeded:
        res["notes"].append(f"point queries: budget of {BUDGET['point'][size]} s reached after {len(times)}; "
                            f"the query in flight, {current[0]}, had run {time.perf_counter() - current[1]:.1f} s")
    res["point_query"] = {"n": len(times), "median_s": statistics.median(times) if times else None,
                          "p90_s": sorted(times)[int(0.9 * (len(times) - 1))] if times else None,
                          "max_s": max(times) if times else None, "verdicts": dict(verdicts),
                          "note": "Snapshot.query by workload name (resolution included), tcp"}
    phase_done("point")

    # -- query '*' DST --------------------------------------------------------------------------------
    rt: list[float] = []
    dests: list[tuple[str, int]] = []
    for _, dst, port in queries:
        if dst.name not in [d[0] for d in dests]:
            dests.append((dst.name, port))
        if len(dests) == 5:
            break
    t_all = time.perf_counter()
    try:
        with budget(BUDGET["reachers"][size]):
            for name, port in dests:
                t, _ = timed(lambda: snap.reachers_of(name, port=port))
                rt.append(t)
    except BudgetExceeded:
        res["notes"].append(f"query '*' DST: budget of {BUDGET['reachers'][size]} s reached after {len(rt)} of "
                            f"{len(dests)} destinations")
    res["reachers_of"] = {"n": len(rt), "median_s": statistics.median(rt) if rt else None,
                          "all_s": rt, "destinations": [d[0] for d in dests[:len(rt) + 1]]}
    if not rt:
        res["reachers_of"]["timed_out_after_s"] = time.perf_counter() - t_all
        res["reachers_of"]["note"] = f"the first destination ({dests[0][0]}) did not finish within the budget"
    phase_done("reachers")

    # -- the flow matrix --------------------------------------------------------------------------------
    flows_info, flows = flow_matrix(snap, size, rng)
    res["flows"] = flows_info
    phase_done("flows")

    # -- audit -------------------------------------------------------------------------------------------
    if hasattr(snap, "audit"):
        if flows_info.get("extrapolated"):
            res["skipped"].append("audit: the flow matrix did not finish within its budget, so audit (which "
                                  "needs it) was not run")
        else:
            try:
                with budget(BUDGET["audit"][size]):
                    t, findings = timed(snap.audit)
                res["audit"] = {"seconds": t, "findings": len(findings),
                                "by_code": dict(Counter(getattr(f, "code", "?") for f in findings)),
                                "note": "flow matrix already computed (cached), as Snapshot.audit() reuses it"}
            except BudgetExceeded:
                res["audit"] = {"seconds": None, "timed_out_after_s": BUDGET["audit"][size]}
        phase_done("audit")
    else:
        res["skipped"].append("audit: Snapshot.audit() does not exist")

    # -- diagram of a focus view -------------------------------------------------------------------------
    if hasattr(snap, "diagram"):
        focus = [w.name for w in sorted(top, key=lambda w: w.key) if w.kind == "ecs_service"]
        focus = rng.sample(focus, min(3, len(focus)))
        dt, sizes = [], []
        try:
            with budget(BUDGET["diagram"][size]):
                for name in focus:
                    t, dot = timed(lambda: snap.diagram(focus=name).source)
                    dt.append(t)
                    sizes.append(len(dot))
        except BudgetExceeded:
            res["notes"].append(f"diagram: budget reached after {len(dt)}")
        res["diagram"] = {"n": len(dt), "median_s": statistics.median(dt) if dt else None, "focus": focus[:len(dt)],
                          "dot_chars": sizes, "note": "diagram model + DOT text; Graphviz layout not included"}
        phase_done("diagram")
    else:
        res["skipped"].append("diagram: Snapshot.diagram() does not exist")

    # reachgraph's own peak: everything above, before the reference loads its own copy of the raw JSON
    res["peak_mb"] = peak_mb()

    # -- the full interface-level graph (Snapshot.graph), which none of the above needs: timed, then dropped --
    if hasattr(snap, "group_graph"):
        from reachgraph.graph import expand_graph  # noqa: PLC0415 - absent from engines before the group graph
        t, full = timed(lambda: expand_graph(snap.reach))
        res["full_graph"] = {"seconds": t, "nodes": full.number_of_nodes(), "edges": full.number_of_edges(),
                             "note": "Snapshot.graph on first use; not part of load, queries or peak_mb"}
        del full
        gc.collect()

    # -- the brute-force reference: the same point queries, and a sample of the flow matrix ------------
    ref, ref_build_s = reference_of(estate)
    res["reference_index_s"] = ref_build_s
    if ref is None:
        res["skipped"].append("brute force: tests/reference.py not found")
    else:
        bt, pairs = [], 0
        try:
            with budget(BUDGET["brute_point"][size]):
                for src, dst, port in queries[:len(times)]:
                    t0 = time.perf_counter()
                    pairs += brute_pairs(ref, m, src, dst, port)
                    bt.append(time.perf_counter() - t0)
        except BudgetExceeded:
            res["notes"].append(f"brute-force point queries: budget reached after {len(bt)}")
        res["brute_point_query"] = {"n": len(bt), "median_s": statistics.median(bt) if bt else None,
                                    "interface_pairs": pairs}
        if flows_info.get("interface_pairs"):
            res["brute_flows"] = brute_flows(ref, snap, flows, flows_info, size, rng)
    res["peak_with_reference_mb"] = peak_mb()
    res["rss_end_mb"] = rss_mb()
    return res


def graph_floor(model: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Put build_graph's nodes and edges into plain dicts and return them (successors, predecessors, node
    attributes): per node a successor, a predecessor and an attribute dict with build's keys; per edge an attribute
    dict; per node pair one list both sides share (NetworkX's key dict)."""
    succ: dict[str, dict[str, list[dict[str, Any]]]] = {}
    pred: dict[str, dict[str, list[dict[str, Any]]]] = {}
    attrs: dict[str, dict[str, Any]] = {}

    def node(n: str, a: dict[str, Any]) -> None:
        succ[n], pred[n], attrs[n] = {}, {}, a

    def edge(u: str, v: str, a: dict[str, Any]) -> None:
        if v not in attrs:                             # NetworkX adds an unknown end with no attributes
            node(v, {})
        pair = succ[u].get(v)
        if pair is None:
            pair = succ[u][v] = pred[v][u] = []
        pair.append(a)

    for vpc in model.vpcs.values():
        node(vpc.id, {"kind": "vpc", "obj": vpc, "account": vpc.account, "region": vpc.region})
    for sub in model.subnets.values():
        node(sub.id, {"kind": "subnet", "obj": sub, "account": sub.account, "region": sub.region})
        if sub.vpc_id:
            edge(sub.id, sub.vpc_id, {"kind": "in_vpc"})
    for grp in model.groups.values():
        node(grp.id, {"kind": "security_group", "obj": grp, "name": grp.name, "account": grp.account,
                      "region": grp.region, "missing": False})
        if grp.vpc_id:
            edge(grp.id, grp.vpc_id, {"kind": "in_vpc"})
    index = getattr(model, "interface_index", None)     # absent before 2a85133: members come from interfaces
    members = index.members if index is not None else {g for i in model.interfaces.values() for g in i.group_ids}
    for gid in sorted(members):
        if gid not in attrs:
            node(gid, {"kind": "security_group", "obj": None, "name": gid, "missing": True})
    for pl in model.prefix_lists.values():
        node(pl.id, {"kind": "prefix_list", "obj": pl, "name": pl.name})
    for grp in model.groups.values():
        for rule in grp.ingress + grp.egress:
            kind, peer = rule.peer_kind, rule.peer
            if kind == "group" or kind == "prefix_list":
                if peer not in attrs:
                    node(peer, {"kind": "security_group" if kind == "group" else "prefix_list", "obj": None,
                                "name": peer, "missing": True})
            else:
                cidr, peer = peer, f"cidr:{peer}"
                if peer not in attrs:
                    node(peer, {"kind": "cidr", "cidr": cidr})
            u, v = (peer, grp.id) if rule.direction == "ingress" else (grp.id, peer)
            edge(u, v, {"kind": "rule", "direction": rule.direction, "rule": rule,
                        "reason": getattr(rule, "reason", None)})
    return succ, pred, attrs


def bytecodes(fn: Callable[[], Any]) -> int:
    """Bytecode instructions fn() executes (every Python frame, traced; C code such as dict inserts counts as the
    instruction that calls it)."""
    n = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal n
        if event == "call":
            frame.f_trace_opcodes = True
        elif event == "opcode":
            n += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return n


def point_queries(snap: Any, top: list[Any], rng: random.Random, n: int) -> list[tuple[Any, Any, int]]:
    """Half random pairs of top-level workloads, half pairs a destination rule names (likely reachable)."""
    m = snap.model
    top = sorted(top, key=lambda w: w.key)
    by_group: dict[str, list[Any]] = defaultdict(list)
    for w in top:
        for g in set(w.group_ids) | {g for e in w.interface_ids if e in m.interfaces for g in m.interfaces[e].group_ids}:
            by_group[g].append(w)
    out = []
    while len(out) < n and len(top) > 1:
        dst = rng.choice(top)
        rules = [r for g in sorted(_groups_of(m, dst)) if g in m.groups for r in m.groups[g].ingress]
        port = dst.default_port
        if port is None:
            singles = [r.from_port for r in rules if r.protocol == "tcp" and r.from_port == r.to_port]
            port = singles[0] if singles else 22
        src = None
        if len(out) % 2:
            named = [w for r in rules if r.peer_kind == "group" for w in by_group.get(r.peer, ()) if w.key != dst.key]
            if named:
                src = rng.choice(named)
        if src is None:
            src = rng.choice(top)
            if src.key == dst.key:
                continue
        out.append((src, dst, port))
    return out


def _groups_of(m: Any, w: Any) -> set[str]:
    return set(w.group_ids) | {g for e in w.interface_ids if e in m.interfaces for g in m.interfaces[e].group_ids}


# -- the brute-force reference --------------------------------------------------------------------------
def reference_of(estate: Path) -> tuple[Any, float]:
    """tests/reference.Reference over the merged raw documents of every file, and the time to index them."""
    try:
        import reference  # type: ignore[import-not-found]
    except ImportError:
        return None, 0.0
    t0 = time.perf_counter()
    docs: dict[str, list[Any]] = defaultdict(list)
    accounts = set()
    for f in json_files(estate):
        rel = f.relative_to(estate).parts
        if len(rel) == 3:
            accounts.add(rel[0])
        data = json.loads(f.read_bytes())
        for k, v in data.items():
            if isinstance(v, list):
                docs[k].extend(v)
    ref = reference.Reference(docs, accounts)
    return ref, time.perf_counter() - t0


def brute_pairs(ref: Any, m: Any, src: Any, dst: Any, port: int, protocol: str = "tcp") -> int:
    """Every interface pair of two workloads through the reference; returns how many pairs."""
    import reference  # type: ignore[import-not-found]

    pkt = reference.Packet(protocol=reference.PROTOCOL_NUMBERS.get(protocol, 6), port=port)
    s_ids = [e for e in src.interface_ids if e in ref.interfaces and ref.private_ips(ref.interfaces[e])]
    d_ids = [e for e in dst.interface_ids if e in ref.interfaces and ref.private_ips(ref.interfaces[e])]
    for s in s_ids:
        for d in d_ids:
            ref.verdict(("eni", s), ("eni", d), pkt)
    return len(s_ids) * len(d_ids)


def flow_matrix(snap: Any, size: str, rng: random.Random) -> tuple[dict[str, Any], list[Any]]:
    """The whole matrix within the budget; else an estimate from a sample of destinations (marked)."""
    info: dict[str, Any] = {}
    if not hasattr(snap, "flows"):
        info["method"] = "reachable_from over every workload (Snapshot.flows() missing)"
        return _fanout_matrix(snap, size, info), []
    info["method"] = "Snapshot.flows(include_blocked=True)"
    try:
        if not BUDGET["flows"][size]:
            raise BudgetExceeded()
        with budget(BUDGET["flows"][size]):
            t, flows = timed(lambda: snap.flows(include_blocked=True))
        verdicts: Counter[str] = Counter()
        pairs = 0
        for f in flows:            # read one record at a time: the matrix may hold millions
            verdicts[f.verdict] += 1
            pairs += f.pairs
        info.update(seconds=t, extrapolated=False, flows=len(flows), verdicts=dict(verdicts), interface_pairs=pairs)
        stats = getattr(snap.flow_analysis, "stats", None)
        if stats is not None:
            info["stats"] = stats.to_dict()
        return info, flows
    except BudgetExceeded:
        pass
    # Too slow for the budget: time whole destinations (what FlowAnalysis._compute does for each) and scale.
    from reachgraph.flows import INTERNET, FlowAnalysis
    from reachgraph.query import QueryEngine

    if BUDGET["flows"][size]:
        info["timed_out_after_s"] = BUDGET["flows"][size]
    else:
        info["not_attempted"] = "the whole matrix is not attempted at this size (see BUDGET in bench/run.py)"
    # A dedicated engine, dropped afterwards, so its caches do not count against later phases.
    gc.collect()
    rss0 = rss_mb()
    fa = FlowAnalysis(snap.reach, QueryEngine(snap.reach))
    tops = sorted(fa.top)
    order = tops[:]
    rng.shuffle(order)
    done, spent = 0, 0.0
    try:
        with budget(BUDGET["flows_sample"][size]):
            for dkey in order:
                t0 = time.perf_counter()
                per_source = fa._sources_for(dkey, internet=False)
                for skey in sorted(per_source):
                    if skey == dkey or skey == INTERNET:
                        continue
                    for cand, basis in sorted(per_source[skey].items()):
                        fa._matrix_flow(skey, dkey, cand, basis)   # what FlowAnalysis._compute does
                spent += time.perf_counter() - t0
                done += 1
    except BudgetExceeded:
        pass
    except MemoryError:
        info["memory_error"] = f"MemoryError after {done} destinations (RLIMIT_AS {MEM_LIMIT_GB.get(size)} GB)"
    flows = list(fa._table.view(include_blocked=True))
    info["rss_growth_mb"] = rss_mb() - rss0
    info["rss_growth_mb_per_s"] = info["rss_growth_mb"] / spent if spent else None
    del fa
    gc.collect()
    scale = len(tops) / max(done, 1)
    info.update(extrapolated=True, sampled_destinations=done, destinations=len(tops),
                sample_seconds=spent, seconds=spent * scale, flows=round(len(flows) * scale),
                interface_pairs=round(sum(f.pairs for f in flows) * scale),
                verdicts=dict(Counter(f.verdict for f in flows)),
                note=f"extrapolated from {done} of {len(tops)} destinations chosen at random "
                     + (f"(after the full matrix exceeded {BUDGET['flows'][size]} s)" if BUDGET["flows"][size]
                        else "(the full matrix was not attempted at this size)"))
    return info, flows


def _fanout_matrix(snap: Any, size: str, info: dict[str, Any]) -> dict[str, Any]:
    from reachgraph.fanout import reachable_from, top_level_workloads

    eng = snap._engine
    tops = top_level_workloads(eng)
    done, spent = 0, 0.0
    try:
        with budget(BUDGET["flows"][size]):
            for w in tops:
                t0 = time.perf_counter()
                reachable_from(eng, w.name)
                spent += time.perf_counter() - t0
                done += 1
    except BudgetExceeded:
        pass
    info.update(seconds=spent * len(tops) / max(done, 1), extrapolated=done < len(tops), sampled_sources=done,
                sources=len(tops))
    return info


def brute_flows(ref: Any, snap: Any, flows: list[Any], info: dict[str, Any], size: str,
                rng: random.Random) -> dict[str, Any]:
    """Time per interface pair of the brute force over a sample of flows, times every pair of the matrix."""
    import reference  # type: ignore[import-not-found]

    m = snap.model
    # Random flows, read one at a time (the matrix may hold millions; never materialise them, nor a list of all
    # their indices).
    order = rng.sample(range(len(flows)), min(len(flows), 500_000))
    sample = (f for f in (flows[i] for i in order) if f.protocol in ("tcp", "udp") and f.port is not None
              and f.source in m.workloads and f.destination in m.workloads)
    pairs, spent, n = 0, 0.0, 0
    try:
        with budget(BUDGET["brute_flows"][size]):
            for f in sample:
                pkt = reference.Packet(protocol=reference.PROTOCOL_NUMBERS[f.protocol], port=f.port)
                s_ids = [e for e in m.workloads[f.source].interface_ids if e in ref.interfaces]
                d_ids = [e for e in m.workloads[f.destination].interface_ids if e in ref.interfaces]
                t0 = time.perf_counter()
                for s in s_ids:
                    for d in d_ids:
                        ref.verdict(("eni", s), ("eni", d), pkt)
                spent += time.perf_counter() - t0
                pairs += len(s_ids) * len(d_ids)
                n += 1
    except BudgetExceeded:
        pass
    per_pair = spent / pairs if pairs else None
    total = info["interface_pairs"]
    est = per_pair * total if per_pair else None
    return {"sampled_flows": n, "sampled_pairs": pairs, "sample_seconds": spent, "seconds_per_pair": per_pair,
            "matrix_interface_pairs": total, "seconds": est, "extrapolated": True,
            "note": f"measured on {pairs} interface pairs of {n} random flows, extrapolated to the matrix's "
                    f"{total} interface pairs; security groups only (the reference checks no ACL or route), "
                    "so the naive cost is understated"}


# -- profiling ----------------------------------------------------------------------------------------------
def profile(size: str, estate: Path, snap: Any, out_dir: Path, res: dict[str, Any]) -> None:
    """cProfile of load+build and of the flow matrix; top functions by cumulative and by own time."""
    import cProfile
    import io
    import pstats

    from reachgraph.api import Snapshot
    from reachgraph.model.build import build_model
    from reachgraph.snapshot import read_snapshot

    out_dir.mkdir(parents=True, exist_ok=True)

    def dump(pr: cProfile.Profile, name: str, wall: float, extra: str = "") -> None:
        pr.dump_stats(str(out_dir / f"profile-{size}-{name}.prof"))
        buf = io.StringIO()
        buf.write(f"# {name} on {size}: {wall:.2f} s wall under cProfile{extra}\n\n")
        for key in ("cumulative", "tottime"):
            buf.write(f"## sorted by {key}\n")
            st = pstats.Stats(pr, stream=buf)
            st.strip_dirs().sort_stats(key).print_stats(30)
        (out_dir / f"profile-{size}-{name}.txt").write_text(buf.getvalue())
        res.setdefault("profiles", {})[name] = {"wall_s": wall, "text": str(out_dir / f"profile-{size}-{name}.txt")}

    snap_ref = [None]
    pr = cProfile.Profile()
    gc.collect()
    t0 = time.perf_counter()
    pr.enable()
    raw = read_snapshot(estate)
    snap_ref[0] = Snapshot(raw, build_model(raw))
    pr.disable()
    dump(pr, "load_build", time.perf_counter() - t0)
    s2 = snap_ref[0]
    m = s2.model
    top = [w for w in m.workloads.values() if not (w.parent and w.parent in m.workloads)]
    queries = point_queries(s2, top, random.Random(f"bench:profile:{size}"), 200)
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    for src, dst, port in queries:
        try:
            s2.query(src.name, dst.name, port=port)
        except Exception:  # noqa: BLE001 - an input error is not what is profiled
            pass
    pr.disable()
    dump(pr, "point", time.perf_counter() - t0, f"; {len(queries)} point queries")
    dests = list(dict.fromkeys((d.name, p) for _, d, p in queries))[:3]
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    try:
        with budget(BUDGET["reachers"][size] * 2):
            for name, port in dests:
                s2.reachers_of(name, port=port)
    except BudgetExceeded:
        pass
    pr.disable()
    dump(pr, "reachers", time.perf_counter() - t0, f"; query '*' DST for {', '.join(d[0] for d in dests)}")
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    timed_out = False
    try:
        with budget(BUDGET["flows"][size] * 2):
            flows = s2.flows(include_blocked=True)
    except BudgetExceeded:
        timed_out = True
        flows = []
    pr.disable()
    dump(pr, "flows", time.perf_counter() - t0,
         " (interrupted at the budget)" if timed_out else f"; {len(flows)} flows")


# ---------------------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2 ** 20:.1f} GiB"
                break
    except OSError:
        pass
    commit = "?"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        import reachgraph
        engine = str(Path(reachgraph.__file__).parent)
    except ImportError:
        engine = "?"
    return {"reachgraph_imported_from": engine, "nproc": os.cpu_count(), "memory": mem, "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "git_head": commit,
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}


def ensure_estate(size: str, seed: int, estates: Path) -> tuple[Path, float | None]:
    folder = estates / f"{size}-seed{seed}"
    if (folder / "SYNTH-INFO.txt").exists():
        return folder, None
    if folder.exists():
        import shutil
        shutil.rmtree(folder)
    from reachgraph.synth import generate

    t, _ = timed(lambda: generate(size, seed, folder))
    return folder, t


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y against log x."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x and y and x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else None


# How much faster than linear a cost may grow, beyond what its floor shows the machine adds.
GROWTH_SLACK = 0.1
# Growth entries: the floors and build's work, each next to what it is measured from.
JSON_NOGC = "json.load, GC off (load's floor)"
GRAPH_FLOOR = "dict graph (build's floor)"
BUILD_WORK = "build's bytecodes (its work)"
# Each judged cost and its floor in the same run (None: judged against linear alone). Load runs with the cyclic GC
# paused, so its floor is json.load with the GC off too: with it on, json.load's own GC passes grow 1.28.
GROWTH_FLOORS = {"load": JSON_NOGC, "build": GRAPH_FLOOR, "point query": None}


def growth_checks(growth: dict[str, Any]) -> dict[str, tuple[float, float, bool]]:
    """Judge "cost grows no worse than linearly": each time exponent against max(1, its floor's) + slack, and
    build's work (bytecodes) against 1 + slack.

    A floor is the least the same work costs on this machine (json.load of the same files; the same graph in plain
    dicts). Its exponent rises above 1 when the data outgrows the CPU caches, so the excess over it, not over 1,
    is what the code adds; a floor below 1 (noise on the small sizes) never loosens the limit. Bytecodes count
    Python-level work only: a C call (a dict insert, a sort) counts as one instruction.
    """
    checks: dict[str, tuple[float, float, bool]] = {}
    for name, floor_name in GROWTH_FLOORS.items():
        value = growth.get(name)
        if value is None:
            continue
        floor = growth.get(floor_name) if floor_name else None
        if floor is None:
            label = f"{name} exponent <= 1 + {GROWTH_SLACK}"
        else:
            label = f"{name} exponent <= max(1, exponent of {floor_name.split(' (')[0]}) + {GROWTH_SLACK}"
        limit = max(1.0, floor or 1.0) + GROWTH_SLACK
        checks[label] = value, limit, value <= limit
    work = growth.get(BUILD_WORK)
    if work is not None:
        checks[f"build's work exponent <= 1 + {GROWTH_SLACK}"] = work, 1.0 + GROWTH_SLACK, work <= 1.0 + GROWTH_SLACK
    return checks


def derive(r: dict[str, Any]) -> dict[str, Any]:
    """Ratios of one size."""
    d: dict[str, Any] = {}
    if r.get("json_load_s"):
        d["load_build_over_json"] = r["load_build_s"] / r["json_load_s"]
    pq = (r.get("point_query") or {}).get("median_s")
    if pq:
        d["point_over_load_build"] = pq / r["load_build_s"]
        bp = (r.get("brute_point_query") or {}).get("median_s")
        if bp:
            d["point_speedup_vs_brute"] = bp / pq
    fl = (r.get("flows") or {}).get("seconds")
    bf = (r.get("brute_flows") or {}).get("seconds")
    if fl and bf:
        d["flows_speedup_vs_brute"] = bf / fl
    return d


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    if x < 1e-3:
        return f"{x * 1e6:.0f}us"
    if x < 1:
        return f"{x * 1e3:.1f}ms"
    return f"{x:.2f}s"


def report(results: dict[str, Any]) -> str:
    sizes = [s for s in results["sizes"]]
    lines = []
    hdr = ("size", "ifaces", "groups", "wl", "json.load", "load", "build", "load+build", "ratio<=3",
           "point q", "q/(l+b)", "q vs brute", "'*' DST", "flows", "brute flows", "speed-up", "audit", "diagram", "peak MB")
    rows = []
    for s in sizes:
        r = results["results"][s]
        d = r.get("derived", {})
        c = r.get("counts", {})
        fl = r.get("flows") or {}
        bf = r.get("brute_flows") or {}
        rows.append((s, str(c.get("interfaces", "-")), str(c.get("security_groups", "-")),
                     str(c.get("top_level_workloads", "-")), fmt_s(r.get("json_load_s")), fmt_s(r.get("load_s")),
                     fmt_s(r.get("build_s")), fmt_s(r.get("load_build_s")),
                     f"{d['load_build_over_json']:.2f}" if "load_build_over_json" in d else "-",
                     fmt_s((r.get("point_query") or {}).get("median_s")),
                     f"{d['point_over_load_build']:.2e}" if "point_over_load_build" in d else "-",
                     f"{d['point_speedup_vs_brute']:.1f}x" if "point_speedup_vs_brute" in d else "-",
                     fmt_s((r.get("reachers_of") or {}).get("median_s")) if (r.get("reachers_of") or {}).get("n")
                     else ">" + fmt_s(r["reachers_of"]["timed_out_after_s"])
                     if (r.get("reachers_of") or {}).get("timed_out_after_s") else "-",
                     fmt_s(fl.get("seconds")) + ("*" if fl.get("extrapolated") else ""),
                     fmt_s(bf.get("seconds")) + ("*" if bf.get("extrapolated") else ""),
                     f"{d['flows_speedup_vs_brute']:.1f}x" if "flows_speedup_vs_brute" in d else "-",
                     fmt_s((r.get("audit") or {}).get("seconds")) if (r.get("audit") or {}).get("seconds")
                     else (">" + fmt_s(r["audit"]["timed_out_after_s"]) if (r.get("audit") or {}).get(
                         "timed_out_after_s") else "skip" if any(x.startswith("audit") for x in r.get("skipped", []))
                         else "-"),
                     fmt_s((r.get("diagram") or {}).get("median_s")),
                     f"{r['peak_mb']:.0f}" if r.get("peak_mb") else "-"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(hdr)]
    lines.append("  ".join(h.rjust(w) for h, w in zip(hdr, widths)))
    for row in rows:
        lines.append("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    lines.append("* extrapolated (see notes in the JSON result)")
    g = results.get("growth") or {}
    if g:
        lines.append("growth exponent vs interfaces (log-log least squares over " + ", ".join(g.get("sizes", []))
                     + "): " + ", ".join(f"{k} {v:.2f}" for k, v in g.items() if isinstance(v, float)))
    for s in sizes:
        r = results["results"][s]
        for n in r.get("skipped", []):
            lines.append(f"[{s}] skipped: {n}")
        for n in r.get("notes", []):
            lines.append(f"[{s}] note: {n}")
        if r.get("error"):
            lines.append(f"[{s}] ERROR: {r['error']}")
    tg = results.get("targets")
    if tg:
        lines.append("targets (issue 8, judged on the largest size run, " + tg["size"] + "): " +
                     "; ".join(f"{k} {'met' if v['met'] else 'NOT met'} ({v['value']:.3g} vs {v['target']:.3g})"
                               for k, v in tg["checks"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="S,M", help="comma-separated: XS, S, M, L")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="result JSON (default bench/results/latest.json; with --profile, "
                                  "bench/results/profile-SIZE.json)")
    ap.add_argument("--estates", default=str(ROOT / "bench" / "estates"), help="where generated estates are kept")
    ap.add_argument("--profile", metavar="SIZE", help="profile load+build and flows on SIZE instead of benchmarking")
    ap.add_argument("--worker", metavar="SIZE", help=argparse.SUPPRESS)
    ap.add_argument("--estate", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--profile-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        res: dict[str, Any] = {}

        def terminated(signum: int, _frame: Any) -> None:
            raise SystemExit(f"terminated by signal {signum}")

        signal.signal(signal.SIGTERM, terminated)
        limit = MEM_LIMIT_GB.get(args.worker.upper(), 8) * 2 ** 30
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            worker(args.worker, Path(args.estate), args.seed, Path(args.profile_dir) if args.profile_dir else None,
                   res)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported in the result, not a crash of the driver
            import traceback
            res.update(size=args.worker, error=f"{type(exc).__name__}: {exc} (the phases before it are kept)",
                       traceback=traceback.format_exc())
        Path(args.result).write_text(json.dumps(res, indent=1, default=str))
        return 0

    estates = Path(args.estates)
    sizes = [args.profile.upper()] if args.profile else [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    results: dict[str, Any] = {"machine": machine(), "seed": args.seed, "sizes": sizes, "results": {},
                               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "budgets_s": BUDGET}
    default_dir = ROOT / "bench" / "results"
    out = Path(args.out) if args.out else (default_dir / (f"profile-{sizes[0]}.json" if args.profile else "latest.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        folder, gen_s = ensure_estate(size, args.seed, estates)
        print(f"[{size}] estate {folder}" + (f" (generated in {gen_s:.1f} s)" if gen_s else ""), flush=True)
        tmp = out.parent / f".worker-{size}-{os.getpid()}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", size, "--estate", str(folder),
               "--seed", str(args.seed), "--result", str(tmp)]
        if args.profile:
            cmd += ["--profile-dir", str(out.parent)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd)
        wall = time.perf_counter() - t0
        if tmp.exists():
            r = json.loads(tmp.read_text())
            tmp.unlink()
        else:
            r = {"size": size, "error": f"worker exited with {proc.returncode} and wrote no result"}
        r["wall_s"] = wall
        if gen_s is not None:
            r["generate_s"] = gen_s
        if r.get("load_build_s"):
            r["derived"] = derive(r)
        results["results"][size] = r
        print(f"[{size}] done in {wall:.0f} s", flush=True)
    ok = [s for s in sizes if results["results"][s].get("load_build_s") and not args.profile]
    if len(ok) >= 2:
        xs = [results["results"][s]["counts"]["interfaces"] for s in ok]
        g: dict[str, Any] = {"sizes": ok}
        for name, key in (("json.load", "json_load_s"), (JSON_NOGC, "json_load_nogc_s"), ("load", "load_s"),
                          ("build", "build_s"), ("load+build", "load_build_s"), (GRAPH_FLOOR, "graph_floor_s"),
                          (BUILD_WORK, "build_bytecodes")):
            g[name] = slope(xs, [results["results"][s].get(key) for s in ok])
        g["point query"] = slope(xs, [(results["results"][s].get("point_query") or {}).get("median_s") for s in ok])
        g["flows"] = slope(xs, [(results["results"][s].get("flows") or {}).get("seconds") for s in ok])
        results["growth"] = {k: v for k, v in g.items() if v is not None}
    if ok:
        big = ok[-1]
        r = results["results"][big]
        d = r.get("derived", {})
        checks = {}
        if "load_build_over_json" in d:
            checks["load+build/json.load <= 3"] = d["load_build_over_json"], TARGETS["load_build_over_json"], \
                d["load_build_over_json"] <= TARGETS["load_build_over_json"]
        if "point_over_load_build" in d:
            checks["point/(load+build) < 1/1000"] = d["point_over_load_build"], TARGETS["point_over_load_build"], \
                d["point_over_load_build"] < TARGETS["point_over_load_build"]
        if "flows_speedup_vs_brute" in d:
            checks["flows speed-up >= 100x"] = d["flows_speedup_vs_brute"], TARGETS["flows_speedup"], \
                d["flows_speedup_vs_brute"] >= TARGETS["flows_speedup"]
        if r.get("peak_mb"):
            checks["peak memory < 2 GB"] = r["peak_mb"], TARGETS["peak_memory_mb"], \
                r["peak_mb"] < TARGETS["peak_memory_mb"]
        checks.update(growth_checks(results.get("growth") or {}))
        results["targets"] = {"size": big, "checks": {k: {"value": v[0], "target": v[1], "met": v[2]}
                                                      for k, v in checks.items()}}
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    if not args.profile:
        print(report(results))
    else:
        for name, p in (results["results"][sizes[0]].get("profiles") or {}).items():
            print(f"profile {name}: {p['wall_s']:.1f} s -> {p['text']}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
