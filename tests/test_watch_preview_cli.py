"""`watch --preview` at the command line, apart from the page itself (tests/live/): the
command line reaches the page only through its entry point, so without the live room's
extra `--preview` says in one line how to get it, and `watch` alone still works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "tests" / "fixtures" / "engine" / "main.yaml"
WAIT = 60  # seconds for any one command

# the console script's door with the live room's web server missing, as without the extra
WITHOUT_EXTRA = """\
import sys
sys.modules["starlette"] = sys.modules["uvicorn"] = None
from decision_map.cli.entry import main
main(sys.argv[1:])
"""


def run(*args: str, without_extra: bool = False) -> subprocess.CompletedProcess[str]:
    code = WITHOUT_EXTRA if without_extra else "from decision_map.cli.entry import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, timeout=WAIT)


def test_without_the_extra_preview_says_how_to_install_it_in_one_line():
    r = run("watch", str(MAP), "--preview", without_extra=True)
    assert r.returncode == 1, r
    assert r.stderr.strip().splitlines() == [
        "decision-map: --preview needs the live room's extra: pip install "
        "'decision-map[live]' (watch works in the terminal without it)"], r.stderr
    assert r.stdout == ""


def test_port_without_preview_is_a_usage_error():
    r = run("watch", str(MAP), "--port", "8123")
    assert r.returncode == 2, r
    assert r.stderr.strip() == "decision-map: --port is the preview page's: give --preview too"


def test_without_the_extra_watch_works_in_the_terminal(tmp_path):
    import os
    import signal
    import threading

    env = {**os.environ, "DECISION_MAP_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-c", WITHOUT_EXTRA, "watch", str(MAP)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    bound = threading.Timer(WAIT, proc.kill)  # a watch that says nothing fails, not hangs
    bound.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"watching {MAP}"), first
        summary = proc.stdout.readline()
        while summary.startswith("  "):  # the map's diagnostics, if any
            summary = proc.stdout.readline()
        assert summary.startswith("= "), summary
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=WAIT)
        bound.cancel()
    assert proc.returncode == 0 and "stopped watching" in out, out
