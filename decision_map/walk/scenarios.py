"""Map tests for authors: scenario files of cases with expected outcomes and paths, and
the coverage they leave (choices, statuses and outcomes no case exercised)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import DecisionMapError, InputError, MapError
from ..io.answers import answers_from_data
from ..io.loader import DecisionMap
from ..io.yaml_source import INPUT_SIZE_HINT, Positions, parse_yaml, read_text
from ..model.format import ChoiceQuestion, Handoff, NumberQuestion, Outcome, TextQuestion
from ..model.graph import edges_of
from ..model.trace import Trace, node_key
from .replay import run_answers

QUESTION_TYPES = (ChoiceQuestion, NumberQuestion, TextQuestion, Handoff)


@dataclass
class CaseResult:
    name: str
    passed: bool
    problems: list[str]
    trace: Trace | None


@dataclass
class TestReport:
    results: list[CaseResult]
    uncovered: list[str] = field(default_factory=list)
    total_routes: int = 0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def default_scenarios(map_path: str) -> str:
    """Where a map's scenarios live: `scenarios/<stem>.yaml` beside the map."""
    folder, name = os.path.split(map_path)
    return os.path.join(folder, "scenarios", os.path.splitext(name)[0] + ".yaml")


def run_scenarios(dm: DecisionMap, path: str) -> TestReport:
    """Run every case in a scenario file; a case that cannot run is a failed case."""
    try:
        data, pos = parse_yaml(read_text(path, hint=INPUT_SIZE_HINT), path)
    except MapError as e:
        raise InputError(e.diagnostic.message, str(e.diagnostic.where)) from None
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list) or not cases:
        raise InputError("a scenario file has `cases`: a list of cases", str(pos.where(())))
    results = [_run_case(dm, case, pos, i) for i, case in enumerate(cases)]
    uncovered, total = coverage(dm, [r.trace for r in results if r.trace])
    return TestReport(results, uncovered, total)


def _run_case(dm: DecisionMap, case: Any, pos: Positions, i: int) -> CaseResult:
    where = pos.where(("cases", i))
    name = str(case.get("name", f"case {i + 1}")) if isinstance(case, dict) else f"case {i + 1}"
    if not isinstance(case, dict):
        return CaseResult(name, False, [f"{where}: a case is a mapping"], None)
    sub = _SubPositions(pos, ("cases", i))
    try:
        # what was written down (minutes) and who takes on each next step (owners)
        # walk with the votes, as in an answers file
        answers = answers_from_data(
            {k: v for k, v in case.items()
             if k in ("group", "answers", "steps", "minutes", "owners")}, sub, dm)
        trace = run_answers(dm, answers, str(where), stop_at_missing=True)
    except DecisionMapError as e:
        return CaseResult(name, False, [str(e)], None)
    expect = case.get("expect") or {}
    problems = []
    if "outcome" in expect and trace.outcome != expect["outcome"]:
        got = trace.outcome or f"a stop ({trace.stopped})"
        problems.append(f"expected outcome {expect['outcome']!r}, got {got!r}")
    if "verdict" in expect and trace.verdict != expect["verdict"]:
        problems.append(f"expected verdict {expect['verdict']!r}, got {trace.verdict!r}")
    if "stopped" in expect and bool(trace.stopped) != bool(expect["stopped"]):
        problems.append(f"expected stopped={expect['stopped']}, got {trace.stopped!r}")
    if "path" in expect:
        got_path = path_of(trace)
        if got_path != [str(p) for p in expect["path"]]:
            problems.append(f"expected path {expect['path']}, got {got_path}")
    if "outcome" not in expect and "stopped" not in expect and trace.stopped:
        problems.append(f"the walk stopped: {trace.stopped}")
    return CaseResult(name, not problems, problems, trace)


def path_of(trace: Trace) -> list[str]:
    """Node ids in walk order, each once per visit (hand-off nodes as MAP-ID/NODE-ID)."""
    out: list[str] = []
    for s in trace.steps:
        if s.kind == "handoff" and s.route_kind is not None:
            continue  # the return from a hand-off is the same node again
        out.append(s.key)
    return out


def coverage(dm: DecisionMap, traces: list[Trace]) -> tuple[list[str], int]:
    """Routes out of questions and hand-offs, and outcomes, that no trace took."""
    taken: set[tuple[str, str, str, str]] = set()
    reached: set[tuple[str, str]] = set()
    for t in traces:
        for s in t.steps:
            reached.add((s.map_id, s.node))
            if s.route_kind:
                taken.add((s.map_id, s.node, s.route_kind, s.route_value or ""))
    missing: list[str] = []
    total = 0
    for m in _maps(dm):
        for nid, node in m.nodes.items():
            label = node_key(m.id, nid, top=m is dm)
            if isinstance(node, Outcome):
                total += 1
                if (m.id, nid) not in reached:
                    missing.append(f"outcome {label}")
            elif isinstance(node, QUESTION_TYPES):
                for e in edges_of(node):
                    total += 1
                    if (m.id, nid, e.kind, e.value) not in taken:
                        missing.append(f"{label}: {e.kind} {e.value}")
    return missing, total


def _maps(dm: DecisionMap) -> list[DecisionMap]:
    out: list[DecisionMap] = []
    todo = [dm]
    while todo:
        m = todo.pop(0)
        if any(o.path == m.path for o in out):
            continue
        out.append(m)
        todo.extend(link.loaded for link in m.handoffs.values() if link.loaded)
    return out


class _SubPositions(Positions):
    """Positions of one case, so answer errors point into the scenario file."""

    def __init__(self, base: Positions, prefix: tuple) -> None:
        super().__init__(base.file, base.values, base.keys)
        self._base, self._prefix = base, prefix

    def where(self, path, *, key: bool = False):  # type: ignore[override]
        return self._base.where(self._prefix + tuple(path), key=key)
