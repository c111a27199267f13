"""The real console script, run as a user runs it: exit codes, one-line errors, outputs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

from decision_map.io.schema import SCHEMA_FILE, map_schema
from decision_map.io.yaml_source import parse_yaml

FIX = Path(__file__).parent / "fixtures" / "engine"


# ---------------------------------------------------------------- check, schema, new


def test_check_passes_on_every_shipped_map(cli, shipped_maps):
    assert len(shipped_maps) >= 3
    p = cli("check", "--strict", *map(str, shipped_maps))
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(shipped_maps)} maps checked: 0 error(s), 0 warning(s)" in p.stdout


def test_check_reports_located_errors_and_json(tmp_path, cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text('id: b\ntitle: B\nversion: "1"\nstart: q\nnodes:\n'
                   '  q: {ask: Go?, choices: {yes: nowhere}, otherwise: end}\n'
                   '  end: {outcome: End}\n')
    p = cli("check", str(bad))
    assert p.returncode == 1
    assert f"{bad}:6:32: error DM101: node 'q': next node 'nowhere' does not exist" in p.stdout
    p = cli("check", "--format", "json", str(bad))
    data = json.loads(p.stdout)
    codes = {(d["code"], d["line"], d["col"]) for d in data["diagnostics"]}
    assert ("DM101", 6, 32) in codes and ("DM114", 7, 3) in codes
    assert data["errors"] == 1 and data["warnings"] == 1


def test_strict_turns_warnings_into_errors(tmp_path, cli):
    m = tmp_path / "w.yaml"
    m.write_text('id: w\ntitle: W\nversion: "1"\nstart: e\nnodes:\n  e: {outcome: End}\n')
    assert cli("check", str(m)).returncode == 0
    assert cli("check", "--strict", str(m)).returncode == 1


def test_usage_errors_exit_2(cli, shipped_maps):
    assert cli("check").returncode == 2
    assert cli("check", "--format", "xml", str(shipped_maps[0])).returncode == 2
    assert cli("no-such-command").returncode == 2


def test_committed_schema_matches_the_models(cli):
    committed = json.loads(SCHEMA_FILE.read_text())
    assert committed == map_schema(), "schema drifted: run `make schema` and commit it"
    p = cli("schema")
    assert json.loads(p.stdout) == committed


def test_schema_validates_every_shipped_map(shipped_map):
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    data, _ = parse_yaml(shipped_map.read_text(), str(shipped_map))
    jsonschema.Draft7Validator(schema).validate(data)
    first = shipped_map.read_text().splitlines()[0]
    schema_line = "# yaml-language-server: $schema=../decision_map/io/decision-map.schema.json"
    assert first == schema_line


def test_schema_rejects_a_typo():
    schema = json.loads(SCHEMA_FILE.read_text())
    data = {"id": "x", "title": "X", "version": "1", "start": "e",
            "nodes": {"e": {"outcome": "E", "nex_steps": []}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(data))


def test_new_writes_a_map_that_checks_clean(tmp_path, cli, one_line_error):
    target = tmp_path / "our-map.yaml"
    p = cli("new", str(target))
    assert p.returncode == 0 and target.exists()
    assert cli("check", "--strict", str(target)).returncode == 0
    assert "already exists" in one_line_error(cli("new", str(target)))


# ---------------------------------------------------------------- run


ANSWERS = """\
group: [Ana, Ben, Cy]
answers:
  goal: yes
  hours: {Ana: 10, Ben: 5, Cy: 6}
  red-lines:
    - {Ana: yes, Ben: {vote: object, reason: "too vague"}, Cy: yes}
    - yes
  sub/talk: {tally: {yes: 2, no: 1}}
  words: {Ana: "Homes", Ben: "Parks", Cy: "Clean air"}
  final: {tally: {yes: 2, stand-aside: 1}}
"""


def test_run_prints_the_path_and_writes_a_trace(tmp_path, cli):
    a = tmp_path / "answers.yaml"
    a.write_text(ANSWERS)
    trace = tmp_path / "trace.json"
    p = cli("run", str(FIX / "main.yaml"), str(a), "--trace", str(trace))
    assert p.returncode == 0, p.stderr
    assert 'Objection from Ben: "too vague"' in p.stdout or "too vague" in p.stdout
    assert "Outcome: form [form]" in p.stdout
    assert "Draft the charter" in p.stdout
    t = json.loads(trace.read_text())
    assert t["outcome"] == "form" and t["map"]["id"] == "main"
    assert [s["node"] for s in t["steps"]].count("red-lines") == 2
    pj = cli("run", str(FIX / "main.yaml"), str(a), "--json")
    assert json.loads(pj.stdout)["outcome"] == "form"


def test_run_names_an_unanswered_question(tmp_path, cli, one_line_error):
    a = tmp_path / "answers.yaml"
    a.write_text("group: [Ana, Ben]\nanswers:\n  goal: yes\n")
    line = one_line_error(cli("run", str(FIX / "main.yaml"), str(a)))
    assert "question 'hours'" in line and "--stop-at-missing" in line
    assert line.startswith(f"decision-map: {a}: ")  # the file that lacks the answer
    p = cli("run", str(FIX / "main.yaml"), str(a), "--stop-at-missing", "--json")
    assert p.returncode == 0 and "No answer for question 'hours'" in json.loads(p.stdout)["stopped"]


@pytest.mark.parametrize("body,needle", [
    ("group: [Ana, Ben]\nanswers:\n  goal: {Ana: yes, Zed: no}\n",
     "answers.yaml:3:20: question 'goal': 'Zed' is not in the group"),
    ("group: [Ana, Ben]\nanswers:\n  goal: maybe\n",
     "answers.yaml:3:9: 'maybe' is not a choice at question 'goal'"),
    ("group: [Ana, Ben]\nanswers:\n  hours: {Ana: 80}\n",
     "answers.yaml:3:10: "),
    ("group: [Ana, Ben]\nanswers:\n  goal: {Ana: block}\n",
     "answers.yaml:3:9: "),
    ("group: [Ana, Ben]\nanswers:\n  gaol: yes\n",
     "answers.yaml:3:3: 'gaol' is not a question of map 'main' (did you mean 'goal'?)"),
    ("answers:\n  goal: yes\n", "answers.yaml:1:1: `group` must be a list"),
    ("group: [Ana\n", "answers.yaml:2:1: YAML syntax error"),
    ("", "answers.yaml:1:1: the file is empty"),
])
def test_bad_answers_files_give_one_located_line(tmp_path, body, needle, cli, one_line_error):
    a = tmp_path / "answers.yaml"
    a.write_text(body)
    line = one_line_error(cli("run", str(FIX / "main.yaml"), str(a)))
    assert needle in line, line


def test_bad_answer_values_name_the_question(tmp_path, cli, one_line_error):
    a = tmp_path / "answers.yaml"
    a.write_text("group: [Ana, Ben]\nanswers:\n  hours: {Ana: 80}\n")
    assert "'hours'" in one_line_error(cli("run", str(FIX / "main.yaml"), str(a)))
    a.write_text("group: [Ana, Ben]\nanswers:\n  goal: {Ana: block}\n")
    assert "'goal'" in one_line_error(cli("run", str(FIX / "main.yaml"), str(a)))


def test_answers_file_that_is_not_utf8(tmp_path, cli, one_line_error):
    a = tmp_path / "answers.yaml"
    a.write_bytes(b"group: [Ana]\nanswers:\n  goal: \xff\xfe\n")
    line = one_line_error(cli("run", str(FIX / "main.yaml"), str(a)))
    assert "answers.yaml:3:9" in line and "not UTF-8" in line


# ---------------------------------------------------------------- many groups


CSV = """\
chapter,member,goal,hours,red-lines,words,final,sub/talk
north,Ana,yes,10,yes,Homes,yes,
north,Ben,yes,10,yes,Parks,yes,
north,Cy,yes,5,yes,Air,stand-aside,
south,Dee,no,,,,,
south,Eli,no,,,,,
east,Fay,yes,2,yes,,,
east,Gus,yes,3,yes,,,
"""


def test_run_many_groups_from_a_csv(tmp_path, cli):
    r = tmp_path / "responses.csv"
    r.write_text(CSV)
    out = tmp_path / "results.json"
    p = cli("run", str(FIX / "main.yaml"), "--responses", str(r), "--group-by", "chapter",
           "--member-column", "member", "-o", str(out))
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    by = {g["group"]: g for g in data["groups"]}
    assert (by["north"]["outcome"], by["south"]["outcome"], by["east"]["outcome"]) == (
        "form", "not-now", "network")
    assert by["north"]["decided_at"] == "final" and by["north"]["members"] == 3
    assert data["summary"] == {"form": 1, "network": 1, "not-now": 1}
    assert "3 groups: form 1, network 1, not-now 1" in p.stdout
    csv_out = tmp_path / "results.csv"
    cli("run", str(FIX / "main.yaml"), "--responses", str(r), "--group-by", "chapter",
       "-o", str(csv_out))
    assert csv_out.read_text().splitlines()[0].startswith("group,members,outcome,verdict")


@pytest.mark.parametrize("csv_text,args,needle", [
    (CSV, ["--group-by", "chaptr"], "responses.csv:row 1: no column 'chaptr' to group by"),
    (CSV.replace("north,Ben,yes", "north,Ben,perhaps"), ["--group-by", "chapter",
                                                          "--member-column", "member"],
     "responses.csv:row 3: group 'north': 'perhaps' is not a choice at question 'goal'"),
    (CSV.replace("north,Cy,yes,5", "north,Cy,yes,99"), ["--group-by", "chapter",
                                                        "--member-column", "member"],
     "responses.csv:row 4: group 'north':"),
    ("chapter,goal\nnorth,yes,extra\n", ["--group-by", "chapter"],
     "responses.csv:row 2: more cells than columns"),
    ("", ["--group-by", "chapter"], "responses.csv: the responses file is empty"),
])
def test_bad_responses_give_one_line_with_the_row(tmp_path, csv_text, args, needle, cli,
                                                  one_line_error):
    r = tmp_path / "responses.csv"
    r.write_text(csv_text)
    out = tmp_path / "out.json"
    line = one_line_error(cli("run", str(FIX / "main.yaml"), "--responses", str(r), *args,
                             "-o", str(out)))
    assert needle in line, line
    if "group 'north'" in needle:  # one group refused: the others still get their results
        by = {g["group"]: g for g in json.loads(out.read_text())["groups"]}
        assert by["north"]["error"] == line.removeprefix("decision-map: ")
        assert by["north"]["outcome"] is None and by["south"]["outcome"] == "not-now"
    else:
        assert not out.exists()


# ---------------------------------------------------------------- paths


def test_paths_lists_routes_to_every_outcome(cli):
    p = cli("paths", str(FIX / "main.yaml"), "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert set(data["routes"]) == {"form", "network", "not-now"}
    assert ["goal = yes", "hours: >= 10", "red-lines = yes", "words", "route: case 1",
            "final = yes"] in [[s for s in r if s != "intro"] for r in data["routes"]["form"]]
    assert data["unreached"] == [] and not data["capped"]
    assert isinstance(data["impossible_branches"], int)


def test_paths_cap_stops_a_blow_up(tmp_path, cli):
    nodes = []
    for i in range(30):
        nodes.append(f"  q{i}: {{ask: Q{i}?, choices: {{a: q{i + 1}, b: q{i + 1}}}, "
                     f"otherwise: q{i + 1}}}")
    nodes.append("  q30: {outcome: End, next_steps: [x]}")
    m = tmp_path / "wide.yaml"
    m.write_text('id: w\ntitle: W\nversion: "1"\nstart: q0\nnodes:\n' + "\n".join(nodes) + "\n")
    p = cli("paths", str(m), "--cap", "500")
    assert p.returncode == 0
    assert "Stopped after 500 routes in all" in p.stdout


def test_paths_on_the_shipped_maps(cli, shipped_maps):
    for path in shipped_maps:
        p = cli("paths", str(path), "--json")
        assert p.returncode == 0, (path, p.stdout[-500:])
        assert json.loads(p.stdout)["unreached"] == []


def test_debug_shows_the_traceback(tmp_path, cli):
    a = tmp_path / "answers.yaml"
    a.write_text("group: [Ana]\nanswers:\n  goal: maybe\n")
    p = cli("--debug", "run", str(FIX / "main.yaml"), str(a))
    assert p.returncode != 0 and "Traceback" in p.stderr


def test_every_schema_property_has_a_description_and_examples():
    schema = json.loads(SCHEMA_FILE.read_text())
    bare = []
    for name, d in [("MapFile", schema), *schema["definitions"].items()]:
        for prop, spec in d.get("properties", {}).items():
            if not spec.get("description") or not spec.get("examples"):
                bare.append(f"{name}.{prop}")
    assert bare == []


def test_check_cache_is_used_and_never_stale(tmp_path, exe):
    cache = tmp_path / "cache"
    env = {**os.environ, "NO_COLOR": "1", "DECISION_MAP_CACHE": str(cache)}
    sub = tmp_path / "sub.yaml"
    top = tmp_path / "top.yaml"
    sub.write_text("id: sub\ntitle: S\nversion: '1'\nstart: e\nnodes:\n"
                   "  e: {outcome: Done, next_steps: [x]}\n")
    top.write_text("id: top\ntitle: T\nversion: '1'\nstart: h\nnodes:\n"
                   "  h: {map: sub.yaml, otherwise: e}\n  e: {outcome: End, next_steps: [x]}\n")

    def check() -> subprocess.CompletedProcess:
        return subprocess.run([exe, "check", str(top)], capture_output=True, text=True,
                              env=env, timeout=60)

    assert check().returncode == 0
    assert len(list((cache / "check").glob("*.json"))) == 1
    assert check().returncode == 0
    sub.write_text("id: sub\ntitle: S\nversion: '1'\nstart: e\nnodes:\n"
                   "  e: {outcome: Done, next_steps: [x], text: '{{ nope }}'}\n")
    p = check()
    assert p.returncode == 1 and "DM119" in p.stdout
    sub.unlink()
    p = check()
    assert p.returncode == 1 and "DM111" in p.stdout


def test_check_cache_keeps_only_the_newest_entries(tmp_path, exe):
    """Every edit of a map writes a new entry; the oldest go once there are too many."""
    from decision_map.check.cache import MAX_ENTRIES

    folder = tmp_path / "cache" / "check"
    folder.mkdir(parents=True)
    for i in range(MAX_ENTRIES + 20):
        old = folder / f"{i:064x}.json"
        old.write_text("{}")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    env = {**os.environ, "NO_COLOR": "1", "DECISION_MAP_CACHE": str(tmp_path / "cache")}
    p = subprocess.run([exe, "check", str(FIX / "main.yaml")], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stdout
    left = {f.name for f in folder.glob("*.json")}
    assert len(left) == MAX_ENTRIES
    assert f"{0:064x}.json" not in left and f"{20:064x}.json" not in left
    assert f"{MAX_ENTRIES + 19:064x}.json" in left
    assert any(not n.startswith("0" * 40) for n in left)  # the new entry is kept


def test_map_tests_pass_with_full_coverage_from_the_command_line(shipped_map, cli):
    p = cli("test", str(shipped_map), "--require-coverage")
    assert p.returncode == 0, p.stdout[-800:]
    assert "failed" in p.stdout and ", 0 failed" in p.stdout
    assert "(100%)" in p.stdout and "not covered" not in p.stdout


def test_map_test_reports_a_failing_case_and_what_is_not_covered(tmp_path, cli):
    s = tmp_path / "scen.yaml"
    s.write_text("cases:\n  - name: wrong on purpose\n    group: [Ana, Ben]\n"
                 "    answers: {goal: no}\n    expect: {outcome: form}\n")
    p = cli("test", str(FIX / "main.yaml"), str(s))
    assert p.returncode == 1
    assert "FAIL wrong on purpose" in p.stdout
    assert "expected outcome 'form', got 'not-now'" in p.stdout
    assert "not covered: outcome form" in p.stdout
