"""SVG for notebooks: maps and traces find `svg_for` through the `decision_map.notebook`
entry point, so the core never imports render/."""

from __future__ import annotations

from decision_map.io.loader import DecisionMap
from decision_map.model.trace import Trace

from .draw import DEFAULT_LIMITS, DrawLimits, picture


def _svg(data: bytes) -> str:
    text = data.decode("utf-8")
    start = text.find("<svg")  # drop the XML prolog and doctype: notebooks inline it
    return text[start:] if start >= 0 else text


def map_svg(dm: DecisionMap, limits: DrawLimits = DEFAULT_LIMITS) -> str:
    """The whole map as an SVG string (a summary past `limits`)."""
    return _svg(picture(dm, None, "svg", limits=limits).data)


def trace_svg(dm: DecisionMap, trace: Trace, focus: bool | None = None,
              limits: DrawLimits = DEFAULT_LIMITS) -> str:
    """The map with the path of `trace` as an SVG string (focused on big maps, and
    past `limits` on the path alone or a summary)."""
    return _svg(picture(dm, trace, "svg", focus, limits).data)


def svg_for(obj: object) -> str | None:
    """The picture of a map, or of a trace's path through the map it names."""
    if isinstance(obj, DecisionMap):
        return map_svg(obj)
    if isinstance(obj, Trace) and obj.map_path:
        from decision_map.io.loader import load_map

        return trace_svg(load_map(obj.map_path), obj)
    return None
