"""`reachgraph query` as a user runs it: the installed console script, as a subprocess, on the bundled incident.

Contract (design.md): verdict first; exit 0 reachable, 1 partial/blocked/unknown, 2 usage or input error;
--json with a fixed schema, byte-identical across runs; bad input -> one line on stderr, no traceback.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import pytest

from conftest import EXAMPLE, reachgraph_bin, run_cli

BEFORE = EXAMPLE / "before"
AFTER = EXAMPLE / "after"
FIX = ("aws ec2 authorize-security-group-ingress --group-id sg-0454e74e2924a7754 --protocol tcp --port 6379 "
       "--source-group sg-0864e6f6aee2a5cf4")
REDIS_SG, API_SG, OLD_SG = "sg-0454e74e2924a7754", "sg-0864e6f6aee2a5cf4", "sg-0e61190afc2502b10"


def query_json(*args: str, env: dict[str, str] | None = None) -> tuple[dict, str, int]:
    proc = run_cli("query", *args, "--json", env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout), proc.stdout, proc.returncode


# -- the incident ------------------------------------------------------------------------------------
def test_before_is_blocked_with_the_exact_fix():
    proc = run_cli("query", "api", "redis:6379", "--snapshot", str(BEFORE))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.split()[0] == "BLOCKED"
    lines = [line.strip() for line in proc.stdout.splitlines()]
    assert FIX in lines
    blocker_lines = [line for line in lines if "ENI_SG_RULES_MISMATCH" in line]
    assert blocker_lines and all(line.startswith("ingress") and REDIS_SG in line for line in blocker_lines)
    # The explanation names the only group Redis admits, and that it has no members (layout is free).
    assert f"{OLD_SG} (hokusai-ecs-tasks, 0 member interfaces)" in proc.stdout
    assert proc.stdout.index("BLOCKED") < proc.stdout.index("fix:") < proc.stdout.index(FIX)
    assert "Traceback" not in proc.stderr


def test_before_json_names_the_blocker():
    doc, _, code = query_json("api", "redis:6379", "--snapshot", str(BEFORE))
    assert code == 1 and doc["verdict"] == "blocked"
    assert [(b["code"], b["direction"], b["component"]) for b in doc["blockers"]] == [
        ("ENI_SG_RULES_MISMATCH", "ingress", REDIS_SG)]
    assert doc["fixes"] == [FIX]
    assert doc["counts"] == {"blocked": 4, "pairs": 4, "reachable": 0, "unknown": 0}
    assert sorted(doc["source"]["interfaces"]) == ["eni-0300f467f602fe0f7", "eni-0cb16c3d5bb6d211c"]


def test_after_is_reachable_and_names_the_rule():
    proc = run_cli("query", "api", "redis:6379", "--snapshot", str(AFTER))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[0] == "REACHABLE"
    assert "sgr-0e240228a0c81c095" in proc.stdout
    assert "fix:" not in proc.stdout
    doc, _, code = query_json("api", "redis:6379", "--snapshot", str(AFTER))
    assert code == 0 and doc["verdict"] == "reachable" and doc["blockers"] == [] and doc["fixes"] == []
    ingress = [a for a in doc["allowed_by"] if a["direction"] == "ingress" and a["component"].startswith("sg-")]
    assert [(a["component"], a["rule_id"]) for a in ingress] == [(REDIS_SG, "sgr-0e240228a0c81c095")]


def test_pre_migration_is_reachable_through_the_old_group():
    doc, _, code = query_json("api", "redis:6379", "--snapshot", str(EXAMPLE / "pre-migration"))
    assert code == 0 and doc["verdict"] == "reachable"
    assert any(a["component"] == REDIS_SG and OLD_SG in a["rule"] for a in doc["allowed_by"])


def test_port_defaults_to_the_cluster_endpoint():
    doc, _, _ = query_json("api", "redis", "--snapshot", str(BEFORE))
    assert (doc["protocol"], doc["port"]) == ("tcp", 6379)
    assert doc["destination"]["id"].startswith("elasticache_replication_group:")
    assert doc["destination"]["text"] == "redis"


def test_json_schema_and_byte_identical_runs():
    doc, first, _ = query_json("api", "redis:6379", "--snapshot", str(BEFORE))
    _, second, _ = query_json("api", "redis:6379", "--snapshot", str(BEFORE))
    assert first == second
    for key in ("verdict", "source", "destination", "protocol", "port", "pairs", "allowed_by", "blockers", "fixes",
                "warnings"):
        assert key in doc, key
    assert doc["verdict"] in ("reachable", "partial", "blocked", "unknown")
    assert isinstance(doc["port"], int) and isinstance(doc["protocol"], str)
    for b in doc["blockers"]:
        assert {"code", "direction", "component", "detail"} <= set(b)
        assert b["code"].isupper() and b["component"].startswith(("sg-", "acl-", "rtb-", "eni-", "subnet-"))
    for p in doc["pairs"]:
        assert {"source", "destination", "verdict"} <= set(p) and p["verdict"] in ("reachable", "blocked", "unknown")
    for a in json.loads(run_cli("query", "api", "redis:6379", "-s", str(AFTER), "--json").stdout)["allowed_by"]:
        assert {"direction", "component", "rule"} <= set(a)
    assert all(isinstance(f, str) and f.startswith("aws ec2 ") for f in doc["fixes"])
    assert isinstance(doc["warnings"], list)


def test_snapshot_from_environment_variable():
    proc = run_cli("query", "api", "redis:6379", env={"REACHGRAPH_SNAPSHOT": str(AFTER)})
    assert proc.returncode == 0 and proc.stdout.startswith("REACHABLE"), proc.stdout + proc.stderr
    # --snapshot wins over the environment.
    proc = run_cli("query", "api", "redis:6379", "-s", str(BEFORE), env={"REACHGRAPH_SNAPSHOT": str(AFTER)})
    assert proc.returncode == 1 and proc.stdout.startswith("BLOCKED")


def test_piped_output_has_no_colour_codes():
    """Plain when piped, even with a colour-capable TERM and no NO_COLOR."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "REACHGRAPH_SNAPSHOT", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.run([reachgraph_bin(), "query", "api", "redis:6379", "-s", str(BEFORE)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "\x1b[" not in proc.stdout and "\x1b[" not in proc.stderr
    assert proc.stdout.startswith("BLOCKED")


def test_unknown_from_failed_collection_is_exit_1_not_2(tmp_path):
    """A snapshot whose ElastiCache calls failed answers `unknown` naming the error -- a finding, not bad input."""
    from reachgraph.snapshot import build_snapshot_document, write_snapshot_file

    resources = {"123456789012": {"us-east-1": {}}}
    for f in sorted((BEFORE / "123456789012" / "us-east-1").glob("*.json")):
        data = json.loads(f.read_text())
        for key, value in data.items():
            if key not in ("CacheClusters", "ReplicationGroups", "failures"):
                resources["123456789012"]["us-east-1"][key] = value
    errors = [{"account": "123456789012", "region": "us-east-1", "service": "elasticache", "operation": op,
               "code": "AccessDenied", "message": "not authorized"}
              for op in ("DescribeCacheClusters", "DescribeReplicationGroups")]
    doc = build_snapshot_document({"collected_at": "2025-11-07T10:00:00Z", "accounts": ["123456789012"],
                                   "regions": ["us-east-1"], "errors": errors}, resources)
    path = write_snapshot_file(tmp_path / "snap.json.gz", doc)
    proc = run_cli("query", "api", "redis:6379", "-s", str(path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.split()[0] == "UNKNOWN"
    assert "AccessDenied" in proc.stdout and "elasticache" in proc.stdout
    out = json.loads(run_cli("query", "api", "redis:6379", "-s", str(path), "--json").stdout)
    assert out["verdict"] == "unknown" and out["blockers"] == []


# -- bad input: exit 2, one line on stderr, no traceback -------------------------------------------------
def assert_input_error(proc, *words: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("reachgraph: error: "), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert proc.stdout == ""
    return lines[0]


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    assert_input_error(run_cli("query", "api", "redis", "-s", str(missing)), str(missing), "no such")


def test_empty_folder(tmp_path):
    assert_input_error(run_cli("query", "api", "redis", "-s", str(tmp_path)), str(tmp_path), "no .json")


def test_file_that_is_not_json(tmp_path):
    snap = tmp_path / "snap"
    shutil.copytree(BEFORE, snap)
    bad = snap / "123456789012" / "us-east-1" / "describe-vpcs.json"
    bad.write_text("An error occurred (UnauthorizedOperation) when calling the DescribeVpcs operation\n")
    assert_input_error(run_cli("query", "api", "redis", "-s", str(snap)), "describe-vpcs.json", "not valid JSON")


def test_json_of_the_wrong_shape_names_file_and_key(tmp_path):
    snap = tmp_path / "snap"
    shutil.copytree(BEFORE, snap)
    bad = snap / "123456789012" / "us-east-1" / "describe-security-groups.json"
    bad.write_text(json.dumps({"SecurityGroups": {"GroupId": "sg-1"}}))
    assert_input_error(run_cli("query", "api", "redis", "-s", str(snap)), "describe-security-groups.json",
                       "SecurityGroups")
    # Deeper: a field of one item has the wrong type -> the JSON path of the item and the field.
    data = json.loads((BEFORE / "123456789012" / "us-east-1" / "describe-security-groups.json").read_text())
    data["SecurityGroups"][2]["IpPermissions"] = "tcp/6379"
    bad.write_text(json.dumps(data))
    assert_input_error(run_cli("query", "api", "redis", "-s", str(snap)), "describe-security-groups.json",
                       "SecurityGroups[2]", "IpPermissions")


def test_truncated_json_gz(tmp_path):
    raw = (BEFORE / "123456789012" / "us-east-1" / "describe-security-groups.json").read_bytes()
    packed = gzip.compress(raw, mtime=0)
    path = tmp_path / "sgs.json.gz"
    path.write_bytes(packed[: len(packed) // 2])
    assert_input_error(run_cli("query", "api", "redis", "-s", str(path)), "sgs.json.gz")


def test_unknown_name_lists_candidates():
    line = assert_input_error(run_cli("query", "api", "memcached", "-s", str(BEFORE)), "'memcached'")
    assert "hokusai-redis-development" in line or "hokusai-api-development" in line


def test_ambiguous_name_lists_candidates_with_kinds():
    line = assert_input_error(run_cli("query", "hokusai", "redis:6379", "-s", str(BEFORE)), "ambiguous")
    for candidate in ("hokusai-api-development (ECS service)",
                      "hokusai-redis-development (ElastiCache replication group)"):
        assert candidate in line
    assert "hokusai-redis-development-001" not in line     # members of the replication group are not candidates


@pytest.mark.parametrize("destination, words", [
    ("redis:http", ["'http'", "port"]),
    ("redis:70000", ["70000"]),
    ("redis:6379/xyz", ["'xyz'", "protocol"]),
])
def test_bad_port_or_protocol(destination, words):
    assert_input_error(run_cli("query", "api", destination, "-s", str(BEFORE)), *words)


def test_bad_protocol_option():
    assert_input_error(run_cli("query", "api", "redis", "--protocol", "xyz", "-s", str(BEFORE)), "'xyz'")


def test_no_snapshot_given():
    assert_input_error(run_cli("query", "api", "redis"), "no snapshot", "REACHGRAPH_SNAPSHOT")


def test_bad_folder_layout(tmp_path):
    shutil.copytree(BEFORE / "123456789012" / "us-east-1", tmp_path / "not-a-region")
    assert_input_error(run_cli("query", "api", "redis", "-s", str(tmp_path)), "not-a-region")


def test_number_too_large_is_an_input_error(tmp_path):
    snap = tmp_path / "snap"
    shutil.copytree(BEFORE, snap)
    f = snap / "123456789012" / "us-east-1" / "describe-security-groups.json"
    f.write_text(f.read_text().replace('"FromPort": 6379', '"FromPort": 1e999', 1))
    assert_input_error(run_cli("query", "api", "redis", "-s", str(snap)), "describe-security-groups.json")
