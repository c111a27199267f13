"""The live room's guards: tokens kept only as hashes, CSRF checks, security headers and a
request body limit. Everything here is small and stdlib, so it can be read in one go.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

MAX_BODY = 16 * 1024  # bytes in one request body
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# The report is one self-contained HTML file with its own styles and no script at all.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # links with keys never leave the site,
    "x-frame-options": "DENY",
}


def new_token() -> str:
    """A 256-bit random token for a link or a cookie."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token: it cannot be turned back into the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def form_token(secret: bytes, bound_to: str) -> str:
    """The CSRF form token: an HMAC of the cookie (or room) it is bound to."""
    return hmac.new(secret, bound_to.encode(), hashlib.sha256).hexdigest()[:40]


def form_token_ok(secret: bytes, bound_to: str, given: str) -> bool:
    return hmac.compare_digest(form_token(secret, bound_to), given or "")


def same_origin(headers: dict[str, str], host: str, scheme: str) -> bool:
    """False for a post another site made the browser send. Fetch metadata decides where the
    browser sends it; older browsers are judged by Origin (absent: left to the form token)."""
    site = headers.get("sec-fetch-site")
    if site:
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    return origin is None or origin == f"{scheme}://{host}"


class Guard:
    """ASGI middleware: security headers on every answer, and a cap on request bodies."""

    def __init__(self, app: Any, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _too_large(send)
            return
        seen = 0

        async def capped_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                names = {k.lower() for k, _ in raw}
                if b"content-security-policy" not in names:
                    raw.append((b"content-security-policy", CSP.encode()))
                raw += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": raw}
            await send(message)

        try:
            await self.app(scope, capped_receive, with_headers)
        except BodyTooLarge:
            await _too_large(send)


class BodyTooLarge(Exception):
    """A body that grew past the limit while it was read."""


async def _too_large(send: Any) -> None:
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b"request body too large\n"})
