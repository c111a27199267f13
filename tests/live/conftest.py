"""Fixtures for the live room's tests: a real uvicorn serving a fresh SQLite room on a free
port (no ASGI transport: endless event streams need a real server), and HTTP clients that
play the facilitator, the projector and the members."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the live room's extra is not installed: "
                    "pip install -e '.[live]'")
httpx = pytest.importorskip("httpx", reason="httpx is missing: pip install -e '.[test,live]'")

from decision_map_live.server import (  # noqa: E402
    Links,
    open_room,
    open_store,
    prepare,
    serve_in_thread,
    server,
    shutdown,
)
from decision_map_live.store import upgrade  # noqa: E402

from decision_map.io.loader import load_map  # noqa: E402
from tests.live.pg import Postgres, free_port, start_postgres  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COALITION = ROOT / "maps" / "coalition-formation.yaml"
GROUP = ["Rosa", "Malik", "Priya", "Tom", "Dolores"]
TIMEOUT = 10.0  # seconds for any one HTTP request in these tests
PG_SECRET = "5" * 64  # a server on Postgres is given its key (DECISION_MAP_SECRET when hosted)
# How the group answers the coalition map's choice questions on the way to red-lines (text
# questions get words); at-the-table "no" ends the walk at not-now, after the question of
# what would reopen it.
PLAN = {"shared-goal": "yes", "own-base": "yes", "existing-coalition": "no",
        "kind": "one-project", "at-the-table": "no"}


@dataclass
class Running:
    """A live server on a port, with the room it opened."""

    base: str
    links: Links
    url: str
    stop: Callable[[], None]
    live: Any = None  # the server's shared state (its store, its bus), when in this process


def start(url: str, map_path: Path = COALITION, group: list[str] | None = None,
          links: Links | None = None) -> Running:
    """Serve the database at `url` (opening a room unless `links` names one). A Postgres
    database is upgraded first, as an operator does with `decision-map db upgrade`."""
    if url.startswith("postgresql"):  # hosted: upgraded by hand, and given its key
        upgrade(url)
        store, secret = open_store(url), PG_SECRET.encode()
    else:
        store, secret = prepare(url)
    port = free_port()
    srv = server(store, secret, "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    if links is None:
        links = open_room(store, load_map(map_path), list(group or GROUP), base)
    else:  # the same room on a new port
        links = Links(links.room, *(u.replace(u.split("/r/")[0].split("/j/")[0], base)
                                    for u in (links.facilitator, links.projector, links.join)),
                      links.code)
    thread = serve_in_thread(srv)

    def stop() -> None:
        shutdown(srv)
        thread.join(timeout=10)
        assert not thread.is_alive(), "the live server did not stop within 10 s"

    return Running(base, links, url, stop, srv.live)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One real PostgreSQL server for the whole run (skipped, or failed under CI=true, when
    it is not installed)."""
    pg = start_postgres()
    yield pg
    pg.stop()


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """A fresh, empty Postgres database for one test."""
    return postgres.new_database()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "databases(*names): run the module's tests on each "
                            "database named (sqlite, postgres)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `databases("sqlite", "postgres")` run once on each database."""
    mark = metafunc.definition.get_closest_marker("databases")
    if mark is not None and "db_url" in metafunc.fixturenames:
        metafunc.parametrize("database", list(mark.args), indirect=True)


@pytest.fixture
def database() -> str:
    """Which database a test runs on (SQLite unless the test's module asks for more)."""
    return "sqlite"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, database: str, tmp_path: Path) -> str:
    if database == "postgres":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'live.sqlite3'}"


@pytest.fixture
def live_server(db_url: str) -> Iterator[Running]:
    """A server with a room for the coalition map and five members."""
    r = start(db_url)
    yield r
    r.stop()


@pytest.fixture
def starter() -> Iterator[Callable[..., Running]]:
    """Start more servers (a restart on the same file, another map); all stop at the end."""
    running: list[Running] = []

    def go(*args: object, **kw: object) -> Running:
        r = start(*args, **kw)  # type: ignore[arg-type]
        running.append(r)
        return r

    yield go
    for r in running:
        r.stop()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m, "no form token on the page"
    return m.group(1)


class Client:
    """One browser-less person in the room: an httpx client with its own cookies."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=True, timeout=TIMEOUT)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def post(self, path: str, data: dict[str, str], page: str | None = None) -> httpx.Response:
        """Post a form with the token from `page` (default: the path's own page)."""
        token = csrf_of(self.get(page or path).text)
        return self.http.post(path, data={**data, "csrf": token})

    def close(self) -> None:
        self.http.close()


class Room:
    """The facilitator, the projector and the five members of a room, each joined, and
    the moves the tests repeat."""

    def __init__(self, server: Running) -> None:
        self.server, self.id, self.people = server, server.links.room, []
        self.fac, self.proj = self.person(), self.person()
        self.fac.get(server.links.facilitator)
        self.proj.get(server.links.projector)
        self.members: dict[str, Client] = {}
        for name in GROUP:
            m = self.person()
            r = m.get(f"/j/{server.links.code}")
            assert r.url.path == f"/r/{self.id}/join"
            r = m.http.post(f"/r/{self.id}/join", data={"name": name, "csrf": csrf_of(r.text)})
            assert r.url.path == f"/r/{self.id}/me", r.text
            self.members[name] = m

    def person(self) -> Client:
        c = Client(self.server.base)
        self.people.append(c)
        return c

    def act(self, action: str, **fields: str) -> str:
        """The facilitator presses a button (with the form's other `fields`, e.g. the
        ballot mode); the page it lands on."""
        page = self.fac.get(f"/r/{self.id}/facilitate").text
        at = re.search(r'name="at" value="([\w-]+)"', page).group(1)
        r = self.fac.http.post(f"/r/{self.id}/act", data={"action": action, "at": at,
                                                          "csrf": csrf_of(page), **fields})
        assert r.status_code == 200 and "error" not in str(r.url), r.url
        return r.text

    def round_of(self, name: str) -> str:
        page = self.members[name].get(f"/r/{self.id}/me").text
        return re.search(r'name="round" value="(\d+)"', page).group(1)

    def vote(self, name: str, **fields: str) -> str:
        """A member posts a vote in the open round; the page they land on."""
        fields.setdefault("round", self.round_of(name))
        r = self.members[name].post(f"/r/{self.id}/vote", fields, page=f"/r/{self.id}/me")
        assert r.status_code == 200
        return r.text

    def step(self, votes: dict[str, dict[str, str]], accept: bool = True) -> str:
        """Open the vote, let each member vote, close it; accept unless told not to."""
        self.act("open")
        for name, fields in votes.items():
            self.vote(name, **fields)
        closed = self.act("close")
        if accept:
            self.act("accept")
        return closed

    def question(self) -> str | None:
        """The key of the question the room stands at (None at the end)."""
        return self.fac.get(f"/r/{self.id}/state").json()["question"]

    def walk_to(self, target: str | None, plan: dict[str, str], limit: int = 30) -> None:
        """Walk on until the room stands at `target` (None: the end): everyone gives the
        plan's choice at a choice question and some words at a text question (the map may
        grow questions)."""
        for _ in range(limit):
            key = self.question()
            if key == target:
                return
            self.act("open")
            page = self.members[GROUP[0]].get(f"/r/{self.id}/me").text
            if "data-one" in page:  # one agreed sentence: one types it, the rest abstain
                votes = {n: {"value": "abstain"} for n in GROUP}
                votes[GROUP[0]] = {"text": f"Our words at {key}"}
            elif 'name="text"' in page:
                votes = {n: {"text": f"{n}'s words at {key}"} for n in GROUP}
            else:
                assert key in plan, f"the walk reached {key!r}, which the plan does not answer"
                votes = self.everyone(plan[key])
            for name, fields in votes.items():
                self.vote(name, **fields)
            self.act("close")
            self.act("accept")
        raise AssertionError(f"{target!r} not reached within {limit} questions")

    @staticmethod
    def everyone(value: str) -> dict[str, dict[str, str]]:
        return {n: {"value": value} for n in GROUP}


@pytest.fixture
def room(live_server: Running) -> Iterator[Room]:
    """A joined room of five on a fresh server."""
    r = Room(live_server)
    yield r
    for c in r.people:
        c.close()


@pytest.fixture
def room_for() -> Iterator[Callable[[Running], Room]]:
    """Join the five members to a room on a server the test started (another map)."""
    rooms: list[Room] = []

    def make(server: Running) -> Room:
        rooms.append(Room(server))
        return rooms[-1]

    yield make
    for r in rooms:
        for c in r.people:
            c.close()


@pytest.fixture(scope="session")
def live_kit() -> dict[str, object]:
    """The helpers a test may call: the group, an HTTP client class, the form token."""
    return {"group": GROUP, "Client": Client, "csrf_of": csrf_of, "plan": PLAN}


# ---------------------------------------------------------------- Debian's Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module. Missing in CI: the run
    fails (.ci/run installs it); on a developer's machine: one line saying how to install."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: pip install -e '.[test,live]'")
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: .ci/run installs it with apt-get")
        pytest.skip("no Chromium: install it with `sudo apt-get install chromium` to run the "
                    "browser tests")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=30_000)
        yield b
        b.close()
