"""The hover text of each key, read from the tables of `docs/format.md`, so that what an
editor shows over a key is what the documentation says, written once.

Each `###`/`##` section's table documents one part of the format; a row's first cell names
its keys in backticks and its last cell says what they are. A row that says "as in
`defaults`" or "as above" borrows the text of the section it points at.
"""

from __future__ import annotations

import re

# Section heading (as written after the #s) -> the schema definitions it documents.
SECTIONS = {
    "The map": ("MapFile",),
    "`defaults`": ("Defaults",),
    "Nodes": ("ChoiceQuestion", "NumberQuestion", "TextQuestion", "Check", "Handoff",
              "Info", "Outcome"),
    "A choice question (`ask` + `choices`)": ("ChoiceQuestion",),
    "A number question (`ask` + `number`)": ("NumberQuestion",),
    "A text question (`ask` + `text`)": ("TextQuestion",),
    "A check (`check`)": ("Check",),
    "A hand-off (`map`)": ("Handoff",),
    "Information (`say`)": ("Info",),
    "An outcome (`outcome`)": ("Outcome",),
}
# Where a row's "as in ..." or "as above" sends a definition for its text.
BORROW = {"ChoiceQuestion": "Defaults", "NumberQuestion": "ChoiceQuestion",
          "TextQuestion": "ChoiceQuestion"}
KEY_CELL = re.compile(r"^(`[A-Za-z_]+`)(, `[A-Za-z_]+`)*$")
LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def _text(cell: str) -> str:
    """A table cell as hover text: links become their words, the first letter is raised."""
    cell = LINK.sub(r"\1", cell.replace("\\|", "|").strip())
    return cell[:1].upper() + cell[1:]


def key_texts(doc: str) -> dict[str, dict[str, str]]:
    """definition name -> key -> hover text, from the key tables of `doc`."""
    out: dict[str, dict[str, str]] = {}
    borrowed: list[tuple[str, str]] = []
    defs: tuple[str, ...] = ()
    for line in doc.splitlines():
        if line.startswith("#"):
            defs = SECTIONS.get(line.lstrip("#").strip(), ())
            continue
        if not defs or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) < 2 or not KEY_CELL.match(cells[0]):
            continue
        keys = re.findall(r"`([A-Za-z_]+)`", cells[0])
        text = cells[-1]
        for d in defs:
            for k in keys:
                if text.startswith(("as in", "as above")):
                    borrowed.append((d, k))
                else:
                    out.setdefault(d, {})[k] = _text(text)
    for d, k in borrowed:
        source = BORROW.get(d)
        while source and k not in out.get(source, {}):
            source = BORROW.get(source)
        if source:
            out.setdefault(d, {})[k] = out[source][k]
    return out
