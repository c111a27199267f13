"""`hook-check` and `hook-test`: what the pre-commit hooks in `.pre-commit-hooks.yaml` run
on the changed YAML files of a repository of maps. Only files that declare decision-map's
schema are maps; a changed scenario file tests the map it belongs to."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from .main import app, check
from .output import console, safe


def _maps_among(files: list[Path]) -> list[Path]:
    from ..io.schema import declares_schema

    return [f for f in files if declares_schema(str(f))]


@app.command("hook-check", hidden=True)
def hook_check(files: list[Path] = typer.Argument(None, help="Changed YAML files.")) -> None:
    """`check --strict` on the files among FILES that declare the schema (pre-commit)."""
    maps = _maps_among(files or [])
    if not maps:
        return
    check(maps=maps, format="text", strict=True, allow_outside=False, max_bytes=None,
          max_nodes=None, max_handoff_depth=None, no_cache=False)


def _pairs(files: list[Path]) -> list[tuple[Path, Path]]:
    """(map, scenario file) for each changed map with scenarios beside it, and for each
    changed scenario file whose map (../NAME.yaml) declares the schema."""
    from ..io.schema import declares_schema
    from ..walk.scenarios import default_scenarios

    out: list[tuple[Path, Path]] = []
    for f in files:
        if declares_schema(str(f)):
            pair = (f, Path(default_scenarios(str(f))))
        elif f.parent.name == "scenarios" and declares_schema(str(f.parent.parent / f.name)):
            pair = (f.parent.parent / f.name, f)
        else:
            continue
        if pair[1].is_file() and pair not in out:
            out.append(pair)
    return out


@app.command("hook-test", hidden=True)
def hook_test(files: list[Path] = typer.Argument(None, help="Changed YAML files.")) -> None:
    """Run the scenarios of every changed map, and of the map of every changed scenario
    file (pre-commit); fail when a case fails or a map does not load."""
    from ..errors import DecisionMapError
    from ..io.loader import load_map
    from ..walk.scenarios import run_scenarios

    con = console()
    failed = 0
    for map_path, scenarios in _pairs(files or []):
        try:
            report = run_scenarios(load_map(str(map_path)), str(scenarios))
        except DecisionMapError as e:
            con.print(safe(f"FAIL {e}", "bold red"))
            failed += 1
            continue
        bad = [r for r in report.results if not r.passed]
        for r in bad:
            con.print(safe(f"FAIL {map_path}: {r.name}", "bold red"))
            for p in r.problems:
                con.print(safe(f"     {p}"))
        failed += len(bad)
        con.print(safe(f"{os.fspath(map_path)}: {len(report.results) - len(bad)} passed, "
                       f"{len(bad)} failed"))
    if failed:
        raise typer.Exit(1)
