"""Fuzz: mutated snapshots either load (and answer) or raise reachgraph.InputError -- never anything else.

Hypothesis takes valid snapshots -- the bundled incident folder, an estate written with tests/builders.py, and a
reachgraph snapshot file (.json / .json.gz) -- and mutates them: keys dropped, values replaced by the wrong type
(str/int/float/bool/null/list/dict), lists where objects belong and objects where lists belong, bytes truncated,
gzip streams cut short.  Then `reachgraph.load(...)` and a query must either succeed or raise InputError with a
non-empty one-line message.  Derandomized, no example database: CI sees the same cases every run.
"""

from __future__ import annotations

import copy
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reachgraph
from builders import (
    cache_cluster, cache_eni, ecs_service, ecs_task, eni, estate, instance, perm, peering, prefix_list,
    replication_group, sg, sg_rule, task_eni,
)
from conftest import EXAMPLE
from reachgraph.snapshot import build_snapshot_document, write_snapshot_file

EXAMPLES = 240
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
WRONG_VALUES: list[Any] = [None, True, False, 0, -1, 70000, 1.5, "", "x", "-1", "tcp", "10.0.0.0/33", "sg-", "::",
                           [], [None], ["x"], [1, 2], {}, {"x": 1}, [{}], [[]]]
EXAMPLE_FILES = sorted((EXAMPLE / "before" / "123456789012" / "us-east-1").glob("*.json"))


def builders_estate() -> dict[str, Any]:
    """A small estate touching every loader: groups (+ rules), interfaces, ECS, ElastiCache, instances, peering."""
    api, redis = "sg-0a0a0a0a0a0a0a0a1", "sg-0aedc5000000000a1"
    return estate(
        SecurityGroups=[sg(api, "api"), sg(redis, "redis", ingress=[perm("tcp", 6380, 6380, groups=[api]),
                                                                   perm("icmp", 8, -1, cidrs=["10.0.0.0/16"]),
                                                                   perm("-1", prefix_lists=["pl-0123456789abcdef0"])])],
        SecurityGroupRules=[sg_rule("sgr-0123456789abcdef0", redis, "tcp", 6380, 6380, group=api)],
        NetworkInterfaces=[task_eni("eni-0a5c00000000000a1", "10.0.1.23", [api]),
                           cache_eni("eni-0cac4e00000000000", "10.0.2.50", "cache-001", [redis])],
        PrefixLists=[prefix_list("pl-0123456789abcdef0", ["10.0.0.0/8"])],
        VpcPeeringConnections=[peering("pcx-0123456789abcdef0", "vpc-0a1b2c3d4e5f60001", "vpc-0bbbbbbbbbbbbbbb1")],
        Reservations=[instance("i-0b0000000000000b1", "bastion",
                               eni("eni-0000000000000b001", "10.0.1.50", [api], public_ip="54.1.2.3"))],
        services=[ecs_service("api", "shop", [api], container_port=8000)],
        tasks=[ecs_task("1111aaaa2222bbbb", "shop", "api", eni_id="eni-0a5c00000000000a1", ip="10.0.1.23"),
               ecs_task("3333cccc4444dddd", "shop", "api", eni_id=None, ip=None, attachment_status="PRECREATED")],
        CacheClusters=[cache_cluster("cache-001", [redis], port=6380, replication_group="cache"),
                       cache_cluster("cache-002", [redis], port=6380, replication_group="cache")],
        ReplicationGroups=[replication_group("cache", ["cache-001", "cache-002"], port=6380)])


def example_document() -> dict[str, Any]:
    """The incident's `before` folder as one reachgraph snapshot document (manifest + resources)."""
    keyed: dict[str, Any] = {}
    for f in EXAMPLE_FILES:
        keyed.update(json.loads(f.read_text()))
    return build_snapshot_document(
        {"collected_at": "2025-11-07T10:00:00Z", "accounts": ["123456789012"], "regions": ["us-east-1"],
         "caller_arn": "arn:aws:sts::123456789012:assumed-role/audit/reachgraph", "errors": []},
        {"123456789012": {"us-east-1": keyed}})


# -- mutations ----------------------------------------------------------------------------------------------
def pick_path(data, doc: Any) -> list[Any]:
    """A random path into the JSON tree, biased towards going a few levels deep."""
    path: list[Any] = []
    node = doc
    while True:
        if isinstance(node, dict) and node:
            children: list[Any] = sorted(node)
        elif isinstance(node, list) and node:
            children = list(range(len(node)))
        else:
            break
        if path and data.draw(st.integers(0, 4), label="stop") == 0:
            break
        key = data.draw(st.sampled_from(children), label="step")
        path.append(key)
        node = node[key]
    return path


def mutate(data, doc: Any) -> Any:
    """Apply one mutation at a random path; returns the new root."""
    path = pick_path(data, doc)
    kind = data.draw(st.sampled_from(["drop", "retype", "retype", "wrap", "unwrap", "empty"]), label="mutation")
    if not path:
        return data.draw(st.sampled_from(WRONG_VALUES), label="root")
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    value = parent[key]
    if kind == "drop":
        del parent[key]
    elif kind == "retype":
        parent[key] = copy.deepcopy(data.draw(st.sampled_from(WRONG_VALUES), label="value"))
    elif kind == "wrap":
        parent[key] = [value]                                  # a list where an object (or scalar) belongs
    elif kind == "unwrap":
        if isinstance(value, list) and value:
            parent[key] = value[0]                             # an object where a list belongs
        elif isinstance(value, dict):
            parent[key] = list(value.values())
        else:
            parent[key] = {"value": value}
    else:
        parent[key] = type(value)() if isinstance(value, (dict, list, str)) else None
    return doc


def check_one_line(exc: reachgraph.InputError) -> None:
    msg = str(exc)
    assert msg.strip(), "InputError with an empty message"
    assert "\n" not in msg, msg


def load_and_query(path: Path, queries: list[tuple[str, str]]) -> None:
    """Load; ask each query; render the JSON form. InputError is fine anywhere, nothing else is."""
    try:
        snap = reachgraph.load(path)
    except reachgraph.InputError as exc:
        check_one_line(exc)
        return
    for src, dst in queries:
        try:
            result = snap.query(src, dst)
        except reachgraph.InputError as exc:
            check_one_line(exc)
            continue
        assert result.verdict in ("reachable", "partial", "blocked", "unknown")
        json.dumps(result.to_dict())


# -- the fuzz tests -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def example_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-example")
    shutil.copytree(EXAMPLE / "before", root / "before")
    return root / "before"


def run_counted(test) -> int:
    seen: list[int] = []

    @SETTINGS
    @given(st.data())
    def run(data) -> None:
        test(data)
        seen.append(1)

    run()
    return len(seen)


def test_mutated_example_folder(example_copy):
    """The bundled incident folder with one file mutated (1-3 mutations) or truncated."""
    folder = example_copy / "123456789012" / "us-east-1"

    def one(data) -> None:
        target = folder / data.draw(st.sampled_from([f.name for f in EXAMPLE_FILES]), label="file")
        original = target.read_bytes()
        try:
            if data.draw(st.integers(0, 5), label="truncate?") == 0:
                target.write_bytes(original[: data.draw(st.integers(0, len(original) - 1), label="cut")])
            else:
                doc = json.loads(original)
                for _ in range(data.draw(st.integers(1, 3), label="count")):
                    doc = mutate(data, doc)
                target.write_text(json.dumps(doc))
            load_and_query(example_copy, [("api", "redis:6379"), ("api", "redis"), ("internet", "redis:6379")])
        finally:
            target.write_bytes(original)

    assert run_counted(one) >= 200


def test_mutated_builders_estate(tmp_path_factory):
    """An estate written with the builders, as one AWS CLI JSON file, mutated 1-4 times."""
    base = builders_estate()
    path = tmp_path_factory.mktemp("fuzz-builders") / "estate.json"

    def one(data) -> None:
        doc = copy.deepcopy(base)
        for _ in range(data.draw(st.integers(1, 4), label="count")):
            doc = mutate(data, doc)
        path.write_text(json.dumps(doc))
        load_and_query(path, [("api", "cache:6380"), ("api", "cache"), ("bastion", "cache-002:6380"),
                              ("10.0.1.23", "eni-0cac4e00000000000:icmp/8")])

    assert run_counted(one) >= 200


def test_mutated_snapshot_file(tmp_path_factory):
    """A reachgraph snapshot file (manifest + resources), mutated, written .json or .json.gz, or its gzip
    stream cut short."""
    base = example_document()
    folder = tmp_path_factory.mktemp("fuzz-snapshot")

    def one(data) -> None:
        doc = copy.deepcopy(base)
        for _ in range(data.draw(st.integers(0, 3), label="count")):
            doc = mutate(data, doc)
        gz = data.draw(st.booleans(), label="gz")
        path = folder / ("snap.json.gz" if gz else "snap.json")
        try:
            write_snapshot_file(path, doc)
        except (TypeError, ValueError):
            path.write_bytes(gzip.compress(json.dumps(doc).encode()) if gz else json.dumps(doc).encode())
        if data.draw(st.integers(0, 3), label="truncate?") == 0:
            raw = path.read_bytes()
            path.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1), label="cut")])
        load_and_query(path, [("api", "redis:6379"), ("hokusai-api-development", "sg-0454e74e2924a7754:6379")])

    assert run_counted(one) >= 200


# -- inputs the fuzzer's value list leaves out because they crash today ----------------------------------------
@pytest.mark.parametrize("field", ["FromPort", "Port", "containerPort"])
def test_infinite_number_is_an_input_error(tmp_path, field):
    doc = builders_estate()
    if field == "FromPort":
        doc["SecurityGroups"][1]["IpPermissions"][0]["FromPort"] = float("inf")
    elif field == "Port":
        doc["CacheClusters"][0]["CacheNodes"][0]["Endpoint"]["Port"] = float("inf")
    else:
        doc["services"][0]["loadBalancers"][0]["containerPort"] = float("inf")
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc).replace("Infinity", "1e999"))
    with pytest.raises(reachgraph.InputError) as exc:
        reachgraph.load(path)
    check_one_line(exc.value)
    assert "estate.json" in str(exc.value) and field in str(exc.value)


def test_deeply_nested_json_is_an_input_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"SecurityGroups": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(reachgraph.InputError) as exc:
        reachgraph.load(path)
    check_one_line(exc.value)
    assert "deep.json" in str(exc.value)
