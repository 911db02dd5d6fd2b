"""Flow records, and the table that holds a whole matrix of them by column.

A flow matrix of an organisation holds millions of flows (4.7 million on the L estate of the benchmark). As
objects they would take about a kilobyte each; `FlowTable` keeps them as integer columns over interned values,
about 60 bytes each, and `FlowView` is the sorted, filtered sequence users read, making `Flow` records only
when they are read.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Hashable, Iterator, overload

from reachgraph.semantics.traffic import Traffic

if TYPE_CHECKING:
    import numpy as np

INTERNET = "internet"
EXISTING = ("reachable", "partial", "unknown")
VERDICTS = ("reachable", "partial", "blocked", "unknown")


@dataclass(frozen=True, order=True)
class Candidate:
    """One kind of traffic worth asking about for a pair: protocol, the port evaluated, and how it is named."""

    protocol: str
    ports: str                 # "6379", "8000-8100", "all", icmp "8" / "8:0" / "all"
    port: int | None = None    # the port (icmp type) the engine evaluates
    code: int | None = None

    def traffic(self) -> Traffic:
        """What the engine evaluates."""
        return Traffic(self.protocol, self.port, self.code)

    @property
    def text(self) -> str:
        """tcp/6379, tcp/8000-8100, tcp/all, icmp/8."""
        return f"{self.protocol}/{self.ports}" if self.protocol in ("tcp", "udp", "icmp", "icmpv6") \
            else f"proto {self.protocol}"


@dataclass(frozen=True, slots=True)
class Flow:
    """One workload (or the internet) reaching, or not, another workload on one kind of traffic."""

    source: str                 # workload key, or "internet"
    source_name: str
    source_kind: str
    destination: str
    destination_name: str
    destination_kind: str
    protocol: str
    ports: str
    port: int | None
    verdict: str                # reachable, partial, blocked, unknown
    pairs: int                  # interface pairs (all of them, class sizes included)
    reachable_pairs: int
    basis: tuple[str, ...]      # why this traffic was a candidate: "endpoint port", rule descriptions
    allowed_by: tuple[str, ...] = ()   # rules that admitted the reachable pairs
    blockers: tuple[str, ...] = ()     # "CODE component: detail"
    unknown_reasons: tuple[str, ...] = ()
    code: int | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity across snapshots: source, destination, protocol, ports."""
        return (self.source, self.destination, self.protocol, self.ports)

    @property
    def traffic_text(self) -> str:
        """tcp/6379 ..."""
        return Candidate(self.protocol, self.ports, self.port, self.code).text

    @property
    def exists(self) -> bool:
        """Reachable for at least some pairs (or cannot be ruled out)."""
        return self.verdict in EXISTING

    def describe(self) -> str:
        """'hokusai-api-development -> hokusai-redis-development tcp/6379'."""
        return f"{self.source_name} -> {self.destination_name} {self.traffic_text}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"source": self.source_name, "source_key": self.source, "source_kind": self.source_kind,
                "destination": self.destination_name, "destination_key": self.destination,
                "destination_kind": self.destination_kind, "protocol": self.protocol, "ports": self.ports,
                "port": self.port, "traffic": self.traffic_text, "verdict": self.verdict, "pairs": self.pairs,
                "reachable_pairs": self.reachable_pairs, "basis": list(self.basis),
                "allowed_by": list(self.allowed_by), "blockers": list(self.blockers),
                "unknown_reasons": list(self.unknown_reasons)}

    def row(self) -> dict[str, Any]:
        """Flat form for CSV and tables."""
        return {"source": self.source_name, "source_kind": self.source_kind, "destination": self.destination_name,
                "destination_kind": self.destination_kind, "traffic": self.traffic_text, "verdict": self.verdict,
                "pairs": f"{self.reachable_pairs}/{self.pairs}", "via": "; ".join(self.allowed_by or self.blockers
                                                                                  or self.unknown_reasons)}


class _Interner:
    """Equal values stored once, numbered in order of first appearance."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[Hashable, int] = {}

    def __call__(self, value: Hashable) -> int:
        i = self._index.get(value)
        if i is None:
            i = self._index[value] = len(self.values)
            self.values.append(value)
        return i


class _TextLists:
    """One tuple of strings per row, kept as ids into a table of distinct strings: for texts that repeat across
    flows in combinations that mostly do not."""

    def __init__(self, strings: _Interner) -> None:
        self.strings = strings
        self.ids = array("i")
        self.ends = array("I")   # row i's ids are ids[ends[i-1]:ends[i]]

    def add(self, texts: tuple[str, ...]) -> None:
        for text in texts:
            self.ids.append(self.strings(text))
        self.ends.append(len(self.ids))

    def get(self, i: int) -> tuple[str, ...]:
        lo = self.ends[i - 1] if i else 0
        values = self.strings.values
        return tuple(values[j] for j in self.ids[lo:self.ends[i]])


End = tuple[str, str, str]   # workload key (or "internet"), name, kind


class FlowTable:
    """Flows by column, in the order they were added; values that repeat (ends, traffic, rule texts, blockers)
    are stored once."""

    def __init__(self) -> None:
        self._ends = _Interner()
        self._cands = _Interner()
        self._texts = _Interner()
        self.src, self.dst, self.cand = array("i"), array("i"), array("i")
        self.verdict = array("b")
        self.pairs, self.reachable = array("I"), array("I")   # widened to 64 bits if a count ever needs it
        # ids of interned tuples: bases, unknown reasons and blockers repeat across flows (a few thousand distinct
        # blocker lists for millions of blocked flows); allowing rules mostly do not, so they are kept by string.
        self.basis, self.unknown, self.blockers = array("i"), array("i"), array("i")
        self.allowed = _TextLists(_Interner())

    def __len__(self) -> int:
        return len(self.src)

    def add(self, src: End, dst: End, cand: Candidate, verdict: str, pairs: int, reachable: int,
            basis: tuple[str, ...], allowed: tuple[str, ...], blockers: tuple[str, ...],
            unknown: tuple[str, ...]) -> None:
        """Append one flow."""
        text = self._texts
        self.src.append(self._ends(src))
        self.dst.append(self._ends(dst))
        self.cand.append(self._cands(cand))
        self.verdict.append(VERDICTS.index(verdict))
        try:
            self.pairs.append(pairs)
            self.reachable.append(reachable)
        except OverflowError:     # more than 4 billion interface pairs in one flow
            if len(self.reachable) < len(self.pairs):
                self.pairs.pop()
            self.pairs, self.reachable = array("q", self.pairs), array("q", self.reachable)
            self.pairs.append(pairs)
            self.reachable.append(reachable)
        self.basis.append(text(basis))
        self.allowed.add(allowed)
        self.blockers.append(text(blockers))
        self.unknown.append(text(unknown))

    def flow(self, i: int) -> Flow:
        """Row i as a record."""
        skey, sname, skind = self._ends.values[self.src[i]]
        dkey, dname, dkind = self._ends.values[self.dst[i]]
        c: Candidate = self._cands.values[self.cand[i]]
        texts = self._texts.values
        return Flow(source=skey, source_name=sname, source_kind=skind, destination=dkey, destination_name=dname,
                    destination_kind=dkind, protocol=c.protocol, ports=c.ports, port=c.port, code=c.code,
                    verdict=VERDICTS[self.verdict[i]], pairs=self.pairs[i], reachable_pairs=self.reachable[i],
                    basis=texts[self.basis[i]], allowed_by=self.allowed.get(i), blockers=texts[self.blockers[i]],
                    unknown_reasons=texts[self.unknown[i]])

    def view(self, include_blocked: bool = False, include_internet: bool = False) -> FlowView:
        """The rows users see, in the documented order: internet first, then by source name, destination name,
        protocol, port and ports (ties: in the order added)."""
        import numpy as np  # noqa: PLC0415 - numpy (through pandas) loads only when flows are asked for

        n = len(self)
        keep = np.ones(n, dtype=bool)
        if not include_blocked:
            keep &= np.frombuffer(self.verdict, dtype=np.int8) != VERDICTS.index("blocked")
        src = np.frombuffer(self.src, dtype=np.int32)
        ends = self._ends.values
        if not include_internet:
            internet = [i for i, e in enumerate(ends) if e[0] == INTERNET]
            if internet:
                keep &= ~np.isin(src, internet)
        rows = np.flatnonzero(keep)
        del keep
        if n < 2**31:
            rows = rows.astype(np.int32)   # the view keeps these: half the memory
        src_rank = _ranks([(e[0] != INTERNET, e[1]) for e in ends])
        dst_rank = _ranks([e[1] for e in ends])
        cand_rank = _ranks([(c.protocol, c.port if c.port is not None else -1, c.ports) for c in self._cands.values])
        # One integer per row orders by source, destination, traffic; a stable sort keeps ties in the order added.
        # (One key array and one permutation: a matrix of millions sorts in a few hundred MB less than lexsort.)
        key = src_rank[src[rows]]
        key *= len(ends)
        key += dst_rank[np.frombuffer(self.dst, dtype=np.int32)[rows]]
        key *= max(len(self._cands.values), 1)
        key += cand_rank[np.frombuffer(self.cand, dtype=np.int32)[rows]]
        order = np.argsort(key, kind="stable")
        del key
        return FlowView(self, rows[order])


def _ranks(keys: list[Any]) -> np.ndarray:
    """Each key's position in sorted order (equal keys, equal ranks), as an array indexed like keys."""
    import numpy as np  # noqa: PLC0415

    rank = {k: r for r, k in enumerate(sorted(set(keys)))}
    return np.array([rank[k] for k in keys], dtype=np.int64)


class FlowView(Sequence):  # type: ignore[type-arg] - a sequence of Flow
    """Some rows of a table in a fixed order; reading one makes its Flow record."""

    def __init__(self, table: FlowTable | None = None, rows: np.ndarray | None = None) -> None:
        self.table = table
        self.rows: Any = rows if rows is not None else ()

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> Flow: ...

    @overload
    def __getitem__(self, i: slice) -> list[Flow]: ...

    def __getitem__(self, i: int | slice) -> Flow | list[Flow]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        assert self.table is not None
        return self.table.flow(int(self.rows[i]))

    def __iter__(self) -> Iterator[Flow]:
        if self.table is not None:
            flow = self.table.flow
            for r in (self.rows.tolist() if hasattr(self.rows, "tolist") else self.rows):
                yield flow(r)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self)} flows>"
