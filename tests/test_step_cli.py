"""End to end: the real `decision-map step` console script in a real pseudo-terminal
(pexpect), over a plain pipe, under SIGKILL and Ctrl-C, with a changed map and a lock."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from decision_map.io.session import load
from tests.stepper import ACCEPT, GROUP, READY

ANSI = re.compile(r"\x1b")


@pytest.fixture
def pty_columns() -> int:
    """This file's terminal is 100 columns wide (the conftest's `spawn` reads it)."""
    return 100


def member(name: str) -> str:
    return rf"  {name} +\["


def drive(child: pexpect.spawn, script: list[tuple[str, str]]) -> None:
    for pattern, reply in script:
        child.expect(pattern)
        child.sendline(reply)


def drive_past_readouts(child: pexpect.spawn, script: list[tuple[str, str]]) -> None:
    """`drive`, pressing Enter at every read-out on the way (a long map has many)."""
    for pattern, reply in script:
        while child.expect([READY, pattern]) == 0:
            child.sendline("")
        child.sendline(reply)


def members(*votes: str) -> list[tuple[str, str]]:
    return [(member(n), v) for n, v in zip(("Ana", "Ben", "Cy"), votes, strict=True)]


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return child.before


# The picnic walk: yes; a block on "where" with its reason, back to where; the park by
# all; 23 euros; a motto -> "A big picnic".
PICNIC_START = [
    (READY, ""),  # after the first read-out
    *members("yes", "1", "no"), (ACCEPT, ""),
]
PICNIC_REST = [
    (member("Ana"), "park"), (member("Ben"), "b"),
    (r"Ben, the reason for the block", "Too far for Cy"), (member("Cy"), "park"),
    (ACCEPT, ""),
    (READY, ""),  # after "Hear the concern in full"
    *members("park", "park", "s"), (ACCEPT, ""),
    *members("10", "5", "8"), (ACCEPT, ""),
    (r"The group's sentence", "Sun and friends"), (ACCEPT, ""),
]
# (its ballots are conftest's PICNIC_BALLOTS; the `picnic_outcome` fixture walks them)


def test_whole_walk_by_members_with_block_back_and_help(tmp_path, spawn, picnic_outcome,
                                                        picnic_path):
    sess = tmp_path / "picnic.json"
    child = spawn(str(picnic_path), "--group", GROUP, "--session", str(sess))
    child.expect(f"Session file: {re.escape(str(sess))}")
    child.expect("Read out: We decide about the picnic together.")
    drive(child, [(READY, "")])
    child.expect(r"Step 1 · at most 4 questions left")
    child.expect("Rule: majority of votes cast; abstentions don't count")
    drive(child, [(member("Ana"), "?")])
    child.expect("Why we ask: A picnic brings the neighbours together.")
    drive(child, [(member("Ana"), "maybe")])
    child.expect("'maybe' is not a choice")
    drive(child, [(member("Ana"), "yes"), (member("Ben"), "1"), (member("Cy"), "no")])
    child.expect(r'Majority for "yes": 2 of 3 cast votes\.')
    child.expect(r"Tally: yes 2 · no 1")
    drive(child, [(ACCEPT, "r")])
    drive(child, [*members("yes", "1", "no"), (ACCEPT, "")])
    child.expect("Step 2")
    child.expect("consensus: anyone may stand aside or block")
    # go back one step and forward again
    drive(child, [(member("Ana"), "back")])
    child.expect("Back one step")
    child.expect("Do we want a picnic this summer?")
    drive(child, [*members("yes", "1", "no"), (ACCEPT, "")])
    drive(child, PICNIC_REST[:4])
    child.expect(r'Blocked by Ben: "Too far for Cy"\.')
    drive(child, [(ACCEPT, "")])
    child.expect("Read out: Hear the concern in full")
    drive(child, [(READY, "")])
    child.expect(r"comes round again: time 2")
    child.expect(r'Back because: Blocked by Ben: "Too far for Cy"\.')
    drive(child, [(member("Ana"), "path")])
    # `path` names each question by its words, not its id
    child.expect(r"1\. “Do we want a picnic this summer\?”: Majority")
    child.expect(r'2\. “Where shall we hold it\?”: Blocked by Ben: "Too far for Cy"')
    drive(child, PICNIC_REST[6:])
    child.expect("Outcome")
    child.expect("A big picnic")
    child.expect("Ana, Ben, Cy hold a big picnic at the park.")
    child.expect("Book the place")
    drive(child, [(r"Write the report \(picnic-report\.html\) and the picture "
                   r"\(picnic-path\.svg\)\?", "y")])
    child.expect(r"Report: .*picnic-report\.html")
    child.expect(r"Picture of the path so far: .*picnic-path\.svg")
    finish(child)
    assert child.exitstatus == 0
    assert (tmp_path / "picnic-path.svg").read_bytes().lstrip().startswith(b"<?xml")
    html = (tmp_path / "picnic-report.html").read_text()
    assert "A big picnic" in html and "Too far for Cy" in html
    saved = load(sess)
    outcome, subs = picnic_outcome
    assert saved.outcome == outcome == "big-picnic"
    assert [s.to_json() for s in saved.submissions] == subs


def test_walk_by_tallies_with_a_block_reason_per_block(tmp_path, spawn, picnic_path):
    sess = tmp_path / "t.json"
    child = spawn(str(picnic_path), "--group", "Ana, Ben, Cy, Dee", "--session",
                  str(sess), "--tally")
    drive(child, [(READY, ""), ("Tally", "yes 5")])
    child.expect("that is 5 votes for a group of 4")
    drive(child, [("Tally", "yes 3 no 1")])
    child.expect("put a comma between the counts")
    drive(child, [("Tally", "yes 3, no 1"), (ACCEPT, "")])
    drive(child, [("Tally", "park 2, block 2"), ("Who blocked", ""),
                  ("reason for block 1 of 2", "Too far"),
                  ("reason for block 2 of 2", "")])
    child.expect("A reason is needed")  # the map requires one (block_reasons)
    drive(child, [("reason for block 2 of 2", "Cy cannot walk")])
    child.expect(r'Blocked by 2 members: "Too far", "Cy cannot walk"\.')
    drive(child, [(ACCEPT, ""), (READY, ""), ("Tally", "beach 3, stand-aside 1"),
                  ("Who stood aside", ""), (ACCEPT, "")])
    # numbers are always asked member by member
    drive(child, [(member("Ana"), "1"), (member("Ben"), "a"), (member("Cy"), "2"),
                  (member("Dee"), "-")])
    child.expect(r"Total of 3 euros from 2 members, 1 abstains, 1 absent\.")
    drive(child, [(ACCEPT, "")])
    child.expect("A small picnic")
    drive(child, [(r"\[Y/n\]", "n")])
    finish(child)
    assert child.exitstatus == 0
    saved = json.loads(sess.read_text())
    assert saved["outcome"] == "small-picnic" and saved["mode"] == "tally"
    block = saved["submissions"][1]["ballots"]
    assert [b.get("reason") for b in block if b["value"] == "block"] == [
        "Too far", "Cy cannot walk"]


def test_quit_then_resume_reaches_the_same_outcome(tmp_path, spawn, picnic_outcome, picnic_path):
    sess = tmp_path / "q.json"
    child = spawn(str(picnic_path), "--group", GROUP, "--session", str(sess))
    drive(child, PICNIC_START + [(member("Ana"), "quit")])
    child.expect(f"Resume with: decision-map step --resume {re.escape(str(sess))}")
    finish(child)
    assert child.exitstatus == 0
    assert len(load(sess).submissions) == 1
    child = spawn("--resume", str(sess))
    child.expect("Resuming after 1 step")
    child.expect("Where shall we hold it?")
    drive(child, PICNIC_REST)
    child.expect("A big picnic")
    drive(child, [(r"\[Y/n\]", "n")])
    finish(child)
    assert child.exitstatus == 0
    outcome, subs = picnic_outcome
    saved = load(sess)
    assert saved.outcome == outcome
    assert [s.to_json() for s in saved.submissions] == subs


def test_changed_map_stops_at_the_first_vote_that_no_longer_fits(tmp_path, spawn, picnic_path):
    mp = tmp_path / "picnic.yaml"
    mp.write_text(picnic_path.read_text())
    sess = tmp_path / "c.json"
    child = spawn(str(mp), "--group", GROUP, "--session", str(sess))
    drive(child, PICNIC_START + [*members("beach", "beach", "beach"), (ACCEPT, ""),
                                 *members("10", "10", "10"), (ACCEPT, ""),
                                 ("The group's sentence", "quit")])
    finish(child)
    assert len(load(sess).submissions) == 3
    mp.write_text(picnic_path.read_text().replace("beach", "lake"))
    child = spawn("--resume", str(sess))
    child.expect("The map has changed since this session was saved")
    child.expect(r"Kept the first 1 of 3 saved steps")
    child.expect(r"saved step 2 no longer fits at question 'where': 'beach' is not a choice")
    child.expect("Where shall we hold it?")
    child.expect("The lake")
    drive(child, [(member("Ana"), "quit")])
    finish(child)
    assert child.exitstatus == 0
    saved = json.loads(sess.read_text())
    assert len(saved["submissions"]) == 1
    assert saved["set_aside"][0]["submissions"][0]["node"] == "where"
    assert "'where'" in saved["set_aside"][0]["reason"]


def test_sigkill_mid_walk_leaves_a_good_session_that_resumes(tmp_path, spawn, picnic_outcome,
                                                             picnic_path):
    sess = tmp_path / "k.json"
    child = spawn(str(picnic_path), "--group", GROUP, "--session", str(sess))
    drive(child, PICNIC_START + PICNIC_REST[:5])
    child.expect("Recorded. Saved.")
    drive(child, [(READY, ""), (member("Ana"), "park")])
    child.expect(member("Ben"))
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signal.SIGKILL
    json.loads(sess.read_text())  # valid JSON
    assert len(load(sess).submissions) == 2
    child = spawn("--resume", str(sess))  # the dead process's lock is gone
    child.expect("Resuming after 2 steps")
    drive(child, PICNIC_REST[6:])  # a resumed walk does not read out again
    child.expect("A big picnic")
    drive(child, [(r"\[Y/n\]", "n")])
    finish(child)
    saved = load(sess)
    outcome, subs = picnic_outcome
    assert saved.outcome == outcome and [s.to_json() for s in saved.submissions] == subs


def test_ctrl_c_saves_and_exits_130(tmp_path, spawn, picnic_path):
    sess = tmp_path / "i.json"
    child = spawn(str(picnic_path), "--group", GROUP, "--session", str(sess))
    drive(child, PICNIC_START)
    child.expect(member("Ana"))
    child.sendintr()
    child.expect(f"Resume with: decision-map step --resume {re.escape(str(sess))}")
    finish(child)
    assert child.exitstatus == 130
    assert len(load(sess).submissions) == 1


def test_second_terminal_is_refused_with_the_pid(tmp_path, spawn, exe, step_env, picnic_path):
    sess = tmp_path / "l.json"
    child = spawn(str(picnic_path), "--group", GROUP, "--session", str(sess))
    drive(child, [(READY, "")])
    child.expect(member("Ana"))
    other = subprocess.run([exe, "step", "--resume", str(sess)], env=step_env,
                           capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert other.returncode == 1
    assert f"open in process {child.pid}" in other.stderr
    assert other.stderr.count("\n") == 1
    child.sendline("quit")
    finish(child)


@pytest.fixture
def pipe(exe: str, step_env: dict[str, str],
         root: Path) -> Callable[[list[str], str], subprocess.CompletedProcess]:
    """Run `decision-map step ARGS...` with `text` on a plain pipe for its input."""

    def run(args: list[str], text: str) -> subprocess.CompletedProcess:
        e = dict(step_env)
        e.pop("NO_COLOR")  # a pipe is plain by itself
        return subprocess.run([exe, "step", *args], input=text, env=e, capture_output=True,
                              text=True, timeout=30, cwd=str(root))

    return run


def test_plain_pipe_has_no_escape_codes_and_eof_quits_cleanly(tmp_path, pipe, picnic_path):
    sess = tmp_path / "p.json"
    lines = ["", "yes", "yes", "no", "", "park", "b", "Too far", "park", ""]
    r = pipe([str(picnic_path), "--group", GROUP, "--session", str(sess)],
             "\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    assert not ANSI.search(r.stdout) and not ANSI.search(r.stderr)
    assert 'Blocked by Ben: "Too far".' in r.stdout
    assert "End of input" in r.stdout
    assert f"Resume with: decision-map step --resume {sess}" in r.stdout
    assert len(load(sess).submissions) == 2
    # and it finishes over a pipe too
    rest = ["park", "park", "park", "", "30", "0", "0", "", "Sun", "", "n"]
    r = pipe(["--resume", str(sess)], "\n".join(rest) + "\n")
    assert r.returncode == 0 and not ANSI.search(r.stdout)
    assert "A big picnic" in r.stdout and "Done." in r.stdout


def test_session_files_and_traces_hold_votes_so_only_their_owner_can_read_them(
        tmp_path, pipe, picnic_path, cli):
    sess = tmp_path / "p.json"
    old = os.umask(0o022)  # the usual umask: other files come out 0644
    try:
        r = pipe([str(picnic_path), "--group", GROUP, "--session", str(sess)],
                 "\n".join(["", "yes", "yes", "no", "", "park", "b", "Too far", "park", ""]))
        answers = tmp_path / "a.yaml"
        answers.write_text('group: [Ana, Ben, Cy]\nanswers:\n  want: "no"\n')
        t = cli("run", str(picnic_path), str(answers), "--trace", str(tmp_path / "t.json"))
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert t.returncode == 0, t.stderr
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()
             if p.is_file() and p.suffix != ".lock"}  # the lock holds a process id only
    assert modes == {"p.json": "0o600", "p.json.bak": "0o600", "t.json": "0o600",
                     "a.yaml": "0o644"}


def test_group_asked_for_and_group_file(tmp_path, pipe, picnic_path):
    r = pipe([str(picnic_path), "--session", str(tmp_path / "g.json")],
             "Ana, ana\nAna, Ben\nquit\n")
    assert "named twice" in r.stdout and "2 members: Ana, Ben" in r.stdout
    gf = tmp_path / "group.txt"
    gf.write_text("Ana\n\nBen\n# a comment\nCy\n")
    r = pipe([str(picnic_path), "--group-file", str(gf)], "quit\n")
    assert "3 members: Ana, Ben, Cy" in r.stdout
    default = tmp_path / "data" / "decision-map" / "sessions"
    assert [p.name for p in default.glob("step-picnic-*.json")]
    assert f"Session file: {default}" in r.stdout


def test_corrupted_session_offers_the_backup(tmp_path, pipe, picnic_path):
    sess = tmp_path / "b.json"
    r = pipe([str(picnic_path), "--group", GROUP, "--session", str(sess)],
             "\nyes\nyes\nno\n\npark\npark\npark\n\nquit\n")
    assert r.returncode == 0
    good = sess.read_text()
    sess.write_text(good[: len(good) // 2])  # cut short
    r = pipe(["--resume", str(sess)], "n\n")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "broken JSON" in r.stderr and "cut short" in r.stderr
    assert "The backup" in r.stdout and "2 steps" in r.stdout
    r = pipe(["--resume", str(sess)], "y\nquit\n")
    assert r.returncode == 0 and "Resuming after 2 steps" in r.stdout
    assert Path(str(sess) + ".broken").exists()
    assert len(load(sess).submissions) == 2


def test_coalition_map_walk_by_tally_to_a_task_force(tmp_path, spawn, coalition_path):
    if not coalition_path.exists():
        pytest.skip("the shipped map is not there")
    sess = tmp_path / "coalition.json"
    t0 = time.monotonic()
    child = spawn(str(coalition_path), "--group", GROUP, "--session", str(sess),
                  "--tally")
    child.expect("Read out: Welcome")
    drive_past_readouts(child, [
        ("Tally", "yes 3"), (ACCEPT, ""),                       # shared-goal
        ("sentence", "Close the incinerator by 2027"), (ACCEPT, ""),  # charter-shared-goal
        ("Tally", "yes 2, no 1"), (ACCEPT, ""),                 # own-base
        ("Tally", "no 2, not-sure 1"), (ACCEPT, ""),            # existing-coalition
        *members("The county decides", "Nurses support", "The operator obstructs"),
        (ACCEPT, ""),                                           # power-map
        ("Tally", "one-project 2, long-term 1"), (ACCEPT, ""),  # kind
        *members("For clean air", "Against the incinerator", "No party logos"),
        (ACCEPT, ""),                                           # charter-for-against
        *members("No shared lists", "No photos", "No bank money"),
        (ACCEPT, ""),                                           # charter-risks
        ("sentence", "For clean air; no shared lists"), (ACCEPT, ""),  # draft-for-against
    ])
    child.expect(r'consent: the proposal "I can live with it" passes unless someone objects')
    drive_past_readouts(child, [
        ("Tally", "agree 3"), (ACCEPT, ""),                     # red-lines
        ("Tally", "yes 2, stand-aside 1"), ("Who stood aside", "Cy"),
        (ACCEPT, ""),                                           # at-the-table
        *members("Ben by Friday", "Cy next week", "-"), (ACCEPT, ""),  # bridges
        ("Tally", "no 3"), (ACCEPT, ""),                        # bad-history
        ("Tally", "agree 3"), (ACCEPT, ""),                     # equal-voice
        *members("3", "2", "2"), (ACCEPT, ""),                  # hours: 7
        *members("3 hours", "2 hours", "the hall"), (ACCEPT, ""),  # charter-commitments
        ("sentence", "3 + 2 hours and the hall"), (ACCEPT, ""),  # commitments-draft
        ("Tally", "agree 3"), (ACCEPT, ""),                     # benefits
        ("Tally", "yes 3"), (ACCEPT, ""),                       # decide-how
        ("Tally", "yes 3"), (ACCEPT, ""),                       # early-win
        ("sentence", "The permit hearing is delayed"), (ACCEPT, ""),  # early-win-words
        ("Tally", "yes 3"), (ACCEPT, ""),                       # terms
        ("sentence", "Delay the permit"), (ACCEPT, ""),         # scope-project
        ("sentence", "Ana, Ben, Cy; Ana convenes"), (ACCEPT, ""),  # scope-who
        ("sentence", "Ends in June"), (ACCEPT, ""),             # scope-when
    ])
    child.expect("Read out: Our answers point to a task force")
    drive_past_readouts(child, [("Tally", "yes 3"), (ACCEPT, "")])            # final-go
    child.expect("A time-limited task force on one project")
    child.expect("Next steps:")
    drive_past_readouts(child, [(r"\[Y/n\]", "n")])
    finish(child)
    assert child.exitstatus == 0
    saved = load(sess)
    assert saved.outcome == "task-force" and len(saved.submissions) == 26
    assert time.monotonic() - t0 < 20


def test_confirm_line_names_where_the_decision_leads(tmp_path, spawn, root):
    """The consequence before the commit: three stand-asides at a final consensus
    question (over its cap of two) lead to "Not now", and the confirm line says so, and
    why, before Enter commits it."""
    final = root / "tests" / "fixtures" / "room" / "final-go.yaml"
    child = spawn(str(final), "--group", "Ana, Ben, Cy, Dee, Eli",
                  "--session", str(tmp_path / "f.json"))
    for name, vote in zip(("Ana", "Ben", "Cy", "Dee", "Eli"), ("yes", "s", "s", "s", "yes"),
                          strict=True):
        child.expect(member(name))
        child.sendline(vote)
    child.expect(r"No agreement, so: the outcome “Not now; revisit when something changes”\.")
    child.expect(ACCEPT)
    child.sendline("r")  # nothing was committed: the group votes again
    for name, vote in zip(("Ana", "Ben", "Cy", "Dee", "Eli"), ("yes",) * 5, strict=True):
        child.expect(member(name))
        child.sendline(vote)
    child.expect(r"This leads to the outcome “We go ahead”\.")
    child.expect(ACCEPT)
    child.sendline("")
    child.expect("We go ahead")
    drive(child, [(r"Write the report", "n")])
    finish(child)
