"""The live room over plain HTTP against a real uvicorn: a walk to an outcome, votes that
survive a reload and a restart, the rule's sentence at close, roles and the guards."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The core suite runs on the laptop's SQLite and again on a real PostgreSQL.
pytestmark = pytest.mark.databases("sqlite", "postgres")


def test_a_room_walks_to_an_outcome_and_serves_the_report(room):
    rid, proj = room.id, room.proj
    closed = room.step(room.everyone("no"), accept=False)
    # the facilitator reads the rule's sentence and sees where accepting leads: "not now"
    # first asks what would reopen the question (one sentence), then ends
    assert "If you accept: This leads to the question" in closed
    rosa = room.members["Rosa"].get(f"/r/{rid}/me").text
    assert 'class="sentence"' in rosa and "no" in rosa
    room.act("accept")
    assert room.question() == "what-would-reopen"
    room.walk_to(None, {})
    end = proj.get(f"/r/{rid}/projector").text
    assert "Not now" in end
    r = room.members["Tom"].get(f"/r/{rid}/report")
    assert r.status_code == 200 and "script-src" not in r.headers["content-security-policy"]
    assert "Not now" in r.text
    svg = proj.get(f"/r/{rid}/map.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith(("<?xml", "<svg"))


def test_consent_with_a_stand_aside_and_an_objection_with_its_reason(room, live_kit):
    room.walk_to("red-lines", live_kit["plan"])
    room.act("open")  # red-lines, by consent
    r = room.round_of("Rosa")
    # an objection without a reason is refused with a line saying so
    page = room.vote("Tom", round=r, value="object")
    assert "the reason is required" in page
    room.vote("Tom", round=r, value="object", reason="<b>Not</b> without our members")
    room.vote("Priya", round=r, value="stand-aside")
    for n in ("Rosa", "Malik", "Dolores"):
        room.vote(n, round=r, value="agree")
    closed = room.act("close")
    assert "blocked" in closed.lower() or "object" in closed.lower()
    # the reason is shown, escaped
    assert "&lt;b&gt;Not&lt;/b&gt; without our members" in closed and "<b>Not" not in closed
    room.act("revote")
    r = room.round_of("Rosa")
    for n in ("Rosa", "Malik", "Dolores", "Tom"):
        room.vote(n, round=r, value="agree")
    room.vote("Priya", round=r, value="stand-aside")
    closed = room.act("close")
    assert "Priya" in closed and "If you accept: This leads to the question" in closed
    room.act("accept")
    assert room.question() == "at-the-table"


def test_a_reload_keeps_identity_and_vote_and_a_vote_can_change_until_close(room, live_kit):
    csrf_of = live_kit["csrf_of"]
    rid = room.id
    room.act("open")
    rosa = room.members["Rosa"]
    r = room.round_of("Rosa")
    room.vote("Rosa", round=r, value="yes")
    page = rosa.get(f"/r/{rid}/me").text
    assert "You are <strong>Rosa</strong>" in page and "Your vote: <strong>yes" in page
    room.vote("Rosa", round=r, value="no")
    assert "Your vote: <strong>no" in rosa.get(f"/r/{rid}/me").text
    token = csrf_of(rosa.get(f"/r/{rid}/me").text)
    room.act("close")
    late = rosa.http.post(f"/r/{rid}/vote", data={"value": "yes", "round": r, "csrf": token})
    assert "The vote has closed" in late.text


def test_the_facilitator_enters_a_vote_for_someone_without_a_phone(room, live_kit):
    csrf_of = live_kit["csrf_of"]
    rid = room.id
    room.act("open")
    page = room.fac.get(f"/r/{rid}/facilitate").text
    round_ = re.search(r'name="round" value="(\d+)"', page).group(1)
    room.fac.http.post(f"/r/{rid}/enter", data={"member": "Dolores", "value": "yes",
                                           "round": round_, "csrf": csrf_of(page)})
    assert "(entered by you)" in room.fac.get(f"/r/{rid}/facilitate").text
    assert "entered by the facilitator" in room.members["Dolores"].get(f"/r/{rid}/me").text


def test_a_restart_on_the_same_file_keeps_the_room(room, starter):
    rid, srv = room.id, room.server
    room.act("open")
    room.vote("Rosa", value="yes")
    srv.stop()
    again = starter(srv.url, links=srv.links)
    fac2 = room.person()
    fac2.http.cookies = room.fac.http.cookies  # the same browser, after the restart
    fac2.http.base_url = again.base
    page = fac2.get(f"/r/{rid}/facilitate").text
    assert "Rosa: <span data-status>voted" in page and "Close the vote" in page
    srv.stop = lambda: None  # already stopped


# ---------------------------------------------------------------- roles and guards


def test_each_role_reaches_only_its_own_pages(room):
    rid, proj = room.id, room.proj
    rosa = room.members["Rosa"]
    stranger = room.person()
    for path in ("/facilitate", "/state", "/events", "/map.svg", "/report"):
        assert stranger.get(f"/r/{rid}{path}").status_code == 403, path
    assert stranger.get(f"/r/{rid}/me").url.path == f"/r/{rid}/join"
    assert rosa.get(f"/r/{rid}/facilitate").status_code == 403
    assert rosa.get(f"/r/{rid}/projector").status_code == 403
    assert proj.get(f"/r/{rid}/facilitate").status_code == 403
    assert proj.get(f"/r/{rid}/projector").status_code == 200
    assert rosa.http.post(f"/r/{rid}/act", data={"action": "open", "csrf": "0"}
                          ).status_code == 403
    assert proj.http.post(f"/r/{rid}/vote", data={"value": "yes"}).status_code == 403
    assert room.fac.get(f"/r/{rid}/f/go?k=wrong").status_code == 403
    # a member's token and the keys are stored only as hashes
    import sqlite3

    db = sqlite3.connect(room.server.url.split("sqlite:///")[1])
    dump = "\n".join(db.iterdump())
    db.close()
    for c in (room.fac, proj, rosa):
        for value in c.http.cookies.values():
            assert value not in dump


def test_posts_need_the_form_token_and_the_same_origin(room, live_kit):
    csrf_of = live_kit["csrf_of"]
    rid = room.id
    page = room.fac.get(f"/r/{rid}/facilitate").text
    at = re.search(r'name="at" value="([\w-]+)"', page).group(1)
    r = room.fac.http.post(f"/r/{rid}/act", data={"action": "open", "at": at})
    assert r.status_code == 403 and "stale or forged" in r.text
    r = room.fac.http.post(f"/r/{rid}/act", data={"action": "open", "at": at,
                                             "csrf": csrf_of(page)},
                      headers={"origin": "http://evil.example", "sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    assert "Open the vote" in room.fac.get(f"/r/{rid}/facilitate").text


def test_bodies_are_capped_and_headers_set(room):
    rid, rosa = room.id, room.members["Rosa"]
    r = rosa.http.post(f"/r/{rid}/vote", data={"reason": "x" * 20_000})
    assert r.status_code == 413
    page = rosa.get(f"/r/{rid}/me")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.text.replace('<script src="/static/live.js" defer></script>', "")
    # what a phone downloads for the page (the map picture aside): the page, its style and
    # its script
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert {"/static/live.css", "/static/live.js"} <= set(assets)
    total = len(page.content) + sum(len(rosa.get(a).content) for a in assets)
    assert total < 30_000, total


def test_events_carry_the_seq_and_catch_up_from_last_event_id(room):
    rid, rosa = room.id, room.members["Rosa"]
    state = rosa.get(f"/r/{rid}/state").json()
    with rosa.http.stream("GET", f"/r/{rid}/events",
                          headers={"last-event-id": str(state["seq"] - 1)}) as s:
        lines = s.iter_lines()
        frame = _next_frame(lines)
        assert frame["seq"] == state["seq"] and frame["phase"] == "waiting"
        assert "Rosa" not in json.dumps(frame) or frame["who"] == []
        room.act("open")
        frame = _next_frame(lines)
        assert frame["phase"] == "open" and frame["seq"] > state["seq"]


def _next_frame(lines, limit: float = 10.0) -> dict:
    """The next data frame of an event stream (bounded by `limit` seconds)."""
    deadline = time.monotonic() + limit
    seen_id = None
    for line in lines:
        assert time.monotonic() < deadline, "no frame in time"
        if line.startswith("id: "):
            seen_id = int(line[4:])
        elif line.startswith("data: ") and seen_id is not None:
            frame = json.loads(line[6:])
            assert frame["seq"] == seen_id
            return frame
    raise AssertionError("the stream ended")


# ---------------------------------------------------------------- the command


def test_serve_prints_three_links_and_refuses_an_in_memory_database(tmp_path, live_kit):
    Client = live_kit["Client"]
    exe = [sys.executable, "-m", "decision_map"]
    bad = subprocess.run([*exe, "serve", "coalition-formation", "--group", "Ana, Ben",
                          "--database", "sqlite://"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "in-memory" in bad.stderr and "Traceback" not in bad.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*exe, "serve", str(ROOT / "maps" / "coalition-formation.yaml"),
                             "--group", "Ana, Ben, Cy", "--port", str(port), "--database",
                             f"sqlite:///{tmp_path / 'x.sqlite3'}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith(f"Facilitator: http://127.0.0.1:{port}/r/")
        assert lines[1].startswith("Projector: http://")
        assert re.match(r"Join: http://\S+/j/([A-Z0-9]{6}) \(code \1\)$", lines[2].strip())
        c = Client(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                r = c.get(lines[2].split()[1])
                break
            except Exception:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        assert "Ana" in r.text and "Cy" in r.text
        c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_close_the_rule_cannot_decide_is_refused_in_one_line_and_the_vote_stays_open(room):
    room.step(room.everyone("yes"))  # shared-goal: on to one agreed sentence
    room.act("open")
    page = room.members["Rosa"].get(f"/r/{room.id}/me").text
    assert "data-one" in page, "the coalition map's second question asks for one sentence"
    for n in room.members:
        room.vote(n, text=f"{n}'s own sentence")
    page = room.fac.get(f"/r/{room.id}/facilitate").text
    at = re.search(r'name="at" value="([\w-]+)"', page).group(1)
    r = room.fac.http.post(f"/r/{room.id}/act", data={"action": "close", "at": at,
                                                      "csrf": re.search(
                                                          r'name="csrf" value="(\w+)"',
                                                          page).group(1)})
    assert "one agreed sentence" in r.text and "Close the vote" in r.text
    assert room.fac.get(f"/r/{room.id}/state").json()["phase"] == "open"


def test_the_facilitators_live_votes_never_reach_a_members_state(room):
    """In a named vote the facilitator's state carries each vote as it comes in; the frame
    every page shares is built once per move, so the facilitator's copy must not become
    the members' (a member read after the facilitator sees counts, not votes)."""
    rid = room.id
    room.act("open")
    room.vote("Rosa", value="no")
    fac = room.fac.get(f"/r/{rid}/state").json()
    assert fac["votes"] == {"Rosa": "no"}
    for name in ("Malik", "Rosa"):
        mine = room.members[name].get(f"/r/{rid}/state").json()
        assert "votes" not in mine and "voters" not in mine and mine["voted"] == 1
