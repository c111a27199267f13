"""Outcome texts meet the walk: an answer given only on some paths reads as empty, and a
text that fails never loses the walk (the stepper and a resumed session keep going)."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision_map.check.checks import check_file
from decision_map.io.loader import load_map, load_text
from decision_map.io.session import Session
from decision_map.model.decision import Ballot
from decision_map.templating import TemplateError, render_text
from decision_map.walk.engine import Walk
from decision_map.walk.replay import replay

ROOT = Path(__file__).resolve().parent.parent
VOTES = ROOT / "tests" / "fixtures" / "step" / "votes.yaml"
GROUP = ["Ana", "Ben", "Cy"]


def votes(value: str) -> list[Ballot]:
    return [Ballot(m, value) for m in GROUP]


def test_an_answer_asked_only_on_another_path_reads_as_empty():
    """votes.yaml passes check, yet `hours` is asked only after "ahead": going "back",
    the text used to fail with 'hours' is undefined."""
    assert [d for d in check_file(str(VOTES)) if d.severity == "error"] == []
    walk = Walk(load_map(str(VOTES)), GROUP)
    walk.submit(votes("back"))
    assert walk.trace.outcome == "done"
    assert walk.trace.outcome_text == "Back to the drawing board."
    ahead = Walk(load_map(str(VOTES)), GROUP)
    ahead.submit(votes("ahead"))
    ahead.submit(votes("5"))
    assert ahead.trace.outcome_text == "15 hours a week."


@pytest.mark.parametrize("text,shown", [
    ("[{{ answers.never }}]", "[]"),
    ("{{ answers.never is defined }}", "False"),
    ("{{ answers.never | default('none given') }}", "none given"),
    ("{{ statuses['never'] }}|{{ texts.never | length }}", "|0"),
])
def test_missing_answers_statuses_and_texts_read_as_empty(text, shown):
    context = {"answers": {"q": "yes"}, "statuses": {"q": "decided"}, "texts": {}}
    assert render_text(text, context, "w") == shown


def test_an_unknown_top_level_name_is_still_an_error():
    with pytest.raises(TemplateError, match="'answerz' is undefined"):
        render_text("{{ answerz.q }}", {"answers": {}}, "w")


BROKEN = """id: broken
title: Broken text
version: "1"
start: q
nodes:
  q:
    ask: Go?
    choices: {"yes": done, "no": done}
    otherwise: done
  done:
    outcome: Done
    next_steps: [Go]
    text: "{{ answers.q > 3 }}"
"""


def test_a_failing_text_can_be_kept_and_the_walk_still_ends_at_its_outcome():
    dm = load_text(BROKEN, "broken.yaml")
    with pytest.raises(TemplateError):
        Walk(dm, GROUP).submit(votes("yes"))
    walk = Walk(dm, GROUP, keep_text_error=True)
    walk.submit(votes("yes"))
    assert walk.finished and walk.trace.outcome == "done"
    assert walk.trace.outcome_text is None
    assert walk.text_error and "broken.yaml: outcome 'done': template failed" in walk.text_error
    assert walk.back() and walk.text_error is None and not walk.finished


def test_a_session_ending_in_a_failing_text_still_resumes():
    dm = load_text(BROKEN, "broken.yaml")
    walk = Walk(dm, GROUP, keep_text_error=True)
    walk.submit(votes("yes"))
    session = Session.start(dm, GROUP)
    session.update_from(walk)
    r = replay(dm, session)
    assert r.problem is None and r.kept == 1
    assert r.walk.trace.outcome == "done" and r.walk.text_error
