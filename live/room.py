"""A room's state, rebuilt by replaying its event log through the core's Walk.

There is no second engine: `step_submitted` calls `Walk.submit`, `step_undone` calls
`Walk.back`, and at close `Walk.preview` gives the rule's sentence exactly as the terminal
does. The vote in between (open, ballots, close, vote again) is the room's own small state.

A secret vote's ballots never enter the log one by one: the log says who voted
(`secret_voted`), and `vote_closed` carries the round's ballots as an unnamed tally.
Members who join or leave are counted from the next question on: the room keeps its
roster, and hands it to the core's `Walk.regroup` whenever no vote is open or closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from decision_map.errors import DecisionMapError, InputError
from decision_map.io.loader import DecisionMap, load_map
from decision_map.model.decision import Ballot, Decision
from decision_map.walk.engine import Position, Walk

from .export import walk_from
from .store import Event


class MapChanged(InputError):
    """The room's map file is no longer the one it was opened with: replaying its log
    through other questions would show the group decisions it never took."""


def room_map(opened: dict[str, Any]) -> DecisionMap:
    """The map a room was opened with (its `room_created` payload), refused when the file
    at its path has changed since (its sha256 differs): every process and every restart
    must walk the room through the same questions."""
    dm = load_map(opened["map_path"])
    want = opened.get("map_sha256")
    if want and dm.sha256 != want:
        raise MapChanged(f"the map file changed since the room was opened (it was "
                         f"{want[:12]}, it is now {dm.sha256[:12]}); put the original back, "
                         "or open a new room", opened["map_path"])
    return dm


# Where the room is between questions: no vote yet, a vote open, a vote closed (its
# sentence read out, waiting for the facilitator to accept or vote again), or the end.
PHASES = ("waiting", "open", "closed", "finished")


@dataclass(frozen=True)
class Cast:
    """One member's current ballot in an open vote, and who entered it."""

    ballot: Ballot
    entered_by: str | None = None  # "facilitator" when entered for someone without a phone
    by: str = ""  # the entering facilitator's name, if they gave one (live/names.py)


@dataclass
class RoomState:
    """Everything the pages show, as of event `seq`."""

    walk: Walk
    seq: int = 0
    round: int = 0
    phase: str = "waiting"
    casts: dict[str, Cast] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)
    decision: Decision | None = None
    paused: bool = False  # "continue at the next meeting": no votes, no moves until resumed
    mode: str = "named"  # the open or closed vote's ballot mode (live/secret.py MODES)
    default_mode: str = "named"  # the room's, chosen at `serve --ballot`
    open_roster: bool = False  # whether a member may add a name not on the roster
    roster: list[str] = field(default_factory=list)  # the group from the next question on
    left: list[str] = field(default_factory=list)  # members the facilitator marked as gone
    voters: set[str] = field(default_factory=set)  # who cast a secret ballot this round
    tally: list[Ballot] = field(default_factory=list)  # a closed secret vote's ballots
    # the public frame as of `seq`: every stream of the room sends it on every wake-up, and
    # building it walks to the current question (about 1 ms on the coalition map)
    _public: tuple[int, dict[str, Any]] | None = field(default=None, repr=False,
                                                       compare=False)
    _position: tuple[int, Position | None] | None = field(default=None, repr=False,
                                                          compare=False)
    # the same frame as JSON text, made once per seq rather than once per stream
    _public_json: tuple[int, str] | None = field(default=None, repr=False, compare=False)

    @property
    def group(self) -> list[str]:
        return list(self.walk.group)

    @property
    def position(self) -> Position | None:
        """The question in front of the room (None at the end): found once per seq, as the
        walk moves only by `apply` (finding it counts the questions left, ~0.1 ms, and a
        page asks several times)."""
        if self._position is None or self._position[0] != self.seq:
            self._position = (self.seq, self.walk.current())
        return self._position[1]

    @property
    def ending(self) -> str:
        """The outcome's title once the walk has ended ("" before)."""
        t = self.walk.trace
        node = self.walk.frame.dm.nodes.get(t.outcome or "")
        return str(getattr(node, "outcome", "") or t.outcome or t.stopped or "")

    def ballots(self) -> list[Ballot]:
        """The ballots in the group's order (the order the terminal records them); a
        secret vote's unnamed tally, in its fixed order."""
        if self.mode == "secret":
            return list(self.tally)
        return [self.casts[m].ballot for m in self.group if m in self.casts]

    def who_voted(self) -> list[str]:
        """The members who have voted in this round, in the group's order."""
        have = self.voters if self.mode == "secret" else self.casts
        return [m for m in self.group if m in have]

    def apply(self, e: Event) -> None:
        """Move the state on by one event of the log."""
        p = e.payload
        if e.kind == "member_claimed":
            self.claimed.add(p["member"])
        elif e.kind == "member_joined":  # a latecomer's own claim, or back after leaving
            if p.get("claimed"):
                self.claimed.add(p["member"])
            self.left = [m for m in self.left if m != p["member"]]
            if p["member"] not in self.roster:
                self.roster.append(p["member"])
            self._regroup()
        elif e.kind == "member_left":
            self.roster = [m for m in self.roster if m != p["member"]]
            self.left.append(p["member"])
            self._regroup()
        elif e.kind == "roster_opened":
            self.open_roster = bool(p["open"])
        elif e.kind in ("vote_opened", "revote"):
            self.round, self.phase, self.casts, self.decision = p["round"], "open", {}, None
            self.mode = p.get("mode", self.mode if e.kind == "revote" else "named")
            self.voters, self.tally = set(), []
        elif e.kind == "ballot_cast" and p["round"] == self.round and self.phase == "open":
            self.casts[p["member"]] = Cast(Ballot.from_json(p["ballot"]), p.get("entered_by"),
                                          str(p.get("by") or ""))
        elif e.kind == "secret_voted" and p["round"] == self.round and self.phase == "open":
            self.voters.add(p["member"])
        elif e.kind == "vote_closed" and p["round"] == self.round:
            if self.mode == "secret":
                self.tally = [Ballot.from_json(b) for b in p.get("tally", [])]
            try:
                self.decision = self.walk.preview(self.ballots())
                self.phase = "closed"
            except DecisionMapError:  # the app refuses such a close; an old log stays open
                pass
        elif e.kind == "step_submitted":
            self.walk.submit([Ballot.from_json(b) for b in p["ballots"]])
            self._between()
        elif e.kind == "step_undone":
            self.walk.back()
            self._between()
        elif e.kind in ("paused", "resumed"):
            self.paused = e.kind == "paused"
        self.seq = e.seq

    def _regroup(self) -> None:
        """Hand the roster to the walk, unless a vote is open or closed: then it counts from
        the next question on (the core's regroup; quorum and sentences follow it)."""
        if self.phase in ("waiting", "finished") and self.roster and self.roster != self.group:
            self.walk.regroup(self.roster)

    def _between(self) -> None:
        self.casts, self.decision, self.voters, self.tally = {}, None, set(), []
        self.phase = "finished" if self.walk.finished else "waiting"
        self._regroup()

    def public(self) -> dict[str, Any]:
        """The small, role-free frame every page may see (sent over SSE): no ballots.
        Built once per seq (the state moves only by `apply`); callers must not change it."""
        if self._public is not None and self._public[0] == self.seq:
            return self._public[1]
        pos = self.position
        frame = {
            "seq": self.seq, "phase": self.phase, "round": self.round,
            "step": pos.step if pos else len(self.walk.submissions),
            "question": pos.key if pos else None,
            "voted": len(self.who_voted()), "members": len(self.group),
            "joined": len(self.claimed), "mode": self.mode, "paused": self.paused,
            # who has voted is no secret in any mode, but the projector shows no names
            # under a secret ballot, and this frame goes to every page
            "who": [] if self.mode == "secret" else self.who_voted(),
        }
        self._public = (self.seq, frame)
        return frame

    def public_json(self) -> str:
        """`public()` as JSON text, what every stream of the room sends: made once per seq."""
        if self._public_json is None or self._public_json[0] != self.seq:
            self._public_json = (self.seq, json.dumps(self.public()))
        return self._public_json[1]


def replay(dm: DecisionMap, events: list[Event]) -> RoomState:
    """The room as of the last of `events` (the first must be `room_created`)."""
    first = events[0]
    assert first.kind == "room_created", first.kind
    p = first.payload
    walk = walk_from(dm, p)
    state = RoomState(walk, seq=first.seq, default_mode=p.get("ballot", "named"),
                      open_roster=bool(p.get("open_roster", False)), roster=list(walk.group))
    for e in events[1:]:
        state.apply(e)
    return state
