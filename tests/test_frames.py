"""The notebook API (issue 7): DataFrame views with fixed columns and dtypes, ports as numbers, one row per rule
and peer; QueryResult's HTML (verdict first), terminal text and repr; `reachgraph.collect(...)` -> Snapshot."""

from __future__ import annotations

from collections.abc import Sequence

import re
import sys
from pathlib import Path

import pandas as pd
import pytest

import reachgraph
from reachgraph import frames
from builders import eni, estate, perm, sg, write_estate
from conftest import EXAMPLE, run_cli

OLD_SG, NEW_SG, REDIS_SG, ALB_SG = ("sg-0e61190afc2502b10", "sg-0864e6f6aee2a5cf4", "sg-0454e74e2924a7754",
                                    "sg-0c85c87668427d358")
FIX = (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol tcp --port 6379 "
       f"--source-group {NEW_SG}")


@pytest.fixture(scope="module")
def before() -> reachgraph.Snapshot:
    return reachgraph.load(EXAMPLE / "before")


@pytest.fixture(scope="module")
def after() -> reachgraph.Snapshot:
    return reachgraph.load(EXAMPLE / "after")


def _dtype_kind(dtype: object) -> str:
    """The dtype names the frames module promises, from a real dtype."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "severity"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    return str(dtype)


def assert_schema(df: pd.DataFrame, columns: dict[str, str]) -> None:
    """Exactly the documented columns, in order, with the documented dtypes."""
    assert list(df.columns) == list(columns)
    assert {c: _dtype_kind(df[c].dtype) for c in df.columns} == columns
    assert list(df.index) == list(range(len(df)))


# -- security groups ----------------------------------------------------------------------------------------
def test_security_groups_one_row_per_group(before) -> None:
    df = before.security_groups()
    assert_schema(df, frames.SECURITY_GROUP_COLUMNS)
    assert len(df) == len(before.model.groups) == 5
    assert list(df["id"]) == sorted(df["id"])
    row = df.set_index("id").loc[OLD_SG]
    assert row["name"] == "hokusai-ecs-tasks" and row["members"] == 0 and row["workloads"] == ()
    assert row["referenced_by"] == (REDIS_SG,)          # the stale rule that caused the incident
    redis = df.set_index("id").loc[REDIS_SG]
    assert redis["members"] == 2 and redis["workloads"] == ("hokusai-redis-development",)
    assert (redis["ingress_rules"], redis["egress_rules"]) == (1, 1)
    assert df.set_index("id").loc[ALB_SG, "referenced_by"] == (NEW_SG, OLD_SG)
    assert df[df["is_default"]]["name"].tolist() == ["default"]
    assert set(df["vpc"]) == {"vpc-0a1b2c3d4e5f67890"} and set(df["region"]) == {"us-east-1"}


# -- rules ----------------------------------------------------------------------------------------------------
def test_rules_ports_are_numbers_and_the_stale_peer_is_visible(before) -> None:
    df = before.rules()
    assert_schema(df, frames.RULE_COLUMNS)
    assert len(df) == sum(len(g.ingress) + len(g.egress) for g in before.model.groups.values()) == 11
    redis_in = df[(df["group"] == REDIS_SG) & (df["direction"] == "ingress")]
    assert len(redis_in) == 1
    r = redis_in.iloc[0]
    assert r["from_port"] == 6379 and r["to_port"] == 6379
    assert isinstance(r["from_port"], (int, pd.Int64Dtype().type)) and not isinstance(r["from_port"], str)
    assert (r["peer_kind"], r["peer"], r["peer_name"], r["peer_members"]) == ("group", OLD_SG, "hokusai-ecs-tasks", 0)
    assert (r["rule_id"], r["ports"]) == ("sgr-0ad4ecb2301981ed9", "tcp/6379")
    # all-traffic rules have no ports: <NA>, not 0 or -1 or ""
    everything = df[df["protocol"] == "-1"]
    assert len(everything) == 6 and everything["from_port"].isna().all() and everything["to_port"].isna().all()
    assert set(everything["ports"]) == {"all traffic"}
    # numeric comparisons work without conversion
    assert set(df[df["from_port"] >= 1024]["rule_id"]) == {"sgr-0ad4ecb2301981ed9", "sgr-033acc733eb1aaf50",
                                                            "sgr-02547b7af4811eb8c"}


def test_rules_one_row_per_peer_ranges_icmp_and_prefix_lists(tmp_path: Path) -> None:
    """A permission naming several peers becomes one row per peer; ranges, ICMP type/code and prefix lists keep
    their numbers."""
    groups = [
        sg("sg-0aaaaaaaaaaaaaaa1", "web", ingress=[
            perm("tcp", 8000, 8100, cidrs=["10.0.0.0/8", "192.168.0.0/16"], groups=["sg-0bbbbbbbbbbbbbbb2"]),
            perm("icmp", 8, -1, cidrs=["10.0.0.0/8"]),
            perm("udp", 53, 53, prefix_lists=["pl-0123456789abcdef0"]),
            perm("tcp", 443, 443, cidrs6=["::/0"]),
        ]),
        sg("sg-0bbbbbbbbbbbbbbb2", "client"),
    ]
    snap = reachgraph.load(write_estate(tmp_path / "snap", estate(
        SecurityGroups=groups, NetworkInterfaces=[eni("eni-0aaaaaaaaaaaaaaa1", "10.0.1.10", ["sg-0aaaaaaaaaaaaaaa1"])])))
    df = snap.rules()
    assert_schema(df, frames.RULE_COLUMNS)
    web_in = df[(df["group"] == "sg-0aaaaaaaaaaaaaaa1") & (df["direction"] == "ingress")]
    assert len(web_in) == 6
    ranged = web_in[web_in["from_port"] == 8000]
    assert sorted(ranged["peer"]) == ["10.0.0.0/8", "192.168.0.0/16", "sg-0bbbbbbbbbbbbbbb2"]
    assert set(ranged["to_port"]) == {8100} and set(ranged["ports"]) == {"tcp/8000-8100"}
    assert sorted(ranged["peer_kind"]) == ["cidr4", "cidr4", "group"]
    client = ranged[ranged["peer_kind"] == "group"].iloc[0]
    assert client["peer_name"] == "client" and client["peer_members"] == 0
    assert ranged[ranged["peer_kind"] == "cidr4"]["peer_members"].isna().all()
    icmp = web_in[web_in["protocol"] == "icmp"].iloc[0]
    assert (icmp["from_port"], icmp["to_port"], icmp["ports"]) == (8, -1, "icmp/8")
    dns = web_in[web_in["protocol"] == "udp"].iloc[0]
    assert (dns["peer_kind"], dns["peer"], dns["from_port"]) == ("prefix_list", "pl-0123456789abcdef0", 53)
    v6 = web_in[web_in["peer_kind"] == "cidr6"].iloc[0]
    assert (v6["peer"], v6["from_port"]) == ("::/0", 443)
    groups_df = snap.security_groups().set_index("id")
    assert groups_df.loc["sg-0aaaaaaaaaaaaaaa1", "ingress_rules"] == 6
    assert groups_df.loc["sg-0bbbbbbbbbbbbbbb2", "referenced_by"] == ("sg-0aaaaaaaaaaaaaaa1",)


# -- interfaces and workloads ----------------------------------------------------------------------------------
def test_interfaces(before) -> None:
    df = before.interfaces()
    assert_schema(df, frames.INTERFACE_COLUMNS)
    assert len(df) == 7 and list(df["id"]) == sorted(df["id"])
    api = df[df["workloads"] == ("hokusai-api-development",)]
    assert sorted(api["private_ip"]) == ["10.0.1.23", "10.0.3.141"]
    assert set(api["groups"]) == {(NEW_SG,)} and api["public_ip"].isna().all()
    nat = df[df["type"] == "nat_gateway"].iloc[0]
    assert nat["workloads"] == () and nat["groups"] == () and nat["public_ip"] == "44.207.18.93"


def test_workloads_top_level_and_members(before) -> None:
    df = before.workloads()
    assert_schema(df, frames.WORKLOAD_COLUMNS)
    assert list(df["name"]) == ["hokusai-api-development", "hokusai-redis-development", "hokusai-alb-development"]
    w = df.set_index("name")
    assert w.loc["hokusai-redis-development", "default_port"] == 6379
    assert w.loc["hokusai-api-development", "groups"] == (NEW_SG,)
    assert w.loc["hokusai-api-development", "interfaces"] == 2
    assert w.loc["hokusai-alb-development", "ports"] == (443, 80)
    assert w.loc["hokusai-api-development", "kind_label"] == "ECS service"
    assert df["parent"].isna().all()
    every = before.workloads(include_members=True)
    assert_schema(every, frames.WORKLOAD_COLUMNS)
    assert len(every) == len(before.model.workloads) == 7
    members = every.dropna(subset=["parent"])
    assert sorted(set(members["parent"])) == ["hokusai-api-development", "hokusai-redis-development"]
    tasks = members[members["kind"] == "ecs_task"]
    assert len(tasks) == 2 and set(tasks["groups"]) == {(NEW_SG,)}   # the tasks' interfaces carry the group


# -- flows and audit ----------------------------------------------------------------------------------------------
def test_flows_records_and_frame(before, after) -> None:
    records = after.flows(include_internet=True)
    # A sequence that makes each record as it is read (an organisation's matrix holds millions of flows).
    assert isinstance(records, Sequence) and isinstance(records, frames.FlowList)
    assert list(records) == [records[i] for i in range(len(records))] == records[:] and records[-1] == records[7]
    df = records.to_frame()
    assert_schema(df, frames.FLOW_COLUMNS)
    assert len(df) == len(records) == 8
    redis = df[(df["source"] == "hokusai-api-development") & (df["destination"] == "hokusai-redis-development")]
    assert redis[["traffic", "verdict", "port", "pairs", "reachable_pairs"]].values.tolist() == [
        ["tcp/6379", "reachable", 6379, 4, 4]]
    assert "sgr-0e240228a0c81c095" in redis.iloc[0]["via"]
    assert [r["via"] for r in (f.row() for f in records)] == list(df["via"])    # same text as `reachgraph flows`
    assert "hokusai-redis-development" not in set(before.flows().to_frame()["destination"])
    assert "<table" in records._repr_html_()


def test_audit_records_and_frame(before, after) -> None:
    findings = before.audit()
    assert isinstance(findings, frames.FindingList)
    df = findings.to_frame()
    assert_schema(df, frames.AUDIT_COLUMNS)
    assert len(df) == len(findings)
    assert df.iloc[0]["code"] == "RULE_NAMES_EMPTY_GROUP" and df.iloc[0]["severity"] == "high"
    assert df.iloc[0]["fix"] == FIX and df.iloc[0]["fixes"] == (FIX,)
    assert list(df["severity"].cat.categories) == list(frames.SEVERITY_ORDER)
    assert df["severity"].cat.ordered
    assert set(df[df["severity"] >= "low"]["code"]) == {"RULE_NAMES_EMPTY_GROUP", "REFERENCED_UNATTACHED_GROUP"}
    assert df["severity"].is_monotonic_decreasing
    informational = df[df["code"] == "INTERNET_EXPOSED"]
    assert informational["fix"].isna().all()
    assert not (after.audit().to_frame()["severity"] >= "high").any()


def test_empty_frames_keep_their_schema() -> None:
    assert_schema(frames.flows([]), frames.FLOW_COLUMNS)
    assert_schema(frames.audit([]), frames.AUDIT_COLUMNS)
    assert len(frames.FlowList().to_frame()) == 0


def test_frames_are_deterministic() -> None:
    one, two = reachgraph.load(EXAMPLE / "before"), reachgraph.load(EXAMPLE / "before")
    for view in ("security_groups", "rules", "interfaces", "workloads"):
        pd.testing.assert_frame_equal(getattr(one, view)(), getattr(two, view)())
    pd.testing.assert_frame_equal(one.flows(include_blocked=True).to_frame(), two.flows(include_blocked=True).to_frame())
    pd.testing.assert_frame_equal(one.audit().to_frame(), two.audit().to_frame())


# -- QueryResult display -----------------------------------------------------------------------------------------
def _visible_words(html: str) -> list[str]:
    return re.sub(r"<[^>]+>", " ", html).split()


def test_html_verdict_first_then_blockers_and_fix(before) -> None:
    r = before.query("api", "redis")
    html = r._repr_html_()
    assert _visible_words(html)[:5] == ["BLOCKED", "api", "&rarr;", "redis", "tcp/6379"]
    assert "background:#b71c1c" in html.split("BLOCKED")[0]       # coloured, red
    blockers_at, fix_at = html.index("blocked by"), html.index(FIX)
    assert html.index("BLOCKED") < blockers_at < fix_at
    assert "ENI_SG_RULES_MISMATCH" in html and REDIS_SG in html and "allowed by" not in html


def test_html_reachable_shows_the_admitting_rule(after) -> None:
    html = after.query("api", "redis:6379")._repr_html_()
    assert _visible_words(html)[0] == "REACHABLE" and "background:#1b5e20" in html
    assert "allowed by" in html and "sgr-0e240228a0c81c095" in html and "blocked by" not in html
    assert "fix:" not in html


def test_html_escapes_what_it_shows(before) -> None:
    from dataclasses import replace

    r = before.query("api", "redis")
    html = replace(r, warnings=("<script>alert(1)</script>",))._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_str_is_the_cli_report(before) -> None:
    r = before.query("api", "redis:6379")
    cli = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"))
    assert cli.returncode == 1
    assert [line.rstrip() for line in str(r).splitlines()] == [line.rstrip() for line in cli.stdout.splitlines()]
    assert str(r).startswith("BLOCKED  api -> redis tcp/6379\n") and FIX in str(r)
    assert "[" not in str(r).splitlines()[0]                       # no rich markup left


def test_repr_is_one_line(before, after) -> None:
    assert repr(before.query("api", "redis")) == "<QueryResult BLOCKED api -> redis tcp/6379 (1 blocker, 1 fix)>"
    assert repr(after.query("api", "redis")) == "<QueryResult REACHABLE api -> redis tcp/6379>"


def test_to_dict_contract_is_unchanged(before) -> None:
    d = before.query("api", "redis").to_dict()
    assert set(d) == {"verdict", "source", "destination", "protocol", "port", "icmp_code", "traffic", "pairs",
                      "counts", "allowed_by", "blockers", "fixes", "warnings", "unknown_reasons"}


# -- reachgraph.collect(...) ---------------------------------------------------------------------------------------
def test_import_reachgraph_does_not_load_boto3() -> None:
    import subprocess

    code = "import sys, reachgraph; reachgraph.load; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_collect_is_callable_and_keeps_the_collector_package() -> None:
    import reachgraph.collect as package

    assert reachgraph.collect is package and callable(reachgraph.collect)
    from reachgraph.collect import CollectResult, collect  # the raw collector API is unchanged

    assert callable(collect) and CollectResult.__name__ == "CollectResult"
    assert "collect" in reachgraph.__all__


def test_collect_returns_a_snapshot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Against moto: collected in memory, or written to `output` and loaded from it."""
    pytest.importorskip("moto")
    from collect_helpers import build_estate, moto_aws

    with moto_aws(monkeypatch, tmp_path):
        build_estate()
        snap = reachgraph.collect(regions=["us-east-1"], services="ec2,ecs,elasticache")
        written = reachgraph.collect(regions=["us-east-1"], services="ec2,ecs,elasticache",
                                     output=tmp_path / "snap.json.gz")
    assert isinstance(snap, reachgraph.Snapshot) and snap.source.startswith("collect:123456789012/us-east-1")
    assert snap.errors == ()
    assert len(snap.security_groups()) > 0 and len(snap.interfaces()) > 0
    assert isinstance(written, reachgraph.Snapshot) and written.source == str(tmp_path / "snap.json.gz")
    assert (tmp_path / "snap.json.gz").exists()
    pd.testing.assert_frame_equal(snap.rules(), written.rules())
    pd.testing.assert_frame_equal(snap.workloads(), reachgraph.load(tmp_path / "snap.json.gz").workloads())


def test_text_report_counts_pairs_even_when_checks_are_shared(after) -> None:
    """The engine may hand the same Check object to several pairs (cached ACL answers); the report counts
    pairs, so a component that decides every pair carries no '(n of 4 pairs)' and a partial one the right n."""
    from reachgraph.render.text import query_lines

    planned, _ = after.with_plan(Path(__file__).resolve().parent.parent / "docs" / "examples" / "acl-reply-plan.json")
    r = planned.query("api", "redis")
    assert r.verdict == "partial" and r.counts["blocked"] == 2
    text = str(r)
    assert "SUBNET_ACL_RESTRICTION (2 of 4 pairs)" in text
    assert "outbound allows traffic to 10.0.4.0/24 on port 6379 (rule 100)\n" in text    # every pair: no count
    assert not any("of 4 pairs" in line for line in query_lines(after.query("api", "redis")))
