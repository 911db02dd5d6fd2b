"""`check --plan` and `diff S --plan`: the incident caught in CI before `terraform apply`."""

from __future__ import annotations

import json

from conftest import EXAMPLE, run_cli

PRE = str(EXAMPLE / "pre-migration")
INTENTS = str(EXAMPLE / "intents.yaml")
MIGRATION = str(EXAMPLE / "migration-plan.json")
FIX_PLAN = str(EXAMPLE / "fix-plan.json")
REDIS_SG, OLD_SG, NEW_SG = "sg-0454e74e2924a7754", "sg-0e61190afc2502b10", "sg-0864e6f6aee2a5cf4"


def test_check_with_migration_plan_fails_naming_the_intent_and_its_cause():
    r = run_cli("check", INTENTS, "--snapshot", PRE, "--plan", MIGRATION)
    assert r.returncode == 1, r.stderr
    failing = [line for line in r.stdout.splitlines() if line.startswith("FAIL")]
    assert failing and all("api -> redis:6379" in line for line in failing)
    assert f"{REDIS_SG} (hokusai-redis-development) admits tcp/6379 only from {OLD_SG}" in r.stdout
    assert "what-if: 2 changes from" in r.stderr


def test_check_without_plan_passes_on_pre_migration():
    assert run_cli("check", INTENTS, "--snapshot", PRE).returncode == 0


def test_check_with_fix_plan_passes():
    r = run_cli("check", INTENTS, "--snapshot", PRE, "--plan", FIX_PLAN)
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_check_json_lists_the_whatif():
    r = run_cli("check", INTENTS, "--snapshot", PRE, "--plan", MIGRATION, "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert [c["origin"] for c in out["whatif"]["changes"]] == ["aws_security_group.api_tasks", "aws_ecs_service.api"]


def test_check_with_assume_fixes_before():
    r = run_cli("check", INTENTS, "--snapshot", str(EXAMPLE / "before"), "--assume",
                f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}")
    assert r.returncode == 0, r.stdout


def test_check_bad_plan_exits_2(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text("{}")
    r = run_cli("check", INTENTS, "--snapshot", PRE, "--plan", str(bad))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "format_version" in r.stderr


def test_diff_with_migration_plan_reports_the_lost_flow_with_its_cause():
    r = run_cli("diff", PRE, "--plan", MIGRATION, "--json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    (lost,) = out["flows"]["lost"]
    assert (lost["source"], lost["destination"], lost["traffic"]) == ("hokusai-api-development",
                                                                      "hokusai-redis-development", "tcp/6379")
    assert lost["causes"][0] == ("aws_ecs_service.api: move ECS service hokusai-api-development to "
                                 "aws_security_group.api_tasks")
    assert any(REDIS_SG in c and "only the old group" in c for c in lost["causes"])
    assert out["whatif"]["plan"] == MIGRATION
    text = run_cli("diff", PRE, "--plan", MIGRATION)
    assert text.returncode == 1
    assert ("aws_ecs_service.api: move ECS service hokusai-api-development to aws_security_group.api_tasks"
            in text.stdout)


def test_diff_with_fix_plan_loses_nothing():
    r = run_cli("diff", PRE, "--plan", FIX_PLAN, "--json")
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["flows"]["lost"] == []


def test_diff_with_assume_reports_the_gained_flow():
    r = run_cli("diff", str(EXAMPLE / "before"), "--assume", f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}",
                "--json")
    assert r.returncode == 0
    (gained,) = json.loads(r.stdout)["flows"]["gained"]
    assert gained["causes"][0] == f"assumed: authorize {REDIS_SG} ingress tcp/6379 from {NEW_SG}"


def test_diff_plan_with_two_snapshots_is_a_usage_error():
    r = run_cli("diff", PRE, str(EXAMPLE / "before"), "--plan", MIGRATION)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
