"""Which interfaces carry each security group and hold each address.

The parser indexes each interface as it makes it, while the record is still in the CPU's caches: on 100k
interfaces a separate pass over the finished model costs four times as much per interface as on 1k, because by
then the records are scattered through memory. The index names the interfaces mapping it was built for, so a model
with other interfaces (a what-if, a hand-made model) is indexed again instead of trusting a stale one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from reachgraph.model.records import Interface


@dataclass(frozen=True)
class InterfaceIndex:
    """Group id -> member interface ids, and address -> the interface that holds it (the lowest id if several do)."""

    members: dict[str, frozenset[str]]
    by_ip: dict[str, str]
    # The interfaces mapping indexed, and its size then: a different mapping, or one grown or shrunk in place,
    # does not fit.
    indexed: Mapping[str, Interface] = field(repr=False, compare=False)
    count: int

    def fits(self, interfaces: Mapping[str, Interface]) -> bool:
        """Whether this index was built for exactly this interfaces mapping."""
        return self.indexed is interfaces and self.count == len(interfaces)


class IndexBuilder:
    """Collects the index one interface at a time, in any order."""

    def __init__(self) -> None:
        self._members: dict[str, set[str]] = defaultdict(set)
        self._by_ip: dict[str, str] = {}

    def add(self, iface: Interface) -> None:
        """Index one interface (each id once)."""
        eid = iface.id
        members = self._members
        for gid in iface.group_ids:
            members[gid].add(eid)
        by_ip = self._by_ip
        for addrs in (iface.private_ipv4, iface.ipv6):
            for ip in addrs:
                held = by_ip.get(ip)
                # The lowest id wins, so the answer does not depend on the order documents were read in.
                if held is None or eid < held:
                    by_ip[ip] = eid

    def finish(self, interfaces: Mapping[str, Interface]) -> InterfaceIndex:
        """The index, bound to the final interfaces mapping it describes."""
        members = {gid: frozenset(eids) for gid, eids in self._members.items()}
        return InterfaceIndex(members=members, by_ip=self._by_ip, indexed=interfaces, count=len(interfaces))


def index_interfaces(interfaces: Mapping[str, Interface]) -> InterfaceIndex:
    """Index a finished interfaces mapping in one pass."""
    builder = IndexBuilder()
    for iface in interfaces.values():
        builder.add(iface)
    return builder.finish(interfaces)
