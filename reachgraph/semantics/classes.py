"""Address equivalence: where no rule, ACL entry, prefix list or route draws a line inside a subnet, every
address of the subnet is treated alike, so interfaces with the same groups and subnet share one answer. Where
blocks do cut a subnet (a /32 rule for one host), the addresses between two cuts are still alike."""

from __future__ import annotations

import bisect

from reachgraph.model.records import Model
from reachgraph.semantics.addresses import AddrRange, parse_range, span_text


class AddressClasses:
    """Knows which subnets are uniform (no CIDR of the model lies strictly inside them)."""

    def __init__(self, model: Model) -> None:
        blocks: set[str] = set()
        for g in model.groups.values():
            for r in g.ingress + g.egress:
                if r.peer_kind in ("cidr4", "cidr6"):
                    blocks.add(r.peer)
        for pl in model.prefix_lists.values():
            blocks.update(pl.cidrs)
        for acl in model.acls.values():
            blocks.update(e.cidr for e in acl.entries)
        for rt in model.route_tables.values():
            blocks.update(r.destination for r in rt.routes if not r.destination.startswith("pl-"))
        for p in model.peerings.values():
            blocks.update(p.requester_cidrs + p.accepter_cidrs)
        ranges = sorted((r.version, r.lo, r.hi) for r in (parse_range(b) for b in blocks))
        self._los = [(v, lo) for v, lo, _ in ranges]
        self._ranges = ranges
        self._uniform: dict[str, bool] = {}
        self._cuts: dict[str, list[int]] = {}
        self.model = model

    def uniform(self, cidr: str) -> bool:
        """True when no block of the model lies strictly inside this subnet CIDR (CIDRs nest or are disjoint)."""
        cached = self._uniform.get(cidr)
        if cached is None:
            s = parse_range(cidr)
            i = bisect.bisect_left(self._los, (s.version, s.lo))
            cached = True
            while i < len(self._ranges) and self._ranges[i][0] == s.version and self._ranges[i][1] <= s.hi:
                _, lo, hi = self._ranges[i]
                if (lo, hi) != (s.lo, s.hi) and hi <= s.hi:
                    cached = False
                    break
                i += 1
            self._uniform[cidr] = cached
        return cached

    def subnet_range(self, subnet_id: str | None, version: int) -> AddrRange | None:
        """The subnet's block when every address in it is alike, else None."""
        sub = self.model.subnets.get(subnet_id or "")
        if sub is None:
            return None
        cidr = sub.cidr_v4 if version == 4 else (sub.cidrs_v6[0] if sub.cidrs_v6 else None)
        if cidr is None or not self.uniform(cidr):
            return None
        return parse_range(cidr)

    def atom(self, subnet_id: str | None, addr: AddrRange) -> AddrRange | None:
        """The addresses of the subnet that every block of the model treats like this one: the interval between
        the nearest cuts (block boundaries) around it. None outside a known subnet of the same family."""
        sub = self.model.subnets.get(subnet_id or "")
        if sub is None:
            return None
        cidr = sub.cidr_v4 if addr.version == 4 else (sub.cidrs_v6[0] if sub.cidrs_v6 else None)
        if cidr is None:
            return None
        s = parse_range(cidr)
        if not addr.within(s):
            return None
        cuts = self._cuts.get(cidr)
        if cuts is None:
            # CIDRs nest or are disjoint: a block meeting the subnet either holds it whole or lies inside it.
            found = {s.lo, s.hi + 1}
            i = bisect.bisect_left(self._los, (s.version, s.lo))
            while i < len(self._ranges) and self._ranges[i][0] == s.version and self._ranges[i][1] <= s.hi:
                _, lo, hi = self._ranges[i]
                if hi <= s.hi:
                    found.update((lo, hi + 1))
                i += 1
            cuts = self._cuts[cidr] = sorted(found)
        i = bisect.bisect_right(cuts, addr.lo)
        lo, hi = cuts[i - 1], cuts[i] - 1
        if addr.hi > hi:
            return None
        return AddrRange(addr.version, lo, hi, True, span_text(addr.version, lo, hi))
