"""Pure helpers for `decision-map step`: what a typed line means, and rules in words.

Nothing here reads or prints. A line that does not fit raises VoteInputError whose
message is the one-line hint shown before asking again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..model.conditions import num
from ..model.decision import ABSTAIN, BLOCK, OBJECT, STAND_ASIDE
from ..model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from ..rules.params import QuestionT, effective_params

SPECIAL_WORDS = {
    "a": ABSTAIN, "abstain": ABSTAIN,
    "s": STAND_ASIDE, "stand-aside": STAND_ASIDE, "stand aside": STAND_ASIDE,
    "stand_aside": STAND_ASIDE, "standaside": STAND_ASIDE, "aside": STAND_ASIDE,
    "b": BLOCK, "block": BLOCK,
    "o": OBJECT, "object": OBJECT, "objection": OBJECT,
}
WORD_NAMES = {ABSTAIN: "abstain", STAND_ASIDE: "stand aside", BLOCK: "block",
              OBJECT: "object"}


class VoteInputError(ValueError):
    """A typed line that does not fit; str() is the one-line hint."""


@dataclass(frozen=True)
class MemberVote:
    """One member's vote as typed: the ballot value, and whether to ask a reason."""

    value: str | float | tuple[str, ...]
    needs_reason: bool = False


@dataclass(frozen=True)
class Question:
    """What parsing needs to know about the question in front of the group."""

    node: QuestionT
    rule: str
    allowed: frozenset[str]
    proposal: str | None = None
    min_fingers: int = 3

    @classmethod
    def of(cls, node: QuestionT, defaults: Defaults) -> Question:
        from ..rules.params import allowed_votes

        p = effective_params(node, defaults)
        proposal = None
        if isinstance(node, ChoiceQuestion):
            proposal = node.proposal if node.proposal in node.choices else next(
                iter(node.choices))
        return cls(node, p.rule, frozenset(allowed_votes(node, defaults)), proposal,
                   p.min_fingers)

    @property
    def choices(self) -> list[str]:
        return list(self.node.choices) if isinstance(self.node, ChoiceQuestion) else []


# ---------------------------------------------------------------- words for people


def _pct(x: Fraction) -> str:
    """2/3 stays 2/3; other shares as percentages (60%, 66.5%)."""
    v = float(x * 100)
    if x.denominator in (3, 6, 7, 9, 11, 12):
        return f"{x.numerator}/{x.denominator}"
    return f"{v:.0f}%" if abs(v - round(v)) < 0.05 else f"{v:.1f}%"


def _choice_name(node: ChoiceQuestion, value: str) -> str:
    return f'"{node.choice_label(value)}"'


def rule_in_words(node: QuestionT, defaults: Defaults) -> str:
    """The rule in force, as a facilitator would say it."""
    p = effective_params(node, defaults)
    r = p.rule
    if isinstance(node, NumberQuestion):
        spec = node.number
        rng = ""
        if spec.min is not None and spec.max is not None:
            rng = f" from {num(spec.min)} to {num(spec.max)}"
        elif spec.min is not None:
            rng = f" of at least {num(spec.min)}"
        elif spec.max is not None:
            rng = f" of at most {num(spec.max)}"
        unit = f" ({spec.unit})" if spec.unit else ""
        agg = {"sum": "the total", "mean": "the average", "median": "the median",
               "min": "the lowest", "max": "the highest"}[spec.aggregate]
        text = f"each member gives a number{rng}{unit}; {agg} decides"
    elif isinstance(node, TextQuestion):
        text = ("each member gives their own words" if node.text == "each"
                else "the group agrees one sentence, typed once")
    else:
        proposal = node.proposal if node.proposal in node.choices else next(iter(node.choices))
        if r == "majority":
            text = "majority of votes cast; abstentions don't count"
        elif r == "supermajority":
            text = (f"supermajority: a choice needs {_pct(p.threshold)} of votes cast; "
                    "abstentions don't count")
        elif r == "plurality":
            text = "plurality: the choice with the most votes wins; abstentions don't count"
        elif r == "unanimous":
            text = "unanimous: every member must choose the same"
        elif r == "consensus":
            text = "consensus: anyone may stand aside or block"
            if p.max_stand_asides is not None:
                text += f" (more than {p.max_stand_asides} stand-asides is no agreement)"
        elif r == "consent":
            text = (f"consent: the proposal {_choice_name(node, proposal)} passes unless "
                    "someone objects")
        elif r == "fist-to-five":
            text = (f"fist-to-five on {_choice_name(node, proposal)}: everyone shows 0 to 5 "
                    f"fingers; {p.min_fingers} or more from all passes, a fist (0) blocks")
        elif r == "any":
            other = next(c for c in node.choices if c != proposal)
            text = (f"any: if anyone says {_choice_name(node, proposal)}, the answer is "
                    f"{_choice_name(node, proposal)}; otherwise {_choice_name(node, other)}")
        elif r == "approval":
            text = ("approval: each member names every choice they can accept; "
                    "most approvals wins")
        elif r == "ranked":
            text = "ranked: each member orders the choices, best first; most points wins"
        else:
            text = r
    if p.quorum is not None and r not in ("any",):
        text += f"; at least {_pct(p.quorum)} of members must take part"
    return text


def member_hint(q: Question) -> str:
    """The short reminder shown in a member's prompt, e.g. "1-2, a abstain, b block"."""
    node = q.node
    if isinstance(node, TextQuestion):
        return "their words, or a to abstain"
    if isinstance(node, NumberQuestion):
        return "a number, or a to abstain"
    parts: list[str] = []
    n = len(q.choices)
    if q.rule == "fist-to-five":
        parts.append("0-5 fingers")
    elif q.rule == "approval":
        parts.append(f"choices you accept, e.g. 1,{min(n, 2)}" if n > 1 else "1")
    elif q.rule == "ranked":
        parts.append("choices best first, e.g. " + ",".join(str(i + 1)
                                                             for i in range(min(n, 3))))
    else:
        parts.append("1" if n == 1 else f"1-{n}")
    parts.append("a abstain")
    if STAND_ASIDE in q.allowed:
        parts.append("s stand aside")
    if q.rule == "consent":
        parts.append("o object")
    elif BLOCK in q.allowed:
        parts.append("b block")
    return ", ".join(parts)


def tally_example(q: Question, size: int = 5) -> str:
    """An example quick-tally line for the question that adds up to the group's size."""
    n = max(size, 1)
    if q.rule == "fist-to-five":
        return f"5 {n - 1}, 3 1" if n > 1 else "4 1"
    first = q.choices[0] if q.choices else "yes"
    second = q.choices[1] if len(q.choices) > 1 else None
    if n == 1:
        return f"{first} 1"
    if q.rule == "consent":
        return f"{first} {n - 1}, object 1"
    if q.rule == "consensus":
        return f"{first} {n - 1}, stand-aside 1"
    if n == 2 or second is None:
        return f"{first} {n - 1}, abstain 1"
    return f"{first} {n - 2}, {second} 1, abstain 1"


# ---------------------------------------------------------------- one member's vote


def match_choice(q: Question, text: str, *, numbers: bool = True) -> str | None:
    """A choice by its value (any case), its number 1..n, or a unique start of its value
    or label."""
    t = text.strip()
    if not t:
        return None
    choices = q.choices
    if t in choices:
        return t
    low = t.lower()
    for c in choices:
        if c.lower() == low:
            return c
    node = q.node
    assert isinstance(node, ChoiceQuestion)
    for c in choices:
        if node.choice_label(c).lower() == low:
            return c
    if numbers and t.isdigit():
        i = int(t)
        if 1 <= i <= len(choices):
            return choices[i - 1]
        return None
    starts = [c for c in choices
              if c.lower().startswith(low) or node.choice_label(c).lower().startswith(low)]
    return starts[0] if len(starts) == 1 and len(low) >= 2 else None


def _special(q: Question, text: str) -> str | None:
    """abstain / stand-aside / block / object from a typed word, or None."""
    word = SPECIAL_WORDS.get(text.strip().lower())
    if word is None:
        return None
    if word == ABSTAIN:
        return ABSTAIN
    if word not in q.allowed and not (word == OBJECT and BLOCK in q.allowed):
        if q.rule == "fist-to-five" and word in (BLOCK, OBJECT):
            raise VoteInputError("to block under fist-to-five, show a fist: type 0")
        allowed = ", ".join(WORD_NAMES[w] for w in sorted(q.allowed) if w != OBJECT)
        raise VoteInputError(f"{WORD_NAMES[word]} is not possible under {q.rule} here "
                             f"(you may: {allowed})")
    if word in (BLOCK, OBJECT):
        return OBJECT if q.rule == "consent" else BLOCK
    return word


def _number_hint(node: NumberQuestion) -> str:
    spec = node.number
    unit = f" ({spec.unit})" if spec.unit else ""
    if spec.min is not None and spec.max is not None:
        rng = f"a number from {num(spec.min)} to {num(spec.max)}"
    elif spec.min is not None:
        rng = f"a number of at least {num(spec.min)}"
    elif spec.max is not None:
        rng = f"a number of at most {num(spec.max)}"
    else:
        rng = "a number"
    return f"give {rng}{unit}, or a to abstain"


def parse_member_vote(q: Question, line: str) -> MemberVote:
    """What one member's typed line means at question `q`.

    Choices by value or number (1..n); a abstain, s stand aside, b block, o object where
    the rule allows; approval and ranked take several choices separated by commas or
    spaces; fist-to-five takes 0-5; number questions a number in range; text questions
    any words (a alone abstains).
    """
    text = line.strip()
    node = q.node
    if isinstance(node, TextQuestion):
        if not text:
            raise VoteInputError("type some words, or a to abstain")
        if text.lower() in ("a", "abstain"):
            return MemberVote(ABSTAIN)
        return MemberVote(text)
    if not text:
        if isinstance(node, NumberQuestion):
            raise VoteInputError(_number_hint(node))
        raise VoteInputError(f"type {member_hint(q)}")
    if isinstance(node, ChoiceQuestion) and text in node.choices:
        return MemberVote(text, needs_reason=False)
    special = _special(q, text)
    if special is not None:
        return MemberVote(special, needs_reason=special in (BLOCK, OBJECT))
    if isinstance(node, NumberQuestion):
        try:
            x = float(text.replace(",", ".") if text.count(",") == 1 and "." not in text
                      else text)
        except ValueError:
            raise VoteInputError(_number_hint(node)) from None
        if x != x or x in (float("inf"), float("-inf")):
            raise VoteInputError(_number_hint(node))
        spec = node.number
        if (spec.min is not None and x < spec.min) or (spec.max is not None and x > spec.max):
            raise VoteInputError(f"{num(x)} is out of range: {_number_hint(node)}")
        return MemberVote(int(x) if x.is_integer() else x)
    if q.rule == "fist-to-five":
        if text in ("0", "1", "2", "3", "4", "5"):
            return MemberVote(text, needs_reason=text == "0")
        raise VoteInputError("show 0 to 5 fingers (type a digit; 0 blocks), or a to abstain")
    if q.rule in ("approval", "ranked"):
        parts = [p for p in re.split(r"[,;\s]+", text) if p]
        picked: list[str] = []
        for p in parts:
            c = match_choice(q, p)
            if c is None:
                raise VoteInputError(f"{p!r} is not one of the choices: "
                                     f"{_numbered(q.choices)}")
            if c in picked:
                raise VoteInputError(f"{c!r} is named twice; name each choice once")
            picked.append(c)
        return MemberVote(tuple(picked))
    c = match_choice(q, text)
    if c is None:
        more = ("; to give the whole room's count, type t first, then the tally"
                if _LOOKS_LIKE_TALLY.match(text) else "")
        raise VoteInputError(f"{text!r} is not a choice: type {member_hint(q)}{more}")
    return MemberVote(c)


# "yes 3" or "agree 4, stand aside 1" typed at one member's prompt.
_LOOKS_LIKE_TALLY = re.compile(r"^\s*[^\d\s,;][^,;]*?\s+\d+\s*([,;].*)?$")


def _numbered(choices: list[str]) -> str:
    return ", ".join(f"{i} {c}" for i, c in enumerate(choices, 1))


# ---------------------------------------------------------------- a quick tally

_TALLY_ITEM = re.compile(r"^(?P<key>.+?)(?:\s*[:=]\s*|\s+)(?P<n>\d+)$")


def parse_tally(q: Question, line: str, group_size: int) -> list[tuple[str, int]]:
    """A quick tally line, e.g. "yes 4, no 1, abstain 1", as (value, count) pairs in the
    order typed (zero counts dropped). Values are choices, abstain, stand-aside, block or
    object (as the rule allows), or 0-5 under fist-to-five. The counts may not add up to
    more than the group; fewer means the rest did not take part.
    """
    node = q.node
    example = tally_example(q, group_size)
    if not isinstance(node, ChoiceQuestion):
        raise VoteInputError("numbers and words are asked member by member here")
    if q.rule in ("approval", "ranked"):
        raise VoteInputError(f"a tally cannot carry {q.rule} ballots; vote member by member "
                             "(type m)")
    text = line.strip()
    if not text:
        raise VoteInputError(f"type counts like: {example}")
    out: dict[str, int] = {}
    for raw in re.split(r"[,;]", text):
        item = raw.strip()
        if not item:
            continue
        m = _TALLY_ITEM.match(item)
        if not m:
            raise VoteInputError(f"{item!r} has no count; type counts like: {example}")
        key, n = m.group("key").strip(), int(m.group("n"))
        if re.search(r"\d\s+\S", key):
            raise VoteInputError(f"put a comma between the counts, like: {example}")
        value: str | None
        if q.rule == "fist-to-five" and key in ("0", "1", "2", "3", "4", "5"):
            value = key
        elif key in node.choices:
            value = key
        else:
            value = _special(q, key) or match_choice(q, key, numbers=False)
        if value is None:
            what = "0-5 fingers" if q.rule == "fist-to-five" else ", ".join(q.choices)
            raise VoteInputError(f"{key!r} is not a choice here ({what}); "
                                 f"type counts like: {example}")
        if value in out:
            raise VoteInputError(f"{key!r} is counted twice; give each once")
        out[value] = n
    total = sum(out.values())
    if total > group_size:
        raise VoteInputError(f"that is {total} votes for a group of {group_size}; "
                             "count again")
    return [(v, n) for v, n in out.items() if n]


def tally_needs_reason(q: Question, value: str) -> bool:
    return value in (BLOCK, OBJECT) or (q.rule == "fist-to-five" and value == "0")


def parse_group(line: str) -> list[str]:
    """Names separated by commas (or one per line); a one-line hint when they don't fit."""
    names = [n.strip() for n in re.split(r"[,\n]", line) if n.strip()]
    if not names:
        raise VoteInputError("type the names, separated by commas: Ana, Ben, Cy")
    seen: set[str] = set()
    for n in names:
        if n.lower() in seen:
            raise VoteInputError(f"{n!r} is named twice; give each member once")
        seen.add(n.lower())
    return names
