"""Security-group evaluation for one interface and one peer (SG-1 .. SG-12), pure and cached per group."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from reachgraph.model.records import Interface, Model, Rule
from reachgraph.semantics.addresses import AddrRange, covers, parse_range, public_intervals
from reachgraph.semantics.bounds import bounded
from reachgraph.semantics.rects import intersect_intervals, merge_intervals
from reachgraph.semantics.traffic import Traffic, rule_admits

Status = Literal["allow", "deny", "unknown"]


@dataclass(frozen=True, slots=True)
class Peer:
    """The other end of a factor: an interface of the snapshot, or an address outside it."""

    addr: AddrRange
    iface: Interface | None = None
    label: str = ""


@dataclass(frozen=True)
class Factor:
    """One side's verdict: the source's egress or the destination's ingress, with the rules behind it."""

    direction: Literal["egress", "ingress"]
    status: Status
    interface: str
    groups: tuple[str, ...]
    rules: tuple[Rule, ...] = ()        # allow: rules that admit; unknown: rules that might
    reasons: tuple[str, ...] = ()       # why unknown, or what the groups do admit instead
    near_misses: tuple[Rule, ...] = ()  # deny: rules on this protocol/port for other peers
    warnings: tuple[str, ...] = field(default=())


def _cached(owner: Any, method: Callable[..., Any], maxsize: int | None) -> Callable[..., Any]:
    """An lru cache of `method` on `owner` that holds the owner weakly. Caching the bound method would make a
    cycle (owner -> cache -> bound method -> owner): the model behind it would then outlive its snapshot until a
    full collection, which loading leaves rare."""
    ref = weakref.ref(owner)

    def call(*args: Any) -> Any:
        return method(ref(), *args)

    return lru_cache(maxsize=maxsize)(call)


class SgEvaluator:
    """Evaluates security groups against a model and a membership index (group -> interface ids)."""

    def __init__(self, model: Model, members: dict[str, frozenset[str]]) -> None:
        self.model = model
        self.members = members
        self._pl_ranges = {pid: tuple(parse_range(c) for c in pl.cidrs) for pid, pl in model.prefix_lists.items()}
        self._candidates = _cached(self, SgEvaluator._candidates_uncached, None)
        self.admits_everyone = _cached(self, SgEvaluator._admits_everyone, 65536)
        self._blocks = _cached(self, SgEvaluator._blocks_uncached, 65536)
        self._named_groups = _cached(self, SgEvaluator._named_groups_uncached, 65536)
        self._signatures: dict[tuple, tuple[bool | None, ...]] = {}

    def _candidates_uncached(self, gid: str, direction: str, t: Traffic) -> tuple[Rule, ...]:
        g = self.model.groups[gid]
        rules = g.egress if direction == "egress" else g.ingress
        return tuple(r for r in rules if rule_admits(r.protocol, r.from_port, r.to_port, t))

    def forget(self) -> None:
        """Empty the address-signature cache (the per-group lru caches stay: they are small and exact)."""
        self._signatures.clear()

    def _admits_everyone(self, direction: str, group_ids: tuple[str, ...], t: Traffic, version: int) -> bool:
        """The groups' answer for this traffic is the same for every peer of this IP version: each rule that
        admits the traffic names a CIDR, and those of this version are the whole address space (AWS's default
        egress rule). Rules of the other version never match (SG-9)."""
        whole = False
        for gid in group_ids:
            if gid not in self.model.groups:
                return False
            for rule in self._candidates(gid, direction, t):
                if rule.peer_kind not in ("cidr4", "cidr6"):
                    return False
                r = parse_range(rule.peer)
                if r.version == version:
                    if r.lo != 0 or r.hi != (1 << (32 if version == 4 else 128)) - 1:
                        return False
                    whole = True
        return whole

    def _blocks_uncached(self, direction: str, group_ids: tuple[str, ...],
                         t: Traffic) -> tuple[tuple[AddrRange, ...], ...]:
        """The address blocks of each CIDR and prefix-list rule that admits the traffic, in rule order."""
        out = []
        for gid in group_ids:
            if gid in self.model.groups:
                for rule in self._candidates(gid, direction, t):
                    if rule.peer_kind in ("cidr4", "cidr6"):
                        out.append((parse_range(rule.peer),))
                    elif rule.peer_kind == "prefix_list":
                        out.append(self._pl_ranges.get(rule.peer, ()))
        return tuple(out)

    def _named_groups_uncached(self, direction: str, group_ids: tuple[str, ...], t: Traffic) -> frozenset[str]:
        return frozenset(r.peer for gid in group_ids if gid in self.model.groups
                         for r in self._candidates(gid, direction, t) if r.peer_kind == "group")

    def named_groups(self, direction: str, group_ids: tuple[str, ...], t: Traffic,
                     peer_groups: tuple[str, ...]) -> tuple[str, ...]:
        """The peer's groups that a rule of these groups names for this traffic: all a group reference sees."""
        named = self._named_groups(direction, group_ids, t)
        return tuple(g for g in peer_groups if g in named)

    def address_signature(self, direction: str, group_ids: tuple[str, ...], t: Traffic,
                          addr: AddrRange) -> tuple[bool | None, ...]:
        """How each address rule of the groups sees this address (covers it, not, cannot tell): peers with equal
        signatures, groups, VPC and certainty get the same factor, whatever their exact address."""
        key = (direction, group_ids, t, addr.version, addr.lo, addr.hi, addr.exact)
        hit = self._signatures.get(key)
        if hit is None:
            hit = bounded(self._signatures)[key] = self._signature(direction, group_ids, t, addr)
        return hit

    def _signature(self, direction: str, group_ids: tuple[str, ...], t: Traffic,
                   addr: AddrRange) -> tuple[bool | None, ...]:
        out = []
        for blocks in self._blocks(direction, group_ids, t):
            hits = [covers(b, addr) for b in blocks]
            out.append(True if True in hits else None if None in hits else False)
        return tuple(out)

    def evaluate(self, direction: Literal["egress", "ingress"], iface: Interface, peer: Peer, t: Traffic) -> Factor:
        """Allow if any rule of any of the interface's groups admits the peer (SG-1, SG-2)."""
        allowing: list[Rule] = []
        maybe: list[Rule] = []
        reasons: list[str] = []
        warnings: list[str] = []
        near: list[Rule] = []
        for gid in iface.group_ids:
            if gid not in self.model.groups:
                reasons.append(f"security group {gid} is not in the snapshot")
                continue
            for rule in self._candidates(gid, direction, t):
                hit, why = self.peer_matches(rule, peer)
                if hit is True:
                    allowing.append(rule)
                elif hit is None:
                    maybe.append(rule)
                    reasons.append(why)
                else:
                    near.append(rule)
                    if why:
                        warnings.append(why)
        if iface.uncertain:
            reasons.insert(0, iface.uncertain)
        if allowing and not iface.uncertain:
            return Factor(direction, "allow", iface.id, iface.group_ids, tuple(allowing), warnings=tuple(warnings))
        if maybe or reasons:
            return Factor(direction, "unknown", iface.id, iface.group_ids, tuple(allowing or maybe),
                          tuple(dict.fromkeys(reasons)), tuple(near), tuple(warnings))
        return Factor(direction, "deny", iface.id, iface.group_ids, (), (), tuple(near), tuple(warnings))

    def peer_matches(self, rule: Rule, peer: Peer) -> tuple[bool | None, str]:
        """Does the rule's peer (CIDR, prefix list, group) take in this peer? None: cannot tell, with why."""
        if rule.peer_kind in ("cidr4", "cidr6"):
            hit = covers(parse_range(rule.peer), peer.addr)
            return hit, "" if hit is not None else f"the peer's address is unknown; {rule.describe()} covers only part of " \
                                                   "where it may be"
        if rule.peer_kind == "prefix_list":
            ranges = self._pl_ranges.get(rule.peer)
            if ranges is None:
                # SG-10: an unknown prefix list matches nothing, but say so.
                return False, f"prefix list {rule.peer} in {rule.group_id} is not in the snapshot; it matches nothing"
            results = [covers(r, peer.addr) for r in ranges]
            if True in results:
                return True, ""
            if None in results:
                return None, f"the peer's address is unknown; prefix list {rule.peer} may not cover it"
            return False, ""
        return self._group_matches(rule, peer)

    def public_admitted(self, direction: Literal["egress", "ingress"], iface: Interface, t: Traffic,
                        version: int) -> tuple[list[tuple[int, int]], tuple[Rule, ...], tuple[str, ...]]:
        """The public addresses the interface's groups admit (ingress) or allow (egress): the internet's view."""
        spans: list[tuple[int, int]] = []
        rules: list[Rule] = []
        reasons: list[str] = []
        public = list(public_intervals(version))
        for gid in iface.group_ids:
            if gid not in self.model.groups:
                reasons.append(f"security group {gid} of {iface.id} is not in the snapshot")
                continue
            for rule in self._candidates(gid, direction, t):
                if rule.peer_kind in ("cidr4", "cidr6"):
                    blocks = (parse_range(rule.peer),)
                elif rule.peer_kind == "prefix_list":
                    blocks = self._pl_ranges.get(rule.peer, ())
                else:
                    continue  # SG-6: group references match private addresses only
                hit = intersect_intervals([(b.lo, b.hi) for b in blocks if b.version == version], public)
                if hit:
                    spans += hit
                    rules.append(rule)
        if iface.uncertain:
            reasons.insert(0, iface.uncertain)
        return merge_intervals(spans), tuple(rules), tuple(dict.fromkeys(reasons))

    def _peered_reference_ok(self, rule: Rule, member: Interface) -> tuple[bool | None, str]:
        """SG-11: a reference to a group in another VPC works only across an active same-region peering."""
        own = self.model.groups.get(rule.group_id)
        if own is None or not own.vpc_id or not member.vpc_id or own.vpc_id == member.vpc_id:
            return True, ""
        for pcx in self.model.peerings.values():
            if {pcx.requester_vpc, pcx.accepter_vpc} == {own.vpc_id, member.vpc_id}:
                if pcx.status != "active":
                    return False, f"{rule.describe()} names a group across {pcx.id}, which is {pcx.status} (SG-11)"
                if pcx.requester_region and pcx.accepter_region and pcx.requester_region != pcx.accepter_region:
                    return False, f"{rule.describe()} names a group across an inter-region peering (SG-11)"
                return True, ""
        if not self.model.peerings:
            return None, (f"{rule.describe()} names a group in {member.vpc_id}, another VPC, and the snapshot holds no "
                          "peering connections to confirm the reference (SG-11)")
        return False, f"{rule.describe()} names a group in {member.vpc_id}, but no peering joins it to {own.vpc_id}"

    def _group_matches(self, rule: Rule, peer: Peer) -> tuple[bool | None, str]:
        gid = rule.peer
        if rule.peering_id:
            pcx = self.model.peerings.get(rule.peering_id)
            if pcx is not None and pcx.status != "active":
                return False, f"{rule.describe()} crosses peering {pcx.id}, which is {pcx.status} (SG-11)"
        if peer.iface is not None:
            if peer.iface.uncertain and not peer.iface.group_ids:
                return None, peer.iface.uncertain
            # SG-6: the reference matches the private IPs of the group's members; the peer is one if it carries it.
            if gid not in peer.iface.group_ids:
                return False, ""
            return self._peered_reference_ok(rule, peer.iface)
        if gid not in self.model.groups and rule.peer_account and rule.peer_account not in self.model.accounts:
            return None, (f"{rule.describe()} references a group in account {rule.peer_account}, which is not in "
                          "the snapshot (UNKNOWN_PEERED_SGS)")
        if not peer.addr.exact:
            for eid in self.members.get(gid, ()):
                iface = self.model.interfaces.get(eid)
                if iface and any(covers(peer.addr, parse_range(a)) is True for a in iface.private_ipv4):
                    return None, f"{peer.label} may include members of {gid}"
        return False, ""
