"""Reading a form export: one row per member, a column naming each member's group, and
a column per question id."""

from __future__ import annotations

import csv
import difflib
import io
import operator

from ..errors import InputError
from ..gcpause import paused
from .answers import questions_of
from .loader import DecisionMap
from .yaml_source import INPUT_SIZE_HINT, read_text


@paused()
def read_responses(path: str, dm: DecisionMap, group_by: str, member_column: str | None = None,
                   header_map: dict[str, str] | None = None) -> dict[str, list[tuple[int, dict]]]:
    """Rows grouped by the group column: {group: [(row number, {question key: cell})]}."""
    text = read_text(path, hint=INPUT_SIZE_HINT)
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
    # csv.reader with the DictReader's semantics (blank lines skipped, short rows padded
    # with None, a longer row refused, the last of two same-named columns wins), without
    # building a dict per row
    last = {h: i for i, h in enumerate(header)}
    width = len(header)
    gi = last[group_by]
    mi = last[member_column] if member_column else None
    picks = [(last[h], q) for h, q in columns.items()]
    # a full row's cells as {question: cell}, empty cells left out, built in C
    take = operator.itemgetter(*[i for i, _ in picks], *([0] if len(picks) == 1 else []))
    keys = [q for _, q in picks]
    nonempty = operator.itemgetter(1)
    groups: dict[str, list[tuple[int, dict]]] = {}
    n = 1
    for row in reader.reader:
        if not row:
            continue
        n += 1
        size = len(row)
        if size > width:
            raise InputError(f"more cells than columns ({len(header)})", f"{path}:row {n}")
        g = row[gi].strip() if gi < size else ""
        if not g:
            raise InputError(f"the {group_by!r} cell is empty", f"{path}:row {n}")
        if size == width:
            cells = dict(filter(nonempty, zip(keys, take(row), strict=False)))
        else:
            cells = {q: row[i] for i, q in picks if i < size and row[i] != ""}
        name = (row[mi].strip() if mi < size else "") if mi is not None else ""
        cells["\0member"] = name or f"row {n}"
        rows = groups.get(g)
        if rows is None:
            groups[g] = [(n, cells)]
        else:
            rows.append((n, cells))
    return groups
