"""`decision-map paths` lists only routes a group could walk: a check whose case
contradicts the answers before it is not followed, and nothing a walk can take is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from decision_map.io.answers import answers_from_data
from decision_map.io.loader import load_map, load_text
from decision_map.io.yaml_source import parse_yaml, read_text
from decision_map.walk.engine import run
from decision_map.walk.routes import find_paths, route_of

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "maps").glob("*.yaml"))

# The coalition map's shape: a check picks the form, the group votes, and a second check
# with the same condition sends the "go" to that same form.
TWICE = """
id: twice
title: Twice
version: "1"
start: kind
nodes:
  kind: {ask: What kind?, choices: {one-project: hours, long-term: hours}}
  hours:
    ask: Hours?
    number: {min: 0, max: 100, aggregate: sum}
    branches:
      - {when: {gte: 4}, next: which}
    otherwise: small
  which:
    check:
      - when: {any: [{answer: kind, not_in: [long-term]}, {answer: hours, lt: 10}]}
        next: tf-proposal
    otherwise: charter
  tf-proposal: {say: A task force., next: go}
  charter: {ask: Name?, text: one, next: go}
  go: {ask: Go?, choices: {"yes": go-which, "no": small}}
  go-which:
    check:
      - when: {any: [{answer: kind, not_in: [long-term]}, {answer: hours, lt: 10}]}
        next: task-force
    otherwise: coalition
  task-force: {outcome: Task force, next_steps: [x]}
  coalition: {outcome: Coalition, next_steps: [x]}
  small: {outcome: Too small, next_steps: [x]}
"""


def texts(rep, outcome: str) -> list[list[str]]:
    return [[s.text() for s in r] for r in rep.routes[outcome]]


def test_a_repeated_condition_is_not_taken_both_ways():
    rep = find_paths(load_text(TWICE, "twice.yaml"))
    coalition = texts(rep, "coalition")
    # only the long-term route that drafted a charter can end in a coalition
    assert coalition == [["kind = long-term", "hours: >= 4", "which: otherwise", "charter",
                          "go = yes", "go-which: otherwise"]]
    for r in texts(rep, "task-force"):
        assert "which: case 1" in r and "tf-proposal" in r
    assert len(texts(rep, "task-force")) == 2  # one-project, and long-term under 10 hours
    assert rep.impossible > 0 and not rep.unreached and not rep.capped


BOUNDS = """
id: bounds
title: Bounds
version: "1"
start: hours
nodes:
  hours:
    ask: Hours?
    number: {min: 0, max: 100, aggregate: sum}
    branches:
      - {when: {gte: 10}, next: big}
      - {when: {gte: 4}, next: mid}
    on_no_agreement: blocked-check
    otherwise: low
  big:
    check:
      - {when: {answer: hours, lt: 5}, next: a}
      - {when: {answer: hours, gte: 10}, next: b}
    otherwise: c
  mid:
    check:
      - {when: {answer: hours, gte: 10}, next: a}
      - {when: {answer: hours, lt: 7}, next: b}
    otherwise: c
  low:
    check:
      - {when: {answer: hours, status: decided}, next: b}
    otherwise: a
  blocked-check:
    check:
      - {when: {answer: hours, status: no_agreement}, next: c}
    otherwise: a
  a: {outcome: A, next_steps: [x]}
  b: {outcome: B, next_steps: [x]}
  c: {outcome: C, next_steps: [x]}
"""


def test_number_branches_bound_the_answer_and_statuses_are_known():
    rep = find_paths(load_text(BOUNDS, "bounds.yaml"))
    routes = {o: sorted(" ".join(r) for r in texts(rep, o)) for o in "abc"}
    # >= 10 can't be < 5 and must be >= 10; 4..10 can't be >= 10 and may be < 7 or not
    assert "hours: >= 10 big: case 2" in routes["b"]
    assert not any(r.startswith("hours: >= 10") for r in routes["a"] + routes["c"])
    assert "hours: >= 4 mid: case 2" in routes["b"] and "hours: >= 4 mid: otherwise" in \
        routes["c"]
    assert not any(r.startswith("hours: >= 4") for r in routes["a"])
    # otherwise of a number question: decided below every branch, or no status of its own
    assert "hours: otherwise low: case 1" in routes["b"]
    # the no-agreement route knows its status
    assert "hours: no agreement blocked-check: case 1" in routes["c"]
    assert not any(r.startswith("hours: no agreement") for r in routes["a"])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_scenario_walk_is_among_the_listed_routes(path):
    """Soundness on real walks: pruning never drops a route a group really took."""
    dm = load_map(path)
    rep = find_paths(dm, cap=100_000)
    assert not rep.capped
    listed = {o: {tuple(r) for r in texts(rep, o)} for o in rep.routes}
    scen = path.parent / "scenarios" / path.name
    data, pos = parse_yaml(read_text(str(scen)), str(scen))
    checked = 0
    for case in data["cases"]:
        answers = answers_from_data({k: case[k] for k in ("group", "answers")}, pos, dm)
        trace = run(dm, answers.group, answers.source(dm.id), stop_at_missing=True)
        top = [s.node for s in trace.steps if s.depth == 0 and s.route_kind is not None]
        if trace.outcome is None or len(top) != len(set(top)):
            continue  # stopped, or looped back: not a loop-free route
        route = tuple(s.text() for s in route_of(trace))
        assert route in listed[trace.outcome], (case.get("name"), route)
        checked += 1
    print(f"{path.stem}: {checked} loop-free scenario walks found among the routes")
    assert checked >= 1


def test_the_command_says_what_it_left_out(tmp_path):
    """The real console script: one possible route to the coalition, and a line saying how
    many check branches the answers before them rule out."""
    m = tmp_path / "twice.yaml"
    m.write_text(TWICE, encoding="utf-8")
    exe = Path(sys.executable).with_name("decision-map")
    p = subprocess.run([str(exe), "paths", str(m)], capture_output=True, text=True,
                       env={"PATH": str(exe.parent), "NO_COLOR": "1", "COLUMNS": "200"})
    assert p.returncode == 0, p.stderr
    assert "coalition (Coalition): 1 route(s)" in p.stdout
    assert "Not listed: " in p.stdout and "rule out" in p.stdout


def test_number_bounds_agree_with_every_value_they_allow():
    """What a bound says of `value op x` is what every value inside it says, or open."""
    from decision_map.walk.routes import Known, _bound_test

    ops = {"gte": lambda v, x: v >= x, "gt": lambda v, x: v > x,
           "lte": lambda v, x: v <= x, "lt": lambda v, x: v < x}
    points = [0, 1, 2]
    samples = [i / 4 for i in range(-4, 13)]
    bounds = [None] + [(b, inc) for b in points for inc in (True, False)]
    for low in bounds:
        for high in bounds:
            inside = [v for v in samples
                      if (low is None or v > low[0] or (low[1] and v == low[0]))
                      and (high is None or v < high[0] or (high[1] and v == high[0]))]
            if not inside:
                continue
            k = Known(frozenset({"decided"}), low=low, high=high)
            for op, f in ops.items():
                for x in points:
                    said = _bound_test(k, op, x)
                    truths = {f(v, x) for v in inside}
                    if said is not None:
                        assert truths == {said}, (low, high, op, x, said)
                    elif len(truths) == 1 and low and high:
                        pytest.fail(f"open, but every value says {truths}: "
                                    f"{(low, high, op, x)}")



# ---------------------------------------------------------------- bounds on the search


def ladder(n: int = 13) -> str:
    """n questions: the first can stop at once; the others lead on (two choices to the
    same place), skip ahead and loop round, and only the first leads out. Loop-free paths
    through the loops explode; routes to the outcome: one."""
    lines = ["id: ladder", "title: Ladder", 'version: "1"', "start: q0", "nodes:",
             "  q0: {ask: Stop or go?, choices: {stop: done, go: q1}}"]
    for i in range(1, n):
        up, skip, hop, far = (f"q{(i + k - 1) % (n - 1) + 1}" for k in (1, 2, 3, 5))
        lines.append(f'  q{i}: {{ask: "Step {i}?", choices: {{up: {up}, on: {up}, '
                     f"skip: {skip}, hop: {hop}, far: {far}, back: q{i - 1}}}}}")
    lines.append("  done: {outcome: Done, next_steps: [x]}")
    return "\n".join(lines) + "\n"


def test_loops_around_few_routes_are_not_searched_path_by_path():
    """The hardening issue's 13-question map with loops searched for over a minute: every
    loop-free path through the loops was tried. Now a node that cannot reach the outcome
    but through the route is blocked, and the whole answer takes a handful of steps."""
    rep = find_paths(load_text(ladder(13), "ladder.yaml"))
    assert texts(rep, "done") == [["q0 = stop"]]
    assert not rep.capped and rep.capped_by is None and not rep.unreached
    assert rep.work < 100, rep.work


def test_a_budget_that_runs_out_says_capped_and_keeps_what_it_found():
    dm = load_map(ROOT / "maps" / "coalition-formation.yaml")
    # the second edition, with a second vote on amended words, has some 23,000 routes
    whole = find_paths(dm, cap=30000)
    assert not whole.capped and whole.work > 40
    rep = find_paths(dm, budget=40)
    assert rep.capped and rep.capped_by == "budget" and rep.work == 40
    found = sum(len(r) for r in rep.routes.values())
    assert 0 < found < sum(len(r) for r in whole.routes.values())
    for o, routes in rep.routes.items():  # what it found is the start of the whole list
        assert texts(rep, o) == texts(whole, o)[: len(routes)]
    # outcomes it had no time to reach are not said to be out of reach
    assert not rep.unreached and rep.unsearched
    assert set(rep.unsearched) == {o for o, r in rep.routes.items() if not r}


def test_the_command_names_the_budget(tmp_path):
    """`--budget` raises or lowers the bound, and the JSON names what stopped the search."""
    exe = Path(sys.executable).with_name("decision-map")
    env = {"PATH": str(exe.parent), "NO_COLOR": "1", "COLUMNS": "200"}
    coalition = str(ROOT / "maps" / "coalition-formation.yaml")
    p = subprocess.run([str(exe), "paths", coalition, "--budget", "40", "--json"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["capped"] is True and data["capped_by"] == "budget"
    assert data["budget"] == 40 and data["search_steps"] == 40 and data["unsearched"]
    p = subprocess.run([str(exe), "paths", coalition, "--cap", "30000", "--json"],
                       capture_output=True, text=True, env=env)
    data = json.loads(p.stdout)
    assert data["capped"] is False and data["capped_by"] is None and not data["unsearched"]
    p = subprocess.run([str(exe), "paths", coalition, "--budget", "40"], capture_output=True,
                       text=True, env=env)
    assert "Stopped after 40 search steps" in p.stdout and "--budget" in p.stdout


CHAIN = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from decision_map.io.loader import load_text
from decision_map.walk.routes import find_paths
n = 6000
lines = ["id: chain", "title: Chain", 'version: "1"', "start: q0", "nodes:"]
for i in range(n):
    nxt = f"q{i + 1}" if i + 1 < n else "end"
    lines.append(f"  q{i}: {{ask: 'Step {i}?', choices: {{a: {nxt}, b: {nxt}}}}}")
lines.append("  end: {outcome: End, next_steps: [x]}")
rep = find_paths(load_text(chr(10).join(lines), "chain.yaml"))
routes = rep.routes["end"]
print(len(routes), len(routes[0]), len(routes[-1]), rep.capped_by)
"""


def test_a_long_chain_is_searched_in_bounded_memory():
    """A 6,000-question chain, each question's two choices both leading on, needed 3.2 GB
    (every search step copied its route, seen set and knowns) and died with MemoryError.
    Under a 1 GB address-space limit it now lists its 2,000 routes of 6,000 steps."""
    p = subprocess.run([sys.executable, "-c", CHAIN], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["2000", "6000", "6000", "routes"]


def plain_routes(dm, o: str) -> list[list[str]]:
    """Every possible loop-free route to `o` by the plainest search: each step copies its
    route, its nodes, what it knows and its facts; no reachability, no blocking, no cap."""
    from decision_map.model.format import Check
    from decision_map.model.graph import edges_of
    from decision_map.walk.routes import Facts, _check_allows, _learn

    facts = Facts()
    found: list[list[str]] = []
    stack = [(dm.model.start, [], frozenset({dm.model.start}), {}, {})]
    while stack:
        node_id, route, seen, known, decided = stack.pop()
        if node_id == o:
            found.append(route)
            continue
        node = dm.nodes.get(node_id)
        if node_id in dm.outcomes() or node is None:
            continue
        edges = edges_of(node)
        for e in reversed(edges):
            if e.target in seen:
                continue
            now = decided
            if isinstance(node, Check):
                told = _check_allows(node, e, known, facts, decided, seen)
                if told is None:
                    continue
                now = dict(decided)
                for cond, value in told:
                    facts.learn(cond, value, known, now)
            learned = _learn(node, e, edges, dm.model.defaults, seen)
            step = f"{node_id} = {e.value}" if e.kind == "choice" else \
                node_id if e.kind == "next" else f"{node_id}: {e.label}"
            stack.append((e.target, route + [step], seen | {e.target},
                          {**known, node_id: learned} if learned is not None else known, now))
    return found


def _small_maps():
    from bench import gen

    yield "twice", load_text(TWICE, "twice.yaml")
    yield "bounds", load_text(BOUNDS, "bounds.yaml")
    yield "ladder", load_text(ladder(7), "ladder.yaml")
    yield "gen-22", load_text(gen.map_text(22), "gen.yaml")
    for path in SHIPPED:
        yield path.stem, load_map(path)


@pytest.mark.parametrize("name_dm", list(_small_maps()), ids=lambda x: x[0])
def test_the_same_routes_in_the_same_order_as_the_plainest_search(name_dm):
    """Sharing one search among the outcomes, pushing and popping instead of copying and
    blocking dead ends change nothing a user sees: every outcome's routes are those of
    the plainest search, in its order, and capped only when routes were left out."""
    _, dm = name_dm
    every = {o: plain_routes(dm, o) for o in dm.outcomes()}
    for cap in (100_000, 5):
        rep = find_paths(dm, cap=cap)
        for o, routes in every.items():
            assert texts(rep, o) == routes[: len(rep.routes[o])], o
            if len(rep.routes[o]) < len(routes):
                assert rep.capped and rep.capped_by == "routes"
        assert rep.unreached == [o for o, routes in every.items() if not routes]
