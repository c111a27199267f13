"""The second floor for deciding many groups: vectorised, with polars and numpy.

The CSV is read by polars; each question's column is factorised, tallied per group with
`np.bincount`, and each distinct (group size, tally) is decided once by bench/floor.py's
plain `decide`; each group is then walked by floor.py's `walk`, its decisions looked up.
No models, no sentences, no outcome texts, valid input assumed, as floor.py. It writes
the result rows the batch writes (outcome, verdict, steps, decided_at, stopped as yes/no).

Run as a process: python -m bench.floor_vec MAP CSV OUT.csv
"""

from __future__ import annotations

import os
import sys

import numpy as np
import polars as pl

from . import floor


def _factor(s: pl.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 for empty) and the distinct values of one string column."""
    phys = s.cast(pl.Categorical).to_physical().fill_null(2 ** 32 - 1).to_numpy()
    ids, first, codes = np.unique(phys, return_index=True, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    texts = s.gather(first).to_list()
    if len(ids) and ids[-1] == 2 ** 32 - 1:  # the empty cells' id sorts last
        codes[codes == len(ids) - 1] = -1
        texts = texts[:-1]
    return codes, texts


def _unique_rows(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = np.zeros(len(mat), dtype=np.int64)
    for j in range(mat.shape[1]):
        key = key * (int(mat[:, j].max()) + 1) + mat[:, j]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return mat[first], inverse.reshape(-1)


def run(map_path: str, csv_path: str, group_col: str = "group") -> dict[str, tuple]:
    """Every group of a responses CSV decided through a map: {group: result}."""
    top = floor.load(map_path)
    df = pl.read_csv(csv_path, infer_schema=False)
    gcodes, gnames = _factor(df[group_col])
    # groups in order of first appearance
    first = np.unique(gcodes, return_index=True)[1]
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group_of = rank[gcodes]
    names = [gnames[i] for i in order]
    n_groups = len(names)
    sizes = np.bincount(group_of, minlength=n_groups)
    cache: dict[str, list] = {}

    def decisions(key: str, node: dict) -> list:
        got = cache.get(key)
        if got is None:
            got = cache[key] = _decide_column(df, key, node, group_of, sizes, n_groups)
        return got

    return {names[g]: floor.walk(top, lambda key, node, g=g: decisions(key, node)[g])
            for g in range(n_groups)}


def _decide_column(df, key, node, group_of, sizes, n_groups) -> list:
    if key not in df.columns:
        return [None] * n_groups
    codes, texts = _factor(df[key])
    k = max(len(texts), 1)
    given = codes >= 0
    tally = np.bincount(group_of[given] * k + codes[given],
                        minlength=n_groups * k).reshape(n_groups, k)
    uniq, inverse = _unique_rows(np.hstack([sizes[:, None], tally]))
    decided = []
    for row in uniq.tolist():
        cells = [t for t, n in zip(texts, row[1:], strict=True) for _ in range(n)]
        decided.append(floor.decide(node, cells, row[0]) if cells else None)
    return [decided[i] for i in inverse.tolist()]


def main(argv: list[str]) -> None:
    """Decide, write the result rows, and exit as the batch command does (no teardown)."""
    map_path, csv_path, out_path = argv
    floor.write_rows(run(map_path, csv_path), out_path)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
