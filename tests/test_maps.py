"""The shipped maps: clean under --strict, every scenario passes with full coverage, and
every line of the organizers' notes is traceable to a node."""

from __future__ import annotations

import re
from pathlib import Path

from decision_map.check.checks import check_file
from decision_map.io.loader import load_map
from decision_map.walk.scenarios import default_scenarios, run_scenarios

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "docs" / "organizers-notes.txt"  # the organizers' notes the maps draw on


def test_map_is_clean_under_strict(shipped_map):
    path = shipped_map
    assert [d.line() for d in check_file(str(path))] == []


def test_scenarios_pass_and_cover_every_route_and_outcome(shipped_map):
    path = shipped_map
    dm = load_map(path)
    report = run_scenarios(dm, default_scenarios(str(path)))
    failed = [(r.name, r.problems) for r in report.results if not r.passed]
    assert failed == []
    assert report.uncovered == []
    reached = {r.trace.outcome for r in report.results if r.trace}
    assert reached == set(dm.outcomes())


def test_every_question_has_help_and_every_outcome_next_steps(shipped_map):
    path = shipped_map
    dm = load_map(path)
    for node_id, node in dm.nodes.items():
        if hasattr(node, "ask"):
            assert node.help and len(node.help) > 40, node_id
        if hasattr(node, "outcome"):
            assert node.verdict and node.next_steps, node_id


def test_five_member_coalition_walk_fills_the_charter():
    path = ROOT / "maps" / "coalition-formation.yaml"
    dm = load_map(path)
    report = run_scenarios(dm, default_scenarios(str(path)))
    five = [r for r in report.results
            if r.trace and len(r.trace.group) == 5 and r.trace.verdict == "form-coalition"]
    assert five, "a five-member case ending in 'form a coalition'"
    texts = five[0].trace.texts()
    charter = [k for k in dm.nodes if k.startswith("charter-")]
    assert charter and all(k in texts for k in charter)
    text = five[0].trace.outcome_text or ""
    assert "What we want to solve:" in text and five[0].trace.group[0] in text


# The page title, the intro sentence and the section headings are not content to trace.
HEADINGS = ("Intersection between", "The participants in the group came", "From DevSummit",
            "Jump to", "Participants", "Big Questions", "What we need for",
            "Resources that we wish for")


def _note_lines() -> list[str]:
    out = []
    for line in NOTES.read_text().splitlines():
        line = line.strip().lstrip("•").strip()
        if len(line) > 12 and not line.startswith(HEADINGS):
            out.append(line)
    return out


def test_every_line_of_the_notes_is_traced_to_nodes(shipped_maps):
    table = (ROOT / "maps" / "README.md").read_text()
    ids = {n for p in shipped_maps for n in load_map(p).nodes}
    rows = [r for r in table.splitlines() if r.startswith("|")]
    missing = []
    for line in _note_lines():
        words = re.findall(r"[a-z]{4,}", line.lower())[:6]
        hit = next((r for r in rows if all(w in r.lower() for w in words)), None)
        if hit is None:
            missing.append(line)
            continue
        named = set(re.findall(r"`([A-Za-z0-9_./-]+)`", hit))
        assert named & ids, f"row for {line!r} names no node: {hit}"
    assert missing == []
