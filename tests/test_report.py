"""Reports of a walk: hostile text stays text, the charter is filled, templates fail clearly.

Also the sandbox that runs map authors' outcome texts refuses what it must.
"""

from __future__ import annotations

import doctest
import html
import re
import time
from pathlib import Path

import decision_map_render.report as report_mod
import pytest
from decision_map_render.report import (
    CHARTER_QUESTIONS,
    CHARTER_SECTIONS,
    ReportError,
    all_maps,
    md_escape,
    render_template,
    report_html,
    report_markdown,
    safe_svg,
)
from markdown_it import MarkdownIt

from decision_map.io.loader import load_map
from decision_map.model.decision import Ballot
from decision_map.templating import TemplateError, render_text
from decision_map.walk.engine import run

DAY = "2025-05-01"

SCRIPT = "<script>alert(1)</script>"
MUSTACHE = "{{ 7*7 }}"
LINK = "](javascript:x)"
ESC = "\x1b[31m"
HOSTILE = f"{SCRIPT} {MUSTACHE} {LINK} {ESC}"
MEMBERS = [SCRIPT, MUSTACHE, LINK, f"Eve{ESC}"]

HOSTILE_MAP = f"""\
id: hostile
title: "Hostile {SCRIPT} {MUSTACHE} [x](javascript:x)"
version: "1"
start: charter-problem
nodes:
  charter-problem:
    ask: "Q1 {SCRIPT} {MUSTACHE} {LINK} # heading"
    text: one
    next: charter-for-against
  charter-for-against:
    ask: "Q2 <img src=x onerror=alert(1)>"
    text: each
    next: agree
  agree:
    ask: "Q3 {SCRIPT} {MUSTACHE} [link](javascript:x)"
    rule: consensus
    choices:
      yes: done
      no: done
    on_block: agree
  done:
    outcome: "Done {SCRIPT}"
    verdict: done
    text: "{{{{ group | join(', ') }}}} agreed. {SCRIPT} {LINK}"
    next_steps:
      - "Step {SCRIPT} [x](javascript:x)"
"""


def _hostile_walk(tmp_path: Path):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE_MAP, encoding="utf-8")
    dm = load_map(str(path))

    def source(pos):
        if pos.node_id == "charter-problem":
            return [Ballot(MEMBERS[0], HOSTILE)]
        if pos.node_id == "charter-for-against":
            return [Ballot(m, f"words of {m}: {HOSTILE}") for m in MEMBERS]
        if pos.visit == 1:
            return [Ballot(MEMBERS[0], "block", f"reason {HOSTILE}")] + [
                Ballot(m, "yes") for m in MEMBERS[1:]]
        return [Ballot(m, "yes") for m in MEMBERS]

    trace = run(dm, MEMBERS, source)
    assert trace.outcome == "done"
    assert any(s.decision and s.decision.blocks for s in trace.steps)
    return dm, trace


@pytest.fixture(scope="module")
def coalition(coalition_walk):
    return coalition_walk(0)


# ---------------------------------------------------------------- hostile text


def test_hostile_text_is_escaped_in_html(tmp_path):
    dm, trace = _hostile_walk(tmp_path)
    doc = report_html(dm, trace, date=DAY)
    assert "<script" not in doc.lower()          # not the author's, and the report has none
    assert "<img" not in doc.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert "&lt;img src=x onerror=alert(1)&gt;" in doc
    assert "\x1b" not in doc
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript", doc, re.I)
    # {{ 7*7 }} is printed as written wherever it came from, never evaluated
    assert doc.count(MUSTACHE) >= 6
    assert ">49<" not in doc and " 49 " not in doc
    # block reasons, charter texts and member names all arrive (escaped)
    assert "reason &lt;script&gt;" in doc
    assert "words of {{ 7*7 }}: &lt;script&gt;" in doc
    assert "<li>](javascript:x)</li>" in doc


def test_hostile_text_is_escaped_in_markdown(tmp_path):
    dm, trace = _hostile_walk(tmp_path)
    md = report_markdown(dm, trace, "hostile report-path.svg", date=DAY)
    assert "\x1b" not in md
    assert not re.search(r"(?<!\\)<(?!$)", md)       # every < from the author is \<
    assert not re.search(r"(?<!\\)\]\(", md.replace("](hostile%20report-path.svg)", ""))
    assert "{{" not in md and "}}" not in md         # no Liquid/Jinja for site generators
    assert r"\{\{ 7\*7 \}\}" in md
    assert r"\<script\>alert(1)\</script\>" in md
    # rendered as CommonMark (raw HTML allowed), the author's text stays text
    out = MarkdownIt("commonmark").render(md)
    assert "<script" not in out.lower() and out.lower().count("<img") == 1
    assert "javascript" not in " ".join(re.findall(r"href=\"[^\"]*\"", out))
    assert re.findall(r"<a ", out) == []
    assert '<img src="hostile%20report-path.svg"' in out  # the one image is ours
    assert "{{ 7*7 }}" in out and " 49 " not in out and ">49<" not in out
    headings = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", out)
    assert not any(h.startswith("heading") for h in headings)


def test_md_escape_and_the_module_doctests():
    assert str(md_escape("- item")) == r"\- item"
    assert str(md_escape("a | b")) == r"a \| b"
    assert str(md_escape("![x](y)")) == r"\!\[x\](y)"
    result = doctest.testmod(report_mod)
    assert result.attempted >= 8 and result.failed == 0


def test_svg_is_inlined_safely():
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n'
           '<svg width="1pt"><g onclick="evil()"><SCRIPT type="x">evil()</SCRIPT>'
           '<a href="javascript:evil()">x</a><script>x</svg>')
    out = safe_svg(svg)
    assert out.startswith("<svg") and "DOCTYPE" not in out and "<?xml" not in out
    assert "<script" not in out.lower() and "onclick" not in out
    assert "javascript:" not in out


# ---------------------------------------------------------------- the authors' sandbox


@pytest.mark.parametrize("source, context", [
    ("{{ ''.__class__.__mro__ }}", {}),
    ("{{ x|attr('__class__') }}", {"x": ""}),
    ("{{ answers.__class__.__subclasses__() }}", {"answers": {}}),
    ("{% for i in range(10**9) %}x{% endfor %}", {}),
])
def test_outcome_text_sandbox_refuses(source, context):
    start = time.monotonic()
    with pytest.raises(TemplateError) as e:
        render_text(source, context, "map.yaml:3:5")
    assert time.monotonic() - start < 1.0
    msg = str(e.value)
    assert msg.startswith("map.yaml:3:5: ") and "\n" not in msg


def test_outcome_text_sandbox_cannot_mutate():
    with pytest.raises(TemplateError, match="sandbox|unsafe"):
        render_text("{{ group.append('x') }}", {"group": ["a"]}, "w")


# ---------------------------------------------------------------- template errors


@pytest.mark.parametrize("name", ["report.md.j2", "report.html.j2"])
def test_missing_variable_is_one_line_naming_template_and_variable(name):
    with pytest.raises(ReportError) as e:
        render_template(name, {})
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"template {name} line ")
    assert "is undefined" in msg and "'" in msg


def test_trace_of_another_map_is_refused(coalition, tmp_path):
    _, trace = coalition
    other, _ = _hostile_walk(tmp_path)
    with pytest.raises(ReportError, match="coalition-formation"):
        report_markdown(other, trace, None)


# ---------------------------------------------------------------- the coalition walk


def test_coalition_report_markdown(coalition):
    dm, trace = coalition
    md = report_markdown(dm, trace, "report-path.svg", date=DAY)
    assert md.startswith("# Should we build a coalition, and what kind?\n")
    assert "Decision map report, 2025-05-01." in md
    assert f"sha256 {dm.sha256[:12]}" in md
    assert "**The group (5):** Rosa, Malik, Priya, Tom, Dolores" in md
    assert "## Outcome: Form a coalition" in md
    assert "- [ ] Name a core group of three" in md
    assert "## The coalition charter" in md
    for n, title, _ in CHARTER_SECTIONS:
        assert f"### {n}. {title}" in md
    # the charter is the document the outcome declares, each part from adopted words
    charter = md.split("## The coalition charter")[1].split("## How we got here")[0]
    assert "Sick and Broke. Representatives: Rosa (debt collective)" in charter
    assert "Member groups: Rosa, Malik, Priya, Tom, Dolores." in charter
    assert "Debt collective: 4 hours a week and the phone-bank list" in charter
    assert "Rosa convenes and Priya coordinates" in charter
    assert "First review at 90 days, then yearly" in charter
    two = charter.split("### 2. What we want to solve")[1].split("### 3.")[0]
    assert "Stop the county hospital suing patients" in two
    # membership (6) is the proposal adopted by two-thirds, written above the vote
    six = charter.split("### 6. Membership")[1].split("### 7.")[0]
    assert "30 days' notice" in six and "Not adopted" not in charter
    # a round's raw words stay in the steps, never in the document
    assert "- **Malik:** 2 hours a week and posters" not in charter
    assert "- **Malik:** 2 hours a week and posters for every action" in md
    # steps: numbered, with the question, the proposal, tallies, stand-asides
    assert "**2. Is there a concrete goal" in md  # numbered as in the picture
    assert "1\\. Read out: *Welcome. Each person here speaks for one group" in md
    assert "26\\. Coalition or task force?: *No case holds; otherwise.*" in md
    assert 'Consensus on "yes": 4 agree, 1 stands aside (Tom).' in md
    assert "- Stood aside: Tom." in md
    assert "- Tally: yes: 4, no: 1." in md
    assert "- Decided: 16 hours a week." in md
    assert "*The proposal:*\n\n> We work by the Jemez Principles" in md
    assert "**36. Do we go ahead with the proposal on the table" in md
    assert "38\\. *Outcome: Form a coalition.*" in md
    assert "![The map with the path the group took](report-path.svg)" in md
    # golden-ish: the same walk and date give the same bytes
    assert report_markdown(dm, trace, "report-path.svg", date=DAY) == md


def test_coalition_report_html(coalition):
    dm, trace = coalition
    doc = report_html(dm, trace, date=DAY)
    text = html.unescape(doc)
    assert doc.startswith("<!DOCTYPE html>")
    assert '<h2 id="outcome">Form a coalition</h2>' in doc
    for n, title, _ in CHARTER_SECTIONS:
        assert f"<h3>{n}. {html.escape(title)}</h3>" in doc
    assert "Sick and Broke" in text and "need help translating into Spanish" in text
    assert 'Consensus on "yes": 4 agree, 1 stands aside (Tom).' in text
    assert "Not adopted" not in text  # the full walk adopts every part of the charter
    # one self-contained file: inline CSS with print rules, inline SVG, nothing fetched
    assert "@media print" in doc and "<style>" in doc
    # the picture once on screen, and in print the path in pieces legible on A4
    assert doc.count("<svg") == 1 + doc.count('class="piece"') > 2
    assert "<?xml" not in doc and "<!DOCTYPE svg" not in doc
    assert not re.search(r"<link|<script|<img|<iframe|@import|url\(|src=", doc, re.I)
    external = re.findall(r"https?://[^\"' ]+", doc)
    assert all(u.startswith("http://www.w3.org/") for u in external), external
    assert "Content-Security-Policy" in doc


def test_charter_questions_match_the_coalition_map(coalition_path):
    """The shipped coalition map declares its charter, and a question fills every part;
    the legacy charter-* sections (maps without `document:`) still cover every section
    but membership, which has no text question there."""
    from decision_map.model.documents import parts_of, split_records

    dm = load_map(str(coalition_path))
    assert dm.nodes["form-coalition"].document == "charter"
    filled = {split_records(n.records)[1] for n in dm.nodes.values()
              if getattr(n, "records", None) and n.records.startswith("charter.")}
    assert filled == set(parts_of("charter"))
    covered = {n for ns in CHARTER_QUESTIONS.values() for n in ns}
    assert covered == set(range(1, 15)) - {6}
    assert [n for n, _, _ in CHARTER_SECTIONS] == list(range(1, 15))


def test_no_charter_section_without_charter_texts(coalition_walk):
    dm, trace = coalition_walk(1)  # "no goal": not now, three steps
    md = report_markdown(dm, trace, None, date=DAY)
    assert "## Outcome: Not now; revisit when something changes" in md
    assert "charter" not in md.lower()
    assert "## The path on the map" not in md  # no picture given
    assert "We did not find a goal that matters more to us" in md


def test_steps_in_handoff_maps_show_their_own_questions(coalition_walk):
    dm, trace = coalition_walk(10)  # through common ground and working through dissent
    maps = all_maps(dm)
    assert {"common-ground", "working-through-dissent"} <= set(maps)
    md = report_markdown(dm, trace, None, date=DAY)
    doc = html.unescape(report_html(dm, trace, date=DAY))
    sub = maps["common-ground"].nodes["agreements"].ask
    first = " ".join(sub.split())[:40]
    assert first in md.replace("\\", "") and first in doc
    assert "Now walking 'A conversation on common ground'" in doc
    assert "Blocked by Dolores" in doc and "The tenants we talk about are not" in doc
    assert "(in A conversation on common ground)" in md
    assert "asked again, time 2" in md
    assert "- Tally: 2 fingers: 1, 4 fingers: 6." in md
    assert "## Outcome: Pause and repair" in md


def test_stopped_walk_says_why(coalition_path):
    dm = load_map(str(coalition_path))
    trace = run(dm, ["A", "B"], lambda pos: None, stop_at_missing=True)
    assert trace.stopped and not trace.outcome
    md = report_markdown(dm, trace, None, date=DAY)
    assert "## The walk stopped" in md
    assert report_mod.md_escape(trace.stopped) in md
    doc = report_html(dm, trace, date=DAY)
    assert "The walk stopped" in doc and "Next steps" not in doc
