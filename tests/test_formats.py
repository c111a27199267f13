"""Trace and session formats: a step carries its hand-off scope and its key; files of
format 1 (written before the scope existed, committed in tests/fixtures/format1/) still
render, report and resume through the real console script; a format from the future is
refused in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from decision_map.io.answers import load_answers
from decision_map.io.loader import load_map
from decision_map.io.session import SessionFormatError
from decision_map.io.session import load as load_session
from decision_map.io.traces import read_trace
from decision_map.model.trace import Trace, TraceFormatError
from decision_map.walk.replay import run_answers
from decision_map.walk.session import resume

ROOT = Path(__file__).resolve().parent.parent
FORMAT1 = ROOT / "tests" / "fixtures" / "format1"
TRACE_V1 = FORMAT1 / "trace-v1.json"
SESSION_V1 = FORMAT1 / "session-v1.json"
ANSWERS = FORMAT1 / "answers.yaml"
# The maps as they were when the format-1 files were written (the first edition).
COALITION = FORMAT1 / "maps" / "coalition-formation.yaml"
EXE = shutil.which("decision-map") or str(Path(sys.executable).parent / "decision-map")
HANDOFF = ("find-common-ground",)  # the coalition map's hand-off into common-ground
FUTURE_TRACE = ("trace format 3 is newer than this decision-map reads (2; it reads 1 to 2); "
                "upgrade decision-map")


def cli(*args: str, stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, text=True,
                          timeout=60, cwd=str(cwd), env=env)


def walk_now() -> Trace:
    """The fixture's walk, done again by the engine as it is now (format 2)."""
    dm = load_map(str(COALITION))
    return run_answers(dm, load_answers(str(ANSWERS), dm), str(ANSWERS))


# ---------------------------------------------------------------- the scope and the key


def test_steps_inside_a_handoff_carry_its_scope_and_a_qualified_key():
    t = walk_now()
    inside = [s for s in t.steps if s.map_id == "common-ground"]
    assert inside and all(s.scope == HANDOFF and s.depth == 1 for s in inside)
    assert "common-ground/agreements" in [s.key for s in inside]
    top = [s for s in t.steps if s.map_id == "coalition-formation"]
    assert all(s.scope == () and s.key == s.node for s in top)
    data = t.to_json()
    assert data["format"] == 2
    assert {"scope": ["find-common-ground"], "key": "common-ground/agreements"}.items() <= \
        next(s for s in data["steps"] if s["node"] == "agreements").items()
    assert Trace.from_json(data).steps == t.steps


def test_a_format_1_trace_reads_as_the_same_steps_the_engine_takes_now():
    old = read_trace(TRACE_V1)
    assert json.loads(TRACE_V1.read_text())["format"] == 1
    # the scopes rebuilt from format 1 are exact. The words are an older release's: its
    # decision sentences named choices by value (now by label), and the consequence
    # sentence is newer than format 1 (an optional field), so those are left out here
    def same(steps: list) -> list:
        return [replace(s, consequence="", decision=s.decision and replace(
            s.decision, explanation=""), explanation="" if s.decision else s.explanation)
            for s in steps]

    assert same(old.steps) == same(walk_now().steps)


def test_a_format_1_step_deeper_than_any_handoff_is_refused():
    data = json.loads(TRACE_V1.read_text())
    entry = next(i for i, s in enumerate(data["steps"]) if s["kind"] == "handoff")
    del data["steps"][entry]
    with pytest.raises(TraceFormatError, match="no hand-off step before it enters"):
        Trace.from_json(data)


# ---------------------------------------------------------------- format 1 through the CLI


def test_a_format_1_trace_still_renders_as_a_new_one_does(tmp_path):
    new_trace = tmp_path / "new.json"
    new_trace.write_text(walk_now().dumps(), encoding="utf-8")
    old_dot, new_dot = tmp_path / "old.dot", tmp_path / "new.dot"
    r = cli("render", str(COALITION), "--trace", str(TRACE_V1), "-o", str(old_dot))
    assert r.returncode == 0, r.stderr
    assert cli("render", str(COALITION), "--trace", str(new_trace), "-o",
               str(new_dot)).returncode == 0
    dot = old_dot.read_text()
    assert "subgraph cluster_c0" in dot  # the common-ground map, drawn with its steps
    assert "We found common ground to act\\non\\nstep 19" in dot  # the outcome, by title
    assert dot == new_dot.read_text()


def test_a_format_1_trace_still_reports_through_its_own_map_path(tmp_path):
    # the fixture names its map relative to its own folder, as a moved trace would
    out = tmp_path / "old.md"
    r = cli("report", str(TRACE_V1), "-o", str(out), "--date", "2026-11-30")
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "## Outcome: Not now" in text
    assert "*(in A conversation on common ground)*" in text  # a step inside the hand-off
    assert (tmp_path / "old-path.svg").read_text().lstrip().startswith(("<svg", "<?xml"))


# ---------------------------------------------------------------- the future, refused


def _future(tmp_path: Path, source: Path, key: str) -> Path:
    data = json.loads(source.read_text())
    data[key] = 3
    path = tmp_path / source.name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_trace_from_the_future_is_refused_in_one_line(tmp_path):
    path = _future(tmp_path, TRACE_V1, "format")
    for args in (["render", str(COALITION), "--trace", str(path), "-o",
                  str(tmp_path / "x.svg")],
                 ["report", str(path), "-o", str(tmp_path / "x.md")]):
        r = cli(*args)
        assert r.returncode == 1
        assert r.stderr == f"decision-map: {path}: {FUTURE_TRACE}\n"
    assert not (tmp_path / "x.svg").exists() and not (tmp_path / "x.md").exists()


def test_a_session_from_the_future_is_refused_in_one_line_and_left_alone(tmp_path):
    path = _future(tmp_path, SESSION_V1, "format_version")
    before = path.read_text()
    r = cli("step", str(COALITION), "--resume", str(path))
    assert r.returncode == 1
    assert r.stderr == (f"decision-map: {path}: session format 3 is newer than this "
                        "decision-map reads (2; it reads 1 to 2); upgrade decision-map\n")
    assert path.read_text() == before
    with pytest.raises(SessionFormatError):
        load_session(path)


def test_a_session_file_is_not_taken_for_a_trace(tmp_path):
    r = cli("report", str(SESSION_V1), "-o", str(tmp_path / "x.md"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "a session file, not a trace" in r.stderr


# ---------------------------------------------------------------- a format 1 session resumes


def test_a_format_1_session_resumes_inside_the_handoff_and_is_saved_as_format_2(tmp_path):
    path = tmp_path / "s.json"
    shutil.copyfile(SESSION_V1, path)
    words = ["We all breathe the same air", "Our kids", "Rent", "Free tools", "The hall"]
    r = cli("step", str(COALITION), "--resume", str(path), stdin="\n".join(words) + "\n\n")
    assert r.returncode == 0, r.stderr
    assert "Resuming after 8 steps." in r.stdout
    assert "In the map: A conversation on common ground" in r.stdout
    saved = json.loads(path.read_text())
    assert saved["format_version"] == 2 and saved["set_aside"] == []
    subs = saved["submissions"]
    assert len(subs) == 9
    assert subs[0]["scope"] == [] and subs[-1]["scope"] == list(HANDOFF)
    assert subs[-1]["node"] == "round-heart"


def test_resume_in_the_core_sets_aside_what_a_changed_map_no_longer_takes(tmp_path):
    folder = tmp_path / "maps"
    shutil.copytree(COALITION.parent, folder, ignore=shutil.ignore_patterns("scenarios"))
    sub = folder / "common-ground.yaml"
    # the common-ground map now starts a question later: the saved vote on its
    # agreements no longer fits, and the votes from there on are set aside
    sub.write_text(sub.read_text(encoding="utf-8").replace(
        "start: agreements", "start: round-experiences", 1), encoding="utf-8")
    session = load_session(SESSION_V1)
    got = resume(session, str(SESSION_V1), folder / COALITION.name)
    assert got.replay.kept == 6 and got.replay.total == 8
    assert "'common-ground/round-experiences'" in got.replay.problem
    (aside,) = session.set_aside
    assert [s["node"] for s in aside["submissions"]] == ["agreements", "round-experiences"]
    pos = got.walk.current()
    assert pos is not None and pos.scope == HANDOFF
    assert pos.key == "common-ground/round-experiences"


def test_resume_refuses_another_map_at_the_session_file(tmp_path):
    from decision_map.io.session import SessionError

    session = load_session(SESSION_V1)
    with pytest.raises(SessionError, match="this session walks map 'coalition-formation'"):
        resume(session, "s.json", ROOT / "maps" / "common-ground.yaml")


TWO_WAYS = """\
id: two-ways
title: Two ways into the same map
version: "1"
start: which
nodes:
  which:
    ask: Which way?
    rule: majority
    choices:
      left: {CHOSEN}
      right: {OTHER}
    otherwise: done
  via-left:
    map: sub.yaml
    returns: {resolved: done, stuck: done}
  via-right:
    map: sub.yaml
    returns: {resolved: done, stuck: done}
  done:
    outcome: Done
"""


def test_a_format_2_session_tells_two_handoffs_into_the_same_map_apart(tmp_path):
    from decision_map.io.session import Session
    from decision_map.model.decision import Ballot
    from decision_map.walk.engine import Walk

    shutil.copyfile(ROOT / "tests" / "fixtures" / "engine" / "sub.yaml", tmp_path / "sub.yaml")
    top = tmp_path / "two-ways.yaml"
    top.write_text(TWO_WAYS.replace("{CHOSEN}", "via-left").replace("{OTHER}", "via-right"))
    walk = Walk(load_map(str(top)), ["Ana"])
    walk.submit([Ballot("Ana", "left")])
    walk.submit([Ballot("Ana", "yes")])  # sub/talk, entered from via-left
    session = Session.start(walk.dm, ["Ana"])
    session.update_from(walk)
    saved = Session.from_json(json.loads(session.dumps()))
    assert saved.submissions[1].scope == ("via-left",)
    # the map changes: left now leads through the other hand-off into the same map
    top.write_text(TWO_WAYS.replace("{CHOSEN}", "via-right").replace("{OTHER}", "via-left"))
    got = resume(saved, "s.json", top)
    assert got.replay.kept == 1
    assert "given in the hand-off via-left, but the map now asks it in via-right" in \
        got.replay.problem
    assert got.walk.current().scope == ("via-right",)
    # format 1 recorded no scope: the same votes still fit, as they always did
    v1 = Session.from_json({**json.loads(session.dumps()), "format_version": 1,
                            "submissions": [{k: v for k, v in s.to_json().items()
                                             if k != "scope"} for s in session.submissions]})
    assert resume(v1, "s.json", top).replay.problem is None


def test_a_trace_records_the_package_version_beside_the_maps_hash(tmp_path, cli):
    """Which decision-map walked a trace travels with it, next to the map's hash."""
    out = tmp_path / "t.json"
    scenario = ROOT / "tests" / "fixtures" / "format1" / "answers.yaml"
    p = cli("run", str(COALITION), str(scenario), "--trace", str(out))  # the answers fit it
    assert p.returncode == 0, p.stderr
    version = cli("--version").stdout.split()[-1]
    m = json.loads(out.read_text())["map"]
    assert m["decision_map_version"] == version != "unknown"
    assert m["sha256"]
