"""Group rules: how the members' ballots at one question become one Decision.

The order is the same for every rule (docs/rules.md): the ballots are checked against the
rule's record, then quorum, then the rule's own counting (counting.py), which checks
blocks first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import WalkError
from ..model.decision import Ballot, Decision
from ..model.format import ChoiceQuestion, Defaults
from .ballots import check_members, parse
from .counting import Ctx, checked_proposal
from .params import QuestionT, effective_params
from .table import RULES
from .wording import count_word, pct


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
    rule = RULES[p.rule]
    check_members(question_id, members, ballots)
    votes = [parse(question_id, question, rule, b, p.reasons_required) for b in ballots]
    proposal = None
    if isinstance(question, ChoiceQuestion) and rule.proposal:
        proposal = checked_proposal(question_id, question)
    ctx = Ctx(question_id, question, p, members, votes, proposal)

    # 1. quorum
    if p.quorum is not None:
        needed = math.ceil(p.quorum * ctx.E)
        if ctx.participating < needed:
            base: dict[str, int]
            if rule.ballot == "fingers":
                base = ctx.fingers()
            elif rule.ballot in ("number", "text"):
                base = {"given": len(ctx.of(rule.ballot))}
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

    # 2. blocks are checked first inside the rules that take them; 3. the rule
    if rule.choices is not None and len(ctx.choices) != rule.choices:
        raise WalkError(
            f"question {question_id!r}: an {rule.name!r} question needs exactly "
            f"{count_word(rule.choices)} choices, it has {len(ctx.choices)} "
            f"({', '.join(ctx.choices)})"
        )
    d = rule.decides(ctx)
    if quorum_details:
        d.details.update(quorum_details)
    return d
