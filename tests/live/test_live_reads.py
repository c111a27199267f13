"""How often a server process reads a room's log: a heartbeat reads nothing while the
LISTEN connection vouches that no hint was lost since the last read, and reads again as
soon as it cannot (so a lost notification still shows within a heartbeat); callers who ask
at once share one read."""

from __future__ import annotations

import asyncio

import pytest

sa = pytest.importorskip("sqlalchemy")

from decision_map_live.bus import LISTEN_APP, PgBus, bus_for  # noqa: E402
from decision_map_live.cache import Live  # noqa: E402
from decision_map_live.server import open_room  # noqa: E402
from decision_map_live.store import Store, upgrade  # noqa: E402

from decision_map.io.loader import load_map  # noqa: E402
from tests.live.conftest import COALITION, GROUP  # noqa: E402

WAIT = 10.0  # seconds any one wait here may take


def counting(store: Store) -> list[str]:
    """The reads of the room log that `store` makes from now on."""
    reads: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "FROM room_events" in statement:
            reads.append(statement)
    sa.event.listen(store.engine, "before_cursor_execute", count)
    return reads


def test_a_heartbeat_reads_only_when_the_listen_connection_cannot_vouch(pg_url, postgres):
    upgrade(pg_url)
    store = Store(pg_url)
    room = open_room(store, load_map(COALITION), list(GROUP), "http://x.invalid").room
    db = pg_url.rsplit("/", 1)[1]

    async def main() -> None:
        bus = bus_for(pg_url)
        assert isinstance(bus, PgBus)
        lv = Live(store, b"k" * 32, bus=bus)
        await bus.start()
        try:
            await lv.state(room)  # the first read, with the LISTEN up
            reads = counting(store)
            await asyncio.gather(*(lv.state(room, beat=True) for _ in range(17)))
            assert reads == []  # a room's 17 heartbeats: no read while the bus vouches
            await asyncio.gather(*(lv.state(room) for _ in range(17)))
            assert 1 <= len(reads) <= 2  # 17 pages at once: one read (two if one began late)
            reads.clear()
            postgres.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         f"WHERE application_name = '{LISTEN_APP}' AND datname = '{db}'")
            for _ in range(int(WAIT * 20)):  # the loss is noticed at once (a closed socket)
                if bus.trusted_since() is None or bus.connects > 1:
                    break
                await asyncio.sleep(0.05)
            # hints may have been lost: the heartbeat reads the database itself
            store.append(room, "member_claimed", {"member": GROUP[0]}, GROUP[0])
            _, st = await lv.state(room, beat=True)
            assert len(reads) == 1 and GROUP[0] in st.claimed
        finally:
            await bus.stop()
            store.engine.dispose()

    asyncio.run(main())


def test_a_process_keeps_a_bounded_number_of_room_states_and_replays_one_it_let_go(
        tmp_path, monkeypatch):
    from decision_map_live import cache

    monkeypatch.setattr(cache, "MAX_ROOM_STATES", 3)
    url = f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    upgrade(url)
    store = Store(url)
    dm = load_map(COALITION)
    rooms = [open_room(store, dm, list(GROUP), "http://x.invalid").room for _ in range(5)]

    async def main() -> None:
        lv = Live(store, b"k" * 32)
        for room in rooms:
            await lv.state(room)
        assert list(lv.rooms) == rooms[-3:]  # the two asked least recently are let go
        assert set(lv.read_at) == set(rooms[-3:])
        store.append(rooms[0], "member_claimed", {"member": GROUP[0]}, GROUP[0])
        _, st = await lv.state(rooms[0])  # replayed from its log, with what came since
        assert GROUP[0] in st.claimed and len(lv.rooms) == 3 and rooms[0] in lv.rooms

    try:
        asyncio.run(main())
    finally:
        store.engine.dispose()
