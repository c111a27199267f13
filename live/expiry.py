"""Rooms expire: an unfinished room is deleted a set time after its last event, a finished
one (whose report people may still want) a longer set time after it. Deleting a room deletes
its rows from every table that has a `room_id` column, found in the database itself, so a
table a later migration adds is covered without a change here.

No schema of its own: a room's last activity is its newest event's `at` (the event at
`head_seq`), or `created`. Whether its walk finished is read by replaying its log through
the map, as the pages do, and remembered per (room, head_seq) by a long-running sweeper.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from .logs import log
from .store import Store

MAX_ROOMS_PER_SWEEP = 1000  # rooms looked at in one sweep (the rest wait for the next)
MAX_SWEEP_SECONDS = 30.0  # one sweep stops after this long, and goes on at the next
MAX_VERDICTS = 100_000  # finished-or-not answers a sweeper remembers at most
SWEEP_LOCK = 0x646D_5377  # Postgres: the advisory lock one sweep holds ("dmSw")
MAX_LOCK_WAIT = 60  # seconds `db expire` waits for a server's sweep to end


@dataclass(frozen=True)
class Swept:
    """What one sweep did."""

    rooms: int = 0  # rooms deleted
    rows: int = 0  # rows deleted across every table
    kept: int = 0  # finished rooms past the unfinished limit, kept for their report
    ids: tuple[str, ...] = ()  # the rooms deleted
    skipped: bool = False  # another process was sweeping the same database: nothing done


@contextmanager
def sweeping_alone(engine: sa.Engine, wait: bool = False) -> Iterator[bool]:
    """Whether this process may sweep now. On Postgres every worker runs a sweeper, so one
    sweep holds a transaction-scoped advisory lock, on a connection of its own, for as long
    as it runs: the others skip (or, with `wait`, wait at most MAX_LOCK_WAIT seconds). The
    lock ends with the transaction, or with the connection if the process dies. SQLite is
    served by one process: always yes."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as c, c.begin():
        if wait:
            c.execute(sa.text(f"SET LOCAL lock_timeout = '{MAX_LOCK_WAIT}s'"))
            c.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK})
            yield True
        else:
            yield bool(c.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"),
                                 {"k": SWEEP_LOCK}).scalar())


def room_tables(engine: sa.Engine) -> list[sa.Table]:
    """Every table holding a room's rows (a `room_id` column), children before parents, as
    the database has them now; `rooms` itself comes last."""
    md = sa.MetaData()
    md.reflect(engine)
    ordered = [t for t in reversed(md.sorted_tables) if "room_id" in t.c]
    return [*ordered, md.tables["rooms"]]


def candidates(engine: sa.Engine, idle_before: float, limit: int) -> list[tuple[str, int, float]]:
    """Rooms with no event since `idle_before` (epoch seconds), the longest idle first:
    (id, head_seq, last activity)."""
    md = sa.MetaData()
    rooms = sa.Table("rooms", md, autoload_with=engine)
    events = sa.Table("room_events", md, autoload_with=engine)
    last = sa.func.coalesce(events.c.at, rooms.c.created)
    q = (sa.select(rooms.c.id, rooms.c.head_seq, last.label("last"))
         .select_from(rooms.outerjoin(events, sa.and_(events.c.room_id == rooms.c.id,
                                                      events.c.seq == rooms.c.head_seq)))
         .where(last < idle_before).order_by(last).limit(limit))
    with engine.connect() as c:
        return [(r.id, r.head_seq, r.last) for r in c.execute(q)]


def delete_room(engine: sa.Engine, tables: list[sa.Table], room: str, head: int) -> int:
    """Delete every row of the room in one transaction, unless it moved since it was judged
    (its head_seq changed); the number of rows deleted (0: it was kept or already gone)."""
    rooms = tables[-1]
    with engine.begin() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("PRAGMA secure_delete=ON")  # freed pages are zeroed
        q = sa.select(rooms.c.head_seq).where(rooms.c.id == room)
        if engine.dialect.name != "sqlite":
            q = q.with_for_update()
        now_head = c.execute(q).scalar()
        if now_head is None or now_head != head:
            return 0
        rows = 0
        for t in tables[:-1]:
            rows += c.execute(t.delete().where(t.c.room_id == room)).rowcount or 0
        rows += c.execute(rooms.delete().where(rooms.c.id == room)).rowcount or 0
        return rows


def finished_by_replay(store: Store, room: str) -> bool:
    """Whether the room's walk reached its end, by replaying its log through its map. A room
    whose map can no longer be read cannot be shown either: it counts as unfinished."""
    from .room import replay, room_map

    events = store.events(room)
    if not events:
        return False
    try:
        dm = room_map(events[0].payload)
        return bool(replay(dm, events).walk.finished)
    except Exception as e:  # any unreadable map or log: no report to keep
        log(logging.WARNING, "room unreadable while judging expiry", room=room,
            reason=type(e).__name__)
        return False


@dataclass
class Sweeper:
    """Deletes expired rooms of one database, a bounded number per sweep; remembers which
    rooms are finished (by room and head_seq) so a kept report is not replayed each time."""

    store: Store
    room_ttl: int
    report_ttl: int
    verdicts: dict[tuple[str, int], bool] = field(default_factory=dict)
    finished: Callable[[Store, str], bool] = finished_by_replay

    def sweep(self, now: float | None = None, limit: int = MAX_ROOMS_PER_SWEEP,
              dry_run: bool = False, wait: bool = False) -> Swept:
        """One pass: judge the rooms idle past the shorter limit, delete the expired ones;
        skipped while another process sweeps the same database (`wait`: wait for it)."""
        if dry_run:  # deletes nothing: needs no lock
            return self._sweep(now, limit, dry_run)
        with sweeping_alone(self.store.engine, wait) as alone:
            return self._sweep(now, limit, dry_run) if alone else Swept(skipped=True)

    def _sweep(self, now: float | None, limit: int, dry_run: bool) -> Swept:
        """The pass itself (see `sweep`)."""
        now = time.time() if now is None else now
        engine = self.store.engine
        shorter = min(self.room_ttl, self.report_ttl)
        found = candidates(engine, now - shorter, limit)
        if not found:
            return Swept()
        tables = room_tables(engine)
        deadline = time.monotonic() + MAX_SWEEP_SECONDS
        rooms = rows = kept = 0
        ids: list[str] = []
        for room, head, last in found:
            if time.monotonic() > deadline:
                break
            idle = now - last
            if idle < max(self.room_ttl, self.report_ttl):
                done = self._finished(room, head)
                limit_s = self.report_ttl if done else self.room_ttl
                if idle < limit_s:
                    kept += 1
                    continue
            if dry_run:
                rooms += 1
                ids.append(room)
                continue
            n = delete_room(engine, tables, room, head)
            if n:
                rooms, rows = rooms + 1, rows + n
                ids.append(room)
                self.verdicts.pop((room, head), None)
        if rooms and not dry_run and engine.dialect.name == "sqlite":
            with engine.connect() as c:  # old copies of the deleted pages leave the WAL
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return Swept(rooms, rows, kept, tuple(ids))

    def _finished(self, room: str, head: int) -> bool:
        """Whether the room (as of `head`) finished, replayed once per head."""
        key = (room, head)
        if key not in self.verdicts:
            if len(self.verdicts) >= MAX_VERDICTS:
                self.verdicts.clear()
            self.verdicts[key] = self.finished(self.store, room)
        return self.verdicts[key]
