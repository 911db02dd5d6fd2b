"""More AWS-CLI-shaped builders for the network-path issue: network ACLs, route tables, peering estates, RDS, load
balancers, Lambda, ECS container instances and bridge-mode tasks, NAT gateways, serverless caches.

Like tests/builders.py (which this module extends and never changes), every function returns plain dicts in
exactly the shape `aws ... describe-* --output json` prints, and nothing here imports reachgraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from builders import ACCOUNT, REGION, VPC, eni

Json = dict[str, Any]

PROTOCOL_NUMBERS = {"all": "-1", "-1": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}


# -- ec2 describe-network-acls --------------------------------------------------------------------
def acl_entry(rule_number: int, action: str, *, egress: bool, protocol: str = "-1", cidr: str = "0.0.0.0/0",
              ports: tuple[int, int] | None = None, icmp: tuple[int, int] | None = None) -> Json:
    """One item of `NetworkAcls[].Entries`.

    protocol: tcp/udp/icmp/icmpv6/all or a number string (AWS always prints a number string or "-1");
    cidr: IPv4 goes to CidrBlock, IPv6 to Ipv6CidrBlock; ports: PortRange From/To; icmp: IcmpTypeCode (type, code).
    """
    e: Json = {"RuleNumber": rule_number, "Protocol": PROTOCOL_NUMBERS.get(protocol, protocol),
               "RuleAction": action, "Egress": egress}
    e["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
    if ports is not None:
        e["PortRange"] = {"From": ports[0], "To": ports[1]}
    if icmp is not None:
        e["IcmpTypeCode"] = {"Code": icmp[1], "Type": icmp[0]}
    return e


def allow_in(n: int, protocol: str = "-1", cidr: str = "0.0.0.0/0", **kw: Any) -> Json:
    """An inbound allow entry."""
    return acl_entry(n, "allow", egress=False, protocol=protocol, cidr=cidr, **kw)


def deny_in(n: int, protocol: str = "-1", cidr: str = "0.0.0.0/0", **kw: Any) -> Json:
    """An inbound deny entry."""
    return acl_entry(n, "deny", egress=False, protocol=protocol, cidr=cidr, **kw)


def allow_out(n: int, protocol: str = "-1", cidr: str = "0.0.0.0/0", **kw: Any) -> Json:
    """An outbound allow entry."""
    return acl_entry(n, "allow", egress=True, protocol=protocol, cidr=cidr, **kw)


def deny_out(n: int, protocol: str = "-1", cidr: str = "0.0.0.0/0", **kw: Any) -> Json:
    """An outbound deny entry."""
    return acl_entry(n, "deny", egress=True, protocol=protocol, cidr=cidr, **kw)


def star_entries(*, ipv6: bool = False) -> list[Json]:
    """The `*` entries AWS shows at the end of every ACL: 32767 deny (IPv4), 32768 deny (IPv6) both ways."""
    out = [deny_in(32767), deny_out(32767)]
    if ipv6:
        out += [deny_in(32768, cidr="::/0"), deny_out(32768, cidr="::/0")]
    return out


def network_acl(acl_id: str, entries: Sequence[Json], *, subnets: Sequence[str] = (), vpc_id: str = VPC,
                is_default: bool = False, star: bool = True, ipv6: bool = True) -> Json:
    """One item of describe-network-acls `NetworkAcls`; the `*` entries are appended unless star=False."""
    all_entries = list(entries) + (star_entries(ipv6=ipv6) if star else [])
    return {"Associations": [{"NetworkAclAssociationId": f"aclassoc-{acl_id[4:]}{n:x}", "NetworkAclId": acl_id,
                              "SubnetId": sid} for n, sid in enumerate(subnets)],
            "Entries": all_entries, "IsDefault": is_default, "NetworkAclId": acl_id, "Tags": [],
            "VpcId": vpc_id, "OwnerId": ACCOUNT}


def allow_all_acl(acl_id: str, *, subnets: Sequence[str] = (), vpc_id: str = VPC, is_default: bool = True) -> Json:
    """An ACL admitting everything both ways in both families (what the default ACL is)."""
    return network_acl(acl_id, [allow_in(100), allow_out(100), allow_in(101, cidr="::/0"),
                                allow_out(101, cidr="::/0")], subnets=subnets, vpc_id=vpc_id, is_default=is_default)


# -- ec2 describe-route-tables / describe-vpc-peering-connections ----------------------------------
def state_route(destination: str, state: str, **target: str) -> Json:
    """A route in a given state (`blackhole` when its target is gone)."""
    key = "DestinationIpv6CidrBlock" if ":" in destination else "DestinationCidrBlock"
    return {key: destination, **target, "Origin": "CreateRoute", "State": state}


# -- NAT gateway -------------------------------------------------------------------------------------
def nat_eni(eni_id: str, ip: str, nat_id: str, *, subnet_id: str, public_ip: str, vpc_id: str = VPC,
            az: str = "us-east-1a") -> Json:
    """The interface of a NAT gateway as describe-network-interfaces lists it."""
    item = eni(eni_id, ip, [], subnet_id=subnet_id, vpc_id=vpc_id, public_ip=public_ip, az=az,
               description=f"Interface for NAT Gateway {nat_id}", requester_id="AROAEXAMPLE:nat-gateway",
               interface_type="nat_gateway")
    item["SourceDestCheck"] = False
    return item


def nat_gateway(nat_id: str, eni_id: str, ip: str, public_ip: str, *, subnet_id: str, vpc_id: str = VPC) -> Json:
    """One item of describe-nat-gateways `NatGateways`."""
    return {"NatGatewayId": nat_id, "SubnetId": subnet_id, "VpcId": vpc_id, "State": "available",
            "ConnectivityType": "public", "CreateTime": "2025-01-01T00:00:00+00:00",
            "NatGatewayAddresses": [{"AllocationId": "eipalloc-0123456789abcdef0", "NetworkInterfaceId": eni_id,
                                     "PrivateIp": ip, "PublicIp": public_ip, "IsPrimary": True,
                                     "Status": "succeeded"}]}


# -- ec2 describe-instances (several interfaces) -------------------------------------------------
def instance_multi(instance_id: str, name: str, nics: Sequence[Json], *, state: str = "running",
                   public_ip: str | None = None) -> Json:
    """One reservation of describe-instances with one instance carrying several interfaces (device 0, 1, ...)."""
    out = []
    for n, nic in enumerate(nics):
        nic = dict(nic)
        nic["Attachment"] = {"AttachmentId": f"eni-attach-{instance_id[2:]}{n}", "DeviceIndex": n,
                             "Status": "attached", "DeleteOnTermination": n == 0}
        out.append(nic)
    first = out[0]
    groups = {g["GroupId"]: g["GroupName"] for nic in out for g in nic.get("Groups", [])}
    inst: Json = {
        "InstanceId": instance_id, "InstanceType": "t3.large", "ImageId": "ami-0123456789abcdef0",
        "State": {"Code": 16 if state == "running" else 80, "Name": state},
        "SubnetId": first.get("SubnetId"), "VpcId": first.get("VpcId"),
        "PrivateIpAddress": first.get("PrivateIpAddress"),
        "Placement": {"AvailabilityZone": first.get("AvailabilityZone", "us-east-1a"), "Tenancy": "default"},
        "SecurityGroups": [{"GroupId": g, "GroupName": n} for g, n in groups.items()],
        "Tags": [{"Key": "Name", "Value": name}], "NetworkInterfaces": out}
    if public_ip:
        inst["PublicIpAddress"] = public_ip
    return {"ReservationId": f"r-{instance_id[2:]}", "OwnerId": ACCOUNT, "Groups": [], "Instances": [inst]}


# -- ecs: EC2 launch type, bridge/host network mode (ECS-3) -------------------------------------
def _cluster_arn(cluster: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}"


def container_instance_arn(cluster: str, uuid: str) -> str:
    """arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/UUID."""
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/{cluster}/{uuid}"


def container_instance(cluster: str, uuid: str, ec2_instance_id: str) -> Json:
    """One item of ecs describe-container-instances `containerInstances`."""
    return {"containerInstanceArn": container_instance_arn(cluster, uuid), "ec2InstanceId": ec2_instance_id,
            "version": 3, "status": "ACTIVE", "agentConnected": True, "runningTasksCount": 1,
            "pendingTasksCount": 0, "capacityProviderName": "asg-provider",
            "versionInfo": {"agentVersion": "1.87.0", "dockerVersion": "DockerVersion: 20.10.25"},
            "attributes": [{"name": "ecs.availability-zone", "value": "us-east-1a"}], "registeredResources": []}


def ec2_service(name: str, cluster: str, *, running: int = 1, family: str | None = None) -> Json:
    """One item of ecs describe-services `services` for an EC2 launch type service in bridge/host mode
    (no awsvpcConfiguration: the tasks use the container instance's network)."""
    family = family or name
    return {"serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}", "serviceName": name,
            "clusterArn": _cluster_arn(cluster), "status": "ACTIVE", "desiredCount": running,
            "runningCount": running, "pendingCount": 0, "launchType": "EC2",
            "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:3",
            "loadBalancers": [], "serviceRegistries": [], "schedulingStrategy": "REPLICA"}


def bridge_task(task_id: str, cluster: str, service: str | None, ci_uuid: str, *, family: str | None = None,
                host_port: int = 32768, container_port: int = 8080, network_mode: str = "bridge") -> Json:
    """One item of ecs describe-tasks `tasks` for a bridge/host network mode task: no ENI attachment, a
    containerInstanceArn, and networkBindings on the container."""
    family = family or (service or "standalone")
    binding_port = container_port if network_mode == "host" else host_port
    return {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/{task_id}", "clusterArn": _cluster_arn(cluster),
        "containerInstanceArn": container_instance_arn(cluster, ci_uuid),
        "group": f"service:{service}" if service else f"family:{family}", "lastStatus": "RUNNING",
        "desiredStatus": "RUNNING", "launchType": "EC2", "attachments": [],
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:3",
        "containers": [{"name": family, "lastStatus": "RUNNING",
                        "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": container_port,
                                             "hostPort": binding_port, "protocol": "tcp"}]}]}


# -- rds ----------------------------------------------------------------------------------------------
def rds_eni(eni_id: str, ip: str, groups: Sequence[str], *, subnet_id: str, az: str = "us-east-1b",
            vpc_id: str = VPC) -> Json:
    """An RDS instance's requester-managed interface (no instance id anywhere: described RDSNetworkInterface)."""
    return eni(eni_id, ip, groups, subnet_id=subnet_id, vpc_id=vpc_id, az=az, description="RDSNetworkInterface",
               requester_id="amazon-rds")


def db_instance(identifier: str, groups: Sequence[str], subnets: Sequence[tuple[str, str]], *,
                engine: str = "postgres", port: int = 5432, az: str = "us-east-1b",
                cluster: str | None = None, vpc_id: str = VPC) -> Json:
    """One item of rds describe-db-instances `DBInstances`; subnets are (subnet id, AZ) pairs."""
    item: Json = {
        "DBInstanceIdentifier": identifier, "DBInstanceClass": "db.t4g.medium", "Engine": engine,
        "DBInstanceStatus": "available", "MasterUsername": "app",
        "Endpoint": {"Address": f"{identifier}.c0abcdefghij.{REGION}.rds.amazonaws.com", "Port": port,
                     "HostedZoneId": "Z2R2ITUGPM61AM"},
        "AvailabilityZone": az, "MultiAZ": False, "PubliclyAccessible": False,
        "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"} for g in groups],
        "DBSubnetGroup": {"DBSubnetGroupName": "db-subnets", "DBSubnetGroupDescription": "db subnets",
                          "VpcId": vpc_id, "SubnetGroupStatus": "Complete",
                          "Subnets": [{"SubnetIdentifier": sid, "SubnetAvailabilityZone": {"Name": zone},
                                       "SubnetOutpost": {}, "SubnetStatus": "Active"} for sid, zone in subnets]},
        "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{identifier}",
    }
    if cluster:
        item["DBClusterIdentifier"] = cluster
    return item


def db_cluster(identifier: str, groups: Sequence[str], members: Sequence[str], *, port: int = 5432,
               engine: str = "aurora-postgresql") -> Json:
    """One item of rds describe-db-clusters `DBClusters` (DBSubnetGroup is a name here, not an object)."""
    return {
        "DBClusterIdentifier": identifier, "Engine": engine, "Status": "available", "Port": port,
        "Endpoint": f"{identifier}.cluster-c0abcdefghij.{REGION}.rds.amazonaws.com",
        "ReaderEndpoint": f"{identifier}.cluster-ro-c0abcdefghij.{REGION}.rds.amazonaws.com",
        "DBSubnetGroup": "db-subnets", "MultiAZ": len(members) > 1,
        "DBClusterMembers": [{"DBInstanceIdentifier": m, "IsClusterWriter": n == 0, "PromotionTier": 1,
                              "DBClusterParameterGroupStatus": "in-sync"} for n, m in enumerate(members)],
        "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"} for g in groups],
        "DBClusterArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{identifier}",
    }


# -- elbv2 ----------------------------------------------------------------------------------------
def lb_arn(name: str, lb_id: str, kind: str = "application") -> str:
    """arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID (net/ for NLBs)."""
    short = "app" if kind == "application" else "net"
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/{short}/{name}/{lb_id}"


def load_balancer(name: str, lb_id: str, subnets: Sequence[tuple[str, str]], *, kind: str = "application",
                  groups: Sequence[str] | None = None, scheme: str = "internal", vpc_id: str = VPC) -> Json:
    """One item of elbv2 describe-load-balancers `LoadBalancers`; subnets are (subnet id, AZ) pairs.

    groups=None leaves `SecurityGroups` out, as AWS does for an NLB created without security groups."""
    item: Json = {
        "LoadBalancerArn": lb_arn(name, lb_id, kind),
        "DNSName": f"{name}-{lb_id[:10]}.elb.{REGION}.amazonaws.com" if kind == "network"
        else f"internal-{name}-1234567890.{REGION}.elb.amazonaws.com",
        "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K", "CreatedTime": "2025-01-01T00:00:00.000Z",
        "LoadBalancerName": name, "Scheme": scheme, "VpcId": vpc_id, "State": {"Code": "active"}, "Type": kind,
        "AvailabilityZones": [{"ZoneName": az, "SubnetId": sid, "LoadBalancerAddresses": []} for sid, az in subnets],
        "IpAddressType": "ipv4"}
    if groups is not None:
        item["SecurityGroups"] = list(groups)
    return item


def listener(lb_arn_value: str, port: int, protocol: str = "HTTPS", n: int = 0) -> Json:
    """One item of elbv2 describe-listeners `Listeners`."""
    return {"ListenerArn": lb_arn_value.replace(":loadbalancer/", ":listener/") + f"/{n:016x}",
            "LoadBalancerArn": lb_arn_value, "Port": port, "Protocol": protocol,
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:aws:elasticloadbalancing:"
                                f"{REGION}:{ACCOUNT}:targetgroup/tg/0123456789abcdef"}]}


def lb_eni(eni_id: str, ip: str, groups: Sequence[str], name: str, lb_id: str, *, subnet_id: str,
           kind: str = "application", az: str = "us-east-1a", public_ip: str | None = None) -> Json:
    """A load balancer node's interface: `ELB app/NAME/ID` (ALB) or `ELB net/NAME/ID` (NLB)."""
    short = "app" if kind == "application" else "net"
    return eni(eni_id, ip, groups, subnet_id=subnet_id, az=az, description=f"ELB {short}/{name}/{lb_id}",
               requester_id="amazon-elb", public_ip=public_ip,
               interface_type="interface" if kind == "application" else "network_load_balancer")


# -- lambda -------------------------------------------------------------------------------------------
def function(name: str, *, subnets: Sequence[str] = (), groups: Sequence[str] = (), vpc_id: str = VPC) -> Json:
    """One item of lambda list-functions `Functions` (VpcConfig empty when not attached to a VPC)."""
    item: Json = {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                  "Runtime": "python3.12", "Role": f"arn:aws:iam::{ACCOUNT}:role/{name}-role",
                  "Handler": "app.handler", "CodeSize": 1024, "Timeout": 30, "MemorySize": 256,
                  "LastModified": "2025-01-01T00:00:00.000+0000", "PackageType": "Zip",
                  "Architectures": ["arm64"]}
    item["VpcConfig"] = ({"SubnetIds": list(subnets), "SecurityGroupIds": list(groups), "VpcId": vpc_id,
                          "Ipv6AllowedForDualStack": False} if subnets else
                         {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": ""})
    return item


def lambda_eni(eni_id: str, ip: str, groups: Sequence[str], name: str, *, subnet_id: str,
               az: str = "us-east-1a") -> Json:
    """A Lambda hyperplane interface: InterfaceType `lambda`, `AWS Lambda VPC ENI-NAME-UUID`."""
    return eni(eni_id, ip, groups, subnet_id=subnet_id, az=az,
               description=f"AWS Lambda VPC ENI-{name}-0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
               requester_id=f"AROAEXAMPLE:{name}", interface_type="lambda")


# -- elasticache serverless (EC-4) --------------------------------------------------------------
def serverless_cache(name: str, groups: Sequence[str], subnets: Sequence[str], *, port: int = 6379,
                     engine: str = "valkey") -> Json:
    """One item of elasticache describe-serverless-caches `ServerlessCaches`."""
    return {"ServerlessCacheName": name, "Description": name, "CreateTime": "2025-01-01T00:00:00.000Z",
            "Status": "available", "Engine": engine, "MajorEngineVersion": "8", "FullEngineVersion": "8.0",
            "SecurityGroupIds": list(groups), "SubnetIds": list(subnets),
            "Endpoint": {"Address": f"{name}-abc123.serverless.use1.cache.amazonaws.com", "Port": port},
            "ReaderEndpoint": {"Address": f"{name}-abc123.serverless.use1.cache.amazonaws.com", "Port": port + 1},
            "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:serverlesscache:{name}"}
