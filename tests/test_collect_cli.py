"""`reachgraph collect` in-process: usage errors, exit codes, output modes, atomic writes, interrupts."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import set_initial_no_auth_action_count
from rich.console import Console
from typer.testing import CliRunner

from reachgraph.cli import app
from reachgraph.cli.collect_cmd import DEFAULT_SERVICES_OPTION, BarProgress
from reachgraph.collect import DEFAULT_SERVICES
from reachgraph.collect.context import Unit
from reachgraph.collect.runner import ProgressEvent
from reachgraph.snapshot import read_snapshot

from collect_helpers import (
    ACCOUNT,
    INCIDENT,
    REGION,
    iam_user_with,
    isolate_aws_env,
    moto_aws,
    pin_ecs_tasks,
    policy_without,
    seed_incident,
)

runner = CliRunner()


def invoke(*args: str) -> Any:
    """Run `reachgraph ARGS` in-process; stdout and stderr are kept apart."""
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials, no region, no AWS config: nothing reaches a real account."""
    isolate_aws_env(monkeypatch, tmp_path)


@pytest.fixture
def incident(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The bundled incident (before) seeded into moto in-process; yields example id -> moto id."""
    with moto_aws(monkeypatch, tmp_path):
        yield seed_incident(lambda s: boto3.client(s, region_name=REGION), INCIDENT / "before" / ACCOUNT / REGION,
                            pin_ecs_tasks)


def test_default_services_option_is_the_collectors_default() -> None:
    """The CLI keeps the default literal (to not import boto3 at start-up); it must not drift."""
    assert tuple(DEFAULT_SERVICES_OPTION.split(",")) == DEFAULT_SERVICES


@pytest.mark.parametrize(("args", "message"), [
    (["--region", "us-east-9"], "unknown region 'us-east-9'"),
    (["--region", "useast1"], "'useast1' is not a region name"),
    (["--region", REGION, "--services", "ec2,s3"], "unknown service 's3'"),
    (["--region", REGION, "--services", " , "], "no service given"),
    ([], "no region given and none configured"),
    (["--region", REGION, "--all-regions"], "--region and --all-regions exclude each other"),
    (["--region", REGION, "--role-arn", "audit"], "'audit' is not an IAM role ARN"),
    (["--region", REGION, "--profile", "a", "--profile", "b", "--role-arn", "arn:aws:iam::111122223333:role/x"],
     "--role-arn takes at most one --profile"),
    (["--region", REGION, "--profile", "nope"], "AWS profile 'nope' not found"),
])
def test_usage_errors_exit_2_with_one_line(clean_env: None, tmp_path: Path, args: list[str], message: str) -> None:
    """Bad input: exit 2, one line on stderr naming the problem, no traceback, no file."""
    out = tmp_path / "snap.json"
    result = invoke("collect", "-o", str(out), *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reachgraph: error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_missing_output_folder_is_a_usage_error(clean_env: None, tmp_path: Path) -> None:
    """Checked before any API call."""
    result = invoke("collect", "-o", str(tmp_path / "nope" / "snap.json"), "--region", REGION)
    assert result.exit_code == 2 and "output folder does not exist" in result.stderr


def test_max_workers_must_be_positive(clean_env: None, tmp_path: Path) -> None:
    """typer rejects it as a usage error."""
    assert invoke("collect", "-o", str(tmp_path / "s.json"), "--region", REGION, "--max-workers", "0").exit_code == 2


def test_no_credentials_is_a_usage_error(clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere in the chain: one line saying how to provide them, exit 2."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = invoke("collect", "-o", str(tmp_path / "s.json"), "--region", REGION)
    assert result.exit_code == 2
    assert result.stderr.startswith("reachgraph: error: default credentials: no AWS credentials found")
    assert len(result.stderr.strip().splitlines()) == 1


def test_complete_collection_exits_0_with_log_lines_and_summary(incident: dict[str, str], tmp_path: Path) -> None:
    """Not a TTY: one log line per unit on stderr; one summary line on stdout; exit 0."""
    out = tmp_path / "snap.json"
    result = invoke("collect", "-o", str(out), "--region", REGION)
    assert result.exit_code == 0, result.stderr
    log = result.stderr.strip().splitlines()
    assert log[0] == "collect: 6 units (account x region x service)"
    assert len(log) == 7 and all(line.startswith("collect: [") for line in log[1:])
    assert any(f"{ACCOUNT} {REGION} ecs: containerInstances 0, services 1, taskDefinitions 1, tasks 2" in line
               for line in log)
    [summary] = result.stdout.strip().splitlines()
    assert summary.startswith(f"wrote {out}: 1 account, 1 region; ")
    # 5 incident groups + the default group of the default VPC that moto always has
    assert "SecurityGroups 6" in summary and "tasks 2" in summary and "; 0 errors; " in summary
    assert read_snapshot(out).errors == ()


def test_json_summary(incident: dict[str, str], tmp_path: Path) -> None:
    """--json: the summary as one JSON object on stdout, consistent with the file's manifest."""
    out = tmp_path / "snap.json.gz"
    result = invoke("collect", "-o", str(out), "--region", REGION, "--json", "--services", "ec2,elasticache")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    manifest = read_snapshot(out).manifest
    assert summary["complete"] is True and summary["errors"] == []
    assert summary["api_calls"] == manifest["api_calls"] == 1 + 12 + 3
    assert summary["services"] == ["ec2", "elasticache"] and summary["accounts"] == [ACCOUNT]
    assert summary["resources"]["ReplicationGroups"] == 1 and summary["output"] == str(out)


def test_quiet_prints_nothing(incident: dict[str, str], tmp_path: Path) -> None:
    """--quiet: no progress, no summary; the exit status says it all."""
    result = invoke("collect", "-o", str(tmp_path / "s.json"), "--region", REGION, "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def _query_json(path: Path) -> tuple[int, dict[str, Any]]:
    result = invoke("query", "api", "redis:6379", "--snapshot", str(path), "--json")
    return result.exit_code, json.loads(result.stdout)


def test_access_denied_on_elasticache_exits_3_and_query_says_unknown(
        incident: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """moto enforcing IAM without elasticache:*: the file is written, the error recorded, exit 3;
    a query that needs the cache says unknown and names the error instead of guessing."""
    iam_user_with(policy_without("elasticache"), monkeypatch)
    out = tmp_path / "snap.json"
    result = set_initial_no_auth_action_count(0)(invoke)(
        "collect", "-o", str(out), "--region", REGION, "--services", "ec2,ecs,elasticache")
    assert result.exit_code == 3, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("reachgraph: warning:")]
    assert len(warnings) == 3 and "elasticache:DescribeReplicationGroups failed in 123456789012/us-east-1: " \
        "AccessDenied" in "\n".join(warnings)
    raw = read_snapshot(out)
    assert {(e.service, e.operation, e.code) for e in raw.errors} == {
        ("elasticache", "DescribeCacheClusters", "AccessDenied"),
        ("elasticache", "DescribeReplicationGroups", "AccessDenied"),
        ("elasticache", "DescribeServerlessCaches", "AccessDenied")}
    assert "; 3 errors; " in result.stdout

    code, answer = _query_json(out)
    assert (code, answer["verdict"]) == (1, "unknown")
    said = json.dumps([answer.get("warnings"), answer.get("blockers")])
    assert "AccessDenied" in said and "elasticache" in said.lower()


def test_interrupt_mid_write_leaves_the_target_untouched(incident: dict[str, str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the file is being written: exit 130, the old file (or nothing) stays, no temp file."""
    out = tmp_path / "snap.json"
    out.write_text("previous snapshot\n")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    result = invoke("collect", "-o", str(out), "--region", REGION, "--quiet")
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert out.read_text() == "previous snapshot\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "no-aws-config") == ["snap.json"]
    out.unlink()
    result = invoke("collect", "-o", str(out), "--region", REGION, "--quiet")
    assert result.exit_code == 130 and not out.exists()


def test_interrupt_mid_collection_writes_nothing(incident: dict[str, str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while units run: the pool is cancelled, nothing is written, exit 130."""
    from reachgraph.collect import ecs

    def interrupted(ctx: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ecs, "collect", interrupted)
    out = tmp_path / "snap.json"
    result = invoke("collect", "-o", str(out), "--region", REGION, "--max-workers", "2")
    assert result.exit_code == 130 and not out.exists()


def test_rich_progress_bar_rows_per_region() -> None:
    """On a terminal: one row per account/region with per-service counts and an overall API-call count."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160, color_system=None)
    units = (Unit(ACCOUNT, REGION, "ec2"), Unit(ACCOUNT, REGION, "ecs"), Unit(ACCOUNT, "eu-west-1", "ec2"))
    bar = BarProgress(console)
    with bar:
        bar(ProgressEvent("plan", 0, 3, units=units))
        bar(ProgressEvent("done", 1, 3, unit=units[1], resources={"tasks": 2, "services": 1}, api_calls=7))
        bar(ProgressEvent("done", 2, 3, unit=units[0], resources={"Vpcs": 1}, errors=({"code": "x"},), api_calls=20))
    text = buffer.getvalue()
    assert f"{ACCOUNT} {REGION}" in text and "ecs 3 ec2 1!" in text and "20 API calls" in text
    assert [t.total for t in bar.progress.tasks] == [3, 2, 1]


def test_only_the_collector_imports_boto3() -> None:
    """Architecture: boto3/botocore appear only under reachgraph/collect, and the CLI loads them lazily."""
    import re
    import subprocess
    import sys

    package = Path(__file__).resolve().parents[1] / "reachgraph"
    pattern = re.compile(r"^\s*(import|from)\s+(boto3|botocore)\b", re.M)
    offenders = [str(p.relative_to(package)) for p in package.rglob("*.py")
                 if "collect" not in p.relative_to(package).parts[:1] and pattern.search(p.read_text())]
    assert offenders == []
    probe = "import sys, reachgraph.cli; print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
