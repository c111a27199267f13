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
from ..model.conditions import compare, holds
from ..model.decision import ABSTAIN, Ballot
from ..model.format import (
    Check,
    ChoiceQuestion,
    Handoff,
    Info,
    NumberQuestion,
    Outcome,
    TextQuestion,
)
from ..model.trace import node_key
from ..rules.ballots import normal_special
from ..rules.deciders import decide
from ..templating import ENV, MAX_OUTPUT
from .engine import STATUS_ROUTE, Position, _nth, run

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


def _ballot(member: str, raw: str) -> Ballot:
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

    Each group is walked by `_FastWalk`, which gives the same GroupResult as the engine
    (`engine.run`) without building ballots, sentences or a trace, and decides each
    question once per distinct pattern of votes in the batch (vote patterns repeat). A
    group the fast walk cannot finish cleanly (a vote that does not fit, a template that
    fails, anything unexpected) is walked again by the engine, which raises the error
    with its file and row, exactly as before."""
    results: list[GroupResult] = []
    fast = _FastWalk(dm)
    for g, rows in groups.items():
        members = [cells["\0member"] for _, cells in rows]
        if len(set(members)) != len(members):
            row_of = {cells["\0member"]: n for n, cells in rows}
            dup = next(m for m in members if members.count(m) > 1)
            raise InputError(f"group {g!r} lists member {dup!r} twice",
                             f"{path}:row {row_of[dup]}")
        try:
            result = fast.run(g, members, rows)
        except Exception:  # the engine says what went wrong, or shows it was fine
            result = None
        if result is None:
            result = _engine_result(dm, g, rows, members, path)
        results.append(result)
    return BatchReport(results)


def run_batch_engine(dm: DecisionMap, groups: dict[str, list[tuple[int, dict]]],
                     path: str) -> BatchReport:
    """run_batch through the engine for every group (the reference the fast walk is
    tested against)."""
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


def _engine_result(dm: DecisionMap, g: str, rows: list[tuple[int, dict]], members: list[str],
                   path: str) -> GroupResult:
    row_of = {cells["\0member"]: n for n, cells in rows}

    def answers(pos: Position, rows=rows) -> list[Ballot] | None:
        key = pos.key
        out = [_ballot(c["\0member"], c[key]) for _, c in rows if key in c]
        return out or None

    try:
        trace = run(dm, members, answers, stop_at_missing=True)
    except WalkError as e:
        msg = str(e)
        row = next((row_of[m] for m in members if f"from {m}" in msg or f"{m!r}" in msg),
                   rows[0][0])
        raise InputError(f"group {g!r}: {msg}", f"{path}:row {row}") from None
    decided_at = next((s.node for s in reversed(trace.steps) if s.decision), None)
    return GroupResult(g, len(members), trace.outcome, trace.verdict,
                       len(trace.steps), decided_at, trace.stopped)


# ---------------------------------------------------------------- the fast walk

_Q, _INFO, _CHECK, _HANDOFF, _OUTCOME = range(5)
MAX_STEPS = 10_000  # as engine.run


class _Fallback(Exception):
    """The fast walk leaves this group to the engine."""


class _D:
    """What a check or a template reads of a decision: its status, value and texts."""

    __slots__ = ("status", "value", "texts")

    def __init__(self, status: str, value: Any, texts: tuple = ()) -> None:
        self.status, self.value, self.texts = status, value, texts


class _FastWalk:
    """engine.Walk's moves for a batch: the same route, revisit bound, hand-off stack,
    stop sentences and outcome template, counting steps instead of recording them.

    A question's (status, value) depends only on its rule, the group's size and the
    multiset of cells given (names and order only reach the sentence), so it is
    computed by rules.decide once per (question, size, sorted cells) and reused."""

    def __init__(self, dm: DecisionMap) -> None:
        self.top = dm
        self.maps: dict[int, tuple[dict[str, tuple[int, Any]], Any]] = {}
        self.memo: dict[tuple, tuple[str, Any]] = {}
        self.routes: dict[tuple, str | None] = {}
        self.templates: dict[str, Any] = {}
        self.kinds: dict[str, tuple[str, Any]] = {}

    def _nodes(self, m: DecisionMap) -> tuple[dict[str, tuple[int, Any]], Any]:
        got = self.maps.get(id(m))
        if got is None:
            table: dict[str, tuple[int, Any]] = {}
            for nid, node in m.nodes.items():
                if isinstance(node, (ChoiceQuestion, NumberQuestion, TextQuestion)):
                    table[nid] = (_Q, node)
                elif isinstance(node, Info):
                    table[nid] = (_INFO, node)
                elif isinstance(node, Check):
                    table[nid] = (_CHECK, node)
                elif isinstance(node, Handoff):
                    table[nid] = (_HANDOFF, node)
                elif isinstance(node, Outcome):
                    table[nid] = (_OUTCOME, node)
                else:  # pragma: no cover - every kind is above
                    raise _Fallback
            got = (table, m)
            self.maps[id(m)] = got
        return got

    def _text_kind(self, raw: str) -> tuple[str, Any]:
        """How a text question reads a cell: A(bstain), T(ext) or X (refused), and the
        ballot's value."""
        k = self.kinds.get(raw)
        if k is None:
            v = _ballot("", raw).value
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
                       [_ballot(who, raw) for who, raw in given])
            hit = self.memo[key] = (d.status, d.value)
        return hit

    def _route(self, node: Any, d: _D) -> str | None:
        if d.status == "decided":
            if isinstance(node, ChoiceQuestion):
                k = (id(node), str(d.value))
                t = self.routes.get(k, _MISSING)
                if t is _MISSING:
                    t = node.targets()[str(d.value)]
                    self.routes[k] = t
                return t  # type: ignore[return-value]
            if isinstance(node, TextQuestion):
                return node.next
            for b in node.branches:
                if compare(b.when, d.value, d.status):
                    return b.next
            return node.otherwise or None
        key = STATUS_ROUTE.get(d.status)
        target = getattr(node, key) if key else None
        return target or node.otherwise

    def run(self, g: str, members: list[str], rows: list[tuple[int, dict]]) -> GroupResult:
        if any(not n.strip() or n != n.strip() for n in members):
            raise _Fallback
        top = self.top
        # a frame: [nodes table, map, node id, visits, decisions]
        table, m = self._nodes(top)
        start = top.model.start
        stack: list[list] = [[table, m, start, {start: 1}, {}]]
        steps = 0
        submissions = 0
        decided_at: str | None = None
        stopped: str | None = None
        outcome: str | None = None
        verdict: str | None = None

        def go(f: list, target: str | None, from_node: Any) -> str | None:
            """Move frame `f` on; the stop sentence when the walk cannot."""
            if target is None:
                return f"The walk cannot go on from {f[2]!r}: no route for this decision."
            visits = f[3]
            limit = f[1].model.defaults.max_revisits
            seen = visits.get(target, 0)
            if seen > limit:
                fallback = getattr(from_node, "otherwise", None)
                note = (f"Coming back to {target!r} a {_nth(seen + 1)} time would "
                        f"pass the map's limit of {limit} revisits")
                if fallback and fallback != target and visits.get(fallback, 0) <= limit:
                    target = fallback
                else:
                    return f"{note}, and there is no other way on. Stop here and talk."
            f[2] = target
            visits[target] = visits.get(target, 0) + 1
            return None

        while True:
            f = stack[-1]
            table, m, nid = f[0], f[1], f[2]
            kind, node = table[nid]
            if kind == _Q:
                if submissions >= MAX_STEPS:
                    raise _Fallback
                key = node_key(m.id, nid, top=m.id == top.id)
                given = [(c["\0member"], c[key]) for _, c in rows if key in c]
                if not given:
                    where = node_key(m.id, nid, top=len(stack) == 1)
                    stopped = f"No answer for question {where!r}."
                    break
                d = self._decide(m, nid, node, members, given)
                submissions += 1
                f[4][nid] = d
                steps += 1
                decided_at = nid
                stopped = go(f, self._route(node, d), node)
                if stopped:
                    break
            elif kind == _INFO:
                steps += 1
                stopped = go(f, node.next, node)
                if stopped:
                    break
            elif kind == _CHECK:
                target = node.otherwise
                decisions = f[4]
                for route in node.check:
                    if holds(route.when, decisions):
                        target = route.next
                        break
                steps += 1
                stopped = go(f, target, node)
                if stopped:
                    break
            elif kind == _HANDOFF:
                link = m.handoffs.get(nid)
                if link is None or link.loaded is None:
                    raise _Fallback
                sub = link.loaded
                steps += 1
                sub_table, _ = self._nodes(sub)
                s0 = sub.model.start
                stack.append([sub_table, sub, s0, {s0: 1}, {}])
            else:  # an outcome
                steps += 1
                if len(stack) > 1:
                    stack.pop()
                    parent = stack[-1]
                    hand = parent[0][parent[2]][1]
                    target = hand.returns.get(nid) or hand.otherwise
                    steps += 1
                    stopped = go(parent, target, hand)
                    if stopped:
                        break
                    continue
                outcome, verdict = nid, node.verdict
                if node.text:
                    self._render(node, f, members, m)
                break
        return GroupResult(g, len(members), outcome, verdict, steps, decided_at, stopped)

    def _render(self, node: Outcome, f: list, members: list[str], m: DecisionMap) -> None:
        """Render the outcome's text as the engine does (a failure is the engine's to
        report); the text itself is not part of a batch result."""
        template = self.templates.get(node.text)  # type: ignore[arg-type]
        if template is None:
            template = ENV.from_string(node.text)
            self.templates[node.text] = template  # type: ignore[index]
        decisions = f[4]
        context = {
            "answers": {k: d.value for k, d in decisions.items()},
            "texts": {k: [list(t) for t in d.texts] for k, d in decisions.items() if d.texts},
            "group": list(members),
            "map": {"id": m.id, "title": m.model.title, "version": m.version},
            "outcome": {"title": node.outcome, "verdict": node.verdict},
        }
        if len(template.render(**context)) > MAX_OUTPUT:
            raise _Fallback


_MISSING = object()
