"""Snapshot loading (design.md "Snapshot input", docs/snapshot-format.md).

Folder rules: the top-level key, not the file name, gives the resource type; one file may hold several keys;
REGION/ and ACCOUNT/REGION/ sub-folders set region and account; other layouts are input errors; unknown keys
give one warning listing them.  The single snapshot file (.json / .json.gz): written with
build_snapshot_document + write_snapshot_file, it loads to the same answers as the folder; its manifest errors
become Snapshot.errors and make answers that need the failed calls `unknown`.
"""

from __future__ import annotations

import gzip
import json
import shutil
import pytest

import reachgraph
from builders import (
    ACCOUNT, SUBNET_B, eni, estate, perm, sg, sg_rule, write_estate, write_json,
)
from conftest import EXAMPLE
from reachgraph.snapshot import (
    FORMAT_NAME, FORMAT_VERSION, build_snapshot_document, read_snapshot, write_snapshot_file,
)

BEFORE = EXAMPLE / "before"
ACCT, REGION = "123456789012", "us-east-1"
CLIENT_SG, SERVER_SG = "sg-0c11e47000000c001", "sg-05e97e70000005001"
CLIENT, SERVER = "eni-0c11e470000000c01", "eni-05e97e70000000501"


def small_docs() -> dict:
    """Two groups, two interfaces: client -> server:443 is reachable."""
    return estate(SecurityGroups=[sg(CLIENT_SG, "client"),
                                  sg(SERVER_SG, "server", ingress=[perm("tcp", 443, 443, groups=[CLIENT_SG])])],
                  NetworkInterfaces=[eni(CLIENT, "10.0.1.10", [CLIENT_SG]),
                                     eni(SERVER, "10.0.2.20", [SERVER_SG], subnet_id=SUBNET_B, az="us-east-1b")])


def example_resources() -> dict:
    """The bundled `before` folder as resources[account][region][key]."""
    keyed: dict = {}
    for f in sorted((BEFORE / ACCT / REGION).glob("*.json")):
        keyed.update(json.loads(f.read_text()))
    return {ACCT: {REGION: keyed}}


# -- folder layout ---------------------------------------------------------------------------------------
def test_top_level_key_not_file_name_decides(tmp_path):
    docs = small_docs()
    # File names that lie about their content.
    write_json(tmp_path / "describe-network-interfaces.json", {"SecurityGroups": docs["SecurityGroups"]})
    write_json(tmp_path / "describe-security-groups.json", {"NetworkInterfaces": docs["NetworkInterfaces"]})
    write_json(tmp_path / "zz.json", {k: docs[k] for k in ("Vpcs", "Subnets")})
    (tmp_path / "README.md").write_text("not JSON, and not read: only *.json files are")
    snap = reachgraph.load(tmp_path)
    assert sorted(snap.model.groups) == sorted([CLIENT_SG, SERVER_SG])
    assert sorted(snap.model.interfaces) == sorted([CLIENT, SERVER])
    assert snap.query(CLIENT, f"{SERVER}:443").verdict == "reachable"
    assert snap.warnings == ()


def test_one_file_with_several_keys_equals_one_file_per_key(tmp_path):
    docs = small_docs()
    write_json(tmp_path / "all" / "everything.json", docs)
    write_estate(tmp_path / "split", docs)
    a, b = reachgraph.load(tmp_path / "all"), reachgraph.load(tmp_path / "split")
    assert a.model.groups == b.model.groups and a.model.interfaces == b.model.interfaces
    qa, qb = a.query(CLIENT, f"{SERVER}:443"), b.query(CLIENT, f"{SERVER}:443")
    assert qa.to_dict() == qb.to_dict() and qa.verdict == "reachable"
    # A single AWS CLI JSON file (no manifest) reads like a folder holding only that file.
    c = reachgraph.load(tmp_path / "all" / "everything.json")
    assert c.query(CLIENT, f"{SERVER}:443").to_dict() == qa.to_dict()


def test_files_at_the_top_take_account_and_region_from_the_data(tmp_path):
    snap = reachgraph.load(write_estate(tmp_path, small_docs()))
    assert snap.model.groups[CLIENT_SG].account == ACCOUNT          # OwnerId
    assert snap.model.interfaces[CLIENT].region == "us-east-1"      # AvailabilityZone us-east-1a
    assert snap.model.accounts == (ACCOUNT,)
    assert "us-east-1" in snap.model.regions


def test_region_folder_sets_the_region(tmp_path):
    write_estate(tmp_path / "eu-west-1", small_docs())
    snap = reachgraph.load(tmp_path)
    assert snap.model.groups[CLIENT_SG].region == "eu-west-1"
    assert snap.model.groups[CLIENT_SG].account == ACCOUNT          # still from OwnerId
    assert snap.model.regions == ("eu-west-1",)


def test_account_region_folders_set_both(tmp_path):
    write_estate(tmp_path / "210987654321" / "ap-southeast-2", small_docs())
    snap = reachgraph.load(tmp_path)
    g = snap.model.groups[CLIENT_SG]
    assert (g.account, g.region) == ("210987654321", "ap-southeast-2")
    assert snap.model.accounts == ("210987654321",) and snap.model.regions == ("ap-southeast-2",)
    assert snap.query(CLIENT, f"{SERVER}:443").verdict == "reachable"


def test_two_regions_in_one_folder(tmp_path):
    docs = small_docs()
    write_estate(tmp_path / ACCT / "us-east-1", docs)
    other = estate(SecurityGroups=[sg("sg-0e0000000000000e1", "eu-app")],
                   NetworkInterfaces=[eni("eni-0e0000000000000e1", "10.9.1.10", ["sg-0e0000000000000e1"])])
    write_estate(tmp_path / ACCT / "eu-west-1", {k: other[k] for k in ("SecurityGroups", "NetworkInterfaces")})
    snap = reachgraph.load(tmp_path)
    assert snap.model.regions == ("eu-west-1", "us-east-1")
    assert snap.model.groups["sg-0e0000000000000e1"].region == "eu-west-1"
    assert snap.model.groups[CLIENT_SG].region == "us-east-1"


@pytest.mark.parametrize("layout", ["not-a-region/x.json", "12345/us-east-1/x.json", "123456789012/notaregion/x.json",
                                    "123456789012/us-east-1/deeper/x.json"])
def test_bad_folder_layouts_are_input_errors(tmp_path, layout):
    write_json(tmp_path / layout, {"SecurityGroups": small_docs()["SecurityGroups"]})
    with pytest.raises(reachgraph.InputError) as exc:
        reachgraph.load(tmp_path)
    msg = str(exc.value)
    assert "\n" not in msg
    assert any(part in msg for part in layout.split("/")[:-1]), msg


def test_unknown_keys_give_one_warning_listing_them(tmp_path):
    docs = small_docs()
    docs["TransitGatewayAttachments"] = [{"TransitGatewayAttachmentId": "tgw-attach-1"}]
    write_estate(tmp_path, docs)
    write_json(tmp_path / "dhcp.json", {"DhcpOptions": [], "NextToken": "abc", "ResponseMetadata": {}})
    write_json(tmp_path / "endpoints.json", {"VpcEndpoints": [], "failures": []})
    snap = reachgraph.load(tmp_path)
    assert len(snap.warnings) == 1, snap.warnings
    w = snap.warnings[0]
    for key in ("DhcpOptions", "TransitGatewayAttachments", "VpcEndpoints"):
        assert key in w, w
    for key in ("NextToken", "ResponseMetadata", "failures"):      # printed beside the data: silently ignored
        assert key not in w
    assert snap.query(CLIENT, f"{SERVER}:443").verdict == "reachable"


def test_only_unknown_keys_is_an_input_error(tmp_path):
    write_json(tmp_path / "x.json", {"DhcpOptions": []})
    with pytest.raises(reachgraph.InputError, match="understands"):
        reachgraph.load(tmp_path)


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(reachgraph.InputError, match="no such file"):
        reachgraph.load(tmp_path / "missing")
    with pytest.raises(reachgraph.InputError, match="no .json files"):
        reachgraph.load(tmp_path)


def test_gzipped_files_in_a_folder(tmp_path):
    docs = small_docs()
    (tmp_path / "all.json.gz").write_bytes(gzip.compress(json.dumps(docs).encode(), mtime=0))
    snap = reachgraph.load(tmp_path)
    assert snap.query(CLIENT, f"{SERVER}:443").verdict == "reachable"


@pytest.mark.parametrize("content, words", [
    (b"", ["not valid JSON"]),
    (b"\xff\xfe\x00garbage", ["x.json"]),
    (b'["SecurityGroups"]', ["list", "not an object"]),
    (b'{"SecurityGroups": {"GroupId": "sg-1"}}', ["'SecurityGroups'", "expected a list"]),
    (b'{"SecurityGroups": ["sg-1"]}', ["SecurityGroups[0]", "expected an object"]),
    (b'{"SecurityGroups": [{"GroupName": "no id"}]}', ["SecurityGroups[0]", "GroupId"]),
    (b'{"taskDefinition": []}', ["'taskDefinition'", "expected an object"]),
])
def test_bad_files_name_the_file_and_the_key(tmp_path, content, words):
    (tmp_path / "x.json").write_bytes(content)
    with pytest.raises(reachgraph.InputError) as exc:
        reachgraph.load(tmp_path)
    msg = str(exc.value)
    assert "x.json" in msg and "\n" not in msg, msg
    for w in words:
        assert w in msg, msg


def test_loading_is_deterministic():
    a, b = reachgraph.load(BEFORE), reachgraph.load(BEFORE)
    assert json.dumps(a.query("api", "redis:6379").to_dict()) == json.dumps(b.query("api", "redis:6379").to_dict())
    assert list(a.model.interfaces) == sorted(a.model.interfaces)


# -- the snapshot file --------------------------------------------------------------------------------------
MANIFEST = {"tool_version": "0.1.0", "collected_at": "2025-11-07T10:00:00Z", "accounts": [ACCT],
            "regions": [REGION], "caller_arn": f"arn:aws:sts::{ACCT}:assumed-role/audit/reachgraph",
            "services": ["ec2", "ecs", "elasticache"], "api_calls": 17, "errors": []}


@pytest.mark.parametrize("name", ["snap.json", "snap.json.gz"])
def test_snapshot_file_gives_the_same_answers_as_the_folder(tmp_path, name):
    doc = build_snapshot_document(MANIFEST, example_resources())
    assert (doc["manifest"]["format"], doc["manifest"]["version"]) == (FORMAT_NAME, FORMAT_VERSION)
    path = write_snapshot_file(tmp_path / name, doc)
    from_file, from_folder = reachgraph.load(path), reachgraph.load(BEFORE)
    assert from_file.model.groups == from_folder.model.groups
    assert from_file.model.interfaces == from_folder.model.interfaces
    assert from_file.model.workloads == from_folder.model.workloads
    for src, dst in (("api", "redis:6379"), ("api", "redis"), ("internet", "hokusai-alb:443"), ("api", "redis:22")):
        assert from_file.query(src, dst).to_dict() == from_folder.query(src, dst).to_dict(), (src, dst)
    assert from_file.query("api", "redis:6379").verdict == "blocked"
    assert from_file.errors == ()
    assert [t.name for t in tmp_path.iterdir()] == [name]          # written atomically: no temporary left


def test_snapshot_file_bytes_are_deterministic(tmp_path):
    doc = build_snapshot_document(MANIFEST, example_resources())
    for name in ("a.json.gz", "b.json.gz", "a.json", "b.json"):
        write_snapshot_file(tmp_path / name, doc)
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert gzip.decompress((tmp_path / "a.json.gz").read_bytes()) == (tmp_path / "a.json").read_bytes()


def test_manifest_errors_become_snapshot_errors(tmp_path):
    errors = [{"account": ACCT, "region": "eu-west-1", "service": "ec2", "operation": "DescribeVpcs",
               "code": "OptInRequired", "message": "region not enabled"}]
    path = write_snapshot_file(tmp_path / "s.json", build_snapshot_document({**MANIFEST, "errors": errors},
                                                                            example_resources()))
    snap = reachgraph.load(path)
    assert len(snap.errors) == 1
    e = snap.errors[0]
    assert (e.account, e.region, e.service, e.operation, e.code) == (ACCT, "eu-west-1", "ec2", "DescribeVpcs",
                                                                    "OptInRequired")
    assert "OptInRequired" in e.describe() and "DescribeVpcs" in e.describe()


def test_failed_elasticache_calls_make_redis_unknown(tmp_path):
    """manifest.errors: AccessDenied for elasticache and no CacheClusters -> `query api redis:6379` is unknown,
    naming the error -- not an input error."""
    resources = example_resources()
    for key in ("CacheClusters", "ReplicationGroups"):
        del resources[ACCT][REGION][key]
    errors = [{"account": ACCT, "region": REGION, "service": "elasticache", "operation": op, "code": "AccessDenied",
               "message": "User is not authorized to perform: elasticache:" + op}
              for op in ("DescribeCacheClusters", "DescribeReplicationGroups")]
    path = write_snapshot_file(tmp_path / "s.json.gz", build_snapshot_document({**MANIFEST, "errors": errors},
                                                                               resources))
    snap = reachgraph.load(path)
    r = snap.query("api", "redis:6379")
    assert r.verdict == "unknown"
    assert not r.blockers and not r.fixes
    text = " ".join(r.unknown_reasons + r.warnings)
    assert "AccessDenied" in text and "elasticache" in text, text
    # The same snapshot still answers what its data covers: the node interfaces are in describe-network-interfaces,
    # so asking by the Redis group's id is decidable.
    assert snap.query("api", "sg-0454e74e2924a7754:6379").verdict == "blocked"
    assert snap.query("internet", "hokusai-alb:443").verdict == "reachable"


@pytest.mark.parametrize("change, words", [
    (lambda d: d["manifest"].__setitem__("format", "something-else"), ["manifest.format", "something-else"]),
    (lambda d: d["manifest"].__setitem__("version", FORMAT_VERSION + 1), ["version", str(FORMAT_VERSION + 1)]),
    (lambda d: d["manifest"].__setitem__("version", "1"), ["version"]),
    (lambda d: d.__setitem__("resources", []), ["resources"]),
    (lambda d: d["resources"].__setitem__(ACCT, ["x"]), [f"resources.{ACCT}"]),
    (lambda d: d["manifest"].__setitem__("errors", {"code": "x"}), ["manifest.errors"]),
    (lambda d: d["resources"][ACCT][REGION].__setitem__("SecurityGroups", {}), ["SecurityGroups", "s.json"]),
])
def test_bad_snapshot_files_are_input_errors(tmp_path, change, words):
    doc = build_snapshot_document(MANIFEST, example_resources())
    change(doc)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(reachgraph.InputError) as exc:
        reachgraph.load(path)
    msg = str(exc.value)
    assert "\n" not in msg and "s.json" in msg, msg
    for w in words:
        assert w in msg, msg


def test_truncated_snapshot_gz_is_an_input_error(tmp_path):
    path = write_snapshot_file(tmp_path / "s.json.gz", build_snapshot_document(MANIFEST, example_resources()))
    raw = path.read_bytes()
    for cut in (len(raw) // 3, len(raw) - 9, 5):
        path.write_bytes(raw[:cut])
        with pytest.raises(reachgraph.InputError) as exc:
            reachgraph.load(path)
        assert "s.json.gz" in str(exc.value) and "\n" not in str(exc.value)


def test_write_snapshot_file_into_missing_folder(tmp_path):
    with pytest.raises(reachgraph.InputError, match="does not exist"):
        write_snapshot_file(tmp_path / "nope" / "s.json", build_snapshot_document(MANIFEST, {}))


def test_read_snapshot_keeps_documents_verbatim(tmp_path):
    """Raw responses are kept as AWS printed them; interpretation happens in the model builder only."""
    raw = read_snapshot(BEFORE)
    sgs = [d for d in raw.documents if d.key == "SecurityGroups"]
    assert len(sgs) == 1 and (sgs[0].account, sgs[0].region) == (ACCT, REGION)
    on_disk = json.loads((BEFORE / ACCT / REGION / "describe-security-groups.json").read_text())
    assert list(sgs[0].items) == on_disk["SecurityGroups"]
    shutil.copytree(BEFORE, tmp_path / "copy")
    assert read_snapshot(tmp_path / "copy").documents[0].items == raw.documents[0].items


@pytest.mark.parametrize("rules_file_first", [True, False])
def test_each_rule_gets_the_id_describe_security_group_rules_gives_it(tmp_path, rules_file_first: bool) -> None:
    """describe-security-group-rules names each rule of describe-security-groups by (group, direction, protocol,
    ports, peer): one IpPermission with two peers is two rules with two ids, and a rule it does not list keeps
    none. Which file comes first does not matter (the key, not the file, decides)."""
    docs = estate(SecurityGroups=[
        sg(SERVER_SG, "server", ingress=[perm("tcp", 443, 443, cidrs=["10.0.0.0/16"], groups=[CLIENT_SG]),
                                         perm("tcp", 22, 22, cidrs=["10.9.0.0/16"])],
           egress=[perm("-1", cidrs=["0.0.0.0/0"])]),
        sg(CLIENT_SG, "client")])
    docs["SecurityGroupRules"] = [
        sg_rule("sgr-0000000000000a443", SERVER_SG, "tcp", 443, 443, cidr="10.0.0.0/16"),
        sg_rule("sgr-0000000000000b443", SERVER_SG, "tcp", 443, 443, group=CLIENT_SG),
        sg_rule("sgr-00000000000000e01", SERVER_SG, "-1", -1, -1, egress=True, cidr="0.0.0.0/0"),
        # Same ports and peer, other direction: must not be taken for the ingress rule.
        sg_rule("sgr-00000000000000e02", SERVER_SG, "tcp", 443, 443, egress=True, cidr="10.0.0.0/16"),
    ]
    folder = tmp_path / "snap"
    folder.mkdir()
    order = ["SecurityGroupRules", "SecurityGroups"] if rules_file_first else ["SecurityGroups", "SecurityGroupRules"]
    for n, key in enumerate(order + sorted(k for k in docs if k not in order)):
        write_json(folder / f"part-{n:02d}.json", {key: docs[key]})
    grp = reachgraph.load(folder).model.groups[SERVER_SG]
    ids = {(r.direction, r.ports_text(), r.peer): r.rule_id for r in grp.ingress + grp.egress}
    assert ids == {("ingress", "tcp/443", "10.0.0.0/16"): "sgr-0000000000000a443",
                   ("ingress", "tcp/443", CLIENT_SG): "sgr-0000000000000b443",
                   ("ingress", "tcp/22", "10.9.0.0/16"): None,
                   ("egress", "all traffic", "0.0.0.0/0"): "sgr-00000000000000e01"}
    assert grp.ingress[0].describe() == f"{SERVER_SG} ingress tcp/443 from 10.0.0.0/16 (sgr-0000000000000a443)"
