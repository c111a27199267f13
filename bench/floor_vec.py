"""The second floor for deciding many groups: vectorised, with polars and numpy.

The CSV is read by polars; each question's column is factorised, tallied per group with
`np.bincount`, and each distinct (group size, tally) is decided once by bench/floor.py's
plain `decide`; each group is then walked over plain dicts looking its decisions up.
No models, no sentences, no outcome texts, valid input assumed, as floor.py. It writes
the result rows the batch writes (outcome, verdict, steps, decided_at, stopped as yes/no).

Run as a process: python -m bench.floor_vec MAP CSV OUT.csv
"""

from __future__ import annotations

import csv
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

    out = {}
    for g in range(n_groups):
        out[names[g]] = _walk(top, decisions, g)
    return out


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


def _walk(top: dict, decisions, g: int) -> tuple:
    """floor.walk with each decision looked up instead of computed."""
    stack = [[top, top["start"], {top["start"]: 1}, {}]]
    steps = 0
    decided_at = None

    def go(f, target, from_node) -> bool:
        if target is None:
            return False
        limit = f[0]["_limit"]
        visits = f[2]
        if visits.get(target, 0) > limit:
            fb = from_node.get("otherwise")
            if fb and fb != target and visits.get(fb, 0) <= limit:
                target = fb
            else:
                return False
        f[1] = target
        visits[target] = visits.get(target, 0) + 1
        return True

    for _ in range(100_000):
        f = stack[-1]
        m, nid = f[0], f[1]
        node = m["nodes"][nid]
        steps += 1
        if "ask" in node:
            key = nid if m is top else f"{m['id']}/{nid}"
            d = decisions(key, node)[g]
            if d is None:
                return None, None, steps - 1, decided_at, True
            status, value = d
            f[3][nid] = d
            decided_at = nid
            if status == "decided":
                if "choices" in node:
                    target = node["_choices"][str(value)]
                elif "text" in node:
                    target = node["next"]
                else:
                    target = next((b["next"] for b in node.get("branches", ())
                                   if floor._compare(b["when"], value, status)),
                                  node.get("otherwise"))
            else:
                target = node.get(floor.ROUTE[status]) or node.get("otherwise")
            if not go(f, target, node):
                return None, None, steps, decided_at, True
        elif "say" in node:
            if not go(f, node["next"], node):
                return None, None, steps, decided_at, True
        elif "check" in node:
            target = next((r["next"] for r in node["check"] if floor._holds(r["when"], f[3])),
                          node.get("otherwise"))
            if not go(f, target, node):
                return None, None, steps, decided_at, True
        elif "map" in node:
            sub = m["_maps"][nid]
            stack.append([sub, sub["start"], {sub["start"]: 1}, {}])
        else:
            if len(stack) == 1:
                return nid, node.get("verdict"), steps, decided_at, False
            stack.pop()
            p = stack[-1]
            hand = p[0]["nodes"][p[1]]
            target = (hand.get("returns") or {}).get(nid) or hand.get("otherwise")
            steps += 1
            if not go(p, target, hand):
                return None, None, steps, decided_at, True
    raise RuntimeError("the walk did not end")


def main(argv: list[str]) -> None:
    """Decide, write the result rows, and exit as the batch command does (no teardown)."""
    map_path, csv_path, out_path = argv
    res = run(map_path, csv_path)
    with open(out_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["group", "outcome", "verdict", "steps", "decided_at", "stopped"])
        for g, (o, v, s, d, stop) in res.items():
            w.writerow([g, o or "", v or "", s, d or "", "yes" if stop else ""])
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
