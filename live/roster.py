"""The facilitator's hold on who is in the room: let members add a name not on the roster,
mark a member as gone, or back again. Each change counts from the next question on (the
room hands its roster to the core's `Walk.regroup` between questions; see room.py)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from .app import forbidden, go, live, posted, role_of
from .names import signed

ROSTER_ACTIONS = ("open", "close", "leave", "return")


async def roster_action(request: Request) -> Response:
    """POST /r/{room}/roster: `action` open|close (names not on the roster), or
    leave|return with `member`."""
    room = request.path_params["room"]
    role, _ = await role_of(request, room)
    if role != "facilitator":
        return forbidden()
    data = await posted(request, room, role)
    if isinstance(data, Response):
        return data
    lv = live(request)
    _, st = await lv.state(room)
    back = f"/r/{room}/facilitate"
    action, member = str(data.get("action") or ""), str(data.get("member") or "")
    if action in ("open", "close"):
        await lv.db(lv.store.append, room, "roster_opened",
                    signed({"open": action == "open"}, request, room), "facilitator")
    elif action == "leave" and member in st.roster:
        if len(st.roster) == 1:
            return go(f"{back}?error=" + quote("the last member cannot leave the group"))
        await lv.db(lv.store.append, room, "member_left",
                    signed({"member": member}, request, room), "facilitator")
    elif action == "return" and member in st.left:
        await lv.db(lv.store.append, room, "member_joined",
                    signed({"member": member}, request, room), "facilitator")
    else:
        return go(f"{back}?error=" + quote("That is not possible now."))
    lv.publish(room)
    return go(back)
