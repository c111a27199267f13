"""Every bad input is one located line and exit 1, never "internal error" (exit 3).

The class, not only the examples: every single-field mutation of a real trace and a real
session (wrong types, nulls, huge numbers, nesting, a missing field) is either refused in
one line or read into data every reader can use; deeply nested JSON is refused before
any reader walks it. Through the console script: non-finite bounds, overflowing votes,
outputs that cannot be written, `new` in odd places, escape sequences in error lines and
`--json` walks that stop.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from decision_map_render.draw import picture
from decision_map_render.report import report_markdown

from decision_map.errors import DecisionMapError, InputError
from decision_map.io.answers import load_answers
from decision_map.io.loader import load_map
from decision_map.io.session import Session, SessionError, save
from decision_map.io.session import load as load_session
from decision_map.io.traces import read_trace
from decision_map.walk.replay import run_answers
from decision_map.walk.session import resume

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "tests" / "fixtures" / "engine"
ESCAPES = ("\x1b", "\x07", "\x9b")

# A walk through a hand-off and back to an outcome, with every kind of ballot the
# engine fixture asks for: choices, numbers, an objection with a reason, words.
ANSWERS = """\
group: [Ana, Ben, Cy]
answers:
  goal: {Ana: "yes", Ben: "yes", Cy: "no"}
  hours: {Ana: 10, Ben: 10, Cy: 5}
  red-lines: {Ana: "yes", Ben: {vote: object, reason: rent}, Cy: "yes"}
  sub/talk: "yes"
  words: {Ana: Fair rent, Ben: Clean air, Cy: Both}
  final: "yes"
"""

# What each field is set to in turn: every JSON type, edge numbers and deep nesting.
WRONG: list[Any] = [None, True, -1, 2**70, 1e308, "x\x1b]52;c;aGk=\x07", [], {},
                    [[[[]]]], {"a": {"b": 1}}]
DELETE = object()


def one_line(r: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 1, one line on stderr with each of `words`, no traceback, no escapes."""
    assert r.returncode == 1, (r.returncode, r.stderr)
    # Graphviz may warn about the machine's font set-up: that line is not ours
    ours = "".join(ln for ln in r.stderr.splitlines(keepends=True)
                   if not ln.startswith("Fontconfig"))
    assert ours.count("\n") == 1 and ours.startswith("decision-map: "), r.stderr
    assert "internal error" not in ours and "Traceback" not in ours
    for w in words:
        assert w in ours, (w, r.stderr)
    for esc in ESCAPES:
        assert esc not in r.stderr + r.stdout


def mutations(doc: Any) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """Every single-field change of `doc`: each field (at any depth) set to each WRONG
    value, and each object field left out. Of a list's items only the first of each
    shape is changed (the 9th step like the 2nd adds time, not cases)."""
    def shape(x: Any) -> Any:
        if isinstance(x, dict):
            return tuple(sorted((k, type(v).__name__, v if k == "kind" else None)
                                for k, v in x.items()))
        return type(x).__name__

    def paths(x: Any, pre: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        if pre:
            yield pre
        if isinstance(x, dict):
            for k, v in x.items():
                yield from paths(v, (*pre, k))
        elif isinstance(x, list):
            seen = set()
            for i, v in enumerate(x):
                if shape(v) not in seen:
                    seen.add(shape(v))
                    yield from paths(v, (*pre, i))

    for p in paths(doc):
        for value in [*WRONG, DELETE]:
            d = copy.deepcopy(doc)
            parent = d
            for k in p[:-1]:
                parent = parent[k]
            if value is DELETE:
                if not isinstance(parent, dict):
                    continue
                del parent[p[-1]]
            else:
                parent[p[-1]] = value
            yield p, value, d


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The engine fixture's map (copied, with its hand-off), a trace and a session."""
    folder = tmp_path_factory.mktemp("walked")
    for f in ENGINE.glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    (folder / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    dm = load_map(str(folder / "main.yaml"))
    trace = run_answers(dm, load_answers(str(folder / "answers.yaml"), dm), "answers.yaml")
    assert trace.steps and any(s.scope for s in trace.steps)
    (folder / "trace.json").write_text(trace.dumps(), encoding="utf-8")
    from decision_map.model.decision import Ballot
    from decision_map.walk.engine import Walk

    walk = Walk(dm, ["Ana", "Ben", "Cy"])
    for votes in (["yes", "yes", "no"], [10, 10, 5], ["yes", "yes", "yes"]):
        walk.submit([Ballot(m, v) for m, v in zip(walk.group, votes, strict=True)])
    session = Session.start(dm, walk.group)
    session.update_from(walk)
    session.set_aside.append({"at": "then", "reason": "a change", "submissions": []})
    save(session, folder / "session.json")
    return folder, dm


# ---------------------------------------------------------------- the class: traces


def test_every_single_field_mutation_of_a_trace_is_refused_in_one_line_or_reads_whole(
        walked):
    folder, dm = walked
    doc = json.loads((folder / "trace.json").read_text(encoding="utf-8"))
    path = folder / "mutated-trace.json"
    refused = read = 0
    for where, value, d in mutations(doc):
        path.write_text(json.dumps(d), encoding="utf-8")
        try:
            trace = read_trace(path)
        except InputError as e:
            msg = str(e)
            assert "\n" not in msg and msg.startswith(str(path)), (where, value, msg)
            refused += 1
            continue
        read += 1
        try:  # what was read is safe for every reader: the report (HTML shares its
            # context with Markdown) and the pictures
            report_markdown(dm, trace, "p.svg")
            picture(dm, trace, "dot")
            picture(dm, trace, "mmd")
        except DecisionMapError as e:  # refused on purpose (another map): one line
            assert "\n" not in str(e), (where, value, str(e))
        except Exception as e:  # pragma: no cover - the failure message says which
            pytest.fail(f"{where} = {value!r} was read but broke a reader: {e!r}")
    assert refused > 500 and read > 50  # both sides are exercised


def test_every_single_field_mutation_of_a_session_is_refused_in_one_line_or_resumes(
        walked):
    folder, dm = walked
    doc = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    path = folder / "mutated-session.json"
    refused = resumed = 0
    for where, value, d in mutations(doc):
        path.write_text(json.dumps(d), encoding="utf-8")
        try:
            session = load_session(path)
            got = resume(session, str(path), folder / "main.yaml")
        except SessionError as e:
            msg = str(e)
            assert "\n" not in msg and msg.startswith(str(path)), (where, value, msg)
            refused += 1
            continue
        resumed += 1
        json.dumps(session.to_json())  # and it can be saved again
        assert got.walk.trace is not None
    assert refused > 100 and resumed > 50


@pytest.mark.parametrize("text", [
    "[" * 100_000,  # RecursionError in the JSON parser
    '{"format": 2, "map": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}",  # parses; too deep
])
@pytest.mark.parametrize("command", ["report", "render", "step"])
def test_deeply_nested_json_is_one_line(cli, tmp_path, walked, text, command):
    folder, _ = walked
    f = tmp_path / "deep.json"
    f.write_text(text.replace('"format": 2', '"format": "decision-map-session"')
                 if command == "step" else text, encoding="utf-8")
    args = {"report": ["report", str(f), "-o", str(tmp_path / "r.md")],
            "render": ["render", str(folder / "main.yaml"), "--trace", str(f), "-o",
                       str(tmp_path / "p.dot")],
            "step": ["step", "--resume", str(f)]}[command]
    one_line(cli(*args), str(f))


def test_a_wrong_typed_session_field_through_step_resume(cli, tmp_path, walked):
    folder, _ = walked
    doc = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    doc["submissions"][0]["ballots"][0]["member"] = ["Ana"]
    f = tmp_path / "s.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    one_line(cli("step", "--resume", str(f)), str(f), "submissions[0].ballots[0].member")


# ---------------------------------------------------------------- numbers


NUMBER_MAP = """\
id: numbers
title: Numbers
version: "1"
start: hours
nodes:
  hours:
    ask: How many hours?
    number: {aggregate: sum%s}
    branches:
      - when: {gte: %s}
        next: lots
    otherwise: few
  lots: {outcome: Lots, next_steps: [Plan]}
  few: {outcome: Few, next_steps: [Wait]}
"""


@pytest.mark.parametrize("extra, bound", [
    (", min: nan", "10"), (", max: nan", "10"), ("", "nan"), ("", "1e400"),
    (", max: -inf", "10"),
])
def test_a_bound_that_is_not_a_finite_number_is_refused_by_check(cli, tmp_path, extra, bound):
    f = tmp_path / "m.yaml"
    f.write_text(NUMBER_MAP % (extra, bound), encoding="utf-8")
    r = cli("check", str(f))
    assert r.returncode == 1 and "DM100" in r.stdout and "finite" in r.stdout, r.stdout


def test_two_huge_votes_are_refused_not_summed_into_an_overflow(cli, tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(NUMBER_MAP % ("", "10"), encoding="utf-8")
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"group": ["Ana", "Ben"],
                             "answers": {"hours": {"Ana": 1e308, "Ben": 1e308}}}))
    one_line(cli("run", str(f), str(a)), "too large", "from Ana")


# ---------------------------------------------------------------- files


def test_outputs_that_cannot_be_written_name_the_file(cli, tmp_path, walked):
    folder, _ = walked
    (tmp_path / "dir.svg").mkdir()
    (tmp_path / "dir.json").mkdir()
    main, answers = str(folder / "main.yaml"), str(folder / "answers.yaml")
    one_line(cli("render", main, "-o", str(tmp_path / "dir.svg")), "dir.svg", "folder")
    one_line(cli("run", main, answers, "--trace", str(tmp_path / "dir.json")), "dir.json",
             "folder")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        # root writes anywhere on an ordinary folder: /sys refuses even root
        where = locked if os.geteuid() != 0 else Path("/sys")
        target = str(where / "t.json")
        one_line(cli("run", main, answers, "--trace", target), target, "cannot write")
        one_line(cli("report", str(folder / "trace.json"), "-o", str(where / "r.html")),
                 str(where / "r.html"), "cannot write")
    finally:
        locked.chmod(0o755)


def test_new_into_a_missing_folder_or_onto_a_folder_is_one_line(cli, tmp_path):
    one_line(cli("new", str(tmp_path / "nothere" / "m.yaml")), "nothere", "folder")
    one_line(cli("new", str(tmp_path)), "is a folder")


@pytest.mark.parametrize("name", ["coalición.yaml", "連合.yaml", "_two words_.yaml"])
def test_new_with_any_file_name_writes_a_map_that_passes_check(cli, tmp_path, name):
    f = tmp_path / name
    assert cli("new", str(f)).returncode == 0
    r = cli("check", str(f))
    assert r.returncode == 0, r.stdout


def test_a_group_file_that_is_not_utf8_is_one_line(cli, tmp_path):
    g = tmp_path / "group.txt"
    g.write_bytes(b"Ana\n\xff\xfeBen\n")
    one_line(cli("step", str(ENGINE / "main.yaml"), "--group-file", str(g)), str(g))


# ---------------------------------------------------------------- escapes in error lines


ESC_MAP = """\
id: esc
title: Escapes
version: "1"
start: goal
nodes:
  goal:
    ask: Goal?
    choices:
      "y\\e]52;c;aGk=\\aes": route
      no: done
    otherwise: done
  route:
    check:
      - when: {answer: goal, is: maybe}
        next: done
    otherwise: done
  done:
    outcome: Done
    text: "{{ '{:\\e]8;;http://x\\e\\\\}'.format(1) }}"
    next_steps: [Go]
"""
EVIL = "B\x1b]52;c;aGk=\x07en"


def test_choice_values_in_check_errors_are_cleaned(cli, tmp_path):
    f = tmp_path / "esc.yaml"
    f.write_text(ESC_MAP, encoding="utf-8")
    r = cli("check", str(f))
    assert r.returncode == 1 and "DM110" in r.stdout
    assert not any(e in r.stdout for e in ESCAPES), r.stdout


def test_member_names_and_python_text_in_error_lines_are_cleaned(cli, tmp_path):
    f = tmp_path / "esc.yaml"
    f.write_text(ESC_MAP.replace("      - when: {answer: goal, is: maybe}\n",
                                 "      - when: {answer: goal, is: no}\n"), encoding="utf-8")
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"group": ["Ana", EVIL], "answers": {"goal": {
        "Ana": "no", EVIL: "maybe"}}}))
    one_line(cli("run", str(f), str(a)), "from B]52;c;aGk=en")
    csv = tmp_path / "r.csv"
    csv.write_text(f'grp,member,goal\ng1,"{EVIL}",maybe\n', encoding="utf-8")
    one_line(cli("run", str(f), "--responses", str(csv), "--group-by", "grp",
                 "--member-column", "member"), "from B]52;c;aGk=en")
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"group": ["Ana"], "answers": {"goal": "no"}}))
    one_line(cli("run", str(f), str(ok)), "template failed", "Invalid format specifier")


def test_the_map_path_of_a_session_or_a_trace_is_cleaned(cli, tmp_path, walked):
    folder, _ = walked
    gone = str(tmp_path / "gone\x1b]8;;http://x\x1b\\.yaml")
    s = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    s["map"]["path"] = gone
    (tmp_path / "s.json").write_text(json.dumps(s), encoding="utf-8")
    one_line(cli("step", "--resume", str(tmp_path / "s.json")), "not there")
    t = json.loads((folder / "trace.json").read_text(encoding="utf-8"))
    t["map"]["path"] = gone
    (tmp_path / "t.json").write_text(json.dumps(t), encoding="utf-8")
    one_line(cli("report", str(tmp_path / "t.json"), "-o", str(tmp_path / "r.md")),
             "not there")


# ---------------------------------------------------------------- --json stops


def test_a_walk_that_stops_under_json_says_why_on_stderr(cli, walked):
    folder, _ = walked  # the answers object at red-lines every time, and with no otherwise
    # there (the looping question's way on past the bound) the walk stops
    main = (folder / "main.yaml").read_text(encoding="utf-8")
    stuck = main.replace("    on_block: dissent\n    otherwise: network\n",
                         "    on_block: dissent\n")
    assert stuck != main
    (folder / "stuck.yaml").write_text(stuck, encoding="utf-8")
    a = str(folder / "answers.yaml")
    r = cli("run", str(folder / "stuck.yaml"), a, "--json")
    one_line(r, a, "the walk stopped", "revisits")
    assert "revisits" in json.loads(r.stdout)["stopped"]
