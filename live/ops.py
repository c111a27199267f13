"""What a hosted server needs around the app, as one ASGI layer: trusted proxy headers,
HTTPS when told (Secure cookies, HSTS), `GET /healthz`, one JSON access line per request,
and the periodic sweep that deletes expired rooms. It wraps whatever `guarded` serves, so
the laptop, the test servers and every worker process get the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .config import HSTS_SECONDS, Settings
from .expiry import Sweeper, Swept
from .logs import configure, log

HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 3.0  # seconds the database may take to answer a health check
FIRST_SWEEP = 10.0  # seconds after start before the first sweep (or the period, if shorter)
JOIN_CODE = re.compile(r"^/j/[^/]+")  # a join code in a path is a way in: not logged


def schema_head() -> str:
    """The newest migration this code knows (read once, at start)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def health(engine: sa.Engine, head: str) -> tuple[bool, dict[str, str]]:
    """Whether the database answers and its schema is the one this code knows. The answer
    names no host, user or error text (it is public): only what is wrong."""
    try:
        with engine.connect() as c:
            current = c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError as e:
        missing = "alembic_version" in str(e) or "no such table" in str(e)
        return False, {"status": "unavailable",
                       "reason": "no schema" if missing else "database unreachable"}
    if current != head:
        return False, {"status": "unavailable",
                       "reason": f"schema {current or 'none'}, this code needs {head}"}
    return True, {"status": "ok", "schema": head}


def log_path(path: str) -> str:
    """The path as logged: a join code is a way into a room, so it is left out."""
    return JOIN_CODE.sub("/j/-", path)[:200]


@dataclass
class Ops:
    """The hosting layer around the app (see the module's docstring)."""

    app: Any
    live: Any  # the app's Live: its store, and its caches to forget deleted rooms in
    settings: Settings
    task: asyncio.Task[None] | None = None
    limiter: Any = None  # the RateLimit inside, whose shared buckets each round prunes

    def __post_init__(self) -> None:
        """The sweeper for the app's database, with the configured limits."""
        self.sweeper = Sweeper(self.live.store, self.settings.room_ttl,
                               self.settings.report_ttl)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Watch the lifespan for start and stop; trace every HTTP request."""
        if scope["type"] == "lifespan":
            await self.app(scope, self._lifespan(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._traced(scope, send))

    # ------------------------------------------------------------ start and stop

    def _lifespan(self, receive: Any) -> Any:
        """`receive` that starts the sweep at startup and stops it at shutdown."""
        async def watched() -> Any:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
            return message
        return watched

    def start(self) -> None:
        """Begin sweeping (once per process), and say how this server is set up."""
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._sweep_forever())
            s = self.settings
            log(logging.INFO, "server started", pid=os.getpid(), https=s.https,
                proxies=s.trusted_proxies or "none", room_ttl_s=s.room_ttl,
                report_ttl_s=s.report_ttl, sweep_every_s=s.sweep_every)

    async def stop(self) -> None:
        """End the sweep (at shutdown)."""
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
            self.task = None

    async def _sweep_forever(self) -> None:
        """Sweep now and then for as long as the server runs (each sweep is bounded)."""
        await asyncio.sleep(min(FIRST_SWEEP, self.settings.sweep_every))
        while True:
            await self.sweep_once()
            await asyncio.sleep(self.settings.sweep_every)

    async def sweep_once(self) -> Swept:
        """One sweep in a thread; the deleted rooms leave this process's caches too."""
        try:
            swept = await asyncio.to_thread(self.sweeper.sweep)
            # rooms another process deleted leave this process's caches too
            gone = await asyncio.to_thread(deleted_elsewhere, self.live)
        except Exception as e:  # a sweep that failed is tried again at the next period
            log(logging.ERROR, "expiry sweep failed", reason=type(e).__name__)
            return Swept()
        if swept.skipped:
            log(logging.DEBUG, "expiry sweep skipped: another process is sweeping")
        shared = getattr(self.limiter, "shared", None)
        if shared is not None:  # idle rate buckets (client addresses) go on a quiet day too
            try:
                await asyncio.to_thread(shared.prune)
            except Exception as e:
                log(logging.ERROR, "rate bucket prune failed", reason=type(e).__name__)
        forget(self.live, gone)
        if swept.rooms:
            forget(self.live, swept.ids)
            log(logging.INFO, "expired rooms deleted", rooms=swept.rooms, rows=swept.rows,
                kept=swept.kept)
        return swept

    # ------------------------------------------------------------ requests

    def _traced(self, scope: Any, send: Any) -> Any:
        """`send` with HTTPS headers added and an access line written at the end."""
        t0 = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "bytes": 0, "stream": False}
        https = self.settings.https
        if https:
            scope["scheme"] = "https"  # told so: the proxy in front speaks HTTPS

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = list(message.get("headers", []))
                if https:
                    headers = [(k, _secure(v) if k.lower() == b"set-cookie" else v)
                               for k, v in headers]
                    headers.append((b"strict-transport-security",
                                    f"max-age={HSTS_SECONDS}".encode()))
                state["stream"] = any(k.lower() == b"content-type"
                                      and v.startswith(b"text/event-stream")
                                      for k, v in headers)
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
                if not message.get("more_body", False):
                    self._access(scope, state, t0)
            await send(message)
        return sending

    def _access(self, scope: Any, state: dict[str, Any], t0: float) -> None:
        """The request's access line (health checks only at debug)."""
        client = scope.get("client")
        path = scope.get("path", "")
        level = logging.DEBUG if path == HEALTH_PATH else logging.INFO
        log(level, "request", method=scope.get("method", ""), path=log_path(path),
            status=state["status"], ms=round((time.perf_counter() - t0) * 1e3, 1),
            bytes=state["bytes"], client=client[0] if client else None,
            stream=state["stream"])


class Health:
    """`GET /healthz`: 200 when the database answers at the schema this code knows, 503
    otherwise (with a short public reason); answered before the app, with no cookies."""

    def __init__(self, app: Any, engine: sa.Engine) -> None:
        """Around `app`, checking `engine`'s database against the newest migration."""
        self.app, self.engine, self.head = app, engine, schema_head()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer /healthz; pass everything else on."""
        if scope["type"] != "http" or scope.get("path") != HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        try:
            ok, body = await asyncio.wait_for(
                asyncio.to_thread(health, self.engine, self.head), HEALTH_TIMEOUT)
        except asyncio.TimeoutError:
            ok, body = False, {"status": "unavailable", "reason": "database too slow"}
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 200 if ok else 503,
                    "headers": [(b"content-type", b"application/json"),
                                (b"cache-control", b"no-store"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


def _secure(cookie: bytes) -> bytes:
    """A Set-Cookie value with the Secure attribute (once)."""
    attrs = [a.strip().lower() for a in cookie.split(b";")[1:]]
    return cookie if b"secure" in attrs else cookie + b"; Secure"


def deleted_elsewhere(live: Any) -> tuple[str, ...]:
    """The rooms this process still holds in its caches that are gone from the database
    (deleted by another process's sweep, or by `db expire`)."""
    held = set(getattr(live, "rooms", {})) | {k[0] for k in getattr(live, "pictures", {})}
    if not held:
        return ()
    ids = sorted(held)
    found: set[str] = set()
    with live.store.engine.connect() as c:
        for i in range(0, len(ids), 500):  # bounded IN lists
            q = sa.text("SELECT id FROM rooms WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True))
            found |= {r[0] for r in c.execute(q, {"ids": ids[i:i + 500]})}
    return tuple(held - found)


def forget(live: Any, rooms: tuple[str, ...]) -> None:
    """Drop deleted rooms from a process's caches (live/cache.py `Live.forget`)."""
    live.forget(rooms)


def wrap(app: Any, live: Any, settings: Settings | None = None, limiter: Any = None) -> Any:
    """`app` (already guarded) with the hosting layer, set up from the environment. Proxy
    headers are read outermost, so the access line has the member's address, and HTTPS, when
    told, holds whatever a proxy says. `limiter` is the app's RateLimit (its shared buckets
    are pruned at each sweep round)."""
    settings = Settings.from_env() if settings is None else settings
    configure(settings.log_level)
    ops = Ops(Health(app, live.store.engine), live, settings, limiter=limiter)
    if not settings.trusted_proxies:
        return ops
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(ops, trusted_hosts=settings.trusted_proxies)
