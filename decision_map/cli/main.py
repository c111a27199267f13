"""The `decision-map` command: thin wrappers that parse arguments, call the layers, print.

Every deliberate error is one line on stderr and a documented exit code (1: bad input or
failed checks, 2: usage); a traceback only with --debug.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import DecisionMapError
from .output import clean, error

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Decision maps a group walks together: check, step, run, render and report.",
)

STATE = {"debug": False}


def package_version() -> str:
    """The installed package's version (the core keeps the one function that reads it)."""
    from .. import package_version as read

    return read()


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"decision-map {package_version()}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Print the version and exit."),
) -> None:
    STATE["debug"] = debug


def map_arg(path: Path) -> str:
    """A MAP argument as a file: the path when something is there, else the shipped map
    of that name (`decision-map maps` lists them)."""
    from ..io.shipped import resolve_map

    return resolve_map(path)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one cleaned line to stderr and return the Exit to raise."""
    error(message)
    return typer.Exit(code)


# ---------------------------------------------------------------- check


@app.command()
def check(
    maps: list[Path] = typer.Argument(..., help="Map files to check."),
    format: str = typer.Option("text", "--format", help="text or json."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
    allow_outside: bool = typer.Option(
        False, "--allow-outside", help="Let hand-offs reach outside the map's folder."
    ),
    max_bytes: Optional[int] = typer.Option(
        None, "--max-bytes", min=1, metavar="N",
        help="Refuse a map file larger than N bytes (default 2 MiB).",
    ),
    max_nodes: Optional[int] = typer.Option(
        None, "--max-nodes", min=1, metavar="N",
        help="Refuse a map that expands to more than N YAML nodes (default 200000).",
    ),
    max_handoff_depth: Optional[int] = typer.Option(
        None, "--max-handoff-depth", min=0, metavar="N",
        help="Refuse hand-offs nested more than N maps deep (default 8).",
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Check again even when the files have not changed."),
) -> None:
    """Check maps: exit 0 when clean, 1 on errors (or warnings with --strict)."""
    from ..check import cache as checkcache

    if format not in ("text", "json"):
        raise fail(f"--format must be text or json, not {format!r}", 2)
    limits = (max_bytes, max_nodes, max_handoff_depth, allow_outside)
    options_key = json.dumps(limits)
    use_cache = not no_cache and os.environ.get("DECISION_MAP_NO_CACHE") != "1"
    seen: set[tuple[str, str, str]] = set()
    diags = []
    for arg in maps:
        path = map_arg(arg)
        found = checkcache.lookup(path, options_key) if use_cache else None
        if found is None:
            found, deps = _check_one(path, *limits)
            if use_cache:
                checkcache.store(path, options_key, found, deps)
        for d in found:
            k = (str(d.where), d.code, d.message)
            if k not in seen:
                seen.add(k)
                diags.append(d)
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    if format == "json":
        typer.echo(json.dumps({"diagnostics": [d.to_json() for d in diags],
                               "errors": errors, "warnings": warnings}, indent=2))
    else:
        for d in diags:
            typer.echo(clean(d.line(), one_line=True))
        files = f"{len(maps)} map{'s' if len(maps) != 1 else ''}"
        typer.echo(f"{files} checked: {errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        raise typer.Exit(1)


def _check_one(path: str, max_bytes: Optional[int], max_nodes: Optional[int],
               max_handoff_depth: Optional[int], allow_outside: bool):
    from dataclasses import replace

    from ..check.checks import check_file_with_deps
    from ..io.loader import LoadOptions

    options = LoadOptions(allow_outside=allow_outside)
    if max_bytes is not None:
        options.limits = replace(options.limits, max_bytes=max_bytes)
    if max_nodes is not None:
        options.limits = replace(options.limits, max_nodes=max_nodes)
    if max_handoff_depth is not None:
        options.max_handoff_depth = max_handoff_depth
    return check_file_with_deps(path, options)


# ---------------------------------------------------------------- schema and new


SCHEMA_NAME = "decision-map.schema.json"
ANSWERS_SCHEMA_NAME = "decision-map-answers.schema.json"


@app.command()
def schema(
    write: bool = typer.Option(False, "--write",
                               help=f"Write ./{SCHEMA_NAME}, where the maps `new` writes "
                                    "point their editors, instead of printing it."),
    answers: bool = typer.Option(False, "--answers",
                                 help="The schema of answers files instead (--write: "
                                      f"./{ANSWERS_SCHEMA_NAME})."),
) -> None:
    """Print the JSON Schema (draft-07) of the map format, for editors."""
    from ..io.atomic import write_atomic
    from ..io.schema import answers_schema, published_schema

    name = ANSWERS_SCHEMA_NAME if answers else SCHEMA_NAME
    text = json.dumps(answers_schema() if answers else published_schema(), indent=2,
                      ensure_ascii=False)
    if not write:
        typer.echo(text)
        return
    write_atomic(name, text + "\n")
    typer.echo(f"wrote {name}")


def _schema_ref(file: Path) -> str:
    """What a new map's `$schema` line says: ./decision-map.schema.json (where
    `schema --write` puts it), relative to the map's folder."""
    return os.path.relpath(Path(SCHEMA_NAME).resolve(), file.resolve().parent)


@app.command()
def new(
    file: Path = typer.Argument(..., help="Where to write the new map."),
    from_map: Optional[str] = typer.Option(
        None, "--from", metavar="MAP",
        help="Start from a copy of this map (a shipped map's name or a file), with the "
             "maps it hands off to copied beside it."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a small valid map to start from, or a copy of a shipped map."""
    from .starter import starter_map

    if file.is_dir():
        raise fail(f"{file}: is a folder; name the map file to write, e.g. {file / 'map.yaml'}")
    if file.exists() and not force:
        raise fail(f"{file}: already exists (use --force to overwrite)")
    if not file.resolve().parent.is_dir():
        raise fail(f"{file}: no folder {file.parent} to write it in")
    if from_map is not None:
        written = _copy_from(map_arg(Path(from_map)), file, force)
    else:
        try:
            file.write_text(starter_map(map_id_for(file.stem), _schema_ref(file)),
                            encoding="utf-8")
        except OSError as e:
            raise fail(f"{file}: cannot write it ({e.strerror or e})") from None
        written = [file]
    typer.echo(f"wrote {', '.join(map(str, written))}; check it with: decision-map check {file}")
    if not Path(SCHEMA_NAME).exists():
        typer.echo(f"for your editor's completion: decision-map schema --write (here, "
                   f"./{SCHEMA_NAME})")


def _copy_from(source: str, file: Path, force: bool) -> list[Path]:
    from ..io.loader import load_map
    from ..io.shipped import copy_map

    dm = load_map(source)
    handoffs: list[str] = []
    todo = [dm]
    while todo:
        for link in todo.pop().handoffs.values():
            if link.loaded is not None and link.loaded.path not in handoffs:
                handoffs.append(link.loaded.path)
                todo.append(link.loaded)
    return copy_map(dm.path, file, _schema_ref, force, handoffs)


def map_id_for(stem: str) -> str:
    """A valid map id from a file name: accents dropped (coalición -> coalicion), any
    other letter that is not ASCII, and any sign, a hyphen; "my-map" when nothing is
    left."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", stem.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9_]+", "-", plain).strip("-_") or "my-map"


COMMAND_MODULES = {"run": "run_cmd", "paths": "run_cmd", "test": "run_cmd",
                   "render": "render_cmd", "report": "render_cmd", "step": "step_cmd",
                   "handout": "render_cmd",
                   "maps": "maps_cmd", "hook-check": "hook_cmd", "hook-test": "hook_cmd",
                   "fmt": "fmt_cmd", "hook-fmt": "fmt_cmd", "watch": "watch_cmd"}
OWN_COMMANDS = {"check", "schema", "new"}


def _register_optional(args: list[str]) -> None:
    """Commands that live in their own modules register themselves on import; only the
    one asked for is imported (all of them for help or an unknown word)."""
    import importlib

    command = next((a for a in args if not a.startswith("-")), None)
    if command in OWN_COMMANDS or (command is None and "--version" in args):
        return
    wanted = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else \
        sorted(set(COMMAND_MODULES.values()))
    for name in wanted:
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":
                raise
    _register_plugins(command)
    _only(command)


def _only(command: str | None) -> None:
    """Keep only the command asked for: typer builds every registered command's options
    (pydantic adapters included) on each run, a tenth of a second nobody asked for. For
    help or an unknown word all stay, so help lists them and a typo gets its suggestion."""
    def name(info: typer.models.CommandInfo) -> str:
        return info.name or info.callback.__name__.replace("_", "-")  # type: ignore[union-attr]

    kept = [c for c in app.registered_commands if name(c) == command]
    if kept:
        app.registered_commands[:] = kept


def _register_plugins(command: str | None) -> None:
    """Commands from optional packages (`serve` from the live room) come in through the
    `decision_map.commands` entry point, so the core never imports them."""
    if command in COMMAND_MODULES:
        return
    from importlib.metadata import entry_points

    found = {ep.name: ep for ep in entry_points(group="decision_map.commands")}
    # the one asked for, or all of them for help or an unknown word
    for name in [command] if command in found else sorted(found):
        found[name].load()(app)


def main(argv: Optional[list[str]] = None) -> None:
    """Console entry point: one line per error, no traceback unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("DECISION_MAP_DEBUG") == "1"
    _register_optional(args)
    try:
        rc = app(args=args, prog_name="decision-map", standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)  # click returns Exit codes in this mode
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except DecisionMapError as e:
        if debug:
            raise
        error(e)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)
    except typer.Abort:
        error("aborted")
        sys.exit(130)
    except OSError as e:  # a file that cannot be written or read: the system says why
        if debug:
            raise
        error(os_problem(e))
        sys.exit(1)
    except Exception as e:  # usage errors (click's, vendored or not) and anything unforeseen
        if callable(getattr(e, "show", None)) and isinstance(getattr(e, "exit_code", None), int):
            usage_line(e)
            sys.exit(e.exit_code)  # type: ignore[attr-defined]
        if debug:
            raise
        error(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)")
        sys.exit(3)


def usage_line(e: Exception) -> None:
    """A usage error as one line naming the command and where its help is, in place of
    click's three (usage, hint, error); click's own text when it has no message."""
    fmt = getattr(e, "format_message", None)
    ctx = getattr(e, "ctx", None)
    if not callable(fmt) or ctx is None:
        e.show()  # type: ignore[attr-defined]
        return
    path = ctx.command_path
    sub = path.partition(" ")[2]
    what = fmt().rstrip(".")
    error(f"{sub}: {what} (see '{path} --help')" if sub else f"{what} (see '{path} --help')")


def os_problem(e: OSError) -> str:
    """An OSError as `FILE: what the system said`, naming the file the user gave (the
    target of a rename, not the temporary file written first)."""
    name = e.filename2 if e.filename2 is not None else e.filename
    why = e.strerror or str(e)
    if isinstance(e, IsADirectoryError):
        why = "is a folder, not a file"
    return f"{os.fsdecode(name)}: {why}" if name is not None else why
