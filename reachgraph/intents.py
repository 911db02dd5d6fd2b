"""Intents: declared expectations (`from`, `to`, `expect`) checked against a snapshot, for CI and monitoring.

    - from: api
      to: redis:6379
      expect: reachable
    - name: redis is private
      from: internet
      to: redis
      expect: blocked

Each intent is one `reachgraph query FROM TO`; it passes when the verdict is the expected one. A name that
resolves to nothing is an error, never a pass. Results print as a table, JSON or JUnit XML.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from reachgraph.errors import InputError, ReachgraphError
from reachgraph.resolve import split_destination

VERDICTS = ("reachable", "partial", "blocked", "unknown")
KEYS = ("name", "from", "to", "expect", "port", "protocol", "description")
STATUSES = ("pass", "fail", "error")


@dataclass(frozen=True)
class Intent:
    """One expectation: FROM reaches (or not) TO."""

    source: str
    destination: str
    expect: str
    name: str = ""
    port: int | None = None
    protocol: str | None = None
    file: str | None = None
    line: int | None = None

    @property
    def title(self) -> str:
        """The intent's name, or 'api -> redis:6379 is reachable'."""
        return self.name or f"{self.source} -> {self.destination} is {self.expect}"

    @property
    def where(self) -> str:
        """file:line."""
        return f"{self.file or '<intents>'}:{self.line}" if self.line else (self.file or "<intents>")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.title, "from": self.source, "to": self.destination, "expect": self.expect,
                "port": self.port, "protocol": self.protocol, "file": self.file, "line": self.line}


@dataclass(frozen=True)
class IntentResult:
    """pass, fail (the verdict differs) or error (the intent cannot be evaluated: unknown name, bad port)."""

    intent: Intent
    status: str
    verdict: str | None
    message: str
    traffic: str | None = None
    fixes: tuple[str, ...] = ()
    result: Any = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"intent": self.intent.to_dict(), "status": self.status, "verdict": self.verdict,
                "expect": self.intent.expect, "traffic": self.traffic, "message": self.message,
                "fixes": list(self.fixes)}


@dataclass(frozen=True)
class CheckReport:
    """Every intent's result against one snapshot."""

    intents_file: str
    snapshot: str
    results: tuple[IntentResult, ...]

    @property
    def passed(self) -> bool:
        """Every intent passed (no failure, no error)."""
        return all(r.status == "pass" for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        """Results per status."""
        return {s: sum(1 for r in self.results if r.status == s) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        """JSON form of `reachgraph check --json`."""
        return {"intents": self.intents_file, "snapshot": self.snapshot, "passed": self.passed,
                "counts": self.counts, "results": [r.to_dict() for r in self.results]}

    def to_junit(self) -> str:
        """JUnit XML: one testsuite, one testcase per intent, <failure> for violations, <error> for errors."""
        counts = self.counts
        total = str(len(self.results))
        suites = ET.Element("testsuites", {"name": "reachgraph check", "tests": total,
                                           "failures": str(counts["fail"]), "errors": str(counts["error"])})
        stem = Path(self.intents_file).stem or "intents"
        suite = ET.SubElement(suites, "testsuite", {"name": f"reachgraph check {Path(self.intents_file).name}",
                                                    "tests": total, "failures": str(counts["fail"]),
                                                    "errors": str(counts["error"]), "skipped": "0"})
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "snapshot", "value": self.snapshot})
        ET.SubElement(props, "property", {"name": "intents", "value": self.intents_file})
        classname = "reachgraph.intents." + re.sub(r"[^A-Za-z0-9_]+", "_", stem)
        for r in self.results:
            case = ET.SubElement(suite, "testcase", {"classname": classname, "name": r.intent.title,
                                                     "file": r.intent.file or "", "line": str(r.intent.line or "")})
            detail = "\n".join([r.message, *(f"fix: {f}" for f in r.fixes)])
            if r.status == "fail":
                el = ET.SubElement(case, "failure", {"message": f"expected {r.intent.expect}, got {r.verdict}",
                                                     "type": "IntentViolation"})
                el.text = detail
            elif r.status == "error":
                el = ET.SubElement(case, "error", {"message": r.message, "type": "IntentError"})
                el.text = f"{r.intent.where}: {r.message}"
            else:
                out = ET.SubElement(case, "system-out")
                out.text = r.message
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# -- parsing ---------------------------------------------------------------------------------------
def load_intents(path: str | os.PathLike[str]) -> list[Intent]:
    """Read an intents YAML file; errors name the file and line."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such intents file", str(p), "check the path")
    if p.is_dir():
        raise InputError("is a folder, not an intents file", str(p), "give a YAML file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read intents file: {exc}", str(p)) from None
    return parse_intents(text, str(p))


def parse_intents(text: str, source: str = "<intents>") -> list[Intent]:
    """Parse intents YAML: a list of {from, to, expect[, name, port, protocol]}, or {intents: [...]}."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", where, "intents are a YAML list of from/to/expect items") \
            from None
    if node is None or data is None:
        raise InputError("no intents in the file", source, "write a list of items with from:, to: and expect:")
    if isinstance(data, dict) and "intents" in data and isinstance(node, yaml.MappingNode):
        node = next(v for k, v in node.value if k.value == "intents")
        data = data["intents"]
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise InputError("expected a list of intents", f"{source}:{node.start_mark.line + 1}",
                         "each item: from: NAME, to: NAME[:PORT], expect: reachable|blocked|partial|unknown")
    if not data:
        raise InputError("the intents list is empty", source, "add items with from:, to: and expect:")
    return [_intent(item, n, source, item_node.start_mark.line + 1)
            for n, (item, item_node) in enumerate(zip(data, node.value), 1)]


def _intent(item: Any, n: int, source: str, line: int) -> Intent:
    where = f"{source}:{line}"
    if not isinstance(item, dict):
        raise InputError(f"intent {n} is not a mapping", where, "write from:, to: and expect: keys")
    unknown = sorted(str(k) for k in item if k not in KEYS)
    if unknown:
        raise InputError(f"intent {n} has unknown key{'s' * (len(unknown) > 1)} {', '.join(unknown)}", where,
                         f"allowed keys: {', '.join(KEYS)}")
    missing = [k for k in ("from", "to", "expect") if item.get(k) in (None, "")]
    if missing:
        raise InputError(f"intent {n} has no {' or '.join(missing)}", where,
                         "each intent needs from:, to: and expect:")
    values = {}
    for k in ("from", "to", "expect", "name", "protocol"):
        v = item.get(k)
        if v is None:
            continue
        if isinstance(v, (dict, list)):
            raise InputError(f"intent {n}: '{k}' must be a single value, not a {type(v).__name__}", where)
        values[k] = str(v).strip()
    expect = values["expect"].lower()
    if expect not in VERDICTS:
        raise InputError(f"intent {n}: unknown expect {values['expect']!r}", where,
                         f"use one of {', '.join(VERDICTS)}")
    port = item.get("port")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InputError(f"intent {n}: port {port!r} is not a number 0-65535", where)
    return Intent(source=values["from"], destination=values["to"], expect=expect, name=values.get("name", ""),
                  port=port, protocol=values.get("protocol"), file=source, line=line)


# -- checking --------------------------------------------------------------------------------------
def check_intents(snapshot: Any, intents: str | os.PathLike[str] | Iterable[Intent],
                  intents_file: str | None = None) -> CheckReport:
    """Evaluate intents against a Snapshot (a path to a YAML file, or Intent records)."""
    if isinstance(intents, (str, os.PathLike)):
        intents_file = intents_file or str(intents)
        items = load_intents(intents)
    else:
        items = list(intents)
    results = tuple(check_one(snapshot, i) for i in items)
    return CheckReport(intents_file or (items[0].file if items and items[0].file else "<intents>"),
                       str(snapshot.source), results)


def check_one(snapshot: Any, intent: Intent) -> IntentResult:
    """One intent: pass, fail or error."""
    if intent.source.strip() == "*" or split_destination(intent.destination)[0] == "*":
        return IntentResult(intent, "error", None, "'*' is a fan-out query, not an intent; name both ends")
    try:
        r = snapshot.query(intent.source, intent.destination, port=intent.port, protocol=intent.protocol)
    except ReachgraphError as exc:
        return IntentResult(intent, "error", None, str(exc))
    if r.source.kind == "unresolved" or r.destination.kind == "unresolved":
        return IntentResult(intent, "error", r.verdict, "; ".join(r.unknown_reasons) or "a name resolves to nothing",
                            r.traffic, result=r)
    head = f"{r.source.label} -> {r.destination.label} {r.traffic}: {r.verdict}"
    if r.verdict == intent.expect:
        return IntentResult(intent, "pass", r.verdict, head, r.traffic, result=r)
    why = [b.detail for b in r.blockers] or [a.rule for a in r.allowed_by if a.direction == "ingress"] \
        or list(r.unknown_reasons)
    message = f"expected {intent.expect}, got {r.verdict}: " + "; ".join(why[:3]) if why else \
        f"expected {intent.expect}, got {r.verdict}"
    fixes = tuple(r.fixes) if intent.expect == "reachable" else ()
    return IntentResult(intent, "fail", r.verdict, message, r.traffic, fixes, result=r)
