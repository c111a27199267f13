"""Hostile maps: each is refused exactly (code, message, place) or made harmless.

Maps travel between coalitions and get downloaded from forums; nothing in one may run
code, exhaust the machine, read outside its folder or smuggle markup into an output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from decision_map.check.checks import check_file, check_map
from decision_map.cli.main import main
from decision_map.cli.output import clean
from decision_map.errors import MapError
from decision_map.io.loader import LoadOptions, load_map, load_text
from decision_map.io.yaml_source import Limits
from decision_map.model.decision import Ballot
from decision_map.templating import TemplateError, render_text
from decision_map.walk.engine import Walk

HEAD = "id: h\ntitle: T\nversion: '1'\nstart: q\nnodes:\n"
OK_NODES = "  q: {ask: Go?, choices: {yes: o, no: o}, otherwise: o}\n" \
           "  o: {outcome: Done, next_steps: [rest]}\n"


def refused(text: str, options: LoadOptions | None = None, file: str = "m.yaml"):
    with pytest.raises(MapError) as e:
        load_text(text, file, options)
    return e.value.diagnostic


def cli(*args: str, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out + out.err


# ---------------------------------------------------------------- YAML tags


@pytest.mark.parametrize("tagged,tag", [
    ('!!python/object/apply:os.system ["touch {p}"]',
     "tag:yaml.org,2002:python/object/apply:os.system"),
    ("!!python/name:os.system", "tag:yaml.org,2002:python/name:os.system"),
    ("!!python/object/new:os.system [touch {p}]", "tag:yaml.org,2002:python/object/new:os.system"),
    ("!foo bar", "!foo"),
    ("!!binary aGk=", "tag:yaml.org,2002:binary"),
])
def test_object_building_tags_are_refused(tmp_path, tagged, tag):
    marker = tmp_path / "pwned"
    text = HEAD.replace("title: T", "title: " + tagged.format(p=marker)) + OK_NODES
    d = refused(text)
    assert (d.code, d.where.line, d.where.col) == ("DM003", 2, 8)
    assert d.message == f"the YAML tag {tag!r} is not allowed in a map"
    assert d.hint == "maps are plain data: remove the tag"
    assert not marker.exists()


def test_merge_keys_are_refused():
    d = refused(HEAD + "  base: &b {outcome: B}\n  o: {<<: *b, next_steps: [x]}\n")
    assert (d.code, d.where.line, d.where.col) == ("DM003", 7, 7)
    assert "merge keys (<<) are not allowed" in d.message


# ---------------------------------------------------------------- limits

BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                  for p, c in zip("abcdefgh", "bcdefghi", strict=True)))


def test_billion_laughs_is_refused_at_the_node_budget():
    """Refused where the expansion passes the budget, long before 10**9 nodes; how long it
    takes as a process is a `make bench` figure (bench/run.py, the alias bomb)."""
    d = refused(BOMB)
    assert d.code == "DM004"
    assert d.message == "the file expands to more than 200000 YAML nodes (an alias bomb?)"
    assert (d.where.line, d.where.col) == (6, 4)  # `f: &f [*e, ...]` passes the budget
    assert "--max-nodes" in d.hint


def test_node_limit_can_be_lowered_and_raised():
    text = HEAD + OK_NODES
    d = refused(text, LoadOptions(limits=Limits(max_nodes=10)))
    assert d.code == "DM004" and "more than 10 YAML nodes" in d.message
    assert load_text(text, "m.yaml", LoadOptions(limits=Limits(max_nodes=100))).id == "h"


def test_file_size_limit_and_how_to_raise_it(tmp_path):
    big = HEAD + OK_NODES + "# " + "x" * 3000 + "\n"
    p = tmp_path / "big.yaml"
    p.write_text(big)
    small = LoadOptions(limits=Limits(max_bytes=1000))
    with pytest.raises(MapError) as e:
        load_map(p, small)
    d = e.value.diagnostic
    assert (d.code, d.message) == ("DM004", "the file is larger than 1000 bytes")
    assert (d.where.line, d.where.col) == (1, 1) and "--max-bytes" in d.hint
    assert refused(big, small).message == "the file is larger than 1000 bytes"
    assert load_map(p, LoadOptions(limits=Limits(max_bytes=10_000))).id == "h"


def test_file_size_limit_is_checked_before_the_file_is_read_whole(tmp_path):
    p = tmp_path / "huge.yaml"
    with open(p, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB of NULs
    t0 = time.perf_counter()
    with pytest.raises(MapError) as e:
        load_map(p)
    assert time.perf_counter() - t0 < 1
    assert e.value.diagnostic.message == "the file is larger than 2097152 bytes"


def test_nesting_depth_limit_and_how_to_raise_it():
    text = "x: " + "[" * 80 + "]" * 80 + "\n"
    d = refused(text)
    assert (d.code, d.message) == ("DM004", "nesting deeper than 64 levels")
    assert (d.where.line, d.where.col) == (1, 68)
    assert "max_depth" in d.hint
    d = refused(text, LoadOptions(limits=Limits(max_depth=100)))
    assert d.code == "DM100"  # past the limit, it is just not a map


def test_nesting_past_libyamls_own_bound_is_the_same_refusal():
    d = refused("x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert (d.code, d.message) == ("DM004", "nesting deeper than 64 levels")
    assert d.where.line == 1


def test_self_referencing_alias_is_refused():
    d = refused("a: &a [1, *a]\n")
    assert (d.code, d.message) == ("DM004", "nesting deeper than 64 levels")


@pytest.mark.parametrize("text,code,fragment,line,col", [
    ("id: h\ntitle: \x1b[2J\n", "DM001", "the character U+001B is not allowed", 2, 8),
    ("id: h\ntitle: a\x00b\n", "DM001", "the character U+0000 is not allowed", 2, 9),
    ("id: h\ntitle: \ud800\n", "DM006", "lone surrogate", 2, 8),
    ("id: h\nn: " + "9" * 5000 + "\n", "DM100", "", 1, 1),  # stays text, never int()
    ("id: h\nid: i\n", "DM002", "duplicate key 'id' (first at line 1)", 2, 1),
    ("a: 1\n---\nb: 2\n", "DM001", "but found another document", 2, 1),
])
def test_malformed_yaml_is_a_located_map_error(text, code, fragment, line, col):
    d = refused(text)
    assert d.code == code and fragment in d.message
    if code != "DM100":
        assert (d.where.line, d.where.col) == (line, col)
    assert d.where.line >= 1


def test_cli_flags_raise_each_limit(tmp_path, capsys):
    p = tmp_path / "m.yaml"
    p.write_text(HEAD + OK_NODES)
    rc, out = cli("check", "--max-bytes", "50", str(p), capsys=capsys)
    assert rc == 1 and "DM004" in out and "larger than 50 bytes" in out
    rc, out = cli("check", "--max-nodes", "5", str(p), capsys=capsys)
    assert rc == 1 and "DM004" in out and "more than 5 YAML nodes" in out
    rc, out = cli("check", "--max-bytes", "5000", "--max-nodes", "500", str(p), capsys=capsys)
    assert rc == 0, out


# ---------------------------------------------------------------- hand-offs


def handoff_map(map_id: str, target: str | None) -> str:
    if target is None:
        return textwrap.dedent(f"""\
            id: {map_id}
            title: {map_id}
            version: '1'
            start: o
            nodes:
              o: {{outcome: Done, next_steps: [rest]}}
            """)
    return textwrap.dedent(f"""\
        id: {map_id}
        title: {map_id}
        version: '1'
        start: h
        nodes:
          h:
            map: {target!r}
            otherwise: o
          o: {{outcome: Done, next_steps: [rest]}}
        """)


def errors(diags):
    return [d for d in diags if d.severity == "error"]


@pytest.fixture
def outside(tmp_path):
    """A folder `maps/` with a map, and a map outside it in the parent folder."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "secret.yaml").write_text(handoff_map("secret", None))
    return tmp_path


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "symlinked-folder"])
def test_handoff_may_not_leave_the_folder(outside, how, capsys):
    maps = outside / "maps"
    if how == "absolute":
        target = str(outside / "secret.yaml")
    elif how == "dotdot":
        target = "../secret.yaml"
    elif how == "symlink":
        (maps / "link.yaml").symlink_to(outside / "secret.yaml")
        target = "link.yaml"
    else:
        (maps / "sub").symlink_to(outside)
        target = "sub/secret.yaml"
    top = maps / "top.yaml"
    top.write_text(handoff_map("top", target))
    (d,) = errors(check_file(str(top)))
    assert d.code == "DM117"
    assert d.message == f"node 'h': hand-off {target!r} reaches outside the map's folder"
    assert (d.where.file, d.where.line, d.where.col) == (str(top), 7, 10)
    assert "--allow-outside" in d.hint
    assert errors(check_file(str(top), LoadOptions(allow_outside=True))) == []
    assert load_map(top, LoadOptions(allow_outside=True)).handoffs["h"].loaded.id == "secret"
    rc, out = cli("check", "--allow-outside", str(top), capsys=capsys)
    assert rc == 0, out


def test_handoff_loop_is_caught(tmp_path):
    (tmp_path / "a.yaml").write_text(handoff_map("a", "b.yaml"))
    (tmp_path / "b.yaml").write_text(handoff_map("b", "a.yaml"))
    ds = errors(check_file(str(tmp_path / "a.yaml")))
    assert [d.code for d in ds] == ["DM115"]
    assert ds[0].message == "node 'h': hand-offs loop back on each other " \
                            "(a.yaml -> b.yaml -> a.yaml)"
    assert (Path(ds[0].where.file).name, ds[0].where.line) == ("b.yaml", 7)


def test_handoff_to_itself_is_caught(tmp_path):
    (tmp_path / "a.yaml").write_text(handoff_map("a", "a.yaml"))
    (d,) = errors(check_file(str(tmp_path / "a.yaml")))
    assert d.code == "DM115" and "(a.yaml -> a.yaml)" in d.message


def test_handoff_depth_limit_and_how_to_raise_it(tmp_path, capsys):
    for i in range(12):
        (tmp_path / f"m{i}.yaml").write_text(handoff_map(f"m{i}", f"m{i + 1}.yaml"))
    (tmp_path / "m12.yaml").write_text(handoff_map("m12", None))
    top = str(tmp_path / "m0.yaml")
    (d,) = errors(check_file(top))
    assert d.code == "DM116" and d.message == "node 'h': hand-offs nest deeper than 8"
    assert (Path(d.where.file).name, d.where.line) == ("m8.yaml", 7)
    assert "--max-handoff-depth" in d.hint
    assert errors(check_file(top, LoadOptions(max_handoff_depth=12))) == []
    (d,) = errors(check_file(top, LoadOptions(max_handoff_depth=3)))
    assert Path(d.where.file).name == "m3.yaml"
    rc, out = cli("check", "--max-handoff-depth", "2", top, capsys=capsys)
    assert rc == 1 and "DM116" in out and "nest deeper than 2" in out
    rc, out = cli("check", "--max-handoff-depth", "12", top, capsys=capsys)
    assert rc == 0, out


def test_handoff_fan_out_loads_each_map_once(tmp_path):
    """Six maps each handing off twenty times to the next would be 20**6 loads; each
    distinct map is loaded (and checked) once instead."""
    for i in range(6):
        nodes = "".join(f"  h{j}: {{map: m{i + 1}.yaml, otherwise: h{j + 1}}}\n"
                        for j in range(20)).replace("otherwise: h20", "otherwise: o")
        (tmp_path / f"m{i}.yaml").write_text(
            f"id: m{i}\ntitle: M\nversion: '1'\nstart: h0\nnodes:\n{nodes}"
            "  o: {outcome: Done, next_steps: [rest]}\n")
    (tmp_path / "m6.yaml").write_text(handoff_map("m6", None))
    t0 = time.perf_counter()
    ds = errors(check_file(str(tmp_path / "m0.yaml")))
    assert time.perf_counter() - t0 < 10
    assert ds == []


def test_distinct_handoff_maps_are_bounded(tmp_path):
    nodes = "".join(f"  h{j}: {{map: s{j}.yaml, otherwise: h{j + 1}}}\n" for j in range(300))
    (tmp_path / "top.yaml").write_text(
        f"id: top\ntitle: T\nversion: '1'\nstart: h0\nnodes:\n{nodes}"
        "  h300: {outcome: Done, next_steps: [rest]}\n")
    for j in range(300):
        (tmp_path / f"s{j}.yaml").write_text(handoff_map(f"s{j}", None))
    ds = errors(check_file(str(tmp_path / "top.yaml")))
    assert ds and {d.code for d in ds} == {"DM116"}
    assert "the hand-offs load more than 256 maps in all" in ds[0].message


@pytest.mark.parametrize("target,fragment", [
    ("bad\x00name.yaml", "is not a usable file path"),
    ("", "is not a usable file path"),
    ("nowhere.yaml", "does not exist"),
])
def test_unusable_handoff_paths_are_diagnostics_not_crashes(tmp_path, target, fragment):
    text = handoff_map("a", "X").replace("'X'", '"' + target.replace("\x00", "\\0") + '"')
    dm = load_text(text, str(tmp_path / "a.yaml"))
    (d,) = errors(check_map(dm))
    assert d.code == "DM111" and fragment in d.message and d.where.line == 7


# ---------------------------------------------------------------- nothing is code

EVIL = "__import__('os').system('touch pwned')"


def test_condition_values_are_compared_literally(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = HEAD + (
        "  q:\n"
        "    ask: Which?\n"
        f'    choices: {{"{EVIL}": c, plain: c}}\n'
        "    otherwise: c\n"
        "  c:\n"
        "    check:\n"
        f'      - when: {{answer: q, is: "{EVIL}"}}\n'
        "        next: lit\n"
        "    otherwise: other\n"
        "  lit: {outcome: Literal match, next_steps: [x]}\n"
        "  other: {outcome: Other, next_steps: [x]}\n"
    )
    dm = load_text(text, "m.yaml")
    assert errors(check_map(dm)) == []
    w = Walk(dm, ["Ana", "Ben"])
    w.submit([Ballot("Ana", EVIL), Ballot("Ben", EVIL)])
    assert w.trace.outcome == "lit"
    w2 = Walk(dm, ["Ana"])
    w2.submit([Ballot("Ana", "plain")])
    assert w2.trace.outcome == "other"
    assert not (tmp_path / "pwned").exists()
    bad = text.replace(f'is: "{EVIL}"', 'is: "__import__(\'os\')"')
    (d,) = errors(check_map(load_text(bad, "m.yaml")))
    assert d.code == "DM110" and "\"__import__('os')\" is not a choice of 'q'" in d.message


def outcome_map(template: str) -> str:
    body = template.replace("\\", "\\\\").replace('"', '\\"')
    return HEAD.replace("start: q", "start: o") + \
        f'  o: {{outcome: Done, next_steps: [x], text: "{body}"}}\n'


@pytest.mark.parametrize("template,fragment", [
    ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("{{ cycler.__init__.__globals__ }}", "access to attribute '__init__'"),
    ("{{ range(10**9) }}", "range() makes more than 10000 items in all"),
    ("{{ group.append('x') }}", "access to attribute 'append' of 'list' object is unsafe"),
    ("{{ '{0.__class__}'.format(1) }}", "access to attribute '__class__'"),
])
def test_outcome_templates_are_sandboxed(template, fragment):
    dm = load_text(outcome_map(template), "m.yaml")
    with pytest.raises(TemplateError) as e:
        Walk(dm, ["Ana"])
    msg = str(e.value)
    assert msg.startswith("m.yaml: outcome 'o': template refused by the sandbox: ")
    assert fragment in msg


@pytest.mark.parametrize("template,fragment", [
    ("{{ ''|attr('__class__') }}", "template line 1: the filter 'attr' is not allowed"),
    ("{{ 'a'|center(10**9) }}", "template line 1: the filter 'center' is not allowed"),
    ("{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('a') }}",
     "template line 1: macro is not allowed in a map's text"),
    ("{% include 'x' %}", "template line 1: include is not allowed in a map's text"),
])
def test_risky_template_features_are_refused_before_running(template, fragment):
    dm = load_text(outcome_map(template), "m.yaml")
    with pytest.raises(TemplateError) as e:
        Walk(dm, ["Ana"])
    assert fragment in str(e.value)
    (d,) = errors(check_map(dm))
    assert d.code == "DM119" and fragment.split(": ", 1)[1] in d.message


def test_unknown_template_names_are_found_by_the_checker():
    (d,) = errors(check_map(load_text(outcome_map("{{ cycler.__init__ }}"), "m.yaml")))
    assert d.code == "DM119" and "the text uses 'cycler', which is not defined" in d.message
    assert d.where.line == 6


DEEP_PARENS = "{{ " + "(" * 500 + "1" + ")" * 500 + " }}"


def test_deeply_nested_template_is_a_check_error_not_a_crash():
    dm = load_text(outcome_map(DEEP_PARENS), "m.yaml")
    (d,) = errors(check_map(dm))
    assert d.code == "DM119"


def test_deeply_nested_template_is_a_template_error_at_walk_time():
    with pytest.raises(TemplateError):
        render_text(DEEP_PARENS, {}, "m.yaml: outcome 'o'")


def _bounded(code: str, seconds: float = 4, memory: int = 1 << 30):
    """Run `code` in a child with a time and memory cap; (finished, stdout)."""
    pre = ("import resource; resource.setrlimit(resource.RLIMIT_AS, "
           f"({memory}, {memory}))\n")
    try:
        r = subprocess.run([sys.executable, "-c", pre + code], capture_output=True,
                           text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return False, "timed out"
    return r.returncode == 0, r.stdout + r.stderr


def test_huge_power_in_a_template_does_not_hang_the_checker():
    ok, out = _bounded(
        "from decision_map.io.loader import load_text\nfrom decision_map.check.checks import "
        "check_map\nimport sys\n"
        f"dm = load_text({outcome_map('{{ 2**(2**40) }}')!r}, 'm.yaml')\n"
        "print([d.code for d in check_map(dm)])\n")
    assert ok, out


def test_huge_repetition_in_a_template_is_refused():
    ok, out = _bounded(
        "from decision_map.templating import render_text, TemplateError\n"
        "try:\n    render_text('{{ group * 10**9 }}', {'group': ['a']}, 'w')\n"
        "except TemplateError:\n    pass\n")
    assert ok, out


def test_nested_loops_in_a_template_are_bounded():
    loops = "{% for a in range(9999) %}{% for b in range(9999) %}{% for c in range(9999) %}" \
            "{% endfor %}{% endfor %}{% endfor %}"
    ok, out = _bounded(
        "from decision_map.templating import render_text, TemplateError\n"
        f"try:\n    render_text({loops!r}, {{}}, 'w')\nexcept TemplateError:\n    pass\n")
    assert ok, out


# ---------------------------------------------------------------- escaped text

INJECT = '"]; evil [label="x'
LABELS_MAP = textwrap.dedent("""\
    id: labels
    title: "<script>alert('t')</script> title"
    version: '1'
    start: q
    nodes:
      q:
        ask: "%s"
        help: "<script>alert(1)</script>"
        choices:
          "<script>": {next: o, label: "\\e[2J wipe"}
          "two\\nlines": o
        otherwise: o
      o: {outcome: "line one\\nline two \\e[2J", next_steps: ["<b>x</b>"]}
    """) % INJECT.replace('"', '\\"')


@pytest.fixture(scope="module")
def labels_dm():
    return load_text(LABELS_MAP, "labels.yaml")


def test_hostile_labels_load_as_plain_text(labels_dm):
    assert labels_dm.nodes["q"].ask == INJECT
    assert "\x1b[2J" in labels_dm.nodes["o"].outcome
    assert errors(check_map(labels_dm)) == []


def test_dot_keeps_hostile_labels_inside_their_strings(labels_dm):
    pygraphviz = pytest.importorskip("pygraphviz")
    render = pytest.importorskip("decision_map_render")
    dot = render.to_dot(labels_dm, legend=False)
    assert "\x1b" not in dot
    g = pygraphviz.AGraph(string=dot)
    g.layout(prog="dot")
    assert "evil" not in {str(n) for n in g.nodes()}
    assert len(g.nodes()) == 2
    assert any(INJECT in g.get_node(n).attr["label"] for n in g.nodes())
    svg = render.draw(dot, "svg").decode("utf-8")
    assert "&quot;]; evil [label=&quot;x" in svg
    assert "&lt;script&gt;" in svg and "<script" not in svg
    assert "\x1b" not in svg
    assert ">line one</text>" in svg and ">line two" in svg


def test_mermaid_labels_hold_no_raw_quotes(labels_dm):
    render = pytest.importorskip("decision_map_render")
    mmd = render.to_mermaid(labels_dm)
    head, body = mmd.split("flowchart TD\n", 1)
    assert "\x1b" not in mmd
    # the title is a JSON string in the front matter (Mermaid sets it as text)
    assert head == '---\ntitle: "<script>alert(\'t\')</script> title"\n---\n'
    assert "<script" not in body
    labelled = [ln for ln in body.splitlines() if '"' in ln]
    assert len(labelled) == 3  # two nodes, one edge: each line holds one "..." label
    for line in labelled:
        assert line.count('"') == 2, line  # so no raw quote inside any label
    assert 'n0("#quot;#93;; evil #91;label=#quot;x")' in body


def test_html_report_escapes_hostile_text(labels_dm):
    report = pytest.importorskip("decision_map_render.report")
    w = Walk(labels_dm, ["Ana"])
    w.submit([Ballot("Ana", "<script>")])
    html = report.report_html(labels_dm, w.trace, date="2024-01-01")
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert "\x1b" not in html
    assert "&lt;script&gt;" in html


def test_terminal_output_strips_escapes(labels_dm):
    assert clean("\x1b[2J wipe") == "[2J wipe"
    assert clean(labels_dm.nodes["o"].outcome) == "line one\nline two [2J"
    assert "\x1b" not in clean(labels_dm.nodes["q"].choice_label("<script>"))


def test_loading_hostile_maps_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in (BOMB, LABELS_MAP, outcome_map("{{ ''.__class__ }}"),
                 HEAD + "  q: !!python/object/apply:os.system [touch pwned]\n"):
        try:
            check_map(load_text(text, "m.yaml"))
        except MapError:
            pass
    assert os.listdir(tmp_path) == []
