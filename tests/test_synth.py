"""The synthetic estate generator (reachgraph.synth): deterministic, the sizes issue 8 asks for, loads cleanly,
and the engine agrees with the brute-force reference evaluator (tests/reference.py) on it.

The equivalence test samples ~300 interface pairs of the S estate with a port (tcp mostly, some udp and icmp):
a third at random, a third guided by group-reference rules (likely admitted), a third guided by CIDR and
prefix-list rules. For each pair it compares

- the engine's security-group verdict (the pair's `security_group` checks: any deny -> blocked, any unknown ->
  unknown, else reachable) with the reference's verdict, which must be equal; and
- the engine's full verdict (ACLs and routes too) with the reference's: the engine may only be stricter
  (reference blocked -> engine blocked; engine reachable -> reference reachable).

Interfaces without security groups (NAT gateway interfaces) are left out of the sample: AWS does not filter them
with security groups and the engine says so, but the reference, which knows only groups, denies them.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

import reachgraph
from reachgraph import synth

from reference import PROTOCOL_NUMBERS, Packet, Reference  # tests/reference.py (independent of reachgraph)

SEED = 1


@pytest.fixture(scope="module")
def estate_s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "S"
    synth.generate("S", SEED, out)
    return out


@pytest.fixture(scope="module")
def snap_s(estate_s: Path) -> reachgraph.Snapshot:
    return reachgraph.load(estate_s)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- determinism ----------------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(tmp_path: Path, estate_s: Path) -> None:
    again = tmp_path / "again"
    assert synth.main(["--size", "S", "--seed", str(SEED), "-o", str(again)]) == 0
    first, second = _files(estate_s), _files(again)
    assert sorted(first) == sorted(second)
    assert any(name.endswith(".json") for name in first)
    for name in first:
        assert first[name] == second[name], f"{name} differs between two runs with the same seed"


def test_another_seed_gives_another_estate(tmp_path: Path, estate_s: Path) -> None:
    synth.generate("S", SEED + 1, tmp_path / "other")
    a, b = _files(estate_s), _files(tmp_path / "other")
    shared = set(a) & set(b)
    assert any(a[n] != b[n] for n in shared) or set(a) != set(b)


def test_refuses_a_non_empty_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.txt").write_text("keep me")
    assert synth.main(["--size", "XS", "-o", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err


# -- sizes ----------------------------------------------------------------------------------------------
def _top_level(model) -> list:
    return [w for w in model.workloads.values() if not (w.parent and w.parent in model.workloads)]


def test_s_estate_has_the_specified_size(snap_s: reachgraph.Snapshot) -> None:
    spec = synth.SIZES["S"]
    m = snap_s.model
    assert abs(len(m.interfaces) - spec.interfaces) <= 0.05 * spec.interfaces
    assert abs(len(m.groups) - spec.groups) <= 0.1 * spec.groups
    assert abs(len(_top_level(m)) - spec.workloads) <= 0.1 * spec.workloads
    assert len(m.vpcs) == spec.vpcs
    kinds = Counter(w.kind for w in _top_level(m))
    for kind in ("ecs_service", "load_balancer", "elasticache_replication_group", "ec2_instance"):
        assert kinds[kind] > 0, kinds
    assert kinds["rds_instance"] + kinds["rds_cluster"] > 0, kinds
    assert Counter(w.kind for w in m.workloads.values())["ecs_task"] > 0.8 * spec.interfaces


@pytest.mark.parametrize("size", ["M"])
def test_other_sizes_in_memory(size: str) -> None:
    spec = synth.SIZES[size]
    stats = synth.build(size, SEED).stats()
    assert abs(stats["interfaces"] - spec.interfaces) <= 0.05 * spec.interfaces
    assert abs(stats["security_groups"] - spec.groups) <= 0.1 * spec.groups
    assert abs(stats["top_level_workloads"] - spec.workloads) <= 0.1 * spec.workloads
    assert stats["vpcs"] == spec.vpcs and stats["accounts"] == spec.accounts


def test_l_is_specified_as_the_issue_asks() -> None:
    spec = synth.SIZES["L"]
    assert (spec.interfaces, spec.groups, spec.workloads) == (100_000, 10_000, 5_000)


# -- loads cleanly --------------------------------------------------------------------------------------
def test_s_estate_loads_without_warnings(snap_s: reachgraph.Snapshot, estate_s: Path) -> None:
    assert snap_s.warnings == ()
    assert snap_s.errors == ()
    m = snap_s.model
    assert m.acls and m.route_tables and m.peerings and m.prefix_lists
    assert not [i.id for i in m.interfaces.values() if i.inferred], "every interface is in describe-network-interfaces"
    assert all(w.interface_ids for w in _top_level(m))
    assert not [w.name for w in _top_level(m) if w.notes and w.kind != "ec2_instance"]
    # laid out ACCOUNT/REGION/*.json, as the design's folder form says
    parts = {p.relative_to(estate_s).parts[:-1] for p in estate_s.rglob("*.json")}
    assert all(len(x) == 2 and len(x[0]) == 12 and x[1] == synth.REGION for x in parts)
    r = snap_s.query(*_some_pair(snap_s))
    assert not [w for w in r.warnings if "not in the snapshot" in w]


def _some_pair(snap: reachgraph.Snapshot) -> tuple[str, str]:
    top = sorted(_top_level(snap.model), key=lambda w: w.key)
    svc = next(w for w in top if w.kind == "ecs_service")
    db = next(w for w in top if w.kind in ("rds_instance", "rds_cluster"))
    return svc.name, db.name


# -- the engine against the brute-force reference -------------------------------------------------------
def _reference(root: Path) -> Reference:
    import json

    docs: dict[str, list] = {}
    accounts = set()
    for f in sorted(root.rglob("*.json")):
        accounts.add(f.relative_to(root).parts[0])
        for key, value in json.loads(f.read_text()).items():
            if isinstance(value, list):
                docs.setdefault(key, []).extend(value)
    return Reference(docs, accounts)


def _sample(snap: reachgraph.Snapshot, n: int, rng: random.Random) -> list[tuple[str, str, str, int]]:
    """(source eni, destination eni, protocol, port or icmp type)."""
    m = snap.model
    members = snap.reach.members
    grouped = sorted(i.id for i in m.interfaces.values() if i.group_ids and i.primary_ipv4)
    ok = set(grouped)
    common_ports = (22, 80, 443, 3306, 5432, 6379, 8080, 9100, 8125)
    group_rules = [(g.id, r) for g in m.groups.values() for r in g.ingress
                   if r.peer_kind == "group" and members.get(g.id) and members.get(r.peer)]
    other_rules = [(g.id, r) for g in m.groups.values() for r in g.ingress + g.egress
                   if r.peer_kind in ("cidr4", "prefix_list") and members.get(g.id)]
    out: list[tuple[str, str, str, int]] = []
    while len(out) < n:
        k = len(out) % 3
        proto, port = "tcp", rng.choice(common_ports)
        if k == 0:
            src, dst = rng.choice(grouped), rng.choice(grouped)
            if rng.random() < 0.1:
                proto, port = ("udp", 8125) if rng.random() < 0.5 else ("icmp", 8)
        elif k == 1:
            gid, r = rng.choice(group_rules)
            dst = rng.choice(sorted(members[gid] & ok))
            src = rng.choice(sorted(members[r.peer] & ok))
            if r.protocol in ("tcp", "udp") and r.from_port is not None:
                proto, port = r.protocol, rng.randint(r.from_port, r.to_port)
        else:
            gid, r = rng.choice(other_rules)
            mine = rng.choice(sorted(members[gid] & ok))
            other = rng.choice(grouped)
            src, dst = (other, mine) if r.direction == "ingress" else (mine, other)
            if r.protocol in ("tcp", "udp") and r.from_port is not None:
                proto, port = r.protocol, rng.randint(r.from_port, r.to_port)
        if src != dst:
            out.append((src, dst, proto, port))
    return out


def _sg_verdict(pair) -> str:
    statuses = {c.status for c in pair.checks if c.kind == "security_group"}
    return "blocked" if "deny" in statuses else "unknown" if "unknown" in statuses else "reachable"


def test_engine_agrees_with_the_brute_force_reference(snap_s: reachgraph.Snapshot, estate_s: Path) -> None:
    ref = _reference(estate_s)
    rng = random.Random(f"equivalence:{SEED}")
    sample = _sample(snap_s, 300, rng)
    sg_verdicts: Counter[str] = Counter()
    full_verdicts: Counter[str] = Counter()
    mismatches = []
    for src, dst, proto, port in sample:
        if proto == "icmp":
            result = snap_s.query(src, f"{dst}:icmp/{port}")
            pkt = Packet(protocol=1, icmp_type=port, icmp_code=0)
        else:
            result = snap_s.query(src, dst, port=port, protocol=proto)
            pkt = Packet(protocol=PROTOCOL_NUMBERS[proto], port=port)
        assert len(result.pairs) == 1, (src, dst)
        pair = result.pairs[0]
        engine_sg, engine_full = _sg_verdict(pair), pair.verdict
        expected = ref.verdict(("eni", src), ("eni", dst), pkt)
        sg_verdicts[engine_sg] += 1
        full_verdicts[engine_full] += 1
        if engine_sg != expected:
            mismatches.append(f"{src} -> {dst} {proto}/{port}: engine security groups say {engine_sg}, "
                              f"reference says {expected}")
        if expected == "blocked" and engine_full != "blocked":
            mismatches.append(f"{src} -> {dst} {proto}/{port}: reference blocks, engine says {engine_full}")
        if engine_full == "reachable" and expected != "reachable":
            mismatches.append(f"{src} -> {dst} {proto}/{port}: engine reachable, reference says {expected}")
    assert not mismatches, "\n".join(mismatches[:20])
    # the sample is worth something: both answers occur, and the path layers block some pairs groups admit
    assert sg_verdicts["reachable"] >= 0.2 * len(sample), sg_verdicts
    assert sg_verdicts["blocked"] >= 0.2 * len(sample), sg_verdicts
    assert full_verdicts["blocked"] > sg_verdicts["blocked"], (full_verdicts, sg_verdicts)
