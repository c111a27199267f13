"""Many groups at once, from the spreadsheet organizers already have: one row per member,
a column naming each member's group, and a column per question id."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, WalkError
from ..gcpause import paused
from ..io.loader import DecisionMap
from ..model.decision import ABSTAIN, Ballot
from ..model.format import TextQuestion
from ..rules.ballots import normal_special
from ..rules.deciders import decide
from .engine import Position, run
from .router import MAX_STEPS, Frame, advance, answer, group_names, router_for

_BLOCK = re.compile(r"^\s*(block|object)\s*[:\-]\s*(.+)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class GroupResult:
    group: str
    members: int
    outcome: str | None
    verdict: str | None
    steps: int
    decided_at: str | None
    stopped: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BatchReport:
    results: list[GroupResult]

    def summary(self) -> Counter[str]:
        return Counter(r.outcome or "(stopped)" for r in self.results)


def ballot_from_cell(member: str, raw: str) -> Ballot:
    """A member's ballot from one responses cell: a number, `block: reason`, or words."""
    raw = raw.strip()
    m = _BLOCK.match(raw)
    if m:
        return Ballot(member, m.group(1).lower(), m.group(2).strip())
    try:
        num: float = float(raw)
        return Ballot(member, int(num) if num.is_integer() else num)
    except ValueError:
        return Ballot(member, raw)


@paused()
def run_batch(dm: DecisionMap, groups: dict[str, list[tuple[int, dict]]], path: str) -> BatchReport:
    """Walk the map once per group; a vote that does not fit names its file, row and question.

    Each group walks the map's router (router.py), as `Walk` does, with a recorder that
    counts steps instead of building a trace, and each question is decided once per
    distinct pattern of votes in the batch (vote patterns repeat)."""
    results: list[GroupResult] = []
    batch = _Batch(dm)
    for g, rows in groups.items():
        members = [cells["\0member"] for _, cells in rows]
        if len(set(members)) != len(members):
            row_of = {cells["\0member"]: n for n, cells in rows}
            dup = next(m for m in members if members.count(m) > 1)
            raise InputError(f"group {g!r} lists member {dup!r} twice",
                             f"{path}:row {row_of[dup]}")
        try:
            results.append(batch.run(g, members, rows))
        except WalkError as e:
            raise _located(g, e, rows, members, path) from None
    return BatchReport(results)


def run_batch_engine(dm: DecisionMap, groups: dict[str, list[tuple[int, dict]]],
                     path: str) -> BatchReport:
    """run_batch through the engine for every group: a `Walk` and a full trace per group
    (the reference the batch is measured and tested against)."""
    results: list[GroupResult] = []
    for g, rows in groups.items():
        members = [cells["\0member"] for _, cells in rows]
        row_of = {cells["\0member"]: n for n, cells in rows}
        if len(set(members)) != len(members):
            dup = next(m for m in members if members.count(m) > 1)
            raise InputError(f"group {g!r} lists member {dup!r} twice",
                             f"{path}:row {row_of[dup]}")
        results.append(_engine_result(dm, g, rows, members, path))
    return BatchReport(results)


def _located(g: str, e: WalkError, rows: list[tuple[int, dict]], members: list[str],
             path: str) -> InputError:
    """A group's walk error as one line naming the file and the row of the member it
    names (else the group's first row)."""
    row_of = {cells["\0member"]: n for n, cells in rows}
    msg = str(e)
    row = next((row_of[m] for m in members if f"from {m}" in msg or f"{m!r}" in msg),
               rows[0][0])
    return InputError(f"group {g!r}: {msg}", f"{path}:row {row}")


def _engine_result(dm: DecisionMap, g: str, rows: list[tuple[int, dict]], members: list[str],
                   path: str) -> GroupResult:
    def answers(pos: Position, rows=rows) -> list[Ballot] | None:
        key = pos.key
        out = [ballot_from_cell(c["\0member"], c[key]) for _, c in rows if key in c]
        return out or None

    try:
        trace = run(dm, members, answers, stop_at_missing=True)
    except WalkError as e:
        raise _located(g, e, rows, members, path) from None
    decided_at = next((s.node for s in reversed(trace.steps) if s.decision), None)
    return GroupResult(g, len(members), trace.outcome, trace.verdict,
                       len(trace.steps), decided_at, trace.stopped)


# ---------------------------------------------------------------- the counting recorder


class _D:
    """What a check or a template reads of a decision: its status, value and texts (the
    batch keeps no sentences)."""

    __slots__ = ("status", "value", "texts")
    explanation = ""

    def __init__(self, status: str, value: Any, texts: tuple = ()) -> None:
        self.status, self.value, self.texts = status, value, texts


class _Count:
    """The batch's recorder: how many steps, where the last decision was taken, and how
    the walk ended; the outcome text is rendered (a failing one fails the run) but not
    kept, as a batch result does not show it."""

    __slots__ = ("steps", "decided_at", "stopped", "outcome", "verdict")

    def __init__(self) -> None:
        self.steps = 0
        self.decided_at: str | None = None
        self.stopped: str | None = None
        self.outcome: str | None = None
        self.verdict: str | None = None

    def record(self, node_id: str, node: object, *, ballots: tuple = (), decision: Any = None,
               route: tuple = (None, None), target: str | None = None,
               explanation: str = "") -> None:
        self.steps += 1
        if decision is not None:
            self.decided_at = node_id

    def reroute(self, target: str, note: str) -> None:
        pass

    def stop(self, why: str) -> None:
        self.stopped = why

    def end(self, node_id: str, node: Any) -> None:
        self.outcome, self.verdict = node_id, node.verdict

    def outcome_text(self, text: str) -> None:
        pass


class _Batch:
    """Groups walked on one map's router, each question decided through a memo.

    A question's (status, value) depends only on its rule, the group's size and the
    multiset of cells given (names and order only reach the sentence), so it is
    computed by rules.decide once per (question, size, sorted cells) and reused."""

    def __init__(self, dm: DecisionMap) -> None:
        self.router = router_for(dm)
        self.top_id = dm.id
        self.memo: dict[tuple, tuple[str, Any]] = {}
        self.kinds: dict[str, tuple[str, Any]] = {}

    def _text_kind(self, raw: str) -> tuple[str, Any]:
        """How a text question reads a cell: A(bstain), T(ext) or X (refused), and the
        ballot's value."""
        k = self.kinds.get(raw)
        if k is None:
            v = ballot_from_cell("", raw).value
            k = ("A" if normal_special(v) == ABSTAIN else "T" if isinstance(v, str) else "X",
                 v)
            self.kinds[raw] = k
        return k

    def _decide(self, m: DecisionMap, qid: str, node: Any, members: list[str],
                given: list[tuple[str, str]]) -> _D:
        if isinstance(node, TextQuestion):
            kinds = [(who, self._text_kind(raw)) for who, raw in given]
            pattern = tuple(sorted(k[0] for _, k in kinds))
            status, value = self._memo(m, qid, node, members, given, pattern)
            if status != "decided":
                return _D(status, value)
            return _D(status, value, tuple((who, k[1]) for who, k in kinds if k[0] == "T"))
        pattern = tuple(sorted([raw for _, raw in given]))
        return _D(*self._memo(m, qid, node, members, given, pattern))

    def _memo(self, m: DecisionMap, qid: str, node: Any, members: list[str],
              given: list[tuple[str, str]], pattern: tuple) -> tuple[str, Any]:
        """(status, value) of the real rule, decided once per question, group size and
        vote pattern: the patterns repeat across groups."""
        key = (id(node), len(members), pattern)
        hit = self.memo.get(key)
        if hit is None:
            d = decide(qid, node, m.model.defaults, members,
                       [ballot_from_cell(who, raw) for who, raw in given])
            hit = self.memo[key] = (d.status, d.value)
        return hit

    def run(self, g: str, members: list[str], rows: list[tuple[int, dict]]) -> GroupResult:
        """One group's walk, as `engine.run` with the group's cells as answers."""
        members = group_names(members)
        rec = _Count()
        stack = [Frame(self.router)]
        waiting = advance(stack, members, rec)
        submissions = 0
        while waiting:
            if submissions >= MAX_STEPS:
                raise WalkError(f"the walk did not end within {MAX_STEPS} steps")
            f = stack[-1]
            nid = f.node
            row = f.router.rows[nid]
            key = nid if f.dm.id == self.top_id else row.key  # as node_key names it
            given = [(c["\0member"], c[key]) for _, c in rows if key in c]
            if not given:
                where = nid if len(stack) == 1 else row.key
                rec.stop(f"No answer for question {where!r}.")
                break
            d = self._decide(f.dm, nid, row.node, members, given)
            submissions += 1
            waiting = answer(stack, members, rec, d)
        return GroupResult(g, len(members), rec.outcome, rec.verdict, rec.steps,
                           rec.decided_at, rec.stopped)
