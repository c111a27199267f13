"""End to end: the real `decision-map watch` console script in a real pseudo-terminal
(pexpect), on a copy of a shipped map, saved with real writes (in place and by rename,
as editors do), every wait bounded."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPS = ROOT / "maps"
EXE = shutil.which("decision-map") or str(Path(sys.executable).parent / "decision-map")
WAIT = 20  # seconds for any one line: a save is answered in well under one


def copy_maps(tmp_path: Path) -> Path:
    """The coalition map, the two maps it hands off to, and their scenarios."""
    (tmp_path / "scenarios").mkdir()
    for name in ("coalition-formation.yaml", "working-through-dissent.yaml",
                 "common-ground.yaml"):
        shutil.copy(MAPS / name, tmp_path / name)
        shutil.copy(MAPS / "scenarios" / name, tmp_path / "scenarios" / name)
    return tmp_path / "coalition-formation.yaml"


def spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "TERM": "xterm",
           "DECISION_MAP_CACHE": str(tmp_path / "cache")}
    return pexpect.spawn(EXE, ["watch", *args], env=env, encoding="utf-8", timeout=WAIT,
                         dimensions=(40, 200), cwd=str(tmp_path))


def save_in_place(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def save_by_rename(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def saved(child: pexpect.spawn) -> None:
    child.expect(r"\] saved: coalition-formation\.yaml")


def test_three_edits_then_a_broken_save_then_ctrl_c(tmp_path):
    map_file = copy_maps(tmp_path)
    good = map_file.read_text(encoding="utf-8")
    child = spawn(tmp_path, map_file.name, "-o", "map.svg")
    child.expect(r"watching coalition-formation\.yaml and 3 more file\(s\); picture map\.svg")
    child.expect(r"= 0 error\(s\), 0 warning\(s\); (\d+) of \1 case\(s\) pass; coverage (\d+) "
                 r"of (\d+)")
    cases = int(child.match.group(1))
    covered, total = int(child.match.group(2)), int(child.match.group(3))
    passing = rf"{cases} of {cases} case\(s\) pass"
    child.expect(r"picture: map\.svg redrawn")
    assert (tmp_path / "map.svg").read_bytes().lstrip().startswith(b"<?xml")

    # 1. a typo'd next: the checker's line, located; the scenarios wait for a clean map
    choice = "      no: power-map\n"  # at existing-coalition
    line = good[:good.index(choice)].count("\n") + 1
    typo = good.replace(choice, "      no: powr-map\n", 1)
    assert typo != good
    save_in_place(map_file, typo)
    saved(child)
    child.expect(rf"new:   coalition-formation\.yaml:{line}:11: error DM101: node "
                 r"'existing-coalition': next node 'powr-map' does not exist \(hint: did you "
                 r"mean 'power-map'\?\)")
    child.expect(r"scenarios not run: the map has 1 error\(s\)")
    child.expect(r"= 1 error\(s\), 0 warning\(s\); scenarios not run")

    # 2. its fix, saved as editors do (a new file renamed over the old): fixed, and the
    # cases are as before, so no case line
    save_by_rename(map_file, good)
    saved(child)
    child.expect(rf"fixed: coalition-formation\.yaml:{line}:11: error DM101")
    child.expect(rf"= 0 error\(s\), 0 warning\(s\); {passing}; "
                 rf"coverage {covered} of {total} ")
    assert "now failing" not in child.before and "now passing" not in child.before

    # 3. a new choice no scenario covers: coverage lost, every case still passes
    more = good.replace(choice, choice + "      later: power-map\n", 1)
    save_in_place(map_file, more)
    saved(child)
    child.expect(r"not covered: existing-coalition: choice later")
    child.expect(rf"= 0 error\(s\), 0 warning\(s\); {passing}; "
                 rf"coverage {covered} of {total + 1} ")
    assert "new:" not in child.before and "fixed:" not in child.before

    # a half-written save: its located error, and the watch waits for the next save
    save_in_place(map_file, more[: more.index("  own-base:") + 30])
    saved(child)
    child.expect(r"new:   coalition-formation\.yaml:\d+:\d+: error DM\d+: ")
    child.expect(r"= 1 error\(s\), 0 warning\(s\); scenarios not run: the map does not load")
    save_in_place(map_file, more)
    saved(child)
    child.expect(r"fixed: coalition-formation\.yaml:\d+:\d+: error DM\d+")
    child.expect(rf"= 0 error\(s\), 0 warning\(s\); {passing}")
    assert "not covered" not in child.before  # the same as the last save that ran

    child.kill(signal.SIGINT)
    child.expect("stopped watching")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not re.search(r"Traceback|internal error", child.before or "")


def test_a_save_of_the_hand_off_map_is_answered_too(tmp_path):
    map_file = copy_maps(tmp_path)
    dissent = tmp_path / "working-through-dissent.yaml"
    child = spawn(tmp_path, map_file.name)
    child.expect(r"= 0 error\(s\)")
    text = dissent.read_text(encoding="utf-8")
    save_in_place(dissent, text.replace("rule: any\n", "rule: anyone\n", 1))
    child.expect(r"\] saved: working-through-dissent\.yaml")
    child.expect(r"new:   coalition-formation\.yaml:\d+:\d+: error DM100: node '[a-z-]+': "
                 r"hand-off map does not load: .*working-through-dissent\.yaml:\d+:\d+: ")
    child.kill(signal.SIGINT)
    child.expect(pexpect.EOF)
    child.close()


@pytest.mark.parametrize("args, message", [
    (["missing.yaml"], "missing.yaml: no such map file"),
    (["coalition-formation.yaml", "nope.yaml"], "nope.yaml: no such scenario file"),
    (["coalition-formation.yaml", "-o", "map.gif"], "cannot tell the format from '.gif'"),
])
def test_bad_arguments_are_one_line(tmp_path, args, message):
    copy_maps(tmp_path)
    child = spawn(tmp_path, *args)
    child.expect(pexpect.EOF)
    child.close()
    assert message in child.before
    assert child.exitstatus in (1, 2)
    assert "Traceback" not in child.before


def test_a_new_hand_off_is_watched_from_the_save_that_names_it(tmp_path):
    """A save that names a hand-off map not yet written: its line; writing that map in a
    folder nobody watched before is a save too."""
    map_file = copy_maps(tmp_path)
    child = spawn(tmp_path, map_file.name)
    child.expect(r"= 0 error\(s\)")
    good = map_file.read_text(encoding="utf-8")
    named = good.replace("map: common-ground.yaml", "map: later/more.yaml", 1)
    assert named != good
    save_in_place(map_file, named)
    saved(child)
    child.expect(r"new:   coalition-formation\.yaml:\d+:\d+: error DM111: node '[a-z-]+': "
                 r"hand-off map 'later/more\.yaml' does not exist")
    child.expect(r"= 1 error\(s\)")
    (tmp_path / "later").mkdir()
    shutil.copy(MAPS / "common-ground.yaml", tmp_path / "later" / "more.yaml")
    child.expect(r"\] saved: later/more\.yaml")
    child.expect(r"fixed: coalition-formation\.yaml:\d+:\d+: error DM111")
    child.expect(r"= 0 error\(s\), 0 warning\(s\); (\d+) of \1 case\(s\) pass")
    child.kill(signal.SIGINT)
    child.expect(pexpect.EOF)
    child.close()
