"""The registry of diagnostic codes holds: every code the checker gives is registered,
every registered code is given by its own example map, and docs/diagnostics.md is the
registry as it is now."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from decision_map.check.cache import fingerprinted_sources
from decision_map.check.checks import check_file
from decision_map.check.docs import check_flags, markdown, run_example, write_example
from decision_map.cli.main import main
from decision_map.diagnostics import REGISTRY
from decision_map.errors import Diagnostic, MapError, Where

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"\bDM\d{3}\b")


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_each_code_is_given_by_its_example(code):
    rec = REGISTRY[code]
    found = [d for d in run_example(rec) if d.code == code]
    assert found, f"{code}'s example does not give {code}: {[d.line() for d in run_example(rec)]}"
    d = found[0]
    assert d.severity == rec.severity and d.hint
    assert d.where.file == "map.yaml" and (d.where.line > 0 or code == "DM005")


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_the_command_line_says_what_the_page_shows(code, tmp_path, monkeypatch, capsys):
    rec = REGISTRY[code]
    write_example(rec, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["check", "--no-cache", "map.yaml", *check_flags(rec)])
    out = capsys.readouterr()
    assert e.value.code == (1 if rec.severity == "error" else 0)
    shown = out.out + out.err
    for d in run_example(rec):
        assert d.line() in shown


def test_committed_page_matches_the_registry():
    committed = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert committed == markdown(), "docs/diagnostics.md drifted: run `make diagnostics`"


def test_the_page_lists_every_code_with_an_example():
    page = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    sections = page.split("\n## ")[1:]
    assert [s.split("\n", 1)[0] for s in sections] == sorted(REGISTRY)
    for s in sections:
        code = s.split("\n", 1)[0]
        assert f"error {code}:" in s or f"warning {code}:" in s, code


def test_an_unregistered_code_or_a_wrong_severity_is_refused():
    with pytest.raises(ValueError, match="DM999.*not registered"):
        Diagnostic("DM999", "error", "made up", Where("m.yaml", 1, 1))
    with pytest.raises(ValueError, match="DM114 is registered as warning"):
        Diagnostic("DM114", "error", "outcome 'q' has no next steps", Where("m.yaml", 1, 1))


def test_a_code_without_a_specific_hint_gets_its_own():
    e = MapError(REGISTRY["DM005"], "no such file", Where("gone.yaml"))
    assert e.diagnostic.hint == REGISTRY["DM005"].hint
    assert str(e) == f"gone.yaml: error DM005: no such file (hint: {REGISTRY['DM005'].hint})"


def test_no_code_is_written_as_text_outside_the_registry():
    """Checks raise by record: a quoted "DM..." anywhere else would be a code with its
    severity repeated beside it."""
    quoted = re.compile(r"""["']DM\d{3}["']""")
    files = sorted((ROOT / "decision_map").rglob("*.py")) + sorted((ROOT / "render").glob("*.py"))
    assert len(files) > 20
    for p in files:
        if p.name == "diagnostics.py" and p.parent.name == "decision_map":
            continue
        assert not quoted.search(p.read_text(encoding="utf-8")), p.relative_to(ROOT)


def test_every_code_the_docs_name_is_registered():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {c for p in docs for c in CODE.findall(p.read_text(encoding="utf-8"))}
    assert named and not named - set(REGISTRY), sorted(named - set(REGISTRY))


def test_shipped_maps_and_fixtures_give_only_registered_codes():
    paths = sorted((ROOT / "maps").rglob("*.yaml")) + sorted((ROOT / "tests").rglob("*.yaml"))
    assert paths
    for p in paths:
        assert {d.code for d in check_file(str(p))} <= set(REGISTRY), p.relative_to(ROOT)


def test_a_changed_registry_or_reader_invalidates_cached_checks():
    """Cached check results are keyed by the source that made them: the registry (whose
    hints a cached line carries) and the YAML reader count, not only check/."""
    names = {p.relative_to(ROOT).as_posix() for p in fingerprinted_sources()}
    assert {"decision_map/diagnostics.py", "decision_map/io/yaml_source.py",
            "decision_map/io/loader.py", "decision_map/check/checks.py"} <= names
