"""What leads where: for each outcome, the routes that reach it and what each needs.

Routes are loop-free paths from the start; their number can grow exponentially, so the
search stops at a cap and says so, instead of hanging.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .graph import Edge, edges_of
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
    """Every loop-free route from the start to each outcome, up to `cap` routes in all."""
    outcomes = list(dm.outcomes())
    report = PathsReport(routes={o: [] for o in outcomes}, cap=cap)
    found = 0
    start = dm.model.start
    if start not in dm.nodes:
        report.unreached = outcomes
        return report
    stack: list[tuple[str, list[RouteStep], frozenset[str]]] = [(start, [], frozenset({start}))]
    while stack:
        node_id, route, seen = stack.pop()
        node = dm.nodes[node_id]
        if node_id in report.routes:
            report.routes[node_id].append(route)
            found += 1
            if found >= cap:
                report.capped = True
                break
            continue
        ways: list[Edge] = edges_of(node)
        for e in reversed(ways):
            if e.target in seen or e.target not in dm.nodes:
                continue
            step = RouteStep(node_id, e.kind, e.label if e.kind != "choice" else e.value)
            stack.append((e.target, route + [step], seen | {e.target}))
    report.unreached = [o for o in outcomes if not report.routes[o]]
    return report
