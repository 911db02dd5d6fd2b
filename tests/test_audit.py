"""`reachgraph audit` (issue 6 part 1): every finding type on a fixture that has it and on one that does not.

No false positives: the `default` group, groups used only by Lambda, ElastiCache, RDS or a load balancer, groups
referenced by others, a rule naming 0.0.0.0/0 on an interface the internet cannot reach.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import reachgraph
from builders import (
    ACCOUNT, OTHER_ACCOUNT, SUBNET_A, SUBNET_B, VPC, cache_cluster, ecs_service, eni, estate, instance, perm, sg,
    write_estate,
)
from conftest import EXAMPLE, run_cli
from path_builders import (
    allow_all_acl, allow_in, allow_out, db_instance, function, lambda_eni, load_balancer, nat_eni, network_acl,
    rds_eni,
)
from reachgraph.audit import SEVERITIES, Finding, parse_severity, sort_findings
from reachgraph.errors import InputError

A, B, C, D = (f"sg-0b000000000000{n:02d}" for n in (1, 2, 3, 4))


def default_group(gid: str = "sg-0b0000000000def0") -> dict:
    """The VPC's default group: admits its own members (SG-3); never a finding even with no members."""
    return sg(gid, "default", ingress=[perm("-1", groups=[gid])])


def public_routes(subnets: list[str]) -> list[dict]:
    """Main table local-only; a public table with 0.0.0.0/0 -> igw for `subnets`."""
    local = {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}
    return [{"RouteTableId": "rtb-0b0000000000main", "VpcId": VPC, "OwnerId": ACCOUNT, "Routes": [local],
             "Associations": [{"Main": True, "RouteTableId": "rtb-0b0000000000main"}]},
            {"RouteTableId": "rtb-0b00000000000pub", "VpcId": VPC, "OwnerId": ACCOUNT,
             "Routes": [local, {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0b00000000000001",
                                "State": "active"}],
             "Associations": [{"Main": False, "SubnetId": s, "RouteTableId": "rtb-0b00000000000pub"}
                              for s in subnets]}]


def load(tmp_path: Path, groups: list[dict], enis: list[dict] = (), **extra) -> reachgraph.Snapshot:
    docs = estate(SecurityGroups=[default_group(), *groups], NetworkInterfaces=list(enis), **extra)
    return reachgraph.load(write_estate(tmp_path / "estate", docs))


def codes(snap: reachgraph.Snapshot, code: str) -> list[Finding]:
    return [f for f in snap.audit() if f.code == code]


# -- the incident -------------------------------------------------------------------------------------
def test_before_names_the_member_less_group_as_why_api_cannot_reach_redis(before_snapshot):
    [f] = codes(before_snapshot, "RULE_NAMES_EMPTY_GROUP")
    assert f.severity == "high"
    assert f.resources == ("sg-0454e74e2924a7754", "sgr-0ad4ecb2301981ed9", "sg-0e61190afc2502b10")
    assert "only from sg-0e61190afc2502b10" in f.message and "no member interfaces" in f.message
    assert "this is why hokusai-api-development cannot reach hokusai-redis-development on tcp/6379" in f.message
    assert "sg-0864e6f6aee2a5cf4" in f.message
    assert f.fix == ("aws ec2 authorize-security-group-ingress --group-id sg-0454e74e2924a7754 --protocol tcp "
                     "--port 6379 --source-group sg-0864e6f6aee2a5cf4")
    assert before_snapshot.audit()[0] == f    # the most severe finding comes first


def test_after_still_lists_the_rule_as_cleanup(after_snapshot):
    [f] = codes(after_snapshot, "RULE_NAMES_EMPTY_GROUP")
    assert f.severity == "low"
    assert "matches nothing" in f.message and "cannot reach" not in f.message
    assert f.fix == ("aws ec2 revoke-security-group-ingress --group-id sg-0454e74e2924a7754 "
                     "--security-group-rule-ids sgr-0ad4ecb2301981ed9")
    assert not [x for x in after_snapshot.audit() if x.at_least("high")]


def test_the_retired_group_is_referenced_but_unattached(before_snapshot):
    [f] = codes(before_snapshot, "REFERENCED_UNATTACHED_GROUP")
    assert f.resources == ("sg-0e61190afc2502b10",)
    assert f.fixes[-1] == "aws ec2 delete-security-group --group-id sg-0e61190afc2502b10"
    assert not codes(before_snapshot, "UNUSED_GROUP")   # default has no members: never flagged


# -- rules naming groups ----------------------------------------------------------------------------
def test_rule_naming_a_group_with_members_is_fine(tmp_path):
    snap = load(tmp_path, [sg(A, "app"), sg(B, "redis", ingress=[perm("tcp", 6379, 6379, groups=[A])])],
                [eni("eni-0b00000000000001", "10.0.1.10", [A]), eni("eni-0b00000000000002", "10.0.2.10", [B])])
    assert not codes(snap, "RULE_NAMES_EMPTY_GROUP")
    assert not codes(snap, "REFERENCED_UNATTACHED_GROUP") and not codes(snap, "UNUSED_GROUP")


def test_empty_group_with_a_blocked_look_alike_is_high_without_one_low(tmp_path):
    """Same shape as the incident, on instances: `worker` moved from `jobs-old` (A) to `jobs-new` (C), which
    has the same rules; `redis` (B) admits only A."""
    jobs_in = [perm("tcp", 8000, 8000, cidrs=["10.0.0.0/16"])]
    groups = [sg(A, "jobs-old", ingress=jobs_in), sg(C, "jobs-new", ingress=jobs_in),
              sg(B, "redis", ingress=[perm("tcp", 6379, 6379, groups=[A])])]
    worker = eni("eni-0b00000000000001", "10.0.1.10", [C])
    redis = eni("eni-0b00000000000002", "10.0.2.10", [B])
    snap = load(tmp_path / "a", groups, [worker, redis],
                Reservations=[instance("i-0b00000000000001", "worker", worker),
                              instance("i-0b00000000000002", "redis", redis)])
    [f] = codes(snap, "RULE_NAMES_EMPTY_GROUP")
    assert f.severity == "high" and "this is why worker cannot reach redis on tcp/6379" in f.message
    assert f"--source-group {C}" in f.fix
    # Without a look-alike (C has other rules and another name), nothing points at a victim: low cleanup.
    groups[1] = sg(C, "frontend", ingress=[perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])])
    snap = load(tmp_path / "b", groups, [worker, redis],
                Reservations=[instance("i-0b00000000000001", "worker", worker),
                              instance("i-0b00000000000002", "redis", redis)])
    [f] = codes(snap, "RULE_NAMES_EMPTY_GROUP")
    assert f.severity == "low" and "cannot reach" not in f.message


def test_empty_group_declared_by_a_service_without_tasks_is_info(tmp_path):
    snap = load(tmp_path, [sg(A, "app"), sg(B, "redis", ingress=[perm("tcp", 6379, 6379, groups=[A])])],
                [eni("eni-0b00000000000002", "10.0.2.10", [B])],
                services=[ecs_service("app", "prod", [A], running=0)])
    [f] = codes(snap, "RULE_NAMES_EMPTY_GROUP")
    assert f.severity == "info" and "declared by app" in f.message
    assert not codes(snap, "REFERENCED_UNATTACHED_GROUP")   # attached (declared by the service)


def test_rule_naming_a_deleted_group(tmp_path):
    gone = "sg-0b0000000000dead"
    snap = load(tmp_path, [sg(B, "redis", ingress=[perm("tcp", 6379, 6379, groups=[gone])])],
                [eni("eni-0b00000000000002", "10.0.2.10", [B])])
    [f] = codes(snap, "RULE_NAMES_MISSING_GROUP")
    assert f.severity == "low" and gone in f.resources and "SG-12" in f.message
    assert f.fix.startswith(f"aws ec2 revoke-security-group-ingress --group-id {B} --ip-permissions")
    assert not codes(snap, "RULE_NAMES_UNCOLLECTED_ACCOUNT")


def test_rule_naming_a_group_of_an_uncollected_account(tmp_path):
    theirs = {"GroupId": "sg-0b0000000000feed", "UserId": OTHER_ACCOUNT}
    snap = load(tmp_path, [sg(B, "redis", ingress=[perm("tcp", 6379, 6379, groups=[theirs])])],
                [eni("eni-0b00000000000002", "10.0.2.10", [B])])
    [f] = codes(snap, "RULE_NAMES_UNCOLLECTED_ACCOUNT")
    assert f.severity == "info" and OTHER_ACCOUNT in f.message and "UNKNOWN_PEERED_SGS" in f.message
    assert not codes(snap, "RULE_NAMES_MISSING_GROUP")


# -- unused groups ------------------------------------------------------------------------------------
def test_unused_group_is_flagged_with_a_delete_command(tmp_path):
    snap = load(tmp_path, [sg(A, "leftover")])
    [f] = codes(snap, "UNUSED_GROUP")
    assert f.resources == (A,) and f.fix == f"aws ec2 delete-security-group --group-id {A}"
    assert not [x for x in snap.audit() if "sg-0b0000000000def0" in x.resources]   # default never


@pytest.mark.parametrize("user", ["lambda-config", "lambda-eni", "elasticache", "rds", "load-balancer",
                                  "instance", "ecs-service"])
def test_groups_used_only_by_one_service_are_not_unused(tmp_path, user):
    extra: dict = {}
    enis: list[dict] = []
    if user == "lambda-config":            # VpcConfig only, no interface described
        extra["Functions"] = [function("resize", subnets=[SUBNET_A], groups=[A])]
    elif user == "lambda-eni":             # the hyperplane interface only
        enis = [lambda_eni("eni-0b0000000000001a", "10.0.1.20", [A], "resize", subnet_id=SUBNET_A)]
    elif user == "elasticache":            # describe-cache-clusters only, no interface
        extra["CacheClusters"] = [cache_cluster("sessions-001", [A])]
    elif user == "rds":
        extra["DBInstances"] = [db_instance("orders", [A], [(SUBNET_B, "us-east-1b")])]
    elif user == "load-balancer":
        extra["LoadBalancers"] = [load_balancer("edge", "0123456789abcdef", [(SUBNET_A, "us-east-1a")], groups=[A])]
    elif user == "instance":
        nic = eni("eni-0b0000000000001b", "10.0.1.21", [A])
        extra["Reservations"] = [instance("i-0b0000000000000b", "box", nic)]
    else:
        extra["services"] = [ecs_service("api", "prod", [A], running=0)]
    snap = load(tmp_path, [sg(A, "used-by-" + user)], enis, **extra)
    assert not codes(snap, "UNUSED_GROUP")
    assert not codes(snap, "REFERENCED_UNATTACHED_GROUP")


def test_group_carried_only_by_an_unmodelled_service_interface_is_not_unused(tmp_path):
    """An EFS mount target or a VPC endpoint is no workload reachgraph models, but describe-network-interfaces
    lists its interface with the group: that attaches it."""
    efs = eni("eni-0b0000000000001c", "10.0.1.22", [A], description="EFS mount target for fs-0123456789abcdef0 "
              "(fsmt-0123456789abcdef0)", requester_id="641247547298")
    snap = load(tmp_path, [sg(A, "efs")], [efs])
    assert not codes(snap, "UNUSED_GROUP")


def test_group_referenced_by_another_is_not_unused_but_its_own_finding(tmp_path):
    snap = load(tmp_path, [sg(A, "old-clients"), sg(B, "db", ingress=[perm("tcp", 5432, 5432, groups=[A])])],
                [eni("eni-0b00000000000002", "10.0.2.10", [B])])
    assert not codes(snap, "UNUSED_GROUP")
    [f] = codes(snap, "REFERENCED_UNATTACHED_GROUP")
    assert f.resources == (A,) and B in f.message
    assert f.fixes[0].startswith(f"aws ec2 revoke-security-group-ingress --group-id {B}")


def test_unused_group_in_an_incomplete_snapshot_is_only_info(tmp_path):
    """With collection errors an attachment may be missing from the snapshot: no 'delete it' at low."""
    from dataclasses import replace

    from reachgraph.snapshot import CollectionError

    snap = load(tmp_path, [sg(A, "leftover")])
    err = CollectionError(ACCOUNT, "us-east-1", "ec2", "DescribeNetworkInterfaces", "AccessDenied", "denied")
    from reachgraph.snapshot import read_snapshot

    partial = reachgraph.Snapshot(replace(read_snapshot(snap.source), errors=(err,)))
    [f] = codes(partial, "UNUSED_GROUP")
    assert f.severity == "info" and "incomplete (1 collection error)" in f.message


def test_group_referencing_only_itself_is_still_unused(tmp_path):
    snap = load(tmp_path, [sg(A, "island", ingress=[perm("-1", groups=[A])])])
    assert [f.resources for f in codes(snap, "UNUSED_GROUP")] == [(A,)]
    assert not codes(snap, "RULE_NAMES_EMPTY_GROUP")


# -- internet exposure --------------------------------------------------------------------------------
def exposed(tmp_path: Path, ports: list[int], *, public_ip: str | None = "203.0.113.10",
            routes: bool = True, rds: bool = False) -> reachgraph.Snapshot:
    rules = [perm("tcp", p, p, cidrs=["0.0.0.0/0"]) for p in ports]
    extra: dict = {"RouteTables": public_routes([SUBNET_A] if routes else [])}
    if rds:
        nic = rds_eni("eni-0b0000000000000d", "10.0.1.30", [A], subnet_id=SUBNET_A, az="us-east-1a")
        nic["Association"] = {"PublicIp": public_ip, "IpOwnerId": "amazon"}
        extra["DBInstances"] = [db_instance("orders", [A], [(SUBNET_A, "us-east-1a")], az="us-east-1a")]
        return load(tmp_path, [sg(A, "db", ingress=rules)], [nic], **extra)
    nic = eni("eni-0b0000000000000e", "10.0.1.30", [A], public_ip=public_ip)
    extra["Reservations"] = [instance("i-0b0000000000000e", "web", nic)]
    return load(tmp_path, [sg(A, "web", ingress=rules)], [nic], **extra)


def test_internet_exposure_is_graded_by_port(tmp_path):
    snap = exposed(tmp_path, [22, 443, 8080, 6379])
    grade = {f.resources[1]: f.severity for f in codes(snap, "INTERNET_EXPOSED")}
    assert grade == {"tcp/22": "high", "tcp/443": "info", "tcp/8080": "medium", "tcp/6379": "high"}
    ssh = next(f for f in codes(snap, "INTERNET_EXPOSED") if f.resources[1] == "tcp/22")
    assert "SSH" in ssh.message and ssh.fix.startswith(f"aws ec2 revoke-security-group-ingress --group-id {A}")
    assert "web" in ssh.workloads


def test_a_database_facing_the_internet_is_critical(tmp_path):
    snap = exposed(tmp_path, [5432], rds=True)
    [f] = codes(snap, "INTERNET_EXPOSED")
    assert f.severity == "critical" and f.resources[:2] == ("orders", "tcp/5432")


@pytest.mark.parametrize("case", ["no-public-ip", "no-igw-route"])
def test_a_rule_naming_0_0_0_0_is_not_exposure_by_itself(tmp_path, case):
    snap = exposed(tmp_path, [22], public_ip=None if case == "no-public-ip" else "203.0.113.10",
                   routes=case != "no-igw-route")
    assert not codes(snap, "INTERNET_EXPOSED")


# -- ingress that no source can use -------------------------------------------------------------------
def unusable(tmp_path: Path, client_egress: list[dict] | None) -> reachgraph.Snapshot:
    groups = [sg(A, "client", egress=client_egress), sg(B, "db", ingress=[perm("tcp", 5432, 5432, groups=[A])])]
    return load(tmp_path, groups, [eni("eni-0b00000000000001", "10.0.1.10", [A]),
                                   eni("eni-0b00000000000002", "10.0.2.10", [B])])


def test_ingress_nobody_can_use_because_of_egress(tmp_path):
    snap = unusable(tmp_path, [perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])])   # allowAllOutbound: false
    [f] = codes(snap, "INGRESS_UNUSABLE_EGRESS")
    assert f.severity == "medium" and f.resources[0] == B and f.resources[-1] == A
    assert f.fix.startswith(f"aws ec2 authorize-security-group-egress --group-id {A}")


def test_ingress_usable_with_allow_all_egress(tmp_path):
    assert not codes(unusable(tmp_path, None), "INGRESS_UNUSABLE_EGRESS")


# -- ACL replies --------------------------------------------------------------------------------------
def acl_estate(tmp_path: Path, inbound_reply: tuple[int, int] | None, *, nat: bool = True) -> reachgraph.Snapshot:
    """A custom ACL on subnet A (which holds a NAT gateway) admitting replies inbound only on `inbound_reply`."""
    entries = [allow_out(100, "tcp", ports=(0, 65535)), allow_in(100, "tcp", cidr="10.0.0.0/16", ports=(443, 443))]
    if inbound_reply:
        entries.append(allow_in(110, "tcp", ports=inbound_reply))
    acls = [network_acl("acl-0b00000000000001", entries, subnets=[SUBNET_A]),
            allow_all_acl("acl-0b0000000000def0")]
    enis = [nat_eni("eni-0b0000000000000a", "10.0.1.5", "nat-0b00000000000001", subnet_id=SUBNET_A,
                    public_ip="203.0.113.7")] if nat else []
    return load(tmp_path, [], enis, NetworkAcls=acls)


def test_acl_reply_rules_excluding_the_nat_range(tmp_path):
    snap = acl_estate(tmp_path, (32768, 60999))
    [f] = codes(snap, "ACL_EPHEMERAL_REPLY")
    assert f.severity == "medium"
    assert f.resources == ("acl-0b00000000000001", "inbound", "0.0.0.0/0")
    assert "1024-32767, 61000-65535" in f.message and "NAT gateway eni-0b0000000000000a" in f.message
    assert f.fix == ("aws ec2 create-network-acl-entry --network-acl-id acl-0b00000000000001 --ingress "
                     "--rule-number 32766 --protocol tcp --port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 "
                     "--rule-action allow")


def test_acl_reply_gap_without_nat_lambda_or_elb_is_low(tmp_path):
    [f] = codes(acl_estate(tmp_path, (32768, 60999), nat=False), "ACL_EPHEMERAL_REPLY")
    assert f.severity == "low"


def test_acl_replies_to_a_lambda_in_another_subnet(tmp_path):
    """Servers in subnet A reply to a Lambda in subnet B; A's ACL lets replies out only on 32768-60999."""
    entries = [allow_in(100, "tcp", cidr="10.0.0.0/16", ports=(5432, 5432)),
               allow_out(100, "tcp", cidr="10.0.0.0/16", ports=(32768, 60999))]
    acls = [network_acl("acl-0b00000000000001", entries, subnets=[SUBNET_A]), allow_all_acl("acl-0b0000000000def0")]
    fn = lambda_eni("eni-0b0000000000001a", "10.0.2.20", [A], "resize", subnet_id=SUBNET_B)
    db = eni("eni-0b0000000000001d", "10.0.1.50", [B], subnet_id=SUBNET_A)
    fns = [function("resize", subnets=[SUBNET_B], groups=[A])]
    groups = [sg(A, "fn"), sg(B, "db", ingress=[perm("tcp", 5432, 5432, groups=[A])])]
    snap = load(tmp_path / "a", groups, [fn, db], NetworkAcls=acls, Functions=fns)
    [f] = codes(snap, "ACL_EPHEMERAL_REPLY")
    assert f.severity == "medium" and f.resources == ("acl-0b00000000000001", "outbound", "10.0.2.0/24")
    assert "Lambda eni-0b0000000000001a" in f.message and "--egress" in f.fix
    # Nothing behind the ACL admits the function: it never connects there, so nobody is affected.
    groups[1] = sg(B, "db", ingress=[perm("tcp", 5432, 5432, cidrs=["10.0.1.0/24"])])
    quiet = load(tmp_path / "b", groups, [fn, db], NetworkAcls=acls, Functions=fns)
    assert [f.severity for f in codes(quiet, "ACL_EPHEMERAL_REPLY")] == ["low"]


@pytest.mark.parametrize("reply", [(1024, 65535), (0, 65535)])
def test_acl_admitting_the_whole_range_is_fine(tmp_path, reply):
    assert not codes(acl_estate(tmp_path, reply), "ACL_EPHEMERAL_REPLY")


def test_default_acl_is_fine(tmp_path):
    snap = load(tmp_path, [], NetworkAcls=[allow_all_acl("acl-0b0000000000def0")])
    assert not codes(snap, "ACL_EPHEMERAL_REPLY")


def test_incident_acls_are_fine(before_snapshot):
    assert not codes(before_snapshot, "ACL_EPHEMERAL_REPLY")


# -- shadowed rules -----------------------------------------------------------------------------------
def test_rule_shadowed_by_a_broader_rule_of_the_same_group(tmp_path):
    g = sg(A, "wide", ingress=[perm("tcp", 443, 443, cidrs=["10.0.1.0/24"]), perm("tcp", 0, 65535,
                                                                                   cidrs=["10.0.0.0/8"])])
    snap = load(tmp_path, [g], [eni("eni-0b00000000000001", "10.0.1.10", [A])])
    [f] = codes(snap, "SHADOWED_RULE")
    assert f.severity == "low" and "tcp/443 from 10.0.1.0/24" in f.message and "10.0.0.0/8" in f.message
    assert "IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=10.0.1.0/24}]" in f.fix


def test_rules_that_do_not_cover_each_other(tmp_path):
    g = sg(A, "narrow", ingress=[perm("tcp", 443, 443, cidrs=["10.0.0.0/8"]), perm("tcp", 80, 80,
                                                                                    cidrs=["10.0.1.0/24"]),
                                 perm("udp", 443, 443, cidrs=["10.0.1.0/24"]), perm("tcp", 443, 443, groups=[B])])
    snap = load(tmp_path, [g, sg(B, "peer")], [eni("eni-0b00000000000001", "10.0.1.10", [A, B])])
    assert not codes(snap, "SHADOWED_RULE")


def test_default_egress_shadows_a_narrower_egress_rule(tmp_path):
    g = sg(A, "both", egress=[perm("-1", cidrs=["0.0.0.0/0"]), perm("tcp", 443, 443, cidrs=["0.0.0.0/0"])])
    [f] = codes(load(tmp_path, [g], [eni("eni-0b00000000000001", "10.0.1.10", [A])]), "SHADOWED_RULE")
    assert "egress rule tcp/443 to 0.0.0.0/0" in f.message


# -- quotas -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, severity", [(10, None), (50, "low"), (60, "medium")])
def test_groups_near_the_rule_quota(tmp_path, n, severity):
    g = sg(A, "crowded", ingress=[perm("tcp", 443, 443, cidrs=[f"198.51.100.{i}/32" for i in range(n)])])
    found = codes(load(tmp_path, [g], [eni("eni-0b00000000000001", "10.0.1.10", [A])]), "GROUP_NEAR_QUOTA")
    assert [f.severity for f in found] == ([severity] if severity else [])
    if severity:
        assert found[0].resources == (A, "inbound", "ipv4") and f"{n} inbound IPv4 rules" in found[0].message


def test_group_references_count_for_both_families(tmp_path):
    g = sg(A, "refs", ingress=[perm("tcp", p, p, groups=[B]) for p in range(1000, 1050)])
    found = codes(load(tmp_path, [g, sg(B, "peer")], [eni("eni-0b00000000000001", "10.0.1.10", [A, B])]),
                  "GROUP_NEAR_QUOTA")
    assert sorted(f.resources[2] for f in found) == ["ipv4", "ipv6"]


# -- records and ordering -----------------------------------------------------------------------------
def test_severity_parsing_and_order():
    assert parse_severity("HIGH") == "high"
    with pytest.raises(InputError, match="unknown severity 'urgent'"):
        parse_severity("urgent")
    fs = sort_findings([Finding("X", s, (s,), s) for s in SEVERITIES])
    assert [f.severity for f in fs] == list(reversed(SEVERITIES))
    assert fs[0].to_dict()["id"] == "X:critical"


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_fail_on_exit_codes():
    before, after = str(EXAMPLE / "before"), str(EXAMPLE / "after")
    assert run_cli("audit", "--snapshot", before).returncode == 0          # no --fail-on: always 0
    assert run_cli("audit", "--snapshot", before, "--fail-on", "high").returncode == 1
    assert run_cli("audit", "--snapshot", after, "--fail-on", "high").returncode == 0
    assert run_cli("audit", "--snapshot", after, "--fail-on", "low").returncode == 1
    bad = run_cli("audit", "--snapshot", before, "--fail-on", "severe")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown severity 'severe'" in bad.stderr
    missing = run_cli("audit", "--snapshot", str(EXAMPLE / "nope"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_cli_json_and_csv(tmp_path):
    before = str(EXAMPLE / "before")
    j = run_cli("audit", "--snapshot", before, "--json")
    data = json.loads(j.stdout)
    first = data["findings"][0]
    assert first["code"] == "RULE_NAMES_EMPTY_GROUP" and first["severity"] == "high" and first["fix"]
    assert data["counts"]["high"] == 1
    assert run_cli("audit", "--snapshot", before, "--json").stdout == j.stdout       # deterministic
    c = run_cli("audit", "--snapshot", before, "--csv")
    rows = list(csv.DictReader(io.StringIO(c.stdout)))
    assert rows[0]["code"] == "RULE_NAMES_EMPTY_GROUP" and rows[0]["fix"].startswith("aws ec2 authorize")
    assert len(rows) == len(data["findings"])
    assert run_cli("audit", "--snapshot", before, "--json", "--csv").returncode == 2
    text = run_cli("audit", "--snapshot", before, "--min-severity", "low")
    assert "HIGH" in text.stdout and "INFO " not in text.stdout and "fix: aws ec2" in text.stdout
