"""DOT output through the `graphviz` package's `Digraph`: the map, and the path a group took.

Shapes by kind: questions (choice, number, text) are rounded boxes, a check is a
diamond, something read out is a note, a hand-off is a 3-D box naming the other map,
an outcome is a double octagon filled with its verdict's colour. With a trace, path
nodes and taken edges are bold blue with their step numbers and tallies, a taken
block is red, a loop back is purple, and what the walk did not take is grey and
dashed, not hidden. A branch a later revisit went back before stays drawn, dashed in
dark grey and marked "superseded", apart from both. Every label and tooltip is escaped
by `quoting.py`.

Output is deterministic: nodes and edges follow map order, colours come from sorted
verdicts, nothing depends on dict order across runs or on the time.

Edge labels: `label` versus `xlabel`, timed by laying out (dot) and drawing (svg) the
DOT of generated whole maps in-process with pygraphviz (`python -m bench.layout` in a
checkout; median of 3 up to 500 nodes, 1 run above; a 2-core machine shared with other
work, so +-20 %):

    nodes   label     xlabel
      100    0.10 s    0.06 s
      200    0.25 s    0.15 s
      500    4.59 s    0.38 s
     1000    7.80 s    0.69 s
     3000      -       8.45 s
    200 nodes whose blocks loop back to random earlier nodes (an earlier generator):
                30.4 s    4.20 s

A `label` is a virtual node in dot's layout, so it makes room for itself beside its edge
but costs 2x to 12x the time, and much more on tangled maps; an `xlabel` is placed after
layout and may sit closer to other lines. We pick per drawing: `label` up to
LABEL_LIMIT = 200 drawn nodes (well under a second on real maps, and every real map so
far is far smaller), `xlabel` above, where the whole-map layout would otherwise take
seconds at 1,000 nodes.
"""

from __future__ import annotations

import graphviz

from decision_map.io.loader import DecisionMap
from decision_map.model.trace import Trace

from .diagram import DCluster, DEdge, Diagram, DNode, build
from .quoting import dot_escape, dot_lines, truncate, wrap

LABEL_LIMIT = 200  # above this many drawn nodes, edge labels are xlabels (timings above)

FONT = "Helvetica"
PATH = "#1a56c4"
LOOP = "#7b2cbf"
BLOCKED = "#c5221f"
FADED = "#9aa0a6"
FADED_TEXT = "#6b7075"
SUPERSEDED = "#4a4f55"  # a branch a revisit left: kept in the picture, darker than not taken

KIND_STYLE: dict[str, dict[str, str]] = {
    "choice": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e8f0fe"},
    "number": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e6f4ea"},
    "text": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fef7e0"},
    "check": {"shape": "diamond", "style": "filled", "fillcolor": "#f3e8fd"},
    "info": {"shape": "note", "style": "filled", "fillcolor": "#f1f3f4"},
    "handoff": {"shape": "box3d", "style": "filled", "fillcolor": "#e0f2f1"},
    "outcome": {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#ffffff"},
}
KIND_NAMES = {
    "choice": "choice question",
    "number": "number question",
    "text": "text question",
    "check": "check",
    "info": "read out",
    "handoff": "hand-off",
    "outcome": "outcome",
}
# Outcome fills: verdicts sorted, then coloured in turn (distinct up to 8 verdicts).
VERDICT_PALETTE = (
    "#b7e1cd", "#f4c7c3", "#fce8b2", "#c6dafc", "#e1bee7", "#ffd8b1", "#b2ebf2", "#d7ccc8",
)


def verdict_colour(verdict: str | None, verdicts: tuple[str, ...]) -> str:
    """The fill for an outcome: its verdict's place among the sorted verdicts.

    >>> verdict_colour("go", ("go", "stop"))
    '#b7e1cd'
    >>> verdict_colour("stop", ("go", "stop"))
    '#f4c7c3'
    """
    if verdict is None or verdict not in verdicts:
        return KIND_STYLE["outcome"]["fillcolor"]
    return VERDICT_PALETTE[verdicts.index(verdict) % len(VERDICT_PALETTE)]


def _s(text: str) -> str:
    """An already-escaped DOT string body, kept from being read as an HTML label."""
    return graphviz.nohtml(text)


def _node_attrs(d: Diagram, n: DNode) -> dict[str, str]:
    style = dict(KIND_STYLE[n.kind])
    attrs = {
        "label": _s(dot_lines(n.lines())),
        "tooltip": _s(dot_escape(truncate(n.tooltip, 500))),
        "shape": style["shape"],
        "fillcolor": style["fillcolor"],
    }
    if n.kind == "outcome":
        attrs["fillcolor"] = verdict_colour(n.verdict, d.verdicts)
    styles = style["style"].split(",")
    if d.traced:
        if n.on_path:
            attrs["penwidth"] = "2.5"
            attrs["color"] = BLOCKED if n.blocked else PATH
        elif n.only_superseded:
            styles.append("dashed")
            attrs["penwidth"] = "2"
            attrs["color"] = SUPERSEDED
        else:
            styles.append("dashed")
            attrs["color"] = FADED
            attrs["fontcolor"] = FADED_TEXT
    if n.problem:  # a red outline, and `class` names it in SVG for the preview page
        attrs.update(color=BLOCKED, penwidth="3", fontcolor=BLOCKED)
        attrs["class"] = "problem"
        styles = [s for s in styles if s != "dashed"]
    attrs["style"] = ",".join(styles)
    return attrs


def edge_label_attr(d: Diagram, edge_labels: str = "auto") -> str:
    """`label` for diagrams of up to LABEL_LIMIT nodes, `xlabel` above."""
    if edge_labels in ("label", "xlabel"):
        return edge_labels
    if edge_labels != "auto":
        raise ValueError(f"edge_labels is auto, label or xlabel, not {edge_labels!r}")
    return "label" if len(d.nodes) <= LABEL_LIMIT else "xlabel"


def _edge_attrs(d: Diagram, e: DEdge, label_attr: str) -> dict[str, str]:
    label = e.text
    attrs: dict[str, str] = {}
    if label:
        attrs[label_attr] = _s(dot_lines(wrap(label, 24)))
    if e.enters:
        attrs["style"] = "dashed"
        attrs["arrowhead"] = "vee"
    if not d.traced:
        return attrs
    if e.taken:
        colour = BLOCKED if e.blocked else LOOP if e.loop else PATH
        attrs.update(color=colour, fontcolor=colour, penwidth="2.5")
        if e.loop:
            attrs["constraint"] = "false"
    elif e.superseded:
        attrs.update(color=SUPERSEDED, fontcolor=SUPERSEDED, style="dashed", penwidth="2")
    else:
        attrs.update(color=FADED, fontcolor=FADED_TEXT, style="dashed")
    return attrs


def _add_cluster(g: graphviz.Digraph, d: Diagram, c: DCluster | None) -> None:
    for n in d.in_cluster(c.id if c else None):
        g.node(n.id, **_node_attrs(d, n))
    for child in d.child_clusters(c.id if c else None):
        with g.subgraph(name=f"cluster_{child.id}") as sub:
            sub.attr(
                label=_s(dot_lines(wrap(f"↪ {child.title}"))),
                style="rounded,dashed",
                color=PATH if d.traced else "#5f6368",
                fontname=FONT,
            )
            _add_cluster(sub, d, child)


def _add_legend(g: graphviz.Digraph, d: Diagram) -> None:
    with g.subgraph(name="cluster_legend") as lg:
        lg.attr(label="Legend", style="rounded", color="#bdc1c6", fontname=FONT)
        prev = None
        for i, (kind, name) in enumerate(KIND_NAMES.items()):
            nid = f"legend{i}"
            style = KIND_STYLE[kind]
            lg.node(nid, label=name, shape=style["shape"], style=style["style"],
                    fillcolor=style["fillcolor"], fontsize="9", tooltip=name)
            if prev:
                lg.edge(prev, nid, style="invis")
            prev = nid
        if d.traced:
            lg.node("legend_a", label="", shape="point", width="0.05")
            lg.node("legend_b", label="", shape="point", width="0.05")
            lg.node("legend_c", label="", shape="point", width="0.05")
            lg.edge(prev, "legend_a", style="invis")
            lg.edge("legend_a", "legend_b", label="taken", color=PATH, fontcolor=PATH,
                    penwidth="2.5", fontsize="9")
            lg.edge("legend_b", "legend_c", label="not taken", color=FADED,
                    fontcolor=FADED_TEXT, style="dashed", fontsize="9")
            if any(e.superseded for e in d.edges) or any(n.superseded for n in d.nodes):
                lg.node("legend_d", label="", shape="point", width="0.05")
                lg.edge("legend_c", "legend_d", label="superseded\n(revisited)",
                        color=SUPERSEDED, fontcolor=SUPERSEDED, style="dashed",
                        penwidth="2", fontsize="9")


def diagram_to_digraph(
    d: Diagram, *, legend: bool = True, edge_labels: str = "auto", fontsize: int = 11
) -> graphviz.Digraph:
    """Spell a built `Diagram` out as a `graphviz.Digraph`; `fontsize` is the boxes' text
    in points (edge labels 2 pt smaller, the title 3 pt bigger)."""
    label_attr = edge_label_attr(d, edge_labels)
    title = d.title + (" (focus on the path)" if d.focus else "")
    if d.stopped:
        title += f"\nwalk stopped: {d.stopped}"
    if d.note:
        title += f"\n{d.note}"
    g = graphviz.Digraph(name="decision_map")
    g.attr(
        "graph",
        label=_s(dot_lines(wrap(title, 60))),
        labelloc="t",
        fontname=FONT,
        fontsize=str(fontsize + 3),
        rankdir="TB",
        nodesep="0.3",
        ranksep="0.45",
        tooltip=_s(dot_escape(d.title)),
    )
    g.attr("node", fontname=FONT, fontsize=str(fontsize), margin="0.12,0.06")
    g.attr("edge", fontname=FONT, fontsize=str(fontsize - 2), arrowsize="0.7")
    _add_cluster(g, d, None)
    for e in d.edges:
        g.edge(e.source, e.target, **_edge_attrs(d, e, label_attr))
    if legend:
        _add_legend(g, d)
    return g


def to_digraph(
    dm: DecisionMap,
    trace: Trace | None = None,
    *,
    focus: bool = False,
    legend: bool = True,
    edge_labels: str = "auto",
) -> graphviz.Digraph:
    """The map (and the path of `trace`) as a `graphviz.Digraph`. `edge_labels`:
    "auto" (label up to LABEL_LIMIT nodes, xlabel above), "label" or "xlabel"."""
    return diagram_to_digraph(build(dm, trace, focus=focus), legend=legend,
                              edge_labels=edge_labels)


def to_dot(
    dm: DecisionMap,
    trace: Trace | None = None,
    *,
    focus: bool = False,
    legend: bool = True,
    edge_labels: str = "auto",
) -> str:
    """The map (and the path of `trace`) as DOT text; same input, same bytes."""
    return to_digraph(dm, trace, focus=focus, legend=legend, edge_labels=edge_labels).source
