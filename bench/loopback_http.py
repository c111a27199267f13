"""A lean HTTP/1.1 client for the load test's browsers, over asyncio streams to one host on
loopback: one person's cookies, their kept-alive connections, and an event stream parsed as
EventSource does. httpx spent most of a client process's CPU on its per-request machinery
(pool scans, a failed `import sniffio` per lock, per-line decoding); this sends the same
requests and reads the same bytes, so the server's work is a real browser's.

Only what the live room's pages need: GET, form POSTs, no redirects followed, Content-Length
or chunked bodies, cookies by name and path. Every request and every stream read is bounded
in time; a connection that timed out is aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

MAX_HEAD = 64 * 1024  # bytes of a response's status line and headers
MAX_BODY = 8 * 1024 * 1024  # bytes of one response body
MAX_EVENT = 1024 * 1024  # bytes of one event-stream event


class HTTPError(Exception):
    """A request that failed on the wire; `kind` names how (for the error counts)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass
class Response:
    """A whole response: status, headers (lower-case names, the last one of a name wins)
    and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text (the live room's pages are UTF-8)."""
        return self.body.decode("utf-8", "replace")


@dataclass(eq=False)
class Connection:
    """One kept-alive connection and when it went idle."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        """Dropped at once (no graceful close to wait for)."""
        self.writer.transport.abort()


class Deadline:
    """Aborts a connection when `seconds` pass before it is cancelled or moved on (a timer
    on the loop, not a task per read)."""

    def __init__(self, conn: Connection, seconds: float) -> None:
        self.conn, self.seconds = conn, seconds
        self.fired = False
        self.loop = asyncio.get_running_loop()
        self.timer = self.loop.call_later(seconds, self._fire)

    def _fire(self) -> None:
        self.fired = True
        self.conn.close()

    def again(self) -> None:
        """The full time again from now (a stream read something)."""
        self.timer.cancel()
        self.timer = self.loop.call_later(self.seconds, self._fire)

    def cancel(self) -> None:
        """No longer watched."""
        self.timer.cancel()


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], list[str]]:
    """The status, the headers and the Set-Cookie values of a response."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HTTPError("malformed", "response head too long") from None
    if len(head) > MAX_HEAD:
        raise HTTPError("malformed", "response head too long")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HTTPError("malformed", f"status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            cookies.append(value)
        headers[name] = value
    return int(parts[1]), headers, cookies


async def read_chunk(reader: asyncio.StreamReader) -> bytes:
    """One chunk of a chunked body (b"" for the last)."""
    size_line = await reader.readuntil(b"\r\n")
    try:
        size = int(size_line.split(b";", 1)[0].strip(), 16)
    except ValueError:
        raise HTTPError("malformed", "chunk size") from None
    if size > MAX_BODY:
        raise HTTPError("malformed", "chunk too large")
    data = await reader.readexactly(size + 2)  # the chunk and its CRLF
    if size == 0:
        with contextlib.suppress(asyncio.IncompleteReadError):  # trailers end with CRLF
            if data != b"\r\n":
                await reader.readuntil(b"\r\n\r\n")
        return b""
    return data[:-2]


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The body and whether the connection can carry another request."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts, total = [], 0
        while chunk := await read_chunk(reader):
            total += len(chunk)
            if total > MAX_BODY:
                raise HTTPError("malformed", "body too large")
            parts.append(chunk)
        body = b"".join(parts)
    elif "content-length" in headers:
        n = int(headers["content-length"])
        if not 0 <= n <= MAX_BODY:
            raise HTTPError("malformed", "content-length")
        body = await reader.readexactly(n)
    else:  # the body runs to the connection's end
        parts, total = [], 0
        while chunk := await reader.read(65536):
            total += len(chunk)
            if total > MAX_BODY:
                raise HTTPError("malformed", "body too large")
            parts.append(chunk)
        return b"".join(parts), False
    return body, "close" not in headers.get("connection", "").lower()


class EventStream:
    """An open event stream: its status, and its events as (type, data) in order."""

    def __init__(self, conn: Connection, status: int, headers: dict[str, str],
                 read_timeout: float) -> None:
        self.conn, self.status, self.headers = conn, status, headers
        self.read_timeout = read_timeout
        self.last_id: str | None = None  # what a reconnect sends as Last-Event-ID

    async def events(self) -> AsyncIterator[tuple[str, str]]:
        """Each event as EventSource dispatches it (type "message" unless named), until the
        server ends the stream; a read that waits longer than the read timeout fails."""
        chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        reader = self.conn.reader
        watch = Deadline(self.conn, self.read_timeout)
        buf = b""
        try:
            while True:
                try:
                    data = await read_chunk(reader) if chunked else await reader.read(65536)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
                    raise HTTPError("timeout" if watch.fired else "closed", str(e)) from None
                if not data:
                    return
                watch.again()
                buf += data.replace(b"\r\n", b"\n")
                if len(buf) > MAX_EVENT:
                    raise HTTPError("malformed", "event too large")
                *blocks, buf = buf.split(b"\n\n")
                for block in blocks:
                    kind, text, ident = parse_event(block.decode("utf-8", "replace"))
                    if ident is not None:
                        self.last_id = ident
                    if text is not None:
                        yield kind, text
        finally:
            watch.cancel()


def parse_event(block: str) -> tuple[str, str | None, str | None]:
    """One event's lines as EventSource reads them: its type ("message" unless named), its
    data (None when it has none: a comment, a retry or an id alone dispatch nothing) and
    its id (None when it sets none)."""
    kind, data, ident = "message", [], None
    for line in block.split("\n"):
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            kind = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            ident = value
    return kind, ("\n".join(data) if data else None), ident


class Browser:
    """One person's browser talking to one host: its cookies (by name, sent where their
    path matches) and its idle connections, kept `keepalive` seconds at most (a server
    drops an idle one after a while; a reused connection found closed before any answer is
    retried once for a GET, as browsers do)."""

    def __init__(self, host: str, port: int, timeout: float, keepalive: float,
                 max_idle: int, source: str | None = None) -> None:
        self.host, self.port = host, port
        self.source = source  # the loopback address this browser connects from
        self.timeout, self.keepalive, self.max_idle = timeout, keepalive, max_idle
        self.cookies: dict[str, tuple[str, str]] = {}  # name -> (value, path)
        self.idle: list[Connection] = []
        self.streams: set[Connection] = set()

    def cookie_header(self, path: str) -> str:
        """The Cookie header for a request to `path` (the cookies whose path matches)."""
        return "; ".join(f"{n}={v}" for n, (v, p) in self.cookies.items()
                         if path == p or path.startswith(p.rstrip("/") + "/"))

    def keep_cookies(self, values: list[str]) -> None:
        """A response's Set-Cookie values kept (by name; Max-Age 0 or an empty value
        drops one)."""
        for value in values:
            first, *attrs = value.split(";")
            name, _, val = first.strip().partition("=")
            path, gone = "/", val == ""
            for a in attrs:
                k, _, v = a.strip().partition("=")
                if k.lower() == "path" and v.startswith("/"):
                    path = v
                elif k.lower() == "max-age" and v.strip().lstrip("-").isdigit():
                    gone = gone or int(v) <= 0
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = (val, path)

    async def _connection(self) -> tuple[Connection, bool]:
        """An idle connection young enough to reuse, else a new one; whether reused."""
        now = time.monotonic()
        while self.idle:
            conn = self.idle.pop()
            if now - conn.idle_since < self.keepalive and not conn.reader.at_eof():
                return conn, True
            conn.close()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=MAX_HEAD,
                                        local_addr=(self.source, 0) if self.source else None),
                self.timeout)
        except asyncio.TimeoutError:
            raise HTTPError("connect timeout") from None
        except OSError as e:
            raise HTTPError("connect failed", str(e)) from None
        return Connection(reader, writer), False

    def _request_bytes(self, method: str, path: str, body: bytes, ctype: str,
                       accept: str, extra: tuple[str, ...] = ()) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Accept: {accept}", "User-Agent: decision-map-load", *extra]
        cookie = self.cookie_header(path)
        if cookie:
            lines.append(f"Cookie: {cookie}")
        if method == "POST":
            lines += [f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def request(self, method: str, url: str, body: bytes = b"",
                      ctype: str = "") -> Response:
        """One request and its whole response (its cookies kept); HTTPError on failure."""
        path = target(url)
        for attempt in (1, 2):
            conn, reused = await self._connection()
            watch = Deadline(conn, self.timeout)
            got_head = False
            try:
                conn.writer.write(self._request_bytes(method, path, body, ctype, "*/*"))
                status, headers, cookies = await read_head(conn.reader)
                got_head = True
                data, keep = await read_body(conn.reader, headers)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HTTPError,
                    ValueError) as e:
                conn.close()
                if watch.fired:
                    raise HTTPError("timeout", f"{method} {path}") from None
                if reused and not got_head and method == "GET" and attempt == 1:
                    continue  # the server had closed it while idle: a browser retries
                if isinstance(e, HTTPError):
                    raise
                raise HTTPError("closed" if not got_head else "cut off", str(e)) from None
            finally:
                watch.cancel()
            self.keep_cookies(cookies)
            if keep and len(self.idle) < self.max_idle:
                conn.idle_since = time.monotonic()
                self.idle.append(conn)
            else:
                conn.close()
            return Response(status, headers, data)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, url: str) -> Response:
        """GET a page."""
        return await self.request("GET", url)

    async def post(self, url: str, data: dict[str, str]) -> Response:
        """POST a form (no redirect followed: the 303 is the answer)."""
        return await self.request("POST", url, urlencode(data).encode(),
                                  "application/x-www-form-urlencoded")

    @contextlib.asynccontextmanager
    async def stream(self, url: str, read_timeout: float,
                     last_id: str | None = None) -> AsyncIterator[EventStream]:
        """An event stream on a connection of its own, closed when the block ends (a
        reconnect passes the last event id seen, as EventSource does)."""
        path = target(url)
        extra = (f"Last-Event-ID: {last_id}",) if last_id is not None else ()
        conn, _ = await self._connection()
        self.streams.add(conn)
        watch = Deadline(conn, self.timeout)
        try:
            try:
                conn.writer.write(self._request_bytes("GET", path, b"", "",
                                                      "text/event-stream", extra))
                status, headers, cookies = await read_head(conn.reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
                raise HTTPError("timeout" if watch.fired else "closed", str(e)) from None
            finally:
                watch.cancel()
            self.keep_cookies(cookies)
            yield EventStream(conn, status, headers, read_timeout)
        finally:
            self.streams.discard(conn)
            conn.close()

    def close(self) -> None:
        """Every connection dropped."""
        for conn in [*self.idle, *self.streams]:
            conn.close()
        self.idle.clear()


def target(url: str) -> str:
    """The request target of a URL or path (a link's host is the one this talks to)."""
    if url.startswith("/"):
        return url
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
