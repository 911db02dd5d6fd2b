"""Address ranges as integer intervals: containment and overlap without materialising sets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from reachgraph.semantics.rects import subtract_intervals

# Addresses that are not "the internet": RFC 1918, CGNAT, loopback, link-local, docs, multicast...
_NON_PUBLIC_V4 = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3"))
_NON_PUBLIC_V6 = tuple(ipaddress.ip_network(n) for n in ("::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"))


@dataclass(frozen=True, slots=True)
class AddrRange:
    """A contiguous block of addresses of one IP version, inclusive bounds."""

    version: int
    lo: int
    hi: int
    exact: bool = True   # False: the endpoint is somewhere in this block, address unknown
    text: str = ""

    def within(self, other: AddrRange) -> bool:
        """Every address of self lies in other."""
        return self.version == other.version and other.lo <= self.lo and self.hi <= other.hi

    def overlaps(self, other: AddrRange) -> bool:
        """Some address lies in both."""
        return self.version == other.version and self.lo <= other.hi and other.lo <= self.hi

    def __str__(self) -> str:
        return self.text or f"v{self.version}:{self.lo}-{self.hi}"


@lru_cache(maxsize=65536)
def parse_range(text: str, exact: bool = True) -> AddrRange:
    """'10.0.0.0/16' or '10.0.1.5' -> AddrRange (cached: rules repeat the same CIDRs)."""
    net = ipaddress.ip_network(text, strict=False)
    return AddrRange(net.version, int(net.network_address), int(net.broadcast_address), exact, str(net)
                     if net.num_addresses > 1 else str(net.network_address))


def any_of(version: int) -> AddrRange:
    """The whole address space of one version (an endpoint whose address is unknown)."""
    return parse_range("0.0.0.0/0" if version == 4 else "::/0", exact=False)


def covers(block: AddrRange, target: AddrRange) -> bool | None:
    """Does a rule's block admit the endpoint? True, False, or None when it depends on the unknown address."""
    if target.version != block.version:
        return False  # SG-9: IPv4 rules never admit IPv6 and vice versa
    if target.within(block):
        return True
    if not target.overlaps(block):
        return False
    return None if not target.exact else False


def is_public(r: AddrRange) -> bool:
    """True when the block holds at least one public (internet-routable) address."""
    return any(lo <= r.hi and r.lo <= hi for lo, hi in public_intervals(r.version))


@lru_cache(maxsize=2)
def public_intervals(version: int) -> tuple[tuple[int, int], ...]:
    """The public (internet-routable) part of an address family, as sorted intervals."""
    top = (1 << 32) - 1 if version == 4 else (1 << 128) - 1
    blocks = _NON_PUBLIC_V4 if version == 4 else _NON_PUBLIC_V6
    return tuple(subtract_intervals([(0, top)], [(int(n.network_address), int(n.broadcast_address))
                                                 for n in blocks]))


def text_of(version: int, value: int) -> str:
    """An address integer as text."""
    return str(ipaddress.ip_address(value)) if version == 4 else str(ipaddress.IPv6Address(value))


def span_text(version: int, lo: int, hi: int) -> str:
    """An interval as an address, a CIDR when it is one, else lo-hi."""
    if lo == hi:
        return text_of(version, lo)
    size = hi - lo + 1
    if size & (size - 1) == 0 and lo % size == 0:
        bits = (32 if version == 4 else 128) - size.bit_length() + 1
        return f"{text_of(version, lo)}/{bits}"
    return f"{text_of(version, lo)}-{text_of(version, hi)}"
