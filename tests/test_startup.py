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
    # rich's help layout (markdown-it, rich.markdown, typer.rich_utils) cost ~0.5 s per --help
    assert not {"typer.rich_utils", "rich.markdown", "markdown_it"} & _imports(done.stderr)


def test_a_usage_error_is_one_line_naming_the_command_and_its_help(exe, one_line_error):
    """A mistyped option or command gives one line, with the command and where its help is,
    and exit 2 (click's usage block was three lines)."""
    for args, says in ((["render", "x.yaml", "--colour"], "render: No such option: --colour"),
                       (["rendr"], "No such command 'rendr'. Did you mean 'render'?"),
                       (["render"], "render: Missing argument 'MAP'")):
        p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)
        line = one_line_error(p)
        assert p.returncode == 2 and says in line and "--help'" in line, line


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



def test_drawing_does_not_import_networkx(tmp_path, exe, coalition_path):
    """`render` uses the map's model, not its graph: networkx (about 0.13 s of
    imports) is loaded only by the checker and route analysis, which need it."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "NO_COLOR": "1"}
    out = tmp_path / "map.svg"
    done = subprocess.run([exe, "render", str(coalition_path), "-o", str(out)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and out.stat().st_size > 1000, done.stderr[-500:]
    assert "networkx" not in _imports(done.stderr)
