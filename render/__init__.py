"""Drawing decision maps: pure functions from a map (and a trace) to DOT, Mermaid and
pictures. Imports the core (`decision_map.*`), never the CLI."""

from .diagram import Diagram, build
from .dot import to_digraph, to_dot
from .draw import (
    DEFAULT_LIMITS,
    FOCUS_THRESHOLD,
    DrawLimits,
    LayoutTimeout,
    Picture,
    RenderError,
    draw,
    picture,
    render,
    write,
)
from .mermaid import to_mermaid
from .notebook import map_svg, trace_svg

__all__ = [
    "DEFAULT_LIMITS",
    "FOCUS_THRESHOLD",
    "Diagram",
    "DrawLimits",
    "LayoutTimeout",
    "Picture",
    "RenderError",
    "build",
    "draw",
    "map_svg",
    "picture",
    "render",
    "to_digraph",
    "to_dot",
    "to_mermaid",
    "trace_svg",
    "write",
]
