"""Fixtures shared by the test files: where the fixtures and shipped maps are, the
`decision-map` console script and how to run it, the picnic walk's ballots, and the
render fixtures' traces. Test modules take these as arguments and never import each other.

A fixture that returns a function (`cli`, `one_line_error`, `main_trace`, ...) is a
helper; the tests call it as before, after naming it among their arguments.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from decision_map.io.answers import answers_from_data
from decision_map.io.loader import DecisionMap, load_map
from decision_map.io.yaml_source import parse_yaml, read_text
from decision_map.model.decision import Ballot, Decision
from decision_map.model.trace import Step, Trace
from decision_map.walk.engine import Walk, run

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SHIPPED = sorted((ROOT / "maps").glob("*.yaml"))

# ---------------------------------------------------------------- paths


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository's top folder (maps/, docs/, tests/ are under it)."""
    return ROOT


@pytest.fixture(scope="session")
def shipped_maps() -> list[Path]:
    """Every map under maps/, sorted by name."""
    return list(SHIPPED)


@pytest.fixture(params=SHIPPED, ids=lambda p: p.stem)
def shipped_map(request: pytest.FixtureRequest) -> Path:
    """One shipped map: a test that takes it runs once per map."""
    return request.param


@pytest.fixture(scope="session")
def coalition_path() -> Path:
    """The coalition-formation map, the biggest shipped one."""
    return ROOT / "maps" / "coalition-formation.yaml"


@pytest.fixture(scope="session")
def coalition_scenarios() -> Path:
    """The coalition map's scenarios (real groups' answers, with their outcomes)."""
    return ROOT / "maps" / "scenarios" / "coalition-formation.yaml"


@pytest.fixture(scope="session")
def picnic_path() -> Path:
    """The small picnic map the stepping tests walk."""
    return FIXTURES / "step" / "picnic.yaml"


# ---------------------------------------------------------------- the console script


@pytest.fixture(scope="session")
def exe() -> str:
    """The installed `decision-map` console script (the one beside this Python first)."""
    beside = Path(sys.executable).parent / "decision-map"
    return str(beside) if beside.exists() else (shutil.which("decision-map") or str(beside))


@pytest.fixture(scope="session")
def cli(exe: str) -> Callable[..., subprocess.CompletedProcess]:
    """Run `decision-map ARGS...` as a user would, without colour, at a fixed width."""

    def run(*args: str, cwd: Path | None = None, columns: int = 200,
            timeout: float = 120) -> subprocess.CompletedProcess:
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": str(columns)}
        return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, env=env,
                              timeout=timeout)

    return run


def _stderr_lines(p: subprocess.CompletedProcess) -> list[str]:
    # Graphviz's bundled fontconfig may warn about the system's config: not ours
    return [x for x in p.stderr.strip().splitlines() if x and not x.startswith("Fontconfig")]


@pytest.fixture(scope="session")
def stderr_lines() -> Callable[[subprocess.CompletedProcess], list[str]]:
    """A run's stderr lines, less Graphviz's fontconfig warnings."""
    return _stderr_lines


@pytest.fixture(scope="session")
def one_line_error() -> Callable[[subprocess.CompletedProcess], str]:
    """Bad input's contract: non-zero exit, no traceback, exactly one line on stderr."""

    def check(p: subprocess.CompletedProcess) -> str:
        assert p.returncode != 0, p.stdout
        assert "Traceback" not in p.stderr + p.stdout
        lines = _stderr_lines(p)
        assert len(lines) == 1, p.stderr
        return lines[0]

    return check


@pytest.fixture
def step_env(tmp_path: Path) -> dict[str, str]:
    """The environment `decision-map step` runs in under test: plain, fixed-size, its data
    folder inside this test's tmp_path."""
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "LINES": "40", "TERM": "xterm",
            "PROMPT_TOOLKIT_NO_CPR": "1", "XDG_DATA_HOME": str(tmp_path / "data")}


@pytest.fixture
def pty_columns() -> int:
    """How wide `spawn`'s pseudo-terminal is; a test module overrides it to test another."""
    return 120


@pytest.fixture
def spawn(exe: str, step_env: dict[str, str], root: Path,
          pty_columns: int) -> Callable[..., pexpect.spawn]:
    """Start `decision-map step ARGS...` in a real pseudo-terminal of 40 lines by
    `pty_columns`, in the repository's folder, as a person at a terminal would."""

    def start(*args: str) -> pexpect.spawn:
        return pexpect.spawn(exe, ["step", *args], env=step_env, encoding="utf-8",
                             timeout=20, dimensions=(40, pty_columns), cwd=str(root))

    return start


# ---------------------------------------------------------------- the picnic walk

# The picnic walk's ballots, step by step: yes; a block on "where" with its reason, back
# to where; the park by all; 23 euros; a motto -> "A big picnic".
PICNIC_BALLOTS = [
    [Ballot("Ana", "yes"), Ballot("Ben", "yes"), Ballot("Cy", "no")],
    [Ballot("Ana", "park"), Ballot("Ben", "block", "Too far for Cy"), Ballot("Cy", "park")],
    [Ballot("Ana", "park"), Ballot("Ben", "park"), Ballot("Cy", "stand-aside")],
    [Ballot("Ana", 10), Ballot("Ben", 5), Ballot("Cy", 8)],
    [Ballot(None, "Sun and friends")],
]


@pytest.fixture(scope="session")
def picnic_outcome(picnic_path: Path) -> tuple[str | None, list]:
    """Where the picnic walk ends when nobody interrupts it, and its submissions as JSON:
    what a killed, resumed or piped walk must reach."""
    walk = Walk(load_map(str(picnic_path)), ["Ana", "Ben", "Cy"])
    for ballots in PICNIC_BALLOTS:
        walk.submit(ballots)
    return walk.trace.outcome, [s.to_json() for s in walk.submissions]


# ---------------------------------------------------------------- render fixtures


def _decision(status="decided", value=None, tally=None, **kw) -> Decision:
    """A Decision with the defaults a picture needs (consensus, five members)."""
    return Decision(status=status, rule=kw.pop("rule", "consensus"), value=value,
                    tally=tally or {}, explanation=kw.pop("explanation", ""),
                    members=kw.pop("members", 5), participating=kw.pop("participating", 5),
                    **kw)


def _main_trace() -> Trace:
    """Blocked at `goal`, through the dissent map and back, then on to `form`."""
    decision = _decision
    m, s = "render-main", "render-sub"
    in_sub = ("dissent",)  # the hand-off node the dissent map is walked from
    steps = [
        Step(m, "intro", "info", route_kind="next", route_value="next", next="goal"),
        Step(m, "goal", "choice", decision=decision("blocked", None, {"yes": 4},
             blocks=(("dana", "too fast"),)),
             route_kind="status", route_value="blocked", next="dissent"),
        Step(m, "dissent", "handoff"),
        Step(s, "hear", "info", scope=in_sub, route_kind="next", route_value="next",
             next="amend"),
        Step(s, "amend", "choice", scope=in_sub, decision=decision("decided", "yes", {"yes": 5}),
             route_kind="choice", route_value="yes", next="resolved"),
        Step(s, "resolved", "outcome", scope=in_sub),
        Step(m, "dissent", "handoff", route_kind="return", route_value="resolved", next="goal"),
        Step(m, "goal", "choice", visit=2,
             decision=decision("decided", "yes", {"yes": 4}, stood_aside=("eve",)),
             route_kind="choice", route_value="yes", next="hours"),
        Step(m, "hours", "number", decision=decision("decided", 8.0, {}, rule="sum"),
             route_kind="branch", route_value="< 10", next="enough"),
        Step(m, "enough", "check", route_kind="when", route_value="case 1", next="hopes"),
        Step(m, "hopes", "text", decision=decision("decided", None, {},
             texts=(("ana", "Win the park"), ("ben", "Fix the roads"))),
             route_kind="next", route_value="next", next="form"),
        Step(m, "form", "outcome"),
    ]
    return Trace("render-main", "1.0", "0" * 64, "Forming a coalition", ["ana", "ben"],
                 steps=steps, outcome="form", verdict="form-coalition")


def _hostile_trace() -> Trace:
    """`q1` decided "end", then the outcome `o1`."""
    decision = _decision
    steps = [
        Step("hostile", "q1", "choice", decision=decision("decided", "end", {"end": 3}),
             route_kind="choice", route_value="end", next="o1"),
        Step("hostile", "o1", "outcome"),
    ]
    return Trace("hostile", "1", "0" * 64, "h", [], steps=steps, outcome="o1")


@pytest.fixture(scope="session")
def main_trace() -> Callable[[], Trace]:
    """A fresh trace of tests/fixtures/render/main.yaml on every call (tests change it)."""
    return _main_trace


@pytest.fixture(scope="session")
def hostile_trace() -> Callable[[], Trace]:
    """A fresh trace of tests/fixtures/render/hostile.yaml on every call."""
    return _hostile_trace


# ---------------------------------------------------------------- the coalition map's cases


@pytest.fixture(scope="session")
def coalition_walk(coalition_path: Path, coalition_scenarios: Path
                   ) -> Callable[[int], tuple[DecisionMap, Trace]]:
    """Walk the coalition map with the answers of its scenario number `case` (stopping at
    a question the case does not answer): the map and the trace, as a report gets them."""

    def walk(case: int = 0) -> tuple[DecisionMap, Trace]:
        dm = load_map(str(coalition_path))
        text = read_text(str(coalition_scenarios))
        data, pos = parse_yaml(text, str(coalition_scenarios))
        c = data["cases"][case]
        answers = answers_from_data({k: c[k] for k in ("group", "answers")}, pos, dm)
        return dm, run(dm, answers.group, answers.source(dm.id), stop_at_missing=True)

    return walk
