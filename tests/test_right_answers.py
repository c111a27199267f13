"""The right answer, not just no crash: numbers compared as the author and the members wrote
them, shares read exactly (and `2/3` accepted), a loop back through a read-out taking the
looping question's `otherwise`, and a block asked for its reason."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from decision_map.check.checks import check_map
from decision_map.errors import WalkError
from decision_map.io.loader import load_map
from decision_map.model.decision import Ballot
from decision_map.rules.params import as_fraction, rounded_fraction
from decision_map.walk.batch import run_batch
from decision_map.walk.engine import Walk

HEAD = 'id: demo\ntitle: Demo\nversion: "1"\nstart: q\n'
DONE = ("  yes-end: {outcome: Enough, next_steps: [Go]}\n"
        "  no-end: {outcome: Not enough, next_steps: [Wait]}\n")


def load(tmp_path: Path, text: str):
    p = tmp_path / "map.yaml"
    p.write_text(text, encoding="utf-8")
    return load_map(p)


def number_map(tmp_path: Path, aggregate: str, test: str) -> object:
    return load(tmp_path, HEAD + "nodes:\n  q:\n    ask: How much?\n"
                f"    number: {{aggregate: {aggregate}}}\n"
                f"    branches: [{{when: {{{test}}}, next: yes-end}}]\n"
                "    otherwise: no-end\n" + DONE)


def walk(dm, votes: dict[str, object]) -> Walk:
    w = Walk(dm, list(votes))
    w.submit([Ballot(m, v) for m, v in votes.items()])
    return w


# ---------------------------------------------------------------- decimals


@pytest.mark.parametrize("aggregate, test, votes", [
    ("sum", "gte: 0.8", [0.7, 0.1]),
    ("sum", "lte: 0.3", [0.1, 0.2]),
    ("sum", "is: 0.3", [0.1, 0.2]),
    ("mean", "gte: 0.2", [0.1, 0.2, 0.3]),
    ("mean", "lte: 0.2", [0.1, 0.2, 0.3]),
    ("median", "lte: 0.15", [0.1, 0.2]),
    ("median", "gte: 0.2", [0.1, 0.3, 0.05, 0.35]),
    ("sum", "lte: 0.3", ["0.1", "0.2"]),  # typed as text, as the stepper reads them
])
def test_number_answers_are_compared_as_written(tmp_path, aggregate, test, votes):
    dm = number_map(tmp_path, aggregate, test)
    w = walk(dm, {f"m{i}": v for i, v in enumerate(votes)})
    step = w.trace.steps[-2]
    assert w.trace.outcome == "yes-end", step.explanation
    assert "No branch matches" not in step.explanation


def test_the_sentence_and_the_branch_agree_on_a_decimal_total(tmp_path):
    dm = number_map(tmp_path, "sum", "gte: 0.8")
    w = walk(dm, {"Ana": 0.7, "Ben": 0.1})
    assert w.trace.steps[0].decision.value == 0.8
    assert w.trace.steps[0].explanation.startswith("Total of 0.8 from 2 members.")


def test_a_check_compares_a_decimal_answer_exactly(tmp_path):
    dm = load(tmp_path, HEAD + "nodes:\n  q:\n    ask: How much?\n    number: {aggregate: sum}\n"
              "    otherwise: c\n"
              "  c:\n    check:\n      - when: {answer: q, lte: 0.3}\n        next: yes-end\n"
              "    otherwise: no-end\n" + DONE)
    assert walk(dm, {"Ana": 0.1, "Ben": 0.2}).trace.outcome == "yes-end"


def test_the_batch_decides_decimals_as_the_walk_does(tmp_path):
    dm = number_map(tmp_path, "mean", "gte: 0.2")
    rows = [(i + 2, {"\0member": m, "q": v}) for i, (m, v) in
            enumerate([("Ana", "0.1"), ("Ben", "0.2"), ("Cy", "0.3")])]
    report = run_batch(dm, {"g1": rows}, "responses.csv")
    assert report.results[0].outcome == "yes-end"


# ---------------------------------------------------------------- fractions


def test_shares_are_read_exactly_as_written():
    assert as_fraction(0.667) == Fraction(667, 1000)
    assert as_fraction(0.67) == Fraction(67, 100)
    assert as_fraction("2/3") == Fraction(2, 3)
    assert as_fraction(" 5 / 7 ") == Fraction(5, 7)
    assert as_fraction(1) == 1


def supermajority_map(tmp_path: Path, threshold: str):
    return load(tmp_path, HEAD + "nodes:\n  q:\n    ask: Go?\n    rule: supermajority\n"
                f"    threshold: {threshold}\n"
                "    choices: {yes: yes-end, no: no-end}\n    otherwise: no-end\n" + DONE)


def test_a_threshold_of_two_thirds_written_as_a_fraction(tmp_path):
    votes = {"Ana": "yes", "Ben": "yes", "Cy": "no"}
    assert walk(supermajority_map(tmp_path, "2/3"), votes).trace.outcome == "yes-end"
    # 0.667 is more than 2/3 and is taken as written: 2 of 3 do not reach it
    assert walk(supermajority_map(tmp_path, "0.667"), votes).trace.outcome == "no-end"


@pytest.mark.parametrize("bad", ["3/2", "0/3", "2/0", "two thirds", "1.5"])
def test_a_share_that_is_not_a_fraction_of_at_most_one_is_refused(tmp_path, bad):
    from decision_map.errors import MapError
    with pytest.raises(MapError):
        supermajority_map(tmp_path, f'"{bad}"' if "/" in bad else bad)


@pytest.mark.parametrize("written, near", [(0.667, Fraction(2, 3)), (0.67, Fraction(2, 3)),
                                           (0.33, Fraction(1, 3)), (0.143, Fraction(1, 7)),
                                           (0.6, None), (0.75, None), (0.51, None),
                                           ("2/3", None)])
def test_a_decimal_near_a_simple_fraction_is_told_apart(written, near):
    assert rounded_fraction(written) == near


def test_check_warns_about_a_decimal_that_rounds_a_fraction(tmp_path):
    found = [d for d in check_map(supermajority_map(tmp_path, "0.667")) if d.code == "DM123"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "2/3" in found[0].line()
    assert not [d for d in check_map(supermajority_map(tmp_path, "2/3")) if d.code == "DM123"]


# ---------------------------------------------------------------- the revisit bound


LOOP = (HEAD + "defaults: {rule: consensus, max_revisits: 1}\nnodes:\n"
        "  q:\n    ask: Agree?\n    choices: {yes: yes-end, no: no-end}\n"
        "    on_block: talk\n    otherwise: no-end\n"
        "  talk:\n    say: Let's hear the block, then vote again.\n    next: q\n" + DONE)


def test_a_loop_back_through_a_read_out_takes_the_questions_otherwise(tmp_path):
    dm = load(tmp_path, LOOP)
    w = Walk(dm, ["Ana", "Ben"])
    block = [Ballot("Ana", "yes"), Ballot("Ben", "block", "not yet")]
    w.submit(block)
    w.submit(block)
    assert w.trace.stopped is None, w.trace.stopped
    assert w.trace.outcome == "no-end"
    talk = [s for s in w.trace.steps if s.node == "talk"][-1]
    assert "limit of 1 revisits; so: “Not enough”" in talk.explanation


def test_check_warns_about_a_loop_the_bound_would_stop(tmp_path):
    stuck = LOOP.replace("    otherwise: no-end\n  talk", "  talk")
    found = [d for d in check_map(load(tmp_path, stuck)) if d.code == "DM124"]
    assert len(found) == 1 and "talk" in found[0].line()
    assert not [d for d in check_map(load(tmp_path, LOOP)) if d.code == "DM124"]


# ---------------------------------------------------------------- block reasons


BLOCK = (HEAD + "defaults: {rule: consensus}\nnodes:\n"
         "  q:\n    ask: Agree?\n    choices: {yes: yes-end, no: no-end}\n"
         "    otherwise: no-end\n" + DONE)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_block_without_a_reason_is_asked_for_one(tmp_path, reason):
    w = Walk(load(tmp_path, BLOCK), ["Ana", "Ben"])
    with pytest.raises(WalkError, match="a block with no reason at question 'q', from Ben"):
        w.submit([Ballot("Ana", "yes"), Ballot("Ben", "block", reason)])


def test_an_objection_is_asked_for_one_too(tmp_path):
    consent = BLOCK.replace("rule: consensus", "rule: consent")
    with pytest.raises(WalkError, match="an objection with no reason"):
        Walk(load(tmp_path, consent), ["Ana"]).submit([Ballot("Ana", "object")])


def test_a_map_may_take_blocks_without_reasons(tmp_path):
    optional = BLOCK.replace("rule: consensus}", "rule: consensus, block_reasons: optional}")
    w = Walk(load(tmp_path, optional), ["Ana", "Ben"])
    step = w.submit([Ballot("Ana", "yes"), Ballot("Ben", "block")])
    assert step.decision.status == "blocked"


def test_the_batch_asks_for_a_reason_as_the_walk_does(tmp_path):
    dm = load(tmp_path, BLOCK)
    rows = [(2, {"\0member": "Ana", "q": "yes"}), (3, {"\0member": "Ben", "q": "block"})]
    refused = run_batch(dm, {"g1": rows}, "responses.csv").results[0]
    assert refused.error and "a block with no reason at question 'q'" in refused.error
    assert refused.outcome is None
    rows[1][1]["q"] = "block: we were not asked"
    assert run_batch(dm, {"g1": rows}, "responses.csv").results[0].outcome == "no-end"
