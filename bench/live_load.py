"""The live room under load: `python -m bench.live_load` (`make bench-live-load`).

R rooms of M members, each room with a facilitator and a projector, every one of them holding
an event stream to a real `decision-map serve` process on loopback, as browsers do. Each room
walks Q questions: the facilitator opens the vote, every member votes as soon as their
stream shows it open, the facilitator closes it once the stream shows every vote in, and
accepts once every member has seen the close. A member refetches their page whenever the
room's phase, round or step changes (what live.js does).

That is the room at full speed (the default, `--pace 0`): throughput at saturation, not a
meeting. `--pace SECONDS` walks each room at a meeting's pace instead: the rooms start spread
over one pace period, each member votes at a random moment of min(pace/2, 10) s after their
page shows the vote, and the facilitator, once the votes are in and the close is seen, waits
a reading pause so that a room's question takes about the pace (times drawn from `--seed`,
so runs repeat). The report says which of the two it measured, and the offered load (rooms /
pace closes a second) beside the closes a second it got.

The people are spread over --clients processes (bench/live_clients.py), the rooms split
among them: one process was the limit at 850 streams. Every process joins its rooms and
opens its streams first; the walk starts in all of them at once on the parent's signal, so
the CPU the parent measures covers the walk only.

It reports the time from the facilitator's close post to the last member's stream showing
the close (and to the last member's page fetched after it), post latency, CPU and memory of
each server process and of each client process, CPU seconds per question on both sides,
errors and lost votes (votes posted but missing from the closed count). Every loop is
bounded in count, every wait in time, and the whole run stops itself after --max-seconds.
The clients share this machine's cores with the server: the figures are as measured on this
machine, not a capacity.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import queue
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.live_clients import (
    PACE_JITTER,
    SETUP_CONCURRENCY,
    SETUP_SECONDS,
    WAIT,
    Figures,
    Pace,
    RoomLinks,
    client_process,
)

START_TIMEOUT = 60.0  # seconds for the server to answer /healthz
SPAWN_SECONDS = 60.0  # seconds for a client process to start (imports) before it joins
STOP_SECONDS = 30.0  # seconds the client processes have to end after the walk
MAX_ROOMS, MAX_MEMBERS, MAX_QUESTIONS, MAX_CLIENTS = 500, 100, 50, 32
# Two client processes by default: on this 2-core machine one process was the limit (99 % of
# a core) while the server used a quarter of the other, and a second process lets the load
# use both cores; more processes than cores only take turns on them (--clients for more
# cores, or to see that the client is no longer the limit).
CLIENTS = 2
MAX_PACE = 600.0  # seconds a paced question may take on average
SEED = 15  # the paced walks' times are drawn from this unless --seed says otherwise
RUN_SECONDS = 300.0  # the walk's limit at full speed; a paced walk adds its pace's time


def walk_limit(pace: float, questions: int) -> float:
    """The default --max-seconds: the unpaced limit plus what the pace adds at most (the
    rooms' stagger of one period and each question's longest paced length)."""
    return RUN_SECONDS + pace * (1 + questions * (1 + PACE_JITTER))


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


def pct(xs: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of `xs`, None when empty."""
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))], 1)


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


def tree_cpu(root: int) -> float:
    """CPU seconds of a process tree, its exited members included: each living process's
    own time and its reaped children's (a database's backends come and go during a run;
    counting only the living ones made the difference negative)."""
    total = 0.0
    for pid in processes(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in stat[11:15]) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def start_server(url: str, port: int, workers: int, map_path: Path, secret: str
                 ) -> subprocess.Popen[str]:
    """`decision-map serve` as users run it, on the database the rooms were opened in."""
    cmd = [sys.executable, "-m", "decision_map", "serve", str(map_path), "--group", "Ana, Ben",
           "--port", str(port), "--database", url]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    # The limits (live/limits.py) are the defaults a meeting has: each room's people connect
    # from an address of their own room's (live_clients.venue_address), as from a venue.
    env = {**os.environ, "DECISION_MAP_SECRET": secret, "DECISION_MAP_LOG_LEVEL": "warning"}
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
        workers: int = 1, max_seconds: float | None = None, db_pid: int | None = None,
        clients: int = CLIENTS, pace: float = 0.0, seed: int = SEED) -> dict[str, Any]:
    """One load run; the figures as a dict (see `report`). `max_seconds` None is
    `walk_limit(pace, questions)`."""
    if not (1 <= rooms <= MAX_ROOMS and 1 <= members <= MAX_MEMBERS
            and 1 <= questions <= MAX_QUESTIONS and 1 <= clients <= MAX_CLIENTS
            and 0 <= pace <= MAX_PACE):
        raise SystemExit(f"rooms 1-{MAX_ROOMS}, members 1-{MAX_MEMBERS}, questions "
                         f"1-{MAX_QUESTIONS}, clients 1-{MAX_CLIENTS}, pace 0-{MAX_PACE:g} s")
    if max_seconds is None:
        max_seconds = walk_limit(pace, questions)
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
        for number in range(rooms):
            ln = open_room(store, dm, names, base)
            made.append(RoomLinks(ln.room, ln.code, ln.facilitator, ln.projector, number))
        store.engine.dispose()
        proc = start_server(url, port, workers, map_path, secrets.token_hex(32))
        try:
            wait_healthy(base, proc)
            out = drive(made, base, names, questions, proc.pid, max_seconds, db_pid,
                        min(clients, rooms), Pace(pace, seed))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    out.update(rooms=rooms, members=members, questions=questions, workers=workers,
               database=url.split(":", 1)[0], max_seconds=max_seconds, pace_s=pace,
               seed=seed if pace > 0 else None,
               offered_closes_per_s=round(rooms / pace, 2) if pace > 0 else None,
               mode="paced" if pace > 0 else "saturated (as fast as possible)")
    return out


class Clients:
    """The client processes of a run, seen from the parent: started (spawned), their
    messages received with a deadline, and ended whatever state they are in."""

    def __init__(self, shares: list[list[RoomLinks]], base: str, names: list[str],
                 questions: int, max_seconds: float, start_wait: float,
                 target: Callable[..., None] = client_process, pace: Pace = Pace()) -> None:
        ctx = multiprocessing.get_context("spawn")  # no copy of the parent's state or loop
        self.shares = shares
        self.inbox: Any = ctx.Queue()
        self.go: Any = ctx.Event()
        gate = max(1, SETUP_CONCURRENCY // len(shares))  # the same joins at once in all
        self.procs = [ctx.Process(target=target, name=f"live-load-client-{i}",
                                  daemon=True, args=(i, share, base, names, questions,
                                                     max_seconds, gate, self.inbox, self.go,
                                                     start_wait, pace))
                      for i, share in enumerate(shares)]
        self.got: dict[str, dict[int, Any]] = {"ready": {}, "done": {}}
        self.failed: dict[int, str] = {}

    def start(self) -> None:
        """Every client process started."""
        for p in self.procs:
            p.start()

    def receive(self, kind: str, waiting: set[int], seconds: float) -> None:
        """Messages until every process in `waiting` sent `kind`, failed or died, or
        `seconds` passed (a process that exited with nothing more on the queue died)."""
        deadline = time.monotonic() + seconds
        exited: set[int] = set()
        waiting = waiting - set(self.failed) - set(self.got[kind])
        while waiting and (left := deadline - time.monotonic()) > 0:
            try:
                what, i, body = self.inbox.get(timeout=min(left, 0.5))
            except queue.Empty:
                for i in sorted(waiting):
                    if self.procs[i].exitcode is not None:
                        if i in exited:  # a second empty look after its exit
                            self.failed[i] = f"exited with code {self.procs[i].exitcode}"
                            waiting.discard(i)
                        exited.add(i)
                continue
            if what == "failed":
                self.failed.setdefault(i, body)
            else:
                self.got.setdefault(what, {})[i] = body
            if what in (kind, "failed"):
                waiting.discard(i)

    def stop(self, seconds: float = STOP_SECONDS) -> None:
        """Every process ended: given `seconds` to close its streams, then terminated,
        then killed (the queue drained meanwhile, so none blocks on a full pipe)."""
        deadline = time.monotonic() + seconds
        while any(p.is_alive() for p in self.procs) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty, OSError, EOFError):
                while True:
                    self.inbox.get_nowait()
            for p in self.procs:
                p.join(0.1)
        for p in self.procs:
            if p.is_alive():
                p.terminate()
                p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)
        self.inbox.close()


def drive(made: list[RoomLinks], base: str, names: list[str], questions: int,
          server_pid: int, max_seconds: float, db_pid: int | None = None,
          clients: int = CLIENTS, pace: Pace = Pace()) -> dict[str, Any]:
    """Join everyone and open every stream in `clients` processes, then walk every room at
    once (or at `pace`); the figures, merged over the processes."""
    shares = [s for s in (made[i::clients] for i in range(clients)) if s]
    ready_seconds = SPAWN_SECONDS + SETUP_SECONDS + WAIT
    cl = Clients(shares, base, names, questions, max_seconds, ready_seconds + WAIT,
                 pace=pace)
    fig = Figures()
    try:
        t_setup = time.perf_counter()
        cl.start()
        everyone = set(range(len(shares)))
        cl.receive("ready", everyone, ready_seconds)
        setup_s = time.perf_counter() - t_setup
        for i in sorted(everyone - set(cl.got["ready"]) - set(cl.failed)):
            cl.failed[i] = "not ready in time"
            cl.procs[i].terminate()
        walking = set(cl.got["ready"]) - set(cl.failed)
        pids = processes(server_pid)
        before = {pid: usage(pid)[0] for pid in pids}
        db_before = tree_cpu(db_pid) if db_pid else 0.0
        t0 = time.perf_counter()
        cl.go.set()
        cl.receive("done", walking, max_seconds + 2 * WAIT)
        wall = time.perf_counter() - t0
        per_process = []
        for pid in pids:
            cpu, peak = usage(pid)
            per_process.append({"pid": pid, "cpu_s": round(cpu - before.get(pid, 0.0), 2),
                                "cpu_pct": round(100 * (cpu - before.get(pid, 0.0)) / wall, 1),
                                "peak_rss_mib": round(peak, 1)})
        db_cpu = tree_cpu(db_pid) - db_before if db_pid else None
        for i in sorted(walking - set(cl.got["done"]) - set(cl.failed)):
            cl.failed[i] = "no figures in time"
    finally:
        cl.stop()
    done = cl.got["done"]
    for i in sorted(done):
        fig.add(done[i]["figures"])
    for i, why in sorted(cl.failed.items()):
        if i not in done:
            fig.errors[f"client process {i}: {why}"] += 1
            fig.errors["rooms of a failed client process"] += len(shares[i])
    client_cpu = sum(d["cpu_s"] for d in done.values())
    per_client = [{"index": i, "rooms": len(shares[i]), "streams": done[i]["streams"],
                   "cpu_s": round(done[i]["cpu_s"], 2),
                   "cpu_pct": round(100 * done[i]["cpu_s"] / wall, 1),
                   "walk_s": round(done[i]["walk_s"], 1),
                   "peak_rss_mib": round(done[i]["peak_rss_mib"], 1)} for i in sorted(done)]
    server_cpu = sum(p["cpu_s"] for p in per_process)
    questions_done = max(1, fig.questions_done)
    return {
        "streams": sum(r["streams"] for r in cl.got["ready"].values()),
        "streams_max_open": fig.streams_max,
        "setup_s": round(setup_s, 1), "walk_s": round(wall, 1),
        "questions_done": fig.questions_done, "votes": fig.votes, "lost_votes": fig.lost_votes,
        "counted_unacknowledged": fig.unacknowledged,
        "server_cpu_s_per_question": round(server_cpu / questions_done, 3),
        "client_cpu_s_per_question": round(client_cpu / questions_done, 3),
        "database_cpu_s_per_question": round(db_cpu / questions_done, 3)
        if db_cpu is not None else None,
        "errors": dict(fig.errors), "error_count": sum(fig.errors.values()),
        "close_seen_ms": {f"p{p}": pct(fig.close_seen_ms, p) for p in (50, 95, 99)}
        | {"max": pct(fig.close_seen_ms, 100)},
        "close_page_ms": {f"p{p}": pct(fig.close_page_ms, p) for p in (50, 95, 99)}
        | {"max": pct(fig.close_page_ms, 100)},
        "post_ms": {f"p{p}": pct(fig.post_ms, p) for p in (50, 95, 99)}
        | {"n": len(fig.post_ms)},
        "closes_per_s": round(fig.questions_done / wall, 2) if wall > 0 else None,
        "vote_spread_ms": {"p5": pct(fig.vote_spread_ms, 5), "p50": pct(fig.vote_spread_ms, 50),
                           "max": pct(fig.vote_spread_ms, 100), "n": len(fig.vote_spread_ms)},
        "question_gap_s": {"mean": round(statistics.fmean(fig.question_gap_s), 2)
                           if fig.question_gap_s else None,
                           "p5": pct(fig.question_gap_s, 5),
                           "max": pct(fig.question_gap_s, 100), "n": len(fig.question_gap_s)},
        "room_walk_s": {"p50": pct(fig.room_walk_s, 50), "max": pct(fig.room_walk_s, 100),
                        "n": len(fig.room_walk_s)},
        "server_processes": per_process,
        "database_cpu_pct": round(100 * db_cpu / wall, 1) if db_cpu is not None else None,
        "clients": len(shares),
        "client_processes": per_client,
        "client_cpu_pct": round(100 * client_cpu / wall, 1),
        "client_peak_rss_mib": max((c["peak_rss_mib"] for c in per_client), default=0.0),
        "median_close_seen_ms": round(statistics.median(fig.close_seen_ms), 1)
        if fig.close_seen_ms else None,
    }


def report(out: dict[str, Any]) -> str:
    """The run in a few lines."""
    procs = "; ".join(f"pid {p['pid']}: {p['cpu_pct']}% CPU, peak {p['peak_rss_mib']} MiB"
                      for p in out["server_processes"])
    clients = "; ".join(f"{c['rooms']} rooms: {c['cpu_pct']}% CPU, peak {c['peak_rss_mib']} "
                        f"MiB" for c in out["client_processes"])
    s, pg, po, rw = (out["close_seen_ms"], out["close_page_ms"], out["post_ms"],
                     out["room_walk_s"])
    vs, gap = out["vote_spread_ms"], out["question_gap_s"]
    if out["pace_s"] > 0:
        pace = (f"PACED at a question every ~{out['pace_s']:g} s a room (seed {out['seed']}): "
                f"offered {out['offered_closes_per_s']} closes/s over {out['rooms']} rooms, "
                f"got {out['closes_per_s']} closes/s over the whole walk (its start "
                f"staggered); a room's question every "
                f"{gap['mean']} s on average (min {gap['p5']} at p5); a round's votes sent over "
                f"{vs['p50']} ms at p50 ({vs['p5']} ms at p5)")
    else:
        pace = (f"SATURATED: no pace, every room as fast as it can (throughput, not a "
                f"meeting): {out['closes_per_s']} closes/s over the walk")
    return "\n".join([
        pace,
        f"live load: {out['rooms']} rooms x {out['members']} members + facilitator and "
        f"projector ({out['streams']} streams, {out['streams_max_open']} open at most), "
        f"{out['questions']} questions, {out['database']}, {out['workers']} worker(s), "
        f"{out['clients']} client process(es)",
        f"close -> last member's stream: p50 {s['p50']} ms, p95 {s['p95']} ms, "
        f"p99 {s['p99']} ms, max {s['max']} ms",
        f"close -> last member's page: p50 {pg['p50']} ms, p95 {pg['p95']} ms, "
        f"p99 {pg['p99']} ms, max {pg['max']} ms",
        f"posts: p50 {po['p50']} ms, p95 {po['p95']} ms, p99 {po['p99']} ms ({po['n']})",
        f"a room's walk: p50 {rw['p50']} s, max {rw['max']} s ({rw['n']} rooms finished)",
        f"server: {procs}"
        + (f"; PostgreSQL: {out['database_cpu_pct']}% CPU" if out.get("database_cpu_pct")
           is not None else ""),
        f"clients: {clients} (CPU as a share of one core over the walk)",
        f"CPU seconds per question: server {out['server_cpu_s_per_question']}, client "
        f"{out['client_cpu_s_per_question']}"
        + (f", PostgreSQL {out['database_cpu_s_per_question']}"
           if out.get("database_cpu_s_per_question") is not None else ""),
        f"questions done {out['questions_done']}/{out['rooms'] * out['questions']}, "
        f"votes {out['votes']}, lost votes {out['lost_votes']}, errors {out['error_count']} "
        f"{out['errors'] or ''}; walk {out['walk_s']} s (limit {out['max_seconds']:g} s) "
        f"after {out['setup_s']} s of joining",
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
                  postmaster, a.clients, a.pace, a.seed)
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
    ap.add_argument("--clients", type=int, default=CLIENTS, help="client processes the "
                    f"rooms are split among (default {CLIENTS}: see CLIENTS in the source)")
    ap.add_argument("--pace", type=float, default=0.0, help="seconds a room's question "
                    "takes on average, as in a meeting (default 0: as fast as possible, the "
                    f"saturated throughput; at most {MAX_PACE:g})")
    ap.add_argument("--seed", type=int, default=SEED, help="the paced walks' random times "
                    f"come from this (default {SEED}: runs repeat)")
    ap.add_argument("--max-seconds", type=float, help="the walk stops after this long, "
                    f"finished or not (default {RUN_SECONDS:g} s + pace x (1 + questions x "
                    f"{1 + PACE_JITTER:g}))")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args(argv)
    if a.temp_postgres:
        out = with_temp_postgres(a)
    else:
        out = run(a.rooms, a.members, a.questions, a.database, a.workers, a.max_seconds,
                  clients=a.clients, pace=a.pace, seed=a.seed)
    print(report(out))
    if a.json:
        a.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
