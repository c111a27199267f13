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
