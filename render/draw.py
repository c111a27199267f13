"""Lay out and draw DOT in-process with pygraphviz, and write a map to a file by suffix.

pygraphviz's wheel carries Graphviz's own libraries, so no `dot` program is needed on
the machine: `AGraph(string=dot).draw(format=..., prog="dot")` runs the layout and the
renderer inside this process.

Focus by default: a traced map with more than FOCUS_THRESHOLD nodes is drawn in focus
mode (the path and the branches one step off it). Layout + SVG time, in-process, of
generated maps (`python -m decision_map_render.bench`; see dot.py for label/xlabel):

    nodes   whole map (auto labels)   traced, focus mode
      100     0.11 s (label)            0.03 s
      200     0.28 s (label)            0.06 s
      500     0.53 s (xlabel)           0.16 s
     1000     2.31 s (xlabel)           0.48 s
     3000    17.3 s  (xlabel)           0.17 s (walk of 400 steps)
    stress maps (blocks loop back to random earlier nodes): 200 nodes 4.2 s (xlabel)

The whole map stays well under a second up to a few hundred nodes and then grows
faster than linearly (2 s at 1,000, 17 s at 3,000), while a picture of more than a few
hundred boxes cannot be read on a page anyway. So a traced map above 300 nodes is
focused on its path: cheap at any size, because it grows with the walk, not the map.
Pass focus=False to force the whole map. An untraced map has no path to focus on and is
always drawn whole.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from decision_map.errors import InputError
from decision_map.io.loader import DecisionMap
from decision_map.model.trace import Trace

from .dot import to_dot
from .mermaid import to_mermaid

FOCUS_THRESHOLD = 300
DRAW_FORMATS = ("svg", "png", "pdf")
SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".mmd")


class RenderError(InputError):
    """A drawing that cannot be made: an unknown format, or DOT Graphviz rejects."""


def draw(dot_source: str, fmt: str) -> bytes:
    """Lay out `dot_source` with Graphviz's `dot` and return it drawn as svg, png or pdf."""
    import pygraphviz

    if fmt not in DRAW_FORMATS:
        raise RenderError(f"cannot draw {fmt!r}: choose one of {', '.join(DRAW_FORMATS)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            graph = pygraphviz.AGraph(string=dot_source)
            data = graph.draw(format=fmt, prog="dot")
    except (ValueError, RuntimeWarning, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RenderError(f"Graphviz could not draw the map: {first}") from None
    if not data:
        raise RenderError(f"Graphviz drew nothing in {fmt}")
    return bytes(data)


def auto_focus(dm: DecisionMap, trace: Trace | None) -> bool:
    """Focus on the path when there is one and the map is too big to draw whole."""
    return trace is not None and len(dm.model.nodes) > FOCUS_THRESHOLD


def render(
    dm: DecisionMap, trace: Trace | None = None, fmt: str = "svg", focus: bool | None = None
) -> bytes:
    """The map in one of svg, png, pdf, dot or mmd, as bytes."""
    f = auto_focus(dm, trace) if focus is None else focus
    if fmt == "dot":
        return to_dot(dm, trace, focus=f).encode("utf-8")
    if fmt == "mmd":
        return to_mermaid(dm, trace, focus=f).encode("utf-8")
    return draw(to_dot(dm, trace, focus=f), fmt)


def write(
    dm: DecisionMap,
    trace: Trace | None,
    path: str | os.PathLike[str],
    focus: bool | None = None,
) -> Path:
    """Write the map (and the path of `trace`) to `path`; its suffix picks the format:
    .svg .png .pdf (drawn), .dot (Graphviz source) or .mmd (Mermaid)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise RenderError(
            f"{p}: cannot tell the format from {suffix or 'no suffix'!r}: "
            f"use one of {', '.join(SUFFIXES)}"
        )
    data = render(dm, trace, suffix[1:], focus)
    p.write_bytes(data)
    return p
