"""The map as a networkx DiGraph: what the checker, the engine and the renderers share.

Each graph node carries `kind`, `label` and the `node` model. Each edge carries
`routes`: the list of ways the walk can take it (a choice, a status, a condition,
`next`, `otherwise`, a hand-off's returned outcome), because two routes may share an edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import networkx as nx

from .conditions import describe_tests
from .format import (
    Check,
    ChoiceQuestion,
    Handoff,
    Info,
    MapFile,
    NumberQuestion,
    Outcome,
    StatusRoutes,
    TextQuestion,
    node_kind,
)

RouteKind = Literal["choice", "status", "branch", "when", "next", "otherwise", "return"]
STATUS_KEYS = {
    "on_block": "blocked",
    "on_tie": "tie",
    "on_no_quorum": "no_quorum",
    "on_no_agreement": "no_agreement",
}


@dataclass(frozen=True)
class Edge:
    """One way out of a node: its kind, the value it stands for, where it goes, and the
    path of the key that wrote it (for locating diagnostics)."""

    kind: RouteKind
    value: str
    target: str
    key: tuple[str | int, ...]

    @property
    def label(self) -> str:
        if self.kind == "status":
            return self.value.replace("_", " ")
        if self.kind == "return":
            return f"→ {self.value}"
        return self.value


def node_label(node: object) -> str:
    """The text a node shows: its question, what it says, or its outcome's title."""
    if isinstance(node, (ChoiceQuestion, NumberQuestion, TextQuestion)):
        return node.ask
    if isinstance(node, Info):
        return node.say
    if isinstance(node, Outcome):
        return node.outcome
    if isinstance(node, Handoff):
        return node.label or f"Walk {node.map}"
    if isinstance(node, Check):
        return node.label or "Check earlier answers"
    return ""


def _status_edges(node: StatusRoutes) -> list[Edge]:
    out = []
    for key, status in STATUS_KEYS.items():
        target = getattr(node, key)
        if target:
            out.append(Edge("status", status, target, (key,)))
    if node.otherwise:
        out.append(Edge("otherwise", "otherwise", node.otherwise, ("otherwise",)))
    return out


def edges_of(node: object) -> list[Edge]:
    """Every way out of `node`, in the order the walk considers them."""
    if isinstance(node, ChoiceQuestion):
        return [
            Edge("choice", value, target, ("choices", value))
            for value, target in node.targets().items()
        ] + _status_edges(node)
    if isinstance(node, NumberQuestion):
        return [
            Edge("branch", describe_tests(b.when), b.next, ("branches", i, "next"))
            for i, b in enumerate(node.branches)
        ] + _status_edges(node)
    if isinstance(node, TextQuestion):
        return [Edge("next", "next", node.next, ("next",))] + _status_edges(node)
    if isinstance(node, Info):
        return [Edge("next", "next", node.next, ("next",))]
    if isinstance(node, Check):
        out = [
            Edge("when", f"case {i + 1}", r.next, ("check", i, "next"))
            for i, r in enumerate(node.check)
        ]
        if node.otherwise:
            out.append(Edge("otherwise", "otherwise", node.otherwise, ("otherwise",)))
        return out
    if isinstance(node, Handoff):
        out = [
            Edge("return", outcome, target, ("returns", outcome))
            for outcome, target in node.returns.items()
        ]
        if node.otherwise:
            out.append(Edge("otherwise", "otherwise", node.otherwise, ("otherwise",)))
        return out
    return []


def build_graph(model: MapFile) -> nx.DiGraph:
    """Nodes for every node id; edges only to nodes that exist (the checker reports
    the rest). networkx is imported here, not at the top: drawing or walking a map does
    not need it, and its import is a seventh of a second of every such command."""
    import networkx as nx

    g = nx.DiGraph(id=model.id, title=model.title, start=model.start)
    for node_id, node in model.nodes.items():
        g.add_node(node_id, kind=node_kind(node), label=node_label(node), node=node)
    for node_id, node in model.nodes.items():
        for e in edges_of(node):
            if e.target not in model.nodes:
                continue
            if g.has_edge(node_id, e.target):
                g.edges[node_id, e.target]["routes"].append(e)
            else:
                g.add_edge(node_id, e.target, routes=[e])
    return g


QUESTION_KINDS = frozenset({"choice", "number", "text"})


def questions_remaining(dm: object) -> dict[str, int]:
    """For each node, the most questions a walk may still ask before any outcome.

    Loops are cut at their back edges (a DFS from the start), so the count is the
    longest loop-free route; computed once per loaded map and kept on it.
    """
    cached = getattr(dm, "_remaining", None)
    if cached is not None:
        return cached
    import networkx as nx

    g: nx.DiGraph = dm.graph  # type: ignore[attr-defined]
    dag = nx.DiGraph()
    dag.add_nodes_from(g.nodes)
    dag.add_edges_from((u, v) for u, v in g.edges if (u, v) not in back_edges(g))
    out: dict[str, int] = {}
    for n in reversed(list(nx.topological_sort(dag))):
        own = 1 if g.nodes[n].get("kind") in QUESTION_KINDS else 0
        out[n] = own + max((out[s] for s in dag.successors(n)), default=0)
    dm._remaining = out  # type: ignore[attr-defined]
    return out


def back_edges(g: nx.DiGraph) -> set[tuple[str, str]]:
    """Edges that close a loop, found by depth-first search from the start (then from any
    node not yet seen). Removing them leaves a DAG."""
    cached = g.graph.get("_back_edges")
    if cached is not None:
        return cached
    import networkx as nx

    back: set[tuple[str, str]] = set()
    seen: set[str] = set()
    start = g.graph.get("start")
    roots = ([start] if start in g else []) + list(g.nodes)
    for root in roots:
        if root in seen:
            continue
        on_stack = {root}
        seen.add(root)
        for u, v, kind in nx.dfs_labeled_edges(g, root):
            if kind == "forward" and u != v:
                if v in seen and v not in on_stack:
                    continue
                seen.add(v)
                on_stack.add(v)
            elif kind == "reverse" and u != v:
                on_stack.discard(v)
            elif kind == "nontree" and v in on_stack:
                back.add((u, v))
    g.graph["_back_edges"] = back
    return back
