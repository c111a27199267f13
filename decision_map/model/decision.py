"""Plain data for one group decision: the ballots that go in and the Decision that comes out.

Kept apart from the rules so the engine, traces, renderers and reports can share them
without importing any logic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from .fields import FieldError, Fields, is_number

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
    def from_json(cls, d: Any, path: str = "ballot") -> Ballot:
        """A ballot from JSON with every field checked: a FieldError names the one wrong."""
        f = Fields(d, path)
        value = f.data.get("value")
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise FieldError(f"{f.at('value')}: a list of choices must be all text")
            value = tuple(value)
        elif not isinstance(value, str) and not is_number(value):
            raise f.fail("value", "text, a finite number or a list of text", value)
        return cls(f.text_or_none("member"), value, f.text_or_none("reason"))


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
    def from_json(cls, d: Any, path: str = "decision") -> Decision:
        """A decision from JSON with every field checked: a FieldError names the one
        wrong, so what a reader gets back is safe to print and draw."""
        f = Fields(d, path)
        status = f.text("status")
        if status not in _STATUSES:
            raise FieldError(f"{f.at('status')}: {status!r} is not one of "
                             f"{', '.join(_STATUSES)}")
        return cls(
            status=status,  # type: ignore[arg-type]  # checked just above
            rule=f.text("rule"),
            value=f.value("value"),
            tally=f.mapping("tally", is_number, "a number"),
            explanation=f.text("explanation"),
            members=f.whole("members"),
            participating=f.whole("participating"),
            abstained=tuple(f.texts("abstained", [])),
            stood_aside=tuple(f.texts("stood_aside", [])),
            blocks=tuple((b.text_or_none("member"), b.text_or_none("reason"))
                         for b in f.objects("blocks", [])),
            absent=tuple(f.texts("absent", [])),
            texts=tuple((t.text_or_none("member"), t.text("text"))
                        for t in f.objects("texts", [])),
            details=f.mapping("details", lambda _: True, "", {}),
        )


_STATUSES: tuple[str, ...] = get_args(DecisionStatus)
