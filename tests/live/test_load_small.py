"""The load test at its small size (5 rooms x 5 members, each with a facilitator and a
projector, every one holding an event stream to a real `decision-map serve`), in the
configuration issue 15 names (PostgreSQL, two server workers), its people spread over two
client processes: every vote the server took is in the closed count, nothing fails, and the
figures of both processes are merged. No timing is asserted: the machine is shared;
`make bench-live-load` records the figures at full size."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

pytest.importorskip("starlette", reason="the live room's extra is not installed")

from bench.live_clients import Figures, LoadRoom, Person, RoomLinks, follow  # noqa: E402
from bench.live_load import Clients, run  # noqa: E402
from bench.loopback_http import Browser, parse_event  # noqa: E402


def test_five_rooms_of_five_on_two_client_processes_lose_no_vote_and_see_no_error(pg_url):
    out = run(rooms=5, members=5, questions=3, database=pg_url, workers=2, max_seconds=240,
              clients=2)
    assert out["error_count"] == 0, out["errors"]
    assert out["questions_done"] == 15 and out["votes"] == 75
    assert out["lost_votes"] == 0
    assert out["streams"] == 35 and out["streams_max_open"] == 35
    assert len(out["close_seen_ms"]) == 4 and out["close_seen_ms"]["p50"] is not None
    assert out["clients"] == 2
    assert sorted(c["rooms"] for c in out["client_processes"]) == [2, 3]
    assert all(c["cpu_s"] > 0 for c in out["client_processes"])
    assert out["client_cpu_s_per_question"] > 0 and out["server_cpu_s_per_question"] > 0
    assert out["pace_s"] == 0 and out["offered_closes_per_s"] is None
    assert out["mode"].startswith("saturated") and out["closes_per_s"] > 0
    assert out["vote_spread_ms"]["p50"] < 100  # unpaced, a round's votes go out at once


def test_at_a_meetings_pace_a_rounds_votes_arrive_spread_and_none_is_lost(pg_url):
    # a question every ~2 s a room: each member votes at a random moment of the first second
    # after their page shows the vote, the facilitator pauses before accepting
    out = run(rooms=5, members=5, questions=3, database=pg_url, workers=2, clients=2,
              pace=2.0, seed=15)
    assert out["error_count"] == 0, out["errors"]
    assert out["questions_done"] == 15 and out["votes"] == 75 and out["lost_votes"] == 0
    assert out["mode"] == "paced" and out["pace_s"] == 2.0
    assert out["offered_closes_per_s"] == 2.5  # 5 rooms, a close every 2 s each
    # the votes of a round were sent over a good part of the second, not at one instant
    assert out["vote_spread_ms"]["n"] == 15 and out["vote_spread_ms"]["p50"] >= 300
    # no room went faster than its pace allows (each question at least 0.75 x the pace)
    assert out["question_gap_s"]["n"] == 10 and out["question_gap_s"]["p5"] >= 1.5
    assert out["max_seconds"] > 300  # the walk's limit grew with the pace


def dies_or_hangs(index: int, *_: object) -> None:
    """A client process's entry point that fails: the first dies, the others hang."""
    if index == 0:
        os._exit(3)
    time.sleep(600)


def test_a_client_process_that_dies_or_hangs_is_reported_and_ended_in_bounded_time():
    links = RoomLinks("r", "c", "/f", "/p")
    cl = Clients([[links], [links]], "http://127.0.0.1:9", ["M00"], 1, 1.0, 5.0,
                 target=dies_or_hangs)
    t0 = time.monotonic()
    try:
        cl.start()
        cl.receive("ready", {0, 1}, 10.0)
    finally:
        cl.stop(seconds=1.0)
    assert cl.failed == {0: "exited with code 3"}  # the hung one is the caller's to name
    assert not cl.got["ready"]
    assert not any(p.is_alive() for p in cl.procs)
    assert time.monotonic() - t0 < 30


def test_the_load_clients_read_events_andkeep_cookies_as_a_browser_does():
    # EventSource: one leading space dropped, data lines joined, a named event keeps its
    # name, a block with no data (a retry, a comment) dispatches nothing
    # (its id is what a reconnect sends as Last-Event-ID)
    assert parse_event('id: 7\ndata: {"phase": "open"}') == ("message", '{"phase": "open"}',
                                                              "7")
    assert parse_event("event: heartbeat\ndata:{}") == ("heartbeat", "{}", None)
    assert parse_event("data: a\ndata: b") == ("message", "a\nb", None)
    assert parse_event("retry: 2000")[1] is None and parse_event(": comment")[1] is None
    # cookies go where their path matches, and a cookie set to expire is dropped
    b = Browser("127.0.0.1", 9, 1.0, 1.0, 1)
    b.keep_cookies(["dm_m_ab=tok; Path=/r/ab; HttpOnly; SameSite=lax; Max-Age=60",
                     "site=1"])
    assert b.cookie_header("/r/ab/me") == "dm_m_ab=tok; site=1"
    assert b.cookie_header("/r/abc/me") == "site=1"
    assert b.cookie_header("/r/ab") == "dm_m_ab=tok; site=1"
    b.keep_cookies(["dm_m_ab=; Path=/r/ab; Max-Age=0"])
    assert b.cookie_header("/r/ab/me") == "site=1"


def test_a_refused_or_dropped_stream_is_opened_again_as_a_browser_would():
    # a loopback server that refuses the first stream (503, as a full process does), then
    # sends one frame with id 4 and drops the connection mid-stream, then holds the third
    heads: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        heads.append(head)
        if " /r/x/me " in head:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\npage")
        elif len([h for h in heads if "/events" in h]) == 1:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
        else:
            frame = b'id: 4\ndata: {"phase": "open", "round": 1, "step": "q1"}\n\n'
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                         + f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
            if len([h for h in heads if "/events" in h]) == 3:
                await writer.drain()
                await reader.read()  # held open until the client leaves
        await writer.drain()
        writer.close()

    async def go() -> tuple[Figures, Person]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        p = Person(Browser("127.0.0.1", port, 5.0, 2.0, 4), "M00", page="/r/x/me")
        fig, room, opened = Figures(), LoadRoom(RoomLinks("x", "c", "/f", "/p")), asyncio.Event()
        task = asyncio.create_task(follow(p, room, fig, opened))
        for _ in range(200):  # 10 s at most
            if len([h for h in heads if "/events" in h]) == 3:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        return fig, p

    fig, p = asyncio.run(go())
    streams = [h for h in heads if "/events" in h]
    assert len(streams) == 3
    assert "last-event-id" not in streams[1].lower()
    assert "Last-Event-ID: 4" in streams[2]  # the reconnect says what it last had
    assert fig.errors == {"stream refused 503": 1, "stream closed": 1}
    assert ("open", 1) in p.seen and ("open", 1) in p.paged  # the frame, then the page
