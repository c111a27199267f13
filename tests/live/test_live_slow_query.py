"""A query that waits must not stall the server: while one room's write waits for a lock
held elsewhere, another room's pages answer and its streams get their frames (the app's
database calls run on worker threads, not on the event loop)."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

sa = pytest.importorskip("sqlalchemy")

from decision_map_live.server import open_room  # noqa: E402

from decision_map.io.loader import load_map  # noqa: E402
from tests.live.conftest import COALITION, GROUP, TIMEOUT, Room, Running  # noqa: E402
from tests.live.test_live_processes import Stream  # noqa: E402

HOLD = 6.0  # seconds the lock is held at most (released earlier once the test has its answer)


def second_room(server: Running) -> Room:
    """Another room of five on the same server."""
    links = open_room(server.live.store, load_map(COALITION), list(GROUP), server.base)
    return Room(dataclasses.replace(server, links=links))


def vote_in_background(room: Room) -> tuple[threading.Thread, list[int]]:
    """A member of `room` votes from a thread (the vote will wait for the lock)."""
    name, statuses = GROUP[0], []
    fields = {"value": "yes", "round": room.round_of(name)}

    def go() -> None:
        statuses.append(room.members[name].post(f"/r/{room.id}/vote", fields,
                                                page=f"/r/{room.id}/me").status_code)
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, statuses


def test_a_write_waiting_on_sqlite_does_not_hold_up_another_rooms_page(room, live_server,
                                                                      tmp_path):
    other = second_room(live_server)
    room.act("open")
    room.round_of(GROUP[0])  # the member's page is read before the lock is taken
    blocker = sa.create_engine(live_server.url).connect()
    blocker.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's write lock, for HOLD seconds
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            blocker.rollback()

    timer = threading.Timer(HOLD, release)
    timer.start()
    try:
        t, statuses = vote_in_background(room)
        time.sleep(0.5)  # the vote reaches its write and waits in SQLite's busy timeout
        r = other.fac.get(f"/r/{other.id}/state")
        answered_while_held = not released.is_set()
        assert r.status_code == 200
        assert answered_while_held, "the other room's state waited for the lock"
    finally:
        timer.cancel()
        release()
        blocker.close()
    t.join(TIMEOUT)
    assert statuses == [200]  # the vote went through once the lock was gone
    assert room.fac.get(f"/r/{room.id}/state").json()["voted"] == 1
    for c in other.people:
        c.close()


def test_a_write_waiting_for_a_rooms_row_does_not_hold_up_another_rooms_stream(pg_url,
                                                                              starter):
    server = starter(pg_url)
    a, b = Room(server), second_room(server)
    a.act("open")
    a.round_of(GROUP[0])
    stream = Stream(server.base, b.members[GROUP[0]].http.cookies, f"/r/{b.id}/events")
    blocker = sa.create_engine(pg_url).connect()
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            blocker.rollback()

    try:
        stream.wait_for(b.fac.get(f"/r/{b.id}/state").json()["seq"], TIMEOUT)
        blocker.execute(sa.text("SELECT id FROM rooms WHERE id = :r FOR UPDATE"), {"r": a.id})
        timer = threading.Timer(HOLD, release)
        timer.start()
        t, statuses = vote_in_background(a)
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        with sa.create_engine(pg_url).connect() as watch:
            deadline = time.monotonic() + TIMEOUT
            while not watch.execute(sa.text(waiting)).scalar():
                assert time.monotonic() < deadline, "the vote never waited for the row lock"
                time.sleep(0.05)
        b.act("open")  # another room moves while room A's vote waits
        seq = b.fac.get(f"/r/{b.id}/state").json()["seq"]
        stream.wait_for(seq, HOLD)
        assert not released.is_set(), "room B's frame came only after room A's lock was gone"
        timer.cancel()
    finally:
        release()
        blocker.close()
        stream.close()
    t.join(TIMEOUT)
    assert statuses == [200]
    assert a.fac.get(f"/r/{a.id}/state").json()["voted"] == 1
    for c in [*a.people, *b.people]:
        c.close()
