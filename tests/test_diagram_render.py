"""Renderers: DOT structure, real SVG/PNG/PDF through Graphviz's `dot`, Mermaid structure, determinism, API."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

import reachgraph
from reachgraph.render import graphviz as gv
from reachgraph.render.diagram_model import Diagram, build_diagram
from reachgraph.render.mermaid import escape, to_markdown, to_mermaid

from test_diagram_model import API_KEY, NEW_SG, OLD_SG, REDIS_SG  # noqa: E402 - shared ids

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}


# -- a tiny DOT reader: one statement per line, as graphviz.Digraph writes them ------------------------

_ATTR = re.compile(r'(\w+)=(<(?:[^<>]|<[^<>]*>)*>|"(?:[^"\\]|\\.)*"|[^\s\]]+)')


def _attrs(text: str) -> dict[str, str]:
    out = {}
    for key, value in _ATTR.findall(text):
        if value.startswith('"'):
            value = value[1:-1]
        out[key] = value
    return out


def parse_dot(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]], list[str]]:
    """(nodes by id, edges as (src, dst, attrs), cluster names in order)."""
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict[str, str]]] = []
    clusters: list[str] = []
    for line in source.splitlines():
        line = line.strip()
        m = re.match(r"^subgraph (cluster_\w+) \{$", line)
        if m:
            clusters.append(m.group(1))
            continue
        m = re.match(r"^(\w+) -> (\w+)(?: \[(.*)\])?$", line)
        if m:
            edges.append((m.group(1), m.group(2), _attrs(m.group(3) or "")))
            continue
        m = re.match(r"^(\w+) \[(.*)\]$", line)
        if m and m.group(1) not in ("node", "edge", "graph"):
            nodes[m.group(1)] = _attrs(m.group(2))
    return nodes, edges, clusters


@pytest.fixture(scope="module")
def before_diagram(before_snapshot) -> Diagram:
    return build_diagram(before_snapshot.reach)


@pytest.fixture(scope="module")
def before_dot(before_diagram: Diagram) -> str:
    return gv.to_dot(before_diagram)


# -- DOT structure -------------------------------------------------------------------------------------

def test_dot_has_nested_clusters_and_group_nodes(before_dot: str, before_diagram: Diagram) -> None:
    nodes, edges, clusters = parse_dot(before_dot)
    assert clusters == ["cluster_acct_123456789012", "cluster_region_123456789012_us_east_1",
                        "cluster_vpc_vpc_0a1b2c3d4e5f67890"]
    assert len(nodes) == len(before_diagram.nodes)
    assert len(edges) == len(before_diagram.edges)
    redis = nodes[before_diagram.node(REDIS_SG).id]
    assert redis["id"] == REDIS_SG
    assert "<b>hokusai-redis-development</b>" in redis["label"] and REDIS_SG in redis["label"]
    assert "2 member interfaces" in redis["label"]
    assert redis["fillcolor"] == gv.BLUE_FILL


def test_dot_styles_stale_group_and_edge_as_warnings(before_dot: str, before_diagram: Diagram) -> None:
    nodes, edges, _ = parse_dot(before_dot)
    old = nodes[before_diagram.node(OLD_SG).id]
    assert old["color"] == gv.AMBER and old["fillcolor"] == gv.AMBER_FILL and old["penwidth"] == "3"
    assert "STALE: 0 member interfaces" in old["label"]
    (attrs,) = [a for s, t, a in edges if s == before_diagram.node(OLD_SG).id and t == before_diagram.node(REDIS_SG).id]
    assert attrs["color"] == gv.AMBER and "dashed" in attrs["style"]
    assert "tcp/6379" in attrs["label"]


def test_dot_member_edges_have_no_arrowhead(before_dot: str, before_diagram: Diagram) -> None:
    _, edges, _ = parse_dot(before_dot)
    (attrs,) = [a for s, t, a in edges if s == before_diagram.node(NEW_SG).id and t == before_diagram.node(API_KEY).id]
    assert attrs["arrowhead"] == "none" and attrs["color"] == gv.GREY


def test_dot_title_and_legend_in_the_graph_label(before_dot: str) -> None:
    label = before_dot.split("label=", 1)[1]
    assert "Security-group dependencies: account 123456789012 / us-east-1" in label
    assert "LEGEND" in label and "stale: group with no members that rules still name" in label


def test_dot_highlight_colours_the_admitting_edge_green(after_snapshot) -> None:
    d = build_diagram(after_snapshot.reach, highlight=after_snapshot.query("api", "redis:6379"))
    nodes, edges, _ = parse_dot(gv.to_dot(d))
    new, redis, old = (d.node(k).id for k in (NEW_SG, REDIS_SG, OLD_SG))
    (admit,) = [a for s, t, a in edges if (s, t) == (new, redis)]
    assert admit["color"] == gv.GREEN and admit["penwidth"] == "3.5"
    (stale,) = [a for s, t, a in edges if (s, t) == (old, redis)]
    assert stale["color"] == gv.AMBER
    assert nodes[redis]["color"] == gv.GREEN
    assert "REACHABLE" in gv.to_dot(d)


def test_dot_highlight_colours_the_blocking_group_red(before_snapshot) -> None:
    d = build_diagram(before_snapshot.reach, highlight=before_snapshot.query("api", "redis:6379"))
    nodes, edges, _ = parse_dot(gv.to_dot(d))
    new, redis = d.node(NEW_SG).id, d.node(REDIS_SG).id
    assert nodes[redis]["color"] == gv.RED and nodes[redis]["fillcolor"] == gv.RED_FILL
    (query,) = [a for s, t, a in edges if (s, t) == (new, redis)]
    assert query["color"] == gv.RED and query["arrowhead"] == "tee"


def test_graphviz_attributes_are_valid_for_dot(before_dot: str) -> None:
    """Every style name the model can produce has Graphviz attributes."""
    from reachgraph.render.diagram_model import EDGE_LEGEND, NODE_LEGEND

    assert {s for s, _ in NODE_LEGEND} <= set(gv.NODE_STYLES)
    assert {s for s, _ in EDGE_LEGEND} | {"query"} <= set(gv.EDGE_STYLES)


# -- real rendering --------------------------------------------------------------------------------------

@needs_dot
def test_render_svg_with_real_dot_contains_group_ids(before_diagram: Diagram) -> None:
    svg = gv.render(before_diagram, "svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    for gid in (REDIS_SG, OLD_SG, NEW_SG, "sg-0c85c87668427d358", "sg-04bd586baa66713a1", API_KEY):
        assert gid in ids
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "hokusai-ecs-tasks" in texts and "STALE: 0 member interfaces" in texts and "tcp/6379" in texts
    # The stale group is drawn in amber.
    (old,) = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id") == OLD_SG]
    assert any(p.get("stroke") == gv.AMBER for p in old.iter("{http://www.w3.org/2000/svg}path"))


@needs_dot
def test_render_svg_carries_the_dot_source_hash(before_diagram: Diagram) -> None:
    import hashlib

    svg = gv.render(before_diagram, "svg").decode()
    digest = hashlib.sha256(gv.to_dot(before_diagram).encode()).hexdigest()
    assert f"<!-- reachgraph dot-sha256: {digest} -->" in svg


@needs_dot
def test_render_png_and_pdf_with_real_dot(before_diagram: Diagram) -> None:
    png = gv.render(before_diagram, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    pdf = gv.render(before_diagram, "pdf")
    assert pdf[:5] == b"%PDF-"


@needs_dot
def test_render_is_deterministic(before_diagram: Diagram) -> None:
    assert gv.render(before_diagram, "svg") == gv.render(before_diagram, "svg")


@needs_dot
def test_render_tb_and_synthetic_estate(tmp_path: Path) -> None:
    from builders import write_estate
    from test_diagram_model import synthetic_docs

    snap = reachgraph.load(write_estate(tmp_path / "s", synthetic_docs()))
    svg = gv.render(build_diagram(snap.reach, rankdir="TB"), "svg")
    root = ET.fromstring(svg)
    ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {"sg-0000000000000defa", "sg-0000000000000defb", "internet", "pl-0000000000000corp"} <= ids


def test_render_without_dot_raises_one_line_error(monkeypatch: pytest.MonkeyPatch, before_diagram: Diagram) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not gv.dot_available()
    with pytest.raises(gv.GraphvizMissing) as exc:
        gv.render(before_diagram, "svg")
    text = str(exc.value)
    assert "\n" not in text and "apt-get install graphviz" in text and "--format dot" in text
    # DOT and Mermaid need no executable.
    assert gv.to_dot(before_diagram).startswith("digraph")
    assert to_mermaid(before_diagram).startswith("---")


# -- Mermaid ------------------------------------------------------------------------------------------

def test_mermaid_has_the_same_nodes_and_edges(before_diagram: Diagram) -> None:
    text = to_mermaid(before_diagram)
    lines = text.splitlines()
    assert lines[0] == "---" and lines[1].startswith('title: "Security-group dependencies') and lines[2] == "---"
    assert lines[3] == "flowchart LR"
    for n in before_diagram.nodes:
        assert sum(1 for x in lines if x.strip().startswith(n.id + "(") or x.strip().startswith(n.id + "[")) == 1
    body = [x.strip() for x in lines if not x.strip().startswith(("legend_", "linkStyle", "class", "subgraph"))]
    arrows = [x for x in body if re.match(r"^\w+ (-->|-\.->|---|-\.-)", x)]
    assert len(arrows) == len(before_diagram.edges)
    old, redis = before_diagram.node(OLD_SG).id, before_diagram.node(REDIS_SG).id
    assert f'{old} -.->|"tcp/6379<br/>(matches nothing)"| {redis}' in body
    assert 'subgraph cluster_vpc_vpc_0a1b2c3d4e5f67890["VPC vpc-0a1b2c3d4e5f67890  10.0.0.0/16"]' in text


def test_mermaid_styles_stale_and_link_styles_index_edges(before_diagram: Diagram) -> None:
    text = to_mermaid(before_diagram)
    stale_class = [x for x in text.splitlines() if x.strip().startswith("class ") and x.strip().endswith(" stale")]
    assert stale_class and before_diagram.node(OLD_SG).id in stale_class[0]
    stale_idx = [i for i, e in enumerate(before_diagram.edges) if e.style == "stale"]
    (link,) = [x for x in text.splitlines() if "stroke:#d97706" in x and x.strip().startswith("linkStyle")]
    assert set(stale_idx) <= {int(i) for i in link.split()[1].split(",")}
    # Every linkStyle index points at an edge that exists.
    n_links = len([x for x in text.splitlines() if re.match(r"^\s*\w+(\[\" \"\])? (-->|-\.->|---|-\.-)", x)])
    for line in text.splitlines():
        if line.strip().startswith("linkStyle"):
            assert all(int(i) < n_links for i in line.split()[1].split(","))


def test_mermaid_highlight_marks(before_snapshot) -> None:
    d = build_diagram(before_snapshot.reach, highlight=before_snapshot.query("api", "redis:6379"))
    text = to_mermaid(d)
    assert "BLOCKED" in text.splitlines()[1]
    (block,) = [x for x in text.splitlines() if x.strip().startswith("class ") and x.endswith(" mark_block")]
    assert d.node(REDIS_SG).id in block


def test_mermaid_escapes_label_syntax() -> None:
    assert escape('a "b" <c> #d & e') == "a #quot;b#quot; #lt;c#gt; #35;d #amp; e"


def test_markdown_wraps_mermaid_in_a_fence(before_diagram: Diagram) -> None:
    md = to_markdown(before_diagram)
    assert md.startswith("```mermaid\n---\n") and md.endswith("```\n")


# -- determinism ------------------------------------------------------------------------------------------

def _copy_renamed(src: Path, dst: Path) -> None:
    """The same snapshot with every file renamed (and so read in another order)."""
    files = sorted(src.rglob("*.json"))
    for n, f in enumerate(reversed(files)):
        rel = f.parent.relative_to(src)
        target = dst / rel / f"{n:02d}-{f.stem[::-1]}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.read_bytes())


@pytest.mark.parametrize("state", ["before", "after"])
def test_same_snapshot_byte_identical_dot_and_mermaid(example_dir: Path, tmp_path: Path, state: str) -> None:
    hl = "api -> redis:6379"
    a = reachgraph.load(example_dir / state)
    _copy_renamed(example_dir / state, tmp_path / state)
    b = reachgraph.load(tmp_path / state)
    for kwargs in ({}, {"focus": "api", "depth": 1}):
        da, db = build_diagram(a.reach, **kwargs), build_diagram(b.reach, **kwargs)
        assert gv.to_dot(da) == gv.to_dot(build_diagram(a.reach, **kwargs))
        assert gv.to_dot(da) == gv.to_dot(db)
        assert to_mermaid(da) == to_mermaid(db)
    ha = build_diagram(a.reach, highlight=a.query(*hl.split(" -> ")))
    hb = build_diagram(b.reach, highlight=b.query(*hl.split(" -> ")))
    assert gv.to_dot(ha) == gv.to_dot(hb) and to_mermaid(ha) == to_mermaid(hb)


# -- Python API ---------------------------------------------------------------------------------------------

def test_snapshot_diagram_returns_a_digraph(before_snapshot) -> None:
    g = before_snapshot.diagram()
    assert isinstance(g, graphviz.Digraph)
    assert g.source == gv.to_dot(build_diagram(before_snapshot.reach))
    h = before_snapshot.diagram(highlight="api -> redis:6379", rankdir="TB", focus="redis", depth=1)
    assert "rankdir=TB" in h.source and "BLOCKED" in h.source
    assert before_snapshot.diagram(highlight=before_snapshot.query("api", "redis:6379")).source == \
        before_snapshot.diagram(highlight="api -> redis:6379").source
