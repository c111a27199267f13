"""A picture a room can read: the neighbourhood of a step is legible on a 1080p projector,
the poster's pages are A4 at a readable size, and merged edge labels are listed."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from decision_map_render.around import MIN_PX, around, around_step, svg_size
from decision_map_render.diagram import build
from decision_map_render.draw import picture
from decision_map_render.pages import A4, poster
from decision_map_render.report import report_html
from decision_map_render.segments import PAGE, path_pieces
from pypdf import PdfReader

from decision_map.io.loader import load_map
from decision_map.walk.scenarios import default_scenarios, run_scenarios

A4_MIN_PT = 8  # the smallest text on a printed page


def first_walk(path: Path):
    """The map and the trace of its first scenario (a real group's walk)."""
    dm = load_map(str(path))
    return dm, run_scenarios(dm, default_scenarios(str(path))).results[0].trace


def test_around_every_step_is_legible_on_a_1080p_projector(shipped_map):
    dm, trace = first_walk(shipped_map)
    for n in range(1, len(trace.steps) + 1):
        size = svg_size(around_step(dm, trace, n))
        assert size.text_px((1920, 1080)) >= MIN_PX == 18, (shipped_map.stem, n, size)


def test_the_whole_path_on_one_screen_is_not_legible(coalition_path):
    """Why --around exists: the coalition path drawn whole is far below 18 px."""
    dm, trace = first_walk(coalition_path)
    size = svg_size(picture(dm, trace, "svg").data)
    assert size.text_px((1920, 1080)) < 5


def test_around_folds_the_path_so_far_and_looks_ahead(coalition_path):
    dm, trace = first_walk(coalition_path)
    s = trace.steps[11]
    d = around(dm, trace, s.scope, s.node, before=12, levels=2)
    history = d.node("history")
    assert history.listing[-1].startswith("11. ")  # the latest step before this one
    assert len(history.listing) <= 9
    now = [n for n in d.nodes if n.title.startswith("Now: ")]
    assert [n.key for n in now] == [s.node]
    assert len(d.nodes) < len(build(dm, trace).nodes) // 3


def test_no_empty_path_box_before_the_first_vote(coalition_path):
    """At the first question only the welcome has been read out: the projector shows the
    question and what follows, not an empty "The path so far:" box."""
    dm, trace = first_walk(coalition_path)
    s = next(s for s in trace.steps if s.kind != "info")
    assert trace.steps[0].kind == "info"  # the welcome came first
    d = around(dm, trace, s.scope, s.node, before=trace.steps.index(s) + 1, levels=2)
    assert all(n.id != "history" for n in d.nodes)
    assert any(n.title.startswith("Now: ") for n in d.nodes)


def test_poster_pages_are_a4_with_readable_text(shipped_map):
    dm, trace = first_walk(shipped_map)
    pdf = PdfReader(io.BytesIO(poster(dm, trace)))
    for page in pdf.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4
    # the poster is drawn at 100 %: its smallest text is the drawing's, in points
    assert svg_size(picture(dm, trace, "svg").data).smallest_font >= A4_MIN_PT
    if shipped_map.stem == "coalition-formation":
        assert len(pdf.pages) > 1


def test_merged_edge_labels_are_listed_one_a_line(coalition_path):
    d = build(load_map(str(coalition_path)))
    merged = [e for e in d.edges if len(e.kinds) > 1 and e.label]
    assert merged, "the coalition map has two routes to one place"
    # "no agreement" and "otherwise" are two lines, not "no agreement, otherwise"
    assert any(e.label.split("\n") == ["• no agreement", "• otherwise"] for e in merged)


def test_render_around_and_pages_on_the_command_line(tmp_path, cli, one_line_error,
                                                     coalition_path):
    dm, trace = first_walk(coalition_path)
    tf = tmp_path / "walk.json"
    tf.write_text(trace.dumps())
    png = tmp_path / "around.png"
    r = cli("render", str(coalition_path), "--trace", str(tf), "--around", "12", "-o", str(png))
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"
    line = one_line_error(cli("render", str(coalition_path), "--trace", str(tf),
                              "--around", "999", "-o", str(png)))
    assert "there is no step 999" in line
    line = one_line_error(cli("render", str(coalition_path), "--around", "2", "-o", str(png)))
    assert "--trace or --answers" in line
    pdf = tmp_path / "poster.pdf"
    r = cli("render", str(coalition_path), "--trace", str(tf), "--pages", "-o", str(pdf))
    assert r.returncode == 0, r.stderr
    assert len(PdfReader(str(pdf)).pages) > 1
    line = one_line_error(cli("render", str(coalition_path), "--pages", "-o", str(png)))
    assert "--pages writes a .pdf" in line


def test_stepper_map_draws_around_the_current_question(tmp_path, exe, step_env, root,
                                                      picnic_path):
    sess = tmp_path / "m.json"
    env = dict(step_env)
    r = subprocess.run([exe, "step", str(picnic_path), "--group", "Ana, Ben, Cy",
                        "--session", str(sess)], input="yes\nyes\nno\n\nmap\nquit\n", env=env,
                       capture_output=True, text=True, timeout=60, cwd=str(root))
    assert r.returncode == 0, r.stderr
    assert "Picture of where we are and what comes next" in r.stdout
    svg = (tmp_path / "m-path.svg").read_text()
    # at the first question only the read-out came before: no empty "path so far" box
    assert "Now: " in svg and "The path so far:" not in svg


def test_the_reports_printed_path_is_in_pieces_legible_on_a4(shipped_map):
    dm, trace = first_walk(shipped_map)
    pieces = path_pieces(dm, trace)
    assert pieces
    for data in pieces:
        size = svg_size(data)
        scale = min(PAGE[0] / size.width, PAGE[1] / size.height, 1.0)
        assert scale * size.smallest_font >= A4_MIN_PT, (shipped_map.stem, size)
    html = report_html(dm, trace)
    assert html.count('class="piece"') == len(pieces)
    assert "has-pieces" in html


def test_handout_of_each_shipped_map_fits_two_a4_pages(shipped_map, tmp_path, cli):
    pdf = tmp_path / "handout.pdf"
    r = cli("handout", str(shipped_map), "-o", str(pdf))
    assert r.returncode == 0, r.stderr
    pages = PdfReader(str(pdf)).pages
    assert 1 <= len(pages) <= 2
    text = "\n".join(p.extract_text() for p in pages)
    assert "The questions, in order" in text and "The outcomes" in text
    page = tmp_path / "handout.html"
    assert cli("handout", str(shipped_map), "-o", str(page)).returncode == 0
    doc = page.read_text()
    assert "<h2>The outcomes</h2>" in doc and "@page { size: A4" in doc
