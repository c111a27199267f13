"""The gallery: each shipped map drawn whole, with one example walk (a case from its
scenario file) highlighted, into docs/gallery/<map-id>.svg.

    .venv/bin/python scripts/gallery.py [--png]    (--png also writes a .png beside each)
"""

from __future__ import annotations

import sys
from pathlib import Path

from decision_map_render import render

from decision_map.io.answers import answers_from_data
from decision_map.io.atomic import write_atomic
from decision_map.io.loader import load_map
from decision_map.io.yaml_source import parse_yaml, read_text
from decision_map.walk.engine import run
from decision_map.walk.scenarios import default_scenarios

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "gallery"

# The example walk of each map: the name of a case in its scenario file.
EXAMPLES = {
    "coalition-formation": "five groups form a coalition and draft every charter section",
    "common-ground": "low fingers, talk more, then enough",
    "working-through-dissent": "direct talk fails; an objection is met by an amendment",
}


def example_trace(map_path: Path):
    dm = load_map(str(map_path))
    scenarios = default_scenarios(str(map_path))
    data, pos = parse_yaml(read_text(scenarios), scenarios)
    cases = data["cases"]
    want = EXAMPLES.get(dm.id)
    case = next((c for c in cases if c.get("name") == want), cases[0])
    answers = answers_from_data({k: case[k] for k in ("group", "answers")}, pos, dm)
    return dm, run(dm, answers.group, answers.source(dm.id)), case["name"]


def main(argv: list[str]) -> None:
    formats = ["svg"] + (["png"] if "--png" in argv else [])
    for map_path in sorted((ROOT / "maps").glob("*.yaml")):
        dm, trace, name = example_trace(map_path)
        for fmt in formats:
            out = OUT / f"{dm.id}.{fmt}"
            write_atomic(str(out), render(dm, trace, fmt, focus=False))
            print(f"wrote {out.relative_to(ROOT)}: {name!r} -> {trace.outcome}")


if __name__ == "__main__":
    main(sys.argv[1:])
