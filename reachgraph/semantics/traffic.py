"""What a query asks about: protocol, destination port or ICMP type/code; and which rules admit it."""

from __future__ import annotations

from typing import NamedTuple

from reachgraph.model.protocols import has_ports


class Traffic(NamedTuple):
    """Traffic to evaluate: tcp/udp with a destination port, icmp with type[:code], or another protocol.

    A named tuple rather than a dataclass: it is part of every cache key, and tuples hash in C."""

    protocol: str            # normalised name or number ("tcp", "udp", "icmp", "icmpv6", "50")
    port: int | None = None  # tcp/udp destination port; icmp type
    code: int | None = None  # icmp code

    def text(self) -> str:
        """tcp/6379, icmp/8:0, proto 50."""
        if self.protocol in ("tcp", "udp"):
            return self.protocol if self.port is None else f"{self.protocol}/{self.port}"
        if self.protocol in ("icmp", "icmpv6"):
            return f"{self.protocol}/{self.port}:{self.code if self.code is not None else 0}"
        return f"proto {self.protocol}"


def rule_admits(protocol: str, from_port: int | None, to_port: int | None, t: Traffic) -> bool:
    """Does a rule's protocol and port part admit the traffic? (SG-5, SG-7, SG-8)."""
    if protocol == "-1":
        return True  # SG-7: all protocols, whatever FromPort/ToPort say
    if protocol != t.protocol:
        return False
    if not has_ports(protocol):
        return True  # SG-7: other protocols ignore ports
    if protocol in ("tcp", "udp"):
        lo = 0 if from_port is None else from_port
        hi = 65535 if to_port is None else to_port
        return t.port is not None and lo <= t.port <= hi  # SG-8: inclusive
    # icmp/icmpv6: FromPort is the type, ToPort the code, -1 any (SG-8)
    rtype = -1 if from_port is None else from_port
    rcode = -1 if to_port is None else to_port
    if rtype != -1 and rtype != t.port:
        return False
    return rcode == -1 or rcode == (t.code if t.code is not None else 0)
