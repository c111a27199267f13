"""Pure helpers for `decision-map step`: what a typed line means, and rules in words.

Nothing here reads or prints. A line that does not fit raises VoteInputError whose
message is the one-line hint shown before asking again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model.conditions import num
from ..model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from ..model.vocabulary import (
    ABSTAIN,
    BLOCK_VOTES,
    FINGERS,
    FIST,
    KEYS,
    OBJECT,
    SAID,
    SHORT_CHOICES,
    STAND_ASIDE,
    typed_special,
)
from ..rules.params import QuestionT, effective_params, proposal_of
from ..rules.table import Rule, rule_named


class VoteInputError(ValueError):
    """A typed line that does not fit; str() is the one-line hint."""


@dataclass(frozen=True)
class MemberVote:
    """One member's vote as typed: the ballot value, and whether to ask a reason."""

    value: str | float | tuple[str, ...]
    needs_reason: bool = False


@dataclass(frozen=True)
class Question:
    """What parsing needs to know about the question in front of the group: the node, its
    rule's record and the settings the prompts show."""

    node: QuestionT
    record: Rule
    proposal: str | None = None
    min_fingers: int = 3
    reasons_required: bool = True  # a block or objection is asked its reason until given

    @classmethod
    def of(cls, node: QuestionT, defaults: Defaults) -> Question:
        p = effective_params(node, defaults)
        proposal = proposal_of(node) if isinstance(node, ChoiceQuestion) else None
        return cls(node, rule_named(p.rule), proposal, p.min_fingers, p.reasons_required)

    @property
    def rule(self) -> str:
        return self.record.name

    @property
    def allowed(self) -> frozenset[str]:
        """The special words a member may give here."""
        return self.record.votes

    @property
    def choices(self) -> list[str]:
        return list(self.node.choices) if isinstance(self.node, ChoiceQuestion) else []

    @property
    def tallies(self) -> bool:
        """Whether a quick tally can carry the votes at this question."""
        return isinstance(self.node, ChoiceQuestion) and self.record.tallies


# ---------------------------------------------------------------- words for people


def _ballot_hint(q: Question) -> str:
    """How a member gives a ballot of the rule's kind at a choice question."""
    n = len(q.choices)
    kind = q.record.ballot
    if kind == "fingers":
        return "0-5 fingers"
    if kind == "choices":
        return f"choices you accept, e.g. 1,{min(n, 2)}" if n > 1 else "1"
    if kind == "ranking":
        return "choices best first, e.g. " + ",".join(str(i + 1) for i in range(min(n, 3)))
    return "1" if n == 1 else f"1-{n}"


def member_hint(q: Question) -> str:
    """The short reminder shown in a member's prompt, e.g. "1-2, a abstain, b block"."""
    node = q.node
    if isinstance(node, TextQuestion):
        return "their words, or a to abstain"
    if isinstance(node, NumberQuestion):
        return "a number, or a to abstain"
    parts = [_ballot_hint(q), f"{KEYS[ABSTAIN]} {SAID[ABSTAIN]}"]
    if STAND_ASIDE in q.allowed:
        parts.append(f"{KEYS[STAND_ASIDE]} {SAID[STAND_ASIDE]}")
    if q.record.blocks_as is not None:
        parts.append(f"{KEYS[q.record.blocks_as]} {SAID[q.record.blocks_as]}")
    return ", ".join(parts)


def tally_example(q: Question, size: int = 5) -> str:
    """An example quick-tally line for the question that adds up to the group's size."""
    n = max(size, 1)
    if q.record.ballot == "fingers":
        return f"5:{n - 1} 3:1" if n > 1 else "4:1"
    first = q.choices[0] if q.choices else "yes"
    second = q.choices[1] if len(q.choices) > 1 else None
    if n == 1:
        return f"{first} 1"
    if q.record.example_word is not None:
        return f"{first} {n - 1}, {q.record.example_word} 1"
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
    if low in SHORT_CHOICES:
        return _short_choice(q, low)
    if numbers and t.isdigit():
        i = int(t)
        if 1 <= i <= len(choices):
            return choices[i - 1]
        return None
    starts = [c for c in choices
              if c.lower().startswith(low) or node.choice_label(c).lower().startswith(low)]
    return starts[0] if len(starts) == 1 and len(low) >= 2 else None


def _short_choice(q: Question, low: str) -> str | None:
    """The choice `y` or `n` stands for: the one spelled yes/no, when no other choice
    starts with the same letter (else it is ambiguous and None)."""
    node = q.node
    assert isinstance(node, ChoiceQuestion)
    word = SHORT_CHOICES[low]
    named = [c for c in q.choices
             if word in (c.lower(), node.choice_label(c).lower())]
    starting = [c for c in q.choices
                if c.lower().startswith(low) or node.choice_label(c).lower().startswith(low)]
    return named[0] if len(named) == 1 and len(starting) == 1 else None


def _special(q: Question, text: str) -> str | None:
    """abstain / stand-aside / block / object from a typed word, or None. Block and object
    are one vote, recorded as the rule's word for it."""
    word = typed_special(text)
    if word is None:
        return None
    if word == ABSTAIN:
        return ABSTAIN
    if word in BLOCK_VOTES and q.record.blocks_as is not None:
        return q.record.blocks_as
    if word not in q.allowed:
        if q.record.ballot == "fingers" and word in BLOCK_VOTES:
            raise VoteInputError(f"to block under {q.rule}, show a fist: type {FIST}")
        allowed = ", ".join(SAID[w] for w in sorted(q.allowed) if w != OBJECT)
        raise VoteInputError(f"{SAID[word]} is not possible under {q.rule} here "
                             f"(you may: {allowed})")
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


def _without_unit(node: NumberQuestion, text: str) -> str:
    """The number of "3 hours" where the question's unit is hours (or "hours a week"):
    the typed unit may be the unit, its start, or those in the singular. Any other
    word after the number is left, and refused as not a number."""
    unit = node.number.unit
    m = re.fullmatch(r"\s*([-+]?[\d.,]+)\s*([^\W\d_].*?)\s*", text)
    if not unit or not m:
        return text
    typed = m.group(2).lower().split()
    words = unit.lower().split()

    def same(a: str, b: str) -> bool:
        return a == b or a.rstrip("s") == b.rstrip("s")

    head = words[:len(typed)]
    if len(typed) == len(head) and all(same(a, b) for a, b in zip(typed, head, strict=True)):
        return m.group(1)
    raise VoteInputError(f"give the number in {unit}, e.g. 3 or 3 {unit}")


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
        if typed_special(text) == ABSTAIN:
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
        return MemberVote(special, needs_reason=special in BLOCK_VOTES)
    if isinstance(node, NumberQuestion):
        text = _without_unit(node, text)
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
    if q.record.ballot == "fingers":
        if text in FINGERS:
            return MemberVote(text, needs_reason=text == FIST)
        raise VoteInputError("show 0 to 5 fingers (type a digit; 0 blocks), or a to abstain")
    if q.record.ballot in ("choices", "ranking"):
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
    if not q.tallies:
        raise VoteInputError(f"a tally cannot carry {q.rule} ballots; vote member by member "
                             "(type m)")
    text = line.strip()
    if not text:
        raise VoteInputError(f"type counts like: {example}")
    out: dict[str, int] = {}
    items = _finger_items(text, example) if q.record.ballot == "fingers" else \
        re.split(r"[,;]", text)
    for raw in items:
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
        if q.record.ballot == "fingers" and key in FINGERS:
            value = key
        elif key in node.choices:
            value = key
        else:
            value = _special(q, key) or match_choice(q, key, numbers=False)
        if value is None:
            what = "0-5 fingers" if q.record.ballot == "fingers" else ", ".join(q.choices)
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


# One fist-to-five count, FINGERS:COUNT ("4:3", "4 : 3", "4=3"), or a word and its count.
_FINGER_ITEM = re.compile(r"(?P<key>[^\s:=,;]+)\s*[:=]\s*(?P<n>\d+)")


def _finger_items(text: str, example: str) -> list[str]:
    """The counts of a fist-to-five tally, each as "KEY:N". Fingers and counts are both
    digits, so "4 3" could be four fingers three times or three fingers four times: a
    colon (or =) must join each finger to its count, and a line without one is refused."""
    rest = _FINGER_ITEM.sub(" ", text)
    leftover = [w for w in re.split(r"[,;\s]+", rest) if w]
    if leftover:
        if re.fullmatch(r"[\d\s,;]+", text):
            raise VoteInputError(f"{text!r} can be read two ways; join each number of fingers "
                                 f"to its count with a colon, like: {example}")
        raise VoteInputError(f"{' '.join(leftover)!r} has no count; give fingers:count, "
                             f"like: {example}")
    return [f"{m.group('key')}:{m.group('n')}" for m in _FINGER_ITEM.finditer(text)]


def tally_needs_reason(q: Question, value: str) -> bool:
    """Whether a tallied vote blocks, so that its reason is asked."""
    return value in BLOCK_VOTES or (q.record.ballot == "fingers" and value == FIST)


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
