"""Session files: round trip, atomic save with .bak, validation, locks, replay of a
changed map."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from decision_map.errors import WalkError
from decision_map.io.loader import load_map
from decision_map.io.session import (
    Session,
    SessionError,
    SessionLock,
    SessionLocked,
    load,
    load_backup,
    new_session_path,
    save,
)
from decision_map.model.decision import Ballot
from decision_map.walk.engine import Walk
from decision_map.walk.replay import replay

ROOT = Path(__file__).resolve().parent.parent
PICNIC = ROOT / "tests" / "fixtures" / "step" / "picnic.yaml"
GROUP = ["Ana", "Ben", "Cy"]


def walked(dm, *votes) -> Walk:
    walk = Walk(dm, GROUP)
    for vs in votes:
        walk.submit([Ballot(m, v) for m, v in zip(GROUP, vs, strict=True)])
    return walk


def test_round_trip_and_backup(tmp_path):
    dm = load_map(str(PICNIC))
    s = Session.start(dm, GROUP)
    path = tmp_path / "s.json"
    walk = walked(dm, ["yes", "yes", "no"])
    s.update_from(walk)
    save(s, path)
    assert not Path(str(path) + ".bak").exists()
    walk.submit([Ballot("Ana", "park"), Ballot("Ben", "block", "too far"),
                 Ballot("Cy", "stand-aside")])
    s.update_from(walk)
    save(s, path)
    back = load(path)
    assert back.to_json() == s.to_json()
    assert [b.reason for b in back.submissions[1].ballots] == [None, "too far", None]
    assert len(load_backup(path).submissions) == 1  # the previous good file
    data = json.loads(path.read_text())
    assert data["format"] == "decision-map-session" and data["format_version"] == 2
    assert data["map"]["sha256"] == dm.sha256 and data["map"]["path"] == str(PICNIC)
    assert replay(dm, back).walk.trace.to_json() == walk.trace.to_json()


def test_ranked_ballots_survive_json(tmp_path):
    dm = load_map(str(PICNIC))
    s = Session.start(dm, GROUP)
    from decision_map.model.submission import Submission

    s.submissions = [Submission("step-picnic", "want", (Ballot("Ana", ("yes", "no")),))]
    save(s, tmp_path / "r.json")
    assert load(tmp_path / "r.json").submissions[0].ballots[0].value == ("yes", "no")


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ('{"format": "decision-map-session", "format_version": 1, "map": {"pa', "cut short"),
    ("[1, 2]", "not a session file"),
    ('{"format": "other"}', "not a session file"),
    ('{"format": "decision-map-session", "format_version": 9}', "format 9 is newer"),
    ('{"format": "decision-map-session", "format_version": 1, "map": {"path": "m", "id": "x",'
     ' "version": "1", "sha256": "ab"}, "group": [], "submissions": []}', 'group: '),
    ('{"format": "decision-map-session", "format_version": 1, "map": {"path": "m", "id": "x",'
     ' "version": "1", "sha256": "ab"}, "group": ["A"], "submissions": [{"node": "q"}]}',
     'submissions[0].'),
])
def test_broken_files_give_one_located_line(tmp_path, text, words):
    p = tmp_path / "bad.json"
    p.write_text(text)
    with pytest.raises(SessionError) as e:
        load(p)
    msg = str(e.value)
    assert msg.startswith(str(p)) and words in msg and "\n" not in msg


def test_missing_file(tmp_path):
    with pytest.raises(SessionError, match="no such session file"):
        load(tmp_path / "nope.json")


def test_new_session_path_is_unique(tmp_path):
    a = new_session_path("my map", tmp_path)
    a.write_text("{}")
    b = new_session_path("my map", tmp_path)
    assert a != b and a.name.startswith("my-map-") and b.suffix == ".json"


def test_default_folder_is_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    p = new_session_path("m")
    assert str(p).startswith(str(tmp_path / "decision-map" / "sessions"))


def test_lock_refuses_a_second_holder_with_the_pid(tmp_path):
    path = tmp_path / "s.json"
    with SessionLock(path):
        with pytest.raises(SessionLocked) as e:
            SessionLock(path).acquire()
        assert e.value.pid == os.getpid()
        assert str(os.getpid()) in str(e.value)
    SessionLock(path).acquire().release()  # free again


def test_lock_is_freed_when_the_holder_dies(tmp_path):
    path = tmp_path / "s.json"
    code = ("import sys, time; from decision_map.io.session import SessionLock; "
            f"SessionLock({str(path)!r}).acquire(); print('locked', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(SessionLocked) as e:
            SessionLock(path).acquire()
        assert e.value.pid == proc.pid
    finally:
        proc.kill()
        proc.wait()
    SessionLock(path).acquire().release()


def test_replay_of_a_changed_map_keeps_what_fits(tmp_path):
    changed = tmp_path / "picnic.yaml"
    changed.write_text(PICNIC.read_text())
    dm = load_map(str(changed))
    walk = walked(dm, ["yes", "yes", "no"], ["beach", "beach", "beach"], [5, 5, 5])
    s = Session.start(dm, GROUP)
    s.update_from(walk)
    changed.write_text(PICNIC.read_text().replace("beach", "lake"))
    dm2 = load_map(str(changed))
    assert dm2.sha256 != s.map_sha256
    r = replay(dm2, s)
    assert (r.kept, r.total, r.dropped) == (1, 3, 2)
    assert r.problem_node == "where"
    assert "saved step 2" in r.problem and "'where'" in r.problem and "'beach'" in r.problem
    assert r.walk.current().node_id == "where"
    with pytest.raises(WalkError):
        Walk(dm2, GROUP, s.submissions)  # the engine alone refuses the whole list
