"""Tiny builders for AWS-CLI-shaped JSON (exactly the shapes `aws ... describe-* --output json` prints).

Every function returns plain dicts; `write_estate` writes them into a folder the way a user would
(one file per top-level key, file names that do not match the key, to prove the key decides).
Nothing here imports reachgraph: these are the raw AWS responses the tool must read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "999988887777"
REGION = "us-east-1"
VPC = "vpc-0a1b2c3d4e5f60001"
VPC_CIDR = "10.0.0.0/16"
SUBNET_A = "subnet-0a0000000000000a1"
SUBNET_B = "subnet-0b0000000000000b1"
SUBNET_A_CIDR = "10.0.1.0/24"
SUBNET_B_CIDR = "10.0.2.0/24"

Json = dict[str, Any]


# -- ec2 describe-vpcs / describe-subnets ---------------------------------------------------------
def vpc(vpc_id: str = VPC, cidr: str = VPC_CIDR, *, extra_cidrs: Sequence[str] = (), ipv6: Sequence[str] = (),
        owner: str = ACCOUNT, is_default: bool = False) -> Json:
    """One item of describe-vpcs `Vpcs`."""
    return {
        "VpcId": vpc_id, "CidrBlock": cidr, "State": "available", "OwnerId": owner, "IsDefault": is_default,
        "InstanceTenancy": "default", "DhcpOptionsId": "dopt-0123456789abcdef0",
        "CidrBlockAssociationSet": [
            {"AssociationId": f"vpc-cidr-assoc-{n:017x}", "CidrBlock": c, "CidrBlockState": {"State": "associated"}}
            for n, c in enumerate([cidr, *extra_cidrs])],
        "Ipv6CidrBlockAssociationSet": [
            {"AssociationId": f"vpc-cidr-assoc-6{n:016x}", "Ipv6CidrBlock": c,
             "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": REGION, "Ipv6Pool": "Amazon"}
            for n, c in enumerate(ipv6)],
    }


def subnet(subnet_id: str = SUBNET_A, cidr: str = SUBNET_A_CIDR, *, vpc_id: str = VPC, az: str = "us-east-1a",
           ipv6: Sequence[str] = (), owner: str = ACCOUNT) -> Json:
    """One item of describe-subnets `Subnets`."""
    return {
        "SubnetId": subnet_id, "VpcId": vpc_id, "CidrBlock": cidr, "AvailabilityZone": az,
        "AvailabilityZoneId": "use1-az1", "AvailableIpAddressCount": 250, "DefaultForAz": False,
        "MapPublicIpOnLaunch": False, "State": "available", "OwnerId": owner, "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [
            {"AssociationId": f"subnet-cidr-assoc-{n:017x}", "Ipv6CidrBlock": c,
             "Ipv6CidrBlockState": {"State": "associated"}} for n, c in enumerate(ipv6)],
        "SubnetArn": f"arn:aws:ec2:{REGION}:{owner}:subnet/{subnet_id}",
    }


# -- ec2 describe-security-groups ------------------------------------------------------------------
def perm(protocol: str, from_port: int | None = None, to_port: int | None = None, *,
         cidrs: Iterable[str] = (), cidrs6: Iterable[str] = (), groups: Iterable[str | Json] = (),
         prefix_lists: Iterable[str] = (), user_id: str = ACCOUNT) -> Json:
    """One IpPermission. FromPort/ToPort are left out when None (as AWS prints `-1` permissions).

    `groups` items are group ids (same account) or full UserIdGroupPairs dicts.
    """
    p: Json = {"IpProtocol": protocol}
    if from_port is not None:
        p["FromPort"] = from_port
    if to_port is not None:
        p["ToPort"] = to_port
    p["IpRanges"] = [{"CidrIp": c} for c in cidrs]
    p["Ipv6Ranges"] = [{"CidrIpv6": c} for c in cidrs6]
    p["PrefixListIds"] = [{"PrefixListId": pl} for pl in prefix_lists]
    p["UserIdGroupPairs"] = [g if isinstance(g, dict) else {"GroupId": g, "UserId": user_id} for g in groups]
    return p


def allow_all_egress(*, ipv6: bool = False) -> list[Json]:
    """What AWS gives a new group: one outbound allow-all rule (SG-3)."""
    return [perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"] if ipv6 else [])]


def sg(group_id: str, name: str | None = None, *, ingress: Sequence[Json] = (),
       egress: Sequence[Json] | None = None, vpc_id: str = VPC, owner: str = ACCOUNT,
       description: str | None = None) -> Json:
    """One item of describe-security-groups `SecurityGroups`; egress defaults to AWS's allow-all."""
    name = name or group_id
    return {
        "GroupId": group_id, "GroupName": name, "Description": description or f"{name} group", "VpcId": vpc_id,
        "OwnerId": owner, "SecurityGroupArn": f"arn:aws:ec2:{REGION}:{owner}:security-group/{group_id}",
        "IpPermissions": list(ingress),
        "IpPermissionsEgress": allow_all_egress() if egress is None else list(egress),
        "Tags": [{"Key": "Name", "Value": name}],
    }


def sg_rule(rule_id: str, group_id: str, protocol: str, from_port: int, to_port: int, *, egress: bool = False,
            cidr: str | None = None, group: str | None = None, owner: str = ACCOUNT) -> Json:
    """One item of describe-security-group-rules `SecurityGroupRules`."""
    r: Json = {"SecurityGroupRuleId": rule_id, "GroupId": group_id, "GroupOwnerId": owner, "IsEgress": egress,
               "IpProtocol": protocol, "FromPort": from_port, "ToPort": to_port, "Tags": []}
    if cidr is not None:
        r["CidrIpv4"] = cidr
    if group is not None:
        r["ReferencedGroupInfo"] = {"GroupId": group, "UserId": owner}
    return r


# -- ec2 describe-network-interfaces ---------------------------------------------------------------
def eni(eni_id: str, ip: str | None, groups: Sequence[str], *, subnet_id: str = SUBNET_A, vpc_id: str = VPC,
        public_ip: str | None = None, secondary: Sequence[str] = (), ipv6: Sequence[str] = (),
        description: str = "", requester_id: str | None = None, interface_type: str = "interface",
        az: str = "us-east-1a", owner: str = ACCOUNT, instance_id: str | None = None,
        group_names: Mapping[str, str] | None = None) -> Json:
    """One item of describe-network-interfaces `NetworkInterfaces`."""
    names = group_names or {}
    item: Json = {
        "NetworkInterfaceId": eni_id, "SubnetId": subnet_id, "VpcId": vpc_id, "AvailabilityZone": az,
        "OwnerId": owner, "Status": "in-use", "InterfaceType": interface_type, "Description": description,
        "MacAddress": "0a:00:00:00:00:01", "SourceDestCheck": True,
        "RequesterManaged": requester_id is not None,
        "Groups": [{"GroupId": g, "GroupName": names.get(g, g)} for g in groups],
        "Ipv6Addresses": [{"Ipv6Address": a, "IsPrimaryIpv6": False} for a in ipv6],
        "TagSet": [],
    }
    if requester_id is not None:
        item["RequesterId"] = requester_id
    addresses = []
    if ip is not None:
        item["PrivateIpAddress"] = ip
        first: Json = {"Primary": True, "PrivateIpAddress": ip}
        if public_ip:
            first["Association"] = {"PublicIp": public_ip, "IpOwnerId": "amazon"}
        addresses.append(first)
    addresses += [{"Primary": False, "PrivateIpAddress": a} for a in secondary]
    item["PrivateIpAddresses"] = addresses
    if public_ip:
        item["Association"] = {"PublicIp": public_ip, "IpOwnerId": "amazon",
                               "PublicDnsName": f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com"}
    if instance_id:
        item["Attachment"] = {"AttachmentId": "eni-attach-0123456789abcdef0", "DeviceIndex": 0,
                              "InstanceId": instance_id, "InstanceOwnerId": owner, "Status": "attached"}
    return item


def cache_eni(eni_id: str, ip: str, cache_cluster_id: str, groups: Sequence[str], *,
              subnet_id: str = SUBNET_B, az: str = "us-east-1b") -> Json:
    """A requester-managed ElastiCache node interface as AWS lists it (EC-1, observed shape)."""
    return eni(eni_id, ip, groups, subnet_id=subnet_id, az=az, description=f"ElastiCache {cache_cluster_id}",
               requester_id="amazon-elasticache")


def prefix_list(pl_id: str, cidrs: Sequence[str], name: str = "corp") -> Json:
    """One item of the merged `PrefixLists` shape ({PrefixListId, PrefixListName, Cidrs})."""
    return {"PrefixListId": pl_id, "PrefixListName": name, "Cidrs": list(cidrs)}


def peering(pcx_id: str, requester_vpc: str, accepter_vpc: str, *, status: str = "active",
            requester_cidr: str = "10.0.0.0/16", accepter_cidr: str = "10.1.0.0/16",
            accepter_owner: str = ACCOUNT) -> Json:
    """One item of describe-vpc-peering-connections `VpcPeeringConnections`."""
    return {"VpcPeeringConnectionId": pcx_id, "Status": {"Code": status, "Message": status.capitalize()},
            "RequesterVpcInfo": {"VpcId": requester_vpc, "CidrBlock": requester_cidr, "OwnerId": ACCOUNT,
                                 "Region": REGION},
            "AccepterVpcInfo": {"VpcId": accepter_vpc, "CidrBlock": accepter_cidr, "OwnerId": accepter_owner,
                                "Region": REGION}}


def route_table(rtb_id: str, *, vpc_id: str = VPC, main: bool = True, subnets: Sequence[str] = (),
                local: Sequence[str] = (VPC_CIDR,), routes: Sequence[Json] = ()) -> Json:
    """One item of describe-route-tables `RouteTables`: local routes for the VPC's blocks plus `routes`."""
    assocs: list[Json] = []
    if main:
        assocs.append({"Main": True, "RouteTableAssociationId": f"rtbassoc-{rtb_id[4:]}m", "RouteTableId": rtb_id,
                       "AssociationState": {"State": "associated"}})
    assocs += [{"Main": False, "RouteTableAssociationId": f"rtbassoc-{rtb_id[4:]}{n}", "RouteTableId": rtb_id,
                "SubnetId": sid, "AssociationState": {"State": "associated"}} for n, sid in enumerate(subnets)]
    local_routes = [{("DestinationIpv6CidrBlock" if ":" in c else "DestinationCidrBlock"): c, "GatewayId": "local",
                     "Origin": "CreateRouteTable", "State": "active"} for c in local]
    return {"RouteTableId": rtb_id, "VpcId": vpc_id, "OwnerId": ACCOUNT, "Associations": assocs,
            "Routes": local_routes + list(routes), "PropagatingVgws": [], "Tags": []}


def route(destination: str, **target: str) -> Json:
    """One route: route("0.0.0.0/0", GatewayId="igw-..."), route("10.1.0.0/16", VpcPeeringConnectionId="pcx-...")."""
    key = "DestinationIpv6CidrBlock" if ":" in destination else "DestinationCidrBlock"
    return {key: destination, **target, "Origin": "CreateRoute", "State": "active"}


def default_acl(acl_id: str, *, vpc_id: str = VPC, subnets: Sequence[str] = ()) -> Json:
    """One item of describe-network-acls `NetworkAcls`: a VPC's default ACL (allow all, both families)."""
    entries = []
    for egress in (False, True):
        entries += [
            {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": egress, "CidrBlock": "0.0.0.0/0"},
            {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": egress, "Ipv6CidrBlock": "::/0"},
            {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": egress, "CidrBlock": "0.0.0.0/0"},
            {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": egress, "Ipv6CidrBlock": "::/0"}]
    return {"NetworkAclId": acl_id, "VpcId": vpc_id, "IsDefault": True, "OwnerId": ACCOUNT, "Tags": [],
            "Associations": [{"NetworkAclAssociationId": f"aclassoc-{acl_id[4:]}{n}", "NetworkAclId": acl_id,
                              "SubnetId": sid} for n, sid in enumerate(subnets)],
            "Entries": entries}


def internet_gateway(igw_id: str, vpc_id: str = VPC) -> Json:
    """One item of describe-internet-gateways `InternetGateways`."""
    return {"InternetGatewayId": igw_id, "OwnerId": ACCOUNT, "Tags": [],
            "Attachments": [{"State": "available", "VpcId": vpc_id}]}


# -- ecs ------------------------------------------------------------------------------------------
def _cluster_arn(cluster: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}"


def ecs_service(name: str, cluster: str, groups: Sequence[str], *, subnets: Sequence[str] = (SUBNET_A,),
                running: int = 1, container_port: int | None = None, family: str | None = None) -> Json:
    """One item of ecs describe-services `services` (Fargate, awsvpc)."""
    family = family or name
    item: Json = {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}", "serviceName": name,
        "clusterArn": _cluster_arn(cluster), "status": "ACTIVE", "desiredCount": running,
        "runningCount": running, "pendingCount": 0, "launchType": "FARGATE",
        "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1",
        "loadBalancers": [], "serviceRegistries": [],
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": list(subnets), "securityGroups": list(groups),
                                                         "assignPublicIp": "DISABLED"}},
    }
    if container_port is not None:
        item["loadBalancers"] = [{"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/"
                                                    f"{name}/0123456789abcdef", "containerName": name,
                                  "containerPort": container_port}]
    return item


def ecs_task(task_id: str, cluster: str, service: str | None, *, eni_id: str | None, ip: str | None,
             subnet_id: str = SUBNET_A, attachment_status: str = "ATTACHED", last_status: str = "RUNNING",
             family: str | None = None) -> Json:
    """One item of ecs describe-tasks `tasks` with its ElasticNetworkInterface attachment (ECS-1)."""
    details = [{"name": "subnetId", "value": subnet_id}]
    if eni_id is not None:
        details.append({"name": "networkInterfaceId", "value": eni_id})
    details.append({"name": "macAddress", "value": "0a:c3:4c:1c:4c:c1"})
    if ip is not None:
        details += [{"name": "privateDnsName", "value": f"ip-{ip.replace('.', '-')}.ec2.internal"},
                    {"name": "privateIPv4Address", "value": ip}]
    family = family or (service or "standalone")
    return {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/{task_id}",
        "clusterArn": _cluster_arn(cluster), "group": f"service:{service}" if service else f"family:{family}",
        "lastStatus": last_status, "desiredStatus": "RUNNING", "launchType": "FARGATE",
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1",
        "attachments": [{"id": f"{task_id[:8]}-0000-4000-8000-000000000000", "type": "ElasticNetworkInterface",
                         "status": attachment_status, "details": details}],
    }


def task_eni(eni_id: str, ip: str, groups: Sequence[str], *, subnet_id: str = SUBNET_A) -> Json:
    """A Fargate task's interface as describe-network-interfaces lists it."""
    return eni(eni_id, ip, groups, subnet_id=subnet_id,
               description=f"arn:aws:ecs:{REGION}:{ACCOUNT}:attachment/0d3f6b2e-1111-4222-8333-444455556666",
               requester_id="578734482556")


# -- elasticache ----------------------------------------------------------------------------------
def cache_cluster(cid: str, groups: Sequence[str], *, port: int = 6379, replication_group: str | None = None,
                  nodes: int = 1, az: str = "us-east-1b", engine: str = "redis") -> Json:
    """One item of elasticache describe-cache-clusters --show-cache-node-info `CacheClusters`."""
    item: Json = {
        "CacheClusterId": cid, "CacheNodeType": "cache.t4g.small", "Engine": engine, "EngineVersion": "7.1.0",
        "CacheClusterStatus": "available", "NumCacheNodes": nodes, "PreferredAvailabilityZone": az,
        "CacheSubnetGroupName": "cache-subnets", "CacheSecurityGroups": [],
        "CacheNodes": [{"CacheNodeId": f"{n + 1:04d}", "CacheNodeStatus": "available",
                        "Endpoint": {"Address": f"{cid}.abc123.{n + 1:04d}.use1.cache.amazonaws.com", "Port": port},
                        "CustomerAvailabilityZone": az} for n in range(nodes)],
        "SecurityGroups": [{"SecurityGroupId": g, "Status": "active"} for g in groups],
        "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:{cid}",
    }
    if replication_group:
        item["ReplicationGroupId"] = replication_group
    return item


def replication_group(rid: str, members: Sequence[str], *, port: int = 6379) -> Json:
    """One item of elasticache describe-replication-groups `ReplicationGroups` (cluster mode disabled)."""
    return {
        "ReplicationGroupId": rid, "Description": rid, "Status": "available", "MemberClusters": list(members),
        "NodeGroups": [{
            "NodeGroupId": "0001", "Status": "available",
            "PrimaryEndpoint": {"Address": f"master.{rid}.abc123.use1.cache.amazonaws.com", "Port": port},
            "ReaderEndpoint": {"Address": f"replica.{rid}.abc123.use1.cache.amazonaws.com", "Port": port},
            "NodeGroupMembers": [{"CacheClusterId": m, "CacheNodeId": "0001",
                                  "CurrentRole": "primary" if n == 0 else "replica"}
                                 for n, m in enumerate(members)]}],
        "ClusterEnabled": False, "Engine": "redis",
        "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:{rid}",
    }


# -- ec2 describe-instances -----------------------------------------------------------------------
def instance(instance_id: str, name: str, nic: Json, *, state: str = "running") -> Json:
    """One reservation of describe-instances `Reservations` holding one instance with one interface."""
    nic = dict(nic)
    nic.setdefault("Attachment", {"AttachmentId": "eni-attach-0aa", "DeviceIndex": 0, "Status": "attached"})
    return {"ReservationId": f"r-{instance_id[2:]}", "OwnerId": ACCOUNT, "Groups": [], "Instances": [{
        "InstanceId": instance_id, "InstanceType": "t3.micro", "State": {"Code": 16, "Name": state},
        "SubnetId": nic.get("SubnetId"), "VpcId": nic.get("VpcId"), "PrivateIpAddress": nic.get("PrivateIpAddress"),
        "Placement": {"AvailabilityZone": nic.get("AvailabilityZone", "us-east-1a")},
        "SecurityGroups": [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in nic.get("Groups", [])],
        "Tags": [{"Key": "Name", "Value": name}], "NetworkInterfaces": [nic]}]}


# -- writing --------------------------------------------------------------------------------------
IGW = "igw-0a1b2c3d4e5f60001"
VPC_IPV6 = "2600:1f18:aaaa::/56"


def network() -> dict[str, list[Json]]:
    """One dual-stack VPC (10.0.0.0/16, 2600:1f18:aaaa::/56) as AWS creates it -- main route table, default
    network ACL (allow all) -- with an internet gateway route, and two subnets."""
    return {"Vpcs": [vpc(ipv6=[VPC_IPV6])],
            "Subnets": [subnet(SUBNET_A, SUBNET_A_CIDR, az="us-east-1a", ipv6=["2600:1f18:aaaa:1::/64"]),
                        subnet(SUBNET_B, SUBNET_B_CIDR, az="us-east-1b", ipv6=["2600:1f18:aaaa:2::/64"])],
            "RouteTables": [route_table("rtb-0a1b2c3d4e5f60001", local=[VPC_CIDR, VPC_IPV6],
                                        routes=[route("0.0.0.0/0", GatewayId=IGW), route("::/0", GatewayId=IGW)])],
            "NetworkAcls": [default_acl("acl-0a1b2c3d4e5f60001", subnets=[SUBNET_A, SUBNET_B])],
            "InternetGateways": [internet_gateway(IGW)]}


def estate(**keys: Sequence[Json] | Json) -> dict[str, Any]:
    """network() plus the given top-level keys (SecurityGroups=[...], NetworkInterfaces=[...], ...)."""
    docs: dict[str, Any] = dict(network())
    for key, value in keys.items():
        docs[key] = value if isinstance(value, dict) else list(value)
    return docs


def write_json(path: Path, document: Any) -> Path:
    """Write one JSON document the way the AWS CLI does (4-space indent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=4) + "\n")
    return path


def write_estate(folder: Path, docs: Mapping[str, Any]) -> Path:
    """One file per top-level key, named aws-output-NN.json (the key, not the name, decides)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, key in enumerate(sorted(docs)):
        write_json(folder / f"aws-output-{n:02d}.json", {key: docs[key]})
    return folder
