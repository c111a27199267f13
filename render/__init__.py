"""Drawing decision maps: pure functions from a map (and a trace) to DOT, Mermaid and
pictures. Imports the core (`decision_map.*`), never the CLI."""

from .diagram import Diagram, build
from .dot import to_digraph, to_dot
from .draw import FOCUS_THRESHOLD, RenderError, draw, render, write
from .mermaid import to_mermaid
from .notebook import map_svg, trace_svg

__all__ = [
    "FOCUS_THRESHOLD",
    "Diagram",
    "RenderError",
    "build",
    "draw",
    "map_svg",
    "render",
    "to_digraph",
    "to_dot",
    "to_mermaid",
    "trace_svg",
    "write",
]
