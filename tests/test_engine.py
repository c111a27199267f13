"""The walk: routes, hand-offs and back, bounded loops, outcomes, traces."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision_map.errors import WalkError
from decision_map.io.loader import load_map
from decision_map.model.decision import Ballot
from decision_map.model.trace import Trace
from decision_map.walk.engine import Walk

FIX = Path(__file__).parent / "fixtures" / "engine"
GROUP = ["Ana", "Ben", "Cy"]


@pytest.fixture(scope="module")
def dm():
    return load_map(FIX / "main.yaml")


def every(value):
    return [Ballot(m, value) for m in GROUP]


def snapshot(w: Walk):
    """Everything observable about a walk's state."""
    return (w.current(), w.trace.to_json(), [s.to_json() for s in w.submissions])


def test_info_is_passed_and_recorded(dm):
    w = Walk(dm, GROUP)
    assert w.current().node_id == "goal"
    assert [s.node for s in w.trace.steps] == ["intro"]
    assert w.trace.steps[0].explanation == "Welcome. We decide together."


def test_a_whole_walk_to_form_with_template_text(dm):
    w = Walk(dm, GROUP)
    w.submit(every("yes"))
    w.submit([Ballot("Ana", 10), Ballot("Ben", 8), Ballot("Cy", 4)])
    w.submit(every("yes"))
    w.submit([Ballot("Ana", "Homes for all"), Ballot("Ben", "No evictions")])
    step = w.submit([Ballot("Ana", "yes"), Ballot("Ben", "yes"), Ballot("Cy", "stand-aside")])
    assert step.explanation == 'Consensus on "yes": 2 agree, 1 stands aside (Cy).'
    t = w.trace
    assert (t.outcome, t.verdict) == ("form", "form")
    assert t.outcome_text == "3 members; 22 hours; 2 sentences."
    assert t.next_steps == ["Draft the charter"]
    assert [s.node for s in t.steps] == [
        "intro", "goal", "hours", "red-lines", "words", "route", "final", "form"]
    route = next(s for s in t.steps if s.node == "route")
    assert (route.route_kind, route.route_value) == ("when", "case 1")


def test_number_branch_and_otherwise(dm):
    w = Walk(dm, GROUP)
    w.submit(every("yes"))
    step = w.submit(every(1))
    assert (step.route_kind, step.next) == ("otherwise", "network")
    assert w.trace.outcome == "network"


def test_handoff_into_another_map_and_back(dm):
    w = Walk(dm, GROUP)
    w.submit(every("yes"))
    w.submit(every(5))
    w.submit([Ballot("Ana", "yes"), Ballot("Ben", "object", "too vague"), Ballot("Cy", "yes")])
    pos = w.current()
    assert (pos.map_id, pos.node_id, pos.depth) == ("sub", "talk", 1)
    w.submit(every("yes"))
    pos = w.current()
    assert (pos.map_id, pos.node_id, pos.depth, pos.visit) == ("main", "red-lines", 0, 2)
    back = [s for s in w.trace.steps if s.node == "dissent"]
    assert [(s.route_kind, s.route_value) for s in back] == [(None, None), ("return", "resolved")]
    assert [s.map_id for s in w.trace.steps if s.node in ("talk", "resolved")] == ["sub", "sub"]
    # and back() out of the hand-off lands inside it again, exactly
    before = snapshot(w)
    w.submit(every("yes"))
    assert w.back()
    assert snapshot(w) == before


def test_block_loops_back_twice_then_takes_otherwise(dm):
    w = Walk(dm, GROUP)
    w.submit(every("yes"))
    w.submit(every(20))
    w.submit(every("yes"))
    w.submit(every("words"))
    block = [Ballot("Ana", "yes"), Ballot("Ben", "block", "not yet"), Ballot("Cy", "yes")]
    s1 = w.submit(block)
    assert (s1.route_kind, s1.next, w.current().visit) == ("status", "final", 2)
    s2 = w.submit(block)
    assert (s2.route_kind, s2.next, w.current().visit) == ("status", "final", 3)
    s3 = w.submit(block)
    assert (s3.route_kind, s3.next) == ("otherwise", "not-now")
    assert "limit of 2 revisits" in s3.explanation and "so: " in s3.explanation
    assert w.trace.outcome == "not-now"


def test_back_after_each_kind_of_step_restores_the_exact_state(dm):
    w = Walk(dm, GROUP)
    script = [
        every("yes"),                              # choice question (after an info step)
        every(10),                                 # number question
        every("yes"),                              # consent
        every("Our words"),                        # text, then a check passes
        every("yes"),                              # final -> outcome
    ]
    states = [snapshot(w)]
    for ballots in script:
        w.submit(ballots)
        states.append(snapshot(w))
    assert w.finished
    for expected in reversed(states[:-1]):
        assert w.back()
        assert snapshot(w) == expected
    assert not w.back()


def test_tie_routes_to_its_own_route_and_quorum(dm):
    w = Walk(dm, ["Ana", "Ben"])
    s = w.submit([Ballot("Ana", "yes"), Ballot("Ben", "no")])
    assert (s.decision.status, s.route_kind, s.next) == ("tie", "status", "goal")
    w2 = Walk(dm, GROUP + ["Dee", "Eli"])
    for ballots in (every("yes"), every(30), every("yes"), every("w")):
        w2.submit(ballots)
    s = w2.submit([Ballot("Ana", "yes"), Ballot("Ben", "yes")])
    assert s.decision.status == "no_quorum" and s.next == "not-now"
    assert s.explanation == "No quorum: 2 of 5 took part, 3 needed (60%)."


def test_trace_survives_json_and_names_the_map(dm):
    w = Walk(dm, GROUP)
    for ballots in (every("yes"), every(12), every("yes"), every("x"), every("yes")):
        w.submit(ballots)
    t = w.trace
    again = Trace.loads(t.dumps())
    assert again.to_json() == t.to_json()
    assert (again.map_id, again.map_version, again.map_sha256) == ("main", "1", dm.sha256)


def test_replaying_saved_submissions_gives_the_same_walk(dm):
    w = Walk(dm, GROUP)
    for ballots in (every("yes"), every(12)):
        w.submit(ballots)
    again = Walk(dm, GROUP, w.submissions)
    assert snapshot(again) == snapshot(w)


def test_bad_votes_and_groups_are_walk_errors(dm):
    w = Walk(dm, GROUP)
    with pytest.raises(WalkError, match="'maybe' is not a choice at question 'goal'"):
        w.submit([Ballot("Ana", "maybe")])
    with pytest.raises(WalkError, match="more than once"):
        Walk(dm, ["Ana", "Ana"])
    assert w.current().node_id == "goal" and not w.submissions


def test_outcome_text_can_read_each_question_status(tmp_path):
    m = tmp_path / "s.yaml"
    m.write_text('id: s\ntitle: S\nversion: "1"\nstart: q\nnodes:\n'
                 '  q: {ask: Go?, rule: consensus, choices: {yes: e}, otherwise: e}\n'
                 '  e: {outcome: End, next_steps: [x], text: "q was {{ statuses.q }}"}\n')
    w = Walk(load_map(m), ["Ana", "Ben"])
    w.submit([Ballot("Ana", "yes"), Ballot("Ben", "block", "no")])
    assert w.trace.outcome_text == "q was blocked"


def test_a_map_with_a_dangling_route_is_refused_in_one_line(tmp_path, cli, one_line_error,
                                                              shipped_maps):
    """A walk never reaches a node that is not there: `run` and `test` on a map the
    checker refuses (a typo'd `next`) say so in one line instead of an internal error."""
    src = next(p for p in shipped_maps if p.stem == "working-through-dissent")
    text = src.read_text()
    start = text.index("next: ")
    end = text.index("\n", start)
    broken = tmp_path / "m.yaml"
    broken.write_text(text[:start] + "next: nowhere-x" + text[end:])
    answers = tmp_path / "a.yaml"
    answers.write_text("group: [Ana]\nanswers: {}\n")
    line = one_line_error(cli("run", str(broken), str(answers)))
    assert "'nowhere-x', which is not a node of the map" in line
    p = cli("test", str(broken), str(src.parent / "scenarios" / src.name))
    assert p.returncode == 1 and "internal error" not in p.stderr + p.stdout
    assert "nowhere-x" in p.stdout
