"""Facilitators' names (live/names.py): co-facilitators share one link, and a button one
of them pressed on an out-of-date page is refused with a line saying what moved the room
and who did it. The name is for co-facilitators only: members, the projector, the session
file and the report never carry it."""

from __future__ import annotations

import re

import httpx
import pytest
from decision_map_live.store import Moved, Store, upgrade

from tests.live.conftest import GROUP, PLAN, Client, Room, csrf_of


def give_name(fac: Client, room: str, name: str) -> httpx.Response:
    """The facilitator types a name into the field on their page and saves it."""
    return fac.post(f"/r/{room}/name", {"name": name}, page=f"/r/{room}/facilitate")


def form_on(page: str, action: str) -> dict[str, str]:
    """The fields a facilitator's button posts, as their page had them."""
    return {"action": action, "csrf": csrf_of(page),
            "at": re.search(r'name="at" value="([\w-]+)"', page).group(1)}


def second_facilitator(room: Room) -> Client:
    """Another device opening the same facilitator link."""
    other = room.person()
    assert other.get(room.server.links.facilitator).url.path.endswith("/facilitate")
    return other


def error_line(page: str) -> str:
    m = re.search(r'<p class="error" role="alert">(.*?)</p>', page)
    return m.group(1) if m else ""


def test_the_facilitator_who_loses_a_race_is_told_who_won(room):
    rid, ben = room.id, room.fac
    zoe = second_facilitator(room)
    assert "Your name, shown to co-facilitators" in ben.get(f"/r/{rid}/facilitate").text
    give_name(ben, rid, "Ben")
    give_name(zoe, rid, "Zoë & <Co>")
    room.act("open")
    for n in GROUP:
        room.vote(n, value="yes")
    stale = zoe.get(f"/r/{rid}/facilitate").text
    room.act("close")  # Ben is first
    lost = zoe.http.post(f"/r/{rid}/act", data=form_on(stale, "close"))
    assert lost.url.path == f"/r/{rid}/facilitate"
    assert "Ben" not in str(lost.url) and "error" not in str(lost.url)  # ?moved=SEQ
    assert error_line(lost.text) == (
        "The vote was already closed by Ben; this page shows the room as it is now.")
    assert "If you accept:" in lost.text  # the refreshed page: the vote as closed
    # the other way round, with a name that must be escaped
    stale = ben.get(f"/r/{rid}/facilitate").text
    zoe.http.post(f"/r/{rid}/act", data=form_on(lost.text, "revote"))
    lost = ben.http.post(f"/r/{rid}/act", data=form_on(stale, "accept"))
    assert error_line(lost.text) == ("The vote was already reopened for a revote by "
                                     "Zoë &amp; &lt;Co&gt;; this page shows the room as it "
                                     "is now.")
    assert "<Co>" not in lost.text
    # a winner who gave no name (an empty name forgets it) is "another facilitator"
    give_name(zoe, rid, "  ")
    assert 'value=""' in zoe.get(f"/r/{rid}/facilitate").text
    for n in GROUP:
        room.vote(n, value="yes")
    stale = ben.get(f"/r/{rid}/facilitate").text
    zoe.http.post(f"/r/{rid}/act", data=form_on(zoe.get(f"/r/{rid}/facilitate").text,
                                                 "close"))
    lost = ben.http.post(f"/r/{rid}/act", data=form_on(stale, "close"))
    assert error_line(lost.text) == ("The vote was already closed by another facilitator; "
                                     "this page shows the room as it is now.")


def test_a_vote_entered_by_a_co_facilitator_says_who_entered_it(room):
    rid, ben = room.id, room.fac
    zoe = second_facilitator(room)
    give_name(ben, rid, "Ben")
    give_name(zoe, rid, "Zoë")
    room.act("open")
    page = zoe.get(f"/r/{rid}/facilitate").text
    round_ = re.search(r'name="round" value="(\d+)"', page).group(1)
    zoe.http.post(f"/r/{rid}/enter", data={"member": GROUP[0], "value": "yes",
                                           "round": round_, "csrf": csrf_of(page)})
    assert "(entered by Zoë)" in ben.get(f"/r/{rid}/facilitate").text
    assert "(entered by you)" in zoe.get(f"/r/{rid}/facilitate").text
    member = room.members[GROUP[0]].get(f"/r/{rid}/me").text
    assert "Zoë" not in member and "(entered by the facilitator)" in member


def test_the_name_is_a_bounded_httponly_cookie_for_the_room(room):
    rid = room.id
    r = room.fac.post(f"/r/{rid}/name", {"name": "Ben\x00 \n Okafor"},
                      page=f"/r/{rid}/facilitate")
    cookie = r.history[0].headers["set-cookie"]
    assert cookie.startswith(f"dm_n_{rid[:8]}=Ben%20Okafor;")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and f"Path=/r/{rid}" in cookie
    assert 'value="Ben Okafor"' in r.text and 'maxlength="40"' in r.text
    too_long = room.fac.post(f"/r/{rid}/name", {"name": "x" * 41},
                             page=f"/r/{rid}/facilitate")
    assert error_line(too_long.text) == "A name is at most 40 characters."
    assert 'value="Ben Okafor"' in too_long.text  # the name given before stays
    # a member cannot name themselves a facilitator (their own form token, on a vote)
    room.act("open")
    token = csrf_of(room.members["Rosa"].get(f"/r/{rid}/me").text)
    r = room.members["Rosa"].http.post(f"/r/{rid}/name", data={"name": "Rosa", "csrf": token},
                                       follow_redirects=False)
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_every_facilitator_event_carries_the_name_and_no_member_page_or_record_does(room):
    rid, name = room.id, "Wilhelmina"
    give_name(room.fac, rid, name)
    fac_page = f"/r/{rid}/facilitate"
    room.fac.post(f"/r/{rid}/roster", {"action": "open"}, page=fac_page)
    room.fac.post(f"/r/{rid}/roster", {"action": "leave", "member": "Tom"}, page=fac_page)
    room.fac.post(f"/r/{rid}/roster", {"action": "return", "member": "Tom"}, page=fac_page)
    room.act("open")
    round_ = room.round_of("Rosa")
    room.fac.post(f"/r/{rid}/enter", {"member": "Dolores", "value": "yes", "round": round_},
                  page=fac_page)
    for n in GROUP[:4]:
        room.vote(n, value="yes")
    room.act("close")
    room.act("revote")
    room.act("pause")
    room.act("resume")
    for n in GROUP:
        room.vote(n, value="yes")
    room.act("close")
    room.act("accept")
    room.walk_to("red-lines", PLAN)
    room.step(room.everyone("agree"))  # consent, not in the plan
    room.walk_to(None, PLAN)
    room.act("back")
    room.walk_to(None, PLAN)
    seen = {"member": room.members["Rosa"].get(f"/r/{rid}/me").text,
            "projector": room.proj.get(f"/r/{rid}/projector").text,
            "member state": room.members["Rosa"].get(f"/r/{rid}/state").text,
            "facilitator state": room.fac.get(f"/r/{rid}/state").text,
            "report": room.members["Rosa"].get(f"/r/{rid}/report").text,
            "session": room.fac.get(f"/r/{rid}/session.json").text}
    assert all(name not in text for text in seen.values()), [
        k for k, text in seen.items() if name in text]
    store = Store(room.server.url)
    events = store.events(rid)
    store.engine.dispose()
    by_facilitator = [e for e in events if e.actor == "facilitator"]
    assert {e.kind for e in by_facilitator} >= {
        "roster_opened", "member_left", "member_joined", "vote_opened", "vote_closed",
        "revote", "paused", "resumed", "step_submitted", "step_undone"}
    assert [e.kind for e in by_facilitator if e.payload.get("by") != name] == []
    entered = [e for e in events if e.payload.get("entered_by")]
    assert [e.payload["by"] for e in entered] == [name]
    # the new facilitator link is a facilitator's act too
    room.fac.post(f"/r/{rid}/rotate", {}, page=fac_page)
    store = Store(room.server.url)
    assert store.events(rid)[-1].payload == {"by": name}
    store.engine.dispose()


def test_a_write_refused_after_a_move_names_the_move_and_its_facilitator(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    upgrade(url)
    store = Store(url)
    room = "d" * 32
    store.create_room(room, "m.yaml", "0" * 64, "f" * 64, "p" * 64, {"group": []})
    seen = store.append(room, "vote_opened", {"round": 1}, "facilitator")
    closed = store.append(room, "vote_closed", {"round": 1, "by": "Ben"}, "facilitator",
                          unmoved_since=seen)
    with pytest.raises(Moved, match="^The vote was already closed by Ben;") as lost:
        store.append(room, "vote_closed", {"round": 1, "by": "Zoë"}, "facilitator",
                     unmoved_since=seen)
    assert lost.value.seq == closed == store.last_move(room)
    assert store.move_line(room, closed) == str(lost.value)
    # a seq that is not a move (or not there) gives the plain line, never someone's words
    assert store.move_line(room, seen - 1) == store.move_line(room, 999) == (
        "The room moved on meanwhile; look again.")
    store.engine.dispose()
