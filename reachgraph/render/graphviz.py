"""Abstract diagram -> Graphviz: a `graphviz.Digraph`, its DOT source, and SVG/PNG/PDF through the real `dot`.

Only this module knows Graphviz. Building the Digraph and its DOT source needs no executable;
`render` needs `dot` and raises `GraphvizMissing` (one line, exit 2 in the CLI) when it is absent.
"""

from __future__ import annotations

import hashlib
import html
import shutil

import graphviz

from reachgraph.errors import ReachgraphError
from reachgraph.render.diagram_model import DEdge, Diagram, DNode, Line

RENDER_FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
                "others: https://graphviz.org/download/), or write --format dot or --format mermaid")
FONT = "Helvetica"

# Colours: blue = a group doing its job, amber = warning (stale, missing), red = blocks, green = admits.
BLUE, BLUE_FILL = "#1d4ed8", "#dbeafe"
AMBER, AMBER_FILL, AMBER_TEXT = "#d97706", "#fef3c7", "#92400e"
RED, RED_FILL = "#dc2626", "#fee2e2"
GREEN, GREEN_FILL = "#15803d", "#dcfce7"
GREY, GREY_FILL, GREY_TEXT = "#9ca3af", "#f3f4f6", "#6b7280"
INK = "#1f2937"
VIOLET, VIOLET_FILL = "#7c3aed", "#ede9fe"
TEAL = "#0e7490"

NODE_STYLES: dict[str, dict[str, str]] = {
    "group": {"shape": "box", "style": "rounded,filled", "fillcolor": BLUE_FILL, "color": BLUE, "penwidth": "1.5"},
    "unused": {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": GREY_FILL, "color": GREY,
               "fontcolor": GREY_TEXT},
    "stale": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": AMBER_FILL, "color": AMBER,
              "penwidth": "3"},
    "missing": {"shape": "box", "style": "rounded,filled,dashed,bold", "fillcolor": AMBER_FILL, "color": AMBER,
                "penwidth": "3"},
    "unknown": {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": VIOLET_FILL, "color": VIOLET},
    "workload": {"shape": "box", "style": "filled", "fillcolor": "#ffffff", "color": "#4b5563"},
    "interfaces": {"shape": "note", "style": "filled", "fillcolor": "#ffffff", "color": GREY},
    "internet": {"shape": "ellipse", "style": "filled", "fillcolor": "#e0f2fe", "color": "#0369a1"},
    "cidr": {"shape": "hexagon", "style": "filled", "fillcolor": "#f0f9ff", "color": "#0369a1"},
    "prefix_list": {"shape": "tab", "style": "filled", "fillcolor": "#f0f9ff", "color": "#0369a1"},
    "missing_prefix_list": {"shape": "tab", "style": "filled,bold", "fillcolor": AMBER_FILL, "color": AMBER,
                            "penwidth": "3"},
}
EDGE_STYLES: dict[str, dict[str, str]] = {
    "ingress": {"color": INK, "penwidth": "1.6", "fontcolor": INK},
    "egress": {"color": TEAL, "style": "dashed", "penwidth": "1.6", "fontcolor": TEAL, "arrowhead": "vee"},
    "stale": {"color": AMBER, "style": "dashed", "penwidth": "3", "fontcolor": AMBER_TEXT},
    "unknown": {"color": VIOLET, "style": "dashed", "penwidth": "1.6", "fontcolor": VIOLET},
    "inert": {"color": GREY, "penwidth": "1.2", "fontcolor": GREY_TEXT},
    "member": {"color": GREY, "penwidth": "1.2", "arrowhead": "none", "weight": "4"},
    "declared": {"color": GREY, "style": "dotted", "penwidth": "1.2", "arrowhead": "none", "fontcolor": GREY_TEXT},
    "query": {"color": RED, "style": "dashed", "penwidth": "3", "fontcolor": RED, "arrowhead": "tee"},
}
NODE_MARKS: dict[str, dict[str, str]] = {
    "allow": {"color": GREEN, "fillcolor": GREEN_FILL, "penwidth": "3.5"},
    "block": {"color": RED, "fillcolor": RED_FILL, "penwidth": "3.5"},
    "endpoint": {"color": "#2563eb", "penwidth": "3"},
}
EDGE_MARKS: dict[str, dict[str, str]] = {
    "allow": {"color": GREEN, "fontcolor": GREEN, "penwidth": "3.5"},
    "block": {"color": RED, "fontcolor": RED, "penwidth": "3.5"},
    "endpoint": {},
}
CLUSTER_STYLES: dict[str, dict[str, str]] = {
    "account": {"style": "rounded", "color": "#6b7280", "penwidth": "1.5", "fontsize": "13"},
    "region": {"style": "rounded,dashed", "color": "#9ca3af", "fontsize": "12"},
    "vpc": {"style": "rounded,filled", "color": "#94a3b8", "fillcolor": "#f8fafc", "fontsize": "12"},
}
ROLE_FONT = {"title": ("<b>", "</b>"), "id": ('<font point-size="9" color="#374151">', "</font>"),
             "text": ("", ""), "warn": (f'<font color="{AMBER_TEXT}"><b>', "</b></font>"),
             "note": (f'<font color="{GREY_TEXT}">', "</font>")}


class GraphvizMissing(ReachgraphError):
    """SVG, PNG or PDF was asked for and Graphviz's `dot` is not installed."""

    def __init__(self, fmt: str) -> None:
        super().__init__(f"rendering {fmt} needs Graphviz's 'dot', which is not on PATH; {INSTALL_HINT}")


class GraphvizFailed(ReachgraphError):
    """`dot` ran and failed."""


def html_label(lines: tuple[Line, ...] | list[Line]) -> str:
    """Label lines as a Graphviz HTML-like label (wrapped in <...> by the caller's attribute)."""
    parts = []
    for text, role in lines:
        start, end = ROLE_FONT.get(role, ("", ""))
        parts.append(f"{start}{html.escape(text, quote=False)}{end}")
    return "<" + "<br/>".join(parts) + ">"


def _edge_label(text: str) -> str:
    # An HTML label with a little padding reads better than a plain one hugging the line.
    if not text:
        return ""
    return "<" + "<br/>".join(html.escape(x, quote=False) for x in text.split("\n")) + ">"


def _tooltip(text: str) -> str:
    # One DOT line per statement: newlines become the entity SVG viewers show as a line break.
    return text.replace("\\", "/").replace("\n", "&#10;")


def node_attrs(node: DNode) -> dict[str, str]:
    """Graphviz attributes for one node: style, then the highlight mark on top."""
    attrs = dict(NODE_STYLES.get(node.style, NODE_STYLES["group"]))
    if node.mark:
        attrs.update(NODE_MARKS[node.mark])
    attrs["label"] = html_label(node.lines)
    attrs["id"] = node.key
    if node.tooltip:
        attrs["tooltip"] = _tooltip(node.tooltip)
    return attrs


def edge_attrs(edge: DEdge) -> dict[str, str]:
    """Graphviz attributes for one edge."""
    attrs = dict(EDGE_STYLES.get(edge.style, EDGE_STYLES["ingress"]))
    if edge.mark:
        attrs.update(EDGE_MARKS[edge.mark])
    if edge.label:
        attrs["label"] = _edge_label(edge.label)
    if edge.tooltip:
        attrs["tooltip"] = _tooltip(edge.tooltip)
    return attrs


def to_digraph(d: Diagram) -> graphviz.Digraph:
    """The diagram as a `graphviz.Digraph` (Jupyter renders it inline)."""
    g = graphviz.Digraph("reachgraph")
    g.attr(rankdir=d.rankdir, newrank="true", label=graph_label(d), labelloc="t", labeljust="l", fontname=FONT,
           fontsize="12", nodesep="0.3", ranksep="0.9", pad="0.3", bgcolor="white", outputorder="edgesfirst")
    g.attr("node", fontname=FONT, fontsize="11", margin="0.18,0.08")
    g.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.8")

    children: dict[str | None, list[str]] = {}
    for c in d.clusters:
        children.setdefault(c.parent, []).append(c.id)
    by_cluster: dict[str | None, list[DNode]] = {}
    for n in d.nodes:
        by_cluster.setdefault(n.cluster, []).append(n)
    clusters = {c.id: c for c in d.clusters}

    def fill(sub: graphviz.Digraph, cluster_id: str | None) -> None:
        for child in children.get(cluster_id, []):
            c = clusters[child]
            with sub.subgraph(name=c.id) as s:
                s.attr(label=c.label, labeljust="l", fontname=FONT, **CLUSTER_STYLES[c.kind])
                fill(s, c.id)
        for n in by_cluster.get(cluster_id, []):
            sub.node(n.id, **node_attrs(n))

    fill(g, None)
    for e in d.edges:
        g.edge(e.src, e.dst, **edge_attrs(e))
    return g


EDGE_SAMPLES: dict[str, str] = {
    "ingress": "\u2501\u2501\u2501\u25b6", "egress": "- - - >", "stale": "- - - \u25b6", "unknown": "- - - \u25b6",
    "inert": "\u2500\u2500\u2500\u25b6", "member": "\u2500\u2500\u2500\u2500", "declared": "\u00b7 \u00b7 \u00b7 \u00b7",
    "query": "- - - \u2524",
}
LEGEND_COLUMNS = 3
VERDICT_COLOURS = {"reachable": GREEN, "partial": AMBER_TEXT, "blocked": RED, "unknown": VIOLET}


def _cell_swatch(attrs: dict[str, str]) -> str:
    style = attrs.get("style", "")
    cell_style = ' style="dashed"' if "dashed" in style else ' style="rounded"' if "rounded" in style else ""
    border = max(1, round(float(attrs.get("penwidth", "1"))))
    fill = attrs.get("fillcolor", "#ffffff")
    return (f'<td width="30" height="14" fixedsize="true" bgcolor="{fill}" color="{attrs.get("color", INK)}" '
            f'border="{border}"{cell_style}></td>')


def _legend_cells(d: Diagram) -> list[str]:
    cells = []
    for item in d.legend:
        if item.what == "edge":
            attrs = EDGE_STYLES[item.style]
            sample = html.escape(EDGE_SAMPLES.get(item.style, "\u2500\u2500\u25b6"), quote=False)
            swatch = f'<td align="center"><font color="{attrs.get("color", INK)}"><b>{sample}</b></font></td>'
        elif item.what == "mark":
            attrs = dict(NODE_STYLES["workload" if item.style == "endpoint" else "group"])
            attrs.update(NODE_MARKS[item.style])
            swatch = _cell_swatch(attrs)
        else:
            swatch = _cell_swatch(NODE_STYLES[item.style])
        cells.append(f'{swatch}<td align="left"><font point-size="10">{html.escape(item.text, quote=False)}</font></td>')
    return cells


def graph_label(d: Diagram) -> str:
    """Title, notes and legend as one HTML table: the graph's label, top left, always in the same place."""
    width = 2 * LEGEND_COLUMNS
    rows = [f'<tr><td align="left" colspan="{width}"><font point-size="16"><b>{html.escape(d.title, quote=False)}'
            "</b></font></td></tr>"]
    for i, note in enumerate(d.notes):
        # With --highlight the first note is the verdict line.
        colour = VERDICT_COLOURS.get(d.verdict or "", INK) if i == 0 else INK
        rows.append(f'<tr><td align="left" colspan="{width}"><font point-size="13" color="{colour}">'
                    f"{html.escape(note, quote=False)}</font></td></tr>")
    cells = _legend_cells(d)
    if cells:
        rows.append(f'<tr><td align="left" colspan="{width}"><font point-size="10" color="{GREY_TEXT}">'
                    "<b>LEGEND</b></font></td></tr>")
    for i in range(0, len(cells), LEGEND_COLUMNS):
        chunk = cells[i:i + LEGEND_COLUMNS]
        chunk += ['<td></td><td></td>'] * (LEGEND_COLUMNS - len(chunk))
        rows.append("<tr>" + "".join(chunk) + "</tr>")
    return ('<<table border="0" cellborder="0" cellspacing="3" cellpadding="2">' + "".join(rows) + "</table>>")


def to_dot(d: Diagram) -> str:
    """DOT source text, deterministic for a given diagram."""
    return to_digraph(d).source


def dot_available() -> bool:
    """Is Graphviz's `dot` on PATH?"""
    return shutil.which("dot") is not None


def render(d: Diagram | graphviz.Digraph, fmt: str) -> bytes:
    """Render with the real `dot` to svg, png or pdf bytes."""
    if fmt not in RENDER_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {RENDER_FORMATS}")
    if not dot_available():
        raise GraphvizMissing(fmt)
    g = d if isinstance(d, graphviz.Digraph) else to_digraph(d)
    try:
        out = g.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(fmt) from None
    except graphviz.CalledProcessError as exc:
        err = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise GraphvizFailed(f"dot failed to render {fmt}: {err[0] if err else exc}") from None
    if fmt == "svg":
        out = stamp_svg(out, g.source)
    return out


def stamp_svg(svg: bytes, source: str) -> bytes:
    """Add the DOT source's sha256 as a comment, so a committed SVG can be checked against its DOT anywhere."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    stamp = f"<!-- reachgraph dot-sha256: {digest} -->\n".encode()
    head, sep, rest = svg.partition(b"?>\n")
    return head + sep + stamp + rest if sep else stamp + svg
