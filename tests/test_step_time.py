"""Time at the stepper, in a real pseudo-terminal: the header says how long is likely
left (hand-offs included), a hand-off is announced with its likely length and can wait
for the next meeting (`step --resume` goes on into it), and `--timer` counts a read-out's
minutes down on a live line that Enter ends early."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.stepper import ACCEPT, GROUP, READY, say


@pytest.fixture
def meeting(root: Path) -> Path:
    return root / "tests" / "fixtures" / "time" / "meeting.yaml"


def object_at_the_goal(child: pexpect.spawn) -> None:
    """Ana objects at the first question, so the walk hands off to the dissent map."""
    say(child, r"Ana \[", "o")
    say(child, "reason for the objection", "the rent is too high")
    say(child, r"Ben \[", "1")
    say(child, r"Cy  \[", "1")
    say(child, ACCEPT, "")


def test_the_header_says_how_long_is_likely_left(tmp_path, spawn, meeting):
    child = spawn(str(meeting), "--group", GROUP, "--session", str(tmp_path / "s.json"))
    say(child, READY, "")
    # welcome is passed: the goal (15), the dissent map (90), hours (10), the vote (20)
    # and the outcome (5)
    child.expect(r"Step 1 · at most 3 questions left · likely 2 hours 20 minutes left")
    object_at_the_goal(child)
    say(child, "later: continue at the next meeting", "")
    say(child, READY, "")
    # inside the hand-off the count goes on past it: 2 questions here, 2 after
    child.expect(r"Step 2 · at most 4 questions left · likely 1 hour 45 minutes left")
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_a_hand_off_can_wait_for_the_next_meeting(tmp_path, spawn, meeting):
    sess = tmp_path / "s.json"
    child = spawn(str(meeting), "--group", GROUP, "--session", str(sess))
    say(child, READY, "")
    object_at_the_goal(child)
    child.expect(r"Next: “Working through dissent”, likely to take 1 hour 30 minutes "
                 r"\(about 2 hours 5 minutes left in all\)")
    say(child, "later: continue at the next meeting", "later")
    say(child, "A note for the next meeting", "Bring the rent figures")
    child.expect("Paused before “Working through dissent”, to continue at the next meeting")
    child.expect(f"Resume with: decision-map step --resume {re.escape(str(sess))}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    paused = json.loads(sess.read_text())["paused"]
    assert paused["note"] == "Bring the rent figures"
    assert paused["before"] == "“Working through dissent”"

    child = spawn("--resume", str(sess))
    child.expect("Paused at the last meeting .*, before “Working through dissent”")
    child.expect("The note left for today: Bring the rent figures")
    child.expect("Read out: The objector says what worries them")  # heard at this meeting
    say(child, READY, "")
    child.expect("In the map: Working through dissent")
    child.expect("Did talking it through resolve it?")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    assert "paused" not in json.loads(sess.read_text())  # the pause is over


def test_the_timer_counts_a_read_out_down_and_enter_ends_it(tmp_path, spawn, meeting):
    child = spawn(str(meeting), "--group", GROUP, "--session", str(tmp_path / "s.json"),
                  "--timer")
    child.expect(r"Timer: (\d+:\d\d) left · Enter ends it early")
    first = child.match.group(1)
    assert first in ("10:00", "9:59")
    child.expect(r"Timer: (\d+:\d\d) left")  # a live line: it ticks
    later = child.match.group(1)
    child.expect(r"Timer: (\d+:\d\d) left")
    assert child.match.group(1) != first or later != first
    child.sendline("")
    child.expect(r"Timer: ended early, 9:\d\d before time")
    child.expect("Is there a shared goal?")  # Enter went on: no second wait
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_a_scripted_run_hears_the_times_and_goes_on(tmp_path, exe, step_env, meeting):
    answers = "\n".join(["", "o", "rent", "1", "1", "", "", "quit"]) + "\n"
    r = subprocess.run([exe, "step", str(meeting), "--group", GROUP, "--session",
                        str(tmp_path / "s.json"), "--timer"], input=answers, text=True,
                       capture_output=True, env=step_env, timeout=60)
    assert "Timer: 10:00 (the countdown shows on a terminal)" in r.stdout
    assert "Next: “Working through dissent”, likely to take 1 hour 30 minutes" in r.stdout
    assert "continue at the next meeting" not in r.stdout  # no offer a script would answer
    assert "Did talking it through resolve it?" in r.stdout


def test_the_countdown_says_when_the_time_is_up(step_env):
    """The timer's own line in a pseudo-terminal, over two seconds rather than a
    read-out's minutes: it ticks down, then says the time is up and returns."""
    code = ("from decision_map.cli.terminal import Terminal\n"
            "print('early' if Terminal().countdown(2, 'Timer') else 'ran out')\n")
    child = pexpect.spawn(sys.executable, ["-c", code], env=step_env, encoding="utf-8",
                          timeout=20, dimensions=(40, 120))
    child.expect(r"Timer: 0:02 left · Enter ends it early")
    child.expect(r"Timer: 0:01 left")
    child.expect("Timer: time is up")
    child.expect("ran out")
    child.expect(pexpect.EOF)
