"""The words of a Decision's one plain sentence: names, counts and shares, and the
sentence shapes the rules share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from .ballots import Vote


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def join_names(names: Sequence[str]) -> str:
    """"Ana", "Ana and Ben", "Ana, Ben and Cy"."""
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def who_phrase(names: Sequence[str], anonymous: int) -> str:
    """Names where known, a count where not: "Ben", "2 members", "Ben and 1 more member"."""
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
    """A share as a whole percentage, halves rounded up."""
    return math.floor(x * 100 + Fraction(1, 2))


def pct_pair(x: Fraction, t: Fraction) -> tuple[str, str]:
    """Both shares as percentages, with one decimal when whole numbers would look equal."""
    a, b = pct(x), pct(t)
    if a == b and x != t:
        return f"{float(x * 100):.1f}%", f"{float(t * 100):.1f}%"
    return f"{a}%", f"{b}%"


def q(choice: str) -> str:
    return f'"{choice}"'


def counts_phrase(counts: dict[str, int]) -> str:
    return ", ".join(f"{ch} {n}" for ch, n in counts.items())


def sentence(head: str, extras: Sequence[str] = (), tail: str = "") -> str:
    """head, then the extras ("1 abstains", "2 absent") after commas, then tail and a stop."""
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
