"""The summary picture: what is drawn when a map is too big or too tangled to lay out
within draw.py's limits.

It is small by construction, so its layout is cheap whatever the map: one note saying
what the map holds and why it is not drawn whole, the walk's path as a straight line
(its first and last SUMMARY_PATH_ENDS places, with a box counting the places left out
between them), and, without a path (or before its first step), up to SUMMARY_OUTCOMES
of the outcomes the map can end in. It is a `Diagram` like any other, so DOT and
Mermaid spell it the usual way.
"""

from __future__ import annotations

import dataclasses

from .diagram import DEdge, Diagram, DNode

SUMMARY_PATH_ENDS = 12  # places drawn at each end of a long path
SUMMARY_OUTCOMES = 12  # outcomes drawn for a map without a path
KIND_PLURALS = {
    "choice": ("choice question", "choice questions"),
    "number": ("number question", "number questions"),
    "text": ("text question", "text questions"),
    "check": ("check", "checks"),
    "info": ("read-out", "read-outs"),
    "handoff": ("hand-off", "hand-offs"),
    "outcome": ("outcome", "outcomes"),
}


def contents(d: Diagram) -> str:
    """What a diagram holds, e.g. "41 choice questions, 3 outcomes and 574 lines"."""
    counts: dict[str, int] = {}
    for n in d.nodes:
        counts[n.kind] = counts.get(n.kind, 0) + 1
    parts = []
    for kind, (one, many) in KIND_PLURALS.items():
        if counts.get(kind):
            parts.append(f"{counts[kind]:,} {one if counts[kind] == 1 else many}")
    edges = len(d.edges)
    return f"{', '.join(parts)} and {edges:,} {'line' if edges == 1 else 'lines'}"


def _path_in_order(d: Diagram) -> list[DNode]:
    """The nodes the walk reached, in the order it first reached them."""
    on = [n for n in d.nodes if n.on_path and n.steps]
    return sorted(on, key=lambda n: min(n.steps))


def summarize(d: Diagram, reason: str) -> Diagram:
    """A small picture standing in for `d`, saying `reason` (why `d` is not drawn)."""
    note = DNode(
        id="summary",
        key="summary",
        map_id=d.map_id,
        kind="info",
        title=f"Not drawn whole: {reason}. The map holds {contents(d)}. "
              "Raise the drawing limits to draw more of it.",
        tooltip=reason,
    )
    nodes: list[DNode] = [note]
    edges: list[DEdge] = []
    path = [dataclasses.replace(n, cluster=None) for n in _path_in_order(d)]
    if path:
        if len(path) > 2 * SUMMARY_PATH_ENDS:
            left_out = len(path) - 2 * SUMMARY_PATH_ENDS
            gap = DNode(id="gap", key="gap", map_id=d.map_id, kind="info",
                        title=f"… {left_out:,} more places on the path, not drawn …",
                        tooltip="left out of the summary")
            path = path[:SUMMARY_PATH_ENDS] + [gap] + path[-SUMMARY_PATH_ENDS:]
        taken = {(e.source, e.target): e for e in d.edges if e.taken}
        for a, b in zip(path, path[1:], strict=False):
            e = taken.get((a.id, b.id))
            edges.append(e if e is not None else DEdge(a.id, b.id, "", ("path",), taken=True))
        nodes += path
        edges.insert(0, DEdge(note.id, path[0].id, "", ("note",)))
    else:
        outcomes = [n for n in d.nodes if n.kind == "outcome"]
        shown = outcomes[:SUMMARY_OUTCOMES]
        nodes += [dataclasses.replace(n, cluster=None) for n in shown]
        edges += [DEdge(note.id, n.id, "can end in" if i == 0 else "", ("note",))
                  for i, n in enumerate(shown)]
        if len(outcomes) > len(shown):
            more = DNode(id="more", key="more", map_id=d.map_id, kind="info",
                         title=f"… and {len(outcomes) - len(shown):,} more outcomes",
                         tooltip="left out of the summary")
            nodes.append(more)
            edges.append(DEdge(note.id, more.id, "", ("note",)))
    kept = {n.id for n in nodes}
    return Diagram(
        title=f"{d.title} (a summary: too big to draw whole)",
        map_id=d.map_id,
        nodes=tuple(nodes),
        edges=tuple(e for e in edges if e.source in kept and e.target in kept),
        clusters=(),
        traced=d.traced,
        focus=False,
        verdicts=tuple(sorted({n.verdict for n in nodes if n.verdict})),
        stopped=d.stopped,
    )
