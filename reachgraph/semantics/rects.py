"""Sets of (address interval x port interval) rectangles: exact first-match ACL evaluation without
materialising addresses or ports."""

from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[int, int, int, int]  # address lo, address hi, port lo, port hi (inclusive)


def intersect(a: Rect, b: Rect) -> Rect | None:
    """The common part of two rectangles, or None."""
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    plo, phi = max(a[2], b[2]), min(a[3], b[3])
    if lo > hi or plo > phi:
        return None
    return (lo, hi, plo, phi)


def subtract(a: Rect, cut: Rect) -> list[Rect]:
    """a minus cut, as at most four rectangles (cut must lie inside a)."""
    out: list[Rect] = []
    if a[0] < cut[0]:
        out.append((a[0], cut[0] - 1, a[2], a[3]))
    if cut[1] < a[1]:
        out.append((cut[1] + 1, a[1], a[2], a[3]))
    if a[2] < cut[2]:
        out.append((cut[0], cut[1], a[2], cut[2] - 1))
    if cut[3] < a[3]:
        out.append((cut[0], cut[1], cut[3] + 1, a[3]))
    return out


@dataclass
class Split:
    """Where first-match evaluation sent each part of the traffic: allowed, denied (by which entry)."""

    allowed: list[tuple[Rect, int]]   # (part, rule number)
    denied: list[tuple[Rect, int]]    # rule number 32767 stands for the implicit '*' deny

    def allowed_rects(self) -> list[Rect]:
        """Allowed parts without their rule numbers."""
        return [r for r, _ in self.allowed]


def first_match(space: list[Rect], entries: list[tuple[Rect, bool, int]]) -> Split:
    """Walk entries in order; each takes the part of what is left that it matches (NACL-2)."""
    remaining = list(space)
    allowed: list[tuple[Rect, int]] = []
    denied: list[tuple[Rect, int]] = []
    for rect, allow, number in entries:
        nxt: list[Rect] = []
        for r in remaining:
            hit = intersect(r, rect)
            if hit is None:
                nxt.append(r)
                continue
            (allowed if allow else denied).append((hit, number))
            nxt.extend(subtract(r, hit))
        remaining = nxt
        if not remaining:
            break
    denied.extend((r, 32767) for r in remaining)  # the implicit '*' entry denies what is left
    return Split(allowed, denied)


def addresses_fully_allowed(split: Split, port_lo: int, port_hi: int) -> list[tuple[int, int]]:
    """Address intervals for which every port in [port_lo, port_hi] is allowed."""
    rects = split.allowed_rects()
    cuts = sorted({r[0] for r in rects} | {r[1] + 1 for r in rects})
    out: list[tuple[int, int]] = []
    for a, b in zip(cuts, cuts[1:]):
        ports = sorted((r[2], r[3]) for r in rects if r[0] <= a and b - 1 <= r[1])
        covered = port_lo
        for plo, phi in ports:
            if plo > covered:
                break
            covered = max(covered, phi + 1)
        if covered > port_hi:
            if out and out[-1][1] + 1 == a:
                out[-1] = (out[-1][0], b - 1)
            else:
                out.append((a, b - 1))
    return out


def merge_intervals(items: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of intervals."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(items):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def intersect_intervals(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Intersection of two interval lists."""
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo <= hi:
                out.append((lo, hi))
    return merge_intervals(out)


def subtract_intervals(base: list[tuple[int, int]], cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """base minus every cut interval, as sorted intervals."""
    out = merge_intervals(base)
    for c_lo, c_hi in merge_intervals(cut):
        nxt = []
        for lo, hi in out:
            if c_hi < lo or c_lo > hi:
                nxt.append((lo, hi))
                continue
            if lo < c_lo:
                nxt.append((lo, c_lo - 1))
            if c_hi < hi:
                nxt.append((c_hi + 1, hi))
        out = nxt
    return out
