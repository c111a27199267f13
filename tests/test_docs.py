"""The docs say what the code does: every key is documented, the example map is valid."""

from __future__ import annotations

import re
from pathlib import Path

from decision_map.check.checks import check_map
from decision_map.io.loader import load_text
from decision_map.model import format as fmt

ROOT = Path(__file__).resolve().parent.parent
FORMAT = (ROOT / "docs" / "format.md").read_text()
README = (ROOT / "README.md").read_text()


def test_every_key_of_the_format_is_documented():
    missing = []
    for obj in vars(fmt).values():
        if isinstance(obj, type) and issubclass(obj, fmt.Strict) and obj is not fmt.Strict:
            for name, info in obj.model_fields.items():
                key = info.alias or name
                if f"`{key}`" not in FORMAT:
                    missing.append(f"{obj.__name__}.{key}")
    assert missing == []


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def test_the_example_maps_in_the_docs_are_clean():
    blocks = [b for b in _yaml_blocks(FORMAT) + _yaml_blocks(README) if "nodes:" in b]
    assert len(blocks) >= 2
    for b in blocks:
        dm = load_text(b, "<docs>")
        assert [d.line() for d in check_map(dm) if d.severity == "error"] == []
