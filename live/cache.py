"""What one server process shares between requests: each room's state replayed from its log
and kept in step with it, the room rows and members' names its role checks read, and the
bus that wakes a room's streams. Every cache here is bounded, and each is only a copy of the
database, read again when the bus cannot vouch for it."""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from decision_map.io.loader import DecisionMap

from .bus import LocalBus
from .config import STREAMS_DEFAULT
from .room import RoomState, replay, room_map
from .store import Store

HEARTBEAT = 15.0  # seconds between SSE heartbeats (each carries the current seq)
# Database calls run on worker threads, at most as many at once per process as the store's
# connection pool holds (Store.threads: POOL_SIZE + POOL_OVERFLOW = 15), so a call on its
# thread never waits for a connection; the calls beyond wait on the event loop for a turn.
# (Drawing, the report and static files use anyio's own default limiter, 40 threads.)
MAX_CACHED_ROOMS = 10_000  # rooms whose rows (key hashes, members' names) a process keeps
MAX_ROOM_STATES = 1_000  # rooms whose replayed state a process keeps (least recent go first)
T = TypeVar("T")


@dataclass
class Live:
    """What the app shares between requests: the store, the rooms' states, the wake-ups
    (the bus: in-process with SQLite, LISTEN/NOTIFY across processes with Postgres).

    The states live on the event loop: only the database calls go to threads (`db`), and a
    room's catch-up runs under the room's lock, so it never runs twice at once nor applies
    an event twice."""

    store: Store
    secret: bytes
    rooms: OrderedDict[str, tuple[DecisionMap, RoomState]] = field(
        default_factory=OrderedDict)  # the most recently asked last
    bus: LocalBus = field(default_factory=LocalBus)
    pictures: dict[tuple[Any, ...], bytes] = field(default_factory=dict)
    stopping: asyncio.Event | None = None
    streams: int = 0
    max_streams: int = STREAMS_DEFAULT  # open SSE streams per process (config.MAX_STREAMS)
    # each room's last read of its log: the bus version before it, and when it began
    read_at: dict[str, tuple[tuple[int, int], float]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    # each room's row (its key hashes) as last read: the bus version then, when the read
    # began; and the members' names by token hash (a claimed name never changes hands)
    keys: dict[str, tuple[tuple[int, int], float, dict[str, Any]]] = field(
        default_factory=dict)
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    async def db(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """`fn(*args, **kw)` on a worker thread (at most Store.threads at once): a query
        that waits (a lock held elsewhere, a slow disk) must not hold up every stream."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kw),
                                              limiter=self.store.threads)

    def vouched(self, began: float, now: float) -> bool:
        """Whether a read begun at `began` still holds at `now` unless the bus said
        otherwise: it is younger than a heartbeat, and the bus has listened without a break
        since before it (bus.py: no hint can have been lost since)."""
        trusted = self.bus.trusted_since()
        return trusted is not None and trusted <= began and now - began < HEARTBEAT

    async def room_keys(self, room: str, member_hash: str | None, keys: bool = True
                        ) -> tuple[dict[str, Any] | None, str | None]:
        """The room's row (None: no such room) and the name of the member whose token has
        `member_hash`. The row read last serves while the bus vouches for it (`vouched`) and
        the room has not moved since: a new key is written with an event, which wakes the
        bus. A member's name never changes hands, so when the caller needs no key hashes
        (`keys` false) a name seen here serves while the row is vouched for, moved or not;
        a room deleted meanwhile is noticed within a heartbeat."""
        now, version = time.monotonic(), self.bus.version(room)
        held = self.keys.get(room)
        if held is not None and self.vouched(held[1], now):
            name = self.names.get(room, {}).get(member_hash) if member_hash else None
            if (name is not None and not keys) or (
                    held[0] == version and (name is not None or member_hash is None)):
                return held[2], name
        began = time.monotonic()
        row = await self.db(self.store.room_with_member, room, member_hash)
        if row is None:
            self.keys.pop(room, None)
            return None, None
        name = row.pop("member")
        if len(self.keys) >= MAX_CACHED_ROOMS:
            self.keys.clear()
            self.names.clear()
        self.keys[room] = (version, began, row)
        if name is not None and member_hash is not None:
            self.names.setdefault(room, {})[member_hash] = name
        return row, name

    async def state(self, room: str, *, woken: bool = False,
                    beat: bool = False) -> tuple[DecisionMap, RoomState]:
        """The room's map and state, caught up with its log by a read that began after this
        call did, so concurrent callers share one read. A stream woken by the bus (`woken`)
        takes any read begun since the wake-up; a heartbeat (`beat`), or a caller whose
        write is checked by the store anyway, takes one the bus vouches for (`vouched`)."""
        asked, version = time.monotonic(), self.bus.version(room)
        lock = self.locks.get(room)
        if lock is None:
            lock = self.locks[room] = asyncio.Lock()
        async with lock:
            if room not in self.rooms:
                began = time.monotonic()
                self.rooms[room] = await self.db(self._replayed, room)
                self.read_at[room] = (version, began)
                self._evict()
                return self.rooms[room]
            self.rooms.move_to_end(room)
            dm, st = self.rooms[room]
            read_version, began = self.read_at.get(room, ((-1, -1), -1.0))
            if (began >= asked or (woken and read_version >= version)
                    or (beat and self.vouched(began, asked))):
                return dm, st
            version, began = self.bus.version(room), time.monotonic()
            for e in await self.db(self.store.events, room, after=st.seq):
                if e.seq > st.seq:
                    st.apply(e)
            self.read_at[room] = (version, began)
            return dm, st

    def _evict(self) -> None:
        """Past MAX_ROOM_STATES, forget the least recently asked rooms that no one is
        reading now: a state is only a cache of the log, replayed again when asked."""
        for room in list(self.rooms):
            if len(self.rooms) <= MAX_ROOM_STATES:
                return
            lock = self.locks.get(room)
            if lock is None or not lock.locked():
                self.forget((room,))

    def forget(self, rooms: tuple[str, ...]) -> None:
        """Drop rooms from every cache of this process (deleted rooms, or evicted ones)."""
        gone = set(rooms)
        for room in gone:
            self.rooms.pop(room, None)
            self.read_at.pop(room, None)
            self.keys.pop(room, None)
            self.names.pop(room, None)
            lock = self.locks.get(room)
            if lock is not None and not lock.locked():
                del self.locks[room]
        for key in [k for k in self.pictures if k[0] in gone]:
            self.pictures.pop(key, None)

    def _replayed(self, room: str) -> tuple[DecisionMap, RoomState]:
        """The room's map and its state replayed from the whole log (on a worker thread:
        it reads the database and the map file)."""
        events = self.store.events(room)
        if not events:
            raise KeyError(room)
        dm = room_map(events[0].payload)
        return dm, replay(dm, events)

    def publish(self, room: str) -> None:
        """Wake every stream of the room (they reread the state themselves)."""
        self.bus.published(room)

    def waiter(self, room: str) -> asyncio.Event:
        return self.bus.waiter(room)
