"""`render` and `report`: a map (and a walk's path) as a picture, and the document a group
takes home after a walk. The drawing and the reports live in `decision_map_render`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from .main import app, fail
from .output import clean, error
from .run_cmd import _load, _write_atomic

PICTURE_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".mmd")
REPORT_SUFFIXES = (".md", ".html")


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise fail(f"{path}: cannot tell the {what} from {suffix or 'no suffix'!r}: "
                   f"use one of {', '.join(allowed)}", 2)
    return suffix


def _warn(message: str) -> None:
    error(f"warning: {message}")


# Drawing limits (defaults in decision_map_render.draw.DrawLimits; docs/safety.md).
MAX_SECONDS_OPTION = typer.Option(
    None, "--max-layout-seconds", min=0.1, metavar="S",
    help="Stop laying out a picture after S seconds and draw less (default 20).")
MAX_NODES_OPTION = typer.Option(
    None, "--max-layout-nodes", min=1, metavar="N",
    help="Lay out at most N boxes, else draw less (default 1000).")
MAX_EDGES_OPTION = typer.Option(
    None, "--max-layout-edges", min=1, metavar="N",
    help="Lay out at most N lines, else draw less (default 2000).")


def _limits(seconds: Optional[float], nodes: Optional[int], edges: Optional[int]):
    """The drawing limits, with any the command line raises or lowers."""
    from dataclasses import replace

    from decision_map_render.draw import DEFAULT_LIMITS

    given = {"max_seconds": seconds, "max_nodes": nodes, "max_edges": edges}
    return replace(DEFAULT_LIMITS, **{k: v for k, v in given.items() if v is not None})


def _picture(dm, trace, fmt: str, focus: Optional[bool], limits):
    """The picture, warning on stderr when it shows less than was asked for."""
    from decision_map_render.draw import picture

    drawn = picture(dm, trace, fmt, focus, limits)
    if drawn.note:
        options = " or ".join(f"--max-layout-{name[4:]}" for name in drawn.exceeded)
        _warn(f"{drawn.note} (raise {options} to draw more)")
    return drawn.data


def _check_fits(dm, trace, trace_file: Path) -> None:
    from ..errors import InputError

    if trace.map_id != dm.id:
        raise InputError(f"the trace is a walk of map {trace.map_id!r}, not of {dm.id!r} "
                         f"({dm.path})", str(trace_file))
    if trace.map_sha256 != dm.sha256:
        _warn(f"{dm.path} has changed since the walk in {trace_file} (sha256 "
              f"{dm.sha256[:12]}, the trace has {trace.map_sha256[:12]}); "
              "the report uses the map as it is now")


def _map_of(trace, trace_file: Path, map_file: Optional[Path]) -> Path:
    """The map to report on: --map, else the trace's own `map.path` (as written, or
    relative to the trace's folder)."""
    if map_file is not None:
        return map_file
    if not trace.map_path:
        raise fail(f"{trace_file}: the trace does not say where its map is: pass --map MAP")
    p = Path(trace.map_path)
    if not p.is_absolute() and not p.exists() and (trace_file.parent / p).exists():
        return trace_file.parent / p
    if not p.exists():
        raise fail(f"{trace_file}: the trace's map {p} is not there: pass --map MAP")
    return p


@app.command("render")
def render_cmd(
    map_file: Path = typer.Argument(..., metavar="MAP", help="The map to draw."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="The picture: .svg .png .pdf .dot or .mmd."),
    trace_file: Optional[Path] = typer.Option(None, "--trace",
                                              help="Highlight the path of this trace."),
    answers_file: Optional[Path] = typer.Option(None, "--answers",
                                                help="Walk with these answers first, then "
                                                     "highlight the path."),
    focus: Optional[bool] = typer.Option(None, "--focus/--no-focus",
                                         help="Draw only the path and what is one step "
                                              "off it (default: on for maps over 300 "
                                              "nodes)."),
    around: Optional[int] = typer.Option(None, "--around", min=1, metavar="STEP",
                                         help="Draw only the neighbourhood of step STEP "
                                              "of the walk, in big text for a projector: "
                                              "the path before it as a numbered list and "
                                              "the next one or two levels."),
    pages: bool = typer.Option(False, "--pages",
                               help="A .pdf poster split into A4 pages at a readable size."),
    max_layout_seconds: Optional[float] = MAX_SECONDS_OPTION,
    max_layout_nodes: Optional[int] = MAX_NODES_OPTION,
    max_layout_edges: Optional[int] = MAX_EDGES_OPTION,
) -> None:
    """Draw a map, and the path of a walk, to a file; its suffix picks the format."""
    suffix = _suffix(output, PICTURE_SUFFIXES, "format")
    if trace_file is not None and answers_file is not None:
        raise fail("give --trace or --answers, not both", 2)
    if around is not None and trace_file is None and answers_file is None:
        raise fail("--around STEP needs the walk: give --trace or --answers", 2)
    if around is not None and suffix not in (".svg", ".png", ".pdf"):
        raise fail(f"--around draws .svg .png or .pdf, not {suffix}", 2)
    if pages and suffix != ".pdf":
        raise fail(f"--pages writes a .pdf, not {suffix}", 2)
    dm = _load(map_file)
    trace = None
    if trace_file is not None:
        from ..io.traces import read_trace

        trace = read_trace(trace_file)
        _check_fits(dm, trace, trace_file)
    elif answers_file is not None:
        from ..io.answers import load_answers
        from ..walk.replay import run_answers

        answers = load_answers(str(answers_file), dm)
        trace = run_answers(dm, answers, str(answers_file), stop_at_missing=True)
    limits = _limits(max_layout_seconds, max_layout_nodes, max_layout_edges)
    if around is not None:
        from decision_map_render.around import around_step

        assert trace is not None
        try:
            data = around_step(dm, trace, around, suffix[1:])
        except ValueError as e:
            raise fail(f"--around {around}: {e}", 2) from None
    elif pages:
        from decision_map_render.pages import poster

        data = poster(dm, trace, focus, limits)
    else:
        data = _picture(dm, trace, suffix[1:], focus, limits)
    _write_atomic(output, data)
    typer.echo(f"wrote {clean(output)}")
    if trace is not None and trace.stopped:
        typer.echo(clean(f"the path is drawn as far as it goes: {trace.stopped}"))


@app.command("report")
def report_cmd(
    trace_file: Path = typer.Argument(..., metavar="TRACE",
                                      help="A trace from `run --trace`."),
    output: Path = typer.Option(..., "-o", "--output", help="The report: .md or .html."),
    map_file: Optional[Path] = typer.Option(None, "--map",
                                            help="The map (default: the trace's map.path)."),
    date: Optional[str] = typer.Option(None, "--date",
                                       help="The date printed on the report, YYYY-MM-DD "
                                            "(default: today)."),
    focus: Optional[bool] = typer.Option(None, "--focus/--no-focus",
                                         help="Picture only the path and what is one step "
                                              "off it."),
    max_layout_seconds: Optional[float] = MAX_SECONDS_OPTION,
    max_layout_nodes: Optional[int] = MAX_NODES_OPTION,
    max_layout_edges: Optional[int] = MAX_EDGES_OPTION,
) -> None:
    """The document to take home after a walk: outcome, next steps, every decision and
    its reason, the picture of the path and, for a coalition, the charter."""
    from decision_map_render.report import report_html, report_markdown

    suffix = _suffix(output, REPORT_SUFFIXES, "report format")
    day = None
    if date is not None:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            raise fail(f"--date must be YYYY-MM-DD, not {date!r}", 2) from None
    from ..io.traces import read_trace

    trace = read_trace(trace_file)
    dm = _load(_map_of(trace, trace_file, map_file))
    _check_fits(dm, trace, trace_file)
    svg = _picture(dm, trace, "svg", focus,
                   _limits(max_layout_seconds, max_layout_nodes, max_layout_edges))
    if suffix == ".html":
        _write_atomic(output, report_html(dm, trace, date=day, svg=svg.decode("utf-8")))
        typer.echo(f"wrote {clean(output)}")
        return
    picture = output.with_name(f"{output.stem}-path.svg")
    text = report_markdown(dm, trace, picture.name, date=day)
    _write_atomic(picture, svg)
    _write_atomic(output, text)
    typer.echo(f"wrote {clean(output)} and {clean(picture)}")


@app.command("handout")
def handout_cmd(
    map_file: Path = typer.Argument(..., metavar="MAP", help="The map to print."),
    output: Path = typer.Option(..., "-o", "--output", help="The handout: .pdf or .html."),
) -> None:
    """A printable agenda of one or two A4 pages: the questions in order with their rule,
    where each answer leads, and the outcomes."""
    from decision_map_render.handout import handout_html, handout_pdf

    suffix = _suffix(output, (".pdf", ".html"), "handout format")
    dm = _load(map_file)
    _write_atomic(output, handout_pdf(dm) if suffix == ".pdf" else handout_html(dm))
    typer.echo(f"wrote {clean(output)}")
