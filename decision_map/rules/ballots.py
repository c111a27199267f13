"""Members' ballots checked and turned into votes before any rule counts them: a ballot
that does not fit is a WalkError naming the question and the member. What a ballot may be
comes from the rule's record (its ballot kind, its special words)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import WalkError
from ..model.conditions import num
from ..model.decision import ABSTAIN, STAND_ASIDE, Ballot
from ..model.format import MAX_NUMBER, ChoiceQuestion, NumberQuestion, TextQuestion
from ..model.vocabulary import BLOCK_VOTES, FINGERS, written_special
from .params import QuestionT

if TYPE_CHECKING:
    from .table import Rule


@dataclass(frozen=True)
class Vote:
    """One checked ballot, sorted by kind for the rules to count."""

    member: str | None
    kind: str  # choice, abstain, stand-aside, block, object, fingers, number, text, list
    value: Any = None
    reason: str | None = None


def _from(member: str | None) -> str:
    return f"from {member}" if member is not None else "from an unnamed (tally) ballot"


def normal_special(value: Any) -> str | None:
    """The special word a written ballot value spells (see model/vocabulary.py), or None."""
    return written_special(value)


def check_members(
    qid: str, members: Sequence[str], ballots: Sequence[Ballot]
) -> None:
    if not members:
        raise WalkError(f"question {qid!r}: the group has no members")
    seen_members: set[str] = set()
    for m in members:
        if m in seen_members:
            raise WalkError(f"question {qid!r}: {m!r} is listed twice in the group")
        seen_members.add(m)
    roster = ", ".join(members)
    voted: set[str] = set()
    for b in ballots:
        if b.member is None:
            continue
        if b.member not in seen_members:
            raise WalkError(
                f"question {qid!r}: {b.member!r} is not a member of the group ({roster})"
            )
        if b.member in voted:
            raise WalkError(f"question {qid!r}: {b.member!r} voted more than once")
        voted.add(b.member)
    if len(ballots) > len(members):
        raise WalkError(
            f"question {qid!r}: {len(ballots)} ballots for a group of {len(members)}"
        )


REASON_HINT = ("say why, e.g. {vote: block, reason: \"...\"} in an answers file or "
               "`block: reason` in a responses cell; a map that takes blocks without one "
               "says `block_reasons: optional` under defaults")


def _reason(qid: str, b: Ballot, word: str, required: bool) -> str | None:
    """A block's or objection's reason, trimmed; a WalkError when the map asks one
    (docs/rules.md: blocks carry a reason) and none was given."""
    reason = b.reason.strip() if isinstance(b.reason, str) else None
    if required and not reason:
        raise WalkError(f"{word} with no reason at question {qid!r}, {_from(b.member)} "
                        f"({REASON_HINT})")
    return reason or None


def _special_vote(qid: str, rule: Rule, b: Ballot, special: str,
                  reasons: bool = True) -> Vote:
    if special not in rule.votes:
        where = f"at question {qid!r} under {rule.name}"
        if rule.ballot == "fingers" and special in BLOCK_VOTES:
            hint = "show a fist (0) to block"
        else:
            hint = "allowed: " + ", ".join(sorted(rule.votes))
        raise WalkError(f"{special!r} is not allowed {where} ({hint}), {_from(b.member)}")
    if special == ABSTAIN:
        return Vote(b.member, ABSTAIN)
    if special == STAND_ASIDE:
        return Vote(b.member, STAND_ASIDE)
    assert rule.blocks_as is not None  # a rule allowing block or object says how it records it
    word = "an objection" if rule.blocks_as == "object" else "a block"
    return Vote(b.member, rule.blocks_as, reason=_reason(qid, b, word, reasons))


def _choice_of(question: ChoiceQuestion, value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if value in question.choices:
            return value
        if value.strip() in question.choices:
            return value.strip()
        return None
    if isinstance(value, (int, float)):
        text = num(value)
        return text if text in question.choices else None
    return None


def _not_a_choice(qid: str, question: ChoiceQuestion, value: Any, member: str | None) -> str:
    choices = ", ".join(question.choices)
    return f"{value!r} is not a choice at question {qid!r} (choices: {choices}), {_from(member)}"


def _fingers(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        n = int(value)
    elif isinstance(value, str) and value.strip() in FINGERS:
        n = int(value.strip())
    else:
        return None
    return n if 0 <= n <= 5 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def parse(qid: str, question: QuestionT, rule: Rule, b: Ballot, reasons: bool = True) -> Vote:
    """One ballot as a checked vote, or a WalkError naming the question and the member.
    `reasons`: whether a block or an objection must carry a reason (the map's
    `block_reasons`; a fist's reason is asked, not required: a responses cell has no
    place for one)."""
    special = normal_special(b.value)
    if isinstance(question, TextQuestion):
        if special == ABSTAIN:
            return Vote(b.member, ABSTAIN)
        if not isinstance(b.value, str):
            raise WalkError(
                f"{b.value!r} is not text at question {qid!r} (give words), {_from(b.member)}"
            )
        return Vote(b.member, "text", b.value)
    if isinstance(question, NumberQuestion):
        if special is not None:
            return _special_vote(qid, rule, b, special, reasons)
        x = _number(b.value)
        if x is None:
            raise WalkError(
                f"{b.value!r} is not a number at question {qid!r}, {_from(b.member)}"
            )
        if abs(x) > MAX_NUMBER:
            raise WalkError(
                f"{b.value!r} is too large at question {qid!r} (numbers go up to "
                f"{MAX_NUMBER:.0e} either way), {_from(b.member)}"
            )
        spec = question.number
        if spec.min is not None and x < spec.min:
            raise WalkError(
                f"{num(x)} is below the minimum {num(spec.min)} at question {qid!r}, "
                f"{_from(b.member)}"
            )
        if spec.max is not None and x > spec.max:
            raise WalkError(
                f"{num(x)} is above the maximum {num(spec.max)} at question {qid!r}, "
                f"{_from(b.member)}"
            )
        return Vote(b.member, "number", x)
    # a choice question
    if special is not None and (not isinstance(b.value, str) or b.value not in question.choices):
        return _special_vote(qid, rule, b, special, reasons)
    if rule.ballot == "fingers":
        n = _fingers(b.value)
        if n is None:
            raise WalkError(
                f"{b.value!r} is not a fist-to-five vote at question {qid!r} "
                f"(give 0 to 5 fingers, or abstain), {_from(b.member)}"
            )
        return Vote(b.member, "fingers", n, b.reason)
    if rule.ballot in ("choices", "ranking"):
        items = [b.value] if isinstance(b.value, str) else b.value
        if not isinstance(items, (list, tuple)):
            raise WalkError(_not_a_choice(qid, question, b.value, b.member))
        picked: list[str] = []
        for item in items:
            c = _choice_of(question, item)
            if c is None:
                raise WalkError(_not_a_choice(qid, question, item, b.member))
            if c in picked:
                raise WalkError(
                    f"{c!r} appears twice in one ballot at question {qid!r}, {_from(b.member)}"
                )
            picked.append(c)
        return Vote(b.member, "list", tuple(picked))
    c = _choice_of(question, b.value)
    if c is None:
        raise WalkError(_not_a_choice(qid, question, b.value, b.member))
    return Vote(b.member, "choice", c)
