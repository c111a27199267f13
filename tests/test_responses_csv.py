"""Form exports as users run them: `decision-map run MAP --responses CSV --group-by COL`,
through the real console script. Each cell is read for its question's type (a choice
named like a block is that choice, `500` is text, `007` a choice), choices match in any
case and Unicode form, a quote left open is refused naming its row, one refused group does
not cost the others their results, results written for a spreadsheet cannot run as
formulas, and a large batch prints a summary, not a table."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

EXE = str(Path(sys.executable).parent / "decision-map")

MAP = """\
id: csvsem
title: CSV semantics
version: "1"
start: how
nodes:
  how:
    ask: How do we act?
    rule: majority
    choices:
      block-the-road: digits
      march: digits
    otherwise: stuck
  digits:
    ask: Which code?
    rule: majority
    choices:
      "007": words
      "1.0": words
    otherwise: stuck
  words:
    ask: What do we want?
    text: each
    next: place
  place:
    ask: Where?
    rule: majority
    choices:
      yes: here
      café: cafe
    otherwise: stuck
  here:
    outcome: Here
    verdict: here
  cafe:
    outcome: At the café
    verdict: cafe
  stuck:
    outcome: Stuck
    verdict: stuck
"""
HEAD = "team,member,how,digits,words,place\n"


def run(tmp_path: Path, csv_text: str, *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "m.yaml").write_text(MAP, encoding="utf-8")
    (tmp_path / "r.csv").write_text(csv_text, encoding="utf-8", newline="")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run([EXE, "run", "m.yaml", "--responses", "r.csv", "--group-by", "team",
                           "--member-column", "member", *extra], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def results(tmp_path: Path, csv_text: str) -> tuple[subprocess.CompletedProcess, dict]:
    p = run(tmp_path, csv_text, "-o", "out.json")
    assert "Traceback" not in p.stderr
    out = tmp_path / "out.json"
    data = json.loads(out.read_text()) if out.exists() else {"groups": []}
    return p, {g["group"]: g for g in data["groups"]}


def test_a_choice_spelled_like_a_block_is_that_choice(tmp_path):
    p, by = results(tmp_path, HEAD + "t1,Ana,block-the-road,007,a,yes\n"
                                     "t1,Ben,block-the-road,007,b,yes\n")
    assert p.returncode == 0, p.stderr
    assert by["t1"]["outcome"] == "here" and by["t1"]["steps"] == 5


def test_numbers_are_read_only_where_the_question_takes_numbers(tmp_path):
    # the text answer 500 is text; the choices 007 and 1.0 can be voted as written
    p, by = results(tmp_path, HEAD + "t1,Ana,march,007,500,yes\nt1,Ben,march,007,12,yes\n"
                                     "t2,Cy,march,1.0,500,yes\n")
    assert p.returncode == 0, p.stderr
    assert by["t1"]["outcome"] == by["t2"]["outcome"] == "here"


def test_votes_match_choices_in_any_case_and_unicode_form(tmp_path):
    nfd = unicodedata.normalize("NFD", "café")
    assert nfd != "café"
    p, by = results(tmp_path, HEAD + "t1,Ana,march,007,a,Yes\nt1,Ben,march,007,b,YES\n"
                                     f"t2,Cy,march,007,a,{nfd}\nt2,Dee,march,007,b,CAFÉ\n")
    assert p.returncode == 0, p.stderr
    assert (by["t1"]["outcome"], by["t2"]["outcome"]) == ("here", "cafe")


def test_a_quote_left_open_is_refused_naming_its_row(tmp_path):
    p = run(tmp_path, HEAD + 't1,Ana,march,007,a,yes\nt1,Ben,march,007,"b,yes\n'
                             "t2,Cy,march,007,a,yes\nt2,Dee,march,007,b,yes\n", "-o", "out.csv")
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    assert lines[0].startswith("decision-map: r.csv:row 3: a quote"), lines
    assert not (tmp_path / "out.csv").exists()


def test_one_refused_group_does_not_cost_the_others_their_results(tmp_path):
    p, by = results(tmp_path, HEAD + "t1,Ana,march,007,a,yes\nt1,Ben,march,007,b,yes\n"
                                     "t2,Cy,march,007,a,perhaps\nt2,Dee,march,007,b,yes\n"
                                     "t3,Eve,march,1.0,a,café\n")
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        "decision-map: r.csv:row 4: group 't2': 'perhaps' is not a choice at question "
        "'place' (choices: yes, café), from Cy"]
    assert by["t1"]["outcome"] == "here" and by["t3"]["outcome"] == "cafe"
    assert by["t2"]["outcome"] is None and by["t2"]["error"].startswith("r.csv:row 4: ")
    assert "3 groups: (error) 1, cafe 1, here 1" in p.stdout


def test_results_written_for_spreadsheets_cannot_run_as_formulas(tmp_path):
    p = run(tmp_path, HEAD + "=1+2,Ana,march,007,a,yes\n+cmd,Ben,march,007,a,yes\n"
                             "-2,Cy,march,007,a,yes\n@SUM(A1),Dee,march,007,a,yes\n",
            "-o", "out.csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'+cmd", "'-2", "'@SUM(A1)"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_a_batch_not_shown_on_a_terminal_prints_a_summary_not_a_table(tmp_path):
    body = "".join(f"g{i},m{i},march,007,a,yes\n" for i in range(200))
    p = run(tmp_path, HEAD + body)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines() == ["200 groups: here 200"]
