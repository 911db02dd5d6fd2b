"""`reachgraph diff OLD NEW` (issue 6 part 2): flows gained and lost with their causes, then groups, rules,
memberships and workloads added and removed; exit 1 when a flow was lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import reachgraph
from builders import SUBNET_B, eni, estate, instance, perm, sg, write_estate
from conftest import EXAMPLE, run_cli

API, REDIS = "hokusai-api-development", "hokusai-redis-development"
CAUSE = ("hokusai-api-development moved from sg-0e61190afc2502b10 to sg-0864e6f6aee2a5cf4; "
         "sg-0454e74e2924a7754 still admits only the old group")


@pytest.fixture(scope="module")
def pre_migration():
    return reachgraph.load(EXAMPLE / "pre-migration")


def flow(result, change: str, source: str, destination: str, traffic: str):
    matches = [f for f in result.flows_of(change) if (f.source, f.destination, f.traffic) ==
               (source, destination, traffic)]
    assert len(matches) == 1, [f.describe() for f in result.flows]
    return matches[0]


# -- the incident -------------------------------------------------------------------------------------
def test_before_to_after_gains_api_to_redis(before_snapshot, after_snapshot):
    d = before_snapshot.diff(after_snapshot)
    f = flow(d, "gained", API, REDIS, "tcp/6379")
    assert (f.old_verdict, f.new_verdict) == ("blocked", "reachable")
    assert any("rule added: sg-0454e74e2924a7754 ingress tcp/6379 from sg-0864e6f6aee2a5cf4 "
               "(sgr-0e240228a0c81c095)" in c for c in f.causes)
    assert not d.lost and not d.flows_of("lost")
    assert [c.id for c in d.changes_of("rule", "added")] == ["sgr-0e240228a0c81c095"]
    assert not d.changes_of("group", "added") and not d.changes_of("membership", "added")


def test_pre_migration_to_before_loses_api_to_redis_with_the_cause(pre_migration, before_snapshot):
    d = pre_migration.diff(before_snapshot)
    f = flow(d, "lost", API, REDIS, "tcp/6379")
    assert (f.old_verdict, f.new_verdict) == ("reachable", "blocked")
    assert "; ".join(f.causes) == CAUSE
    assert d.lost
    assert [c.id for c in d.changes_of("group", "added")] == ["sg-0864e6f6aee2a5cf4"]
    assert [c.detail for c in d.changes_of("membership", "added")] == [
        "hokusai-api-development joined sg-0864e6f6aee2a5cf4 (hokusai-data-pipeline-ecs-tasks)"]
    assert [c.detail for c in d.changes_of("membership", "removed")] == [
        "hokusai-api-development left sg-0e61190afc2502b10 (hokusai-ecs-tasks)"]
    # the ALB still reaches the API: both groups admit 8000 from it
    assert not [x for x in d.flows if x.destination == API]


def test_after_to_before_names_the_removed_rule(after_snapshot, before_snapshot):
    d = after_snapshot.diff(before_snapshot)
    f = flow(d, "lost", API, REDIS, "tcp/6379")
    assert any("rule sgr-0e240228a0c81c095 (tcp/6379 from sg-0864e6f6aee2a5cf4) was removed from "
               "sg-0454e74e2924a7754" in c for c in f.causes)
    assert [c.id for c in d.changes_of("rule", "removed")] == ["sgr-0e240228a0c81c095"]


def test_a_snapshot_against_itself_has_no_changes(before_snapshot):
    d = before_snapshot.diff(before_snapshot)
    assert d.empty and not d.lost


def test_json_form(pre_migration, before_snapshot):
    data = pre_migration.diff(before_snapshot).to_dict()
    assert data["lost"] is True
    assert data["flows"]["lost"][0]["causes"] == CAUSE.split("; ")
    assert data["summary"]["lost"] == 1 and data["summary"]["groups_added"] == 1
    assert set(data) >= {"old", "new", "flows", "groups", "rules", "memberships", "workloads", "summary"}


# -- fixtures -----------------------------------------------------------------------------------------
CLIENT, SERVER, OTHER = "sg-0d00000000000001", "sg-0d00000000000002", "sg-0d00000000000003"


def two_instances(tmp_path: Path, name: str, *, client_egress=None, server=True, second_client_group=CLIENT,
                  extra_client: bool = True) -> Path:
    """`client` (one or two instances' worth: `client` and `client-b`) -> `server` on 5432 by group reference."""
    groups = [sg(CLIENT, "clients", egress=client_egress), sg(OTHER, "others"),
              sg(SERVER, "db", ingress=[perm("tcp", 5432, 5432, groups=[CLIENT])])]
    c1 = eni("eni-0d00000000000001", "10.0.1.10", [CLIENT])
    nics, res = [c1], [instance("i-0d00000000000001", "client", c1)]
    if extra_client:
        c2 = eni("eni-0d00000000000003", "10.0.1.11", [second_client_group])
        nics.append(c2)
        res.append(instance("i-0d00000000000003", "client-b", c2))
    if server:
        s = eni("eni-0d00000000000002", "10.0.2.10", [SERVER], subnet_id=SUBNET_B)
        nics.append(s)
        res.append(instance("i-0d00000000000002", "server", s))
    docs = estate(SecurityGroups=groups, NetworkInterfaces=nics, Reservations=res)
    return write_estate(tmp_path / name, docs)


def test_a_removed_workload_loses_its_flows(tmp_path):
    old = reachgraph.load(two_instances(tmp_path, "old"))
    new = reachgraph.load(two_instances(tmp_path, "new", server=False))
    d = old.diff(new)
    f = flow(d, "lost", "client", "server", "tcp/5432")
    assert f.new_verdict == "absent" and f.causes == (f"server is not in {new.source}",)
    assert [c.id for c in d.changes_of("workload", "removed")] == ["server"]


def test_egress_tightened_names_the_egress_group(tmp_path):
    old = reachgraph.load(two_instances(tmp_path, "old"))
    new = reachgraph.load(two_instances(tmp_path, "new", client_egress=[perm("tcp", 443, 443,
                                                                              cidrs=["0.0.0.0/0"])]))
    d = old.diff(new)
    f = flow(d, "lost", "client", "server", "tcp/5432")
    assert any(CLIENT in c and "was removed" in c for c in f.causes), f.causes
    assert len(d.changes_of("rule", "removed")) == 1 and len(d.changes_of("rule", "added")) == 1


def test_one_instance_leaving_the_group_loses_only_its_flow(tmp_path):
    old = reachgraph.load(two_instances(tmp_path, "old"))
    new = reachgraph.load(two_instances(tmp_path, "new", second_client_group=OTHER))
    d = old.diff(new)
    f = flow(d, "lost", "client-b", "server", "tcp/5432")
    assert any("client-b moved from sg-0d00000000000001 to sg-0d00000000000003" in c for c in f.causes)
    assert any(f"{SERVER} still admits only the old group" in c for c in f.causes)
    assert not [x for x in d.flows if x.source == "client"]


def test_a_new_rule_gains_a_flow(tmp_path):
    old = reachgraph.load(two_instances(tmp_path, "old", second_client_group=OTHER))
    new = reachgraph.load(two_instances(tmp_path, "new"))
    d = old.diff(new)
    f = flow(d, "gained", "client-b", "server", "tcp/5432")
    assert f.old_verdict == "blocked" and not d.lost


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_exit_codes_and_text():
    lost = run_cli("diff", str(EXAMPLE / "pre-migration"), str(EXAMPLE / "before"))
    assert lost.returncode == 1, lost.stderr
    assert "flows lost (1):" in lost.stdout and CAUSE in lost.stdout
    gained = run_cli("diff", str(EXAMPLE / "before"), str(EXAMPLE / "after"))
    assert gained.returncode == 0 and "flows gained (1):" in gained.stdout
    assert "hokusai-api-development -> hokusai-redis-development tcp/6379" in gained.stdout
    same = run_cli("diff", str(EXAMPLE / "after"), str(EXAMPLE / "after"))
    assert same.returncode == 0 and "no changes" in same.stdout


def test_cli_json_is_deterministic_and_new_defaults_to_the_environment():
    args = ("diff", str(EXAMPLE / "pre-migration"), str(EXAMPLE / "before"), "--json")
    a, b = run_cli(*args), run_cli(*args)
    assert a.stdout == b.stdout and json.loads(a.stdout)["lost"] is True
    env = run_cli("diff", str(EXAMPLE / "pre-migration"), "--json",
                  env={"REACHGRAPH_SNAPSHOT": str(EXAMPLE / "before")})
    assert env.returncode == 1 and json.loads(env.stdout)["flows"]["lost"]


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    missing = run_cli("diff", str(tmp_path / "nope"), str(EXAMPLE / "before"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    no_new = run_cli("diff", str(EXAMPLE / "before"))
    assert no_new.returncode == 2 and "REACHGRAPH_SNAPSHOT" in no_new.stderr
