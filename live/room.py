"""A room's state, rebuilt by replaying its event log through the core's Walk.

There is no second engine: `step_submitted` calls `Walk.submit`, `step_undone` calls
`Walk.back`, and at close `Walk.preview` gives the rule's sentence exactly as the terminal
does. The vote in between (open, ballots, close, vote again) is the room's own small state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from decision_map.errors import DecisionMapError
from decision_map.io.loader import DecisionMap
from decision_map.model.decision import Ballot, Decision
from decision_map.walk.engine import Position, Walk

from .export import walk_from
from .store import Event

# Where the room is between questions: no vote yet, a vote open, a vote closed (its
# sentence read out, waiting for the facilitator to accept or vote again), or the end.
PHASES = ("waiting", "open", "closed", "finished")


@dataclass(frozen=True)
class Cast:
    """One member's current ballot in an open vote, and who entered it."""

    ballot: Ballot
    entered_by: str | None = None  # "facilitator" when entered for someone without a phone


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

    @property
    def group(self) -> list[str]:
        return list(self.walk.group)

    @property
    def position(self) -> Position | None:
        return self.walk.current()

    @property
    def ending(self) -> str:
        """The outcome's title once the walk has ended ("" before)."""
        t = self.walk.trace
        node = self.walk.frame.dm.nodes.get(t.outcome or "")
        return str(getattr(node, "outcome", "") or t.outcome or t.stopped or "")

    def ballots(self) -> list[Ballot]:
        """The ballots in the group's order (the order the terminal records them)."""
        return [self.casts[m].ballot for m in self.group if m in self.casts]

    def apply(self, e: Event) -> None:
        """Move the state on by one event of the log."""
        p = e.payload
        if e.kind == "member_claimed":
            self.claimed.add(p["member"])
        elif e.kind in ("vote_opened", "revote"):
            self.round, self.phase, self.casts, self.decision = p["round"], "open", {}, None
        elif e.kind == "ballot_cast" and p["round"] == self.round and self.phase == "open":
            self.casts[p["member"]] = Cast(Ballot.from_json(p["ballot"]), p.get("entered_by"))
        elif e.kind == "vote_closed" and p["round"] == self.round:
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

    def _between(self) -> None:
        self.casts, self.decision = {}, None
        self.phase = "finished" if self.walk.finished else "waiting"

    def public(self) -> dict[str, Any]:
        """The small, role-free frame every page may see (sent over SSE): no ballots."""
        pos = self.position
        return {
            "seq": self.seq, "phase": self.phase, "round": self.round,
            "step": pos.step if pos else len(self.walk.submissions),
            "question": pos.key if pos else None,
            "voted": len(self.casts), "members": len(self.group), "joined": len(self.claimed),
            "who": [m for m in self.group if m in self.casts], "paused": self.paused,
        }


def replay(dm: DecisionMap, events: list[Event]) -> RoomState:
    """The room as of the last of `events` (the first must be `room_created`)."""
    first = events[0]
    assert first.kind == "room_created", first.kind
    state = RoomState(walk_from(dm, first.payload), seq=first.seq)
    for e in events[1:]:
        state.apply(e)
    return state
