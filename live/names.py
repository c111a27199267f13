"""The facilitator's name: co-facilitators share one link, so a button one of them pressed
first can only be put down to "another facilitator" unless each says who they are.

The name is a label, not an identity: anyone holding the facilitator link can give any
name. It is kept in a cookie for the room, written into each facilitator event's payload as
`by`, and read back only for the line a facilitator gets who lost a race ("The vote was
already closed by Ben"). Members, the projector, the session file, the report and the logs
never see it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

MAX_NAME = 40  # characters of a facilitator's name at most
NAME_FIELD = "name"


def _web() -> Any:
    """The app module (imported at call time: it imports this one)."""
    from . import app

    return app


def cookie_of(room: str) -> str:
    """The cookie that keeps this room's facilitator name on this device."""
    return f"dm_n_{room[:8]}"


def tidy(text: str) -> str:
    """A name as given: printable characters on one line, runs of spaces made one."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def name_of(request: Request, room: str) -> str:
    """The name this device's facilitator gave for the room ("" when none)."""
    raw = request.cookies.get(cookie_of(room), "")[:MAX_NAME * 12]  # %-encoded UTF-8
    return tidy(unquote(raw))[:MAX_NAME] if raw else ""


def signed(payload: dict[str, Any], request: Request, room: str) -> dict[str, Any]:
    """The event's payload with the facilitator's name as `by` (unchanged without one)."""
    name = name_of(request, room)
    return {**payload, "by": name} if name else payload


async def give_name(request: Request) -> Response:
    """POST /r/{room}/name: the facilitator's name for co-facilitators (empty forgets it);
    back to the facilitator page."""
    web = _web()
    room = request.path_params["room"]
    role, _ = await web.role_of(request, room)
    if role != "facilitator":
        return web.forbidden()
    data = await web.posted(request, room, role)
    if isinstance(data, Response):
        return data
    name = tidy(str(data.get(NAME_FIELD) or ""))
    back = f"/r/{room}/facilitate"
    if len(name) > MAX_NAME:  # the field stops at MAX_NAME; a longer one is not a browser's
        return web.go(f"{back}?error=" + quote(f"A name is at most {MAX_NAME} characters."))
    resp = web.go(back)
    if name:
        web._set_cookie(resp, cookie_of(room), quote(name, safe=""), room)
    else:
        resp.delete_cookie(cookie_of(room), path=f"/r/{room}", httponly=True,
                           samesite="lax")
    return resp
