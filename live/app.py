"""The live room's web app: Starlette routes over the store, one room state per room kept in
step with the log, server-rendered pages, plain form posts and Server-Sent Events.

Roles: a member holds a cookie for a claimed roster name, the facilitator and the projector
each a cookie swapped for a one-time link's key. Every page and post checks its role here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from decision_map.errors import DecisionMapError
from decision_map.io.loader import DecisionMap

from . import names, sse
from . import secret as secrets_
from . import security as sec
from .ballots import VoteError, ballot_from_form, clean, form_for, said
from .bus import bus_for
from .cache import HEARTBEAT, Live
from .config import Settings
from .limits import Limits, RateLimit
from .resilience import PAUSE_ACTIONS, pause_or_resume, rotate, session_json
from .room import RoomState
from .store import Moved, Store, StoreError

HERE = Path(__file__).parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True))


def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = templates.get_template(name).render(request=request, **ctx)
    return HTMLResponse(html, status_code=status)


def live(request: Request) -> Live:
    return request.app.state.live


def cookie_name(role: str, room: str) -> str:
    return f"dm_{role}_{room[:8]}"


async def role_of(request: Request, room: str) -> tuple[str, str | None]:
    """Who is asking: ("facilitator"|"projector"|"member"|"stranger", member name), from
    one query at most (the room's keys and the member cookie's name; Live.room_keys)."""
    lv = live(request)
    m = request.cookies.get(cookie_name("m", room))
    f = request.cookies.get(cookie_name("f", room))
    info, member = await lv.room_keys(room, sec.token_hash(m) if m else None, keys=bool(f))
    if info is None:
        return "stranger", None
    if f and sec.token_hash(f) == info["facilitator_key_hash"]:
        return "facilitator", None
    if member:
        return "member", member
    p = request.cookies.get(cookie_name("p", room))
    if p and sec.token_hash(p) == info["projector_key_hash"]:
        return "projector", None
    return "stranger", None


def _csrf_bound(request: Request, room: str, role: str) -> str:
    short = {"facilitator": "f", "member": "m", "projector": "p"}.get(role)
    cookie = request.cookies.get(cookie_name(short, room)) if short else None
    return f"{room}:{role}:{cookie or ''}"


def csrf(request: Request, room: str, role: str) -> str:
    return sec.form_token(live(request).secret, _csrf_bound(request, room, role))


async def posted(request: Request, room: str, role: str) -> dict[str, Any] | Response:
    """The posted form, or the refusal of a cross-site post or a missing form token."""
    headers = {k.decode().lower(): v.decode() for k, v in request.scope["headers"]}
    if not sec.same_origin(headers, request.headers.get("host", ""), request.url.scheme):
        return PlainTextResponse("cross-site post refused", status_code=403)
    form = await request.form(max_files=0, max_fields=50)
    data: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    data["choices"] = [v for v in form.getlist("choices") if isinstance(v, str)]
    if not sec.form_token_ok(live(request).secret, _csrf_bound(request, room, role),
                             data.get("csrf", "")):
        return PlainTextResponse("the form is stale or forged: reload the page",
                                 status_code=403)
    return data


def _set_cookie(resp: Response, name: str, value: str, room: str) -> None:
    resp.set_cookie(name, value, path=f"/r/{room}", httponly=True, samesite="lax",
                    max_age=60 * 60 * 24 * 60)


def forbidden() -> PlainTextResponse:
    return PlainTextResponse("not allowed here: open your own link", status_code=403)


def go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------- joining


async def home(request: Request) -> Response:
    return page(request, "home.html")


async def join_code(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    code = str(form.get("code") or "")[:12]
    lv = live(request)
    room = await lv.db(lv.store.room_by_code, code)
    if room is None:
        return page(request, "home.html", 404, error="No open room has that code.")
    return go(f"/r/{room}/join")


async def join_link(request: Request) -> Response:
    lv = live(request)
    room = await lv.db(lv.store.room_by_code, request.path_params["code"])
    return go(f"/r/{room}/join") if room else page(request, "home.html", 404,
                                                     error="That join link is not open.")


async def join(request: Request) -> Response:
    room = request.path_params["room"]
    lv = live(request)
    role, name = await role_of(request, room)
    if await lv.db(lv.store.room, room) is None:
        return PlainTextResponse("no such room", status_code=404)
    if role == "member":
        return go(f"/r/{room}/me")
    dm, st = await lv.state(room)
    if request.method == "POST":
        data = await posted(request, room, "stranger")
        if isinstance(data, Response):
            return data
        wanted = str(data.get("name") or "")
        added = clean(str(data.get("new_name") or ""), 101)
        if added and st.open_roster and not wanted:
            wanted, late = added, latecomer_problem(st, added)
        else:
            late = "" if wanted in st.roster else "Choose a name from the list."
        if late:
            return page(request, "join.html", 400, dm=dm, st=st, room=room,
                        csrf=csrf(request, room, "stranger"), error=late)
        token = sec.new_token()
        if not await lv.db(lv.store.add_member, room, wanted, sec.token_hash(token)):
            return page(request, "join.html", 409, dm=dm, st=st, room=room,
                        csrf=csrf(request, room, "stranger"),
                        error=f"{wanted} has already joined. Ask the facilitator if that's wrong.")
        if wanted in st.roster:
            await lv.db(lv.store.append, room, "member_claimed", {"member": wanted},
                        actor=wanted)
        else:  # a latecomer: in the group from the next question on
            await lv.db(lv.store.append, room, "member_joined",
                        {"member": wanted, "claimed": True}, actor=wanted)
        lv.publish(room)
        resp = go(f"/r/{room}/me")
        _set_cookie(resp, cookie_name("m", room), token, room)
        return resp
    return page(request, "join.html", dm=dm, st=st, room=room,
                csrf=csrf(request, room, "stranger"))


def latecomer_problem(st: RoomState, name: str) -> str:
    """Why a latecomer's name cannot be added ("" when it can)."""
    from decision_map.walk.router import group_names

    if len(name) > 100:
        return "A name is at most 100 characters."
    if name in st.roster or name in st.claimed or name in st.left:
        return f"{name} is taken already. Choose your name from the list, or add another."
    try:
        group_names([*st.roster, name])
    except DecisionMapError as e:
        return f"That name cannot be added: {e}"
    return ""


async def key_link(request: Request) -> Response:
    """The one-time facilitator or projector link: the key becomes an HttpOnly cookie."""
    room, who = request.path_params["room"], request.path_params["who"]
    lv = live(request)
    info = await lv.db(lv.store.room, room)
    key = request.query_params.get("k", "")
    column = {"f": "facilitator_key_hash", "p": "projector_key_hash"}.get(who)
    if info is None or column is None or sec.token_hash(key) != info[column]:
        return forbidden()
    resp = go(f"/r/{room}/{'facilitate' if who == 'f' else 'projector'}")
    _set_cookie(resp, cookie_name(who, room), key, room)
    return resp


# ---------------------------------------------------------------- pages


async def _common(request: Request, room: str, role: str) -> dict[str, Any]:
    """What every role's page shows: the room caught up, its question's form, the token."""
    dm, st = await live(request).state(room)
    pos = st.position
    form = form_for(pos.node, pos_defaults(st)) if pos else None
    return {"dm": dm, "st": st, "pos": pos, "form": form, "room": room, "role": role,
            "csrf": csrf(request, room, role), "said": said, "at": at_key(st),
            "reveals": secrets_.reveals(st.ballots()) if st.phase == "closed"
            and st.mode == "secret" else "", "tally_lines": secrets_.tally_lines}


def at_key(st: RoomState) -> str:
    """Where the room stands, as far as a facilitator's button is concerned."""
    return f"{st.phase}-{st.round}-{len(st.walk.submissions)}"


def pos_defaults(st: RoomState) -> Any:
    return st.walk.frame.dm.model.defaults


async def member_page(request: Request) -> Response:
    room = request.path_params["room"]
    role, name = await role_of(request, room)
    if role != "member":
        lv = live(request)
        return go(f"/r/{room}/join") if await lv.db(lv.store.room, room) else forbidden()
    ctx = await _common(request, room, role)
    cast = ctx["st"].casts.get(name)  # never a secret vote: those are not kept by name
    return page(request, "member.html", me=name, cast=cast,
                error=request.query_params.get("error", "")[:200], **ctx)


async def vote(request: Request) -> Response:
    room = request.path_params["room"]
    role, name = await role_of(request, room)
    if role != "member" or name is None:
        return forbidden()
    data = await posted(request, room, role)
    if isinstance(data, Response):
        return data
    token = request.cookies.get(cookie_name("m", room), "")
    return await _cast(request, room, name, data, None, f"/r/{room}/me", token)


def _takes(st: RoomState, member: str, data: dict[str, Any]) -> bool:
    """Whether the room, as `st` has it, takes `member`'s vote for the posted round."""
    return (not st.paused and st.phase == "open" and st.position is not None
            and str(st.round) == str(data.get("round")) and member in st.group)


async def _cast(request: Request, room: str, member: str, data: dict[str, Any],
                entered_by: str | None, back: str, token: str = "", by: str = "") -> Response:
    """Take a member's ballot (or one the facilitator enters for them). What it checks is
    read before the write's await: the write itself refuses it if the room moved since."""
    from urllib.parse import quote

    lv = live(request)
    # The state the bus vouches for will do when it takes the vote: the store refuses the
    # write if the room moved since that state's seq. One that refuses it is read again.
    _, st = await lv.state(room, beat=True)
    if not _takes(st, member, data):
        _, st = await lv.state(room)
    pos = st.position
    if st.paused:
        return go(f"{back}?error=The+room+is+paused%3B+your+vote+was+not+counted.")
    if st.phase != "open" or pos is None or str(st.round) != str(data.get("round")):
        return go(f"{back}?error=The+vote+has+closed%3B+your+vote+was+not+counted.")
    if member not in st.group:
        return go(f"{back}?error=" + quote(
            f"{member} joined during this question (or has left): "
            "votes count from the next question on."))
    try:
        ballot = ballot_from_form(pos.node, pos_defaults(st), member, data)
    except VoteError as e:
        return go(f"{back}?error={quote(str(e))}")
    if st.mode == "secret":  # who voted and what go to two tables that share no key
        receipt = secrets_.receipt(lv.secret, room, st.round, token) if token else None
        try:
            await lv.db(secrets_.cast, lv.store, room, st.round, pos.key, member, ballot,
                        receipt, st.seq, by)
        except Moved:  # the vote closed meanwhile through another process
            return go(f"{back}?error=The+vote+has+closed%3B+your+vote+was+not+counted.")
        except secrets_.SecretError as e:
            return go(f"{back}?error={quote(str(e))}")
        lv.publish(room)
        return go(back)
    payload = {"round": st.round, "member": member, "ballot": ballot.to_json()}
    if entered_by:
        payload["entered_by"] = entered_by
    if by:  # the name of the facilitator who entered it (live/names.py)
        payload["by"] = by
    try:  # the vote may have closed meanwhile through another process
        await lv.db(lv.store.append, room, "ballot_cast", payload, actor=entered_by or member,
                    unmoved_since=st.seq)
    except Moved:
        return go(f"{back}?error=The+vote+has+closed%3B+your+vote+was+not+counted.")
    lv.publish(room)
    return go(back)


async def facilitate(request: Request) -> Response:
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role != "facilitator":
        return forbidden()
    ctx = await _common(request, room, role)
    st: RoomState = ctx["st"]
    leads = None
    if st.phase == "closed" and st.decision is not None:
        leads = await run_in_threadpool(_leads_to, ctx["dm"], st)
    lv = live(request)
    info = await lv.db(lv.store.room, room)
    pos = st.position
    can = pos is not None and secrets_.can_be_secret(pos.node, pos_defaults(st))
    chosen = secrets_.mode_for(pos.node, pos_defaults(st), st.default_mode) if pos else "named"
    return page(request, "facilitate.html", leads=leads, join_code=info["join_code"],
                resume_command=resume_command(live(request).store, room),
                can_be_secret=can, chosen_mode=chosen, error=await _error_of(request, room),
                my_name=names.name_of(request, room), max_name=names.MAX_NAME, **ctx)


async def _error_of(request: Request, room: str) -> str:
    """The line at the top of the facilitator's page: an error, or what beat their button
    (`?moved=SEQ`: the line is read from the log, so a name never rides in a URL)."""
    moved = request.query_params.get("moved", "")
    if moved.isdigit() and len(moved) < 10:
        lv = live(request)
        return await lv.db(lv.store.move_line, room, int(moved))
    return request.query_params.get("error", "")[:200]


def _leads_to(dm: DecisionMap, st: RoomState) -> str:
    """Where accepting the closed vote would take the group, in the sentence the terminal's
    confirm line, the trace and the report use (the core's `leads_to`: a trial walk)."""
    return st.walk.leads_to(st.ballots())


ACTIONS = {"open", "close", "accept", "revote", "back"} | PAUSE_ACTIONS


def resume_command(store: Store, room: str) -> str:
    """The command that serves this room again at a later meeting."""
    url = store.engine.url.render_as_string(hide_password=True)
    return f"decision-map serve --room {room} --database {url}"


async def act(request: Request) -> Response:
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role != "facilitator":
        return forbidden()
    data = await posted(request, room, role)
    if isinstance(data, Response):
        return data
    lv = live(request)
    _, st = await lv.state(room)
    action = data.get("action", "")
    back = f"/r/{room}/facilitate"
    if action not in ACTIONS:
        return go(f"{back}?error=unknown+action")
    # The facilitator acts on what they saw: another facilitator may have moved first.
    # (Ballots arriving meanwhile do not count as moving.) Within this process the check
    # below holds; across processes the store refuses the append if a move was written
    # after the seq this check read, in the same transaction as the append.
    if data.get("at") != at_key(st):
        return go(f"{back}?moved={await lv.db(lv.store.last_move, room)}")
    expected = None
    by = names.signed({}, request, room)  # the facilitator's name, when given
    if action in PAUSE_ACTIONS or st.paused:
        problem = await lv.db(pause_or_resume, lv.store, room, st, action, by)
        if problem:
            return go(f"{back}?error={quote_plus(problem)}")
        lv.publish(room)
        return go(back)
    try:
        if action == "open" and st.phase == "waiting" and st.position is not None:
            mode = secrets_.mode_for(st.position.node, pos_defaults(st),
                                     str(data.get("mode") or st.default_mode))
            await lv.db(lv.store.append, room, "vote_opened",
                        {"round": st.round + 1, "mode": mode, **by}, "facilitator", expected,
                        unmoved_since=st.seq)
        elif action == "close" and st.phase == "open":
            closing, seen = {"round": st.round}, st.seq  # st may move on at an await
            ballots = st.ballots()
            if st.mode == "secret":  # the round's ballots, unnamed, in a fixed order
                ballots = await lv.db(secrets_.tally, lv.store, room, st.round)
                closing["tally"] = [b.to_json() for b in ballots]
            try:
                st.walk.preview(ballots)
            except DecisionMapError as e:  # e.g. two sentences where one is asked for
                from urllib.parse import quote

                return go(f"{back}?error={quote(str(e)[:200])}")
            # a secret tally is what was read above: a secret ballot landing after it (from
            # another process) refuses this close rather than being left out of it
            await lv.db(lv.store.append, room, "vote_closed", {**closing, **by}, "facilitator",
                        expected, unmoved_since=seen, also_moving=("secret_voted",)
                        if "tally" in closing else ())
        elif action == "revote" and st.phase == "closed":
            await lv.db(lv.store.append, room, "revote",
                        {"round": st.round + 1, "mode": st.mode, **by}, "facilitator", expected,
                        unmoved_since=st.seq)
        elif action == "accept" and st.phase == "closed":
            await lv.db(lv.store.append, room, "step_submitted",
                        {"ballots": [b.to_json() for b in st.ballots()], **by},
                        "facilitator", expected, unmoved_since=st.seq)
        elif action == "back" and st.walk.submissions and st.phase in ("waiting", "finished"):
            await lv.db(lv.store.append, room, "step_undone", by, "facilitator", expected,
                        unmoved_since=st.seq)
        else:
            return go(f"{back}?error=That+is+not+possible+now.")
    except Moved as e:  # another facilitator's button, maybe in another process, came first
        return go(f"{back}?moved={e.seq}")
    except StoreError as e:
        return go(f"{back}?error={quote_plus(str(e))}")
    lv.publish(room)
    if action == "close" and st.mode == "secret":  # the file rebuilt, off the event loop
        await run_in_threadpool(secrets_.checkpoint, lv.store)
    return go(back)


async def enter_for(request: Request) -> Response:
    """The facilitator enters a vote for a member without a phone (marked as such)."""
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role != "facilitator":
        return forbidden()
    data = await posted(request, room, role)
    if isinstance(data, Response):
        return data
    _, st = await live(request).state(room)
    member = data.get("member", "")
    if member not in st.group:
        return go(f"/r/{room}/facilitate?error=not+a+member")
    return await _cast(request, room, member, data, "facilitator", f"/r/{room}/facilitate",
                       by=names.name_of(request, room))


async def projector(request: Request) -> Response:
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role not in ("projector", "facilitator"):
        return forbidden()
    return page(request, "projector.html", **await _common(request, room, role))


# ---------------------------------------------------------------- data for any role


async def state_json(request: Request) -> Response:
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role == "stranger":
        return forbidden()
    _, st = await live(request).state(room)
    frame = dict(st.public())  # a copy: the cached frame goes to every page
    if role == "facilitator":  # who has voted, in every mode; how, in a named one
        frame["voters"] = st.who_voted()
        if st.mode == "named":
            frame["votes"] = {m: said(c.ballot)[:80] for m, c in st.casts.items()}
    return JSONResponse(frame, headers={"cache-control": "no-store"})


async def map_svg(request: Request) -> Response:
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role == "stranger":
        return forbidden()
    lv = live(request)
    dm, st = await lv.state(room)
    # the path taken so far (a step undone and answered otherwise draws anew) and where
    pos = st.position
    key = (room, tuple((s.node, s.route_value, s.superseded) for s in st.walk.trace.steps),
           pos.key if pos else "")
    if key not in lv.pictures:
        pic = await run_in_threadpool(_around_now, dm, st)
        if len(lv.pictures) > 256:
            lv.pictures.clear()
        lv.pictures[key] = pic
    return Response(lv.pictures[key], media_type="image/svg+xml",
                    headers={"cache-control": "no-store"})


def _around_now(dm: DecisionMap, st: RoomState) -> bytes:
    """The map around the step in front of the room, the path so far folded into a list
    (render's `around`: legible on a 1080p projector, where the whole map is not); at the
    end, around the last step. The whole path picture only if that cannot be drawn."""
    from decision_map_render.around import around_picture, around_step

    trace, pos = st.walk.trace, st.position
    try:
        if pos is not None:
            return around_picture(dm, trace, pos.scope, pos.node_id)
        if trace.steps:
            return around_step(dm, trace, len(trace.steps))
    except ValueError:
        pass
    from decision_map_render.draw import picture

    return picture(dm, trace, "svg", True).data


async def report(request: Request) -> Response:
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role == "stranger":
        return forbidden()
    dm, st = await live(request).state(room)
    if not st.walk.finished:
        return PlainTextResponse("the walk has not ended yet", status_code=409)
    from decision_map_render.report import report_html

    html = await run_in_threadpool(report_html, dm, st.walk.trace)
    return HTMLResponse(html, headers={"content-security-policy": sec.REPORT_CSP})


async def events(request: Request) -> Response:
    """Server-Sent Events (sse.py): the public frame with `id: seq` whenever the room
    moves, and a heartbeat carrying the seq; a reconnect gets the frame it missed."""
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role == "stranger":
        return forbidden()
    lv = live(request)

    seen: list[tuple[int, int] | None] = [None]

    async def read() -> tuple[int, str]:
        # Woken by the bus (its count moved since this stream's last read): a read another
        # stream of the room began since then serves this one too. A heartbeat (no wake-up
        # since): a read younger than a heartbeat, if the bus vouches for it. The first
        # read: one begun now. The frame's text is the room's, made once per seq.
        version = lv.bus.version(room)
        first, woken = seen[0] is None, version != seen[0]
        seen[0] = version
        _, st = await lv.state(room, woken=woken and not first, beat=not woken)
        return st.seq, st.public_json()

    return sse.event_stream(request, lv, room, read, heartbeat=HEARTBEAT,
                            max_streams=lv.max_streams)


async def not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("not found", status_code=404)


async def room_missing(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("no such room", status_code=404)


async def map_failed(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"the room's map cannot be read: {exc}", status_code=500)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Start the bus (the LISTEN connection with Postgres) with the server, stop it after."""
    lv: Live = app.state.live
    if lv.stopping is None:
        lv.stopping = asyncio.Event()
    await lv.bus.start()
    try:
        yield
    finally:
        await lv.bus.stop()


def create_app(store: Store, secret: bytes, max_streams: int | None = None) -> Starlette:
    """The ASGI app for one database (`max_streams`: DECISION_MAP_MAX_STREAMS's)."""
    from .roster import roster_action  # it uses this module's helpers

    r = "/r/{room:str}"
    routes = [
        Route("/", home),
        Route("/join", join_code, methods=["POST"]),
        Route("/j/{code:str}", join_link),
        Route(f"{r}/join", join, methods=["GET", "POST"]),
        Route(r + "/{who:str}/go", key_link),
        Route(f"{r}/me", member_page),
        Route(f"{r}/vote", vote, methods=["POST"]),
        Route(f"{r}/facilitate", facilitate),
        Route(f"{r}/act", act, methods=["POST"]),
        Route(f"{r}/enter", enter_for, methods=["POST"]),
        Route(f"{r}/roster", roster_action, methods=["POST"]),
        Route(f"{r}/name", names.give_name, methods=["POST"]),
        Route(f"{r}/projector", projector),
        Route(f"{r}/state", state_json),
        Route(f"{r}/map.svg", map_svg),
        Route(f"{r}/report", report),
        Route(f"{r}/events", events),
        Route(f"{r}/session.json", session_json),
        Route(f"{r}/rotate", rotate, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        KeyError: room_missing, DecisionMapError: map_failed})
    if max_streams is None:
        max_streams = Settings.from_env().max_streams
    app.state.live = Live(store, secret, bus=bus_for(store.url), max_streams=max_streams)
    return app


def guarded(app: Starlette, limits: Limits | None = None) -> Any:
    """The app behind the rate limits (`limits` default to the environment's; limits.py),
    the header and body-size guard, and the hosting layer (proxy headers, HTTPS, health,
    logs, expiry; ops.py): what uvicorn serves."""
    from .ops import wrap

    limiter = RateLimit(app, limits, store=app.state.live.store)
    return wrap(sec.Guard(limiter), app.state.live, limiter=limiter)
