"""`decision-map render` and `decision-map report`, through the real console script."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from decision_map.io.answers import answers_from_data
from decision_map.io.loader import load_map
from decision_map.io.yaml_source import parse_yaml, read_text
from decision_map.walk.engine import run

MAGIC = {
    ".svg": lambda b: b"<svg" in b[:1000],
    ".png": lambda b: b.startswith(b"\x89PNG"),
    ".pdf": lambda b: b.startswith(b"%PDF"),
    ".dot": lambda b: b.lstrip().startswith(b"digraph"),
    ".mmd": lambda b: b"flowchart" in b[:1000],
}


@pytest.fixture(scope="module")
def walk(tmp_path_factory, coalition_path, coalition_scenarios):
    """The five-member coalition case: its answers file and its trace."""
    folder = tmp_path_factory.mktemp("walk")
    data, pos = parse_yaml(read_text(str(coalition_scenarios)), str(coalition_scenarios))
    case = {k: data["cases"][0][k] for k in ("group", "answers")}
    answers = folder / "answers.yaml"
    answers.write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False),
                       encoding="utf-8")
    m = load_map(str(coalition_path))
    a = answers_from_data(case, pos, m)
    trace = run(m, a.group, a.source(m.id))
    assert trace.outcome == "form-coalition"
    trace_file = folder / "trace.json"
    trace_file.write_text(trace.dumps(), encoding="utf-8")
    return answers, trace_file


# ---------------------------------------------------------------- render


@pytest.mark.parametrize("suffix", sorted(MAGIC))
def test_render_every_format_with_a_trace(walk, tmp_path, suffix, cli, coalition_path):
    _, trace = walk
    out = tmp_path / f"map{suffix}"
    p = cli("render", str(coalition_path), "--trace", str(trace), "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"wrote {out}"
    assert MAGIC[suffix](out.read_bytes())


def test_render_with_answers_walks_first(walk, tmp_path, cli, coalition_path):
    answers, trace = walk
    a, b = tmp_path / "a.dot", tmp_path / "b.dot"
    assert cli("render", str(coalition_path), "--answers", str(answers),
               "-o", str(a)).returncode == 0
    assert cli("render", str(coalition_path), "--trace", str(trace), "-o", str(b)).returncode == 0
    assert a.read_text() == b.read_text()  # the same walk, the same picture
    plain = tmp_path / "plain.dot"
    assert cli("render", str(coalition_path), "-o", str(plain)).returncode == 0
    assert plain.read_text() != a.read_text()


def test_render_with_partial_answers_draws_the_path_so_far(walk, tmp_path, cli, coalition_path):
    answers, _ = walk
    case = yaml.safe_load(answers.read_text(encoding="utf-8"))
    kept = dict(list(case["answers"].items())[:3])  # the group stopped after three questions
    partial = tmp_path / "partial.yaml"
    partial.write_text(yaml.safe_dump({"group": case["group"], "answers": kept},
                                      allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "so-far.dot"
    p = cli("render", str(coalition_path), "--answers", str(partial), "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[1].startswith("the path is drawn as far as it goes: No answer")
    full = tmp_path / "full.dot"
    assert cli("render", str(coalition_path), "--answers", str(answers),
               "-o", str(full)).returncode == 0
    assert out.read_text().count("penwidth") < full.read_text().count("penwidth")


def test_render_focus_switch(walk, tmp_path, cli, coalition_path):
    _, trace = walk
    whole, focus = tmp_path / "whole.dot", tmp_path / "focus.dot"
    assert cli("render", str(coalition_path), "--trace", str(trace), "--no-focus",
              "-o", str(whole)).returncode == 0
    assert cli("render", str(coalition_path), "--trace", str(trace), "--focus",
              "-o", str(focus)).returncode == 0
    assert len(focus.read_text()) < len(whole.read_text())


def test_render_unknown_suffix_is_a_usage_error(tmp_path, cli, one_line_error, coalition_path):
    p = cli("render", str(coalition_path), "-o", str(tmp_path / "map.gif"))
    assert p.returncode == 2
    line = one_line_error(p)
    assert "map.gif" in line and ".svg, .png, .pdf, .dot, .mmd" in line
    assert not (tmp_path / "map.gif").exists()


def test_render_trace_and_answers_together_is_a_usage_error(walk, tmp_path, cli, one_line_error,
                                                            coalition_path):
    answers, trace = walk
    p = cli("render", str(coalition_path), "--trace", str(trace), "--answers", str(answers),
           "-o", str(tmp_path / "x.svg"))
    assert p.returncode == 2
    assert "not both" in one_line_error(p)


def test_render_trace_of_another_map(walk, tmp_path, cli, one_line_error, root):
    _, trace = walk
    p = cli("render", str(root / "maps" / "common-ground.yaml"), "--trace", str(trace),
           "-o", str(tmp_path / "x.svg"))
    line = one_line_error(p)
    assert p.returncode == 1 and str(trace) in line and "coalition-formation" in line


# ---------------------------------------------------------------- report


def test_report_markdown_writes_the_picture_beside_it(walk, tmp_path, cli):
    _, trace = walk
    out = tmp_path / "out" / "our walk.md"
    p = cli("report", str(trace), "-o", str(out), "--date", "2025-05-01")
    assert p.returncode == 0, p.stderr
    picture = tmp_path / "out" / "our walk-path.svg"
    assert p.stdout.strip() == f"wrote {out} and {picture}"
    assert b"<svg" in picture.read_bytes()[:1000]
    md = out.read_text(encoding="utf-8")
    assert "## Outcome: Form a coalition" in md
    assert "### 14. How to amend this charter" in md
    assert "Decision map report, 2025-05-01." in md
    assert "](our%20walk-path.svg)" in md


def test_report_html(walk, tmp_path, cli, coalition_path):
    _, trace = walk
    out = tmp_path / "report.html"
    p = cli("report", str(trace), "-o", str(out), "--map", str(coalition_path))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"wrote {out}"
    doc = out.read_text(encoding="utf-8")
    assert doc.startswith("<!DOCTYPE html>") and "<svg" in doc
    assert "Form a coalition" in doc and "The coalition charter" in doc
    assert [x for x in tmp_path.iterdir()] == [out]  # nothing else written


def test_report_finds_the_map_beside_the_trace(walk, tmp_path, cli, root):
    _, trace = walk
    shutil.copytree(root / "maps", tmp_path / "maps")
    data = json.loads(trace.read_text())
    data["map"]["path"] = "maps/coalition-formation.yaml"
    (tmp_path / "t.json").write_text(json.dumps(data))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = cli("report", str(tmp_path / "t.json"), "-o", "r.html", cwd=elsewhere)
    assert p.returncode == 0, p.stderr
    assert (elsewhere / "r.html").exists()


def test_report_warns_when_the_map_changed(walk, tmp_path, cli, stderr_lines, coalition_path, root):
    _, trace = walk
    changed = tmp_path / "coalition-formation.yaml"
    changed.write_text(coalition_path.read_text(encoding="utf-8") + "\n# edited after the walk\n",
                       encoding="utf-8")
    for name in ("common-ground.yaml", "working-through-dissent.yaml"):
        shutil.copy(root / "maps" / name, tmp_path / name)
    p = cli("report", str(trace), "-o", str(tmp_path / "r.md"), "--map", str(changed))
    assert p.returncode == 0, p.stderr
    warnings = [x for x in stderr_lines(p) if "warning" in x]
    assert len(warnings) == 1
    assert warnings[0].startswith("decision-map: warning: ") and "changed" in warnings[0]
    assert (tmp_path / "r.md").exists()


def test_report_missing_trace(tmp_path, cli, one_line_error):
    missing = tmp_path / "nope.json"
    p = cli("report", str(missing), "-o", str(tmp_path / "r.md"))
    assert p.returncode == 1
    line = one_line_error(p)
    assert str(missing) in line and "no such file" in line


@pytest.mark.parametrize("content, words", [
    ("{not json", "not JSON"),
    ("[]", "not a trace"),
    ('{"map": {"id": "x"}}', "not a trace"),
    ("", "not JSON"),
])
def test_report_not_a_trace(tmp_path, content, words, cli, one_line_error):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    p = cli("report", str(bad), "-o", str(tmp_path / "r.md"))
    assert p.returncode == 1
    line = one_line_error(p)
    assert line.startswith(f"decision-map: {bad}: ") and words in line
    assert not (tmp_path / "r.md").exists()


def test_report_unknown_suffix_is_a_usage_error(walk, tmp_path, cli, one_line_error):
    _, trace = walk
    p = cli("report", str(trace), "-o", str(tmp_path / "r.pdf"))
    assert p.returncode == 2
    line = one_line_error(p)
    assert "r.pdf" in line and ".md, .html" in line


def test_report_bad_date_is_a_usage_error(walk, tmp_path, cli, one_line_error):
    _, trace = walk
    p = cli("report", str(trace), "-o", str(tmp_path / "r.md"), "--date", "May 1st")
    assert p.returncode == 2 and "YYYY-MM-DD" in one_line_error(p)


def test_report_trace_whose_map_is_gone(walk, tmp_path, cli, one_line_error):
    _, trace = walk
    data = json.loads(trace.read_text())
    data["map"]["path"] = str(tmp_path / "gone.yaml")
    t = tmp_path / "t.json"
    t.write_text(json.dumps(data))
    p = cli("report", str(t), "-o", str(tmp_path / "r.md"))
    line = one_line_error(p)
    assert p.returncode == 1 and "--map" in line and "gone.yaml" in line
