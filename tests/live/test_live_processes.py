"""Several server processes on one real PostgreSQL: members on one process and the
facilitator on another walk to an outcome; a killed LISTEN connection heals within one
heartbeat; a process killed mid-vote loses no vote it acknowledged; two facilitators in two
processes pressing the same button get one close, and the other is told who closed it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")

from decision_map_live.app import HEARTBEAT  # noqa: E402
from decision_map_live.bus import LISTEN_APP  # noqa: E402
from decision_map_live.server import open_room  # noqa: E402
from decision_map_live.store import Store, upgrade  # noqa: E402

from decision_map.io.loader import load_map  # noqa: E402
from tests.live.conftest import (  # noqa: E402
    COALITION,
    GROUP,
    PLAN,
    TIMEOUT,
    Client,
    Links,
    Room,
    Running,
    free_port,
)

START_LIMIT = 30.0  # seconds for a server process to answer
STOP_LIMIT = 15.0  # seconds for a server process to stop after SIGTERM
# The coalition map to its end: consent at red-lines, then at-the-table "no" gives not-now.
TO_THE_END = {**PLAN, "red-lines": "agree"}
SECRET = "0" * 64  # the processes share one signing key (as DECISION_MAP_SECRET does when hosted)
SERVE = ("import sys; from decision_map_live.server import run_workers; "
         "run_workers(sys.argv[1], '127.0.0.1', int(sys.argv[2]), int(sys.argv[3]))")


@dataclass
class Process:
    """One server process (or a supervisor of several) on a port."""

    popen: subprocess.Popen[bytes]
    base: str
    log: Path

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=STOP_LIMIT)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=STOP_LIMIT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=STOP_LIMIT)
                raise AssertionError(f"the server did not stop within {STOP_LIMIT} s") from None


def wait_until_up(base: str, popen: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_LIMIT
    while True:
        assert popen.poll() is None, f"the server process ended: {log.read_text()[-2000:]}"
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"no answer in {START_LIMIT} s: {log.read_text()}"
        time.sleep(0.1)


class Spawner:
    """Starts server processes on a database, and stops them all at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.started = folder, []

    def __call__(self, url: str, workers: int = 1, env: dict[str, str] | None = None
                 ) -> Process:
        port = free_port()
        log = self.folder / f"server-{port}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port),
                                      str(workers)], stdout=out, stderr=subprocess.STDOUT,
                                     env={**os.environ, "DECISION_MAP_SECRET": SECRET,
                                          **(env or {})})
        p = Process(popen, f"http://127.0.0.1:{port}", log)
        self.started.append(p)
        wait_until_up(p.base, popen, log)
        return p

    def stop(self) -> None:
        for p in self.started:
            p.stop()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Spawner]:
    """Start server processes of this test's own."""
    spawn = Spawner(tmp_path)
    yield spawn
    spawn.stop()


@pytest.fixture(scope="module")
def pair(postgres, tmp_path_factory) -> Iterator[tuple[str, Process, Process]]:
    """One migrated database served by two processes, A and B, shared by the tests that
    leave both running (each test opens its own room). Starting a process costs seconds."""
    url = postgres.new_database()
    upgrade(url)
    spawn = Spawner(tmp_path_factory.mktemp("pair"))
    a, b = spawn(url), spawn(url)
    yield url, a, b
    spawn.stop()


def links_on(links: Links, base: str) -> Links:
    """The room's links as served from another process."""
    def on(u: str) -> str:
        return base + u[u.index("/", len("http://")):]
    return Links(links.room, on(links.facilitator), on(links.projector), on(links.join),
                 links.code)


def new_room(url: str) -> Links:
    """A room for the coalition map and five members in the (migrated) database."""
    store = Store(url)
    links = open_room(store, load_map(COALITION), list(GROUP), "http://opened.invalid")
    store.engine.dispose()
    return links


@pytest.fixture
def pg_room(pg_url: str) -> tuple[str, Links]:
    """A database of this test's own, migrated, with a room."""
    upgrade(pg_url)
    return pg_url, new_room(pg_url)


def split_room(a: Process, b: Process, links: Links) -> Room:
    """The members (and the projector) on process A, the facilitator on process B."""
    room = Room(Running(a.base, links_on(links, a.base), "", lambda: None))
    room.fac = Client(b.base)
    room.people.append(room.fac)
    room.fac.get(links_on(links, b.base).facilitator)
    return room


class Stream:
    """One member's event stream, read in a thread: the seqs it saw. Bounded: the read
    waits at most a heartbeat and a margin, and the thread ends with its server."""

    def __init__(self, base: str, cookies: httpx.Cookies, path: str) -> None:
        self.http = httpx.Client(base_url=base, cookies=cookies,
                                 timeout=httpx.Timeout(TIMEOUT, read=HEARTBEAT + 10))
        self.path, self.seqs = path, []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            with self.http.stream("GET", self.path) as s:
                for line in s.iter_lines():
                    if line.startswith("id: "):
                        with self.cond:
                            self.seqs.append(int(line[4:]))
                            self.cond.notify_all()
        except httpx.HTTPError:
            pass

    def wait_for(self, seq: int, limit: float) -> float:
        """Seconds until the stream showed `seq` or later (fails after `limit`)."""
        t0 = time.monotonic()
        with self.cond:
            while not (self.seqs and self.seqs[-1] >= seq):
                left = limit - (time.monotonic() - t0)
                assert left > 0, f"the stream is at {self.seqs[-1:]} after {limit} s, not {seq}"
                self.cond.wait(left)
        return time.monotonic() - t0

    def close(self) -> None:
        self.http.close()


def streams_of(room: Room, base: str) -> list[Stream]:
    out = [Stream(base, room.members[n].http.cookies, f"/r/{room.id}/events") for n in GROUP]
    seq = room.fac.get(f"/r/{room.id}/state").json()["seq"]
    for s in out:
        s.wait_for(seq, TIMEOUT)
    return out


def listeners(postgres, url: str, terminate: bool = False) -> list[int]:
    """The LISTEN connections' backends on the database (ended first when told)."""
    db = url.rsplit("/", 1)[1]
    what = "pg_terminate_backend(pid)" if terminate else "pid"
    return [r[0] for r in postgres.sql(
        f"SELECT {what} FROM pg_stat_activity WHERE application_name = "
        f"'{LISTEN_APP}' AND datname = '{db}'")]


def test_members_on_one_process_and_the_facilitator_on_another_walk_to_an_outcome(
        pair):
    url, a, b = pair
    links = new_room(url)
    room = split_room(a, b, links)
    streams = streams_of(room, a.base)
    try:
        page = room.act("open")  # on B; the members' streams on A hear it through NOTIFY
        seq = room.fac.get(f"/r/{room.id}/state").json()["seq"]
        waits = [s.wait_for(seq, HEARTBEAT) for s in streams]
        assert max(waits) < 2.0, f"a NOTIFY took {max(waits):.2f} s to reach a stream"
        assert "voted" in page or "vote" in page.lower()
        for n in GROUP:  # on A
            room.vote(n, value=PLAN["shared-goal"])
        closed = room.act("close")  # on B: it counts the ballots written through A
        assert "If you accept: This leads to the question" in closed
        room.act("accept")
        room.walk_to(None, TO_THE_END)
        end = room.members["Tom"].get(f"/r/{room.id}/report")
        assert end.status_code == 200 and "Not now" in end.text
        assert "Not now" in room.proj.get(f"/r/{room.id}/projector").text
    finally:
        for s in streams:
            s.close()


def test_a_killed_listen_connection_heals_and_every_stream_catches_up(
        pair, postgres):
    url, a, b = pair
    links = new_room(url)
    room = split_room(a, b, links)
    streams = streams_of(room, a.base)
    try:
        before = listeners(postgres, url)
        assert len(before) == 2, "each process holds one LISTEN connection"
        killed = listeners(postgres, url, terminate=True)
        assert killed == [True, True]
        room.act("open")  # written while the listeners are down: its NOTIFY may be lost
        seq = room.fac.get(f"/r/{room.id}/state").json()["seq"]
        waits = [s.wait_for(seq, HEARTBEAT) for s in streams]
        # within one heartbeat; in practice the reconnect's resync is much sooner
        assert max(waits) < HEARTBEAT
        deadline = time.monotonic() + 10
        while len(after := listeners(postgres, url)) < 2:
            assert time.monotonic() < deadline, "the LISTEN connections did not come back"
            time.sleep(0.1)
        assert not set(after) & set(before)
        room.vote("Rosa", value="yes")  # and the hints flow again after the reconnect
        seq = room.fac.get(f"/r/{room.id}/state").json()["seq"]
        assert max(s.wait_for(seq, HEARTBEAT) for s in streams) < 2.0
    finally:
        for s in streams:
            s.close()


def test_a_process_killed_mid_vote_loses_no_acknowledged_vote(pair, processes):
    url, _, b = pair
    links = new_room(url)
    a = processes(url)  # this test's own process A, killed below
    room = split_room(a, b, links)
    room.act("open")
    for n in GROUP[:3]:  # acknowledged by A (the redirect to the member's page)
        room.vote(n, value="yes")
    a.kill()  # SIGKILL: no shutdown, no flush
    state = room.fac.get(f"/r/{room.id}/state").json()  # B never saw A's memory
    assert state["voted"] == 3 and state["who"] == GROUP[:3]
    a2 = processes(url)  # the members come back through a new process
    for m in room.members.values():
        m.http.base_url = a2.base
    for n in GROUP[:3]:
        page = room.members[n].get(f"/r/{room.id}/me").text
        assert re.search(r"You (voted|said)|your vote", page, re.I), page[:2000]
    for n in GROUP[3:]:
        room.vote(n, value="yes")
    closed = room.act("close")
    assert "If you accept: This leads to the question" in closed
    assert room.fac.get(f"/r/{room.id}/state").json()["voted"] == len(GROUP)


def test_two_facilitators_in_two_processes_close_once_and_the_other_is_told(
        pair):
    url, a, b = pair
    links = new_room(url)
    room = split_room(a, b, links)
    other = Client(a.base)  # a second facilitator device, on process A
    room.people.append(other)
    other.get(links_on(links, a.base).facilitator)
    names = ("Ben", "Zoë")  # each gives a name, for the other to be told who came first
    for f, name in zip((room.fac, other), names, strict=True):
        f.post(f"/r/{room.id}/name", {"name": name}, page=f"/r/{room.id}/facilitate")
    room.act("open")
    for n in GROUP:
        room.vote(n, value="yes")
    pages = [f.get(f"/r/{room.id}/facilitate").text for f in (room.fac, other)]
    forms = [{"action": "close", "csrf": re.search(r'name="csrf" value="(\w+)"', p).group(1),
              "at": re.search(r'name="at" value="([\w-]+)"', p).group(1)} for p in pages]
    results: list[httpx.Response] = [None, None]  # type: ignore[list-item]
    go = threading.Barrier(2, timeout=TIMEOUT)

    def press(i: int, who: Client) -> None:
        go.wait()
        results[i] = who.http.post(f"/r/{room.id}/act", data=forms[i])

    threads = [threading.Thread(target=press, args=(i, f))
               for i, f in enumerate((room.fac, other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    lost = [i for i, r in enumerate(results) if "moved=" in str(r.url)]
    assert len(lost) == 1, [str(r.url) for r in results]
    loser, winner = results[lost[0]], names[1 - lost[0]]
    assert (f"The vote was already closed by {winner}; this page shows the room as it is "
            "now.") in loser.text
    assert "If you accept: This leads to the question" in loser.text  # the refreshed page
    store = Store(url)
    kinds = [e.kind for e in store.events(room.id)]
    store.engine.dispose()
    assert kinds.count("vote_closed") == 1


def test_a_client_alternating_between_two_processes_is_refused_at_the_stated_limit(
        pg_room, processes):
    """DECISION_MAP_LIMIT_* are an address's limits on the whole service, not per process:
    posts alternating between A and B get 10 through, not 20; wrong join codes 3, not 6."""
    url, links = pg_room
    limit = {"DECISION_MAP_LIMIT_POSTS_IP": "10/600",  # one token back a minute: none here
             "DECISION_MAP_LIMIT_CODE_TRIES_IP": "3/600"}
    a, b = processes(url, env=limit), processes(url, env=limit)
    statuses = []
    with httpx.Client(timeout=TIMEOUT) as http:
        # a right join code never counts, on either process (its token is given back) ...
        for i in range(6):
            assert http.get(f"{(a, b)[i % 2].base}/j/{links.code}").status_code == 303
        # ... and three wrong ones, between the two, are all an address gets
        tries = [http.get(f"{(a, b)[i % 2].base}/j/AAAAAA").status_code for i in range(5)]
        assert tries == [404, 404, 404, 429, 429], tries
        for i in range(20):
            base = (a, b)[i % 2].base
            r = http.post(f"{base}/r/{links.room}/vote", data={"value": "yes"})
            statuses.append((i % 2, r.status_code))
            if r.status_code == 429:
                assert "too many posts from here" in r.text
    through = [s for s in statuses if s[1] != 429]
    assert len(through) == 10, statuses
    assert statuses[10:] == [(i % 2, 429) for i in range(10, 20)]  # both processes refuse


def test_serve_with_two_workers_serves_a_room_to_its_end_and_logs_json_only(
        postgres, tmp_path):
    """`serve --workers 2` on Postgres, walked to an outcome at log level info: every line
    on stderr, the supervisor's and both workers', is one JSON object; uvicorn's lines keep
    their numbers; no member's name, words or key is in any of them."""
    url = postgres.new_database().replace("postgresql+psycopg://", "postgresql://")
    exe = [sys.executable, "-m", "decision_map"]
    r = subprocess.run([*exe, "db", "upgrade", "--database", url], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        popen = subprocess.Popen(
            [*exe, "serve", str(COALITION), "--group", ", ".join(GROUP), "--port", str(port),
             "--database", url, "--workers", "2"], stdout=subprocess.PIPE, stderr=err,
            text=True, env={**os.environ, "DECISION_MAP_SECRET": SECRET,
                            "DECISION_MAP_LOG_LEVEL": "info"})
    proc = Process(popen, f"http://127.0.0.1:{port}", log)  # type: ignore[arg-type]
    try:
        lines = [popen.stdout.readline() for _ in range(3)]
        fac = lines[0].split()[1]
        proj = lines[1].split()[1]
        join = lines[2].split()[1]
        code = lines[2].split("(code ")[1].rstrip(")\n")
        wait_until_up(proc.base, popen, log)  # type: ignore[arg-type]
        deadline = time.monotonic() + START_LIMIT  # the second worker may start later
        while len(listeners(postgres, url)) < 2:
            assert time.monotonic() < deadline, "each worker holds one LISTEN connection"
            time.sleep(0.1)
        room_id = fac.split("/r/")[1].split("/")[0]
        room = Room(Running(proc.base, Links(room_id, fac, proj, join, code), url,
                            lambda: None))
        room.step(room.everyone("no"))  # shared-goal "no": on towards not-now
        room.walk_to(None, {})  # what would reopen it (one sentence), then the end
        assert "Not now" in room.members["Rosa"].get(f"/r/{room.id}/report").text
        for c in room.people:
            c.close()
    finally:
        proc.stop()
    text = log.read_text()
    # every line is one JSON object, but for what a C library writes to stderr itself
    # (Graphviz's fontconfig warns about this machine's font set-up while drawing)
    lines = [x for x in text.splitlines() if not x.startswith("Fontconfig ")]
    for x in lines:
        try:
            json.loads(x)
        except ValueError:
            raise AssertionError(f"not a JSON line: {x!r}") from None
    events = [json.loads(x)["event"] for x in lines]
    assert sum(e == "request" for e in events) > 50
    workers = [e for e in events if re.fullmatch(r"Started server process \[\d+\]", e)]
    assert len(workers) == 2, events[:20]  # both workers, each with its process id
    assert any(re.fullmatch(r"Started parent process \[\d+\]", e) for e in events)
    assert any(re.fullmatch(r"Finished server process \[\d+\]", e) for e in events)
    assert "%d" not in text and "%s" not in text
    for word in [*GROUP, "words at", fac.split("k=")[1], proj.split("k=")[1], code]:
        assert not re.search(rf"\b{re.escape(word)}\b", text), f"{word!r} is in the log"


@pytest.mark.browser
def test_in_chromium_members_on_one_process_follow_a_facilitator_on_another(
        pair, browser):
    """The pages themselves: members' phones on A change without a reload when the
    facilitator on B opens and closes, and B's count follows the votes cast on A."""
    from tests.live.browsing import People, claim, expect, press, vote

    url, a, b = pair
    links = new_room(url)
    on_a, on_b = links_on(links, a.base), links_on(links, b.base)
    people = People(browser)
    try:
        fac = people.page(on_b.facilitator)
        members = {}
        for name in GROUP:
            p = people.page(on_a.join, 390, 844)
            claim(p, name)
            members[name] = p
        expect(fac.locator(".members")).not_to_contain_text("not joined")
        press(fac, "Open the vote")  # on B; A's pages get the form over their streams
        for name in GROUP:
            vote(members[name], "no")  # on A
        expect(fac.locator("[data-count]")).to_have_text(str(len(GROUP)))
        press(fac, "Close the vote")
        for p in members.values():
            expect(p.locator(".sentence")).to_be_visible()
        press(fac, "Accept and go on")  # on B; the phones on A move to the next question
        for p in members.values():
            expect(p.locator("#q")).to_have_attribute("data-question", "what-would-reopen")
        assert not people.troubles, people.troubles
    finally:
        people.close()
