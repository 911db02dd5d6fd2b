"""The strict field readers (reachgraph.model.shape): canonical addresses, and shape errors that name the item.

Facts relied on: AWS prints IPv4 addresses as dotted quads without leading zeros, and Python's `ipaddress`
rejects leading zeros and prints the canonical form back; `shape.ip` skips the parse for text already in that
form, so both must agree on every input.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reachgraph
from reachgraph.errors import InputError
from reachgraph.model import shape

OCTETS = st.one_of(st.integers(0, 255).map(str), st.sampled_from(["00", "01", "007", "256", "999", "-1", " 1",
                                                                     "1 ", "", "0x1", "\u0661", "\u00b2", "1\n"]))


def parsed(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def read(text: str) -> str | None:
    try:
        return shape.ip(text)
    except shape.ShapeError:
        return None


@settings(max_examples=2000, deadline=None)
@given(st.lists(OCTETS, min_size=3, max_size=5).map(".".join))
def test_ip_agrees_with_ipaddress_on_dotted_text(text: str) -> None:
    assert read(text) == parsed(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.ip_addresses().map(str), st.text(max_size=20)))
def test_ip_agrees_with_ipaddress_on_any_text(text: str) -> None:
    assert read(text) == parsed(text)


def test_ip_canonical_forms() -> None:
    assert shape.ip("10.0.0.1") == "10.0.0.1"
    assert shape.ip("2001:DB8:0:0::1") == "2001:db8::1"
    for bad in ("10.0.0.01", "10.0.0.256", "\u0661.2.3.4", "10.0.0.1\n"):
        with pytest.raises(shape.ShapeError):
            shape.ip(bad)


def test_each_names_the_item_whose_shape_is_wrong() -> None:
    items = ({"Id": "a"}, {"Id": "b"}, {"Name": "no id"})
    seen: list[str] = []
    with pytest.raises(InputError) as exc:
        shape.each(items, "Things", "dir/things.json", lambda item: seen.append(shape.req(item, "Id")))
    assert seen == ["a", "b"]
    assert "Things[2]: missing required field 'Id'" in str(exc.value)
    assert "dir/things.json" in str(exc.value)
    with pytest.raises(InputError) as exc:
        shape.each(({"Id": 3},), "Things", "t.json", lambda item: shape.req(item, "Id"))
    assert "Things[0]: unexpected shape ('Id' should be a non-empty string)" in str(exc.value)


def test_each_lets_other_errors_through_unchanged() -> None:
    inner = InputError("already says where", "elsewhere.json")

    def raise_input(item: dict) -> None:
        raise inner

    with pytest.raises(InputError) as exc:
        shape.each(({},), "Things", "t.json", raise_input)
    assert exc.value is inner

    def bug(item: dict) -> None:
        raise RuntimeError("a bug, not bad input")

    with pytest.raises(RuntimeError):
        shape.each(({},), "Things", "t.json", bug)


def test_a_malformed_interface_is_named_by_file_and_index(tmp_path: Path) -> None:
    good = {"NetworkInterfaceId": "eni-0000000000000001", "SubnetId": "subnet-1", "VpcId": "vpc-1",
            "PrivateIpAddress": "10.0.0.5", "Groups": []}
    bad = dict(good, NetworkInterfaceId="eni-0000000000000002", PrivateIpAddress="10.0.0.500")
    (tmp_path / "enis.json").write_text(json.dumps({"NetworkInterfaces": [good, bad]}))
    with pytest.raises(InputError) as exc:
        reachgraph.load(tmp_path)
    assert "NetworkInterfaces[1]" in str(exc.value) and "enis.json" in str(exc.value)
    assert "10.0.0.500" in str(exc.value)
