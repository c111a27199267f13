"""What a user of the installed package relies on beyond the maps' own commands: shipped
maps by name (a file always wins), `maps`, `new --from`, `--version`, `python -m`,
shell completion, `schema --write` where `new` points editors, and the hook commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from decision_map.io.format_doc import key_texts
from decision_map.io.schema import SCHEMA_FILE, map_schema

ROOT = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent / "decision-map")
SHIPPED = sorted(p.stem for p in (ROOT / "maps").glob("*.yaml"))


def dm(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120",
            "DECISION_MAP_CACHE": str(cwd / ".cache"), **(env or {})}
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, env=full,
                          timeout=120)


def test_a_shipped_map_is_found_by_name_from_any_folder(tmp_path):
    p = dm("check", "--strict", *SHIPPED, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 maps checked: 0 error(s), 0 warning(s)" in p.stdout
    p = dm("test", "common-ground", cwd=tmp_path)
    assert p.returncode == 0 and "5 passed, 0 failed" in p.stdout, p.stdout + p.stderr
    p = dm("render", "common-ground.yaml", "-o", "g.svg", cwd=tmp_path)
    assert p.returncode == 0 and "<svg" in (tmp_path / "g.svg").read_text()


def test_a_file_path_wins_over_a_shipped_name(tmp_path):
    (tmp_path / "common-ground").write_text("id: mine\ntitle: Mine\n")
    p = dm("check", "common-ground", cwd=tmp_path)
    assert p.returncode == 1
    assert p.stdout.startswith("common-ground:"), p.stdout
    p = dm("check", "no-such-map", cwd=tmp_path)
    assert p.returncode == 1 and "no-such-map: error DM005: no such file" in p.stdout


def test_maps_lists_every_shipped_map_with_title_size_and_outcomes(tmp_path):
    p = dm("maps", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    for name in SHIPPED:
        assert re.search(rf"^{name} +\S.* \(\d+ questions, \d+ nodes\)$", p.stdout, re.M)
    assert "outcomes: common-ground-found, no-common-ground, not-ready" in p.stdout
    data = json.loads(dm("maps", "--json", cwd=tmp_path).stdout)
    assert [m["name"] for m in data["maps"]] == SHIPPED
    assert {m["title"] for m in data["maps"]} >= {"A conversation on common ground"}


def test_new_from_a_shipped_map_copies_it_and_the_maps_it_hands_off_to(tmp_path):
    p = dm("new", "ours.yaml", "--from", "coalition-formation", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in tmp_path.glob("*.yaml")) == [
        "common-ground.yaml", "ours.yaml", "working-through-dissent.yaml"]
    assert (tmp_path / "ours.yaml").read_text().splitlines()[0] == \
        "# yaml-language-server: $schema=decision-map.schema.json"
    assert dm("check", "--strict", "ours.yaml", cwd=tmp_path).returncode == 0
    again = dm("new", "ours.yaml", "--from", "common-ground", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    nowhere = dm("new", "no/such/folder.yaml", cwd=tmp_path)
    assert nowhere.returncode == 1 and len(nowhere.stderr.splitlines()) == 1


def test_schema_write_puts_the_schema_where_new_points_editors(tmp_path):
    (tmp_path / "sub").mkdir()
    assert dm("new", "sub/m.yaml", cwd=tmp_path).returncode == 0
    first = (tmp_path / "sub" / "m.yaml").read_text().splitlines()[0]
    ref = first.split("$schema=", 1)[1]
    assert not (tmp_path / "sub" / ref).exists()
    p = dm("schema", "--write", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "sub" / ref).read_text()) == map_schema()


def test_the_schema_has_a_stable_versioned_id_and_hover_text_from_the_docs():
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["$id"] == "urn:decision-map:schema:map:v1"
    texts = key_texts((ROOT / "docs" / "format.md").read_text())
    from_docs, bare = 0, []
    for name, d in [("MapFile", schema), *schema["definitions"].items()]:
        for prop, spec in d.get("properties", {}).items():
            if not spec.get("description"):
                bare.append(f"{name}.{prop}")
            elif prop in texts.get(name, {}):
                assert spec["description"] == texts[name][prop], f"{name}.{prop}"
                from_docs += 1
    assert bare == []
    # Every key of the map and of every node kind has its row in docs/format.md.
    for name in ("MapFile", "Defaults", "ChoiceQuestion", "Check", "Handoff", "Info",
                 "Outcome"):
        d = schema if name == "MapFile" else schema["definitions"][name]
        assert set(d["properties"]) <= set(texts[name]), name
    assert from_docs > 60
    assert schema["properties"]["title"]["description"] == "The title shown to the group"


def test_version_from_the_metadata_by_script_and_by_python_m(tmp_path):
    from importlib.metadata import version

    want = f"decision-map {version('decision-map')}"
    assert dm("--version", cwd=tmp_path).stdout.strip() == want
    p = subprocess.run([sys.executable, "-m", "decision_map", "--version"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == want


def test_shell_completion_completes_command_names(tmp_path):
    env = {"_DECISION_MAP_COMPLETE": "complete_bash", "COMP_WORDS": "decision-map ma",
           "COMP_CWORD": "1"}
    p = dm(cwd=tmp_path, env=env)
    assert p.stdout.split() == ["maps"]
    assert "--install-completion" in dm("--help", cwd=tmp_path).stdout


def test_hook_check_checks_only_yaml_files_that_declare_the_schema(tmp_path):
    (tmp_path / "ci.yaml").write_text("on: push\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("# yaml-language-server: $schema=decision-map.schema.json\nid: b\n")
    assert dm("hook-check", "ci.yaml", cwd=tmp_path).returncode == 0
    p = dm("hook-check", "ci.yaml", "broken.yaml", cwd=tmp_path)
    assert p.returncode == 1 and "1 map checked" in p.stdout and "ci.yaml" not in p.stdout
