"""The collector against moto's mock_aws: snapshot content, API-call budget, read-only proof, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.core import set_initial_no_auth_action_count

from reachgraph.collect import collect
from reachgraph.snapshot import read_snapshot

from collect_helpers import (
    ACCOUNT,
    POLICY_PATH,
    REGION,
    CallLog,
    Estate,
    build_estate,
    denier,
    iam_user_with,
    lower_bound,
    moto_aws,
    policy_actions,
    policy_without,
    throttler,
)

ALL = ("ec2", "ecs", "elasticache", "rds", "elbv2", "lambda")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """moto in-process, with fake credentials and no user AWS config leaking in."""
    with moto_aws(monkeypatch, tmp_path):
        yield


@pytest.fixture
def estate(aws: Any) -> Estate:
    """The fixture estate, built in moto."""
    return build_estate()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without sleeping: botocore's backoff and adaptive token-bucket waits are skipped.

    The retry decisions (which errors, how many attempts) are botocore's own and unchanged.
    """
    from botocore.retries import bucket, standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(bucket.TokenBucket, "_sleep_amount", lambda self, amount: 0)


def _region(document: dict[str, Any]) -> dict[str, Any]:
    return document["resources"][ACCOUNT][REGION]


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    """The document minus what changes between two runs: collected_at, and moto's 'now' in RDS."""
    doc = json.loads(json.dumps(document))
    doc["manifest"].pop("collected_at")
    for regions in doc["resources"].values():
        for data in regions.values():
            for db in data.get("DBInstances", []):
                db.pop("LatestRestorableTime", None)
    return doc


def test_estate_is_collected_written_and_read_back(estate: Estate, tmp_path: Path) -> None:
    """Every resource of the estate lands under its AWS CLI key, and read_snapshot accepts the file."""
    result = collect(regions=[REGION])
    assert result.complete, result.errors
    data = _region(result.document)
    assert {v["VpcId"] for v in data["Vpcs"]} >= set(estate.vpcs)
    assert {g["GroupName"] for g in data["SecurityGroups"]} >= set(estate.groups)
    redis = next(g for g in data["SecurityGroups"] if g["GroupId"] == estate.groups["redis"])
    assert redis["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == estate.groups["old-api"]
    assert any(r.get("ReferencedGroupInfo", {}).get("GroupId") == estate.groups["old-api"]
               for r in data["SecurityGroupRules"])
    assert data["PrefixLists"] == [{"PrefixListId": estate.ids["office"], "PrefixListName": "office",
                                    "Cidrs": ["203.0.113.0/24", "198.51.100.0/24"]}]
    assert [p["VpcPeeringConnectionId"] for p in data["VpcPeeringConnections"]] == [estate.ids["pcx"]]
    assert sum(len(r["Instances"]) for r in data["Reservations"]) == 3
    assert [s["serviceName"] for s in data["services"]] == ["api"]
    assert len(data["tasks"]) == 3 and {t["group"] for t in data["tasks"]} == {"service:api"}
    assert [d["family"] for d in data["taskDefinitions"]] == ["api"]
    assert data["containerInstances"] == []  # awsvpc tasks need no host lookup
    assert [g["ReplicationGroupId"] for g in data["ReplicationGroups"]] == ["redis"]
    assert data["ServerlessCaches"] == []
    assert sorted(e["Description"] for e in data["NetworkInterfaces"] if e["Description"].startswith("ElastiCache")) \
        == ["ElastiCache redis-001", "ElastiCache redis-002"]
    assert [lb["LoadBalancerName"] for lb in data["LoadBalancers"]] == ["api-alb"]
    assert [listener["Port"] for listener in data["Listeners"]] == [80]
    assert [d["DBInstanceIdentifier"] for d in data["DBInstances"]] == ["orders"]
    assert data["Functions"] == []

    path = result.write(tmp_path / "snap.json.gz")
    raw = read_snapshot(path)
    assert raw.errors == () and raw.unknown_keys == ()
    assert raw.manifest["accounts"] == [ACCOUNT] and raw.manifest["regions"] == [REGION]
    assert raw.manifest["caller_arn"].startswith("arn:aws:")
    keys = {d.key for d in raw.documents}
    assert {"SecurityGroups", "NetworkInterfaces", "tasks", "taskDefinitions", "ReplicationGroups",
            "PrefixLists", "Listeners"} <= keys
    assert all(d.account == ACCOUNT and d.region == REGION for d in raw.documents)


def test_snapshot_holds_no_credentials(estate: Estate, tmp_path: Path) -> None:
    """Only the caller's ARN identifies who collected: no keys, secrets or tokens anywhere."""
    text = json.dumps(collect(regions=[REGION]).document)
    for needle in ("testing", "AccessKeyId", "SecretAccessKey", "SessionToken", "aws_secret"):
        assert needle not in text


def test_api_call_budget_is_the_lower_bound(estate: Estate, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Counted through botocore before-call hooks: exactly one call per listing/batch/definition."""
    log = CallLog().install(monkeypatch)
    result = collect(regions=[REGION])
    assert result.complete, result.errors
    expected = lower_bound(estate, ALL)
    with capsys.disabled():
        print(f"\nAPI calls for the fixture estate: measured {len(log.calls)}, lower bound {expected}")
    assert len(log.calls) == expected
    assert result.document["manifest"]["api_calls"] == expected == result.stats.api_calls
    assert result.stats.attempts == expected  # no retries happened
    counts: dict[str, int] = {}
    for op in log.operations():
        counts[op] = counts.get(op, 0) + 1
    assert counts["ecs:DescribeTaskDefinition"] == 1
    assert counts["ec2:GetManagedPrefixListEntries"] == 1  # only the referenced list, not AWS's own
    assert counts["ecs:DescribeServices"] == 1 and counts["ecs:DescribeTasks"] == 1
    assert "ecs:DescribeContainerInstances" not in counts


def test_api_call_budget_per_region_and_service_subset(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second (empty) region costs its listings only; --services limits the calls to those services."""
    log = CallLog().install(monkeypatch)
    result = collect(regions=[REGION, "eu-west-1"], services="ec2,elasticache")
    assert result.complete, result.errors
    empty = Estate(vpcs=[], groups={}, clusters={}, task_definitions=0, referenced_prefix_lists=0, load_balancers=0)
    services = ("ec2", "elasticache")
    expected = lower_bound(estate, services) + lower_bound(empty, services) - 1  # one GetCallerIdentity
    assert len(log.calls) == expected == result.stats.api_calls
    assert {op.split(":")[0] for op in log.operations()} == {"ec2", "elasticache", "sts"}


def test_every_call_is_read_only_and_in_the_policy(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read-only proof: each operation is Describe*/List*/Get* and docs/iam-policy.json allows it."""
    log = CallLog().install(monkeypatch)
    collect(regions=[REGION], all_regions=False)
    allowed = policy_actions()
    seen = set(log.operations())
    assert seen, "nothing recorded"
    for op in sorted(seen):
        assert op.split(":", 1)[1].startswith(("Describe", "List", "Get")), op
        assert op in allowed, f"{op} is called but not in {POLICY_PATH.name}"


def test_policy_is_minimal() -> None:
    """Every action in the policy is one the collector can call (DescribeRegions with --all-regions)."""
    from reachgraph.collect import awslambda, ec2, ecs, elasticache, elbv2, rds

    prefix = {"ec2": "ec2", "ecs": "ecs", "elasticache": "elasticache", "rds": "rds",
              "elbv2": "elasticloadbalancing", "lambda": "lambda"}
    used = {f"{prefix[m.SERVICE]}:{op}" for m in (ec2, ecs, elasticache, rds, elbv2, awslambda) for op in m.OPERATIONS}
    used |= {"ec2:DescribeRegions", "sts:GetCallerIdentity"}
    assert policy_actions() == used
    for action in policy_actions():
        assert "*" not in action


def test_all_regions_asks_describe_regions(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    """--all-regions lists the enabled regions once per account, and that call is in the policy."""
    log = CallLog().install(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    result = collect(all_regions=True, services="elasticache", max_workers=4)
    assert result.complete, result.errors
    assert log.operations().count("ec2:DescribeRegions") == 1
    assert "ec2:DescribeRegions" in policy_actions()
    assert len(result.stats.regions) > 10 and REGION in result.stats.regions


def test_policy_is_sufficient_under_moto_iam_enforcement(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    """With moto enforcing IAM and only docs/iam-policy.json attached, nothing is denied.

    Lambda is left out: moto cannot verify signatures on Lambda's REST paths with IAM enabled.
    """
    iam_user_with(json.loads(POLICY_PATH.read_text()), monkeypatch)
    result = set_initial_no_auth_action_count(0)(collect)(regions=[REGION], services="ec2,ecs,elasticache,rds,elbv2")
    assert result.complete, [e.describe() for e in result.errors]
    assert result.document["manifest"]["caller_arn"] == f"arn:aws:iam::{ACCOUNT}:user/reachgraph"


def test_access_denied_on_elasticache_is_recorded_not_empty(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    """AccessDenied is an error in the manifest and the keys are absent: never 'no caches'."""
    iam_user_with(policy_without("elasticache"), monkeypatch)
    result = set_initial_no_auth_action_count(0)(collect)(regions=[REGION], services="ec2,ecs,elasticache")
    errors = result.document["manifest"]["errors"]
    assert [(e["service"], e["operation"], e["code"]) for e in errors] == [
        ("elasticache", "DescribeCacheClusters", "AccessDenied"),
        ("elasticache", "DescribeReplicationGroups", "AccessDenied"),
        ("elasticache", "DescribeServerlessCaches", "AccessDenied"),
    ]
    assert all(e["account"] == ACCOUNT and e["region"] == REGION for e in errors)
    assert "elasticache:DescribeReplicationGroups" in errors[1]["message"]
    data = _region(result.document)
    assert not {"CacheClusters", "ReplicationGroups", "ServerlessCaches"} & set(data)
    assert data["SecurityGroups"] and data["tasks"]  # the rest was collected
    assert not result.complete


def test_throttling_is_retried_and_gives_the_same_snapshot(estate: Estate, monkeypatch: pytest.MonkeyPatch,
                                                           no_backoff: None) -> None:
    """Throttles injected N times then success: retried (adaptive mode), same document, no error."""
    clean = collect(regions=[REGION])
    hook, injected = throttler({"DescribeSecurityGroups": 3, "ListTasks": 2, "DescribeReplicationGroups": 4,
                                "DescribeDBInstances": 1, "ListFunctions": 2})
    log = CallLog(senders=[hook]).install(monkeypatch)
    throttled = collect(regions=[REGION])
    assert injected == {"DescribeSecurityGroups": 3, "ListTasks": 2, "DescribeReplicationGroups": 4,
                        "DescribeDBInstances": 1, "ListFunctions": 2}
    assert throttled.complete, throttled.errors
    assert _without_time(throttled.document) == _without_time(clean.document)
    assert throttled.stats.attempts == throttled.stats.api_calls + 12
    assert len(log.calls) == clean.stats.api_calls


def test_retries_exhausted_is_recorded_and_collection_continues(estate: Estate, monkeypatch: pytest.MonkeyPatch,
                                                                no_backoff: None) -> None:
    """A call throttled on every attempt is an error naming the exhaustion; other keys are intact.

    Client-config max_attempts=10 counts retries, so botocore makes 11 attempts in all.
    """
    hook, injected = throttler({"DescribeNetworkInterfaces": 100})
    CallLog(senders=[hook]).install(monkeypatch)
    result = collect(regions=[REGION], services="ec2")
    assert injected["DescribeNetworkInterfaces"] == 11
    [error] = result.document["manifest"]["errors"]
    assert (error["service"], error["operation"], error["code"]) == ("ec2", "DescribeNetworkInterfaces",
                                                                     "RequestLimitExceeded")
    assert error["message"].startswith("retries exhausted after 10 retries")
    data = _region(result.document)
    assert "NetworkInterfaces" not in data and data["SecurityGroups"]


def test_max_workers_one_gives_the_same_document(estate: Estate) -> None:
    """Concurrency does not change the content or its order."""
    assert _without_time(collect(regions=[REGION], max_workers=1).document) == \
        _without_time(collect(regions=[REGION], max_workers=8).document)


def test_progress_events(estate: Estate) -> None:
    """One plan event, then one event per account x region x service with its counts."""
    events: list[Any] = []
    collect(regions=[REGION], services="ec2,ecs", progress=events.append)
    assert [e.kind for e in events] == ["plan", "done", "done"]
    assert events[0].total == 2 and len(events[0].units) == 2
    done = {e.unit.service: e for e in events[1:]}
    assert done["ecs"].resources["tasks"] == 3 and events[-1].done == 2
    assert events[-1].api_calls >= events[1].api_calls > 0


def test_assumed_role_collects_the_role_account(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """--role-arn: sts:AssumeRole with RoleSessionName 'reachgraph'; the manifest names the assumed role."""
    import boto3

    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="audit", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]
    log = CallLog().install(monkeypatch)
    result = collect(regions=[REGION], services="ec2", role_arns=[role["Arn"]])
    assert result.complete
    assert result.document["manifest"]["caller_arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/audit/reachgraph"
    assert log.operations()[:2] == ["sts:AssumeRole", "sts:GetCallerIdentity"]


def _role(account: str, name: str = "reachgraph-readonly") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def test_roles_in_two_accounts_are_collected_separately(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One assumed role per account: resources are keyed by the account STS reports, callers by account."""
    import boto3

    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=_role("111111111111"), RoleSessionName="setup")["Credentials"]
    boto3.client("ec2", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                 aws_secret_access_key=creds["SecretAccessKey"],
                 aws_session_token=creds["SessionToken"]).create_vpc(CidrBlock="10.9.0.0/16")
    result = collect(regions=[REGION], services="ec2",
                     role_arns=[_role("222222222222"), _role("111111111111"), _role("111111111111")])
    assert result.complete, result.errors
    manifest = result.document["manifest"]
    assert manifest["accounts"] == ["111111111111", "222222222222"]
    assert manifest["callers"] == {a: f"arn:aws:sts::{a}:assumed-role/reachgraph-readonly/reachgraph"
                                   for a in ("111111111111", "222222222222")}
    cidrs = {a: {v["CidrBlock"] for v in regions[REGION]["Vpcs"]}
             for a, regions in result.document["resources"].items()}
    assert "10.9.0.0/16" in cidrs["111111111111"] and "10.9.0.0/16" not in cidrs["222222222222"]


def test_assume_role_denied_in_one_account_is_recorded(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other accounts are still collected; the denied one is an sts:AssumeRole error naming its account."""
    from reachgraph.errors import InputError

    CallLog(senders=[denier("AssumeRole", _role("222222222222"))]).install(monkeypatch)
    result = collect(regions=[REGION], services="ecs", role_arns=[_role("111111111111"), _role("222222222222")])
    assert result.document["manifest"]["accounts"] == ["111111111111"]
    [error] = result.document["manifest"]["errors"]
    assert (error["account"], error["region"], error["service"], error["operation"], error["code"]) == \
        ("222222222222", None, "sts", "AssumeRole", "AccessDenied")
    assert error["message"].startswith(_role("222222222222"))
    with pytest.raises(InputError, match="could not open any account: AccessDenied"):
        collect(regions=[REGION], services="ecs", role_arns=[_role("222222222222")])
