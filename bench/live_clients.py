"""The load test's client processes (`bench/live_load.py` starts them): each one is many
browsers on one asyncio loop. It joins its share of the rooms, opens every person's event
stream, says it is ready, waits for the parent's start signal (bounded), walks its rooms and
sends back its raw figures and the CPU it spent on the walk.

With a pace (`Pace`), each room walks as a meeting does instead of as fast as it can: its
walk starts at a random point of the first pace period, each member votes at a random moment
of a window after their page shows the vote, and the facilitator, once the votes are in and
the close is seen, waits a reading pause so that a question takes about the pace. The random
draws come from the room's own seeded generator, in a fixed order, so a run is repeatable.

Every person is their own browser (bench/loopback_http.py: cookies, a few kept-alive
connections), holding a real event stream and refetching their page when the room's phase,
round or step changes, as live.js does. Every wait is bounded in time, every loop in count.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.loopback_http import Browser, HTTPError

WAIT = 30.0  # seconds any one wait for the room (votes in, close seen) may take
REQUEST_TIMEOUT = 30.0  # seconds for one request
STREAM_READ_TIMEOUT = 60.0  # seconds between two lines of a stream (heartbeats every 15)
KEEPALIVE = 2.0  # seconds a client keeps an idle connection (uvicorn keeps it 5)
STREAM_TRIES = 5  # times one person's stream is opened at most (the first and reconnects)
REFUSED_RETRY = 3.0  # seconds live.js waits before it opens a refused stream again
DROPPED_RETRY = 2.0  # seconds EventSource waits to reconnect a dropped stream (retry: 2000)
PERSON_CONNECTIONS = 4  # a person's connections at most: the stream, a page, a post
SETUP_CONCURRENCY = 32  # people joining at once, over all client processes
SETUP_SECONDS = 300.0  # every room's people must have joined within this
VOTE_WINDOW_MAX = 10.0  # seconds: a paced vote window is min(pace / 2, this)
PACE_JITTER = 0.25  # a paced question takes pace x uniform(1 - this, 1 + this) seconds
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
AT = re.compile(r'name="at" value="([\w-]+)"')


@dataclass
class Figures:
    """What one client process saw (raw lists, so the parent's percentiles cover all)."""

    close_seen_ms: list[float] = field(default_factory=list)  # per question per room
    close_page_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    vote_spread_ms: list[float] = field(default_factory=list)  # first to last vote sent
    question_gap_s: list[float] = field(default_factory=list)  # open to the room's next open
    room_walk_s: list[float] = field(default_factory=list)  # per room that finished
    errors: Counter[str] = field(default_factory=Counter)
    lost_votes: int = 0  # votes the server said it took, missing from the closed count
    unacknowledged: int = 0  # votes counted whose post ended in an error on the client
    votes: int = 0
    questions_done: int = 0
    streams_open: int = 0
    streams_max: int = 0

    def add(self, other: Figures) -> None:
        """Another process's figures into these (lists joined, counts summed; every
        process's streams were open at once, before the walk, so their maxima add)."""
        self.close_seen_ms += other.close_seen_ms
        self.close_page_ms += other.close_page_ms
        self.post_ms += other.post_ms
        self.vote_spread_ms += other.vote_spread_ms
        self.question_gap_s += other.question_gap_s
        self.room_walk_s += other.room_walk_s
        self.errors.update(other.errors)
        self.lost_votes += other.lost_votes
        self.unacknowledged += other.unacknowledged
        self.votes += other.votes
        self.questions_done += other.questions_done
        self.streams_open += other.streams_open
        self.streams_max += other.streams_max


@dataclass(frozen=True)
class RoomLinks:
    """A room as the parent opened it: what a client process needs to join it (`number`,
    its place in the run, seeds its paced walk, so the same room draws the same times)."""

    id: str
    code: str
    fac_link: str
    proj_link: str
    number: int = 0


@dataclass(frozen=True)
class Pace:
    """How fast a room walks: `seconds` 0 is as fast as it can (every member votes the
    instant their page shows the vote, the facilitator moves the instant they can), else
    a question about every `seconds`, as a meeting, with times drawn from `seed`."""

    seconds: float = 0.0
    seed: int = 0

    @property
    def window(self) -> float:
        """The seconds over which a round's members vote after their page shows it."""
        return min(self.seconds / 2, VOTE_WINDOW_MAX)

    def draws(self, room: int) -> random.Random:
        """The room's own generator: the same room of the same seed draws the same times."""
        return random.Random(f"{self.seed}/{room}")


@dataclass
class LoadRoom:
    """A room in a client process: its links, its people once joined, and the one event
    every stream of the room sets on a frame (the walk's waits wake on it)."""

    links: RoomLinks
    moved: asyncio.Event = field(default_factory=asyncio.Event)
    fac: Person | None = None
    members: list[Person] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The room's id, as in its paths."""
        return self.links.id


@dataclass
class Person:
    """One browser: its own cookies and connections; its stream's view."""

    http: Browser
    name: str
    page: str = ""  # the page live.js would refetch (/me, /facilitate, /projector)
    csrf: str = ""
    seen: dict[tuple[str, int], float] = field(default_factory=dict)  # (phase, round) -> t
    paged: dict[tuple[str, int], float] = field(default_factory=dict)
    voted: set[int] = field(default_factory=set)  # rounds whose vote the server took
    last: dict[str, Any] = field(default_factory=dict)


async def timed_post(p: Person, fig: Figures, path: str, data: dict[str, str]) -> bool:
    """Post a form as a browser does; whether the server took it (its latency noted)."""
    what = path.rsplit("/", 1)[-1]
    t0 = time.perf_counter()
    try:
        r = await p.http.post(path, data)
    except HTTPError as e:
        fig.errors[f"post {what} {e.kind}"] += 1
        return False
    fig.post_ms.append((time.perf_counter() - t0) * 1e3)
    if r.status != 303 or "error=" in r.headers.get("location", ""):
        fig.errors[f"post {what} {r.status}"] += 1
        return False
    return True


async def get(p: Person, path: str, fig: Figures) -> str:
    """A page's text ("" after an error, which is counted)."""
    try:
        r = await p.http.get(path)
    except HTTPError as e:
        fig.errors[f"get {e.kind}"] += 1
        return ""
    if r.status not in (200, 303):
        fig.errors[f"get {r.status}"] += 1
    return r.text


async def follow(p: Person, room: LoadRoom, fig: Figures, opened: asyncio.Event) -> None:
    """The person's event stream, until cancelled: note when each phase was first seen,
    and refetch the page when the phase, round or step changes (as live.js). A stream
    refused or dropped is counted and opened again as the browser would (live.js after
    3 s, EventSource after the server's retry time, with the last event id), at most
    STREAM_TRIES times."""
    key = None
    last_id: str | None = None
    pause = 0.0
    try:
        for _ in range(STREAM_TRIES):
            await asyncio.sleep(pause)
            pause = DROPPED_RETRY
            try:
                async with p.http.stream(f"/r/{room.id}/events", STREAM_READ_TIMEOUT,
                                         last_id) as s:
                    if s.status != 200:
                        fig.errors[f"stream refused {s.status}"] += 1
                        pause = REFUSED_RETRY
                        continue
                    fig.streams_open += 1
                    fig.streams_max = max(fig.streams_max, fig.streams_open)
                    opened.set()
                    try:
                        async for event, data in s.events():
                            last_id = s.last_id
                            if event != "message":  # a heartbeat: the room has not moved
                                continue
                            f = json.loads(data)
                            now = time.perf_counter()
                            p.seen.setdefault((f["phase"], f["round"]), now)
                            p.last = f
                            room.moved.set()
                            k = (f["phase"], f["round"], f["step"])
                            if k != key:
                                key = k
                                await refetch(p, fig, (f["phase"], f["round"]))
                                room.moved.set()  # the page is what the walk waits for
                        fig.errors["stream ended by the server"] += 1
                    finally:
                        fig.streams_open -= 1
            except HTTPError as e:
                fig.errors[f"stream {e.kind}"] += 1
    except asyncio.CancelledError:
        raise
    except Exception as e:  # counted, not lost in a task nobody awaits
        fig.errors[f"stream failed: {type(e).__name__}"] += 1
    finally:
        opened.set()


async def refetch(p: Person, fig: Figures, seen: tuple[str, int]) -> None:
    """Fetch the person's page again, as live.js does when the room moved on."""
    try:
        r = await p.http.get(p.page)
        if r.status != 200:
            fig.errors[f"page {r.status}"] += 1
        else:
            token = CSRF.search(r.text)  # a member's page has a form only while a vote is open
            if token:
                p.csrf = token.group(1)
            p.paged.setdefault(seen, time.perf_counter())
    except HTTPError as e:
        fig.errors[f"page {e.kind}"] += 1


async def until(cond: Callable[[], bool], moved: asyncio.Event, wait: float) -> bool:
    """Wait (at most `wait` seconds) until `cond()` holds, checking it again whenever
    `moved` is set (one event per room, no task per wait)."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + wait
    while True:
        moved.clear()
        if cond():
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        timer = loop.call_later(left, moved.set)
        try:
            await moved.wait()
        finally:
            timer.cancel()


async def act(fac: Person, room: str, action: str, fig: Figures) -> float:
    """The facilitator presses a button on a fresh page; when the post was sent."""
    at = AT.search(await get(fac, f"/r/{room}/facilitate", fig))
    if at is None:
        fig.errors[f"act {action}: no button"] += 1
        return time.perf_counter()
    t0 = time.perf_counter()
    await timed_post(fac, fig, f"/r/{room}/act", {"action": action, "at": at.group(1),
                                                  "csrf": fac.csrf})
    return t0


async def vote(m: Person, room: str, rnd: int, fig: Figures, delay: float = 0.0
               ) -> float | None:
    """The member votes yes `delay` seconds after their page showed the open vote, if it
    has (else they cannot); when the vote was sent (the server's queue not in it), None if
    the server did not take it."""
    if ("open", rnd) not in m.paged or not m.csrf:
        fig.errors["no vote: the page never showed it open"] += 1
        return None
    if delay > 0:
        await asyncio.sleep(max(0.0, m.paged[("open", rnd)] + delay - time.perf_counter()))
    sent = time.perf_counter()
    if await timed_post(m, fig, f"/r/{room}/vote", {"value": "yes", "round": str(rnd),
                                                   "csrf": m.csrf}):
        fig.votes += 1
        m.voted.add(rnd)
        return sent
    return None


async def walk(room: LoadRoom, questions: int, fig: Figures, pace: Pace = Pace()) -> None:
    """The room's questions, one after another (each wait bounded by WAIT, and with a pace
    by WAIT plus the vote window; each paced pause by the pace's upper jitter)."""
    fac, members = room.fac, room.members
    assert fac is not None
    everyone = len(members)
    draw = pace.draws(room.links.number)
    if pace.seconds > 0:  # rooms start spread over one pace period, so closes do not line up
        await asyncio.sleep(draw.uniform(0, pace.seconds))
    t_walk = time.perf_counter()
    last_open: float | None = None

    def all_have(what: str, rnd: int) -> Callable[[], bool]:
        return lambda: all((what, rnd) in m.paged for m in members)

    def votes_in(rnd: int) -> Callable[[], bool]:
        return lambda: fac.last.get("round") == rnd and fac.last.get("voted", 0) >= everyone

    for rnd in range(1, questions + 1):  # one round per question: no vote is taken again
        # drawn before anything is timed, in a fixed order: the same seed, the same times
        delays = [draw.uniform(0, pace.window) if pace.seconds > 0 else 0.0 for _ in members]
        length = pace.seconds * draw.uniform(1 - PACE_JITTER, 1 + PACE_JITTER)
        t_open = time.perf_counter()
        if last_open is not None:
            fig.question_gap_s.append(t_open - last_open)
        last_open = t_open
        await act(fac, room.id, "open", fig)
        if not await until(all_have("open", rnd), room.moved, WAIT):
            fig.errors["open not on every page in time"] += 1
        sent = [t for t in await asyncio.gather(*(vote(m, room.id, rnd, fig, d)
                                                  for m, d in zip(members, delays, strict=True)))
                if t is not None]
        if len(sent) > 1:
            fig.vote_spread_ms.append((max(sent) - min(sent)) * 1e3)
        if not await until(votes_in(rnd), room.moved, WAIT):
            fig.errors["votes not all in before close"] += 1
        t0 = await act(fac, room.id, "close", fig)
        state = json.loads(await get(fac, f"/r/{room.id}/state", fig) or "{}")
        counted, taken = int(state.get("voted", 0)), sum(rnd in m.voted for m in members)
        fig.lost_votes += max(0, taken - counted)
        fig.unacknowledged += max(0, counted - taken)  # taken, but its answer was lost
        if not await until(all_have("closed", rnd), room.moved, WAIT):
            fig.errors["close not seen in time"] += 1
        seen = [m.seen[("closed", rnd)] for m in members if ("closed", rnd) in m.seen]
        paged = [m.paged[("closed", rnd)] for m in members if ("closed", rnd) in m.paged]
        if seen:
            fig.close_seen_ms.append((max(seen) - t0) * 1e3)
        if paged:
            fig.close_page_ms.append((max(paged) - t0) * 1e3)
        if pace.seconds > 0:  # the room reads the result; the next question opens at ~pace
            await asyncio.sleep(max(0.0, t_open + length - time.perf_counter()))
        await act(fac, room.id, "accept", fig)
        fig.questions_done += 1
    fig.room_walk_s.append(time.perf_counter() - t_walk)


class Browsers:
    """Makes the people of one client process, each a browser of their own."""

    def __init__(self, base: str) -> None:
        host, _, port = base.split("://", 1)[1].partition(":")
        self.host, self.port = host, int(port or 80)
        self.made: list[Browser] = []

    def person(self, name: str, source: str | None = None) -> Person:
        """A new browser with no cookies yet, connecting from `source` if given."""
        # idle connections are dropped well before uvicorn's 5 s keep-alive would drop them
        # under a request
        http = Browser(self.host, self.port, REQUEST_TIMEOUT, KEEPALIVE, PERSON_CONNECTIONS,
                       source)
        self.made.append(http)
        return Person(http, name)

    def close(self) -> None:
        """Every browser's connections dropped."""
        for b in self.made:
            b.close()


def venue_address(number: int) -> str:
    """The loopback address the people of the run's `number`th room connect from: 127.0.1.1,
    127.0.1.2, ... (Linux answers the whole of 127.0.0.0/8 on the loopback device).

    >>> venue_address(0), venue_address(253), venue_address(254)
    ('127.0.1.1', '127.0.1.254', '127.0.2.1')
    """
    return f"127.0.{1 + number // 254}.{1 + number % 254}"


async def setup(room: LoadRoom, browsers: Browsers, names: list[str], fig: Figures,
                gate: asyncio.Semaphore) -> list[Person]:
    """Facilitator, projector and members in; the people of the room."""
    # A room's people share one address, as a venue's network puts them behind one (the
    # server's per-address limits and their shared buckets see one client per room, not
    # one for the whole run); a room's place in the run picks its loopback address.
    source = venue_address(room.links.number) if browsers.host == "127.0.0.1" else None
    async with gate:
        fac = browsers.person("facilitator", source)
        proj = browsers.person("projector", source)
        for p, link, page in ((fac, room.links.fac_link, "facilitate"),
                              (proj, room.links.proj_link, "projector")):
            await get(p, link, fig)
            p.page = f"/r/{room.id}/{page}"
            m = CSRF.search(await get(p, p.page, fig))
            p.csrf = m.group(1) if m else ""
        room.fac = fac
    for n in names:
        async with gate:
            m = browsers.person(n, source)
            join = f"/r/{room.id}/join"
            token = CSRF.search(await get(m, join, fig))
            await timed_post(m, fig, join, {"name": n, "csrf": token.group(1) if token else ""})
            m.page = f"/r/{room.id}/me"
            await get(m, m.page, fig)
            room.members.append(m)
    return [fac, proj, *room.members]


def cpu_seconds() -> float:
    """This process's CPU seconds so far (user + system)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


async def join_and_walk(links: list[RoomLinks], base: str, names: list[str], questions: int,
                        max_seconds: float, gate_size: int, send: Callable[[str, Any], None],
                        start: Callable[[float], bool], start_wait: float,
                        pace: Pace = Pace()) -> None:
    """Join the rooms, open every stream, send "ready", wait for `start` (at most
    `start_wait` s), walk every room at once, send "done" with this process's figures
    (before the streams are closed, so the parent's window ends with the walk)."""
    fig = Figures()
    browsers = Browsers(base)
    gate = asyncio.Semaphore(gate_size)
    t_setup = time.perf_counter()
    made = [LoadRoom(r) for r in links]
    joining = [asyncio.create_task(setup(r, browsers, names, fig, gate)) for r in made]
    await asyncio.wait(joining, timeout=SETUP_SECONDS)
    for t in joining:
        if not t.done():
            t.cancel()
            fig.errors["room not joined at the time limit"] += 1
    await asyncio.gather(*joining, return_exceptions=True)
    joined = [(r, t.result()) for r, t in zip(made, joining, strict=True)
              if not t.cancelled() and t.exception() is None]
    for t in joining:
        if not t.cancelled() and t.exception() is not None:
            fig.errors[f"room not joined: {type(t.exception()).__name__}"] += 1
    setup_s = time.perf_counter() - t_setup
    opened = asyncio.Event()
    streams = [asyncio.create_task(follow(p, r, fig, opened)) for r, group in joined
               for p in group]
    everyone = len(streams)
    await until(lambda: sum(t.done() for t in streams) + fig.streams_open >= everyone,
                opened, WAIT)
    send("ready", {"setup_s": setup_s, "streams": everyone})
    out: dict[str, Any] = {"streams": everyone, "setup_s": setup_s, "walk_s": 0.0,
                           "cpu_s": 0.0, "rooms_walked": 0, "figures": fig}
    try:
        if not await asyncio.to_thread(start, start_wait):
            fig.errors["client process: no start signal in time"] += 1
        elif joined:
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            walks = [asyncio.create_task(walk(r, questions, fig, pace)) for r, _ in joined]
            done, pending = await asyncio.wait(walks, timeout=max_seconds)
            out["walk_s"] = time.perf_counter() - t0
            out["cpu_s"] = cpu_seconds() - cpu0
            out["rooms_walked"] = len(done)
            for t in pending:
                t.cancel()
                fig.errors["room still walking at the time limit"] += 1
            for t in done:
                if t.exception() is not None:
                    fig.errors[f"room failed: {type(t.exception()).__name__}"] += 1
        out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        send("done", out)
    finally:
        for t in streams:
            t.cancel()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*streams, return_exceptions=True), WAIT)
        browsers.close()


def client_process(index: int, links: list[RoomLinks], base: str, names: list[str],
                   questions: int, max_seconds: float, gate_size: int, inbox: Any, go: Any,
                   start_wait: float, pace: Pace = Pace()) -> None:
    """A client process's entry point (multiprocessing, spawned): its rooms' walk, its
    figures put on `inbox` as ("ready", i, ...), then ("done", i, ...) or ("failed", i,
    why). `go` is the parent's start signal (a multiprocessing Event)."""
    try:
        asyncio.run(join_and_walk(links, base, names, questions, max_seconds, gate_size,
                                  lambda kind, what: inbox.put((kind, index, what)), go.wait,
                                  start_wait, pace))
    except BaseException as e:  # reported to the parent, which counts the rooms as not done
        inbox.put(("failed", index, f"{type(e).__name__}: {e}"[:300]))
        raise SystemExit(1) from None
