"""`maps`: the maps that ship with the package, which every MAP argument accepts by name."""

from __future__ import annotations

import json

import typer

from .main import app, fail
from .output import console, safe


@app.command("maps")
def maps_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """List the shipped maps: name, title, size and outcomes.

    Any command takes a shipped map's name where it takes a MAP (a file of that name wins).
    """
    from ..io.loader import load_map
    from ..io.shipped import shipped_dir, shipped_names, shipped_path
    from ..model.format import ChoiceQuestion, NumberQuestion, Outcome, TextQuestion

    names = shipped_names()
    if not names:
        raise fail("no shipped maps found: the package `decision_map_maps` is not "
                   "installed as files")
    rows = []
    for name in names:
        dm = load_map(str(shipped_path(name)))
        outcomes = {k: v for k, v in dm.nodes.items() if isinstance(v, Outcome)}
        rows.append({
            "name": name, "title": dm.model.title, "version": dm.version,
            "nodes": len(dm.nodes),
            "questions": sum(isinstance(n, (ChoiceQuestion, NumberQuestion, TextQuestion))
                             for n in dm.nodes.values()),
            "outcomes": sorted({o.verdict or k for k, o in outcomes.items()}),
            "path": dm.path,
        })
    if as_json:
        typer.echo(json.dumps({"maps": rows, "folder": str(shipped_dir())}, indent=2))
        return
    con = console()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        line = safe(f"{r['name']:<{width}}", "bold")
        line.append(safe(f"  {r['title']} ({r['questions']} questions, {r['nodes']} nodes)"))
        con.print(line)
        con.print(safe(" " * (width + 2) + "outcomes: " + ", ".join(r["outcomes"])))
    con.print(safe(f"in {shipped_dir()}; try: decision-map step {names[0]}", "dim"))
