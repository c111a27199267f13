"""A question's effective rule settings (its own, the map's defaults, the built-in ones):
asked by the checker and the prompts as well as by the rules, so kept apart from deciding."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Union

from ..model.conditions import exact
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
    reasons_required: bool = True  # a block, objection or fist needs a reason (defaults)


@functools.lru_cache(maxsize=256)
def as_fraction(x: float | int | str) -> Fraction:
    """The fraction a written share means, exactly as written: `2/3` is two thirds, a
    decimal is itself (0.667 is 667/1000, never quietly 2/3; `check` warns, DM123).
    Cached: a map writes the same few shares on thousands of questions.

    >>> as_fraction(0.5), as_fraction(0.7), as_fraction("2/3")
    (Fraction(1, 2), Fraction(7, 10), Fraction(2, 3))
    >>> as_fraction(0.667), as_fraction(0.75)
    (Fraction(667, 1000), Fraction(3, 4))
    """
    if isinstance(x, str):
        top, _, bottom = x.partition("/")
        return Fraction(int(top), int(bottom))
    return Fraction(exact(x))


NEAR = Fraction(1, 200)  # how close a decimal must be to a fraction to look like it rounds it


def rounded_fraction(x: float | int | str) -> Fraction | None:
    """The simple fraction a written decimal seems to round but is not equal to: one with a
    denominator of 12 or less that no decimal writes exactly (thirds, sevenths...), within
    0.005 of it (0.67 and 0.667 for 2/3, 0.33 for 1/3). None for fractions written as such
    and for decimals that round nothing."""
    if isinstance(x, str):
        return None
    f = as_fraction(x)
    for den in (3, 6, 7, 9, 11, 12):
        cand = Fraction(round(f * den), den)
        if cand != f and cand.denominator in (3, 6, 7, 9, 11, 12) and abs(cand - f) <= NEAR:
            return cand
    return None


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
        reasons_required=defaults.block_reasons == "required",
    )


def proposal_of(question: ChoiceQuestion) -> str:
    """The choice a proposal rule puts to the group: the named `proposal` when it is one of
    the choices, else the first choice (deciding checks a wrong name, see counting.py)."""
    if question.proposal is not None and question.proposal in question.choices:
        return question.proposal
    return next(iter(question.choices))
