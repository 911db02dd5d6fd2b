"""Reverse and fan-out queries (issue 4): `reachgraph query SRC '*'` (everything SRC reaches, with ports from the
destinations' endpoints and rules) and `reachgraph query '*' DST:PORT` (every workload, referenced group, CIDR and
the internet that reaches DST), as tables and JSON from the CLI, and as pandas DataFrames from the Python API --
on the bundled incident example and on a fixture where network ACLs decide some rows."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import reachgraph
from builders import (
    SUBNET_A, SUBNET_B, ecs_service, ecs_task, eni, estate, instance, perm, sg, subnet, task_eni, write_estate,
)
from conftest import EXAMPLE, run_cli
from path_builders import allow_all_acl, allow_in, allow_out, db_instance, deny_out, network_acl, rds_eni

COLUMNS = ["source", "source_kind", "destination", "destination_kind", "traffic", "verdict", "via"]
API_SVC, REDIS_RG, ALB = "hokusai-api-development", "hokusai-redis-development", "hokusai-alb-development"
NEW_SG, OLD_SG = "sg-0864e6f6aee2a5cf4", "sg-0e61190afc2502b10"


def cli(*args: str):
    """The CLI in-process (fast); conftest.run_cli exercises the installed script once."""
    from reachgraph.cli import app

    res = CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200", "REACHGRAPH_SNAPSHOT": ""})
    res.returncode = res.exit_code
    return res


def rows_of(frame) -> set[tuple[str, str, str, str]]:
    """(source, destination, traffic, verdict) of each DataFrame row."""
    return {(r.source, r.destination, r.traffic, r.verdict) for r in frame.itertuples()}


# -- the incident example ---------------------------------------------------------------------------------
def test_fanout_from_api_on_the_incident(before_snapshot, after_snapshot):
    """`SRC '*'` as a DataFrame: before the fix the API reaches the ALB but not Redis; after, Redis on 6379."""
    for snap in (before_snapshot, after_snapshot):
        df = snap.query("api", "*")
        assert list(df.columns) == COLUMNS
        assert df.equals(snap.reachable_from("api"))
        assert set(df["source"]) == {API_SVC} and set(df["source_kind"]) == {"ecs_service"}
        assert (ALB, "tcp/443") in set(zip(df["destination"], df["traffic"]))
        assert "blocked" not in set(df["verdict"])
    before = before_snapshot.query("api", "*")
    assert REDIS_RG not in set(before["destination"])
    after = after_snapshot.query("api", "*")
    redis = after[after["destination"] == REDIS_RG]
    assert list(redis["traffic"]) == ["tcp/6379"] and list(redis["verdict"]) == ["reachable"]
    assert list(redis["destination_kind"]) == ["elasticache_replication_group"]
    assert NEW_SG in redis["via"].iloc[0] and "sgr-0e240228a0c81c095" in redis["via"].iloc[0]


def test_fanout_to_redis_on_the_incident(before_snapshot, after_snapshot):
    """`'*' DST:PORT` as a DataFrame: before the fix nothing reaches Redis (the referenced old group has no
    members, so it is not a source); after, the API service and its group do."""
    before = before_snapshot.query("*", "redis:6379")
    assert list(before.columns) == COLUMNS and before.empty
    after = after_snapshot.query("*", "redis:6379")
    assert after.equals(after_snapshot.reachers_of("redis", port=6379))
    assert set(zip(after["source"], after["source_kind"])) == {(API_SVC, "ecs_service"), (NEW_SG, "security_group")}
    assert set(after["destination"]) == {REDIS_RG} and set(after["traffic"]) == {"tcp/6379"}
    assert OLD_SG not in set(after["source"])
    # the default port comes from the destination's endpoint when none is given
    assert after_snapshot.query("*", "redis").equals(after)


def test_fanout_cli_table_and_json_on_the_incident():
    """From the CLI: a table (verdict first) and `--json` ({query, rows}); exit 0 when anything is reachable,
    1 when nothing is."""
    before, after = str(EXAMPLE / "before"), str(EXAMPLE / "after")
    r = run_cli("query", "*", "redis:6379", "--snapshot", after)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "verdict" in lines[1] and "source" in lines[1] and "via" in lines[1], r.stdout
    assert any(line.startswith("reachable") and API_SVC in line and "tcp/6379" in line for line in lines), r.stdout
    r = cli("query", "*", "redis:6379", "--snapshot", before)
    assert r.returncode == 1 and "nothing" in r.stdout, r.stdout
    r = cli("query", "*", "redis:6379", "--snapshot", after, "--json")
    doc = json.loads(r.stdout)
    assert set(doc) == {"query", "rows"} and doc["rows"], doc
    assert all(set(row) == set(COLUMNS) for row in doc["rows"])
    assert {(row["source"], row["verdict"]) for row in doc["rows"]} == {(API_SVC, "reachable"), (NEW_SG, "reachable")}
    r = cli("query", "api", "*", "--snapshot", after, "--json")
    assert r.returncode == 0
    dests = {(row["destination"], row["traffic"]) for row in json.loads(r.stdout)["rows"]}
    assert (REDIS_RG, "tcp/6379") in dests and (ALB, "tcp/443") in dests
    r = cli("query", "api", "*", "--snapshot", before, "--json")
    assert (REDIS_RG, "tcp/6379") not in {(row["destination"], row["traffic"]) for row in json.loads(r.stdout)["rows"]}
    # deterministic output
    assert cli("query", "api", "*", "--snapshot", after).stdout == cli("query", "api", "*", "--snapshot", after).stdout


def test_fanout_both_sides_wildcard_is_a_usage_error():
    r = cli("query", "*", "*", "--snapshot", str(EXAMPLE / "after"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert "*" in r.stderr


# -- a fixture where ACLs and routes decide some rows ----------------------------------------------------
SUBNET_C, ACL_C = "subnet-0c0000000000000c1", "acl-0ccccccccccccccc1"
WEB_SG, API_SG, WORKER_SG, DB_SG = ("sg-0e0000000000e0001", "sg-0a0000000000a0001", "sg-0b0000000000b0001",
                                    "sg-0d0000000000d0001")


@pytest.fixture(scope="module")
def estate_snap(tmp_path_factory) -> tuple[reachgraph.Snapshot, str]:
    """web (EC2, public IP, igw route): 443 from 0.0.0.0/0, 22 from 10.0.1.0/24, 8080 from the api group;
    api (ECS, subnet A); worker (ECS, subnet C whose ACL denies everything to 10.0.1.0/24 at rule 50);
    orders-db (RDS, subnet B): 5432 from api and worker."""
    docs = estate(
        SecurityGroups=[
            sg(WEB_SG, "web", ingress=[perm("tcp", 443, 443, cidrs=["0.0.0.0/0"]),
                                       perm("tcp", 22, 22, cidrs=["10.0.1.0/24"]),
                                       perm("tcp", 8080, 8080, groups=[API_SG])]),
            sg(API_SG, "api"), sg(WORKER_SG, "worker"),
            sg(DB_SG, "orders-db", ingress=[perm("tcp", 5432, 5432, groups=[API_SG, WORKER_SG])])],
        NetworkInterfaces=[task_eni("eni-0a00000000000a001", "10.0.1.21", [API_SG]),
                           task_eni("eni-0b00000000000b001", "10.0.3.21", [WORKER_SG], subnet_id=SUBNET_C),
                           rds_eni("eni-0d00000000000d001", "10.0.2.70", [DB_SG], subnet_id=SUBNET_B)],
        Reservations=[instance("i-0e0000000000e0001", "web",
                               eni("eni-0e00000000000e001", "10.0.1.50", [WEB_SG], public_ip="54.210.0.50"))],
        services=[ecs_service("api", "prod", [API_SG]),
                  ecs_service("worker", "prod", [WORKER_SG], subnets=[SUBNET_C])],
        tasks=[ecs_task("11111111111111111111111111111111", "prod", "api", eni_id="eni-0a00000000000a001",
                        ip="10.0.1.21"),
               ecs_task("22222222222222222222222222222222", "prod", "worker", eni_id="eni-0b00000000000b001",
                        ip="10.0.3.21", subnet_id=SUBNET_C)],
        DBInstances=[db_instance("orders-db", [DB_SG], [(SUBNET_B, "us-east-1b")], port=5432)])
    docs["Subnets"].append(subnet(SUBNET_C, "10.0.3.0/24", az="us-east-1c"))
    docs["NetworkAcls"] = [allow_all_acl("acl-0a1b2c3d4e5f60001", subnets=[SUBNET_A, SUBNET_B]),
                           network_acl(ACL_C, [deny_out(50, "-1", "10.0.1.0/24"), allow_out(100), allow_in(100)],
                                       subnets=[SUBNET_C])]
    folder = write_estate(tmp_path_factory.mktemp("fanout"), docs)
    return reachgraph.load(folder), str(folder)


def test_fanout_from_a_source_lists_destinations_and_ports_from_rules(estate_snap):
    """`api '*'`: every destination with each port its endpoint or single-port rules name; blocked omitted."""
    snap, _ = estate_snap
    df = snap.query("api", "*")
    assert list(df.columns) == COLUMNS
    assert rows_of(df) == {("api", "web", "tcp/22", "reachable"), ("api", "web", "tcp/443", "reachable"),
                           ("api", "web", "tcp/8080", "reachable"), ("api", "orders-db", "tcp/5432", "reachable")}
    assert dict(zip(df["destination"], df["destination_kind"])) == {"web": "ec2_instance", "orders-db": "rds_instance"}
    via = dict(zip(df["traffic"], df["via"]))
    assert API_SG in via["tcp/8080"] and "10.0.1.0/24" in via["tcp/22"], via


def test_fanout_from_a_source_honours_network_acls(estate_snap):
    """NACL in fan-out: the worker's subnet ACL denies everything to 10.0.1.0/24, so web drops out of
    `worker '*'` entirely while the database (subnet B) stays."""
    snap, _ = estate_snap
    df = snap.reachable_from("worker")
    assert rows_of(df) == {("worker", "orders-db", "tcp/5432", "reachable")}
    # the single query agrees with the fan-out's omission
    r = snap.query("worker", "web:443")
    assert r.verdict == "blocked"
    assert {(b.code, b.component) for b in r.blockers} >= {("SUBNET_ACL_RESTRICTION", ACL_C)}


def test_fanout_to_a_destination_lists_workloads_groups_cidrs_and_the_internet(estate_snap):
    """`'*' web:443` and `'*' web:22`: workloads, the groups and CIDRs its rules name, and the internet."""
    snap, _ = estate_snap
    df = snap.query("*", "web:443")
    assert list(df.columns) == COLUMNS
    got = set(zip(df["source"], df["source_kind"], df["verdict"]))
    assert got == {("api", "ecs_service", "reachable"), ("orders-db", "rds_instance", "reachable"),
                   ("10.0.1.0/24", "address", "reachable"), (API_SG, "security_group", "reachable"),
                   ("internet", "internet", "reachable")}, got
    assert "worker" not in set(df["source"])          # its subnet ACL denies the way there
    assert set(df["traffic"]) == {"tcp/443"} and set(df["destination"]) == {"web"}

    df = snap.reachers_of("web", port=22)
    assert set(df["source"]) == {"api", "10.0.1.0/24", API_SG}, df.to_dict("records")
    assert snap.reachers_of("orders-db").pipe(lambda d: set(d["source"])) == {"api", "worker", API_SG, WORKER_SG}


def test_fanout_cli_on_the_fixture(estate_snap):
    """The same answers from the CLI, as a table and as JSON."""
    _, folder = estate_snap
    r = cli("query", "worker", "*", "--snapshot", folder)
    assert r.returncode == 0, r.stdout + r.stderr
    body = [line for line in r.stdout.splitlines()[2:] if line.strip()]
    assert len(body) == 1 and body[0].startswith("reachable") and "orders-db" in body[0] and "tcp/5432" in body[0]
    r = cli("query", "*", "web:22", "--snapshot", folder, "--json")
    assert r.returncode == 0
    rows = json.loads(r.stdout)["rows"]
    assert {(row["source"], row["source_kind"]) for row in rows} == \
        {("api", "ecs_service"), ("10.0.1.0/24", "address"), (API_SG, "security_group")}
    assert all(row["destination"] == "web" and row["traffic"] == "tcp/22" for row in rows)


# -- memory over a long session ---------------------------------------------------------------------------
def test_repeated_fanout_reuses_the_sides_it_evaluated(tmp_path):
    """A notebook asks `'*' DST` again and again: each workload's interfaces are evaluated once and shared by
    every later fan-out, query and flow matrix, not made again per call (on 100k interfaces each set of sides
    costs ~100 MB)."""
    from reachgraph import synth

    synth.generate("XS", 1, tmp_path / "xs")
    snap = reachgraph.load(tmp_path / "xs")
    names = sorted(w.name for w in snap.model.workloads.values() if not w.parent)[:3]
    engine = snap._engine

    def workload_sides() -> set[tuple]:
        return {key[1:] for key in engine._side_cache if key[1] == "workload"}

    first = [snap.reachers_of(name, port=443).to_json() for name in names]
    held, sides = engine._sides_held, workload_sides()
    assert held > 0 and len(sides) > len(names)
    assert [snap.reachers_of(name, port=443).to_json() for name in names] == first
    assert engine._sides_held == held, "a second fan-out made the sides again"
    snap.flows(include_blocked=True)
    assert workload_sides() == sides, "the flow matrix made its own sides of the same workloads"


def test_sides_cache_stays_within_its_bound(monkeypatch):
    """Ad hoc endpoints (groups, interfaces, addresses) each get sides; past the bound the cache starts over,
    and answers do not change."""
    from reachgraph.semantics import bounds

    snap = reachgraph.load(EXAMPLE / "before")
    fresh = [snap.query(s, "redis:6379").to_dict() for s in (NEW_SG, OLD_SG, "api", "10.0.1.23")]
    monkeypatch.setattr(bounds, "CACHE_LIMIT", 2)
    monkeypatch.setattr(bounds, "SIDES_PER_INTERFACE", 0)
    small = reachgraph.load(EXAMPLE / "before")
    largest = 0
    for _ in range(3):
        answers = [small.query(s, "redis:6379").to_dict() for s in (NEW_SG, OLD_SG, "api", "10.0.1.23")]
        assert answers == fresh
        largest = max(largest, *(len(sides) for _, sides in small._engine._side_cache.values()))
        assert small._engine._sides_held <= max(2, largest)
