"""What leads where: for each outcome, the routes that reach it and what each needs.

Routes are loop-free paths from the start. Their number can grow exponentially, so each
outcome gets an equal share of a cap and the search says when it stopped; searching
only through nodes that can still reach the outcome keeps every outcome found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from .graph import edges_of
from .loader import DecisionMap

DEFAULT_CAP = 2_000


@dataclass(frozen=True)
class RouteStep:
    node: str
    kind: str
    edge: str  # the choice, status, case, or returned outcome taken

    def text(self) -> str:
        if self.kind == "choice":
            return f"{self.node} = {self.edge}"
        if self.kind in ("status", "otherwise", "branch", "when", "return"):
            return f"{self.node}: {self.edge}"
        return self.node


@dataclass
class PathsReport:
    routes: dict[str, list[list[RouteStep]]] = field(default_factory=dict)
    unreached: list[str] = field(default_factory=list)
    capped: bool = False
    cap: int = DEFAULT_CAP


def find_paths(dm: DecisionMap, cap: int = DEFAULT_CAP) -> PathsReport:
    """Loop-free routes from the start to each outcome, at most `cap` routes in all."""
    outcomes = list(dm.outcomes())
    report = PathsReport(routes={o: [] for o in outcomes}, cap=cap)
    start = dm.model.start
    share = max(1, cap // max(1, len(outcomes)))
    for o in outcomes:
        if start not in dm.nodes:
            break
        allowed = nx.ancestors(dm.graph, o) | {o}
        if start not in allowed:
            continue
        found = report.routes[o]
        stack: list[tuple[str, list[RouteStep], frozenset[str]]] = [
            (start, [], frozenset({start}))]
        while stack:
            node_id, route, seen = stack.pop()
            if node_id == o:
                found.append(route)
                if len(found) >= share:
                    report.capped = report.capped or bool(stack)
                    break
                continue
            for e in reversed(edges_of(dm.nodes[node_id])):
                if e.target in seen or e.target not in allowed:
                    continue
                step = RouteStep(node_id, e.kind, e.value if e.kind == "choice" else e.label)
                stack.append((e.target, route + [step], seen | {e.target}))
    report.unreached = [o for o in outcomes if not report.routes[o]]
    return report
