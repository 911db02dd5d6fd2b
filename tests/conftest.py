"""Shared fixtures: paths to the bundled example and a helper to run the installed CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "incident-2025-11-07"


def reachgraph_bin() -> str:
    """The installed console script next to this interpreter (the venv's), else on PATH."""
    candidate = Path(sys.executable).parent / "reachgraph"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("reachgraph")
    assert found, "the reachgraph console script is not installed"
    return found


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed `reachgraph` as a subprocess; no terminal, so plain output."""
    full_env = {k: v for k, v in os.environ.items() if k != "REACHGRAPH_SNAPSHOT"}
    full_env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    if env:
        full_env.update(env)
    return subprocess.run([reachgraph_bin(), *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd or ROOT, timeout=timeout)


@pytest.fixture(scope="session")
def example_dir() -> Path:
    """The bundled incident example folder."""
    return EXAMPLE


@pytest.fixture(scope="session")
def before_snapshot():
    """The incident's `before` snapshot, loaded once."""
    import reachgraph

    return reachgraph.load(EXAMPLE / "before")


@pytest.fixture(scope="session")
def after_snapshot():
    """The incident's `after` snapshot, loaded once."""
    import reachgraph

    return reachgraph.load(EXAMPLE / "after")
