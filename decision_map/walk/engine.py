"""The walk: a map plus a group, stepped question by question. No I/O here.

As ink keeps the compiled Story apart from the changing StoryState, a Walk keeps the
loaded map apart from its state, and the state is derived from one plain list: the
submissions so far. `back()` drops the last one and replays, so undo is always exact,
and a saved session is just that list (replayed, it also tells when a map has changed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import package_version
from ..errors import WalkError
from ..io.loader import DecisionMap
from ..model.conditions import question_words
from ..model.decision import Ballot, Decision
from ..model.format import ChoiceQuestion, NumberQuestion, Outcome, TextQuestion
from ..model.submission import Submission
from ..model.trace import Scope, Step, Trace, node_key
from ..rules.deciders import decide
from ..templating import TemplateError
from .router import (
    MAX_STEPS,
    QUESTION_TYPES,
    Frame,
    advance,
    answer,
    group_names,
    router_for,
    template_context,
)

__all__ = ["Frame", "Position", "Walk", "run", "QUESTION_TYPES"]


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


STATUS_WHY = {"tie": "A tie", "blocked": "Blocked", "no_quorum": "No quorum",
              "no_agreement": "No agreement"}  # why a status, not a choice, decides


class Walk:
    """A group's walk through a map. Drive it with `current()`, `submit()` and `back()`.

    The moves are the map's router (router.py); the Walk is the recorder that keeps them
    as a trace and the submissions that replay it.

    An outcome text that fails to render raises TemplateError, unless `keep_text_error`:
    then the walk still ends at its outcome and `text_error` says why there is no text
    (a group at a meeting, and a saved session, must never be lost to an author's text).
    """

    def __init__(self, dm: DecisionMap, group: Sequence[str],
                 submissions: Sequence[Submission] = (), *,
                 keep_text_error: bool = False) -> None:
        self.dm = dm
        self.group = group_names(group)
        self.keep_text_error = keep_text_error
        self.text_error: str | None = None
        self._reset()
        for s in submissions:
            self.submit(s.ballots, expect=s)

    # ------------------------------------------------------------ state

    def _reset(self) -> None:
        m = self.dm
        self.trace = Trace(m.id, m.version, m.sha256, m.model.title, list(self.group),
                           map_path=os.path.abspath(m.path), written_by=package_version())
        self.submissions: list[Submission] = []
        self.text_error = None
        self._stack: list[Frame] = [Frame(router_for(m))]
        self._moving(lambda: advance(self._stack, self.group, self))

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

    def leads_to(self, ballots: Sequence[Ballot]) -> str:
        """Where accepting these ballots leads, in members' words, before anything is
        committed: the next question or the outcome, why when a status decides it ("A
        tie, so: ..."), and every check passed on the way, in its words. Found by
        replaying the walk with them on a copy (the walk itself does not move)."""
        trial = Walk(self.dm, self.group)
        for s in self.submissions:
            trial.submit(s.ballots)
        start = len(trial.trace.steps)
        trial.submit(ballots)
        steps = trial.trace.steps[start:]
        first = steps[0].decision
        said = [s.explanation.strip() for s in steps[1:] if s.kind == "check" and s.explanation]
        if trial.trace.stopped:
            where = f"the walk stops: {trial.trace.stopped}"
        elif trial.finished:
            node = trial.dm.model.nodes.get(trial.trace.outcome or "")
            where = f"the outcome “{getattr(node, 'outcome', trial.trace.outcome)}”"
        else:
            pos = trial.current()
            assert pos is not None
            where = f"the question {question_words(pos.node)}"
            if pos.scope != self._scope() and pos.map_title:
                where += f" (in “{pos.map_title}”)"
        why = ""
        if first is not None and first.status != "decided":
            why = STATUS_WHY.get(first.status, first.status.replace("_", " ")) + ", so: "
        then = " ".join(x if x.endswith(".") else x + "." for x in said)
        if then:
            return f"{why or 'Then: '}{then} This leads to {where}."
        return f"{why}{where}." if why else f"This leads to {where}."

    def submit(self, ballots: Sequence[Ballot], expect: Submission | None = None) -> Step:
        """Record the group's ballots at the current question and move on."""
        pos = self._need_position()
        misfit = expect.misfit(pos.map_id, pos.node_id, pos.scope) if expect else None
        if misfit:
            raise WalkError(misfit)
        f = self.frame
        decision = decide(pos.node_id, pos.node, f.dm.model.defaults, self.group, list(ballots))
        self.submissions.append(Submission(pos.map_id, pos.node_id, tuple(ballots), pos.scope))
        index = len(self.trace.steps)
        # the step may be rewritten on the way (a bounded loop takes otherwise)
        self._moving(lambda: answer(self._stack, self.group, self, decision, tuple(ballots)))
        return self.trace.steps[index]

    def _moving(self, move: Callable[[], object]) -> None:
        """Make a move; an outcome text that fails there (the walk has already ended at
        its outcome) is kept as `text_error` when the walk keeps them, else raised."""
        try:
            move()
        except TemplateError as e:
            if not self.keep_text_error:
                raise
            self.text_error = str(e)

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

    # ------------------------------------------------------------ the recorder

    def record(self, node_id: str, node: object, *, ballots: tuple[Ballot, ...] = (),
               decision: Decision | None = None, route: tuple[str | None, str | None] = (
                   None, None), target: str | None = None, explanation: str = "") -> Step:
        """Keep one move as a trace step."""
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

    def reroute(self, target: str, note: str) -> None:
        """The bound on revisits sent the last step to `otherwise` instead."""
        last = self.trace.steps[-1]
        self.trace.steps[-1] = replace(last, route_kind="otherwise", route_value="otherwise",
                                       next=target, explanation=last.explanation + note)

    def stop(self, why: str) -> None:
        self.trace.stopped = why

    def end(self, node_id: str, node: Outcome) -> None:
        t = self.trace
        t.outcome, t.verdict, t.next_steps = node_id, node.verdict, list(node.next_steps)

    def outcome_text(self, text: str) -> None:
        self.trace.outcome_text = text

    def template_context(self, node: Outcome) -> dict[str, Any]:
        """What an outcome's text template may read."""
        return template_context(self.frame, self.group, node)


# ---------------------------------------------------------------- running from answers

AnswerSource = Callable[[Position], "Sequence[Ballot] | None"]


def run(dm: DecisionMap, group: Sequence[str], answers: AnswerSource, *,
        stop_at_missing: bool = False, max_steps: int = MAX_STEPS) -> Trace:
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
