"""Property tests and fuzzing: generated valid maps walked by generated groups, and
mutated maps that must fail only with the project's own located error.

Profiles (pick with HYPOTHESIS_PROFILE; default "ci"):

    property                         ci    long (10x)
    valid map: check + walk + back   100    1000
    trace JSON at every step          50     500
    renderer lays out every map       30     300
    mutated YAML text                250    2500
    mutated map structures           200    2000
    paths list every walk's route    100    1000

`test_profile_counts_are_stated` prints the profile and its counts in the test output.
Every example is run with deadline=None (no flaky timing failures).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from decision_map.check.checks import check_map
from decision_map.errors import MapError
from decision_map.io.loader import load_text
from decision_map.model.decision import ABSTAIN, BLOCK, OBJECT, Ballot
from decision_map.model.format import Defaults, NumberQuestion, TextQuestion
from decision_map.model.trace import Trace
from decision_map.rules.table import allowed_votes
from decision_map.walk.engine import Walk
from decision_map.walk.routes import find_paths, route_of
from tests.strategies import MEMBERS, TEXT, dump, valid_maps

# ---------------------------------------------------------------- profiles

COUNTS = {
    "ci": {"walk": 100, "json": 50, "render": 30, "yaml": 250, "structure": 200,
           "paths": 100},
    "long": {"walk": 1000, "json": 500, "render": 300, "yaml": 2500, "structure": 2000,
             "paths": 1000},
}
for _name, _c in COUNTS.items():
    settings.register_profile(
        _name, deadline=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in COUNTS:
    raise pytest.UsageError(f"HYPOTHESIS_PROFILE must be one of {', '.join(COUNTS)}")
settings.load_profile(PROFILE)
N = COUNTS[PROFILE]


def examples(kind: str) -> settings:
    return settings(max_examples=N[kind], deadline=None)


# ---------------------------------------------------------------- votes


REASONS = st.sampled_from(["too soon", "not safe for us", "we were not asked"])


def ballots_for(draw, pos, defaults: Defaults, group: list[str]) -> list[Ballot]:
    """One random, valid round of ballots for the question at `pos`."""
    node = pos.node
    allowed = sorted(allowed_votes(node, defaults))
    out: list[Ballot] = []
    text_given = False
    for member in group:
        if draw(st.integers(0, 5)) == 0:
            continue  # absent
        if draw(st.integers(0, 4)) == 0:
            word = draw(st.sampled_from(allowed))
            reason = draw(REASONS) if word in (BLOCK, OBJECT) else None  # required by default
            out.append(Ballot(member, word, reason))
            continue
        if isinstance(node, TextQuestion):
            if node.text == "one" and text_given:
                out.append(Ballot(member, ABSTAIN))
                continue
            text_given = True
            out.append(Ballot(member, draw(TEXT)))
        elif isinstance(node, NumberQuestion):
            lo = int(node.number.min) if node.number.min is not None else -10
            hi = int(node.number.max) if node.number.max is not None else 10
            out.append(Ballot(member, draw(st.integers(lo, hi))))
        elif (node.rule or defaults.rule) == "fist-to-five":
            n = draw(st.integers(0, 5))
            out.append(Ballot(member, n, draw(REASONS) if n == 0 else None))  # a fist says why
        else:
            out.append(Ballot(member, draw(st.sampled_from(list(node.choices)))))
    return out


def snapshot(w: Walk):
    return (w.current(), w.trace.to_json(), [s.to_json() for s in w.submissions])


def step_bound(m: dict[str, Any]) -> int:
    """No walk may submit more often than this: each node is entered at most
    max_revisits + 1 times, plus one for an `otherwise` taken past the limit."""
    return len(m["nodes"]) * (m["defaults"]["max_revisits"] + 2) + 1


# ---------------------------------------------------------------- properties: valid maps


@examples("walk")
@given(m=valid_maps(), group=MEMBERS, data=st.data())
def test_generated_maps_check_clean_and_every_walk_ends(m, group, data):
    """check_map: no errors; every walk ends at an outcome or an explained stop within the
    step bound; back() restores the exact prior state; the trace survives JSON."""
    text = dump(m)
    note(text)
    dm = load_text(text, "gen.yaml")
    errors = [d.line() for d in check_map(dm) if d.severity == "error"]
    assert errors == []
    defaults = dm.model.defaults
    w = Walk(dm, group)
    bound = step_bound(m)
    for _ in range(bound):
        pos = w.current()
        if pos is None:
            break
        ballots = ballots_for(data.draw, pos, defaults, group)
        before = snapshot(w)
        w.submit(ballots)
        after = snapshot(w)
        if data.draw(st.booleans(), label="check back()"):
            assert w.back() is True
            assert snapshot(w) == before
            w.submit(ballots)
            assert snapshot(w) == after
    else:
        pytest.fail(f"the walk did not end within {bound} submissions")
    t = w.trace
    assert t.finished and w.current() is None
    if t.outcome is not None:
        assert t.stopped is None
        assert t.outcome in dm.outcomes()
        assert t.steps[-1].node == t.outcome and t.steps[-1].kind == "outcome"
    else:
        assert isinstance(t.stopped, str)
        assert re.fullmatch(r"[A-Z].{10,}[.!?]", t.stopped, re.S), t.stopped
    assert Trace.loads(t.dumps()).to_json() == t.to_json()
    # and back() all the way to the start is the fresh walk
    fresh = snapshot(Walk(dm, group))
    while w.back():
        pass
    assert snapshot(w) == fresh


def walk_randomly(dm, m: dict, group: list[str], data) -> Walk:
    """A walk of the map with drawn ballots, to its end (or the step bound)."""
    w = Walk(dm, group)
    for _ in range(step_bound(m)):
        pos = w.current()
        if pos is None:
            break
        w.submit(ballots_for(data.draw, pos, dm.model.defaults, group))
    return w


@examples("paths")
@given(m=valid_maps(), group=MEMBERS, data=st.data())
def test_paths_never_drop_a_route_a_walk_can_take(m, group, data):
    """`paths` leaves out routes whose checks contradict the answers before them; every
    loop-free walk that reaches an outcome must still be listed."""
    dm = load_text(dump(m), "gen.yaml")
    rep = find_paths(dm, cap=50_000)
    w = walk_randomly(dm, m, group, data)
    t = w.trace
    top = [s.node for s in t.steps if s.depth == 0 and s.route_kind is not None]
    if t.outcome is None or len(top) != len(set(top)) or rep.capped:
        event("walk looped, stopped, or routes capped")
        return
    event(f"checked against the listed routes ({'some' if rep.impossible else 'no'} "
          "check branches ruled out)")
    route = [s.text() for s in route_of(t)]
    assert route in [[s.text() for s in r] for r in rep.routes[t.outcome]]


@examples("json")
@given(m=valid_maps(), group=MEMBERS, data=st.data())
def test_trace_survives_json_at_every_step(m, group, data):
    dm = load_text(dump(m), "gen.yaml")
    w = Walk(dm, group)
    for _ in range(step_bound(m)):
        t = w.trace
        assert Trace.loads(t.dumps()).to_json() == t.to_json()
        pos = w.current()
        if pos is None:
            break
        w.submit(ballots_for(data.draw, pos, dm.model.defaults, group))
    assert w.finished


try:
    import pygraphviz
    from decision_map_render import to_dot, to_mermaid
    RENDER_SKIP = None
except ImportError as e:  # pragma: no cover - render is another package
    RENDER_SKIP = f"render (decision_map_render + pygraphviz) not importable: {e}"


@pytest.mark.skipif(RENDER_SKIP is not None, reason=RENDER_SKIP or "")
@examples("render")
@given(m=valid_maps(), group=MEMBERS, data=st.data())
def test_renderer_lays_out_every_generated_map(m, group, data):
    dm = load_text(dump(m), "gen.yaml")
    w = walk_randomly(dm, m, group, data)
    for trace in (None, w.trace):
        g = pygraphviz.AGraph(string=to_dot(dm, trace))
        g.layout(prog="dot")
        assert len(g.nodes()) >= len(dm.nodes)
        mmd = to_mermaid(dm, trace)
        assert mmd.startswith("---\ntitle: ")


# ---------------------------------------------------------------- properties: mutated maps

INTERESTING = list(":-{}[],&*!|>'\"%@`#?\t\n \\") + ["\x00", "\x1b", "\x85", "\u2028", "\ufeff",
                                                   "\ud800", "é", "0", "~", "<<", "!!",
                                                   "&a ", "*a", "!!python/name:os.system "]


@st.composite
def mutated_text(draw) -> str:
    text = dump(draw(valid_maps()))
    for _ in range(draw(st.integers(1, 6))):
        lines = text.split("\n")
        op = draw(st.sampled_from(["replace", "insert", "delete", "dup-line", "drop-line",
                                   "swap-lines", "indent", "dedent", "truncate"]))
        pos = draw(st.integers(0, max(0, len(text) - 1)))
        li = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "replace" and text:
            text = text[:pos] + draw(st.sampled_from(INTERESTING)) + text[pos + 1:]
        elif op == "insert":
            text = text[:pos] + draw(st.sampled_from(INTERESTING)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)):]
        elif op == "dup-line":
            lines.insert(li, lines[li])
            text = "\n".join(lines)
        elif op == "drop-line":
            del lines[li]
            text = "\n".join(lines)
        elif op == "swap-lines":
            lj = draw(st.integers(0, max(0, len(lines) - 1)))
            lines[li], lines[lj] = lines[lj], lines[li]
            text = "\n".join(lines)
        elif op == "indent":
            lines[li] = "  " + lines[li]
            text = "\n".join(lines)
        elif op == "dedent":
            lines[li] = lines[li][2:]
            text = "\n".join(lines)
        elif op == "truncate":
            text = text[:pos]
    return text


WRONG = st.one_of(st.none(), st.integers(-3, 3), st.floats(allow_nan=False), st.booleans(),
                  # fresh containers each draw: a shared one could end up inside itself
                  st.builds(list), st.builds(dict), st.just("x"),
                  st.builds(lambda: ["a", 1]), st.builds(lambda: {"a": 1}),
                  st.just("abstain"), st.just("n0"), st.just("\x1b[2J"), st.just("x" * 500),
                  st.just("{{ 1/0 }}"), st.just("{% for %}"), st.just(-1.5e300))
KEYS = ["ask", "choices", "next", "otherwise", "rule", "quorum", "outcome", "say", "check",
        "when", "answer", "is", "in", "number", "text", "map", "returns", "branches", "id",
        "start", "nodes", "on_block", "proposal", "threshold", "min_fingers", "nxet", "colour"]


def _paths(obj: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, path + (i,))
    return out


@st.composite
def mutated_structure(draw) -> dict[str, Any]:
    m = draw(valid_maps())
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(m) if p]
        p = draw(st.sampled_from(paths))
        parent = m
        for k in p[:-1]:
            parent = parent[k]
        last = p[-1]
        op = draw(st.sampled_from(["remove", "rename", "wrong-type", "wrong-type"]))
        if op == "remove":
            del parent[last]
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.sampled_from(KEYS))
            if new not in parent:
                parent[new] = parent.pop(last)
        else:
            parent[last] = draw(WRONG)
    return m


def _loads_or_refuses(text: str, file: str) -> None:
    """load_text + check_map raise only MapError, always located; nothing is written."""
    WRITES.clear()
    WATCH[0] = True
    try:
        dm = load_text(text, file)
        diags = check_map(dm)
    except MapError as e:
        d = e.diagnostic
        assert re.fullmatch(r"DM\d{3}", d.code)
        assert d.where.file == file and d.where.line >= 1 and d.where.col >= 1, str(e)
        assert d.message
        for x in e.diagnostics:
            assert x.where.line >= 1, x.line()
        return
    finally:
        WATCH[0] = False
    assert WRITES == [], WRITES
    for d in diags:
        assert re.fullmatch(r"DM\d{3}", d.code) and d.where.line >= 1, d.line()


@examples("yaml")
@given(text=mutated_text())
def test_mutated_yaml_fails_only_with_a_located_map_error(text, fuzz_dir):
    note(repr(text))
    _loads_or_refuses(text, os.path.join(fuzz_dir, "mutant.yaml"))
    assert WRITES == [] and os.listdir(fuzz_dir) == []


@examples("structure")
@given(m=mutated_structure())
def test_mutated_structures_fail_only_with_a_located_map_error(m, fuzz_dir):
    text = yaml.safe_dump(m, sort_keys=False, allow_unicode=True)
    note(text)
    _loads_or_refuses(text, os.path.join(fuzz_dir, "mutant.yaml"))
    assert WRITES == [] and os.listdir(fuzz_dir) == []


# ---------------------------------------------------------------- loading never writes

WATCH = [False]
WRITES: list[tuple] = []
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_WRITE_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod",
                 "os.symlink", "os.link", "os.utime", "shutil.rmtree", "shutil.move",
                 "shutil.copyfile", "tempfile.mkstemp", "tempfile.mkdtemp"}


def _audit(event: str, args: tuple) -> None:
    if not WATCH[0]:
        return
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, 0))[:3]
        if (isinstance(mode, str) and set(mode) & set("wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        ):
            WRITES.append((event, path, mode, flags))
    elif event in _WRITE_EVENTS:
        WRITES.append((event, args))


sys.addaudithook(_audit)


def test_the_write_watch_sees_writes(tmp_path):
    """The watch used above would notice a write (so its silence means something)."""
    WRITES.clear()
    WATCH[0] = True
    try:
        (tmp_path / "x.txt").write_text("x")
        os.remove(tmp_path / "x.txt")
    finally:
        WATCH[0] = False
    assert [w[0] for w in WRITES] == ["open", "os.remove"]


@pytest.fixture(scope="session")
def fuzz_dir(tmp_path_factory) -> str:
    """An empty folder for the fuzzed maps' hand-offs to resolve in: it must stay empty."""
    return str(tmp_path_factory.mktemp("fuzz"))


def test_profile_counts_are_stated(capsys):
    """Say which profile ran and how many examples each property had."""
    with capsys.disabled():
        print(f"\n[hypothesis profile {PROFILE!r}] examples: "
              + ", ".join(f"{k}={v}" for k, v in N.items()))


# ---------------------------------------------------------------- regressions found here

APPROVAL_MAP = """\
id: a
title: A
version: '1'
start: q
nodes:
  q: {ask: Which?, rule: approval, choices: {x: o, y: o}, otherwise: o}
  o: {outcome: Done, next_steps: [x]}
"""


def test_approval_ballot_as_tuple_survives_json():
    dm = load_text(APPROVAL_MAP, "a.yaml")
    w = Walk(dm, ["A", "B"])
    w.submit([Ballot("A", ("x", "y")), Ballot("B", ["x"])])
    t = w.trace
    assert Trace.loads(t.dumps()).to_json() == t.to_json()
