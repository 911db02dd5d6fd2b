"""Pausing the cyclic GC while loading (reachgraph.gc_pause): what the pause leaves behind.

Python fact relied on: with the collector disabled, allocations still count toward a young collection, so the
first allocation after `gc.enable()` would scan everything made during the pause. `gc.freeze()` then
`gc.unfreeze()` moves every tracked object to the oldest generation without scanning it.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

import reachgraph
from reachgraph import gc_pause
from reachgraph.gc_pause import gc_paused


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def make_many(n: int) -> list[list[int]]:
    return [[i] for i in range(n)]


@pytest.fixture(autouse=True)
def collector_on() -> None:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_what_the_pause_made_is_not_left_for_a_young_collection() -> None:
    started: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(record)
    try:
        with gc_paused():
            kept = make_many(50_000)
            assert not gc.isenabled()
        after = make_many(100)          # left young, the first of these would start a scan of all 50,000
        scans = list(started)
        where = [id(kept) in {id(o) for o in gc.get_objects(generation=g)} for g in range(3)]
    finally:
        gc.callbacks.remove(record)
    assert gc.isenabled() and len(after) == 100
    assert scans == []
    assert where == [False, False, True]


def test_a_cycle_made_during_the_pause_is_still_collected() -> None:
    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
    assert ref() is not None          # a cycle: reference counting alone cannot free it
    gc.collect()
    assert ref() is None              # not frozen: the next full collection frees it


def test_objects_someone_else_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            make_many(1_000)
        assert gc.get_freeze_count() == frozen
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_collector_the_caller_disabled_stays_disabled_and_nested_pauses_restore_once() -> None:
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()      # the inner pause must not switch it back on
    assert gc.isenabled()
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()
    gc.enable()


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "incident-2025-11-07" / "before"


def test_a_dropped_snapshot_is_freed_by_reference_counting_after_queries() -> None:
    """The engine's caches hold their evaluator weakly: a cycle would keep the whole model alive until a full
    collection, which objects handed to the oldest generation do not bring on."""
    snap = reachgraph.load(EXAMPLE)
    names = sorted({w.name for w in snap.model.workloads.values() if not w.parent})
    for a in names[:3]:
        for b in names[:3]:
            if a != b:
                snap.query(a, b, port=6379)
    model = weakref.ref(snap.model)
    gc.disable()
    try:
        del snap
        assert model() is None
    finally:
        gc.enable()


def test_load_frees_earlier_snapshots_left_in_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gc_pause, "COLLECT_AFTER", 1)    # the example is small: collect after any handover
    snap = reachgraph.load(EXAMPLE)
    graph = snap.group_graph
    assert graph.number_of_edges() > 0 and len(graph.nodes) > 0   # NetworkX caches views: the graph is now a cycle
    ref = weakref.ref(graph)
    del snap, graph
    assert ref() is not None
    again = reachgraph.load(EXAMPLE)
    assert ref() is None
    assert again.group_graph.number_of_edges() > 0


def test_handed_off_objects_are_counted_and_a_collection_waits_for_enough_of_them() -> None:
    gc_pause.collect_handed_off()
    before = gc_pause._handed_off
    with gc_paused():
        kept = make_many(50_000)
    assert gc_pause._handed_off - before >= 50_000
    assert len(kept) == 50_000
    if gc_pause._handed_off < gc_pause.COLLECT_AFTER:
        assert gc_pause.collect_handed_off() is False       # not worth a full collection yet
    with gc_paused():
        more = make_many(gc_pause.COLLECT_AFTER)
    assert gc_pause.collect_handed_off() is True
    assert gc_pause._handed_off == 0 and len(more) == gc_pause.COLLECT_AFTER
