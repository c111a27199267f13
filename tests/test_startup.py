"""Startup: each command imports only what it needs, so what a user feels is the work and
not the imports (the speed issue's process figures; bench/notes.md)."""

from __future__ import annotations

import os
import subprocess


def _imports(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines()
            if line.startswith("import time:")}


def test_help_loads_no_map_machinery(exe):
    """`--help` lists every command without loading the map format (pydantic), the graph
    (networkx), Jinja2 or the batch's column libraries."""
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "NO_COLOR": "1"})
    assert done.returncode == 0 and "step" in done.stdout
    heavy = {"pydantic", "networkx", "jinja2", "yaml", "numpy", "pyarrow"}
    assert not heavy & _imports(done.stderr)


def test_a_first_check_runs_without_the_command_line_library(tmp_path, exe, coalition_path):
    """`check MAP` and `check --no-cache MAP` check without importing typer, click or rich,
    and say what `check --format text` (the full command line) says."""
    env = {**os.environ, "DECISION_MAP_CACHE": str(tmp_path), "NO_COLOR": "1"}
    full = subprocess.run([exe, "check", "--format", "text", "--no-cache", str(coalition_path)],
                          env=env, capture_output=True, text=True, timeout=120)
    for args in (["check", str(coalition_path)], ["check", "--no-cache", str(coalition_path)]):
        fast = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120,
                              env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
        assert (fast.returncode, fast.stdout) == (full.returncode, full.stdout)
        imported = _imports(fast.stderr)
        assert "decision_map.check.checks" in imported, "the map was not checked"
        assert not {"typer", "click", "rich"} & imported

