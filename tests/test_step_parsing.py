"""Pure parsing for `decision-map step`: a member's vote, a quick tally, rules in words."""

from __future__ import annotations

import pytest

from decision_map.cli.prompting import (
    Question,
    VoteInputError,
    parse_group,
    parse_member_vote,
    parse_tally,
)
from decision_map.io.loader import load_map, load_text
from decision_map.rules.table import rule_in_words

RULES_MAP = """
id: rules
title: Rules
version: "1"
start: maj
nodes:
  maj: {ask: Go?, rule: majority, choices: {"yes": end, "no": end}}
  cons: {ask: Go?, rule: consensus, choices: {"yes": end, "no": end}}
  consent: {ask: OK?, rule: consent, choices: {agree: {next: end, label: Fine by me}}}
  fist: {ask: How much?, rule: fist-to-five, choices: {"yes": end, "no": end}}
  appr: {ask: Which?, rule: approval, choices: {tea: end, coffee: end, juice: end}}
  rank: {ask: Order?, rule: ranked, choices: {tea: end, coffee: end, juice: end}}
  sup: {ask: Go?, rule: supermajority, threshold: 2/3, choices: {"yes": end, "no": end}}
  num: {ask: Hours?, number: {min: 0, max: 10, unit: hours}, otherwise: end}
  txt: {ask: Words?, text: each, next: end}
  end: {outcome: End, next_steps: [x]}
"""


@pytest.fixture(scope="module")
def dm():
    return load_text(RULES_MAP, "rules.yaml")


def q(dm, node_id: str) -> Question:
    return Question.of(dm.nodes[node_id], dm.model.defaults)


def hint(fn, *args) -> str:
    with pytest.raises(VoteInputError) as e:
        fn(*args)
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


# ---------------------------------------------------------------- member votes


def test_choice_by_value_number_case_and_prefix(dm):
    maj = q(dm, "maj")
    assert parse_member_vote(maj, "yes").value == "yes"
    assert parse_member_vote(maj, " YES ").value == "yes"
    assert parse_member_vote(maj, "2").value == "no"
    assert parse_member_vote(maj, "a").value == "abstain"
    consent = q(dm, "consent")
    assert parse_member_vote(consent, "fine by me").value == "agree"
    assert parse_member_vote(consent, "1").value == "agree"


def test_bad_member_votes_give_one_line_hints(dm):
    maj = q(dm, "maj")
    assert "not a choice" in hint(parse_member_vote, maj, "maybe")
    assert "1-2" in hint(parse_member_vote, maj, "3")
    assert "type" in hint(parse_member_vote, maj, "")
    assert "not possible under majority" in hint(parse_member_vote, maj, "b")
    assert "not possible" in hint(parse_member_vote, maj, "s")
    assert "type t" not in hint(parse_member_vote, maj, "maybe")


def test_a_tally_typed_at_a_member_prompt_points_to_t(dm):
    maj = q(dm, "maj")
    for typed in ("yes 3", "yes 2, no 1", "agree 4; stand aside 1"):
        msg = hint(parse_member_vote, maj, typed)
        assert msg.startswith(f"{typed!r} is not a choice")
        assert "type t first" in msg


def test_consensus_block_and_stand_aside(dm):
    cons = q(dm, "cons")
    mv = parse_member_vote(cons, "b")
    assert (mv.value, mv.needs_reason) == ("block", True)
    assert parse_member_vote(cons, "s").value == "stand-aside"
    assert parse_member_vote(cons, "stand aside").value == "stand-aside"
    assert parse_member_vote(cons, "yes").needs_reason is False


def test_consent_object_and_block_become_objections(dm):
    consent = q(dm, "consent")
    assert parse_member_vote(consent, "o").value == "object"
    assert parse_member_vote(consent, "b").value == "object"
    assert parse_member_vote(consent, "o").needs_reason


def test_fist_to_five(dm):
    fist = q(dm, "fist")
    assert parse_member_vote(fist, "4").value == "4"
    mv = parse_member_vote(fist, "0")
    assert mv.value == "0" and mv.needs_reason
    assert "fist" in hint(parse_member_vote, fist, "b")
    assert "0 to 5" in hint(parse_member_vote, fist, "7")


def test_approval_and_ranked(dm):
    assert parse_member_vote(q(dm, "appr"), "1, 3").value == ("tea", "juice")
    assert parse_member_vote(q(dm, "rank"), "coffee tea juice").value == (
        "coffee", "tea", "juice")
    assert "twice" in hint(parse_member_vote, q(dm, "rank"), "tea, 1")
    assert "not one of the choices" in hint(parse_member_vote, q(dm, "appr"), "milk")


def test_numbers(dm):
    num = q(dm, "num")
    assert parse_member_vote(num, "4").value == 4
    assert parse_member_vote(num, "2.5").value == 2.5
    assert parse_member_vote(num, "a").value == "abstain"
    assert "from 0 to 10 (hours)" in hint(parse_member_vote, num, "eleven")
    assert "out of range" in hint(parse_member_vote, num, "11")
    assert "out of range" in hint(parse_member_vote, num, "-1")
    hint(parse_member_vote, num, "nan")


def test_text(dm):
    txt = q(dm, "txt")
    assert parse_member_vote(txt, "We are for clean air").value == "We are for clean air"
    assert parse_member_vote(txt, "a").value == "abstain"
    assert "words" in hint(parse_member_vote, txt, "  ")


# ---------------------------------------------------------------- tallies


def test_tally_line(dm):
    maj = q(dm, "maj")
    assert parse_tally(maj, "yes 4, no 1, abstain 1", 6) == [
        ("yes", 4), ("no", 1), ("abstain", 1)]
    assert parse_tally(maj, "yes: 2; no=1", 5) == [("yes", 2), ("no", 1)]
    assert parse_tally(maj, "yes 3, no 0", 3) == [("yes", 3)]


def test_tally_specials_by_rule(dm):
    assert parse_tally(q(dm, "cons"), "yes 3, stand-aside 1, block 1", 5) == [
        ("yes", 3), ("stand-aside", 1), ("block", 1)]
    assert parse_tally(q(dm, "consent"), "agree 4, object 1", 5) == [
        ("agree", 4), ("object", 1)]
    fist = q(dm, "fist")
    assert parse_tally(fist, "0:1 2:1 4:3 5:1", 6) == [("0", 1), ("2", 1), ("4", 3), ("5", 1)]
    assert parse_tally(fist, "5: 2, 3=1; abstain:1", 4) == [("5", 2), ("3", 1), ("abstain", 1)]


def test_old_fist_to_five_tally_form_is_refused_as_ambiguous(dm):
    """"4 3, 2 1" is four fingers three times, or three fingers four times: refused."""
    fist = q(dm, "fist")
    assert "two ways" in hint(parse_tally, fist, "4 3, 2 1", 5)
    assert "5:4 3:1" in hint(parse_tally, fist, "4 3, 2 1", 5)
    assert "has no count" in hint(parse_tally, fist, "4:3 maybe", 5)


def test_bad_tallies_give_one_line_hints(dm):
    maj = q(dm, "maj")
    assert "for a group of 3" in hint(parse_tally, maj, "yes 3, no 1", 3)
    assert "has no count" in hint(parse_tally, maj, "yes, no 1", 3)
    assert "put a comma" in hint(parse_tally, maj, "yes 2 no 1", 3)
    assert "not a choice" in hint(parse_tally, maj, "maybe 2", 3)
    assert "twice" in hint(parse_tally, maj, "yes 1, yes 1", 3)
    assert "type counts like" in hint(parse_tally, maj, "", 3)
    assert "not possible" in hint(parse_tally, maj, "yes 2, block 1", 3)
    assert "member by member" in hint(parse_tally, q(dm, "rank"), "tea 2", 3)
    assert "member by member" in hint(parse_tally, q(dm, "num"), "4 2", 3)


def test_parse_group():
    assert parse_group("Ana, Ben ,Cy") == ["Ana", "Ben", "Cy"]
    assert parse_group("Ana\nBen\n") == ["Ana", "Ben"]
    assert "twice" in hint(parse_group, "Ana, ana")
    hint(parse_group, " , ")


def test_rules_in_words(dm):
    d = dm.model.defaults
    words = {n: rule_in_words(dm.nodes[n], d) for n in
             ("maj", "cons", "consent", "fist", "sup", "num", "txt", "appr", "rank")}
    assert words["maj"] == "majority of votes cast; abstentions don't count"
    assert words["cons"] == "consensus: anyone may stand aside or block"
    assert words["consent"] == ('consent: the proposal "Fine by me" passes unless someone '
                                "objects")
    assert "needs 2/3 of votes cast" in words["sup"]
    assert "from 0 to 10 (hours)" in words["num"]
    assert "0 to 5 fingers" in words["fist"]


def test_parsed_votes_are_what_the_rules_accept(picnic_path):
    """Parsed ballots go straight into the real rules: a tally line decides as expected."""
    from decision_map.model.decision import Ballot
    from decision_map.walk.engine import Walk

    picnic = load_map(str(picnic_path))
    walk = Walk(picnic, ["Ana", "Ben", "Cy"])
    pos = walk.current()
    qq = Question.of(pos.node, picnic.model.defaults)
    ballots = [Ballot(None, v) for v, n in parse_tally(qq, "yes 2, no 1", 3) for _ in range(n)]
    assert walk.preview(ballots).value == "yes"


# ---------------------------------------------------------------- the room's short answers


def test_y_and_n_vote_yes_and_no_where_unambiguous(dm):
    maj = q(dm, "maj")
    assert parse_member_vote(maj, "y").value == "yes"
    assert parse_member_vote(maj, "N").value == "no"
    # no choice spelled yes or no: y is not a vote
    assert "not a choice" in hint(parse_member_vote, q(dm, "consent"), "y")


def test_pass_is_an_abstention(dm):
    assert parse_member_vote(q(dm, "maj"), "pass").value == "abstain"
    assert parse_member_vote(q(dm, "txt"), "pass").value == "abstain"
    assert parse_tally(q(dm, "maj"), "yes 2, pass 1", 3) == [("yes", 2), ("abstain", 1)]


def test_a_number_with_the_questions_unit(dm):
    num = q(dm, "num")
    assert parse_member_vote(num, "3 hours").value == 3
    assert parse_member_vote(num, "1 hour").value == 1
    assert parse_member_vote(num, "2.5hours").value == 2.5
    assert "in hours" in hint(parse_member_vote, num, "3 days")
