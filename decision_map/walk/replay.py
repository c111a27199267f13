"""Replaying saved votes through the walk: an answers file's, or a session's.

Reading and writing those files lives below the walk (`decision_map.io`); replaying them
needs the engine, so it lives here, above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, WalkError
from ..io.answers import Answers
from ..io.loader import DecisionMap
from ..io.session import Session
from ..model.trace import Trace
from .engine import Walk, run


def run_answers(dm: DecisionMap, answers: Answers, path: str, *,
                stop_at_missing: bool = False) -> Trace:
    """Walk a map with an answers file's votes; a walk that cannot go on names the file."""
    try:
        trace = run(dm, answers.group, answers.source(dm.id), stop_at_missing=stop_at_missing,
                    minutes=answers.minutes_source(dm.id))
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
