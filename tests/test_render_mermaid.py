"""Mermaid output checked by Mermaid's own parser (the `mermaid` npm package, run by node).

The parser lives in tests/fixtures/render/mermaid (package.json + package-lock.json);
its node_modules is installed on first use with `npm ci` and then reused. The test is
skipped only when node (or npm, to install it) is missing, or when the install cannot
reach the registry; each skip says why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from decision_map_render import build, to_mermaid

from bench.gen import generated_map, guided_trace
from decision_map.io.loader import load_map

FIX = Path(__file__).parent / "fixtures" / "render"
PARSER = FIX / "mermaid"


def _ensure_parser() -> Path:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot run Mermaid's parser")
    if not (PARSER / "node_modules" / "mermaid").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install Mermaid's parser")
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=PARSER, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            pytest.skip(f"could not install Mermaid's parser with npm ci: {r.stderr[-300:]}")
    return Path(node)


def mermaid_parse(texts: list[str]) -> list[dict]:
    node = _ensure_parser()
    r = subprocess.run([str(node), str(PARSER / "parse.mjs")], input=json.dumps(texts),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def parsed(main_trace, hostile_trace):
    main = load_map(FIX / "main.yaml")
    hostile = load_map(FIX / "hostile.yaml")
    big = generated_map(100)
    cases = {
        "main": (main, None, False),
        "main-trace": (main, main_trace(), False),
        "main-focus": (main, main_trace(), True),
        "hostile": (hostile, None, False),
        "hostile-trace": (hostile, hostile_trace(), False),
        "generated-100": (big, guided_trace(big), False),
    }
    texts = [to_mermaid(dm, t, focus=f) for dm, t, f in cases.values()]
    results = mermaid_parse(texts)
    return {name: (build(dm, t, focus=f), res)
            for (name, (dm, t, f)), res in zip(cases.items(), results, strict=True)}


def test_every_output_parses(parsed):
    for name, (_, res) in parsed.items():
        assert res["ok"], f"{name}: {res.get('error')}"
        assert res["type"] == "flowchart-v2"


def test_labels_come_back_exactly(parsed):
    """What Mermaid would show is the author's text, hostile characters and all."""
    for name, (d, res) in parsed.items():
        assert set(res["nodes"]) == {n.id for n in d.nodes}, name
        for n in d.nodes:
            assert res["nodes"][n.id]["text"] == "\n".join(n.lines()), (name, n.id)
        assert [(e["start"], e["end"], e["text"]) for e in res["edges"]] == [
            (e.source, e.target, e.text) for e in d.edges], name


def test_hostile_text_survives(parsed):
    _, res = parsed["hostile-trace"]
    texts = "\n".join(v["text"] for v in res["nodes"].values())
    for bit in ['Is "this" a \\ backslash,', "<b>bold</b>, ] bracket [x],", "end --> arrow",
                "| pipe %%", "`tick` & amp #quot;", "<script>", "%% not a comment"]:
        assert bit in texts
    assert res["edges"][0]["text"] == 'end --> "x" | y ]'


def test_path_classes_and_strokes(parsed):
    d, res = parsed["main-trace"]
    for n in d.nodes:
        classes = res["nodes"][n.id]["classes"]
        assert f"k_{n.kind}" in classes
        want = ("blocked" if n.blocked else "path") if n.on_path else "faded"
        assert want in classes, n.id
    strokes = [e["stroke"] for e in res["edges"]]
    assert strokes == ["dotted" if e.enters or not e.taken else "thick" for e in d.edges]


def test_subgraph_for_entered_handoff(parsed):
    d, res = parsed["main-trace"]
    assert [sg["title"] for sg in res["subgraphs"]] == ["↪ Working through dissent"]
    assert sorted(res["subgraphs"][0]["nodes"]) == sorted(
        n.id for n in d.nodes if n.cluster == "c0")
