"""Paging, batching and transforms, with botocore.stub.Stubber and AWS-shaped responses (moto does not page)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import ANY, Stubber

from reachgraph.collect import awslambda, ec2, ecs, elasticache, elbv2
from reachgraph.collect.calls import jsonable
from reachgraph.collect.context import Unit, UnitContext
from reachgraph.collect.faults import classify

from collect_helpers import AWS_FIXTURES

A = "111122223333"


def fixture(name: str) -> dict[str, Any]:
    """A raw AWS response from tests/fixtures/aws."""
    return json.loads((AWS_FIXTURES / name).read_text())


def client(service: str) -> BaseClient:
    """A client that never reaches the network (Stubber answers everything)."""
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


@pytest.fixture
def stubbed() -> Iterator[dict[str, tuple[BaseClient, Stubber]]]:
    """Per service: a client and its activated Stubber; asserts every queued response was used."""
    made: dict[str, tuple[BaseClient, Stubber]] = {}
    for service in ("ec2", "ecs", "elasticache", "elbv2", "lambda"):
        c = client(service)
        stub = Stubber(c)
        stub.activate()
        made[service] = (c, stub)
    yield made
    for _, stub in made.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def ctx_for(service: str, stubbed: dict[str, tuple[BaseClient, Stubber]]) -> UnitContext:
    """A unit context whose clients are the stubbed ones."""
    return UnitContext(unit=Unit(A, "us-east-1", service), make_client=lambda name, region: stubbed[name][0])


def test_ec2_listing_concatenates_next_token_pages(stubbed: Any) -> None:
    """Pages are requested with the largest page size, then NextToken, and concatenated in order."""
    c, stub = stubbed["ec2"]
    stub.add_response("describe_security_groups", fixture("ec2-describe-security-groups.page1.json"),
                      {"MaxResults": 1000})
    stub.add_response("describe_security_groups", fixture("ec2-describe-security-groups.page2.json"),
                      {"MaxResults": 1000, "NextToken": "eyJ2IjoiMiIsImMiOiJwYWdlMiJ9"})
    groups = ec2.get_listing(c, "SecurityGroups")
    assert [g["GroupId"] for g in groups] == ["sg-0454e74e2924a7754", "sg-0e61190afc2502b10", "sg-0864e6f6aee2a5cf4"]


def test_prefix_list_entries_paged_and_merged(stubbed: Any) -> None:
    """Entries of a referenced list are paged; only referenced lists are fetched; merged shape has Cidrs."""
    c, stub = stubbed["ec2"]
    ctx = ctx_for("ec2", stubbed)
    for key, (method, _, size) in ec2.LISTINGS.items():
        if key == "SecurityGroups":
            stub.add_response(method, fixture("ec2-describe-security-groups.page1.json"), {"MaxResults": size})
            stub.add_response(method, fixture("ec2-describe-security-groups.page2.json"),
                              {"MaxResults": size, "NextToken": ANY})
        elif key == "RouteTables":
            stub.add_response(method, fixture("ec2-describe-route-tables.json"), {"MaxResults": size})
        else:
            stub.add_response(method, {key: []}, {"MaxResults": size})
    stub.add_response("describe_managed_prefix_lists", fixture("ec2-describe-managed-prefix-lists.json"),
                      {"MaxResults": 100})
    # Sorted by id; the 'partners' list is referenced by nothing and never fetched.
    stub.add_response("get_managed_prefix_list_entries", fixture("ec2-get-managed-prefix-list-entries.page1.json"),
                      {"PrefixListId": "pl-0a1b2c3d4e5f60001", "MaxResults": 100})
    stub.add_response("get_managed_prefix_list_entries", fixture("ec2-get-managed-prefix-list-entries.page2.json"),
                      {"PrefixListId": "pl-0a1b2c3d4e5f60001", "MaxResults": 100, "NextToken": "AAEAAbmH8page2"})
    stub.add_response("get_managed_prefix_list_entries", {"Entries": [{"Cidr": "3.5.0.0/19"}, {"Cidr": "52.216.0.0/15"}]},
                      {"PrefixListId": "pl-63a5400a", "MaxResults": 100})
    ec2.collect(ctx)
    assert ctx.errors == []
    assert ctx.resources["PrefixLists"] == [
        {"PrefixListId": "pl-0a1b2c3d4e5f60001", "PrefixListName": "office",
         "Cidrs": ["203.0.113.0/24", "198.51.100.0/24"]},
        {"PrefixListId": "pl-63a5400a", "PrefixListName": "com.amazonaws.us-east-1.s3",
         "Cidrs": ["3.5.0.0/19", "52.216.0.0/15"]},
    ]
    assert len(ctx.resources["SecurityGroups"]) == 3


def test_referenced_prefix_lists_reads_groups_rules_and_routes() -> None:
    """SG-10: lists named in either direction of a group, in a rule, or as a route destination."""
    groups = [{"IpPermissions": [{"PrefixListIds": [{"PrefixListId": "pl-a"}]}],
               "IpPermissionsEgress": [{"PrefixListIds": [{"PrefixListId": "pl-b"}]}]}]
    rules = [{"PrefixListId": "pl-c"}, {"CidrIpv4": "10.0.0.0/8"}]
    tables = [{"Routes": [{"DestinationPrefixListId": "pl-d"}, {"DestinationCidrBlock": "0.0.0.0/0"}]}]
    assert ec2.referenced_prefix_lists(groups, rules, tables) == {"pl-a", "pl-b", "pl-c", "pl-d"}
    assert ec2.referenced_prefix_lists(None, None, None) == set()


def test_transform_prefix_lists_skips_lists_without_entries() -> None:
    """A list whose entries were not fetched is left out rather than stored as empty (empty would mean 'matches nothing')."""
    lists = [{"PrefixListId": "pl-b", "PrefixListName": "b"}, {"PrefixListId": "pl-a", "PrefixListName": "a"}]
    merged = ec2.transform_prefix_lists(lists, {"pl-b": [{"Cidr": "10.0.0.0/8", "Description": "x"}]})
    assert merged == [{"PrefixListId": "pl-b", "PrefixListName": "b", "Cidrs": ["10.0.0.0/8"]}]


def test_elasticache_marker_pages(stubbed: Any) -> None:
    """ElastiCache pages with Marker; ShowCacheNodeInfo is always asked for (EC-3 needs the node ports)."""
    c, stub = stubbed["elasticache"]
    stub.add_response("describe_cache_clusters", fixture("elasticache-describe-cache-clusters.page1.json"),
                      {"ShowCacheNodeInfo": True, "MaxRecords": 100})
    stub.add_response("describe_cache_clusters", fixture("elasticache-describe-cache-clusters.page2.json"),
                      {"ShowCacheNodeInfo": True, "MaxRecords": 100, "Marker": "redis-001"})
    clusters = elasticache.get_cache_clusters(c)
    assert [x["CacheClusterId"] for x in clusters] == ["redis-001", "redis-002"]
    assert clusters[1]["CacheNodes"][0]["Endpoint"]["Port"] == 6379


def test_lambda_pages_and_keeps_only_vpc_functions(stubbed: Any) -> None:
    """NextMarker pages; functions without VPC subnets are dropped."""
    stub = stubbed["lambda"][1]
    stub.add_response("list_functions", fixture("lambda-list-functions.page1.json"), {"MaxItems": 50})
    stub.add_response("list_functions", fixture("lambda-list-functions.page2.json"),
                      {"MaxItems": 50, "Marker": "cache-warmer"})
    ctx = ctx_for("lambda", stubbed)
    awslambda.collect(ctx)
    assert [f["FunctionName"] for f in ctx.resources["Functions"]] == ["cache-warmer", "report-builder"]


def test_elbv2_listeners_per_load_balancer_paged(stubbed: Any) -> None:
    """One DescribeListeners per load balancer, paged with Marker/NextMarker."""
    stub = stubbed["elbv2"][1]
    lbs = fixture("elbv2-describe-load-balancers.json")
    arn = lbs["LoadBalancers"][0]["LoadBalancerArn"]
    stub.add_response("describe_load_balancers", lbs, {"PageSize": 400})
    stub.add_response("describe_listeners", fixture("elbv2-describe-listeners.page1.json"),
                      {"LoadBalancerArn": arn, "PageSize": 400})
    stub.add_response("describe_listeners", fixture("elbv2-describe-listeners.page2.json"),
                      {"LoadBalancerArn": arn, "PageSize": 400, "Marker": "bWFya2VyMg=="})
    ctx = ctx_for("elbv2", stubbed)
    elbv2.collect(ctx)
    assert [x["Port"] for x in ctx.resources["Listeners"]] == [443, 80]
    assert ctx.resources["LoadBalancers"][0]["CreatedTime"].startswith("2025-03-04")


def _arn(kind: str, n: int) -> str:
    return f"arn:aws:ecs:us-east-1:{A}:{kind}/apps/{n:032x}"


def test_ecs_batches_pages_definitions_and_container_instances(stubbed: Any) -> None:
    """ECS: list pages by nextToken, describe 10 services / 100 tasks per call, one definition each,
    and container instances only for bridge/host tasks (ECS-3)."""
    stub = stubbed["ecs"][1]
    apps = f"arn:aws:ecs:us-east-1:{A}:cluster/apps"
    legacy = f"arn:aws:ecs:us-east-1:{A}:cluster/legacy"
    td = f"arn:aws:ecs:us-east-1:{A}:task-definition/api:7"
    services = [_arn("service", i) for i in range(12)]
    tasks = [_arn("task", i) for i in range(150)]
    stub.add_response("list_clusters", {"clusterArns": [legacy], "nextToken": "c2"}, {"maxResults": 100})
    stub.add_response("list_clusters", {"clusterArns": [apps]}, {"maxResults": 100, "nextToken": "c2"})
    # clusters are visited sorted: apps, then legacy
    stub.add_response("list_services", {"serviceArns": services[:10], "nextToken": "s2"},
                      {"cluster": apps, "maxResults": 100})
    stub.add_response("list_services", {"serviceArns": services[10:]},
                      {"cluster": apps, "maxResults": 100, "nextToken": "s2"})
    for batch in (services[:10], services[10:]):
        stub.add_response("describe_services", {"services": [
            {"serviceArn": s, "serviceName": s.rsplit("/", 1)[1], "clusterArn": apps, "taskDefinition": td,
             "launchType": "FARGATE", "networkConfiguration": {"awsvpcConfiguration": {
                 "subnets": ["subnet-02269cacf51e33c5b"], "securityGroups": ["sg-0864e6f6aee2a5cf4"]}}}
            for s in batch], "failures": []}, {"cluster": apps, "services": batch})
    stub.add_response("list_tasks", {"taskArns": tasks[:100], "nextToken": "t2"}, {"cluster": apps, "maxResults": 100})
    stub.add_response("list_tasks", {"taskArns": tasks[100:]}, {"cluster": apps, "maxResults": 100, "nextToken": "t2"})
    for batch in (tasks[:100], tasks[100:]):
        stub.add_response("describe_tasks", {"tasks": [
            {"taskArn": t, "clusterArn": apps, "taskDefinitionArn": td, "group": "service:x", "lastStatus": "RUNNING",
             "launchType": "FARGATE", "attachments": []} for t in batch], "failures": []},
            {"cluster": apps, "tasks": batch})
    stub.add_response("list_services", {"serviceArns": []}, {"cluster": legacy, "maxResults": 100})
    bridge = fixture("ecs-describe-tasks-bridge.json")
    bridge_task = bridge["tasks"][0]
    stub.add_response("list_tasks", {"taskArns": [bridge_task["taskArn"]]}, {"cluster": legacy, "maxResults": 100})
    stub.add_response("describe_tasks", bridge, {"cluster": legacy, "tasks": [bridge_task["taskArn"]]})
    stub.add_response("describe_task_definition", {"taskDefinition": {
        "taskDefinitionArn": td, "family": "api", "revision": 7, "networkMode": "awsvpc",
        "containerDefinitions": [{"name": "api", "portMappings": [{"containerPort": 8000, "protocol": "tcp"}]}]}},
        {"taskDefinition": td})
    bridge_td = fixture("ecs-describe-task-definition-bridge.json")
    stub.add_response("describe_task_definition", bridge_td, {"taskDefinition": bridge_task["taskDefinitionArn"]})
    stub.add_response("describe_container_instances", fixture("ecs-describe-container-instances.json"),
                      {"cluster": legacy, "containerInstances": [bridge_task["containerInstanceArn"]]})
    ctx = ctx_for("ecs", stubbed)
    ecs.collect(ctx)
    assert ctx.errors == []
    assert len(ctx.resources["services"]) == 12 and len(ctx.resources["tasks"]) == 151
    assert [d["family"] for d in ctx.resources["taskDefinitions"]] == ["api", "legacy-web"]
    assert ctx.resources["containerInstances"][0]["ec2InstanceId"] == "i-0abc1234def567890"


def test_datetimes_become_iso_strings() -> None:
    """Snapshot items are JSON: boto3's datetime objects are stored as ISO 8601 strings."""
    when = dt.datetime(2025, 11, 7, 15, 42, tzinfo=dt.timezone.utc)
    assert jsonable({"a": [when, {"b": when}], "c": (1, 2)}) == {
        "a": ["2025-11-07T15:42:00+00:00", {"b": "2025-11-07T15:42:00+00:00"}], "c": [1, 2]}


def test_a_failed_call_is_recorded_and_the_key_left_out(stubbed: Any) -> None:
    """AccessDenied on one listing: an error naming the operation; the other listings still land."""
    stub = stubbed["elasticache"][1]
    stub.add_client_error("describe_cache_clusters", "AccessDenied", "not authorized to perform "
                          "elasticache:DescribeCacheClusters", http_status_code=403)
    stub.add_response("describe_replication_groups", {"ReplicationGroups": []}, {"MaxRecords": 100})
    stub.add_response("describe_serverless_caches", {"ServerlessCaches": []}, {})
    ctx = ctx_for("elasticache", stubbed)
    elasticache.collect(ctx)
    assert ctx.errors == [{"account": A, "region": "us-east-1", "service": "elasticache",
                           "operation": "DescribeCacheClusters", "code": "AccessDenied",
                           "message": "not authorized to perform elasticache:DescribeCacheClusters"}]
    assert set(ctx.resources) == {"ReplicationGroups", "ServerlessCaches"}


def test_opt_in_required_stops_the_unit_and_records_every_skipped_call(stubbed: Any) -> None:
    """A region that is not enabled answers OptInRequired: one real call, the rest recorded as not attempted."""
    stub = stubbed["elasticache"][1]
    stub.add_client_error("describe_cache_clusters", "OptInRequired", "region not enabled", http_status_code=401)
    ctx = ctx_for("elasticache", stubbed)
    elasticache.collect(ctx)
    assert [(e["operation"], e["code"]) for e in ctx.errors] == [
        ("DescribeCacheClusters", "OptInRequired"), ("DescribeReplicationGroups", "OptInRequired"),
        ("DescribeServerlessCaches", "OptInRequired")]
    assert ctx.errors[1]["message"].startswith("not attempted: DescribeCacheClusters already failed")
    assert ctx.resources == {}


def test_classify_faults() -> None:
    """Codes come from AWS; exhausted retries say so; endpoint failures end the unit."""
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                             "ResponseMetadata": {"MaxAttemptsReached": True, "RetryAttempts": 10}}, "DescribeVpcs")
    fault = classify(throttled)
    assert (fault.code, fault.fatal) == ("Throttling", False)
    assert fault.message == "retries exhausted after 10 retries: Rate exceeded"
    denied = classify(ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "You are not authorized"}},
                                  "DescribeVpcs"))
    assert (denied.code, denied.fatal) == ("UnauthorizedOperation", False)
    gone = classify(EndpointConnectionError(endpoint_url="https://ecs.ap-east-2.amazonaws.com/"))
    assert (gone.code, gone.fatal) == ("EndpointConnectionError", True)
    assert "ecs.ap-east-2" in gone.message
