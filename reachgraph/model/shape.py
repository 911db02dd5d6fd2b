"""Small, strict readers for AWS response fields: wrong shapes become InputError with a JSON path."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from reachgraph.errors import InputError

_AZ_RE = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")
_ARN_RE = re.compile(r"^arn:aws[\w-]*:[\w-]+:([\w-]*):(\d{12})?:")
# A dotted quad already in canonical form (octets 0-255, no leading zeros): what ip_address would print back.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"     # [0-9], not \d: \d matches any script's digits
_CANONICAL_V4_RE = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_HINT = "is this unmodified AWS CLI JSON output?"


class ShapeError(ValueError):
    """A field of an AWS response has the wrong type or value."""


@contextmanager
def item_context(source: str, path: str) -> Iterator[None]:
    """Re-raise any shape problem inside the block as an InputError naming file and JSON path."""
    try:
        yield
    except Exception as exc:
        err = _shape_error(exc, source, path)
        if err is None:
            raise
        raise err from None


def _shape_error(exc: Exception, source: str, path: str) -> InputError | None:
    """The InputError a shape problem at `path` becomes; None for anything else (an InputError already says where)."""
    if isinstance(exc, InputError):
        return None
    if isinstance(exc, KeyError):
        return InputError(f"{path}: missing required field {exc}", source, _HINT)
    if isinstance(exc, (ShapeError, TypeError, ValueError, AttributeError)):
        return InputError(f"{path}: unexpected shape ({_msg(exc)})", source, _HINT)
    return None


def _msg(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def s(obj: dict[str, Any], key: str, default: str | None = None) -> str | None:
    """An optional string field."""
    value = obj.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(f"'{key}' should be a string, got {type(value).__name__}")
    return value


def req(obj: dict[str, Any], key: str) -> str:
    """A required string field."""
    if not isinstance(obj, dict):
        raise ShapeError(f"expected an object, got {type(obj).__name__}")
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise ShapeError(f"'{key}' should be a non-empty string")
    return value


def i(obj: dict[str, Any], key: str) -> int | None:
    """An optional integer field (numeric strings accepted, booleans refused)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ShapeError(f"'{key}' should be a number, got a boolean")
    if isinstance(value, str):
        value = value.strip()
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ShapeError(f"'{key}' should be an integer, got {value!r}") from None


def b(obj: dict[str, Any], key: str, default: bool = False) -> bool:
    """An optional boolean field."""
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise ShapeError(f"'{key}' should be true or false")
    return value


def objs(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """An optional list of objects."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(f"'{key}' should be a list, got {type(value).__name__}")
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise ShapeError(f"'{key}[{n}]' should be an object, got {type(item).__name__}")
    return value


def strs(obj: dict[str, Any], key: str) -> list[str]:
    """An optional list of strings."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ShapeError(f"'{key}' should be a list of strings")
    return value


def obj(o: dict[str, Any], key: str) -> dict[str, Any]:
    """An optional nested object ({} when absent)."""
    value = o.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ShapeError(f"'{key}' should be an object, got {type(value).__name__}")
    return value


def cidr(value: str, v6: bool | None = None) -> str:
    """A CIDR in canonical form; host bits are cleared as AWS does."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ShapeError(f"{value!r} is not a CIDR block") from None
    if v6 is not None and (net.version == 6) != v6:
        raise ShapeError(f"{value!r} is not an IPv{'6' if v6 else '4'} CIDR block")
    return str(net)


def ip(value: str) -> str:
    """An IP address in canonical form."""
    if isinstance(value, str) and _CANONICAL_V4_RE.fullmatch(value):
        return value                   # most addresses: parsing would print the same text back
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ShapeError(f"{value!r} is not an IP address") from None


def region_of_az(az: str | None) -> str | None:
    """us-east-1a -> us-east-1."""
    if not az:
        return None
    m = _AZ_RE.match(az)
    return m.group(1) if m else None


def account_region_of_arn(arn: str | None) -> tuple[str | None, str | None]:
    """(account, region) from an ARN, when present."""
    if not arn:
        return None, None
    m = _ARN_RE.match(arn)
    if not m:
        return None, None
    return m.group(2) or None, m.group(1) or None


def tag(tags: list[dict[str, Any]], key: str) -> str | None:
    """The value of one tag in an AWS Tags list."""
    for t in tags:
        if t.get("Key") == key:
            value = t.get("Value")
            return value if isinstance(value, str) else None
    return None


def each(items: tuple[dict[str, Any], ...], key: str, source: str,
         fn: Callable[[dict[str, Any]], None]) -> None:
    """Apply fn to every item, naming the item's JSON path if its shape is wrong."""
    n = 0
    try:
        # One handler for the whole loop, not a context per item: L has a quarter of a million items.
        for n, item in enumerate(items):
            fn(item)
    except Exception as exc:
        err = _shape_error(exc, source, f"{key}[{n}]")
        if err is None:
            raise
        raise err from None
