"""Helpers for the collector tests: moto gaps, call recording, fixture estates and fault injection."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "docs" / "iam-policy.json"
INCIDENT = REPO / "examples" / "incident-2025-11-07"
MOTO_SITE = Path(__file__).resolve().parent / "fixtures" / "moto_site"
AWS_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "aws"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, and the incident example's
PIN_TASKS = {"progression": "manual", "times": 1_000_000}  # moto advances ECS tasks past RUNNING otherwise


def policy_actions(path: Path = POLICY_PATH) -> set[str]:
    """Every action that docs/iam-policy.json allows."""
    doc = json.loads(path.read_text())
    actions: set[str] = set()
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        found = statement["Action"]
        actions.update([found] if isinstance(found, str) else found)
    return actions


def patch_moto_serverless(monkeypatch: Any) -> None:
    """moto has no DescribeServerlessCaches; answer it like an account that has none."""
    from moto.core.responses import ActionResult
    from moto.elasticache.responses import ElastiCacheResponse

    monkeypatch.setattr(ElastiCacheResponse, "describe_serverless_caches",
                        lambda self: ActionResult({"ServerlessCaches": []}), raising=False)


def pin_ecs_tasks() -> None:
    """Keep moto's ECS tasks RUNNING however often they are described (undo with unpin_ecs_tasks)."""
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="ecs::task", transition=PIN_TASKS)


def unpin_ecs_tasks() -> None:
    """Back to moto's default task progression."""
    from moto.moto_api import state_manager

    state_manager.unset_transition(model_name="ecs::task")


@dataclass
class CallLog:
    """Records every API operation of every botocore client created while installed."""

    calls: list[tuple[str, str]] = field(default_factory=list)  # (IAM prefix, operation)
    senders: list[Callable[..., Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, monkeypatch: Any) -> CallLog:
        """Wrap botocore's client factory so each new client reports its calls to this log."""
        original = botocore.session.Session.create_client
        log = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", log._on_call)
            for sender in log.senders:  # first, so they answer before moto does
                client.meta.events.register_first("before-send", sender)
            return client

        monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
        return self

    def _on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.service_model.signing_name, model.name))

    def operations(self) -> list[str]:
        """'prefix:Operation' strings, as IAM names them."""
        with self._lock:
            return [f"{prefix}:{op}" for prefix, op in self.calls]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def error_response(request: Any, protocol: str, code: str, message: str, status: int) -> AWSResponse:
    """An HTTP error response shaped like AWS's for the given wire protocol."""
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>test</RequestID></Response>").encode()
        headers = {"Content-Type": "text/xml"}
    elif protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>test</RequestId></ErrorResponse>").encode()
        headers = {"Content-Type": "text/xml"}
    else:  # json / rest-json
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
    return AWSResponse(request.url, status, headers, _Raw(body))


THROTTLE = {"ec2": ("RequestLimitExceeded", 503), "query": ("Throttling", 400), "json": ("ThrottlingException", 400),
            "rest-json": ("TooManyRequestsException", 429)}


def throttler(faults: dict[str, int]) -> tuple[Callable[..., Any], dict[str, int]]:
    """A before-send hook answering the first N attempts of each named operation with a throttle.

    Returns the hook and a live count of injected throttles per operation.
    """
    remaining = dict(faults)
    injected = {op: 0 for op in faults}
    lock = threading.Lock()

    def hook(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        _, service_id, op = event_name.split(".", 2)
        with lock:
            if remaining.get(op, 0) <= 0:
                return None
            remaining[op] -= 1
            injected[op] += 1
        protocol = {"ec2": "ec2", "ecs": "json", "lambda": "rest-json"}.get(service_id, "query")
        code, status = THROTTLE[protocol]
        return error_response(request, protocol, code, "Rate exceeded (injected by test)", status)

    return hook, injected


@dataclass
class Estate:
    """What the fixture estate holds, enough to compute the API-call lower bound."""

    vpcs: list[str]
    groups: dict[str, str]
    clusters: dict[str, dict[str, int]]  # cluster -> {"services": n, "tasks": n}
    task_definitions: int
    referenced_prefix_lists: int
    load_balancers: int
    ids: dict[str, str] = field(default_factory=dict)


def build_estate(region: str = REGION) -> Estate:
    """Two peered VPCs, cross-referencing groups, an ECS service with awsvpc tasks, Redis, instances, ALB, RDS."""
    import boto3

    ec2 = boto3.client("ec2", region_name=region)
    vpc_a = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    vpc_b = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_a, EnableDnsHostnames={"Value": True})  # run_task in awsvpc needs it
    app_a = ec2.create_subnet(VpcId=vpc_a, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
    app_b = ec2.create_subnet(VpcId=vpc_a, CidrBlock="10.0.3.0/24", AvailabilityZone=f"{region}b")["Subnet"]["SubnetId"]
    data_a = ec2.create_subnet(VpcId=vpc_a, CidrBlock="10.0.2.0/24", AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
    data_b = ec2.create_subnet(VpcId=vpc_a, CidrBlock="10.0.4.0/24", AvailabilityZone=f"{region}b")["Subnet"]["SubnetId"]
    worker_sub = ec2.create_subnet(VpcId=vpc_b, CidrBlock="10.1.1.0/24", AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc_a, PeerVpcId=vpc_b)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_a)
    main_a = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_a]}])["RouteTables"][0]["RouteTableId"]
    main_b = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_b]}])["RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main_a, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx)
    ec2.create_route(RouteTableId=main_b, DestinationCidrBlock="10.0.0.0/16", VpcPeeringConnectionId=pcx)
    office = ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=5, AddressFamily="IPv4",
                                            Entries=[{"Cidr": "203.0.113.0/24", "Description": "hq"},
                                                     {"Cidr": "198.51.100.0/24", "Description": "vpn"}])
    office_id = office["PrefixList"]["PrefixListId"]

    def group(name: str, vpc: str) -> str:
        return ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]

    groups = {"api": group("api", vpc_a), "old-api": group("old-api", vpc_a), "redis": group("redis", vpc_a),
              "bastion": group("bastion", vpc_a), "worker": group("worker", vpc_b), "alb": group("alb", vpc_a)}
    ingress = ec2.authorize_security_group_ingress
    ingress(GroupId=groups["redis"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
                                                     "UserIdGroupPairs": [{"GroupId": groups["old-api"]}]}])
    ingress(GroupId=groups["api"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000,
                                                   "UserIdGroupPairs": [{"GroupId": groups["alb"]}]}])
    ingress(GroupId=groups["bastion"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                       "PrefixListIds": [{"PrefixListId": office_id}]}])
    ingress(GroupId=groups["api"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                   "UserIdGroupPairs": [{"GroupId": groups["bastion"]}]}])
    ingress(GroupId=groups["alb"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                   "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ingress(GroupId=groups["worker"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 9000, "ToPort": 9000,
                                                      "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=app_a,
                      SecurityGroupIds=[groups["bastion"]],
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "bastion"}]}])
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2, SubnetId=worker_sub,
                      SecurityGroupIds=[groups["worker"]],
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "worker"}]}])

    ecs = boto3.client("ecs", region_name=region)
    ecs.create_cluster(clusterName="apps")
    ecs.create_cluster(clusterName="empty")
    td = ecs.register_task_definition(
        family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "api", "image": "api:1", "memory": 512,
                               "portMappings": [{"containerPort": 8000, "protocol": "tcp"}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    net = {"awsvpcConfiguration": {"subnets": [app_a, app_b], "securityGroups": [groups["api"]],
                                   "assignPublicIp": "DISABLED"}}
    ecs.create_service(cluster="apps", serviceName="api", taskDefinition=td, desiredCount=3, launchType="FARGATE",
                       networkConfiguration=net)
    ecs.run_task(cluster="apps", taskDefinition=td, count=3, launchType="FARGATE", group="service:api",
                 networkConfiguration=net)

    cache = boto3.client("elasticache", region_name=region)
    cache.create_cache_subnet_group(CacheSubnetGroupName="redis-subnets", CacheSubnetGroupDescription="data",
                                    SubnetIds=[data_a, data_b])
    cache.create_replication_group(ReplicationGroupId="redis", ReplicationGroupDescription="redis", Engine="redis",
                                   CacheNodeType="cache.t4g.small", NumCacheClusters=2,
                                   CacheSubnetGroupName="redis-subnets", SecurityGroupIds=[groups["redis"]])
    # EC-1: moto creates no node interfaces; fabricate what AWS would show.
    for cluster_id, subnet, ip in (("redis-001", data_a, "10.0.2.50"), ("redis-002", data_b, "10.0.4.50")):
        ec2.create_network_interface(SubnetId=subnet, Groups=[groups["redis"]], PrivateIpAddress=ip,
                                     Description=f"ElastiCache {cluster_id}")

    elbv2 = boto3.client("elbv2", region_name=region)
    public_a = ec2.create_subnet(VpcId=vpc_a, CidrBlock="10.0.101.0/24", AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
    public_b = ec2.create_subnet(VpcId=vpc_a, CidrBlock="10.0.102.0/24", AvailabilityZone=f"{region}b")["Subnet"]["SubnetId"]
    lb = elbv2.create_load_balancer(Name="api-alb", Subnets=[public_a, public_b], SecurityGroups=[groups["alb"]],
                                    Scheme="internet-facing", Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name="api", Protocol="HTTP", Port=8000, VpcId=vpc_a,
                                   TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])

    rds = boto3.client("rds", region_name=region)
    rds.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=[data_a, data_b])
    rds.create_db_instance(DBInstanceIdentifier="orders", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="admin", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
                           DBSubnetGroupName="db", VpcSecurityGroupIds=[groups["worker"]])
    return Estate(vpcs=[vpc_a, vpc_b], groups=groups,
                  clusters={"apps": {"services": 1, "tasks": 3}, "empty": {"services": 0, "tasks": 0}},
                  task_definitions=1, referenced_prefix_lists=1, load_balancers=1,
                  ids={"pcx": pcx, "office": office_id, "lb": lb})


def lower_bound(estate: Estate, services: tuple[str, ...], accounts: int = 1, regions: int = 1) -> int:
    """The fewest calls that can collect `estate`, derived from the estate itself, not from the collector.

    Per account: GetCallerIdentity. Per region: one paginated listing per resource type (every
    page size at its maximum, so one page each here), batched describes (10 services, 100 tasks
    per call), one DescribeTaskDefinition per distinct definition, one GetManagedPrefixListEntries
    per referenced prefix list, one DescribeListeners per load balancer.
    """
    per_region = 0
    if "ec2" in services:
        listings = ("Vpcs Subnets SecurityGroups SecurityGroupRules NetworkInterfaces NetworkAcls RouteTables "
                    "VpcPeeringConnections InternetGateways NatGateways Reservations ManagedPrefixLists").split()
        per_region += len(listings) + estate.referenced_prefix_lists
    if "ecs" in services:
        per_region += 1  # ListClusters
        for c in estate.clusters.values():
            per_region += 2  # ListServices, ListTasks
            per_region += -(-c["services"] // 10) + -(-c["tasks"] // 100)
        per_region += estate.task_definitions
    if "elasticache" in services:
        per_region += 3
    if "rds" in services:
        per_region += 2
    if "elbv2" in services:
        per_region += 1 + estate.load_balancers
    if "lambda" in services:
        per_region += 1
    return accounts * (1 + regions * per_region)
