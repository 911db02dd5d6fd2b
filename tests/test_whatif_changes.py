"""What-if changes applied to the incident snapshots: pure (the original is untouched), and each kind of change
does to the model what AWS would do to the estate."""

from __future__ import annotations

import pytest

import reachgraph
from conftest import EXAMPLE
from reachgraph.errors import InputError
from reachgraph.model.records import AclEntry
from reachgraph.whatif import (
    AddAclEntry, AssociateAcl, AuthorizeRule, CreateAcl, CreateGroup, CreateService, DeleteAcl, DeleteGroup,
    MoveWorkload, RemoveAclEntry, RemoveWorkload, RevokeRule, apply_changes, change_to_dict, make_rule,
)

REDIS_SG, OLD_SG, NEW_SG, ALB_SG = ("sg-0454e74e2924a7754", "sg-0e61190afc2502b10", "sg-0864e6f6aee2a5cf4",
                                    "sg-0c85c87668427d358")
ACL = "acl-0ea3cc240c0704a7d"
DATA_SUBNET = "subnet-0076055968072a92c"
FIX = f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}"


@pytest.fixture(scope="module")
def pre_migration():
    return reachgraph.load(EXAMPLE / "pre-migration")


def test_with_changes_returns_a_new_snapshot_and_leaves_the_original_untouched(before_snapshot):
    groups_before = dict(before_snapshot.model.groups)
    redis_rules = before_snapshot.model.groups[REDIS_SG].ingress
    fixed = before_snapshot.with_changes([FIX])
    assert fixed is not before_snapshot
    assert fixed.query("api", "redis:6379").verdict == "reachable"
    assert before_snapshot.query("api", "redis:6379").verdict == "blocked"
    assert before_snapshot.model.groups == groups_before
    assert before_snapshot.model.groups[REDIS_SG].ingress is redis_rules
    assert len(fixed.model.groups[REDIS_SG].ingress) == len(redis_rules) + 1


def test_with_changes_accepts_change_records_and_a_single_string(before_snapshot):
    rule = make_rule(REDIS_SG, "ingress", "tcp", 6379, 6379, NEW_SG)
    assert before_snapshot.with_changes([AuthorizeRule(rule)]).query("api", "redis:6379").verdict == "reachable"
    assert before_snapshot.with_changes(FIX).query("api", "redis:6379").verdict == "reachable"


def test_with_changes_rejects_other_objects(before_snapshot):
    with pytest.raises(InputError, match="not a what-if change"):
        before_snapshot.with_changes([42])


def test_authorized_rule_is_built_exactly_as_the_loader_builds_it(after_snapshot, before_snapshot):
    """The what-if rule and the rule read from the `after` snapshot (the real fix) agree on everything but its id."""
    fixed = before_snapshot.with_changes([FIX])
    ours = [r for r in fixed.model.groups[REDIS_SG].ingress if r.peer == NEW_SG]
    theirs = [r for r in after_snapshot.model.groups[REDIS_SG].ingress if r.peer == NEW_SG]
    assert len(ours) == len(theirs) == 1
    strip = lambda r: (r.group_id, r.direction, r.protocol, r.from_port, r.to_port, r.peer_kind, r.peer)  # noqa: E731
    assert strip(ours[0]) == strip(theirs[0])


def test_duplicate_authorize_is_a_warning_not_a_second_rule(after_snapshot):
    snap = after_snapshot.with_changes([FIX])
    assert len(snap.model.groups[REDIS_SG].ingress) == len(after_snapshot.model.groups[REDIS_SG].ingress)
    assert any("already allowed" in w for w in snap.warnings)


def test_revoke_removes_the_rule_and_the_query_is_blocked_again(after_snapshot):
    snap = after_snapshot.with_changes([f"revoke-ingress {REDIS_SG} tcp 6379 {NEW_SG}"])
    r = snap.query("api", "redis:6379")
    assert r.verdict == "blocked"
    assert r.blockers[0].component == REDIS_SG and r.blockers[0].direction == "ingress"


def test_revoke_of_a_missing_rule_warns_like_aws_refuses(before_snapshot):
    model, warnings = apply_changes(before_snapshot.model, [RevokeRule(make_rule(REDIS_SG, "ingress", "tcp", 6379,
                                                                                  6379, NEW_SG))])
    assert model.groups[REDIS_SG] == before_snapshot.model.groups[REDIS_SG]
    assert any("InvalidPermission.NotFound" in w for w in warnings)


def test_authorize_on_a_group_not_in_the_snapshot_warns(before_snapshot):
    _, warnings = apply_changes(before_snapshot.model, [AuthorizeRule(make_rule("sg-0000000000000dead", "ingress",
                                                                                "tcp", 1, 1, "10.0.0.0/8"))])
    assert any("not in the snapshot" in w for w in warnings)


def test_revoking_the_egress_allow_all_blocks_on_egress(before_snapshot):
    """SG-3: a group with no outbound rules lets nothing out; the blocker is the source's egress."""
    snap = before_snapshot.with_changes([f"revoke-egress {NEW_SG} all 0.0.0.0/0", FIX])
    r = snap.query("api", "redis:6379")
    assert r.verdict == "blocked"
    assert [(b.code, b.direction, b.component) for b in r.blockers] == [("SG_HAS_NO_RULES", "egress", NEW_SG)]


def test_move_reproduces_the_incident_from_pre_migration(pre_migration):
    """The incident as a what-if: move api to the new group on the pre-migration estate -> blocked, naming Redis."""
    snap = pre_migration.with_changes([CreateGroup(NEW_SG, "hokusai-data-pipeline-ecs-tasks",
                                                   "vpc-0a1b2c3d4e5f67890",
                                                   egress=(make_rule(NEW_SG, "egress", "-1", None, None,
                                                                     "0.0.0.0/0"),)),
                                       f"move api {NEW_SG}"])
    r = snap.query("api", "redis:6379")
    assert r.verdict == "blocked"
    (b,) = r.blockers
    assert (b.code, b.direction, b.component) == ("ENI_SG_RULES_MISMATCH", "ingress", REDIS_SG)
    assert f"only from {OLD_SG}" in b.detail
    assert r.fixes == (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol tcp --port 6379 "
                       f"--source-group {NEW_SG}",)
    svc = next(w for w in snap.model.workloads.values() if w.kind == "ecs_service")
    assert svc.group_ids == (NEW_SG,)
    assert all(snap.model.interfaces[e].group_ids == (NEW_SG,) for e in svc.interface_ids)


def test_moving_an_ecs_service_replaces_its_tasks_so_their_addresses_are_unknown(pre_migration):
    """New tasks come up with new addresses: a rule naming an old task's /32 must not keep admitting them."""
    svc = next(w for w in pre_migration.model.workloads.values() if w.kind == "ecs_service")
    old_ip = pre_migration.model.interfaces[svc.interface_ids[0]].primary_ipv4
    snap = pre_migration.with_changes([f"authorize-ingress {REDIS_SG} tcp 6379 {old_ip}/32",
                                       f"revoke-ingress {REDIS_SG} tcp 6379 {OLD_SG}", f"move api {OLD_SG}"])
    moved = snap.model.interfaces[svc.interface_ids[0]]
    assert moved.primary_ipv4 is None
    assert moved.subnet_id == pre_migration.model.interfaces[svc.interface_ids[0]].subnet_id
    r = snap.query("api", "redis:6379")
    assert r.verdict == "unknown" and "address is unknown" in r.unknown_reasons[0]


def test_moving_an_ecs_service_to_other_subnets_places_its_tasks_there():
    snap = reachgraph.load(EXAMPLE / "before")
    svc = next(w for w in snap.model.workloads.values() if w.kind == "ecs_service")
    moved = snap.with_changes([MoveWorkload(svc.key, (NEW_SG,), subnet_ids=(DATA_SUBNET,))])
    for e in svc.interface_ids:
        assert moved.model.interfaces[e].subnet_id == DATA_SUBNET
        assert moved.model.interfaces[e].primary_ipv4 is None


def test_moving_a_replication_group_moves_its_member_clusters_and_nodes(before_snapshot):
    snap = before_snapshot.with_changes([f"move hokusai-redis-development {NEW_SG}"])
    caches = [w for w in snap.model.workloads.values() if w.kind.startswith("elasticache")]
    assert {w.group_ids for w in caches} == {(NEW_SG,)}
    for w in caches:
        for e in w.interface_ids:
            assert snap.model.interfaces[e].group_ids == (NEW_SG,)
            # ElastiCache changes groups in place: the nodes keep their addresses.
            assert snap.model.interfaces[e].primary_ipv4 == before_snapshot.model.interfaces[e].primary_ipv4


def test_moving_one_member_cluster_updates_its_replication_group(before_snapshot):
    snap = before_snapshot.with_changes([f"move hokusai-redis-development-002 {NEW_SG}"])
    rg = next(w for w in snap.model.workloads.values() if w.kind == "elasticache_replication_group")
    assert rg.group_ids == tuple(sorted({REDIS_SG, NEW_SG}))
    r = snap.with_changes([FIX]).query("api", "redis:6379")
    assert r.verdict == "partial"   # EC-2: one unreachable member makes the answer partial


def test_move_of_an_unknown_or_ambiguous_workload_warns(before_snapshot):
    _, warnings = apply_changes(before_snapshot.model, [MoveWorkload("nosuchthing", (NEW_SG,))])
    assert any("no single workload matches" in w for w in warnings)
    _, warnings = apply_changes(before_snapshot.model, [MoveWorkload("hokusai", (NEW_SG,))])
    assert any("no single workload matches" in w and "hokusai-" in w for w in warnings)


def test_move_an_interface_by_id(before_snapshot):
    eni = next(iter(next(w for w in before_snapshot.model.workloads.values()
                         if w.kind == "ecs_service").interface_ids))
    snap = before_snapshot.with_changes([f"move {eni} {OLD_SG}"])
    assert snap.model.interfaces[eni].group_ids == (OLD_SG,)
    assert snap.query("api", "redis:6379").verdict == "partial"


def test_delete_group_in_use_is_refused_like_aws(before_snapshot):
    model, warnings = apply_changes(before_snapshot.model, [DeleteGroup(NEW_SG)])
    assert NEW_SG in model.groups
    assert any("DependencyViolation" in w for w in warnings)


def test_delete_group_named_by_another_groups_rule_is_refused(before_snapshot):
    model, warnings = apply_changes(before_snapshot.model, [DeleteGroup(OLD_SG)])
    assert OLD_SG in model.groups and any(REDIS_SG in w and "DependencyViolation" in w for w in warnings)


def test_delete_unused_group(before_snapshot):
    model, warnings = apply_changes(before_snapshot.model, [
        RevokeRule(make_rule(REDIS_SG, "ingress", "tcp", 6379, 6379, OLD_SG)), DeleteGroup(OLD_SG)])
    assert OLD_SG not in model.groups and not warnings


def test_remove_workload_drops_its_tasks_and_interfaces(before_snapshot):
    svc = next(w for w in before_snapshot.model.workloads.values() if w.kind == "ecs_service")
    model, warnings = apply_changes(before_snapshot.model, [RemoveWorkload(svc.key)])
    assert not warnings
    assert not [w for w in model.workloads.values() if w.kind.startswith("ecs_")]
    assert not set(svc.interface_ids) & set(model.interfaces)


def test_create_service_gets_one_interface_per_task_with_unknown_addresses(before_snapshot):
    snap = before_snapshot.with_changes([CreateService("hokusai-worker", (NEW_SG,),
                                                       ("subnet-02269cacf51e33c5b", "subnet-0c63afd3cb9301db7"),
                                                       count=3)])
    w = next(w for w in snap.model.workloads.values() if w.name == "hokusai-worker")
    assert len(w.interface_ids) == 3
    assert all(snap.model.interfaces[e].primary_ipv4 is None for e in w.interface_ids)
    assert snap.query("hokusai-worker", "redis:6379").verdict == "blocked"


def test_acl_entry_add_replace_remove(pre_migration):
    deny = AclEntry(rule_number=50, egress=False, action="deny", protocol="tcp", cidr="10.0.0.0/16", port_from=6379,
                    port_to=6379)
    snap = pre_migration.with_changes([AddAclEntry(ACL, deny)])
    assert deny in snap.model.acls[ACL].entries
    r = snap.query("api", "redis:6379")
    assert r.verdict == "blocked" and {b.code for b in r.blockers} == {"SUBNET_ACL_RESTRICTION"}
    assert {b.component for b in r.blockers} == {ACL}
    back = snap.with_changes([RemoveAclEntry(ACL, False, 50)])
    assert back.model.acls[ACL].entries == pre_migration.model.acls[ACL].entries
    assert back.query("api", "redis:6379").verdict == "reachable"


def test_new_acl_denies_all_until_rules_are_added_and_takes_its_subnets(pre_migration):
    """NACL-3 and NACL-4: a new custom ACL denies everything; associating a subnet moves it off the default ACL."""
    redis_subnets = ("subnet-0076055968072a92c", "subnet-02279a0c6861795c3")
    snap = pre_migration.with_changes([CreateAcl("tf:aws_network_acl.data", "vpc-0a1b2c3d4e5f67890",
                                                 subnet_ids=redis_subnets)])
    assert set(snap.model.acls["tf:aws_network_acl.data"].subnet_ids) == set(redis_subnets)
    assert not set(redis_subnets) & set(snap.model.acls[ACL].subnet_ids)
    assert snap.query("api", "redis:6379").verdict == "blocked"
    gone = snap.with_changes([DeleteAcl("tf:aws_network_acl.data")])
    assert set(redis_subnets) <= set(gone.model.acls[ACL].subnet_ids)
    assert gone.query("api", "redis:6379").verdict == "reachable"


def test_default_acl_is_never_deleted(pre_migration):
    model, warnings = apply_changes(pre_migration.model, [DeleteAcl(ACL)])
    assert ACL in model.acls and warnings


def test_associate_back_to_default(pre_migration):
    snap = pre_migration.with_changes([CreateAcl("tf:aws_network_acl.x", "vpc-0a1b2c3d4e5f67890",
                                                 subnet_ids=(DATA_SUBNET,)),
                                       AssociateAcl(None, (DATA_SUBNET,))])
    assert DATA_SUBNET in snap.model.acls[ACL].subnet_ids
    assert DATA_SUBNET not in snap.model.acls["tf:aws_network_acl.x"].subnet_ids


def test_change_to_dict_is_json_ready(before_snapshot):
    import json

    for c in [AuthorizeRule(make_rule(REDIS_SG, "ingress", "tcp", 6379, 6379, NEW_SG), origin="x"),
              MoveWorkload("api", (NEW_SG,)), DeleteGroup(OLD_SG), AssociateAcl(None, (DATA_SUBNET,))]:
        d = change_to_dict(c)
        assert d["kind"] == c.kind and d["description"] == c.describe()
        json.dumps(d)


def test_what_if_warnings_reach_snapshot_warnings(before_snapshot):
    snap = before_snapshot.with_changes([f"revoke-ingress {REDIS_SG} tcp 6379 {NEW_SG}"])
    assert any(w.startswith("what-if:") for w in snap.warnings)
    assert not any(w.startswith("what-if:") for w in before_snapshot.warnings)
