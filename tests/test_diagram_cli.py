"""`reachgraph diagram` end to end: formats, stdout, --json, errors, missing Graphviz, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import run_cli
from reachgraph.cli.diagram_cmd import write_atomic

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
REDIS_SG, OLD_SG = "sg-0454e74e2924a7754", "sg-0e61190afc2502b10"


@pytest.fixture(scope="module")
def before(example_dir: Path) -> str:
    return str(example_dir / "before")


def _no_temp_files(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


def test_dot_on_stdout_without_output(before: str) -> None:
    r = run_cli("diagram", "--snapshot", before)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("digraph reachgraph {") and r.stdout.rstrip().endswith("}")
    assert f'id="{OLD_SG}"' in r.stdout
    assert r.stderr == ""


def test_snapshot_from_environment(before: str) -> None:
    r = run_cli("diagram", "--format", "mermaid", env={"REACHGRAPH_SNAPSHOT": before})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("---\ntitle: ") and "flowchart LR" in r.stdout


@needs_dot
@pytest.mark.parametrize(("name", "magic"), [("d.svg", b"<?xml"), ("d.png", b"\x89PNG"), ("d.pdf", b"%PDF"),
                                             ("d.dot", b"digraph"), ("d.gv", b"digraph"), ("d.mmd", b"---\n"),
                                             ("d.md", b"```mermaid\n")])
def test_format_from_output_extension(before: str, tmp_path: Path, name: str, magic: bytes) -> None:
    out = tmp_path / name
    r = run_cli("diagram", "--snapshot", before, "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(magic)
    assert f"wrote {out}" in r.stderr
    _no_temp_files(tmp_path)


@needs_dot
def test_svg_output_has_the_groups(before: str, tmp_path: Path) -> None:
    out = tmp_path / "before.svg"
    r = run_cli("diagram", "--snapshot", before, "-o", str(out), "--highlight", "api -> redis:6379")
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {REDIS_SG, OLD_SG, "sg-0864e6f6aee2a5cf4"} <= ids
    assert "BLOCKED" in out.read_text()


def test_format_option_overrides_extension(before: str, tmp_path: Path) -> None:
    out = tmp_path / "diagram.txt"
    r = run_cli("diagram", "--snapshot", before, "-o", str(out), "--format", "mermaid")
    assert r.returncode == 0, r.stderr
    assert "flowchart LR" in out.read_text()


def test_json_summary(before: str, tmp_path: Path) -> None:
    out = tmp_path / "d.dot"
    r = run_cli("diagram", "--snapshot", before, "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["output"] == str(out) and summary["format"] == "dot"
    assert summary["nodes"] == 9 and summary["edges"] == 8 and summary["clusters"] == 3
    assert summary["title"].startswith("Security-group dependencies")
    assert summary["collapsed"] is False
    # Without -o, --json prints only the summary.
    r = run_cli("diagram", "--snapshot", before, "--json", "--focus", "redis", "--depth", "0")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["output"] is None and summary["nodes"] == 2
    assert "neighbourhood of hokusai-redis-development" in summary["title"]


def test_collapse_above_option(before: str) -> None:
    r = run_cli("diagram", "--snapshot", before, "--collapse-above", "3", "--json")
    summary = json.loads(r.stdout)
    assert summary["collapsed"] is True and "workloads collapsed into their groups" in summary["title"]


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "x.jpeg"], "cannot tell the format"),
    (["--format", "gif"], "unknown --format"),
    (["--vpc", "vpc-nope"], "no VPC vpc-nope"),
    (["--focus", "nosuchthing"], "no workload, group or address matches"),
    (["--highlight", "api redis"], "bad --highlight"),
    (["--highlight", "api -> nosuch:1"], "no workload, group or address matches"),
    (["--rankdir", "XY"], "unknown --rankdir"),
    (["-o", "/nonexistent-folder/x.svg"], "output folder does not exist"),
])
def test_usage_errors_exit_2_in_one_line(before: str, args: list[str], message: str) -> None:
    r = run_cli("diagram", "--snapshot", before, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_missing_snapshot_exits_2(tmp_path: Path) -> None:
    r = run_cli("diagram", "--snapshot", str(tmp_path / "nope"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def _path_without_dot(tmp_path: Path) -> str:
    """A PATH with no `dot` on it (the console script runs by its absolute path)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return str(empty)


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_missing_dot_fails_renders_with_install_hint(before: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"d.{fmt}"
    r = run_cli("diagram", "--snapshot", before, "-o", str(out), env={"PATH": _path_without_dot(tmp_path)})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Graphviz" in lines[0] and "apt-get install graphviz" in lines[0] and "brew install graphviz" in lines[0]
    assert not out.exists()
    _no_temp_files(tmp_path)


@pytest.mark.parametrize(("fmt", "start"), [("dot", "digraph"), ("mermaid", "---")])
def test_missing_dot_still_writes_dot_and_mermaid(before: str, tmp_path: Path, fmt: str, start: str) -> None:
    r = run_cli("diagram", "--snapshot", before, "--format", fmt, env={"PATH": _path_without_dot(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(start)


def test_failure_leaves_an_existing_output_untouched(before: str, tmp_path: Path) -> None:
    out = tmp_path / "d.dot"
    out.write_text("old contents\n")
    r = run_cli("diagram", "--snapshot", before, "-o", str(out), "--focus", "nosuchthing")
    assert r.returncode == 2
    assert out.read_text() == "old contents\n"
    _no_temp_files(tmp_path)


def test_write_atomic_replaces_or_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.svg"
    write_atomic(target, b"first")
    assert target.read_bytes() == b"first"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, b"second")
    assert target.read_bytes() == b"first"
    _no_temp_files(tmp_path)
    with pytest.raises(OSError):
        write_atomic(tmp_path / "new.svg", b"data")
    assert not (tmp_path / "new.svg").exists()
    _no_temp_files(tmp_path)


def test_binary_format_to_a_terminal_is_refused(before: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PNG bytes on a terminal help no one: ask for -o instead (in-process, with a fake TTY)."""
    from typer.testing import CliRunner

    from reachgraph.cli import app, diagram_cmd

    monkeypatch.setattr(diagram_cmd, "_stdout_is_tty", lambda: True)
    result = CliRunner().invoke(app, ["diagram", "--snapshot", before, "--format", "png"])
    assert result.exit_code == 2
    assert "-o diagram.png" in result.output
    monkeypatch.setattr(diagram_cmd, "_stdout_is_tty", lambda: False)
    result = CliRunner().invoke(app, ["diagram", "--snapshot", before, "--format", "dot"])
    assert result.exit_code == 0 and result.output.startswith("digraph")
