"""What leads where: for each outcome, the routes that reach it and what each needs.

Routes are loop-free paths from the start. Their number can grow exponentially, so each
outcome gets an equal share of a cap and the search says when it stopped; searching
only through nodes that can still reach the outcome keeps every outcome found.

A route is listed only if a group could walk it: what the route has answered so far is
kept, and a check whose case (or `otherwise`) contradicts it is not followed. Where the
answers leave a condition open (a text, a number outside what its branch tells), the
route is kept, so nothing possible is ever dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..io.loader import DecisionMap
from ..model.conditions import compare
from ..model.format import (
    AllOf,
    AnyOf,
    Check,
    ChoiceQuestion,
    Comparison,
    Not,
    NumberQuestion,
    TextQuestion,
)
from ..model.graph import STATUS_KEYS, Edge, edges_of
from ..model.trace import Trace
from ..rules.table import possible_statuses

DEFAULT_CAP = 2_000

Truth = bool | None  # None: this route's answers do not tell


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
    impossible: int = 0  # branches of checks not followed: the answers before rule them out


def route_of(trace: Trace) -> list[RouteStep]:
    """The route a walk took through its top map, as `find_paths` writes routes."""
    out = []
    for s in trace.steps:
        if s.depth == 0 and s.route_kind is not None:
            e = Edge(s.route_kind, s.route_value or "", s.next or "", ())  # type: ignore[arg-type]
            out.append(RouteStep(s.node, e.kind, e.value if e.kind == "choice" else e.label))
    return out


# ---------------------------------------------------------------- what a route knows


@dataclass(frozen=True)
class Known:
    """What a route tells of one question's decision: the statuses it may have ended in
    and, when decided, its value (exact) or the bounds its number branch puts on it."""

    statuses: frozenset[str]
    value: Any = None
    exact: bool = False
    low: tuple[float, bool] | None = None  # (bound, inclusive)
    high: tuple[float, bool] | None = None


def _and(values: list[Truth]) -> Truth:
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def _or(values: list[Truth]) -> Truth:
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


def _bound_test(k: Known, op: str, x: float) -> Truth:
    """value `op` x, knowing only that the value lies between k.low and k.high."""
    lo, hi = k.low, k.high  # (bound, inclusive)
    if op in ("gte", "gt"):
        if lo and (lo[0] > x or (lo[0] == x and (op == "gte" or not lo[1]))):
            return True
        if hi and (hi[0] < x or (hi[0] == x and (op == "gt" or not hi[1]))):
            return False
    else:  # lte, lt
        if hi and (hi[0] < x or (hi[0] == x and (op == "lte" or not hi[1]))):
            return True
        if lo and (lo[0] > x or (lo[0] == x and (op == "lt" or not lo[1]))):
            return False
    return None


def _decided_value(c: Comparison, k: Known) -> Truth:
    if k.exact:
        return compare(c, k.value, "decided")
    if c.is_ is None and c.in_ is None and c.not_in is None:
        tests = c.numeric_tests()
        if not tests:
            return True  # only status / answered, checked by the caller
        if k.low is None and k.high is None:
            return None
        return _and([_bound_test(k, op, getattr(c, op)) for op in tests])
    return None


def _comparison(c: Comparison, known: dict[str, Known]) -> Truth:
    k = known.get(c.answer or "")
    if k is None:  # not on this route: not answered
        return compare(c, None, None)
    results: list[Truth] = []
    for status in k.statuses:
        if c.answered is False or (c.status is not None and c.status != status):
            results.append(False)
        elif status != "decided":
            results.append(compare(c, None, status))  # undecided questions have no value
        else:
            results.append(_decided_value(c, k))
    # Whichever of the statuses it ended in: certain only if they all agree.
    if results and all(r is True for r in results):
        return True
    return False if all(r is False for r in results) else None


class Facts:
    """Conditions a route has already seen decided by its checks (a case taken, or passed
    over), keyed by their text, with the questions each reads that were still unanswered
    then: the fact stands until one of those is answered."""

    def __init__(self) -> None:
        self._keys: dict[int, tuple[object, str, frozenset[str]]] = {}

    def key(self, cond: object) -> tuple[str, frozenset[str]]:
        hit = self._keys.get(id(cond))
        if hit is None:
            assert isinstance(cond, (AllOf, AnyOf, Not, Comparison))
            hit = (cond, cond.model_dump_json(by_alias=True, exclude_none=True),
                   frozenset(_answers_read(cond)))
            self._keys[id(cond)] = hit  # the condition is kept alive, so its id stays its own
        return hit[1], hit[2]

    def recall(self, cond: object, known: dict[str, Known],
               seen: dict[str, tuple[bool, frozenset[str]]]) -> Truth:
        key, _ = self.key(cond)
        hit = seen.get(key)
        if hit is None or any(q in known for q in hit[1]):
            return None
        return hit[0]

    def learn(self, cond: object, value: bool, known: dict[str, Known],
              seen: dict[str, tuple[bool, frozenset[str]]]) -> None:
        key, reads = self.key(cond)
        seen[key] = (value, frozenset(q for q in reads if q not in known))
        if isinstance(cond, AllOf) and value:
            for c in cond.all:
                self.learn(c, True, known, seen)
        elif isinstance(cond, AnyOf) and not value:
            for c in cond.any:
                self.learn(c, False, known, seen)
        elif isinstance(cond, Not):
            self.learn(cond.not_, not value, known, seen)


def _answers_read(cond: object) -> set[str]:
    if isinstance(cond, AllOf):
        return set().union(*(_answers_read(c) for c in cond.all))
    if isinstance(cond, AnyOf):
        return set().union(*(_answers_read(c) for c in cond.any))
    if isinstance(cond, Not):
        return _answers_read(cond.not_)
    assert isinstance(cond, Comparison)
    return {cond.answer} if cond.answer else set()


def truth(cond: object, known: dict[str, Known], facts: Facts | None = None,
          seen: dict[str, tuple[bool, frozenset[str]]] | None = None) -> Truth:
    """Whether a condition holds given what a route knows: True, False or None (open)."""
    if facts is not None and seen:
        t = facts.recall(cond, known, seen)
        if t is not None:
            return t
    if isinstance(cond, AllOf):
        return _and([truth(c, known, facts, seen) for c in cond.all])
    if isinstance(cond, AnyOf):
        return _or([truth(c, known, facts, seen) for c in cond.any])
    if isinstance(cond, Not):
        t = truth(cond.not_, known, facts, seen)
        return None if t is None else not t
    assert isinstance(cond, Comparison)
    return _comparison(cond, known)


def _bounds(c: Comparison, holds: bool) -> tuple[tuple | None, tuple | None] | None:
    """The bounds a single-test number branch puts on the aggregate when it holds (or,
    `holds` False, when it does not); None when it tells nothing certain."""
    if c.is_ is not None or c.in_ is not None or c.not_in is not None:
        return None
    if c.status is not None or c.answered is not None:
        return None  # the checker refuses these in branches (DM110); tell nothing of them
    tests = c.numeric_tests()
    if holds:
        lo = hi = None
        for op in tests:
            x = float(getattr(c, op))
            if op in ("gte", "gt"):
                lo = (x, op == "gte")
            else:
                hi = (x, op == "lte")
        return lo, hi
    if len(tests) != 1:
        return None
    op = tests[0]
    x = float(getattr(c, op))
    return {"gte": (None, (x, False)), "gt": (None, (x, True)),
            "lte": ((x, False), None), "lt": ((x, True), None)}[op]


def _tighter(a: tuple | None, b: tuple | None, low: bool) -> tuple | None:
    if a is None or b is None:
        return a or b
    if a[0] != b[0]:
        return a if (a[0] > b[0]) == low else b
    return a if not a[1] else b


def _learn(node: object, e: Edge, edges: list[Edge], defaults: Any, on_route: frozenset[str]
           ) -> Known | None:
    """What taking edge `e` (one of the node's `edges`) out of question `node` tells of
    its decision."""
    if isinstance(node, ChoiceQuestion) and e.kind == "choice":
        return Known(frozenset({"decided"}), e.value, exact=True)
    if isinstance(node, NumberQuestion) and e.kind == "branch":
        i = e.key[1]
        assert isinstance(i, int)
        lo = hi = None
        for j, b in enumerate(node.branches[: i + 1]):
            bounds = _bounds(b.when, holds=j == i)
            if bounds is not None:
                lo, hi = _tighter(lo, bounds[0], True), _tighter(hi, bounds[1], False)
        return Known(frozenset({"decided"}), low=lo, high=hi)
    if isinstance(node, (ChoiceQuestion, NumberQuestion, TextQuestion)):
        if e.kind == "status":
            return Known(frozenset({e.value}))
        if e.kind == "next":
            return Known(frozenset({"decided"}))
        # otherwise: any status the rule can end in that has no route of its own, or, where
        # another route leads back along this one, anything (the bound on revisits may
        # turn it into otherwise)
        if any(o.target in on_route for o in edges if o.kind != "otherwise"):
            return Known(frozenset(possible_statuses(node, defaults)))
        routed = {s for key, s in STATUS_KEYS.items() if getattr(node, key, None)}
        left = set(possible_statuses(node, defaults)) - routed
        if isinstance(node, ChoiceQuestion):
            left.discard("decided")  # every choice has its own route
        return Known(frozenset(left or {"decided"}))
    return None


def _check_allows(node: Check, e: Edge, known: dict[str, Known], facts: Facts,
                  seen: dict[str, tuple[bool, frozenset[str]]], on_route: frozenset[str]
                  ) -> dict[str, tuple[bool, frozenset[str]]] | None:
    """Whether a check could take edge `e` (its case may hold and no earlier case must):
    None if not, else the route's facts with what taking it tells."""
    taken = e.key[1] if e.kind == "when" else len(node.check)
    assert isinstance(taken, int)
    # A case back to a node already on the route may hit the map's bound on revisits,
    # and the walk then takes `otherwise`: such a case does not rule `otherwise` out.
    ruling = [r.when for r in node.check[:taken] if e.kind == "when" or r.next not in on_route]
    if any(truth(c, known, facts, seen) is True for c in ruling):
        return None
    case = node.check[taken].when if e.kind == "when" else None
    if case is not None and truth(case, known, facts, seen) is False:
        return None
    now = dict(seen)
    for c in ruling:
        facts.learn(c, False, known, now)
    if case is not None:
        facts.learn(case, True, known, now)
    return now


# ---------------------------------------------------------------- the search


def find_paths(dm: DecisionMap, cap: int = DEFAULT_CAP) -> PathsReport:
    """Loop-free routes from the start to each outcome, at most `cap` routes in all: each
    outcome gets an equal share, and what the outcomes with fewer routes leave over goes
    to those with more."""
    outcomes = list(dm.outcomes())
    report = PathsReport(routes={o: [] for o in outcomes}, cap=cap)
    if dm.model.start not in dm.nodes:
        report.unreached = outcomes
        return report
    facts = Facts()
    share = max(1, cap // max(1, len(outcomes)))
    full: list[str] = []
    ruled_out: dict[str, int] = {}
    for o in outcomes:
        routes, more, ruled_out[o] = _search(dm, o, share, facts)
        report.routes[o] = routes
        if more:
            full.append(o)
    limit = share
    while full:  # hand what is left over to the outcomes that filled their share
        left = cap - sum(len(r) for o, r in report.routes.items() if o not in full)
        if left // len(full) <= limit:
            break
        limit = left // len(full)
        for o in list(full):
            report.routes[o], more, ruled_out[o] = _search(dm, o, limit, facts)
            if not more:
                full.remove(o)
    report.capped = bool(full)
    report.impossible = sum(ruled_out.values())
    report.unreached = [o for o in outcomes if not report.routes[o]]
    return report


def _search(dm: DecisionMap, o: str, limit: int, facts: Facts
            ) -> tuple[list[list[RouteStep]], bool, int]:
    """Up to `limit` possible routes to outcome `o`; whether more are left; how many
    branches were not followed because a check contradicts the answers before it."""
    start = dm.model.start
    defaults = dm.model.defaults
    allowed = nx.ancestors(dm.graph, o) | {o}
    found: list[list[RouteStep]] = []
    impossible = 0
    if start not in allowed:
        return found, False, 0
    stack: list[tuple[str, list[RouteStep], frozenset[str], dict[str, Known], dict]] = [
        (start, [], frozenset({start}), {}, {})]
    while stack:
        node_id, route, seen, known, decided = stack.pop()
        if node_id == o:
            found.append(route)
            if len(found) >= limit:
                return found, bool(stack), impossible
            continue
        node = dm.nodes[node_id]
        edges = edges_of(node)
        for e in reversed(edges):
            if e.target in seen or e.target not in allowed:
                continue
            facts_now = decided
            if isinstance(node, Check):
                facts_now = _check_allows(node, e, known, facts, decided, seen)
                if facts_now is None:
                    impossible += 1
                    continue
            learned = _learn(node, e, edges, defaults, seen)
            now = {**known, node_id: learned} if learned is not None else known
            step = RouteStep(node_id, e.kind, e.value if e.kind == "choice" else e.label)
            stack.append((e.target, route + [step], seen | {e.target}, now, facts_now))
    return found, False, impossible
