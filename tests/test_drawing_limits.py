"""Drawing is bounded: maps too big or too tangled to lay out in time give a picture of
the path or a summary, and say so, instead of drawing for minutes (docs/safety.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from decision_map_render.diagram import build
from decision_map_render.dot import to_dot
from decision_map_render.draw import DrawLimits, LayoutTimeout, RenderError, draw, picture

from decision_map.io.loader import load_map, load_text

ROOT = Path(__file__).resolve().parent.parent
COALITION = ROOT / "maps" / "coalition-formation.yaml"
EXE = str(Path(sys.executable).parent / "decision-map")


def dense_map(questions: int = 41, fan: int = 12) -> str:
    """A map of `questions` choice questions, each with `fan` choices leading to other
    questions picked at random: few boxes, many crossing lines. Graphviz's layout of
    this one (44 boxes, 574 lines) ran for minutes."""
    import random

    rng = random.Random(1)
    out = ["id: dense", "title: A dense map", 'version: "1"', "start: q0", "nodes:"]
    for i in range(questions):
        targets = rng.sample(range(questions), fan)
        choices = ", ".join(f"c{k}: q{t}" for k, t in enumerate(targets))
        ask = json.dumps(f"Question {i}: which way now for part {i}?")
        out.append(f"  q{i}: {{ask: {ask}, choices: {{{choices}}}, on_tie: o{i % 3}, "
                   f"otherwise: o{(i + 1) % 3}}}")
    out += [f"  o{k}: {{outcome: Outcome {k}, verdict: v{k}, next_steps: [rest]}}"
            for k in range(3)]
    return "\n".join(out) + "\n"


def chain_map(n: int = 9000) -> str:
    """A map that is one long line of `n` nodes: read-outs, then an outcome."""
    out = ["id: chain", "title: A long chain", 'version: "1"', "start: s0", "nodes:"]
    out += [f"  s{i}: {{say: Step {i}, next: s{i + 1}}}" for i in range(n - 1)]
    out.append(f"  s{n - 1}: {{outcome: The end, verdict: done, next_steps: [rest]}}")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """The dense map and the 9,000-node chain, with answers files that walk them."""
    folder = tmp_path_factory.mktemp("hostile-drawings")
    files = {
        "dense": dense_map(),
        "chain": chain_map(),
        "dense-answers": "group: [Ana, Ben, Cy]\nanswers:\n"
                         + "".join(f"  q{i}: c{i % 5}\n" for i in range(41)),
        "chain-answers": "group: [Ana, Ben, Cy]\nanswers: {}\n",
    }
    out = {}
    for name, text in files.items():
        out[name] = folder / f"{name}.yaml"
        out[name].write_text(text, encoding="utf-8")
    return out


def dm(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env,
                          timeout=120)


def warnings_of(p: subprocess.CompletedProcess) -> list[str]:
    return [x for x in p.stderr.splitlines() if x.startswith("decision-map: warning:")]


def test_dense_map_draws_a_summary_once_layout_runs_out_of_time(hostile, tmp_path):
    out = tmp_path / "dense.svg"
    started = time.monotonic()
    p = dm("render", str(hostile["dense"]), "-o", str(out), "--max-layout-seconds", "2")
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - started < 60
    [warning] = warnings_of(p)
    assert "drew a summary: laying out 44 boxes and 574 lines took longer than 2 s" in warning
    assert warning.endswith("(raise --max-layout-seconds to draw more)")
    svg = out.read_text(encoding="utf-8")
    assert "Not drawn whole" in svg and "41 choice questions" in svg
    assert "Outcome 0" in svg and "Question 7:" not in svg


def test_dense_walk_report_pictures_the_path_alone(hostile, tmp_path):
    trace = tmp_path / "dense-trace.json"
    assert dm("run", str(hostile["dense"]), str(hostile["dense-answers"]),
              "--trace", str(trace)).returncode == 0
    report = tmp_path / "report.html"
    p = dm("report", str(trace), "-o", str(report), "--max-layout-seconds", "2")
    assert p.returncode == 0, p.stderr
    [warning] = warnings_of(p)
    assert "drew only the path and one step off it: laying out 44 boxes" in warning
    html = report.read_text(encoding="utf-8")
    assert "(focus on the path)" in html and "took longer than 2 s" in html


def test_chain_of_9000_nodes_is_summarised_without_laying_it_out(hostile, tmp_path):
    out = tmp_path / "chain.svg"
    started = time.monotonic()
    p = dm("render", str(hostile["chain"]), "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - started < 60
    [warning] = warnings_of(p)
    assert "drew a summary: 9,000 boxes and 8,999 lines, more than the budget of " \
           "1,000 boxes and 2,000 lines (raise --max-layout-nodes or --max-layout-edges " \
           "to draw more)" in warning
    assert "The end" in out.read_text(encoding="utf-8")


def test_chain_walk_summary_shows_both_ends_of_the_path(hostile, tmp_path):
    out = tmp_path / "chain-path.svg"
    p = dm("render", str(hostile["chain"]), "--answers", str(hostile["chain-answers"]),
           "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert "drew a summary" in warnings_of(p)[0]
    svg = out.read_text(encoding="utf-8")
    assert "Step 0" in svg and "Step 8998" in svg and "step 9000" in svg
    assert "8,976 more places" in svg
    assert "Step 4000" not in svg


def test_limits_can_be_lowered_and_raised(tmp_path):
    small = tmp_path / "chain.yaml"
    small.write_text(chain_map(60), encoding="utf-8")
    out = tmp_path / "chain.svg"
    p = dm("render", str(small), "-o", str(out), "--max-layout-nodes", "20")
    assert "drew a summary: 60 boxes and 59 lines, more than the budget of 20 boxes" \
        in warnings_of(p)[0]
    assert warnings_of(p)[0].endswith("(raise --max-layout-nodes to draw more)")
    p = dm("render", str(small), "-o", str(out), "--max-layout-nodes", "20000",
           "--max-layout-edges", "20000", "--max-layout-seconds", "60")
    assert p.returncode == 0 and warnings_of(p) == []
    assert "Step 30" in out.read_text(encoding="utf-8")


def test_a_bad_limit_is_a_usage_error(tmp_path):
    p = dm("render", str(COALITION), "-o", str(tmp_path / "x.svg"), "--max-layout-nodes", "0")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_real_maps_are_drawn_whole_in_process():
    m = load_map(str(COALITION))
    drawn = picture(m, None, "svg")
    assert (drawn.shows, drawn.note) == ("whole", None)
    assert DrawLimits().in_process(build(m))  # no child process for a map this size


def test_layout_in_a_child_is_killed_at_the_limit():
    dense = load_text(dense_map(), "dense.yaml")
    started = time.monotonic()
    with pytest.raises(LayoutTimeout, match="took longer than 0.5 s"):
        draw(to_dot(dense), "svg", max_seconds=0.5)
    assert time.monotonic() - started < 10


def test_layout_in_a_child_reports_bad_dot_in_one_line():
    with pytest.raises(RenderError, match="Graphviz could not draw the map: ") as e:
        draw("digraph { a -> }", "svg", max_seconds=30)
    assert "\n" not in str(e.value)
    assert draw("digraph { a -> b }", "svg", max_seconds=30).lstrip().startswith(b"<?xml")


def test_stepper_map_command_draws_a_summary_and_says_so(tmp_path):
    chain = tmp_path / "chain.yaml"
    chain.write_text(chain_map(1500), encoding="utf-8")
    session = tmp_path / "walk.json"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    p = subprocess.run([EXE, "step", str(chain), "--group", "Ana, Ben", "--session",
                        str(session)], input="map\nquit\n", capture_output=True, text=True,
                       env=env, timeout=120)
    assert "Drew a summary: 1,500 boxes and 1,499 lines, more than the budget" in p.stdout
    assert "Not drawn whole" in (tmp_path / "walk-path.svg").read_text(encoding="utf-8")
