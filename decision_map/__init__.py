"""decision-map: "if not this, then that" maps that a group walks together.

The core (format, loader, graph, checks, rules, engine) is pure: no printing, prompting
or drawing. The public API is re-exported lazily so that `import decision_map` is cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
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


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)
