"""Server-Sent Events, once for every page that follows something: the live room's rooms
and the author's preview (`watch --preview`). A stream sends a frame with `id: seq`
whenever the thing it follows moves, and a heartbeat carrying the seq; a reconnect with
Last-Event-ID gets the frame it missed. What a frame says is the caller's."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

RETRY_MS = 2000  # how long a browser waits before it reconnects a dropped stream
HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}

# (seq, frame): where the followed thing stands now, read again on every wake-up (and at
# each heartbeat); the frame as a dict, or as its JSON text already made (a room's frame
# goes to all its streams: it is serialized once, not once per stream). A reader that
# reads a database is a coroutine function, so that its query waits off the event loop.
Frame = tuple[int, dict[str, Any] | str]
Reader = Callable[[], Frame | Awaitable[Frame]]


class Streams(Protocol):
    """What owns the streams of one process: the count of open ones, the wake-up of each
    followed thing (set on a move), and the event that ends them all on shutdown."""

    streams: int
    stopping: asyncio.Event | None

    def waiter(self, key: str) -> asyncio.Event:
        """The event the next move of `key` sets."""
        ...


def last_event_id(request: Request) -> int:
    """The seq a reconnecting browser last had (-1: none, or not a number)."""
    try:
        return int(request.headers.get("last-event-id", "-1"))
    except ValueError:
        return -1


async def frames(request: Request, owner: Streams, key: str, read: Reader, last: int,
                 heartbeat: float) -> AsyncIterator[str]:
    """The stream's text: a frame whenever the seq moves, a heartbeat every `heartbeat`
    seconds, until the browser leaves or the server stops."""
    owner.streams += 1
    try:
        yield f"retry: {RETRY_MS}\n\n"
        while owner.stopping is None or not owner.stopping.is_set():
            waiter = owner.waiter(key)
            got = read()
            seq, frame = await got if inspect.isawaitable(got) else got
            if seq != last:
                last = seq
                text = frame if isinstance(frame, str) else json.dumps(frame)
                yield f"id: {seq}\ndata: {text}\n\n"
            try:
                await asyncio.wait_for(waiter.wait(), heartbeat)
            except asyncio.TimeoutError:
                yield f'event: heartbeat\ndata: {{"seq": {int(last)}}}\n\n'
            # (A browser that left ends the stream through StreamingResponse, which listens
            # for the disconnect beside it and cancels it; asking here on every wake-up
            # cost more than the frame.)
    finally:
        owner.streams -= 1


def event_stream(request: Request, owner: Streams, key: str, read: Reader, *,
                 heartbeat: float, max_streams: int) -> Response:
    """The response that streams `key`'s frames, or 503 when `max_streams` are open."""
    if owner.streams >= max_streams:
        return PlainTextResponse("too many open streams", status_code=503)
    return StreamingResponse(frames(request, owner, key, read, last_event_id(request),
                                    heartbeat),
                             media_type="text/event-stream", headers=HEADERS)
