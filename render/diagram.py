"""The diagram data model: what a drawing shows, apart from how DOT or Mermaid spell it.

`build(dm, trace, focus=...)` turns a loaded map (and optionally the trace of a walk)
into plain frozen dataclasses: nodes with generated ids (`n0`, `n1`, ... in map node
order), edges with labels and taken/loop/blocked flags, and clusters for hand-off maps
the walk went into. `dot.py` and `mermaid.py` only spell this model out; neither reads
the map or the trace itself (the split python-statemachine's contrib/diagram uses).

Hand-offs: a hand-off node is always drawn as a "linked box" naming the other map's
title. When the trace went into that map, its nodes are drawn as well, as a cluster
(with the walk's steps in it), joined to the hand-off node by an "enters" edge; a
hand-off the walk did not enter stays a single box, so a drawing never grows with
maps nobody walked.

Revisits: a step a later revisit went back before (`Step.superseded`) is kept in the
picture, not erased and not on the live path: its node lists it as "superseded: step N"
(and its tally as "#N superseded: ..."), a node or edge only a superseded branch reached
is `only_superseded`/`superseded`, and the spellings draw those dashed in dark grey,
apart from both the live path and what was never taken.

Focus: only the nodes the walk passed through (superseded steps too), plus the nodes
one edge past them (the branches not taken), and the edges leaving path nodes. Without
a trace there is no path, and focus changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from decision_map.errors import InputError
from decision_map.io.loader import DecisionMap
from decision_map.model.conditions import num, said_tests, words
from decision_map.model.decision import Decision
from decision_map.model.format import (
    Check,
    ChoiceQuestion,
    Handoff,
    NodeBase,
    NumberQuestion,
    Outcome,
    node_kind,
)
from decision_map.model.graph import Edge, edges_of, node_label
from decision_map.model.trace import Scope, Step, Trace

from .quoting import wrap

MAX_TALLY_LINES = 3


@dataclass(frozen=True)
class DNode:
    """One node as drawn. `id` is generated; `key` is the author's node id."""

    id: str
    key: str
    map_id: str
    kind: str
    title: str
    tooltip: str
    verdict: str | None = None
    linked_title: str | None = None  # hand-offs: the other map's title (or its path)
    on_path: bool = False  # the live path passes here (steps a revisit superseded do not count)
    steps: tuple[int, ...] = ()
    tallies: tuple[str, ...] = ()  # one line per visit with a decision
    blocked: bool = False  # some live visit ended in a block
    cluster: str | None = None
    start: bool = False
    listing: tuple[str, ...] = ()  # lines shown as they are, after the title (a folded path)
    problem: str = ""  # diagnostic codes marked on the node (the author's preview page)
    superseded: tuple[int, ...] = ()  # steps here that a later revisit went back before

    @property
    def steps_text(self) -> str:
        """ "step 1", "steps 3, 7", or "" off the path."""
        return _numbered(self.steps)

    @property
    def superseded_text(self) -> str:
        """ "superseded: step 4" when a revisit went back before steps here, else "". """
        return f"superseded: {_numbered(self.superseded)}" if self.superseded else ""

    @property
    def only_superseded(self) -> bool:
        """The walk was here only on a branch a revisit left: kept, not on the live path."""
        return bool(self.superseded) and not self.on_path

    @property
    def all_steps(self) -> tuple[int, ...]:
        """Every step here, live or superseded, in order."""
        return tuple(sorted(self.steps + self.superseded))

    def lines(self) -> list[str]:
        """The label as lines of plain text (wrapped, not escaped)."""
        out: list[str] = []
        if self.kind == "handoff":
            out += wrap(f"↪ {self.linked_title}")
        out += wrap(self.title)
        if self.steps:
            out.append(self.steps_text)
        if self.superseded:
            out.append(self.superseded_text)
        for t in self.tallies:
            out += wrap(t, 36)
        out += self.listing
        if self.problem:
            out += wrap(f"⚠ {self.problem}", 36)
        return out


@dataclass(frozen=True)
class DEdge:
    source: str
    target: str
    label: str
    kinds: tuple[str, ...]
    taken: bool = False
    times: int = 0
    loop: bool = False  # taken back to a node the walk had already been at
    blocked: bool = False  # taken because the decision was blocked
    enters: bool = False  # hand-off node -> the start of the map it walks
    superseded: bool = False  # taken only on a branch a later revisit went back before

    @property
    def text(self) -> str:
        """The label as drawn: the route's label, with "×2" when taken more than once, and
        "(superseded)" under it when only a superseded branch took it."""
        if self.taken and self.times > 1:
            return f"{self.label} ×{self.times}" if self.label else f"×{self.times}"
        if self.superseded:
            return f"{self.label}\n(superseded)" if self.label else "(superseded)"
        return self.label


@dataclass(frozen=True)
class DCluster:
    id: str
    title: str
    map_id: str
    parent: str | None
    handoff: str  # the generated id of the hand-off node that enters it


@dataclass(frozen=True)
class Diagram:
    title: str
    map_id: str
    nodes: tuple[DNode, ...]
    edges: tuple[DEdge, ...]
    clusters: tuple[DCluster, ...] = ()
    traced: bool = False
    focus: bool = False
    verdicts: tuple[str, ...] = ()  # every verdict drawn, sorted: colours index into it
    stopped: str | None = None
    note: str | None = None  # why less than the whole map is drawn (see draw.py's limits)

    def node(self, node_id: str) -> DNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def in_cluster(self, cluster: str | None) -> list[DNode]:
        return [n for n in self.nodes if n.cluster == cluster]

    def child_clusters(self, parent: str | None) -> list[DCluster]:
        return [c for c in self.clusters if c.parent == parent]


def marked(d: Diagram, problems: Mapping[str, str]) -> Diagram:
    """The diagram with each node of its own map named in `problems` (author's node id ->
    codes) marked, so an author sees where a map's problems are, not only their lines."""
    if not problems:
        return d
    nodes = tuple(dataclasses.replace(n, problem=problems[n.key])
                  if n.cluster is None and n.key in problems else n for n in d.nodes)
    return dataclasses.replace(d, nodes=nodes)


# ---------------------------------------------------------------- text helpers


def tally_text(d: Decision, node: object = None) -> str:
    """A decision's tally in one short line, e.g. "yes 4 · no 1 · 1 stands aside".

    Vote words (abstain, stand-aside, block, object) are counted from the decision's
    own lists when it has them, else from the tally; a status other than `decided`
    leads the line.
    """
    special = {"abstain", "stand-aside", "block", "object"}
    def name(k: str) -> str:
        if isinstance(node, ChoiceQuestion) and k in node.choices:
            return node.choice_label(k)
        return k

    parts = [f"{_cut(name(k))} {num(v)}" for k, v in d.tally.items() if k not in special and v]
    if not parts and d.value is not None and not d.texts:
        parts.append(f"= {num(d.value)}")
    if d.texts:
        n = len(d.texts)
        parts.append(f"{n} {'answer' if n == 1 else 'answers'}")
    aside = len(d.stood_aside) or int(d.tally.get("stand-aside", 0))
    if aside:
        parts.append(f"{aside} {'stands' if aside == 1 else 'stand'} aside")
    blocks = len(d.blocks) or int(d.tally.get("block", 0)) + int(d.tally.get("object", 0))
    if blocks:
        parts.append(f"{blocks} {'block' if blocks == 1 else 'blocks'}")
    abstained = len(d.abstained) or int(d.tally.get("abstain", 0))
    if abstained:
        parts.append(f"{abstained} abstained")
    text = " · ".join(parts)
    if d.status != "decided":
        status = d.status.replace("_", " ")
        text = f"{status}: {text}" if text else status
    return text


def _numbered(steps: tuple[int, ...]) -> str:
    """ "step 1", "steps 3, 7", or "" for none."""
    if not steps:
        return ""
    word = "step" if len(steps) == 1 else "steps"
    return f"{word} {', '.join(str(n) for n in steps)}"


def _cut(text: str, width: int = 24) -> str:
    """A choice's label short enough for a tally line."""
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"


def edge_text(node: object, e: Edge, nodes: Any = None, returns: Any = None) -> str:
    """The label of one way out of `node` in members' words (`nodes`: the map's nodes,
    for checks; `returns`: a hand-off's other map's nodes); a plain `next` has none."""
    if e.kind == "next":
        return ""
    if e.kind == "choice" and isinstance(node, ChoiceQuestion):
        return node.choice_label(e.value)
    idx = e.key[1] if len(e.key) > 1 and isinstance(e.key[1], int) else None
    if e.kind == "when" and isinstance(node, Check) and idx is not None \
            and idx < len(node.check):
        route = node.check[idx]
        return route.say or words(route.when, nodes or {})
    if e.kind == "branch" and isinstance(node, NumberQuestion) and idx is not None \
            and idx < len(node.branches):
        route = node.branches[idx]
        return said_tests(route.when, node)
    if e.kind == "return" and returns is not None:  # the other map's outcome, by title
        outcome = returns.get(e.value)
        return getattr(outcome, "outcome", None) or e.label
    return e.label


def _title(node: object) -> str:
    label = getattr(node, "label", None)
    return label or node_label(node)


def _tooltip(node: object) -> str:
    help_text = getattr(node, "help", None) if isinstance(node, NodeBase) else None
    parts = []
    if getattr(node, "label", None):
        parts.append(node_label(node))
    if help_text:
        parts.append(help_text)
    return "\n\n".join(parts) if parts else _title(node)


# ---------------------------------------------------------------- building


class _Builder:
    def __init__(self, dm: DecisionMap, trace: Trace | None) -> None:
        self.dm = dm
        self.trace = trace
        # (scope, node id) -> [(step number, step)]
        self.visits: dict[tuple[Scope, str], list[tuple[int, Step]]] = {}
        self.maps: dict[Scope, DecisionMap] = {(): dm}
        self.ids: dict[tuple[Scope, str], str] = {}
        self.nodes: list[DNode] = []
        self.edges: list[DEdge] = []
        self.clusters: list[DCluster] = []

    # -- trace

    def attribute_steps(self) -> None:
        """Place each step in the map its scope names (the trace carries each step's
        hand-off stack); a step whose scope or map this map does not have is left off."""
        if self.trace is None:
            return
        for i, s in enumerate(self.trace.steps, start=1):
            target = self._map_of(s.scope)
            if target is None or target.id != s.map_id:
                continue
            self.visits.setdefault((s.scope, s.node), []).append((i, s))

    def _map_of(self, scope: Scope) -> DecisionMap | None:
        if scope in self.maps:
            return self.maps[scope]
        parent = self._map_of(scope[:-1])
        if parent is None:
            return None
        link = parent.handoffs.get(scope[-1])
        loaded = link.loaded if link else None
        if loaded is not None:
            self.maps[scope] = loaded
        return loaded

    def entered(self, scope: Scope) -> bool:
        return any(k[0][: len(scope)] == scope for k in self.visits if len(k[0]) >= len(scope))

    # -- nodes and edges

    def assign_ids(self, scope: Scope) -> list[Scope]:
        """Ids in map node order for this scope; returns the entered sub-scopes."""
        m = self._map_of(scope)
        assert m is not None
        subs = []
        for node_id, node in m.model.nodes.items():
            self.ids[(scope, node_id)] = f"n{len(self.ids)}"
            if isinstance(node, Handoff) and self.trace is not None:
                sub = scope + (node_id,)
                if self._map_of(sub) is not None and self.entered(sub):
                    subs.append(sub)
        return subs

    def add_scope(self, scope: Scope, cluster: str | None) -> None:
        m = self._map_of(scope)
        assert m is not None
        for node_id, node in m.model.nodes.items():
            self.nodes.append(self._node(scope, node_id, node, m, cluster))
        for node_id, node in m.model.nodes.items():
            self._edges_from(scope, node_id, node, m)

    def _node(
        self, scope: Scope, node_id: str, node: Any, m: DecisionMap, cluster: str | None
    ) -> DNode:
        every = self.visits.get((scope, node_id), [])
        visits = [(n, s) for n, s in every if not s.superseded]
        tallies = []
        for n, s in every:
            if s.decision is not None:
                mark = " superseded:" if s.superseded else ""
                tallies.append(f"#{n}{mark} {tally_text(s.decision, node)}".rstrip())
        if len(tallies) > MAX_TALLY_LINES:
            tallies = tallies[: MAX_TALLY_LINES - 1] + [f"… {len(tallies) - 2} more"]
        linked = None
        if isinstance(node, Handoff):
            link = m.handoffs.get(node_id)
            linked = link.loaded.model.title if link and link.loaded else node.map
        return DNode(
            id=self.ids[(scope, node_id)],
            key=node_id,
            map_id=m.id,
            kind=node_kind(node),
            title=_title(node),
            tooltip=_tooltip(node),
            verdict=(node.verdict or node_id) if isinstance(node, Outcome) else None,
            linked_title=linked,
            on_path=bool(visits),
            steps=tuple(n for n, _ in visits),
            superseded=tuple(n for n, s in every if s.superseded),
            tallies=tuple(tallies),
            blocked=any(s.decision is not None and s.decision.status == "blocked"
                        for _, s in visits),
            cluster=cluster,
            start=node_id == m.model.start,
        )

    def _edges_from(self, scope: Scope, node_id: str, node: Any, m: DecisionMap) -> None:
        every = self.visits.get((scope, node_id), [])
        visits = [(n, s) for n, s in every if not s.superseded]
        by_target: dict[str, list[Edge]] = {}
        for e in edges_of(node):
            if e.target in m.model.nodes:
                by_target.setdefault(e.target, []).append(e)
        for target, routes in by_target.items():
            wanted = {(e.kind, e.value) for e in routes}
            taking = [(n, s) for n, s in visits if (s.route_kind, s.route_value) in wanted]
            left = any((s.route_kind, s.route_value) in wanted for _, s in every)
            target_steps = [n for n, s in self.visits.get((scope, target), [])
                            if not s.superseded]
            loop = any(t < n for n, _ in taking for t in target_steps)
            blocked = any(s.route_kind == "status" and s.route_value == "blocked"
                          for _, s in taking)
            link = m.handoffs.get(node_id) if isinstance(node, Handoff) else None
            returns = link.loaded.model.nodes if link and link.loaded else None
            labels = list(dict.fromkeys(
                t for t in (edge_text(node, e, m.model.nodes, returns) for e in routes) if t))
            if len(labels) > 1:  # listed, one a line, each marked where it starts
                labels = [f"• {t}" for t in labels]
            self.edges.append(DEdge(
                source=self.ids[(scope, node_id)],
                target=self.ids[(scope, target)],
                label="\n".join(labels),
                kinds=tuple(dict.fromkeys(e.kind for e in routes)),
                taken=bool(taking),
                times=len(taking),
                loop=loop,
                blocked=blocked,
                superseded=left and not taking,
            ))

    def walk(self, scope: Scope, cluster: str | None) -> None:
        subs = self.assign_ids(scope)
        self.add_scope(scope, cluster)
        for sub in subs:
            sub_map = self._map_of(sub)
            assert sub_map is not None
            cid = f"c{len(self.clusters)}"
            handoff_id = self.ids[(scope, sub[-1])]
            self.clusters.append(DCluster(cid, sub_map.model.title, sub_map.id, cluster,
                                          handoff_id))
            self.walk(sub, cid)
            entries = [s for _, s in self.visits.get((scope, sub[-1]), [])
                       if s.route_kind is None]
            live = sum(1 for s in entries if not s.superseded)
            self.edges.append(DEdge(
                source=handoff_id,
                target=self.ids[(sub, sub_map.model.start)],
                label="enters",
                kinds=("enters",),
                taken=bool(live) or not entries,
                times=live or 1,
                enters=True,
                superseded=bool(entries) and not live,
            ))


def build(dm: DecisionMap, trace: Trace | None = None, *, focus: bool = False) -> Diagram:
    """The diagram of `dm`, with the path of `trace` marked when given."""
    if trace is not None and trace.map_id != dm.id:
        raise InputError(f"the trace is of map {trace.map_id!r}, not of {dm.id!r}")
    b = _Builder(dm, trace)
    b.attribute_steps()
    b.walk((), None)
    nodes, edges = b.nodes, b.edges
    focused = bool(focus and trace is not None)
    if focused:
        nodes, edges = _focus(nodes, edges)
    verdicts = sorted({n.verdict for n in nodes if n.verdict})
    return Diagram(
        title=dm.model.title,
        map_id=dm.id,
        nodes=tuple(nodes),
        edges=tuple(edges),
        clusters=tuple(_used_clusters(b.clusters, nodes)),
        traced=trace is not None,
        focus=focused,
        verdicts=tuple(verdicts),
        stopped=trace.stopped if trace is not None else None,
    )


def _focus(nodes: list[DNode], edges: list[DEdge]) -> tuple[list[DNode], list[DEdge]]:
    path = {n.id for n in nodes if n.on_path or n.superseded}
    keep = set(path)
    for e in edges:
        if e.source in path:
            keep.add(e.target)
    return (
        [n for n in nodes if n.id in keep],
        [e for e in edges if e.source in path and e.target in keep],
    )


def _used_clusters(clusters: Iterable[DCluster], nodes: list[DNode]) -> list[DCluster]:
    used = {n.cluster for n in nodes if n.cluster}
    cs = list(clusters)
    # a cluster is kept when it or a cluster inside it has nodes
    changed = True
    while changed:
        changed = False
        for c in cs:
            if c.id in used and c.parent and c.parent not in used:
                used.add(c.parent)
                changed = True
    return [c for c in cs if c.id in used]
