"""How long a walk is likely to take: the minutes on the longest route from each node.

A node's own estimate is its `time` (none counts 0); a hand-off's is the longest route of
the map it hands off to, worked out the same way. Loops are cut at their back edges, as
`questions_remaining` cuts them, so every figure is a loop-free route and finite. Computed
once per loaded map and kept on it.
"""

from __future__ import annotations

import networkx as nx

from .format import Handoff
from .graph import back_edges

# How many hand-offs deep the estimate follows (the loader refuses deeper nesting already;
# this bound holds for any object handed in).
MAX_TIMING_DEPTH = 16


def own_minutes(dm: object, node_id: str, _depth: int = 0) -> int:
    """The minutes one node is likely to take: its `time`, or for a hand-off the longest
    route of its map (0 when that map did not load, or past the depth bound)."""
    node = dm.nodes.get(node_id)  # type: ignore[attr-defined]
    if isinstance(node, Handoff):
        link = getattr(dm, "handoffs", {}).get(node_id)
        sub = getattr(link, "loaded", None)
        if sub is None or _depth >= MAX_TIMING_DEPTH:
            return 0
        return minutes_left(sub, _depth + 1).get(sub.model.start, 0)
    return getattr(node, "time", None) or 0


def minutes_left(dm: object, _depth: int = 0) -> dict[str, int]:
    """For each node, the most minutes a walk may still take from it (its own included)
    to an outcome, on the longest loop-free route."""
    cached = getattr(dm, "_minutes_left", None)
    if cached is not None:
        return cached
    g: nx.DiGraph = dm.graph  # type: ignore[attr-defined]
    back = back_edges(g)
    dag = nx.DiGraph()
    dag.add_nodes_from(g.nodes)
    dag.add_edges_from((u, v) for u, v in g.edges if (u, v) not in back)
    out: dict[str, int] = {}
    for n in reversed(list(nx.topological_sort(dag))):
        out[n] = own_minutes(dm, n, _depth) + max((out[s] for s in dag.successors(n)),
                                                  default=0)
    dm._minutes_left = out  # type: ignore[attr-defined]
    return out


def timed(dm: object, _depth: int = 0) -> bool:
    """Whether the map, or a map it hands off to, carries any estimate at all (a map
    without any shows no times, rather than "0 minutes")."""
    if any(getattr(n, "time", None) is not None
           for n in dm.nodes.values()):  # type: ignore[attr-defined]
        return True
    if _depth >= MAX_TIMING_DEPTH:
        return False
    return any(link.loaded is not None and timed(link.loaded, _depth + 1)
               for link in getattr(dm, "handoffs", {}).values())


def in_words(minutes: int) -> str:
    """Minutes as a facilitator says them: "45 minutes", "1 hour 30 minutes"."""
    hours, mins = divmod(max(0, int(minutes)), 60)
    parts = ([f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []) + (
        [f"{mins} minute{'s' if mins != 1 else ''}"] if mins or not hours else [])
    return " ".join(parts)
