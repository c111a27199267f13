"""The walk: a map plus a group, stepped question by question. No I/O here.

As ink keeps the compiled Story apart from the changing StoryState, a Walk keeps the
loaded map apart from its state, and the state is derived from one plain list: the
submissions so far. `back()` drops the last one and replays, so undo is always exact,
and a saved session is just that list (replayed, it also tells when a map has changed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import WalkError
from ..io.loader import DecisionMap
from ..model.conditions import compare, describe, describe_tests, holds
from ..model.decision import Ballot, Decision
from ..model.format import (
    Check,
    ChoiceQuestion,
    Handoff,
    Info,
    NumberQuestion,
    Outcome,
    TextQuestion,
)
from ..model.graph import STATUS_KEYS
from ..model.submission import Submission
from ..model.trace import Scope, Step, Trace, node_key
from ..rules.deciders import decide
from ..templating import render_text

QUESTION_TYPES = (ChoiceQuestion, NumberQuestion, TextQuestion)
STATUS_ROUTE = {status: key for key, status in STATUS_KEYS.items()}


@dataclass
class Frame:
    """One map on the hand-off stack: where the walk is in it and what it has heard."""

    dm: DecisionMap
    node: str
    via: str | None = None  # the hand-off node in the parent frame
    decisions: dict[str, Decision] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Position:
    """Where the group stands: the question to answer now."""

    map_id: str
    map_title: str
    node_id: str
    node: ChoiceQuestion | NumberQuestion | TextQuestion
    depth: int
    visit: int
    step: int
    remaining: int
    scope: Scope = ()  # the hand-off node ids from the top map down to this map

    @property
    def key(self) -> str:
        """`node_id` in the top map, `map-id/node_id` inside a hand-off."""
        return node_key(self.map_id, self.node_id, top=not self.scope)


class Walk:
    """A group's walk through a map. Drive it with `current()`, `submit()` and `back()`."""

    def __init__(self, dm: DecisionMap, group: Sequence[str],
                 submissions: Sequence[Submission] = ()) -> None:
        names = [g.strip() for g in group]
        if not names or any(not n for n in names):
            raise WalkError("the group needs at least one member, and every name some text")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise WalkError(f"the group names {', '.join(dupes)} more than once")
        self.dm = dm
        self.group = names
        self._reset()
        for s in submissions:
            self.submit(s.ballots, expect=s)

    # ------------------------------------------------------------ state

    def _reset(self) -> None:
        m = self.dm
        self.trace = Trace(m.id, m.version, m.sha256, m.model.title, list(self.group),
                           map_path=os.path.abspath(m.path))
        self.submissions: list[Submission] = []
        self._stack: list[Frame] = [Frame(m, m.model.start)]
        self._enter(m.model.start)
        self._advance()

    @property
    def finished(self) -> bool:
        return self.trace.finished

    @property
    def frame(self) -> Frame:
        return self._stack[-1]

    def current(self) -> Position | None:
        """The question the group faces, or None once the walk has ended."""
        if self.finished:
            return None
        f = self.frame
        node = f.dm.nodes[f.node]
        assert isinstance(node, QUESTION_TYPES)
        from ..model.graph import questions_remaining

        return Position(
            map_id=f.dm.id, map_title=f.dm.model.title, node_id=f.node, node=node,
            depth=len(self._stack) - 1, visit=f.visits.get(f.node, 1),
            step=len(self.submissions) + 1,
            remaining=questions_remaining(f.dm).get(f.node, 1), scope=self._scope(),
        )

    def preview(self, ballots: Sequence[Ballot]) -> Decision:
        """What the rule makes of these ballots, without moving (to confirm or re-vote)."""
        pos = self._need_position()
        return decide(pos.node_id, pos.node, self.frame.dm.model.defaults, self.group,
                      list(ballots))

    def submit(self, ballots: Sequence[Ballot], expect: Submission | None = None) -> Step:
        """Record the group's ballots at the current question and move on."""
        pos = self._need_position()
        misfit = expect.misfit(pos.map_id, pos.node_id, pos.scope) if expect else None
        if misfit:
            raise WalkError(misfit)
        f = self.frame
        decision = decide(pos.node_id, pos.node, f.dm.model.defaults, self.group, list(ballots))
        self.submissions.append(Submission(pos.map_id, pos.node_id, tuple(ballots), pos.scope))
        f.decisions[pos.node_id] = decision
        kind, value, target, note = self._route(pos.node, decision)
        self._record(pos.node_id, pos.node, ballots=tuple(ballots), decision=decision,
                     route=(kind, value), target=target, explanation=decision.explanation + note)
        index = len(self.trace.steps) - 1
        self._go(target, pos.node)  # may rewrite the step (a bounded loop takes otherwise)
        self._advance()
        return self.trace.steps[index]

    def back(self) -> bool:
        """Undo the last submission exactly; False when there is nothing to undo."""
        if not self.submissions:
            return False
        keep = self.submissions[:-1]
        self._reset()
        for s in keep:
            self.submit(s.ballots)
        return True

    def _need_position(self) -> Position:
        pos = self.current()
        if pos is None:
            raise WalkError("the walk has ended; there is no question to answer")
        return pos

    # ------------------------------------------------------------ moving

    def _record(self, node_id: str, node: object, *, ballots: tuple[Ballot, ...] = (),
                decision: Decision | None = None, route: tuple[str | None, str | None] = (
                    None, None), target: str | None = None, explanation: str = "") -> Step:
        from ..model.format import node_kind

        f = self.frame
        step = Step(
            map_id=f.dm.id, node=node_id, kind=node_kind(node) or "", scope=self._scope(),
            visit=f.visits.get(node_id, 1), ballots=ballots, decision=decision,
            route_kind=route[0], route_value=route[1], next=target, explanation=explanation,
        )
        self.trace.steps.append(step)
        return step

    def _scope(self) -> Scope:
        """The hand-off nodes that led into the current map, from the top map down."""
        return tuple(f.via for f in self._stack[1:] if f.via is not None)

    def _route(self, node: object, d: Decision) -> tuple[str, str, str | None, str]:
        """The edge a decision takes: (kind, value, target, note for the sentence)."""
        assert isinstance(node, QUESTION_TYPES)
        if d.status == "decided":
            if isinstance(node, ChoiceQuestion):
                return "choice", str(d.value), node.targets()[str(d.value)], ""
            if isinstance(node, TextQuestion):
                return "next", "next", node.next, ""
            for b in node.branches:
                if compare(b.when, d.value, d.status):
                    return "branch", describe_tests(b.when), b.next, ""
            if node.otherwise:
                return "otherwise", "otherwise", node.otherwise, " No branch matches; otherwise."
            return "otherwise", "otherwise", None, " No branch matches and there is no otherwise."
        key = STATUS_ROUTE.get(d.status)
        target = getattr(node, key) if key else None
        if target:
            return "status", d.status, target, ""
        return "otherwise", "otherwise", node.otherwise, ""

    def _enter(self, node_id: str) -> None:
        f = self.frame
        f.node = node_id
        f.visits[node_id] = f.visits.get(node_id, 0) + 1

    def _go(self, target: str | None, from_node: object) -> None:
        """Move to `target`, honouring the bound on revisits."""
        f = self.frame
        if target is None:
            self._stop(f"The walk cannot go on from {f.node!r}: no route for this decision.")
            return
        limit = f.dm.model.defaults.max_revisits
        if f.visits.get(target, 0) > limit:
            fallback = getattr(from_node, "otherwise", None)
            note = (f"Coming back to {target!r} a {_nth(f.visits[target] + 1)} time would "
                    f"pass the map's limit of {limit} revisits")
            if fallback and fallback != target and f.visits.get(fallback, 0) <= limit:
                last = self.trace.steps[-1]
                self.trace.steps[-1] = replace(
                    last, route_kind="otherwise", route_value="otherwise", next=fallback,
                    explanation=f"{last.explanation} {note}; taking otherwise ({fallback!r}).")
                self._enter(fallback)
                return
            self._stop(f"{note}, and there is no other way on. Stop here and talk.")
            return
        self._enter(target)

    def _stop(self, why: str) -> None:
        self.trace.stopped = why

    def _advance(self) -> None:
        """Pass through everything that needs no vote: checks, info, hand-offs, outcomes."""
        while not self.finished:
            f = self.frame
            node = f.dm.nodes[f.node]
            if isinstance(node, QUESTION_TYPES):
                return
            if isinstance(node, Info):
                self._record(f.node, node, route=("next", "next"), target=node.next,
                             explanation=node.say)
                self._go(node.next, node)
            elif isinstance(node, Check):
                kind, value, target, why = self._check(node, f)
                self._record(f.node, node, route=(kind, value), target=target, explanation=why)
                self._go(target, node)
            elif isinstance(node, Handoff):
                link = f.dm.handoffs.get(f.node)
                if link is None or link.loaded is None:
                    raise WalkError(f"node {f.node!r}: hand-off map {node.map!r} is not loaded")
                sub = link.loaded
                self._record(f.node, node, explanation=f"Now walking {sub.model.title!r}.")
                self._stack.append(Frame(sub, sub.model.start, via=f.node))
                self._enter(sub.model.start)
            elif isinstance(node, Outcome):
                self._outcome(f, node)
            else:  # pragma: no cover - every kind is handled above
                raise WalkError(f"node {f.node!r}: unknown kind")

    def _check(self, node: Check, f: Frame) -> tuple[str, str, str | None, str]:
        for i, route in enumerate(node.check):
            if holds(route.when, f.decisions):
                return "when", f"case {i + 1}", route.next, f"Case {i + 1} holds: " \
                    f"{describe(route.when)}."
        return "otherwise", "otherwise", node.otherwise, "No case holds; otherwise."

    def _outcome(self, f: Frame, node: Outcome) -> None:
        self._record(f.node, node, explanation=f"Outcome: {node.outcome}.")
        if len(self._stack) > 1:
            done = self._stack.pop()
            parent = self.frame
            hand = parent.dm.nodes[parent.node]
            assert isinstance(hand, Handoff)
            target = hand.returns.get(done.node)
            kind, value = ("return", done.node) if target else ("otherwise", "otherwise")
            target = target or hand.otherwise
            self._record(parent.node, hand, route=(kind, value), target=target,
                         explanation=f"{done.dm.model.title!r} ended in {node.outcome!r}.")
            self._go(target, hand)
            return
        t = self.trace
        t.outcome, t.verdict, t.next_steps = f.node, node.verdict, list(node.next_steps)
        if node.text:
            t.outcome_text = render_text(node.text, self.template_context(node),
                                         f"{f.dm.path}: outcome {f.node!r}")

    def template_context(self, node: Outcome) -> dict[str, Any]:
        """What an outcome's text template may read."""
        f = self.frame
        return {
            "answers": {k: d.value for k, d in f.decisions.items()},
            "statuses": {k: d.status for k, d in f.decisions.items()},
            "texts": {k: [list(t) for t in d.texts] for k, d in f.decisions.items() if d.texts},
            "group": list(self.group),
            "map": {"id": f.dm.id, "title": f.dm.model.title, "version": f.dm.version},
            "outcome": {"title": node.outcome, "verdict": node.verdict},
        }


def _nth(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


# ---------------------------------------------------------------- running from answers

AnswerSource = Callable[[Position], "Sequence[Ballot] | None"]


def run(dm: DecisionMap, group: Sequence[str], answers: AnswerSource, *,
        stop_at_missing: bool = False, max_steps: int = 10_000) -> Trace:
    """Walk a map to its end with answers from `answers` (None: the question is unanswered)."""
    walk = Walk(dm, group)
    for _ in range(max_steps):
        pos = walk.current()
        if pos is None:
            return walk.trace
        ballots = answers(pos)
        if ballots is None:
            where = pos.key
            if stop_at_missing:
                walk.trace.stopped = f"No answer for question {where!r}."
                return walk.trace
            raise WalkError(f"the walk reaches question {where!r}, which the answers do not "
                            "answer (or use --stop-at-missing)")
        walk.submit(ballots)
    raise WalkError(f"the walk did not end within {max_steps} steps")
