"""A submission: what the group gave at one question. A walk *is* its list of these,
so it can be saved, resumed, replayed and served to many devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .decision import Ballot
from .minutes import Minutes
from .trace import Scope, node_key


@dataclass(frozen=True)
class Submission:
    """What the group gave at one question: plain data, the unit of save and undo.

    `scope` is the hand-off stack the question was asked in (as on a trace step), so a
    replay can tell two hand-offs into the same map apart; None when it was not recorded
    (session format 1), and then only the map and the question are checked.
    `minutes` is what was written down at the question: amendments, notes, actions.
    `group` is the group as it was at this question when it had changed since the step
    before (members joined or left); None when it had not.
    """

    map_id: str
    node: str
    ballots: tuple[Ballot, ...]
    scope: Scope | None = None
    minutes: Minutes = Minutes()
    group: tuple[str, ...] | None = None
    # a revisit: not votes, but the group going back to this question (the last time it
    # was answered) as a new branch of the record; the steps since stay, superseded
    revisit: bool = False

    def misfit(self, map_id: str, node: str, scope: Scope) -> str | None:
        """Why these votes were not given at this question (in this hand-off, when the
        scope is known), or None when they were."""
        here = node_key(map_id, node, top=not scope)
        if (self.map_id, self.node) != (map_id, node):
            there = node_key(self.map_id, self.node, top=self.scope == ())
            return (f"the saved votes were given at {there}, but the map now asks {here} "
                    "here (the map has changed)")
        if self.scope is not None and self.scope != scope:
            return (f"the saved votes at {here} were given in the hand-off "
                    f"{_via(self.scope)}, but the map now asks it in {_via(scope)} "
                    "(the map has changed)")
        return None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"map_id": self.map_id, "node": self.node}
        if self.scope is not None:
            out["scope"] = list(self.scope)
        out["ballots"] = [b.to_json() for b in self.ballots]
        out.update(self.minutes.to_json())
        if self.group is not None:
            out["group"] = list(self.group)
        if self.revisit:
            out["revisit"] = True
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Submission:
        scope = d.get("scope")
        if scope is not None and not isinstance(scope, list):
            raise TypeError("scope is not a list")
        group = d.get("group")
        if group is not None and (not isinstance(group, list) or not all(
                isinstance(g, str) for g in group)):
            raise TypeError("group is not a list of names")
        return cls(d["map_id"], d["node"], tuple(Ballot.from_json(b) for b in d["ballots"]),
                   None if scope is None else tuple(scope), Minutes.from_json(d),
                   None if group is None else tuple(group), d.get("revisit") is True)


def _via(scope: Scope) -> str:
    """A hand-off stack in words: "via-left", "outer > inner", or "the top map"."""
    return " > ".join(scope) if scope else "the top map"
