"""Ballot modes and latecomers in the live room, over plain HTTP against a real uvicorn.

The secret ballot is held to what docs/live.md promises: after named members cast secret
votes, no table of the SQLite file (every column of every row) and no page anyone can open
(member, facilitator, projector, report, the state JSON, the session export when there is
one) links a member's name to their vote. The same search finds the link a named vote
makes, so it is not a search that cannot find anything.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# One consensus question: a block needs a reason, so each reason below marks one ballot.
VENUE_MAP = """\
id: venue
title: Where we meet
version: "1"
start: hall
nodes:
  hall:
    ask: Shall we meet in the church hall from now on?
    rule: consensus
    choices:
      yes: decided
      no: decided
    otherwise: decided
  decided:
    outcome: We have decided where to meet
"""
# Each member's final vote; a reason is a word found nowhere else, so seeing it next to a
# name is seeing the link. Rosa first blocks with "Tangerine", then changes her vote.
FINAL = {"Rosa": ("block", "Quince"), "Malik": ("block", "Lilac"),
         "Tom": ("block", "Juniper"), "Priya": ("stand-aside", ""), "Dolores": ("yes", "")}
MARKERS = ("Tangerine", "Quince", "Lilac", "Juniper")
# The block-level pieces of a page: a name and a reason in one of them are linked.
PIECES = re.compile(r"\n|<(?:li|tr|td|p|div|h\d|dd|dt|section|article|span)\b")


@pytest.fixture
def venue(tmp_path: Path) -> Path:
    path = tmp_path / "venue.yaml"
    path.write_text(VENUE_MAP)
    return path


def _walk_a_vote(room, mode: str) -> dict[str, str]:
    """Open the venue question in `mode`, let everyone vote (Rosa twice), close it, and
    gather every page each role can open at close and at the end; returns them by name."""
    rid = room.id
    room.act("open", mode=mode)
    r = room.round_of("Rosa")
    room.vote("Rosa", round=r, value="block", reason="Tangerine")
    for name, (value, reason) in FINAL.items():
        fields = {"round": r, "value": value}
        if reason:
            fields["reason"] = reason
        room.vote(name, **fields)
    pages = {f"member {n} open": m.get(f"/r/{rid}/me").text for n, m in room.members.items()}
    pages["facilitator open"] = room.fac.get(f"/r/{rid}/facilitate").text
    pages["projector open"] = room.proj.get(f"/r/{rid}/projector").text
    pages["facilitator closed"] = room.act("close")
    for when in ("closed", "end"):
        if when == "end":
            room.act("accept")
            pages["facilitator end"] = room.fac.get(f"/r/{rid}/facilitate").text
        for n, m in room.members.items():
            pages[f"member {n} {when}"] = m.get(f"/r/{rid}/me").text
            pages[f"state {n} {when}"] = m.get(f"/r/{rid}/state").text
        pages[f"projector {when}"] = room.proj.get(f"/r/{rid}/projector").text
        pages[f"state {when}"] = room.fac.get(f"/r/{rid}/state").text
    pages["report"] = room.fac.get(f"/r/{rid}/report").text
    for path in ("export", "session.json", "export.json"):  # the session export, if any
        got = room.fac.get(f"/r/{rid}/{path}")
        if got.status_code == 200:
            pages[f"export {path}"] = got.text
    return pages


def _rows(db: Path) -> dict[str, list[str]]:
    """Every row of every table of the SQLite file, each as the text of all its columns."""
    con = sqlite3.connect(db)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [" | ".join(map(str, row)) for row in con.execute(f'SELECT * FROM "{t}"')]
                for t in tables}
    finally:
        con.close()


def _links(texts: dict[str, list[str]]) -> list[str]:
    """Where a member's name and their own reason stand in one row or one piece of a page."""
    found = []
    for where, pieces in texts.items():
        for piece in pieces:
            for name, (_, reason) in FINAL.items():
                if reason and name in piece and reason in piece:
                    found.append(f"{where}: {name} with {reason}: {piece[:160]!r}")
    return found


def _json_pieces(node: object) -> list[str]:
    """A JSON document in pieces: each object or array as the text of its own values (and
    of lists of plain values in it), so a ballot object naming its member is one piece."""
    out: list[str] = []
    items = list(node.values()) if isinstance(node, dict) else list(node)  # type: ignore
    own = []
    for v in items:
        if isinstance(v, (dict, list)):
            if isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v):
                own += [str(x) for x in v]
            else:
                out += _json_pieces(v)
        else:
            own.append(str(v))
    return [" | ".join(own), *out]


def _pieces(text: str) -> list[str]:
    """A page in pieces: a JSON document by its objects, HTML by its block elements."""
    try:
        doc = json.loads(text)
    except ValueError:
        return PIECES.split(text)
    return _json_pieces(doc) if isinstance(doc, (dict, list)) else [text]


def _search(pages: dict[str, str], db: Path) -> list[str]:
    texts = {f"page {k}": _pieces(v) for k, v in pages.items()}
    texts.update({f"table {t}": rows for t, rows in _rows(db).items()})
    return _links(texts)


def test_a_secret_ballot_links_no_name_to_a_vote_in_any_table_or_page(starter, room_for,
                                                                      venue, db_url):
    room = room_for(starter(db_url, map_path=venue))
    pages = _walk_a_vote(room, "secret")
    db = Path(db_url.removeprefix("sqlite:///"))
    assert _search(pages, db) == []
    # the vote counted, once each: Rosa's change replaced her ballot (her receipt)
    closed = pages["facilitator closed"]
    assert "Quince" in closed and "Tangerine" not in closed
    rows = _rows(db)
    assert len(rows["secret_ballots"]) == 5 and len(rows["who_voted"]) == 5
    assert not any("Tangerine" in row for t in rows.values() for row in t)
    # nor do the file's bytes keep Rosa's first ballot (zeroed, and the log checkpointed)
    for f in (db, db.with_name(db.name + "-wal")):
        kept = f.exists() and b"Tangerine" in f.read_bytes()
        assert not kept, f"{f.name} still holds Rosa's first ballot"
    # the ballots show in a fixed order (by value, then reason), not the order they were cast
    for key in ("facilitator closed", "projector closed", "member Tom closed", "report"):
        at = [pages[key].find(w) for w in ("Juniper", "Lilac", "Quince")]
        assert -1 not in at and at == sorted(at), key
    # nor where the ballots lie in the file: a page's rows sit in key order (random), not
    # in the order they were cast (SQLite fills a page from its end, in writing order)
    raw = db.read_bytes()
    con = sqlite3.connect(db)
    try:
        ids = dict(con.execute("SELECT json_extract(ballot, '$.reason'), id FROM "
                               "secret_ballots WHERE json_extract(ballot, '$.reason') "
                               "IS NOT NULL").fetchall())
    finally:
        con.close()
    by_place = sorted(ids, key=lambda reason: raw.rfind(reason.encode()))
    by_key = sorted(ids, key=lambda reason: ids[reason])
    assert by_place in (by_key, by_key[::-1]), (by_place, by_key)
    # the schema: nothing a ballot keeps names a member, a time or an order
    con = sqlite3.connect(db)
    try:
        cols = {r[1] for r in con.execute("PRAGMA table_info(secret_ballots)")}
        assert cols == {"id", "room_id", "round", "question", "ballot"}
        for table in ("secret_ballots", "who_voted"):  # no rowid keeps the insert order
            with pytest.raises(sqlite3.OperationalError):
                con.execute(f"SELECT rowid FROM {table}")
    finally:
        con.close()
    # every page of a secret vote says what it promises, and the projector shows no names
    assert "does not protect against whoever runs the server" in pages["member Rosa open"]
    assert "Your secret vote is in" in pages["member Rosa open"]
    proj = pages["projector open"]
    assert "Secret ballot: no names are shown" in proj
    assert not any(n in proj for n in FINAL)


def test_the_same_search_finds_the_link_a_named_vote_makes(starter, room_for, venue, db_url):
    room = room_for(starter(db_url, map_path=venue))
    pages = _walk_a_vote(room, "named")
    found = _search(pages, Path(db_url.removeprefix("sqlite:///")))
    assert any(f.startswith("table room_events") for f in found)
    assert any(f.startswith("page facilitator closed") for f in found)
    assert any(f.startswith("page export") for f in found)  # the session download


def test_hidden_shows_who_voted_not_how_until_close_then_names(room):
    rid = room.id
    room.act("open", mode="hidden")
    r = room.round_of("Rosa")
    room.vote("Rosa", round=r, value="yes")
    room.vote("Tom", round=r, value="no")
    fac = room.fac.get(f"/r/{rid}/facilitate").text
    malik = room.members["Malik"].get(f"/r/{rid}/me").text
    proj = room.proj.get(f"/r/{rid}/projector").text
    assert "Hidden until close" in malik and "Rosa, Tom" in malik
    for page in (fac, malik, proj):
        assert "(yes)" not in page and "(no)" not in page
    assert "Rosa" not in proj and "2</span> of 5 have voted" in proj
    for n in ("Malik", "Priya", "Dolores"):
        room.vote(n, round=r, value="yes")
    closed = room.act("close")
    assert re.search(r'data-member="Tom">Tom: no<', closed)
    # at close everything shows as named, to the members and on the projector
    assert "<li>Tom: no</li>" in room.members["Malik"].get(f"/r/{rid}/me").text
    assert "<li>Tom: no</li>" in room.proj.get(f"/r/{rid}/projector").text


def test_named_shows_how_each_voted_while_the_vote_is_open(room):
    rid = room.id
    room.act("open", mode="named")
    room.vote("Priya", round=room.round_of("Priya"), value="no")
    assert "(no)" in room.fac.get(f"/r/{rid}/facilitate").text
    assert "Priya" in room.proj.get(f"/r/{rid}/projector").text


def test_a_map_question_marked_secret_is_always_secret(starter, room_for, tmp_path, db_url):
    path = tmp_path / "secret.yaml"
    path.write_text(VENUE_MAP.replace("rule: consensus", "rule: consensus\n    secret: true"))
    room = room_for(starter(db_url, map_path=path))
    assert "The map asks for a <strong>secret ballot</strong>" in room.fac.get(
        f"/r/{room.id}/facilitate").text
    room.act("open", mode="named")  # what the facilitator asks cannot override the map
    assert 'data-mode="secret"' in room.members["Tom"].get(f"/r/{room.id}/me").text


def test_a_tiny_secret_vote_warns_that_the_count_reveals_it(room):
    rid = room.id
    room.act("open", mode="secret")
    r = room.round_of("Rosa")
    room.vote("Rosa", round=r, value="yes")
    assert "Only 1 voted so far" in room.fac.get(f"/r/{rid}/facilitate").text
    room.vote("Tom", round=r, value="yes")
    closed = room.act("close")
    assert "only 2 voted, so the count can show how each of them voted" in closed
    assert "only 2 voted" in room.members["Malik"].get(f"/r/{rid}/me").text


def test_a_secret_vote_entered_by_the_facilitator_cannot_be_doubled(room, live_kit):
    csrf_of = live_kit["csrf_of"]
    rid = room.id
    room.act("open", mode="secret")
    r = room.round_of("Rosa")
    page = room.fac.get(f"/r/{rid}/facilitate").text
    room.fac.http.post(f"/r/{rid}/enter", data={"member": "Rosa", "value": "yes", "round": r,
                                                "csrf": csrf_of(page)})
    again = room.vote("Rosa", round=r, value="no")
    assert "entered by the facilitator" in again and "changed from the phone" in again
    assert '"voted": 1' in room.fac.get(f"/r/{rid}/state").text.replace('"voted":1',
                                                                          '"voted": 1')


TWO_QUESTIONS = """\
id: two
title: Two questions
version: "1"
start: first
nodes:
  first:
    ask: Do we start?
    rule: majority
    choices:
      yes: second
      no: second
    otherwise: second
  second:
    ask: Do we go on?
    rule: majority
    choices:
      yes: done
      no: done
    otherwise: done
  done:
    outcome: Done
"""


def test_a_latecomer_counts_from_the_next_question_and_a_leaver_stops(starter, room_for,
                                                                      tmp_path, db_url,
                                                                      live_kit):
    csrf_of = live_kit["csrf_of"]
    path = tmp_path / "two.yaml"
    path.write_text(TWO_QUESTIONS)
    room = room_for(starter(db_url, map_path=path))
    rid = room.id
    late = room.person()
    join = late.get(f"/j/{room.server.links.code}").text
    assert 'name="new_name"' not in join  # closed until the facilitator opens the roster
    refused = late.http.post(f"/r/{rid}/join", data={"new_name": "Zainab",
                                                     "csrf": csrf_of(join)})
    assert refused.status_code == 400
    page = room.fac.get(f"/r/{rid}/facilitate").text
    room.fac.http.post(f"/r/{rid}/roster", data={"action": "open", "csrf": csrf_of(page)})
    room.act("open")  # the first question: Zainab arrives while its vote is open
    join = late.get(f"/r/{rid}/join").text
    assert 'name="new_name"' in join
    r = late.http.post(f"/r/{rid}/join", data={"new_name": "Zainab", "csrf": csrf_of(join)})
    assert r.url.path == f"/r/{rid}/me"
    assert "you vote from the next question on" in r.text
    assert room.fac.get(f"/r/{rid}/state").json()["members"] == 5
    # Dolores leaves during the first question: she still counts at it, not after
    page = room.fac.get(f"/r/{rid}/facilitate").text
    room.fac.http.post(f"/r/{rid}/roster", data={"action": "leave", "member": "Dolores",
                                                 "csrf": csrf_of(page)})
    for name in ("Rosa", "Malik", "Priya", "Tom", "Dolores"):
        room.vote(name, round=room.round_of(name), value="yes")
    room.act("close")
    room.act("accept")
    # the second question: the group is Rosa, Malik, Priya, Tom and Zainab
    room.act("open")
    gone = room.members["Dolores"].get(f"/r/{rid}/me").text
    assert "marked you as gone" in gone and 'action="/r/' + rid + '/vote"' not in gone
    zainab = late.get(f"/r/{rid}/me").text
    r2 = re.search(r'name="round" value="(\d+)"', zainab).group(1)
    token = csrf_of(zainab)
    late.http.post(f"/r/{rid}/vote", data={"value": "no", "round": r2, "csrf": token})
    for name in ("Rosa", "Malik"):
        room.vote(name, round=r2, value="no")
    closed = room.act("close")  # Priya and Tom are absent; Dolores is no longer counted
    assert "3 of 3 cast votes, 2 absent" in closed  # five in the group, Zainab's counted
    assert 'data-member="Zainab"' in closed and 'data-member="Dolores"' not in closed
    assert "Dolores <span class=\"muted\">(gone)</span>" in closed
    room.act("accept")
    report = room.fac.get(f"/r/{rid}/report").text
    # the core's record: the group changed before the second question, not the first
    assert report.count("Joined: Zainab. Left: Dolores.") == 1
    assert "The group here: Rosa, Malik, Priya, Tom, Zainab." in report


def test_a_milestone_one_database_is_upgraded_to_the_secret_tables(tmp_path):
    from alembic import command
    from alembic.config import Config
    from decision_map_live.ops import schema_head
    from decision_map_live.server import prepare

    db = tmp_path / "m1.sqlite3"
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "live" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{db}")
    command.upgrade(cfg, "0001")
    assert "secret_ballots" not in _rows(db)
    prepare(f"sqlite:///{db}")  # what `serve` does at every start
    tables = _rows(db)
    assert {"who_voted", "secret_ballots"} <= set(tables)
    con = sqlite3.connect(db)
    try:
        # upgraded to the newest migration (0002 made the secret tables; later ones follow)
        assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (
            schema_head(),)
    finally:
        con.close()


def test_serve_refuses_an_unknown_ballot_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "decision_map", "serve", "coalition-formation",
                        "--group", "Ana, Ben, Cy", "--ballot", "open",
                        "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
                       capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert r.returncode == 2
    lines = [x for x in (r.stderr + r.stdout).splitlines() if x.strip()]
    assert len(lines) == 1 and "--ballot" in lines[0] and "secret" in lines[0], lines


def test_a_secret_vote_survives_a_restart_and_its_receipt_still_replaces_it(room, starter):
    srv = room.server
    room.act("open", mode="secret")
    r = room.round_of("Rosa")
    room.vote("Rosa", round=r, value="yes")
    room.vote("Tom", round=r, value="no")
    srv.stop()
    again = starter(srv.url, links=srv.links)
    for c in room.people:  # the same browsers, after the restart
        c.http.base_url = again.base
    room.vote("Rosa", round=r, value="no")  # her receipt finds her ballot again
    room.vote("Malik", round=r, value="no")
    closed = room.act("close")
    assert "3 of 3 cast votes" in closed and "no × 3" in closed and "yes" not in \
        closed.split("The ballots, with no names:")[1].split("</ul>")[0]
    srv.stop = lambda: None  # already stopped


def test_the_projector_draws_the_map_around_the_step_and_follows_a_changed_answer(
        starter, room_for, venue, db_url):
    room = room_for(starter(db_url, map_path=venue))
    svg = room.proj.get(f"/r/{room.id}/map.svg").text
    assert "Now: " in svg  # around the question in front of the room, not the whole map
    room.step(room.everyone("yes"))
    assert "→ yes" in room.proj.get(f"/r/{room.id}/map.svg").text
    room.act("back")
    room.step(room.everyone("no"))  # the same number of steps, another path
    svg = room.proj.get(f"/r/{room.id}/map.svg").text
    assert "→ no" in svg and "→ yes" not in svg
