"""Rich display in notebooks without the core importing any renderer.

Renderers register under the entry-point group `decision_map.notebook` (render/ does, in
pyproject.toml); maps and traces ask whichever is installed for an SVG. With none
installed, notebooks fall back to the plain repr.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUP = "decision_map.notebook"


@cache
def _renderers() -> tuple[Callable[[Any], str | None], ...]:
    return tuple(ep.load() for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name))


def svg_for(obj: Any) -> str | None:
    """An SVG picture of a map or a trace, from the first renderer that draws it."""
    for render in _renderers():
        svg = render(obj)
        if svg is not None:
            return svg
    return None
