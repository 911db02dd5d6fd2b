#!/usr/bin/env python3
"""Regenerate docs/diagrams/ from the bundled incident example, with the installed `reachgraph diagram`.

    .venv/bin/python scripts/make_diagrams.py              # rewrite docs/diagrams/*.{svg,dot,md}
    .venv/bin/python scripts/make_diagrams.py --check      # exit 1 if docs/diagrams/ is out of date
    .venv/bin/python scripts/make_diagrams.py --out DIR    # write somewhere else (the docs test does)

Each output is one `reachgraph diagram` command (listed by --list), run from the repository root
so the same commands can be typed by hand. SVG needs Graphviz's `dot`; DOT and Mermaid do not.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "diagrams"
EXAMPLE = "examples/incident-2025-11-07"
HIGHLIGHT = "api -> redis:6379"

# (output file name, arguments to `reachgraph diagram` before -o)
JOBS: list[tuple[str, list[str]]] = []
for _state in ("before", "after"):
    for _ext in ("svg", "dot", "md"):
        JOBS.append((f"{_state}.{_ext}", ["--snapshot", f"{EXAMPLE}/{_state}"]))
        JOBS.append((f"{_state}-api-redis.{_ext}", ["--snapshot", f"{EXAMPLE}/{_state}", "--highlight", HIGHLIGHT]))
JOBS.sort()


def reachgraph_bin() -> str:
    """The console script next to this interpreter (the venv's), else the one on PATH."""
    candidate = Path(sys.executable).parent / "reachgraph"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("reachgraph")
    if not found:
        sys.exit("make_diagrams: the reachgraph console script is not installed (pip install -e .)")
    return found


def commands(out: Path) -> list[list[str]]:
    """The `reachgraph diagram` command lines, one per output file."""
    return [["reachgraph", "diagram", *args, "-o", str(out / name)] for name, args in JOBS]


def generate(out: Path) -> list[Path]:
    """Run every job into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    exe = reachgraph_bin()
    written = []
    for cmd in commands(out):
        proc = subprocess.run([exe, *cmd[1:]], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"make_diagrams: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        written.append(Path(cmd[-1]))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="folder to write (default: docs/diagrams)")
    parser.add_argument("--check", action="store_true", help="regenerate to a temporary folder and compare")
    parser.add_argument("--list", action="store_true", help="print the commands and exit")
    args = parser.parse_args(argv)
    if args.list:
        rel = args.out.resolve().relative_to(ROOT) if args.out.resolve().is_relative_to(ROOT) else args.out
        for cmd in commands(Path(rel)):
            print(" ".join(f"'{c}'" if " " in c else c for c in cmd))
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            stale = [name for name, _ in JOBS if not (DOCS / name).exists()
                     or not filecmp.cmp(Path(tmp) / name, DOCS / name, shallow=False)]
        if stale:
            print("make_diagrams: out of date: " + ", ".join(stale) + "; run scripts/make_diagrams.py",
                  file=sys.stderr)
            return 1
        print(f"make_diagrams: {len(JOBS)} files up to date")
        return 0
    for path in generate(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
