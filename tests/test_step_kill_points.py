"""SIGKILL `decision-map step` at every file operation it makes in the session's folder,
one run per point (an audit hook picks the moment, tests/fixtures/killer): deterministic,
so it does not need a loaded CPU to find a bad moment. Once the session file has been
written it is always there, never empty, valid, and holds a prefix of the votes; a
backup, when there is one, too. Before, a kill between the two renames of a save left
only FILE.bak, and `--resume` then said "internal error"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from decision_map.io.session import load

ROOT = Path(__file__).resolve().parent.parent
VOTES = ROOT / "tests" / "fixtures" / "step" / "votes.yaml"
KILLER = ROOT / "tests" / "fixtures" / "killer"
EXE = shutil.which("decision-map") or str(Path(sys.executable).parent / "decision-map")
LINES = "1\n1\n1\n\n5\n5\n5\n\nn\n"  # ahead by all; 5 hours each; no picture
MAX_POINTS = 80  # a whole walk makes fewer file operations than this


def walk_killed_at(tmp_path: Path, n: int) -> tuple[int, Path]:
    folder = tmp_path / f"k{n}"
    folder.mkdir()
    env = {**os.environ, "NO_COLOR": "1", "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(KILLER),
                                                       os.environ.get("PYTHONPATH")])),
           "DM_KILL_FOLDER": str(folder), "DM_KILL_AT": str(n)}
    sess = folder / "s.json"
    p = subprocess.run([EXE, "step", str(VOTES), "--group", "Ana, Ben, Cy", "--session",
                        str(sess)], input=LINES, env=env, capture_output=True, text=True,
                       timeout=60)
    return p.returncode, sess


def test_killed_at_every_file_operation_the_session_is_whole():
    import tempfile

    full = ["go", "hours"]
    with tempfile.TemporaryDirectory() as d:
        tmp_path = Path(d)
        written = False
        for n in range(MAX_POINTS):
            code, sess = walk_killed_at(tmp_path, n)
            if code == 0:
                assert [s.node for s in load(sess).submissions] == full
                break
            assert code == -9, f"point {n}: exit {code}"
            written = written or sess.exists()
            if written:
                assert sess.exists(), f"point {n}: only the backup is left"
                assert sess.stat().st_size > 0, f"point {n}: the session file is empty"
                nodes = [s.node for s in load(sess).submissions]
                assert nodes == full[:len(nodes)], f"point {n}: {nodes}"
            bak = Path(str(sess) + ".bak")
            if bak.exists():
                nodes = [s.node for s in load(bak).submissions]
                assert nodes == full[:len(nodes)], f"point {n}: backup {nodes}"
        else:
            raise AssertionError(f"the walk never finished within {MAX_POINTS} points")
        assert n > 10, "the kill points were not reached (is the audit hook loaded?)"
