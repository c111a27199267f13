"""The package as a new user gets it: the sdist and wheel build and pass `twine check`,
the wheel carries the maps and templates and nothing of the tests or benchmarks, and,
installed alone in a clean venv and run from a folder that is not the repository, it lists,
checks, tests and draws the shipped maps by name with no system Graphviz.

Needs the registry (or pip's cache) for the build backend and the dependencies. Each
Python found here besides this one (oldest supported and newest) gets its own venv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.stem for p in (ROOT / "maps").glob("*.yaml"))
OTHER_PYTHONS = ("3.10", "3.13")  # the oldest supported and the newest installed here
BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 600
COMMAND_TIMEOUT = 120


def _run(args: list[str], timeout: int, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    assert p.returncode == 0, f"{' '.join(args)}\n{p.stdout}\n{p.stderr}"
    return p


def _version() -> str:
    found = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert found
    return found.group(1)


def _python(minor: str) -> str | None:
    """An interpreter for Python `minor` on this machine: on PATH, or a pyenv version."""
    candidates = [shutil.which(f"python{minor}")]
    if shutil.which("pyenv"):
        bare = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True,
                              text=True, timeout=30).stdout.split()
        for v in sorted((v for v in bare if v.startswith(f"{minor}.")), reverse=True):
            prefix = subprocess.run(["pyenv", "prefix", v], capture_output=True, text=True,
                                    timeout=30).stdout.strip()
            candidates.append(os.path.join(prefix, "bin", f"python{minor}"))
    for exe in filter(None, candidates):
        ok = subprocess.run([exe, "-c", "import venv"], capture_output=True, timeout=30)
        if ok.returncode == 0:
            return exe
    return None


def _pythons() -> list:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    params = [pytest.param(sys.executable, id=here)]
    for minor in OTHER_PYTHONS:
        if minor == here:
            continue
        exe = _python(minor)
        params.append(pytest.param(exe, id=minor, marks=pytest.mark.skipif(
            exe is None, reason=f"no Python {minor} on this machine")))
    return params


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built as a release is: `python -m build` (the wheel from
    the sdist, so a file missing from the sdist shows)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], BUILD_TIMEOUT)
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_sdist_and_wheel_pass_twine_check(dist: Path):
    files = sorted(dist.iterdir())
    assert sorted(f.suffix for f in files) == [".gz", ".whl"]
    p = _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)], 120)
    assert p.stdout.count("PASSED") == 2


def test_wheel_carries_maps_and_templates_and_no_tests_or_benchmarks(dist: Path):
    names = set(zipfile.ZipFile(_wheel(dist)).namelist())
    for stem in SHIPPED:
        assert f"decision_map_maps/{stem}.yaml" in names
        assert f"decision_map_maps/scenarios/{stem}.yaml" in names
    assert "decision_map_maps/README.md" in names
    for t in ("report.html.j2", "report.md.j2", "documents/_base.md.j2",
              "documents/task-force-scope.html.j2"):
        assert f"decision_map_render/templates/{t}" in names
    assert "decision_map/io/decision-map.schema.json" in names
    assert "decision_map/__main__.py" in names
    tops = {n.split("/")[0] for n in names}
    for f in ("templates/member.html", "static/live.js", "static/live.css",
              "templates/preview.html", "static/preview.js", "static/preview.css",
              "migrations/env.py", "migrations/versions/0001_initial.py"):
        assert f"decision_map_live/{f}" in names
    entry_points = zipfile.ZipFile(_wheel(dist)).read(
        f"decision_map-{_version()}.dist-info/entry_points.txt").decode()
    assert "[decision_map.preview]\npage = decision_map_live.preview:start" in entry_points
    assert tops == {"decision_map", "decision_map_render", "decision_map_maps",
                    "decision_map_live", f"decision_map-{_version()}.dist-info"}


def test_wheel_has_no_generator_code(dist: Path):
    names = zipfile.ZipFile(_wheel(dist)).namelist()
    generators = {n for n in names if Path(n).stem in ("bench", "gen", "gallery")}
    assert not generators, f"generator code in the wheel: {generators}"


PYTHONS = _pythons()


@pytest.fixture(scope="module")
def venvs(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clean venv per Python with only the wheel installed (its dependencies from the
    registry or pip's cache). The installs run side by side: they mostly wait on pip."""
    root = tmp_path_factory.mktemp("venvs")
    procs = {}
    for param in PYTHONS:
        (python,) = param.values
        if python is None:
            continue
        venv = root / param.id
        script = (f'"{python}" -m venv "{venv}" && "{venv}/bin/python" -m pip install '
                  f'--quiet --no-compile "{_wheel(dist)}"')
        procs[python] = (venv, subprocess.Popen(script, shell=True, text=True,
                                                stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT))
    out = {}
    for python, (venv, proc) in procs.items():
        log, _ = proc.communicate(timeout=INSTALL_TIMEOUT)
        out[python] = venv if proc.returncode == 0 else log
    return out


@pytest.mark.parametrize("python", PYTHONS)
def test_the_wheel_alone_works_from_any_folder(venvs: dict, python: str, tmp_path: Path):
    venv = venvs[python]
    assert isinstance(venv, Path), f"the wheel did not install:\n{venv}"
    bin_dir = venv / "bin"
    work = tmp_path / "work"
    work.mkdir()
    # Only the venv on PATH: no system `dot`, no repository on sys.path.
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "NO_COLOR": "1", "COLUMNS": "120",
           "DECISION_MAP_CACHE": str(tmp_path / "cache"), "LANG": "C.UTF-8"}

    def dm(*args: str) -> str:
        return _run([str(bin_dir / "decision-map"), *args], COMMAND_TIMEOUT, cwd=work,
                    env=env).stdout

    listed = dm("maps")
    assert [line.split()[0] for line in listed.splitlines()
            if line and not line.startswith((" ", "in "))] == SHIPPED
    # Every map on this Python; on the others, what the "done when" names.
    everything = python == sys.executable
    for name in SHIPPED if everything else ["coalition-formation"]:
        assert " 0 failed" in dm("test", "--require-coverage", name)
    dm("render", "coalition-formation", "-o", "m.svg")
    assert (work / "m.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    if everything:
        assert "3 maps checked: 0 error(s), 0 warning(s)" in dm("check", "--strict",
                                                                *SHIPPED)
        dm("new", "mine.yaml", "--from", "coalition-formation")
        assert "0 error(s), 0 warning(s)" in dm("check", "--strict", "mine.yaml")
    version = _run([str(bin_dir / "python"), "-m", "decision_map", "--version"],
                   COMMAND_TIMEOUT, cwd=work, env=env).stdout
    assert version.strip() == f"decision-map {_version()}"
    assert not list(work.glob("*.egg-info")) and not (work / "maps").exists()
