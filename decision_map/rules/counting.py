"""How each group rule counts the checked votes at one question into one Decision: one
function per rule, named by the rule's record in table.py; deciders.decide runs them.

Pure functions, no I/O. The semantics are those of docs/rules.md:
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
- A quorum or threshold is taken exactly as written: `2/3` is two thirds, 0.667 is
  667/1000 (params.as_fraction; `check` warns, DM122, of a decimal near a fraction).
- Numbers are combined and compared in exact decimals, as written (`aggregate`).
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

from collections.abc import Sequence
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from ..errors import WalkError
from ..model.conditions import exact, num
from ..model.decision import ABSTAIN, BLOCK, OBJECT, STAND_ASIDE, Decision
from ..model.format import ChoiceQuestion, NumberQuestion, TextQuestion
from ..model.vocabulary import BLOCK_VOTES, FINGERS, SPECIAL_VOTES
from .ballots import Vote
from .params import Params, QuestionT, proposal_of
from .wording import (
    agree_s,
    blocked_sentence,
    counts_phrase,
    join_names,
    paren,
    paren_names,
    pct_pair,
    plural,
    q,
    sentence,
    who_phrase,
)

# ---------------------------------------------------------------- building decisions


class Ctx:
    """What every rule needs: the question and its settings, the votes sorted by kind, the
    group, the base tally."""

    def __init__(
        self, qid: str, question: QuestionT, p: Params, members: Sequence[str],
        votes: list[Vote], proposal: str | None = None,
    ) -> None:
        self.qid = qid
        self.question = question
        self.p = p
        self.rule = p.rule
        self.proposal = proposal
        choices = list(question.choices) if isinstance(question, ChoiceQuestion) else []
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

    def q(self, choice: str) -> str:
        """A choice as members see it in a sentence: its label, quoted (`"Yes, go on"`),
        not the value the map routes on."""
        qn = self.question
        if isinstance(qn, ChoiceQuestion) and choice in qn.choices:
            return q(qn.choice_label(choice))
        return q(choice)

    def counts_phrase(self, counts: dict[str, int]) -> str:
        """ "Yes, go on 2, No 1": each choice by its label, with its count."""
        qn = self.question
        if not isinstance(qn, ChoiceQuestion):
            return counts_phrase(counts)
        return counts_phrase({qn.choice_label(k) if k in qn.choices else k: n
                              for k, n in counts.items()})

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

    def fingers(self) -> dict[str, int]:
        """Votes per finger count, "0" to "5", every count included."""
        t = {f: 0 for f in FINGERS}
        for v in self.of("fingers"):
            t[str(v.value)] += 1
        return t

    def tally(self, base: dict[str, int]) -> dict[str, int]:
        t = dict(base)
        for kind in SPECIAL_VOTES:
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
        blocks = tuple((v.member, v.reason) for v in self.votes if v.kind in BLOCK_VOTES)
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


def majority(ctx: Ctx) -> Decision:
    """More than half of the cast votes."""
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
            sentence(f"Majority for {ctx.q(ch)}: {top} of {cast} cast votes", extras),
        )
    if len(tops) > 1:
        return ctx.make(
            "tie", None, counts,
            sentence(f"No majority: {ctx.counts_phrase(counts)}", extras, " (a tie)"),
            {"tied": tops},
        )
    return ctx.make(
        "no_agreement", None, counts,
        sentence(f"No majority: {ctx.counts_phrase(counts)}", extras),
    )


def supermajority(ctx: Ctx) -> Decision:
    """At least the threshold's share of the cast votes."""
    p = ctx.p
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
            names = join_names([ctx.q(ch) for ch in tops])
            return ctx.make(
                "tie", None, counts,
                sentence(
                    f"Supermajority tie: {names} each have {top} of {cast} cast votes "
                    f"({a}, needing {b})", extras, " (a tie)",
                ),
                {**details, "tied": tops},
            )
        ch = tops[0]
        return ctx.make(
            "decided", ch, counts,
            sentence(
                f"Supermajority reached: {ctx.q(ch)} has {top} of {cast} cast votes "
                f"({a}, needing {b})",
                extras,
            ),
            details,
        )
    tops, top = _winner(counts)
    share = Fraction(top, cast)
    a, b = pct_pair(share, t)
    if len(tops) == 1:
        head = (f"No supermajority: {ctx.q(tops[0])} has {top} of {cast} cast votes "
                f"({a}, needing {b})")
    else:
        head = f"No supermajority: {ctx.counts_phrase(counts)}, none reaches {b}"
    return ctx.make(
        "no_agreement", None, counts, sentence(head, extras), details
    )


def plurality(ctx: Ctx) -> Decision:
    """Strictly the most cast votes."""
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
            sentence(f"No plurality: {ctx.counts_phrase(counts)}", extras, " (a tie)"),
            {"tied": tops},
        )
    ch = tops[0]
    return ctx.make(
        "decided", ch, counts,
        sentence(
            f"Plurality for {ctx.q(ch)}: {top} of {cast} cast votes ({ctx.counts_phrase(counts)})",
            extras,
        ),
    )


def unanimous(ctx: Ctx) -> Decision:
    """Every member, absent ones included, chose the same."""
    counts = ctx.counts()
    extras = ctx.extras()
    for ch, n in counts.items():
        if n == ctx.E:
            whom = "the only member" if ctx.E == 1 else f"all {ctx.E} members"
            return ctx.make("decided", ch, counts, f"Unanimous for {ctx.q(ch)}: {whom}.")
    return ctx.make(
        "no_agreement", None, counts,
        sentence(f"Not unanimous: {ctx.counts_phrase(counts)}", extras),
    )


def consensus(ctx: Ctx) -> Decision:
    """No block and every cast vote the same; stand-asides may be capped."""
    p = ctx.p
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
            sentence(f"No consensus: {ctx.counts_phrase(counts)}", extras),
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
        sentence(f"Consensus on {ctx.q(ch)}: {cast} agree{agree_s(cast)}", extras),
        details,
    )


def checked_proposal(qid: str, question: ChoiceQuestion) -> str:
    """The question's proposal (params.proposal_of), or a WalkError when it names no choice."""
    if question.proposal is not None and question.proposal not in question.choices:
        raise WalkError(
            f"question {qid!r}: the proposal {question.proposal!r} is not one of its choices "
            f"({', '.join(question.choices)})"
        )
    return proposal_of(question)


def consent(ctx: Ctx) -> Decision:
    """The proposal passes unless someone objects."""
    proposal = ctx.proposal
    assert proposal is not None
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
        notes.append(f"{who_phrase(names, n - len(names)) if names else n} preferred {ctx.q(ch)}")
    extras = ctx.extras()
    if ctx.participating == 0:
        head = (
            f"Consent to {ctx.q(proposal)}: nobody objects, but nobody took part "
            "(no quorum was set)"
        )
        return ctx.make("decided", proposal, counts, head + ".", {**details, "vacuous": True})
    tail = f" ({'; '.join(notes + extras)})" if notes or extras else ""
    return ctx.make(
        "decided", proposal, counts, f"Consent to {ctx.q(proposal)}: nobody objects{tail}.", details
    )


def fist_to_five(ctx: Ctx) -> Decision:
    """The proposal passes when every vote shows enough fingers; a fist blocks."""
    proposal, p = ctx.proposal, ctx.p
    assert proposal is not None
    votes = ctx.of("fingers")
    tally = ctx.fingers()
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
                f"Fist-to-five passes {ctx.q(proposal)}: nobody showed fewer than "
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
            f"Fist-to-five passes {ctx.q(proposal)}: {every} {p.min_fingers} or more fingers "
            f"(lowest {lowest})",
            extras,
        ),
        details,
    )


def any_one(ctx: Ctx) -> Decision:
    """The named choice if anyone chose it, else the other (the record asks two choices)."""
    question = ctx.question
    assert isinstance(question, ChoiceQuestion)
    named = checked_proposal(ctx.qid, question)
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
            f"{who} chose {ctx.q(named)}, so {ctx.q(named)}{paren(extras)}.",
            details,
        )
    return ctx.make(
        "decided", other, counts,
        f"Nobody chose {ctx.q(named)}, so {ctx.q(other)}{paren(extras)}.",
        details,
    )


def approval(ctx: Ctx) -> Decision:
    """Most approvals wins."""
    return _scored(ctx, borda=False)


def ranked(ctx: Ctx) -> Decision:
    """Most Borda points wins."""
    return _scored(ctx, borda=True)


def _scored(ctx: Ctx, borda: bool) -> Decision:
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
                f"No single winner by {what}: {ctx.counts_phrase(score)}", extras, " (a tie)"
            ),
            {**details, "tied": tops},
        )
    return ctx.make(
        "decided", tops[0], score,
        sentence(f"Most {what} for {ctx.q(tops[0])}: {ctx.counts_phrase(score)}", extras),
        details,
    )


_AGG_WORDS = {
    "sum": "Total of",
    "mean": "Average of",
    "median": "Median of",
    "min": "Lowest number given:",
    "max": "Highest number given:",
}


AGGREGATE_DIGITS = 60  # significant digits a sum or mean is worked out to before rounding


def aggregate(how: str, xs: Sequence[int | float]) -> int | float:
    """The members' numbers combined in exact decimals, as they wrote them (0.7 + 0.1 is
    0.8, the mean of 0.1, 0.2 and 0.3 is 0.2), then given back as an int when whole. The
    one place a number question's aggregate is worked out: `Walk` and the batch both
    reach it through rules.decide."""
    if not xs:
        raise ValueError("no numbers to aggregate")
    ds = [exact(x) for x in xs]
    with localcontext() as c:
        c.prec = AGGREGATE_DIGITS
        if how == "sum":
            agg = sum(ds, Decimal(0))
        elif how == "mean":
            agg = sum(ds, Decimal(0)) / len(ds)
        elif how == "median":
            s = sorted(ds)
            mid = len(s) // 2
            agg = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
        elif how == "min":
            agg = min(ds)
        elif how == "max":
            agg = max(ds)
        else:
            raise ValueError(f"unknown aggregate {how!r}")
    assert isinstance(agg, Decimal)
    return int(agg) if agg == agg.to_integral_value() else float(agg)


def numbers(ctx: Ctx) -> Decision:
    """The members' numbers combined by the question's aggregate."""
    question = ctx.question
    assert isinstance(question, NumberQuestion)
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
    value = aggregate(spec.aggregate, xs)
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


def texts(ctx: Ctx) -> Decision:
    """The members' words (or the group's one sentence), recorded."""
    question = ctx.question
    assert isinstance(question, TextQuestion)
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
