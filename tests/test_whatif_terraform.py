"""Terraform plans (`terraform show -json`) as what-ifs: the incident caught before apply, fixes, deletes, values
unknown until apply, resource types reachgraph does not model, and malformed plans."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import reachgraph
from conftest import EXAMPLE, ROOT, run_cli
from reachgraph.errors import InputError
from reachgraph.whatif import apply_whatif, changes_from_plan, load_plan

PLANS = ROOT / "tests" / "fixtures" / "plans"
MIGRATION = EXAMPLE / "migration-plan.json"
FIX_PLAN = EXAMPLE / "fix-plan.json"
REDIS_SG, OLD_SG, NEW_SG, ALB_SG = ("sg-0454e74e2924a7754", "sg-0e61190afc2502b10", "sg-0864e6f6aee2a5cf4",
                                    "sg-0c85c87668427d358")
API_TASKS = "tf:aws_security_group.api_tasks"
ACL = "acl-0ea3cc240c0704a7d"


@pytest.fixture(scope="module")
def pre_migration():
    return reachgraph.load(EXAMPLE / "pre-migration")


def plan(name: str) -> dict:
    return json.loads((PLANS / name).read_text())


# -- the incident, caught before apply ----------------------------------------------------------------------------

def test_fixtures_are_terraform_json_plans():
    for path in [MIGRATION, FIX_PLAN, *PLANS.glob("*.json")]:
        data = load_plan(path)
        assert data["format_version"].startswith("1.")
        for rc in data["resource_changes"]:
            assert {"address", "type", "name", "change"} <= set(rc)
            assert {"actions", "before", "after", "after_unknown"} <= set(rc["change"])


def test_pre_migration_is_reachable_without_the_plan(pre_migration):
    assert pre_migration.query("api", "redis:6379").verdict == "reachable"


def test_migration_plan_blocks_api_to_redis_naming_the_redis_group(pre_migration):
    """The incident as a plan: api moves to a group created in the same plan; Redis still admits only the old group."""
    snap, warnings = pre_migration.with_plan(MIGRATION)
    assert warnings == []
    r = snap.query("api", "redis:6379")
    assert r.verdict == "blocked"
    (b,) = r.blockers
    assert (b.code, b.direction, b.component) == ("ENI_SG_RULES_MISMATCH", "ingress", REDIS_SG)
    assert f"admits tcp/6379 only from {OLD_SG}" in b.detail
    assert API_TASKS in b.detail
    # the original snapshot is untouched
    assert pre_migration.query("api", "redis:6379").verdict == "reachable"


def test_migration_plan_creates_the_group_with_its_rules_and_moves_the_service(pre_migration):
    snap, _ = pre_migration.with_plan(MIGRATION)
    g = snap.model.groups[API_TASKS]
    assert g.name == "hokusai-data-pipeline-ecs-tasks" and g.vpc_id == "vpc-0a1b2c3d4e5f67890"
    assert [(r.protocol, r.from_port, r.to_port, r.peer) for r in g.ingress] == [("tcp", 8000, 8000, ALB_SG)]
    assert [(r.protocol, r.peer) for r in g.egress] == [("-1", "0.0.0.0/0")]
    svc = next(w for w in snap.model.workloads.values() if w.kind == "ecs_service")
    assert svc.group_ids == (API_TASKS,)
    assert {snap.model.interfaces[e].group_ids for e in svc.interface_ids} == {(API_TASKS,)}
    # the rest of the estate still works: the ALB reaches the tasks through the new group's rule
    assert snap.query("hokusai-alb", "api:8000").verdict == "reachable"
    assert snap.query("internet", "hokusai-alb:443").verdict == "reachable"
    assert snap.query("internet", "redis").verdict == "blocked"


def test_migration_plan_changes_are_listed_with_their_terraform_addresses(pre_migration):
    w = apply_whatif(pre_migration, plan=MIGRATION)
    assert [(c.kind, c.origin) for c in w.changes] == [("create_group", "aws_security_group.api_tasks"),
                                                        ("move", "aws_ecs_service.api")]
    assert w.changes[1].describe() == "move ECS service hokusai-api-development to aws_security_group.api_tasks"
    assert w.plan_resources == ("aws_security_group.api_tasks", "aws_ecs_service.api")


def test_cli_query_with_migration_plan_is_blocked():
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "pre-migration"), "--plan", str(MIGRATION))
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("BLOCKED")
    assert f"{REDIS_SG} (hokusai-redis-development) admits tcp/6379 only from {OLD_SG}" in r.stdout
    assert "what-if: 2 changes from" in r.stderr
    assert "aws_ecs_service.api: move ECS service hokusai-api-development to aws_security_group.api_tasks" in r.stderr


def test_cli_query_json_with_plan_has_whatif_key():
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "pre-migration"), "--plan", str(MIGRATION),
                "--json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["verdict"] == "blocked"
    assert out["blockers"][0]["component"] == REDIS_SG
    w = out["whatif"]
    assert w["plan"] == str(MIGRATION) and w["assume"] == [] and w["warnings"] == []
    assert [c["kind"] for c in w["changes"]] == ["create_group", "move"]
    assert w["changes"][1]["groups"] == [API_TASKS]


def test_cli_plan_output_is_deterministic():
    args = ("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "pre-migration"), "--plan", str(FIX_PLAN),
            "--json")
    assert run_cli(*args).stdout == run_cli(*args).stdout


def test_fix_plan_adds_the_missing_ingress_rule_and_is_reachable(pre_migration, before_snapshot):
    """The migration done right: the new Redis rule names the group created in the same plan."""
    for snap in (pre_migration, before_snapshot):
        fixed, warnings = snap.with_plan(FIX_PLAN)
        assert warnings == []
        r = fixed.query("api", "redis:6379")
        assert r.verdict == "reachable", r.blockers
        assert any(a.component == REDIS_SG and API_TASKS in a.rule for a in r.allowed_by)
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "pre-migration"), "--plan", str(FIX_PLAN))
    assert r.returncode == 0 and r.stdout.startswith("REACHABLE")


def test_fix_for_a_planned_group_names_it_as_a_source_group(pre_migration):
    snap, _ = pre_migration.with_plan(MIGRATION)
    (fix,) = snap.query("api", "redis:6379").fixes
    assert f"--source-group {API_TASKS}" in fix


# -- other plans -------------------------------------------------------------------------------------------------

def test_standalone_security_group_rule_fixes_before(before_snapshot):
    snap, warnings = before_snapshot.with_plan(PLANS / "add-redis-ingress.json")
    assert warnings == []
    assert snap.query("api", "redis:6379").verdict == "reachable"


def test_inline_ingress_update_applies_only_what_changes(before_snapshot):
    w = apply_whatif(before_snapshot, plan=PLANS / "inline-ingress-update.json")
    assert [c.describe() for c in w.changes] == [f"authorize {REDIS_SG} ingress tcp/6379 from {NEW_SG}"]
    assert w.snapshot.query("api", "redis:6379").verdict == "reachable"


def test_deletes_revoke_the_rule_and_refuse_to_delete_a_group_still_named(after_snapshot):
    w = apply_whatif(after_snapshot, plan=PLANS / "deletes.json")
    kinds = [(c.kind, c.origin) for c in w.changes]
    assert kinds == [("revoke", "aws_vpc_security_group_ingress_rule.redis_from_api"),
                     ("delete_group", "aws_security_group.ecs_tasks_legacy")]
    assert any("DependencyViolation" in x and OLD_SG in x for x in w.warnings)
    assert OLD_SG in w.snapshot.model.groups
    r = w.snapshot.query("api", "redis:6379")
    assert r.verdict == "blocked" and r.blockers[0].component == REDIS_SG


def test_delete_then_create_replaces_a_group_and_its_members_follow(pre_migration):
    """A replaced group (["delete","create"]) gets a new, unknown id; a service that references it follows."""
    data = json.loads(MIGRATION.read_text())
    old_state = {"id": OLD_SG, "name": "hokusai-ecs-tasks", "vpc_id": "vpc-0a1b2c3d4e5f67890",
                 "ingress": [], "egress": []}
    sg = next(rc for rc in data["resource_changes"] if rc["address"] == "aws_security_group.api_tasks")
    sg["change"]["actions"] = ["create", "delete"]
    sg["change"]["before"] = old_state
    w = apply_whatif(pre_migration, plan=data)
    assert [c.kind for c in w.changes] == ["create_group", "move", "delete_group"]
    # the old group is still named by the Redis group's rule, so AWS (and the what-if) keep it
    assert OLD_SG in w.snapshot.model.groups
    assert any("DependencyViolation" in x and REDIS_SG in x for x in w.warnings)
    assert w.snapshot.query("api", "redis:6379").verdict == "blocked"


def test_deleting_the_service_removes_its_tasks(before_snapshot):
    data = json.loads(MIGRATION.read_text())
    svc = next(rc for rc in data["resource_changes"] if rc["type"] == "aws_ecs_service")
    svc["change"].update(actions=["delete"], after=None, after_unknown={})
    data["resource_changes"] = [svc]
    snap, warnings = before_snapshot.with_plan(data)
    assert warnings == []
    assert not [w for w in snap.model.workloads.values() if w.kind in ("ecs_service", "ecs_task")]
    with pytest.raises(InputError):
        snap.query("api", "redis:6379")


def test_module_outputs_and_variables_are_traced_to_the_new_group(before_snapshot):
    """Unknown ids travel through a module output and an input variable; they still resolve to the address."""
    w = apply_whatif(before_snapshot, plan=PLANS / "module-unknowns.json")
    new = "tf:module.api_sg.aws_security_group.this[0]"
    assert new in w.snapshot.model.groups
    svc = next(x for x in w.snapshot.model.workloads.values() if x.kind == "ecs_service")
    assert svc.group_ids == (new,)
    assert any(r.peer == new for r in w.snapshot.model.groups[REDIS_SG].ingress)
    assert w.snapshot.query("api", "redis:6379").verdict == "reachable"


def test_untraceable_unknown_values_are_warned_and_never_guessed(before_snapshot):
    w = apply_whatif(before_snapshot, plan=PLANS / "module-unknowns.json")
    (warning,) = [x for x in w.warnings if "redis_to_vault" in x]
    assert "data source data.aws_security_group.vault" in warning
    assert "tf:unknown:aws_vpc_security_group_egress_rule.redis_to_vault.referenced_security_group_id" in warning


def test_service_groups_unknown_and_untraceable_make_answers_unknown_not_blocked(pre_migration):
    """Without the configuration block the new group id cannot be traced: answers about api are unknown."""
    data = json.loads(MIGRATION.read_text())
    del data["configuration"]
    snap, warnings = pre_migration.with_plan(data)
    assert any("network_configuration[0].security_groups" in x and "could not be traced" in x for x in warnings)
    for q in (("api", "redis:6379"), ("hokusai-alb", "api:8000")):
        r = snap.query(*q)
        assert r.verdict == "unknown", (q, r.verdict)
        assert any("unknown until apply" in x for x in r.unknown_reasons)


def test_ambiguous_reference_to_counted_resources_is_not_guessed(pre_migration):
    data = json.loads(MIGRATION.read_text())
    sg = next(rc for rc in data["resource_changes"] if rc["address"] == "aws_security_group.api_tasks")
    twins = []
    for i in (0, 1):
        twin = copy.deepcopy(sg)
        twin["address"], twin["index"] = f"aws_security_group.api_tasks[{i}]", i
        twins.append(twin)
    data["resource_changes"] = [rc for rc in data["resource_changes"] if rc is not sg] + twins
    w = apply_whatif(pre_migration, plan=data)
    assert any("several instances" in x for x in w.warnings)
    assert w.snapshot.query("api", "redis:6379").verdict == "unknown"


def test_unsupported_resource_types_are_warned_never_silently_ignored(before_snapshot):
    w = apply_whatif(before_snapshot, plan=PLANS / "unsupported.json")
    unsupported = [x for x in w.warnings if "not modelled by reachgraph" in x]
    assert unsupported == [
        "aws_lb_listener.https (update): resource type not modelled by reachgraph; its effect is not in the answer",
        "aws_route.private_default (delete/create): resource type not modelled by reachgraph; its effect is not in "
        "the answer",
        "aws_iam_role.task (create): resource type not modelled by reachgraph; its effect is not in the answer",
    ]
    # no-op resources and data sources are not changes
    assert not any("aws_s3_bucket" in x or "data.aws_vpc" in x for x in w.warnings)
    assert w.snapshot.query("api", "redis:6379").verdict == "reachable"


def test_cli_prints_plan_warnings_to_stderr_and_lists_them_in_json():
    args = ("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"), "--plan",
            str(PLANS / "unsupported.json"))
    text = run_cli(*args)
    assert text.returncode == 0
    assert "aws_lb_listener.https (update): resource type not modelled" in text.stderr
    as_json = run_cli(*args, "--json")
    assert "aws_lb_listener.https (update): resource type not modelled" in as_json.stderr
    out = json.loads(as_json.stdout)
    assert len([x for x in out["whatif"]["warnings"] if "not modelled" in x]) == 3


def test_acl_rule_in_plan_blocks_at_the_subnet(pre_migration):
    snap, warnings = pre_migration.with_plan(PLANS / "acl-deny-redis.json")
    assert warnings == []
    r = snap.query("api", "redis:6379")
    assert r.verdict == "blocked"
    assert {(b.code, b.component) for b in r.blockers} == {("SUBNET_ACL_RESTRICTION", ACL)}


def test_inline_acl_update_and_association(pre_migration):
    data = {"format_version": "1.2", "resource_changes": [
        {"address": "aws_network_acl.data", "type": "aws_network_acl", "name": "data", "mode": "managed",
         "change": {"actions": ["create"], "before": None,
                    "after": {"vpc_id": "vpc-0a1b2c3d4e5f67890",
                              "subnet_ids": ["subnet-0076055968072a92c", "subnet-02279a0c6861795c3"],
                              "ingress": [{"action": "allow", "cidr_block": "10.0.0.0/16", "from_port": 6379,
                                           "to_port": 6379, "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": "",
                                           "protocol": "tcp", "rule_no": 100}],
                              "egress": [{"action": "allow", "cidr_block": "10.0.0.0/16", "from_port": 1024,
                                          "to_port": 65535, "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": "",
                                          "protocol": "6", "rule_no": 100}]},
                    "after_unknown": {"id": True, "arn": True, "owner_id": True}}}]}
    snap, warnings = pre_migration.with_plan(data)
    assert warnings == []
    acl = snap.model.acls["tf:aws_network_acl.data"]
    assert acl.subnet_ids == ("subnet-0076055968072a92c", "subnet-02279a0c6861795c3")
    assert [e.rule_number for e in acl.entries] == [100, 32767, 32767, 100, 32767, 32767]
    assert snap.query("api", "redis:6379").verdict == "reachable"
    assert snap.query("api", "redis:6380").verdict == "blocked"


def test_new_service_in_a_new_group(before_snapshot):
    snap, warnings = before_snapshot.with_plan(PLANS / "new-service.json")
    assert warnings == []
    w = next(x for x in snap.model.workloads.values() if x.name == "hokusai-worker-development")
    assert len(w.interface_ids) == 3 and w.group_ids == ("tf:aws_security_group.worker",)
    assert snap.query("hokusai-worker", "redis:6379").verdict == "reachable"
    assert snap.query("api", "redis:6379").verdict == "blocked"


def test_replication_group_moves_to_a_new_group(before_snapshot):
    snap, warnings = before_snapshot.with_plan(PLANS / "cache-moves.json")
    assert warnings == []
    caches = [w for w in snap.model.workloads.values() if w.kind.startswith("elasticache")]
    assert {w.group_ids for w in caches} == {("tf:aws_security_group.redis_v2",)}
    assert snap.query("api", "redis:6379").verdict == "reachable"


def test_no_op_plan_changes_nothing(after_snapshot):
    data = json.loads(MIGRATION.read_text())
    for rc in data["resource_changes"]:
        rc["change"]["actions"] = ["no-op"]
    w = apply_whatif(after_snapshot, plan=data)
    assert w.changes == () and w.warnings == ()
    assert w.snapshot.model.groups == after_snapshot.model.groups


# -- malformed plans: exit 2, one line ---------------------------------------------------------------------------

def _bad(tmp_path: Path, content: str) -> Path:
    p = tmp_path / "plan.json"
    p.write_text(content)
    return p


@pytest.mark.parametrize(("content", "message"), [
    ('{"format_version": "1.2", "resource_changes": [', "not JSON"),
    ("[]", "a plan is a JSON object"),
    ('{"resource_changes": []}', "no format_version"),
    ('{"format_version": "2.0", "resource_changes": []}', "unsupported plan format_version '2.0'"),
    ('{"format_version": "1.0", "values": {"root_module": {}}}', "this is a Terraform state, not a plan"),
    ('{"format_version": "1.2", "resource_changes": {}}', "resource_changes should be a list"),
    ('{"format_version": "1.2", "resource_changes": [{"address": "aws_security_group.x", "type": "aws_security_group",'
     ' "change": {"before": null}}]}', "resource_changes[0].change.actions should be a list of strings"),
    ('{"format_version": "1.2", "resource_changes": [{"type": "aws_security_group"}]}',
     "resource_changes[0].address should be a non-empty string"),
    ('{"format_version": "1.2", "resource_changes": [{"address": "aws_vpc_security_group_ingress_rule.x", "type": '
     '"aws_vpc_security_group_ingress_rule", "change": {"actions": ["create"], "before": null, "after": '
     '{"security_group_id": "sg-0454e74e2924a7754", "ip_protocol": "banana", "cidr_ipv4": "10.0.0.0/8"}, '
     '"after_unknown": {}}}]}', "aws_vpc_security_group_ingress_rule.x: cannot read the planned values"),
])
def test_malformed_plan_exits_2_with_one_line(tmp_path, content, message):
    path = _bad(tmp_path, content)
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"), "--plan", str(path))
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("reachgraph: error: ") and message in lines[0] and str(path) in lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_missing_plan_file_exits_2(tmp_path):
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"), "--plan",
                str(tmp_path / "nope.json"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "plan file not found" in r.stderr


def test_changes_from_plan_validates_dicts_too(before_snapshot):
    with pytest.raises(InputError, match="no format_version"):
        changes_from_plan({"resource_changes": []}, before_snapshot.model)


# -- more resource shapes ---------------------------------------------------------------------------------------

def _rc(address: str, type_: str, actions: list[str], before, after, unknown=None) -> dict:
    return {"address": address, "mode": "managed", "type": type_, "name": address.split(".")[-1],
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown or {}}}


def _plan(*rcs: dict) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": list(rcs)}


def test_egress_security_group_rule_names_the_destination_group(before_snapshot):
    """aws_security_group_rule type=egress: source_security_group_id is the destination (AWS's UserIdGroupPairs)."""
    snap, warnings = before_snapshot.with_plan(_plan(
        _rc("aws_security_group_rule.api_egress_revoke_all", "aws_security_group_rule", ["delete"],
            {"type": "egress", "security_group_id": NEW_SG, "protocol": "-1", "from_port": 0, "to_port": 0,
             "cidr_blocks": ["0.0.0.0/0"], "self": False, "source_security_group_id": None}, None),
        _rc("aws_security_group_rule.api_to_redis", "aws_security_group_rule", ["create"], None,
            {"type": "egress", "security_group_id": NEW_SG, "protocol": "tcp", "from_port": 6379, "to_port": 6379,
             "cidr_blocks": None, "self": False, "source_security_group_id": REDIS_SG}, {"id": True}),
        _rc("aws_security_group_rule.redis_self", "aws_security_group_rule", ["create"], None,
            {"type": "ingress", "security_group_id": REDIS_SG, "protocol": "tcp", "from_port": 6379, "to_port": 6379,
             "self": True, "source_security_group_id": None}, {"id": True})))
    assert warnings == []
    egress = snap.model.groups[NEW_SG].egress
    assert [(r.protocol, r.from_port, r.peer_kind, r.peer) for r in egress] == [("tcp", 6379, "group", REDIS_SG)]
    assert any(r.peer == REDIS_SG for r in snap.model.groups[REDIS_SG].ingress)
    r = snap.with_changes([f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}"]).query("api", "redis:6379")
    assert r.verdict == "reachable"
    assert snap.with_changes([f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}"]).query(
        "api", "hokusai-alb:443").verdict == "blocked"


def test_in_place_update_of_a_vpc_rule_revokes_the_old_and_authorizes_the_new(after_snapshot):
    old = {"security_group_id": REDIS_SG, "ip_protocol": "tcp", "from_port": 6379, "to_port": 6379,
           "referenced_security_group_id": NEW_SG, "id": "sgr-0e240228a0c81c095"}
    new = dict(old, from_port=6380, to_port=6380)
    w = apply_whatif(after_snapshot, plan=_plan(_rc("aws_vpc_security_group_ingress_rule.redis_from_api",
                                                     "aws_vpc_security_group_ingress_rule", ["update"], old, new)))
    assert [c.kind for c in w.changes] == ["revoke", "authorize"]
    assert w.snapshot.query("api", "redis:6379").verdict == "blocked"
    assert w.snapshot.query("api", "redis:6380").verdict == "reachable"


def test_default_security_group_adoption_replaces_its_rules(before_snapshot):
    default = next(g for g in before_snapshot.model.groups.values() if g.is_default)
    w = apply_whatif(before_snapshot, plan=_plan(_rc(
        "aws_default_security_group.default", "aws_default_security_group", ["create"], None,
        {"vpc_id": "vpc-0a1b2c3d4e5f67890", "ingress": [], "egress": []}, {"id": True, "arn": True})))
    assert w.warnings == ()
    g = w.snapshot.model.groups[default.id]
    assert g.ingress == () and g.egress == ()


def test_replacing_a_service_removes_then_recreates_it(before_snapshot):
    data = json.loads(MIGRATION.read_text())
    svc = next(rc for rc in data["resource_changes"] if rc["type"] == "aws_ecs_service")
    svc["change"]["actions"] = ["delete", "create"]
    svc["change"]["before"]["network_configuration"][0]["security_groups"] = [NEW_SG]
    w = apply_whatif(before_snapshot, plan=data)
    assert [c.kind for c in w.changes] == ["create_group", "remove_workload", "create_service"]
    services = [x for x in w.snapshot.model.workloads.values() if x.kind == "ecs_service"]
    assert len(services) == 1 and services[0].group_ids == (API_TASKS,)
    assert len(services[0].interface_ids) == 2     # desired_count
    assert w.snapshot.query("api", "redis:6379").verdict == "blocked"


def test_changes_to_unmodelled_attributes_of_supported_resources_are_warned(before_snapshot):
    rg = {"replication_group_id": "hokusai-redis-development", "security_group_ids": [REDIS_SG], "port": 6379}
    w = apply_whatif(before_snapshot, plan=_plan(_rc("aws_elasticache_replication_group.redis",
                                                      "aws_elasticache_replication_group", ["update"], rg,
                                                      dict(rg, port=6380))))
    assert w.changes == ()
    assert w.warnings == ("aws_elasticache_replication_group.redis: changes to port are not modelled; answers "
                          "reflect the current values",)


def test_acl_association_moves_a_subnet_and_its_deletion_returns_it_to_the_default(pre_migration):
    subnet = "subnet-0076055968072a92c"
    snap, warnings = pre_migration.with_plan(_plan(
        _rc("aws_network_acl.data", "aws_network_acl", ["create"], None,
            {"vpc_id": "vpc-0a1b2c3d4e5f67890", "ingress": [], "egress": [], "subnet_ids": []},
            {"id": True, "arn": True}),
        _rc("aws_network_acl_association.data", "aws_network_acl_association", ["create"], None,
            {"subnet_id": subnet, "network_acl_id": None}, {"id": True, "network_acl_id": True})))
    assert any("could not be traced" in x for x in warnings)   # no configuration: the ACL id cannot be traced
    data = _plan(
        _rc("aws_network_acl.data", "aws_network_acl", ["create"], None,
            {"vpc_id": "vpc-0a1b2c3d4e5f67890", "ingress": [], "egress": [], "subnet_ids": []},
            {"id": True, "arn": True}),
        _rc("aws_network_acl_association.data", "aws_network_acl_association", ["create"], None,
            {"subnet_id": subnet, "network_acl_id": None}, {"id": True, "network_acl_id": True}))
    data["configuration"] = {"root_module": {"resources": [
        {"address": "aws_network_acl_association.data", "mode": "managed", "type": "aws_network_acl_association",
         "name": "data", "expressions": {"subnet_id": {"constant_value": subnet},
                                         "network_acl_id": {"references": ["aws_network_acl.data.id",
                                                                           "aws_network_acl.data"]}}}]}}
    snap, warnings = pre_migration.with_plan(data)
    assert warnings == []
    assert snap.model.acls["tf:aws_network_acl.data"].subnet_ids == (subnet,)
    assert subnet not in snap.model.acls[ACL].subnet_ids
    assert snap.query("api", "hokusai-redis-development-001:6379").verdict == "blocked"
    gone = snap.with_plan(_plan(_rc("aws_network_acl_association.data", "aws_network_acl_association", ["delete"],
                                    {"subnet_id": subnet, "network_acl_id": "tf:aws_network_acl.data"}, None)))[0]
    assert subnet in gone.model.acls[ACL].subnet_ids
    assert gone.query("api", "redis:6379").verdict == "reachable"


def test_splat_references_name_every_instance(pre_migration):
    data = json.loads(MIGRATION.read_text())
    sg = next(rc for rc in data["resource_changes"] if rc["address"] == "aws_security_group.api_tasks")
    twins = []
    for i in (0, 1):
        twin = copy.deepcopy(sg)
        twin["address"], twin["index"] = f"aws_security_group.api[{i}]", i
        twin["change"]["after"]["name"] = f"api-{i}"
        twins.append(twin)
    data["resource_changes"] = [rc for rc in data["resource_changes"] if rc is not sg] + twins
    svc = next(r for r in data["configuration"]["root_module"]["resources"] if r["address"] == "aws_ecs_service.api")
    svc["expressions"]["network_configuration"][0]["security_groups"] = {
        "references": ["aws_security_group.api[*].id", "aws_security_group.api"]}
    snap, warnings = pre_migration.with_plan(data)
    assert warnings == []
    api = next(w for w in snap.model.workloads.values() if w.kind == "ecs_service")
    assert api.group_ids == ("tf:aws_security_group.api[0]", "tf:aws_security_group.api[1]")
    assert snap.query("hokusai-alb", "api:8000").verdict == "reachable"
