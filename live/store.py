"""Where a room lives: SQLAlchemy Core tables, and the append-only event log with a per-room
sequence number. The database holds the truth; everything a page shows is replayed from it.

The schema is made by the Alembic migration in migrations/versions (never by `create_all`),
so an existing database file is upgraded the same way a new one is created.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa

metadata = sa.MetaData()

rooms = sa.Table(
    "rooms", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("map_path", sa.Text, nullable=False),
    sa.Column("map_sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("join_code", sa.String(6), nullable=False, unique=True),
    sa.Column("facilitator_key_hash", sa.String(64), nullable=False),
    sa.Column("projector_key_hash", sa.String(64), nullable=False),
    sa.Column("head_seq", sa.Integer, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

room_events = sa.Table(
    "room_events", metadata,
    sa.Column("room_id", sa.String(32), sa.ForeignKey("rooms.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)

members = sa.Table(
    "members", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room_id", sa.String(32), sa.ForeignKey("rooms.id"), nullable=False),
    sa.Column("roster_name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=False),
    sa.UniqueConstraint("room_id", "roster_name"),
)

# The join code's alphabet: capitals and digits without lookalikes (0/O, 1/I/L, 2/Z, 5/S):
# 27 symbols, so 27**6 = 3.9e8 codes.
CODE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
# Every event a room's log may hold.
EVENT_KINDS = frozenset({
    "room_created", "member_claimed", "vote_opened", "ballot_cast", "vote_closed",
    "revote", "step_submitted", "step_undone", "paused", "resumed", "facilitator_key_rotated",
    # secret ballots (the ballot itself goes to live/secret.py's table, never here),
    # latecomers and leavers, and the facilitator's toggle for names not on the roster
    "secret_voted", "member_joined", "member_left", "roster_opened",
})
# The columns of a room its owner may change after it opened (pause, resume, new keys).
CHANGEABLE = frozenset({"status", "join_code", "facilitator_key_hash", "projector_key_hash"})
MAX_EVENTS_PER_ROOM = 100_000
# The events that move a room on (a facilitator's buttons), and how the line starts that a
# facilitator gets who pressed a button on a page that was already out of date.
MOVES = {"vote_opened": "The vote was already opened", "vote_closed": "The vote was already "
         "closed", "revote": "The vote was already reopened for a revote",
         "step_submitted": "The vote was already accepted",
         "step_undone": "The step was already taken back",
         "paused": "The room was already paused", "resumed": "The room was already resumed"}
NOTIFY_CHANNEL = "dm_rooms"  # Postgres: each write's NOTIFY (see live/bus.py)
APPEND_TRIES = 5  # Postgres: appends retried after losing a race for the same seq
POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT = 5, 10, 10  # Postgres connections per process


# The read every woken stream and every page makes: built once, not per call.
EVENTS_AFTER = sa.select(room_events.c.seq, room_events.c.kind, room_events.c.payload,
                         room_events.c.actor).where(
    room_events.c.room_id == sa.bindparam("room"),
    room_events.c.seq > sa.bindparam("after")).order_by(room_events.c.seq)


class StoreError(Exception):
    """A write the log refuses (a stale sequence number, an unknown room, a full log)."""


class Moved(StoreError):
    """The room moved on after the seq the writer saw (another facilitator, maybe in
    another process, pressed a button first). `seq` is the event that moved it, so the
    refreshed page can say what it was and who did it without the line riding in a URL."""

    def __init__(self, line: str, seq: int = 0) -> None:
        super().__init__(line)
        self.seq = seq


@dataclass(frozen=True)
class Event:
    """One entry of a room's log."""

    seq: int
    kind: str
    payload: dict[str, Any]
    actor: str


def moved_line(kind: str | None, by: str | None = None) -> str:
    """The line for a facilitator whose page was out of date: what moved the room first,
    and who did it when that facilitator gave a name (`by` in the event's payload)."""
    if kind is None or (kind not in MOVES and kind != "secret_voted"):
        return "The room moved on meanwhile; look again."
    if kind == "secret_voted":  # a close whose tally was read before this ballot landed
        return "A secret vote came in meanwhile; this page shows the room as it is now."
    who = by if isinstance(by, str) and by else "another facilitator"
    return f"{MOVES[kind]} by {who}; this page shows the room as it is now."


def _by(payload: str) -> str | None:
    """The facilitator's name an event's payload carries (`by`), if any."""
    try:
        by = json.loads(payload).get("by")
    except (ValueError, AttributeError):
        return None
    return by if isinstance(by, str) else None


def new_code() -> str:
    """A fresh 6-character join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))



def database_url(value: str | None, data_dir: Path) -> str:
    """The database to use: `value`, or a SQLite file in the user's data folder. A room must
    outlive the process, so an in-memory database is refused. Postgres goes through psycopg 3:
    `postgresql://` (and `postgres://`) mean `postgresql+psycopg://`. An empty value is
    refused, not taken for the default: it is a variable that was not set
    (`--database "$DECISION_MAP_DATABASE"`), and the laptop's file is not what was meant."""
    if value is not None and not value.strip():
        raise StoreError("empty: give sqlite:///PATH or postgresql://USER@HOST/NAME (is the "
                         "variable that should hold it set in this shell?)")
    if value is None:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = data_dir / "live.sqlite3"
        _private_file(path)
        return f"sqlite:///{path}"
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    try:
        url = sa.engine.make_url(value)
    except sa.exc.ArgumentError:
        raise StoreError("not a database URL; give sqlite:///PATH or "
                         "postgresql://USER@HOST/NAME") from None
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise StoreError("an in-memory database would lose the room when the server stops; "
                         "give a file, e.g. --database sqlite:///meeting.sqlite3")
    if backend == "postgresql" and url.get_driver_name() != "psycopg":
        raise StoreError(f"the {url.get_driver_name()} driver is not supported; "
                         "give postgresql://... (psycopg 3)")
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"{backend} databases are not supported; give sqlite:///PATH or "
                         "postgresql://USER@HOST/NAME")
    if backend == "sqlite":
        _private_file(Path(url.database))
    return value


def _private_file(path: Path) -> None:
    """Make a new SQLite file readable by its owner only (0600) before SQLite opens it: it
    holds the rooms' names, votes and reasons, and SQLite gives its -wal and -shm files the
    same mode. An existing file keeps its mode; a missing folder is left for SQLite to name."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # there already, or a folder that is not there: SQLite says which
        pass


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database's schema to the newest migration."""
    from alembic import command

    problem = schema_problem(url)
    if problem is not None and problem.startswith("unknown"):
        raise StoreError(problem)
    command.upgrade(_alembic_config(url), "head")


def schema_problem(url: str) -> str | None:
    """Why this code cannot serve the database's schema (None when it is at the newest
    migration this code knows): a schema not yet upgraded, or one made by newer code."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(url))
    head = script.get_current_head()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            current = MigrationContext.configure(c).get_current_revision()
    finally:
        engine.dispose()
    if current == head:
        return None
    known = {r.revision for r in script.walk_revisions()}
    if current is not None and current not in known:
        return (f"unknown schema {current}: the database was upgraded by a newer "
                f"decision-map (this one knows up to {head}); install that version")
    return (f"the database's schema is at {current or 'nothing'}, not {head}: "
            "run `decision-map db upgrade --database URL` first")


class Store:
    """The rooms of one database. With SQLite one process writes and a lock orders the
    appends; with Postgres many processes (and threads) write, each append locks its room's
    row, and the unique (room_id, seq) key is the last word on a race. Its methods block:
    the app calls them on worker threads (cache.Live.db)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = sa.engine.make_url(url).get_backend_name() == "postgresql"
        if self.postgres:
            self.engine = sa.create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE,
                                           max_overflow=POOL_OVERFLOW,
                                           pool_timeout=POOL_TIMEOUT)
        else:
            self.engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(conn: Any, _record: Any) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()
        # SQLite takes one writer at a time: this process's writers queue here rather than
        # in its busy timeout. Postgres needs no lock of ours (each append locks its room's
        # row, and the unique keys settle races, as across processes), and must not have
        # one: a write waiting for one room's row would hold up every room's writes here.
        self._lock: contextlib.AbstractContextManager[Any] = (
            contextlib.nullcontext() if self.postgres else threading.Lock())
        # Reads of one statement need no transaction: in autocommit they cost one round
        # trip, not three (BEGIN, the query, ROLLBACK). The same pool as the writes.
        self.reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # The server calls these methods on worker threads, at most this many at once: as
        # many as the pool holds (POOL_SIZE + POOL_OVERFLOW; SQLAlchemy's default pool for a
        # SQLite file is the same 5 + 10), so a thread never waits for a connection, and
        # the calls beyond it wait their turn on the event loop (cache.Live.db, limits.py).
        self.threads = anyio.CapacityLimiter(POOL_SIZE + POOL_OVERFLOW)

    def create_room(self, room_id: str, map_path: str, map_sha256: str, facilitator_hash: str,
                    projector_hash: str, payload: dict[str, Any]) -> str:
        """A new room with its first event; returns its join code."""
        with self._lock, self.engine.begin() as c:
            for _ in range(20):  # codes are random; a clash is rare and retried
                code = new_code()
                if c.execute(sa.select(rooms.c.id).where(rooms.c.join_code == code)).first():
                    continue
                c.execute(rooms.insert().values(
                    id=room_id, map_path=map_path, map_sha256=map_sha256, status="open",
                    join_code=code, facilitator_key_hash=facilitator_hash,
                    projector_key_hash=projector_hash, head_seq=1, created=time.time()))
                c.execute(room_events.insert().values(
                    room_id=room_id, seq=1, kind="room_created", payload=json.dumps(payload),
                    actor="server", at=time.time()))
                return code
        raise StoreError("could not find a free join code")

    def room(self, room_id: str) -> dict[str, Any] | None:
        with self.reader.connect() as c:
            row = c.execute(sa.select(rooms).where(rooms.c.id == room_id)).mappings().first()
        return dict(row) if row else None

    def room_with_member(self, room_id: str, token_hash: str | None) -> dict[str, Any] | None:
        """The room's row, plus `member`: the roster name that holds `token_hash` in it
        (None: no such member). One round trip, as every request asks both."""
        member = sa.select(members.c.roster_name).where(
            members.c.room_id == rooms.c.id, members.c.token_hash == token_hash
        ).limit(1).scalar_subquery()
        with self.reader.connect() as c:
            row = c.execute(sa.select(rooms, member.label("member")).where(
                rooms.c.id == room_id)).mappings().first()
        return dict(row) if row else None

    def room_by_code(self, code: str) -> str | None:
        """The open room with this join code (a paused room's code no longer works)."""
        with self.reader.connect() as c:
            return c.execute(sa.select(rooms.c.id).where(
                rooms.c.join_code == code.strip().upper()[:6], rooms.c.status == "open")
            ).scalar()

    def change_room(self, room_id: str, *, fresh_code: bool = False, **values: str) -> None:
        """Change the room's status or key hashes, and give it a fresh join code if asked
        (a room resumed at a later meeting does not take the old code back)."""
        unknown = set(values) - CHANGEABLE
        if unknown:
            raise StoreError(f"a room's {sorted(unknown)} cannot be changed")
        with self._lock, self.engine.begin() as c:
            if fresh_code:
                for _ in range(20):
                    code = new_code()
                    if not c.execute(sa.select(rooms.c.id).where(
                            rooms.c.join_code == code)).first():
                        values["join_code"] = code
                        break
                else:
                    raise StoreError("could not find a free join code")
            c.execute(rooms.update().where(rooms.c.id == room_id).values(**values))

    def head(self, room_id: str) -> int:
        with self.reader.connect() as c:
            return c.execute(sa.select(rooms.c.head_seq).where(rooms.c.id == room_id)
                             ).scalar() or 0

    def append(self, room_id: str, kind: str, payload: dict[str, Any], actor: str,
               expected_seq: int | None = None, unmoved_since: int | None = None,
               also_moving: tuple[str, ...] = ()) -> int:
        """Add one event at `head + 1` in one transaction (with Postgres, plus a NOTIFY that
        goes out at commit). A stale `expected_seq` is refused, and so is any write when a
        move (`MOVES`, and the kinds in `also_moving`) came after `unmoved_since`, the seq
        the writer's page (or tally) was read at."""
        if kind not in EVENT_KINDS:
            raise StoreError(f"unknown event kind {kind!r}")
        for _ in range(APPEND_TRIES):
            try:
                with self._lock, self.engine.begin() as c:
                    return self.append_in(c, room_id, kind, payload, actor, expected_seq,
                                          unmoved_since, also_moving)
            except sa.exc.IntegrityError:
                continue  # another process took this seq first: read the head again
        raise StoreError("the room is too busy to take this now; try again")

    def append_in(self, c: sa.Connection, room_id: str, kind: str, payload: dict[str, Any],
                  actor: str, expected_seq: int | None = None,
                  unmoved_since: int | None = None,
                  also_moving: tuple[str, ...] = ()) -> int:
        """`append` inside a transaction the caller holds (with the lock), so a write to
        another table and its event commit together. The room's row stays locked until
        that transaction ends (Postgres), so writers of one room from any process queue."""
        if kind not in EVENT_KINDS:
            raise StoreError(f"unknown event kind {kind!r}")
        head = c.execute(sa.select(rooms.c.head_seq).where(rooms.c.id == room_id)
                         .with_for_update()).scalar()
        if head is None:
            raise StoreError("no such room")
        if expected_seq is not None and expected_seq != head:
            raise StoreError("the room moved on meanwhile; look again")
        if unmoved_since is not None and head > unmoved_since:
            moved = c.execute(sa.select(room_events.c.seq, room_events.c.kind,
                                        room_events.c.payload).where(
                room_events.c.room_id == room_id, room_events.c.seq > unmoved_since,
                room_events.c.kind.in_([*MOVES, *also_moving])
            ).order_by(room_events.c.seq).limit(1)).first()
            if moved is not None:
                raise Moved(moved_line(moved.kind, _by(moved.payload)), moved.seq)
        if head >= MAX_EVENTS_PER_ROOM:
            raise StoreError("this room's log is full")
        seq = head + 1
        c.execute(room_events.insert().values(
            room_id=room_id, seq=seq, kind=kind, payload=json.dumps(payload), actor=actor,
            at=time.time()))
        c.execute(rooms.update().where(rooms.c.id == room_id).values(head_seq=seq))
        if self.postgres:  # delivered when the transaction commits, never before
            c.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, f"{room_id}:{seq}")))
        return seq

    def last_move(self, room_id: str) -> int:
        """The seq of the room's last move (0 when none): what a facilitator whose page was
        out of date is told about (see `move_line`)."""
        with self.engine.connect() as c:
            return c.execute(sa.select(room_events.c.seq).where(
                room_events.c.room_id == room_id, room_events.c.kind.in_(MOVES)
            ).order_by(room_events.c.seq.desc()).limit(1)).scalar() or 0

    def move_line(self, room_id: str, seq: int) -> str:
        """The line for the move at `seq` (`Moved.seq`, `last_move`): what it was and which
        facilitator made it. Any other seq gives the plain "look again" line."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(room_events.c.kind, room_events.c.payload).where(
                room_events.c.room_id == room_id, room_events.c.seq == seq)).first()
        if row is None:
            return moved_line(None)
        return moved_line(row.kind, _by(row.payload))

    def events(self, room_id: str, after: int = 0) -> list[Event]:
        """The room's log after seq `after`, in order (the statement is built once)."""
        with self.reader.connect() as c:
            rows = c.execute(EVENTS_AFTER, {"room": room_id, "after": after}).all()
        return [Event(seq, kind, json.loads(payload), actor)
                for seq, kind, payload, actor in rows]

    def add_member(self, room_id: str, name: str, token_hash: str) -> bool:
        """Tie a roster name to a member token; False when the name is taken."""
        try:
            with self._lock, self.engine.begin() as c:
                taken = c.execute(sa.select(members.c.id).where(
                    members.c.room_id == room_id, members.c.roster_name == name)).first()
                if taken:
                    return False
                c.execute(members.insert().values(room_id=room_id, roster_name=name,
                                                  token_hash=token_hash,
                                                  claimed_at=time.time()))
                return True
        except sa.exc.IntegrityError:  # claimed at the same moment through another process
            return False

    def member_for(self, room_id: str, token_hash: str) -> str | None:
        with self.reader.connect() as c:
            return c.execute(sa.select(members.c.roster_name).where(
                members.c.room_id == room_id, members.c.token_hash == token_hash)).scalar()

    def latest_room(self) -> str | None:
        """The room last opened (for reprinting links)."""
        with self.reader.connect() as c:
            return c.execute(sa.select(rooms.c.id).order_by(rooms.c.created.desc())).scalar()
