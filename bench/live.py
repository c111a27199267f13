"""The live room's close-to-sentence time: `make bench-live` (`python -m bench.live`).

A real uvicorn serves a room of N members (default 15), each following the room over its
own event stream in a thread, as a browser does. Per round the facilitator closes the vote;
the figure is the time from the close post until the LAST member has the closed frame and
has fetched their page showing the sentence (what live.js does). Client and server share
this machine's cores, so the numbers are as measured, not a capacity."""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from decision_map_live.limits import Limits, Rate
from decision_map_live.server import open_room, prepare, serve_in_thread, server, shutdown

from decision_map.io.loader import load_map

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "maps" / "coalition-formation.yaml"
WAIT = 20.0  # seconds any one member may take before the run fails
# Every member here posts from 127.0.0.1: the per-address limits, made for a real room
# behind one address, would count the whole bench as one phone, so they are lifted.
LIMITS = Limits(posts_ip=Rate(1_000_000, 60), posts_room=Rate(1_000_000, 60),
                joins_ip=Rate(10_000, 60), joins_room=Rate(10_000, 60), streams_ip=10_000,
                streams_room=10_000)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def _follow(client: httpx.Client, rid: str, seen: dict, cond: threading.Condition,
            stop: threading.Event) -> None:
    """A member's stream: on each closed frame, fetch the page, then note the time."""
    with client.stream("GET", f"/r/{rid}/events", timeout=None) as s:
        for line in s.iter_lines():
            if stop.is_set():
                return
            if not line.startswith("data: "):
                continue
            frame = json.loads(line[6:])
            if frame.get("phase") == "closed":
                page = client.get(f"/r/{rid}/me").text
                assert 'class="sentence"' in page
                with cond:
                    seen[id(client)] = (frame["round"], time.perf_counter())
                    cond.notify_all()


def run(members: int, rounds: int) -> dict:
    import socket

    with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        store, secret = prepare(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        srv = server(store, secret, "127.0.0.1", port, LIMITS)
        base = f"http://127.0.0.1:{port}"
        names = [f"M{i:02d}" for i in range(members)]
        links = open_room(store, load_map(MAP), names, base)
        thread = serve_in_thread(srv)
        fac = httpx.Client(base_url=base, follow_redirects=True, timeout=WAIT)
        fac.get(links.facilitator)
        clients = []
        for n in names:
            c = httpx.Client(base_url=base, follow_redirects=True, timeout=WAIT)
            page = c.get(f"/j/{links.code}").text
            c.post(f"/r/{links.room}/join", data={"name": n, "csrf": _csrf(page)})
            clients.append(c)
        seen: dict = {}
        cond, stop = threading.Condition(), threading.Event()
        followers = [threading.Thread(target=_follow, args=(c, links.room, seen, cond, stop),
                                      daemon=True) for c in clients]
        for t in followers:
            t.start()

        def act(action: str) -> None:
            page = fac.get(f"/r/{links.room}/facilitate").text
            at = re.search(r'name="at" value="([\w-]+)"', page).group(1)
            fac.post(f"/r/{links.room}/act", data={"action": action, "at": at,
                                                   "csrf": _csrf(page)})

        times = []
        act("open")
        for r in range(1, rounds + 1):
            for c in clients:
                page = c.get(f"/r/{links.room}/me").text
                rnd = re.search(r'name="round" value="(\d+)"', page).group(1)
                c.post(f"/r/{links.room}/vote", data={"value": "yes", "round": rnd,
                                                      "csrf": _csrf(page)})
            t0 = time.perf_counter()
            act("close")
            deadline = time.monotonic() + WAIT
            with cond:
                while sum(1 for rd, _ in seen.values() if rd == r) < members:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise SystemExit(f"round {r}: not every member saw the close in {WAIT}s")
                    cond.wait(left)
                times.append(max(t for rd, t in seen.values() if rd == r) - t0)
            act("revote")
        stop.set()
        shutdown(srv)
        for c in [fac, *clients]:
            c.close()
        thread.join(timeout=10)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"members": members, "rounds": rounds,
            "p50_ms": round(statistics.median(times) * 1e3, 1),
            "p95_ms": round(p95 * 1e3, 1), "max_ms": round(times[-1] * 1e3, 1)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__)
    ap.add_argument("--members", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=40)
    a = ap.parse_args(argv)
    out = run(a.members, a.rounds)
    print(f"live room, close to every member's page showing the sentence: {out['members']} "
          f"members, {out['rounds']} rounds: p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms, "
          f"max {out['max_ms']} ms")
    return out


if __name__ == "__main__":
    main()
