"""Hosting a live room: settings from the environment, the health endpoint, HTTPS when told,
trusted proxy headers, JSON logs that never hold a member's name or vote, and rooms that
expire with every row they had. Real uvicorn servers throughout (in a thread, or `serve` as
a process)."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import COALITION, GROUP, Client, Room, Running, csrf_of, free_port
from decision_map_live.logs import JsonFormatter
from decision_map_live.server import Links, open_room, open_store

from decision_map.io.loader import load_map

EXE = [sys.executable, "-m", "decision_map"]
WAIT = 30.0  # seconds any one wait in these tests may take


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set hosting variables for the servers this test starts (undone afterwards)."""
    def set_(**values: str) -> None:
        for k, v in values.items():
            monkeypatch.setenv(f"DECISION_MAP_{k}", v)
    return set_


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict]]]:
    """The JSON lines the live room logs from now on."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("decision_map_live")
    logger.addHandler(handler)  # a server started later keeps it beside its own
    yield lambda: [json.loads(x) for x in buf.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.mark.databases("sqlite", "postgres")
def test_health_is_ok_at_the_known_schema_and_503_otherwise(live_server):
    c = Client(live_server.base)
    r = c.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.headers["cache-control"] == "no-store"
    engine = sa.create_engine(live_server.url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000'"))
    r = c.get("/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "reason": "schema 0000, this code needs "
                        + r.json()["reason"].split()[-1]}
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    r = c.get("/healthz")
    assert r.status_code == 503 and r.json()["reason"] == "no schema"
    assert "sqlite" not in r.text and "127.0.0.1" not in r.text  # no path, host or error
    c.close()


def _join_form(c: Client, links: Links) -> tuple[str, str]:
    """The join form's path and token (the join link redirects to it)."""
    path = f"/r/{links.room}/join"
    assert c.get(f"/j/{links.code}").headers["location"] == path
    return path, csrf_of(c.get(path).text)


def test_https_when_told_secure_cookies_hsts_and_an_https_origin_accepted(env, starter, db_url):
    plain = starter(db_url)
    c = httpx_client(plain.base)
    r = c.get(plain.links.facilitator)
    assert "secure" not in r.headers["set-cookie"].lower()
    assert "strict-transport-security" not in r.headers
    path, token = _join_form(c, plain.links)
    origin = {"origin": plain.base.replace("http://", "https://")}
    r = c.post(path, data={"name": "Rosa", "csrf": token}, headers=origin)
    assert r.status_code == 403  # over plain HTTP an https page cannot have sent it

    env(HTTPS="1")
    told = starter(db_url, links=plain.links)
    c = httpx_client(told.base)
    r = c.get(told.links.facilitator)
    assert r.status_code == 303 and "; secure" in r.headers["set-cookie"].lower()
    assert r.headers["strict-transport-security"].startswith("max-age=")
    path, token = _join_form(c, told.links)
    r = c.post(path, data={"name": "Rosa", "csrf": token},
               headers={"origin": told.base.replace("http://", "https://")})
    assert r.status_code == 303, r.text
    assert "; secure" in r.headers["set-cookie"].lower()


def test_proxy_headers_count_only_from_a_trusted_proxy(env, starter, db_url, logged):
    forwarded = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    env(LOG_LEVEL="info")
    untrusted = starter(db_url)
    c = httpx_client(untrusted.base)
    path, token = _join_form(c, untrusted.links)
    origin = {"origin": untrusted.base.replace("http://", "https://")}
    r = c.post(path, data={"name": "Rosa", "csrf": token}, headers={**forwarded, **origin})
    assert r.status_code == 403
    settled(lambda: [x for x in logged() if x["event"] == "request" and x["status"] == 403])
    assert {x["client"] for x in logged() if x["event"] == "request"} == {"127.0.0.1"}

    env(TRUSTED_PROXIES="127.0.0.1")
    trusted = starter(db_url, links=untrusted.links)
    c = httpx_client(trusted.base)
    path, token = _join_form(c, trusted.links)
    origin = {"origin": trusted.base.replace("http://", "https://")}
    r = c.post(path, data={"name": "Rosa", "csrf": token}, headers={**forwarded, **origin})
    assert r.status_code == 303  # the proxy says the page was https: the origin matches
    line = settled(lambda: [x for x in logged() if x["event"] == "request"
                            and x["method"] == "POST" and x["status"] == 303])
    assert line["client"] == "203.0.113.7"


def settled(found: Callable[[], list[dict]]) -> dict:
    """The last line `found` gives, waiting briefly: a line is written as the response ends,
    which a client may see before (an empty body ends nothing it waits for)."""
    deadline = time.monotonic() + WAIT
    while not found():
        assert time.monotonic() < deadline, "the line was never logged"
        time.sleep(0.05)
    return found()[-1]


def httpx_client(base: str):  # noqa: ANN201 (httpx is imported by conftest)
    import httpx

    return httpx.Client(base_url=base, follow_redirects=False, timeout=10.0)


# ---------------------------------------------------------------- the log holds no one


def _serve(tmp_path: Path, extra_env: dict[str, str], map_path: Path = COALITION,
           preexec: Callable[[], None] | None = None) -> tuple[subprocess.Popen, Running]:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'hosted.sqlite3'}"
    err = open(tmp_path / "stderr.log", "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [*EXE, "serve", str(map_path), "--group", ", ".join(GROUP), "--port", str(port),
         "--database", url], stdout=subprocess.PIPE, stderr=err, text=True,
        env={**os.environ, **extra_env}, preexec_fn=preexec)
    lines = [proc.stdout.readline().strip() for _ in range(3)]
    fac, proj = lines[0].split(": ", 1)[1], lines[1].split(": ", 1)[1]
    join, code = lines[2].split()[1], lines[2].split("code ")[1].rstrip(")")
    room = fac.split("/r/")[1].split("/")[0]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT
    while True:
        try:
            Client(base).get("/healthz")
            break
        except Exception:
            assert time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.2)
    return proc, Running(base, Links(room, fac, proj, join, code), url, lambda: None)


def test_the_log_is_json_lines_with_no_member_name_and_no_vote_or_reason(tmp_path, live_kit):
    proc, running = _serve(tmp_path, {"DECISION_MAP_LOG_LEVEL": "debug"})
    room = Room(running)
    try:  # a facilitator's name is for co-facilitators (live/names.py), not for the log
        room.fac.post(f"/r/{room.id}/name", {"name": "Wilhelmina"},
                      page=f"/r/{room.id}/facilitate")
        room.walk_to("red-lines", live_kit["plan"])
        room.act("open")
        r = room.round_of("Rosa")
        room.vote("Tom", round=r, value="object")  # refused: no reason (error in the URL)
        room.vote("Tom", round=r, value="object", reason="Not without the tenants union")
        room.vote("Priya", round=r, value="stand-aside", reason="Abstaining for my employer")
        for n in ("Rosa", "Malik", "Dolores"):
            room.vote(n, round=r, value="agree")
        room.act("close")
        room.act("revote")
        r = room.round_of("Rosa")
        for n in GROUP:
            room.vote(n, round=r, value="agree")
        room.act("close")
        room.act("accept")
        room.walk_to(None, live_kit["plan"])  # at-the-table: no, then on to the end
        report = room.members["Rosa"].get(f"/r/{room.id}/report")
        assert report.status_code == 200
    finally:
        for c in room.people:
            c.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
    text = (tmp_path / "stderr.log").read_text()
    # every line is one JSON object, but for what a C library writes to stderr itself
    # (Graphviz's fontconfig warns about this machine's font set-up while drawing)
    lines = [json.loads(x) for x in text.splitlines() if not x.startswith("Fontconfig ")]
    assert sum(x["event"] == "request" for x in lines) > 100
    assert {x["event"] for x in lines} >= {"server started", "request"}
    said = [*GROUP, "Wilhelmina", "Not without the tenants union", "Abstaining for my employer",
            "one-project", "stand-aside", "tenants", "employer", "words at", "own sentence",
            running.links.code, running.links.facilitator.split("k=")[1],
            running.links.projector.split("k=")[1]]
    for word in said:
        assert not re.search(rf"\b{re.escape(word)}\b", text), f"{word!r} is in the log"
    assert re.search(r'"path": "/j/-"', text)  # the join code's request, without the code


# ---------------------------------------------------------------- expiry


def _rows_of(url: str, room: str) -> dict[str, int]:
    """Rows mentioning the room, per table that has a room_id (or the rooms row itself)."""
    engine = sa.create_engine(url)
    md = sa.MetaData()
    md.reflect(engine)
    out = {}
    with engine.connect() as c:
        for t in md.sorted_tables:
            col = t.c.get("room_id") if "room_id" in t.c else (
                t.c.id if t.name == "rooms" else None)
            if col is not None:
                out[t.name] = c.execute(sa.select(sa.func.count()).where(col == room)).scalar()
    engine.dispose()
    return out


@pytest.mark.databases("sqlite", "postgres")
def test_rooms_expire_with_all_their_rows_and_a_finished_room_keeps_its_report(
        env, starter, db_url, logged):
    first = starter(db_url)  # default limits: nothing expires while the rooms are walked
    idle = Room(first)  # joins, one vote opened, never finished
    idle.act("open")
    idle.vote("Rosa", value="yes")
    store = open_store(db_url)
    done_links = open_room(store, load_map(COALITION), GROUP, first.base)
    done = Room(Running(first.base, done_links, db_url, lambda: None))
    done.walk_to(None, {"shared-goal": "no"})  # shared-goal: no, on to the end (not now)
    # Rows in the secret-ballot tables (migration 0002), and in a table a later migration
    # might add, unknown to this code: found in the database, so deleted too.
    engine = sa.create_engine(db_url)
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE later_notes (room_id VARCHAR(32), note TEXT)"))
        for r in (idle.id, done.id):
            c.execute(sa.text("INSERT INTO later_notes VALUES (:r, 'a note')"), {"r": r})
            c.execute(sa.text("INSERT INTO who_voted VALUES (:r, 9, 'Rosa', 'q')"), {"r": r})
            c.execute(sa.text("INSERT INTO secret_ballots VALUES (:i, :r, 9, 'q', '{}')"),
                      {"r": r, "i": f"b-{r}"})
    engine.dispose()
    before = _rows_of(db_url, idle.id)
    assert before["room_events"] > 5 and before["members"] == 5
    assert before["later_notes"] == before["who_voted"] == before["secret_ballots"] == 1
    first.stop()

    time.sleep(1.2)  # both rooms are now idle longer than the unfinished limit below
    env(ROOM_TTL="1s", REPORT_TTL="1h", SWEEP_EVERY="1s", LOG_LEVEL="info")
    hosted = starter(db_url, links=first.links)
    deadline = time.monotonic() + WAIT
    while _rows_of(db_url, idle.id)["rooms"]:
        assert time.monotonic() < deadline, "the idle room was not deleted by the sweep"
        time.sleep(0.3)
    assert set(_rows_of(db_url, idle.id).values()) == {0}, _rows_of(db_url, idle.id)
    swept = [x for x in logged() if x["event"] == "expired rooms deleted"]
    assert swept and swept[0]["rooms"] == 1 and swept[0]["kept"] == 1
    # the old links lead nowhere now
    c = Client(hosted.base)
    assert c.get(f"/j/{idle.server.links.code}").status_code == 404
    c.close()
    # the finished room keeps its report (its members' cookies still work on this server)
    rosa = done.members["Rosa"]
    rosa.http = rosa.http.__class__(base_url=hosted.base, cookies=rosa.http.cookies,
                                    follow_redirects=True, timeout=10.0)
    report = rosa.get(f"/r/{done.id}/report")
    assert report.status_code == 200 and "Not now" in report.text
    assert _rows_of(db_url, done.id)["later_notes"] == 1

    # by hand, with a shorter report limit: the finished room goes too, every row of it
    dry = subprocess.run([*EXE, "db", "expire", "--database", db_url, "--report-ttl", "1s",
                          "--dry-run"], capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0 and "would delete 1 expired room;" in dry.stdout, dry.stderr
    assert _rows_of(db_url, done.id)["rooms"] == 1
    out = subprocess.run([*EXE, "db", "expire", "--database", db_url, "--report-ttl", "1s"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "deleted 1 expired room (" in out.stdout, out.stderr
    assert set(_rows_of(db_url, done.id).values()) == {0}
    assert rosa.get(f"/r/{done.id}/report").status_code in (403, 404)
    for r in (idle, done):
        for p in r.people:
            p.close()


@pytest.mark.parametrize(("var", "value", "said"), [
    ("ROOM_TTL", "3 weeks", "DECISION_MAP_ROOM_TTL: '3 weeks' is not a duration"),
    ("SECRET", "short", "DECISION_MAP_SECRET: the key must be 32 to 512 characters"),
    ("TRUSTED_PROXIES", "nginx", "DECISION_MAP_TRUSTED_PROXIES: 'nginx' is not an IP"),
    ("HTTPS", "maybe", "DECISION_MAP_HTTPS: 'maybe' is not yes or no"),
    ("MAX_STREAMS", "lots", "DECISION_MAP_MAX_STREAMS: 'lots' is not a whole number"),
    ("MAX_STREAMS", "5", "DECISION_MAP_MAX_STREAMS: '5' is not a whole number from 10"),
])
def test_a_bad_setting_stops_serve_with_one_line_naming_it(tmp_path, var, value, said):
    r = subprocess.run([*EXE, "serve", "coalition-formation", "--group", "Ana, Ben",
                        "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, f"DECISION_MAP_{var}": value})
    assert r.returncode == 2 and said in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_secret_from_the_environment_signs_forms_and_no_key_file_is_made(
        env, starter, tmp_path):
    env(SECRET="k" * 40)
    url = f"sqlite:///{tmp_path / 'hosted.sqlite3'}"
    a = starter(url)
    assert not (tmp_path / "hosted.sqlite3.secret").exists()
    c = Client(a.base)
    page = c.get(f"/j/{a.links.code}")
    token = csrf_of(page.text)
    b = starter(url, links=a.links)  # a second server with the same key takes the token
    c2 = httpx_client(b.base)
    r = c2.post(f"/r/{a.links.room}/join", data={"name": "Ana" if "Ana" in GROUP else GROUP[0],
                                                 "csrf": token})
    assert r.status_code == 303
    c.close()


def test_open_room_adds_a_room_that_the_running_server_serves(live_server, tmp_path):
    r = subprocess.run([*EXE, "open-room", "coalition-formation", "--group", "Ana, Ben, Cy",
                        "--database", live_server.url, "--public-url", live_server.base],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"Facilitator: {live_server.base}/r/")
    join = lines[2].split()[1]
    c = Client(live_server.base)
    page = c.get(join)
    assert page.status_code == 200 and "Ana" in page.text and "Cy" in page.text
    c.close()


def test_uvicorn_lines_keep_their_numbers_and_the_operators_address_but_no_request_text():
    def line(msg: str, *args: object) -> str:
        record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)
        return json.loads(JsonFormatter().format(record))["event"]

    assert line("Started server process [%d]", 4242) == "Started server process [4242]"
    assert line("Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", "http", "127.0.0.1",
                8000) == "Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"
    # a text argument elsewhere can be a client's path with a key in its query string
    assert line('%s - "WebSocket %s" %d', "203.0.113.7:5000", "/r/x/f/go?k=KEY", 403) == \
        '- - "WebSocket -" 403'
    assert line("Error loading ASGI app factory: %s", ValueError("Rosa's words")) == \
        "Error loading ASGI app factory: -"


def test_a_laptops_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    """The rooms' database holds names, votes and reasons: under umask 022 its file (and
    SQLite's -wal and -shm beside it) is 0600, and the default data folder is 0700."""
    given = tmp_path / "meeting.sqlite3"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    old = os.umask(0o022)
    try:
        for db in ([f"--database=sqlite:///{given}"], []):
            r = subprocess.run([*EXE, "open-room", "coalition-formation", "--group", "Ana, Ben",
                                *db], capture_output=True, text=True, timeout=60, env=env)
            assert r.returncode == 0, r.stderr
    finally:
        os.umask(old)
    folder = tmp_path / "data" / "decision-map" / "live"
    files = [*tmp_path.glob("meeting.sqlite3*"), *folder.glob("live.sqlite3*")]
    assert {p.name for p in files} >= {"meeting.sqlite3", "live.sqlite3"}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {
        p.name: "0o600" for p in files}
    assert oct(folder.stat().st_mode & 0o777) == "0o700"


def test_an_empty_database_url_is_refused_not_taken_for_the_laptops_file(tmp_path):
    """`--database "$DECISION_MAP_DATABASE"` in a shell that did not read the environment
    file: before, `db upgrade` upgraded a SQLite file in the data folder and said so."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    for cmd in (["db", "upgrade"], ["db", "expire", "--dry-run"],
                ["open-room", "coalition-formation", "--group", "Ana, Ben"]):
        r = subprocess.run([*EXE, *cmd, "--database", ""], capture_output=True, text=True,
                           timeout=60, env=env)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and "--database: empty" in r.stderr, r.stderr
    assert not (tmp_path / "data").exists()


# ---------------------------------------------------------------- bounds an operator sets


def test_a_process_holds_the_streams_the_operator_allows_and_refuses_one_more(tmp_path):
    import httpx

    proc, running = _serve(tmp_path, {"DECISION_MAP_MAX_STREAMS": "10"})
    room = running.links.room
    try:
        with httpx.Client(base_url=running.base, timeout=10.0,
                          limits=httpx.Limits(max_connections=20)) as c:
            assert c.get(running.links.projector).status_code == 303
            opened = [c.send(c.build_request("GET", f"/r/{room}/events"), stream=True)
                      for _ in range(10)]
            try:
                assert [r.status_code for r in opened] == [200] * 10
                one_more = c.get(f"/r/{room}/events")
                assert one_more.status_code == 503
                assert one_more.text == "too many open streams"
            finally:
                for r in opened:
                    r.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)


def test_a_room_whose_map_file_changed_is_refused_not_walked_through_other_questions(
        tmp_path):
    map_copy = tmp_path / "coalition.yaml"
    map_copy.write_bytes(COALITION.read_bytes())
    proc, running = _serve(tmp_path, {}, map_copy)
    room = running.links.room
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=WAIT)
    # an edit of the served file in place: the room's log no longer fits its questions
    map_copy.write_text(map_copy.read_text().replace("title:", "title: Edited", 1))
    r = subprocess.run([*EXE, "serve", "--room", room, "--database", running.url],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "--room:" in r.stderr and "the map file changed since the room was opened" in r.stderr
    assert str(map_copy) in r.stderr
    # a server that comes to the room otherwise (another worker, say) shows no page of it
    proc, other = _serve(tmp_path, {}, COALITION)
    try:
        c = Client(other.base)
        page = c.get(f"/r/{room}/join")
        assert page.status_code == 500 and "the map file changed" in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)


def test_serve_raises_its_open_files_limit_to_hold_the_streams_it_allows(tmp_path):
    import resource

    def low() -> None:  # a shell's or a unit's default soft limit, lowered further
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 8192))

    proc, _ = _serve(tmp_path, {"DECISION_MAP_MAX_STREAMS": "1500"}, preexec=low)
    try:
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        soft, hard = re.search(r"Max open files\s+(\d+)\s+(\d+)", limits).groups()
        assert (int(soft), int(hard)) == (1500 + 256, 8192)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
