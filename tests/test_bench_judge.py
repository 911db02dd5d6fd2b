"""The benchmark's judge (bench/run.py): how issue 8's growth target is decided, and the floor build is judged
against. The benchmark itself is not run here (it takes minutes and times things); these check its logic."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

import reachgraph
from reachgraph import synth

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "dict graph (build's floor)"
JSON_NOGC = "json.load, GC off (load's floor)"
WORK = "build's bytecodes (its work)"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def verdicts(bench: ModuleType, growth: dict[str, float]) -> dict[str, bool]:
    """Check name (its first word or two) -> met."""
    return {label.split(" exponent")[0]: met for label, (_, _, met) in bench.growth_checks(growth).items()}


def test_a_cost_may_grow_as_fast_as_its_floor_but_not_faster(bench: ModuleType) -> None:
    # The machine adds 0.19 to any pass over this data (the floor); build adds nothing beyond it.
    assert verdicts(bench, {"build": 1.11, FLOOR: 1.19}) == {"build": True}
    # The same build time on a machine whose floor is linear grows 0.11 faster than linear: not met.
    assert verdicts(bench, {"build": 1.11, FLOOR: 1.0}) == {"build": False}
    # Faster than the floor by more than the slack: the code adds cost of its own.
    assert verdicts(bench, {"build": 1.35, FLOOR: 1.19}) == {"build": False}


def test_a_quadratic_cost_fails_whatever_the_floor(bench: ModuleType) -> None:
    assert verdicts(bench, {"load": 2.0, JSON_NOGC: 1.28, "build": 1.9, FLOOR: 1.2, WORK: 1.95}) == {
        "load": False, "build": False, "build's work": False}


def test_load_is_judged_against_json_load_with_the_gc_off_as_it_runs(bench: ModuleType) -> None:
    # The loaders pause the cyclic GC; json.load with it on grows faster through GC passes load does not make.
    assert verdicts(bench, {"load": 1.2, "json.load": 1.28, JSON_NOGC: 1.0}) == {"load": False}
    assert verdicts(bench, {"load": 1.05, "json.load": 1.28, JSON_NOGC: 1.0}) == {"load": True}


def test_the_growth_names_are_the_benchmarks(bench: ModuleType) -> None:
    assert (bench.GRAPH_FLOOR, bench.JSON_NOGC, bench.BUILD_WORK) == (FLOOR, JSON_NOGC, WORK)


def test_a_floor_below_linear_never_loosens_the_limit(bench: ModuleType) -> None:
    # Noise on the small sizes can fit a floor below 1; the limit stays 1 + slack.
    assert verdicts(bench, {"build": 1.12, FLOOR: 0.9}) == {"build": False}
    assert verdicts(bench, {"build": 1.08, FLOOR: 0.9}) == {"build": True}


def test_costs_without_a_floor_are_judged_against_linear(bench: ModuleType) -> None:
    assert verdicts(bench, {"point query": 0.05}) == {"point query": True}
    assert verdicts(bench, {"point query": 1.2}) == {"point query": False}
    # One cost's floor does not stand in for another's.
    assert verdicts(bench, {"point query": 1.15, FLOOR: 1.3}) == {"point query": False}
    assert verdicts(bench, {"load": 1.2, FLOOR: 1.3}) == {"load": False}


def test_builds_work_is_judged_against_linear_alone(bench: ModuleType) -> None:
    assert verdicts(bench, {WORK: 0.96}) == {"build's work": True}
    assert verdicts(bench, {WORK: 1.15, FLOOR: 1.3}) == {"build's work": False}


def test_the_floor_holds_the_same_graph_build_makes(bench: ModuleType, tmp_path: Path) -> None:
    """Build's floor must do build's job in plain dicts: the same nodes with the same attributes, the same edges in
    both directions, or its growth means nothing."""
    synth.generate("S", 3, tmp_path / "S")
    snap = reachgraph.load(tmp_path / "S")
    g = snap.group_graph
    succ, pred, attrs = bench.graph_floor(snap.model)
    assert {a.get("kind") for a in attrs.values()} >= {"vpc", "subnet", "security_group", "cidr"}
    assert attrs == dict(g.nodes(data=True))

    def edge_rows(edges: list[tuple[str, str, dict]]) -> list[tuple[str, str, tuple]]:
        return sorted((u, v, tuple(sorted((k, repr(x)) for k, x in d.items()))) for u, v, d in edges)

    floor_edges = [(u, v, d) for u, out in succ.items() for v, pair in out.items() for d in pair]
    assert len(floor_edges) > 400
    assert edge_rows(floor_edges) == edge_rows(list(g.edges(data=True)))
    assert {(u, v) for v, into in pred.items() for u in into} == set(g.edges())
