""""Did you mean" is bounded: a map with thousands of dangling routes is checked in
seconds through the real console script, and the first ones still get a suggestion."""

from __future__ import annotations

import subprocess
import time

from decision_map.model.suggest import Suggester

DANGLING = 8_000


def test_thousands_of_dangling_targets_are_checked_quickly(exe, tmp_path):
    lines = ["id: big", "title: Big", "version: '1'", "start: s0", "nodes:"]
    lines += [f"  s{i}: {{say: hi, next: s{i}x}}" for i in range(DANGLING)]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.monotonic()
    r = subprocess.run([exe, "check", str(path)], capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - start
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert out.count("DM101") == DANGLING, out[-500:]
    assert "did you mean 's0'?" in out  # the first ones still get their suggestion
    assert seconds < 60, seconds  # unbounded it took minutes


def test_a_spent_budget_gives_no_suggestion_but_small_lists_still_get_one():
    s = Suggester(budget=5)
    assert s.closest("stat", ["start", "end"]) == "start"
    assert s.closest("stat", ["start", "end", "a", "b"]) is None  # 4 > 3 left
    assert s.closest("ed", ["end"]) == "end"
    assert s.closest("x" * 1000, ["x" * 1000]) is None  # too long to compare
