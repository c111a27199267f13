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

import math
import statistics
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..errors import WalkError
from ..model.conditions import num
from ..model.decision import ABSTAIN, BLOCK, OBJECT, STAND_ASIDE, Ballot, Decision
from ..model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from .ballots import Vote, check_members, parse
from .params import Params, QuestionT, allowed_votes, effective_params
from .wording import (
    agree_s,
    blocked_sentence,
    counts_phrase,
    join_names,
    paren,
    paren_names,
    pct,
    pct_pair,
    plural,
    q,
    sentence,
    who_phrase,
)

# ---------------------------------------------------------------- building decisions


class _Ctx:
    """What every rule needs: the votes sorted by kind, the group, the base tally."""

    def __init__(
        self, qid: str, rule: str, members: Sequence[str], votes: list[Vote],
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

    def of(self, kind: str) -> list[Vote]:
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
            tail = paren_names(names, len(sa) - len(names)) if stand_aside_names else ""
            out.append(f"{len(sa)} {verb}{tail}")
        ab = len(self.of(ABSTAIN))
        if ab:
            out.append(plural(ab, "abstains", "abstain"))
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
            sentence("No majority: no votes cast", extras, ""),
        )
    tops, top = _winner(counts)
    if top * 2 > cast:
        ch = tops[0]
        return ctx.make(
            "decided", ch, counts,
            sentence(f"Majority for {q(ch)}: {top} of {cast} cast votes", extras),
        )
    if len(tops) > 1:
        return ctx.make(
            "tie", None, counts,
            sentence(f"No majority: {counts_phrase(counts)}", extras, " (a tie)"),
            {"tied": tops},
        )
    return ctx.make(
        "no_agreement", None, counts,
        sentence(f"No majority: {counts_phrase(counts)}", extras),
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
            sentence("No supermajority: no votes cast", extras),
            details,
        )
    reaching = {ch: n for ch, n in counts.items() if Fraction(n, cast) >= t}
    if reaching:
        tops, top = _winner(reaching)
        share = Fraction(top, cast)
        a, b = pct_pair(share, t)
        if len(tops) > 1:
            names = join_names([q(ch) for ch in tops])
            return ctx.make(
                "tie", None, counts,
                sentence(
                    f"Supermajority tie: {names} each have {top} of {cast} cast votes "
                    f"({a} >= {b})", extras, " (a tie)",
                ),
                {**details, "tied": tops},
            )
        ch = tops[0]
        return ctx.make(
            "decided", ch, counts,
            sentence(
                f"Supermajority reached: {q(ch)} has {top} of {cast} cast votes ({a} >= {b})",
                extras,
            ),
            details,
        )
    tops, top = _winner(counts)
    share = Fraction(top, cast)
    a, b = pct_pair(share, t)
    if len(tops) == 1:
        head = f"No supermajority: {q(tops[0])} has {top} of {cast} cast votes ({a} < {b})"
    else:
        head = f"No supermajority: {counts_phrase(counts)}, none reaches {b}"
    return ctx.make(
        "no_agreement", None, counts, sentence(head, extras), details
    )


def _plurality(ctx: _Ctx) -> Decision:
    counts = ctx.counts()
    cast = sum(counts.values())
    extras = ctx.extras()
    if cast == 0:
        return ctx.make(
            "no_agreement", None, counts,
            sentence("No plurality: no votes cast", extras),
        )
    tops, top = _winner(counts)
    if len(tops) > 1:
        return ctx.make(
            "tie", None, counts,
            sentence(f"No plurality: {counts_phrase(counts)}", extras, " (a tie)"),
            {"tied": tops},
        )
    ch = tops[0]
    return ctx.make(
        "decided", ch, counts,
        sentence(
            f"Plurality for {q(ch)}: {top} of {cast} cast votes ({counts_phrase(counts)})",
            extras,
        ),
    )


def _unanimous(ctx: _Ctx) -> Decision:
    counts = ctx.counts()
    extras = ctx.extras()
    for ch, n in counts.items():
        if n == ctx.E:
            whom = "the only member" if ctx.E == 1 else f"all {ctx.E} members"
            return ctx.make("decided", ch, counts, f"Unanimous for {q(ch)}: {whom}.")
    return ctx.make(
        "no_agreement", None, counts,
        sentence(f"Not unanimous: {counts_phrase(counts)}", extras),
    )


def _consensus(ctx: _Ctx, p: Params) -> Decision:
    counts = ctx.counts()
    details: dict[str, Any] = {}
    if p.max_stand_asides is not None:
        details["max_stand_asides"] = p.max_stand_asides
    blockers = ctx.of(BLOCK)
    if blockers:
        return ctx.make("blocked", None, counts, blocked_sentence(blockers, "Blocked by"), details)
    cast = sum(counts.values())
    extras = ctx.extras()
    sa = len(ctx.of(STAND_ASIDE))
    if cast == 0:
        return ctx.make(
            "no_agreement", None, counts,
            sentence("No consensus: nobody agreed", extras),
            details,
        )
    used = [ch for ch, n in counts.items() if n]
    if len(used) > 1:
        return ctx.make(
            "no_agreement", None, counts,
            sentence(f"No consensus: {counts_phrase(counts)}", extras),
            details,
        )
    if p.max_stand_asides is not None and sa > p.max_stand_asides:
        names = ctx.names(STAND_ASIDE)
        verb = "stands aside" if sa == 1 else "stand aside"
        return ctx.make(
            "no_agreement", None, counts,
            f"No consensus: {sa} {verb}{paren_names(names, sa - len(names))}, "
            f"more than the {p.max_stand_asides} allowed.",
            details,
        )
    ch = used[0]
    return ctx.make(
        "decided", ch, counts,
        sentence(f"Consensus on {q(ch)}: {cast} agree{agree_s(cast)}", extras),
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
        return ctx.make("blocked", None, counts, blocked_sentence(objectors, lead), details)
    notes: list[str] = []
    for ch, n in counts.items():
        if ch == proposal or not n:
            continue
        names = [v.member for v in ctx.of("choice") if v.value == ch and v.member is not None]
        notes.append(f"{who_phrase(names, n - len(names)) if names else n} preferred {q(ch)}")
    extras = ctx.extras()
    if ctx.participating == 0:
        head = (
            f"Consent to {q(proposal)}: nobody objects, but nobody took part "
            "(no quorum was set)"
        )
        return ctx.make("decided", proposal, counts, head + ".", {**details, "vacuous": True})
    tail = f" ({'; '.join(notes + extras)})" if notes or extras else ""
    return ctx.make(
        "decided", proposal, counts, f"Consent to {q(proposal)}: nobody objects{tail}.", details
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
        return ctx.make("blocked", None, tally, blocked_sentence(fists, lead), details)
    extras = ctx.extras()
    low = [v for v in votes if v.value < p.min_fingers]
    if low:
        named = [f"{v.member} {v.value}" for v in low if v.member is not None]
        tail = f" ({', '.join(named)})" if named else ""
        n = plural(len(low), "vote", "votes")
        return ctx.make(
            "no_agreement", None, tally,
            sentence(
                f"Discuss and revote: {n} below {p.min_fingers} fingers{tail}",
                extras,
            ),
            details,
        )
    if not votes:
        return ctx.make(
            "decided", proposal, tally,
            sentence(
                f"Fist-to-five passes {q(proposal)}: nobody showed fewer than "
                f"{p.min_fingers} fingers, but nobody showed any (no quorum was set)",
                extras,
            ),
            {**details, "vacuous": True},
        )
    lowest = min(v.value for v in votes)
    every = "the only vote shows" if len(votes) == 1 else f"all {len(votes)} votes show"
    return ctx.make(
        "decided", proposal, tally,
        sentence(
            f"Fist-to-five passes {q(proposal)}: {every} {p.min_fingers} or more fingers "
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
        who = who_phrase(names, n - len(names)) if names else plural(n, "member", "members")
        return ctx.make(
            "decided", named, counts,
            f"{who} chose {q(named)}, so {q(named)}{paren(extras)}.",
            details,
        )
    return ctx.make(
        "decided", other, counts,
        f"Nobody chose {q(named)}, so {q(other)}{paren(extras)}.",
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
            sentence(f"No winner: no {what} given", extras),
            details,
        )
    if len(tops) > 1:
        return ctx.make(
            "tie", None, score,
            sentence(
                f"No single winner by {what}: {counts_phrase(score)}", extras, " (a tie)"
            ),
            {**details, "tied": tops},
        )
    return ctx.make(
        "decided", tops[0], score,
        sentence(f"Most {what} for {q(tops[0])}: {counts_phrase(score)}", extras),
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
            sentence("No numbers given", extras),
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
    src = plural(len(xs), "member", "members")
    return ctx.make(
        "decided", value, base,
        sentence(
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
    check_members(question_id, members, ballots)
    allowed = allowed_votes(question, defaults)
    votes = [parse(question_id, question, rule, allowed, b) for b in ballots]
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
                f"{needed} needed ({pct(p.quorum)}%).",
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
