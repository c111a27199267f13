"""How a room's event streams learn that its log moved: a `LocalBus` in one process (SQLite),
a `PgBus` across processes through Postgres LISTEN/NOTIFY.

A wake-up is only a hint ("room R is at seq N"): a woken stream rereads the room from the
database, which holds the truth, and a stream that missed every hint still rereads it at its
next heartbeat. So a lost notification delays a page by at most one heartbeat, never loses it.

A heartbeat skips its read only where no hint can have been lost: while a PgBus has listened
without a break since the process last read the room, and that read is younger than a
heartbeat (`trusted_since`). Postgres delivers every notification to a session that listens,
so a hint is lost only with the connection. A lost connection is found within PING_EVERY +
PING_TIMEOUT (no longer than a heartbeat), and then every room's streams are woken to reread
at once, their heartbeats read again until the LISTEN is back, and the reconnect rereads
every room once more. A LocalBus vouches for nothing (a SQLite file may be written by another
process), so there every heartbeat reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

CHANNEL = "dm_rooms"  # the NOTIFY channel; payload "room:seq"
LISTEN_APP = "decision-map-listen"  # application_name of each process's LISTEN connection
BACKOFF_FIRST = 0.1  # seconds before the first reconnect after a lost LISTEN connection
BACKOFF_MAX = 5.0  # the longest wait between two reconnect attempts
CONNECT_TIMEOUT = 5  # seconds for one connection attempt
PING_EVERY = 10.0  # seconds between two checks that the LISTEN connection still answers
PING_TIMEOUT = 5.0  # seconds a check may take (PING_EVERY + this <= app.HEARTBEAT)
MAX_PAYLOAD = 200  # characters of a notification read at most (a room id and a number)
MAX_ROOMS_HEARD = 100_000  # rooms whose wake-ups are counted; past it the counts start anew


class LocalBus:
    """Wake-ups within one process: an asyncio event per room that streams wait on."""

    def __init__(self) -> None:
        self.wake: dict[str, asyncio.Event] = {}
        # wake-ups per room: every room this process heard of, one number each (with
        # Postgres, every room of the database that moved while this process ran)
        self.versions: dict[str, int] = {}
        self.epoch = 0  # wake-ups of every room (a resync)

    async def start(self) -> None:
        """Nothing to connect in one process."""

    async def stop(self) -> None:
        """Nothing to close in one process."""

    def waiter(self, room: str) -> asyncio.Event:
        """The event the room's streams wait on until the room moves."""
        return self.wake.setdefault(room, asyncio.Event())

    def version(self, room: str) -> tuple[int, int]:
        """Changes whenever the room moves (as far as this bus heard): a state read at one
        version is current for every stream woken before it, and anything cached about the
        room at one version holds while the version does (and the bus is trusted)."""
        return self.epoch, self.versions.get(room, 0)

    def wake_room(self, room: str) -> None:
        """Wake every stream of the room in this process (they reread the state)."""
        if room not in self.versions and len(self.versions) >= MAX_ROOMS_HEARD:
            self.versions.clear()  # counts that start anew must not repeat an old version:
            self.epoch += 1  # the epoch moves every room's
        self.versions[room] = self.versions.get(room, 0) + 1
        ev = self.wake.pop(room, None)
        if ev is not None:
            ev.set()

    def wake_all(self) -> None:
        """Wake every stream of every room (after a lost hint, or at shutdown); the epoch
        moves every room's version."""
        self.epoch += 1
        for room in list(self.wake):
            self.wake_room(room)

    def published(self, room: str, seq: int | None = None) -> None:
        """This process committed a write to the room: wake its streams here. (Across
        processes the write's own NOTIFY, sent in its transaction, does the rest.)"""
        self.wake_room(room)

    def trusted_since(self) -> float | None:
        """The time (time.monotonic) since which every write to the database, from any
        process, has woken this bus; None when it cannot say (here: one process's own
        writes only, so nothing is vouched for)."""
        return None


class PgBus(LocalBus):
    """LocalBus plus one LISTEN connection per process: a NOTIFY from any process wakes the
    room's streams here. A lost connection is reopened with a capped backoff, and then every
    room this process serves is woken, since the hints sent meanwhile are gone."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn
        self.connects = 0  # successful LISTENs so far (the tests watch reconnects)
        self.listening = asyncio.Event()
        self._since: float | None = None  # when the current LISTEN began (None: not up)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="decision-map-listen")
        with contextlib.suppress(asyncio.TimeoutError):  # it keeps trying in the background
            await asyncio.wait_for(self.listening.wait(), CONNECT_TIMEOUT)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def trusted_since(self) -> float | None:
        """When the LISTEN connection that is up now began listening (None while down)."""
        return self._since if self.listening.is_set() else None

    def hint(self, payload: str) -> None:
        """A notification "room:seq": wake that room's streams if any wait here."""
        room, _, _ = payload[:MAX_PAYLOAD].partition(":")
        self.wake_room(room)

    async def _listen(self) -> None:
        import psycopg

        delay = BACKOFF_FIRST
        while True:
            conn: Any = None
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.dsn, autocommit=True, application_name=LISTEN_APP,
                    connect_timeout=CONNECT_TIMEOUT)
                await conn.execute(f"LISTEN {CHANNEL}")
                # a read begun from now on misses no write: one committed before it is in
                # it, one committed after it is notified here
                self._since = time.monotonic()
                self.connects += 1
                self.listening.set()
                delay = BACKOFF_FIRST
                self.wake_all()  # whatever moved while nobody listened is reread now
                while True:
                    async for n in conn.notifies(timeout=PING_EVERY):
                        self.hint(n.payload)
                    # the connection must still answer, and in time: a half-open one would
                    # otherwise hang here while the heartbeats trust it
                    await asyncio.wait_for(conn.execute("SELECT 1"), PING_TIMEOUT)
            except Exception:  # whatever ended it, the listener must come back
                if self.listening.is_set():  # hints may be lost: reread now, not later
                    self.wake_all()
                self.listening.clear()
                self._since = None
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)


def bus_for(url: str) -> LocalBus:
    """The bus for a database URL: Postgres notifies across processes, SQLite stays local."""
    import sqlalchemy as sa

    u = sa.engine.make_url(url)
    if u.get_backend_name() != "postgresql":
        return LocalBus()
    return PgBus(u.set(drivername="postgresql").render_as_string(hide_password=False))
