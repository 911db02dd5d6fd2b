"""notebooks/audit.ipynb runs headless, top to bottom, with this interpreter's kernel, and says what it should.

The kernel spec is installed into a temporary folder (ipykernel pointing at sys.executable) and found through
JUPYTER_PATH, so nothing has to be installed beforehand: CI needs only the test extras.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "audit.ipynb"
KERNEL = "reachgraph-test"
FIX = ("aws ec2 authorize-security-group-ingress --group-id sg-0454e74e2924a7754 --protocol tcp --port 6379 "
       "--source-group sg-0864e6f6aee2a5cf4")

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_notebook_is_committed_without_outputs() -> None:
    """Outputs are made by running it, never stored: the file stays small and its diffs readable."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} has stored outputs"
    assert all(re.fullmatch(r"cell-\d\d", c.id) for c in nb.cells), "cell ids should be stable (cell-NN)"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory):
    """The notebook after running every cell with a kernel for this interpreter."""
    prefix = tmp_path_factory.mktemp("jupyter")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", KERNEL,
                    "--display-name", "reachgraph (test)"], check=True, capture_output=True, text=True)
    env_before = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "MPLBACKEND", "REACHGRAPH_SNAPSHOT")}
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ.pop("MPLBACKEND", None)       # the kernel's inline backend, not a GUI one
    os.environ.pop("REACHGRAPH_SNAPSHOT", None)
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=300, allow_errors=False,
                                         resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    finally:
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def _text(output: dict) -> str:
    """Everything a reader would see of one output: stream text, plain text, HTML, error text."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "\n".join(str(data.get(k, "")) for k in ("text/plain", "text/html", "image/svg+xml"))


def _cell_with(nb, needle: str):
    """The first code cell whose source contains `needle`, and all its output text."""
    for cell in nb.cells:
        if cell.cell_type == "code" and needle in cell.source:
            return cell, "\n".join(_text(o) for o in cell.outputs)
    raise AssertionError(f"no code cell contains {needle!r}")


@pytest.mark.slow
def test_every_cell_runs_without_error(executed) -> None:
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None, f"cell {cell.id} did not run"
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            assert not errors, f"cell {cell.id} failed:\n" + "\n".join(_text(o) for o in errors)
            stderr = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
            assert "Traceback" not in stderr, f"cell {cell.id} printed a traceback:\n{stderr}"


@pytest.mark.slow
def test_the_query_says_blocked_names_the_blocker_and_the_fix(executed) -> None:
    cell, text = _cell_with(executed, 'result = before.query("api", "redis")')
    html = next(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))
    visible = re.sub(r"<[^>]+>", " ", html).split()
    assert visible[0] == "BLOCKED", "the HTML view must show the verdict first"
    assert "ENI_SG_RULES_MISMATCH" in html and "sg-0454e74e2924a7754" in html and FIX in html
    _, printed = _cell_with(executed, "print(result)")
    assert printed.startswith("BLOCKED  api -> redis tcp/6379") and FIX in printed
    _, explained = _cell_with(executed, "for b in result.blockers:")
    assert "verdict: blocked" in explained and FIX in explained


@pytest.mark.slow
def test_the_views_show_the_empty_group(executed) -> None:
    _, groups = _cell_with(executed, "before.security_groups()")
    assert "hokusai-ecs-tasks" in groups
    _, rules = _cell_with(executed, "rules[rules.group == blocking_group]")
    assert "sg-0e61190afc2502b10" in rules and "6379" in rules and "sgr-0ad4ecb2301981ed9" in rules
    _, workloads = _cell_with(executed, "before.workloads()")
    for name in ("hokusai-api-development", "hokusai-redis-development", "hokusai-alb-development"):
        assert name in workloads


@pytest.mark.slow
def test_fanout_heat_map_and_diagram_render(executed) -> None:
    _, nobody = _cell_with(executed, 'before.query("*", "redis")')
    assert "hokusai-api-development" not in nobody
    _, somebody = _cell_with(executed, 'after.query("*", "redis")')
    assert "hokusai-api-development" in somebody
    heat, _ = _cell_with(executed, "def flow_matrix(snap)")
    assert any("image/png" in o.get("data", {}) for o in heat.outputs), "the heat map did not draw"
    diagram, _ = _cell_with(executed, 'before.diagram(highlight="api -> redis:6379")')
    svg = [o["data"]["image/svg+xml"] for o in diagram.outputs if "image/svg+xml" in o.get("data", {})]
    assert svg and "ENI_SG_RULES_MISMATCH" in svg[0], "the diagram did not render inline"


@pytest.mark.slow
def test_audit_diff_and_whatif(executed) -> None:
    _, findings = _cell_with(executed, "for f in findings:")
    assert "HIGH RULE_NAMES_EMPTY_GROUP" in findings and FIX in findings
    _, gained = _cell_with(executed, "fixed_diff = before.diff(after)")
    assert "gained" in gained and "tcp/6379" in gained
    _, lost = _cell_with(executed, "migration = pre.diff(before)")
    assert "LOST hokusai-api-development -> hokusai-redis-development tcp/6379 (reachable -> blocked)" in lost
    assert "moved from sg-0e61190afc2502b10 to sg-0864e6f6aee2a5cf4" in lost
    _, whatif = _cell_with(executed, "proposed = before.with_changes(result.fixes)")
    assert "REACHABLE" in whatif
    _, checks = _cell_with(executed, "def check_table(report)")
    assert "fail" in checks and "pass" in checks
    _, planned = _cell_with(executed, 'pre.with_plan(EXAMPLE / "migration-plan.json")')
    assert "BLOCKED" in planned


def test_notebook_mentions_collect_for_your_own_account() -> None:
    text = json.dumps(nbformat.read(NOTEBOOK, as_version=4), sort_keys=True)
    assert "reachgraph collect -o snapshot.json.gz" in text and "reachgraph.collect(" in text
