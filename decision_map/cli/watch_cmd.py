"""`watch`: the author's loop. On every save of a map, a map it hands off to or its
scenario file, check again, run the scenarios again, and print only what changed since
the last save; redraw the picture behind the answer.

Files are watched with watchfiles (Rust `notify`: inotify, FSEvents, kqueue or polling),
which debounces the several events of one save into one. Each save re-uses the loader's
in-process cache (an unchanged hand-off map costs a hash) and the checker's cache on
disk (the one `decision-map check` fills). A save that breaks the map prints its located
error and waits for the next; nothing a map says can stop the watch.

With `--preview`, each answer also goes to a page on 127.0.0.1 (the live room's package,
reached through the `decision_map.preview` entry point so the command line never imports
it): the problems as soon as the check is done, the cases when they have run.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

import typer

from .main import app, fail
from .output import clean

STEP_MS = 30  # a save is answered this long after its last file event
DEBOUNCE_MS = 400  # ...and at most this long after its first
RECHECK_MS = 500  # with no event for this long, compare the files' stamps anyway
MAX_LINES = 40  # changed lines printed per save; the rest are counted
PREVIEW_PORT = 8765  # `--preview`'s page, on 127.0.0.1
PREVIEW_GROUP = "decision_map.preview"  # the entry point the live room's page comes in by
NEEDS_EXTRA = ("--preview needs the live room's extra: pip install 'decision-map[live]' "
               "(watch works in the terminal without it)")
OPTIONS_KEY = json.dumps((None, None, None, False))  # shared with plain `decision-map check`

# file, code, message: a check's line that moved with an edit above it is not new; a
# file-level error (DM0xx: YAML syntax, a limit) keeps its place, which is what changes
DiagKey = tuple[str, str, str]


@dataclass
class State:
    """What one save gave: the diagnostics, each case's result, what no case covers."""

    diagnostics: dict[DiagKey, Any] = field(default_factory=dict)
    cases: dict[str, tuple[bool, list[str]]] | None = None  # None: not run
    uncovered: list[str] = field(default_factory=list)
    total_routes: int = 0
    note: str = ""  # why the scenarios did not run
    files: set[str] = field(default_factory=set)  # every file this answer read
    dm: Any = None  # the loaded map, for the picture

    def summary(self) -> str:
        """The one line that closes every answer: counts, cases, coverage."""
        errors = sum(d.severity == "error" for d in self.diagnostics.values())
        text = f"= {errors} error(s), {len(self.diagnostics) - errors} warning(s)"
        if self.cases is None:
            return f"{text}; scenarios not run: {self.note}"
        passed = sum(ok for ok, _ in self.cases.values())
        covered = self.total_routes - len(self.uncovered)
        pct = 100 * covered / self.total_routes if self.total_routes else 100
        return (f"{text}; {passed} of {len(self.cases)} case(s) pass; coverage {covered} "
                f"of {self.total_routes} ({pct:.0f}%)")


def _real(path: str) -> str:
    """Symlinks resolved: an event names the real file, the command line may not."""
    return os.path.realpath(path)


def _diagnostics(map_path: str) -> list[Any]:
    """The check of the map, from the disk cache when its files have not changed."""
    from ..check import cache as checkcache
    from ..check.checks import check_file_with_deps

    use_cache = os.environ.get("DECISION_MAP_NO_CACHE") != "1"
    found = checkcache.lookup(map_path, OPTIONS_KEY) if use_cache else None
    if found is None:
        found, deps = check_file_with_deps(map_path)
        if use_cache:
            checkcache.store(map_path, OPTIONS_KEY, found, deps)
    return found


def _handoff_files(dm: Any) -> set[str]:
    """Every map file this map reads, and the hand-off files it looks for but lacks."""
    out: set[str] = set()
    todo, seen = [dm], set()
    while todo:
        m = todo.pop()
        if m.path in seen:
            continue
        seen.add(m.path)
        out.add(_real(m.path))
        base = os.path.dirname(_real(m.path))
        for link in m.handoffs.values():
            if link.loaded is not None:
                todo.append(link.loaded)
            elif link.target.strip() and "\0" not in link.target:
                out.add(os.path.normpath(os.path.join(base, link.target)))
    return out


def _only(files: set[str]) -> Any:
    """A watchfiles filter: events on these files, not on the rest of their folders."""
    return lambda _change, path: _real(path) in files


def stamps(files: set[str]) -> dict[str, tuple[int, int] | None]:
    """Each file's modification time and size (None: missing), taken before it is read,
    so a save that no event announced (one made while the watcher was starting, or on a
    file system that drops events) is still seen."""
    out: dict[str, tuple[int, int] | None] = {}
    for f in sorted(files):
        try:
            st = os.stat(f)
            out[f] = (st.st_mtime_ns, st.st_size)
        except OSError:
            out[f] = None
    return out


def answer(map_path: str, scenarios: str, previous: State,
           checked: Callable[[State], None] | None = None) -> State:
    """Check and test the map as it is on disk now, with the cyclic collector paused (it
    runs after the answer is printed, see `tidy`). `checked` is handed the state before
    the scenarios run, so the preview page shows a save's problems without waiting."""
    from ..gcpause import paused

    with paused():
        return _answer(map_path, scenarios, previous, checked)


def tidy(state: State, map_path: str) -> None:
    """Between saves: drop the loader's copies of earlier saves (every save of a large map
    would otherwise stay in memory), then let the collector run while nobody waits."""
    import gc

    from ..io.loader import forget

    forget(map_path, state.dm.sha256 if state.dm is not None else None)
    maps = [state.dm] if state.dm is not None else []
    while maps:
        m = maps.pop()
        for link in m.handoffs.values():
            if link.loaded is not None:
                forget(link.loaded.path, link.loaded.sha256)
                maps.append(link.loaded)
    gc.collect()


def _answer(map_path: str, scenarios: str, previous: State,
            checked: Callable[[State], None] | None = None) -> State:
    """The answer itself, collector paused by the caller."""
    from ..errors import DecisionMapError, MapError
    from ..io.loader import load_map
    from ..walk.scenarios import run_scenarios

    state = State(files={_real(map_path), _real(scenarios)} | (previous.files or set()))
    for d in _diagnostics(map_path):
        where = str(d.where) if d.code.startswith("DM0") else d.where.file
        state.diagnostics.setdefault((where, d.code, d.message), d)
    try:
        dm = load_map(map_path)
    except MapError:
        state.note = "the map does not load"
        return state
    state.dm = dm
    state.files = {_real(map_path), _real(scenarios)} | _handoff_files(dm)
    errors = sum(d.severity == "error" for d in state.diagnostics.values())
    if errors:  # the walk trusts a checked map: a route to nowhere is the checker's to say
        state.note = f"the map has {errors} error(s)"
        return state
    if not os.path.isfile(scenarios):
        state.note = f"no scenario file {scenarios}"
        return state
    if checked is not None:
        checked(replace(state, note="running the scenarios"))
    try:
        report = run_scenarios(dm, scenarios)
    except DecisionMapError as e:
        state.note = clean(e)
        return state
    state.cases = {r.name: (r.passed, list(r.problems)) for r in report.results}
    state.uncovered, state.total_routes = list(report.uncovered), report.total_routes
    return state


def changes(old: State, new: State, last_run: State | None) -> list[str]:
    """The lines that say what this save changed; cases and coverage are compared with
    the last save whose scenarios ran, so a broken save and its fix report nothing twice."""
    out: list[str] = []
    for k, d in new.diagnostics.items():
        if k not in old.diagnostics:
            out.append(f"  new:   {clean(d.line())}")
    for k, d in old.diagnostics.items():
        if k not in new.diagnostics:
            out.append(f"  fixed: {clean(d.line())}")
    if new.cases is None:
        if old.cases is not None or old.note != new.note:
            out.append(f"  scenarios not run: {clean(new.note)}")
        return out
    base = last_run if last_run is not None and last_run.cases is not None else None
    before = base.cases if base is not None and base.cases is not None else {}
    for name, (ok, problems) in new.cases.items():
        was = before.get(name)
        if was is not None and was[0] == ok:
            continue
        why = f" ({clean(problems[0])})" if problems and not ok else ""
        if was is not None:
            state = "now passing" if ok else "now failing"
        elif base is not None:
            state = "new case passing" if ok else "new case failing"
        else:  # the first save whose cases ran: say how each stands
            state = "passing" if ok else "failing"
        out.append(f"  {state}: {clean(name)}{why}")
    for name in before:
        if name not in new.cases:
            out.append(f"  case gone: {clean(name)}")
    if base is not None:
        lost = [u for u in new.uncovered if u not in set(base.uncovered)]
        gained = [u for u in base.uncovered if u not in set(new.uncovered)]
        out += [f"  not covered: {clean(u)}" for u in lost]
        out += [f"  covered now: {clean(u)}" for u in gained]
    return out


class Drawer:
    """Draws the picture on its own thread, the newest map only, so a slow layout never
    holds up the answer to the next save."""

    def __init__(self, output: Path, lock: threading.Lock) -> None:
        """Start the drawing thread; it sleeps until a map is submitted."""
        self.output, self.lock = output, lock
        self.pending: Any = None
        self.drawn_sha: str | None = None
        self.wake = threading.Condition()
        threading.Thread(target=self._run, daemon=True, name="watch-draw").start()

    def submit(self, dm: Any) -> None:
        """Draw this map next, replacing any not drawn yet."""
        with self.wake:
            self.pending = dm
            self.wake.notify()

    def _run(self) -> None:
        """Draw the newest submitted map, forever (a daemon thread)."""
        from decision_map_render.draw import picture

        from ..errors import DecisionMapError
        from ..io.atomic import write_atomic

        while True:
            with self.wake:
                while self.pending is None:
                    self.wake.wait()
                dm, self.pending = self.pending, None
            if dm.sha256 == self.drawn_sha and self.output.exists():
                continue
            start = time.perf_counter()
            try:
                # within the drawing limits (docs/safety.md): a map too big to lay out in
                # time is drawn as a summary, and the line says so
                drawn = picture(dm, None, self.output.suffix[1:], None)
                write_atomic(str(self.output), drawn.data)
                self.drawn_sha = dm.sha256
                note = f"; {clean(drawn.note)}" if drawn.note else ""
                line = (f"  picture: {self.output} redrawn "
                        f"({time.perf_counter() - start:.2f} s{note})")
            except (DecisionMapError, OSError) as e:
                line = f"  picture: not drawn: {clean(e)}"
            with self.lock:
                typer.echo(line)


def open_preview(map_path: str, port: int) -> Any:
    """The preview page, started through its entry point (the live room's package, which
    the command line never imports); a clear line when the extra is not installed."""
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=PREVIEW_GROUP), key=lambda ep: ep.name)
    try:
        start = found[0].load() if found else None
    except ModuleNotFoundError:  # the package is there, its web server is not
        start = None
    if start is None:
        raise fail(NEEDS_EXTRA)
    return start(map_path, port)


def show(page: Any, state: State) -> None:
    """Hand one save's answer to the preview page (None: no page)."""
    if page is None:
        return
    page.publish(dm=state.dm, diagnostics=list(state.diagnostics.values()),
                 cases=state.cases, uncovered=state.uncovered,
                 total_routes=state.total_routes, note=state.note,
                 summary=state.summary())


@app.command("watch")
def watch_cmd(
    map_file: Path = typer.Argument(..., metavar="MAP", help="The map to watch."),
    scenarios: Optional[Path] = typer.Argument(None, metavar="SCENARIOS",
                                               help="Default: scenarios/<map>.yaml beside it."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Redraw this picture on every save: .svg "
                                               ".png .pdf .dot or .mmd."),
    preview: bool = typer.Option(False, "--preview",
                                 help="Serve a page on 127.0.0.1 with the picture, the "
                                      "problems and the cases, refreshed on each save "
                                      "(needs the live extra)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535,
                                       help=f"The preview page's port (default "
                                            f"{PREVIEW_PORT})."),
) -> None:
    """Check and test a map on every save, printing only what changed; Ctrl-C stops."""
    from watchfiles import watch

    from ..walk.scenarios import default_scenarios
    from .render_cmd import PICTURE_SUFFIXES, _suffix

    if not map_file.is_file():
        raise fail(f"{map_file}: no such map file")
    if scenarios is not None and not scenarios.is_file():
        raise fail(f"{scenarios}: no such scenario file")
    if output is not None:
        _suffix(output, PICTURE_SUFFIXES, "format")
    if port is not None and not preview:
        raise fail("--port is the preview page's: give --preview too", 2)
    map_path = str(map_file)
    scen_path = str(scenarios) if scenarios else default_scenarios(map_path)
    lock = threading.Lock()
    drawer = Drawer(output, lock) if output is not None else None

    seen = stamps({_real(map_path), _real(scen_path)})
    page = open_preview(map_path, port or PREVIEW_PORT) if preview else None
    try:  # a Ctrl-C once the first answer is printed stops as any other
        state = answer(map_path, scen_path, State())
        seen = {**stamps(state.files), **seen}
        last_run = state if state.cases is not None else None
        with lock:
            picture = f"; picture {output}" if output else ""
            typer.echo(f"watching {clean(map_path)} and {len(state.files) - 1} more file(s)"
                       f"{picture}; Ctrl-C stops")
            if page is not None:
                typer.echo(f"preview: {page.url}")
            for d in state.diagnostics.values():
                typer.echo(f"  {clean(d.line())}")
            typer.echo(state.summary())
        if drawer is not None and state.dm is not None:
            drawer.submit(state.dm)
        show(page, state)
        while True:
            folders = sorted({os.path.dirname(f) for f in state.files if os.path.isdir(
                os.path.dirname(f))})
            wanted = set(state.files)
            for found in watch(*folders, watch_filter=_only(wanted),
                               step=STEP_MS, debounce=DEBOUNCE_MS, recursive=False,
                               raise_interrupt=True, rust_timeout=RECHECK_MS,
                               yield_on_timeout=True):
                start = time.perf_counter()
                now = stamps(wanted)
                if not found and now == {f: seen.get(f) for f in now}:
                    continue
                names = sorted({os.path.relpath(p) for _c, p in found} or
                               {os.path.relpath(f) for f in now if now[f] != seen.get(f)})
                try:
                    new = answer(map_path, scen_path, state,
                                 None if page is None else lambda s: show(page, s))
                except Exception as e:  # noqa: BLE001 - a bug must not end the author's loop
                    with lock:
                        typer.echo(f"decision-map: internal error: {type(e).__name__}: "
                                   f"{clean(e)} (still watching)")
                    seen = now
                    continue
                lines = changes(state, new, last_run)
                with lock:
                    typer.echo(f"[{time.strftime('%H:%M:%S')}] saved: "
                               f"{clean(', '.join(names))}")
                    for line in lines[:MAX_LINES]:
                        typer.echo(line)
                    if len(lines) > MAX_LINES:
                        typer.echo(f"  ... and {len(lines) - MAX_LINES} more "
                                   "(decision-map check / test list them all)")
                    if not lines:
                        typer.echo("  no change")
                    typer.echo(f"{new.summary()} ({time.perf_counter() - start:.2f} s)")
                state = new
                seen = {**stamps(new.files), **now}
                if new.cases is not None:
                    last_run = new
                if drawer is not None and new.dm is not None:
                    drawer.submit(new.dm)
                show(page, new)
                tidy(new, map_path)
                if new.files != wanted:
                    break  # a hand-off was added or removed: watch its folder too
    except KeyboardInterrupt:
        with lock:
            typer.echo("stopped watching")
    finally:
        if page is not None:
            page.stop()
