"""The trace of a walk: every step and the outcome, as plain data that survives JSON.

A trace is what renderers highlight, reports print and `run` writes; it names the
map's id, version and content hash so a reader knows which map it belongs to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .decision import Ballot, Decision

TRACE_FORMAT = 1


@dataclass(frozen=True)
class Step:
    """One node the walk passed through.

    `map_id` and `depth` say which map (0 = the top map, 1 = a hand-off from it, ...).
    `route_kind`/`route_value` name the edge taken (as in `graph.Edge`): for example
    ("choice", "yes"), ("status", "blocked"), ("otherwise", "otherwise"),
    ("when", "case 2"), ("return", "resolved"), ("next", "next"); both None at an outcome
    or at a hand-off's entry. `next` is the node id the walk went to in the same map.
    """

    map_id: str
    node: str
    kind: str
    depth: int = 0
    visit: int = 1
    ballots: tuple[Ballot, ...] = ()
    decision: Decision | None = None
    route_kind: str | None = None
    route_value: str | None = None
    next: str | None = None
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "map_id": self.map_id,
            "node": self.node,
            "kind": self.kind,
            "depth": self.depth,
            "visit": self.visit,
            "ballots": [b.to_json() for b in self.ballots],
            "decision": self.decision.to_json() if self.decision else None,
            "route_kind": self.route_kind,
            "route_value": self.route_value,
            "next": self.next,
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Step:
        return cls(
            map_id=d["map_id"],
            node=d["node"],
            kind=d["kind"],
            depth=d.get("depth", 0),
            visit=d.get("visit", 1),
            ballots=tuple(Ballot.from_json(b) for b in d.get("ballots", ())),
            decision=Decision.from_json(d["decision"]) if d.get("decision") else None,
            route_kind=d.get("route_kind"),
            route_value=d.get("route_value"),
            next=d.get("next"),
            explanation=d.get("explanation", ""),
        )


@dataclass
class Trace:
    """A whole walk. `outcome` is the top map's outcome node id once the walk ends;
    `stopped` says why a walk ended without one (a bounded loop, a missing answer)."""

    map_id: str
    map_version: str
    map_sha256: str
    map_title: str
    group: list[str]
    steps: list[Step] = field(default_factory=list)
    outcome: str | None = None
    verdict: str | None = None
    outcome_text: str | None = None
    next_steps: list[str] = field(default_factory=list)
    stopped: str | None = None
    map_path: str | None = None

    @property
    def finished(self) -> bool:
        return self.outcome is not None or self.stopped is not None

    def answers(self, map_id: str | None = None) -> dict[str, Any]:
        """The last decided value of each question in `map_id` (default: the top map)."""
        want = map_id or self.map_id
        out: dict[str, Any] = {}
        for s in self.steps:
            if s.map_id == want and s.decision is not None:
                out[s.node] = s.decision.value
        return out

    def texts(self, map_id: str | None = None) -> dict[str, list[tuple[str | None, str]]]:
        """Each text question's collected words, by question id."""
        want = map_id or self.map_id
        return {
            s.node: list(s.decision.texts)
            for s in self.steps
            if s.map_id == want and s.decision is not None and s.decision.texts
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TRACE_FORMAT,
            "map": {
                "id": self.map_id,
                "version": self.map_version,
                "sha256": self.map_sha256,
                "title": self.map_title,
                "path": self.map_path,
            },
            "group": list(self.group),
            "steps": [s.to_json() for s in self.steps],
            "outcome": self.outcome,
            "verdict": self.verdict,
            "outcome_text": self.outcome_text,
            "next_steps": list(self.next_steps),
            "stopped": self.stopped,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Trace:
        m = d["map"]
        return cls(
            map_id=m["id"],
            map_version=m["version"],
            map_sha256=m["sha256"],
            map_title=m.get("title", m["id"]),
            map_path=m.get("path"),
            group=list(d.get("group", [])),
            steps=[Step.from_json(s) for s in d.get("steps", [])],
            outcome=d.get("outcome"),
            verdict=d.get("verdict"),
            outcome_text=d.get("outcome_text"),
            next_steps=list(d.get("next_steps", [])),
            stopped=d.get("stopped"),
        )

    def _repr_svg_(self) -> str | None:
        """Notebooks show the path taken, drawn by an installed renderer."""
        from ..notebook import svg_for

        return svg_for(self)

    @classmethod
    def loads(cls, text: str) -> Trace:
        return cls.from_json(json.loads(text))
