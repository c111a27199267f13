"""Many groups at once, from the spreadsheet organizers already have: one row per member,
a column naming each member's group, and a column per question id."""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .answers import questions_of
from .decision import Ballot
from .engine import Position, run
from .errors import InputError, WalkError
from .loader import DecisionMap
from .yamlsrc import read_text

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


def read_responses(path: str, dm: DecisionMap, group_by: str, member_column: str | None = None,
                   header_map: dict[str, str] | None = None) -> dict[str, list[tuple[int, dict]]]:
    """Rows grouped by the group column: {group: [(row number, {question key: cell})]}."""
    text = read_text(path)
    if not text.strip():
        raise InputError("the responses file is empty", path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    known = questions_of(dm)
    mapping = dict(header_map or {})
    if group_by not in header:
        close = difflib.get_close_matches(group_by, header, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"no column {group_by!r} to group by (columns: "
                         f"{', '.join(header)}){hint}", f"{path}:row 1")
    if member_column and member_column not in header:
        raise InputError(f"no member column {member_column!r}", f"{path}:row 1")
    columns: dict[str, str] = {}
    for h in header:
        q = mapping.get(h, h)
        if q in known:
            columns[h] = q
    if not columns:
        raise InputError(f"no column names a question of map {dm.id!r} "
                         f"(questions: {', '.join(k for k in known if '/' not in k)})",
                         f"{path}:row 1")
    groups: dict[str, list[tuple[int, dict]]] = {}
    for n, row in enumerate(reader, start=2):
        if None in row:
            raise InputError(f"more cells than columns ({len(header)})", f"{path}:row {n}")
        g = (row.get(group_by) or "").strip()
        if not g:
            raise InputError(f"the {group_by!r} cell is empty", f"{path}:row {n}")
        cells = {columns[h]: row[h] for h in columns if row.get(h) not in (None, "")}
        name = (row.get(member_column) or "").strip() if member_column else ""
        cells["\0member"] = name or f"row {n}"
        groups.setdefault(g, []).append((n, cells))
    return groups


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


def run_batch(dm: DecisionMap, groups: dict[str, list[tuple[int, dict]]], path: str) -> BatchReport:
    """Walk the map once per group; a vote that does not fit names its file, row and question."""
    results: list[GroupResult] = []
    for g, rows in groups.items():
        members = [cells["\0member"] for _, cells in rows]
        row_of = {cells["\0member"]: n for n, cells in rows}
        if len(set(members)) != len(members):
            dup = next(m for m in members if members.count(m) > 1)
            raise InputError(f"group {g!r} lists member {dup!r} twice",
                             f"{path}:row {row_of[dup]}")

        def answers(pos: Position, rows=rows) -> list[Ballot] | None:
            key = pos.node_id if pos.map_id == dm.id else f"{pos.map_id}/{pos.node_id}"
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
        results.append(GroupResult(g, len(members), trace.outcome, trace.verdict,
                                   len(trace.steps), decided_at, trace.stopped))
    return BatchReport(results)
