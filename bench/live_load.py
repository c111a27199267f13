"""The live room under load: `python -m bench.live_load` (`make bench-live-load`).

R rooms of M members, each room with a facilitator and a projector, every one of them holding
an event stream to a real `decision-map serve` process on loopback, as browsers do. Each room
walks Q questions: the facilitator opens the vote, every member votes as soon as their
stream shows it open, the facilitator closes it once the stream shows every vote in, and
accepts once every member has seen the close. A member refetches their page whenever the
room's phase, round or step changes (what live.js does).

It reports the time from the facilitator's close post to the last member's stream showing
the close (and to the last member's page fetched after it), post latency, CPU and memory of
each server process, errors and lost votes (votes posted but missing from the closed
count). Every loop is bounded in count, every wait in time, and the whole run stops itself
after --max-seconds. The clients share this machine's cores with the server: the figures
are as measured on this machine, not a capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

WAIT = 30.0  # seconds any one wait for the room (votes in, close seen) may take
REQUEST_TIMEOUT = 30.0  # seconds for one request
STREAM_READ_TIMEOUT = 60.0  # seconds between two lines of a stream (heartbeats every 15)
START_TIMEOUT = 60.0  # seconds for the server to answer /healthz
KEEPALIVE = 2.0  # seconds a client keeps an idle connection (uvicorn keeps it 5)
LOOPBACK_LIMITS = {"DECISION_MAP_LIMIT_STREAMS_IP": "100000",
                   "DECISION_MAP_LIMIT_POSTS_IP": "1000000/60",
                   "DECISION_MAP_LIMIT_JOINS_IP": "1000000/60"}
SETUP_CONCURRENCY = 32  # people joining at once
SETUP_SECONDS = 300.0  # every room's people must have joined within this
MAX_ROOMS, MAX_MEMBERS, MAX_QUESTIONS = 500, 100, 50
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
AT = re.compile(r'name="at" value="([\w-]+)"')


def load_map(questions: int) -> str:
    """A map of `questions` yes/no majority questions in a row, then an outcome."""
    lines = ['id: load', 'title: Load test', 'version: "1"', 'start: q1', 'nodes:']
    for i in range(1, questions + 1):
        nxt = f"q{i + 1}" if i < questions else "done"
        lines += [f"  q{i}:", f"    ask: Question {i}?", "    rule: majority",
                  "    choices:", f"      yes: {nxt}", "      no: stopped",
                  "    otherwise: stopped"]
    lines += ["  done:", "    outcome: Done", "  stopped:", "    outcome: Stopped"]
    return "\n".join(lines) + "\n"


@dataclass
class Figures:
    """What the run saw."""

    close_seen_ms: list[float] = field(default_factory=list)  # per question per room
    close_page_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lost_votes: int = 0  # votes the server said it took, missing from the closed count
    unacknowledged: int = 0  # votes counted whose post ended in an error on the client
    votes: int = 0
    questions_done: int = 0
    streams_open: int = 0
    streams_max: int = 0


@dataclass
class Person:
    """One browser: its own cookies, a shared connection pool; its stream's view."""

    http: httpx.AsyncClient
    name: str
    page: str = ""  # the page live.js would refetch (/me, /facilitate, /projector)
    csrf: str = ""
    seen: dict[tuple[str, int], float] = field(default_factory=dict)  # (phase, round) -> t
    paged: dict[tuple[str, int], float] = field(default_factory=dict)
    voted: set[int] = field(default_factory=set)  # rounds whose vote the server took
    last: dict[str, Any] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class LoadRoom:
    """A room of the run: its links, and its people once they joined."""

    id: str
    code: str
    fac_link: str
    proj_link: str
    fac: Person | None = None
    members: list[Person] = field(default_factory=list)


def pct(xs: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of `xs`, None when empty."""
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))], 1)


async def timed_post(p: Person, fig: Figures, path: str, data: dict[str, str]) -> bool:
    """Post a form as a browser does; whether the server took it (its latency noted)."""
    what = path.rsplit("/", 1)[-1]
    t0 = time.perf_counter()
    try:
        r = await p.http.post(path, data=data)
    except httpx.HTTPError as e:
        fig.errors[f"post {what} {type(e).__name__}"] += 1
        return False
    fig.post_ms.append((time.perf_counter() - t0) * 1e3)
    if r.status_code != 303 or "error=" in r.headers.get("location", ""):
        fig.errors[f"post {what} {r.status_code}"] += 1
        return False
    return True


async def get(p: Person, path: str, fig: Figures) -> str:
    """A page's text ("" after an error, which is counted)."""
    try:
        r = await p.http.get(path)
    except httpx.HTTPError as e:
        fig.errors[f"get {type(e).__name__}"] += 1
        return ""
    if r.status_code not in (200, 303):
        fig.errors[f"get {r.status_code}"] += 1
    return r.text


async def follow(p: Person, room: str, fig: Figures) -> None:
    """The person's event stream, until cancelled: note when each phase was first seen,
    and refetch the page when the phase, round or step changes (as live.js)."""
    key = None
    event = ""
    timeout = httpx.Timeout(REQUEST_TIMEOUT, read=STREAM_READ_TIMEOUT)
    try:
        async with p.http.stream("GET", f"/r/{room}/events", timeout=timeout) as s:
            if s.status_code != 200:
                fig.errors[f"stream refused {s.status_code}"] += 1
                return
            fig.streams_open += 1
            fig.streams_max = max(fig.streams_max, fig.streams_open)
            try:
                async for line in s.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data: ") and event != "heartbeat":
                        f = json.loads(line[6:])
                        now = time.perf_counter()
                        p.seen.setdefault((f["phase"], f["round"]), now)
                        p.last = f
                        p.changed.set()
                        k = (f["phase"], f["round"], f["step"])
                        if k != key:
                            key = k
                            await refetch(p, fig, (f["phase"], f["round"]))
                    elif not line:
                        event = ""
            finally:
                fig.streams_open -= 1
    except asyncio.CancelledError:
        raise
    except httpx.HTTPError as e:
        fig.errors[f"stream {type(e).__name__}"] += 1


async def refetch(p: Person, fig: Figures, seen: tuple[str, int]) -> None:
    """Fetch the person's page again, as live.js does when the room moved on."""
    try:
        r = await p.http.get(p.page)
        if r.status_code != 200:
            fig.errors[f"page {r.status_code}"] += 1
        else:
            token = CSRF.search(r.text)  # a member's page has a form only while a vote is open
            if token:
                p.csrf = token.group(1)
            p.paged.setdefault(seen, time.perf_counter())
    except httpx.HTTPError as e:
        fig.errors[f"page {type(e).__name__}"] += 1


async def until(cond: Any, people: list[Person], wait: float) -> bool:
    """Wait (at most `wait` seconds) until `cond()` holds, waking on any stream's frame."""
    deadline = time.monotonic() + wait
    while not cond():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if not people:
            await asyncio.sleep(min(left, 0.1))
            continue
        for p in people:
            p.changed.clear()
        waits = [asyncio.create_task(p.changed.wait()) for p in people]
        try:
            await asyncio.wait(waits, timeout=min(left, 1.0),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
    return True


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


async def vote(m: Person, room: str, rnd: int, fig: Figures) -> None:
    """The member votes yes, if their page has shown them the open vote (else they cannot)."""
    if ("open", rnd) not in m.paged or not m.csrf:
        fig.errors["no vote: the page never showed it open"] += 1
        return
    if await timed_post(m, fig, f"/r/{room}/vote", {"value": "yes", "round": str(rnd),
                                                   "csrf": m.csrf}):
        fig.votes += 1
        m.voted.add(rnd)


def fig_votes_taken(members: list[Person], rnd: int) -> int:
    """Votes of the round the server said it took (each must be in the closed count)."""
    return sum(rnd in m.voted for m in members)


def votes_in(fac: Person, rnd: int, everyone: int) -> Any:
    """Whether the facilitator's stream shows every vote of the round in."""
    return lambda: fac.last.get("round") == rnd and fac.last.get("voted", 0) >= everyone


async def walk(room: LoadRoom, questions: int, fig: Figures) -> None:
    """The room's questions, one after another (each wait bounded by WAIT)."""
    fac, members = room.fac, room.members
    assert fac is not None
    everyone = len(members)

    def all_have(what: str, rnd: int, pages: bool) -> Any:
        return lambda: all((what, rnd) in (m.paged if pages else m.seen) for m in members)

    for rnd in range(1, questions + 1):  # one round per question: no vote is taken again
        await act(fac, room.id, "open", fig)
        if not await until(all_have("open", rnd, True), members, WAIT):
            fig.errors["open not on every page in time"] += 1
        await asyncio.gather(*(vote(m, room.id, rnd, fig) for m in members))
        if not await until(votes_in(fac, rnd, everyone), [fac], WAIT):
            fig.errors["votes not all in before close"] += 1
        t0 = await act(fac, room.id, "close", fig)
        state = json.loads(await get(fac, f"/r/{room.id}/state", fig) or "{}")
        counted, taken = int(state.get("voted", 0)), fig_votes_taken(members, rnd)
        fig.lost_votes += max(0, taken - counted)
        fig.unacknowledged += max(0, counted - taken)  # taken, but its answer was lost
        if not await until(all_have("closed", rnd, True), members, WAIT):
            fig.errors["close not seen in time"] += 1
        seen = [m.seen[("closed", rnd)] for m in members if ("closed", rnd) in m.seen]
        paged = [m.paged[("closed", rnd)] for m in members if ("closed", rnd) in m.paged]
        if seen:
            fig.close_seen_ms.append((max(seen) - t0) * 1e3)
        if paged:
            fig.close_page_ms.append((max(paged) - t0) * 1e3)
        await act(fac, room.id, "accept", fig)
        fig.questions_done += 1


async def setup(room: LoadRoom, base: str, transport: httpx.AsyncHTTPTransport, names: list[str],
                fig: Figures, gate: asyncio.Semaphore) -> list[Person]:
    """Facilitator, projector and members in; the people of the room."""
    def person(name: str) -> Person:
        http = httpx.AsyncClient(base_url=base, transport=transport, timeout=REQUEST_TIMEOUT)
        return Person(http, name)

    async with gate:
        fac, proj = person("facilitator"), person("projector")
        for p, link, page in ((fac, room.fac_link, "facilitate"), (proj, room.proj_link,
                                                                    "projector")):
            await get(p, link, fig)
            p.page = f"/r/{room.id}/{page}"
            m = CSRF.search(await get(p, p.page, fig))
            p.csrf = m.group(1) if m else ""
        room.fac = fac
    for n in names:
        async with gate:
            m = person(n)
            join = f"/r/{room.id}/join"
            token = CSRF.search(await get(m, join, fig))
            await timed_post(m, fig, join, {"name": n, "csrf": token.group(1) if token else ""})
            m.page = f"/r/{room.id}/me"
            await get(m, m.page, fig)
            room.members.append(m)
    return [fac, proj, *room.members]


# ---------------------------------------------------------------- the server process


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes(root: int) -> list[int]:
    """The server's process and its children (the workers), from /proc."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (d / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [root]
    while todo and len(out) < 256:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def usage(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and peak resident MiB of one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        peak = 0.0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
        return cpu, peak
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0


def start_server(url: str, port: int, workers: int, map_path: Path, secret: str
                 ) -> subprocess.Popen[str]:
    """`decision-map serve` as users run it, on the database the rooms were opened in."""
    cmd = [sys.executable, "-m", "decision_map", "serve", str(map_path), "--group", "Ana, Ben",
           "--port", str(port), "--database", url]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    # Every client comes from 127.0.0.1: the per-address limits (live/limits.py) are raised
    # past the run's size (a meeting's limits stay the defaults; see docs/live.md).
    env = {**os.environ, "DECISION_MAP_SECRET": secret, "DECISION_MAP_LOG_LEVEL": "warning",
           **LOOPBACK_LIMITS}
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)


def wait_healthy(base: str, proc: subprocess.Popen[str]) -> None:
    """Wait (bounded) until /healthz answers 200."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {proc.stderr.read()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("the server did not become healthy in time")


# ---------------------------------------------------------------- the run


def run(rooms: int = 50, members: int = 15, questions: int = 5, database: str | None = None,
        workers: int = 1, max_seconds: float = 300.0, db_pid: int | None = None
        ) -> dict[str, Any]:
    """One load run; the figures as a dict (see `report`)."""
    if not (1 <= rooms <= MAX_ROOMS and 1 <= members <= MAX_MEMBERS
            and 1 <= questions <= MAX_QUESTIONS):
        raise SystemExit(f"rooms 1-{MAX_ROOMS}, members 1-{MAX_MEMBERS}, questions "
                         f"1-{MAX_QUESTIONS}")
    from decision_map_live.server import open_room, open_store
    from decision_map_live.store import upgrade

    from decision_map.io.loader import load_map as read_map

    with tempfile.TemporaryDirectory() as tmp:
        map_path = Path(tmp) / "load.yaml"
        map_path.write_text(load_map(questions))
        url = database or f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
        upgrade(url)
        store = open_store(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        dm = read_map(map_path)
        names = [f"M{i:02d}" for i in range(members)]
        made = []
        for _ in range(rooms):
            ln = open_room(store, dm, names, base)
            made.append(LoadRoom(ln.room, ln.code, ln.facilitator, ln.projector))
        store.engine.dispose()
        proc = start_server(url, port, workers, map_path, secrets.token_hex(32))
        try:
            wait_healthy(base, proc)
            out = asyncio.run(asyncio.wait_for(
                drive(made, base, names, questions, proc.pid, max_seconds, db_pid),
                SETUP_SECONDS + WAIT + max_seconds + 60))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    out.update(rooms=rooms, members=members, questions=questions, workers=workers,
               database=url.split(":", 1)[0])
    return out


async def drive(made: list[LoadRoom], base: str, names: list[str], questions: int,
                server_pid: int, max_seconds: float, db_pid: int | None = None
                ) -> dict[str, Any]:
    """Join everyone, open every stream, walk every room at once; the figures."""
    fig = Figures()
    people_per_room = len(names) + 2
    # idle connections are dropped well before uvicorn's 5 s keep-alive would drop them
    # under a request (which a browser retries, and httpx does not)
    limits = httpx.Limits(max_connections=len(made) * people_per_room * 2 + 100,
                          max_keepalive_connections=len(made) * people_per_room * 2 + 100,
                          keepalive_expiry=KEEPALIVE)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    t_setup = time.perf_counter()
    joining = [asyncio.create_task(setup(r, base, transport, names, fig, gate)) for r in made]
    await asyncio.wait(joining, timeout=SETUP_SECONDS)
    for t in joining:
        if not t.done():
            t.cancel()
            fig.errors["room not joined at the time limit"] += 1
    await asyncio.gather(*joining, return_exceptions=True)
    made = [r for r, t in zip(made, joining, strict=True)
            if not t.cancelled() and t.exception() is None]
    groups = [t.result() for t in joining if not t.cancelled() and t.exception() is None]
    setup_s = time.perf_counter() - t_setup
    streams = [asyncio.create_task(follow(p, r.id, fig))
               for r, group in zip(made, groups, strict=True) for p in group]
    everyone = len(streams)
    await until(lambda: fig.streams_open + sum(fig.errors[k] for k in fig.errors
                                                if k.startswith("stream")) >= everyone,
                [], WAIT)
    pids = processes(server_pid)
    before = {pid: usage(pid)[0] for pid in pids}
    db_before = sum(usage(pid)[0] for pid in processes(db_pid)) if db_pid else 0.0
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    walks = [asyncio.create_task(walk(r, questions, fig)) for r in made]
    done, pending = await asyncio.wait(walks, timeout=max_seconds)
    wall = time.perf_counter() - t0
    for t in pending:
        t.cancel()
        fig.errors["room still walking at the time limit"] += 1
    for t in done:
        if t.exception() is not None:
            fig.errors[f"room failed: {type(t.exception()).__name__}"] += 1
    per_process = []
    for pid in pids:
        cpu, peak = usage(pid)
        per_process.append({"pid": pid, "cpu_s": round(cpu - before.get(pid, 0.0), 2),
                            "cpu_pct": round(100 * (cpu - before.get(pid, 0.0)) / wall, 1),
                            "peak_rss_mib": round(peak, 1)})
    # the database's processes (its backends come and go: those alive now, from their start)
    db_cpu = sum(usage(pid)[0] for pid in processes(db_pid)) - db_before if db_pid else None
    me = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (me.ru_utime - self_before.ru_utime) + (me.ru_stime - self_before.ru_stime)
    for t in streams:
        t.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    await transport.aclose()
    return {
        "streams": everyone, "streams_max_open": fig.streams_max,
        "setup_s": round(setup_s, 1), "walk_s": round(wall, 1),
        "questions_done": fig.questions_done, "votes": fig.votes, "lost_votes": fig.lost_votes,
        "counted_unacknowledged": fig.unacknowledged,
        "server_cpu_s_per_question": round(sum(p["cpu_s"] for p in per_process)
                                           / max(1, fig.questions_done), 3),
        "errors": dict(fig.errors), "error_count": sum(fig.errors.values()),
        "close_seen_ms": {f"p{p}": pct(fig.close_seen_ms, p) for p in (50, 95, 99)}
        | {"max": pct(fig.close_seen_ms, 100)},
        "close_page_ms": {f"p{p}": pct(fig.close_page_ms, p) for p in (50, 95, 99)}
        | {"max": pct(fig.close_page_ms, 100)},
        "post_ms": {f"p{p}": pct(fig.post_ms, p) for p in (50, 95, 99)}
        | {"n": len(fig.post_ms)},
        "server_processes": per_process,
        "database_cpu_pct": round(100 * db_cpu / wall, 1) if db_cpu is not None else None,
        "client_cpu_pct": round(100 * client_cpu / wall, 1),
        "client_peak_rss_mib": round(me.ru_maxrss / 1024, 1),
        "median_close_seen_ms": round(statistics.median(fig.close_seen_ms), 1)
        if fig.close_seen_ms else None,
    }


def report(out: dict[str, Any]) -> str:
    """The run in a few lines."""
    procs = "; ".join(f"pid {p['pid']}: {p['cpu_pct']}% CPU, peak {p['peak_rss_mib']} MiB"
                      for p in out["server_processes"])
    s, pg, po = out["close_seen_ms"], out["close_page_ms"], out["post_ms"]
    return "\n".join([
        f"live load: {out['rooms']} rooms x {out['members']} members + facilitator and "
        f"projector ({out['streams']} streams, {out['streams_max_open']} open at most), "
        f"{out['questions']} questions, {out['database']}, {out['workers']} worker(s)",
        f"close -> last member's stream: p50 {s['p50']} ms, p95 {s['p95']} ms, "
        f"p99 {s['p99']} ms, max {s['max']} ms",
        f"close -> last member's page: p50 {pg['p50']} ms, p95 {pg['p95']} ms, "
        f"p99 {pg['p99']} ms, max {pg['max']} ms",
        f"posts: p50 {po['p50']} ms, p95 {po['p95']} ms, p99 {po['p99']} ms ({po['n']})",
        f"server: {procs}; client: {out['client_cpu_pct']}% CPU, peak "
        f"{out['client_peak_rss_mib']} MiB"
        + (f"; PostgreSQL: {out['database_cpu_pct']}% CPU" if out.get("database_cpu_pct")
           is not None else ""),
        f"questions done {out['questions_done']}/{out['rooms'] * out['questions']} "
        f"(server CPU {out['server_cpu_s_per_question']} s each), votes {out['votes']}, "
        f"lost votes {out['lost_votes']}, errors {out['error_count']} "
        f"{out['errors'] or ''}; walk {out['walk_s']} s after {out['setup_s']} s of joining",
    ])


def with_temp_postgres(a: argparse.Namespace) -> dict[str, Any]:
    """The run against a PostgreSQL started for it (tests/live/pg.py) and stopped after."""
    try:
        from tests.live.pg import start_postgres
    except ImportError as e:
        raise SystemExit(f"--temp-postgres needs the test extra and the checkout's tests: "
                         f"{e}") from None
    try:
        pg = start_postgres()
    except BaseException as e:  # pytest's skip when no server is installed
        raise SystemExit(f"--temp-postgres: {e}") from None
    try:
        postmaster = int((pg.folder / "data" / "postmaster.pid").read_text().split()[0])
        out = run(a.rooms, a.members, a.questions, pg.new_database(), a.workers, a.max_seconds,
                  postmaster)
        out["database"] = "postgresql (temporary, fsync off)"
        return out
    finally:
        pg.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """The command line: one run, printed (and written as JSON with --json)."""
    ap = argparse.ArgumentParser(prog="python -m bench.live_load", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms", type=int, default=50)
    ap.add_argument("--members", type=int, default=15)
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--database", help="sqlite:///PATH or postgresql://... (default: a "
                    "temporary SQLite file)")
    ap.add_argument("--temp-postgres", action="store_true", help="start a PostgreSQL of "
                    "its own for the run (Debian's server, as the tests do; fsync off)")
    ap.add_argument("--workers", type=int, default=1, help="server processes (more than one "
                    "needs Postgres)")
    ap.add_argument("--max-seconds", type=float, default=300.0,
                    help="the walk stops after this long, finished or not")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args(argv)
    if a.temp_postgres:
        out = with_temp_postgres(a)
    else:
        out = run(a.rooms, a.members, a.questions, a.database, a.workers, a.max_seconds)
    print(report(out))
    if a.json:
        a.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
