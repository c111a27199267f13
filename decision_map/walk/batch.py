"""Many groups at once, from the spreadsheet organizers already have: one row per member,
a column naming each member's group, and a column per question id.

The batch is a columnar computation on the core's router: a question's (status, value)
for a group depends only on the group's size and the multiset of its cells there, not on
the path. So each question is decided for every group at once: its distinct cells are
read once (io/cells.py), tallied per group with array operations, and each distinct
(size, tally) is decided once by the real rule. The map is then walked once per distinct
path, not once per group: the set of groups is split at each question by the decision
it gets. A group whose cells a rule refuses gets an error row; the others their results.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import WalkError
from ..gcpause import paused
from ..io.cells import CellRule, ballot_from_cell
from ..io.loader import DecisionMap
from ..io.responses import MEMBER, Responses, from_groups
from ..model.decision import ABSTAIN, Ballot
from ..model.format import TextQuestion
from ..rules.ballots import normal_special
from ..rules.deciders import decide
from ..templating import render_text, undeclared
from .engine import Position, run
from .router import MAX_STEPS, Frame, advance, answer, group_names, router_for, template_context

__all__ = ["BatchReport", "GroupResult", "ballot_from_cell", "run_batch", "run_batch_engine"]


@dataclass(frozen=True)
class GroupResult:
    """One group's result row; `error` is set (and the rest empty) for a group whose cells
    a rule refused."""

    group: str
    members: int
    outcome: str | None
    verdict: str | None
    steps: int
    decided_at: str | None
    stopped: str | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BatchReport:
    results: list[GroupResult]

    def summary(self) -> Counter[str]:
        return Counter("(error)" if r.error else r.outcome or "(stopped)"
                       for r in self.results)

    @property
    def errors(self) -> list[str]:
        """Each refused group's located line, in file order."""
        return [r.error for r in self.results if r.error]


@paused()
def run_batch(dm: DecisionMap, responses: Responses | dict[str, list[tuple[int, dict]]],
              path: str, one_by_one: int | None = None) -> BatchReport:
    """Decide every group; a vote that does not fit gives its group an error row naming
    the file, row and question. A set of at most `one_by_one` groups on one path is walked
    a group at a time (default ONE_BY_ONE; the results are the same either way)."""
    if isinstance(responses, dict):
        responses = from_groups(responses, path)
    return _Columnar(dm, responses, path,
                     ONE_BY_ONE if one_by_one is None else one_by_one).run()


def run_batch_engine(dm: DecisionMap, groups: dict[str, list[tuple[int, dict]]],
                     path: str) -> BatchReport:
    """run_batch through the engine for every group: a `Walk` and a full trace per group
    (the reference the batch is measured and tested against)."""
    results: list[GroupResult] = []
    for g, rows in groups.items():
        members = [cells[MEMBER] for _, cells in rows]
        error = _duplicate(g, rows, path)
        if error:
            results.append(_failed(g, len(members), error))
            continue
        results.append(_engine_result(dm, g, rows, members, path))
    return BatchReport(results)


def _failed(g: str, size: int, error: str) -> GroupResult:
    return GroupResult(g, size, None, None, 0, None, None, error)


def _duplicate(g: str, rows: list[tuple[int, dict]], path: str) -> str | None:
    """The located line for a group listing one member twice, or None."""
    seen: set[str] = set()
    for n, cells in rows:
        m = cells[MEMBER]
        if m in seen:
            return f"{path}:row {n}: group {g!r} lists member {m!r} twice"
        seen.add(m)
    return None


def _located(g: str, msg: str, rows: list[tuple[int, str]], path: str) -> str:
    """A group's walk error as one line naming the file and the row of the member it
    names (else the group's first row); `rows` is (row number, member) in file order."""
    row = next((n for n, m in rows if f"from {m}" in msg or f"{m!r}" in msg), rows[0][0])
    return f"{path}:row {row}: group {g!r}: {msg}"


def _engine_result(dm: DecisionMap, g: str, rows: list[tuple[int, dict]], members: list[str],
                   path: str) -> GroupResult:
    from ..io.answers import questions_of

    found = questions_of(dm)

    def answers(pos: Position, rows=rows) -> list[Ballot] | None:
        key = pos.key
        m, _nid, node = found[key]
        out = [ballot_from_cell(c[MEMBER], c[key], node, m.model.defaults)
               for _, c in rows if key in c]
        return out or None

    try:
        trace = run(dm, members, answers, stop_at_missing=True)
    except WalkError as e:
        named = [(n, c[MEMBER]) for n, c in rows]
        return _failed(g, len(members), _located(g, str(e), named, path))
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

    def copy(self) -> _Count:
        new = _Count()
        new.steps, new.decided_at, new.stopped = self.steps, self.decided_at, self.stopped
        return new


def _fork(stack: list[Frame]) -> list[Frame]:
    """A copy of a hand-off stack, for one of the paths a set of groups splits into."""
    out = []
    for f in stack:
        g = Frame.__new__(Frame)
        g.router, g.dm, g.node, g.via = f.router, f.dm, f.node, f.via
        g.decisions, g.visits = dict(f.decisions), dict(f.visits)
        out.append(g)
    return out


# ---------------------------------------------------------------- deciding by column

NONE, ERROR = -1, -2  # a group's decision at a question: nobody answered, a refused cell
ONE_BY_ONE = 16  # a set of groups this small is walked one group at a time, without arrays


class _Question:
    """One question decided for every group at once: `of_group[g]` indexes `decisions`
    (a _D), or is NONE or ERROR; `listed` is the same as a list, for walking one group."""

    __slots__ = ("of_group", "decisions", "listed")

    def __init__(self, of_group: np.ndarray, decisions: list[_D]) -> None:
        self.of_group, self.decisions = of_group, decisions
        self.listed: list[int] = of_group.tolist()


def _unique_rows(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a non-negative integer matrix, and each row's index among
    them: one integer per row where the counts fit 62 bits (a 1-D sort), else by rows."""
    bases = mat.max(axis=0).astype(object) + 1 if len(mat) else []
    total = 1
    for b in bases:
        total *= int(b)
    if len(mat) and total < 2 ** 62:
        key = np.zeros(len(mat), dtype=np.int64)
        for j, b in enumerate(bases):
            key = key * int(b) + mat[:, j]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return mat[first], inverse.reshape(-1)
    uniq, inverse = np.unique(mat, axis=0, return_inverse=True)
    return uniq, inverse.reshape(-1)


class _Columnar:
    """The batch: each question decided by column on first use, the map walked once per
    distinct path, groups split at each question by their decision."""

    def __init__(self, dm: DecisionMap, r: Responses, path: str, one_by_one: int) -> None:
        self.dm, self.r, self.path, self.one_by_one = dm, r, path, one_by_one
        self.router = router_for(dm)
        self.top_id = dm.id
        n_groups = len(r.groups)
        self.order = np.argsort(r.group_of, kind="stable")  # rows, group by group
        self.sizes = np.bincount(r.group_of, minlength=n_groups)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)))
        self.questions: dict[str, _Question] = {}
        self.heard: dict[str, list[str | None]] = {}
        self.out: list[GroupResult | None] = [None] * n_groups

    # ------------------------------------------------------------ per group, when needed

    def rows_of(self, g: int) -> list[int]:
        return self.order[self.starts[g]:self.starts[g + 1]].tolist()

    def members_of(self, g: int) -> list[str]:
        return [self.r.members[i] for i in self.rows_of(g)]

    def cells_of(self, g: int, key: str) -> list[tuple[str, str]]:
        """(member, cell) of the group's members who answered `key`, in file order."""
        col = self.r.columns.get(key)
        if col is None:
            return []
        return [(self.r.members[i], col.texts[c]) for i in self.rows_of(g)
                if (c := int(col.codes[i])) >= 0]

    def refused(self, g: int, key: str, qid: str, node: Any, dm: DecisionMap) -> str:
        """The located line for a group whose cells at `key` a rule refuses."""
        members = self.members_of(g)
        rule = CellRule(node, dm.model.defaults)
        ballots = [Ballot(m, *rule.value(t)) for m, t in self.cells_of(g, key)]
        named = [(int(self.r.rows[i]), self.r.members[i]) for i in self.rows_of(g)]
        try:
            decide(qid, node, dm.model.defaults, members, ballots)
        except WalkError as e:
            return _located(self.r.groups[g], str(e), named, self.path)
        return _located(self.r.groups[g], "a vote does not fit", named, self.path)

    # ------------------------------------------------------------ one question, all groups

    def question(self, key: str, qid: str, node: Any, dm: DecisionMap) -> _Question:
        got = self.questions.get(key)
        if got is None:
            got = self.questions[key] = self._decide_all(key, qid, node, dm)
        return got

    def _decide_all(self, key: str, qid: str, node: Any, dm: DecisionMap) -> _Question:
        n_groups = len(self.r.groups)
        col = self.r.columns.get(key)
        if col is None:
            return _Question(np.full(n_groups, NONE, dtype=np.int32), [])
        # each distinct cell read once, as a class of equal ballots
        rule = CellRule(node, dm.model.defaults)
        text_q = isinstance(node, TextQuestion)
        classes: dict[Any, int] = {}
        reps: list[tuple[Any, str | None]] = []
        lut = np.empty(len(col.texts) + 1, dtype=np.int32)
        lut[-1] = -1
        for i, t in enumerate(col.texts):
            value, reason = rule.value(t)
            k: Any = ((ABSTAIN if normal_special(value) == ABSTAIN else "T") if text_q
                      else (repr(value), reason))
            c = classes.get(k)
            if c is None:
                c = classes[k] = len(reps)
                reps.append((value, reason))
            lut[i] = c
        n_cls = max(len(reps), 1)
        cls = lut[col.codes]  # -1 (empty) indexes lut[-1]
        given = cls >= 0
        tally = np.bincount(self.r.group_of[given].astype(np.int64) * n_cls + cls[given],
                            minlength=n_groups * n_cls).reshape(n_groups, n_cls)
        mat = np.hstack([self.sizes[:, None], tally])
        uniq, inverse = _unique_rows(mat)
        codes = np.empty(len(uniq), dtype=np.int32)
        decisions: list[_D] = []
        for u, row in enumerate(uniq.tolist()):
            size, counts = row[0], row[1:]
            if not any(counts):
                codes[u] = NONE
                continue
            members = [f"m{i}" for i in range(size)]
            ballots: list[Ballot] = []
            for c, n in enumerate(counts):
                value, reason = reps[c]
                ballots.extend(Ballot(members[len(ballots)], value, reason) for _ in range(n))
            try:
                d = decide(qid, node, dm.model.defaults, members, ballots)
            except WalkError:
                codes[u] = ERROR
                continue
            codes[u] = len(decisions)
            decisions.append(_D(d.status, d.value))
        return _Question(codes[inverse], decisions)

    # ------------------------------------------------------------ the walk, once per path

    def run(self) -> BatchReport:
        r = self.r
        bad = self._bad_groups()
        for g, error in bad.items():
            self.out[g] = _failed(r.groups[g], int(self.sizes[g]), error)
        live = np.array([g for g in range(len(r.groups)) if g not in bad], dtype=np.int64)
        if len(live):
            stack = [Frame(self.router)]
            rec = _Count()
            if advance(stack, [], rec, render=False):
                work = [(stack, rec, live, 0)]
            else:
                self._finish(stack, rec, live.tolist())
                work = []
            while work:
                self._step(work, *work.pop())
        return BatchReport([x for x in self.out if x is not None])

    def _bad_groups(self) -> dict[int, str]:
        """Groups listing a member twice, or a member with no name: {group: located line}."""
        r = self.r
        seen: set[tuple[int, str]] = set()
        bad: dict[int, str] = {}
        for i, (g, m) in enumerate(zip(r.group_of.tolist(), r.members, strict=True)):
            if g in bad:
                continue
            if (g, m) in seen:
                bad[g] = (f"{self.path}:row {int(r.rows[i])}: group {r.groups[g]!r} "
                          f"lists member {m!r} twice")
            seen.add((g, m))
            if not m.strip() or m != m.strip():
                try:
                    group_names(self.members_of(g))
                except WalkError as e:
                    named = [(int(r.rows[j]), r.members[j]) for j in self.rows_of(g)]
                    bad[g] = _located(r.groups[g], str(e), named, self.path)
        return bad

    def _step(self, work: list, stack: list[Frame], rec: _Count, gids: np.ndarray,
              submissions: int) -> None:
        """The groups `gids`, all at the same question with the same past, split by the
        decision each gets there and moved on."""
        if submissions >= MAX_STEPS:
            for g in gids.tolist():
                named = [(int(self.r.rows[i]), self.r.members[i]) for i in self.rows_of(g)]
                self.out[g] = _failed(self.r.groups[g], int(self.sizes[g]), _located(
                    self.r.groups[g], f"the walk did not end within {MAX_STEPS} steps",
                    named, self.path))
            return
        if len(gids) <= self.one_by_one:
            for g in gids.tolist():
                self._walk_one(_fork(stack), rec.copy(), g, submissions)
            return
        f = stack[-1]
        nid = f.node
        row = f.router.rows[nid]
        key = nid if f.dm.id == self.top_id else row.key  # as node_key names it
        q = self.question(key, nid, row.node, f.dm)
        got = q.of_group[gids]
        kinds = np.unique(got)
        for n, d in enumerate(kinds.tolist()):
            sub = gids[got == d]
            if d == NONE:
                done = rec.copy()
                where = nid if len(stack) == 1 else row.key
                done.stop(f"No answer for question {where!r}.")
                self._finish(stack, done, sub.tolist())
                continue
            if d == ERROR:
                for g in sub.tolist():
                    self.out[g] = _failed(self.r.groups[g], int(self.sizes[g]),
                                          self.refused(g, key, nid, row.node, f.dm))
                continue
            last = n == len(kinds) - 1
            s2, r2 = (stack, rec) if last else (_fork(stack), rec.copy())
            if answer(s2, [], r2, q.decisions[d], render=False):
                work.append((s2, r2, sub, submissions + 1))
            else:
                self._finish(s2, r2, sub.tolist())

    def _walk_one(self, stack: list[Frame], rec: _Count, g: int, submissions: int) -> None:
        """One group walked on from where its set split off, its decisions looked up."""
        while True:
            if submissions >= MAX_STEPS:
                named = [(int(self.r.rows[i]), self.r.members[i]) for i in self.rows_of(g)]
                self.out[g] = _failed(self.r.groups[g], int(self.sizes[g]), _located(
                    self.r.groups[g], f"the walk did not end within {MAX_STEPS} steps",
                    named, self.path))
                return
            f = stack[-1]
            nid = f.node
            row = f.router.rows[nid]
            key = nid if f.dm.id == self.top_id else row.key
            q = self.question(key, nid, row.node, f.dm)
            d = q.listed[g]
            if d == NONE:
                where = nid if len(stack) == 1 else row.key
                rec.stop(f"No answer for question {where!r}.")
                break
            if d == ERROR:
                self.out[g] = _failed(self.r.groups[g], int(self.sizes[g]),
                                      self.refused(g, key, nid, row.node, f.dm))
                return
            submissions += 1
            if not answer(stack, [], rec, q.decisions[d], render=False):
                break
        self._finish(stack, rec, [g])

    def _finish(self, stack: list[Frame], rec: _Count, gids: list[int]) -> None:
        """Results for groups whose walk has ended; an outcome's text is rendered for each
        group whose text can differ (a failing text fails the run, as in a `Walk`)."""
        groups = self.r.groups
        node = self.router.rows[rec.outcome].node if rec.outcome else None
        if node is not None and node.text:
            f = stack[0]
            where = f"{f.dm.path}: outcome {rec.outcome!r}"
            try:
                per_group = bool({"group", "texts"} & undeclared(node.text))
            except Exception:  # a text that does not parse: render_text says why, below
                per_group = False
            # what every group on this path shares, built once (the sandbox is immutable)
            base = template_context(f, [], node)
            asked = [qid for qid, d in f.decisions.items() if d.status == "decided"
                     and isinstance(f.router.rows[qid].node, TextQuestion)]
            for g in (gids if per_group else gids[:1]):
                render_text(node.text, self._context(base, f, asked, g), where)
        for g in gids:
            self.out[g] = GroupResult(groups[g], int(self.sizes[g]), rec.outcome, rec.verdict,
                                      rec.steps, rec.decided_at, rec.stopped)

    def _heard(self, key: str) -> list[str | None]:
        """Per distinct cell of a text question's column: the words as heard (None for an
        abstention), worked out once per column."""
        got = self.heard.get(key)
        if got is None:
            col = self.r.columns[key]
            got = self.heard[key] = [None if normal_special(t.strip()) == ABSTAIN else t.strip()
                                     for t in col.texts]
        return got

    def _context(self, base: dict[str, Any], f: Frame, asked: list[str],
                 g: int) -> dict[str, Any]:
        """What group `g`'s outcome text reads: the path's answers and statuses, its names,
        and the words each decided text question heard from it."""
        rows = self.rows_of(g)
        members = self.r.members
        texts = {k: v for k, v in base["texts"].items() if k not in asked}
        for qid in asked:
            heard = self._heard(qid)
            codes = self.r.columns[qid].codes
            said = [[members[i], w] for i in rows
                    if (c := int(codes[i])) >= 0 and (w := heard[c]) is not None]
            if said:
                texts[qid] = said
        return {**base, "texts": texts, "group": [members[i] for i in rows]}
