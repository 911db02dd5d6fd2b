"""The workload types of issue 4, each loaded from its AWS JSON key, resolvable by name, with its endpoint port
as the default: EC2 instances (Name tag, i- id, all interfaces), ECS bridge/host tasks through their container
instances (ECS-3), RDS instances and clusters, load balancers (ALB and an NLB without security groups), Lambda
functions with a VpcConfig, and ElastiCache serverless caches (EC-4)."""

from __future__ import annotations


import pytest

import reachgraph
from answers import explain, keys
from builders import (
    ACCOUNT, REGION, SUBNET_A, SUBNET_B, eni, estate, instance, perm, sg, write_estate,
)
from path_builders import (
    bridge_task, container_instance, db_cluster, db_instance, ec2_service, function, instance_multi, lambda_eni,
    lb_arn, lb_eni, listener, load_balancer, rds_eni, serverless_cache,
)

CLIENT_SG, BASTION_SG, BASTION_DATA_SG = "sg-0c11e47000000c001", "sg-0ba5000000000b001", "sg-0ba5000000000b002"
HOST_SG, DB_SG, OTHER_DB_SG, BILLING_SG = ("sg-0ec2000000000c001", "sg-0db0000000000d001", "sg-0db0000000000d002",
                                           "sg-0db0000000000d003")
ALB_SG, FN_SG, CACHE_SG = "sg-0a1b000000000a001", "sg-0f00000000000f001", "sg-0ca0000000000ca01"
CLIENT = "eni-0c11e470000000c01"
BASTION_ID, BASTION0, BASTION1 = "i-0ba5000000000b001", "eni-0ba50000000000b01", "eni-0ba50000000000b02"
HOST_ID, HOST_ENI, HOST2_ID, HOST2_ENI = ("i-0ec2000000000c001", "eni-0ec20000000000c01", "i-0ec2000000000c002",
                                          "eni-0ec20000000000c02")
ORDERS_ENI, OTHER_DB_ENI, BILLING1_ENI, BILLING2_ENI = ("eni-0db00000000000d01", "eni-0db00000000000d02",
                                                        "eni-0db00000000000d03", "eni-0db00000000000d04")
ALB_ID, NLB_ID = "50dc6c495c0c9188", "73e4b2c1d0f9e8a7"
ALB_ENIS, NLB_ENIS = ("eni-0a1b00000000a0001", "eni-0a1b00000000a0002"), ("eni-0a1b00000000b0001",)
FN_ENI = "eni-0f000000000000f01"
CI_1, CI_2 = "5f1e0f5a2b3c4d5e6f708192a3b4c5d6", "6a2f1e0b3c4d5e6f708192a3b4c5d6e7"


def task_definition(family: str, network_mode: str, container_port: int, host_port: int) -> dict:
    """ecs describe-task-definition `taskDefinition`."""
    return {"taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:3", "family": family,
            "revision": 3, "networkMode": network_mode, "status": "ACTIVE", "requiresCompatibilities": ["EC2"],
            "containerDefinitions": [{"name": family, "image": f"{family}:latest", "memory": 512, "essential": True,
                                      "portMappings": [{"containerPort": container_port, "hostPort": host_port,
                                                        "protocol": "tcp"}]}]}


def workload_docs() -> dict:
    """One VPC (default allow-all ACL, main route table), CLIENT in subnet A, and one of each workload type."""
    groups = [
        sg(CLIENT_SG, "client"),
        sg(BASTION_SG, "bastion", ingress=[perm("tcp", 22, 22, cidrs=["10.0.1.0/24"])]),
        sg(BASTION_DATA_SG, "bastion-data"),
        sg(HOST_SG, "ecs-hosts", ingress=[perm("tcp", 80, 80, groups=[CLIENT_SG]),
                                          perm("tcp", 9000, 9000, groups=[CLIENT_SG])]),
        sg(DB_SG, "orders-db", ingress=[perm("tcp", 5432, 5432, groups=[CLIENT_SG])]),
        sg(OTHER_DB_SG, "other-db"),
        sg(BILLING_SG, "billing-db", ingress=[perm("tcp", 3306, 3306, cidrs=["10.0.1.0/24"])]),
        sg(ALB_SG, "alb", ingress=[perm("tcp", 8443, 8443, cidrs=["10.0.0.0/16"])]),
        sg(FN_SG, "fn"),
        sg(CACHE_SG, "sessions", ingress=[perm("tcp", 6379, 6379, groups=[CLIENT_SG])]),
    ]
    enis = [
        eni(CLIENT, "10.0.1.10", [CLIENT_SG], subnet_id=SUBNET_A),
        rds_eni(ORDERS_ENI, "10.0.2.70", [DB_SG], subnet_id=SUBNET_B),
        rds_eni(OTHER_DB_ENI, "10.0.2.71", [OTHER_DB_SG], subnet_id=SUBNET_B),       # another database's
        rds_eni(BILLING1_ENI, "10.0.1.72", [BILLING_SG], subnet_id=SUBNET_A, az="us-east-1a"),
        rds_eni(BILLING2_ENI, "10.0.2.72", [BILLING_SG], subnet_id=SUBNET_B),
        lb_eni(ALB_ENIS[0], "10.0.1.80", [ALB_SG], "web-alb", ALB_ID, subnet_id=SUBNET_A),
        lb_eni(ALB_ENIS[1], "10.0.2.80", [ALB_SG], "web-alb", ALB_ID, subnet_id=SUBNET_B, az="us-east-1b"),
        lb_eni(NLB_ENIS[0], "10.0.2.81", [], "tcp-nlb", NLB_ID, subnet_id=SUBNET_B, kind="network", az="us-east-1b"),
        lambda_eni(FN_ENI, "10.0.1.90", [FN_SG], "thumbnailer", subnet_id=SUBNET_A),
    ]
    alb, nlb = lb_arn("web-alb", ALB_ID), lb_arn("tcp-nlb", NLB_ID, "network")
    both = [(SUBNET_A, "us-east-1a"), (SUBNET_B, "us-east-1b")]
    return estate(
        SecurityGroups=groups, NetworkInterfaces=enis,
        Reservations=[
            # the bastion's interfaces are only in describe-instances (a partial dump)
            instance_multi(BASTION_ID, "bastion-host", [
                eni(BASTION0, "10.0.1.50", [BASTION_SG], subnet_id=SUBNET_A),
                eni(BASTION1, "10.0.2.50", [BASTION_DATA_SG], subnet_id=SUBNET_B, az="us-east-1b")]),
            instance(HOST_ID, "ecs-host-1", eni(HOST_ENI, "10.0.2.60", [HOST_SG], subnet_id=SUBNET_B)),
            instance(HOST2_ID, "ecs-host-2", eni(HOST2_ENI, "10.0.1.61", [HOST_SG], subnet_id=SUBNET_A))],
        containerInstances=[container_instance("legacy", CI_1, HOST_ID), container_instance("legacy", CI_2, HOST2_ID)],
        services=[ec2_service("legacy-web", "legacy", running=2), ec2_service("metrics-agent", "legacy")],
        tasks=[bridge_task("9a8b7c6d5e4f30211203948576afbecd", "legacy", "legacy-web", CI_1, host_port=80,
                           container_port=8080),
               bridge_task("0b1c2d3e4f5061728394a5b6c7d8e9f0", "legacy", "legacy-web", CI_2, host_port=80,
                           container_port=8080),
               bridge_task("1c2d3e4f5061728394a5b6c7d8e9f0a1", "legacy", "metrics-agent", CI_1, network_mode="host",
                           container_port=9000)],
        taskDefinitions=[task_definition("legacy-web", "bridge", 8080, 80),
                         task_definition("metrics-agent", "host", 9000, 9000)],
        DBInstances=[db_instance("orders-db", [DB_SG], both, port=5432, az="us-east-1b"),
                     db_instance("billing-1", [BILLING_SG], both, engine="aurora-mysql", port=3306, az="us-east-1a",
                                 cluster="billing"),
                     db_instance("billing-2", [BILLING_SG], both, engine="aurora-mysql", port=3306, az="us-east-1b",
                                 cluster="billing")],
        DBClusters=[db_cluster("billing", [BILLING_SG], ["billing-1", "billing-2"], port=3306,
                               engine="aurora-mysql")],
        LoadBalancers=[load_balancer("web-alb", ALB_ID, both, groups=[ALB_SG]),
                       load_balancer("tcp-nlb", NLB_ID, [(SUBNET_B, "us-east-1b")], kind="network")],
        Listeners=[listener(alb, 8443), listener(nlb, 5000, "TCP")],
        Functions=[function("thumbnailer", subnets=[SUBNET_A], groups=[FN_SG]), function("nightly-cron")],
        ServerlessCaches=[serverless_cache("sessions", [CACHE_SG], [SUBNET_A, SUBNET_B], port=6379)])


@pytest.fixture(scope="module")
def snap(tmp_path_factory) -> reachgraph.Snapshot:
    return reachgraph.load(write_estate(tmp_path_factory.mktemp("workloads"), workload_docs()))






def resolve(snap, name: str):
    return snap._engine.resolver.resolve(name)


# -- names and default ports ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, kind, resolved, port, interfaces", [
    ("bastion-host", "ec2_instance", "bastion-host", None, {BASTION0, BASTION1}),
    (BASTION_ID, "ec2_instance", "bastion-host", None, {BASTION0, BASTION1}),
    ("orders-db", "rds_instance", "orders-db", 5432, {ORDERS_ENI}),
    ("billing", "rds_cluster", "billing", 3306, {BILLING1_ENI, BILLING2_ENI}),
    ("bill", "rds_cluster", "billing", 3306, {BILLING1_ENI, BILLING2_ENI}),       # members resolve to the parent
    ("billing-2", "rds_instance", "billing-2", 3306, {BILLING2_ENI}),
    ("web-alb", "load_balancer", "web-alb", 8443, set(ALB_ENIS)),
    ("tcp-nlb", "load_balancer", "tcp-nlb", 5000, set(NLB_ENIS)),
    ("thumbnailer", "lambda", "thumbnailer", None, {FN_ENI}),
    ("sessions", "elasticache_serverless", "sessions", 6379, None),
    ("metrics-agent", "ecs_service", "metrics-agent", 9000, {HOST_ENI}),
])
def test_each_workload_resolves_by_name_with_its_endpoint_port(snap, name, kind, resolved, port, interfaces):
    """design.md query contract: an exact or unique-substring workload name resolves, to the parent when it matches
    a parent and its own members, with the endpoint port from the data as the default."""
    ep = resolve(snap, name)
    assert ep.kind == "workload" and ep.workload is not None
    assert (ep.workload.kind, ep.workload.name, ep.default_port) == (kind, resolved, port)
    if interfaces is not None:
        assert {i.id for i in ep.interfaces} == interfaces
    else:
        assert len(ep.interfaces) == 2   # serverless: one endpoint interface per subnet (EC-4)


def test_lambda_without_vpc_config_is_not_a_network_endpoint(snap):
    """A function without VpcConfig subnets is not attached to a VPC: not part of the network graph."""
    with pytest.raises(reachgraph.InputError):
        resolve(snap, "nightly-cron")
    with pytest.raises(reachgraph.InputError) as exc:
        snap.query(CLIENT, "thumbnailer")               # a function has no endpoint port
    assert "port" in str(exc.value)


# -- EC2 instances --------------------------------------------------------------------------------------
def test_ec2_instance_by_name_tag_and_id_uses_all_its_interfaces(snap):
    """EC2 instance (issue 4): named by its Name tag or i- id, an instance stands for all its interfaces, taken
    from describe-instances when describe-network-interfaces lacks them; one interface's group admitting ssh
    and the other's not makes the answer partial, naming the blocked interface."""
    for name in ("bastion-host", BASTION_ID):
        r = snap.query(CLIENT, f"{name}:22")
        assert r.verdict == "partial", explain(r)
        assert {(p.destination, p.verdict) for p in r.pairs} == {(BASTION0, "reachable"), (BASTION1, "blocked")}
        assert keys(r) == {("SG_HAS_NO_RULES", "ingress", BASTION_DATA_SG)}, explain(r)
    # as a source: both interfaces send
    r = snap.query("bastion-host", "orders-db")
    assert {p.source for p in r.pairs} == {BASTION0, BASTION1}, explain(r)
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", DB_SG)}, explain(r)


# -- ECS bridge / host mode -----------------------------------------------------------------------------
def test_ecs_3_bridge_and_host_tasks_use_the_container_instances_interfaces(snap):
    """ECS-3 "bridge and host network mode tasks use the container instance's (EC2 instance's) interfaces and
    groups." The service's two bridge tasks run on two container instances; describe-container-instances maps
    them to EC2 instances whose interfaces and groups decide."""
    ep = resolve(snap, "legacy-web")
    assert {i.id for i in ep.interfaces} == {HOST_ENI, HOST2_ENI}
    r = snap.query(CLIENT, "legacy-web:80")
    assert r.verdict == "reachable", explain(r)
    assert {p.destination for p in r.pairs} == {HOST_ENI, HOST2_ENI}
    assert {a.component for a in r.allowed_by if a.direction == "ingress" and a.component.startswith("sg-")} == \
        {HOST_SG}
    r = snap.query(CLIENT, "legacy-web:8081")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", HOST_SG)}, explain(r)
    # host mode: the container port is the host's port
    r = snap.query(CLIENT, "metrics-agent")
    assert (r.verdict, r.port) == ("reachable", 9000), explain(r)
    assert {p.destination for p in r.pairs} == {HOST_ENI}
    # as a source, a bridge task sends from its host's interface
    r = snap.query("metrics-agent", "orders-db")
    assert {p.source for p in r.pairs} == {HOST_ENI}


def test_ecs_3_bridge_service_default_port_is_the_host_port(snap):
    """ECS-3 + query contract: with bridge networking the container instance's interface carries the mapped
    hostPort (portMappings 8080 -> 80), so that is the endpoint port a query defaults to."""
    r = snap.query(CLIENT, "legacy-web")
    assert (r.port, r.verdict) == (80, "reachable"), explain(r)


def test_ecs_3_task_on_a_missing_container_instance_is_unknown(tmp_path):
    """ECS-3 in a partial dump: a bridge task whose container instance is not in the snapshot has no known
    interface -- the answer is unknown, never blocked."""
    docs = workload_docs()
    docs["containerInstances"] = docs["containerInstances"][:1]
    docs["tasks"] = [t for t in docs["tasks"] if CI_2 in t["containerInstanceArn"]]
    del docs["Reservations"][2]
    snap = reachgraph.load(write_estate(tmp_path / "snap", docs))
    r = snap.query(CLIENT, "legacy-web:80")
    assert r.verdict == "unknown" and not r.blockers, explain(r)
    assert any("container instance" in x for x in r.unknown_reasons + r.warnings), (r.unknown_reasons, r.warnings)


# -- RDS ------------------------------------------------------------------------------------------------
def test_rds_instance_interface_matched_by_groups_and_subnet(snap):
    """RDS instance: its interface is the `RDSNetworkInterface` in its subnet group carrying its VPC security
    groups (another database's interface in the same subnet is not it); port from Endpoint.Port."""
    r = snap.query(CLIENT, "orders-db")
    assert (r.verdict, r.port, r.protocol) == ("reachable", 5432, "tcp"), explain(r)
    assert [p.destination for p in r.pairs] == [ORDERS_ENI]
    r = snap.query("thumbnailer", "orders-db")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", DB_SG)}, explain(r)
    assert any(f"--group-id {DB_SG}" in f and f"--source-group {FN_SG}" in f and "5432" in f for f in r.fixes), \
        r.fixes


def test_rds_cluster_port_and_members(snap):
    """RDS cluster: the cluster's Port is the default, and its members' interfaces (matched per member by
    groups and the subnet of its AZ) are the destinations."""
    r = snap.query(CLIENT, "billing")
    assert (r.verdict, r.port) == ("reachable", 3306), explain(r)
    assert {p.destination for p in r.pairs} == {BILLING1_ENI, BILLING2_ENI}
    r = snap.query("bastion-host", "billing")
    # the billing group admits 10.0.1.0/24: the bastion's eth0 (10.0.1.50) gets in, eth1 (10.0.2.50) does not
    assert r.verdict == "partial", explain(r)
    assert {(p.source, p.verdict) for p in r.pairs} == {(BASTION0, "reachable"), (BASTION1, "blocked")}


def test_rds_instance_without_its_interface_is_inferred_from_groups_and_subnets(tmp_path):
    """RDS (no interface ids in the API): without a matching RDSNetworkInterface the instance still resolves,
    with its VPC security groups and an address somewhere in its subnet -- group rules still decide."""
    docs = workload_docs()
    docs["NetworkInterfaces"] = [e for e in docs["NetworkInterfaces"] if e["NetworkInterfaceId"] != ORDERS_ENI]
    snap = reachgraph.load(write_estate(tmp_path / "snap", docs))
    r = snap.query(CLIENT, "orders-db")
    assert (r.verdict, r.port) == ("reachable", 5432), explain(r)
    r = snap.query("thumbnailer", "orders-db")
    assert r.verdict == "blocked" and ("ENI_SG_RULES_MISMATCH", "ingress", DB_SG) in keys(r), explain(r)


# -- load balancers --------------------------------------------------------------------------------------
def test_load_balancer_interfaces_and_listener_port(snap):
    """Load balancer: interfaces described `ELB app/NAME/ID`; default port from its listener (8443 here)."""
    r = snap.query(CLIENT, "web-alb")
    assert (r.verdict, r.port) == ("reachable", 8443), explain(r)
    assert {p.destination for p in r.pairs} == set(ALB_ENIS)
    r = snap.query(CLIENT, "web-alb:443")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", ALB_SG)}, explain(r)


def test_nlb_without_security_groups_is_not_filtered_by_groups(snap):
    """An NLB created without security groups (no `SecurityGroups` key, interfaces with no groups) is not
    filtered by security groups: any port the path allows gets through, and the answer says why."""
    r = snap.query(CLIENT, "tcp-nlb")
    assert (r.verdict, r.port) == ("reachable", 5000), explain(r)
    assert [p.destination for p in r.pairs] == list(NLB_ENIS)
    ingress = [c for p in r.pairs for c in p.checks if c.kind == "security_group" and c.direction == "ingress"]
    assert ingress and all(c.status == "allow" and "no security groups" in c.detail for c in ingress), explain(r)
    assert snap.query(CLIENT, "tcp-nlb:5001").verdict == "reachable"


# -- Lambda ---------------------------------------------------------------------------------------------
def test_lambda_function_sends_from_its_hyperplane_interface(snap):
    """Lambda with VpcConfig: its interfaces are InterfaceType `lambda` in its subnets with its groups."""
    r = snap.query("thumbnailer", "sessions")
    assert {p.source for p in r.pairs} == {FN_ENI}
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", CACHE_SG)}, explain(r)
    assert snap.query("thumbnailer", "web-alb").verdict == "reachable"


# -- ElastiCache serverless -------------------------------------------------------------------------------
def test_ec_4_serverless_cache_endpoints_in_its_subnets_and_groups(snap):
    """EC-4 "Serverless caches expose VPC-endpoint interfaces in the subnets and groups given at creation." """
    r = snap.query(CLIENT, "sessions")
    assert (r.verdict, r.port) == ("reachable", 6379), explain(r)
    assert len(r.pairs) == 2
    subnets = {snap.model.interfaces[p.destination].subnet_id for p in r.pairs}
    assert subnets == {SUBNET_A, SUBNET_B}
    assert all(snap.model.interfaces[p.destination].group_ids == (CACHE_SG,) for p in r.pairs)
    r = snap.query("bastion-host", "sessions")
    assert r.verdict == "blocked" and keys(r) == {("ENI_SG_RULES_MISMATCH", "ingress", CACHE_SG)}, explain(r)
