"""A cache of `check` results on disk, so checking an unchanged map costs a few file
hashes instead of importing pydantic, networkx and Jinja2.

An entry is keyed by the checker's own source, the map's path and content, and the
options; it lists the hand-off files the check read with their hashes, and is used only
when every one of them still hashes the same. Nothing here imports the heavy modules.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import sys
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, Where

MAX_HASH_BYTES = 64 * 1024 * 1024  # bigger files are not cached (io.yaml_source's input limit)

FORMAT = 1
MAX_ENTRIES = 512  # a few hundred maps' latest checks; the oldest go first


# The floors whose code decides what a check says (the reader, the models, the rules, the
# checks), besides the shared modules at the top (the registry of codes and its hints).
CHECKER_FLOORS = ("check", "io", "model", "rules")


def fingerprinted_sources() -> list[Path]:
    """Every source file whose change must invalidate the cache."""
    pkg = Path(__file__).resolve().parent.parent
    files = [p for floor in CHECKER_FLOORS for p in (pkg / floor).glob("*.py")]
    return sorted(files + list(pkg.glob("*.py")))


@cache
def _code_fingerprint() -> str:
    """The checker's behaviour is its source: a changed core (a check, the YAML reader,
    a code's hint in the registry) invalidates every entry."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent.parent
    for p in fingerprinted_sources():
        h.update(p.relative_to(pkg).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _sha_file(path: str) -> str | None:
    """The hash of a plain file of at most MAX_HASH_BYTES; None (not cached) for
    anything else, so a FIFO or /dev/zero reaches the loader's bounded read instead."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_HASH_BYTES:
            return None
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read(MAX_HASH_BYTES + 1)).hexdigest()
    except OSError:
        return None


def _folder() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("DECISION_MAP_CACHE") or user_cache_dir("decision-map")) / "check"


# templating.LIMITS_VARIABLE, spelled here so that a cached answer never imports Jinja2
LIMITS_VARIABLE = "DECISION_MAP_TEMPLATE_LIMITS"


def _limits_key() -> Any:
    """What can change DM119: the outcome-text limits in force. Until the sandbox is
    imported no `template_limits` block can be active, so the variable alone tells, and a
    cached check answers without importing Jinja2."""
    sandbox = sys.modules.get("decision_map.templating")
    block = sandbox.limits_block() if sandbox is not None else None
    return [os.environ.get(LIMITS_VARIABLE, ""), dataclasses.astuple(block) if block else None]


def _key(path: str, options_key: str) -> str | None:
    content = _sha_file(path)
    if content is None:
        return None
    limits = _limits_key()
    raw = json.dumps([FORMAT, _code_fingerprint(), os.getcwd(), path, content, options_key,
                      limits])
    return hashlib.sha256(raw.encode()).hexdigest()


def lookup(path: str, options_key: str) -> list[Diagnostic] | None:
    """The cached diagnostics of `path`, or None when there are none still valid."""
    key = _key(path, options_key)
    if key is None:
        return None
    try:
        entry = json.loads((_folder() / f"{key}.json").read_text(encoding="utf-8"))
        if any(_sha_file(f) != h for f, h in entry["deps"]):
            return None
        return [Diagnostic(d["code"], d["severity"], d["message"],
                           Where(d["file"], d["line"], d["col"]), d.get("hint"))
                for d in entry["diagnostics"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(path: str, options_key: str, diags: list[Diagnostic],
          deps: list[tuple[str, str]]) -> None:
    """Remember a check's result; a cache that cannot be written is simply skipped."""
    key = _key(path, options_key)
    if key is None:
        return
    entry: dict[str, Any] = {"deps": deps, "diagnostics": [d.to_json() for d in diags]}
    try:
        from ..io.atomic import write_atomic

        write_atomic(str(_folder() / f"{key}.json"), json.dumps(entry))
        _prune(_folder())
    except OSError:
        pass


def _prune(folder: Path, keep: int = MAX_ENTRIES) -> None:
    """Every edit of a map makes a new entry: keep the `keep` most recently written."""
    entries = list(folder.glob("*.json"))
    if len(entries) <= keep:
        return
    for old in sorted(entries, key=_written)[: len(entries) - keep]:
        try:
            old.unlink()
        except OSError:
            pass


def _written(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0
