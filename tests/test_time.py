"""Time estimates: a step carries `time: MINUTES`, a bad one is one located line, and a
check or a hand-off (whose time is its map's) may not carry one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from decision_map.io.loader import load_map

HERE = Path(__file__).resolve().parent / "fixtures" / "time"
MAP = HERE / "meeting.yaml"
EXE = str(Path(sys.executable).parent / "decision-map")


def dm(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed command, as a user runs it."""
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, "NO_COLOR": "1"})


def test_a_step_carries_its_minutes():
    m = load_map(str(MAP))
    assert m.nodes["goal"].time == 15
    assert m.nodes["welcome"].time == 10
    assert m.nodes["not-now"].time is None
    assert dm("check", str(MAP)).returncode == 0


@pytest.mark.parametrize("value, words", [
    ("-5", "greater than or equal to 0"),
    ("481", "less than or equal to 480"),
    ("2.5", "integer"),
    ('"20"', "integer"),
    ("twenty", "integer"),
])
def test_a_bad_time_is_one_located_line(tmp_path, value, words):
    for f in ("meeting.yaml", "dissent.yaml"):
        (tmp_path / f).write_text((HERE / f).read_text())
    src = (HERE / "meeting.yaml").read_text().replace("time: 15", f"time: {value}")
    (tmp_path / "meeting.yaml").write_text(src)
    line = src.splitlines().index(f"    time: {value}") + 1
    r = dm("check", "meeting.yaml", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert f"meeting.yaml:{line}:" in out and "node 'goal' time" in out and words in out
    assert "Traceback" not in out


@pytest.mark.parametrize("node, after", [("dissent", "map: dissent.yaml"),
                                         ("route", "otherwise: go")])
def test_a_check_or_a_hand_off_carries_no_time(tmp_path, node, after):
    for f in ("meeting.yaml", "dissent.yaml"):
        (tmp_path / f).write_text((HERE / f).read_text())
    src = (HERE / "meeting.yaml").read_text()
    if node == "route":
        src = src.replace("        next: go\n    otherwise: not-now",
                          "        next: route\n    otherwise: not-now", 1)
        src += "  route:\n    check:\n      - when: {answer: goal, is: yes}\n" \
               "        next: go\n    otherwise: go\n"
    src = src.replace(f"    {after}\n", f"    {after}\n    time: 30\n", 1)
    (tmp_path / "meeting.yaml").write_text(src)
    line = src.splitlines().index("    time: 30") + 1
    r = dm("check", "meeting.yaml", cwd=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 1 and f"meeting.yaml:{line}:" in out, out
    assert "unknown key 'time'" in out and "hand-off's time is its map's" in out
    assert "Traceback" not in out


def test_the_longest_route_counts_a_hand_off_as_its_maps_longest_route():
    from decision_map.model.timing import in_words, minutes_left, own_minutes, timed

    m = load_map(str(MAP))
    assert own_minutes(m, "dissent") == 20 + 30 + 40  # hear, talk, one more try
    left = minutes_left(m)
    assert left["go"] == 20 + 5 and left["hours"] == 10 + 25
    # welcome, the goal, the whole dissent map, then hours, the vote and the outcome
    assert left["welcome"] == 10 + 15 + 90 + 35
    assert timed(m) and in_words(150) == "2 hours 30 minutes" and in_words(1) == "1 minute"
    untimed = load_map(str(Path(__file__).parent / "fixtures" / "engine" / "main.yaml"))
    assert not timed(untimed) and minutes_left(untimed)["intro"] == 0


def test_a_loop_is_counted_once(tmp_path):
    from decision_map.model.timing import minutes_left

    src = (HERE / "meeting.yaml").read_text().replace(
        "      no: not-now\n    otherwise: not-now\n  form:",
        "      no: goal\n    otherwise: not-now\n  form:")
    for f in ("dissent.yaml",):
        (tmp_path / f).write_text((HERE / f).read_text())
    (tmp_path / "meeting.yaml").write_text(src)
    assert minutes_left(load_map(str(tmp_path / "meeting.yaml")))["welcome"] == 150


def test_the_handout_shows_each_steps_time_and_the_total(tmp_path):
    from pypdf import PdfReader

    pdf, page = tmp_path / "h.pdf", tmp_path / "h.html"
    assert dm("handout", str(MAP), "-o", str(pdf)).returncode == 0
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(str(pdf)).pages).split())
    assert "Likely to take up to 2 hours 30 minutes, on the longest route." in text
    assert "1. Is there a shared goal? (15 min)" in text
    assert "Read out: Welcome. Each group says in one minute why it came. (10 min)" in text
    assert "Hand-off: The “Working through dissent” map (90 min)" in text
    assert "Form a coalition (5 min)" in text
    assert dm("handout", str(MAP), "-o", str(page)).returncode == 0
    doc = page.read_text()
    assert "2 hours 30 minutes" in doc and "Shall we form a coalition?</b> (20 min)" in doc
    # a map without times says none
    plain = Path(__file__).parent / "fixtures" / "engine" / "main.yaml"
    assert dm("handout", str(plain), "-o", str(page)).returncode == 0
    assert "min)" not in page.read_text() and "Likely to take" not in page.read_text()


ANSWERS = """\
group: [Ana, Ben, Cy]
answers:
  goal: {Ana: {vote: object, reason: the rent}, Ben: "yes", Cy: "yes"}
  dissent/talk: {Ana: "no", Ben: "yes", Cy: "yes"}
  hours: {Ana: 10, Ben: 10, Cy: 5}
  go: {Ana: "yes", Ben: "no"}
"""
BLOCKED = ("Blocked, so: the question “Did talking it through resolve it?” "
           "(in “Working through dissent”).")


def test_the_consequence_goes_into_the_trace_and_the_report(tmp_path):
    import json

    from decision_map.io.traces import read_trace

    (tmp_path / "a.yaml").write_text(ANSWERS)
    trace = tmp_path / "t.json"
    r = dm("run", str(MAP), str(tmp_path / "a.yaml"), "--trace", str(trace))
    assert r.returncode == 0, r.stderr
    steps = json.loads(trace.read_text())["steps"]
    said = {s["key"]: s.get("consequence") for s in steps}
    assert said["goal"] == BLOCKED
    assert said["hours"] == "This leads to the question “Shall we form a coalition?”."
    assert said["go"] == "A tie, so: the outcome “Not now”."  # the why, not only the where
    assert all("consequence" not in s for s in steps if s["decision"] is None)
    assert json.loads(trace.read_text())["format"] == 2
    for fmt in ("md", "html"):
        out = tmp_path / f"r.{fmt}"
        assert dm("report", str(trace), "-o", str(out)).returncode == 0
        text = out.read_text()
        assert "Blocked, so: the question" in text and "A tie, so: the outcome" in text
    # a trace written before the field (the same trace without it) still reads and reports
    old = json.loads(trace.read_text())
    for s in old["steps"]:
        s.pop("consequence", None)
    trace.write_text(json.dumps(old))
    assert all(s.consequence == "" for s in read_trace(str(trace)).steps)
    assert dm("report", str(trace), "-o", str(tmp_path / "old.md")).returncode == 0


def test_rule_sentences_name_choices_by_their_labels():
    """`Consent to "agree"` was the value the map routes on; members know the label."""
    from decision_map.model.decision import Ballot
    from decision_map.rules.deciders import decide

    m = load_map(str(HERE / "labels.yaml"))
    plan, size = m.nodes["plan"], m.nodes["size"]
    group = ["Ana", "Ben", "Cy"]
    d = decide("plan", plan, m.model.defaults, group,
               [Ballot("Ana", "agree"), Ballot("Ben", "later"), Ballot("Cy", "agree")])
    assert d.explanation.startswith('Consent to "Yes, we adopt it": nobody objects')
    assert 'Ben preferred "Not yet"' in d.explanation and '"agree"' not in d.explanation
    assert d.value == "agree"  # the value still routes and is kept
    d = decide("size", size, m.model.defaults, group,
               [Ballot("Ana", "small"), Ballot("Ben", "big"), Ballot("Cy", "abstain")])
    assert d.explanation.startswith("No majority: A small group 1, Everyone 1")
    assert "small 1" not in d.explanation
