"""The maps that ship inside the package, found by name, so that a user who installed the
wheel can walk `coalition-formation` without a clone of the repository.

They live in the repository's top-level `maps/` folder, installed as the package
`decision_map_maps` (see `pyproject.toml`). A name is used only when no file of that name
exists: a path always wins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from .schema import SCHEMA_LINE

MAPS_PACKAGE = "decision_map_maps"
MAP_SUFFIX = ".yaml"


def shipped_dir() -> Path | None:
    """The folder holding the shipped maps, or None when the package is not installed
    as plain files (hand-offs and scenarios need real files beside each other)."""
    try:
        root = resources.files(MAPS_PACKAGE)
    except ModuleNotFoundError:
        return None
    path = Path(str(root))
    return path if (path / "__init__.py").is_file() else None


def shipped_names() -> list[str]:
    """The names of the shipped maps (file names without `.yaml`), sorted."""
    folder = shipped_dir()
    if folder is None:
        return []
    return sorted(p.name[: -len(MAP_SUFFIX)] for p in folder.glob(f"*{MAP_SUFFIX}"))


def shipped_path(name: str) -> Path | None:
    """The file of the shipped map called `name` (with or without `.yaml`), or None."""
    folder = shipped_dir()
    stem = name[: -len(MAP_SUFFIX)] if name.endswith(MAP_SUFFIX) else name
    if folder is None or not stem or os.sep in stem or "/" in stem or stem.startswith("."):
        return None
    path = folder / f"{stem}{MAP_SUFFIX}"
    return path if path.is_file() else None


def resolve_map(arg: str | os.PathLike[str]) -> str:
    """The file a MAP argument means: the path itself when anything exists there, else
    the shipped map of that name, else the argument unchanged (so loading it reports
    the missing file where the user typed it)."""
    text = os.fspath(arg)
    if os.path.exists(text):
        return text
    found = shipped_path(text)
    return str(found) if found is not None else text


def with_schema_line(text: str, schema_ref: str) -> str:
    """The map's text with its first line pointing editors at `schema_ref`: an existing
    `yaml-language-server` line is replaced, else one is put on top."""
    lines = text.splitlines(keepends=True)
    line = f"{SCHEMA_LINE}{schema_ref}\n"
    if lines and lines[0].startswith(SCHEMA_LINE):
        return line + "".join(lines[1:])
    return line + text


def copy_map(source: str, dest: Path, schema_for: Callable[[Path], str], force: bool = False,
             handoffs: Iterable[str] = ()) -> list[Path]:
    """Copy the map file `source` to `dest`, and beside it every map it hands off to
    (`handoffs`: their paths, as the loader resolved them) that sits in the source's
    folder and is not already beside `dest`, so the copy checks clean. `schema_for`
    gives each written file's `$schema` reference. Returns the files written."""
    from .atomic import write_atomic
    from .yaml_source import read_text

    if dest.exists() and not force:
        raise FileExistsError(str(dest))
    written = [dest]
    write_atomic(str(dest), with_schema_line(read_text(source), schema_for(dest)))
    src_dir = os.path.dirname(os.path.abspath(source))
    for target in handoffs:
        if os.path.dirname(os.path.abspath(target)) != src_dir:
            continue
        beside = dest.parent / os.path.basename(target)
        if beside.exists() or beside in written:
            continue
        write_atomic(str(beside), with_schema_line(read_text(target), schema_for(beside)))
        written.append(beside)
    return written
