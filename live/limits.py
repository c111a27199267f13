"""The live room's rate limits, per client address and per room: join-code tries, joins,
posts, rooms created and open event streams. Each is a named setting with a default,
changed by an environment variable (docs/live.md, "Limits"); over a limit the answer is
429 with one line and Retry-After.

On SQLite (one process) the token buckets live in this process's memory, and each table of
buckets tracks at most MAX_KEYS keys (the least recently used are forgotten first), so a
flood of addresses cannot grow memory without bound. On Postgres (several worker processes)
they live in the database, shared by every process (live/shared_buckets.py), and the check
runs in a thread, off the event loop; if the database cannot answer, this process's own
buckets count instead. Open event streams are counted per process on either.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import anyio.to_thread

MAX_KEYS = 10_000  # addresses or rooms one table of buckets remembers
ENV_PREFIX = "DECISION_MAP_LIMIT_"


@dataclass(frozen=True)
class Rate:
    """At most `count` events per `per` seconds (a bucket of `count` refilled evenly)."""

    count: int
    per: float

    @classmethod
    def parse(cls, text: str, name: str) -> Rate:
        """'10/60' is ten per minute; anything else is a LimitError naming the setting."""
        m = re.fullmatch(r"\s*(\d{1,9})\s*/\s*(\d{1,9}(?:\.\d+)?)\s*", text)
        if not m or int(m.group(1)) < 1 or float(m.group(2)) <= 0:
            raise LimitError(f"{ENV_PREFIX}{name.upper()}={text!r}: give COUNT/SECONDS, "
                             "e.g. 10/60 for ten a minute")
        return cls(int(m.group(1)), float(m.group(2)))

    def __str__(self) -> str:
        """As the setting is written: COUNT/SECONDS."""
        return f"{self.count}/{self.per:g}"


class LimitError(ValueError):
    """A limit setting that cannot be read; str() is the line to show."""


@dataclass(frozen=True)
class Limits:
    """Every limit, named as in the docs; the environment variable is DECISION_MAP_LIMIT_<NAME>.

    The defaults fit a meeting where everyone shares one address (a venue's Wi-Fi behind
    one NAT, or a proxy whose headers are not trusted): fifteen people voting and
    reloading stay far below them, while a script guessing join codes is slowed hard.
    """

    code_tries_ip: Rate = Rate(10, 60)  # wrong join codes tried, per address
    code_tries_ip_hour: Rate = Rate(100, 3600)  # the same, over an hour
    joins_ip: Rate = Rate(30, 60)  # names claimed, per address
    joins_room: Rate = Rate(60, 60)  # names claimed, per room
    posts_ip: Rate = Rate(600, 60)  # form posts of any kind, per address
    posts_room: Rate = Rate(1200, 60)  # form posts of any kind, per room
    rooms_ip: Rate = Rate(10, 3600)  # rooms created, per address
    streams_ip: int = 100  # event streams open at once, per address
    streams_room: int = 200  # event streams open at once, per room

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The defaults, with any DECISION_MAP_LIMIT_<NAME> from the environment put in."""
        env = os.environ if env is None else env
        given: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.type in ("int", int):
                if not raw.strip().isdigit() or int(raw) < 1:
                    raise LimitError(f"{ENV_PREFIX}{f.name.upper()}={raw!r}: give a whole "
                                     "number of 1 or more")
                given[f.name] = int(raw)
            else:
                given[f.name] = Rate.parse(raw, f.name)
        return cls(**given)


class Buckets:
    """Token buckets by key, at most `max_keys` of them (least recently used forgotten)."""

    def __init__(self, rate: Rate, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.max_keys, self.clock = rate, max_keys, clock
        self._b: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, t)

    def _level(self, key: str) -> float:
        now = self.clock()
        tokens, then = self._b.get(key, (float(self.rate.count), now))
        refill = (now - then) * self.rate.count / self.rate.per
        return min(float(self.rate.count), tokens + refill)

    def take(self, key: str) -> float:
        """Take one token: 0 when allowed, else the seconds until one is back."""
        tokens = self._level(key)
        if tokens < 1:
            self._put(key, tokens)
            return (1 - tokens) * self.rate.per / self.rate.count
        self._put(key, tokens - 1)
        return 0.0

    def give_back(self, key: str) -> None:
        """Return a token taken for something that turned out not to count."""
        if key in self._b:
            self._put(key, min(float(self.rate.count), self._level(key) + 1))

    def _put(self, key: str, tokens: float) -> None:
        self._b[key] = (tokens, self.clock())
        self._b.move_to_end(key)
        while len(self._b) > self.max_keys:
            self._b.popitem(last=False)

    def __len__(self) -> int:
        """How many keys are tracked now (never more than `max_keys`)."""
        return len(self._b)


class Counts:
    """How many of something (open streams) each key holds now, with a cap per key; keys
    at zero are dropped, so the table holds only keys with something open."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._n: dict[str, int] = {}

    def full(self, key: str) -> bool:
        """Whether `key` holds its cap already."""
        return self._n.get(key, 0) >= self.cap

    def add(self, key: str, step: int) -> None:
        """One more (step 1) or one fewer (step -1) open for `key`."""
        n = self._n.get(key, 0) + step
        if n > 0:
            self._n[key] = n
        else:
            self._n.pop(key, None)


ROOM = r"/r/(?P<room>[^/]{1,64})"
# Which requests count against which limits: (method, path pattern, kind).
KINDS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"/join"), "code"),
    ("GET", re.compile(r"/j/[^/]{1,64}"), "code"),
    ("POST", re.compile(ROOM + r"/join"), "join"),
    ("GET", re.compile(ROOM + r"/events"), "stream"),
)
POST_ROOM = re.compile(ROOM + r"/.*")


class RateLimit:
    """ASGI middleware: every limit checked before the app sees the request."""

    def __init__(self, app: Any, limits: Limits | None = None,
                 clock: Callable[[], float] = time.monotonic, store: Any = None) -> None:
        """Around `app`; with a Postgres `store`, the buckets are shared through it."""
        self.app = app
        self.limits = lim = limits or Limits.from_env()
        self.buckets = {name: Buckets(getattr(lim, name), clock=clock) for name in (
            "code_tries_ip", "code_tries_ip_hour", "joins_ip",
            "joins_room", "posts_ip", "posts_room", "rooms_ip")}
        self.streams_ip, self.streams_room = Counts(lim.streams_ip), Counts(lim.streams_room)
        self.shared = None
        # the shared buckets' statements take pooled connections: they count against the
        # store's threads (store.py), with the app's own database calls
        self.threads = getattr(store, "threads", None)
        if store is not None and getattr(store, "postgres", False):
            from .shared_buckets import SharedBuckets

            self.shared = SharedBuckets(store.engine, {n: b.rate for n, b in
                                                       self.buckets.items()})

    def classify(self, method: str, path: str) -> tuple[str | None, str | None]:
        """The request's kind (code, join, stream or None) and its room, if any."""
        for m, pattern, kind in KINDS:
            hit = pattern.fullmatch(path)
            if method == m and hit:
                return kind, hit.groupdict().get("room")
        hit = POST_ROOM.fullmatch(path)
        return None, hit.group("room") if hit else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        ip = client_ip(scope)
        kind, room = self.classify(method, path)
        wait = await self.checked(method, kind, ip, room)
        if wait is not None:
            await too_many(send, *wait)
            return
        if kind == "stream" and room is not None:
            if self.streams_ip.full(ip) or self.streams_room.full(room):
                await too_many(send, "too many open event streams from here or in this "
                               "room; close another tab", 5.0)
                return
            self.streams_ip.add(ip, 1)
            self.streams_room.add(room, 1)
            try:
                await self.app(scope, receive, send)
            finally:
                self.streams_ip.add(ip, -1)
                self.streams_room.add(room, -1)
            return
        if kind != "code":
            await self.app(scope, receive, send)
            return
        # a join code's token is taken before the lookup (so parallel guesses cannot pass
        # together) and given back when the code was right: only wrong codes count
        status = 0

        async def watch(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status != 404:
            await self.give_back(("code_tries_ip", "code_tries_ip_hour"), ip)

    async def give_back(self, names: tuple[str, ...], key: str) -> None:
        """Return the tokens taken from these buckets (a right join code)."""
        if self.shared is not None:
            try:
                await anyio.to_thread.run_sync(self.shared.give_back, names, key,
                                               limiter=self.threads)
                return
            except Exception as e:  # the database is away: this process's buckets count
                unshared(e)
        for name in names:
            self.buckets[name].give_back(key)

    async def checked(self, method: str, kind: str | None, ip: str,
                      room: str | None) -> tuple[str, float] | None:
        """`check`, on the buckets every process shares when there are such (in a thread:
        it is a database statement), else on this process's own."""
        if self.shared is None:
            return self.check(method, kind, ip, room)
        checks = self.checks(method, kind, ip, room)
        if not checks:
            return None
        try:
            hit = await anyio.to_thread.run_sync(
                self.shared.take, [(n, k) for n, k, _ in checks], limiter=self.threads)
        except Exception as e:  # the database is away: this process's buckets count
            unshared(e)
            return self.check(method, kind, ip, room)
        if hit is None:
            return None
        i, wait = hit
        return f"{checks[i][2]}: wait {math.ceil(wait)} s and try again", wait

    def check(self, method: str, kind: str | None, ip: str,
              room: str | None) -> tuple[str, float] | None:
        """None when the request may go on, else (the line to show, seconds to wait), on
        this process's own buckets."""
        for name, key, line in self.checks(method, kind, ip, room):
            wait = self.buckets[name].take(key)
            if wait:
                return f"{line}: wait {math.ceil(wait)} s and try again", wait
        return None

    def checks(self, method: str, kind: str | None, ip: str,
               room: str | None) -> list[tuple[str, str, str]]:
        """The buckets a request takes from, in order: (limit, key, the line if empty)."""
        checks: list[tuple[str, str, str]] = []  # (bucket, key, line)
        if kind == "code":
            checks += [("code_tries_ip", ip, "too many join codes tried from here"),
                       ("code_tries_ip_hour", ip, "too many join codes tried from here")]
        if kind == "join":
            checks += [("joins_ip", ip, "too many joins from here"),
                       ("joins_room", room or "", "too many joins in this room")]
        if method == "POST":
            checks.append(("posts_ip", ip, "too many posts from here"))
            if room is not None:
                checks.append(("posts_room", room, "too many posts in this room"))
        return checks

    def room_created(self, ip: str) -> tuple[str, float] | None:
        """Whether `ip` may create one more room (for whatever creates rooms over HTTP;
        `decision-map serve` opens its rooms from the command line, unlimited)."""
        wait = self.buckets["rooms_ip"].take(ip)
        return (f"too many rooms created from here: wait {math.ceil(wait)} s", wait
                ) if wait else None


UNSHARED_EVERY = 60.0  # seconds between two lines saying the shared limits are away
_unshared_said = [-UNSHARED_EVERY]  # when it was last said (monotonic)


def unshared(e: Exception) -> None:
    """Say that a shared check failed (its type only) and this process counts alone; at
    most once a minute, however many requests find the database away."""
    from .logs import log

    now = time.monotonic()
    if now - _unshared_said[0] >= UNSHARED_EVERY:
        _unshared_said[0] = now
        log(logging.WARNING, "shared rate limit unavailable; counted in this process",
            reason=type(e).__name__)


def client_ip(scope: Any) -> str:
    """The client's address as the server sees it (uvicorn puts a trusted proxy's
    forwarded address here when told to trust it)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def too_many(send: Any, line: str, wait: float) -> None:
    """429 with one line and Retry-After (whole seconds, at least 1)."""
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"retry-after", str(max(1, math.ceil(wait))).encode())]})
    await send({"type": "http.response.body", "body": (line + "\n").encode()})
