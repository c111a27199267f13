"""One record per group rule: what it can end in, what a member may give, how it is
counted and how it is said. The deciding, the checker and the command line all read these
records, so adding a rule is one record here (and its tests) plus its name in the format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from ..model.decision import Decision
from ..model.format import Defaults
from ..model.vocabulary import ABSTAIN, BLOCK, BLOCK_VOTES, OBJECT, STAND_ASIDE
from . import counting, wording
from .counting import Ctx
from .params import Params, QuestionT, effective_params, effective_rule

# What one member's ballot is under the rule: one choice, several choices (any order), the
# choices in order of preference, 0-5 fingers, a number, or words.
BallotKind = Literal["choice", "choices", "ranking", "fingers", "number", "text"]
BALLOT_KINDS: tuple[str, ...] = ("choice", "choices", "ranking", "fingers", "number", "text")


@dataclass(frozen=True)
class Rule:
    """Everything the engine, the checker and the prompts know about one rule."""

    name: str
    # The statuses a decision under the rule can end in, given the question's settings
    # (a quorum adds no_quorum to every rule).
    statuses: Callable[[Params], frozenset[str]]
    # The special words a member may give instead of a ballot (abstain at least).
    votes: frozenset[str]
    # The word a block is recorded as (block or object); None where the words cannot block.
    blocks_as: str | None
    ballot: BallotKind
    # Whether a quick tally ("yes 4, no 1") can carry the ballots.
    tallies: bool
    # Whether the rule decides on a proposal, which must then be one of the choices.
    proposal: bool
    # How many choices the question must have (None: any number).
    choices: int | None
    decides: Callable[[Ctx], Decision]
    # The rule as a facilitator says it under the question.
    says: Callable[[QuestionT, Params], str]
    # Whether the words under the question add the quorum.
    says_quorum: bool
    # The special word a quick-tally example shows (None: an abstention).
    example_word: str | None

    def __post_init__(self) -> None:
        if self.ballot not in BALLOT_KINDS:
            raise ValueError(f"rule {self.name!r}: unknown ballot kind {self.ballot!r}")
        if ABSTAIN not in self.votes:
            raise ValueError(f"rule {self.name!r}: every rule lets a member abstain")
        if bool(self.votes & BLOCK_VOTES) != (self.blocks_as is not None):
            raise ValueError(f"rule {self.name!r}: blocks_as goes with block or object in votes")
        if self.example_word is not None and self.example_word not in self.votes:
            raise ValueError(f"rule {self.name!r}: the example word is not one of its votes")


def _always(*statuses: str) -> Callable[[Params], frozenset[str]]:
    out = frozenset(statuses)
    return lambda p: out


def _supermajority_statuses(p: Params) -> frozenset[str]:
    # Two choices can both reach a threshold of one half or less, and share the top.
    tie = {"tie"} if p.threshold <= Fraction(1, 2) else set()
    return frozenset({"decided", "no_agreement"} | tie)


def _fist_statuses(p: Params) -> frozenset[str]:
    # With one finger enough, only a fist stops the proposal.
    low = {"no_agreement"} if p.min_fingers > 1 else set()
    return frozenset({"decided", "blocked"} | low)


_ABSTAIN = frozenset({ABSTAIN})
_WINNER = _always("decided", "tie", "no_agreement")


def _choice_rule(
    name: str, decides: Callable[[Ctx], Decision], says: Callable[[QuestionT, Params], str],
    statuses: Callable[[Params], frozenset[str]] = _WINNER, *,
    votes: frozenset[str] = _ABSTAIN, blocks_as: str | None = None,
    ballot: BallotKind = "choice", tallies: bool = True, proposal: bool = False,
    choices: int | None = None, says_quorum: bool = True, example_word: str | None = None,
) -> Rule:
    return Rule(name, statuses, votes, blocks_as, ballot, tallies, proposal, choices, decides,
                says, says_quorum, example_word)


_RECORDS: tuple[Rule, ...] = (
    _choice_rule("majority", counting.majority, wording.says_majority),
    _choice_rule("supermajority", counting.supermajority, wording.says_supermajority,
                 _supermajority_statuses),
    _choice_rule("plurality", counting.plurality, wording.says_plurality),
    _choice_rule("unanimous", counting.unanimous, wording.says_unanimous,
                 _always("decided", "no_agreement")),
    _choice_rule("consensus", counting.consensus, wording.says_consensus,
                 _always("decided", "blocked", "no_agreement"),
                 votes=frozenset({ABSTAIN, STAND_ASIDE, BLOCK}), blocks_as=BLOCK,
                 example_word=STAND_ASIDE),
    # A block typed or written under consent is recorded as an objection.
    _choice_rule("consent", counting.consent, wording.says_consent,
                 _always("decided", "blocked"),
                 votes=frozenset({ABSTAIN, STAND_ASIDE, OBJECT, BLOCK}), blocks_as=OBJECT,
                 proposal=True, example_word=OBJECT),
    _choice_rule("fist-to-five", counting.fist_to_five, wording.says_fist_to_five,
                 _fist_statuses, ballot="fingers", proposal=True),
    # Whoever takes part, naming the choice decides, so the words leave the quorum out.
    _choice_rule("any", counting.any_one, wording.says_any, _always("decided"),
                 choices=2, says_quorum=False),
    _choice_rule("approval", counting.approval, wording.says_approval, ballot="choices",
                 tallies=False),
    _choice_rule("ranked", counting.ranked, wording.says_ranked, ballot="ranking",
                 tallies=False),
    # Number and text questions have a rule of their own kind.
    Rule("number", _always("decided", "no_agreement"), _ABSTAIN, None, "number", False, False,
         None, counting.numbers, wording.says_number, True, None),
    Rule("text", _always("decided"), _ABSTAIN, None, "text", False, False, None,
         counting.texts, wording.says_text, True, None),
)

RULES: dict[str, Rule] = {r.name: r for r in _RECORDS}
# The rules a map may name on a choice question: the format spells them again as RuleName
# (the model imports no rules); tests/test_rules_table.py holds the two equal.
CHOICE_RULES: tuple[str, ...] = tuple(r.name for r in _RECORDS
                                      if r.ballot not in ("number", "text"))


def rule_named(name: str) -> Rule:
    """The record of a rule by its name (a Decision's `rule`, a question's effective rule)."""
    return RULES[name]


def rule_of(question: QuestionT, defaults: Defaults) -> Rule:
    """The record of the rule that decides the question."""
    return RULES[effective_rule(question, defaults)]


def possible_statuses(question: QuestionT, defaults: Defaults) -> set[str]:
    """The statuses the question's rule can produce (for the map checker)."""
    p = effective_params(question, defaults)
    out = set(RULES[p.rule].statuses(p))
    if p.quorum is not None:
        out.add("no_quorum")
    return out


def allowed_votes(question: QuestionT, defaults: Defaults) -> set[str]:
    """The special words a member may give at the question instead of a choice."""
    return set(rule_of(question, defaults).votes)


def rule_in_words(question: QuestionT, defaults: Defaults) -> str:
    """The rule in force, as a facilitator would say it under the question."""
    p = effective_params(question, defaults)
    rule = RULES[p.rule]
    return rule.says(question, p) + (wording.quorum_words(p) if rule.says_quorum else "")
