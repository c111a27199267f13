"""One routing table per loaded map, and the moves every walk makes through it.

The step-by-step `Walk` (engine.py) and the batch (batch.py) used to be two copies of the
same moves, and they drifted. Now both are this router plus a recorder: the router says
where each decision leads, applies the bound on revisits, walks the hand-off stack and
renders the outcome text; the recorder only keeps what it is asked to (a trace, or a
count). No I/O here.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, Protocol

from ..errors import WalkError
from ..io.loader import DecisionMap
from ..model.conditions import compare, describe_tests, holds, question_words, words
from ..model.format import (
    Check,
    ChoiceQuestion,
    Handoff,
    Info,
    NumberQuestion,
    Outcome,
    TextQuestion,
)
from ..model.graph import STATUS_KEYS, node_label
from ..model.trace import node_key
from ..templating import render_text

QUESTION, INFO, CHECK, HANDOFF, OUTCOME = range(5)
QUESTION_TYPES = (ChoiceQuestion, NumberQuestion, TextQuestion)
STATUS_ROUTE = {status: key for key, status in STATUS_KEYS.items()}
MAX_STEPS = 10_000  # submissions in one walk driven by answers (engine.run, the batch)

# A route: (kind, value, target, note added to the decision's sentence).
Route = tuple[str, str, "str | None", str]


class Row:
    """One node, compiled: its kind and every way out of it, with the sentences said on
    the way (worked out once per map, not once per group)."""

    __slots__ = ("kind", "how", "node", "next", "choices", "branches", "statuses", "otherwise",
                 "cases", "returns", "say", "ended", "key")

    def __init__(self, dm: DecisionMap, node_id: str, node: Any) -> None:
        self.node = node
        self.next: str | None = getattr(node, "next", None)
        self.otherwise: str | None = getattr(node, "otherwise", None)
        self.choices: dict[str, str] = {}
        self.branches: tuple[tuple[Any, str, str], ...] = ()
        self.statuses: dict[str, str] = {}
        self.cases: tuple[tuple[Any, str, str, str], ...] = ()
        self.returns: dict[str, str] = {}
        self.say = ""
        self.ended = ""
        self.key = node_key(dm.id, node_id, top=False)  # its name inside a hand-off
        self.how = ""  # how a question's decided value routes: choice, next or branch
        if isinstance(node, QUESTION_TYPES):
            self.kind = QUESTION
            self.how = ("choice" if isinstance(node, ChoiceQuestion) else
                        "next" if isinstance(node, TextQuestion) else "branch")
            if isinstance(node, ChoiceQuestion):
                self.choices = {str(k): v for k, v in node.targets().items()}
            if isinstance(node, NumberQuestion):
                self.branches = tuple((b.when, describe_tests(b.when), b.next)
                                      for b in node.branches)
            self.statuses = {s: getattr(node, k) for s, k in STATUS_ROUTE.items()
                             if getattr(node, k, None)}
        elif isinstance(node, Info):
            self.kind, self.say = INFO, node.say
        elif isinstance(node, Check):
            self.kind = CHECK
            self.cases = tuple((r.when, f"case {i + 1}", r.next, _said(r, dm.model.nodes))
                               for i, r in enumerate(node.check))
        elif isinstance(node, Handoff):
            self.kind = HANDOFF
            self.returns = dict(node.returns)
        elif isinstance(node, Outcome):
            self.kind = OUTCOME
            self.say = f"Outcome: {node.outcome}."
            self.ended = f"{dm.model.title!r} ended in {node.outcome!r}."
        else:  # pragma: no cover - every kind is handled above
            raise WalkError(f"node {node_id!r}: unknown kind")

    def route(self, status: str, value: Any) -> Route:
        """The edge a question's decision takes."""
        if status == "decided":
            how = self.how
            if how == "choice":
                v = str(value)
                return "choice", v, self.choices[v], ""
            if how == "next":
                return "next", "next", self.next, ""
            for when, label, target in self.branches:
                if compare(when, value, status):
                    return "branch", label, target, ""
            if self.otherwise:
                return "otherwise", "otherwise", self.otherwise, " No branch matches; otherwise."
            return "otherwise", "otherwise", None, " No branch matches and there is no otherwise."
        target = self.statuses.get(status)
        if target:
            return "status", status, target, ""
        return "otherwise", "otherwise", self.otherwise, ""

    def check(self, decisions: dict[str, Any]) -> Route:
        """The first case of a check that holds, or its `otherwise`."""
        for when, value, target, why in self.cases:
            if holds(when, decisions):
                return "when", value, target, why
        return "otherwise", "otherwise", self.otherwise, "No case holds; otherwise."


class Router:
    """A map's routing table: a Row per node, and the map's bound on revisits."""

    def __init__(self, dm: DecisionMap) -> None:
        self.dm = dm
        self.start = dm.model.start
        self.limit = dm.model.defaults.max_revisits
        self.rows = {nid: Row(dm, nid, node) for nid, node in dm.nodes.items()}
        self._subs: dict[str, Router] = {}
        self._refuse_dangling()

    def _refuse_dangling(self) -> None:
        """A map the checker would refuse (DM101/DM102) is refused here too, in one line,
        before any group walks into a node that is not there."""
        if self.start not in self.rows:
            raise WalkError(f"map {self.dm.id!r}: start {self.start!r} is not a node of the "
                            "map (run decision-map check)")
        for nid, row in self.rows.items():
            targets = [row.next, row.otherwise, *row.choices.values(), *row.statuses.values(),
                       *(t for _, _, t in row.branches), *(t for _, _, t, _ in row.cases),
                       *row.returns.values()]
            for t in targets:
                if t is not None and t not in self.rows:
                    raise WalkError(f"map {self.dm.id!r}: node {nid!r} leads to {t!r}, which "
                                    "is not a node of the map (run decision-map check)")

    def sub(self, node_id: str) -> Router:
        """The router of the map a hand-off node walks."""
        got = self._subs.get(node_id)
        if got is None:
            link = self.dm.handoffs.get(node_id)
            if link is None or link.loaded is None:
                node = self.dm.nodes[node_id]
                raise WalkError(f"node {node_id!r}: hand-off map {node.map!r} is not loaded")
            got = self._subs[node_id] = router_for(link.loaded)
        return got


_ROUTERS: weakref.WeakKeyDictionary[DecisionMap, Router] = weakref.WeakKeyDictionary()


def router_for(dm: DecisionMap) -> Router:
    """The map's routing table, compiled on first use and kept as long as the map is."""
    got = _ROUTERS.get(dm)
    if got is None:
        got = _ROUTERS[dm] = Router(dm)
    return got


class Frame:
    """One map on the hand-off stack: where the walk is in it and what it has heard."""

    __slots__ = ("router", "dm", "node", "via", "decisions", "visits", "asked",
                 "agreed")

    def __init__(self, router: Router, via: str | None = None) -> None:
        self.router = router
        self.dm = router.dm
        self.node = router.start
        self.via = via  # the hand-off node in the parent frame
        self.decisions: dict[str, Any] = {}
        self.visits: dict[str, int] = {router.start: 1}
        self.asked: str | None = None  # the last question decided here: its loop's `otherwise`
        # who gave the decided value, by question (known only from named ballots)
        self.agreed: dict[str, tuple[str, ...]] = {}


class Recorder(Protocol):
    """What a walk keeps of its moves: `Walk` builds a trace, the batch counts."""

    def record(self, node_id: str, node: object, *, ballots: tuple = (),
               decision: Any = None, route: tuple[str | None, str | None] = (None, None),
               target: str | None = None, explanation: str = "") -> object: ...

    def reroute(self, target: str, note: str) -> None: ...

    def stop(self, why: str) -> None: ...

    def end(self, node_id: str, node: Outcome) -> None: ...

    def outcome_text(self, text: str) -> None: ...


def group_names(group: Sequence[str]) -> list[str]:
    """The group's member names, trimmed; a group with no one, a blank or a repeated
    name is refused."""
    names = [g.strip() for g in group]
    if not names or any(not n for n in names):
        raise WalkError("the group needs at least one member, and every name some text")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise WalkError(f"the group names {', '.join(dupes)} more than once")
    return names


def nth(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st..."""
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def fallback_of(f: Frame, row: Row) -> str | None:
    """Where a move past the bound on revisits goes instead: the `otherwise` of the node
    being left, else that of the question whose decision led here (a loop back through a
    `say` node, or a check with no `otherwise`, takes the looping question's, as
    docs/format.md says)."""
    if row.otherwise:
        return row.otherwise
    if f.asked is not None:
        return f.router.rows[f.asked].otherwise
    return None


def go(f: Frame, rec: Recorder, target: str | None, row: Row) -> bool:
    """Move frame `f` on to `target` from `row`'s node under the map's bound on revisits
    (past it, `fallback_of`); False, with the stop sentence told, if it cannot."""
    if target is None:
        rec.stop(f"The walk cannot go on from {f.node!r}: no route for this decision.")
        return False
    visits = f.visits
    limit = f.router.limit
    seen = visits.get(target, 0)
    if seen > limit:
        fallback = fallback_of(f, row)
        note = (f"Coming back to {_named(f.dm, target)} a {nth(seen + 1)} time would "
                f"pass the map's limit of {limit} revisits")
        if not fallback or fallback == target or visits.get(fallback, 0) > limit:
            rec.stop(f"{note}, and there is no other way on. Stop here and talk.")
            return False
        rec.reroute(fallback, f" {note}; so: {_named(f.dm, fallback)}.")
        target = fallback
    f.node = target
    visits[target] = visits.get(target, 0) + 1
    return True


def advance(stack: list[Frame], group: list[str], rec: Recorder, render: bool = True) -> bool:
    """Pass through everything that needs no vote (checks, info, hand-offs, outcomes);
    True when a question waits, False when the walk has ended. With `render` False the
    outcome text is left to the caller (the batch walks many groups' path at once and
    renders each group's text itself)."""
    while True:
        f = stack[-1]
        nid = f.node
        row = f.router.rows[nid]
        kind = row.kind
        if kind == QUESTION:
            return True
        node = row.node
        if kind == INFO:
            rec.record(nid, node, route=("next", "next"), target=row.next, explanation=row.say)
            if not go(f, rec, row.next, row):
                return False
        elif kind == CHECK:
            rkind, value, target, why = row.check(f.decisions)
            rec.record(nid, node, route=(rkind, value), target=target, explanation=why)
            if not go(f, rec, target, row):
                return False
        elif kind == HANDOFF:
            sub = f.router.sub(nid)
            rec.record(nid, node, explanation=f"Now walking {sub.dm.model.title!r}.")
            stack.append(Frame(sub, via=nid))
        elif len(stack) > 1:  # an outcome inside a hand-off: back to the parent map
            rec.record(nid, node, explanation=row.say)
            stack.pop()
            parent = stack[-1]
            prow = parent.router.rows[parent.node]
            target = prow.returns.get(nid)
            rkind, value = ("return", nid) if target else ("otherwise", "otherwise")
            target = target or prow.otherwise
            rec.record(parent.node, prow.node, route=(rkind, value), target=target,
                       explanation=row.ended)
            if not go(parent, rec, target, prow):
                return False
        else:  # the outcome of the walk
            rec.record(nid, node, explanation=row.say)
            rec.end(nid, node)
            if node.text and render:
                rec.outcome_text(render_text(node.text, template_context(f, group, node),
                                             f"{f.dm.path}: outcome {nid!r}"))
            return False


def answer(stack: list[Frame], group: list[str], rec: Recorder, decision: Any,
           ballots: tuple = (), render: bool = True) -> bool:
    """Take the group's decision at the current question and move on; True when another
    question waits. `decision` needs `status`, `value`, `texts` and `explanation`."""
    f = stack[-1]
    nid = f.node
    row = f.router.rows[nid]
    f.decisions[nid] = decision
    f.asked = nid
    if ballots:
        f.agreed[nid] = agreeing(decision, ballots)
    kind, value, target, note = row.route(decision.status, decision.value)
    rec.record(nid, row.node, ballots=ballots, decision=decision, route=(kind, value),
               target=target, explanation=decision.explanation + note)
    return go(f, rec, target, row) and advance(stack, group, rec, render)


def agreeing(decision: Any, ballots: tuple) -> tuple[str, ...]:
    """The named members who gave the value the question decided (for a ranked or
    approval ballot: who listed it; fist-to-five: who showed a hand, not a fist). Those
    who stood aside, abstained, blocked or chose otherwise are not among them."""
    if decision.status != "decided" or decision.value is None:
        return ()
    out: list[str] = []
    for b in ballots:
        v = b.value
        if b.member is None:
            continue
        if isinstance(v, tuple):
            ok = decision.value in v
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            ok = decision.rule == "fist-to-five" and v > 0
        else:
            ok = str(v) == str(decision.value)
        if ok:
            out.append(b.member)
    return tuple(out)


def carried_by(f: Frame) -> list[str]:
    """Who carries the decision out: the members who agreed at the last question decided
    by named votes in this map (a stand-aside does not help carry it out)."""
    agreed = _agreed(f)
    for nid in reversed(list(f.decisions)):
        if agreed.get(nid):
            return list(agreed[nid])
    return []


def _agreed(f: Frame) -> dict[str, tuple[str, ...]]:
    """The frame's agreed members by question; none on a frame copied without them (the
    batch forks frames slot by slot, and knows no names)."""
    return getattr(f, "agreed", {})


def template_context(f: Frame, group: list[str], node: Outcome) -> dict[str, Any]:
    """What an outcome's text template may read: `agreed` and `stood_aside` tell, per
    question, the members who agreed from those who stood aside."""
    ds = f.decisions
    return {
        "answers": {k: d.value for k, d in ds.items()},
        "statuses": {k: d.status for k, d in ds.items()},
        "texts": {k: [list(t) for t in d.texts] for k, d in ds.items() if d.texts},
        # every question answered has a list (empty where no names are known: a tally,
        # a secret ballot, the batch)
        "agreed": {k: list(_agreed(f).get(k, ())) for k in ds},
        # the batch's decisions carry no names: nobody is listed there
        "stood_aside": {k: list(getattr(d, "stood_aside", ())) for k, d in ds.items()},
        "carried_by": carried_by(f),
        "group": list(group),
        "map": {"id": f.dm.id, "title": f.dm.model.title, "version": f.dm.version},
        "outcome": {"title": node.outcome, "verdict": node.verdict},
    }


def _said(route: Any, nodes: Any) -> str:
    """A check case as members hear it: its own `say`, else words from the questions'
    labels (never ids or condition syntax; those stay in --json and paths)."""
    text = route.say or words(route.when, nodes)
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _named(dm: Any, node_id: str) -> str:
    """A node as members know it: its label or question (cut short), or an outcome's
    title; never its id."""
    node = dm.model.nodes.get(node_id)
    if node is None:
        return node_id
    if getattr(node, "label", None) or getattr(node, "ask", None):
        return question_words(node)
    return f"“{node_label(node)}”"
