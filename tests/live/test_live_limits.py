"""The live room's rate limits against a real uvicorn: each limit, set low, is driven past
by real requests and answers 429 with one line and Retry-After, per address (a second
loopback address still gets in) and per room (another room still gets in)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from decision_map_live.limits import Buckets, LimitError, Limits, Rate, RateLimit
from decision_map_live.server import open_room, prepare, serve_in_thread, server, shutdown

from decision_map.io.loader import load_map

ROOT = Path(__file__).resolve().parents[2]
COALITION = ROOT / "maps" / "coalition-formation.yaml"
GROUP = ["Rosa", "Malik", "Priya", "Tom", "Dolores"]
PLENTY = Rate(10_000, 60)
# every limit out of the way; each test lowers the one it drives past
LOOSE = dict(code_tries_ip=PLENTY, code_tries_ip_hour=PLENTY, joins_ip=PLENTY,
             joins_room=PLENTY, posts_ip=PLENTY, posts_room=PLENTY, rooms_ip=PLENTY,
             streams_ip=1000, streams_room=1000)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(tmp_path: Path, rooms: int = 1, **limits: object) -> Iterator[tuple[str, list]]:
    """A real server with these limits (the rest loose) and `rooms` rooms of five."""
    store, secret = prepare(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    port = free_port()
    srv = server(store, secret, "127.0.0.1", port, Limits(**{**LOOSE, **limits}))
    base = f"http://127.0.0.1:{port}"
    links = [open_room(store, load_map(COALITION), GROUP, base) for _ in range(rooms)]
    thread = serve_in_thread(srv)
    try:
        yield base, links
    finally:
        shutdown(srv)
        thread.join(timeout=10)


def client(base: str, source: str = "127.0.0.1") -> httpx.Client:
    """A client whose requests come from `source` (any 127.x address reaches loopback)."""
    return httpx.Client(base_url=base, timeout=10,
                        transport=httpx.HTTPTransport(local_address=source))


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m, html[:300]
    return m.group(1)


def refused(r: httpx.Response, words: str) -> None:
    """The over-the-limit answer: 429, one line saying which limit, and Retry-After."""
    assert r.status_code == 429, (r.status_code, r.text[:200])
    assert words in r.text and r.text.count("\n") == 1, r.text
    assert int(r.headers["retry-after"]) >= 1


def test_wrong_join_codes_are_slowed_per_address_and_right_ones_never_count(tmp_path):
    with serving(tmp_path, code_tries_ip=Rate(3, 60)) as (base, links):
        code = links[0].code
        a = client(base)
        for _ in range(5):  # a right code, again and again, uses nothing up
            assert a.get(f"/j/{code}").status_code == 303
        for guess in ("AAAAAA", "BBBBBB", "CCCCCC"):
            assert a.post("/join", data={"code": guess}).status_code == 404
        refused(a.post("/join", data={"code": "DDDDDD"}), "too many join codes tried")
        refused(a.get(f"/j/{code}"), "too many join codes tried")  # now even the right one
        b = client(base, "127.0.0.2")  # another address is not held up
        assert b.get(f"/j/{code}").status_code == 303


def test_the_hourly_join_code_limit(tmp_path):
    with serving(tmp_path, code_tries_ip_hour=Rate(2, 3600)) as (base, _):
        a = client(base)
        assert [a.get(f"/j/{g}").status_code for g in ("AAAAAA", "BBBBBB")] == [404, 404]
        r = a.get("/j/CCCCCC")
        refused(r, "too many join codes tried")
        assert int(r.headers["retry-after"]) > 60  # an hour's bucket refills slowly


def join(c: httpx.Client, room: str, name: str) -> httpx.Response:
    page = c.get(f"/r/{room}/join").text
    return c.post(f"/r/{room}/join", data={"name": name, "csrf": csrf_of(page)})


def test_joins_per_address_and_per_room(tmp_path):
    with serving(tmp_path, rooms=2, joins_ip=Rate(2, 60)) as (base, links):
        room = links[0].room
        assert join(client(base), room, "Rosa").status_code == 303
        assert join(client(base), room, "Malik").status_code == 303
        refused(join(client(base), room, "Priya"), "too many joins from here")
        assert join(client(base, "127.0.0.2"), room, "Priya").status_code == 303
    (tmp_path / "b").mkdir()
    with serving(tmp_path / "b", rooms=2, joins_room=Rate(2, 60)) as (base, links):
        a, b = links[0].room, links[1].room
        for name in ("Rosa", "Malik"):
            assert join(client(base), a, name).status_code == 303
        refused(join(client(base, "127.0.0.3"), a, "Priya"), "too many joins in this room")
        assert join(client(base), b, "Priya").status_code == 303  # the other room is open


def test_posts_per_address_and_per_room(tmp_path):
    with serving(tmp_path, rooms=2, posts_room=Rate(4, 60)) as (base, links):
        a, b = links[0].room, links[1].room
        for i, name in enumerate(GROUP[:4]):  # four posts to room a, from four addresses
            assert join(client(base, f"127.0.0.{i + 1}"), a, name).status_code == 303
        refused(join(client(base, "127.0.0.9"), a, "Dolores"), "too many posts in this room")
        assert join(client(base, "127.0.0.9"), b, "Rosa").status_code == 303
    (tmp_path / "p").mkdir()
    with serving(tmp_path / "p", posts_ip=Rate(2, 60)) as (base, links):
        room = links[0].room
        assert join(client(base), room, "Rosa").status_code == 303
        assert join(client(base), room, "Malik").status_code == 303
        refused(join(client(base), room, "Priya"), "too many posts from here")
        assert join(client(base, "127.0.0.2"), room, "Priya").status_code == 303


def test_open_event_streams_per_address_and_per_room(tmp_path):
    with serving(tmp_path, rooms=2, streams_ip=2, streams_room=3) as (base, links):
        a, b = links[0].room, links[1].room
        people = []
        for i, (room, name, source) in enumerate([(a, "Rosa", "127.0.0.1"),
                                                  (a, "Malik", "127.0.0.1"),
                                                  (a, "Priya", "127.0.0.2"),
                                                  (a, "Tom", "127.0.0.3"),
                                                  (b, "Tom", "127.0.0.3")]):
            c = client(base, source)
            assert join(c, room, name).status_code == 303, i
            people.append((c, room))
        with people[0][0].stream("GET", f"/r/{a}/events") as s1, \
                people[1][0].stream("GET", f"/r/{a}/events") as s2:
            assert s1.status_code == s2.status_code == 200
            # a third stream from the same address is one too many
            with people[0][0].stream("GET", f"/r/{a}/events") as s3:
                s3.read()
                refused(s3, "too many open event streams")
            with people[2][0].stream("GET", f"/r/{a}/events") as s4:
                assert s4.status_code == 200  # the room's third
                with people[3][0].stream("GET", f"/r/{a}/events") as s5:
                    s5.read()
                    refused(s5, "too many open event streams")  # the room's fourth
                with people[4][0].stream("GET", f"/r/{b}/events") as s6:
                    assert s6.status_code == 200  # another room, the same address
        # closed streams are given back (once the server has seen them go: bounded wait)
        deadline = time.monotonic() + 10
        while True:
            with people[0][0].stream("GET", f"/r/{a}/events") as s7:
                if s7.status_code == 200:
                    break
            assert time.monotonic() < deadline, "closed streams were not given back"
            time.sleep(0.2)


def test_buckets_track_a_bounded_number_of_keys_and_refill():
    now = [0.0]
    b = Buckets(Rate(2, 10), max_keys=100, clock=lambda: now[0])
    for i in range(1000):
        b.take(f"10.0.{i // 250}.{i % 250}")
    assert len(b) == 100  # the least recently used are forgotten
    assert b.take("x") == 0 and b.take("x") == 0 and b.take("x") == pytest.approx(5.0)
    now[0] += 5.0
    assert b.take("x") == 0


def test_rooms_created_per_address():
    limit = RateLimit(app=None, limits=Limits(rooms_ip=Rate(2, 3600)))
    assert limit.room_created("10.0.0.1") is None
    assert limit.room_created("10.0.0.1") is None
    line, wait = limit.room_created("10.0.0.1")
    assert "too many rooms created" in line and wait > 60
    assert limit.room_created("10.0.0.2") is None


def test_limits_come_from_the_environment_and_bad_settings_say_which():
    got = Limits.from_env({"DECISION_MAP_LIMIT_POSTS_IP": "50/30",
                           "DECISION_MAP_LIMIT_STREAMS_ROOM": "40"})
    assert got.posts_ip == Rate(50, 30) and got.streams_room == 40
    assert got.joins_ip == Limits().joins_ip
    with pytest.raises(LimitError, match="DECISION_MAP_LIMIT_POSTS_IP='lots'.*COUNT/SECONDS"):
        Limits.from_env({"DECISION_MAP_LIMIT_POSTS_IP": "lots"})
    with pytest.raises(LimitError, match="DECISION_MAP_LIMIT_STREAMS_IP='0'"):
        Limits.from_env({"DECISION_MAP_LIMIT_STREAMS_IP": "0"})
