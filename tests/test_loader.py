"""The loader: YAML traps closed, positions recorded, errors located, graph built."""

from __future__ import annotations

import textwrap

import pytest

from decision_map.errors import MapError
from decision_map.io.loader import load_map, load_text
from decision_map.io.yaml_source import parse_yaml

MAP = textwrap.dedent("""\
    id: trap
    title: The yes/no trap
    version: 1.0
    start: q
    nodes:
      q:
        ask: Shall we?
        choices:
          yes: a
          no: b
          on: a
          off: b
        otherwise: b
      a: {outcome: A, next_steps: [go]}
      b: {outcome: B, next_steps: [stop]}
    """)


def test_yes_and_no_load_as_two_answers(tmp_path):
    p = tmp_path / "trap.yaml"
    p.write_text(MAP)
    dm = load_map(p)
    q = dm.nodes["q"]
    assert list(q.choices) == ["yes", "no", "on", "off"]
    assert q.targets() == {"yes": "a", "no": "b", "on": "a", "off": "b"}
    assert dm.version == "1.0"


def test_scalars_keep_text_that_looks_like_other_types():
    data, _ = parse_yaml("a: 012\nb: 2024-01-01\nc: yes\nd: 12\ne: 1.5\nf: true\ng: ~\n"
                         "h: '7'\n", "x.yaml")
    assert data == {"a": "012", "b": "2024-01-01", "c": "yes", "d": 12, "e": 1.5,
                    "f": True, "g": None, "h": "7"}


def test_positions_of_keys_and_values():
    _, pos = parse_yaml("top:\n  inner: [1, two]\n", "x.yaml")
    assert str(pos.where(("top", "inner"), key=True)) == "x.yaml:2:3"
    assert str(pos.where(("top", "inner", 1))) == "x.yaml:2:14"


def test_graph_carries_kinds_labels_and_routes(tmp_path):
    p = tmp_path / "trap.yaml"
    p.write_text(MAP)
    g = load_map(p).graph
    assert g.nodes["q"]["kind"] == "choice" and g.nodes["q"]["label"] == "Shall we?"
    assert g.nodes["a"]["kind"] == "outcome"
    routes = [(r.kind, r.value) for r in g.edges["q", "b"]["routes"]]
    assert routes == [("choice", "no"), ("choice", "off"), ("otherwise", "otherwise")]


@pytest.mark.parametrize("text,where,needle", [
    ("id: t\ntitle: T\nversion: '1'\nstart: q\nnodes:\n  q: {ask: Go?, choices: {yes: q},"
     " otherwise: q, colour: red}\n", "<m>:6:50", "unknown key 'colour'"),
    ("id: t\ntitle: T\nversion: '1'\nstart: q\nnodes:\n  q: {bogus: 1}\n", "<m>:6:6",
     "a node carries one of"),
    ("id: t\ntitle: T\nversion: '1'\nstart: q\nnodes:\n  q: {ask: Go?, choices: {abstain: q}}\n",
     "<m>:6:26", "reserved vote word"),
    ("- a\n- b\n", "<m>:1:1", "a map file is a mapping"),
])
def test_schema_errors_are_located(text, where, needle):
    with pytest.raises(MapError) as e:
        load_text(text, "<m>")
    assert str(e.value.diagnostic.where) == where
    assert needle in e.value.diagnostic.message


def test_second_load_of_same_bytes_is_cached(tmp_path):
    p = tmp_path / "trap.yaml"
    p.write_text(MAP)
    first, second = load_map(p), load_map(p)
    assert first.model is second.model and first.sha256 == second.sha256
    p.write_text(MAP.replace("Shall we?", "Shall we now?"))
    third = load_map(p)
    assert third.nodes["q"].ask == "Shall we now?" and third.sha256 != first.sha256


def test_a_cached_map_is_never_stale_about_its_handoffs(tmp_path):
    (tmp_path / "sub.yaml").write_text(
        "id: sub\ntitle: S\nversion: '1'\nstart: e\nnodes:\n  e: {outcome: Old, next_steps: [x]}\n")
    (tmp_path / "top.yaml").write_text(
        "id: top\ntitle: T\nversion: '1'\nstart: h\nnodes:\n"
        "  h: {map: sub.yaml, otherwise: e}\n  e: {outcome: End, next_steps: [x]}\n")
    first = load_map(tmp_path / "top.yaml")
    assert load_map(tmp_path / "top.yaml") is first
    (tmp_path / "sub.yaml").write_text(
        "id: sub\ntitle: S\nversion: '1'\nstart: e\nnodes:\n  e: {outcome: New, next_steps: [x]}\n")
    again = load_map(tmp_path / "top.yaml")
    assert again is not first
    assert again.handoffs["h"].loaded.nodes["e"].outcome == "New"


def test_a_cached_map_sees_a_missing_or_broken_handoff_written_or_mended(tmp_path):
    sub = "id: sub\ntitle: S\nversion: '1'\nstart: e\nnodes:\n  e: {outcome: A, next_steps: [x]}\n"
    (tmp_path / "top.yaml").write_text(
        "id: top\ntitle: T\nversion: '1'\nstart: h\nnodes:\n"
        "  h: {map: sub.yaml, otherwise: e}\n  e: {outcome: End, next_steps: [x]}\n")
    missing = load_map(tmp_path / "top.yaml")
    assert missing.handoffs["h"].loaded is None
    assert "does not exist" in missing.handoffs["h"].problem.message
    (tmp_path / "sub.yaml").write_text(sub.replace("outcome: A", "outcome: ["))
    broken = load_map(tmp_path / "top.yaml")
    assert broken is not missing and "does not load" in broken.handoffs["h"].problem.message
    (tmp_path / "sub.yaml").write_text(sub)
    mended = load_map(tmp_path / "top.yaml")
    assert mended.handoffs["h"].loaded.nodes["e"].outcome == "A"


def test_loading_and_checking_leave_the_garbage_collector_as_they_found_it():
    """The loader and checker pause the collector for speed; they must give it back, on
    success and on a refused map alike, and not turn it on if the caller had it off."""
    import gc

    from decision_map.check.checks import check_map
    from decision_map.errors import MapError
    from decision_map.io.loader import load_text

    good = ("id: g\ntitle: G\nversion: '1'\nstart: e\nnodes:\n"
            "  e: {outcome: End, next_steps: [x]}\n")
    assert gc.isenabled()
    check_map(load_text(good, "good.yaml"))
    assert gc.isenabled()
    with pytest.raises(MapError):
        load_text("id: [\n", "bad.yaml")
    assert gc.isenabled()
    gc.disable()
    try:
        check_map(load_text(good, "good.yaml"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_key_of_another_kind_of_node_is_not_suggested_as_itself(tmp_path, cli):
    """`next:` on a number question is a real key in the wrong place: the hint says so,
    not "did you mean 'next'?"."""
    m = tmp_path / "m.yaml"
    m.write_text('id: nq\ntitle: NQ\nversion: "1"\nstart: q\nnodes:\n  q:\n'
                 "    ask: How many?\n    number: {min: 0}\n    next: done\n"
                 "    branches:\n      - when: {gte: 0}\n        next: done\n"
                 "  done:\n    outcome: Done\n    next_steps: [x]\n")
    p = cli("check", "--no-cache", str(m))
    assert p.returncode == 1
    assert "unknown key 'next'" in p.stdout
    assert "did you mean 'next'" not in p.stdout
    assert "'next' belongs to another kind of node" in p.stdout
