"""Inputs are checked before they are built or read whole: a billion-vote tally, an
endless file (/dev/zero) or a FIFO nobody writes to each give one clear line, quickly,
through the real console script (docs/safety.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COALITION = ROOT / "maps" / "coalition-formation.yaml"
PICNIC = ROOT / "tests" / "fixtures" / "step" / "picnic.yaml"
EXE = str(Path(sys.executable).parent / "decision-map")
QUICK = 30  # seconds: each of these took minutes, or for ever, before


def dm(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    started = time.monotonic()
    p = subprocess.run([EXE, *args], capture_output=True, text=True, env=env,
                       stdin=subprocess.DEVNULL, timeout=120)
    assert time.monotonic() - started < QUICK
    return p


def one_line_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr + p.stdout
    lines = [x for x in p.stderr.splitlines() if x and not x.startswith("Fontconfig")]
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_a_billion_vote_tally_is_refused_before_any_ballot_is_built(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("group: [Ana, Ben, Cy]\n"
                       "answers:\n  shared-goal: {tally: {yes: 1000000000}}\n",
                       encoding="utf-8")
    line = one_line_error(dm("run", str(COALITION), str(answers)))
    assert line.endswith("question 'shared-goal': the tally counts 1000000000 votes for a "
                         "group of 3")
    assert ":3:" in line  # located at the tally


def test_group_file_that_never_ends_is_refused(tmp_path):
    line = one_line_error(dm("step", str(PICNIC), "--group-file", "/dev/zero"))
    assert line == "decision-map: /dev/zero: the file is larger than 1048576 bytes"


@pytest.mark.parametrize("command", ["run", "render"])
def test_answers_file_that_never_ends_is_refused(tmp_path, command):
    args = [str(COALITION), "/dev/zero"] if command == "run" else \
        [str(COALITION), "--answers", "/dev/zero", "-o", str(tmp_path / "x.svg")]
    line = one_line_error(dm(command, *args))
    assert "/dev/zero:1:1: error DM004: the file is larger than 67108864 bytes" in line


def test_map_that_never_ends_is_refused():
    p = dm("check", "/dev/zero")
    assert p.returncode == 1
    assert p.stdout.startswith("/dev/zero:1:1: error DM004: the file is larger than 2097152")


def test_trace_that_never_ends_is_refused(tmp_path):
    line = one_line_error(dm("report", "/dev/zero", "-o", str(tmp_path / "r.html")))
    assert line == "decision-map: /dev/zero: the file is larger than 67108864 bytes"


def test_session_that_never_ends_is_refused(tmp_path):
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    p = dm("step", "--resume", str(zero))
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert f"{zero}: larger than 67108864 bytes: not a session file" in p.stdout + p.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_nobody_writes_to_is_empty_not_a_hang(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert dm("check", str(fifo)).stdout.startswith(f"{fifo}:1:1: error DM001: the file is "
                                                    "empty")
    line = one_line_error(dm("run", str(COALITION), str(fifo)))
    assert line.endswith(f"{fifo}:1:1: the file is empty")
    line = one_line_error(dm("step", str(PICNIC), "--group-file", str(fifo)))
    assert line.startswith(f"decision-map: {fifo}: ")


def test_a_fifo_with_a_writer_is_read(tmp_path):
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", 'printf "group: [Ana]\\nanswers: {}\\n" > "$1"',
                               "sh", str(fifo)])
    try:
        time.sleep(0.5)  # the writer is waiting in open() for a reader
        p = dm("run", str(COALITION), str(fifo))
    finally:
        writer.wait(timeout=30)
    # read whole: the walk gets as far as the first question Ana's answers leave out
    assert one_line_error(p).endswith("the walk reaches question 'shared-goal', which the "
                                      "answers do not answer (or use --stop-at-missing)")
