"""Plain data for one group decision: the ballots that go in and the Decision that comes out.

Kept apart from the rules so the engine, traces, renderers and reports can share them
without importing any logic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# What a member may give instead of a choice (spelled in vocabulary.py).
from .vocabulary import ABSTAIN, BLOCK, OBJECT, STAND_ASIDE

__all__ = ["ABSTAIN", "BLOCK", "OBJECT", "STAND_ASIDE", "Ballot", "Decision", "DecisionStatus"]

DecisionStatus = Literal["decided", "blocked", "no_quorum", "tie", "no_agreement"]


@dataclass(frozen=True)
class Ballot:
    """One member's vote at one question.

    `member` is None for votes from a tally (names unknown). `value` is a choice value,
    one of ABSTAIN / STAND_ASIDE / BLOCK / OBJECT, a number (number questions and
    fist-to-five), or words (text questions). `reason` goes with a block or objection.
    """

    member: str | None
    value: str | float | tuple[str, ...]  # a tuple: approval or ranked ballots
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        d: dict[str, Any] = {"member": self.member, "value": value}
        if self.reason:
            d["reason"] = self.reason
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Ballot:
        value = d["value"]
        return cls(d.get("member"), tuple(value) if isinstance(value, list) else value,
                   d.get("reason"))


@dataclass(frozen=True)
class Decision:
    """What the rule made of the ballots, with the sentence the group can read aloud."""

    status: DecisionStatus
    rule: str
    value: str | float | None
    tally: dict[str, int]
    explanation: str
    members: int
    participating: int
    abstained: tuple[str, ...] = ()
    stood_aside: tuple[str, ...] = ()
    blocks: tuple[tuple[str | None, str | None], ...] = ()
    absent: tuple[str, ...] = ()
    texts: tuple[tuple[str | None, str], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["abstained"] = list(self.abstained)
        d["stood_aside"] = list(self.stood_aside)
        d["blocks"] = [{"member": m, "reason": r} for m, r in self.blocks]
        d["absent"] = list(self.absent)
        d["texts"] = [{"member": m, "text": t} for m, t in self.texts]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Decision:
        return cls(
            status=d["status"],
            rule=d["rule"],
            value=d["value"],
            tally=dict(d["tally"]),
            explanation=d["explanation"],
            members=d["members"],
            participating=d["participating"],
            abstained=tuple(d.get("abstained", ())),
            stood_aside=tuple(d.get("stood_aside", ())),
            blocks=tuple((b["member"], b["reason"]) for b in d.get("blocks", ())),
            absent=tuple(d.get("absent", ())),
            texts=tuple((t["member"], t["text"]) for t in d.get("texts", ())),
            details=dict(d.get("details", {})),
        )
