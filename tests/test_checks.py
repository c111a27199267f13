"""The checker: each error class, with a broken map, its code and its exact line:col."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from decision_map.check.checks import check_file

HEAD = """\
id: t
title: T
version: "1"
start: q
nodes:
"""


def diags(tmp_path: Path, body: str, name: str = "m.yaml", head: str = HEAD):
    p = tmp_path / name
    p.write_text(head + textwrap.indent(textwrap.dedent(body), "  "), encoding="utf-8")
    return [(d.code, d.severity, d.where.line, d.where.col, d.message)
            for d in check_file(str(p))]


def only(ds, code):
    found = [d for d in ds if d[0] == code]
    assert found, f"no {code} in {ds}"
    return found


def test_clean_map_has_no_diagnostics(tmp_path):
    assert diags(tmp_path, """\
      q:
        ask: Go?
        choices: {yes: a, no: b}
        otherwise: b
      a: {outcome: A, verdict: a, next_steps: [x]}
      b: {outcome: B, verdict: b, next_steps: [y]}
    """) == []


def test_missing_next_node_with_did_you_mean(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        choices:
          yes: done
          no: stopp
        otherwise: stop
      done: {outcome: A, next_steps: [x]}
      stop: {outcome: B, next_steps: [y]}
    """)
    (code, sev, line, col, msg), = only(ds, "DM101")
    assert (sev, line, col) == ("error", 10, 11)
    assert "'stopp' does not exist" in msg
    assert any("did you mean 'stop'" in (d.hint or "") for d in
               check_file(str(tmp_path / "m.yaml")) if d.code == "DM101")


def test_missing_start(tmp_path):
    ds = diags(tmp_path, """\
      a: {outcome: A, next_steps: [x]}
    """)
    (_, _, line, col, msg), = only(ds, "DM102")
    assert (line, col) == (4, 8) and "start node 'q'" in msg


def test_unreachable_node_is_a_warning(tmp_path):
    ds = diags(tmp_path, """\
      q:
        say: hello
        next: a
      a: {outcome: A, next_steps: [x]}
      island: {outcome: I, next_steps: [x]}
    """)
    (_, sev, line, col, msg), = only(ds, "DM103")
    assert (sev, line, col) == ("warning", 10, 3) and "'island'" in msg


def test_no_way_out_and_no_path_to_outcome(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: how many?
        number: {min: 0}
        branches:
          - when: {gte: 5}
            next: lead
        otherwise: a
      lead:
        ask: hours?
        number: {}
        branches: []
        otherwise: lead2
      lead2:
        ask: more?
        number: {}
      a: {outcome: A, next_steps: [x]}
    """)
    (_, _, line, col, msg), = only(ds, "DM104")
    assert (line, col) == (18, 3) and "'lead2' has no way out" in msg
    (_, _, line, col, _), = only(ds, "DM105")
    assert (line, col) == (13, 3)


def test_cycle_with_no_exit(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        choices: {yes: a, no: loop1}
        otherwise: a
      loop1: {say: one, next: loop2}
      loop2: {say: two, next: loop1}
      a: {outcome: A, next_steps: [x]}
    """)
    (_, _, line, col, msg), = only(ds, "DM106")
    assert (line, col) == (10, 3) and "loop1 -> loop2" in msg


def test_rule_that_can_fail_without_a_route(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        rule: consensus
        choices: {yes: a, no: b}
      a: {outcome: A, next_steps: [x]}
      b: {outcome: B, next_steps: [x]}
    """)
    (_, _, line, col, msg), = only(ds, "DM107")
    assert (line, col) == (6, 3)
    assert "blocked" in msg and "no_agreement" in msg


def test_condition_on_a_missing_answer(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        choices: {yes: c, no: c}
        otherwise: c
      c:
        check:
          - when: {answer: qq, is: yes}
            next: a
        otherwise: a
      a: {outcome: A, next_steps: [x]}
    """)
    (_, _, line, col, msg), = only(ds, "DM108")
    assert (line, col) == (12, 24) and "'qq'" in msg


def test_condition_on_an_answer_not_given_on_every_path(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        choices: {yes: maybe, no: c}
        otherwise: c
      maybe:
        ask: Sure?
        choices: {yes: c, no: c}
        otherwise: c
      c:
        check:
          - when: {answer: maybe, is: yes}
            next: a
        otherwise: a
      a: {outcome: A, next_steps: [x]}
    """)
    (_, sev, line, col, msg), = only(ds, "DM109")
    assert (sev, line, col) == ("warning", 16, 24)


def test_type_mismatches(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Words?
        text: each
        next: n
      n:
        ask: Go?
        choices: {yes: c, no: c}
        otherwise: c
      c:
        check:
          - when: {answer: q, gte: 3}
            next: a
          - when: {answer: n, is: maybe}
            next: a
        otherwise: a
      a: {outcome: A, next_steps: [x]}
    """)
    found = only(ds, "DM110")
    assert [(d[2], d[3]) for d in found] == [(16, 15), (18, 15)]
    assert "is text" in found[0][4] and "'maybe' is not a choice" in found[1][4]


def test_handoff_to_missing_map_and_missing_outcome(tmp_path):
    (tmp_path / "other.yaml").write_text(
        HEAD.replace("id: t", "id: other") + "  q: {outcome: Done, next_steps: [x]}\n")
    ds = diags(tmp_path, """\
      q:
        map: other.yaml
        returns: {finished: a}
        otherwise: a
      h2:
        map: otherr.yaml
        otherwise: a
      a: {outcome: A, next_steps: [x]}
    """)
    (_, _, line, col, msg), = only(ds, "DM112")
    assert (line, col) == (8, 15) and "no outcome 'finished'" in msg
    (_, _, line, col, msg), = only(ds, "DM111")
    assert (line, col) == (11, 10) and "'otherr.yaml' does not exist" in msg


def test_duplicate_choice_values(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        choices:
          yes: a
          yes: a
        otherwise: a
      a: {outcome: A, next_steps: [x]}
    """)
    assert ds[0][:4] == ("DM113", "error", 10, 7)
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        choices:
          yes: a
          "Yes ": a
        otherwise: a
      a: {outcome: A, next_steps: [x]}
    """)
    (_, _, line, col, _), = only(ds, "DM113")
    assert (line, col) == (10, 7)


def test_outcome_without_next_steps_is_a_warning(tmp_path):
    ds = diags(tmp_path, """\
      q: {outcome: A}
    """)
    assert ds == [("DM114", "warning", 6, 3, "outcome 'q' has no next steps")]


def test_template_naming_an_unknown_variable(tmp_path):
    ds = diags(tmp_path, """\
      q:
        outcome: A
        next_steps: [x]
        text: "{{ answerz.q }}"
    """)
    (_, _, line, col, msg), = only(ds, "DM119")
    assert (line, col) == (9, 11) and "'answerz'" in msg


def test_schema_error_points_at_the_key(tmp_path):
    ds = diags(tmp_path, """\
      q:
        ask: Go?
        choises: {yes: a}
      a: {outcome: A, next_steps: [x]}
    """)
    code, _, line, col, msg = ds[0]
    assert (code, line, col) == ("DM100", 8, 5)
    assert "unknown key 'choises'" in msg


@pytest.mark.parametrize("text,code,line,col", [
    ("id: t\n  bad: [\n", "DM001", 2, 6),
    ("id: !!python/object:os.system x\n", "DM003", 1, 5),
    ("a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
     "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", "DM004", 0, 0),
    ("id: t\nid: u\n", "DM002", 2, 1),
])
def test_yaml_level_errors(tmp_path, text, code, line, col):
    p = tmp_path / "y.yaml"
    p.write_text(text)
    (d,) = check_file(str(p))
    assert d.code == code
    if line:
        assert (d.where.line, d.where.col) == (line, col)
