"""Replaying saved votes through the walk: an answers file's, or a session's.

Reading and writing those files lives below the walk (`decision_map.io`); replaying them
needs the engine, so it lives here, above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, WalkError
from ..io.answers import Answers, Move
from ..io.loader import DecisionMap
from ..io.session import Session
from ..model.trace import Trace
from .engine import Walk, run


def walk_answers(dm: DecisionMap, answers: Answers, *, stop_at_missing: bool = False
                 ) -> Trace:
    """The trace of an answers file's walk: by question (`answers`), or in the order it
    happened (`steps`, with revisits, joins and leaves). A WalkError says why a walk by
    question cannot go on; a `steps` walk names the step."""
    if answers.moves:
        return run_moves(dm, answers.group, answers.moves, stop_at_missing=stop_at_missing)
    return run(dm, answers.group, answers.source(dm.id), stop_at_missing=stop_at_missing,
               minutes=answers.minutes_source(dm.id))


def run_moves(dm: DecisionMap, group: list[str], moves: list[Move], *,
              stop_at_missing: bool = False) -> Trace:
    """Replay a `steps` list through the walk, one move at a time, as the stepper would
    have made them: votes at the question the walk is at, `revisit`, `join` and `leave`
    between questions. A move that does not fit where the walk is is an InputError at
    that step; a walk the steps leave unfinished stops (`stop_at_missing`) or is a
    WalkError, as with answers by question."""
    walk = Walk(dm, group)
    for move in moves:
        pos = walk.current()
        try:
            if move.kind == "revisit":
                walk.revisit(move.key)
                continue
            if pos is None:
                ended = walk.trace.outcome or "a stop"
                doing = (f"answers {move.key!r}" if move.kind == "answer" else
                         f"has {', '.join(move.names)} {move.kind}")
                raise InputError(f"this step {doing}, but the walk has already ended at "
                                 f"{ended!r} (revisit a question to go on)", move.where)
            if move.kind == "answer":
                if pos.key != move.key:
                    raise InputError(f"this step answers {move.key!r}, but the walk is at "
                                     f"{pos.key!r} here", move.where)
                walk.submit(move.ballots, minutes=move.minutes)
            elif move.kind == "join":
                walk.regroup([*walk.group, *move.names])
            else:
                walk.regroup([g for g in walk.group if g not in move.names])
        except WalkError as e:
            raise InputError(str(e), move.where) from None
    pos = walk.current()
    if pos is not None:
        if stop_at_missing:
            walk.trace.stopped = f"No answer for question {pos.key!r}."
        else:
            raise WalkError(f"the walk reaches question {pos.key!r}, which the steps do not "
                            "answer (or use --stop-at-missing)")
    return walk.trace


def run_answers(dm: DecisionMap, answers: Answers, path: str, *,
                stop_at_missing: bool = False) -> Trace:
    """Walk a map with an answers file's votes; a walk that cannot go on names the file."""
    try:
        trace = walk_answers(dm, answers, stop_at_missing=stop_at_missing)
    except WalkError as e:
        raise InputError(str(e), path) from None
    if trace.outcome is not None:
        for n, owner in answers.owners.items():
            if n > len(trace.next_steps):
                raise InputError(f"owners: the outcome {trace.outcome!r} has "
                                 f"{len(trace.next_steps)} next steps, not {n}", path)
            trace.owners[n] = owner
    return trace


@dataclass
class Replay:
    """The walk rebuilt from a session: `kept` submissions fit; `problem` says why the
    next one did not (None when all fit)."""

    walk: Walk
    kept: int
    total: int
    problem: str | None = None
    problem_node: str | None = None

    @property
    def dropped(self) -> int:
        return self.total - self.kept


def replay(dm: DecisionMap, session: Session) -> Replay:
    """Replay the session's submissions on `dm` one by one, stopping at the first that
    no longer fits (the map changed): the ones before it are kept. An outcome text that
    fails never stops a replay (the walk keeps it as `text_error`)."""
    walk = Walk(dm, session.group, keep_text_error=True)
    subs = session.submissions
    for i, s in enumerate(subs):
        pos = walk.current()
        if pos is None and not s.revisit:
            return Replay(walk, i, len(subs),
                          f"saved step {i + 1} answered question {s.node!r}, but the walk "
                          "now ends before it", s.node)
        try:
            walk.submit(s.ballots, expect=s)
        except WalkError as e:
            walk = Walk(dm, session.group, subs[:i], keep_text_error=True)
            return Replay(walk, i, len(subs),
                          f"saved step {i + 1} no longer fits at question "
                          f"{pos.key if pos else s.node!r}: {e}", pos.node_id if pos else s.node)
    return Replay(walk, len(subs), len(subs))
