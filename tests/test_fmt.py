"""`fmt`: one canonical layout that never changes a map's meaning or drops a comment.

Meaning is proved the way a user relies on it: the map loads to the same model, and every
scenario case walks to the same outcome by the same path, before and after; on every
shipped map (also after scrambling its layout) and on generated maps."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bench.gen import SUB_MAP, map_text
from decision_map.io.canonical import canonical_text, reorder_keys
from decision_map.io.loader import load_text
from decision_map.walk.scenarios import default_scenarios, path_of, run_scenarios

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "maps").glob("*.yaml"))
EXE = shutil.which("decision-map") or str(Path(sys.executable).parent / "decision-map")


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def scramble(text: str) -> str:
    """The same map in another layout: four-space indents, the keys of every node and of
    what it holds reversed (comments moved with them, as fmt moves them), yes/no quoted."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=4, sequence=6, offset=4)
    data = y.load(text)

    def walk(obj, reverse: bool = True):
        # the order of nodes, choices and returns is meaning (the first choice is the
        # default proposal): only the keys of each node and of what it holds move
        if isinstance(obj, CommentedMap):
            if reverse:
                reorder_keys(obj, list(reversed(list(obj))))
            for key in list(obj):
                value = obj[key]
                if key in ("yes", "no"):  # a quoted key equals the plain one: pop it first
                    i = list(obj).index(key)
                    obj.insert(i, DoubleQuotedScalarString(key), obj.pop(key))
                walk(value, key not in ("nodes", "choices", "returns"))
        elif isinstance(obj, list):
            for item in obj:
                walk(item)

    walk(data)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def results(dm, scenarios: str) -> list[tuple]:
    report = run_scenarios(dm, scenarios)
    return [(r.name, r.passed, r.trace.outcome if r.trace else None,
             path_of(r.trace) if r.trace else None) for r in report.results]


def test_every_shipped_map_is_canonical():
    r = cli("fmt", "--check", *map(str, SHIPPED))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(SHIPPED)} map(s): 0 would be reformatted" in r.stdout


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_scrambled_shipped_map_comes_back_as_shipped_and_means_the_same(path):
    text = path.read_text(encoding="utf-8")
    messy = scramble(text)
    assert messy != text
    # loaded as if it stood where the map stands, so its hand-offs resolve
    assert load_text(messy, str(path)).model == load_text(text, str(path)).model
    back = canonical_text(messy, str(path))
    # one layout per meaning: every line comes back as shipped, comments included (a blank
    # line the scrambler moved to the top of the file stays there: fmt cannot tell)
    assert [ln for ln in back.splitlines() if ln.strip()] == \
        [ln for ln in text.splitlines() if ln.strip()]
    assert canonical_text(back, str(path)) == back
    before, after = load_text(text, str(path)), load_text(back, str(path))
    assert after.model.model_dump_json() == before.model.model_dump_json()
    scen = default_scenarios(str(path))
    assert results(after, scen) == results(before, scen)
    assert all(passed for _, passed, _, _ in results(after, scen))


@pytest.mark.parametrize("n, seed", [(20, 0), (40, 1), (120, 2), (300, 3)])
def test_generated_maps_keep_their_meaning(tmp_path, n, seed):
    (tmp_path / "sub.yaml").write_text(SUB_MAP, encoding="utf-8")
    path = str(tmp_path / f"gen-{n}.yaml")
    text = map_text(n, seed)
    before = load_text(text, path)
    for source in (text, scramble(text)):
        out = canonical_text(source, path)
        after = load_text(out, path)
        assert after.model.model_dump_json() == before.model.model_dump_json()
        assert sorted(after.graph.edges(data=True)) == sorted(before.graph.edges(data=True))
        assert canonical_text(out, path) == out  # formatting twice changes nothing


COMMENTED = """\
# the map's own comment
version: "1"
id: c
title: Comments
start: a
nodes:
  # first node
  a:
    help: why  # on help's line
    # about the question
    ask: Go?
    choices:
      "yes": b   # on yes's line
      'no': {label: No, next: b}
    otherwise: b

  # --- outcomes
  b:
    next_steps:
      - x   # on x's line
    help: >
      folded help
    # about the title
    outcome: B
"""

COMMENTED_CANONICAL = """\
# the map's own comment
id: c
title: Comments
version: "1"
start: a
nodes:
  # first node
  a:
    # about the question
    ask: Go?
    choices:
      yes: b     # on yes's line
      no: {next: b, label: No}
    otherwise: b
    help: why  # on help's line

  # --- outcomes
  b:
    # about the title
    outcome: B
    next_steps:
      - x   # on x's line
    help: >
      folded help
"""


def test_comments_stay_with_the_keys_they_stand_beside():
    assert canonical_text(COMMENTED, "c.yaml") == COMMENTED_CANONICAL
    assert canonical_text(COMMENTED_CANONICAL, "c.yaml") == COMMENTED_CANONICAL


SCALARS = """\
id: s
title: 'On'
version: 012
start: q
nodes:
  q:
    ask: "yes"
    choices: {"on": o, 'Off': o, "true": o, 1_000: o, 2024-01-01: o}
    otherwise: o
  o:
    outcome: "no"
    next_steps: ['n', "Y", 1e3, "012"]
"""


def test_plain_scalars_are_never_reread_and_only_boolean_words_lose_quotes():
    out = canonical_text(SCALARS, "s.yaml")
    assert "version: 012\n" in out  # our reader keeps 012 as text: so does fmt
    assert "choices: {on: o, Off: o, \"true\": o, 1_000: o, 2024-01-01: o}" in out
    assert "ask: yes\n" in out and "outcome: no\n" in out and "title: On\n" in out
    assert "next_steps: [n, Y, 1e3, \"012\"]" in out
    assert load_text(out, "s.yaml").model == load_text(SCALARS, "s.yaml").model


def test_check_changes_nothing_and_exits_1_fmt_rewrites(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(COMMENTED, encoding="utf-8")
    r = cli("fmt", "--check", str(f))
    assert r.returncode == 1
    assert f"would reformat {f}" in r.stdout
    assert f.read_text(encoding="utf-8") == COMMENTED
    r = cli("fmt", str(f))
    assert r.returncode == 0, r.stderr
    assert f"reformatted {f}" in r.stdout
    assert f.read_text(encoding="utf-8") == COMMENTED_CANONICAL
    assert cli("fmt", "--check", str(f)).returncode == 0


def test_a_map_that_does_not_load_is_one_located_line_and_left_alone(tmp_path):
    f = tmp_path / "bad.yaml"
    text = COMMENTED.replace("    otherwise: b\n", "    otherwise: b\n    colour: red\n")
    f.write_text(text, encoding="utf-8")
    r = cli("fmt", str(f))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert f"{f}:16:5: error DM100: node 'a': unknown key 'colour'" in lines[0]
    assert f.read_text(encoding="utf-8") == text


def test_a_new_map_is_already_canonical(tmp_path):
    assert cli("new", "first.yaml", cwd=tmp_path).returncode == 0
    r = cli("fmt", "--check", "first.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.path.exists(tmp_path / "first.yaml")


def test_the_pre_commit_hook_runs_fmt_check_on_maps_only(tmp_path):
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["decision-map-fmt"]
    assert hook["types"] == ["yaml"]
    entry = hook["entry"].split()
    assert entry[0] == "decision-map"
    r = cli(*entry[1:], *map(str, SHIPPED))  # pre-commit passes the staged files last
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(SHIPPED)} map(s): 0 would be reformatted" in r.stdout
    messy = tmp_path / "messy.yaml"
    messy.write_text("# yaml-language-server: $schema=decision-map.schema.json\n"
                     + COMMENTED.split("\n", 1)[1], encoding="utf-8")
    other = tmp_path / "workflow.yaml"  # YAML that declares no schema: no map
    other.write_text("on: push\njobs: {}\n", encoding="utf-8")
    r = cli(*entry[1:], str(messy), str(other))
    assert r.returncode == 1 and f"would reformat {messy}" in r.stdout
    assert "workflow" not in r.stdout + r.stderr
    r = cli(*entry[1:], str(other))
    assert r.returncode == 0 and r.stdout == ""


def test_the_authoring_walk_in_the_docs_works(tmp_path):
    """docs/authoring.md: `new`, the scenario cases it shows, `test`, `fmt --check`."""
    import re

    doc = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    cases = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if b.startswith("cases:")]
    assert len(cases) == 1
    (tmp_path / "maps" / "scenarios").mkdir(parents=True)
    assert cli("new", "maps/our-decision.yaml", cwd=tmp_path).returncode == 0
    (tmp_path / "maps" / "scenarios" / "our-decision.yaml").write_text(cases[0])
    r = cli("test", "maps/our-decision.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed, 0 failed" in r.stdout
    assert cli("fmt", "--check", "maps/our-decision.yaml", cwd=tmp_path).returncode == 0
    assert cli("check", "--strict", "maps/our-decision.yaml", cwd=tmp_path).returncode == 0


def test_the_example_map_in_the_readme_is_canonical():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "nodes:" in b]
    assert blocks
    for b in blocks:
        assert canonical_text(b, str(ROOT / "README.md")) == b


def test_fmt_keeps_the_file_s_permissions_and_writes_through_a_symlink(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text(COMMENTED, encoding="utf-8")
    real.chmod(0o644)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert cli("fmt", str(link)).returncode == 0
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == COMMENTED_CANONICAL
    assert real.stat().st_mode & 0o777 == 0o644
