"""The live room on a real PostgreSQL: the schema's migrations, the store's races decided by
the sequence number, and the LISTEN/NOTIFY bus that wakes streams across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "live" / "migrations" / "versions"


def revisions() -> list[str]:
    """Every migration in migrations/versions, oldest first, as Alembic reads the folder (so
    a migration added later is tested without editing this file)."""
    from alembic.script import ScriptDirectory
    from decision_map_live.store import _alembic_config

    script = ScriptDirectory.from_config(_alembic_config("sqlite:///unused.sqlite3"))
    assert len(script.get_heads()) == 1, f"the migrations have several heads: {script.get_heads()}"
    found = [r.revision for r in script.walk_revisions()][::-1]
    assert len(found) == len([f for f in VERSIONS.glob("*.py") if f.name != "__init__.py"])
    return found


def test_the_postgres_fixture_runs_a_server_with_listen_and_notify(postgres):
    import psycopg

    url = postgres.new_database()
    db = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.plain_url(db), autocommit=True) as a, \
            psycopg.connect(postgres.plain_url(db), autocommit=True) as b:
        a.execute("LISTEN hello")
        b.execute("NOTIFY hello, 'there'")
        got = [n.payload for n in a.notifies(timeout=5, stop_after=1)]
    assert got == ["there"]


# ---------------------------------------------------------------- the schema


def test_upgrade_from_an_empty_database_and_from_every_earlier_schema(postgres):
    from alembic import command
    from decision_map_live.store import Store, _alembic_config, schema_problem, upgrade

    revs = revisions()
    assert revs and revs[0] == "0001"
    for start in [None, *revs]:
        url = postgres.new_database()
        if start is not None:
            command.upgrade(_alembic_config(url), start)
        if start != revs[-1]:
            assert "db upgrade" in schema_problem(url), start
        upgrade(url)
        assert schema_problem(url) is None, start
        store = Store(url)  # the tables take a room and its log
        store.create_room("r" * 32, "m.yaml", "0" * 64, "f" * 64, "p" * 64, {"group": []})
        assert store.append("r" * 32, "vote_opened", {"round": 1}, "facilitator") == 2
        with store.engine.connect() as c:  # 0003: the shared rate buckets, not WAL-logged
            kind = c.execute(sa.text("SELECT relpersistence FROM pg_class "
                                     "WHERE relname = 'rate_buckets'")).scalar()
        assert kind == "u", start
        store.engine.dispose()


def test_the_server_refuses_a_schema_it_does_not_know(postgres, tmp_path, monkeypatch):
    from decision_map_live.server import prepare
    from decision_map_live.store import StoreError, upgrade

    monkeypatch.setenv("DECISION_MAP_SECRET", "0" * 64)

    url = postgres.new_database()
    with pytest.raises(StoreError, match=r"run `decision-map db upgrade --database URL`"):
        prepare(url)  # empty: never upgraded
    upgrade(url)
    db = url.rsplit("/", 1)[1]
    postgres.sql("UPDATE alembic_version SET version_num = '9999_from_the_future'", db)
    with pytest.raises(StoreError, match=r"newer decision-map"):
        prepare(url)
    # the laptop's SQLite file upgrades itself, but not past what this code knows
    lite = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    upgrade(lite)
    import sqlite3

    with sqlite3.connect(tmp_path / "x.sqlite3") as c:
        c.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(StoreError, match=r"newer decision-map"):
        prepare(lite)


def test_db_upgrade_and_serve_on_the_command_line(postgres, tmp_path):
    url = postgres.new_database().replace("postgresql+psycopg://", "postgresql://")
    exe = [sys.executable, "-m", "decision_map"]

    keyless = {k: v for k, v in os.environ.items()
               if k not in ("DECISION_MAP_SECRET", "DM_SECRET_KEY")}

    def run(*args: str, key: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**keyless, "DECISION_MAP_SECRET": "0" * 64} if key else keyless
        return subprocess.run([*exe, *args], capture_output=True, text=True, timeout=60,
                              env=env)

    serve = ["serve", "coalition-formation", "--group", "Ana, Ben", "--port", "1"]
    r = run(*serve, "--database", url)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "run `decision-map db upgrade" in r.stderr
    r = run("db", "upgrade", "--database", url)
    assert r.returncode == 0 and "upgraded" in r.stdout, r.stderr
    # no signing key: a key made per run would make every open form stale at each restart
    r = run(*serve, "--database", url, "--workers", "2", key=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0, r.stderr
    assert "DECISION_MAP_SECRET is not set" in r.stderr
    assert "openssl rand -hex 32" in r.stderr and "docs/hosting.md" in r.stderr
    r = run("open-room", "coalition-formation", "--group", "Ana, Ben", "--database", url,
            key=False)  # opening a room signs nothing: no key needed
    assert r.returncode == 0 and "Join: " in r.stdout, r.stderr
    r = run("db", "upgrade", "--database", url)
    assert r.returncode == 0 and "up to date" in r.stdout
    r = run(*serve, "--workers", "2", "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "SQLite serves from one process" in r.stderr
    r = run("db", "upgrade", "--database", "mysql://x@localhost/y")
    assert r.returncode == 2 and "mysql databases are not supported" in r.stderr
    port = postgres.port
    r = run("db", "upgrade", "--database", f"postgresql://nobody@127.0.0.1:{port}/none")
    assert r.returncode == 2 and "cannot connect" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- the store's races


def test_a_write_after_a_move_the_writer_did_not_see_is_refused(pg_url):
    from decision_map_live.store import Moved, Store, upgrade

    upgrade(pg_url)
    store = Store(pg_url)
    room = "a" * 32
    store.create_room(room, "m.yaml", "0" * 64, "f" * 64, "p" * 64, {"group": []})
    seen = store.append(room, "vote_opened", {"round": 1}, "facilitator")
    # ballots do not move the room: a close based on the page before them still goes
    store.append(room, "ballot_cast", {"round": 1}, "Ana", unmoved_since=seen)
    closed = store.append(room, "vote_closed", {"round": 1, "by": "Ben"}, "facilitator",
                          unmoved_since=seen)
    with pytest.raises(Moved, match="already closed by Ben") as lost:  # who, from the log
        store.append(room, "vote_closed", {"round": 1}, "facilitator", unmoved_since=seen)
    assert lost.value.seq == closed and store.move_line(room, closed) == str(lost.value)
    with pytest.raises(Moved):  # nor does a ballot count once the vote it was for closed
        store.append(room, "ballot_cast", {"round": 1}, "Ben", unmoved_since=seen)
    assert [e.kind for e in store.events(room)] == [
        "room_created", "vote_opened", "ballot_cast", "vote_closed"]
    store.engine.dispose()


def test_a_secret_ballot_and_a_close_racing_across_processes_never_lose_a_vote(pg_url):
    from decision_map_live import secret
    from decision_map_live.store import Moved, Store, upgrade

    from decision_map.model.decision import Ballot

    upgrade(pg_url)
    store = Store(pg_url)
    room = "c" * 32
    store.create_room(room, "m.yaml", "0" * 64, "f" * 64, "p" * 64, {"group": []})
    seen = store.append(room, "vote_opened", {"round": 1, "mode": "secret"}, "facilitator")
    secret.cast(store, room, 1, "q", "Ana", Ballot("Ana", "yes"), None, seen)
    # a close whose tally was read before Ana's ballot landed is refused, not short a vote
    with pytest.raises(Moved, match="A secret vote came in meanwhile"):
        store.append(room, "vote_closed", {"round": 1, "tally": []}, "facilitator",
                     unmoved_since=seen, also_moving=("secret_voted",))
    closed_at = store.append(room, "vote_closed", {"round": 1, "tally": ["yes"]},
                             "facilitator", unmoved_since=seen + 1,
                             also_moving=("secret_voted",))
    # a ballot cast on a page from before the close is refused and leaves no row behind
    with pytest.raises(Moved, match="already closed"):
        secret.cast(store, room, 1, "q", "Ben", Ballot("Ben", "no"), None, seen + 1)
    assert len(secret.tally(store, room, 1)) == 1
    assert store.head(room) == closed_at
    store.engine.dispose()


def test_appends_racing_from_many_threads_each_get_their_own_seq(pg_url):
    from concurrent.futures import ThreadPoolExecutor

    from decision_map_live.store import Store, upgrade

    upgrade(pg_url)
    stores = [Store(pg_url), Store(pg_url)]  # two "processes": their own pools and locks
    room = "b" * 32
    stores[0].create_room(room, "m.yaml", "0" * 64, "f" * 64, "p" * 64, {"group": []})
    with ThreadPoolExecutor(8) as pool:
        seqs = list(pool.map(
            lambda i: stores[i % 2].append(room, "ballot_cast", {"i": i}, f"m{i}"), range(40)))
    assert sorted(seqs) == list(range(2, 42))
    assert [e.seq for e in stores[1].events(room)] == list(range(1, 42))
    for s in stores:
        s.engine.dispose()


# ---------------------------------------------------------------- the bus


def test_the_bus_wakes_a_room_on_notify_and_every_room_after_a_lost_connection(
        pg_url, postgres):
    import asyncio

    import psycopg
    from decision_map_live.bus import CHANNEL, LISTEN_APP, PgBus, bus_for

    db = pg_url.rsplit("/", 1)[1]

    async def main() -> None:
        bus = bus_for(pg_url)
        assert isinstance(bus, PgBus)
        await bus.start()
        try:
            assert bus.connects == 1
            told, untold = bus.waiter("told"), bus.waiter("untold")
            async with await psycopg.AsyncConnection.connect(
                    postgres.plain_url(db), autocommit=True) as other:
                await other.execute(f"NOTIFY {CHANNEL}, 'told:7'")
            await asyncio.wait_for(told.wait(), 5)  # the hint wakes its room only
            assert not untold.is_set()
            told, epoch = bus.waiter("told"), bus.epoch
            assert bus.trusted_since() is not None  # listening: heartbeats may trust it
            killed = postgres.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  f"WHERE application_name = '{LISTEN_APP}' AND datname = '{db}'")
            assert killed == [(True,)]
            # no notification is sent: the loss itself wakes every room to reread...
            await asyncio.wait_for(asyncio.gather(told.wait(), untold.wait()), 10)
            for _ in range(100):  # ...and so does the reconnect
                if bus.connects == 2:
                    break
                await asyncio.sleep(0.1)
            assert bus.connects == 2 and bus.epoch == epoch + 2
            assert bus.trusted_since() is not None
        finally:
            await bus.stop()

    asyncio.run(main())
    assert bus_for("sqlite:///x.sqlite3").__class__.__name__ == "LocalBus"


# ---------------------------------------------------------------- expiry across processes


def test_one_sweep_at_a_time_across_processes_the_others_skip(pg_url):
    """Every worker runs a sweeper; two stores (two processes' pools) on one database: while
    one sweeps, the other's sweep is skipped, and the room is deleted once."""
    import threading
    import time

    from decision_map_live.expiry import Sweeper
    from decision_map_live.store import Store, upgrade

    upgrade(pg_url)
    a_store, b_store = Store(pg_url), Store(pg_url)
    room = "e" * 32
    a_store.create_room(room, "m.yaml", "0" * 64, "f" * 64, "p" * 64, {"group": []})
    inside, go_on = threading.Event(), threading.Event()

    def slow_judge(store: Store, room_id: str) -> bool:
        """Whether the room finished (no), after the other sweep has been tried."""
        inside.set()
        assert go_on.wait(30)
        return False

    a = Sweeper(a_store, room_ttl=1, report_ttl=10**6, finished=slow_judge)
    b = Sweeper(b_store, room_ttl=1, report_ttl=10**6, finished=lambda s, r: False)
    later = time.time() + 100  # idle past the unfinished limit, not past the report limit
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("a", a.sweep(now=later)))
    t.start()
    try:
        assert inside.wait(30), "sweep A never judged the room"
        skipped = b.sweep(now=later)
        assert skipped.skipped and skipped.rooms == 0
        assert b_store.room(room) is not None  # B deleted nothing
    finally:
        go_on.set()
        t.join(30)
    assert got["a"].rooms == 1 and not got["a"].skipped
    assert a_store.room(room) is None
    # with A done, the lock is free again: B's next sweep runs (and finds nothing)
    again = b.sweep(now=later)
    assert not again.skipped and again.rooms == 0
    for s in (a_store, b_store):
        s.engine.dispose()


# ---------------------------------------------------------------- shared rate limits


def test_shared_buckets_stop_at_the_first_empty_one_and_stay_bounded(pg_url):
    """Two processes' buckets on one database are one set of buckets: a token taken by one
    is gone for the other; a request refused by its address takes nothing from its room; the
    table is pruned to its bound."""
    import time

    from decision_map_live.limits import Rate
    from decision_map_live.shared_buckets import SharedBuckets
    from decision_map_live.store import Store, upgrade

    upgrade(pg_url)
    stores = [Store(pg_url), Store(pg_url)]
    rates = {"posts_ip": Rate(3, 600), "posts_room": Rate(100, 600)}
    a, b = (SharedBuckets(s.engine, rates, max_keys=50) for s in stores)
    both = [("posts_ip", "198.51.100.1"), ("posts_room", "r1")]
    results = [(a if i % 2 else b).take(both) for i in range(5)]
    assert results[:3] == [None, None, None]  # three between the two, not three each
    assert [r[0] for r in results[3:]] == [0, 0]  # refused by the address's bucket
    assert all(190 < r[1] <= 200 for r in results[3:])  # one token of 3/600 s: 200 s
    with stores[0].engine.connect() as c:
        room_left = c.execute(sa.text("SELECT tokens FROM rate_buckets WHERE "
                                      "name = 'posts_room'")).scalar()
    assert room_left == pytest.approx(97, abs=0.01)  # the refused two took nothing from it
    a.give_back(["posts_ip"], "198.51.100.1")
    assert b.take(both) is None  # the token given back in A is there for B
    # a flood of addresses: the table keeps at most max_keys rows a limit after a prune
    for i in range(200):
        a.take([("posts_ip", f"10.0.{i // 250}.{i % 250}")])
    assert a.rows() > 150
    a.prune()
    assert a.rows() <= 50 + 1  # posts_ip at its bound, and the room's one row
    # a bucket idle for its whole period is full again: its row (an address) goes
    quick = SharedBuckets(stores[0].engine, {"quick": Rate(5, 1)})
    quick.take([("quick", "203.0.113.9")])
    with stores[0].engine.connect() as c:
        count = "SELECT count(*) FROM rate_buckets WHERE name = 'quick'"
        assert c.execute(sa.text(count)).scalar() == 1
        time.sleep(1.2)
        quick.prune()
        assert c.execute(sa.text(count)).scalar() == 0
    for s in stores:
        s.engine.dispose()


def test_when_the_shared_buckets_cannot_answer_each_process_counts_alone(pg_url, monkeypatch):
    """A database that fails the limit's statement (here its table is gone) does not open
    the gates: the process falls back to its own buckets, and says so once."""
    import io
    import logging

    import httpx
    from decision_map_live import limits
    from decision_map_live.limits import Limits, Rate
    from decision_map_live.server import open_store, serve_in_thread, server, shutdown
    from decision_map_live.store import upgrade

    from tests.live.conftest import free_port

    upgrade(pg_url)
    store = open_store(pg_url)
    with store.engine.begin() as c:
        c.execute(sa.text("DROP TABLE rate_buckets"))
    port = free_port()
    srv = server(store, b"0" * 64, "127.0.0.1", port, Limits(posts_ip=Rate(3, 600)))
    monkeypatch.setattr(limits, "_unshared_said", [-1e9])  # not said yet in this process
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    logger = logging.getLogger("decision_map_live")
    thread = serve_in_thread(srv)
    logger.addHandler(handler)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            got = [http.post("/r/x/vote", data={}).status_code for _ in range(5)]
    finally:
        logger.removeHandler(handler)
        shutdown(srv)
        thread.join(timeout=10)
        store.engine.dispose()
    assert [s == 429 for s in got] == [False, False, False, True, True], got
    assert buf.getvalue().count("shared rate limit unavailable") == 1
