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
from ..model.minutes import Minutes
from ..model.privacy import NOT_RECORDED, kept_ballots, kept_minutes, record_level
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
    carried_by,
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
    proposal: tuple[str, ...] = ()  # the proposal's versions so far; the vote is on the last
    # the minutes likely left on the longest route from here, the maps that handed off to
    # this one included; None when no map on the way carries a `time`
    minutes_left: int | None = None

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
        self.start_group = group_names(group)  # the group the walk started with
        self.group = list(self.start_group)
        self.keep_text_error = keep_text_error
        self.text_error: str | None = None
        self._reset()
        for s in submissions:
            self.submit(s.ballots, expect=s)

    # what was put to the vote at each question (by hand-off scope, map and node), kept
    # across visits so an amendment carries over when the question comes round again
    _proposals: dict[tuple[Scope, str, str], tuple[str, ...]]

    # ------------------------------------------------------------ state

    def _reset(self) -> None:
        m = self.dm
        self.group = list(self.start_group)
        self._last_group = list(self.start_group)  # the group at the last submission
        self.trace = Trace(m.id, m.version, m.sha256, m.model.title, list(self.group),
                           map_path=os.path.abspath(m.path), written_by=package_version())
        self.submissions: list[Submission] = []
        self._trace_at: list[int] = []  # the trace's length when each submission was made
        self._revisit_group: list[str] | None = None  # the group at a revisit just made
        self.text_error = None
        self._proposals = {}
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
            remaining=questions_remaining(f.dm).get(f.node, 1) + sum(
                questions_remaining(p.dm).get(p.node, 0) for p in self._stack[:-1]),
            scope=self._scope(), proposal=self._proposal_of(f.node, node),
            minutes_left=self.minutes_left(),
        )

    def minutes_left(self) -> int | None:
        """The minutes likely left on the longest route from where the walk stands: the
        rest of this map, then the rest of each map that handed off to it (after its
        hand-off node). None when the top map and its hand-offs carry no `time`."""
        from ..model.timing import minutes_left, own_minutes, timed

        if self.finished or not timed(self.dm):
            return None
        f = self.frame
        left = minutes_left(f.dm).get(f.node, 0)
        for p in self._stack[:-1]:  # each parent stands at its hand-off node
            left += minutes_left(p.dm).get(p.node, 0) - own_minutes(p.dm, p.node)
        return left

    def minutes_of(self, scope: Scope, node_id: str) -> int:
        """The minutes one step is likely to take (a hand-off: its map's longest route)."""
        from ..model.timing import own_minutes

        m = self.dm
        for hop in scope:
            link = m.handoffs.get(hop)
            if link is None or link.loaded is None:
                return 0
            m = link.loaded
        return own_minutes(m, node_id)

    def _proposal_of(self, node_id: str, node: object) -> tuple[str, ...]:
        """The proposal's versions at this question: as last amended here, else the map's
        `proposal_text`, else the agreed sentence of its `proposal_from` question (none
        while that question has not been answered)."""
        f = self.frame
        got = self._proposals.get((self._scope(), f.dm.id, node_id))
        if got:
            return got
        if not isinstance(node, ChoiceQuestion):
            return ()
        if node.proposal_text:
            return (node.proposal_text.strip(),)
        if node.proposal_from:
            d = f.decisions.get(node.proposal_from)
            words = [w.strip() for _, w in (d.texts if d is not None else ()) if w.strip()]
            if words:
                return ("\n".join(words),)
        return ()

    def preview(self, ballots: Sequence[Ballot]) -> Decision:
        """What the rule makes of these ballots, without moving (to confirm or re-vote)."""
        pos = self._need_position()
        return decide(pos.node_id, pos.node, self.frame.dm.model.defaults, self.group,
                      list(kept_ballots(pos.node, tuple(ballots))))

    def leads_to(self, ballots: Sequence[Ballot]) -> str:
        """Where accepting these ballots leads, in members' words, before anything is
        committed: the next question or the outcome, why when a status decides it ("A
        tie, so: ..."), and every check passed on the way, in its words. Found by
        replaying the walk with them on a copy (the walk itself does not move)."""
        # revisits and all; an outcome text that fails is the walk's to report, not this
        trial = Walk(self.dm, self.start_group, self.submissions, keep_text_error=True)
        trial.group = list(self.group)  # members who joined or left since the last step
        return trial.submit(ballots).consequence

    def _consequence(self, start: int, scope: Scope) -> str:
        """Where the decision recorded at step `start` led, in members' words, now that
        the walk has moved on: the sentence the stepper confirms before the commit, kept
        in the trace step. `scope` is where the question stood."""
        steps = self.trace.steps[start:]
        first = steps[0].decision
        said = [s.explanation.strip() for s in steps[1:] if s.kind == "check" and s.explanation]
        if self.trace.stopped:
            where = f"the walk stops: {self.trace.stopped}"
        elif self.finished:
            node = self.dm.model.nodes.get(self.trace.outcome or "")
            where = f"the outcome “{getattr(node, 'outcome', self.trace.outcome)}”"
        else:
            pos = self.current()
            assert pos is not None
            where = f"the question {question_words(pos.node)}"
            if pos.scope != scope and pos.map_title:
                where += f" (in “{pos.map_title}”)"
        why = ""
        if first is not None and first.status != "decided":
            why = STATUS_WHY.get(first.status, first.status.replace("_", " ")) + ", so: "
        then = " ".join(x if x.endswith(".") else x + "." for x in said)
        if then:
            return f"{why or 'Then: '}{then} This leads to {where}."
        return f"{why}{where}." if why else f"This leads to {where}."

    def submit(self, ballots: Sequence[Ballot], expect: Submission | None = None,
               minutes: Minutes | None = None) -> Step:
        """Record the group's ballots at the current question and move on. `minutes`
        (or `expect`'s, on a replay) is what was written down here: amendments to the
        proposal (the vote is on the last), notes and actions."""
        if expect is not None and expect.revisit:
            self._revisit(expect)
            return self.trace.steps[-1]
        pos = self._need_position()
        misfit = expect.misfit(pos.map_id, pos.node_id, pos.scope) if expect else None
        if misfit:
            raise WalkError(misfit)
        if minutes is None:
            minutes = expect.minutes if expect is not None else Minutes()
        if expect is not None and expect.group is not None:
            self.group = group_names(expect.group)
        changed = self._changed()
        # what the record may keep (record: summary/none, secret ballots), before anything
        # is decided, saved or traced
        ballots = kept_ballots(pos.node, tuple(ballots))
        minutes = kept_minutes(pos.node, minutes)
        f = self.frame
        decision = decide(pos.node_id, pos.node, f.dm.model.defaults, self.group, list(ballots))
        proposal = pos.proposal + tuple(a.strip() for a in minutes.amendments if a.strip())
        if proposal:
            self._proposals[(pos.scope, pos.map_id, pos.node_id)] = proposal
        self._trace_at.append(len(self.trace.steps))
        self.submissions.append(Submission(pos.map_id, pos.node_id, tuple(ballots), pos.scope,
                                           minutes, changed))
        self._last_group = list(self.group)
        self._revisit_group = None
        index = len(self.trace.steps)
        # the step may be rewritten on the way (a bounded loop takes otherwise)
        self._moving(lambda: answer(self._stack, self.group, self, decision, tuple(ballots)))
        self.trace.steps[index] = replace(
            self.trace.steps[index], proposal=proposal,
            minutes=Minutes(notes=minutes.notes, actions=minutes.actions), group=changed,
            consequence=self._consequence(index, pos.scope))
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


    def pending(self, ballots: Sequence[Ballot], minutes: Minutes | None = None
                ) -> Submission:
        """The submission `submit` would keep for these ballots, without moving: what a
        stepper saves before the walk moves on (names and words the record may not keep
        are already gone)."""
        pos = self._need_position()
        return Submission(pos.map_id, pos.node_id, kept_ballots(pos.node, tuple(ballots)),
                          pos.scope, kept_minutes(pos.node, minutes or Minutes()),
                          self._changed())

    def _changed(self) -> tuple[str, ...] | None:
        """The group to save with the next submission: when it differs from the group at
        the last one, or, right after a revisit, from the group when the revisit was made
        (a replay arrives there with that group, so any change since must be saved)."""
        if self.group != self._last_group or (
                self._revisit_group is not None and self.group != self._revisit_group):
            return tuple(self.group)
        return None

    def assign(self, number: int, who: str, by: str) -> None:
        """Give the outcome's next step `number` (from 1) an owner and a date."""
        t = self.trace
        if t.outcome is None:
            raise WalkError("next steps get owners at the outcome; the walk is not there")
        if not 1 <= number <= len(t.next_steps):
            raise WalkError(f"there is no next step {number} (the outcome has "
                            f"{len(t.next_steps)})")
        if not who.strip() or not by.strip():
            raise WalkError("a next step's owner needs who and by when")
        t.owners[number] = (who.strip(), by.strip())

    def back(self) -> bool:
        """Undo the last submission exactly; False when there is nothing to undo."""
        if not self.submissions:
            return False
        keep = self.submissions[:-1]
        self._reset()
        for s in keep:
            self.submit(s.ballots, expect=s)
        return True

    def revisit(self, key: str) -> None:
        """Go back to the question `key` (as answers files name it) as a new branch of the
        record: the steps since its last answer stay in the trace, marked superseded, and
        the walk goes on from that question as it stood then, with the group as it is now
        (who is in the room does not change by going back). Only a question on the live
        branch can be revisited: one a revisit already superseded was not passed on it.
        `back` undoes a revisit."""
        for i in reversed(self._live()):
            s = self.submissions[i]
            if node_key(s.map_id, s.node, top=not s.scope) == key:
                # members who joined or left since the last vote go with the revisit
                moved = tuple(self.group) if self.group != self._last_group else None
                self._revisit(Submission(s.map_id, s.node, (), s.scope, group=moved,
                                         revisit=True))
                return
        raise WalkError(f"the group has not answered {key!r} on this branch of the walk, so "
                        "it cannot go back to it")

    def _live(self) -> list[int]:
        """The indices of the submissions on the live branch, in order: each revisit cuts
        the branch back to before the answer it returns to."""
        live: list[int] = []
        for i, s in enumerate(self.submissions):
            if not s.revisit:
                live.append(i)
                continue
            at = next((j for j in reversed(range(len(live))) if _same_question(
                self.submissions[live[j]], s)), None)
            if at is not None:
                del live[at:]
        return live

    def _revisit(self, marker: Submission) -> None:
        if marker.group is not None:
            self.group = group_names(marker.group)
        subs = self.submissions
        live = self._live()
        # on the live branch; a session saved before revisits kept to it may name an
        # answer a revisit had superseded, and still resumes
        at = next((i for i in reversed(live) if _same_question(subs[i], marker)), None)
        if at is None:
            at = next((i for i in reversed(range(len(subs)))
                       if not subs[i].revisit and _same_question(subs[i], marker)), None)
        if at is None:
            raise WalkError(f"a saved revisit goes back to {marker.node!r}, which was not "
                            "answered before it (the map has changed)")
        # the walk as it stood then is the live branch's answers before it, replayed
        # without the revisits (linear: replaying them too would replay each revisit's
        # own branch again, exponential in the number of revisits)
        then = Walk(self.dm, self.start_group, [subs[i] for i in live if i < at]
                    if at in live else subs[:at])
        kept = self._trace_at[at]
        t = self.trace
        t.steps = t.steps[:kept] + [replace(s, superseded=True) for s in t.steps[kept:]]
        t.outcome = t.verdict = t.outcome_text = t.stopped = None
        t.next_steps, t.carried_by, t.owners = [], [], {}
        self._stack, self._proposals = then._stack, then._proposals
        # the group stays who is here now; the next step records it when it differs from
        # the group at the step before the question gone back to
        self._last_group, self._revisit_group = then._last_group, list(self.group)
        self._trace_at.append(len(t.steps))
        self.submissions.append(marker)

    def regroup(self, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """The group from the next question on is `names` (members joined or left, between
        questions or at a later meeting); quorum, absence and the sentences count it from
        there. Returns (joined, left)."""
        new = group_names(names)
        joined = [n for n in new if n not in self.group]
        left = [n for n in self.group if n not in new]
        self.group = new
        return joined, left

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
        if decision is None and record_level(node) == "none":
            explanation = NOT_RECORDED  # what was read out is kept out as well
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
        t.carried_by = carried_by(self.frame)

    def outcome_text(self, text: str) -> None:
        self.trace.outcome_text = text

    def template_context(self, node: Outcome) -> dict[str, Any]:
        """What an outcome's text template may read."""
        return template_context(self.frame, self.group, node)


def _same_question(a: Submission, b: Submission) -> bool:
    """Two submissions at the same question (map, node and hand-off scope)."""
    return (a.map_id, a.node, a.scope) == (b.map_id, b.node, b.scope)


# ---------------------------------------------------------------- running from answers

AnswerSource = Callable[[Position], "Sequence[Ballot] | None"]


def run(dm: DecisionMap, group: Sequence[str], answers: AnswerSource, *,
        stop_at_missing: bool = False, max_steps: int = MAX_STEPS,
        minutes: Callable[[Position], Minutes] | None = None) -> Trace:
    """Walk a map to its end with answers from `answers` (None: the question is
    unanswered), and what was written down at each question from `minutes`."""
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
        walk.submit(ballots, minutes=minutes(pos) if minutes is not None else None)
    raise WalkError(f"the walk did not end within {max_steps} steps")
