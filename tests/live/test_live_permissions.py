"""The permission matrix: every route of the live app, by method, for each kind of visitor,
against a real server. The routes are read from `create_app`, so a route added without a
row here fails the test until someone decides who may use it.

Posts carry the form token each visitor's own page would give them, so a 403 here is the
role check, not a missing token. Every post is one that changes nothing (a vote with no
vote open, an unknown action, a name not on the roster), except the key rotation, which
runs last.
"""

from __future__ import annotations

import pytest
from decision_map_live import security as sec
from decision_map_live.app import cookie_name, create_app
from decision_map_live.server import open_room, prepare
from starlette.routing import Mount, Route

from decision_map.io.loader import load_map

WHO = ("member", "facilitator", "projector", "stranger", "other")  # other: another room's member
# (route path, method): (the path asked, the form posted, the statuses in WHO's order)
MATRIX: dict[tuple[str, str], tuple[str, dict[str, str] | None, str]] = {
    ("/", "GET"): ("/", None, "200 200 200 200 200"),
    ("/", "HEAD"): ("/", None, "200 200 200 200 200"),
    ("/join", "POST"): ("/join", {"code": "{code}"}, "303 303 303 303 303"),
    ("/j/{code:str}", "GET"): ("/j/{code}", None, "303 303 303 303 303"),
    ("/j/{code:str}", "HEAD"): ("/j/{code}", None, "303 303 303 303 303"),
    ("/r/{room:str}/join", "GET"): ("/r/{room}/join", None, "303 200 200 200 200"),
    ("/r/{room:str}/join", "HEAD"): ("/r/{room}/join", None, "303 200 200 200 200"),
    ("/r/{room:str}/join", "POST"): ("/r/{room}/join", {"name": "Nobody"},
                                     "303 400 400 400 400"),
    ("/r/{room:str}/{who:str}/go", "GET"): ("/r/{room}/f/go?k=wrong", None,
                                            "403 403 403 403 403"),
    ("/r/{room:str}/{who:str}/go", "HEAD"): ("/r/{room}/p/go?k=", None,
                                             "403 403 403 403 403"),
    ("/r/{room:str}/me", "GET"): ("/r/{room}/me", None, "200 303 303 303 303"),
    ("/r/{room:str}/me", "HEAD"): ("/r/{room}/me", None, "200 303 303 303 303"),
    ("/r/{room:str}/vote", "POST"): ("/r/{room}/vote", {"value": "yes", "round": "9"},
                                     "303 403 403 403 403"),
    ("/r/{room:str}/facilitate", "GET"): ("/r/{room}/facilitate", None, "403 200 403 403 403"),
    ("/r/{room:str}/facilitate", "HEAD"): ("/r/{room}/facilitate", None,
                                           "403 200 403 403 403"),
    ("/r/{room:str}/act", "POST"): ("/r/{room}/act", {"action": "none", "at": "x"},
                                    "403 303 403 403 403"),
    ("/r/{room:str}/enter", "POST"): ("/r/{room}/enter", {"member": "Nobody"},
                                      "403 303 403 403 403"),
    ("/r/{room:str}/roster", "POST"): ("/r/{room}/roster", {"action": "none"},
                                       "403 303 403 403 403"),
    ("/r/{room:str}/name", "POST"): ("/r/{room}/name", {"name": ""}, "403 303 403 403 403"),
    ("/r/{room:str}/projector", "GET"): ("/r/{room}/projector", None, "403 200 200 403 403"),
    ("/r/{room:str}/projector", "HEAD"): ("/r/{room}/projector", None,
                                          "403 200 200 403 403"),
    ("/r/{room:str}/state", "GET"): ("/r/{room}/state", None, "200 200 200 403 403"),
    ("/r/{room:str}/state", "HEAD"): ("/r/{room}/state", None, "200 200 200 403 403"),
    ("/r/{room:str}/map.svg", "GET"): ("/r/{room}/map.svg", None, "200 200 200 403 403"),
    ("/r/{room:str}/map.svg", "HEAD"): ("/r/{room}/map.svg", None, "200 200 200 403 403"),
    ("/r/{room:str}/report", "GET"): ("/r/{room}/report", None, "409 409 409 403 403"),
    ("/r/{room:str}/report", "HEAD"): ("/r/{room}/report", None, "409 409 409 403 403"),
    ("/r/{room:str}/events", "GET"): ("/r/{room}/events", None, "200 200 200 403 403"),
    ("/r/{room:str}/events", "HEAD"): ("/r/{room}/events", None, "200 200 200 403 403"),
    ("/r/{room:str}/session.json", "GET"): ("/r/{room}/session.json", None,
                                            "403 200 403 403 403"),
    ("/r/{room:str}/session.json", "HEAD"): ("/r/{room}/session.json", None,
                                             "403 200 403 403 403"),
    ("/r/{room:str}/rotate", "POST"): ("/r/{room}/rotate", {}, "403 200 403 403 403"),
    ("/static", "GET"): ("/static/live.css", None, "200 200 200 200 200"),
}
LAST = {("/r/{room:str}/rotate", "POST")}  # it shuts out the facilitator's other devices


def routes_of_the_app(store, secret) -> set[tuple[str, str]]:
    """Every (path, method) the app answers, read from the app itself."""
    got: set[tuple[str, str]] = set()
    for r in create_app(store, secret).routes:
        if isinstance(r, Route):
            got |= {(r.path, m) for m in r.methods or ()}
        elif isinstance(r, Mount):
            got.add((r.path, "GET"))
        else:  # pragma: no cover - a new kind of route needs a row and a way to ask it
            raise AssertionError(f"a route of a kind this test does not know: {r!r}")
    return got


def test_every_route_and_method_for_every_visitor(room, live_kit):
    Client, rid, server = live_kit["Client"], room.id, room.server
    store, secret = prepare(server.url)
    assert routes_of_the_app(store, secret) == set(MATRIX), (
        "the routes and the matrix differ: give every new route a row")
    other_links = open_room(store, load_map(store.events(rid)[0].payload["map_path"]),
                            ["Zoe", "Yan"], server.base)
    other = Client(server.base)
    page = other.get(f"/j/{other_links.code}").text
    other.http.post(f"/r/{other_links.room}/join", data={
        "name": "Zoe", "csrf": live_kit["csrf_of"](page)})
    assert other.get(f"/r/{other_links.room}/me").status_code == 200
    stranger = Client(server.base)
    people = {"member": (room.members["Rosa"], "m"), "facilitator": (room.fac, "f"),
              "projector": (room.proj, "p"), "stranger": (stranger, None),
              "other": (other, None)}
    wrong: list[str] = []
    for key in sorted(MATRIX, key=lambda k: (k in LAST, k)):
        path, form, statuses = MATRIX[key]
        url = path.format(room=rid, code=server.links.code)
        form = {k: v.format(code=server.links.code) for k, v in form.items()} if (
            form is not None) else None
        for who, want in zip(WHO, statuses.split(), strict=True):
            client, short = people[who]
            got = ask(client.http, key[1], url, form, secret, rid, who, short)
            if got != int(want):
                wrong.append(f"{key[1]} {key[0]} as {who}: {got}, expected {want}")
    other.close()
    stranger.close()
    assert not wrong, "\n".join(wrong)


def ask(http, method: str, url: str, form: dict[str, str] | None, secret: bytes, room: str,
        who: str, short: str | None) -> int:
    """The status one visitor gets (no redirect followed; a stream is closed at once)."""
    if method == "POST":
        cookie = http.cookies.get(cookie_name(short, room), path=f"/r/{room}") if short else ""
        # the join form is a stranger's; every other form is bound to the poster's role
        bound = (f"{room}:stranger:" if url.endswith("/join") else
                 f"{room}:{who if short else 'stranger'}:{cookie or ''}")
        data = dict(form or {})
        data["csrf"] = sec.form_token(secret, bound)
        return http.post(url, data=data, follow_redirects=False).status_code
    with http.stream(method, url, follow_redirects=False) as r:
        return r.status_code


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused_on_every_route(live_server, live_kit, method):
    c = live_kit["Client"](live_server.base)
    for path, _, _ in MATRIX.values():
        url = path.format(room=live_server.links.room, code=live_server.links.code)
        assert c.http.request(method, url).status_code in (405, 404), (method, url)
    c.close()
