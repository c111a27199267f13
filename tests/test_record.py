"""The record a group takes home says what was decided: the proposal voted on (and its
amended versions), the minority with reasons and what was done, notes and actions, and
who carries the decision out (issue "record")."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from decision_map_render.report import report_html, report_markdown

from decision_map.check.checks import check_file
from decision_map.errors import WalkError
from decision_map.io.answers import load_answers
from decision_map.io.loader import load_map
from decision_map.model.decision import Ballot
from decision_map.model.minutes import Action, Minutes
from decision_map.model.trace import Trace
from decision_map.walk.engine import Walk
from decision_map.walk.replay import run_answers

HERE = Path(__file__).resolve().parent / "fixtures" / "record"
MAP = HERE / "record.yaml"
ANSWERS = HERE / "answers.yaml"
GROUP = ["Ana", "Ben", "Cy", "Dee"]
EXE = str(Path(sys.executable).parent / "decision-map")


def dm(*args: str) -> subprocess.CompletedProcess:
    """The installed command, as a user runs it."""
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture(scope="module")
def trace() -> Trace:
    dm = load_map(str(MAP))
    return run_answers(dm, load_answers(str(ANSWERS), dm), str(ANSWERS))


@pytest.fixture(scope="module")
def markdown(trace: Trace) -> str:
    return report_markdown(load_map(str(MAP)), trace, None, date="2025-05-01")


def test_the_proposal_is_kept_with_every_version_and_the_vote_on_the_last(trace: Trace) -> None:
    statement = [s for s in trace.steps if s.node == "statement"]
    assert statement[0].proposal == ("Rents here must fall.",)
    assert statement[1].proposal == ("Rents here must fall.",
                                     "Rents here must fall and repairs must be made.")
    plan = next(s for s in trace.steps if s.node == "plan")
    assert plan.proposal == ("We run the campaign together for six months, then review.",)


def test_the_report_prints_the_proposal_beside_the_decision(markdown: str) -> None:
    assert "> We run the campaign together for six months, then review." in markdown
    assert "version 2, as amended" in markdown


def test_stand_asides_are_not_among_those_who_agree(trace: Trace, markdown: str) -> None:
    assert trace.outcome_text is not None
    assert trace.outcome_text.startswith("Ana, Ben, Cy agree")
    assert trace.carried_by == ["Ana", "Ben", "Cy"]
    assert "**Carried out by:** Ana, Ben, Cy\n" in markdown


def test_the_minority_record_has_each_reason_and_what_was_done(markdown: str) -> None:
    part = markdown.split("## Minority and reservations", 1)[1]
    assert "**Cy** blocked: it says nothing about repairs" in part
    assert "**Dee** stood aside: we campaign on repairs only" in part
    assert "The proposal was amended (version 2) and put to the vote again at step 4" in part
    assert "Note: Cy: the statement must name repairs." in part


def test_notes_and_actions_reach_trace_report_and_run_json(trace: Trace, markdown: str,
                                                            tmp_path: Path) -> None:
    plan = next(s for s in trace.steps if s.node == "plan")
    assert plan.minutes.actions == (Action("Ana", "2025-06-01", "Book the hall"),)
    assert "- Action: Book the hall (Ana, by 2025-06-01)" in markdown
    out = dm("run", str(MAP), str(ANSWERS), "--json")
    assert out.returncode == 0, out.stderr
    steps = json.loads(out.stdout)["steps"]
    assert {"who": "Ana", "by": "2025-06-01", "what": "Book the hall"} in [
        a for s in steps for a in s.get("actions", [])]
    assert Trace.loads(trace.dumps()).steps == trace.steps  # and back, unchanged


def test_every_action_and_next_step_has_its_owner_and_date(trace: Trace,
                                                          markdown: str) -> None:
    assert trace.owners == {1: ("Ben", "2025-05-15")}
    assert "- [ ] Book the first action meeting. (owner: Ben, by 2025-05-15)" in markdown
    assert Trace.loads(trace.dumps()).owners == trace.owners


def test_the_html_report_has_the_minority_part(trace: Trace) -> None:
    page = report_html(load_map(str(MAP)), trace, date="2025-05-01", svg="<svg></svg>")
    assert "Minority and reservations" in page
    assert "we campaign on repairs only" in page


def test_an_amendment_survives_back_and_replay() -> None:
    dm = load_map(str(MAP))
    walk = Walk(dm, GROUP)
    walk.submit([Ballot(m, "Rents went up.") for m in GROUP])
    walk.submit([Ballot(None, "Rents must fall.")])
    block = [Ballot("Cy", "block", "too vague")] + [Ballot(m, "yes") for m in
                                                    ("Ana", "Ben", "Dee")]
    walk.submit(block, minutes=Minutes(notes=("Cy wants repairs named.",)))
    pos = walk.current()
    assert pos is not None and pos.proposal == ("Rents must fall.",)
    walk.submit([Ballot(m, "yes") for m in GROUP],
                minutes=Minutes(amendments=("Rents must fall; repairs too.",)))
    assert walk.current().proposal == (  # type: ignore[union-attr]
        "We run the campaign together for six months, then review.",)
    again = Walk(dm, GROUP, walk.submissions)
    assert [s.to_json() for s in again.trace.steps] == [s.to_json() for s in walk.trace.steps]
    walk.back()
    assert walk.current().proposal == ("Rents must fall.",)  # type: ignore[union-attr]


HEAD = 'id: demo\ntitle: Demo\nversion: "1"\nstart: q\nnodes:\n'
DONE = "  done: {outcome: Done, next_steps: [Celebrate]}\n"


@pytest.mark.parametrize(("body", "code", "where"), [
    ("  q:\n    ask: Words?\n    text: each\n    next: v\n"
     "  v:\n    ask: Agree?\n    proposal_from: q\n    choices: {yes: done}\n"
     "    otherwise: done\n", "DM130", ":12:"),
    ("  q:\n    ask: Agree?\n    proposal_from: nowhere\n    choices: {yes: done}\n"
     "    otherwise: done\n", "DM130", ":8:"),
    ("  q:\n    ask: Do we consent to the proposal?\n    rule: consent\n"
     "    choices: {yes: done}\n    otherwise: done\n", "DM131", ":7:"),
    # the sentence is written on one branch only: the other votes on nothing
    ("  q:\n    ask: Write it now?\n    choices: {yes: a, no: v}\n"
     "  a:\n    ask: Words?\n    text: one\n    next: v\n"
     "  v:\n    ask: Agree?\n    proposal_from: a\n    choices: {yes: done}\n"
     "    otherwise: done\n", "DM130", ":15:"),
    # the sentence is written after the vote
    ("  q:\n    ask: Agree?\n    proposal_from: a\n    choices: {yes: a}\n"
     "    otherwise: done\n  a:\n    ask: Words?\n    text: one\n    next: done\n",
     "DM130", ":8:"),
])
def test_the_checker_locates_misused_proposals(tmp_path: Path, body: str, code: str,
                                               where: str) -> None:
    f = tmp_path / "map.yaml"
    f.write_text(HEAD + body + DONE)
    found = [d for d in check_file(str(f)) if d.code == code]
    assert found, [str(d) for d in check_file(str(f))]
    assert where in str(found[0].where)


def test_a_proposal_from_a_sentence_written_on_every_path_is_fine(tmp_path: Path) -> None:
    f = tmp_path / "map.yaml"
    f.write_text(HEAD.replace("start: q", "start: s") +
                 "  s:\n    ask: Words?\n    text: one\n    next: q\n"
                 "  q:\n    ask: Now?\n    choices: {yes: v, no: w}\n    otherwise: w\n"
                 "  w: {say: Think it over., next: v}\n"
                 "  v:\n    ask: Agree?\n    proposal_from: s\n    choices: {yes: done}\n"
                 "    otherwise: done\n" + DONE)
    assert [str(d) for d in check_file(str(f)) if d.severity == "error"] == []


def test_the_stepper_writes_down_notes_actions_and_amendments(tmp_path: Path) -> None:
    sess = tmp_path / "s.json"
    lines = ["Up.", "Up.", "Up.", "Up.", "", "Rents must fall.", "",
             "note Cy wants repairs named", "yes", "yes", "b", "Nothing on repairs", "yes", "",
             "amend Rents must fall and repairs be made.", "yes", "yes", "yes", "yes", "",
             "action Ana; 1 June; book the hall", "yes", "yes", "yes", "s", "",
             "Any tenants' group.", "", "yes 3, no 1", "", "owner 1 Ben; 15 May", "n"]
    r = subprocess.run([EXE, "step", str(MAP), "--group", ", ".join(GROUP), "--session",
                        str(sess)], input="\n".join(lines) + "\n", capture_output=True,
                       text=True, timeout=60, env={**os.environ, "NO_COLOR": "1",
                                                   "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "The proposal (version 2, amended):" in r.stdout
    saved = json.loads(sess.read_text())
    subs = saved["submissions"]
    assert subs[2]["notes"] == ["Cy wants repairs named"]
    assert subs[3]["amendments"] == ["Rents must fall and repairs be made."]
    assert subs[4]["actions"] == [{"who": "Ana", "by": "1 June", "what": "book the hall"}]
    assert saved["next_step_owners"] == [{"step": 1, "who": "Ben", "by": "15 May"}]
    assert "Secret ballot" in r.stdout
    assert not any(b["member"] for b in subs[-1]["ballots"])


def _part(markdown: str, heading: str) -> str:
    return markdown.split(f". {heading}\n", 1)[1].split("\n### ", 1)[0]


def test_the_charter_is_filled_from_what_was_adopted(markdown: str) -> None:
    assert "Rents here must fall and repairs must be made." in _part(
        markdown, "What we are for and against")  # the amended statement, not the draft
    assert "Any tenants' group in the city" in _part(markdown, "Membership")
    assert "six months, then review" in _part(markdown, "Goals")
    decide = _part(markdown, "How we decide")
    assert "Not adopted" in decide
    assert "The question “How will we decide, in one sentence?” would fill it" in decide


def test_raw_statements_never_stand_in_for_adopted_text(markdown: str) -> None:
    document = markdown.split("## The coalition charter", 1)[1].split("## How we got here")[0]
    assert "Rents here must fall.\n" not in document  # the draft, before it was amended
    assert "- Rents here must fall." in markdown  # kept apart, in the record of the round


STORIES = ("Our rent doubled.", "We were evicted.", "Repairs never come.", "We moved out.")


@pytest.fixture(scope="module")
def written(trace: Trace, markdown: str, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, str]:
    """Every file a walk of the record map writes: trace, session, both reports."""
    from decision_map.io.session import Session, save

    dm = load_map(str(MAP))
    answers = load_answers(str(ANSWERS), dm)
    walk = Walk(dm, answers.group)
    source, minutes = answers.source(dm.id), answers.minutes_source(dm.id)
    while (pos := walk.current()) is not None:
        walk.submit(source(pos) or [], minutes=minutes(pos))
    folder = tmp_path_factory.mktemp("written")
    session = Session.start(dm, answers.group)
    session.update_from(walk, "members")
    save(session, folder / "s.json")
    return {"trace": trace.dumps(), "session": (folder / "s.json").read_text(),
            "report.md": markdown,
            "report.html": report_html(dm, trace, date="2025-05-01", svg="<svg></svg>")}


def test_a_record_none_round_leaves_no_words_anywhere(written: dict[str, str]) -> None:
    for name, text in written.items():
        for words in STORIES:
            assert words not in text, (name, words)
    assert "Kept out of the record" in written["report.md"]


def test_a_secret_ballot_links_no_name_to_a_vote_anywhere(written: dict[str, str]) -> None:
    trace = json.loads(written["trace"])
    step = next(s for s in trace["steps"] if s["node"] == "share-lists")
    session = json.loads(written["session"])
    sub = next(s for s in session["submissions"] if s["node"] == "share-lists")
    for part in (json.dumps(step), json.dumps(sub)):
        assert not any(name in part for name in GROUP), part
    assert "our members are at risk" in json.dumps(step)  # the reason, without a name
    assert step["decision"]["status"] == "blocked"  # the secret block is counted
    for name in ("report.md", "report.html"):
        text = written[name]
        at = text.index("Do we share each group")
        entry = text[at:at + 1500].split("Minority and reservations")[0]
        entry = entry.split("Outcome: Run")[0]
        assert not any(m in entry for m in GROUP), (name, entry)
        minority = text.split("Minority and reservations", 1)[1]
        line = minority[minority.index("our members are at risk") - 200:][:260]
        assert not any(m in line for m in GROUP), (name, line)


def test_the_report_names_no_local_path(written: dict[str, str]) -> None:
    for name in ("report.md", "report.html"):
        assert str(HERE) not in written[name]
        assert "record.yaml" in written[name]


def test_a_task_force_outcome_gets_its_one_page_scope(tmp_path: Path) -> None:
    f = tmp_path / "tf.yaml"
    f.write_text(HEAD + "  q:\n    ask: What is the task force for, in one sentence?\n"
                 "    text: one\n    records: task-force-scope.purpose\n    next: done\n"
                 "  done:\n    outcome: A task force\n    document: task-force-scope\n"
                 "    next_steps: [Meet]\n")
    m = load_map(str(f))
    t = Walk(m, GROUP)
    t.submit([Ballot(None, "Stop the eviction on Elm Street.")])
    md = report_markdown(m, t.trace, None, date="2025-05-01")
    assert "## The task force's scope (one page)" in md
    assert "Stop the eviction on Elm Street." in _part(md, "What the task force is for")
    assert "charter" not in md.lower()


@pytest.mark.parametrize(("records", "text", "says"), [
    ("charter.membrship", "one", "did you mean charter.membership?"),
    ("charte.membership", "one", "names no document"),
    ("charter.membership", "each", "raw statements"),
])
def test_the_checker_locates_a_records_naming_no_part(tmp_path: Path, records: str,
                                                       text: str, says: str) -> None:
    f = tmp_path / "map.yaml"
    f.write_text(HEAD + f"  q:\n    ask: Who may join?\n    text: {text}\n"
                 f"    records: {records}\n    next: done\n" + DONE)
    found = [d for d in check_file(str(f)) if d.code == "DM132"]
    assert found and ":9:" in str(found[0].where) and says in str(found[0]), found


def test_a_member_who_joins_is_counted_from_that_step_on() -> None:
    dm = load_map(str(MAP))
    walk = Walk(dm, GROUP)
    walk.submit([Ballot(m, "Up.") for m in GROUP])
    walk.regroup([*GROUP[:2], "Dee", "Eli"])  # Cy left, Eli joined, between questions
    step = walk.submit([Ballot(None, "Rents must fall.")])
    assert step.group == ("Ana", "Ben", "Dee", "Eli")
    step = walk.submit([Ballot(m, "yes") for m in ("Ana", "Ben", "Dee")])
    assert step.decision is not None and step.decision.absent == ("Eli",)
    assert step.group is None  # no change since the step before
    again = Walk(dm, GROUP, walk.submissions)  # a resume replays the change
    assert again.group == ["Ana", "Ben", "Dee", "Eli"]
    assert [s.to_json() for s in again.trace.steps] == [s.to_json() for s in walk.trace.steps]
    md = report_markdown(dm, walk.trace, None, date="2025-05-01")
    assert "*Joined: Eli. Left: Cy. The group here: Ana, Ben, Dee, Eli.*" in md


def test_a_format_1_session_resumes_and_a_member_added_on_resume_counts(tmp_path: Path) -> None:
    sess = tmp_path / "old.json"
    sess.write_text(json.dumps({
        "format": "decision-map-session", "format_version": 1,
        "map": {"path": str(MAP), "id": "record-demo", "version": "1", "sha256": "x" * 64,
                "title": "t"},
        "group": GROUP,
        "submissions": [{"map_id": "record-demo", "node": "stories",
                         "ballots": [{"member": m, "value": "Up."} for m in GROUP]}],
        "mode": "members"}))
    lines = ["Rents must fall.", "", "yes", "yes", "yes", "yes", "yes", "", "quit"]
    r = subprocess.run([EXE, "step", "--resume", str(sess), "--group",
                        ", ".join([*GROUP, "Eli"])], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "NO_COLOR": "1", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Joined: Eli." in r.stdout
    saved = json.loads(sess.read_text())
    assert saved["format_version"] == 2 and saved["group"] == GROUP
    assert saved["submissions"][1]["group"] == [*GROUP, "Eli"]
    assert [b["member"] for b in saved["submissions"][2]["ballots"]] == [*GROUP, "Eli"]
    # counted from that step on: not at the step the format-1 session held
    from decision_map.io.session import load
    from decision_map.walk.replay import replay

    steps = replay(load_map(str(MAP)), load(sess)).walk.trace.steps
    assert steps[0].decision is not None and steps[0].decision.members == 4
    assert steps[0].group is None and steps[1].group == (*GROUP, "Eli")
    assert steps[2].decision is not None and steps[2].decision.members == 5


def test_revisit_keeps_the_earlier_decisions_superseded(tmp_path: Path) -> None:
    dm = load_map(str(MAP))
    answers = load_answers(str(ANSWERS), dm)
    walk = Walk(dm, answers.group)
    source = answers.source(dm.id)
    while (pos := walk.current()) is not None:
        walk.submit(source(pos) or [])
    before = len(walk.trace.steps)
    walk.revisit("plan")
    assert walk.current().node_id == "plan"  # type: ignore[union-attr]
    assert walk.trace.outcome is None
    assert len(walk.trace.steps) == before  # nothing erased
    gone = [s.node for s in walk.trace.steps if s.superseded]
    assert gone == ["plan", "membership", "share-lists", "together"]
    walk.submit([Ballot(m, "yes") for m in GROUP])
    again = Walk(dm, answers.group, walk.submissions)  # a resume replays the revisit
    assert [s.to_json() for s in again.trace.steps] == [s.to_json() for s in walk.trace.steps]
    md = report_markdown(dm, walk.trace, None, date="2025-05-01")
    assert md.count("(superseded: the group went back before this step)") == 3
    walk.back()
    walk.back()  # back undoes the revisit itself: the branch is live again
    assert not any(s.superseded for s in walk.trace.steps)
    assert walk.trace.outcome == "together"


@pytest.fixture(scope="module")
def revisited() -> Trace:
    """The record map walked to its end, then revisited at the statement, which the
    group now turns down: steps 4 to 8 are superseded, 9 and 10 the live path."""
    dm = load_map(str(MAP))
    answers = load_answers(str(ANSWERS), dm)
    walk = Walk(dm, answers.group)
    source = answers.source(dm.id)
    while (pos := walk.current()) is not None:
        walk.submit(source(pos) or [])
    walk.revisit("statement")
    walk.submit([Ballot(m, "no") for m in GROUP])
    return walk.trace


def test_the_picture_keeps_superseded_steps_apart_from_the_live_path(revisited: Trace
                                                                     ) -> None:
    from decision_map_render.diagram import build
    from decision_map_render.dot import PATH, SUPERSEDED, to_dot
    from decision_map_render.draw import draw
    from decision_map_render.mermaid import to_mermaid

    m = load_map(str(MAP))
    d = build(m, revisited)
    by_key = {n.key: n for n in d.nodes}
    assert by_key["statement"].steps == (3, 9) and by_key["statement"].superseded == (4,)
    assert by_key["plan"].only_superseded and by_key["together"].only_superseded
    assert by_key["not-now"].on_path and not by_key["how-decide"].superseded
    assert "superseded: step 5" in by_key["plan"].lines()
    edges = {(d.node(e.source).key, d.node(e.target).key): e for e in d.edges}
    assert edges[("statement", "plan")].superseded
    assert not edges[("statement", "plan")].taken
    assert edges[("statement", "not-now")].taken
    assert not edges[("plan", "how-decide")].superseded  # never taken at all

    dot = to_dot(m, revisited)
    plan_line = next(line for line in dot.splitlines() if "Do we consent" in line)
    assert "dashed" in plan_line and SUPERSEDED in plan_line and PATH not in plan_line
    assert "superseded: step 5" in plan_line
    assert "(revisited)" in dot  # the legend says what the dashed dark lines are
    mermaid = to_mermaid(m, revisited)
    ids = {n.key: n.id for n in d.nodes}
    superseded_class = next(line for line in mermaid.splitlines()
                            if line.strip().startswith("class ") and
                            line.endswith(" superseded"))
    assert ids["plan"] in superseded_class and ids["not-now"] not in superseded_class
    svg = draw(dot, "svg").decode()
    assert "superseded: step 8" in svg and SUPERSEDED in svg


def test_a_picture_without_a_revisit_marks_nothing_superseded(trace: Trace) -> None:
    from decision_map_render.dot import to_dot

    dot = to_dot(load_map(str(MAP)), trace)
    assert "superseded" not in dot


STEPS = HERE / "steps.yaml"


def test_an_answers_file_in_steps_replays_revisits_joins_and_leaves() -> None:
    m = load_map(str(MAP))
    trace = run_answers(m, load_answers(str(STEPS), m), str(STEPS))
    assert trace.outcome == "not-now"
    assert [(s.node, s.superseded) for s in trace.steps if s.decision is not None] == [
        ("stories", False), ("draft", False), ("statement", False), ("statement", True),
        ("plan", True), ("membership", True), ("statement", False)]
    plan = next(s for s in trace.steps if s.node == "plan")
    assert plan.group == ("Ana", "Ben", "Dee", "Eli")  # Cy left, Eli joined before it
    assert plan.decision is not None and plan.decision.stood_aside == ("Eli",)
    assert plan.minutes.actions == (Action("Ana", "2025-06-01", "Book the hall"),)
    last = trace.steps[-2]
    assert last.node == "statement" and last.group == ("Ana", "Ben", "Dee", "Eli")
    assert last.minutes.notes == ("With Eli here, the group would rather wait.",)
    # the same moves made one by one on a walk give the same trace
    walk = Walk(m, GROUP)
    walk.submit([Ballot(g, "Up.") for g in GROUP])
    walk.submit([Ballot(None, "Rents here must fall.")])
    walk.submit([Ballot("Ana", "yes"), Ballot("Ben", "yes"),
                 Ballot("Cy", "block", "it says nothing about repairs"), Ballot("Dee", "yes")],
                minutes=Minutes(notes=("Cy: the statement must name repairs.",)))
    walk.submit([Ballot(g, "yes") for g in GROUP],
                minutes=Minutes(amendments=("Rents here must fall and repairs must be made.",)))
    walk.regroup(["Ana", "Ben", "Dee"])
    walk.regroup(["Ana", "Ben", "Dee", "Eli"])
    walk.submit([Ballot("Ana", "yes"), Ballot("Ben", "yes"), Ballot("Dee", "yes"),
                 Ballot("Eli", "stand-aside")],
                minutes=Minutes(actions=(Action("Ana", "2025-06-01", "Book the hall"),)))
    walk.submit([Ballot(None, "Any tenants' group in the city.")])
    walk.revisit("statement")
    walk.submit([Ballot(g, "no") for g in ("Ana", "Ben", "Dee", "Eli")],
                minutes=Minutes(notes=("With Eli here, the group would rather wait.",)))
    assert [s.to_json() for s in walk.trace.steps] == [s.to_json() for s in trace.steps]
    md = report_markdown(m, trace, None, date="2025-05-01")
    assert "(superseded: the group went back before this step)" in md
    minority = md.split("## Minority and reservations", 1)[1]
    eli = minority.split("**Eli** stood aside", 1)[1].split("**Step", 1)[0]
    assert "The group later went back before this step: it is superseded." in eli
    page = report_html(m, trace, date="2025-05-01", svg="<svg></svg>")
    assert page.count('class="step depth-0 superseded"') == 3
    assert "dashed in dark grey and marked “superseded”" in page


def test_a_revisit_only_goes_back_along_the_live_branch() -> None:
    m = load_map(str(MAP))
    walk = Walk(m, GROUP)
    walk.submit([Ballot(g, "Up.") for g in GROUP])
    walk.submit([Ballot(None, "Rents must fall.")])
    walk.submit([Ballot(g, "yes") for g in GROUP])
    walk.submit([Ballot(g, "yes") for g in GROUP])  # plan
    walk.revisit("statement")
    with pytest.raises(WalkError, match="'plan' on this branch"):
        walk.revisit("plan")  # superseded by the revisit: not passed on this branch
    walk.revisit("draft")  # passed on it: fine
    assert walk.current().node_id == "draft"  # type: ignore[union-attr]


@pytest.mark.parametrize(("steps", "where", "says"), [
    ("  - revisit: plan\n", ":5:14:", "'plan' is not answered in an earlier step"),
    ("  - statement: yes\n  - plan: yes\n  - revisit: statement\n  - revisit: plan\n",
     ":8:14:", "'plan' is not answered in an earlier step on this branch"),
    ("  - leave: Zed\n", ":5:12:", "'Zed' is not in the group here (Ana, Ben, Cy, Dee)"),
    ("  - leave: Cy\n  - statement: {Cy: yes, Ana: yes}\n", ":6:17:", "'Cy' is not in the group"),
    ("  - join: Ana\n", ":5:11:", "'Ana' is already in the group"),
    ("  - plan: yes\n", ":5:5:", "this step answers 'plan', but the walk is at 'statement'"),
    ("  - statement: yes\n    join: Eli\n", ":6:5:", "a step is one of"),
    ("  - statment: yes\n", ":5:5:", "did you mean 'statement'?"),
    ("  - statement: yes\n  - plan: yes\n  - membership: Anyone.\n  - share-lists: yes\n"
     "  - leave: Ana\n", ":9:5:", "the walk has already ended at 'together'"),
])
def test_misused_steps_give_one_located_line(tmp_path: Path, steps: str, where: str,
                                             says: str) -> None:
    f = tmp_path / "steps.yaml"
    f.write_text("group: [Ana, Ben, Cy, Dee]\nsteps:\n  - stories: Up.\n"
                 "  - draft: Rents must fall.\n" + steps)
    r = dm("run", str(MAP), str(f))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{f}{where}" in r.stderr and says in r.stderr, r.stderr


def test_a_scenario_case_can_be_written_in_steps(tmp_path: Path) -> None:
    from decision_map.walk.scenarios import run_scenarios

    f = tmp_path / "cases.yaml"
    f.write_text("cases:\n  - name: back to the statement\n    group: [Ana, Ben]\n"
                 "    steps:\n      - stories: Up.\n      - draft: Rents must fall.\n"
                 "      - statement: yes\n      - revisit: statement\n"
                 "      - statement: no\n"
                 "    expect: {outcome: not-now, path: [stories, draft, statement, statement,"
                 " not-now]}\n")
    report = run_scenarios(load_map(str(MAP)), str(f))
    assert [(c.passed, c.problems) for c in report.results] == [(True, [])]


def test_the_checker_locates_a_secret_ballot_under_a_rule_that_needs_names(tmp_path: Path
                                                                           ) -> None:
    f = tmp_path / "map.yaml"
    f.write_text(HEAD + "  q:\n    ask: Rank the venues.\n    rule: ranked\n"
                 "    secret: true\n    choices: {hall: done, park: done}\n"
                 "    otherwise: done\n" + DONE)
    found = [d for d in check_file(str(f)) if d.code == "DM133"]
    assert found and ":9:" in str(found[0].where), [str(d) for d in check_file(str(f))]


def _doc_words(name: str) -> set[str]:
    """Every word written as code (in backticks) in docs/NAME."""
    text = (HERE.parents[2] / "docs" / name).read_text()
    return {w for span in re.findall(r"`([^`]*)`", text) for w in re.findall(r"[a-z_]+", span)}


def _json_keys(data: object) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _json_keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _json_keys(v)}
    return set()


def test_the_docs_name_every_key_the_record_reads_and_writes(tmp_path: Path) -> None:
    from decision_map.io.answers import MINUTE_WORDS, MOVE_WORDS, TOP_KEYS
    from decision_map.io.session import Session

    assert set(TOP_KEYS) | set(MINUTE_WORDS) | set(MOVE_WORDS) <= _doc_words("answers.md")
    m = load_map(str(MAP))
    answers = load_answers(str(STEPS), m)
    trace = run_answers(m, answers, str(STEPS))
    trace.owners = {1: ("Ben", "2025-05-15")}
    record = {"proposal", "notes", "actions", "who", "by", "what", "group", "superseded",
              "next_step_owners", "step"}
    written = _json_keys(trace.to_json())
    assert record <= written  # the keys are real: this walk writes each of them
    assert record <= _doc_words("answers.md")
    walk = Walk(m, answers.group)
    for move in answers.moves:
        if move.kind == "revisit":
            walk.revisit(move.key)
        elif move.kind == "answer":
            walk.submit(move.ballots, minutes=move.minutes)
        else:
            walk.regroup([*walk.group, *move.names] if move.kind == "join" else
                         [g for g in walk.group if g not in move.names])
    session = Session.start(m, answers.group)
    session.update_from(walk, "members")
    session.owners = trace.owners
    saved = {"amendments", "notes", "actions", "who", "by", "what", "group", "revisit",
             "group_now", "next_step_owners"}
    assert saved <= _json_keys(session.to_json())
    assert saved <= _doc_words("step.md")


def test_the_answers_schema_has_every_key_the_loader_reads_and_fits_real_files() -> None:
    import jsonschema
    import yaml

    from decision_map.io.answers import MINUTE_WORDS, MOVE_WORDS, TOP_KEYS
    from decision_map.io.schema import answers_schema

    schema = answers_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    assert set(schema["properties"]) == set(TOP_KEYS)
    assert set(schema["definitions"]["minutes"]["properties"]) == set(MINUTE_WORDS)
    moves = {k for v in schema["definitions"]["step"]["anyOf"] for k in v.get("required", [])}
    assert moves == set(MOVE_WORDS)
    check = jsonschema.Draft7Validator(schema)
    files = [yaml.safe_load(p.read_text()) for p in (ANSWERS, STEPS)]
    shipped = HERE.parents[2] / "maps" / "scenarios"
    cases = [c for p in sorted(shipped.glob("*.yaml"))
             for c in yaml.safe_load(p.read_text())["cases"]]
    assert len(cases) > 20
    for data in files + [{k: c[k] for k in ("group", "answers", "steps") if k in c}
                         for c in cases]:
        assert [e.message for e in check.iter_errors(data)] == []
    group = ["Ana"]
    for bad in ({"group": group, "answers": {}, "steps": [{"q": "yes"}]},
                {"group": group, "steps": [{"q": "yes"}], "minutes": {}},
                {"group": group, "steps": [{"q": "yes", "join": "Ben"}]},
                {"group": group, "steps": [{"revisit": "q", "notes": ["x"]}]},
                {"group": group, "answers": {"q": {"Ana": {"vote": "block", "why": "x"}}}}):
        assert list(check.iter_errors(bad)), bad
    out = dm("schema", "--answers")
    assert out.returncode == 0 and json.loads(out.stdout) == schema


def test_every_part_of_the_record_through_run_trace_and_report(tmp_path: Path) -> None:
    """The issue's "done when", end to end with the installed command: a walk using every
    part of the record, `run --trace`, then `report` to Markdown (with its picture) and
    HTML; every written file is searched."""
    full = HERE / "full.yaml"
    trace_file, md_file, html_file = (tmp_path / n for n in ("t.json", "r.md", "r.html"))
    r = dm("run", str(MAP), str(full), "--trace", str(trace_file))
    assert r.returncode == 0, r.stderr
    for out in (md_file, html_file):
        r = dm("report", str(trace_file), "-o", str(out), "--date", "2025-05-01")
        assert r.returncode == 0, r.stderr
    md, html = md_file.read_text(), html_file.read_text()
    svg = (tmp_path / "r-path.svg").read_text()
    trace = json.loads(trace_file.read_text())
    # the charter is filled from what was adopted, on the live branch
    membership = _part(md, "Membership")
    assert "that agrees the statement" in membership and "Anyone who turns up" not in membership
    assert "repairs must be made" in _part(md, "What we are for and against")
    decide = _part(md, "How we decide")
    assert "Not adopted" in decide
    assert "The question “How will we decide, in one sentence?” would fill it" in decide
    # a stand-aside is not among those who agree, nor those who carry it out
    assert trace["outcome_text"].startswith("Ana, Ben, Cy, Eli agree")
    assert "Dee" not in trace["carried_by"]
    # the minority record: each stand-aside and block, its reason, what was done
    minority = md.split("## Minority and reservations", 1)[1]
    assert "**Cy** blocked: it says nothing about repairs" in minority
    assert "**Dee** stood aside: we campaign on repairs only" in minority
    assert "put to the vote again at step 4" in minority
    assert "our members are at risk" in minority
    # every action and next step has its owner and date
    assert "- Action: Book the hall (Ana, by 2025-06-01)" in md
    assert "(owner: Ben, by 2025-05-15)" in md
    # the revisit: kept, marked, in the record and the picture
    assert md.count("(superseded: the group went back before this step)") == 1
    assert "superseded: step" in svg and "Rewritten: the first version let anyone in." in md
    assert "*Joined: Eli. The group here: Ana, Ben, Cy, Dee, Eli.*" in md
    assert "*Left: Eli. The group here: Ana, Ben, Cy, Dee.*" in md
    # a "record: none" round leaves no words; a secret ballot no name linked to a vote
    for name, text in (("trace", trace_file.read_text()), ("md", md), ("html", html),
                       ("svg", svg)):
        for words in STORIES:
            assert words not in text, (name, words)
    step = next(s for s in trace["steps"] if s["node"] == "share-lists")
    assert step["decision"]["status"] == "blocked"
    assert step["group"] == GROUP  # who was there (Eli had left), never who voted how
    votes = json.dumps({k: v for k, v in step.items() if k != "group"})
    assert "our members are at risk" in votes
    assert not any(n in votes for n in [*GROUP, "Eli"])
    # the question's own card (the step before names it too, in where its vote led)
    entry = next(card for card in (part.split("</li>", 1)[0] for part in
                                   html.split("Do we share each group")[1:])
                 if 'class="sentence"' in card)
    entry = entry.split('class="sentence"', 1)[1]  # after who was there: the votes
    assert not any(n in entry for n in [*GROUP, "Eli"]), entry


def test_many_revisits_replay_in_linear_time() -> None:
    """Each revisit rebuilds the walk from the live branch only: replaying the revisits
    before it again, as it once did, multiplied the work by about 1.6 with every revisit
    (14 took 4 s; these 24, several minutes; here, well under a second)."""
    import time

    started = time.monotonic()
    m = load_map(str(MAP))
    walk = Walk(m, GROUP)
    walk.submit([Ballot(g, "Up.") for g in GROUP])
    walk.submit([Ballot(None, "Rents must fall.")])
    for _ in range(24):
        walk.submit([Ballot(g, "yes") for g in GROUP])
        walk.revisit("statement")
    walk.submit([Ballot(g, "no") for g in GROUP])
    assert walk.trace.outcome == "not-now"
    assert sum(s.superseded for s in walk.trace.steps) == 24
    again = Walk(m, GROUP, walk.submissions)  # a resume, as fast
    assert [s.to_json() for s in again.trace.steps] == [s.to_json() for s in walk.trace.steps]
    assert time.monotonic() - started < 15  # a loaded 2-core machine: seconds, not minutes


def test_members_who_move_just_before_a_revisit_are_kept_on_resume() -> None:
    m = load_map(str(MAP))
    walk = Walk(m, GROUP)
    walk.regroup([*GROUP, "Eli"])
    walk.submit([Ballot(g, "Up.") for g in (*GROUP, "Eli")])
    walk.regroup(GROUP)  # Eli leaves, and then the group goes back
    walk.revisit("stories")
    step = walk.submit([Ballot(g, "Up.") for g in GROUP])
    assert step.decision is not None and step.decision.members == 4
    again = Walk(m, GROUP, walk.submissions)
    assert again.group == GROUP
    assert [s.to_json() for s in again.trace.steps] == [s.to_json() for s in walk.trace.steps]
