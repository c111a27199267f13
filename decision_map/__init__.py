"""decision-map: "if not this, then that" maps that a group walks together.

The core (format, loader, graph, checks, rules, engine) is pure: no printing, prompting
or drawing. The public API is re-exported lazily so that `import decision_map` is cheap.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["load_map", "Walk", "run", "check_map", "Trace", "Ballot", "Decision"]

_WHERE = {
    "load_map": "io.loader",
    "check_map": "check.checks",
    "Walk": "walk.engine",
    "run": "walk.engine",
    "Trace": "model.trace",
    "Ballot": "model.decision",
    "Decision": "model.decision",
}


@functools.cache
def package_version() -> str:
    """The installed package's version, from its metadata (one place: pyproject.toml);
    traces record it beside the map's hash."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("decision-map")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return package_version()
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)
