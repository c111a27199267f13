"""A walk killed (SIGKILL) at random points, many times: the session file and its backup
are never corrupt, always hold a prefix of the group's votes, and resume to the same
outcome as a walk that was never interrupted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from decision_map.io.session import load

GROUP = "Ana, Ben, Cy"
# One line per answer of the picnic walk (see test_step_cli and conftest's
# PICNIC_BALLOTS), step by step; each read-out takes an Enter line, and a resumed walk
# does not read out again, so the first one is the fresh walk's alone.
FIRST_READ_OUT = [""]
STEPS = [
    ["yes", "1", "no", ""],
    ["park", "b", "Too far for Cy", "park", "", ""],
    ["park", "park", "s", ""],
    ["10", "5", "8", ""],
    ["Sun and friends", ""],
]
KILLS = int(os.environ.get("DECISION_MAP_KILLS", "10"))


def _run(exe: str, env: dict[str, str], args: list[str], lines: list[str],
         rng: random.Random | None, sess: Path):
    """Feed `lines` to `decision-map step` over a pipe once it has written its session;
    with `rng`, SIGKILL it at a random moment. Returns the exit status."""
    before = sess.stat().st_mtime_ns if sess.exists() else None
    p = subprocess.Popen([exe, "step", *args], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env, text=True)
    assert p.stdin is not None
    deadline = time.monotonic() + 20
    while rng is not None and (not sess.exists() or sess.stat().st_mtime_ns == before):
        assert time.monotonic() < deadline and p.poll() is None, "the session never started"
        time.sleep(0.01)
    kill_at = rng.randrange(len(lines) + 1) if rng else None
    for i, line in enumerate(lines):
        if i == kill_at:
            time.sleep(rng.uniform(0, 0.05))  # type: ignore[union-attr]
            p.send_signal(signal.SIGKILL)
            break
        try:
            p.stdin.write(line + "\n")
            p.stdin.flush()
        except BrokenPipeError:
            break
        time.sleep(rng.uniform(0, 0.04) if rng else 0)
    else:
        if rng is not None:
            time.sleep(rng.uniform(0, 0.3))
            p.send_signal(signal.SIGKILL)
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    return p.wait(timeout=30)


@pytest.mark.parametrize("seed", range(KILLS))
def test_killed_at_random_the_session_is_never_lost(tmp_path, seed, exe, step_env, picnic_path,
                                                    picnic_outcome):
    rng = random.Random(seed)
    sess = tmp_path / "s.json"
    expected_outcome, expected = picnic_outcome
    all_lines = FIRST_READ_OUT + [line for step in STEPS for line in step] + ["n"]
    _run(exe, step_env, [str(picnic_path), "--group", GROUP, "--session", str(sess)],
         all_lines, rng, sess)
    for f in (sess, Path(str(sess) + ".bak")):
        if f.exists():
            saved = [s.to_json() for s in load(f).submissions]
            assert saved == expected[:len(saved)], f"{f} is not a prefix (seed {seed})"
    done = len(load(sess).submissions)
    print(f"seed {seed}: killed after {done} of {len(STEPS)} steps")
    rest = [line for step in STEPS[done:] for line in step] + ["n"]
    assert _run(exe, step_env, ["--resume", str(sess)], rest, None, sess) == 0
    final = load(sess)
    assert final.outcome == expected_outcome
    assert [s.to_json() for s in final.submissions] == expected
