"""Route evaluation (RT-1 .. RT-5): the subnet's or main table, longest prefix, blackholes, peering."""

from __future__ import annotations

from dataclasses import dataclass

from reachgraph.model.records import Model, Peering, Route, RouteTable
from reachgraph.semantics.addresses import parse_range


@dataclass(frozen=True)
class Hop:
    """Where a route table sends an address: the route, or why nothing matched."""

    table: RouteTable
    route: Route | None
    prefix_len: int = -1
    missing_lists: tuple[str, ...] = ()   # routes to prefix lists that are not in the snapshot


class RouteIndex:
    """Which route table applies to which subnet, built once per model; lookups cached."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.by_subnet: dict[str, RouteTable] = {}
        self.main_of_vpc: dict[str, RouteTable] = {}
        for rt in model.route_tables.values():
            for sid in rt.subnet_ids:
                self.by_subnet.setdefault(sid, rt)
            if rt.main and rt.vpc_id:
                self.main_of_vpc.setdefault(rt.vpc_id, rt)
        self._hops: dict[tuple[str, int, int, int], Hop] = {}

    def of_subnet(self, subnet_id: str | None, vpc_id: str | None) -> RouteTable | None:
        """The subnet's explicitly associated table, else the VPC's main table (RT-2)."""
        return self.by_subnet.get(subnet_id or "") or self.main_of_vpc.get(vpc_id or "")

    def lookup(self, rt: RouteTable, version: int, lo: int, hi: int) -> Hop:
        """Cached longest-prefix match."""
        key = (rt.id, version, lo, hi)
        hop = self._hops.get(key)
        if hop is None:
            hop = self._hops[key] = lookup(self.model, rt, version, lo, hi)
        return hop


def route_table_of_subnet(model: Model, subnet_id: str | None, vpc_id: str | None) -> RouteTable | None:
    """The subnet's explicitly associated table, else the VPC's main table (RT-2); one-off lookups."""
    return RouteIndex(model).of_subnet(subnet_id, vpc_id)


def lookup(model: Model, rt: RouteTable, version: int, lo: int, hi: int) -> Hop:
    """Longest prefix match for every address in [lo, hi] (RT-3); None route when no single route covers it."""
    best: Route | None = None
    best_len = -1
    missing = tuple(sorted({r.destination for r in rt.routes
                            if r.destination.startswith("pl-") and r.destination not in model.prefix_lists}))
    for route in rt.routes:
        for block in _destinations(model, route):
            r = parse_range(block)
            if r.version != version or not (r.lo <= lo and hi <= r.hi):
                continue
            length = _prefix_len(block)
            if length > best_len:
                best, best_len = route, length
    return Hop(rt, best, best_len, missing)


def _destinations(model: Model, route: Route) -> tuple[str, ...]:
    if route.destination.startswith("pl-"):
        pl = model.prefix_lists.get(route.destination)
        return pl.cidrs if pl else ()
    return (route.destination,)


def _prefix_len(block: str) -> int:
    return int(block.rsplit("/", 1)[1]) if "/" in block else 128


def peer_vpc(p: Peering, vpc_id: str | None) -> tuple[str | None, tuple[str, ...]]:
    """The other side of a peering seen from vpc_id, with the CIDRs it exposes."""
    if p.requester_vpc == vpc_id:
        return p.accepter_vpc, p.accepter_cidrs
    if p.accepter_vpc == vpc_id:
        return p.requester_vpc, p.requester_cidrs
    return None, ()


def in_blocks(blocks: tuple[str, ...], version: int, lo: int, hi: int) -> bool:
    """Is [lo, hi] inside one of the blocks?"""
    for b in blocks:
        r = parse_range(b)
        if r.version == version and r.lo <= lo and hi <= r.hi:
            return True
    return False
