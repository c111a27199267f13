"""What leads where: for each outcome, the routes that reach it and what each needs.

Routes are loop-free paths from the start. Their number can grow exponentially, so each
outcome gets an equal share of a cap, the search as a whole has a budget of steps, and
the report says which of the two stopped it. One search serves every outcome, holding
its route on a stack it pushes and pops (memory in the route's length, not its square);
it goes only where an outcome that still wants routes can be reached, and blocks the
nodes from which none can be reached but through the route (work near-linear in the
routes listed, not in the loop-free paths of the map).

A route is listed only if a group could walk it: what the route has answered so far is
kept, and a check whose case (or `otherwise`) contradicts it is not followed. Where the
answers leave a condition open (a text, a number outside what its branch tells), the
route is kept, so nothing possible is ever dropped.
"""

from __future__ import annotations

import json
from collections.abc import Set
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import networkx as nx

from ..gcpause import paused
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

DEFAULT_BUDGET = 1_000_000  # steps of search in all (a few seconds), then it stops: "capped"

Truth = bool | None  # None: this route's answers do not tell
_NOTHING = object()  # no fact was recorded under a key before


@dataclass(frozen=True)
class RouteStep:
    """One step of a route: the node and the edge taken out of it. Its text (and that text
    as a JSON string) is made once, since one step is shared by every route through it."""

    node: str
    kind: str
    edge: str  # the choice, status, case, or returned outcome taken
    shown: str = field(init=False, repr=False, compare=False)
    quoted: str = field(init=False, repr=False, compare=False)  # `shown` as JSON

    def __post_init__(self) -> None:
        if self.kind == "choice":
            shown = f"{self.node} = {self.edge}"
        elif self.kind in ("status", "otherwise", "branch", "when", "return"):
            shown = f"{self.node}: {self.edge}"
        else:
            shown = self.node
        object.__setattr__(self, "shown", shown)
        object.__setattr__(self, "quoted", json.dumps(shown))

    def text(self) -> str:
        return self.shown


_SHOWN = attrgetter("shown")
_QUOTED = attrgetter("quoted")


def route_texts(routes: list[list[RouteStep]]) -> list[list[str]]:
    """The routes as the texts of their steps (without a Python call per step: routes
    can run to millions of steps in all)."""
    return [list(map(_SHOWN, r)) for r in routes]


def route_json(route: list[RouteStep]) -> str:
    """A route as a JSON list of its steps' texts, joined from texts quoted once."""
    return "[" + ", ".join(map(_QUOTED, route)) + "]"


@dataclass
class PathsReport:
    routes: dict[str, list[list[RouteStep]]] = field(default_factory=dict)
    unreached: list[str] = field(default_factory=list)
    capped: bool = False
    cap: int = DEFAULT_CAP
    impossible: int = 0  # branches of checks not followed: the answers before rule them out
    capped_by: str | None = None  # "routes": the cap; "budget": the budget on search steps
    budget: int = DEFAULT_BUDGET
    work: int = 0  # steps the search took
    unsearched: list[str] = field(default_factory=list)  # no route found before the budget


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
              seen: dict[str, tuple[bool, frozenset[str]]],
              undo: list[tuple[str, object]] | None = None) -> None:
        """Record that `cond` had `value`; `undo` collects what was there before, so the
        search can take the facts back when it leaves the route (see `forget`)."""
        key, reads = self.key(cond)
        if undo is not None:
            undo.append((key, seen.get(key, _NOTHING)))
        seen[key] = (value, frozenset(q for q in reads if q not in known))
        if isinstance(cond, AllOf) and value:
            for c in cond.all:
                self.learn(c, True, known, seen, undo)
        elif isinstance(cond, AnyOf) and not value:
            for c in cond.any:
                self.learn(c, False, known, seen, undo)
        elif isinstance(cond, Not):
            self.learn(cond.not_, not value, known, seen, undo)

    @staticmethod
    def forget(seen: dict[str, tuple[bool, frozenset[str]]],
               undo: list[tuple[str, object]]) -> None:
        """Take back what `learn` recorded into `undo`, newest first."""
        for key, old in reversed(undo):
            if old is _NOTHING:
                del seen[key]
            else:
                seen[key] = old  # type: ignore[assignment]


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


def _learn(node: object, e: Edge, edges: list[Edge], defaults: Any, on_route: Set[str]
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
                  seen: dict[str, tuple[bool, frozenset[str]]], on_route: Set[str]
                  ) -> list[tuple[object, bool]] | None:
    """Whether a check could take edge `e` (its case may hold and no earlier case must):
    None if not, else the conditions taking it decides, each with its value."""
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
    told: list[tuple[object, bool]] = [(c, False) for c in ruling]
    if case is not None:
        told.append((case, True))
    return told


# ---------------------------------------------------------------- the search


def find_paths(dm: DecisionMap, cap: int = DEFAULT_CAP, budget: int = DEFAULT_BUDGET
               ) -> PathsReport:
    """Loop-free routes from the start to each outcome, at most `cap` routes in all: each
    outcome gets an equal share, and what the outcomes with fewer routes leave over goes
    to those with more. The search takes at most `budget` steps in all; where that stops
    it, the report is capped by the budget and lists what it found. The cyclic garbage
    collector is paused meanwhile: the routes are millions of references and no cycles,
    and its passes over the loaded map cost a third of the search."""
    with paused():
        return _find_paths(dm, cap, budget)


def _find_paths(dm: DecisionMap, cap: int, budget: int) -> PathsReport:
    """`find_paths` itself: a first round at an equal share, then rounds at the larger
    share that the outcomes with fewer routes leave over, while any outcome has more."""
    outcomes = list(dm.outcomes())
    report = PathsReport(routes={o: [] for o in outcomes}, cap=cap, budget=budget)
    if dm.model.start not in dm.nodes:
        report.unreached = outcomes
        return report
    search = _Search(dm, outcomes, budget)
    share = max(1, cap // max(1, len(outcomes)))
    limit = share
    full = search.run(dict.fromkeys(outcomes, share))
    report.routes.update(search.found)
    while full and not search.spent:  # hand what is left over to those that filled theirs
        left = cap - sum(len(r) for o, r in report.routes.items() if o not in full)
        if left // len(full) <= limit:
            break
        limit = left // len(full)
        full = search.run(dict.fromkeys(full, limit))
        for o, routes in search.found.items():
            if len(routes) > len(report.routes[o]):  # a round the budget cut short
                report.routes[o] = routes             # may have found fewer
    report.work = search.work
    report.impossible = len(search.impossible)
    if search.spent:
        report.capped, report.capped_by = True, "budget"
    elif full:
        report.capped, report.capped_by = True, "routes"
    missing = [o for o in outcomes if not report.routes[o]]
    can = search.reach.get(dm.model.start, 0)
    if search.spent:  # only the outcomes no path leads to are known to be out of reach
        report.unreached = [o for o in missing if not can & search.bit[o]]
        report.unsearched = [o for o in missing if can & search.bit[o]]
    else:
        report.unreached = missing
    return report


def outcome_reach(dm: DecisionMap, outcomes: list[str]) -> dict[str, int]:
    """For every node, the outcomes it can lead to, as bits (outcome i is bit i): one pass
    over the map's strongly connected parts in reverse topological order."""
    bit = {o: 1 << i for i, o in enumerate(outcomes)}
    dag = nx.condensation(dm.graph)
    part: dict[int, int] = {}
    for c in reversed(list(nx.topological_sort(dag))):
        mask = 0
        for member in dag.nodes[c]["members"]:
            mask |= bit.get(member, 0)
        for after in dag.successors(c):
            mask |= part[after]
        part[c] = mask
    mapping = dag.graph["mapping"]
    return {v: part[mapping[v]] for v in dm.graph}


@dataclass
class _Frame:
    """A node on the route being searched, and what entering it changed (to take back)."""

    node_id: str
    node: object
    edges: list[Edge]
    steps: list[RouteStep]
    next_edge: int = 0
    parent_known: str | None = None  # the node whose `known` entry entering this one set
    undo: list[tuple[str, object]] = field(default_factory=list)
    found: bool = False  # a wanted outcome was reached from here, or a check cut a branch


class _Search:
    """One depth-first search from the start for every outcome at once, in the order the
    walk considers edges, so each outcome's routes come in the order a search for it
    alone would find them. The route, its nodes, what it knows and its facts live in one
    stack each that is pushed and popped, never copied; a route is copied only when an
    outcome is reached. An edge is followed only if its target still leads to an outcome
    that wants routes (one reachability pass for all outcomes), and is not blocked.

    Blocking (Johnson's, as for cycles): a node left without reaching any wanted outcome
    stays blocked, since every way on from it runs into the route, until a node it leads
    to reaches one; so the search does not wander through the loops of a map again and
    again for a route that is not there. Only a node whose whole search was decided by
    the map's edges alone is blocked: where a check's case was ruled out by the answers,
    a different route may open it, so such nodes count as having reached an outcome."""

    def __init__(self, dm: DecisionMap, outcomes: list[str], budget: int) -> None:
        self.dm = dm
        self.bit = {o: 1 << i for i, o in enumerate(outcomes)}
        self.reach = outcome_reach(dm, outcomes)
        self.budget = budget
        self.work = 0  # steps taken, over every run
        self.spent = False  # the budget stopped a run
        self.facts = Facts()
        self.found: dict[str, list[list[RouteStep]]] = {}
        self.impossible: set[tuple[str, int]] = set()  # check branches some route rules out
        self._ways: dict[str, tuple[object, list[Edge], list[RouteStep]]] = {}

    def _ways_out(self, node_id: str) -> tuple[object, list[Edge], list[RouteStep]]:
        hit = self._ways.get(node_id)
        if hit is None:
            node = self.dm.nodes[node_id]
            edges = edges_of(node)
            steps = [RouteStep(node_id, e.kind, e.value if e.kind == "choice" else e.label)
                     for e in edges]
            hit = self._ways[node_id] = (node, edges, steps)
        return hit

    def run(self, limits: dict[str, int]) -> list[str]:
        """Up to `limits[o]` routes to each outcome `o` named, into `self.found`; returns
        the outcomes that have more routes than their limit."""
        self.found = {o: [] for o in limits}
        more: list[str] = []
        wanting = 0
        for o in limits:
            wanting |= self.bit[o]
        start = self.dm.model.start
        if self.spent or not self.reach.get(start, 0) & wanting:
            return more
        reach, bit, found, dm = self.reach, self.bit, self.found, self.dm
        defaults = dm.model.defaults
        route: list[RouteStep] = []
        on_route: set[str] = {start}
        known: dict[str, Known] = {}
        decided: dict[str, tuple[bool, frozenset[str]]] = {}

        def arrive(o: str) -> int:
            """Record the route to outcome `o`; what `o` still wants afterwards."""
            if len(found[o]) < limits[o]:
                found[o].append(route[:])
                return wanting
            more.append(o)  # one route past the limit: there are more
            return wanting & ~bit[o]

        if start in bit:
            wanting = arrive(start) if wanting & bit[start] else wanting
            return more
        blocked: set[str] = {start}  # on the route, or no way on from it but into the route
        waiting: dict[str, set[str]] = {}  # node -> blocked nodes it unblocks

        def unblock(u: str) -> None:
            """`u` reached a wanted outcome: it, and what waited on it, may be tried again."""
            todo = [u]
            while todo:
                x = todo.pop()
                if x in blocked:
                    blocked.discard(x)
                    todo.extend(waiting.pop(x, ()))

        node, edges, steps = self._ways_out(start)
        frames = [_Frame(start, node, edges, steps)]
        while frames and wanting:
            fr = frames[-1]
            i = fr.next_edge
            if i >= len(fr.edges):  # every way out tried: step back
                frames.pop()
                if fr.found:
                    unblock(fr.node_id)
                else:
                    for out in fr.edges:
                        waiting.setdefault(out.target, set()).add(fr.node_id)
                if frames:
                    frames[-1].found = frames[-1].found or fr.found
                    route.pop()
                    on_route.discard(fr.node_id)
                    if fr.parent_known is not None:
                        del known[fr.parent_known]
                    Facts.forget(decided, fr.undo)
                continue
            fr.next_edge = i + 1
            e = fr.edges[i]
            target = e.target
            if target in blocked or not reach.get(target, 0) & wanting:
                continue
            told = None
            if isinstance(fr.node, Check):
                told = _check_allows(fr.node, e, known, self.facts, decided, on_route)
                if told is None:
                    self.impossible.add((fr.node_id, i))
                    fr.found = True  # another route may open this branch: do not block
                    continue
            if self.work >= self.budget:
                self.spent = True
                break
            self.work += 1
            learned = _learn(fr.node, e, fr.edges, defaults, on_route)
            undo: list[tuple[str, object]] = []
            for cond, value in told or ():
                self.facts.learn(cond, value, known, decided, undo)
            if learned is not None:
                known[fr.node_id] = learned
            route.append(fr.steps[i])
            if target in bit:
                fr.found = True
                wanting = arrive(target)
                route.pop()
                if learned is not None:
                    del known[fr.node_id]
                Facts.forget(decided, undo)
                continue
            on_route.add(target)
            blocked.add(target)
            node, edges, steps = self._ways_out(target)
            frames.append(_Frame(target, node, edges, steps,
                                 parent_known=fr.node_id if learned is not None else None,
                                 undo=undo))
        return more
