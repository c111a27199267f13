"""The trace of a walk: every step and the outcome, as plain data that survives JSON.

A trace is what renderers highlight, reports print and `run` writes; it names the
map's id, version and content hash so a reader knows which map it belongs to.

Each step carries its hand-off scope (the hand-off node ids from the top map down to
the step's map) and its `key` (`id` in the top map, `map-id/id` inside a hand-off, as
answers files and scenarios spell questions), so no reader has to work either out.

Format 2 (written; `decision_map.model.versions.TRACE` says what is read):

    {"format": 2,
     "map": {"id": "...", "version": "1.0", "sha256": "...", "title": "...",
             "path": "/abs/map.yaml", "decision_map_version": "0.1.0"},
     "group": ["Ana", "Ben"],
     "steps": [{"map_id": "...", "node": "...", "key": "map-id/node",
                "scope": ["hand-off-node"], "depth": 1, "kind": "choice", "visit": 1,
                "ballots": [...], "decision": {...} or null,
                "route_kind": "choice", "route_value": "yes", "next": "...",
                "explanation": "..."}, ...],
     "outcome": "...", "verdict": "...", "outcome_text": "...", "next_steps": [...],
     "stopped": null, "carried_by": ["Ana"],
     "next_step_owners": [{"step": 1, "who": "Ana", "by": "1 June"}]}

A step may also carry `group` (the members at that question, when some joined or left
since the step before; the trace's `group` is the group at the start), `proposal` (the
versions of what was put to the vote, the vote on the last), `notes` and `actions`
({who, by, what}); the trace `carried_by`, the members who agreed at the last named vote
(a stand-aside does not carry the decision out), `next_step_owners`, and on a step
`superseded` (a later revisit went back before it: kept, not erased) and `consequence`
(where a question's decision led, in members' words: "A tie, so: the outcome “A task
force”.", the sentence the stepper confirmed). Each is written
only when it holds something, and read as empty when missing.

Format 1 had no `scope` and no `key`; reading it rebuilds the scope from the steps
themselves (the engine recorded every hand-off's entry step before the steps inside).
`depth` is written for readers of the file; reading takes the depth from `scope`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .decision import Ballot, Decision
from .fields import FieldError, Fields
from .minutes import Minutes
from .versions import TRACE

TRACE_FORMAT = TRACE.current
MAX_SCOPE = 64  # hand-offs nested deeper than this in a trace file are refused as broken

Scope = tuple[str, ...]  # hand-off node ids from the top map down; () is the top map


class TraceFormatError(ValueError):
    """A trace file this program cannot read: a newer format, or a broken one."""


def node_key(map_id: str, node: str, *, top: bool) -> str:
    """How a question is named to people and in answers files: `id` in the top map,
    `map-id/id` in a map reached by hand-off."""
    return node if top else f"{map_id}/{node}"


@dataclass(frozen=True)
class Step:
    """One node the walk passed through.

    `map_id` and `scope` say which map: `scope` holds the hand-off node ids from the top
    map down (() is the top map), so `depth` (0 = the top map, 1 = a hand-off from it)
    is its length and two hand-offs into the same map stay apart.
    `route_kind`/`route_value` name the edge taken (as in `graph.Edge`): for example
    ("choice", "yes"), ("status", "blocked"), ("otherwise", "otherwise"),
    ("when", "case 2"), ("return", "resolved"), ("next", "next"); both None at an outcome
    or at a hand-off's entry. `next` is the node id the walk went to in the same map.
    `proposal` is every version of the proposal put to the vote (the vote applies to the
    last; more than one when the group amended it), and `minutes` the notes and actions
    written down at the step.
    """

    map_id: str
    node: str
    kind: str
    scope: Scope = ()
    visit: int = 1
    ballots: tuple[Ballot, ...] = ()
    decision: Decision | None = None
    route_kind: str | None = None
    route_value: str | None = None
    next: str | None = None
    explanation: str = ""
    proposal: tuple[str, ...] = ()
    minutes: Minutes = Minutes()
    group: tuple[str, ...] | None = None  # the group here, when it had changed before it
    superseded: bool = False  # a later revisit went back before this step
    consequence: str = ""  # where the decision led, in members' words (questions only)

    @property
    def depth(self) -> int:
        """How many hand-offs deep the step is (0: the top map)."""
        return len(self.scope)

    @property
    def key(self) -> str:
        """`node` in the top map, `map-id/node` inside a hand-off."""
        return node_key(self.map_id, self.node, top=not self.scope)

    def to_json(self) -> dict[str, Any]:
        """Keys for proposals and minutes only where there are some, so traces of maps
        that use neither read as before."""
        out = {
            "map_id": self.map_id,
            "node": self.node,
            "key": self.key,
            "scope": list(self.scope),
            "depth": self.depth,
            "kind": self.kind,
            "visit": self.visit,
            "ballots": [b.to_json() for b in self.ballots],
            "decision": self.decision.to_json() if self.decision else None,
            "route_kind": self.route_kind,
            "route_value": self.route_value,
            "next": self.next,
            "explanation": self.explanation,
        }
        if self.proposal:
            out["proposal"] = list(self.proposal)
        out.update(self.minutes.to_json())
        if self.group is not None:
            out["group"] = list(self.group)
        if self.superseded:
            out["superseded"] = True
        if self.consequence:
            out["consequence"] = self.consequence
        return out

    @classmethod
    def from_json(cls, d: Any, scope: Scope | None = None, path: str = "step") -> Step:
        """A step from format 2 JSON, or from format 1 with `scope` worked out by the
        caller (format 1 steps have none). Every field is checked: a FieldError names
        the one that is wrong."""
        f = Fields(d, path)
        if scope is None:
            scope = tuple(f.texts("scope", []))
        if len(scope) > MAX_SCOPE:
            raise TraceFormatError(f"{path}: hand-offs nest deeper than {MAX_SCOPE}")
        decision = f.obj_or_none("decision")
        return cls(
            map_id=f.text("map_id"),
            node=f.text("node"),
            kind=f.text("kind"),
            scope=scope,
            visit=f.whole("visit", 1, minimum=1),
            ballots=tuple(Ballot.from_json(b, p) for p, b in f.items("ballots", [])),
            decision=Decision.from_json(decision.data, decision.path) if decision else None,
            route_kind=f.text_or_none("route_kind"),
            route_value=f.text_or_none("route_value"),
            next=f.text_or_none("next"),
            explanation=f.text("explanation", ""),
            proposal=tuple(f.texts("proposal", [])),
            minutes=minutes_from_json(d, path),
            group=None if d.get("group") is None else tuple(f.texts("group")),
            superseded=d.get("superseded") is True,
            consequence=f.text("consequence", ""),
        )


def owners_json(owners: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:
    """Next-step owners as JSON: [{"step": 1, "who": "Ana", "by": "1 June"}, ...]."""
    return [{"step": n, "who": w, "by": b} for n, (w, b) in sorted(owners.items())]


def owners_from_json(raw: Any) -> dict[int, tuple[str, str]]:
    """Next-step owners from JSON; anything else is a TraceFormatError."""
    if not isinstance(raw, list):
        raise TraceFormatError("`next_step_owners` is not a list")
    out: dict[int, tuple[str, str]] = {}
    for o in raw:
        if not (isinstance(o, dict) and isinstance(o.get("step"), int)
                and isinstance(o.get("who"), str) and isinstance(o.get("by"), str)):
            raise TraceFormatError("a next step's owner is {step: N, who: text, by: text}")
        out[o["step"]] = (o["who"], o["by"])
    return out


def minutes_from_json(d: Any, path: str) -> Minutes:
    """A step's or submission's notes, actions and amendments; a broken one is a
    FieldError naming where."""
    try:
        return Minutes.from_json(d)
    except TypeError as e:
        raise FieldError(f"{path}: {e}") from None


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
    written_by: str | None = None  # the decision-map version that walked it
    carried_by: list[str] = field(default_factory=list)
    # next step number (from 1) -> (who owns it, by when)
    owners: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.outcome is not None or self.stopped is not None

    def answers(self, map_id: str | None = None) -> dict[str, Any]:
        """The last decided value of each question in `map_id` (default: the top map)."""
        want = map_id or self.map_id
        out: dict[str, Any] = {}
        for s in self.steps:
            if s.map_id == want and s.decision is not None and not s.superseded:
                out[s.node] = s.decision.value
        return out

    def texts(self, map_id: str | None = None) -> dict[str, list[tuple[str | None, str]]]:
        """Each text question's collected words, by question id."""
        want = map_id or self.map_id
        return {
            s.node: list(s.decision.texts)
            for s in self.steps
            if s.map_id == want and s.decision is not None and s.decision.texts
            and not s.superseded
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
                "decision_map_version": self.written_by,
            },
            "group": list(self.group),
            "steps": [s.to_json() for s in self.steps],
            "outcome": self.outcome,
            "verdict": self.verdict,
            "outcome_text": self.outcome_text,
            "next_steps": list(self.next_steps),
            "stopped": self.stopped,
            **({"carried_by": list(self.carried_by)} if self.carried_by else {}),
            **({"next_step_owners": owners_json(self.owners)} if self.owners else {}),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Trace:
        """Read format 1 or 2 (upgrading 1 as it reads); a newer format is a
        TraceFormatError that names both versions."""
        if not isinstance(d, dict) or "format" not in d:
            raise TraceFormatError("not a trace: no `format` number")
        problem = TRACE.problem(d["format"])
        if problem:
            raise TraceFormatError(problem)
        f = Fields(d)
        raw_steps = [step for _, step in f.items("steps", [])]
        if d["format"] == 1:
            scopes: list[Scope | None] = list(scopes_of_format_1(raw_steps))
        else:
            scopes = [None] * len(raw_steps)
        steps = [Step.from_json(s, scope, f"steps[{i}]")
                 for i, (s, scope) in enumerate(zip(raw_steps, scopes, strict=True))]
        m = f.obj("map")
        map_id = m.text("id")
        return cls(
            map_id=map_id,
            map_version=m.text("version"),
            map_sha256=m.text("sha256"),
            map_title=m.text("title", map_id),
            map_path=m.text_or_none("path"),
            written_by=m.text_or_none("decision_map_version"),
            group=f.texts("group", []),
            steps=steps,
            outcome=f.text_or_none("outcome"),
            verdict=f.text_or_none("verdict"),
            outcome_text=f.text_or_none("outcome_text"),
            next_steps=f.texts("next_steps", []),
            stopped=f.text_or_none("stopped"),
            carried_by=f.texts("carried_by", []),
            owners=owners_from_json(d.get("next_step_owners", [])),
        )

    def _repr_svg_(self) -> str | None:
        """Notebooks show the path taken, drawn by an installed renderer."""
        from ..notebook import svg_for

        return svg_for(self)

    @classmethod
    def loads(cls, text: str) -> Trace:
        return cls.from_json(json.loads(text))


def scopes_of_format_1(steps: list[dict[str, Any]]) -> list[Scope]:
    """Each format-1 step's hand-off scope, from the steps alone: a hand-off's entry step
    (kind "handoff", no route) opens a scope one deeper, and each step's `depth` says how
    much of the open stack it is in. A step deeper than any open hand-off is refused."""
    out: list[Scope] = []
    stack: list[str] = []
    for i, s in enumerate(steps, start=1):
        if not isinstance(s, dict):
            raise TraceFormatError(f"step {i} is not an object")
        depth = s.get("depth", 0)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise TraceFormatError(f"step {i}: `depth` is not a whole number >= 0")
        if depth > len(stack):
            raise TraceFormatError(f"step {i} is {depth} hand-offs deep, but no hand-off "
                                   "step before it enters that map")
        scope = tuple(stack[:depth])
        out.append(scope)
        if s.get("kind") == "handoff" and s.get("route_kind") is None:
            stack = [*scope, str(s.get("node"))]
        else:
            stack = list(scope)
    return out
