"""One record per rule: the table, the format and the vocabulary agree, and a rule that
exists only as a record made here is checked, prompted, tallied, said and decided with no
other file changed."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import get_args

import pytest

from decision_map.check.checks import check_map
from decision_map.cli.prompting import (
    Question,
    VoteInputError,
    member_hint,
    parse_member_vote,
    parse_tally,
    tally_example,
    tally_needs_reason,
)
from decision_map.errors import WalkError
from decision_map.io.loader import load_text
from decision_map.model.decision import Ballot, Decision
from decision_map.model.format import ChoiceQuestion, Defaults, RuleName
from decision_map.model.vocabulary import (
    BLOCK,
    OBJECT,
    RESERVED_VOTES,
    SAID,
    SPECIAL_VOTES,
    STAND_ASIDE,
    TYPED,
    WRITTEN,
)
from decision_map.rules.counting import Ctx
from decision_map.rules.deciders import decide
from decision_map.rules.params import Params
from decision_map.rules.table import (
    CHOICE_RULES,
    RULES,
    Rule,
    allowed_votes,
    possible_statuses,
    rule_in_words,
)

D = Defaults()


def test_the_format_names_exactly_the_choice_rules_in_the_table() -> None:
    # The model may not import the rules, so the format spells the names again.
    assert list(get_args(RuleName)) == list(CHOICE_RULES)
    assert set(RULES) == set(CHOICE_RULES) | {"number", "text"}


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_record_is_whole(name: str) -> None:
    r = RULES[name]
    assert r.name == name
    assert r.statuses(_params()) and "decided" in r.statuses(_params())
    assert callable(r.decides) and callable(r.says)
    assert r.votes <= set(SPECIAL_VOTES)


def _params() -> Params:
    return Params(rule="x", quorum=None, threshold=Fraction(2, 3), max_stand_asides=None,
                  min_fingers=3)


def test_a_record_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(ValueError, match="blocks_as"):
        dataclasses.replace(RULES["majority"], blocks_as=BLOCK)
    with pytest.raises(ValueError, match="abstain"):
        dataclasses.replace(RULES["majority"], votes=frozenset())
    with pytest.raises(ValueError, match="ballot kind"):
        dataclasses.replace(RULES["majority"], ballot="dice")


def test_the_vocabulary_is_the_one_list_of_special_words() -> None:
    assert RESERVED_VOTES == set(SPECIAL_VOTES) == set(SAID)
    assert set(WRITTEN.values()) == set(TYPED.values()) == set(SPECIAL_VOTES)
    assert WRITTEN.items() <= TYPED.items()  # what a file may say, a person may type
    for word in SPECIAL_VOTES:
        with pytest.raises(ValueError, match="reserved vote word"):
            ChoiceQuestion(ask="?", choices={word.upper(): "a", "ok": "b"})


# ---------------------------------------------------------------- a rule made here


def _veto(ctx: Ctx) -> Decision:
    """A toy rule: any block stops it, else the most-chosen choice (first on a tie) wins."""
    counts = ctx.counts()
    if ctx.of(BLOCK):
        return ctx.make("blocked", None, counts, "Vetoed.")
    top = max(counts, key=lambda c: counts[c])
    return ctx.make("decided", top, counts, f"Veto-free for {top}.")


VETO = Rule(
    name="veto", statuses=lambda p: frozenset({"decided", "blocked"}),
    votes=frozenset({"abstain", STAND_ASIDE, BLOCK}), blocks_as=BLOCK, ballot="choice",
    tallies=True, proposal=False, choices=3, decides=_veto,
    says=lambda node, p: "veto: anyone may stop it", says_quorum=True, example_word=BLOCK,
)

VETO_MAP = """
id: veto
title: Veto
version: "1"
start: q
nodes:
  q: {ask: Which?, rule: majority, choices: {tea: end, coffee: end, juice: end}}
  end: {outcome: End, next_steps: [x]}
"""


@pytest.fixture
def veto(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(RULES, "veto", VETO)
    loaded = load_text(VETO_MAP, "veto.yaml")
    # A copy, as loaded maps may be shared; the format allows only the rules it names, so
    # the node is changed past validation.
    dm = dataclasses.replace(loaded, model=loaded.model.model_copy(deep=True))
    dm.nodes["q"] = dm.nodes["q"].model_copy(update={"rule": "veto", "quorum": 0.5})
    return dm


def test_a_new_rule_is_one_record_checked(veto) -> None:
    ds = {(d.code, d.message) for d in check_map(veto)}
    # its statuses: blocked and (with the quorum) no_quorum need routes
    assert any(code == "DM107" and "the veto rule can end in blocked or no_quorum" in msg
               for code, msg in ds), ds
    two = veto.nodes["q"].model_copy(update={"choices": {"tea": "end", "coffee": "end"}})
    veto.nodes["q"] = two
    assert any(code == "DM120" and "an `veto` question has exactly three choices (it has 2)"
               in msg for code, msg in {(d.code, d.message) for d in check_map(veto)})


def test_a_new_rule_is_one_record_prompted_and_tallied(veto) -> None:
    node = veto.nodes["q"]
    q = Question.of(node, D)
    assert q.rule == "veto" and q.tallies
    assert member_hint(q) == "1-3, a abstain, s stand aside, b block"
    assert tally_example(q, 4) == "tea 3, block 1"
    assert parse_member_vote(q, "o").value == BLOCK  # an objection is this rule's block
    assert parse_member_vote(q, "b").needs_reason
    assert parse_member_vote(q, "2").value == "coffee"
    assert parse_tally(q, "tea 2, stand aside 1, block 1", 5) == [
        ("tea", 2), (STAND_ASIDE, 1), (BLOCK, 1)]
    assert tally_needs_reason(q, BLOCK)
    with pytest.raises(VoteInputError):
        parse_tally(q, "tea 9", 5)
    assert rule_in_words(node, D) == (
        "veto: anyone may stop it; at least 50% of members must take part")


def test_a_new_rule_is_one_record_decided(veto) -> None:
    node = veto.nodes["q"]
    assert possible_statuses(node, D) == {"decided", "blocked", "no_quorum"}
    assert allowed_votes(node, D) == {"abstain", STAND_ASIDE, BLOCK}
    group = ["Ana", "Ben", "Cy"]
    d = decide("q", node, D, group, [Ballot("Ana", "juice"), Ballot("Ben", "juice")])
    assert (d.status, d.value, d.rule) == ("decided", "juice", "veto")
    d = decide("q", node, D, group, [Ballot("Ana", "tea"), Ballot("Ben", BLOCK, "no")])
    assert d.status == "blocked" and d.blocks == (("Ben", "no"),)
    with pytest.raises(WalkError, match="'object' is not allowed at question 'q' under veto"):
        decide("q", node, D, group, [Ballot("Ana", OBJECT)])  # written ballots say block
    assert decide("q", node, D, group, [Ballot("Ana", "tea")]).status == "no_quorum"
    with pytest.raises(WalkError, match="needs exactly three choices"):
        decide("q", node.model_copy(update={"choices": {"a": "end", "b": "end"}}), D, group,
               [Ballot("Ana", "a"), Ballot("Ben", "a")])


def test_the_checker_reads_how_many_choices_any_needs() -> None:
    dm = load_text(VETO_MAP.replace("rule: majority", "rule: any"), "any.yaml")
    ds = [d.message for d in check_map(dm) if d.code == "DM120"]
    assert ds == ["node 'q': an `any` question has exactly two choices (it has 3)"]
