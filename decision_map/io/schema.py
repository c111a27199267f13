"""The JSON Schema of the map format, generated from the pydantic models, with each key's
hover text taken from the tables of `docs/format.md`.

Draft-07 (what the YAML language server understands): pydantic's `$defs` become
`definitions`. The package carries the generated file (`make schema` writes it from the
repository's models and docs; a test fails when it drifts), and `decision-map schema`
prints that file, so an installed package needs no docs folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..model.format import MapFile

SCHEMA_FILE = Path(__file__).parent / "decision-map.schema.json"
# The format's schema version: raised only when a map valid before is no longer valid.
# The `$id` carries it and never names a host, so it stays the same wherever the schema is
# copied (`decision-map schema --write`) or installed.
SCHEMA_VERSION = 1
SCHEMA_ID = f"urn:decision-map:schema:map:v{SCHEMA_VERSION}"


DOC_FILE = Path(__file__).resolve().parents[2] / "docs" / "format.md"


def published_schema() -> dict[str, Any]:
    """The schema the package carries: what `decision-map schema` prints and writes."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


# Answers files (docs/answers.md) are written by hand, not generated: the loader in
# answers.py is the reference, and tests/test_record.py holds the two to the same keys.
ANSWERS_SCHEMA_FILE = Path(__file__).parent / "answers.schema.json"


def answers_schema() -> dict[str, Any]:
    """The JSON Schema of answers files: what `decision-map schema --answers` prints."""
    return json.loads(ANSWERS_SCHEMA_FILE.read_text(encoding="utf-8"))


def map_schema(format_doc: str | None = None) -> dict[str, Any]:
    """The schema as a dict, with stable key order; each key that `format_doc` (default:
    the repository's docs/format.md) documents in a table gets that text as its hover."""
    from .format_doc import key_texts

    if format_doc is None:
        format_doc = DOC_FILE.read_text(encoding="utf-8")
    texts = key_texts(format_doc)
    raw = MapFile.model_json_schema(ref_template="#/definitions/{model}", by_alias=True)
    defs = raw.pop("$defs", {})
    out: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "$comment": f"decision-map map format, schema version {SCHEMA_VERSION}; every key "
                    "is documented in docs/format.md",
    }
    out.update(raw)
    out["definitions"] = dict(sorted(defs.items()))
    for name, d in [("MapFile", out), *out["definitions"].items()]:
        for prop, spec in d.get("properties", {}).items():
            if prop in texts.get(name, {}):
                spec["description"] = texts[name][prop]
    return out


SCHEMA_LINE = "# yaml-language-server: $schema="
MAX_HEADER_LINES = 50
MAX_HEADER_LINE = 4096


def declares_schema(path: str) -> bool:
    """Whether a YAML file says, in the comments at its top, that it is a decision map
    (a `yaml-language-server` line naming decision-map's schema file or its `$id`), so
    that a pre-commit hook checks maps and leaves other YAML files alone."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for _ in range(MAX_HEADER_LINES):
                stripped = f.readline(MAX_HEADER_LINE).strip()
                if stripped.startswith(SCHEMA_LINE):
                    ref = stripped[len(SCHEMA_LINE):].strip()
                    return ref == SCHEMA_ID or ref.endswith(SCHEMA_FILE.name)
                if stripped and not stripped.startswith("#"):
                    return False
    except OSError:
        return False
    return False
