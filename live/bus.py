"""How a room's event streams learn that its log moved: a `LocalBus` in one process (SQLite),
a `PgBus` across processes through Postgres LISTEN/NOTIFY.

A wake-up is only a hint ("room R is at seq N"): a woken stream rereads the room from the
database, which holds the truth, and a stream that missed every hint still rereads it at its
next heartbeat. So a lost notification delays a page by at most one heartbeat, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

CHANNEL = "dm_rooms"  # the NOTIFY channel; payload "room:seq"
LISTEN_APP = "decision-map-listen"  # application_name of each process's LISTEN connection
BACKOFF_FIRST = 0.1  # seconds before the first reconnect after a lost LISTEN connection
BACKOFF_MAX = 5.0  # the longest wait between two reconnect attempts
CONNECT_TIMEOUT = 5  # seconds for one connection attempt
PING_EVERY = 10.0  # seconds of silence after which the LISTEN connection is checked
MAX_PAYLOAD = 200  # characters of a notification read at most (a room id and a number)


class LocalBus:
    """Wake-ups within one process: an asyncio event per room that streams wait on."""

    def __init__(self) -> None:
        self.wake: dict[str, asyncio.Event] = {}
        self.versions: dict[str, int] = {}  # wake-ups per room that streams ever waited on
        self.epoch = 0  # wake-ups of every room (a resync)

    async def start(self) -> None:
        """Nothing to connect in one process."""

    async def stop(self) -> None:
        """Nothing to close in one process."""

    def waiter(self, room: str) -> asyncio.Event:
        """The event the room's streams wait on until the room moves."""
        self.versions.setdefault(room, 0)
        return self.wake.setdefault(room, asyncio.Event())

    def version(self, room: str) -> tuple[int, int]:
        """Changes whenever the room's streams are woken: a state read at one version is
        current for every stream woken before it."""
        return self.epoch, self.versions.get(room, 0)

    def wake_room(self, room: str) -> None:
        """Wake every stream of the room in this process (they reread the state)."""
        if room in self.versions:
            self.versions[room] += 1
        ev = self.wake.pop(room, None)
        if ev is not None:
            ev.set()

    def wake_all(self) -> None:
        """Wake every stream of every room (after a lost hint, or at shutdown)."""
        self.epoch += 1
        for room in list(self.wake):
            self.wake_room(room)

    def published(self, room: str, seq: int | None = None) -> None:
        """This process committed a write to the room: wake its streams here. (Across
        processes the write's own NOTIFY, sent in its transaction, does the rest.)"""
        self.wake_room(room)


class PgBus(LocalBus):
    """LocalBus plus one LISTEN connection per process: a NOTIFY from any process wakes the
    room's streams here. A lost connection is reopened with a capped backoff, and then every
    room this process serves is woken, since the hints sent meanwhile are gone."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn
        self.connects = 0  # successful LISTENs so far (the tests watch reconnects)
        self.listening = asyncio.Event()
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
                self.connects += 1
                self.listening.set()
                delay = BACKOFF_FIRST
                self.wake_all()  # whatever moved while nobody listened is reread now
                while True:
                    async for n in conn.notifies(timeout=PING_EVERY):
                        self.hint(n.payload)
                    await conn.execute("SELECT 1")  # a silent connection must still answer
            except Exception:  # whatever ended it, the listener must come back
                self.listening.clear()
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
