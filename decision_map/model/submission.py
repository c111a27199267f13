"""A submission: what the group gave at one question. A walk *is* its list of these,
so it can be saved, resumed, replayed and served to many devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .decision import Ballot


@dataclass(frozen=True)
class Submission:
    """What the group gave at one question: plain data, the unit of save and undo."""

    map_id: str
    node: str
    ballots: tuple[Ballot, ...]

    def to_json(self) -> dict[str, Any]:
        return {"map_id": self.map_id, "node": self.node,
                "ballots": [b.to_json() for b in self.ballots]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Submission:
        return cls(d["map_id"], d["node"], tuple(Ballot.from_json(b) for b in d["ballots"]))
