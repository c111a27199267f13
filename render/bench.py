"""Generated maps of any size, and the timings quoted in dot.py and draw.py.

    python -m decision_map_render.bench [sizes...]

prints, for each size, the in-process layout+SVG time of the whole map with edge
`label`s and with `xlabel`s, and of the traced map in focus mode (median of 3 runs up
to 500 nodes, one run above).
"""

from __future__ import annotations

import random
import statistics
import sys
import time

import yaml

from decision_map.io.loader import DecisionMap, load_text
from decision_map.model.graph import edges_of
from decision_map.model.trace import Step, Trace


def generated_map_text(n: int, seed: int = 0) -> str:
    """YAML of a map with `n` nodes of every kind but hand-off, edges pointing mostly
    forward (every 7th question loops back a few nodes on a block), ending in outcomes
    with three verdicts."""
    rng = random.Random(seed)
    n = max(n, 8)
    n_out = max(3, n // 20)
    last = n - n_out  # nodes last.. are outcomes

    def ahead(i: int) -> str:
        j = min(n - 1, i + 1 + int(rng.expovariate(0.5)))
        return f"n{j}"

    nodes: dict[str, dict] = {}
    for i in range(last):
        k = i % 7
        if k in (0, 3):
            node = {"ask": f"Question {i}: shall we go on with part {i}?",
                    "help": f"Help for question {i}.",
                    "choices": {"yes": ahead(i), "no": ahead(i)}}
            if i > 4 and k == 3:
                node["on_block"] = f"n{i - rng.randint(1, 6)}"  # loops back a little
        elif k == 1:
            node = {"ask": f"How many hours for {i}?", "number": {"min": 0},
                    "branches": [{"when": {"gte": 10}, "next": ahead(i)},
                                 {"when": {"lt": 10}, "next": ahead(i)}]}
        elif k == 2:
            node = {"ask": f"Say a word about {i}", "text": "each", "next": ahead(i)}
        elif k == 4:
            node = {"check": [{"when": {"answer": f"n{max(0, i - 4)}", "is": "yes"},
                               "next": ahead(i)}], "otherwise": ahead(i)}
        else:
            node = {"say": f"Read this out at step {i}.", "next": ahead(i)}
        nodes[f"n{i}"] = node
    verdicts = ["go", "wait", "stop"]
    for i in range(last, n):
        nodes[f"n{i}"] = {"outcome": f"Outcome {i}", "verdict": verdicts[i % 3]}
    doc = {"id": f"generated-{n}", "title": f"Generated map of {n} nodes", "version": "1",
           "start": "n0", "nodes": nodes}
    return yaml.safe_dump(doc, sort_keys=False)


def generated_map(n: int, seed: int = 0) -> DecisionMap:
    return load_text(generated_map_text(n, seed), f"<generated-{n}>")


def generated_trace(dm: DecisionMap, limit: int = 400) -> Trace:
    """A walk that takes the first way out of every node until an outcome."""
    steps = []
    node_id = dm.model.start
    for _ in range(limit):
        node = dm.model.nodes[node_id]
        kind = dm.graph.nodes[node_id]["kind"]
        ways = edges_of(node)
        if not ways:
            steps.append(Step(dm.id, node_id, kind))
            break
        e = ways[0]
        steps.append(Step(dm.id, node_id, kind, route_kind=e.kind, route_value=e.value,
                          next=e.target))
        node_id = e.target
    return Trace(dm.id, dm.version, dm.sha256, dm.model.title, [], steps=steps)


def _median_time(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_layout(n: int, what: str, runs: int = 1) -> float:
    """Seconds to lay out and draw (svg) the generated map of `n` nodes: `label` or
    `xlabel` (the whole map, edge labels as that attribute), or `focus` (a traced walk,
    focus mode)."""
    from . import dot as dotmod
    from .draw import draw

    dm = generated_map(n)
    if what == "focus":
        src = dotmod.to_dot(dm, generated_trace(dm), focus=True)
    else:
        src = dotmod.to_dot(dm, edge_labels=what)
    return _median_time(lambda: draw(src, "svg"), runs)


def main(argv: list[str] | None = None) -> None:
    args = list(argv if argv is not None else sys.argv[1:])
    whats = [a for a in args if a in ("label", "xlabel", "focus")] or [
        "label", "xlabel", "focus"]
    sizes = [int(a) for a in args if a.isdigit()] or [100, 500, 1000, 3000]
    for n in sizes:
        for what in whats:
            runs = 3 if n <= 500 else 1
            print(f"{n:5d} nodes  {what:6s} {time_layout(n, what, runs):8.2f} s", flush=True)


if __name__ == "__main__":
    main()
