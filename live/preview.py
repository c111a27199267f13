"""`decision-map watch --preview`: a page on 127.0.0.1 beside the author's editor showing
the map drawn with its problems marked on their nodes, the problems as a list linking to
their lines, and the scenario results, refreshed on each save over the live room's
Server-Sent Events (sse.py).

`watch` reaches this module only through the `decision_map.preview` entry point, so the
command line never imports the live room. It calls `start` once and `Preview.publish`
after each save; drawing happens on a thread of its own, so a slow layout never holds up
the next save's answer, and a save that does not load keeps the last good picture.
Everything shown comes from the map, which is untrusted: the page is rendered with
autoescaping, the picture is Graphviz's SVG of escaped text, and the page runs no inline
script (the live room's security headers, CSP `script-src 'self'`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import uvicorn
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from decision_map.errors import DecisionMapError, Diagnostic, InputError
from decision_map.io.loader import DecisionMap

from . import security as sec
from . import sse

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"  # the page shows a map being written: never on the network
HEARTBEAT = 15.0  # seconds between heartbeats on the page's event stream
MAX_STREAMS = 20  # open event streams: a few tabs of one author
KEY = "preview"  # the one thing this server's streams follow
START_S = 10.0  # the longest the server may take to listen
STOP_S = 10.0  # the longest stopping the server may take
MAX_SHOWN = 200  # problems, cases and uncovered routes listed each; the rest are counted
INTERIM_S = 0.15  # a picture not drawn by then: show the save's problems without it first
# Each problem links to its line in VS Code (vscode://file/PATH:LINE:COL opens the file
# at the line). A file:// link can carry no line, and browsers refuse file:// links on
# an http:// page anyway; the text of each link is `file:line:col` for any other editor.
EDITOR_LINK = "vscode://file{path}:{line}:{col}"

templates = Environment(loader=FileSystemLoader(os.path.join(HERE, "templates")),
                        autoescape=select_autoescape(default=True, default_for_string=True))


@dataclass(frozen=True)
class Problem:
    """One diagnostic as the page lists it: where, a link to the line, the node it marks."""

    severity: str
    code: str
    message: str
    hint: str
    where: str
    href: str
    node: str


@dataclass(frozen=True)
class Case:
    """One scenario case's result: passing, or failing and the first reason why."""

    name: str
    ok: bool
    why: str


@dataclass(frozen=True)
class View:
    """What the page shows after one save; `seq` moves with every change of it."""

    seq: int = 0
    title: str = ""
    map_path: str = ""
    saved: str = ""
    summary: str = "checking..."
    errors: int = 0
    problems: tuple[Problem, ...] = ()  # the first MAX_SHOWN
    cases: tuple[Case, ...] | None = None  # the first MAX_SHOWN
    passed: int = 0
    note: str = ""
    coverage: str = ""
    uncovered: tuple[str, ...] = ()  # the first MAX_SHOWN
    hidden: tuple[int, int, int] = (0, 0, 0)  # problems, cases and uncovered not listed
    svg: str = ""  # the picture, ready to put in the page (no XML prolog)
    picture_seq: int = 0  # moves when the picture does, so the page redraws only then
    picture_note: str = ""

    def frame(self) -> dict[str, Any]:
        """What the event stream sends: enough for the page to know it is behind."""
        return {"seq": self.seq, "picture": self.picture_seq, "errors": self.errors}


def _real(path: str) -> str:
    return os.path.realpath(path)


def editor_link(where: Any) -> str:
    """The link that opens `where` in the editor, its path percent-encoded."""
    path = quote(_real(where.file).replace(os.sep, "/"), safe="/")
    if not path.startswith("/"):  # a Windows drive: vscode://file/C:/...
        path = "/" + path
    return EDITOR_LINK.format(path=path, line=max(where.line, 1), col=max(where.col, 1))


def node_lines(dm: DecisionMap) -> tuple[list[tuple[int, str]], int]:
    """Each node's first line in its map file, in order, and the line where the `nodes`
    section ends (the next top-level key, or past the end of the file)."""
    keys = dm.positions.keys
    starts = sorted((pos[0], path[1]) for path, pos in keys.items()
                    if len(path) == 2 and path[0] == "nodes" and isinstance(path[1], str))
    nodes_at = keys.get(("nodes",), (0, 0))[0]
    after = [pos[0] for path, pos in keys.items() if len(path) == 1 and pos[0] > nodes_at]
    return starts, min(after, default=10**9)


def node_of(dm: DecisionMap, d: Diagnostic, lines: tuple[list[tuple[int, str]], int]) -> str:
    """The node of the map a diagnostic is about, by the line it stands on ("" for none):
    a line inside a node's entry is that node's; a problem in a hand-off map marks the
    node that hands off to it."""
    where = d.where
    if where.line <= 0:
        return ""
    real = _real(where.file)
    if real != _real(dm.path):
        for key, link in dm.handoffs.items():
            if link.loaded is not None and _real(link.loaded.path) == real:
                return key
        return ""
    starts, end = lines
    found = ""
    for line, key in starts:
        if line > where.line:
            break
        found = key
    return found if where.line < end else ""


def problems_of(dm: DecisionMap | None, diagnostics: Iterable[Diagnostic]
                ) -> tuple[Problem, ...]:
    """The diagnostics as the page lists them, each with the node it marks."""
    lines = node_lines(dm) if dm is not None else ([], 0)
    out = []
    for d in diagnostics:
        node = node_of(dm, d, lines) if dm is not None else ""
        out.append(Problem(d.severity, d.code, d.message, d.hint or "", str(d.where),
                           editor_link(d.where), node))
    return tuple(out)


def marks_of(problems: Iterable[Problem]) -> dict[str, str]:
    """Node id -> the codes drawn on it, each code once, errors first."""
    codes: dict[str, list[str]] = {}
    for p in sorted(problems, key=lambda p: p.severity != "error"):
        if p.node and p.code not in codes.setdefault(p.node, []):
            codes[p.node].append(p.code)
    return {k: " ".join(v) for k, v in codes.items()}


def svg_body(data: bytes) -> str:
    """Graphviz's SVG without its XML declaration and doctype, to stand inside a page."""
    text = data.decode("utf-8")
    at = text.find("<svg")
    return text[at:] if at >= 0 else ""


@dataclass
class Hub:
    """What the server shares between requests: the newest view and the streams that
    follow it (the shape sse.Streams expects)."""

    view: View = field(default_factory=View)
    streams: int = 0
    stopping: asyncio.Event | None = None
    wake: dict[str, asyncio.Event] = field(default_factory=dict)

    def waiter(self, key: str) -> asyncio.Event:
        """The event the next view sets."""
        return self.wake.setdefault(key, asyncio.Event())

    def show(self, view: View) -> None:
        """Make `view` the page and wake every stream (runs on the server's loop)."""
        self.view = view
        ev = self.wake.pop(KEY, None)
        if ev is not None:
            ev.set()

    def end(self) -> None:
        """End every stream now, so stopping the server waits for none (the server's loop)."""
        if self.stopping is not None:
            self.stopping.set()
        for ev in list(self.wake.values()):
            ev.set()


def create_app(hub: Hub) -> Starlette:
    """The page, its event stream, its script and styles; nothing else."""

    async def index(request: Request) -> Response:
        html = templates.get_template("preview.html").render(v=hub.view)
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def state(request: Request) -> Response:
        return JSONResponse(hub.view.frame(), headers={"cache-control": "no-store"})

    async def events(request: Request) -> Response:
        return sse.event_stream(request, hub, KEY, lambda: (hub.view.seq, hub.view.frame()),
                                heartbeat=HEARTBEAT, max_streams=MAX_STREAMS)

    app = Starlette(routes=[
        Route("/", index),
        Route("/state", state),
        Route("/events", events),
        Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"),
    ])
    app.state.hub = hub
    return app


def guarded(hub: Hub) -> Any:
    """The app behind the live room's headers and body limit, answering only to the names
    of this machine (a page on another site cannot rebind its own name to 127.0.0.1)."""
    return sec.Guard(TrustedHostMiddleware(create_app(hub),
                                           allowed_hosts=[HOST, "localhost"]))


@dataclass
class _Save:
    """One save, as `publish` hands it to the drawing thread."""

    dm: DecisionMap | None
    problems: tuple[Problem, ...]
    cases: tuple[Case, ...] | None
    passed: int
    note: str
    coverage: str
    uncovered: tuple[str, ...]
    summary: str
    saved: str


class Preview:
    """The running page: a uvicorn thread serving the hub, and a thread that turns each
    save into a view (drawing the picture) and shows it."""

    def __init__(self, map_path: str, port: int) -> None:
        """Listen on 127.0.0.1:`port` and start the drawing thread."""
        self.map_path = map_path
        self.url = f"http://{HOST}:{port}/"
        self.hub = Hub(View(title=os.path.basename(map_path), map_path=map_path))
        config = uvicorn.Config(guarded(self.hub), host=HOST, port=port, log_level="warning",
                                timeout_graceful_shutdown=2, lifespan="off")
        self.srv = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True, name="preview-serve")
        self.thread.start()
        deadline = time.monotonic() + START_S
        while not self.srv.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start listening")
            time.sleep(0.02)
        self.pending: _Save | None = None
        self.wake = threading.Condition()
        self.drawn: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self.drawn_note = ""  # what the picture drawn last says of itself
        self.posting = threading.RLock()  # the drawing thread and its interim timer post
        self.view = self.hub.view
        threading.Thread(target=self._run, daemon=True, name="preview-draw").start()

    def publish(self, *, dm: DecisionMap | None, diagnostics: Iterable[Diagnostic],
                cases: Mapping[str, tuple[bool, list[str]]] | None, uncovered: Iterable[str],
                total_routes: int, note: str, summary: str) -> None:
        """Show this save: its map (None when it did not load), its diagnostics, its cases
        (None when they did not run) and what no case covers."""
        shown = None if cases is None else tuple(
            Case(name, ok, "" if ok or not why else why[0]) for name, (ok, why) in cases.items())
        left = tuple(uncovered)
        coverage = ""
        if cases is not None:
            covered = total_routes - len(left)
            pct = 100 * covered / total_routes if total_routes else 100
            coverage = f"{covered} of {total_routes} routes and outcomes ({pct:.0f}%)"
        passed = sum(c.ok for c in shown) if shown is not None else 0
        save = _Save(dm, problems_of(dm, diagnostics), shown, passed, note, coverage, left,
                     summary.removeprefix("= "), time.strftime("%H:%M:%S"))
        with self.wake:
            self.pending = save
            self.wake.notify()

    def _post(self, **changes: Any) -> None:
        """The next view, with these changes, on its way to the page."""
        with self.posting:
            self.view = dataclasses.replace(self.view, seq=self.view.seq + 1, **changes)
            loop = self.loop
            if loop is not None and loop.is_running():
                loop.call_soon_threadsafe(self.hub.show, self.view)

    def _run(self) -> None:
        """Forever (a daemon thread): show the newest save, its picture redrawn when the
        map or its marks changed. A drawing that takes longer than INTERIM_S is preceded
        by the save shown with the picture it had, so a big map's problems are not kept
        waiting; a quick one is shown once, the page fetched once."""
        while True:
            with self.wake:
                while self.pending is None:
                    self.wake.wait()
                save, self.pending = self.pending, None
            marks = marks_of(save.problems)
            text = {"title": save.dm.model.title if save.dm is not None else self.view.title,
                    "saved": save.saved, "summary": save.summary,
                    "errors": sum(p.severity == "error" for p in save.problems),
                    "problems": save.problems[:MAX_SHOWN], "passed": save.passed,
                    "cases": None if save.cases is None else save.cases[:MAX_SHOWN],
                    "note": save.note, "coverage": save.coverage,
                    "uncovered": save.uncovered[:MAX_SHOWN],
                    "hidden": tuple(max(0, len(x) - MAX_SHOWN) for x in
                                    (save.problems, save.cases or (), save.uncovered))}
            if save.dm is None:
                note = ("the map does not load: the picture is from the last save that did"
                        if self.view.svg else "no picture yet: the map does not load")
                self._post(**text, picture_note=note)
                continue
            wanted = (save.dm.sha256, tuple(sorted(marks.items())))
            if wanted == self.drawn:
                self._post(**text, picture_note=self.drawn_note)
                continue
            shown = threading.Event()  # set once either view is on its way

            def interim(text: dict[str, Any] = text, shown: threading.Event = shown) -> None:
                with self.posting:
                    if not shown.is_set():
                        shown.set()
                        self._post(**text)

            timer = threading.Timer(INTERIM_S, interim)
            timer.daemon = True
            timer.start()
            picture = self._draw(save.dm, marks)
            timer.cancel()
            with self.posting:
                shown.set()
                self._post(**text, **picture)
            self.drawn, self.drawn_note = wanted, self.view.picture_note

    def _draw(self, dm: DecisionMap, marks: dict[str, str]) -> dict[str, Any]:
        """The view's picture fields for this map and marks (the last picture kept, with
        why, when it cannot be drawn)."""
        from decision_map_render.draw import picture

        try:
            drawn = picture(dm, None, "svg", None, marks=marks)
        except (DecisionMapError, OSError) as e:
            return {"picture_note": f"not drawn: {e}"}
        return {"svg": svg_body(drawn.data), "picture_seq": self.view.picture_seq + 1,
                "picture_note": drawn.note or ""}

    def _serve(self) -> None:
        """The server's thread: its own event loop, until `stop`."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        self.hub.stopping = asyncio.Event()
        try:
            loop.run_until_complete(self.srv.serve())
        finally:
            loop.close()

    def stop(self) -> None:
        """End the streams and the server, within STOP_S."""
        loop = self.loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self.hub.end)
        self.srv.should_exit = True
        self.thread.join(timeout=STOP_S)


def start(map_path: str, port: int) -> Preview:
    """Serve the preview of `map_path` on 127.0.0.1:`port` (the `decision_map.preview`
    entry point); InputError when the port cannot be listened on."""
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError as e:
            raise InputError(f"--port {port}: cannot listen on {HOST}:{port} "
                             f"({e.strerror or e}); choose another port") from None
    try:
        return Preview(map_path, port)
    except RuntimeError as e:
        raise InputError(f"--port {port}: the preview page did not start ({e})") from None
