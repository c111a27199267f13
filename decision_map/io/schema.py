"""The JSON Schema of the map format, generated from the pydantic models.

Draft-07 (what the YAML language server understands): pydantic's `$defs` become
`definitions`. The repo carries the generated file; a test fails when it drifts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model.format import MapFile

SCHEMA_FILE = Path(__file__).parent / "decision-map.schema.json"
SCHEMA_ID = "https://decision-map.invalid/schema/decision-map.schema.json"


def map_schema() -> dict[str, Any]:
    """The schema as a dict, with stable key order."""
    raw = MapFile.model_json_schema(ref_template="#/definitions/{model}", by_alias=True)
    defs = raw.pop("$defs", {})
    out: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
    }
    out.update(raw)
    out["definitions"] = dict(sorted(defs.items()))
    return out
