"""The layers hold: the core never imports render/ or the command line, and render/
never imports the command line. Maps and traces still show themselves in notebooks."""

from __future__ import annotations

import ast
from pathlib import Path

from decision_map.engine import Walk
from decision_map.loader import load_map

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level and path.parent.name == "cli":
                mod = "decision_map.cli." + mod
            elif node.level and path.parent.name == "decision_map":
                mod = ("decision_map." + mod) if mod != "cli" else "decision_map.cli"
            out.add(mod)
    return out


def test_core_imports_neither_render_nor_the_command_line():
    core = [p for p in (ROOT / "decision_map").glob("*.py")]
    assert len(core) > 10
    for p in core:
        bad = {m for m in _imports(p)
               if m.startswith(("decision_map_render", "render", "decision_map.cli"))}
        assert not bad, f"{p.name} imports {bad}"


def test_render_does_not_import_the_command_line():
    for p in (ROOT / "render").glob("*.py"):
        bad = {m for m in _imports(p) if m.startswith("decision_map.cli") or m == ".cli"}
        assert not bad, f"{p.name} imports {bad}"


def test_maps_and_traces_show_as_svg_in_notebooks():
    from decision_map.decision import Ballot

    dm = load_map(ROOT / "tests" / "fixtures" / "engine" / "main.yaml")
    assert dm._repr_svg_().lstrip().startswith("<svg")
    w = Walk(dm, ["Ana"])
    w.submit([Ballot("Ana", "yes")])
    svg = w.trace._repr_svg_()
    assert svg.lstrip().startswith("<svg") and "Is there a shared goal?" in svg
