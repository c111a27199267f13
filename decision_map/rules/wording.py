"""The words of a Decision's one plain sentence (names, counts and shares, the sentence
shapes the rules share) and of each rule as a facilitator says it under a question."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from ..model.conditions import num
from ..model.format import ChoiceQuestion, NumberQuestion, TextQuestion
from .ballots import Vote
from .params import Params, QuestionT, proposal_of


def plural(n: int, one: str, many: str) -> str:
    """A count and its noun: "1 vote", "2 votes".

    >>> plural(1, "vote", "votes"), plural(2, "vote", "votes")
    ('1 vote', '2 votes')
    """
    return f"{n} {one if n == 1 else many}"


def join_names(names: Sequence[str]) -> str:
    """Names as said aloud.

    >>> join_names(["Ana"]), join_names(["Ana", "Ben"]), join_names(["Ana", "Ben", "Cy"])
    ('Ana', 'Ana and Ben', 'Ana, Ben and Cy')
    """
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def who_phrase(names: Sequence[str], anonymous: int) -> str:
    """Names where known, a count where not: "Ben", "2 members", "Ben and 1 more member".

    >>> who_phrase(["Ben"], 0), who_phrase([], 2), who_phrase(["Ben"], 1)
    ('Ben', '2 members', 'Ben and 1 more member')
    """
    if not names:
        return plural(anonymous, "member", "members")
    parts = list(names)
    if anonymous:
        parts.append(plural(anonymous, "more member", "more members"))
    return join_names(parts)


def paren_names(names: Sequence[str], anonymous: int) -> str:
    if not names:
        return ""
    parts = list(names)
    if anonymous:
        parts.append(f"{anonymous} unnamed")
    return f" ({join_names(parts)})"


def pct(x: Fraction) -> int:
    """A share as a whole percentage, halves rounded up.

    >>> pct(Fraction(2, 3)), pct(Fraction(1, 200))
    (67, 1)
    """
    return math.floor(x * 100 + Fraction(1, 2))


def pct_pair(x: Fraction, t: Fraction) -> tuple[str, str]:
    """Both shares as percentages, with one decimal when whole numbers would look equal.

    >>> pct_pair(Fraction(1, 2), Fraction(2, 3))
    ('50%', '67%')
    >>> pct_pair(Fraction(333, 500), Fraction(2, 3))
    ('66.6%', '66.7%')
    """
    a, b = pct(x), pct(t)
    if a == b and x != t:
        return f"{float(x * 100):.1f}%", f"{float(t * 100):.1f}%"
    return f"{a}%", f"{b}%"


def q(choice: str) -> str:
    return f'"{choice}"'


def counts_phrase(counts: dict[str, int]) -> str:
    return ", ".join(f"{ch} {n}" for ch, n in counts.items())


def sentence(head: str, extras: Sequence[str] = (), tail: str = "") -> str:
    """head, then the extras ("1 abstains", "2 absent") after commas, then tail and a stop.

    >>> sentence("Decided: yes", ["1 abstains", "2 absent"], " by majority")
    'Decided: yes, 1 abstains, 2 absent by majority.'
    """
    more = "".join(f", {e}" for e in extras)
    return f"{head}{more}{tail}."


def blocked_sentence(blockers: list[Vote], lead: str) -> str:
    names = [v.member for v in blockers if v.member is not None]
    anon = len(blockers) - len(names)
    who = who_phrase(names, anon)
    reasons = [v.reason for v in blockers if v.reason]
    if not reasons:
        return f"{lead} {who} (no reason given)."
    # a reason's own closing stop would double the sentence's: "…here.".
    quoted = ", ".join(f'"{r.strip().rstrip(".")}"' for r in reasons)
    missing_named = [v.member for v in blockers if not v.reason and v.member is not None]
    missing_anon = sum(1 for v in blockers if not v.reason and v.member is None)
    tail = ""
    if missing_named or missing_anon:
        parts = list(missing_named)
        if missing_anon:
            parts.append(plural(missing_anon, "unnamed member", "unnamed members"))
        tail = f" ({join_names(parts)} gave no reason)"
    return f"{lead} {who}: {quoted}{tail}."


def paren(extras: Sequence[str]) -> str:
    return f" ({'; '.join(extras)})" if extras else ""


def agree_s(n: int) -> str:
    return "s" if n == 1 else ""


_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def count_word(n: int) -> str:
    """A small count in words, a larger one in digits.

    >>> count_word(2), count_word(12)
    ('two', '12')
    """
    return _COUNT_WORDS[n] if 0 <= n < len(_COUNT_WORDS) else str(n)


# ---------------------------------------------------------------- each rule, said aloud


def share_words(x: Fraction) -> str:
    """A share as people say it: thirds, sixths, sevenths... stay fractions, others are
    percentages with a decimal only where it matters.

    >>> share_words(Fraction(2, 3)), share_words(Fraction(3, 5)), share_words(Fraction(133, 200))
    ('2/3', '60%', '66.5%')
    """
    v = float(x * 100)
    if x.denominator in (3, 6, 7, 9, 11, 12):
        return f"{x.numerator}/{x.denominator}"
    return f"{v:.0f}%" if abs(v - round(v)) < 0.05 else f"{v:.1f}%"


def _choice_name(node: ChoiceQuestion, value: str) -> str:
    return f'"{node.choice_label(value)}"'


def _choice_node(node: QuestionT) -> ChoiceQuestion:
    assert isinstance(node, ChoiceQuestion)
    return node


_AGG_SAID = {"sum": "the total", "mean": "the average", "median": "the median",
             "min": "the lowest", "max": "the highest"}


def says_number(node: QuestionT, p: Params) -> str:
    """A number question: the range, the unit and how the numbers combine."""
    assert isinstance(node, NumberQuestion)
    spec = node.number
    rng = ""
    if spec.min is not None and spec.max is not None:
        rng = f" from {num(spec.min)} to {num(spec.max)}"
    elif spec.min is not None:
        rng = f" of at least {num(spec.min)}"
    elif spec.max is not None:
        rng = f" of at most {num(spec.max)}"
    unit = f" ({spec.unit})" if spec.unit else ""
    return f"each member gives a number{rng}{unit}; {_AGG_SAID[spec.aggregate]} decides"


def says_text(node: QuestionT, p: Params) -> str:
    """A text question: each member's words, or one sentence."""
    assert isinstance(node, TextQuestion)
    return ("each member gives their own words" if node.text == "each"
            else "the group agrees one sentence, typed once")


def says_majority(node: QuestionT, p: Params) -> str:
    """Majority."""
    return "majority of votes cast; abstentions don't count"


def says_supermajority(node: QuestionT, p: Params) -> str:
    """Supermajority, with its threshold."""
    return (f"supermajority: a choice needs {share_words(p.threshold)} of votes cast; "
            "abstentions don't count")


def says_plurality(node: QuestionT, p: Params) -> str:
    """Plurality."""
    return "plurality: the choice with the most votes wins; abstentions don't count"


def says_unanimous(node: QuestionT, p: Params) -> str:
    """Unanimous."""
    return "unanimous: every member must choose the same"


def says_consensus(node: QuestionT, p: Params) -> str:
    """Consensus, with its cap on stand-asides."""
    text = "consensus: anyone may stand aside or block"
    if p.max_stand_asides is not None:
        text += f" (more than {p.max_stand_asides} stand-asides is no agreement)"
    return text


def says_consent(node: QuestionT, p: Params) -> str:
    """Consent, naming the proposal."""
    n = _choice_node(node)
    return (f"consent: the proposal {_choice_name(n, proposal_of(n))} passes unless "
            "someone objects")


def says_fist_to_five(node: QuestionT, p: Params) -> str:
    """Fist-to-five, naming the proposal and the fingers needed."""
    n = _choice_node(node)
    return (f"fist-to-five on {_choice_name(n, proposal_of(n))}: everyone shows 0 to 5 "
            f"fingers; {p.min_fingers} or more from all passes, a fist (0) blocks")


def says_any(node: QuestionT, p: Params) -> str:
    """Any, naming the choice anyone may name and the other."""
    n = _choice_node(node)
    named = proposal_of(n)
    other = next(c for c in n.choices if c != named)
    return (f"any: if anyone says {_choice_name(n, named)}, the answer is "
            f"{_choice_name(n, named)}; otherwise {_choice_name(n, other)}")


def says_approval(node: QuestionT, p: Params) -> str:
    """Approval."""
    return "approval: each member names every choice they can accept; most approvals wins"


def says_ranked(node: QuestionT, p: Params) -> str:
    """Ranked (Borda)."""
    return "ranked: each member orders the choices, best first; most points wins"


def quorum_words(p: Params) -> str:
    """The quorum clause added to a rule said aloud, or nothing without a quorum."""
    if p.quorum is None:
        return ""
    return f"; at least {share_words(p.quorum)} of members must take part"
