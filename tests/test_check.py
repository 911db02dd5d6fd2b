"""`reachgraph check INTENTS.yaml` (issue 6 part 3): declared expectations against a snapshot; a table, JSON and
JUnit XML (validated by parsing it); violations exit 1, names that resolve to nothing are errors, bad input
exits 2 with the file and line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import reachgraph
from conftest import EXAMPLE, run_cli
from reachgraph.errors import InputError
from reachgraph.intents import Intent, check_intents, load_intents, parse_intents

INTENTS = EXAMPLE / "intents.yaml"


def junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return root


# -- the incident -------------------------------------------------------------------------------------
def test_incident_intents_fail_on_before(before_snapshot):
    report = before_snapshot.check(INTENTS)
    assert not report.passed
    assert [r.status for r in report.results] == ["fail", "pass", "pass", "pass"]
    first = report.results[0]
    assert first.intent.title == "api -> redis:6379 is reachable" and first.verdict == "blocked"
    assert "sg-0e61190afc2502b10" in first.message
    assert first.fixes == ("aws ec2 authorize-security-group-ingress --group-id sg-0454e74e2924a7754 --protocol tcp "
                           "--port 6379 --source-group sg-0864e6f6aee2a5cf4",)
    assert first.intent.line == 4 and first.intent.where.endswith("intents.yaml:4")


def test_incident_intents_pass_on_after_and_pre_migration(after_snapshot):
    assert after_snapshot.check(INTENTS).passed
    assert reachgraph.load(EXAMPLE / "pre-migration").check(INTENTS).passed


def test_unknown_names_are_errors_not_passes(after_snapshot):
    report = check_intents(after_snapshot, [Intent("api", "nosuchservice:443", "blocked"),
                                            Intent("ghost", "redis", "blocked"), Intent("api", "redis", "reachable")])
    assert [r.status for r in report.results] == ["error", "error", "pass"]
    assert "nosuchservice" in report.results[0].message and not report.passed
    assert report.counts == {"pass": 1, "fail": 0, "error": 2}


def test_expect_blocked_fails_when_reachable_and_unknown_is_not_blocked(after_snapshot):
    report = check_intents(after_snapshot, [Intent("api", "redis:6379", "blocked"),
                                            Intent("alb", "api:8000", "partial")])
    assert [r.status for r in report.results] == ["fail", "fail"]
    assert "sg-0454e74e2924a7754 ingress tcp/6379" in report.results[0].message


def test_wildcards_are_not_intents(after_snapshot):
    [r] = check_intents(after_snapshot, [Intent("*", "redis:6379", "blocked")]).results
    assert r.status == "error" and "fan-out" in r.message


# -- parsing ------------------------------------------------------------------------------------------
def test_parse_with_names_ports_protocols_and_the_mapping_form():
    items = parse_intents("intents:\n  - name: cache is private\n    from: internet\n    to: redis\n"
                          "    expect: BLOCKED\n  - from: api\n    to: redis\n    port: 6379\n    protocol: tcp\n"
                          "    expect: reachable\n", "x.yaml")
    assert [(i.title, i.expect, i.port, i.protocol, i.line) for i in items] == [
        ("cache is private", "blocked", None, None, 2), ("api -> redis is reachable", "reachable", 6379, "tcp", 6)]


@pytest.mark.parametrize("text, message", [
    ("- from: api\n  to: redis\n  expect: [reachable\n", "x.yaml:4: invalid YAML"),
    ("- from: api\n  to: redis\n", "x.yaml:1: intent 1 has no expect"),
    ("- from: api\n  to: redis\n  expect: reachable\n- from: a\n  to: b\n  expect: open\n",
     "x.yaml:4: intent 2: unknown expect 'open'; use one of reachable, partial, blocked, unknown"),
    ("- from: api\n  to: redis\n  expect: reachable\n  when: always\n", "x.yaml:1: intent 1 has unknown key when"),
    ("- from: api\n  to: redis\n  expect: reachable\n  port: http\n", "port 'http' is not a number"),
    ("- just a string\n", "x.yaml:1: intent 1 is not a mapping"),
    ("from: api\n", "x.yaml:1: expected a list of intents"),
    ("", "x.yaml: no intents in the file"),
    ("[]\n", "x.yaml: the intents list is empty"),
])
def test_bad_intents_files_name_file_and_line(text, message):
    with pytest.raises(InputError) as exc:
        parse_intents(text, "x.yaml")
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such intents file"):
        load_intents(tmp_path / "nope.yaml")


# -- JUnit --------------------------------------------------------------------------------------------
def test_junit_xml_parses_and_counts(before_snapshot, tmp_path):
    report = check_intents(before_snapshot, list(load_intents(INTENTS))
                           + [Intent("api", "nothing-here", "reachable", file="extra.yaml", line=1)],
                           intents_file=str(INTENTS))
    path = tmp_path / "j.xml"
    path.write_text(report.to_junit())
    root = junit(path)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "1")
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases][:2] == ["api -> redis:6379 is reachable", "internet -> redis is blocked"]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message") == "expected reachable, got blocked"
    assert "aws ec2 authorize-security-group-ingress" in failure.text
    assert cases[1].find("failure") is None and cases[1].find("error") is None
    assert cases[4].find("error") is not None
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["snapshot"] == before_snapshot.source


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_before_fails_after_passes_with_junit(tmp_path):
    out = tmp_path / "before.xml"
    before = run_cli("check", str(INTENTS), "--snapshot", str(EXAMPLE / "before"), "--junit", str(out))
    assert before.returncode == 1, before.stderr
    assert "FAIL" in before.stdout and "3 passed, 1 failed, 0 errors" in before.stdout
    assert "fix: aws ec2 authorize-security-group-ingress" in before.stdout
    assert junit(out).get("failures") == "1"
    out2 = tmp_path / "after.xml"
    after = run_cli("check", str(INTENTS), "--snapshot", str(EXAMPLE / "after"), "--junit", str(out2))
    assert after.returncode == 0 and "4 passed, 0 failed, 0 errors" in after.stdout
    assert junit(out2).get("failures") == "0" and junit(out2).get("errors") == "0"


def test_cli_json_and_environment():
    r = run_cli("check", str(INTENTS), "--json", env={"REACHGRAPH_SNAPSHOT": str(EXAMPLE / "after")})
    data = json.loads(r.stdout)
    assert r.returncode == 0 and data["passed"] is True and data["counts"]["pass"] == 4
    assert [x["status"] for x in data["results"]] == ["pass"] * 4


def test_cli_unresolved_intent_exits_1(tmp_path):
    f = tmp_path / "i.yaml"
    f.write_text("- from: api\n  to: nosuchservice:443\n  expect: blocked\n")
    r = run_cli("check", str(f), "--snapshot", str(EXAMPLE / "after"))
    assert r.returncode == 1 and "ERROR" in r.stdout and "0 passed, 0 failed, 1 errors" in r.stdout


def test_cli_bad_input_exits_2_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- from: api\n  to: redis\n  expect: [oops\n")
    r = run_cli("check", str(bad), "--snapshot", str(EXAMPLE / "after"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and f"{bad}:4: invalid YAML" in r.stderr
    missing = run_cli("check", str(tmp_path / "nope.yaml"), "--snapshot", str(EXAMPLE / "after"))
    assert missing.returncode == 2 and "no such intents file" in missing.stderr
    no_snapshot = run_cli("check", str(INTENTS))
    assert no_snapshot.returncode == 2 and "REACHGRAPH_SNAPSHOT" in no_snapshot.stderr
    bad_junit = run_cli("check", str(INTENTS), "--snapshot", str(EXAMPLE / "after"), "--junit",
                        str(tmp_path / "no" / "dir" / "j.xml"))
    assert bad_junit.returncode == 2
