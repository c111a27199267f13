"""The pre-commit hooks of `.pre-commit-hooks.yaml`, used as another repository uses them:
pre-commit installs this repository into its own environment and runs the hooks on a
temporary git repository holding a good map with scenarios, a broken map and a YAML file
that is no map. The broken map fails the check, a wrong scenario fails the test, a map
out of the canonical layout fails fmt, and the other YAML file is left alone.

Needs the registry (or pip's cache): pre-commit installs the hooks' dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT = 900
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
SCHEMA_LINE = "# yaml-language-server: $schema=decision-map.schema.json\n"
BROKEN = SCHEMA_LINE + ('id: broken\ntitle: Broken\nversion: "1"\nstart: q\nnodes:\n'
                        '  q: {ask: Go?, choices: {yes: nowhere, no: end}, otherwise: end}\n'
                        '  end: {outcome: End, next_steps: [x]}\n')


def _git(cwd: Path, *args: str) -> str:
    p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                       env={**os.environ, **GIT_ENV})
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def _hook_repo(dest: Path) -> tuple[Path, str]:
    """This repository's files as they are now (committed or not) in a git repository
    of their own, as pre-commit needs a repository and a revision to install from."""
    files = _git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "snapshot")
    return dest, _git(dest, "rev-parse", "HEAD")


def test_precommit_hooks_check_and_test_only_the_maps(tmp_path: Path):
    hooks, rev = _hook_repo(tmp_path / "hooks")
    repo = tmp_path / "maps-repo"
    (repo / "scenarios").mkdir(parents=True)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n"
        "      - id: decision-map-check\n      - id: decision-map-test\n"
        "      - id: decision-map-fmt\n")
    good = (ROOT / "maps" / "common-ground.yaml").read_text().splitlines(keepends=True)
    (repo / "good.yaml").write_text(SCHEMA_LINE + "".join(good[1:]))
    scenarios = (ROOT / "maps" / "scenarios" / "common-ground.yaml").read_text()
    (repo / "scenarios" / "good.yaml").write_text(
        scenarios.replace("map: ../common-ground.yaml", "map: ../good.yaml"))
    (repo / "broken.yaml").write_text(BROKEN)
    (repo / "workflow.yaml").write_text("on: push\njobs: {}\n")  # YAML, but no map
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "NO_COLOR": "1", "DECISION_MAP_CACHE": str(tmp_path / "cache")}

    def run() -> subprocess.CompletedProcess:
        args = ["run", "--all-files", "--verbose", "--color", "never"]
        return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo,
                              capture_output=True, text=True, env=env,
                              timeout=INSTALL_TIMEOUT)

    p = run()
    assert p.returncode == 1, p.stdout + p.stderr
    assert "broken.yaml:7:32: error DM101" in p.stdout, p.stdout
    assert "2 maps checked: 1 error(s), 0 warning(s)" in p.stdout
    assert "workflow.yaml" not in p.stdout
    assert "good.yaml: 5 passed, 0 failed" in p.stdout

    (repo / "broken.yaml").unlink()
    (repo / "scenarios" / "good.yaml").write_text(
        (repo / "scenarios" / "good.yaml").read_text()
        .replace("outcome: common-ground-found", "outcome: not-ready", 1))
    _git(repo, "add", "-A")
    p = run()
    assert p.returncode == 1, p.stdout + p.stderr
    assert "decision-map check --strict" in p.stdout and "good.yaml: 4 passed, 1 failed" \
        in p.stdout, p.stdout

    (repo / "scenarios" / "good.yaml").write_text(
        scenarios.replace("map: ../common-ground.yaml", "map: ../good.yaml"))
    # the same map with its first two keys swapped: it means the same, but fmt would move them
    text = (repo / "good.yaml").read_text()
    lines = text.splitlines(keepends=True)
    (repo / "good.yaml").write_text("".join([lines[0], lines[2], lines[1], *lines[3:]]))
    _git(repo, "add", "-A")
    p = run()
    assert p.returncode == 1, p.stdout + p.stderr
    assert "would reformat good.yaml" in p.stdout, p.stdout

    (repo / "good.yaml").write_text(text)
    _git(repo, "add", "-A")
    p = run()
    assert p.returncode == 0, p.stdout + p.stderr
