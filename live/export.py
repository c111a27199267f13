"""A room to and from the terminal stepper's session file (decision_map/io/session.py), so a
meeting can move between `decision-map step` and the browser in either direction.

Export projects the room's walk onto a Session: the group, the submissions the walk holds
(undone steps are gone from it already, notes and actions kept on each), the outcome. A
session imported into a room travels in the room's first event, so replaying the log
rebuilds the same walk the terminal left.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from decision_map.io.loader import DecisionMap
from decision_map.io.session import Session, SessionError, load
from decision_map.model.submission import Submission
from decision_map.walk.engine import Walk
from decision_map.walk.session import Resumed, resume

MODE_TALLY = "tally"


def session_of(walk: Walk, created: float, set_aside: list[dict[str, Any]]) -> Session:
    """The room's walk as a session file `decision-map step --resume` continues."""
    s = Session.start(walk.dm, walk.start_group)
    unnamed = any(b.member is None for sub in walk.submissions for b in sub.ballots)
    s.update_from(walk, MODE_TALLY if unnamed else "members")
    s.created = datetime.fromtimestamp(created, timezone.utc).replace(
        microsecond=0).isoformat()
    s.set_aside = list(set_aside)
    return s


def filename(dm: DecisionMap) -> str:
    """A download name for the session: the map's id, made safe for any file system."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in dm.id)[:80] or "map"
    return f"{safe}-session.json"


def read_session(path: str | os.PathLike[str],
                 map_path: str | os.PathLike[str] | None = None) -> Resumed:
    """A session file taken up again on its map (or on `map_path`): the walk replayed as
    the terminal would. A broken file or a missing map is a SessionError in one line."""
    where = os.fspath(path)
    session = load(where)
    return resume(session, where, map_path)


def room_payload(got: Resumed, source: str) -> dict[str, Any]:
    """What a room opened from a session keeps in its first event: the submissions that
    still fit the map, the group now, the steps set aside, and where it came from."""
    s, walk = got.session, got.walk
    payload: dict[str, Any] = {
        "submissions": [sub.to_json() for sub in walk.submissions],
        "set_aside": list(s.set_aside),
        "imported_from": os.path.basename(source),
    }
    if list(walk.group) != list(walk.start_group):
        payload["group_now"] = list(walk.group)
    return payload


def walk_from(dm: DecisionMap, payload: dict[str, Any]) -> Walk:
    """The walk a room starts from: the group, and an imported session's steps if any."""
    subs = [Submission.from_json(d) for d in payload.get("submissions", [])]
    walk = Walk(dm, payload["group"], subs)
    if payload.get("group_now") and not walk.finished:
        walk.regroup(payload["group_now"])
    return walk


__all__ = ["SessionError", "filename", "read_session", "room_payload", "session_of",
           "walk_from"]
