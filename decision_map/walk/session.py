"""Resuming a saved session: the policy, apart from any terminal.

Reading and writing the session file lives below the walk (`decision_map.io.session`);
this is what resuming means: the session's map must still be there and still be the
same map (by id), the saved votes are replayed on it as it is now, and the votes a
changed map no longer takes are kept in the session under "set_aside", never dropped.
`decision-map step --resume` only says what this found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..io.loader import DecisionMap, LoadOptions, load_map
from ..io.session import Session, SessionError, now_iso
from .engine import Walk
from .replay import Replay, replay


@dataclass
class Resumed:
    """A session taken up again: the walk rebuilt on `dm`, and what changed on the way.

    `saved_version` is the map version the session was saved with; `changed` says the
    map's content differs from then; `replay` says how many saved steps still fit (and
    why the next did not: then the rest is in `session.set_aside`).
    """

    session: Session
    dm: DecisionMap
    walk: Walk
    replay: Replay
    changed: bool
    saved_version: str


def resume(session: Session, where: str, map_path: str | os.PathLike[str] | None = None,
           options: LoadOptions | None = None) -> Resumed:
    """Rebuild the walk of `session` (read from `where`) on its map, or on `map_path`
    when the map has moved. A missing map or another map is a SessionError at `where`."""
    path = os.fspath(map_path) if map_path is not None else session.map_path
    if not os.path.isfile(path):
        raise SessionError(f"the session's map {path} is not there any more (give its "
                           "new place: decision-map step MAP --resume FILE)", where)
    dm = load_map(path, options)
    if dm.id != session.map_id:
        raise SessionError(f"this session walks map {session.map_id!r}, but {path} is map "
                           f"{dm.id!r}", where)
    saved_version = session.map_version
    changed = dm.sha256 != session.map_sha256
    r = replay(dm, session)
    if r.problem:
        session.set_aside.append({
            "at": now_iso(), "reason": r.problem, "map_sha256": session.map_sha256,
            "submissions": [s.to_json() for s in session.submissions[r.kept:]],
        })
    if session.group_now is not None and not r.walk.finished:  # joined or left, not yet
        r.walk.regroup(session.group_now)                       # voted on since
    if r.walk.trace.outcome is not None:  # the owners given at the outcome, kept
        for n, (who, by) in session.owners.items():
            if 1 <= n <= len(r.walk.trace.next_steps):
                r.walk.assign(n, who, by)
    return Resumed(session, dm, r.walk, r, changed, saved_version)
