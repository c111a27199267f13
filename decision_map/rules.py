"""Group rules: how the members' ballots at one question become one Decision.

Pure functions, no I/O. The semantics are those of the domain note `decision-rules.md`:
quorum first, then blocks, then the rule. Every Decision carries one plain sentence.

Choices made here where the rules leave one open (each is said in the explanation):

- majority: no choice over half and two or more choices share the top count is `tie`
  ("(a tie)" in the sentence); otherwise `no_agreement`.
- supermajority: `tie` only when several choices reach the threshold and share the top
  count (possible only with a threshold of 1/2 or less); no choice reaching it is
  `no_agreement`, shared top or not.
- consent and fist-to-five with nobody voting are `decided`: nobody objects, and
  absent members are quorum's business (set a quorum to require participation). The
  sentence says that nobody took part.
- `any` with nobody choosing the named choice (nobody voting included) decides the other.
- A quorum or threshold written as a rounded repeating decimal (0.667, 0.6667, 0.333,
  0.714) means the fraction it rounds (2/3, 1/3, 5/7): it lies within 0.0005 of a
  fraction with a denominator of 12 or less. Two-decimal values (0.67, 0.6) are exact.
- Sentences name members for stand-asides, blocks, objections, preferences and low
  fingers, and count abstentions and absences (the names are in the Decision's fields).
- Tallies: choice questions count every choice (0 included); fist-to-five counts the
  fingers "0".."5"; number and text questions count "given"; all add "abstain",
  "stand-aside", "block"/"object" and "absent" when nonzero.
- Approval ballots are a tuple (or list) of approved choices, ranked ballots a tuple of
  choices best first; a single choice string is a one-item ballot. Borda: with K
  choices, the first ranked gets K points, the next K-1, unranked choices 0.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Union

from .conditions import num
from .decision import ABSTAIN, BLOCK, OBJECT, STAND_ASIDE, Ballot, Decision
from .errors import WalkError
from .format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion

QuestionT = Union[ChoiceQuestion, NumberQuestion, TextQuestion]

DEFAULT_RULE = "majority"
DEFAULT_THRESHOLD = Fraction(2, 3)
DEFAULT_MIN_FINGERS = 3

_SPECIAL_SPELLINGS = {
    "abstain": ABSTAIN,
    "stand-aside": STAND_ASIDE,
    "stand aside": STAND_ASIDE,
    "stand_aside": STAND_ASIDE,
    "block": BLOCK,
    "object": OBJECT,
}


# ---------------------------------------------------------------- parameters


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


# ---------------------------------------------------------------- wording


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def join_names(names: Sequence[str]) -> str:
    """"Ana", "Ana and Ben", "Ana, Ben and Cy"."""
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _who(names: Sequence[str], anonymous: int) -> str:
    """Names where known, a count where not: "Ben", "2 members", "Ben and 1 more member"."""
    if not names:
        return _plural(anonymous, "member", "members")
    parts = list(names)
    if anonymous:
        parts.append(_plural(anonymous, "more member", "more members"))
    return join_names(parts)


def _paren_names(names: Sequence[str], anonymous: int) -> str:
    if not names:
        return ""
    parts = list(names)
    if anonymous:
        parts.append(f"{anonymous} unnamed")
    return f" ({join_names(parts)})"


def _pct(x: Fraction) -> int:
    """A share as a whole percentage, halves rounded up."""
    return math.floor(x * 100 + Fraction(1, 2))


def _pct_pair(x: Fraction, t: Fraction) -> tuple[str, str]:
    """Both shares as percentages, with one decimal when whole numbers would look equal."""
    a, b = _pct(x), _pct(t)
    if a == b and x != t:
        return f"{float(x * 100):.1f}%", f"{float(t * 100):.1f}%"
    return f"{a}%", f"{b}%"


def _q(choice: str) -> str:
    return f'"{choice}"'


# ---------------------------------------------------------------- ballots


@dataclass(frozen=True)
class _Vote:
    member: str | None
    kind: str  # choice, abstain, stand-aside, block, object, fingers, number, text, list
    value: Any = None
    reason: str | None = None


def _from(member: str | None) -> str:
    return f"from {member}" if member is not None else "from an unnamed (tally) ballot"


def _normal_special(value: Any) -> str | None:
    if isinstance(value, str):
        return _SPECIAL_SPELLINGS.get(value.strip().lower())
    return None


def _check_members(
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


def _special_vote(
    qid: str, rule: str, b: Ballot, special: str, allowed: set[str]
) -> _Vote:
    if special not in allowed:
        where = f"at question {qid!r} under {rule}"
        if rule == "fist-to-five" and special in (BLOCK, OBJECT):
            hint = "show a fist (0) to block"
        else:
            hint = "allowed: " + ", ".join(sorted(allowed))
        raise WalkError(f"{special!r} is not allowed {where} ({hint}), {_from(b.member)}")
    if special == ABSTAIN:
        return _Vote(b.member, ABSTAIN)
    if special == STAND_ASIDE:
        return _Vote(b.member, STAND_ASIDE)
    kind = OBJECT if rule == "consent" else BLOCK
    return _Vote(b.member, kind, reason=b.reason)


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
    elif isinstance(value, str) and value.strip() in {"0", "1", "2", "3", "4", "5"}:
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


def _parse(
    qid: str, question: QuestionT, rule: str, allowed: set[str], b: Ballot
) -> _Vote:
    """One ballot as a checked vote, or a WalkError naming the question and the member."""
    special = _normal_special(b.value)
    if isinstance(question, TextQuestion):
        if special == ABSTAIN:
            return _Vote(b.member, ABSTAIN)
        if not isinstance(b.value, str):
            raise WalkError(
                f"{b.value!r} is not text at question {qid!r} (give words), {_from(b.member)}"
            )
        return _Vote(b.member, "text", b.value)
    if isinstance(question, NumberQuestion):
        if special is not None:
            return _special_vote(qid, rule, b, special, allowed)
        x = _number(b.value)
        if x is None:
            raise WalkError(
                f"{b.value!r} is not a number at question {qid!r}, {_from(b.member)}"
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
        return _Vote(b.member, "number", x)
    # a choice question
    if special is not None and (not isinstance(b.value, str) or b.value not in question.choices):
        return _special_vote(qid, rule, b, special, allowed)
    if rule == "fist-to-five":
        n = _fingers(b.value)
        if n is None:
            raise WalkError(
                f"{b.value!r} is not a fist-to-five vote at question {qid!r} "
                f"(give 0 to 5 fingers, or abstain), {_from(b.member)}"
            )
        return _Vote(b.member, "fingers", n, b.reason)
    if rule in ("approval", "ranked"):
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
        return _Vote(b.member, "list", tuple(picked))
    c = _choice_of(question, b.value)
    if c is None:
        raise WalkError(_not_a_choice(qid, question, b.value, b.member))
    return _Vote(b.member, "choice", c)


# ---------------------------------------------------------------- building decisions


class _Ctx:
    """What every rule needs: the votes sorted by kind, the group, the base tally."""

    def __init__(
        self, qid: str, rule: str, members: Sequence[str], votes: list[_Vote],
        choices: Sequence[str],
    ) -> None:
        self.qid = qid
        self.rule = rule
        self.members = list(members)
        self.E = len(members)
        self.votes = votes
        self.choices = list(choices)
        self.participating = len(votes)
        self.absent_count = self.E - len(votes)
        if any(v.member is None for v in votes):
            self.absent_names: tuple[str, ...] = ()
        else:
            given = {v.member for v in votes}
            self.absent_names = tuple(m for m in members if m not in given)

    def of(self, kind: str) -> list[_Vote]:
        return [v for v in self.votes if v.kind == kind]

    def names(self, kind: str) -> tuple[str, ...]:
        return tuple(v.member for v in self.of(kind) if v.member is not None)

    def counts(self) -> dict[str, int]:
        """Cast votes per choice, every choice included."""
        c = {ch: 0 for ch in self.choices}
        for v in self.of("choice"):
            c[v.value] += 1
        return c

    def tally(self, base: dict[str, int]) -> dict[str, int]:
        t = dict(base)
        for kind in (ABSTAIN, STAND_ASIDE, BLOCK, OBJECT):
            n = len(self.of(kind))
            if n:
                t[kind] = n
        if self.absent_count:
            t["absent"] = self.absent_count
        return t

    def extras(self, *, stand_aside_names: bool = True) -> list[str]:
        """ "1 stands aside (Cy)", "2 abstain", "1 absent" — the ones that are nonzero."""
        out: list[str] = []
        sa = self.of(STAND_ASIDE)
        if sa:
            verb = "stands aside" if len(sa) == 1 else "stand aside"
            names = self.names(STAND_ASIDE)
            tail = _paren_names(names, len(sa) - len(names)) if stand_aside_names else ""
            out.append(f"{len(sa)} {verb}{tail}")
        ab = len(self.of(ABSTAIN))
        if ab:
            out.append(_plural(ab, "abstains", "abstain"))
        if self.absent_count:
            out.append(f"{self.absent_count} absent")
        return out

    def make(
        self, status: str, value: Any, base_tally: dict[str, int], explanation: str,
        details: dict[str, Any] | None = None, texts: tuple[tuple[str | None, str], ...] = (),
    ) -> Decision:
        blocks = tuple((v.member, v.reason) for v in self.votes if v.kind in (BLOCK, OBJECT))
        blocks += tuple(
            (v.member, v.reason) for v in self.votes if v.kind == "fingers" and v.value == 0
        )
        return Decision(
            status=status,  # type: ignore[arg-type]
            rule=self.rule,
            value=value,
            tally=self.tally(base_tally),
            explanation=explanation,
            members=self.E,
            participating=self.participating,
            abstained=self.names(ABSTAIN),
            stood_aside=self.names(STAND_ASIDE),
            blocks=blocks,
            absent=self.absent_names,
            texts=texts,
            details=dict(details or {}),
        )


def _counts_phrase(counts: dict[str, int]) -> str:
    return ", ".join(f"{ch} {n}" for ch, n in counts.items())


def _sentence(head: str, extras: Sequence[str] = (), tail: str = "") -> str:
    """head, then the extras ("1 abstains", "2 absent") after commas, then tail and a stop."""
    more = "".join(f", {e}" for e in extras)
    return f"{head}{more}{tail}."


def _blocked_sentence(blockers: list[_Vote], lead: str) -> str:
    names = [v.member for v in blockers if v.member is not None]
    anon = len(blockers) - len(names)
    who = _who(names, anon)
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
            parts.append(_plural(missing_anon, "unnamed member", "unnamed members"))
        tail = f" ({join_names(parts)} gave no reason)"
    return f"{lead} {who}: {quoted}{tail}."


def _paren(extras: Sequence[str]) -> str:
    return f" ({'; '.join(extras)})" if extras else ""


def _agree_s(n: int) -> str:
    return "s" if n == 1 else ""


def _winner(counts: dict[str, int]) -> tuple[list[str], int]:
    top = max(counts.values()) if counts else 0
    return [ch for ch, n in counts.items() if n == top], top


# ---------------------------------------------------------------- the rules


def _majority(ctx: _Ctx) -> Decision:
    counts = ctx.counts()
    cast = sum(counts.values())
    extras = ctx.extras()
    if cast == 0:
        return ctx.make(
            "no_agreement", None, counts,
            _sentence("No majority: no votes cast", extras, ""),
        )
    tops, top = _winner(counts)
    if top * 2 > cast:
        ch = tops[0]
        return ctx.make(
            "decided", ch, counts,
            _sentence(f"Majority for {_q(ch)}: {top} of {cast} cast votes", extras),
        )
    if len(tops) > 1:
        return ctx.make(
            "tie", None, counts,
            _sentence(f"No majority: {_counts_phrase(counts)}", extras, " (a tie)"),
            {"tied": tops},
        )
    return ctx.make(
        "no_agreement", None, counts,
        _sentence(f"No majority: {_counts_phrase(counts)}", extras),
    )


def _supermajority(ctx: _Ctx, p: Params) -> Decision:
    counts = ctx.counts()
    cast = sum(counts.values())
    t = p.threshold
    details = {"threshold": round(float(t), 4), "threshold_fraction": str(t)}
    extras = ctx.extras()
    if cast == 0:
        return ctx.make(
            "no_agreement", None, counts,
            _sentence("No supermajority: no votes cast", extras),
            details,
        )
    reaching = {ch: n for ch, n in counts.items() if Fraction(n, cast) >= t}
    if reaching:
        tops, top = _winner(reaching)
        share = Fraction(top, cast)
        a, b = _pct_pair(share, t)
        if len(tops) > 1:
            names = join_names([_q(ch) for ch in tops])
            return ctx.make(
                "tie", None, counts,
                _sentence(
                    f"Supermajority tie: {names} each have {top} of {cast} cast votes "
                    f"({a} >= {b})", extras, " (a tie)",
                ),
                {**details, "tied": tops},
            )
        ch = tops[0]
        return ctx.make(
            "decided", ch, counts,
            _sentence(
                f"Supermajority reached: {_q(ch)} has {top} of {cast} cast votes ({a} >= {b})",
                extras,
            ),
            details,
        )
    tops, top = _winner(counts)
    share = Fraction(top, cast)
    a, b = _pct_pair(share, t)
    if len(tops) == 1:
        head = f"No supermajority: {_q(tops[0])} has {top} of {cast} cast votes ({a} < {b})"
    else:
        head = f"No supermajority: {_counts_phrase(counts)}, none reaches {b}"
    return ctx.make(
        "no_agreement", None, counts, _sentence(head, extras), details
    )


def _plurality(ctx: _Ctx) -> Decision:
    counts = ctx.counts()
    cast = sum(counts.values())
    extras = ctx.extras()
    if cast == 0:
        return ctx.make(
            "no_agreement", None, counts,
            _sentence("No plurality: no votes cast", extras),
        )
    tops, top = _winner(counts)
    if len(tops) > 1:
        return ctx.make(
            "tie", None, counts,
            _sentence(f"No plurality: {_counts_phrase(counts)}", extras, " (a tie)"),
            {"tied": tops},
        )
    ch = tops[0]
    return ctx.make(
        "decided", ch, counts,
        _sentence(
            f"Plurality for {_q(ch)}: {top} of {cast} cast votes ({_counts_phrase(counts)})",
            extras,
        ),
    )


def _unanimous(ctx: _Ctx) -> Decision:
    counts = ctx.counts()
    extras = ctx.extras()
    for ch, n in counts.items():
        if n == ctx.E:
            whom = "the only member" if ctx.E == 1 else f"all {ctx.E} members"
            return ctx.make("decided", ch, counts, f"Unanimous for {_q(ch)}: {whom}.")
    return ctx.make(
        "no_agreement", None, counts,
        _sentence(f"Not unanimous: {_counts_phrase(counts)}", extras),
    )


def _consensus(ctx: _Ctx, p: Params) -> Decision:
    counts = ctx.counts()
    details: dict[str, Any] = {}
    if p.max_stand_asides is not None:
        details["max_stand_asides"] = p.max_stand_asides
    blockers = ctx.of(BLOCK)
    if blockers:
        return ctx.make("blocked", None, counts, _blocked_sentence(blockers, "Blocked by"), details)
    cast = sum(counts.values())
    extras = ctx.extras()
    sa = len(ctx.of(STAND_ASIDE))
    if cast == 0:
        return ctx.make(
            "no_agreement", None, counts,
            _sentence("No consensus: nobody agreed", extras),
            details,
        )
    used = [ch for ch, n in counts.items() if n]
    if len(used) > 1:
        return ctx.make(
            "no_agreement", None, counts,
            _sentence(f"No consensus: {_counts_phrase(counts)}", extras),
            details,
        )
    if p.max_stand_asides is not None and sa > p.max_stand_asides:
        names = ctx.names(STAND_ASIDE)
        verb = "stands aside" if sa == 1 else "stand aside"
        return ctx.make(
            "no_agreement", None, counts,
            f"No consensus: {sa} {verb}{_paren_names(names, sa - len(names))}, "
            f"more than the {p.max_stand_asides} allowed.",
            details,
        )
    ch = used[0]
    return ctx.make(
        "decided", ch, counts,
        _sentence(f"Consensus on {_q(ch)}: {cast} agree{_agree_s(cast)}", extras),
        details,
    )


def _proposal(qid: str, question: ChoiceQuestion) -> str:
    if question.proposal is None:
        return next(iter(question.choices))
    if question.proposal not in question.choices:
        raise WalkError(
            f"question {qid!r}: the proposal {question.proposal!r} is not one of its choices "
            f"({', '.join(question.choices)})"
        )
    return question.proposal


def _consent(ctx: _Ctx, proposal: str) -> Decision:
    counts = ctx.counts()
    details = {"proposal": proposal}
    objectors = ctx.of(OBJECT)
    if objectors:
        lead = "Objection by" if len(objectors) == 1 else "Objections by"
        return ctx.make("blocked", None, counts, _blocked_sentence(objectors, lead), details)
    notes: list[str] = []
    for ch, n in counts.items():
        if ch == proposal or not n:
            continue
        names = [v.member for v in ctx.of("choice") if v.value == ch and v.member is not None]
        notes.append(f"{_who(names, n - len(names)) if names else n} preferred {_q(ch)}")
    extras = ctx.extras()
    if ctx.participating == 0:
        head = (
            f"Consent to {_q(proposal)}: nobody objects, but nobody took part "
            "(no quorum was set)"
        )
        return ctx.make("decided", proposal, counts, head + ".", {**details, "vacuous": True})
    tail = f" ({'; '.join(notes + extras)})" if notes or extras else ""
    return ctx.make(
        "decided", proposal, counts, f"Consent to {_q(proposal)}: nobody objects{tail}.", details
    )


def _fist_to_five(ctx: _Ctx, proposal: str, p: Params) -> Decision:
    votes = ctx.of("fingers")
    tally = {str(n): 0 for n in range(6)}
    for v in votes:
        tally[str(v.value)] += 1
    details = {"proposal": proposal, "min_fingers": p.min_fingers}
    fists = [v for v in votes if v.value == 0]
    if fists:
        lead = "Blocked by a fist from" if len(fists) == 1 else "Blocked by fists from"
        return ctx.make("blocked", None, tally, _blocked_sentence(fists, lead), details)
    extras = ctx.extras()
    low = [v for v in votes if v.value < p.min_fingers]
    if low:
        named = [f"{v.member} {v.value}" for v in low if v.member is not None]
        tail = f" ({', '.join(named)})" if named else ""
        n = _plural(len(low), "vote", "votes")
        return ctx.make(
            "no_agreement", None, tally,
            _sentence(
                f"Discuss and revote: {n} below {p.min_fingers} fingers{tail}",
                extras,
            ),
            details,
        )
    if not votes:
        return ctx.make(
            "decided", proposal, tally,
            _sentence(
                f"Fist-to-five passes {_q(proposal)}: nobody showed fewer than "
                f"{p.min_fingers} fingers, but nobody showed any (no quorum was set)",
                extras,
            ),
            {**details, "vacuous": True},
        )
    lowest = min(v.value for v in votes)
    every = "the only vote shows" if len(votes) == 1 else f"all {len(votes)} votes show"
    return ctx.make(
        "decided", proposal, tally,
        _sentence(
            f"Fist-to-five passes {_q(proposal)}: {every} {p.min_fingers} or more fingers "
            f"(lowest {lowest})",
            extras,
        ),
        details,
    )


def _any(ctx: _Ctx, question: ChoiceQuestion) -> Decision:
    if len(question.choices) != 2:
        raise WalkError(
            f"question {ctx.qid!r}: an 'any' question needs exactly two choices, "
            f"it has {len(question.choices)} ({', '.join(question.choices)})"
        )
    named = _proposal(ctx.qid, question)
    other = next(ch for ch in question.choices if ch != named)
    counts = ctx.counts()
    details = {"named": named}
    extras = ctx.extras()
    n = counts[named]
    if n:
        names = [v.member for v in ctx.of("choice") if v.value == named and v.member is not None]
        who = _who(names, n - len(names)) if names else _plural(n, "member", "members")
        return ctx.make(
            "decided", named, counts,
            f"{who} chose {_q(named)}, so {_q(named)}{_paren(extras)}.",
            details,
        )
    return ctx.make(
        "decided", other, counts,
        f"Nobody chose {_q(named)}, so {_q(other)}{_paren(extras)}.",
        details,
    )


def _scored(ctx: _Ctx, borda: bool) -> Decision:
    K = len(ctx.choices)
    score = {ch: 0 for ch in ctx.choices}
    lists = ctx.of("list")
    for v in lists:
        for i, ch in enumerate(v.value):
            score[ch] += (K - i) if borda else 1
    what = "Borda points" if borda else "approvals"
    details = {"scores": "borda" if borda else "approvals"}
    extras = ctx.extras()
    tops, top = _winner(score)
    if not lists or top == 0:
        return ctx.make(
            "no_agreement", None, score,
            _sentence(f"No winner: no {what} given", extras),
            details,
        )
    if len(tops) > 1:
        return ctx.make(
            "tie", None, score,
            _sentence(
                f"No single winner by {what}: {_counts_phrase(score)}", extras, " (a tie)"
            ),
            {**details, "tied": tops},
        )
    return ctx.make(
        "decided", tops[0], score,
        _sentence(f"Most {what} for {_q(tops[0])}: {_counts_phrase(score)}", extras),
        details,
    )


_AGG_WORDS = {
    "sum": "Total of",
    "mean": "Average of",
    "median": "Median of",
    "min": "Lowest number given:",
    "max": "Highest number given:",
}


def _numbers(ctx: _Ctx, question: NumberQuestion) -> Decision:
    xs = [v.value for v in ctx.of("number")]
    spec = question.number
    details: dict[str, Any] = {"aggregate": spec.aggregate, "numbers": list(xs)}
    extras = ctx.extras()
    base = {"given": len(xs)}
    if not xs:
        return ctx.make(
            "no_agreement", None, base,
            _sentence("No numbers given", extras),
            details,
        )
    agg: float
    if spec.aggregate == "sum":
        agg = math.fsum(xs)
    elif spec.aggregate == "mean":
        agg = statistics.fmean(xs)
    elif spec.aggregate == "median":
        agg = statistics.median(xs)
    elif spec.aggregate == "min":
        agg = min(xs)
    else:
        agg = max(xs)
    value: float = int(agg) if float(agg).is_integer() else agg
    unit = f" {spec.unit}" if spec.unit else ""
    src = _plural(len(xs), "member", "members")
    return ctx.make(
        "decided", value, base,
        _sentence(
            f"{_AGG_WORDS[spec.aggregate]} {num(value)}{unit} from {src}",
            extras,
        ),
        details,
    )


def _texts(ctx: _Ctx, question: TextQuestion) -> Decision:
    given = ctx.of("text")
    if question.text == "one" and len(given) > 1:
        raise WalkError(
            f"question {ctx.qid!r}: asks for one agreed sentence, got {len(given)} texts"
        )
    texts = tuple((v.member, v.value) for v in given)
    base = {"given": len(given)}
    if question.text == "one":
        head = "Recorded the group's words" if given else "No words recorded"
        return ctx.make("decided", None, base, head + ".", {"text": "one"}, texts)
    return ctx.make(
        "decided", None, base,
        f"Collected words from {len(given)} of {ctx.E} members.",
        {"text": "each"}, texts,
    )


# ---------------------------------------------------------------- entry point


def decide(
    question_id: str,
    question: QuestionT,
    defaults: Defaults,
    members: Sequence[str],
    ballots: Sequence[Ballot],
) -> Decision:
    """Turn the members' ballots at one question into one Decision.

    Raises WalkError (naming the question and the member) for a ballot that does not fit:
    an unknown or repeated member, too many ballots, a value that is not a choice or an
    allowed word, a finger count outside 0-5, a number out of bounds, non-text words.
    """
    p = effective_params(question, defaults)
    rule = p.rule
    _check_members(question_id, members, ballots)
    allowed = allowed_votes(question, defaults)
    votes = [_parse(question_id, question, rule, allowed, b) for b in ballots]
    choices = list(question.choices) if isinstance(question, ChoiceQuestion) else []
    proposal = None
    if isinstance(question, ChoiceQuestion) and rule in ("consent", "fist-to-five"):
        proposal = _proposal(question_id, question)
    ctx = _Ctx(question_id, rule, members, votes, choices)

    # 1. quorum
    if p.quorum is not None:
        needed = math.ceil(p.quorum * ctx.E)
        if ctx.participating < needed:
            base: dict[str, int]
            if rule == "fist-to-five":
                base = {str(n): 0 for n in range(6)}
                for v in ctx.of("fingers"):
                    base[str(v.value)] += 1
            elif rule in ("number", "text"):
                base = {"given": len(ctx.of(rule))}
            else:
                base = ctx.counts()
            return ctx.make(
                "no_quorum", None, base,
                f"No quorum: {ctx.participating} of {ctx.E} took part, "
                f"{needed} needed ({_pct(p.quorum)}%).",
                {"quorum": round(float(p.quorum), 4), "quorum_needed": needed},
            )
    quorum_details = (
        {"quorum": round(float(p.quorum), 4), "quorum_needed": math.ceil(p.quorum * ctx.E)}
        if p.quorum is not None else {}
    )

    # 2. blocks are checked first inside consensus, consent and fist-to-five; 3. the rule
    if isinstance(question, NumberQuestion):
        d = _numbers(ctx, question)
    elif isinstance(question, TextQuestion):
        d = _texts(ctx, question)
    elif rule == "majority":
        d = _majority(ctx)
    elif rule == "supermajority":
        d = _supermajority(ctx, p)
    elif rule == "plurality":
        d = _plurality(ctx)
    elif rule == "unanimous":
        d = _unanimous(ctx)
    elif rule == "consensus":
        d = _consensus(ctx, p)
    elif rule == "consent":
        assert proposal is not None
        d = _consent(ctx, proposal)
    elif rule == "fist-to-five":
        assert proposal is not None
        d = _fist_to_five(ctx, proposal, p)
    elif rule == "any":
        d = _any(ctx, question)
    elif rule == "approval":
        d = _scored(ctx, borda=False)
    elif rule == "ranked":
        d = _scored(ctx, borda=True)
    else:  # pragma: no cover - the format allows no other rule
        raise WalkError(f"question {question_id!r}: unknown rule {rule!r}")
    if quorum_details:
        d.details.update(quorum_details)
    return d
