"""Everything between two interfaces besides security groups: network ACLs both ways (stateless replies
included), routes both ways, peering, internet gateways and NAT. Pure: reads the model only."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from reachgraph.model.records import Interface, Model, NetworkAcl
from reachgraph.result import Check, rebind
from reachgraph.semantics import acl as acls
from reachgraph.semantics.addresses import public_intervals, span_text
from reachgraph.semantics.bounds import bounded, is_full
from reachgraph.semantics.rects import Split, addresses_fully_allowed, intersect_intervals, merge_intervals
from reachgraph.semantics.routes import Hop, RouteIndex, in_blocks, peer_vpc
from reachgraph.semantics.traffic import Traffic

Mode = Literal["all", "one", "some"]


@dataclass(frozen=True)
class End:
    """One end of a pair as the path sees it.

    mode: `all` every address must pass (an interface's IP, or a CIDR the user gave); `one` a single address
    somewhere in the intervals (an interface whose IP is unknown); `some` at least one address (the internet).
    """

    iface: Interface | None
    version: int
    addrs: tuple[tuple[int, int], ...]
    mode: Mode
    internet: bool = False
    ephemeral: tuple[int, int] = acls.LINUX_EPHEMERAL
    where: Interface | None = None   # for an address inside a known subnet: a stand-in placing it there

    @property
    def site(self) -> Interface | None:
        """What locates this end in a subnet and VPC: its interface, or the stand-in of an address."""
        return self.iface or self.where

    def text(self) -> str:
        """Addresses for messages."""
        if self.internet:
            return "the internet"
        parts = [span_text(self.version, lo, hi) for lo, hi in self.addrs[:3]]
        return ", ".join(parts) + (" ..." if len(self.addrs) > 3 else "")


class PathEvaluator:
    """Produces the ACL and route checks for one pair; cheap per call, no caching needed at this size."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.has_acls = bool(model.acls)
        self.has_routes = bool(model.route_tables)
        # Calls that failed during collection: answers that need their data are unknown, naming the error.
        self.acl_errors = [e.describe() for e in model.errors if "networkacl" in e.operation.lower()]
        self.route_errors = [e.describe() for e in model.errors if "routetable" in e.operation.lower()]
        self._coverage = self._coverage_warnings()
        self.acl_index = acls.AclIndex(model)
        self.routes = RouteIndex(model)
        self._acl_cache: dict[tuple, tuple[Check, tuple[tuple[int, int], ...]]] = {}
        self._cache: dict[tuple, tuple[tuple[Check, ...], str, str, bool]] = {}
        self._vpc_acl: dict[str, NetworkAcl | None] = {}
        self._places: dict[int, tuple[End, int]] = {}
        self._place_ids: dict[tuple, int] = {}
        self.nat_ifaces = {i.description.rsplit(" ", 1)[-1]: i for i in model.interfaces.values()
                           if i.interface_type == "nat_gateway" and i.description.startswith("Interface for NAT")}

    def forget(self) -> None:
        """Empty the caches (answers do not change)."""
        for cache in (self._cache, self._acl_cache, self._places, self._place_ids):
            cache.clear()

    def coverage_warnings(self) -> list[str]:
        """Layers the snapshot does not hold, so verdicts cannot account for them."""
        return list(self._coverage)

    def _coverage_warnings(self) -> tuple[str, ...]:
        out = []
        if not self.has_acls and not self.acl_errors:
            out.append("network ACLs are not in the snapshot: the verdict does not account for them")
        if not self.has_routes and not self.route_errors:
            out.append("route tables are not in the snapshot: routing is assumed only inside one VPC")
        return tuple(out)

    def checks(self, src: End, dst: End, t: Traffic) -> tuple[Check, ...]:
        """ACL and route checks for one pair (every blocker, not just the first); computed once per pair of
        places (subnet, addresses, public or not), since many interface pairs share them. The tuple is shared:
        equal places return the same object."""
        key = (self._place(src), self._place(dst), t)
        hit = self._cache.get(key)
        if hit is None:
            bounded(self._cache)
            found = tuple(self._checks(src, dst, t))
            a, b = _eid(src), _eid(dst)
            # Most path checks name subnets, ACLs and route tables only: those need no rebinding to other ends.
            named = any(x and (x in c.component or x in c.detail) for c in found for x in (a, b))
            hit = self._cache[key] = (found, a, b, named)
        found, a, b, named = hit
        if not named:
            return found
        s_id, d_id = _eid(src), _eid(dst)
        return found if (a, b) == (s_id, d_id) else rebind(found, ((a, s_id), (b, d_id)))

    def _place(self, end: End) -> int:
        """A number for _place(end) (equal places, equal numbers), remembered per End object: the query engine
        reuses its ends across many pairs, and small numbers make cheap cache keys."""
        hit = self._places.get(id(end))
        if hit is None or hit[0] is not end:
            if is_full(self._places) or is_full(self._place_ids):
                # Start over together: the numbers of the places, and the cache keyed by them.
                self._places.clear()
                self._place_ids.clear()
                self._cache.clear()
            place = _place(end)
            number = self._place_ids.setdefault(place, len(self._place_ids))
            hit = self._places[id(end)] = (end, number)
        return hit[1]

    def _checks(self, src: End, dst: End, t: Traffic) -> list[Check]:
        out: list[Check] = []
        s, d = src.site, dst.site
        if s is not None and d is not None and s.subnet_id and s.subnet_id == d.subnet_id:
            return out  # NACL-5: same subnet, no ACL; RT-1: local
        if src.iface is not None and d is None and (dst.internet or self._outside_public(dst, src.iface)):
            return self._to_internet(src, dst, t)
        if dst.iface is not None and s is None and (src.internet or self._outside_public(src, dst.iface)):
            return self._from_internet(src, dst, t)
        reply = _reply(t)
        # request: source subnet outbound, destination subnet inbound; replies the other way (NACL-1)
        if s is not None:
            out += self._acl(s, True, t.protocol, dst, _req_ports(t), "egress")[0]
        if d is not None:
            out += self._acl(d, False, t.protocol, src, _req_ports(t), "ingress")[0]
        if reply is not None and d is not None:
            out += self._acl(d, True, reply[0], src, reply[1] or src.ephemeral, "egress-reply")[0]
        if reply is not None and s is not None:
            out += self._acl(s, False, reply[0], dst, reply[1] or src.ephemeral, "ingress-reply")[0]
        if s is not None:
            out += self._route(s, dst, "forward")
        if d is not None and reply is not None:
            out += self._route(d, src, "reply")   # a one-way message (e.g. ICMP type 3) needs no way back
        return out

    def _outside_public(self, end: End, iface: Interface) -> bool:
        """A public address that is not inside the interface's VPC: reached the way the internet is."""
        return _all_public(end) and not (iface.vpc_id and self._in_vpc(iface.vpc_id, end))

    # -- network ACLs ------------------------------------------------------------------------------
    def _acl(self, iface: Interface, egress: bool, protocol: str, peer: End, ports: tuple[int, int],
             direction: str) -> tuple[list[Check], End]:
        """One ACL crossing; returns the check and the peer narrowed to the addresses that pass."""
        if not self.has_acls and not self.acl_errors:
            return [], peer
        acl = (self.acl_index.of_subnet(iface.subnet_id, iface.vpc_id) if iface.subnet_id
               else self._only_acl_of_vpc(iface.vpc_id))
        if acl is None:
            why = (f"the subnet of {iface.id} is unknown" if not iface.subnet_id
                   else f"no network ACL for {iface.subnet_id} (nor a default ACL of {iface.vpc_id}) is in the "
                        "snapshot")
            if self.acl_errors:
                why += f" (collection failed: {'; '.join(self.acl_errors)})"
            return [Check(kind="network_acl", direction=direction, component=iface.subnet_id or iface.id,
                          status="unknown", detail=f"{why}; the ACL cannot be evaluated (NACL-4)")], peer
        key = (acl.id, egress, protocol, peer.version, peer.addrs, peer.mode, peer.internet, ports, direction)
        cached = self._acl_cache.get(key)
        if cached is None:
            cached = bounded(self._acl_cache)[key] = self._acl_uncached(acl, egress, protocol, peer, ports, direction)
        check, passed = cached
        narrowed = replace(peer, addrs=passed) if passed and peer.mode == "some" else peer
        return [check], narrowed

    def _acl_uncached(self, acl: NetworkAcl, egress: bool, protocol: str, peer: End, ports: tuple[int, int],
                      direction: str) -> tuple[Check, tuple[tuple[int, int], ...]]:
        q = acls.AclQuestion(protocol, peer.version, peer.addrs, ports)
        split = acls.evaluate(acl, egress, q)
        is_reply = direction.endswith("reply")
        if is_reply or ports[0] != ports[1]:
            passed = addresses_fully_allowed(split, ports[0], ports[1])
        else:
            passed = merge_intervals([(r[0], r[1]) for r in split.allowed_rects()])
        passed = intersect_intervals(passed, list(peer.addrs))
        whole = merge_intervals(list(peer.addrs))
        if peer.mode == "some":
            status = "allow" if passed else "deny"
        elif passed == whole:
            status = "allow"
        elif peer.mode == "one" and passed:
            status = "unknown"
        else:
            status = "deny"
        detail = self._acl_detail(acl, egress, split, status, peer, ports, protocol, is_reply)
        numbers = sorted({n for _, n in (split.allowed if status == "allow" else split.denied)})
        check = Check(kind="network_acl", direction=direction, component=acl.id, status=status,
                      code="SUBNET_ACL_RESTRICTION" if status == "deny" else None, detail=detail,
                      rules=tuple(f"{acl.id} rule {_num(n)}" for n in numbers))
        return check, tuple(passed)

    def _only_acl_of_vpc(self, vpc_id: str | None) -> NetworkAcl | None:
        """For an interface whose subnet is unknown: the ACL, when every subnet of its VPC has the same one."""
        if not vpc_id:
            return None
        if vpc_id not in self._vpc_acl:
            found = {self.acl_index.of_subnet(sub.id, vpc_id) for sub in self.model.subnets.values()
                     if sub.vpc_id == vpc_id}
            found.add(self.acl_index.of_subnet("", vpc_id))  # the default, for subnets not in the snapshot
            found.discard(None)
            self._vpc_acl[vpc_id] = found.pop() if len(found) == 1 else None
        return self._vpc_acl[vpc_id]

    def _acl_detail(self, acl: NetworkAcl, egress: bool, split: Split, status: str, peer: End,
                    ports: tuple[int, int], protocol: str, is_reply: bool) -> str:
        way = "outbound" if egress else "inbound"
        what = "replies" if is_reply else "traffic"
        to = "to" if egress else "from"
        span = _ports_text(protocol, ports)
        if status == "allow":
            rules = sorted({n for _, n in split.allowed})
            return f"{acl.id} {way} allows {what} {to} {peer.text()} on {span} (rule {', '.join(map(_num, rules))})"
        denied_ports = merge_intervals([(r[2], r[3]) for r, _ in split.denied])
        rules = sorted({n for _, n in split.denied})
        detail = (f"{acl.id} {way} denies {what} {to} {peer.text()} on "
                  f"{', '.join(_ports_text(protocol, p) for p in denied_ports)} (rule {', '.join(map(_num, rules))})")
        if is_reply and split.allowed and denied_ports != [ports]:
            detail += (f"; only part of the client's ephemeral range {ports[0]}-{ports[1]} is allowed, so "
                       "connections fail whenever the client picks a denied port (NACL-6)")
        elif is_reply:
            detail += " (NACL-1: ACLs are stateless; the reply needs its own rule)"
        if status == "unknown":
            detail = f"{acl.id} {way} allows only part of the block {peer.text()} may be in, and its address is unknown"
        return detail

    # -- routes -----------------------------------------------------------------------------------
    def _route(self, iface: Interface, peer: End, leg: str) -> list[Check]:
        """Route from iface's subnet towards peer (RT-1 .. RT-5)."""
        p = peer.site
        if p is not None and p.vpc_id and p.vpc_id == iface.vpc_id:
            return []  # RT-1: local route inside one VPC
        if p is None and not peer.internet and iface.vpc_id and self._in_vpc(iface.vpc_id, peer):
            return []
        direction = "egress" if leg == "forward" else "egress-reply"
        if not self.has_routes or (self.route_errors and self.routes.of_subnet(iface.subnet_id, iface.vpc_id) is None):
            failed = f" (collection failed: {'; '.join(self.route_errors)})" if self.route_errors else ""
            return [Check(kind="route", direction=direction, component=iface.subnet_id or iface.id, status="unknown",
                          detail=f"route tables are not in the snapshot; traffic between VPCs cannot be "
                                 f"decided{failed}")]
        rt = self.routes.of_subnet(iface.subnet_id, iface.vpc_id)
        if rt is None:
            return [Check(kind="route", direction=direction, component=iface.subnet_id or iface.id, status="unknown",
                          detail=f"no route table for {iface.subnet_id or iface.id} (nor a main table of "
                                 f"{iface.vpc_id}) is in the snapshot (RT-2)")]
        lo, hi = peer.addrs[0][0], peer.addrs[-1][1]
        hop = self.routes.lookup(rt, peer.version, lo, hi)
        return [self._judge_hop(iface, peer, hop, direction)]

    def _in_vpc(self, vpc_id: str, peer: End) -> bool:
        vpc = self.model.vpcs.get(vpc_id)
        if vpc is None:
            return False
        blocks = vpc.cidrs_v4 + vpc.cidrs_v6
        return all(in_blocks(blocks, peer.version, lo, hi) for lo, hi in peer.addrs)

    def _judge_hop(self, iface: Interface, peer: End, hop: Hop, direction: str) -> Check:
        rt, route = hop.table, hop.route
        where = f"{rt.id} (route table of {iface.subnet_id or iface.id})"
        base = dict(kind="route", direction=direction, component=rt.id)
        if hop.missing_lists and (route is None or route.target != "local"):
            return Check(**base, status="unknown",
                         detail=f"{where} routes prefix list {', '.join(hop.missing_lists)}, which is not in the "
                                "snapshot; it may hold a more specific route")
        if route is None:
            return Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                         detail=f"{where} has no route to {peer.text()}")
        rtext = f"route {route.destination} -> {route.target}"
        if route.state != "active":
            return Check(**base, status="deny", code="BAD_STATE_ROUTE",
                         detail=f"{where}: {rtext} is {route.state} (RT-3: a blackhole route drops)")
        target = route.target
        if target == "local":
            return Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                         detail=f"{where}: {peer.text()} matches the local route, but the peer is in another VPC")
        if target.startswith("pcx-"):
            return self._judge_peering(iface, peer, route.target, where, rtext, base)
        if target.startswith("igw-") or target.startswith("nat-") or target.startswith("eigw-"):
            if peer.internet:
                return Check(**base, status="allow", detail=f"{where}: {rtext}")
            return Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                         detail=f"{where}: {rtext} sends {peer.text()} towards the internet, where a private "
                                "address never arrives")
        kind = "transit gateway" if target.startswith("tgw-") else "this kind of target"
        return Check(**base, status="unknown",
                     detail=f"{where}: {rtext}; paths through {kind} are not modelled yet (RT-5)")

    def _judge_peering(self, iface: Interface, peer: End, pcx_id: str, where: str, rtext: str,
                       base: dict) -> Check:
        pcx = self.model.peerings.get(pcx_id)
        if pcx is None:
            return Check(**base, status="unknown", detail=f"{where}: {rtext}, but {pcx_id} is not in the snapshot")
        if pcx.status != "active":
            return Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                         detail=f"{where}: {rtext}, but {pcx_id} is {pcx.status}, not active (RT-4)")
        other, blocks = peer_vpc(pcx, iface.vpc_id)
        if other is None:
            return Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                         detail=f"{where}: {rtext}, but {pcx_id} does not connect {iface.vpc_id}")
        if blocks and not all(in_blocks(blocks, peer.version, lo, hi) for lo, hi in peer.addrs):
            return Check(**base, status="deny", code="PCX_REQUIRES_ADDRESS_IN_VPC_CIDR",
                         detail=f"{where}: {rtext}, but {peer.text()} is outside {other}'s CIDRs {', '.join(blocks)}")
        if peer.site is not None and peer.site.vpc_id and peer.site.vpc_id != other:
            return Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                         detail=f"{where}: {rtext} leads to {other}, but the peer is in {peer.site.vpc_id}; "
                                "peering is not transitive (RT-4)")
        return Check(**base, status="allow", detail=f"{where}: {rtext} ({pcx_id} active)")

    # -- the internet ------------------------------------------------------------------------------
    def _from_internet(self, src: End, dst: End, t: Traffic) -> list[Check]:
        d = dst.iface
        assert d is not None
        out: list[Check] = []
        if src.version == 4 and d.has_public is None:
            out.append(Check(kind="address", direction="ingress", component=d.id, status="unknown",
                             detail=f"{d.id} is inferred (its interface is not in the snapshot), so whether it has "
                                    "a public address is unknown"))
        elif src.version == 4 and not d.has_public:
            out.append(Check(kind="address", direction="ingress", component=d.id, status="deny",
                             code="NO_PUBLIC_ADDRESS",
                             detail=f"{d.id} has no public or Elastic IP, so no internet host can address it"))
        if src.version == 6 and not d.ipv6:
            out.append(Check(kind="address", direction="ingress", component=d.id, status="deny",
                             code="NO_PUBLIC_ADDRESS", detail=f"{d.id} has no IPv6 address"))
        checks, peer = self._acl(d, False, t.protocol, src, _req_ports(t), "ingress")
        out += checks
        reply = _reply(t)
        if reply is not None:
            checks, peer = self._acl(d, True, reply[0], peer, reply[1] or src.ephemeral, "egress-reply")
            out += checks
        out += self._internet_route(d, peer, "egress-reply")
        return out

    def _to_internet(self, src: End, dst: End, t: Traffic) -> list[Check]:
        s = src.iface
        assert s is not None
        self._nat_context = (t, src)
        out, peer = self._acl(s, True, t.protocol, dst, _req_ports(t), "egress")
        reply = _reply(t)
        if reply is not None:
            checks, peer = self._acl(s, False, reply[0], peer, reply[1] or src.ephemeral, "ingress-reply")
            out += checks
        out += self._internet_route(s, peer, "egress", outbound=True)
        return out

    def _internet_route(self, iface: Interface, peer: End, direction: str, outbound: bool = False) -> list[Check]:
        """The subnet must send internet-bound traffic to an internet gateway (or, outbound only, a NAT)."""
        if not self.has_routes:
            failed = f" (collection failed: {'; '.join(self.route_errors)})" if self.route_errors else ""
            return [Check(kind="route", direction=direction, component=iface.subnet_id or iface.id, status="unknown",
                          detail=f"route tables are not in the snapshot; the internet path cannot be decided{failed}")]
        rt = self.routes.of_subnet(iface.subnet_id, iface.vpc_id)
        if rt is None:
            return [Check(kind="route", direction=direction, component=iface.subnet_id or iface.id, status="unknown",
                          detail=f"no route table for {iface.subnet_id or iface.id} is in the snapshot (RT-2)")]
        witness = peer.addrs[0][0]
        hop = self.routes.lookup(rt, peer.version, witness, witness)
        where = f"{rt.id} (route table of {iface.subnet_id})"
        base = dict(kind="route", direction=direction, component=rt.id)
        if hop.route is None:
            return [Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                          detail=f"{where} has no route to the internet")]
        route = hop.route
        rtext = f"route {route.destination} -> {route.target}"
        if route.state != "active":
            return [Check(**base, status="deny", code="BAD_STATE_ROUTE", detail=f"{where}: {rtext} is {route.state}")]
        if route.target.startswith("igw-"):
            if outbound and peer.version == 4 and iface.has_public is None:
                return [Check(**base, status="unknown", detail=f"{where}: {rtext}, and whether {iface.id} (inferred) "
                                                               "has a public IP is unknown")]
            if outbound and peer.version == 4 and not iface.has_public:
                return [Check(**base, status="deny", code="NO_PUBLIC_ADDRESS",
                              detail=f"{where}: {rtext}, but {iface.id} has no public IP, so the gateway cannot "
                                     "translate its traffic")]
            return [Check(**base, status="allow", detail=f"{where}: {rtext}")]
        if route.target.startswith("eigw-") and outbound:
            return [Check(**base, status="allow", detail=f"{where}: {rtext} (egress-only, IPv6)")]
        if route.target.startswith("nat-"):
            if not outbound:
                return [Check(**base, status="deny", code="NO_ROUTE_TO_DESTINATION",
                              detail=f"{where}: {rtext}; replies to internet clients leave through a NAT gateway and "
                                     "never reach them (the subnet has no internet gateway route)")]
            return [Check(**base, status="allow", detail=f"{where}: {rtext}")] + self._nat_path(route.target, iface,
                                                                                               peer)
        return [Check(**base, status="unknown" if route.target.startswith("tgw-") else "deny",
                      code=None if route.target.startswith("tgw-") else "NO_ROUTE_TO_DESTINATION",
                      detail=f"{where}: {rtext} does not lead to an internet gateway"
                             + (" (transit gateway paths are not modelled yet, RT-5)"
                                if route.target.startswith("tgw-") else ""))]

    def _nat_path(self, nat_id: str, client: Interface, peer: End) -> list[Check]:
        """Through a NAT gateway: its subnet's ACL both ways (NACL-1, NACL-6) and its route to an internet gateway."""
        nat = self.nat_ifaces.get(nat_id)
        if nat is None:
            return [Check(kind="route", direction="egress", component=nat_id, status="unknown",
                          detail=f"{nat_id}'s interface is not in the snapshot; its path to the internet is unknown")]
        t, src = self._nat_context
        checks: list[Check] = []
        crosses = nat.subnet_id != client.subnet_id  # NACL-5: no ACL between interfaces of one subnet
        if crosses:
            checks += self._acl(nat, False, t.protocol, src, _req_ports(t), "ingress")[0]
        out, peer = self._acl(nat, True, t.protocol, peer, _req_ports(t), "egress")
        checks += out
        reply = _reply(t)
        if reply is not None:
            back, peer = self._acl(nat, False, reply[0], peer, reply[1] or acls.WIDE_EPHEMERAL, "ingress-reply")
            checks += back
            if crosses:
                checks += self._acl(nat, True, reply[0], src, reply[1] or src.ephemeral, "egress-reply")[0]
        checks += self._internet_route(nat, peer, "egress", outbound=False)
        return [replace(c, detail=f"via {nat_id}: {c.detail}") for c in checks]

def _place(end: End) -> tuple:
    """Everything about an end that the path depends on (not the interface's groups or id)."""
    site = end.site
    where = None if site is None else (site.subnet_id, site.vpc_id, site.has_public, bool(site.ipv6), site.inferred,
                                       end.iface is None)
    return (where, end.version, end.addrs, end.mode, end.internet, end.ephemeral)


def _eid(end: End) -> str:
    return end.iface.id if end.iface is not None else ""


def _all_public(end: End) -> bool:
    """An address outside the snapshot that lives on the internet (it is reached the way the internet is)."""
    public = public_intervals(end.version)
    return all(any(lo <= a and b <= hi for lo, hi in public) for a, b in end.addrs)


def _num(n: int) -> str:
    return "* (default deny)" if n == 32767 else str(n)


def _req_ports(t: Traffic) -> tuple[int, int]:
    if t.protocol in ("tcp", "udp"):
        return (t.port or 0, t.port or 0)
    if t.protocol in ("icmp", "icmpv6"):
        return acls.icmp_ports(t.port if t.port is not None else 8, t.code if t.code is not None else 0)
    return acls.ALL_PORTS


def _reply(t: Traffic) -> tuple[str, tuple[int, int] | None] | None:
    """The reply's protocol and destination ports (None: the client's ephemeral range); None: no reply to check."""
    if t.protocol in ("tcp", "udp"):
        return t.protocol, None
    if t.protocol in ("icmp", "icmpv6"):
        reply_type = acls.ICMP_REPLY_TYPES.get(t.port if t.port is not None else -1)
        return None if reply_type is None else (t.protocol, acls.icmp_ports(reply_type, 0))
    return t.protocol, acls.ALL_PORTS


def _ports_text(protocol: str, ports: tuple[int, int]) -> str:
    if protocol in ("icmp", "icmpv6"):
        t, c = divmod(ports[0], 256)
        return f"{protocol} type {t}" + ("" if ports[1] - ports[0] == 255 else f" code {c}")
    if protocol not in ("tcp", "udp"):
        return f"protocol {protocol}"
    return f"port {ports[0]}" if ports[0] == ports[1] else f"ports {ports[0]}-{ports[1]}"
