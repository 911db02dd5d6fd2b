"""The columnar flow table: what users read is exactly the sorted, filtered list of records that went in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reachgraph.flowtable import EXISTING, INTERNET, VERDICTS, Candidate, Flow, FlowTable

NAMES = ["api", "redis", "web", "db"]
ENDS = [(INTERNET, INTERNET, INTERNET)] + [(f"ecs:{n}:{i}", n, "ecs_service") for n in NAMES for i in range(2)]
CANDS = [Candidate("tcp", "6379", 6379), Candidate("tcp", "443", 443), Candidate("tcp", "all", 0),
         Candidate("udp", "53", 53), Candidate("icmp", "8", 8, 0), Candidate("50", "all")]
TEXTS = [(), ("sgr-1 tcp/6379 from sg-a",), ("ENI_SG_RULES_MISMATCH sg-b: nothing",), ("a", "b")]

flow_rows = st.lists(st.tuples(st.sampled_from(ENDS), st.sampled_from(ENDS[1:]), st.sampled_from(CANDS),
                               st.sampled_from(VERDICTS), st.integers(0, 10**9), st.sampled_from(TEXTS),
                               st.sampled_from(TEXTS)), max_size=60)


def _record(src, dst, cand, verdict, pairs, allowed, blockers) -> Flow:
    return Flow(source=src[0], source_name=src[1], source_kind=src[2], destination=dst[0], destination_name=dst[1],
                destination_kind=dst[2], protocol=cand.protocol, ports=cand.ports, port=cand.port, code=cand.code,
                verdict=verdict, pairs=pairs, reachable_pairs=pairs // 2, basis=("endpoint port",),
                allowed_by=allowed, blockers=blockers, unknown_reasons=())


def _documented_order(f: Flow) -> tuple:
    """The order `reachgraph flows` documents: internet first, then names, protocol, port, ports."""
    return (f.source != INTERNET, f.source_name, f.destination_name, f.protocol, f.port if f.port is not None else -1,
            f.ports)


@settings(max_examples=200, deadline=None)
@given(flow_rows, st.booleans(), st.booleans())
def test_view_is_the_stably_sorted_filtered_records(rows, include_blocked, include_internet) -> None:
    table = FlowTable()
    records = []
    for src, dst, cand, verdict, pairs, allowed, blockers in rows:
        table.add(src, dst, cand, verdict, pairs, pairs // 2, ("endpoint port",), allowed, blockers, ())
        records.append(_record(src, dst, cand, verdict, pairs, allowed, blockers))
    expected = sorted((f for f in records if (include_blocked or f.verdict in EXISTING)
                       and (include_internet or f.source != INTERNET)), key=_documented_order)  # stable: ties in order
    view = table.view(include_blocked=include_blocked, include_internet=include_internet)
    assert list(view) == expected
    assert len(view) == len(expected) and view[:] == expected
    if expected:
        assert view[-1] == expected[-1]


def test_repeated_values_are_stored_once() -> None:
    table = FlowTable()
    for i in range(1000):
        table.add(ENDS[1], ENDS[3], CANDS[0], "blocked", i, 0, ("endpoint port",), (), TEXTS[2], ())
    assert len(table) == 1000
    assert len(table._texts.values) == 3 and len(table._ends.values) == 2 and len(table._cands.values) == 1
    assert len(table.blockers) == 1000 and set(table.blockers) == {table._texts.values.index(TEXTS[2])}
    a, b = table.flow(0), table.flow(999)
    assert a.blockers is b.blockers and a.blockers == TEXTS[2] and a.pairs == 0 and b.pairs == 999


def test_empty_table_views() -> None:
    assert list(FlowTable().view(include_blocked=True, include_internet=True)) == []


def test_pair_counts_beyond_32_bits_are_kept() -> None:
    """Counts are stored in 32 bits until one does not fit (65,536 x 65,536 interfaces would not)."""
    table = FlowTable()
    table.add(ENDS[1], ENDS[3], CANDS[0], "reachable", 7, 7, (), (), (), ())
    table.add(ENDS[1], ENDS[4], CANDS[0], "partial", 2**33 + 1, 2**32, (), (), (), ())
    assert [(f.pairs, f.reachable_pairs) for f in (table.flow(0), table.flow(1))] == [(7, 7), (2**33 + 1, 2**32)]
