"""The smallest security-group change that makes a blocked query reachable, as AWS CLI commands."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reachgraph.model.protocols import protocol_number
from reachgraph.model.records import Interface
from reachgraph.semantics.traffic import Traffic


@dataclass(frozen=True)
class Need:
    """One missing allowance: `group` must admit (ingress) or allow (egress) the peer."""

    direction: str               # ingress | egress
    group: str                   # the group to change
    peer_iface: Interface | None
    peer_address: str            # CIDR to use when the peer has no group
    preferred_groups: tuple[str, ...] = ()  # the peer workload's declared groups


def suggest_fixes(needs: list[Need], t: Traffic) -> tuple[str, ...]:
    """One command per (group, peer group or CIDR), preferring a group reference shared by all peers."""
    by_group: dict[tuple[str, str], list[Need]] = defaultdict(list)
    for n in needs:
        by_group[(n.direction, n.group)].append(n)
    commands: list[str] = []
    for (direction, group), group_needs in sorted(by_group.items()):
        for is_group, peer in _peers(group_needs):
            commands.append(_command(direction, group, peer, is_group, t))
    return tuple(dict.fromkeys(commands))


def _peers(needs: list[Need]) -> list[tuple[bool, str]]:
    """(is a group, group id or CIDR) that together cover every blocked peer, fewest first."""
    # Peers with the same groups need the same reference: deduplicate first (one need per blocked pair arrives).
    grouped: dict[tuple[tuple[str, ...], tuple[str, ...]], None] = {}
    without: set[str] = set()
    for n in needs:
        if n.peer_iface is not None and n.peer_iface.group_ids:
            grouped[(n.peer_iface.group_ids, n.preferred_groups)] = None
        else:
            without.add(_host_cidr(n.peer_address))
    peers: list[str] = []
    remaining = list(grouped)
    while remaining:
        common = set(remaining[0][0])
        for groups, _ in remaining[1:]:
            common &= set(groups)
        if common:
            preferred = [g for g in remaining[0][1] if g in common]
            peers.append((preferred or sorted(common))[0])
            break
        # No group shared by all: cover the first peer, then the rest.
        first, pref_groups = remaining[0]
        pref = [g for g in pref_groups if g in first]
        choice = (pref or sorted(first))[0]
        peers.append(choice)
        remaining = [r for r in remaining if choice not in r[0]]
    return [(True, g) for g in peers] + [(False, c) for c in sorted(without)]


def _host_cidr(address: str) -> str:
    if "/" in address:
        return address
    return f"{address}/128" if ":" in address else f"{address}/32"


def _command(direction: str, group: str, peer: str, is_group: bool, t: Traffic) -> str:
    if direction == "ingress" and t.protocol in ("tcp", "udp"):
        source = f"--source-group {peer}" if is_group else f"--cidr {peer}"
        return (f"aws ec2 authorize-security-group-ingress --group-id {group} --protocol {t.protocol} "
                f"--port {t.port} {source}")
    verb = "authorize-security-group-ingress" if direction == "ingress" else "authorize-security-group-egress"
    return f"aws ec2 {verb} --group-id {group} --ip-permissions '{_permission(peer, is_group, t)}'"


def _permission(peer: str, is_group: bool, t: Traffic) -> str:
    if is_group:
        target = f"UserIdGroupPairs=[{{GroupId={peer}}}]"
    elif ":" in peer:
        target = f"Ipv6Ranges=[{{CidrIpv6={peer}}}]"
    else:
        target = f"IpRanges=[{{CidrIp={peer}}}]"
    if t.protocol in ("tcp", "udp"):
        return f"IpProtocol={t.protocol},FromPort={t.port},ToPort={t.port},{target}"
    if t.protocol in ("icmp", "icmpv6"):
        code = t.code if t.code is not None else -1
        return f"IpProtocol={t.protocol},FromPort={t.port},ToPort={code},{target}"
    return f"IpProtocol={protocol_number(t.protocol)},{target}"
