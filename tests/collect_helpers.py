"""Helpers for the collector tests: moto gaps, call recording, fixture estates and fault injection."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
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


def isolate_aws_env(monkeypatch: Any, tmp_path: Path) -> None:
    """Fake credentials, no region, and no user AWS config or instance metadata leaking in."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@contextlib.contextmanager
def moto_aws(monkeypatch: Any, tmp_path: Path) -> Iterator[None]:
    """moto in-process (mock_aws) with its gaps filled and ECS tasks pinned RUNNING."""
    from moto import mock_aws

    isolate_aws_env(monkeypatch, tmp_path)
    patch_moto_serverless(monkeypatch)
    with mock_aws():
        pin_ecs_tasks()
        try:
            yield
        finally:
            unpin_ecs_tasks()


def iam_user_with(policy: dict[str, Any], monkeypatch: Any) -> str:
    """Create a moto IAM user holding only `policy` and make its keys the process credentials."""
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="reachgraph")
    iam.put_user_policy(UserName="reachgraph", PolicyName="collect", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reachgraph")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    return f"arn:aws:iam::{ACCOUNT}:user/reachgraph"


def policy_without(prefix: str) -> dict[str, Any]:
    """docs/iam-policy.json minus every statement for one service prefix (e.g. 'elasticache')."""
    policy = json.loads(POLICY_PATH.read_text())
    policy["Statement"] = [s for s in policy["Statement"] if not s["Action"][0].startswith(f"{prefix}:")]
    return policy


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


def denier(operation: str, body_contains: str) -> Callable[..., Any]:
    """A before-send hook answering `operation` with AccessDenied when the request body contains a string."""
    from urllib.parse import quote

    needle = quote(body_contains, safe="")

    def hook(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        body = request.body or b""
        body = body.decode() if isinstance(body, bytes) else str(body)
        if not event_name.endswith(f".{operation}") or needle not in body:
            return None
        return error_response(request, "query", "AccessDenied", f"not authorized to perform: sts:{operation}", 403)

    return hook


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


def load_example(folder: Path) -> dict[str, Any]:
    """Every top-level key of every AWS CLI JSON file in one example folder, merged."""
    merged: dict[str, Any] = {}
    for f in sorted(folder.glob("*.json")):
        for key, value in json.loads(f.read_text()).items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


def _tags(item: dict[str, Any]) -> list[dict[str, str]]:
    return [t for t in item.get("Tags", []) if not t["Key"].startswith("aws:")]


def _allow_all_egress(perms: list[dict[str, Any]]) -> bool:
    return (len(perms) == 1 and perms[0]["IpProtocol"] == "-1"
            and [r["CidrIp"] for r in perms[0].get("IpRanges", [])] == ["0.0.0.0/0"]
            and not perms[0].get("UserIdGroupPairs") and not perms[0].get("PrefixListIds"))


def _mapped_permissions(perms: list[dict[str, Any]], ids: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for perm in perms:
        p = {k: v for k, v in perm.items() if k in ("IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges")}
        p["UserIdGroupPairs"] = [{"GroupId": ids[g["GroupId"]]} for g in perm.get("UserIdGroupPairs", [])]
        p["PrefixListIds"] = [{"PrefixListId": ids.get(x["PrefixListId"], x["PrefixListId"])}
                              for x in perm.get("PrefixListIds", [])]
        out.append(p)
    return out


def seed_incident(client: Callable[[str], Any], folder: Path, pin_tasks: Callable[[], None]) -> dict[str, str]:
    """Recreate an incident example folder in moto through boto3; return example id -> moto id.

    moto picks its own ids (EC2 offers no way to choose them), so everything that names another
    resource is rewritten through the returned map. What moto lacks is fabricated as AWS shows it:
    the default group's self rule, ElastiCache and load-balancer interfaces, running ECS tasks.
    """
    data = load_example(folder)
    ec2, ids = client("ec2"), {}
    for vpc in data["Vpcs"]:
        new = ec2.create_vpc(CidrBlock=vpc["CidrBlock"], TagSpecifications=[
            {"ResourceType": "vpc", "Tags": _tags(vpc)}])["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=new, EnableDnsHostnames={"Value": True})  # moto's run_task needs it
        ids[vpc["VpcId"]] = new
    for sub in data["Subnets"]:
        ids[sub["SubnetId"]] = ec2.create_subnet(
            VpcId=ids[sub["VpcId"]], CidrBlock=sub["CidrBlock"], AvailabilityZone=sub["AvailabilityZone"],
            TagSpecifications=[{"ResourceType": "subnet", "Tags": _tags(sub)}])["Subnet"]["SubnetId"]
    for group in data["SecurityGroups"]:
        if group["GroupName"] == "default":
            ids[group["GroupId"]] = ec2.describe_security_groups(Filters=[
                {"Name": "vpc-id", "Values": [ids[group["VpcId"]]]},
                {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
        else:
            ids[group["GroupId"]] = ec2.create_security_group(
                GroupName=group["GroupName"], Description=group["Description"], VpcId=ids[group["VpcId"]],
                TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags(group)}])["GroupId"]
    for group in data["SecurityGroups"]:
        gid = ids[group["GroupId"]]
        if group["IpPermissions"]:  # includes the default group's self rule moto leaves out
            ec2.authorize_security_group_ingress(GroupId=gid,
                                                 IpPermissions=_mapped_permissions(group["IpPermissions"], ids))
        if not _allow_all_egress(group["IpPermissionsEgress"]):
            ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            if group["IpPermissionsEgress"]:
                ec2.authorize_security_group_egress(
                    GroupId=gid, IpPermissions=_mapped_permissions(group["IpPermissionsEgress"], ids))
    assert all(acl["IsDefault"] for acl in data.get("NetworkAcls", [])), "custom ACLs are not seeded"
    for igw in data.get("InternetGateways", []):
        new = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ids[igw["InternetGatewayId"]] = new
        for att in igw.get("Attachments", []):
            ec2.attach_internet_gateway(InternetGatewayId=new, VpcId=ids[att["VpcId"]])
    for nat in data.get("NatGateways", []):
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ids[nat["NatGatewayId"]] = ec2.create_nat_gateway(SubnetId=ids[nat["SubnetId"]],
                                                          AllocationId=alloc)["NatGateway"]["NatGatewayId"]
    for table in data.get("RouteTables", []):
        if any(a.get("Main") for a in table["Associations"]):
            rtb = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [ids[table["VpcId"]]]},
                                                     {"Name": "association.main", "Values": ["true"]}])
            new = rtb["RouteTables"][0]["RouteTableId"]
        else:
            new = ec2.create_route_table(VpcId=ids[table["VpcId"]])["RouteTable"]["RouteTableId"]
        ids[table["RouteTableId"]] = new
        for assoc in table["Associations"]:
            if assoc.get("SubnetId"):
                ec2.associate_route_table(RouteTableId=new, SubnetId=ids[assoc["SubnetId"]])
        for route in table["Routes"]:
            if route.get("GatewayId") == "local":
                continue
            target = {k: ids[v] for k, v in route.items() if k in ("GatewayId", "NatGatewayId")}
            ec2.create_route(RouteTableId=new, DestinationCidrBlock=route["DestinationCidrBlock"], **target)
    enis = {e["NetworkInterfaceId"]: e for e in data.get("NetworkInterfaces", [])}

    cache = client("elasticache")
    for rg in data.get("ReplicationGroups", []):
        members = [c for c in data.get("CacheClusters", []) if c.get("ReplicationGroupId") == rg["ReplicationGroupId"]]
        node_enis = [e for e in enis.values()
                     if e.get("Description", "").startswith(f"ElastiCache {rg['ReplicationGroupId']}-")]
        subnet_group = members[0]["CacheSubnetGroupName"]
        cache.create_cache_subnet_group(CacheSubnetGroupName=subnet_group, CacheSubnetGroupDescription=subnet_group,
                                        SubnetIds=sorted({ids[e["SubnetId"]] for e in node_enis}))
        cache.create_replication_group(
            ReplicationGroupId=rg["ReplicationGroupId"], ReplicationGroupDescription=rg["Description"],
            Engine=rg.get("Engine", "redis"), CacheNodeType=rg["CacheNodeType"], NumCacheClusters=len(members),
            CacheSubnetGroupName=subnet_group,
            SecurityGroupIds=sorted({ids[g["SecurityGroupId"]] for c in members for g in c["SecurityGroups"]}))
        for e in node_enis:  # EC-1: the node interfaces AWS creates and moto does not
            ids[e["NetworkInterfaceId"]] = ec2.create_network_interface(
                SubnetId=ids[e["SubnetId"]], Groups=[ids[g["GroupId"]] for g in e["Groups"]],
                PrivateIpAddress=e["PrivateIpAddress"], Description=e["Description"])["NetworkInterface"]["NetworkInterfaceId"]

    elbv2 = client("elbv2")
    for lb in data.get("LoadBalancers", []):
        new = elbv2.create_load_balancer(
            Name=lb["LoadBalancerName"], Subnets=[ids[z["SubnetId"]] for z in lb["AvailabilityZones"]],
            SecurityGroups=[ids[g] for g in lb.get("SecurityGroups", [])], Scheme=lb["Scheme"],
            Type=lb["Type"])["LoadBalancers"][0]["LoadBalancerArn"]
        ids[lb["LoadBalancerArn"]] = new
        tg = elbv2.create_target_group(Name=lb["LoadBalancerName"][:32], Protocol="HTTP", Port=8000, TargetType="ip",
                                       VpcId=ids[lb["VpcId"]])["TargetGroups"][0]["TargetGroupArn"]
        for listener in (x for x in data.get("Listeners", []) if x["LoadBalancerArn"] == lb["LoadBalancerArn"]):
            elbv2.create_listener(LoadBalancerArn=new, Protocol="HTTP", Port=listener["Port"],
                                  DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        old_suffix = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
        new_suffix = new.split(":loadbalancer/", 1)[1]
        for e in enis.values():  # the ELB's interfaces, described as AWS describes them
            if e.get("Description") == f"ELB {old_suffix}":
                ids[e["NetworkInterfaceId"]] = ec2.create_network_interface(
                    SubnetId=ids[e["SubnetId"]], Groups=[ids[g["GroupId"]] for g in e["Groups"]],
                    PrivateIpAddress=e["PrivateIpAddress"],
                    Description=f"ELB {new_suffix}")["NetworkInterface"]["NetworkInterfaceId"]

    ecs = client("ecs")
    pin_tasks()
    definition = data.get("taskDefinition")
    if definition:
        containers = [{**{k: v for k, v in c.items() if k in ("name", "image", "cpu", "portMappings", "essential",
                                                                  "environment")},
                       "memory": int(definition.get("memory", 512))}  # moto's run_task needs container memory
                      for c in definition["containerDefinitions"]]
        ids[definition["taskDefinitionArn"]] = ecs.register_task_definition(
            family=definition["family"], networkMode=definition["networkMode"], containerDefinitions=containers,
            requiresCompatibilities=definition.get("requiresCompatibilities", []),
            cpu=definition.get("cpu", "256"), memory=definition.get("memory", "512"),
        )["taskDefinition"]["taskDefinitionArn"]
    for service in data.get("services", []):
        cluster = service["clusterArn"].rsplit("/", 1)[1]
        ecs.create_cluster(clusterName=cluster)
        vpc_conf = service["networkConfiguration"]["awsvpcConfiguration"]
        net = {"awsvpcConfiguration": {"subnets": [ids[s] for s in vpc_conf["subnets"]],
                                       "securityGroups": [ids[g] for g in vpc_conf["securityGroups"]],
                                       "assignPublicIp": vpc_conf.get("assignPublicIp", "DISABLED")}}
        ecs.create_service(cluster=cluster, serviceName=service["serviceName"],
                           taskDefinition=ids[service["taskDefinition"]], desiredCount=service["desiredCount"],
                           launchType=service.get("launchType", "FARGATE"), networkConfiguration=net)
        for task in (t for t in data.get("tasks", []) if t["group"] == f"service:{service['serviceName']}"):
            details = {d["name"]: d["value"] for a in task["attachments"] for d in a["details"]}
            groups = [g["GroupId"] for g in enis[details["networkInterfaceId"]]["Groups"]]
            ecs.run_task(cluster=cluster, taskDefinition=ids[task["taskDefinitionArn"]], count=1,
                         launchType=task.get("launchType", "FARGATE"), group=task["group"],
                         networkConfiguration={"awsvpcConfiguration": {
                             "subnets": [ids[details["subnetId"]]], "securityGroups": [ids[g] for g in groups]}})
    return ids
