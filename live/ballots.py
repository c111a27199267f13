"""What a question asks of one member in the browser, and a posted form made into a Ballot.

The rules table says which ballot kind and which special words a question takes; this module
only turns that into form fields and back, so a rule added to the table shows up here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from decision_map.model.decision import Ballot
from decision_map.model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from decision_map.model.vocabulary import (
    ABSTAIN,
    BLOCK_VOTES,
    FINGERS,
    FIST,
    SAID,
    SPECIAL_VOTES,
)
from decision_map.rules.params import QuestionT
from decision_map.rules.table import rule_in_words, rule_of

MAX_REASON = 500  # characters in a block's or objection's reason
MAX_TEXT = 2000  # characters in a text question's answer


class VoteError(ValueError):
    """A posted vote that does not fit the question; str() is the line shown to the member."""


@dataclass(frozen=True)
class Option:
    """One radio button: the value posted and the words shown."""

    value: str
    label: str
    blocks: bool = False


@dataclass(frozen=True)
class Form:
    """The ballot a question asks for: its kind, the options, and the rule in words."""

    kind: str  # choice, choices, ranking, fingers, number, text
    options: tuple[Option, ...]
    specials: tuple[Option, ...]
    rule: str
    rule_words: str
    unit: str = ""
    one: bool = False  # a text question that takes one agreed sentence, typed once


def form_for(node: QuestionT, defaults: Defaults) -> Form:
    """The form fields the question's rule asks for."""
    rule = rule_of(node, defaults)
    options: list[Option] = []
    if isinstance(node, ChoiceQuestion):
        if rule.ballot == "fingers":
            options = [Option(f, f"{f} finger{'s' if f != '1' else ''}" if f != FIST
                              else "0 (a fist: blocks)", f == FIST) for f in FINGERS]
        else:
            for value in node.choices:
                label = node.choice_label(value)
                options.append(Option(value, label if label == value else f"{value}: {label}"))
    specials = tuple(Option(w, SAID[w], w in BLOCK_VOTES) for w in SPECIAL_VOTES
                     if w in rule.votes)
    unit = node.number.unit or "" if isinstance(node, NumberQuestion) else ""
    one = isinstance(node, TextQuestion) and node.text == "one"
    return Form(rule.ballot, tuple(options), specials, rule.name, rule_in_words(node, defaults),
                unit, one)


def clean(text: str, limit: int) -> str:
    """Untrusted words with control characters dropped (newlines kept), cut to `limit`."""
    kept = "".join(ch for ch in text if ch in "\n\t" or (ch.isprintable()))
    return kept.strip()[:limit]


def ballot_from_form(node: QuestionT, defaults: Defaults, member: str,
                     form: dict[str, Any]) -> Ballot:
    """The member's ballot from the posted fields, or VoteError saying what is missing."""
    rule = rule_of(node, defaults)
    value = str(form.get("value") or "").strip()
    reason = clean(str(form.get("reason") or ""), MAX_REASON)
    if len(str(form.get("reason") or "")) > MAX_REASON + 100:
        raise VoteError(f"a reason is at most {MAX_REASON} characters")
    if value in rule.votes:
        if value in BLOCK_VOTES:
            if not reason:
                raise VoteError(f"say why you {SAID[value]}: the reason is required")
            return Ballot(member, value, reason)
        return Ballot(member, value)
    if value in SPECIAL_VOTES:
        raise VoteError(f"{SAID[value]} is not a vote under {rule.name}")
    if isinstance(node, TextQuestion):
        words = clean(str(form.get("text") or ""), MAX_TEXT)
        if not words:
            raise VoteError("write your words, or choose abstain")
        return Ballot(member, words)
    if isinstance(node, NumberQuestion):
        try:
            n = float(str(form.get("number") or "").strip())
        except ValueError:
            raise VoteError("give a number, or choose abstain") from None
        if not math.isfinite(n):
            raise VoteError("give a number, or choose abstain")
        spec = node.number
        if (spec.min is not None and n < spec.min) or (spec.max is not None and n > spec.max):
            raise VoteError(f"give a number from {spec.min} to {spec.max}")
        return Ballot(member, n)
    assert isinstance(node, ChoiceQuestion)
    if rule.ballot == "fingers":
        if value not in FINGERS:
            raise VoteError("show 0 to 5 fingers, or abstain")
        if value == FIST and not reason:
            raise VoteError("say why you show a fist: the reason is required")
        return Ballot(member, value, reason or None if value == FIST else None)
    if rule.ballot in ("choices", "ranking"):
        picked = [v for v in form.get("choices", []) if v in node.choices]
        if not picked:
            raise VoteError("choose at least one, or abstain")
        return Ballot(member, tuple(dict.fromkeys(picked)))
    if value not in node.choices:
        raise VoteError("choose one of the choices" if not value else
                        f"{value!r} is not one of the choices")
    return Ballot(member, value)


def said(ballot: Ballot) -> str:
    """A ballot as words for the facilitator's list."""
    v = ballot.value
    if isinstance(v, tuple):
        return ", ".join(v)
    if isinstance(v, float):
        return f"{v:g}"
    return SAID.get(str(v), str(v)) if v != ABSTAIN else "abstain"
