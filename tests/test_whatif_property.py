"""Property tests for what-if analysis.

1. Rule additions applied as a what-if give exactly the answers of the snapshot built directly with those rules
   (the AWS JSON rewritten and loaded).
2. Every fix `query` suggests, applied as a what-if, makes the query reachable: on the incident's `before`, and on
   generated blocked estates (rules revoked, including egress allow-all rules, narrow rules added).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reachgraph
from conftest import EXAMPLE
from reachgraph.whatif import AuthorizeRule, RevokeRule, make_rule, parse_fix
from reachgraph.whatif.changes import rule_key

ACCOUNT = "123456789012"
BEFORE = EXAMPLE / "before"
REGION_DIR = Path(ACCOUNT) / "us-east-1"
GROUPS = ["sg-0454e74e2924a7754", "sg-04bd586baa66713a1", "sg-0864e6f6aee2a5cf4", "sg-0c85c87668427d358",
          "sg-0e61190afc2502b10"]
MISSING_GROUP = "sg-0000000000000dead"
CIDRS = ["10.0.1.23/32", "10.0.3.141/32", "10.0.0.0/16", "10.0.2.0/24", "10.0.4.50/32", "0.0.0.0/0", "::/0",
         "10.0.101.0/24", "192.168.0.0/16", "0.0.0.0/1", "2600:1f18::/32"]
QUERIES = [("api", "redis:6379"), ("hokusai-alb", "api:8000"), ("internet", "hokusai-alb:443"),
           ("api", "redis:6379/udp"), ("api", "redis:icmp/8"), ("redis", "api:8000"), ("api", "10.0.2.50:443"),
           ("hokusai-alb", "redis:6379"), ("api", f"{GROUPS[0]}:6379"), ("internet", "api:8000"),
           ("api", "8.8.8.8:443"), ("api", "redis/50"), ("hokusai-alb", "api:0")]
INSIDE = [("api", "redis:6379"), ("hokusai-alb", "api:8000"), ("api", "redis:icmp/8"), ("redis", "api:8000"),
          ("hokusai-alb", "redis:6379"), ("api", "hokusai-alb:443"), ("api", "redis:6379/udp"), ("api", "redis/50")]
SG_CODES = {"ENI_SG_RULES_MISMATCH", "SG_HAS_NO_RULES"}


@pytest.fixture(scope="module")
def base():
    return reachgraph.load(BEFORE)


@pytest.fixture(scope="module")
def raw_groups() -> dict:
    return json.loads((BEFORE / REGION_DIR / "describe-security-groups.json").read_text())


# -- strategies ------------------------------------------------------------------------------------------------

@st.composite
def additions(draw):
    """One rule addition: (group, direction, protocol, from, to, peer) as AWS would store it."""
    group = draw(st.sampled_from(GROUPS))
    direction = draw(st.sampled_from(["ingress", "egress"]))
    protocol = draw(st.sampled_from(["tcp", "udp", "icmp", "-1", "50"]))
    if protocol in ("tcp", "udp"):
        lo = draw(st.sampled_from([0, 443, 6379, 6000, 8000]))
        hi = draw(st.sampled_from([p for p in (0, 443, 6379, 7000, 8000, 65535) if p >= lo]))
    elif protocol == "icmp":
        lo, hi = draw(st.sampled_from([-1, 0, 8])), draw(st.sampled_from([-1, 0]))
    else:
        lo = hi = None
    peer = draw(st.sampled_from(GROUPS + [MISSING_GROUP] + CIDRS))
    return group, direction, protocol, lo, hi, peer


def _peer_json(peer: str) -> dict:
    if peer.startswith("sg-"):
        return {"UserIdGroupPairs": [{"UserId": ACCOUNT, "GroupId": peer}], "IpRanges": [], "Ipv6Ranges": [],
                "PrefixListIds": []}
    if ":" in peer:
        return {"UserIdGroupPairs": [], "IpRanges": [], "Ipv6Ranges": [{"CidrIpv6": peer}], "PrefixListIds": []}
    return {"UserIdGroupPairs": [], "IpRanges": [{"CidrIp": peer}], "Ipv6Ranges": [], "PrefixListIds": []}


def _what_if_peer(peer: str) -> str:
    return f"{ACCOUNT}/{peer}" if peer.startswith("sg-") else peer


def _unique(base, adds):
    """Drop additions AWS would refuse as duplicates (of existing rules or of each other)."""
    seen = {rule_key(r) for g in base.model.groups.values() for r in g.ingress + g.egress}
    out = []
    for a in adds:
        rule = make_rule(a[0], a[1], a[2], a[3], a[4], _what_if_peer(a[5]))
        if rule_key(rule) not in seen:
            seen.add(rule_key(rule))
            out.append((a, rule))
    return out


def _write_direct(raw_groups: dict, adds, folder: Path) -> Path:
    shutil.copytree(BEFORE, folder)
    doc = json.loads(json.dumps(raw_groups))
    by_id = {g["GroupId"]: g for g in doc["SecurityGroups"]}
    for (group, direction, protocol, lo, hi, peer), _ in adds:
        perm = {"IpProtocol": protocol, **_peer_json(peer)}
        if lo is not None:
            perm.update(FromPort=lo, ToPort=hi)
        by_id[group]["IpPermissions" if direction == "ingress" else "IpPermissionsEgress"].append(perm)
    (folder / REGION_DIR / "describe-security-groups.json").write_text(json.dumps(doc, indent=2))
    return folder


def _answers(snap) -> list[dict]:
    return [snap.query(src, dst).to_dict() for src, dst in QUERIES]


# -- 1. what-if == directly built snapshot ---------------------------------------------------------------------------

@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(adds=st.lists(additions(), min_size=1, max_size=6))
def test_rule_additions_as_what_if_match_the_snapshot_built_directly(base, raw_groups, adds):
    accepted = _unique(base, adds)
    event(f"{len(accepted)} distinct additions")
    what_if = base.with_changes([AuthorizeRule(rule) for _, rule in accepted])
    assert not [w for w in what_if.warnings if "already allowed" in w]
    with tempfile.TemporaryDirectory() as tmp:
        direct = reachgraph.load(_write_direct(raw_groups, accepted, Path(tmp) / "snap"))
        # the models agree on every group's rules (ids aside: the new rules have none in either)
        assert what_if.model.groups == direct.model.groups
        assert _answers(what_if) == _answers(direct)


def test_property_setup_sanity(base):
    """The base answers the queries the property compares, with a mix of verdicts."""
    verdicts = {base.query(s, d).verdict for s, d in QUERIES}
    assert {"reachable", "blocked"} <= verdicts


# -- 2. every suggested fix, applied as a what-if, makes the query reachable -------------------------------------

def _apply_fixes(snap, result):
    changes = [c for fix in result.fixes for c in parse_fix(fix)]
    assert changes and all(isinstance(c, AuthorizeRule) for c in changes)
    return snap.with_changes(changes)


def _check_fixes(snap, src: str, dst: str) -> str:
    r = snap.query(src, dst)
    if r.verdict not in ("blocked", "partial"):
        return r.verdict
    if not {b.code for b in r.blockers} <= SG_CODES:
        return "not-sg"
    assert r.fixes, f"{src} -> {dst} is {r.verdict} by security groups but query suggests no fix"
    fixed = _apply_fixes(snap, r)
    after = fixed.query(src, dst)
    assert after.verdict == "reachable", (src, dst, r.fixes, [b.detail for b in after.blockers])
    directions = {b.direction for b in r.blockers}
    return "fixed-" + "+".join(sorted(d for d in directions if d))


def test_each_suggested_fix_makes_the_incident_reachable(base):
    r = base.query("api", "redis:6379")
    assert r.verdict == "blocked"
    assert r.fixes == ("aws ec2 authorize-security-group-ingress --group-id sg-0454e74e2924a7754 --protocol tcp "
                       "--port 6379 --source-group sg-0864e6f6aee2a5cf4",)
    assert _apply_fixes(base, r).query("api", "redis:6379").verdict == "reachable"


@pytest.mark.parametrize(("src", "dst"), INSIDE)
def test_each_fix_on_before(base, src, dst):
    assert _check_fixes(base, src, dst) in ("reachable", "fixed-ingress", "fixed-egress", "fixed-egress+ingress")


EGRESS_BREAKS = {
    "api egress revoked": [f"revoke-egress {GROUPS[2]} all 0.0.0.0/0"],
    "api egress narrowed": [f"revoke-egress {GROUPS[2]} all 0.0.0.0/0", f"authorize-egress {GROUPS[2]} tcp 443 "
                                                                         "0.0.0.0/0"],
    "alb egress revoked": [f"revoke-egress {GROUPS[3]} all 0.0.0.0/0"],
    "redis egress and ingress revoked": [f"revoke-egress {GROUPS[0]} all 0.0.0.0/0",
                                         f"revoke-ingress {GROUPS[0]} tcp 6379 {GROUPS[4]}"],
    "api egress to one node only": [f"revoke-egress {GROUPS[2]} all 0.0.0.0/0",
                                    f"authorize-egress {GROUPS[2]} tcp 6379 10.0.2.50/32"],
}


@pytest.mark.parametrize("name", sorted(EGRESS_BREAKS))
def test_each_fix_on_egress_blocked_estates(base, name):
    snap = base.with_changes(EGRESS_BREAKS[name])
    outcomes = {q: _check_fixes(snap, *q) for q in INSIDE}
    assert any("egress" in o for o in outcomes.values()), outcomes


@st.composite
def breakages(draw, base_rules):
    """Revoke some of the estate's rules and add a few narrow ones: an estate with blocked paths."""
    revoked = draw(st.lists(st.sampled_from(base_rules), max_size=4, unique=True))
    added = draw(st.lists(additions(), max_size=2))
    return revoked, added


def _all_rules():
    snap = reachgraph.load(BEFORE)
    return sorted((r for g in snap.model.groups.values() for r in g.ingress + g.egress), key=lambda r: r.describe())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(case=breakages(_all_rules()))
def test_each_fix_on_generated_blocked_estates(base, case):
    revoked, added = case
    changes = [RevokeRule(r) for r in revoked] + [AuthorizeRule(rule) for _, rule in _unique(base, added)]
    snap = base.with_changes(changes)
    for q in INSIDE:
        event(f"{q[0]} -> {q[1]}: {_check_fixes(snap, *q)}")
