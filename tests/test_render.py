"""Render layer: diagram model, DOT, Mermaid, drawing, and golden files.

Traces are built by hand from Trace/Step/Decision, so these tests do not depend on
the engine. Regenerate the golden files with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pygraphviz
import pytest
from decision_map_render import (
    build,
    draw,
    map_svg,
    to_digraph,
    to_dot,
    to_mermaid,
    trace_svg,
    write,
)

from decision_map.errors import DecisionMapError
from decision_map.io.loader import load_map

FIX = Path(__file__).parent / "fixtures" / "render"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def main():
    return load_map(FIX / "main.yaml")


@pytest.fixture(scope="module")
def hostile():
    return load_map(FIX / "hostile.yaml")


def golden(name: str, text: str) -> None:
    path = FIX / "golden" / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote missing golden file {path.name}; check it and run again")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is meant, "
        "regenerate with UPDATE_GOLDEN=1"
    )


def layout(dot: str) -> pygraphviz.AGraph:
    g = pygraphviz.AGraph(string=dot)
    g.layout(prog="dot")
    return g


# ---------------------------------------------------------------- diagram model


def test_ids_follow_map_order_then_entered_submaps(main, main_trace):
    d = build(main, main_trace())
    keys = [(n.id, n.key, n.cluster) for n in d.nodes]
    assert [k for _, k, _ in keys[:8]] == list(main.model.nodes)
    assert [i for i, _, _ in keys] == [f"n{i}" for i in range(12)]
    assert {c for _, _, c in keys[8:]} == {"c0"}
    assert d.clusters[0].title == "Working through dissent"


def test_untraced_map_draws_handoff_as_one_box(main):
    d = build(main)
    assert len(d.nodes) == 8 and not d.clusters
    box = next(n for n in d.nodes if n.kind == "handoff")
    assert box.linked_title == "Working through dissent"
    assert "↪ Working through dissent" in box.lines()
    assert not any(n.on_path for n in d.nodes) and not any(e.taken for e in d.edges)


def test_steps_tallies_and_flags(main, main_trace):
    d = build(main, main_trace())
    by_key = {n.key: n for n in d.nodes}
    goal = by_key["goal"]
    assert goal.steps == (2, 8) and goal.steps_text == "steps 2, 8"
    assert goal.tallies == ("#2 blocked: yes 4 · 1 block", "#8 yes 4 · 1 stands aside")
    assert goal.blocked and goal.tooltip.startswith("Coalitions form")
    assert by_key["intro"].steps_text == "step 1"
    assert by_key["not-now"].on_path is False
    assert by_key["form"].verdict == "form-coalition"
    edges = {(d.node(e.source).key, d.node(e.target).key): e for e in d.edges}
    blocked = edges[("goal", "dissent")]
    assert blocked.taken and blocked.blocked and blocked.label == "blocked"
    back = edges[("dissent", "goal")]
    # a return is labelled with the other map's outcome, by title
    assert back.taken and back.loop and back.label == "Block resolved"
    assert edges[("goal", "not-now")].label == "Not yet"
    assert not edges[("goal", "not-now")].taken
    # a check's case in words, from the question's label (no id, no `=`)
    assert edges[("enough", "hopes")].label == \
        "“Do we share a goal that none of us can reach alone?”: “yes”"
    assert edges[("hours", "enough")].taken and not edges[("hours", "hopes")].taken
    assert edges[("enough", "not-now")].label == "otherwise"
    enters = edges[("dissent", "hear")]
    assert enters.enters and enters.taken and enters.times == 1
    assert edges[("amend", "resolved")].taken and not edges[("amend", "stuck")].taken


def test_focus_keeps_path_and_one_step_off(main, main_trace):
    t = main_trace()
    t.steps = t.steps[:2]  # intro, then goal blocked (walk stopped there)
    t.stopped = "blocked"
    d = build(main, t, focus=True)
    assert {n.key for n in d.nodes} == {"intro", "goal", "hours", "not-now", "dissent"}
    assert all(d.node(e.source).on_path for e in d.edges)
    assert d.focus and d.stopped == "blocked"
    assert build(main, None, focus=True).nodes == build(main).nodes  # no path: no focus


def test_trace_of_another_map_is_refused(main, main_trace):
    t = main_trace()
    t.map_id = "other"
    with pytest.raises(DecisionMapError, match="trace is of map 'other'"):
        build(main, t)


def test_submap_steps_without_entry_step_are_placed(main, main_trace):
    t = main_trace()
    t.steps = [s for i, s in enumerate(t.steps) if i != 2]  # drop the hand-off entry
    d = build(main, t)
    assert {n.key for n in d.nodes if n.cluster and n.on_path} == {"hear", "amend", "resolved"}


# ---------------------------------------------------------------- DOT


@pytest.mark.parametrize("traced", [False, True])
def test_dot_golden_and_lays_out(main, traced, main_trace):
    dot = to_dot(main, main_trace() if traced else None)
    golden(f"main{'-trace' if traced else ''}.dot", dot)
    layout(dot)


def test_dot_focus_golden(main, main_trace):
    t = main_trace()
    t.steps = t.steps[:2]
    t.stopped = "blocked"
    dot = to_dot(main, t, focus=True)
    golden("main-focus.dot", dot)
    layout(dot)


def test_dot_is_deterministic(main, main_trace):
    a = to_dot(main, main_trace())
    b = to_dot(load_map(FIX / "main.yaml"), main_trace())
    assert a == b
    assert draw(a, "svg") == draw(b, "svg")


def test_dot_styles(main, main_trace):
    dot = to_dot(main, main_trace())
    assert "shape=box3d" in dot and "shape=diamond" in dot and "shape=note" in dot
    assert "shape=doubleoctagon" in dot and 'style="rounded,filled"' in dot
    assert re.search(r'n1 -> n2 \[label=blocked color="#c5221f"', dot)
    assert re.search(r'n1 -> n7 \[label="Not yet" color="#9aa0a6".*style=dashed', dot)
    assert "constraint=false" in dot  # the loop back does not pull the layout
    assert "subgraph cluster_legend" in dot and "not taken" in dot
    assert "subgraph cluster_c0" in dot
    # two verdicts in the top map get two different fills
    fills = set(re.findall(r'fillcolor="(#[0-9a-f]+)" fontcolor="#6b7075" shape=doubleoctagon',
                           dot))
    fills |= set(re.findall(r'fillcolor="(#[0-9a-f]+)" penwidth=2.5 shape=doubleoctagon', dot))
    assert len(fills) >= 3


def test_to_digraph_is_a_graphviz_digraph(main):
    import graphviz

    g = to_digraph(main)
    assert isinstance(g, graphviz.Digraph)
    assert g.source == to_dot(main)


# ---------------------------------------------------------------- Mermaid


@pytest.mark.parametrize("traced", [False, True])
def test_mermaid_golden(main, traced, main_trace):
    text = to_mermaid(main, main_trace() if traced else None)
    golden(f"main{'-trace' if traced else ''}.mmd", text)


def test_mermaid_path_styles(main, main_trace):
    text = to_mermaid(main, main_trace())
    lines = text.splitlines()
    assert lines[3] == "flowchart TD"
    links = [ln for ln in lines if re.match(r"\s+n\d+ (==>|-->|-\.->)", ln)]
    assert len(links) == len(build(main, main_trace()).edges)
    taken = {i for i, ln in enumerate(links) if "==>" in ln}
    styled = set()
    for ln in lines:
        m = re.match(r"\s+linkStyle ([\d,]+) stroke:(#\w+)", ln)
        if m and m.group(2) != "#9aa0a6":
            styled |= {int(x) for x in m.group(1).split(",")}
    assert taken <= styled
    assert re.search(r"class [n\d,]*\bn1\b[n\d,]* blocked", text)
    assert "class n7,n11 faded" in text


# ---------------------------------------------------------------- drawing


@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG"),
                                            ("pdf", b"%PDF")])
def test_draw_real_formats(main, fmt, magic, main_trace):
    data = draw(to_dot(main, main_trace()), fmt)
    assert magic in data[:400]


def test_svg_has_help_tooltips(main):
    svg = map_svg(main)
    assert svg.startswith("<svg")
    assert 'xlink:title="Coalitions form around a goal no member can reach alone."' in svg


def test_trace_svg(main, main_trace):
    svg = trace_svg(main, main_trace())
    assert svg.startswith("<svg") and "steps 2, 8" in svg


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf", ".dot", ".mmd"])
def test_write_by_suffix(main, tmp_path, suffix, main_trace):
    out = write(main, main_trace(), tmp_path / f"map{suffix}")
    data = out.read_bytes()
    expect = {".svg": b"<svg", ".png": b"\x89PNG", ".pdf": b"%PDF",
              ".dot": b"digraph", ".mmd": b"flowchart TD"}[suffix]
    assert expect in data[:400]


def test_write_unknown_suffix_is_one_clear_line(main, tmp_path):
    with pytest.raises(DecisionMapError) as e:
        write(main, None, tmp_path / "map.jpeg")
    msg = str(e.value)
    assert "\n" not in msg and ".jpeg" in msg and ".svg" in msg
    assert not (tmp_path / "map.jpeg").exists()


def test_draw_rejects_bad_dot_and_format():
    with pytest.raises(DecisionMapError):
        draw("digraph { a -> }", "svg")
    with pytest.raises(DecisionMapError, match="cannot draw 'gif'"):
        draw("digraph { a }", "gif")


def test_drawing_needs_no_graphviz_executable(tmp_path):
    """SVG, PNG and PDF from the real command with a PATH that holds no `dot`: the
    layout runs in-process, from the library pygraphviz's wheel carries."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    bin_dir = Path(sys.executable).parent
    assert not (bin_dir / "dot").exists()
    env = {**os.environ, "PATH": str(bin_dir)}
    fixture = Path(__file__).parent / "fixtures" / "engine" / "main.yaml"
    magic = {".svg": b"<svg", ".png": b"\x89PNG", ".pdf": b"%PDF"}
    for suffix, head in magic.items():
        out = tmp_path / f"map{suffix}"
        p = subprocess.run([str(bin_dir / "decision-map"), "render", str(fixture), "-o",
                            str(out)], env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert head in out.read_bytes()[:600]


# ---------------------------------------------------------------- hostile labels

HOSTILE_BITS = ['"this"', "\\ backslash", "<b>bold</b>", "] bracket [x]", "end --> arrow",
                "| pipe", "%% comment", "`tick`", "& amp", "#quot; entity?"]


@pytest.mark.parametrize("traced", [False, True])
def test_hostile_dot_lays_out_and_shows_text_literally(hostile, traced, hostile_trace):
    from html import unescape

    dot = to_dot(hostile, hostile_trace() if traced else None)
    layout(dot)
    svg = draw(dot, "svg").decode()
    texts = " ".join(unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    for bit in ["Is \"this\" a \\ backslash,", "<b>bold</b>, ] bracket [x],", "end --> arrow",
                "| pipe %% comment `tick` &", "#quot; entity?", "Second line",
                "end --> \"x\" | y ]", "Outcome ]) with \"quotes\" and", "<script>",
                "%% not a comment", "no|pipe"]:
        assert bit in texts, bit
    assert "Help with \"quotes\" <i>tags</i> & \\n not a newline" in unescape(svg)


def test_hostile_mermaid_labels_are_escaped(hostile, hostile_trace):
    text = to_mermaid(hostile, hostile_trace())
    golden("hostile-trace.mmd", text)
    body = text.split("flowchart TD\n", 1)[1]
    for line in body.splitlines():
        s = line.strip()
        m = re.match(r'^n\d+(\(|\{|>|\[\[|\(\[)"(.*)"(\)|\}|\]|\]\]|\]\))$', s)
        if m:
            inner = m.group(2)
            assert '"' not in inner and "[" not in inner and "]" not in inner, s
            assert "<" not in inner.replace("<br/>", ""), s
            assert "`" not in inner and "|" not in inner and "%%" not in inner, s
        m = re.match(r'^n\d+ \S+\|"(.*)"\| n\d+$', s)
        if m:
            assert not re.search(r'["|<>\[\]`]', m.group(1)), s
    assert "--#gt; arrow" in text and "#37;#37;" in text and "%%" not in body


def test_hostile_golden_dot(hostile, hostile_trace):
    dot = to_dot(hostile, hostile_trace())
    golden("hostile-trace.dot", dot)


# ---------------------------------------------------------------- size and layering


def test_auto_focus_on_big_traced_maps():
    from decision_map_render.draw import FOCUS_THRESHOLD, auto_focus, render

    from bench.gen import generated_map, guided_trace

    big = generated_map(FOCUS_THRESHOLD + 20)
    trace = guided_trace(big)
    assert auto_focus(big, trace) and not auto_focus(big, None)
    small = generated_map(50)
    assert not auto_focus(small, guided_trace(small))
    focused = render(big, trace, "dot").decode()
    whole = render(big, trace, "dot", focus=False).decode()
    assert focused.count("shape=") < whole.count("shape=")
    assert "(focus on the path)" in focused
    layout(focused)


def test_render_never_imports_the_cli():
    src = Path(__file__).parent.parent / "render"
    for py in sorted(src.glob("*.py")):
        text = py.read_text(encoding="utf-8")
        assert "decision_map.cli" not in text and "from decision_map import cli" not in text, py
