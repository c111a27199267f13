"""The group's votes are never lost, end to end: the real `decision-map step` in a real
pseudo-terminal (pexpect) when saving fails mid-walk, when an outcome text fails, when
only the backup is left, and when a choice is spelled like a command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect

from decision_map.io.session import load

ROOT = Path(__file__).resolve().parent.parent
VOTES = ROOT / "tests" / "fixtures" / "step" / "votes.yaml"
EXE = shutil.which("decision-map") or str(Path(sys.executable).parent / "decision-map")
GROUP = "Ana, Ben, Cy"
ACCEPT = "accept and go on"


def spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "LINES": "40", "TERM": "xterm",
           "PROMPT_TOOLKIT_NO_CPR": "1", "XDG_DATA_HOME": str(tmp_path / "data")}
    return pexpect.spawn(EXE, ["step", *args], env=env, encoding="utf-8", timeout=30,
                         dimensions=(40, 200), cwd=str(tmp_path))


def vote(child: pexpect.spawn, *votes: str) -> None:
    for name, v in zip(("Ana", "Ben", "Cy"), votes, strict=True):
        child.expect(rf"  {name} +\[")
        child.sendline(v)
    child.expect(ACCEPT)
    child.sendline("")


def end(child: pexpect.spawn) -> tuple[str, int]:
    child.expect(pexpect.EOF)
    child.close()
    return child.before, child.exitstatus


def break_folder(folder: Path) -> None:
    """Make saving in `folder` fail in a way root cannot bypass (root ignores permission
    bits): the folder becomes a plain file, so nothing can be created "inside" it."""
    shutil.rmtree(folder)
    folder.write_text("not a folder any more\n")


def members(child: pexpect.spawn, *votes: str) -> None:
    """Each member's vote in turn, then accept the decision."""
    for name, v in zip(("Ana", "Ben", "Cy"), votes, strict=True):
        child.expect(rf"  {name} +\[")
        child.sendline(v)
    child.expect(ACCEPT)
    child.sendline("")


def started_then_broken(tmp_path: Path) -> tuple[pexpect.spawn, Path]:
    """A walk whose first save worked, and whose folder then cannot be written."""
    folder = tmp_path / "meeting"
    folder.mkdir()
    child = spawn(tmp_path, str(VOTES), "--group", GROUP, "--session", str(folder / "s.json"))
    child.expect(r"  Ana +\[")
    assert load(folder / "s.json").submissions == []
    break_folder(folder)
    child.sendline("ahead")
    for name in ("Ben", "Cy"):
        child.expect(rf"  {name} +\[")
        child.sendline("ahead")
    child.expect(ACCEPT)
    child.sendline("")
    child.expect(r"NOT SAVED: cannot write .*s\.json")
    child.expect(r"Recorded\. NOT SAVED\.")
    child.expect("How many hours a week")  # the walk goes on
    return child, folder


def test_a_failed_save_is_loud_the_walk_goes_on_and_save_elsewhere_keeps_the_votes(tmp_path):
    child, _ = started_then_broken(tmp_path)
    child.expect(r"  Ana +\[")
    child.sendline("save elsewhere.json")
    child.expect(r"Saved to elsewhere\.json")
    assert [s.node for s in load(tmp_path / "elsewhere.json").submissions] == ["go"]
    members(child, "5", "5", "5")
    child.expect("15 hours a week.")
    child.expect(r"\[Y/n\]")
    child.sendline("n")
    out, code = end(child)
    assert code == 0 and "Done. Thank you all." in out
    saved = load(tmp_path / "elsewhere.json")
    assert [s.node for s in saved.submissions] == ["go", "hours"] and saved.outcome == "done"


def test_quit_after_a_failed_save_warns_then_rescues_the_votes_and_exits_non_zero(tmp_path):
    child, _ = started_then_broken(tmp_path)
    child.expect(r"  Ana +\[")
    child.sendline("quit")
    child.expect("The session is NOT saved")
    child.expect(r"  Ana +\[")
    child.sendline("quit")
    out, code = end(child)
    assert code != 0
    assert "Everything so far is saved" not in out
    m = re.search(r"saved instead to (\S+\.json)", out)
    assert m, out
    rescued = Path(m.group(1))
    assert rescued.is_relative_to(tmp_path / "data")
    assert [s.node for s in load(rescued).submissions] == ["go"]


def test_end_of_input_after_a_failed_save_does_not_claim_it_is_saved(tmp_path):
    child, _ = started_then_broken(tmp_path)
    child.expect(r"  Ana +\[")
    child.sendeof()
    out, code = end(child)
    assert code != 0
    assert "Everything so far is saved" not in out and "NOT SAVED" in out


BROKEN_TEXT = """id: broken-text
title: Broken text
version: "1"
start: q
nodes:
  q:
    ask: Go?
    choices: {"yes": done, "no": done}
    otherwise: done
  done:
    outcome: Done
    next_steps: [Go]
    text: "We said {{ answers.q > 3 }}"
"""


def test_an_outcome_text_that_fails_is_shown_as_an_error_and_the_vote_is_saved(tmp_path):
    (tmp_path / "m.yaml").write_text(BROKEN_TEXT)
    check = subprocess.run([EXE, "check", str(tmp_path / "m.yaml")], capture_output=True)
    assert check.returncode == 0  # check cannot see a comparison fail
    sess = tmp_path / "s.json"
    child = spawn(tmp_path, str(tmp_path / "m.yaml"), "--group", GROUP, "--session", str(sess))
    members(child, "yes", "yes", "no")
    child.expect("Outcome")
    child.expect("The outcome's text could not be shown: .*template failed")
    child.expect(r"\[Y/n\]")
    child.sendline("n")
    out, code = end(child)
    assert "Traceback" not in out and "internal error" not in out
    assert code == 1 and "decision-map: " in out  # the walk ended; the map needs mending
    saved = load(sess)
    assert len(saved.submissions) == 1 and saved.outcome == "done"
    child = spawn(tmp_path, "--resume", str(sess))  # and it resumes, at its outcome
    child.expect("The outcome's text could not be shown")
    child.expect(r"\[Y/n\]")
    child.sendline("n")
    assert end(child)[1] == 1


def test_an_answer_from_another_path_in_the_text_does_not_stop_the_walk(tmp_path):
    sess = tmp_path / "s.json"
    child = spawn(tmp_path, str(VOTES), "--group", GROUP, "--session", str(sess))
    members(child, "2", "2", "1")
    child.expect("Back to the drawing board.")
    child.expect(r"\[Y/n\]")
    child.sendline("n")
    assert end(child)[1] == 0
    assert load(sess).outcome == "done"


def test_with_only_the_backup_left_resume_offers_it_and_restores_it(tmp_path):
    sess = tmp_path / "s.json"
    child = spawn(tmp_path, str(VOTES), "--group", GROUP, "--session", str(sess))
    members(child, "1", "1", "1")
    child.expect(r"  Ana +\[")
    child.sendline("quit")
    assert end(child)[1] == 0
    bak = Path(str(sess) + ".bak")
    os.replace(sess, tmp_path / "moved.json")  # as if stopped between the two renames
    assert bak.exists() and not sess.exists()
    child = spawn(tmp_path, "--resume", str(sess))
    child.expect("is not there, but its backup")
    child.expect(r"\[y/N\]")
    child.sendline("y")
    child.expect(f"Restored {re.escape(str(sess))} from its backup")
    child.expect(r"  Ana +\[")
    child.sendline("quit")
    out, code = end(child)
    assert code == 0 and "internal error" not in out
    assert json.loads(sess.read_text())["submissions"] == json.loads(bak.read_text())[
        "submissions"]


def test_a_choice_named_like_a_command_can_be_voted(tmp_path):
    sess = tmp_path / "s.json"
    child = spawn(tmp_path, str(VOTES), "--group", GROUP, "--session", str(sess))
    child.expect(r"'back' is also a command: to vote it, type 2 or =back")
    members(child, "=back", "=BACK", "2")
    child.expect("Back to the drawing board.")
    child.expect(r"\[Y/n\]")
    child.sendline("n")
    assert end(child)[1] == 0
    (sub,) = load(sess).submissions
    assert [b.value for b in sub.ballots] == ["back"] * 3


def test_a_sentence_starting_with_save_is_still_a_vote():
    from decision_map.cli.stepper import save_target

    assert save_target("save the whales") is None and save_target("save money") is None
    assert save_target("save other.json") == Path("other.json")
    assert save_target("SAVE /tmp/x") == Path("/tmp/x")


def test_check_strict_warns_about_a_choice_spelled_like_a_command():
    out = subprocess.run([EXE, "check", "--strict", str(VOTES)], capture_output=True,
                         text=True)
    assert out.returncode == 1
    assert "warning DM122: node 'go': choice 'back' is spelled like the stepper's command " \
           "'back'" in out.stdout + out.stderr
    assert "members vote it as 2 or =back" in out.stdout + out.stderr


def test_every_command_the_stepper_takes_is_one_the_checker_knows():
    """The stepper and the checker read one list; a word the stepper acts on that the
    list lacks would be a choice nobody can vote and no check warns about."""
    from decision_map.model.vocabulary import STEPPER_COMMANDS, is_command

    for word in ("?", "help", "back", "path", "map", "save", "quit", "exit", "tally",
                 "members", "-", " QUIT "):
        assert is_command(word), word
    assert "t" not in STEPPER_COMMANDS and "m" not in STEPPER_COMMANDS  # choices win
