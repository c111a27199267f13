"""docs/diagnostics.md, generated from the registry: each code with its example and what
the checker really says about it, so the page cannot drift from the code.

Regenerate with `make diagnostics` (`python -m decision_map.check.docs docs/diagnostics.md`);
a test fails when the committed page differs from a fresh one.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile

from ..diagnostics import REGISTRY, Code
from ..errors import Diagnostic, Where
from ..io.atomic import write_atomic
from ..io.loader import LoadOptions
from .checks import check_file

EXAMPLE_FILE = "map.yaml"


def write_example(code: Code, folder: str) -> str:
    """Write `code`'s example files into `folder`; the path of the file to check."""
    ex = code.example
    if ex.map is not None:
        with open(os.path.join(folder, EXAMPLE_FILE), "wb") as fh:
            fh.write(ex.map.encode(ex.encoding))
    for name, text in ex.beside:
        with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    return os.path.join(folder, EXAMPLE_FILE)


def check_flags(code: Code) -> list[str]:
    """The `check` flags that give the example's LoadOptions."""
    return [a for k, v in code.example.options for a in (f"--{k.replace('_', '-')}", str(v))]


def run_example(code: Code) -> list[Diagnostic]:
    """Check `code`'s example in a fresh folder; places and messages name the files
    relative to it, as a user who checked `map.yaml` in that folder would see them."""
    with tempfile.TemporaryDirectory(prefix="dm-example-") as tmp:
        folder = os.path.realpath(os.path.join(tmp, "maps"))
        os.mkdir(folder)
        write_example(code, folder)
        options = LoadOptions(**dict(code.example.options))  # type: ignore[arg-type]
        found = check_file(os.path.join(folder, EXAMPLE_FILE), options)
    prefix = folder + os.sep
    return [dataclasses.replace(
        d, message=d.message.replace(prefix, ""),
        where=Where(d.where.file.replace(prefix, ""), d.where.line, d.where.col))
        for d in found]


def _fence(text: str, lang: str = "") -> list[str]:
    return [f"```{lang}", text.rstrip("\n"), "```"]


def _section(code: Code) -> list[str]:
    ex = code.example
    out = [f"## {code.code}", "", f"**{code.title}** ({code.severity})", "",
           f"Hint: {code.hint}.", ""]
    if ex.map is not None:
        out += [f"`{EXAMPLE_FILE}`:", "", *_fence(ex.map, "yaml"), ""]
    for name, text in ex.beside:
        out += [f"`{name}`, beside it:", "", *_fence(text, "yaml"), ""]
    if ex.note:
        out += [ex.note[0].upper() + ex.note[1:] + ".", ""]
    lines = "\n".join(d.line() for d in run_example(code))
    command = " ".join(["decision-map check", EXAMPLE_FILE, *check_flags(code)])
    out += [f"`{command}` says:", "", *_fence(lines, "text"), ""]
    return out


def markdown() -> str:
    """The whole page, from the registry, with every example checked afresh."""
    out = [
        "# Diagnostics",
        "",
        "<!-- Generated from decision_map/diagnostics.py by `make diagnostics`: "
        "edit the registry, not this page. -->",
        "",
        "Every problem `decision-map check` finds is one line: "
        "`file:line:col: severity CODE: message (hint: how to fix it)`. "
        "The codes are stable; errors make `check` exit non-zero, warnings do not. "
        "Below, each code has a small map that gives it and what the checker says.",
        "",
        "| code | severity | problem |",
        "| --- | --- | --- |",
    ]
    codes = sorted(REGISTRY.values(), key=lambda c: c.code)
    out += [f"| [{c.code}](#{c.code.lower()}) | {c.severity} | {c.title} |" for c in codes]
    out.append("")
    for c in codes:
        out += _section(c)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    """Write the page to the one path given."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m decision_map.check.docs docs/diagnostics.md\n")
        return 2
    write_atomic(argv[0], markdown())
    return 0


if __name__ == "__main__":  # pragma: no cover - `make diagnostics`
    raise SystemExit(main(sys.argv[1:]))
