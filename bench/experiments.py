"""Measure changes recommended for files bench/ does not own, by patching them in
process (nothing is edited): `python -m bench.experiments [MAP]`.

Prints load + check_map time of the map (default: the generated 10,000-node map) as
shipped, then with each change added in turn."""

from __future__ import annotations

import functools
import statistics
import sys
import time

import networkx as nx

from decision_map import checks, loader, rules, templating


def _reachability_fast(dm):
    """checks._reachability with one reverse search from every outcome at once (instead
    of nx.ancestors once per outcome) and the cycle order from a dict of positions."""
    g = dm.graph
    start = dm.model.start
    if start not in g:
        return
    reachable = nx.descendants(g, start) | {start}
    for node_id in dm.nodes:
        if node_id not in reachable:
            yield checks._d(dm, "DM103", "warning",
                            f"node {node_id!r} cannot be reached from the start",
                            ("nodes", node_id), "route to it from another node, or delete it",
                            key=True)
    outcomes = [n for n, k in g.nodes(data="kind") if k == "outcome"]
    can_finish = set(outcomes)
    todo = list(outcomes)
    pred = g.pred
    while todo:
        for p in pred[todo.pop()]:
            if p not in can_finish:
                can_finish.add(p)
                todo.append(p)
    if all(n in can_finish for n in reachable):
        return
    yield from _ORIG["_reachability"](dm)  # the rare broken map: the original wording


def _conditions_fast(dm):
    """checks._conditions with `answer dominates node` answered from the dominator tree's
    DFS numbering (O(1) per test) instead of walking the dominator chain each time."""
    g = dm.graph
    start = dm.model.start
    dom = nx.immediate_dominators(g, start) if start in g else {}
    children: dict[str, list[str]] = {}
    for n, d in dom.items():
        if n != d:
            children.setdefault(d, []).append(n)
    pre: dict[str, int] = {}
    post: dict[str, int] = {}
    if start in dom:
        clock = 0
        stack = [(start, iter(children.get(start, ())))]
        pre[start] = clock
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                clock += 1
                post[node] = clock
                stack.pop()
            else:
                clock += 1
                pre[nxt] = clock
                stack.append((nxt, iter(children.get(nxt, ()))))

    class _Dominators:
        def __init__(self, n):
            self.n = n

        def __contains__(self, a):
            n = self.n
            return (a != n and a in pre and n in pre and pre[a] <= pre[n]
                    and post[n] <= post[a])

    orig = checks._comparison

    def comparison(dm_, node_id, c, path, questions, dominators):
        return orig(dm_, node_id, c, path, questions, lambda n: _Dominators(n))

    checks._comparison = comparison
    try:
        yield from _ORIG["_conditions"](dm)
    finally:
        checks._comparison = orig


_ORIG = {"_reachability": checks._reachability, "_conditions": checks._conditions,
         "undeclared": templating.undeclared, "as_fraction": rules.as_fraction,
         "check_map": checks.check_map, "_load": loader._load}


def _cached_check_map():
    memo: dict = {}
    orig = _ORIG["check_map"]

    depth = [0]

    def check_map(dm):
        if depth[0] == 0:  # the top map: checked every time, its hand-off maps once
            memo.clear()
        key = (dm.path, dm.sha256)
        if key not in memo:
            depth[0] += 1
            try:
                memo[key] = orig(dm)
            finally:
                depth[0] -= 1
        return list(memo[key])
    return check_map, memo


CHANGES = [
    ("checks._reachability: one reverse search from all outcomes",
     lambda: setattr(checks, "_reachability", _reachability_fast)),
    ("checks._conditions: dominator test by DFS numbering",
     lambda: setattr(checks, "_conditions", _conditions_fast)),
    ("templating.undeclared and rules.as_fraction: functools.lru_cache",
     lambda: (setattr(checks, "undeclared", functools.lru_cache(None)(_ORIG["undeclared"])),
              setattr(rules, "as_fraction", functools.lru_cache(None)(_ORIG["as_fraction"])))),
]


def measure(path: str, reps: int = 3) -> float:
    from decision_map.loader import load_map

    times = []
    for _ in range(reps):
        loader._CACHE.clear()
        t = time.perf_counter()
        diags = checks.check_map(load_map(path))
        times.append(time.perf_counter() - t)
    assert not [d for d in diags if d.severity == "error"]
    return statistics.median(times)


def main(argv: list[str] | None = None) -> list[tuple[str, float]]:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else "bench/out/data/gen-10000.yaml"
    base = measure(path)
    out = [("as shipped", base)]
    print(f"{'as shipped':70s} {base:8.2f} s")
    for name, apply in CHANGES:
        apply()
        t = measure(path)
        out.append((name, t))
        print(f"+ {name:68s} {t:8.2f} s")
    # hand-off maps checked once per map, not once per hand-off node
    cm, _ = _cached_check_map()
    checks.check_map = cm
    t = measure(path)
    print(f"+ {'checks: check a hand-off map once per (path, sha256)':68s} {t:8.2f} s")
    out.append(("check hand-off maps once", t))
    return out


if __name__ == "__main__":
    main()
