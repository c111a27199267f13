"""A question's effective rule settings, and what its rule can produce and accept: asked by
the checker and the prompts as well as by the rules, so kept apart from deciding."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Union

from ..model.decision import ABSTAIN, BLOCK, OBJECT, STAND_ASIDE
from ..model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion

QuestionT = Union[ChoiceQuestion, NumberQuestion, TextQuestion]

DEFAULT_RULE = "majority"
DEFAULT_THRESHOLD = Fraction(2, 3)
DEFAULT_MIN_FINGERS = 3


@dataclass(frozen=True)
class Params:
    """A question's effective rule settings: its own, else the map's defaults, else built-in."""

    rule: str
    quorum: Fraction | None
    threshold: Fraction
    max_stand_asides: int | None
    min_fingers: int


@functools.lru_cache(maxsize=256)
def as_fraction(x: float) -> Fraction:
    """The fraction a written share means: exact decimals stay exact, rounded repeating
    decimals (0.667, 0.6667) snap to the small fraction they round (2/3). Cached: a map
    writes the same few shares on thousands of questions."""
    f = Fraction(str(x))
    for den in range(2, 13):
        cand = Fraction(round(f * den), den)
        if cand != f and abs(cand - f) < Fraction(1, 2000):
            return cand
    return f


def effective_rule(question: QuestionT, defaults: Defaults) -> str:
    """The rule that decides the question: "number" and "text" for those questions."""
    if isinstance(question, NumberQuestion):
        return "number"
    if isinstance(question, TextQuestion):
        return "text"
    return question.rule or defaults.rule or DEFAULT_RULE


def _pick(question: QuestionT, defaults: Defaults, name: str) -> Any:
    own = getattr(question, name, None)
    return own if own is not None else getattr(defaults, name, None)


def effective_params(question: QuestionT, defaults: Defaults) -> Params:
    quorum = _pick(question, defaults, "quorum")
    threshold = _pick(question, defaults, "threshold")
    min_fingers = _pick(question, defaults, "min_fingers")
    return Params(
        rule=effective_rule(question, defaults),
        quorum=as_fraction(quorum) if quorum is not None else None,
        threshold=as_fraction(threshold) if threshold is not None else DEFAULT_THRESHOLD,
        max_stand_asides=_pick(question, defaults, "max_stand_asides"),
        min_fingers=min_fingers if min_fingers is not None else DEFAULT_MIN_FINGERS,
    )


def possible_statuses(question: QuestionT, defaults: Defaults) -> set[str]:
    """The statuses the question's rule can produce (for the map checker)."""
    p = effective_params(question, defaults)
    rule = p.rule
    if rule in ("majority", "plurality", "approval", "ranked"):
        out = {"decided", "tie", "no_agreement"}
    elif rule == "supermajority":
        out = {"decided", "no_agreement"}
        if p.threshold <= Fraction(1, 2):
            out.add("tie")
    elif rule == "unanimous":
        out = {"decided", "no_agreement"}
    elif rule == "consensus":
        out = {"decided", "blocked", "no_agreement"}
    elif rule == "consent":
        out = {"decided", "blocked"}
    elif rule == "fist-to-five":
        out = {"decided", "blocked"}
        if p.min_fingers > 1:
            out.add("no_agreement")
    elif rule == "number":
        out = {"decided", "no_agreement"}
    else:  # any, text
        out = {"decided"}
    if p.quorum is not None:
        out.add("no_quorum")
    return out


def allowed_votes(question: QuestionT, defaults: Defaults) -> set[str]:
    """The special words a member may give at the question instead of a choice."""
    rule = effective_rule(question, defaults)
    if rule == "consensus":
        return {ABSTAIN, STAND_ASIDE, BLOCK}
    if rule == "consent":
        return {ABSTAIN, STAND_ASIDE, OBJECT, BLOCK}  # block is recorded as an objection
    return {ABSTAIN}
