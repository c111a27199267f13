"""Open a room and serve it: what `decision-map serve` does, without the command line, so
the tests start the same server on a free port."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from decision_map.io.loader import DecisionMap

from . import security as sec
from .app import Live, create_app, guarded
from .config import ConfigError, Settings
from .limits import Limits
from .store import Store, StoreError, schema_problem, upgrade

SECRET_ENV = "DECISION_MAP_SECRET"
DATABASE_ENV = "DM_LIVE_DATABASE"  # the database a worker process serves (set by serve)
MAX_WORKERS = 64
_SERVED: list[Live] = []  # the app a worker process made from the environment


@dataclass(frozen=True)
class Links:
    """What the facilitator is given when a room opens."""

    room: str
    facilitator: str
    projector: str
    join: str
    code: str


def secret_for(url: str) -> bytes:
    """The key the form tokens are signed with: DECISION_MAP_SECRET, else (SQLite, the
    laptop) a file made once beside the database, so tokens outlive a restart.

    A hosted server (Postgres) without DECISION_MAP_SECRET is refused: a key made per run
    would make every open form stale and change every receipt at each restart, and a key
    kept in the database would sit beside the receipts it is meant to protect.
    """
    key = Settings.from_env().secret  # DECISION_MAP_SECRET (or DM_SECRET_KEY)
    if key is not None:
        return key
    if not url.startswith("sqlite"):
        raise ConfigError(f"{SECRET_ENV} is not set: a server on Postgres needs one key that "
                          "every worker shares and every restart keeps; make one with "
                          "`openssl rand -hex 32` and put it in the service's environment "
                          "(docs/hosting.md, section 3)")
    db = Path(url.split("sqlite:///", 1)[1])
    path = db.with_name(db.name + ".secret")
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def open_room(store: Store, dm: DecisionMap, group: list[str], base: str,
              extra: dict[str, Any] | None = None, *, ballot: str = "named",
              open_roster: bool = False) -> Links:
    """A new room for the map and group, and its three links; `extra` goes into the first
    event (an imported session's steps: live/export.py). `ballot` is the room's default
    ballot mode (named, hidden or secret); `open_roster` lets members add a name that is
    not in `group`."""
    from .secret import MODES

    if ballot not in MODES:
        raise ValueError(f"a ballot is one of {', '.join(MODES)}, not {ballot!r}")
    room = secrets.token_hex(16)
    fkey, pkey = sec.new_token(), sec.new_token()
    payload = {**(extra or {}), "map_path": os.path.abspath(dm.path), "map_id": dm.id,
               "group": group, "map_sha256": dm.sha256, "ballot": ballot,
               "open_roster": open_roster}
    code = store.create_room(room, os.path.abspath(dm.path), dm.sha256, sec.token_hash(fkey),
                             sec.token_hash(pkey), payload)
    return Links(room, f"{base}/r/{room}/f/go?k={fkey}", f"{base}/r/{room}/p/go?k={pkey}",
                 f"{base}/j/{code}", code)


def reopen_room(store: Store, room: str, base: str) -> Links | None:
    """Serve an existing room again: a paused one resumes with a new join code, and the
    owner of the database gets new facilitator and projector links (None: no such room)."""
    from .resilience import new_keys, resume_room
    from .room import room_map

    if store.room(room) is None:
        return None
    first = store.events(room)[:1]
    if first:
        room_map(first[0].payload)  # MapChanged: the file is not the one it was opened with
    resume_room(store, room)
    fkey, pkey = new_keys(store, room)
    code = (store.room(room) or {})["join_code"]
    return Links(room, f"{base}/r/{room}/f/go?k={fkey}", f"{base}/r/{room}/p/go?k={pkey}",
                 f"{base}/j/{code}", code)


def open_store(url: str) -> Store:
    """The store, at the newest schema. A SQLite file (the laptop) is migrated here; a
    Postgres database must already be at it (`decision-map db upgrade`), since several
    processes start against it and none should change its schema on the way."""
    if url.startswith("sqlite"):
        upgrade(url)
    else:
        problem = schema_problem(url)
        if problem is not None:
            raise StoreError(problem)
    return Store(url)


def prepare(url: str) -> tuple[Store, bytes]:
    """The store and the signing key, for a server about to start (the key is checked
    first: a missing one is a setting to fix before the database is touched)."""
    secret = secret_for(url)
    return open_store(url), secret


class LiveServer(uvicorn.Server):
    """uvicorn, but open event streams end at once when the server is asked to stop."""

    def __init__(self, config: uvicorn.Config, live: Live | None = None) -> None:
        super().__init__(config)
        self.live = live  # None in a worker process: its app is made there (`app_from_env`)

    def handle_exit(self, sig: int, frame: Any) -> None:
        for lv in [self.live] if self.live is not None else _SERVED:
            stop_streams(lv)
        super().handle_exit(sig, frame)


def stop_streams(live: Live) -> None:
    if live.stopping is not None:
        live.stopping.set()
    live.bus.wake_all()


FILES_BEYOND_STREAMS = 256  # descriptors beside the streams: database, logs, maps, listening


def raise_open_files(max_streams: int) -> int:
    """Raise this process's soft limit on open files (its workers inherit it) to fit
    `max_streams` event streams, each a socket, within the hard limit; the new soft limit.
    A shell's or a unit's default of 1024 would refuse streams before the cap does."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max_streams + FILES_BEYOND_STREAMS
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        return want
    return soft


def server(store: Store, secret: bytes, host: str, port: int,
           limits: Limits | None = None) -> LiveServer:
    app = create_app(store, secret)
    live = app.state.live
    # Logging, proxy headers and the sweep at start are the hosting layer's (live/ops.py).
    config = uvicorn.Config(guarded(app, limits), host=host, port=port, log_config=None,
                            access_log=False, proxy_headers=False,
                            timeout_graceful_shutdown=2, lifespan="on")
    srv = LiveServer(config, live)
    return srv


def app_from_env() -> sec.Guard:
    """The app of one worker process: the database named in DM_LIVE_DATABASE, checked to be
    at the schema this code knows (uvicorn calls this in each worker it starts)."""
    store, secret = prepare(os.environ[DATABASE_ENV])
    app = create_app(store, secret)
    _SERVED.append(app.state.live)
    return guarded(app)


def run_workers(url: str, host: str, port: int, workers: int) -> None:
    """Serve the database's rooms from `workers` processes sharing one listening socket.

    Several workers go through `uvicorn.run(..., workers=N)`, uvicorn's own supervisor (it
    starts, watches and restarts them; its public entry, stable across uvicorn versions),
    rather than processes of our own. Each worker makes its app from the environment and
    holds its own LISTEN connection, so any worker serves any member; at shutdown a worker's
    open streams end within `timeout_graceful_shutdown`. One worker runs in this process.
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise StoreError(f"--workers takes 1 to {MAX_WORKERS}")
    os.environ[DATABASE_ENV] = url
    secret_for(url)  # refused here, before any worker starts, when there is none
    # Logs and proxy headers are the hosting layer's (live/ops.py), in each worker; the
    # supervisor's own lines go through the same JSON formatter.
    from .logs import configure

    configure(Settings.from_env().log_level)
    options: dict[str, Any] = {"factory": True, "host": host, "port": port,
                               "log_config": None, "access_log": False,
                               "proxy_headers": False, "timeout_graceful_shutdown": 2,
                               "lifespan": "on"}
    target = "decision_map_live.server:app_from_env"
    if workers == 1:
        LiveServer(uvicorn.Config(target, **options)).run()
    else:
        uvicorn.run(target, workers=workers, **options)


def shutdown(srv: LiveServer) -> None:
    """Stop a server started by `serve_in_thread`, ending its event streams first."""
    loop = getattr(srv, "loop", None)
    if loop is not None and loop.is_running():
        loop.call_soon_threadsafe(stop_streams, srv.live)
    srv.should_exit = True


def lan_address() -> str:
    """This machine's address on the local network (no packet leaves: UDP connect only)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def serve_in_thread(srv: LiveServer, timeout: float = 10.0) -> threading.Thread:
    """Start the server in a thread and wait until it listens (for tests and benches)."""
    import asyncio
    import time

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        srv.loop = loop
        srv.live.stopping = asyncio.Event()
        loop.run_until_complete(srv.serve())
        loop.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout
    while not srv.started:
        if time.monotonic() > deadline or not t.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    return t
