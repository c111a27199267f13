"""Rate limits shared by every server process on Postgres: the token buckets live in one
UNLOGGED table (migration 0003), so a client gets the stated limit however the kernel spreads
its connections over the workers.

One statement per limited request takes a token from each of its buckets in order, stopping
at the first that is empty (as the in-memory buckets do), and computes each bucket in SQL on
the database's clock: `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, one per bucket,
chained in a WITH so that each runs only when the one before it had a token.

The table stays small: a bucket idle for its whole period is full again, the same as no row,
so such rows are deleted; and past MAX_KEYS rows per limit the least recently used go (as in
memory). A prune runs in a request's thread after PRUNE_AFTER new rows or PRUNE_EVERY
seconds in a process, and at each expiry sweep round (live/ops.py, so an idle service prunes
too); one process at a time (an advisory lock), skipping rows a request holds (SKIP LOCKED),
so it never waits for a request and cannot deadlock with one. The table therefore holds at
most MAX_KEYS rows per limit plus what the processes add between two prunes. Being UNLOGGED,
it is emptied after a database crash: every bucket is full again, which is harmless.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from .limits import MAX_KEYS, Rate

TABLE = "rate_buckets"
PRUNE_AFTER = 1000  # new rows one process adds before it prunes
PRUNE_EVERY = 60.0  # seconds between a process's prunes while it adds rows at all
PRUNE_LOCK = 0x646D_526C  # the advisory lock one prune holds ("dmRl")
MAX_CHAIN = 8  # buckets one request may take from (a join takes from four)
NOW = "extract(epoch FROM clock_timestamp())"


def _level(i: int) -> str:
    """The bucket's tokens now, refilled since its last take, capped at its size."""
    return (f"least(CAST(:c{i} AS float8), b.tokens + greatest(0, excluded.at - b.at) "
            f"* CAST(:c{i} AS float8) / CAST(:p{i} AS float8))")


def take_sql(n: int) -> str:
    """The statement taking one token from each of `n` buckets in order: row i is inserted
    (a fresh bucket, full but for this token) or updated only when row i-1 had a token.
    Returns (i, tokens left, whether it had a token, whether the row is new) per bucket."""
    if not 1 <= n <= MAX_CHAIN:
        raise ValueError(f"1 to {MAX_CHAIN} buckets a request, not {n}")
    parts = []
    for i in range(n):
        level = _level(i)
        guard = f" WHERE (SELECT ok FROM c{i - 1})" if i else ""
        parts.append(
            f"c{i} AS (INSERT INTO {TABLE} AS b (name, key, tokens, at, ok) "
            f"SELECT :n{i}, :k{i}, CAST(:c{i} AS float8) - 1, {NOW}, true{guard} "
            f"ON CONFLICT (name, key) DO UPDATE SET "
            f"tokens = {level} - CASE WHEN {level} >= 1 THEN 1 ELSE 0 END, "
            f"ok = {level} >= 1, at = excluded.at "
            f"RETURNING {i} AS i, b.tokens, b.ok, (b.xmax = 0) AS fresh)")
    rows = " UNION ALL ".join(f"SELECT * FROM c{i}" for i in range(n))
    return "WITH " + ", ".join(parts) + " " + rows




def give_back_sql(n: int) -> str:
    """The statement returning one token to each of `n` buckets of one key."""
    if not 1 <= n <= MAX_CHAIN:
        raise ValueError(f"1 to {MAX_CHAIN} buckets a request, not {n}")
    values = ", ".join(f"(CAST(:n{i} AS varchar), CAST(:c{i} AS float8), "
                       f"CAST(:p{i} AS float8))" for i in range(n))
    return (f"UPDATE {TABLE} AS b SET at = {NOW}, tokens = least(v.c, b.tokens + "
            f"greatest(0, {NOW} - b.at) * v.c / v.p + 1) FROM (VALUES {values}) "
            "AS v(name, c, p) WHERE b.name = v.name AND b.key = :k")


PRUNE_IDLE = (f"DELETE FROM {TABLE} WHERE ctid IN (SELECT b.ctid FROM {TABLE} b "
              "WHERE b.name = :n AND b.at < {now} - CAST(:p AS float8) "
              "FOR UPDATE SKIP LOCKED)").replace("{now}", NOW)
PRUNE_OVER = (f"DELETE FROM {TABLE} WHERE ctid IN (SELECT b.ctid FROM {TABLE} b "
              "WHERE b.name = :n ORDER BY b.at DESC OFFSET :max FOR UPDATE SKIP LOCKED)")


class SharedBuckets:
    """The named token buckets of one Postgres database, shared by every process using it."""

    def __init__(self, engine: sa.Engine, rates: Mapping[str, Rate],
                 max_keys: int = MAX_KEYS) -> None:
        """Buckets of these rates (by limit name) in `engine`'s database."""
        self.engine, self.rates, self.max_keys = engine, dict(rates), max_keys
        self._sql = {n: sa.text(take_sql(n)) for n in range(1, MAX_CHAIN + 1)}
        self._back = {n: sa.text(give_back_sql(n)) for n in range(1, MAX_CHAIN + 1)}
        self._lock = threading.Lock()  # guards the counters below (takes run in threads)
        self._fresh, self._pruned_at = 0, time.monotonic()

    def take(self, checks: Sequence[tuple[str, str]]) -> tuple[int, float] | None:
        """Take one token from each (limit, key) in order, stopping at the first empty
        bucket: None when every one had a token, else (its index, seconds until it has
        one). One statement, committed on its own."""
        params: dict[str, object] = {}
        for i, (name, key) in enumerate(checks):
            rate = self.rates[name]
            params.update({f"n{i}": name, f"k{i}": key[:200], f"c{i}": rate.count,
                           f"p{i}": rate.per})
        with self.engine.connect() as c:
            c = c.execution_options(isolation_level="AUTOCOMMIT")
            rows = c.execute(self._sql[len(checks)], params).all()
        refused = None
        for i, tokens, ok, _fresh in sorted(rows):
            if not ok:
                rate = self.rates[checks[i][0]]
                refused = (i, (1 - tokens) * rate.per / rate.count)
                break
        self._count(sum(1 for r in rows if r[3]))
        return refused

    def give_back(self, names: Sequence[str], key: str) -> None:
        """Return the tokens taken from these limits' buckets of `key`, for something that
        turned out not to count (a right join code); one statement."""
        params: dict[str, object] = {"k": key[:200]}
        for i, name in enumerate(names):
            rate = self.rates[name]
            params.update({f"n{i}": name, f"c{i}": rate.count, f"p{i}": rate.per})
        with self.engine.connect() as c:
            c = c.execution_options(isolation_level="AUTOCOMMIT")
            c.execute(self._back[len(names)], params)

    def _count(self, fresh: int) -> None:
        """Note new rows; prune when enough were added, or enough time went by."""
        with self._lock:
            self._fresh += fresh
            due = (self._fresh >= PRUNE_AFTER
                   or time.monotonic() - self._pruned_at >= PRUNE_EVERY)
            if due:
                self._fresh, self._pruned_at = 0, time.monotonic()
        if due:
            self.prune()

    def prune(self) -> int:
        """Delete the rows of buckets idle for their whole period (full again, as good as
        none) and, past `max_keys` a limit, the least recently used; the rows deleted (0 when
        another process is pruning)."""
        with self.engine.begin() as c:
            got = c.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"),
                            {"k": PRUNE_LOCK}).scalar()
            if not got:
                return 0
            deleted = 0
            for name, rate in self.rates.items():
                deleted += c.execute(sa.text(PRUNE_IDLE), {"n": name, "p": rate.per}).rowcount
                deleted += c.execute(sa.text(PRUNE_OVER),
                                     {"n": name, "max": self.max_keys}).rowcount
            return deleted

    def rows(self) -> int:
        """How many buckets the table holds now."""
        with self.engine.connect() as c:
            return int(c.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar() or 0)
