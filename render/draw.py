"""Lay out and draw DOT in-process with pygraphviz, and write a map to a file by suffix.

pygraphviz's wheel carries Graphviz's own libraries, so no `dot` program is needed on
the machine: `AGraph(string=dot).draw(format=..., prog="dot")` runs the layout and the
renderer inside this process.

Focus by default: a traced map with more than FOCUS_THRESHOLD nodes is drawn in focus
mode (the path and the branches one step off it). Layout + SVG time, in-process, of
generated maps (`python -m bench.layout` in a checkout; see dot.py for label/xlabel):

    nodes   whole map (auto labels)   traced, focus mode (40 questions deep)
      100     0.10 s (label)            0.07 s
      200     0.25 s (label)            0.09 s
      500     0.38 s (xlabel)           0.08 s
     1000     0.69 s (xlabel)           0.07 s
     3000     8.45 s (xlabel)           0.08 s
    tangled maps (an earlier generator): 200 nodes 4.2 s, 3000 nodes 17.3 s (xlabel)

The whole map stays well under a second up to a few hundred nodes and then grows
faster than linearly (8 s at 3,000, more on tangled maps), while a picture of more than a few
hundred boxes cannot be read on a page anyway. So a traced map above 300 nodes is
focused on its path: cheap at any size, because it grows with the walk, not the map.
Pass focus=False to force the whole map. An untraced map has no path to focus on.

Limits (`DrawLimits`, docs/safety.md): node count alone does not bound the layout time.
A dense map of 44 boxes and 574 lines ran for minutes (33 boxes and 210 lines: 13.7 s),
so `picture()` lays out at most `max_nodes` boxes and `max_edges` lines, for at most
`max_seconds`, in a child process it can kill (pictures as small as every real map stay
in-process: 0.05 s, against 0.14-0.24 s through a child). Past a limit it draws the path
alone, and past that a summary (summary.py), and its `note` says so.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from decision_map.errors import InputError
from decision_map.io.loader import DecisionMap
from decision_map.model.trace import Trace

from .diagram import Diagram, build, marked
from .dot import diagram_to_digraph, to_dot
from .mermaid import to_mermaid
from .summary import summarize

FOCUS_THRESHOLD = 300
DRAW_FORMATS = ("svg", "png", "pdf")
SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".mmd")

# The child that lays out DOT read from stdin; run as `python -I -c CHILD fmt`. It turns
# Graphviz's warnings into errors like draw() does, and says the first line of any.
CHILD = """\
import sys, warnings
import pygraphviz
try:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        data = pygraphviz.AGraph(string=sys.stdin.read()).draw(format=sys.argv[1], prog="dot")
except (ValueError, RuntimeWarning, OSError) as e:
    sys.stderr.write(str(e).strip() or type(e).__name__)
    sys.exit(3)
sys.stdout.buffer.write(data or b"")
"""


@dataclass(frozen=True)
class DrawLimits:
    """Every bound on laying out one picture (defaults and timings in docs/safety.md).

    A diagram with more than `max_nodes` boxes or `max_edges` lines is not laid out: a
    traced map is focused on its path instead, and when that is still too big (or the
    map has no path) a summary is drawn. A layout that takes longer than `max_seconds`
    is killed; then the path alone is tried (a traced map), then the summary drawn:
    at most two layouts of `max_seconds` each, and the summary, which is small.

    Diagrams of at most `in_process_nodes` boxes and `in_process_edges` lines are laid
    out in this process (the worst measured, a dense map of 23 boxes and 100 lines,
    took 0.4 s); bigger ones in a child process, which costs about 0.1-0.2 s more but
    can be killed.
    """

    max_nodes: int = 1000
    max_edges: int = 2000
    max_seconds: float = 20.0
    in_process_nodes: int = 100
    in_process_edges: int = 100

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if not getattr(self, f.name) > 0:
                raise ValueError(f"DrawLimits.{f.name} must be more than 0")

    def fits(self, d: Diagram) -> bool:
        """Within the node and edge budget for a layout."""
        return len(d.nodes) <= self.max_nodes and len(d.edges) <= self.max_edges

    def in_process(self, d: Diagram) -> bool:
        """Small enough to lay out in this process, without a time limit."""
        return len(d.nodes) <= self.in_process_nodes and len(d.edges) <= self.in_process_edges


DEFAULT_LIMITS = DrawLimits()


@dataclass(frozen=True)
class Picture:
    """One drawing and what it shows: `whole` map, `focus` on the path, or `summary`;
    `note` says why it is less than asked for (None when it is what was asked)."""

    data: bytes
    fmt: str
    shows: str
    note: str | None = None
    exceeded: tuple[str, ...] = ()  # the DrawLimits fields it ran into: raise these


class RenderError(InputError):
    """A drawing that cannot be made: an unknown format, or DOT Graphviz rejects."""


class LayoutTimeout(RenderError):
    """Graphviz took longer than the time limit; its process was killed."""


def draw(dot_source: str, fmt: str, max_seconds: float | None = None) -> bytes:
    """Lay out `dot_source` with Graphviz's `dot` and return it drawn as svg, png or pdf.

    With `max_seconds`, the layout runs in a child process that is killed past that many
    seconds (LayoutTimeout): a layout in this process cannot be stopped from Python.
    """
    if fmt not in DRAW_FORMATS:
        raise RenderError(f"cannot draw {fmt!r}: choose one of {', '.join(DRAW_FORMATS)}")
    if max_seconds is not None:
        return _draw_in_child(dot_source, fmt, max_seconds)
    import pygraphviz

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


def _draw_in_child(dot_source: str, fmt: str, max_seconds: float) -> bytes:
    """draw() in `python -I -c CHILD`, fed DOT on stdin, killed after `max_seconds`."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", CHILD, fmt],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=max_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed and reaped the child
        raise LayoutTimeout(f"laying out took longer than {max_seconds:g} s") from None
    except OSError as e:
        raise RenderError(f"cannot start Graphviz's process: {e.strerror or e}") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines()
                 if ln.strip() and not ln.startswith(("Warning:", "Fontconfig"))]
        first = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise RenderError(f"Graphviz could not draw the map: {first}")
    if not done.stdout:
        raise RenderError(f"Graphviz drew nothing in {fmt}")
    return done.stdout


def auto_focus(dm: DecisionMap, trace: Trace | None) -> bool:
    """Focus on the path when there is one and the map is too big to draw whole."""
    return trace is not None and len(dm.model.nodes) > FOCUS_THRESHOLD


def _size(d: Diagram) -> str:
    return f"{len(d.nodes):,} boxes and {len(d.edges):,} lines"


def _over(d: Diagram, limits: DrawLimits) -> str:
    return (f"{_size(d)}, more than the budget of {limits.max_nodes:,} boxes and "
            f"{limits.max_edges:,} lines")


def _exceeded(d: Diagram, limits: DrawLimits) -> tuple[str, ...]:
    over = (("max_nodes", len(d.nodes) > limits.max_nodes),
            ("max_edges", len(d.edges) > limits.max_edges))
    return tuple(name for name, is_over in over if is_over) or ("max_nodes", "max_edges")


def _lay_out(d: Diagram, fmt: str, limits: DrawLimits) -> bytes:
    dot = diagram_to_digraph(d).source
    return draw(dot, fmt, None if limits.in_process(d) else limits.max_seconds)


def plan(dm: DecisionMap, trace: Trace | None, focus: bool | None,
         limits: DrawLimits) -> tuple[Diagram, list[tuple[Diagram, str | None]]]:
    """The whole diagram, and the diagrams to try laying out, best first, each with
    the reason it is less than asked for (None: as asked). The summary is not among
    them: it is what is left when none of them can be drawn."""
    f = auto_focus(dm, trace) if focus is None else focus
    asked = build(dm, trace, focus=f)
    whole = asked if not asked.focus else build(dm, trace, focus=False)
    tries: list[tuple[Diagram, str | None]] = []
    if limits.fits(asked):
        tries.append((asked, None))
    if trace is not None and not asked.focus:
        focused = build(dm, trace, focus=True)
        if focused.nodes and limits.fits(focused):
            tries.append((focused, None if limits.fits(asked) else _over(asked, limits)))
    return whole, tries


def picture(
    dm: DecisionMap,
    trace: Trace | None = None,
    fmt: str = "svg",
    focus: bool | None = None,
    limits: DrawLimits = DEFAULT_LIMITS,
    marks: Mapping[str, str] | None = None,
) -> Picture:
    """The map drawn within `limits`: as asked if it fits, else focused on the path,
    else a summary; `note` says which and why. dot and mmd are text: never laid out.
    `marks` (node id -> diagnostic codes) outlines those nodes in red with their codes."""
    if fmt in ("dot", "mmd"):
        f = auto_focus(dm, trace) if focus is None else focus
        text = to_dot(dm, trace, focus=f) if fmt == "dot" else to_mermaid(dm, trace, focus=f)
        return Picture(text.encode("utf-8"), fmt, "focus" if f and trace else "whole")
    if fmt not in DRAW_FORMATS:
        raise RenderError(f"cannot draw {fmt!r}: choose one of {', '.join(DRAW_FORMATS)}")
    whole, tries = plan(dm, trace, focus, limits)
    tries = [(marked(d, marks or {}), note) for d, note in tries]
    why = _over(whole, limits)
    failed: str | None = None
    for d, note in tries:
        note = note or failed
        try:
            data = _lay_out(dataclasses.replace(d, note=note), fmt, limits)
        except LayoutTimeout:
            if failed is None:
                failed = why = (f"laying out {_size(d)} took longer than "
                                f"{limits.max_seconds:g} s")
            continue
        if note is None:
            return Picture(data, fmt, "focus" if d.focus else "whole")
        exceeded = ("max_seconds",) if note == failed else _exceeded(whole, limits)
        return Picture(data, fmt, "focus", f"drew only the path and one step off it: {note}",
                       exceeded)
    data = draw(diagram_to_digraph(summarize(whole, why), legend=False).source, fmt)
    exceeded = ("max_seconds",) if why == failed else _exceeded(whole, limits)
    return Picture(data, fmt, "summary", f"drew a summary: {why}", exceeded)


def render(
    dm: DecisionMap,
    trace: Trace | None = None,
    fmt: str = "svg",
    focus: bool | None = None,
    limits: DrawLimits = DEFAULT_LIMITS,
) -> bytes:
    """The map in one of svg, png, pdf, dot or mmd, as bytes (see picture())."""
    return picture(dm, trace, fmt, focus, limits).data


def write(
    dm: DecisionMap,
    trace: Trace | None,
    path: str | os.PathLike[str],
    focus: bool | None = None,
    limits: DrawLimits = DEFAULT_LIMITS,
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
    data = render(dm, trace, suffix[1:], focus, limits)
    p.write_bytes(data)
    return p
