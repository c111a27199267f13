"""The batch and the step-by-step walk are one router with two recorders, so they must
agree: for generated maps (and the shipped maps, which hand off) and generated responses,
the batch's result for every group is what walking that group with `Walk` gives, and a
vote one walk refuses, the batch refuses at the same group. An outcome text the sandbox
refuses is refused, quickly and in one line, both by `run MAP ANSWERS` and by
`run MAP --responses CSV`.

Examples per profile (HYPOTHESIS_PROFILE, default "ci"): generated maps 100 (long: 1000),
shipped maps 30 (long: 300). `test_parity_counts_are_stated` prints them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from decision_map.errors import WalkError
from decision_map.io.answers import questions_of
from decision_map.io.cells import ballot_from_cell
from decision_map.io.loader import load_map, load_text
from decision_map.model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from decision_map.rules.params import effective_params
from decision_map.rules.table import allowed_votes
from decision_map.walk.batch import GroupResult, run_batch
from decision_map.walk.engine import Walk
from decision_map.walk.router import MAX_STEPS
from tests.strategies import TEXT, dump, valid_maps

ROOT = Path(__file__).resolve().parent.parent
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
N = {"ci": {"generated": 100, "shipped": 30},
     "long": {"generated": 1000, "shipped": 300}}.get(PROFILE, {"generated": 100,
                                                                "shipped": 30})
SHIPPED = [ROOT / "maps" / "coalition-formation.yaml", ROOT / "maps" / "common-ground.yaml",
           ROOT / "maps" / "working-through-dissent.yaml",
           ROOT / "tests" / "fixtures" / "engine" / "main.yaml"]
NAMES = ["Ana", "Ben", "Cy", "Dee", "Émile", "Ümit", "李", "O'Neil", "Zed", "row 9"]


def examples(kind: str) -> settings:
    return settings(max_examples=N[kind], deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ---------------------------------------------------------------- generated responses


def _questions(dm) -> dict[str, tuple[Any, Defaults]]:
    """Each question as a responses column names it (`id` in the top map, `map-id/id` in
    a map reached by hand-off), with its map's defaults."""
    return {k: (node, m.model.defaults) for k, (m, _nid, node) in questions_of(dm).items()
            if (m is dm) != ("/" in k)}


@st.composite
def cells(draw, node: Any, defaults: Defaults, spoil: bool) -> str:
    """One member's cell: a vote the question takes, or one of the words its rule allows
    (in either spelling); with `spoil`, sometimes a value it refuses."""
    roll = draw(st.integers(0, 9))
    if spoil and roll <= 1:
        return draw(st.sampled_from(["nonsense-choice", "99999", "-50", "9", "1.5",
                                     "block: no", "stand-aside"]))
    if roll <= 2:
        word = draw(st.sampled_from(sorted(allowed_votes(node, defaults))))
        if word in ("block", "object"):
            return draw(st.sampled_from([word, f"{word}: not this way", f" {word} - too fast"]))
        return draw(st.sampled_from([word, word.title(), f" {word} "]))
    if isinstance(node, TextQuestion):
        return draw(st.one_of(TEXT, st.sampled_from(["same words", "other words"])))
    if isinstance(node, NumberQuestion):
        lo = int(node.number.min) if node.number.min is not None else -10
        hi = int(node.number.max) if node.number.max is not None else 10
        return str(draw(st.integers(lo, hi)))
    assert isinstance(node, ChoiceQuestion)
    if effective_params(node, defaults).rule == "fist-to-five":
        return str(draw(st.integers(0, 5)))
    return draw(st.sampled_from(list(node.choices)))


@st.composite
def responses(draw, dm) -> dict[str, list[tuple[int, dict]]]:
    """Groups as `read_responses` gives them: {group: [(row, {question: cell})]}, with few
    distinct sizes and small pools of votes, so that vote patterns repeat across groups
    (the batch decides each pattern once)."""
    questions = _questions(dm)
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=2))
    # a small pool of cells per question, shared by every group
    spoil = draw(st.integers(0, 4)) == 0  # a batch with a vote that does not fit
    pools = {k: draw(st.lists(cells(node, defaults, spoil), min_size=1, max_size=3))
             for k, (node, defaults) in questions.items()}
    groups: dict[str, list[tuple[int, dict]]] = {}
    row = 1
    for g in range(draw(st.integers(1, 10))):
        names = draw(st.permutations(NAMES))
        voters = draw(st.sampled_from(sizes))
        silent = draw(st.integers(0, 2))  # members with no cells: the same votes, a bigger group
        rows = []
        for i, name in enumerate(names[:voters + silent]):
            row += 1
            given: dict[str, str] = {"\0member": name}
            for k in questions:
                if i < voters and draw(st.integers(0, 3)) > 0:  # else: the cell is empty
                    given[k] = draw(st.sampled_from(pools[k]))
            rows.append((row, given))
        groups[f"g{g}"] = rows
    return groups


# ---------------------------------------------------------------- the reference: Walk


def walk_group(dm, g: str, rows: list[tuple[int, dict]]) -> GroupResult:
    """One group walked step by step with `Walk`, its cells as ballots, stopping at the
    first question nobody answered."""
    members = [c["\0member"] for _, c in rows]
    found = questions_of(dm)
    w = Walk(dm, members)
    for _ in range(MAX_STEPS):
        pos = w.current()
        if pos is None:
            break
        key = pos.node_id if pos.depth == 0 else f"{pos.map_id}/{pos.node_id}"
        m, _nid, node = found[key]
        ballots = [ballot_from_cell(c["\0member"], c[key], node, m.model.defaults)
                   for _, c in rows if key in c]
        if not ballots:
            w.trace.stopped = f"No answer for question {key!r}."
            break
        w.submit(ballots)
    else:
        raise WalkError(f"the walk did not end within {MAX_STEPS} steps")
    t = w.trace
    decided_at = next((s.node for s in reversed(t.steps) if s.decision), None)
    return GroupResult(g, len(members), t.outcome, t.verdict, len(t.steps), decided_at,
                       t.stopped)


def assert_parity(dm, groups: dict[str, list[tuple[int, dict]]]) -> None:
    """run_batch equals Walk on every group; a group whose vote Walk refuses gets an error
    row with Walk's message, naming one of its rows, and the other groups their results.
    Both ways the batch walks are held to it: sets of groups split by array operations at
    each question (one_by_one=0), and one group at a time."""
    report = run_batch(dm, groups, "responses.csv", one_by_one=0)
    assert report == run_batch(dm, groups, "responses.csv", one_by_one=len(groups))
    assert [r.group for r in report.results] == list(groups)
    for got, (g, rows) in zip(report.results, groups.items(), strict=True):
        try:
            expected = walk_group(dm, g, rows)
        except WalkError as e:
            assert got.error is not None and got.outcome is None, (g, got)
            where, _, rest = got.error.partition(": ")
            assert where in {f"responses.csv:row {n}" for n, _ in rows}
            assert rest == f"group {g!r}: {e}"
            continue
        assert got == expected


@examples("generated")
@given(data=st.data(), m=valid_maps())
def test_batch_equals_walk_on_generated_maps(data, m):
    if data.draw(st.booleans(), label="a quorum for every question"):
        # members who give no cells still count toward a quorum: the same votes may be
        # decided in one group and fall short in a bigger one
        m["defaults"]["quorum"] = data.draw(st.sampled_from([0.5, 0.75, 1]))
    text = dump(m)
    note(text)
    dm = load_text(text, "gen.yaml")
    groups = data.draw(responses(dm), label="groups")
    assert_parity(dm, groups)


@examples("shipped")
@given(data=st.data(), which=st.sampled_from(SHIPPED))
def test_batch_equals_walk_on_shipped_maps_with_handoffs(data, which):
    dm = load_map(str(which))
    groups = data.draw(responses(dm), label="groups")
    assert_parity(dm, groups)


def test_parity_counts_are_stated(capsys):
    """Say which profile ran and how many examples each parity property had."""
    with capsys.disabled():
        print(f"\n[hypothesis profile {PROFILE!r}] examples: "
              + ", ".join(f"parity-{k}={v}" for k, v in N.items()))


# ---------------------------------------------------------------- a refused outcome text

# Doubling recursion: before, the batch rendered this unvetted and ran for minutes.
RECURSIVE = ('{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}'
             '{% endmacro %}{{ f(40) }}')
MACRO_MAP = f"""\
id: macro
title: Macro
version: "1"
start: goal
nodes:
  goal:
    ask: Go?
    choices: {{yes: done, no: done}}
  done:
    outcome: Done
    text: '{RECURSIVE}'
"""


@pytest.mark.parametrize("how", ["answers", "responses"])
def test_a_recursive_macro_is_refused_in_one_line_by_run_and_by_the_batch(tmp_path, how):
    (tmp_path / "m.yaml").write_text(MACRO_MAP, encoding="utf-8")
    (tmp_path / "a.yaml").write_text("group: [Ana, Ben]\nanswers:\n  goal: yes\n",
                                     encoding="utf-8")
    (tmp_path / "r.csv").write_text("team,member,goal\nt1,Ana,yes\nt1,Ben,yes\n",
                                    encoding="utf-8")
    exe = Path(sys.executable).with_name("decision-map")
    args = ([str(exe), "run", "m.yaml", "a.yaml"] if how == "answers" else
            [str(exe), "run", "m.yaml", "--responses", "r.csv", "--group-by", "team",
             "--member-column", "member"])
    # generous: the refusal itself takes milliseconds (checked by hand); this only
    # catches a return to rendering the text unvetted, which runs for minutes
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == ["decision-map: m.yaml: outcome 'done': template line 1: macro is not "
                     "allowed in a map's text"], done.stderr
