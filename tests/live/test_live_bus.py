"""The bus inside one process: a room's streams woken together cost one database read, not
one each, and still each get the new frame."""

from __future__ import annotations

import pytest

sa = pytest.importorskip("sqlalchemy")

from tests.live.conftest import GROUP, TIMEOUT  # noqa: E402
from tests.live.test_live_processes import Stream  # noqa: E402

pytestmark = pytest.mark.databases("sqlite", "postgres")
STREAMS_PER_MEMBER = 3  # 15 streams: as many as a room of 15 phones


def test_a_rooms_streams_woken_together_read_the_database_once(room, live_server):
    store = live_server.live.store
    reads: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "FROM room_events" in statement:
            reads.append(statement)

    streams = [Stream(live_server.base, room.members[n].http.cookies, f"/r/{room.id}/events")
               for n in GROUP for _ in range(STREAMS_PER_MEMBER)]
    try:
        seq = room.fac.get(f"/r/{room.id}/state").json()["seq"]
        for s in streams:
            s.wait_for(seq, TIMEOUT)
        sa.event.listen(store.engine, "before_cursor_execute", count)
        try:
            room.act("open")  # its own three requests read the log once each
            seq = room.fac.get(f"/r/{room.id}/state").json()["seq"]  # and this one
            for s in streams:
                s.wait_for(seq, TIMEOUT)
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", count)
        # one read each would be 15 reads for the streams alone
        assert len(reads) < len(streams) // 2, f"{len(reads)} reads for {len(streams)} streams"
    finally:
        for s in streams:
            s.close()
