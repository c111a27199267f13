"""The layers hold: the core never imports render/ or the command line, render/ never
imports the command line, and inside the core each floor imports only the floors below
it. Maps and traces still show themselves in notebooks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from decision_map.io.loader import load_map
from decision_map.model.decision import Ballot
from decision_map.walk.engine import Walk

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "decision_map"

# Each floor of the core and what it may import from the core. The top-level modules
# (errors, diagnostics, templating, gcpause, notebook) are shared below every floor.
SHARED = {"decision_map", "decision_map.errors", "decision_map.diagnostics",
          "decision_map.gcpause", "decision_map.templating", "decision_map.notebook"}
FLOORS = {
    "model": {"model"},
    "rules": {"model", "rules"},
    "io": {"model", "rules", "io"},
    "check": {"model", "rules", "io", "check"},
    "walk": {"model", "rules", "io", "check", "walk"},
}
# The model is plain data and pure functions: it reads and writes nothing.
IO_MODULES = {"os", "io", "pathlib", "tempfile", "shutil", "yaml", "fcntl", "socket",
              "subprocess", "importlib.metadata"}


def _module(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "render":
        parts[0] = "decision_map_render"
    return parts


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved to absolute names."""
    pkg = _module(path)[:-1] if path.name != "__init__.py" else _module(path)[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x: a module, or a name in mod
                    for a in node.names:
                        sub = f"{mod}.{a.name}"
                        out.add(sub if _is_module(sub) else mod)
                    continue
            else:
                mod = node.module or ""
            out.add(mod)
    return out


def _is_module(name: str) -> bool:
    parts = name.split(".")
    if parts[0] == "decision_map_render":
        parts[0] = "render"
    base = ROOT.joinpath(*parts)
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _core_files() -> list[Path]:
    """The core's modules: all but the command line and `__main__.py`, which is only the
    command line's door for `python -m decision_map`."""
    return sorted(p for p in CORE.rglob("*.py") if "cli" not in p.relative_to(CORE).parts
                  and p.relative_to(CORE) != Path("__main__.py"))


def test_core_imports_neither_render_nor_the_command_line():
    core = _core_files()
    assert len(core) > 10
    for p in core:
        bad = {m for m in _imports(p)
               if m.startswith(("decision_map_render", "render", "decision_map.cli"))}
        assert not bad, f"{p.relative_to(ROOT)} imports {bad}"


def test_render_does_not_import_the_command_line():
    for p in (ROOT / "render").glob("*.py"):
        bad = {m for m in _imports(p) if m.startswith("decision_map.cli")}
        assert not bad, f"{p.name} imports {bad}"


def test_the_core_top_level_is_small():
    top = sorted(p.name for p in CORE.glob("*.py"))
    assert len(top) <= 8, top


@pytest.mark.parametrize("floor", sorted(FLOORS))
def test_each_floor_imports_only_floors_below_it(floor):
    allowed = FLOORS[floor]
    files = sorted((CORE / floor).rglob("*.py"))
    assert files
    for p in files:
        for m in _imports(p):
            if not m.startswith("decision_map.") or m in SHARED:
                continue
            sub = m.split(".")[1]
            assert sub in allowed, f"{p.relative_to(ROOT)} ({floor}) imports {m}"


def test_shared_top_level_modules_import_no_floor():
    for name in ("errors", "diagnostics", "gcpause", "templating", "notebook"):
        for m in _imports(CORE / f"{name}.py"):
            assert not m.startswith("decision_map.") or m in SHARED, f"{name}.py imports {m}"


def test_the_model_does_no_io():
    for p in sorted((CORE / "model").rglob("*.py")):
        tree = ast.parse(p.read_text())
        bad = {m for m in _imports(p) if m in IO_MODULES or m.split(".")[0] in IO_MODULES}
        assert not bad, f"{p.name} imports {bad}"
        calls = {n.func.id for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "open" not in calls and "print" not in calls and "input" not in calls, p.name


def test_rules_never_import_the_walk():
    for p in sorted((CORE / "rules").rglob("*.py")):
        assert not {m for m in _imports(p) if m.startswith("decision_map.walk")}, p.name


def test_maps_and_traces_show_as_svg_in_notebooks():
    dm = load_map(ROOT / "tests" / "fixtures" / "engine" / "main.yaml")
    assert dm._repr_svg_().lstrip().startswith("<svg")
    w = Walk(dm, ["Ana"])
    w.submit([Ballot("Ana", "yes")])
    svg = w.trace._repr_svg_()
    assert svg.lstrip().startswith("<svg") and "Is there a shared goal?" in svg


def test_nothing_below_the_live_room_imports_it():
    """The live room sits on the core and render/; `serve` reaches the command line only
    through the `decision_map.commands` entry point."""
    for p in sorted(CORE.rglob("*.py")) + sorted((ROOT / "render").glob("*.py")):
        bad = {m for m in _imports(p) if m.startswith("decision_map_live")}
        assert not bad, f"{p.relative_to(ROOT)} imports {bad}"
        assert "decision_map_live" not in p.read_text(), p.relative_to(ROOT)
