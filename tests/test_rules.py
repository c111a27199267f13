"""Group rules: every rule's edge cases, the doc's sentences, bad votes, and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decision_map.errors import WalkError
from decision_map.model.decision import Ballot, Decision
from decision_map.model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from decision_map.rules.deciders import decide
from decision_map.rules.params import as_fraction, effective_params, effective_rule
from decision_map.rules.table import allowed_votes, possible_statuses
from decision_map.rules.wording import join_names

D = Defaults()
OPT = Defaults(block_reasons="optional")  # a map that takes blocks without reasons
FIVE = ["Ana", "Ben", "Cy", "Dee", "Eli"]
SIX = FIVE + ["Fay"]
YN = ["yes", "no"]


def cq(rule: str | None = None, choices: list[str] | None = None, **kw: Any) -> ChoiceQuestion:
    d: dict[str, Any] = {
        "ask": "Shall we?",
        "choices": {c: f"to-{c}" for c in (choices or YN)},
        **kw,
    }
    if rule:
        d["rule"] = rule
    return ChoiceQuestion.model_validate(d)


def nq(**number: Any) -> NumberQuestion:
    return NumberQuestion.model_validate({"ask": "How many?", "number": number})


def tq(text: str = "each") -> TextQuestion:
    return TextQuestion.model_validate({"ask": "Words?", "text": text, "next": "end"})


def named(**votes: Any) -> list[Ballot]:
    out = []
    for m, v in votes.items():
        if isinstance(v, tuple) and len(v) == 2 and v[0] in ("block", "object"):
            out.append(Ballot(m, v[0], v[1]))
        else:
            out.append(Ballot(m, v))
    return out


def tally(**counts: int) -> list[Ballot]:
    return [Ballot(None, k.replace("_", "-")) for k, n in counts.items() for _ in range(n)]


def run(q: Any, members: list[str], ballots: list[Ballot], qid: str = "q",
        defaults: Defaults = D) -> Decision:
    return decide(qid, q, defaults, members, ballots)


# ---------------------------------------------------------------- the doc's five sentences


def test_doc_consensus_sentence() -> None:
    d = run(cq("consensus"), FIVE,
            named(Ana="yes", Ben="yes", Cy="stand-aside", Dee="yes", Eli="yes"))
    assert d.status == "decided" and d.value == "yes"
    assert d.explanation == 'Consensus on "yes": 4 agree, 1 stands aside (Cy).'
    assert d.stood_aside == ("Cy",)
    assert d.tally == {"yes": 4, "no": 0, "stand-aside": 1}


def test_doc_blocked_sentence() -> None:
    reason = "we can't share a platform with the landlord's lobby"
    d = run(cq("consensus"), FIVE,
            named(Ana="yes", Ben=("block", reason), Cy="yes", Dee="yes", Eli="yes"))
    assert d.status == "blocked" and d.value is None
    assert d.explanation == f'Blocked by Ben: "{reason}".'
    assert d.blocks == (("Ben", reason),)
    assert d.tally["block"] == 1


def test_doc_no_majority_sentence_is_a_tie() -> None:
    d = run(cq(), FIVE, tally(yes=2, no=2, abstain=1))
    assert d.status == "tie"
    assert d.explanation == "No majority: yes 2, no 2, 1 abstains (a tie)."
    assert d.explanation.startswith("No majority: yes 2, no 2, 1 abstains")


def test_doc_no_majority_sentence_without_tie() -> None:
    d = run(cq(choices=["yes", "no", "later"]), FIVE, tally(yes=2, no=1, later=1, abstain=1))
    assert d.status == "no_agreement"
    assert d.explanation == "No majority: yes 2, no 1, later 1, 1 abstains."


def test_doc_no_quorum_sentence() -> None:
    d = run(cq(quorum=0.6), SIX, named(Ana="yes", Ben="yes"))
    assert d.status == "no_quorum"
    assert d.explanation == "No quorum: 2 of 6 took part, 4 needed (60%)."
    assert d.details["quorum_needed"] == 4
    assert d.absent == ("Cy", "Dee", "Eli", "Fay")


def test_doc_supermajority_sentence() -> None:
    d = run(cq("supermajority"), SIX, tally(yes=4, no=2))
    assert d.status == "decided" and d.value == "yes"
    assert d.explanation == \
        'Supermajority reached: "yes" has 4 of 6 cast votes (67%, needing 67%).'


# ---------------------------------------------------------------- majority


def test_majority_reached_with_abstention() -> None:
    d = run(cq(), SIX, named(Ana="yes", Ben="yes", Cy="yes", Dee="no", Eli="no", Fay="abstain"))
    assert d.status == "decided" and d.value == "yes"
    assert d.explanation == 'Majority for "yes": 3 of 5 cast votes, 1 abstains.'
    assert d.abstained == ("Fay",)
    assert d.participating == 6


def test_majority_exact_half_is_not_a_majority() -> None:
    d = run(cq(choices=["yes", "no", "later"]), FIVE, tally(yes=2, no=1, later=1))
    assert d.status == "no_agreement"
    assert d.tally["absent"] == 1


def test_majority_all_abstain() -> None:
    d = run(cq(), ["Ana", "Ben", "Cy"], named(Ana="abstain", Ben="abstain", Cy="abstain"))
    assert d.status == "no_agreement"
    assert d.explanation == "No majority: no votes cast, 3 abstain."


def test_majority_nobody_votes() -> None:
    d = run(cq(), ["Ana", "Ben", "Cy"], [])
    assert d.status == "no_agreement"
    assert d.explanation == "No majority: no votes cast, 3 absent."
    assert d.absent == ("Ana", "Ben", "Cy") and d.participating == 0


def test_majority_absent_counted_in_sentence() -> None:
    d = run(cq(), FIVE, named(Ana="yes", Ben="yes", Cy="no"))
    assert d.explanation == 'Majority for "yes": 2 of 3 cast votes, 2 absent.'
    assert d.absent == ("Dee", "Eli")


def test_majority_tally_lists_every_choice() -> None:
    d = run(cq(choices=["yes", "no", "later"]), FIVE, named(Ana="yes"))
    assert d.tally == {"yes": 1, "no": 0, "later": 0, "absent": 4}


# ---------------------------------------------------------------- supermajority


def test_supermajority_exactly_at_threshold() -> None:
    d = run(cq("supermajority", threshold=0.6), FIVE, tally(yes=3, no=2))
    assert d.status == "decided"
    assert d.explanation == \
        'Supermajority reached: "yes" has 3 of 5 cast votes (60%, needing 60%).'


def test_supermajority_just_below() -> None:
    d = run(cq("supermajority"), FIVE, tally(yes=3, no=2))
    assert d.status == "no_agreement"
    assert d.explanation == 'No supermajority: "yes" has 3 of 5 cast votes (60%, needing 67%).'


def test_supermajority_threshold_is_taken_as_written() -> None:
    assert run(cq("supermajority", threshold=0.6667), SIX, tally(yes=4, no=2)).status == (
        "no_agreement")
    assert run(cq("supermajority", threshold="2/3"), SIX, tally(yes=4, no=2)).status == (
        "decided")


def test_supermajority_two_decimals_are_exact() -> None:
    d = run(cq("supermajority", threshold=0.67), SIX, tally(yes=4, no=2))
    assert d.status == "no_agreement"
    assert d.explanation == \
        'No supermajority: "yes" has 4 of 6 cast votes (66.7%, needing 67.0%).'


def test_supermajority_tie_when_several_reach_a_low_threshold() -> None:
    q = cq("supermajority", choices=["yes", "no", "later"], threshold=0.4)
    d = run(q, FIVE, tally(yes=2, no=2, later=1))
    assert d.status == "tie"
    assert "(a tie)" in d.explanation
    assert "tie" in possible_statuses(q, D)


def test_supermajority_several_reach_most_wins() -> None:
    q = cq("supermajority", choices=["yes", "no"], threshold=0.3)
    d = run(q, FIVE, tally(yes=3, no=2))
    assert d.status == "decided" and d.value == "yes"


def test_supermajority_shared_top_below_threshold_is_no_agreement() -> None:
    d = run(cq("supermajority"), ["Ana", "Ben"], named(Ana="yes", Ben="no"))
    assert d.status == "no_agreement"
    assert d.explanation == "No supermajority: yes 1, no 1, none reaches 67%."


def test_supermajority_no_votes_and_abstentions() -> None:
    d = run(cq("supermajority"), ["Ana", "Ben"], named(Ana="abstain"))
    assert d.status == "no_agreement"
    assert d.explanation == "No supermajority: no votes cast, 1 abstains, 1 absent."


def test_supermajority_threshold_one_needs_all_cast() -> None:
    q = cq("supermajority", threshold=1)
    assert run(q, FIVE, tally(yes=4, abstain=1)).status == "decided"
    assert run(q, FIVE, tally(yes=4, no=1)).status == "no_agreement"


# ---------------------------------------------------------------- plurality


def test_plurality_decided() -> None:
    q = cq("plurality", choices=["a", "b", "c"])
    d = run(q, ["Ana", "Ben", "Cy", "Dee", "Eli", "Fay", "Gus"], tally(a=3, b=2, c=2))
    assert d.status == "decided" and d.value == "a"
    assert d.explanation == 'Plurality for "a": 3 of 7 cast votes (a 3, b 2, c 2).'


def test_plurality_tie_and_nothing_cast() -> None:
    q = cq("plurality", choices=["a", "b", "c"])
    d = run(q, FIVE, tally(a=2, b=2, c=1))
    assert d.status == "tie" and d.explanation == "No plurality: a 2, b 2, c 1 (a tie)."
    assert run(q, FIVE, tally(abstain=5)).status == "no_agreement"


# ---------------------------------------------------------------- unanimous


def test_unanimous_all_members() -> None:
    d = run(cq("unanimous"), ["Ana", "Ben", "Cy"], named(Ana="no", Ben="no", Cy="no"))
    assert d.status == "decided" and d.value == "no"
    assert d.explanation == 'Unanimous for "no": all 3 members.'


@pytest.mark.parametrize(
    "ballots",
    [
        named(Ana="yes", Ben="yes", Cy="abstain"),
        named(Ana="yes", Ben="yes"),
        named(Ana="yes", Ben="yes", Cy="no"),
    ],
    ids=["abstention", "absence", "dissent"],
)
def test_unanimous_fails(ballots: list[Ballot]) -> None:
    d = run(cq("unanimous"), ["Ana", "Ben", "Cy"], ballots)
    assert d.status == "no_agreement"
    assert d.explanation.startswith("Not unanimous: yes 2, no ")


def test_unanimous_from_a_tally() -> None:
    assert run(cq("unanimous"), FIVE, tally(yes=5)).status == "decided"
    assert run(cq("unanimous"), FIVE, tally(yes=4)).status == "no_agreement"


# ---------------------------------------------------------------- consensus


def test_consensus_one_block_among_many_agrees() -> None:
    members = [f"M{i}" for i in range(12)]
    ballots = [Ballot(m, "yes") for m in members[:11]] + [Ballot("M11", "block", "unsafe")]
    d = run(cq("consensus"), members, ballots)
    assert d.status == "blocked"
    assert d.explanation == 'Blocked by M11: "unsafe".'


def test_consensus_block_without_reason() -> None:
    d = run(cq("consensus"), FIVE, named(Ana="yes", Ben="block"), defaults=OPT)
    assert d.status == "blocked"
    assert d.explanation == "Blocked by Ben (no reason given)."
    assert d.blocks == (("Ben", None),)


def test_consensus_several_blockers() -> None:
    d = run(cq("consensus"), FIVE,
            named(Ana="yes", Ben=("block", "too soon"), Cy=("block", "no money")))
    assert d.explanation == 'Blocked by Ben and Cy: "too soon", "no money".'


def test_consensus_several_blockers_one_without_reason() -> None:
    d = run(cq("consensus"), FIVE, named(Ben=("block", "too soon"), Cy="block"),
            defaults=OPT)
    assert d.explanation == 'Blocked by Ben and Cy: "too soon" (Cy gave no reason).'


def test_consensus_anonymous_block() -> None:
    ballots = tally(yes=4) + [Ballot(None, "block", "we can't")]
    d = run(cq("consensus"), FIVE, ballots)
    assert d.status == "blocked"
    assert d.explanation == 'Blocked by 1 member: "we can\'t".'
    assert d.blocks == ((None, "we can't"),)


def test_consensus_stand_asides_at_and_over_the_cap() -> None:
    q = cq("consensus", max_stand_asides=2)
    at = run(q, FIVE, named(Ana="yes", Ben="yes", Cy="yes", Dee="stand-aside", Eli="stand-aside"))
    assert at.status == "decided"
    assert at.explanation == 'Consensus on "yes": 3 agree, 2 stand aside (Dee and Eli).'
    over = run(q, FIVE,
               named(Ana="yes", Ben="yes", Cy="stand-aside", Dee="stand-aside",
                     Eli="stand-aside"))
    assert over.status == "no_agreement"
    assert over.explanation == (
        "No consensus: 3 stand aside (Cy, Dee and Eli), more than the 2 allowed."
    )
    assert over.stood_aside == ("Cy", "Dee", "Eli")


def test_consensus_cap_from_defaults() -> None:
    dd = Defaults(max_stand_asides=0)
    d = run(cq("consensus"), FIVE, named(Ana="yes", Ben="stand-aside"), defaults=dd)
    assert d.status == "no_agreement"


def test_consensus_differing_votes_and_nobody_agreeing() -> None:
    d = run(cq("consensus"), FIVE, named(Ana="yes", Ben="no"))
    assert d.status == "no_agreement"
    assert d.explanation == "No consensus: yes 1, no 1, 3 absent."
    d = run(cq("consensus"), ["Ana", "Ben"], named(Ana="stand-aside", Ben="abstain"))
    assert d.status == "no_agreement"
    assert d.explanation == "No consensus: nobody agreed, 1 stands aside (Ana), 1 abstains."


def test_consensus_on_no_and_single_agreement() -> None:
    d = run(cq("consensus"), ["Ana", "Ben"], named(Ana="no", Ben="abstain"))
    assert d.status == "decided" and d.value == "no"
    assert d.explanation == 'Consensus on "no": 1 agrees, 1 abstains.'


def test_block_before_stand_aside_cap() -> None:
    q = cq("consensus", max_stand_asides=0)
    d = run(q, FIVE, named(Ana="stand-aside", Ben=("block", "too soon")))
    assert d.status == "blocked"


# ---------------------------------------------------------------- consent


def test_consent_with_a_preference() -> None:
    d = run(cq("consent"), ["Ana", "Ben", "Cy"], named(Ana="no", Ben="yes", Cy="yes"))
    assert d.status == "decided" and d.value == "yes"
    assert d.explanation == 'Consent to "yes": nobody objects (Ana preferred "no").'


def test_consent_plain() -> None:
    d = run(cq("consent"), ["Ana", "Ben"], named(Ana="yes", Ben="yes"))
    assert d.explanation == 'Consent to "yes": nobody objects.'


@pytest.mark.parametrize("word", ["object", "block"])
def test_consent_objection(word: str) -> None:
    d = run(cq("consent"), FIVE, named(Ana="yes", Ben=(word, "too vague")))
    assert d.status == "blocked"
    assert d.explanation == 'Objection by Ben: "too vague".'
    assert d.tally["object"] == 1 and "block" not in d.tally
    assert d.blocks == (("Ben", "too vague"),)


def test_consent_proposal_field_and_stand_aside() -> None:
    q = cq("consent", choices=["amend", "adopt"], proposal="adopt")
    d = run(q, ["Ana", "Ben", "Cy"], named(Ana="adopt", Ben="stand-aside", Cy="abstain"))
    assert d.status == "decided" and d.value == "adopt"
    assert d.explanation == 'Consent to "adopt": nobody objects (1 stands aside (Ben); 1 abstains).'


def test_consent_nobody_voting_is_decided_and_says_so() -> None:
    d = run(cq("consent"), FIVE, [])
    assert d.status == "decided" and d.value == "yes"
    assert "nobody took part" in d.explanation
    assert d.details["vacuous"] is True


def test_consent_nobody_voting_with_a_quorum() -> None:
    assert run(cq("consent", quorum=0.5), FIVE, []).status == "no_quorum"


def test_consent_bad_proposal() -> None:
    with pytest.raises(WalkError, match="question 'q'.*'maybe'"):
        run(cq("consent", proposal="maybe"), FIVE, [])


# ---------------------------------------------------------------- fist-to-five


def test_fist_to_five_passes() -> None:
    d = run(cq("fist-to-five"), ["Ana", "Ben", "Cy"], named(Ana=5, Ben="3", Cy=4.0))
    assert d.status == "decided" and d.value == "yes"
    assert d.explanation == (
        'Fist-to-five passes "yes": all 3 votes show 3 or more fingers (lowest 3).'
    )
    assert d.tally == {"0": 0, "1": 0, "2": 0, "3": 1, "4": 1, "5": 1}


def test_fist_to_five_fist_blocks() -> None:
    d = run(cq("fist-to-five"), ["Ana", "Ben", "Cy"],
            [Ballot("Ana", 5), Ballot("Ben", 0, "unsafe"), Ballot("Cy", 2)])
    assert d.status == "blocked"
    assert d.explanation == 'Blocked by a fist from Ben: "unsafe".'
    assert d.blocks == (("Ben", "unsafe"),)


def test_fist_to_five_low_is_discuss_and_revote() -> None:
    d = run(cq("fist-to-five"), ["Ana", "Ben", "Cy"], named(Ana=5, Ben=2, Cy=1))
    assert d.status == "no_agreement"
    assert d.explanation == "Discuss and revote: 2 votes below 3 fingers (Ben 2, Cy 1)."


def test_fist_to_five_min_fingers() -> None:
    q = cq("fist-to-five", min_fingers=2)
    assert run(q, ["Ana", "Ben"], named(Ana=2, Ben=5)).status == "decided"
    assert run(q, ["Ana", "Ben"], named(Ana=1, Ben=5)).status == "no_agreement"
    assert "no_agreement" not in possible_statuses(cq("fist-to-five", min_fingers=1), D)


def test_fist_to_five_abstain_and_proposal() -> None:
    q = cq("fist-to-five", choices=["go", "wait"], proposal="go")
    d = run(q, ["Ana", "Ben"], named(Ana="abstain", Ben=3))
    assert d.status == "decided" and d.value == "go"
    assert d.tally["abstain"] == 1


@pytest.mark.parametrize("value", [6, -1, 2.5, "6", "yes", True, "block", "stand-aside"])
def test_fist_to_five_bad_values(value: Any) -> None:
    with pytest.raises(WalkError, match="question 'trust'.*Ana"):
        decide("trust", cq("fist-to-five"), D, FIVE, [Ballot("Ana", value)])


# ---------------------------------------------------------------- any


def test_any_named_choice_chosen() -> None:
    q = cq("any")
    d = run(q, FIVE, named(Ana="no", Ben="yes", Cy="no"))
    assert d.status == "decided" and d.value == "yes"
    assert d.explanation == 'Ben chose "yes", so "yes" (2 absent).'


def test_any_nobody_chose_it() -> None:
    q = cq("any", choices=["none", "some"], proposal="some")
    d = run(q, ["Ana", "Ben"], named(Ana="none", Ben="none"))
    assert d.status == "decided" and d.value == "none"
    assert d.explanation == 'Nobody chose "some", so "none".'
    assert run(q, ["Ana", "Ben"], []).value == "none"


def test_any_needs_two_choices() -> None:
    with pytest.raises(WalkError, match="question 'q'.*exactly two"):
        run(cq("any", choices=["a", "b", "c"]), FIVE, [])


# ---------------------------------------------------------------- approval and ranked


def test_approval() -> None:
    q = cq("approval", choices=["a", "b", "c"])
    d = run(q, ["Ana", "Ben", "Cy"], [Ballot("Ana", ("a", "b")), Ballot("Ben", ("b",)),  # type: ignore[arg-type]
                                     Ballot("Cy", "c")])
    assert d.status == "decided" and d.value == "b"
    assert d.tally == {"a": 1, "b": 2, "c": 1}
    d = run(q, ["Ana", "Ben"], [Ballot("Ana", ("a",)), Ballot("Ben", ["b"])])  # type: ignore[arg-type]
    assert d.status == "tie"
    assert run(q, ["Ana"], [Ballot("Ana", ())]).status == "no_agreement"  # type: ignore[arg-type]


def test_ranked_borda() -> None:
    q = cq("ranked", choices=["a", "b", "c"])
    ballots = [Ballot("Ana", ("a", "b", "c")), Ballot("Ben", ("b", "a")),  # type: ignore[arg-type]
               Ballot("Cy", ("b", "c", "a"))]  # type: ignore[arg-type]
    d = run(q, ["Ana", "Ben", "Cy"], ballots)
    assert d.tally == {"a": 3 + 2 + 1, "b": 2 + 3 + 3, "c": 1 + 0 + 2}
    assert d.status == "decided" and d.value == "b"
    assert d.explanation == 'Most Borda points for "b": a 6, b 8, c 3.'


def test_ranked_bad_ballots() -> None:
    q = cq("ranked", choices=["a", "b"])
    with pytest.raises(WalkError, match="twice.*question 'r'"):
        decide("r", q, D, ["Ana"], [Ballot("Ana", ("a", "a"))])  # type: ignore[arg-type]
    with pytest.raises(WalkError, match="'z' is not a choice at question 'r'"):
        decide("r", q, D, ["Ana"], [Ballot("Ana", ("a", "z"))])  # type: ignore[arg-type]


# ---------------------------------------------------------------- numbers and text


def test_number_sum_sentence() -> None:
    q = nq(unit="hours a week", min=0)
    d = run(q, FIVE, named(Ana=4, Ben=3, Cy=2, Dee="2", Eli=1.0))
    assert d.status == "decided" and d.value == 12
    assert d.explanation == "Total of 12 hours a week from 5 members."
    assert d.rule == "number" and d.tally == {"given": 5}


@pytest.mark.parametrize(
    ("agg", "value"), [("sum", 10), ("mean", 2.5), ("median", 2.5), ("min", 1), ("max", 4)]
)
def test_number_aggregates_with_abstention(agg: str, value: float) -> None:
    d = run(nq(aggregate=agg), FIVE, named(Ana=1, Ben=2, Cy=3, Dee=4, Eli="abstain"))
    assert d.status == "decided" and d.value == value
    assert d.abstained == ("Eli",)


def test_number_none_given() -> None:
    d = run(nq(), ["Ana", "Ben"], named(Ana="abstain"))
    assert d.status == "no_agreement" and d.value is None
    assert d.explanation == "No numbers given, 1 abstains, 1 absent."


@pytest.mark.parametrize("value", [11, -1, "lots", True, float("nan")])
def test_number_bad_values(value: Any) -> None:
    with pytest.raises(WalkError, match="question 'hours'.*Ana"):
        decide("hours", nq(min=0, max=10), D, FIVE, [Ballot("Ana", value)])


def test_number_rejects_block() -> None:
    with pytest.raises(WalkError, match="'block' is not allowed at question 'hours'"):
        decide("hours", nq(), D, FIVE, [Ballot("Ana", "block")])


def test_text_each() -> None:
    d = run(tq(), FIVE, named(Ana="Rents", Ben="Heat", Cy="Repairs", Dee="Mold"))
    assert d.status == "decided" and d.value is None
    assert d.texts == (("Ana", "Rents"), ("Ben", "Heat"), ("Cy", "Repairs"), ("Dee", "Mold"))
    assert d.explanation == "Collected words from 4 of 5 members."


def test_text_one_and_bad_text() -> None:
    d = run(tq("one"), FIVE, [Ballot(None, "We fight rent hikes together.")])
    assert d.status == "decided"
    assert d.texts == ((None, "We fight rent hikes together."),)
    with pytest.raises(WalkError, match="question 'q'.*one agreed"):
        run(tq("one"), FIVE, named(Ana="a", Ben="b"))
    with pytest.raises(WalkError, match="question 'q'.*Ana"):
        run(tq(), FIVE, [Ballot("Ana", 3)])


# ---------------------------------------------------------------- quorum


def test_quorum_just_met_and_just_missed() -> None:
    q = cq(quorum=0.6)
    met = run(q, FIVE, named(Ana="yes", Ben="yes", Cy="abstain"))
    assert met.status == "decided" and met.details["quorum_needed"] == 3
    missed = run(q, FIVE, named(Ana="yes", Ben="yes"))
    assert missed.status == "no_quorum"
    assert missed.explanation == "No quorum: 2 of 5 took part, 3 needed (60%)."


def test_quorum_ceil_is_exact() -> None:
    members = [f"M{i}" for i in range(10)]
    q = cq(quorum=0.7)
    assert run(q, members, [Ballot(m, "yes") for m in members[:7]]).status == "decided"
    assert run(q, members, [Ballot(m, "yes") for m in members[:6]]).status == "no_quorum"


def test_quorum_before_blocks() -> None:
    d = run(cq("consensus", quorum=0.6), FIVE, named(Ana=("block", "too soon")))
    assert d.status == "no_quorum"


def test_quorum_from_defaults_and_override() -> None:
    dd = Defaults(quorum=0.8)
    assert run(cq(), FIVE, named(Ana="yes", Ben="yes", Cy="yes"), defaults=dd).status == (
        "no_quorum"
    )
    q = cq(quorum=0.6)
    assert run(q, FIVE, named(Ana="yes", Ben="yes", Cy="yes"), defaults=dd).status == "decided"
    assert run(nq(), FIVE, named(Ana=1), defaults=dd).status == "no_quorum"


def test_quorum_anonymous_counts() -> None:
    d = run(cq(quorum=0.5), ["Ana", "Ben", "Cy", "Dee"], tally(yes=1))
    assert d.status == "no_quorum" and d.tally == {"yes": 1, "no": 0, "absent": 3}
    assert d.absent == ()


# ---------------------------------------------------------------- a group of one


@pytest.mark.parametrize(
    ("q", "vote", "status", "value"),
    [
        (cq(), "yes", "decided", "yes"),
        (cq("supermajority"), "no", "decided", "no"),
        (cq("plurality"), "yes", "decided", "yes"),
        (cq("unanimous"), "yes", "decided", "yes"),
        (cq("consensus"), "yes", "decided", "yes"),
        (cq("consensus"), "block", "blocked", None),
        (cq("consent"), "no", "decided", "yes"),
        (cq("consent"), "object", "blocked", None),
        (cq("fist-to-five"), 4, "decided", "yes"),
        (cq("fist-to-five"), 0, "blocked", None),
        (cq("any"), "no", "decided", "no"),
        (cq("approval"), "no", "decided", "no"),
        (cq("ranked"), "no", "decided", "no"),
        (nq(), 3, "decided", 3),
        (tq(), "alone", "decided", None),
        (cq(quorum=1), "yes", "decided", "yes"),
    ],
)
def test_group_of_one(q: Any, vote: Any, status: str, value: Any) -> None:
    d = run(q, ["Ana"], [Ballot("Ana", vote, "my reason")])
    assert (d.status, d.value) == (status, value)
    assert d.members == 1 and d.participating == 1


def test_group_of_one_unanimous_sentence_and_absence() -> None:
    d = run(cq("unanimous"), ["Ana"], named(Ana="yes"))
    assert d.explanation == 'Unanimous for "yes": the only member.'
    assert run(cq(quorum=1), ["Ana"], []).status == "no_quorum"


# ---------------------------------------------------------------- bad ballots


def test_unknown_member() -> None:
    with pytest.raises(WalkError) as e:
        decide("final-go", cq(), D, ["Ana", "Ben", "Cy"], named(Zed="yes"))
    assert str(e.value) == "question 'final-go': 'Zed' is not a member of the group (Ana, Ben, Cy)"


def test_duplicate_ballot() -> None:
    with pytest.raises(WalkError, match="question 'q': 'Ana' voted more than once"):
        run(cq(), FIVE, [Ballot("Ana", "yes"), Ballot("Ana", "no")])


def test_too_many_ballots() -> None:
    with pytest.raises(WalkError, match="question 'q': 3 ballots for a group of 2"):
        run(cq(), ["Ana", "Ben"], [Ballot("Ana", "yes")] + tally(yes=2))


def test_unknown_choice() -> None:
    with pytest.raises(WalkError) as e:
        decide("goal", cq(), D, FIVE, named(Ana="maybe"))
    assert str(e.value).startswith("'maybe' is not a choice at question 'goal' (choices: yes, no)")
    assert "Ana" in str(e.value)


@pytest.mark.parametrize("word", ["block", "stand-aside", "object"])
def test_special_words_under_majority(word: str) -> None:
    with pytest.raises(WalkError, match=f"'{word}' is not allowed at question 'goal'.*Ana"):
        decide("goal", cq(), D, FIVE, named(Ana=word))


def test_object_not_allowed_under_consensus() -> None:
    with pytest.raises(WalkError, match="'object' is not allowed at question 'g'"):
        decide("g", cq("consensus"), D, FIVE, named(Ana="object"))


def test_anonymous_bad_vote_says_tally() -> None:
    with pytest.raises(WalkError, match="question 'q'.*tally"):
        run(cq(), FIVE, tally(maybe=1))


def test_empty_group() -> None:
    with pytest.raises(WalkError, match="question 'q'"):
        run(cq(), [], [])


def test_special_words_are_case_insensitive() -> None:
    d = run(cq(), ["Ana", "Ben"], named(Ana="Abstain", Ben="yes"))
    assert d.abstained == ("Ana",) and d.value == "yes"


# ---------------------------------------------------------------- parameters and tables


def test_effective_params() -> None:
    dd = Defaults(rule="consensus", threshold=0.75, quorum=0.5)
    q = cq()
    assert effective_rule(q, dd) == "consensus"
    assert effective_rule(cq("consent"), dd) == "consent"
    assert effective_rule(q, D) == "majority"
    assert effective_rule(nq(), D) == "number" and effective_rule(tq(), D) == "text"
    p = effective_params(cq(threshold=0.6), dd)
    assert str(p.threshold) == "3/5" and str(p.quorum) == "1/2"
    p = effective_params(q, D)
    assert p.quorum is None and str(p.threshold) == "2/3" and p.min_fingers == 3
    assert p.max_stand_asides is None


def test_as_fraction() -> None:
    assert str(as_fraction(0.6667)) == "6667/10000"
    assert str(as_fraction(0.667)) == "667/1000"
    assert str(as_fraction("2/3")) == "2/3"
    assert str(as_fraction(0.67)) == "67/100"
    assert str(as_fraction(0.7)) == "7/10"
    assert str(as_fraction(0.755)) == "151/200"


@pytest.mark.parametrize(
    ("rule", "statuses"),
    [
        ("majority", {"decided", "tie", "no_agreement"}),
        ("supermajority", {"decided", "no_agreement"}),
        ("plurality", {"decided", "tie", "no_agreement"}),
        ("unanimous", {"decided", "no_agreement"}),
        ("consensus", {"decided", "blocked", "no_agreement"}),
        ("consent", {"decided", "blocked"}),
        ("fist-to-five", {"decided", "blocked", "no_agreement"}),
        ("any", {"decided"}),
        ("approval", {"decided", "tie", "no_agreement"}),
        ("ranked", {"decided", "tie", "no_agreement"}),
    ],
)
def test_possible_statuses(rule: str, statuses: set[str]) -> None:
    assert possible_statuses(cq(rule), D) == statuses
    assert possible_statuses(cq(rule, quorum=0.5), D) == statuses | {"no_quorum"}
    assert possible_statuses(cq(rule), Defaults(quorum=0.5)) == statuses | {"no_quorum"}


def test_possible_statuses_number_and_text() -> None:
    assert possible_statuses(nq(), D) == {"decided", "no_agreement"}
    assert possible_statuses(tq(), D) == {"decided"}
    assert possible_statuses(
        TextQuestion.model_validate({"ask": "?", "text": "each", "next": "x", "quorum": 0.5}), D
    ) == {"decided", "no_quorum"}


def test_allowed_votes() -> None:
    assert allowed_votes(cq(), D) == {"abstain"}
    assert allowed_votes(cq("consensus"), D) == {"abstain", "stand-aside", "block"}
    assert allowed_votes(cq("consent"), D) == {"abstain", "stand-aside", "object", "block"}
    assert allowed_votes(cq("fist-to-five"), D) == {"abstain"}
    assert allowed_votes(nq(), D) == {"abstain"}


def test_join_names() -> None:
    assert join_names(["Ana"]) == "Ana"
    assert join_names(["Ana", "Ben"]) == "Ana and Ben"
    assert join_names(["Ana", "Ben", "Cy"]) == "Ana, Ben and Cy"


def test_decision_survives_json() -> None:
    d = run(cq("consensus"), FIVE, named(Ana="yes", Ben=("block", "why"), Cy="stand-aside"))
    assert Decision.from_json(d.to_json()) == d


# ---------------------------------------------------------------- properties

RULES = ["majority", "supermajority", "plurality", "unanimous", "consensus", "consent",
         "fist-to-five", "any", "approval", "ranked"]
CHOICES = ["a", "b", "c"]


def _vote_for(rule: str) -> st.SearchStrategy[Any]:
    base: list[st.SearchStrategy[Any]] = [st.just("abstain")]
    if rule == "fist-to-five":
        base.append(st.integers(0, 5))
    elif rule in ("approval", "ranked"):
        base.append(st.permutations(CHOICES).flatmap(
            lambda p: st.integers(0, 3).map(lambda k: tuple(p[:k]))))
    elif rule == "any":
        base.append(st.sampled_from(CHOICES[:2]))
    else:
        base.append(st.sampled_from(CHOICES))
    if rule == "consensus":
        base += [st.just("stand-aside"), st.just("block")]
    if rule == "consent":
        base += [st.just("stand-aside"), st.just("object")]
    return st.one_of(base)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[ChoiceQuestion, list[str], list[Ballot]]:
    rule = draw(st.sampled_from(RULES))
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        kw["quorum"] = draw(st.sampled_from([0.1, 0.5, 0.6, 0.6667, 1.0]))
    if rule == "supermajority":
        kw["threshold"] = draw(st.sampled_from([0.3, 0.5, 0.6, 0.6667, 1.0]))
    if rule == "consensus" and draw(st.booleans()):
        kw["max_stand_asides"] = draw(st.integers(0, 2))
    q = cq(rule, choices=CHOICES[:2] if rule == "any" else CHOICES, **kw)
    e = draw(st.integers(1, 7))
    members = [f"M{i}" for i in range(e)]
    voters = draw(st.lists(st.sampled_from(members), unique=True))
    anonymous = draw(st.booleans())
    ballots = [Ballot(None if anonymous else m, draw(_vote_for(rule))) for m in voters]
    return q, members, ballots


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_status_is_always_possible_and_counts_add_up(
    s: tuple[ChoiceQuestion, list[str], list[Ballot]],
) -> None:
    q, members, ballots = s
    d = decide("p", q, OPT, members, ballots)
    assert d.status in possible_statuses(q, D)
    assert d.participating == len(ballots)
    assert d.participating + d.tally.get("absent", 0) == d.members == len(members)
    assert d.explanation.endswith(".") and "\n" not in d.explanation
    assert (d.value is not None) == (d.status == "decided")
    if q.rule in ("majority", "plurality", "unanimous", "consensus", "consent", "supermajority"):
        assert sum(d.tally.values()) == len(members)


@st.composite
def majority_votes(draw: st.DrawFn) -> list[str]:
    return draw(st.lists(st.sampled_from(CHOICES + ["abstain"]), max_size=12))


@settings(max_examples=300, deadline=None)
@given(majority_votes(), st.integers(0, 5))
def test_majority_properties(votes: list[str], extra_abstentions: int) -> None:
    members = [f"M{i}" for i in range(len(votes) + extra_abstentions + 1)]
    q = cq(choices=CHOICES)
    d = decide("m", q, D, members, [Ballot(m, v) for m, v in zip(members, votes, strict=False)])
    cast = sum(1 for v in votes if v != "abstain")
    if d.status == "decided":
        assert votes.count(d.value) * 2 > cast  # type: ignore[arg-type]
    more = [Ballot(m, v) for m, v in zip(members, votes, strict=False)] + [
        Ballot(m, "abstain") for m in members[len(votes):len(votes) + extra_abstentions]
    ]
    d2 = decide("m", q, D, members, more)
    assert (d2.status, d2.value) == (d.status, d.value)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.sampled_from([0.1, 0.25, 0.5, 0.6, 0.7, 0.75, 0.9, 1.0]))
def test_quorum_threshold_is_the_boundary(e: int, q: float) -> None:
    import math
    from fractions import Fraction

    needed = math.ceil(Fraction(str(q)) * e)
    members = [f"M{i}" for i in range(e)]
    question = cq(quorum=q)
    at = decide("qq", question, D, members, [Ballot(m, "abstain") for m in members[:needed]])
    assert at.status != "no_quorum"
    if needed > 0:
        below = decide("qq", question, D, members,
                       [Ballot(m, "abstain") for m in members[:needed - 1]])
        assert below.status == "no_quorum"


def test_a_block_reason_ending_in_a_stop_is_not_punctuated_twice():
    from decision_map.model.decision import Ballot
    from decision_map.model.format import ChoiceQuestion
    from decision_map.model.format import Defaults as _Defaults
    from decision_map.rules.deciders import decide as _decide

    q = ChoiceQuestion.model_validate({"ask": "Go?", "rule": "consensus",
                                       "choices": {"yes": "a", "no": "b"}, "otherwise": "b"})
    d = _decide("go", q, _Defaults(), ["Ana", "Ben"],
                [Ballot("Ana", "yes"), Ballot("Ben", "block", "They aren't here.")])
    assert d.explanation == 'Blocked by Ben: "They aren\'t here".'
