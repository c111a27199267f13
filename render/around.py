"""A picture a room can read: the neighbourhood of one step, not the whole map.

A whole map's path picture of the coalition map is 2386 × 5150 px, which puts its text at
about 2 px on a 1080p projector. `around()` draws only what the room needs now: the path
so far folded into one numbered list, the step in front of the group, and the next one
or two levels of questions and outcomes. `around_picture()` draws two levels when that
fits a projector with its smallest text at least MIN_PX px high, else one level.

Sizes: Graphviz writes an SVG's width and height in points and its text sizes in the
same units, so the text's height on a screen is its font size times the scale that fits
the picture to the screen (`text_px`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from decision_map.io.loader import DecisionMap
from decision_map.model.format import ChoiceQuestion
from decision_map.model.graph import node_label
from decision_map.model.trace import Scope, Step, Trace

from .diagram import DEdge, Diagram, DNode, _Builder

HISTORY_LINES = 8  # the folded path lists at most this many steps (the latest)
HISTORY_WIDTH = 40  # characters a folded step keeps of its question (then "…")
SCREEN = (1920, 1080)  # a 1080p projector
MIN_PX = 18  # the smallest text on that screen, in pixels
AROUND_FONT = 16  # every text but the title (3 pt bigger), in points
HISTORY_ID = "history"


@dataclass(frozen=True)
class Size:
    """A drawn picture's size in points and its smallest font size in points."""

    width: float
    height: float
    smallest_font: float

    def text_px(self, screen: tuple[float, float] = SCREEN) -> float:
        """The smallest text's height in pixels once the picture is fitted to `screen`."""
        scale = min(screen[0] / self.width, screen[1] / self.height)
        return self.smallest_font * scale


def svg_size(svg: bytes | str) -> Size:
    """Width, height and smallest font-size of a Graphviz SVG (all in points)."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    m = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"', text)
    if m is None:
        raise ValueError("not a Graphviz SVG: no width and height in points")
    fonts = [float(f) for f in re.findall(r'font-size="([\d.]+)"', text)]
    return Size(float(m.group(1)), float(m.group(2)), min(fonts) if fonts else 0.0)


def step_at(trace: Trace, number: int) -> Step:
    """Step `number` (1-based) of the trace; a ValueError names the range when it is not."""
    if not 1 <= number <= len(trace.steps):
        raise ValueError(f"there is no step {number}: the walk has steps 1 to "
                         f"{len(trace.steps)}")
    return trace.steps[number - 1]


def step_words(dm: DecisionMap, s: Step) -> str:
    """One step as the room said it: the question's label, and what the group chose
    (marked when a later revisit went back before it)."""
    m = _map_in_scope(dm, s.scope) or dm
    node = m.model.nodes.get(s.node)
    label = (getattr(node, "label", None) or node_label(node)) if node is not None else s.node
    said = ""
    if s.route_kind == "choice" and isinstance(node, ChoiceQuestion) and s.route_value:
        said = node.choice_label(s.route_value)
    elif s.route_kind == "status" and s.route_value:
        said = s.route_value.replace("_", " ")
    elif s.decision is not None and s.decision.value is not None and not s.decision.texts:
        said = str(s.decision.value)
    elif s.decision is not None and s.decision.texts:
        n = len(s.decision.texts)
        said = f"{n} {'answer' if n == 1 else 'answers'}"
    text = f"{short(label)} → {short(said, 24)}" if said else short(label)
    return f"{text} (superseded)" if s.superseded else text


def short(text: str, width: int = HISTORY_WIDTH) -> str:
    """`text` on one line, cut at a word to at most `width` characters with "…".

    >>> short("Is there already a coalition working on this goal that we could join?", 30)
    'Is there already a coalition…'
    """
    one = " ".join(str(text).split())
    if len(one) <= width:
        return one
    cut = one[: width - 1].rsplit(" ", 1)[0].rstrip(" ,;:—-")
    return cut + "…"


def _map_in_scope(dm: DecisionMap, scope: Scope) -> DecisionMap | None:
    m: DecisionMap | None = dm
    for hop in scope:
        link = m.handoffs.get(hop) if m is not None else None
        m = link.loaded if link else None
    return m


def around(dm: DecisionMap, trace: Trace, scope: Scope, node: str, *,
           before: int | None = None, levels: int = 2) -> Diagram:
    """The diagram around `node` (in the map `scope` names): the steps of `trace` before
    step `before` (all of them when None) as one numbered list, the node itself, and
    what lies `levels` edges on from it."""
    b = _Builder(dm, trace)
    b.attribute_steps()
    b.walk((), None)
    if (scope, node) not in b.ids and scope and b._map_of(scope) is not None:
        b.walk(scope, None)  # a hand-off just entered: its map has no step yet
    here = b.ids.get((scope, node))
    if here is None:
        raise ValueError(f"{node!r} is not a node of the map at that step")
    out: dict[str, list[DEdge]] = {}
    for e in b.edges:
        out.setdefault(e.source, []).append(e)
    keep, frontier, edges = {here}, [here], []
    for _ in range(levels):
        nxt = []
        for src in frontier:
            for e in out.get(src, []):
                edges.append(e)
                if e.target not in keep:
                    keep.add(e.target)
                    nxt.append(e.target)
        frontier = nxt
    nodes = [_now(n) if n.id == here else n for n in b.nodes if n.id in keep]
    steps = trace.steps if before is None else trace.steps[: before - 1]
    first = max(0, len(steps) - HISTORY_LINES)
    lines = [f"{i}. {step_words(dm, s)}" for i, s in enumerate(steps, 1)
             if i > first and s.kind != "info"
             and not (s.kind == "handoff" and s.route_kind is not None)]
    if first:
        lines.insert(0, f"(steps 1–{first} are in the report)")
    if lines:  # only read-outs so far (the welcome): no empty box on the projector
        nodes.insert(0, DNode(id=HISTORY_ID, key=HISTORY_ID, map_id=dm.id, kind="info",
                              title="The path so far:", listing=tuple(lines),
                              tooltip="The path so far", on_path=True))
        edges.insert(0, DEdge(HISTORY_ID, here, "", ("next",), taken=True, times=1))
    clusters = [c for c in b.clusters if any(n.cluster == c.id for n in nodes)]
    return Diagram(
        title=_title_of(dm, scope),
        map_id=dm.id,
        nodes=tuple(replace(n, cluster=None) if n.cluster not in
                    {c.id for c in clusters} else n for n in nodes),
        edges=tuple(edges),
        clusters=tuple(clusters),
        traced=True,
        focus=False,
        verdicts=tuple(sorted({n.verdict for n in nodes if n.verdict})),
    )


def _now(n: DNode) -> DNode:
    return replace(n, title=f"Now: {n.title}", on_path=True)


def _title_of(dm: DecisionMap, scope: Scope) -> str:
    m = _map_in_scope(dm, scope)
    if m is None or not scope:
        return dm.model.title
    return f"{dm.model.title} → {m.model.title}"


def around_picture(dm: DecisionMap, trace: Trace, scope: Scope, node: str, fmt: str = "svg",
                   *, before: int | None = None) -> bytes:
    """around() drawn with big text: two levels ahead when that keeps the smallest text
    at least MIN_PX high on a 1920 × 1080 screen, else one level."""
    from .draw import draw

    best: tuple[float, str, bytes] = (-1.0, "", b"")
    for levels in (2, 1):
        d = around(dm, trace, scope, node, before=before, levels=levels)
        for rankdir in ("LR", "TB"):  # whichever fills a 16:9 screen better
            source = _spell(d, rankdir)
            svg = draw(source, "svg")
            px = svg_size(svg).text_px()
            if px > best[0]:
                best = (px, source, svg)
        if best[0] >= MIN_PX:
            break
    _, source, svg = best
    return svg if fmt == "svg" else draw(source, fmt)


def _spell(d: Diagram, rankdir: str) -> str:
    """DOT for an around() diagram: big text, no legend, checks as hexagons."""
    from .dot import diagram_to_digraph

    g = diagram_to_digraph(d, legend=False, fontsize=AROUND_FONT)
    g.attr("graph", rankdir=rankdir, nodesep="0.2", ranksep="0.5")
    g.attr("edge", fontsize=str(AROUND_FONT))  # edge labels as big as the boxes' text
    for n in d.nodes:  # a diamond grows with its text: a hexagon is half as wide
        if n.kind == "check":
            g.node(n.id, shape="hexagon")
    return g.source


def around_step(dm: DecisionMap, trace: Trace, number: int, fmt: str = "svg") -> bytes:
    """The picture around step `number` of `trace` (1-based), with the steps before it
    folded into a list."""
    s = step_at(trace, number)
    return around_picture(dm, trace, s.scope, s.node, fmt, before=number)
