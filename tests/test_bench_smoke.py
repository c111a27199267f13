"""The benchmark suite at tiny sizes: it runs, writes a table with every figure, and the
floor (bench/floor.py) agrees with the engine on every group. Timings are never asserted."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bench import gen
from bench import run as bench_run
from decision_map.check.checks import check_map
from decision_map.io.loader import load_text


def test_bench_smoke_writes_every_figure_and_the_floor_agrees(tmp_path):
    res = bench_run.main(["--smoke", "--out", str(tmp_path)])
    table = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["smoke"] is True
    for key, _title, _floor, _target in bench_run.FIGURES:
        f = data["figures"][key]
        assert "error" not in f, (key, f)
        assert f["measured_s"] is not None and "met" in f
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) >= 1 + len(bench_run.FIGURES)
    for key in ("load, validate", "a second time", "deciding", "one step", "as a process",
                "DOT built", "focus mode"):
        assert key in table, key
    assert "AMD" in table or "Intel" in table or "cores" in table
    # the commands as processes beside their floors; the batch's -o file agrees with the
    # vectorised floor on every group
    pr = data["figures"]["processes"]
    assert "error" not in pr, pr
    assert pr["batch_process"]["floor_agrees_on_every_group"], pr["batch_process"]
    assert "whole processes" in table
    # generated maps pass the checker with no errors
    assert all(c["errors"] == 0 for c in data["inputs"]["checks"].values())
    # the floor agrees with the engine on every group of every responses file, and the
    # fast batch agrees with the engine walking every group
    for size, d in res["decide_all"].items():
        assert d["floor_agrees_on_every_group"], (size, d["disagreements"])
        assert d["engine_groups_checked"] == d["groups"], size
        assert d["engine_mismatches"] == 0, size


@settings(max_examples=15, deadline=None)
@given(rng=st.randoms(use_true_random=False), n=st.integers(20, 60))
def test_the_generator_driven_by_any_random_gives_a_clean_map_a_walk_can_finish(rng, n):
    """bench/gen.py takes a random.Random, so Hypothesis can drive (and shrink) it."""
    text = gen.map_text(n, rng=rng, handoffs=False)
    dm = load_text(text, "gen.yaml")
    assert len(dm.model.nodes) == n
    assert [d.line() for d in check_map(dm)] == []  # no errors, no warnings
    trace = gen.guided_trace(dm, questions=5)
    assert trace.finished and (trace.outcome is not None or trace.stopped)


@settings(max_examples=30, deadline=None)
@given(rng=st.randoms(use_true_random=False))
def test_small_random_maps_from_a_random_check_clean(rng):
    """random_map, picked by a random.Random, gives maps the checker passes (the property
    tests get the same maps from map_strategy(), picked by Hypothesis draws)."""
    dm = load_text(gen.random_map_text(rng), "gen.yaml")
    assert 3 <= len(dm.model.nodes) <= 25
    assert [d.line() for d in check_map(dm) if d.severity == "error"] == []
