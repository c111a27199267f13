"""`run`, `paths` and `test`: walking a map from files, and what leads where."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .main import app, fail
from .output import clean, console, error, safe

if TYPE_CHECKING:
    from ..walk.routes import PathsReport


def _load(path: Path, allow_outside: bool = False):
    """Load a MAP argument: a file, or a shipped map's name when no such file exists."""
    from ..io.loader import LoadOptions, load_map
    from ..io.shipped import resolve_map

    return load_map(resolve_map(path), LoadOptions(allow_outside=allow_outside))


def _write_atomic(path: Path, data: str | bytes, *, private: bool = False) -> None:
    """Write `path` whole or not at all (with `private`, readable by its owner only); a
    folder, or a place that cannot be written, is one line naming `path` (not the
    temporary file beside it)."""
    from ..errors import InputError
    from ..io.atomic import write_atomic

    if path.is_dir():
        raise InputError("is a folder, not a file: name the file to write", str(path))
    try:
        write_atomic(str(path), data, private=private)
    except OSError as e:
        raise InputError(f"cannot write it ({e.strerror or e})", str(path)) from None


@app.command("run")
def run_cmd(
    map_file: Path = typer.Argument(..., metavar="MAP",
                                    help="The map to walk: a file or a shipped map's name."),
    answers_file: Optional[Path] = typer.Argument(None, metavar="ANSWERS",
                                                  help="Answers file (YAML or JSON)."),
    responses: Optional[Path] = typer.Option(None, "--responses",
                                             help="CSV export: one row per member."),
    group_by: Optional[str] = typer.Option(None, "--group-by",
                                           help="The CSV column naming each member's group."),
    member_column: Optional[str] = typer.Option(None, "--member-column",
                                                help="The CSV column naming the member."),
    header_map: Optional[Path] = typer.Option(None, "--header-map",
                                              help="YAML: CSV header -> question id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    trace_out: Optional[Path] = typer.Option(None, "--trace", help="Write the trace here."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Batch results: .csv or .json."),
    stop_at_missing: bool = typer.Option(False, "--stop-at-missing",
                                         help="End the trace at an unanswered question."),
) -> None:
    """Walk a map with a group's answers, or many groups' responses from a CSV."""
    dm = _load(map_file)
    if responses is not None:
        if answers_file is not None:
            raise fail("give an answers file or --responses, not both", 2)
        if not group_by:
            raise fail("--responses needs --group-by COLUMN", 2)
        _batch(dm, responses, group_by, member_column, header_map, as_json, output)
        return
    if answers_file is None:
        raise fail("give an answers file, or --responses FILE.csv --group-by COLUMN", 2)
    from ..io.answers import load_answers
    from ..walk.replay import run_answers

    answers = load_answers(str(answers_file), dm)
    trace = run_answers(dm, answers, str(answers_file), stop_at_missing=stop_at_missing)
    if trace_out is not None:
        _write_atomic(trace_out, trace.dumps() + "\n", private=True)  # every ballot
    if as_json:
        typer.echo(trace.dumps())
    else:
        print_trace(trace)
        if trace_out is not None:
            typer.echo(f"trace written to {trace_out}")
    if trace.stopped and not stop_at_missing:
        if as_json:  # stdout is for the JSON: say on stderr why the exit code is 1
            error(f"{answers_file}: the walk stopped: {trace.stopped}")
        raise typer.Exit(1)


def print_trace(trace) -> None:
    """The path with each decision's sentence, then the outcome and its next steps."""
    con = console()
    con.print(safe(trace.map_title, "bold"), safe(f" ({len(trace.group)} members: "
                                                  f"{', '.join(trace.group)})"))
    n = 0
    for s in trace.steps:
        if s.kind == "outcome" and s.depth == 0:
            continue
        n += 1
        indent = "  " * (s.depth + 1)
        if s.group is not None:  # members joined or left before this step
            con.print(safe(f"{indent}    The group from here: {', '.join(s.group)}.", "dim"))
        line = safe(f"{indent}{n:>2}. ")
        line.append(safe(s.key, "cyan"))
        line.append(safe(f": {s.explanation}"))
        if s.superseded:  # a later revisit went back before it: kept, not erased
            line.append(safe(" (superseded)", "dim"))
        con.print(line)
    if trace.outcome:
        line = safe(f"Outcome: {trace.outcome}", "bold green")
        line.append(safe(f" [{trace.verdict}]" if trace.verdict else ""))
        con.print(line)
        if trace.outcome_text:
            con.print(safe(trace.outcome_text.strip()))
        for i, step in enumerate(trace.next_steps, 1):
            owner = trace.owners.get(i)
            con.print(safe(f"  - {step}" + (f" (owner: {owner[0]}, by {owner[1]})"
                                            if owner else "")))
    elif trace.stopped:
        con.print(safe(f"Stopped: {trace.stopped}", "bold yellow"))


def _batch(dm, responses: Path, group_by: str, member_column: Optional[str],
           header_map: Optional[Path], as_json: bool, output: Optional[Path]) -> None:
    from ..io.responses import read_responses
    from ..walk.batch import run_batch

    mapping = None
    if header_map is not None:
        from ..errors import InputError, MapError
        from ..io.yaml_source import INPUT_SIZE_HINT, parse_yaml, read_text

        try:
            mapping, _ = parse_yaml(read_text(str(header_map), hint=INPUT_SIZE_HINT),
                                     str(header_map))
        except MapError as e:
            raise InputError(e.diagnostic.message, str(e.diagnostic.where)) from None
        if not isinstance(mapping, dict):
            raise InputError("a header map is a mapping: CSV header -> question id",
                             str(header_map))
    got = read_responses(str(responses), dm, group_by, member_column, mapping)
    report = run_batch(dm, got, str(responses))
    rows = [r.to_json() for r in report.results]
    summary = dict(sorted(report.summary().items()))
    if output is not None:
        if output.suffix == ".json":
            text = json.dumps({"groups": rows, "summary": summary}, indent=2)
        elif output.suffix == ".csv":
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(list(rows[0]) if rows else ["group"])
            w.writerows([spreadsheet_safe(v) for v in r.values()] for r in rows)
            text = buf.getvalue()
        else:
            raise fail(f"{output}: write .csv or .json", 2)
        _write_atomic(output, text)
    if as_json:
        typer.echo(json.dumps({"groups": rows, "summary": summary}, indent=2))
    else:
        _print_batch(report, summary, output)
    errors = report.errors
    for line in errors[:MAX_ERROR_LINES]:
        error(line)
    if len(errors) > MAX_ERROR_LINES:
        error(f"... and {len(errors) - MAX_ERROR_LINES} more group(s) refused (each has its "
              "error in the results)")
    if errors:
        raise typer.Exit(1)


MAX_ERROR_LINES = 20  # refused groups named on stderr; the rest are in the results
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @, a tab
    or a carriage return gets a leading ' (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _print_batch(report, summary: dict, output: Optional[Path]) -> None:
    """A table of every group when it fits a terminal screen and nothing is written to a
    file; otherwise (with -o, to a pipe or file, or more groups than the screen has rows)
    only the summary: printing 100,000 rows took longer than deciding them."""
    import shutil

    con = console()
    results = report.results
    lines = shutil.get_terminal_size((80, 24)).lines
    if output is None and sys.stdout.isatty() and len(results) <= max(lines - 3, 1):
        from rich.table import Table

        table = Table("group", "outcome", "verdict", "steps", "decided at", box=None)
        for r in results:
            where = r.outcome or (f"error: {r.error}" if r.error else f"stopped: {r.stopped}")
            table.add_row(*(clean(x) for x in (r.group, where, r.verdict or "", r.steps,
                                                 r.decided_at or "")))
        con.print(table)
    con.print(safe(f"{len(results)} groups: " + ", ".join(f"{k} {v}" for k, v in
                                                           summary.items())))
    if output is not None:
        con.print(safe(f"results written to {output}"))


@app.command()
def paths(
    map_file: Path = typer.Argument(..., metavar="MAP"),
    cap: int = typer.Option(2000, "--cap", min=1, help="Stop after this many routes."),
    budget: int = typer.Option(1_000_000, "--budget", min=1,
                               help="Stop after this many search steps."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """For every outcome, the routes a group could walk to it and the answers each needs."""
    from ..walk.routes import find_paths, route_texts

    dm = _load(map_file)
    rep = find_paths(dm, cap, budget)
    if as_json:
        typer.echo(_paths_json(rep))
    else:
        con = console()
        for o, routes in rep.routes.items():
            title = dm.nodes[o].outcome
            con.print(safe(f"{o} ({title}): {len(routes)} route(s)", "bold"))
            for r in route_texts(routes[:20]):
                con.print(safe("  " + " -> ".join(r)))
            if len(routes) > 20:
                con.print(safe(f"  ... and {len(routes) - 20} more (--json lists all)"))
        if rep.impossible:
            con.print(safe(f"Not listed: {rep.impossible} branch(es) of checks that the "
                           "answers before them rule out.", "dim"))
        if rep.unreached:
            con.print(safe(f"No possible route reaches: {', '.join(rep.unreached)}",
                           "bold red"))
        if rep.unsearched:
            con.print(safe("No route found before the search budget ran out: "
                           f"{', '.join(rep.unsearched)}", "yellow"))
        if rep.capped_by == "budget":
            con.print(safe(f"Stopped after {rep.budget} search steps, with routes still "
                           "unlisted (raise --budget to see more).", "yellow"))
        elif rep.capped:
            con.print(safe(f"Stopped after {rep.cap} routes in all (raise --cap to see more).",
                           "yellow"))
    if rep.unreached:
        if as_json:
            error(f"no possible route reaches: {', '.join(rep.unreached)}")
        raise typer.Exit(1)


def _paths_json(rep: PathsReport) -> str:
    """The report as JSON, one route to a line: routes can run to millions of steps, so
    each route is joined from its steps' texts, each quoted once."""
    from ..walk.routes import route_json

    out = ['{\n  "routes": {']
    for n, (o, routes) in enumerate(rep.routes.items()):
        lines = ",\n".join("      " + route_json(r) for r in routes)
        comma = "," if n < len(rep.routes) - 1 else ""
        out.append(f"    {json.dumps(o)}: [\n{lines}\n    ]{comma}" if lines else
                   f"    {json.dumps(o)}: []{comma}")
    rest = json.dumps({"unreached": rep.unreached, "capped": rep.capped,
                       "capped_by": rep.capped_by, "cap": rep.cap, "budget": rep.budget,
                       "search_steps": rep.work, "unsearched": rep.unsearched,
                       "impossible_branches": rep.impossible}, indent=2)
    out.append("  },\n" + rest[2:])
    return "\n".join(out)


@app.command("test")
def test_cmd(
    map_file: Path = typer.Argument(..., metavar="MAP"),
    scenarios: Optional[Path] = typer.Argument(None, metavar="SCENARIOS",
                                               help="Default: scenarios/<map>.yaml beside it."),
    require_coverage: bool = typer.Option(False, "--require-coverage",
                                          help="Fail when a route or outcome is not covered."),
) -> None:
    """Run a map's scenario cases; print pass/fail per case and what no case covered."""
    from ..walk.scenarios import default_scenarios, run_scenarios

    dm = _load(map_file)
    path = str(scenarios) if scenarios else default_scenarios(dm.path)
    if not Path(path).is_file():
        raise fail(f"{path}: no scenario file (write one, see docs/answers.md)")
    report = run_scenarios(dm, path)
    con = console()
    for r in report.results:
        mark = "PASS" if r.passed else "FAIL"
        con.print(safe(f"{mark} {r.name}", "green" if r.passed else "bold red"))
        for p in r.problems:
            con.print(safe(f"     {p}"))
    covered = report.total_routes - len(report.uncovered)
    pct = 100 * covered / report.total_routes if report.total_routes else 100
    con.print(safe(f"coverage: {covered} of {report.total_routes} routes and outcomes "
                   f"({pct:.0f}%)"))
    for u in report.uncovered:
        con.print(safe(f"  not covered: {u}", "yellow"))
    failed = sum(not r.passed for r in report.results)
    con.print(safe(f"{len(report.results) - failed} passed, {failed} failed"))
    if failed or (require_coverage and report.uncovered):
        raise typer.Exit(1)
