"""Name resolution and destination parsing (design.md "Query contract").

Order: an AWS id (sg-, eni-, i-), an IPv4/IPv6 address or CIDR, `internet`, an exact workload name, then a
unique case-insensitive substring; a name matching a parent and its own members resolves to the parent;
ambiguous or unknown names are input errors listing the candidates.
"""

from __future__ import annotations

import pytest

import reachgraph
from builders import (
    SUBNET_B, cache_cluster, cache_eni, ecs_service, ecs_task, eni, estate, instance, perm,
    replication_group, sg, task_eni, write_estate,
)
from reachgraph.resolve import PortSpec, split_destination

APP_SG, REDIS_SG, WEB_SG = "sg-0a00000000000a001", "sg-0a00000000000a002", "sg-0a00000000000a003"


@pytest.fixture(scope="module")
def snap(tmp_path_factory) -> reachgraph.Snapshot:
    """Services api, api-worker, cafe-api (with a task whose id contains 'cafe'), Redis `redis-main` with two
    member clusters, an EC2 instance `bastion` and one named `internet`, a web interface with IPv6."""
    tasks = [ecs_task("0123456789abcdef0123456789abcdef", "prod", "api", eni_id="eni-0000000000000a001",
                      ip="10.0.1.11"),
             ecs_task("fedcba98765432100123456789abcdef", "prod", "api-worker", eni_id="eni-0000000000000a002",
                      ip="10.0.1.12"),
             ecs_task("cafe0000111122223333444455556666", "prod", "cafe-api", eni_id="eni-0000000000000a003",
                      ip="10.0.1.13")]
    task_enis = [task_eni("eni-0000000000000a001", "10.0.1.11", [APP_SG]),
                 task_eni("eni-0000000000000a002", "10.0.1.12", [APP_SG]),
                 task_eni("eni-0000000000000a003", "10.0.1.13", [APP_SG])]
    bastion_nic = eni("eni-0000000000000b001", "10.0.1.50", [APP_SG], public_ip="54.1.2.3",
                      secondary=["10.0.1.51"], instance_id="i-0b0000000000000b1")
    odd_nic = eni("eni-0000000000000b002", "10.0.1.60", [APP_SG], instance_id="i-0b0000000000000b2")
    web = eni("eni-0000000000000c001", "10.0.2.80", [WEB_SG], subnet_id=SUBNET_B, ipv6=["2600:1f18:aaaa::80"])
    docs = estate(
        SecurityGroups=[sg(APP_SG, "app"),
                        sg(REDIS_SG, "redis-sg", ingress=[perm("tcp", 6379, 6379, groups=[APP_SG])]),
                        sg(WEB_SG, "web", ingress=[perm("tcp", 443, 443, cidrs=["10.0.1.0/24"])])],
        NetworkInterfaces=[*task_enis, web,
                           cache_eni("eni-0000000000000d001", "10.0.2.50", "redis-main-001", [REDIS_SG]),
                           cache_eni("eni-0000000000000d002", "10.0.2.51", "redis-main-002", [REDIS_SG])],
        Reservations=[instance("i-0b0000000000000b1", "bastion", bastion_nic),
                      instance("i-0b0000000000000b2", "internet", odd_nic)],
        services=[ecs_service("api", "prod", [APP_SG], container_port=8000),
                  ecs_service("api-worker", "prod", [APP_SG]), ecs_service("cafe-api", "prod", [APP_SG])],
        tasks=tasks,
        CacheClusters=[cache_cluster("redis-main-001", [REDIS_SG], replication_group="redis-main", port=6380),
                       cache_cluster("redis-main-002", [REDIS_SG], replication_group="redis-main", port=6380)],
        ReplicationGroups=[replication_group("redis-main", ["redis-main-001", "redis-main-002"], port=6380)])
    return reachgraph.load(write_estate(tmp_path_factory.mktemp("resolve"), docs))


def resolved(snap, text: str):
    return snap._engine.resolver.resolve(text)


# -- ids -----------------------------------------------------------------------------------------------
def test_security_group_id_resolves_to_its_members(snap):
    ep = resolved(snap, APP_SG)
    assert ep.kind == "security_group" and ep.id == APP_SG
    assert sorted(i.id for i in ep.interfaces) == ["eni-0000000000000a001", "eni-0000000000000a002",
                                                   "eni-0000000000000a003", "eni-0000000000000b001",
                                                   "eni-0000000000000b002"]


def test_interface_and_instance_ids(snap):
    ep = resolved(snap, "eni-0000000000000c001")
    assert (ep.kind, ep.id, [i.id for i in ep.interfaces]) == ("interface", "eni-0000000000000c001",
                                                               ["eni-0000000000000c001"])
    ep = resolved(snap, "i-0b0000000000000b1")
    assert ep.kind == "workload" and ep.workload.kind == "ec2_instance" and ep.workload.name == "bastion"
    assert [i.id for i in ep.interfaces] == ["eni-0000000000000b001"]


@pytest.mark.parametrize("text", ["sg-0ffffffffffffffff", "eni-0ffffffffffffffff", "i-0ffffffffffffffff"])
def test_unknown_ids_are_input_errors(snap, text):
    with pytest.raises(reachgraph.InputError) as exc:
        snap.query(text, "eni-0000000000000c001:443")
    assert text in str(exc.value)
    assert "\n" not in str(exc.value)


# -- addresses -----------------------------------------------------------------------------------------
def test_private_ip_of_an_interface_resolves_to_that_interface(snap):
    for ip, eid in (("10.0.2.80", "eni-0000000000000c001"), ("10.0.1.11", "eni-0000000000000a001"),
                    ("10.0.1.51", "eni-0000000000000b001")):   # a secondary private IP too
        ep = resolved(snap, ip)
        assert ep.kind == "interface" and ep.id == eid, (ip, ep)


def test_public_ip_is_not_the_interface(snap):
    """SG-6: public / Elastic IPs are not member addresses; 54.1.2.3 is the bastion's public IP."""
    ep = resolved(snap, "54.1.2.3")
    assert ep.kind == "address" and not ep.interfaces


def test_ipv6_address_of_an_interface_resolves_to_that_interface(tmp_path):
    """A dual-stack client (egress to 0.0.0.0/0 and ::/0) asks about web's IPv6 address; web admits 443 only from
    10.0.1.0/24 (SG-9: not from any IPv6 source), so the answer must come from web's ingress: blocked."""
    docs = estate(SecurityGroups=[sg(APP_SG, "app", egress=[perm("-1", cidrs=["0.0.0.0/0"], cidrs6=["::/0"])]),
                                  sg(WEB_SG, "web", ingress=[perm("tcp", 443, 443, cidrs=["10.0.1.0/24"])])],
                  NetworkInterfaces=[eni("eni-0000000000000b001", "10.0.1.50", [APP_SG], ipv6=["2600:1f18:aaaa::50"]),
                                     eni("eni-0000000000000c001", "10.0.2.80", [WEB_SG], subnet_id=SUBNET_B,
                                         ipv6=["2600:1f18:aaaa::80"])])
    s = reachgraph.load(write_estate(tmp_path, docs))
    r = s.query("eni-0000000000000b001", "[2600:1f18:aaaa::80]:443")
    assert r.destination.kind == "interface" and r.destination.interfaces == ("eni-0000000000000c001",), r.to_dict()
    assert r.verdict == "blocked", r.to_dict()


def test_secondary_ip_keeps_its_address(tmp_path):
    """The packet's source is the address the user named: a /32 rule for the secondary IP admits it."""
    docs = estate(SecurityGroups=[sg(APP_SG, "app"), sg(WEB_SG, "web", ingress=[perm("tcp", 22, 22,
                                                                                          cidrs=["10.0.1.51/32"])])],
                  NetworkInterfaces=[eni("eni-0000000000000b001", "10.0.1.50", [APP_SG], secondary=["10.0.1.51"]),
                                     eni("eni-0000000000000c001", "10.0.2.80", [WEB_SG], subnet_id=SUBNET_B)])
    s = reachgraph.load(write_estate(tmp_path, docs))
    assert s.query("10.0.1.50", "eni-0000000000000c001:22").verdict == "blocked"
    r = s.query("10.0.1.51", "eni-0000000000000c001:22")
    assert r.verdict == "reachable", r.to_dict()


def test_ipv6_address_inside_the_vpc_is_not_the_internet(tmp_path):
    """2600:1f18:aaaa:1::99 lies in the VPC's 2600:1f18:aaaa::/56 (subnet A's /64): the local route carries it."""
    docs = estate(SecurityGroups=[sg(WEB_SG, "web", ingress=[perm("tcp", 443, 443, cidrs6=["::/0"])])],
                  NetworkInterfaces=[eni("eni-0000000000000c001", "10.0.2.80", [WEB_SG], subnet_id=SUBNET_B,
                                         ipv6=["2600:1f18:aaaa:2::80"])])
    s = reachgraph.load(write_estate(tmp_path, docs))
    r = s.query("2600:1f18:aaaa:1::99", "eni-0000000000000c001:443")
    assert r.verdict == "reachable", [c.detail for p in r.pairs for c in p.checks]


def test_external_address_and_cidr(snap):
    ep = resolved(snap, "198.51.100.7")
    assert ep.kind == "address" and ep.address.text == "198.51.100.7" and not ep.interfaces
    ep = resolved(snap, "10.0.0.0/16")
    assert ep.kind == "address" and ep.address.text == "10.0.0.0/16"
    assert (ep.address.lo, ep.address.hi) == (167772160, 167837695)
    ep = resolved(snap, "2600:1f18:bbbb::/48")
    assert ep.kind == "address" and ep.address.version == 6


def test_internet_keyword_comes_before_workload_names(snap):
    """An EC2 instance is tagged Name=internet; the keyword still means the internet."""
    ep = resolved(snap, "internet")
    assert ep.kind == "internet" and ep.id == "internet"


# -- names ---------------------------------------------------------------------------------------------
def test_exact_name_wins_over_substring(snap):
    """`api` is exactly a service and also a substring of `api-worker` and `cafe-api`."""
    ep = resolved(snap, "api")
    assert ep.workload.kind == "ecs_service" and ep.workload.name == "api"
    assert ep.default_port == 8000
    ep = resolved(snap, "API")    # case-insensitive exact
    assert ep.workload.name == "api"


def test_unique_substring(snap):
    ep = resolved(snap, "worker")
    assert ep.workload.name == "api-worker" and [i.id for i in ep.interfaces] == ["eni-0000000000000a002"]
    ep = resolved(snap, "BAST")
    assert ep.workload.kind == "ec2_instance" and ep.workload.name == "bastion"


def test_parent_preferred_over_its_member_clusters(snap):
    """`redis` matches replication group redis-main and its clusters redis-main-001/-002: it means the group."""
    ep = resolved(snap, "redis")
    assert ep.workload.kind == "elasticache_replication_group" and ep.workload.name == "redis-main"
    assert sorted(i.id for i in ep.interfaces) == ["eni-0000000000000d001", "eni-0000000000000d002"]
    assert ep.default_port == 6380
    ep = resolved(snap, "redis-main-002")
    assert ep.workload.kind == "elasticache_cluster"


def test_service_preferred_over_its_own_tasks(snap):
    """`cafe` matches service cafe-api and its task cafe0000...: it means the service."""
    ep = resolved(snap, "cafe")
    assert ep.workload.kind == "ecs_service" and ep.workload.name == "cafe-api"


def test_ambiguous_name_lists_candidates_with_kinds(snap):
    """`pi` is a substring of three services and no exact name: an input error naming each with its kind."""
    with pytest.raises(reachgraph.InputError) as exc:
        snap.query("pi", "redis")
    msg = str(exc.value)
    assert "ambiguous" in msg
    for name in ("api (ECS service)", "api-worker (ECS service)", "cafe-api (ECS service)"):
        assert name in msg, msg
    assert "\n" not in msg


def test_unknown_name_lists_candidates(snap):
    with pytest.raises(reachgraph.InputError) as exc:
        snap.query("api", "redsi")
    msg = str(exc.value)
    assert "redsi" in msg and "redis-main" in msg, msg
    with pytest.raises(reachgraph.InputError) as exc:
        snap.query("zzzzqqqq", "redis")
    assert "zzzzqqqq" in str(exc.value) and "known workloads" in str(exc.value)


def test_same_service_name_in_two_clusters_is_ambiguous(tmp_path):
    docs = estate(SecurityGroups=[sg(APP_SG, "app")],
                  NetworkInterfaces=[task_eni("eni-0000000000000a001", "10.0.1.11", [APP_SG]),
                                     task_eni("eni-0000000000000a002", "10.0.1.12", [APP_SG])],
                  services=[ecs_service("api", "staging", [APP_SG]), ecs_service("api", "prod", [APP_SG])],
                  tasks=[ecs_task("0123456789abcdef0123456789abcdef", "staging", "api",
                                  eni_id="eni-0000000000000a001", ip="10.0.1.11"),
                         ecs_task("fedcba98765432100123456789abcdef", "prod", "api",
                                  eni_id="eni-0000000000000a002", ip="10.0.1.12")])
    s = reachgraph.load(write_estate(tmp_path, docs))
    assert sum(1 for w in s.model.workloads.values() if w.kind == "ecs_service") == 2
    with pytest.raises(reachgraph.InputError, match="ambiguous"):
        s.query("api", "10.0.2.9:443")


def test_port_defaults_from_destination_endpoint(snap):
    assert snap.query("api", "redis").port == 6380                     # replication group endpoint (EC-3)
    assert snap.query("api", "eni-0000000000000d001").port == 6380     # a node interface: its cluster's port
    assert snap.query("bastion", "api").port == 8000                   # the service's container port
    with pytest.raises(reachgraph.InputError, match="no port"):
        snap.query("api", "bastion")


# -- destination parsing -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, host, spec", [
    ("redis", "redis", PortSpec()),
    ("redis:6379", "redis", PortSpec(None, 6379)),
    ("redis:6379/udp", "redis", PortSpec("udp", 6379)),
    ("redis:6379/17", "redis", PortSpec("udp", 6379)),
    ("redis:443/TCP", "redis", PortSpec("tcp", 443)),
    ("redis/udp", "redis", PortSpec("udp")),
    ("web:icmp/8", "web", PortSpec("icmp", 8, None)),
    ("web:icmp/3:4", "web", PortSpec("icmp", 3, 4)),
    ("10.0.0.5:53/udp", "10.0.0.5", PortSpec("udp", 53)),
    ("10.0.0.0/16", "10.0.0.0/16", PortSpec()),
    ("10.0.0.0/16:443", "10.0.0.0/16", PortSpec(None, 443)),
    ("[2600:1f18::1]:443", "2600:1f18::1", PortSpec(None, 443)),
    ("[2600:1f18::1]", "2600:1f18::1", PortSpec()),
    ("2600:1f18::1", "2600:1f18::1", PortSpec()),
    ("2600:1f18::/56", "2600:1f18::/56", PortSpec()),
])
def test_split_destination(text, host, spec):
    assert split_destination(text) == (host, spec)


@pytest.mark.parametrize("text, words", [
    ("redis:http", ["port", "'http'"]),
    ("redis:70000", ["70000", "0-65535"]),
    ("redis:-1", ["-1"]),
    ("redis:6379/xyz", ["protocol", "'xyz'"]),
    ("redis:", ["nothing after ':'"]),
    ("[2600:1f18::1:443", ["unclosed"]),
    ("web:icmp/300", ["ICMP type", "300"]),
    ("", ["empty"]),
])
def test_bad_destinations_are_input_errors(text, words):
    with pytest.raises(reachgraph.InputError) as exc:
        split_destination(text)
    msg = str(exc.value)
    for w in words:
        assert w in msg, msg
    assert "\n" not in msg


def test_query_uses_parsed_protocol_and_port(snap):
    r = snap.query("api", "eni-0000000000000c001:icmp/3:4")
    assert (r.protocol, r.port, r.icmp_code) == ("icmp", 3, 4)
    r = snap.query("api", "[2600:1f18::1]:443")
    assert (r.protocol, r.port) == ("tcp", 443) and r.destination.kind == "address"
    r = snap.query("api", "10.0.2.0/24:443/udp")
    assert (r.protocol, r.port, r.destination.id) == ("udp", 443, "10.0.2.0/24")
    # Arguments override the text, as the CLI's --port/--protocol do.
    r = snap.query("api", "redis:6379/tcp", port=7000, protocol="udp")
    assert (r.protocol, r.port) == ("udp", 7000)
    with pytest.raises(reachgraph.InputError, match="unknown protocol"):
        snap.query("api", "redis", protocol="xyz")
    with pytest.raises(reachgraph.InputError, match="outside"):
        snap.query("api", "redis", port=70000)
