"""What keeps a meeting going across devices, restarts and meetings: pausing and resuming
a room, the session file a facilitator downloads (for `decision-map step --resume`), and a
new facilitator link that shuts out every device holding the old one.

The routes are the app's (create_app lists them); they live here to keep app.py about
voting. They reach the app's helpers (roles, forms, pages) through `_web()` at call time,
as the app imports this module.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import names
from . import security as sec
from .export import filename, session_of
from .room import RoomState
from .store import Store, rooms

PAUSE_ACTIONS = frozenset({"pause", "resume"})


def _web() -> ModuleType:
    """The app module (imported here, not at the top: it imports this one)."""
    from . import app

    return app


def pause_or_resume(store: Store, room: str, st: RoomState, action: str,
                    by: dict[str, str] | None = None) -> str | None:
    """Pause or resume the room; None when done, else the line saying why not. While a room
    is paused nothing else moves: resuming comes first. `by` carries the facilitator's name
    into the event (live/names.py)."""
    if action == "pause":
        if st.paused:
            return "The room is paused already."
        if st.phase == "finished":
            return "The walk has ended; there is nothing to continue."
        store.append(room, "paused", {**(by or {})}, "facilitator")
        store.change_room(room, status="paused")
        return None
    if action == "resume":
        if not st.paused:
            return "The room is not paused."
        store.change_room(room, status="open", fresh_code=True)
        info = store.room(room) or {}
        store.append(room, "resumed", {"join_code": info.get("join_code"), **(by or {})},
                     "facilitator")
        return None
    return "The room is paused: resume it first."


def resume_room(store: Store, room: str) -> None:
    """Open a paused room again from the command line (`serve --room`), with a new join
    code; a room that was not paused is left as it is."""
    events = store.events(room)
    paused = False
    for e in events:
        if e.kind in ("paused", "resumed"):
            paused = e.kind == "paused"
    if paused:
        store.change_room(room, status="open", fresh_code=True)
        info = store.room(room) or {}
        store.append(room, "resumed", {"join_code": info.get("join_code")}, "server")


def new_keys(store: Store, room: str) -> tuple[str, str]:
    """New facilitator and projector keys for the room (the old links and cookies stop
    working): what the owner of the database gets from `serve --room`."""
    fkey, pkey = sec.new_token(), sec.new_token()
    store.change_room(room, facilitator_key_hash=sec.token_hash(fkey),
                      projector_key_hash=sec.token_hash(pkey))
    store.append(room, "facilitator_key_rotated", {"by": "server"}, "server")
    return fkey, pkey


async def session_json(request: Request) -> Response:
    """The room as a session file, for `decision-map step --resume` (facilitator only)."""
    web = _web()
    room = request.path_params["room"]
    role, _ = await web.role_of(request, room)
    if role != "facilitator":
        return web.forbidden()
    lv = web.live(request)
    dm, st = await lv.state(room)
    info = await lv.db(lv.store.room, room) or {}
    first = (await lv.db(lv.store.events, room))[0].payload
    session = session_of(st.walk, float(info.get("created") or 0.0),
                         list(first.get("set_aside", [])))
    return JSONResponse(session.to_json(), headers={
        "cache-control": "no-store",
        "content-disposition": f'attachment; filename="{filename(dm)}"'})


def _rotated(store: Store, room: str, key_hash: str, payload: dict[str, Any]) -> None:
    """The new facilitator key and its event in the log, in one transaction (on a worker
    thread): the event wakes every process, which then rereads the key (cache.Live.room_keys)."""
    with store._lock, store.engine.begin() as c:
        c.execute(rooms.update().where(rooms.c.id == room).values(facilitator_key_hash=key_hash))
        store.append_in(c, room, "facilitator_key_rotated", payload, "facilitator")


async def rotate(request: Request) -> Response:
    """A new facilitator link: this device keeps facilitating, every other device that
    held the old link or cookie is shut out."""
    web = _web()
    room = request.path_params["room"]
    role, _ = await web.role_of(request, room)
    if role != "facilitator":
        return web.forbidden()
    data: dict[str, Any] | Response = await web.posted(request, room, role)
    if isinstance(data, Response):
        return data
    lv = web.live(request)
    key = sec.new_token()
    # `by` is the facilitator's name when given (live/names.py); the actor says the role
    await lv.db(_rotated, lv.store, room, sec.token_hash(key), names.signed({}, request, room))
    lv.publish(room)
    base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    resp = web.page(request, "rotated.html", room=room,
                    link=f"{base}/r/{room}/f/go?k={key}")
    resp.headers["cache-control"] = "no-store"
    web._set_cookie(resp, web.cookie_name("f", room), key, room)
    return resp
