"""A stepper fit for a room, end to end in a real pseudo-terminal (pexpect): read-outs wait
for Enter, a re-asked question says why it is back, a quick tally names who stood aside or
blocked, fist-to-five tallies read as fingers:count, `y`/`pass`/`3 hours` are votes, and
typed words survive a re-vote."""

from __future__ import annotations

from pathlib import Path

import pexpect
import pytest

from decision_map.io.session import load
from tests.stepper import ACCEPT, GROUP, READY, say


@pytest.fixture
def room_path(root: Path) -> Path:
    return root / "tests" / "fixtures" / "step" / "room.yaml"


def not_yet(child: pexpect.spawn, text: str) -> None:
    """`text` does not show within a second."""
    with pytest.raises(pexpect.TIMEOUT):
        child.expect_exact(text, timeout=1)


def test_a_read_out_waits_for_enter_before_the_next_question(tmp_path, spawn, room_path):
    child = spawn(str(room_path), "--group", GROUP, "--session", str(tmp_path / "s.json"))
    child.expect("Read out: A welcome round")
    child.expect(READY)
    not_yet(child, "How far do you back the plan?")
    child.sendline("")
    child.expect("How far do you back the plan?")
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_fist_to_five_tally_reads_fingers_colon_count(tmp_path, spawn, room_path):
    sess = tmp_path / "s.json"
    child = spawn(str(room_path), "--group", GROUP, "--session", str(sess), "--tally")
    say(child, READY, "")
    child.expect(r"Tally \(like: 5:2 3:1\)")
    child.sendline("4 2, 2 1")
    child.expect("can be read two ways; join each number of fingers to its count with a "
                 "colon")
    say(child, "Tally", "5:2 3:1")
    child.expect(r"Tally: .*5 2")
    say(child, ACCEPT, "")
    child.expect("Do we join the coalition?")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    ballots = load(sess).submissions[0].ballots
    assert sorted(b.value for b in ballots) == ["3", "5", "5"]


def test_quick_tally_names_who_stood_aside_or_blocked_and_a_reasked_question_says_why(
        tmp_path, spawn, room_path):
    sess = tmp_path / "s.json"
    child = spawn(str(room_path), "--group", GROUP, "--session", str(sess), "--tally")
    say(child, READY, "")
    say(child, "Tally", "5:3")
    say(child, ACCEPT, "")
    say(child, "Tally", "yes 1, block 2")
    child.expect(r"Who blocked\? Names separated by commas \(Enter: skip\)")
    child.sendline("Dan")
    child.expect("'Dan' is not one of the group")
    say(child, "Who blocked", "ben")
    say(child, "Ben, the reason for the block", "Too soon for us")
    say(child, "The reason for block 2 of 2", "Not yet")
    child.expect(r"Blocked by Ben and 1 more member: .*Too soon for us")
    say(child, ACCEPT, "")
    child.expect("Read out: Hear the block in full")
    say(child, READY, "")
    child.expect("This question comes round again: time 2; it may come round 1 more time")
    child.expect(r'Back because: Blocked by Ben and 1 more member: .*"Too soon for us"')
    child.expect("Since then: Hear the block in full")
    say(child, "Tally", "yes 2, stand-aside 1")
    say(child, r"Who stood aside\?", "Cy")
    child.expect(r"stands aside \(Cy\)")
    say(child, ACCEPT, "")
    child.expect("How many hours")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    subs = load(sess).submissions
    block = [(b.member, b.reason) for b in subs[1].ballots if b.value == "block"]
    assert block == [("Ben", "Too soon for us"), (None, "Not yet")]
    assert [b.member for b in subs[2].ballots if b.value == "stand-aside"] == ["Cy"]


def test_y_pass_and_a_number_with_its_unit_and_typed_words_survive_a_revote(
        tmp_path, spawn, room_path):
    sess = tmp_path / "s.json"
    child = spawn(str(room_path), "--group", GROUP, "--session", str(sess))
    say(child, READY, "")
    for name in ("Ana", "Ben", "Cy"):
        say(child, rf"  {name} +\[", "5")
    say(child, ACCEPT, "")
    for name, v in (("Ana", "y"), ("Ben", "pass"), ("Cy", "Y")):
        say(child, rf"  {name} +\[", v)
    child.expect(r'Consensus on "yes"')
    say(child, ACCEPT, "")
    for name, v in (("Ana", "3 hours"), ("Ben", "2 hours a week"), ("Cy", "1 hour")):
        say(child, rf"  {name} +\[", v)
    child.expect("Total of 6")
    say(child, ACCEPT, "")
    for name, v in (("Ana", "Maps"), ("Ben", "Tea and cake"), ("Cy", "Time")):
        say(child, rf"  {name} +\[", v)
    say(child, ACCEPT, "r")
    # the words typed are offered again, in the line: Enter keeps them, or edit (Ctrl-U
    # clears the line)
    say(child, r"  Ana +\[.*\(Enter keeps: Maps\)", "")
    say(child, r"  Ben +\[.*\(Enter keeps: Tea and cake\)", "")
    say(child, r"  Cy +\[.*\(Enter keeps: Time\)", "\x15Late evenings")
    say(child, ACCEPT, "")
    say(child, r"\[Y/n\]", "n")
    child.expect(pexpect.EOF)
    subs = load(sess).submissions
    assert [b.value for b in subs[1].ballots] == ["yes", "abstain", "yes"]
    assert [b.value for b in subs[2].ballots] == [3, 2, 1]
    assert [b.value for b in subs[3].ballots] == ["Maps", "Tea and cake", "Late evenings"]


def test_projector_clears_the_screen_for_each_question_and_path_keeps_the_record(
        tmp_path, spawn, room_path):
    child = spawn(str(room_path), "--group", GROUP, "--session", str(tmp_path / "s.json"),
                  "--projector", "--tally")
    say(child, READY, "")
    child.expect(r"\x1b\[2J")  # a clean screen
    child.expect(r"How far do you back the plan\?")
    child.expect(r"Rule: fist-to-five")
    child.expect(r"Step 1 · at most 4 questions left · 3 members voting")
    say(child, "Tally", "5:3")
    say(child, ACCEPT, "")
    child.expect(r"\x1b\[2J")
    child.expect("Do we join the coalition?")
    assert "How far do you back" not in child.before  # the last question is off the screen
    say(child, "Tally", "path")
    child.expect(r"1\. .*How far do you back the plan\?.*: Fist-to-five passes")
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_fist_to_five_tally_asks_who_showed_too_few_fingers(tmp_path, spawn, room_path):
    """Those below the least it takes must be heard: the record names them."""
    sess = tmp_path / "s.json"
    child = spawn(str(room_path), "--group", GROUP, "--session", str(sess), "--tally")
    say(child, READY, "")
    say(child, "Tally", "5:2 2:1")
    say(child, r"Who showed 2 fingers\?", "Cy")
    say(child, ACCEPT, "")
    say(child, r"\[Y/n\]", "n")
    child.expect(pexpect.EOF)
    ballots = load(sess).submissions[0].ballots
    assert [(b.member, b.value) for b in ballots] == [(None, "5"), (None, "5"), ("Cy", "2")]


def test_each_member_has_their_own_input_history(tmp_path, spawn, room_path):
    """The up-arrow brings back a member's own earlier line, never the member before's."""
    sess = tmp_path / "s.json"
    child = spawn(str(room_path), "--group", GROUP, "--session", str(sess))
    say(child, READY, "")
    for name in ("Ana", "Ben", "Cy"):
        say(child, rf"  {name} +\[", "5")
    say(child, ACCEPT, "")
    say(child, r"  Ana +\[", "y")
    child.expect(r"  Ben +\[")
    child.send("\x1b[A\r")  # up-arrow, Enter: Ben's own last line ("5"), not Ana's "y"
    child.expect("'5' is not a choice")
    say(child, r"  Ben +\[", "y")
    say(child, r"  Cy +\[", "y")
    say(child, ACCEPT, "")
    child.expect("How many hours")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    assert [b.value for b in load(sess).submissions[1].ballots] == ["yes", "yes", "yes"]
