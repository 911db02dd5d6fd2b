"""`--assume` texts and AWS CLI fix commands -> what-if changes; bad texts fail in one line with the syntax."""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLE, run_cli
from reachgraph.errors import InputError
from reachgraph.whatif import ASSUME_SYNTAX, AuthorizeRule, MoveWorkload, RevokeRule, parse_assume, parse_fix

REDIS_SG, NEW_SG = "sg-0454e74e2924a7754", "sg-0864e6f6aee2a5cf4"


def one(text):
    (change,) = parse_assume(text)
    return change


@pytest.mark.parametrize(("text", "cls", "direction", "protocol", "ports", "peer_kind", "peer"), [
    (f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}", AuthorizeRule, "ingress", "tcp", (6379, 6379), "group",
     NEW_SG),
    (f"revoke-ingress {REDIS_SG} tcp 6379 {NEW_SG}", RevokeRule, "ingress", "tcp", (6379, 6379), "group", NEW_SG),
    (f"authorize-egress {NEW_SG} udp 1000-2000 10.0.0.0/16", AuthorizeRule, "egress", "udp", (1000, 2000), "cidr4",
     "10.0.0.0/16"),
    (f"revoke-egress {NEW_SG} all 0.0.0.0/0", RevokeRule, "egress", "-1", (None, None), "cidr4", "0.0.0.0/0"),
    (f"authorize-ingress {REDIS_SG} -1 all 10.0.1.5", AuthorizeRule, "ingress", "-1", (None, None), "cidr4",
     "10.0.1.5/32"),
    (f"authorize-ingress {REDIS_SG} tcp all ::/0", AuthorizeRule, "ingress", "tcp", (0, 65535), "cidr6", "::/0"),
    (f"authorize-ingress {REDIS_SG} icmp 8 10.0.0.0/8", AuthorizeRule, "ingress", "icmp", (8, -1), "cidr4",
     "10.0.0.0/8"),
    (f"authorize-ingress {REDIS_SG} icmp 3:4 10.0.0.0/8", AuthorizeRule, "ingress", "icmp", (3, 4), "cidr4",
     "10.0.0.0/8"),
    (f"authorize-ingress {REDIS_SG} 6 443 pl-0123456789abcdef0", AuthorizeRule, "ingress", "tcp", (443, 443),
     "prefix_list", "pl-0123456789abcdef0"),
    (f"authorize-ingress {REDIS_SG} 50 {NEW_SG}", AuthorizeRule, "ingress", "50", (None, None), "group", NEW_SG),
    (f"AUTHORIZE-INGRESS {REDIS_SG} TCP 6379 999988887777/{NEW_SG}", AuthorizeRule, "ingress", "tcp", (6379, 6379),
     "group", NEW_SG),
])
def test_short_forms(text, cls, direction, protocol, ports, peer_kind, peer):
    c = one(text)
    assert isinstance(c, cls)
    r = c.rule
    assert (r.direction, r.protocol, (r.from_port, r.to_port), r.peer_kind, r.peer) == (direction, protocol, ports,
                                                                                       peer_kind, peer)
    assert c.origin and c.origin.startswith("--assume ")


def test_cross_account_peer_keeps_the_account():
    assert one(f"authorize-ingress {REDIS_SG} tcp 6379 999988887777/{NEW_SG}").rule.peer_account == "999988887777"


def test_move():
    c = one(f"move api {NEW_SG},{REDIS_SG}")
    assert isinstance(c, MoveWorkload) and c.target == "api" and c.group_ids == (NEW_SG, REDIS_SG)
    assert one(f"move api {NEW_SG} {REDIS_SG}").group_ids == (NEW_SG, REDIS_SG)


@pytest.mark.parametrize("command", [
    f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol tcp --port 6379 "
    f"--source-group {NEW_SG}",
    f"aws ec2 authorize-security-group-ingress --group-id={REDIS_SG} --protocol=6 --port=6379 --source-group={NEW_SG}",
    f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --ip-permissions "
    f"'IpProtocol=tcp,FromPort=6379,ToPort=6379,UserIdGroupPairs=[{{GroupId={NEW_SG}}}]'",
    f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --ip-permissions "
    f"'[{{\"IpProtocol\": \"tcp\", \"FromPort\": 6379, \"ToPort\": 6379, \"UserIdGroupPairs\": [{{\"GroupId\": "
    f"\"{NEW_SG}\"}}]}}]'",
])
def test_aws_cli_forms_give_the_same_rule(command):
    (c,) = parse_fix(command)
    assert isinstance(c, AuthorizeRule)
    r = c.rule
    assert (r.group_id, r.direction, r.protocol, r.from_port, r.to_port, r.peer) == (REDIS_SG, "ingress", "tcp", 6379,
                                                                                     6379, NEW_SG)
    assert parse_assume(command)[0].rule == r


def test_aws_cli_permissions_with_several_peers_and_kinds():
    changes = parse_fix(f"aws ec2 revoke-security-group-egress --group-id {NEW_SG} --ip-permissions "
                        "'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0},{CidrIp=10.0.0.0/8,Description=x}],"
                        "Ipv6Ranges=[{CidrIpv6=::/0}],PrefixListIds=[{PrefixListId=pl-0123456789abcdef0}]'")
    assert all(isinstance(c, RevokeRule) and c.rule.direction == "egress" for c in changes)
    assert [(c.rule.peer_kind, c.rule.peer) for c in changes] == [
        ("cidr4", "0.0.0.0/0"), ("cidr4", "10.0.0.0/8"), ("cidr6", "::/0"), ("prefix_list", "pl-0123456789abcdef0")]
    assert changes[1].rule.description == "x"


def test_aws_cli_icmp_and_cidr():
    (c,) = parse_fix(f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --ip-permissions "
                     "'IpProtocol=icmp,FromPort=8,ToPort=0,IpRanges=[{CidrIp=10.0.1.23/32}]'")
    assert (c.rule.protocol, c.rule.from_port, c.rule.to_port, c.rule.peer) == ("icmp", 8, 0, "10.0.1.23/32")
    (c,) = parse_fix(f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol udp --port 53 "
                     "--cidr 10.0.0.0/16")
    assert (c.rule.protocol, c.rule.from_port, c.rule.peer) == ("udp", 53, "10.0.0.0/16")


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("open the firewall", "unknown verb"),
    (f"authorize-ingress {REDIS_SG} tcp", "takes GROUP PROTOCOL PORTS PEER"),
    (f"authorize-ingress {REDIS_SG} tcp 6379", "needs PORTS"),
    (f"authorize-ingress redis tcp 6379 {NEW_SG}", "must be a security group id"),
    (f"authorize-ingress {REDIS_SG} tcpp 6379 {NEW_SG}", "unknown protocol"),
    (f"authorize-ingress {REDIS_SG} tcp 70000 {NEW_SG}", "not within 0-65535"),
    (f"authorize-ingress {REDIS_SG} tcp 20-10 {NEW_SG}", "not within 0-65535"),
    (f"authorize-ingress {REDIS_SG} tcp six {NEW_SG}", "bad port"),
    (f"authorize-ingress {REDIS_SG} tcp 6379 redis", "not a security group id, prefix list id or CIDR"),
    ("move api", "move takes WORKLOAD"),
    ("move api redis", "must be a security group id"),
    ("authorize-ingress 'sg-1", "No closing quotation"),
    ("aws s3 ls", "only 'aws ec2"),
    ("aws ec2 authorize-security-group-ingress --protocol tcp --port 1 --cidr 10.0.0.0/8", "--group-id is required"),
    (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --port 1", "--protocol or --ip-permissions"),
    (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol tcp --port 1", "--source-group or"),
    (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --ip-permissions 'IpProtocol=tcp'",
     "names no CIDR"),
    (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --ip-permissions "
     "'IpProtocol=tcp,IpRanges=[{CidrIp=10.0.0.0/8}'", "unclosed"),
])
def test_bad_texts_raise_one_line_input_errors_naming_the_syntax(text, reason):
    with pytest.raises(InputError) as info:
        parse_assume(text)
    message = str(info.value)
    assert reason in message
    assert ASSUME_SYNTAX in message
    assert "\n" not in message


def test_parse_fix_refuses_non_aws_commands():
    with pytest.raises(InputError, match="not an 'aws ...' command"):
        parse_fix(f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}")


def test_cli_bad_assume_exits_2_with_one_line_naming_the_syntax():
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"), "--assume",
                f"authorize-ingress {REDIS_SG} tcp")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reachgraph: error: bad --assume")
    assert "authorize-ingress|revoke-ingress|authorize-egress|revoke-egress GROUP PROTOCOL PORT[-PORT] PEER" in lines[0]
    assert "move WORKLOAD GROUP[,GROUP...]" in lines[0]
    assert r.stdout == ""


def test_cli_assume_fixes_the_incident_and_reports_the_change_in_json():
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"), "--json", "--assume",
                f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["verdict"] == "reachable"
    assert out["whatif"]["assume"] == [f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}"]
    (change,) = out["whatif"]["changes"]
    assert change["kind"] == "authorize" and change["group"] == REDIS_SG and change["peer"] == NEW_SG
    assert out["whatif"]["warnings"] == []


def test_cli_repeated_assume_applies_in_order():
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"),
                "--assume", f"authorize-ingress {REDIS_SG} tcp 6379 {NEW_SG}",
                "--assume", f"revoke-ingress {REDIS_SG} tcp 6379 {NEW_SG}")
    assert r.returncode == 1
    assert r.stdout.startswith("BLOCKED")
    assert "what-if: 2 changes from --assume" in r.stderr


def test_cli_assume_a_suggested_fix_command():
    fix = (f"aws ec2 authorize-security-group-ingress --group-id {REDIS_SG} --protocol tcp --port 6379 "
           f"--source-group {NEW_SG}")
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "before"), "--assume", fix)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("REACHABLE")


def test_cli_without_whatif_has_no_whatif_key():
    r = run_cli("query", "api", "redis:6379", "--snapshot", str(EXAMPLE / "after"), "--json")
    assert r.returncode == 0 and "whatif" not in json.loads(r.stdout)
