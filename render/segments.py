"""The path split into pictures that each fit a printed page with readable text.

The report's one picture of the coalition map's path, fitted to an A4 page, has 1-2 pt
text. For print the report shows instead the path in pieces: consecutive steps (with the
branches one step off them), as many per piece as fit PAGE at a scale that keeps the
smallest text at least MIN_PT points. Each piece is laid out (small, so ~0.05 s), grown
one step at a time, and kept at the last size that fit.
"""

from __future__ import annotations

from dataclasses import replace

from decision_map.io.loader import DecisionMap
from decision_map.model.trace import Trace

from .around import svg_size
from .diagram import Diagram, _used_clusters, build

PAGE = (770.0, 480.0)  # points: A4 landscape inside the report's 12 mm margins, less a title
MIN_PT = 8.0  # the smallest text on paper
FONT = 12  # boxes' text in points (edge labels 10)
MAX_PIECES = 40  # a longer walk prints its first MAX_PIECES pieces and says so


def piece(whole: Diagram, first: int, last: int) -> Diagram:
    """Steps `first`..`last` of the path and the nodes one edge past them."""
    on = {n.id for n in whole.nodes if any(first <= s <= last for s in n.all_steps)}
    keep = set(on)
    for e in whole.edges:
        if e.source in on:
            keep.add(e.target)
    nodes = [n for n in whole.nodes if n.id in keep]
    return replace(
        whole,
        title=f"{whole.title}: steps {first}–{last}" if first != last
        else f"{whole.title}: step {first}",
        nodes=tuple(nodes),
        edges=tuple(e for e in whole.edges if e.source in on and e.target in keep),
        clusters=tuple(_used_clusters(whole.clusters, nodes)),
        focus=False,
    )


def _draw(d: Diagram) -> tuple[bytes, float]:
    """The piece as SVG, left to right (pieces then stack two or three to a landscape
    page: top-down ones are taller and took 22 pages against 18 for the coalition walk),
    and its smallest text's size on PAGE over MIN_PT (1 or more: it fits)."""
    from .dot import diagram_to_digraph
    from .draw import draw

    g = diagram_to_digraph(d, legend=False, fontsize=FONT)
    g.attr("graph", rankdir="LR")
    svg = draw(g.source, "svg")
    size = svg_size(svg)
    fit = min(PAGE[0] / size.width, PAGE[1] / size.height, 1.0)
    return svg, fit * size.smallest_font / MIN_PT


def path_pieces(dm: DecisionMap, trace: Trace) -> list[bytes]:
    """SVG pictures of the path, in order, each legible on PAGE (see the module)."""
    whole = build(dm, trace)
    steps = len(trace.steps)
    out: list[bytes] = []
    first = 1
    while first <= steps and len(out) < MAX_PIECES:
        best, _ = _draw(piece(whole, first, first))  # one step always prints, at any size
        last = first
        while last < steps:
            svg, ok = _draw(piece(whole, first, last + 1))
            if ok < 1:
                break
            best, last = svg, last + 1
        out.append(best)
        first = last + 1
    return out
