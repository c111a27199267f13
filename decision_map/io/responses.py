"""Reading a form export: one row per member, a column naming each member's group, and
a column per question id.

The file is read by column (pyarrow's CSV reader, each column dictionary-encoded): a
question's column is a code per row and the distinct cells once, so a batch parses each
distinct cell once and tallies codes with array operations. Anything the fast reader
refuses (short rows, bad UTF-8, unbalanced quoting...) is read again with `csv.reader`,
which names the row.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..gcpause import paused
from .answers import questions_of
from .loader import DecisionMap
from .yaml_source import INPUT_SIZE_HINT, read_text

# A form export may be far larger than a map: 100,000 groups of 7 answering the 44
# questions of the shipped coalition map is about 200 MB. Bigger is refused unread.
MAX_RESPONSES_BYTES = 1024 * 1024 * 1024
MEMBER = "\0member"


@dataclass
class Column:
    """One question's cells: a code per row (-1: empty) and the distinct texts."""

    codes: np.ndarray
    texts: list[str]


@dataclass
class Responses:
    """A responses file by column: each row's group (as a code), member and row number,
    and a Column per question key."""

    path: str
    groups: list[str]
    group_of: np.ndarray  # int32 per row
    members: list[str]
    rows: np.ndarray  # the file's row number per row (the header is row 1)
    columns: dict[str, Column] = field(default_factory=dict)

    def by_group(self) -> dict[str, list[tuple[int, dict]]]:
        """{group: [(row number, {question key: cell})]}, in file order (tests, tools)."""
        out: dict[str, list[tuple[int, dict]]] = {g: [] for g in self.groups}
        cols = [(k, c.codes.tolist(), c.texts) for k, c in self.columns.items()]
        for i, (g, n, m) in enumerate(zip(self.group_of.tolist(), self.rows.tolist(),
                                          self.members, strict=True)):
            cells: dict[str, Any] = {k: t[codes[i]] for k, codes, t in cols if codes[i] >= 0}
            cells[MEMBER] = m
            out[self.groups[g]].append((n, cells))
        return out


def from_groups(groups: dict[str, list[tuple[int, dict]]], path: str) -> Responses:
    """Responses from {group: [(row number, {question key: cell})]}."""
    names, group_of, members, rows = list(groups), [], [], []
    cols: dict[str, tuple[list[int], dict[str, int]]] = {}
    flat = [(gi, n, c) for gi, g in enumerate(names) for n, c in groups[g]]
    for k in {k for _, _, c in flat for k in c if k != MEMBER}:
        cols[k] = ([-1] * len(flat), {})
    for i, (gi, n, c) in enumerate(flat):
        group_of.append(gi)
        rows.append(n)
        members.append(c[MEMBER])
        for k, v in c.items():
            if k != MEMBER and v != "":
                codes, seen = cols[k]
                codes[i] = seen.setdefault(v, len(seen))
    return Responses(path, names, np.array(group_of, dtype=np.int32), members,
                     np.array(rows, dtype=np.int64),
                     {k: Column(np.array(codes, dtype=np.int32), list(seen))
                      for k, (codes, seen) in cols.items()})


@paused()
def read_responses(path: str, dm: DecisionMap, group_by: str, member_column: str | None = None,
                   header_map: dict[str, str] | None = None) -> Responses:
    """The responses file by column; a file that does not fit names its row."""
    head, quotes, blank, source = _scan(path)
    if blank:
        raise InputError("the responses file is empty", path)
    header = next(csv.reader(io.StringIO(head.decode("utf-8", "replace"), newline="")), [])
    picks, gi, mi = _columns(path, dm, header, group_by, member_column, header_map)
    got = None
    if quotes % 2 == 0:  # an odd count is a quote left open: csv.reader names it
        got = _fast(path, source, header, picks, gi, mi)
    if got is None:
        got = _slow(path, picks, gi, mi, group_by, len(header))
    return got


CHUNK = 16 * 1024 * 1024  # bytes read at a time when scanning a file for its quotes


def _scan(path: str) -> tuple[bytes, int, bool, Any]:
    """The first line, the number of `"` in the file, whether it is blank, and what the
    columnar reader reads: the path of a regular file (scanned in chunks, so it is never
    held whole in memory twice), else the bytes read."""
    try:
        regular = os.path.isfile(path)
        size = os.stat(path).st_size if regular else 0
    except (OSError, ValueError):
        regular, size = False, 0
    if size > MAX_RESPONSES_BYTES:
        raise InputError(f"the file is larger than {MAX_RESPONSES_BYTES} bytes "
                         f"({INPUT_SIZE_HINT})", path)
    if not regular:
        import pyarrow as pa

        raw = _read_bytes(path)
        first = raw[:raw.find(b"\n") + 1 or len(raw)]
        return first, raw.count(b'"'), not raw.strip(), pa.py_buffer(raw)
    quotes, blank, head = 0, True, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if not head:
                head = chunk[3:] if chunk.startswith(b"\xef\xbb\xbf") else chunk
                head = head[:head.find(b"\n") + 1 or len(head)]
            quotes += chunk.count(b'"')
            blank = blank and chunk.isspace()
    return head, quotes, blank, path


def _read_bytes(path: str) -> bytes:
    """The file's bytes (byte-order mark dropped), refused unread past the bound."""
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0
    if size > MAX_RESPONSES_BYTES:
        raise InputError(f"the file is larger than {MAX_RESPONSES_BYTES} bytes "
                         f"({INPUT_SIZE_HINT})", path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RESPONSES_BYTES + 4)
    except OSError:
        read_text(path, hint=INPUT_SIZE_HINT)  # its located error
        raise
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def _columns(path: str, dm: DecisionMap, header: list[str], group_by: str,
             member_column: str | None, header_map: dict[str, str] | None
             ) -> tuple[list[tuple[int, str]], int, int | None]:
    """(column index, question key) per question column (the last of two same-named
    columns wins), the group column's index and the member column's."""
    known = questions_of(dm)
    mapping = dict(header_map or {})
    if group_by not in header:
        close = difflib.get_close_matches(group_by, header, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"no column {group_by!r} to group by (columns: "
                         f"{', '.join(header)}){hint}", f"{path}:row 1")
    if member_column and member_column not in header:
        raise InputError(f"no member column {member_column!r}", f"{path}:row 1")
    last = {h: i for i, h in enumerate(header)}
    picks = [(last[h], mapping.get(h, h)) for h in last if mapping.get(h, h) in known]
    if not picks:
        raise InputError(f"no column names a question of map {dm.id!r} "
                         f"(questions: {', '.join(k for k in known if '/' not in k)})",
                         f"{path}:row 1")
    return picks, last[group_by], last[member_column] if member_column else None


def _fast(path: str, source: Any, header: list[str], picks: list[tuple[int, str]], gi: int,
          mi: int | None) -> Responses | None:
    """The file read by column with pyarrow; None for anything it refuses (the slow
    reader then names the row)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{i}" for i in range(len(header))]
    wanted = sorted({gi, *([mi] if mi is not None else []), *(i for i, _ in picks)})
    dict_t = pa.dictionary(pa.int32(), pa.string())
    try:
        table = pcsv.read_csv(
            source,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                include_columns=[names[i] for i in wanted],
                column_types={names[i]: dict_t for i in wanted},
                null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    n = table.num_rows

    done: dict[int, tuple[np.ndarray, list[str]]] = {}

    def column(i: int) -> tuple[np.ndarray, list[str]]:
        """Column i as codes and texts; its Arrow copy is dropped at once (peak memory)."""
        nonlocal table
        got = done.get(i)
        if got is None:
            arr = table.column(names[i]).combine_chunks() if n else pa.array([], dict_t)
            if isinstance(arr, pa.ChunkedArray):  # pragma: no cover - older pyarrow
                arr = arr.combine_chunks()
            table = table.drop_columns([names[i]])
            texts = arr.dictionary.to_pylist()
            got = done[i] = (_codes(arr.indices, len(texts)), texts)
        return got

    gcodes, gtexts = column(gi)
    stripped = [t.strip() for t in gtexts]
    if (gcodes < 0).any() or not all(stripped):
        return None  # an empty group cell: the slow reader names its row
    # groups in order of first appearance, the same name stripped once
    first = np.unique(gcodes, return_index=True)[1]
    order: dict[str, int] = {}
    for code in gcodes[np.sort(first)].tolist():
        order.setdefault(stripped[code], len(order))
    remap = np.array([order[s] for s in stripped], dtype=np.int32)
    group_of = remap[gcodes]
    rows = np.arange(2, n + 2, dtype=np.int64)
    if mi is not None:
        mcodes, mtexts = column(mi)
        mnames = [t.strip() for t in mtexts]
        members = [mnames[c] if c >= 0 and mnames[c] else f"row {r}"
                   for c, r in zip(mcodes.tolist(), rows.tolist(), strict=True)]
    else:
        members = [f"row {r}" for r in rows.tolist()]
    columns = {}
    for i, key in picks:
        codes, texts = column(i)
        columns[key] = Column(codes, texts)
    return Responses(path, list(order), group_of, members, rows, columns)


def _codes(indices, distinct: int) -> np.ndarray:
    """A dictionary column's codes as a numpy array, -1 where the cell is empty, read from
    the Arrow buffers (pyarrow.compute takes longer to import than this takes); int16 when
    the column has fewer than 32,767 distinct cells, as nearly every question's has."""
    n, off = len(indices), indices.offset
    validity, data = indices.buffers()[:2]
    small = np.int16 if distinct < 32767 else np.int32
    codes = np.frombuffer(data, dtype=np.int32, count=off + n)[off:].astype(small) if n \
        else np.empty(0, dtype=small)
    if validity is not None and indices.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        codes[bits[off:off + n] == 0] = -1
    return codes


def _slow(path: str, picks: list[tuple[int, str]], gi: int, mi: int | None, group_by: str,
          width: int) -> Responses:
    """The file read row by row with csv.reader, as a DictReader reads it (blank lines
    skipped, short rows' missing cells empty, a longer row refused), naming the row of
    anything that does not fit."""
    text = read_text(path, max_bytes=MAX_RESPONSES_BYTES, hint=INPUT_SIZE_HINT)
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    groups: dict[str, list[tuple[int, dict]]] = {}
    n = 1
    for row in reader:
        if not row:
            continue
        n += 1
        size = len(row)
        if size > width:
            raise InputError(f"more cells than columns ({width})", f"{path}:row {n}")
        g = row[gi].strip() if gi < size else ""
        if not g:
            raise InputError(f"the {group_by!r} cell is empty", f"{path}:row {n}")
        cells = {q: row[i] for i, q in picks if i < size and row[i] != ""}
        name = (row[mi].strip() if mi < size else "") if mi is not None else ""
        cells[MEMBER] = name or f"row {n}"
        groups.setdefault(g, []).append((n, cells))
    _closed_quotes(path, text, n)
    return from_groups(groups, path)


def _closed_quotes(path: str, text: str, rows: int) -> None:
    """Refuse a quote left open: it would swallow the rest of the file as one cell."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    n = 0
    try:
        for row in reader:
            if row:
                n += 1
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise InputError("a quote (\") opened in this row is never closed, so the rest "
                             "of the file would be one cell", f"{path}:row {n + 1}") from None
