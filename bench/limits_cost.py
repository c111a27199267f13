"""What sharing the rate limits through Postgres costs a post: the one statement that takes a
post's two tokens (its address's and its room's), timed alone and as the middleware awaits it
(in a thread, many posts at once), beside the in-memory buckets SQLite's one process uses.

    python -m bench.limits_cost [--posts 2000] [--database postgresql://...]

Without --database a PostgreSQL is started for the run (Debian's server, as the tests start
it: fsync off). Every loop is bounded by --posts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

MAX_POSTS = 100_000
ADDRESSES, ROOMS, AT_ONCE = 50, 10, 16


def pct(xs: list[float], p: float) -> float:
    """The p-th percentile of `xs`, in milliseconds (xs in seconds)."""
    xs = sorted(xs)
    return 1e3 * xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def checks(i: int) -> list[tuple[str, str]]:
    """Post i's two buckets: one of ADDRESSES addresses, one of ROOMS rooms."""
    return [("posts_ip", f"192.0.2.{i % ADDRESSES}"), ("posts_room", f"room{i % ROOMS}")]


def run(posts: int, url: str) -> dict[str, float]:
    """The timings, in milliseconds."""
    from decision_map_live.limits import Buckets, Limits
    from decision_map_live.shared_buckets import SharedBuckets
    from decision_map_live.store import Store, upgrade
    from starlette.concurrency import run_in_threadpool

    upgrade(url)
    store = Store(url)
    lim = Limits()
    rates = {"posts_ip": lim.posts_ip, "posts_room": lim.posts_room}
    shared = SharedBuckets(store.engine, rates)
    for i in range(50):  # warm the pool and the plan
        shared.take(checks(i))
    alone = []
    for i in range(posts):
        t0 = time.perf_counter()
        shared.take(checks(i))
        alone.append(time.perf_counter() - t0)

    async def awaited(at_once: int) -> list[float]:
        out: list[float] = []
        todo = iter(range(posts))

        async def worker() -> None:
            for i in todo:
                t0 = time.perf_counter()
                await run_in_threadpool(shared.take, checks(i))
                out.append(time.perf_counter() - t0)
        await asyncio.gather(*(worker() for _ in range(at_once)))
        return out

    one = asyncio.run(awaited(1))
    t0 = time.perf_counter()
    busy = asyncio.run(awaited(AT_ONCE))
    wall = time.perf_counter() - t0
    memory = {n: Buckets(r) for n, r in rates.items()}
    mem = []
    for i in range(posts):
        t0 = time.perf_counter()
        for n, k in checks(i):
            memory[n].take(k)
        mem.append(time.perf_counter() - t0)
    store.engine.dispose()
    return {"alone_p50": pct(alone, 50), "alone_p95": pct(alone, 95),
            "one_p50": pct(one, 50), "one_p95": pct(one, 95),
            "awaited_p50": pct(busy, 50), "awaited_p95": pct(busy, 95),
            "per_second": posts / wall, "memory_p50": pct(mem, 50),
            "memory_p95": pct(mem, 95), "alone_mean": 1e3 * statistics.mean(alone)}


def main() -> None:
    """Parse the options, start a database if none is given, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--database")
    a = ap.parse_args()
    if not 1 <= a.posts <= MAX_POSTS:
        raise SystemExit(f"--posts: 1 to {MAX_POSTS}")
    pg = None
    if a.database is None:
        from tests.live.pg import start_postgres

        pg = start_postgres()
        url = pg.new_database()
    else:
        url = a.database.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        got = run(a.posts, url)
    finally:
        if pg is not None:
            pg.stop()
    print(f"{a.posts} posts, {ADDRESSES} addresses, {ROOMS} rooms; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"shared, the statement alone:       p50 {got['alone_p50']:.2f} ms, "
          f"p95 {got['alone_p95']:.2f} ms")
    print(f"shared, awaited (one at a time):   p50 {got['one_p50']:.2f} ms, "
          f"p95 {got['one_p95']:.2f} ms")
    print(f"shared, awaited ({AT_ONCE} at once):      p50 {got['awaited_p50']:.2f} ms, "
          f"p95 {got['awaited_p95']:.2f} ms, {got['per_second']:.0f} posts/s")
    print(f"in memory (SQLite's one process):  p50 {got['memory_p50']:.3f} ms, "
          f"p95 {got['memory_p95']:.3f} ms")


if __name__ == "__main__":
    main()
