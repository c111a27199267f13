"""A meeting that moves and pauses, with the real console script: terminal -> browser ->
terminal through the session file, a broken session file refused in one line, a room
paused and continued by a later `serve --room` on the same database, and a new facilitator
link that shuts out the old one."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from decision_map.io.session import load

TIMEOUT = 10.0  # seconds for one HTTP request
ROOT = Path(__file__).resolve().parents[2]
PICNIC = ROOT / "tests" / "fixtures" / "step" / "picnic.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m, "no form token on the page"
    return m.group(1)


@dataclass
class Served:
    """A `decision-map serve` process and what it printed."""

    proc: subprocess.Popen
    base: str
    room: str
    facilitator: str
    join: str
    code: str
    later: str


@pytest.fixture
def serve(exe: str, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start `decision-map serve ARGS` on a port; every process is stopped at the end."""
    procs: list[subprocess.Popen] = []

    def start(*args: str, port: int | None = None) -> Served:
        port = port or free_port()
        proc = subprocess.Popen([exe, "serve", *args, "--port", str(port)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"})
        procs.append(proc)
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        assert lines[0].startswith("Facilitator: "), (lines, proc.stderr.read()[-2000:]
                                                      if proc.poll() is not None else "")
        fac = lines[0].split()[1]
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:  # bounded: the server answers within 30 s or the test fails
            try:
                httpx.get(base + "/", timeout=TIMEOUT)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.2)
        return Served(proc, base, fac.split("/r/")[1].split("/")[0], fac,
                      lines[2].split()[1], lines[2].split()[-1].rstrip(")"), lines[3])

    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=15)


def person(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, follow_redirects=True, timeout=TIMEOUT)


def joined(s: Served, name: str) -> httpx.Client:
    c = person(s.base)
    page = c.get(s.join)
    r = c.post(f"/r/{s.room}/join", data={"name": name, "csrf": csrf_of(page.text)})
    assert r.url.path == f"/r/{s.room}/me", r.text
    return c


def act(fac: httpx.Client, room: str, action: str) -> httpx.Response:
    page = fac.get(f"/r/{room}/facilitate").text
    at = re.search(r'name="at" value="([\w-]+)"', page).group(1)
    r = fac.post(f"/r/{room}/act", data={"action": action, "at": at, "csrf": csrf_of(page)})
    assert r.status_code == 200 and "error" not in str(r.url), (action, r.url)
    return r


def vote(member: httpx.Client, room: str, value: str) -> httpx.Response:
    page = member.get(f"/r/{room}/me").text
    round_ = re.search(r'name="round" value="(\d+)"', page).group(1)
    return member.post(f"/r/{room}/vote", data={"value": value, "round": round_,
                                                "csrf": csrf_of(page)})


def step(exe: str, env: dict[str, str], args: list[str], lines: list[str]
         ) -> subprocess.CompletedProcess:
    """`decision-map step ARGS` with `lines` on a plain pipe."""
    return subprocess.run([exe, "step", *args], input="\n".join(lines) + "\n", env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_meeting_goes_from_the_terminal_to_the_browser_and_back(exe, step_env, tmp_path,
                                                                   serve):
    env = {k: v for k, v in step_env.items() if k != "NO_COLOR"}
    first = tmp_path / "terminal.json"
    # at the terminal: a note and "yes"; then a block at "where", which leads back to it
    r = step(exe, env, [str(PICNIC), "--group", "Ana, Ben, Cy", "--session", str(first)],
             ["", "note Bring blankets", "yes", "yes", "no", "", "park", "b", "Too far",
              "park", ""])
    assert r.returncode == 0 and len(load(first).submissions) == 2, r.stdout + r.stderr
    # in the browser: the room starts where the terminal stopped, roster and note kept
    s = serve("--resume", str(first), "--database", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    fac = person(s.base)
    page = fac.get(s.facilitator).text
    assert 'data-question="where"' in page
    for name in ("Ana", "Ben", "Cy"):
        assert f'data-member="{name}"' in page
    people = {n: joined(s, n) for n in ("Ana", "Ben", "Cy")}
    act(fac, s.room, "open")
    for name, value in (("Ana", "park"), ("Ben", "park"), ("Cy", "stand-aside")):
        vote(people[name], s.room, value)
    act(fac, s.room, "close")
    act(fac, s.room, "accept")
    assert fac.get(f"/r/{s.room}/state").json()["question"] == "budget"
    # the download is the facilitator's alone
    assert people["Ana"].get(f"/r/{s.room}/session.json").status_code == 403
    assert person(s.base).get(f"/r/{s.room}/session.json").status_code == 403
    got = fac.get(f"/r/{s.room}/session.json")
    assert got.status_code == 200
    assert got.headers["content-disposition"] == 'attachment; filename="step-picnic-session.json"'
    second = tmp_path / "browser.json"
    second.write_bytes(got.content)
    sess = load(second)
    assert sess.group == ["Ana", "Ben", "Cy"] and len(sess.submissions) == 3
    assert sess.submissions[0].minutes.notes == ("Bring blankets",)
    assert [b.value for b in sess.submissions[2].ballots] == ["park", "park", "stand-aside"]
    # back at the terminal: it resumes the browser's session and walks to the outcome
    r = step(exe, env, ["--resume", str(second)], ["30", "0", "0", "", "Sun", "", "n"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Resuming after 3 steps" in r.stdout and "A big picnic" in r.stdout
    done = json.loads(second.read_text())
    assert done["outcome"] == "big-picnic" and done["submissions"][0]["notes"] == [
        "Bring blankets"]


def test_a_bad_session_file_is_refused_in_one_line(cli, one_line_error, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "decision-map-session", "format_version": 2, "map": ')
    line = one_line_error(cli("serve", "--resume", str(bad), "--database", db))
    assert str(bad) in line and "broken JSON" in line
    bad.write_text(json.dumps({"format": "decision-map-session", "format_version": 2,
                               "map": {"path": str(PICNIC), "id": "step-picnic",
                                       "version": "1", "sha256": "x"}, "group": []}))
    line = one_line_error(cli("serve", "--resume", str(bad), "--database", db))
    assert "group" in line
    p = cli("serve", "--resume", str(bad), "--group", "Ana", "--database", db)
    assert p.returncode == 2 and "give no --group" in one_line_error(p)
    p = cli("serve", "--room", "nope", "--database", db)
    assert p.returncode == 2 and "no room nope" in one_line_error(p)


def test_a_paused_room_continues_at_the_next_meeting(serve, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    s = serve(str(PICNIC), "--group", "Ana, Ben, Cy", "--database", db)
    assert s.later == f"Continue later: decision-map serve --room {s.room} --database {db}"
    fac = person(s.base)
    fac.get(s.facilitator)
    ana, ben, cy = (joined(s, n) for n in ("Ana", "Ben", "Cy"))
    act(fac, s.room, "open")
    vote(ana, s.room, "yes")
    ben_page = ben.get(f"/r/{s.room}/me").text
    paused = act(fac, s.room, "pause").text
    assert "The meeting is paused" in paused
    assert f"decision-map serve --room {s.room} --database {db}" in paused
    assert "Close the vote" not in paused and "Resume the meeting" in paused
    page = ana.get(f"/r/{s.room}/me").text
    assert "The meeting is paused" in page and 'name="round"' not in page
    late = ben.post(f"/r/{s.room}/vote", data={"value": "yes", "round": "1",
                                               "csrf": csrf_of(ben_page)})
    assert "The room is paused" in late.text
    assert person(s.base).get(s.join).status_code == 404  # the code stops working
    assert ana.get(f"/r/{s.room}/state").json()["paused"] is True
    s.proc.terminate()
    s.proc.wait(timeout=15)
    # the next meeting: the same database, a new port, new links and a new code
    again = serve("--room", s.room, "--database", db)
    assert again.room == s.room and again.code != s.code
    old = person(again.base)
    old.cookies = fac.cookies  # the device that facilitated last time
    assert old.get(f"/r/{s.room}/facilitate").status_code == 403
    fac2 = person(again.base)
    page = fac2.get(again.facilitator).text
    assert "Close the vote" in page and "The meeting is paused" not in page
    for c in (ana, ben, cy):  # members keep their names and votes (cookies ignore ports)
        c.base_url = again.base
    assert "Your vote: <strong>yes" in ana.get(f"/r/{s.room}/me").text
    vote(ben, s.room, "yes")
    vote(cy, s.room, "no")
    act(fac2, s.room, "close")
    act(fac2, s.room, "accept")
    assert fac2.get(f"/r/{s.room}/state").json()["question"] == "where"


def test_a_new_facilitator_link_shuts_out_every_other_device(room, live_kit):
    Client, rid = live_kit["Client"], room.id
    link = room.server.links.facilitator
    other = room.person()
    assert other.get(link).url.path == f"/r/{rid}/facilitate"
    page = room.fac.get(f"/r/{rid}/facilitate").text
    assert "New facilitator link" in page
    r = room.fac.http.post(f"/r/{rid}/rotate", data={"csrf": csrf_of(page)})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    new = re.search(r"<code>(http://\S+/r/\w+/f/go\?k=[\w-]+)</code>", r.text).group(1)
    assert room.fac.get(f"/r/{rid}/facilitate").status_code == 200  # this device goes on
    assert other.get(f"/r/{rid}/facilitate").status_code == 403
    assert Client(room.server.base).get(link).status_code == 403
    third = Client(room.server.base)
    assert third.get(new).url.path == f"/r/{rid}/facilitate"
    third.close()


def test_unnamed_ballots_export_as_a_tally_session_the_terminal_reads(tmp_path):
    from decision_map_live.export import session_of

    from decision_map.io.loader import load_map
    from decision_map.io.session import save
    from decision_map.model.decision import Ballot
    from decision_map.walk.engine import Walk

    walk = Walk(load_map(PICNIC), ["Ana", "Ben", "Cy"])
    walk.submit([Ballot(None, "yes"), Ballot(None, "yes"), Ballot(None, "no")])
    s = session_of(walk, 0.0, [])
    assert s.mode == "tally" and s.created == "1970-01-01T00:00:00+00:00"
    save(s, tmp_path / "s.json")
    back = load(tmp_path / "s.json")
    assert back.mode == "tally" and [b.member for b in back.submissions[0].ballots] == [
        None, None, None]
