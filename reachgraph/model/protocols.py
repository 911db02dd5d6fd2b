"""IP protocol names and numbers as security groups and ACLs write them (SG-7)."""

from __future__ import annotations

NAMES_TO_NUMBERS: dict[str, int] = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
NUMBERS_TO_NAMES: dict[int, str] = {v: k for k, v in NAMES_TO_NUMBERS.items()}
ALL = "-1"


def normalize_protocol(value: object) -> str:
    """'6', 'TCP', 6 -> 'tcp'; '-1'/'all' -> '-1'; other numbers stay numbers ('50')."""
    text = str(value).strip().lower()
    if text in ("-1", "all"):
        return ALL
    if text in NAMES_TO_NUMBERS:
        return text
    if text.isdigit():
        number = int(text)
        if not 0 <= number <= 255:
            raise ValueError(f"protocol number {number} is outside 0-255")
        return NUMBERS_TO_NAMES.get(number, str(number))
    raise ValueError(f"unknown IP protocol {value!r}")


def protocol_number(name: str) -> int | None:
    """'tcp' -> 6, '50' -> 50, '-1' -> None (all)."""
    if name == ALL:
        return None
    return NAMES_TO_NUMBERS.get(name, None) if name in NAMES_TO_NUMBERS else int(name)


def has_ports(name: str) -> bool:
    """True for protocols whose rules filter ports (tcp, udp) or type/code (icmp, icmpv6); SG-7."""
    return name in NAMES_TO_NUMBERS
