"""The model floor (decision_map/model/): the format's models, conditions, the plain data of
ballots, decisions and submissions and their JSON, and the map as a graph. No files and no
loader here: maps are built from dicts, as the loader hands them over."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from decision_map.model.conditions import holds
from decision_map.model.decision import BLOCK, Ballot, Decision
from decision_map.model.format import (
    ChoiceQuestion,
    Comparison,
    MapFile,
    NumberQuestion,
    Outcome,
    node_kind,
)
from decision_map.model.graph import back_edges, build_graph, edges_of, questions_remaining
from decision_map.model.submission import Submission
from decision_map.model.trace import Step, Trace

MAP = {
    "id": "m", "title": "A small map", "version": 2, "start": "goal",
    "nodes": {
        "goal": {"ask": "Is the goal clear?", "rule": "consensus",
                 "choices": {"yes": "hours", "no": "talk"}, "on_block": "talk",
                 "otherwise": "talk"},
        "talk": {"say": "Talk it through.", "next": "goal"},
        "hours": {"ask": "How many hours can you give?", "number": {"min": 0},
                  "branches": [{"when": {"gte": 10}, "next": "form"}], "otherwise": "wait"},
        "enough": {"check": [{"when": {"answer": "hours", "gte": 10}, "next": "form"}],
                   "otherwise": "wait"},
        "form": {"outcome": "Form a coalition", "verdict": "go", "next_steps": ["Meet"]},
        "wait": {"outcome": "Not now", "verdict": "wait", "next_steps": ["Ask again"]},
    },
}


def decided(value, status="decided") -> Decision:
    return Decision(status=status, rule="majority", value=value, tally={}, explanation="",
                    members=3, participating=3)


# ---------------------------------------------------------------- format


def test_a_map_dict_becomes_typed_nodes():
    m = MapFile.model_validate(MAP)
    assert m.version == "2"  # a number written as the version is read as text
    kinds = {nid: node_kind(node) for nid, node in m.nodes.items()}
    assert kinds == {"goal": "choice", "talk": "info", "hours": "number", "enough": "check",
                     "form": "outcome", "wait": "outcome"}
    assert isinstance(m.nodes["goal"], ChoiceQuestion)
    assert m.nodes["goal"].targets() == {"yes": "hours", "no": "talk"}
    assert isinstance(m.nodes["hours"], NumberQuestion)
    assert isinstance(m.nodes["form"], Outcome) and m.nodes["form"].verdict == "go"


def test_node_kind_reads_a_plain_dict_by_its_keys():
    assert node_kind({"ask": "Q?", "number": {}}) == "number"
    assert node_kind({"ask": "Q?", "text": "each"}) == "text"
    assert node_kind({"map": "other.yaml"}) == "handoff"
    assert node_kind({"nothing": 1}) is None and node_kind("not a node") is None


@pytest.mark.parametrize("typo", [{"nex_steps": ["x"]}, {"verdit": "go"}])
def test_unknown_keys_are_errors(typo):
    bad = {**MAP, "nodes": {**MAP["nodes"], "form": {"outcome": "Form", **typo}}}
    with pytest.raises(ValidationError):
        MapFile.model_validate(bad)


def test_comparison_keys_as_authors_write_them():
    c = Comparison.model_validate({"answer": "goal", "is": "yes", "not_in": ["no"]})
    assert c.is_ == "yes" and c.not_in == ["no"] and c.in_ is None


# ---------------------------------------------------------------- conditions


def test_conditions_combine_over_the_decisions_so_far():
    m = MapFile.model_validate({**MAP, "nodes": {**MAP["nodes"], "enough": {
        "check": [{"when": {"all": [{"answer": "hours", "gte": 10},
                                    {"not": {"answer": "goal", "status": "blocked"}}]},
                   "next": "form"},
                  {"when": {"any": [{"answer": "goal", "is": "no"},
                                    {"answer": "goal", "answered": False}]},
                   "next": "wait"}]}}})
    first, second = (r.when for r in m.nodes["enough"].check)
    seen = {"hours": decided(12.0), "goal": decided("yes")}
    assert holds(first, seen) and not holds(second, seen)
    assert not holds(first, {"hours": decided(8.0), "goal": decided("yes")})
    assert not holds(first, {"hours": decided(12.0), "goal": decided(None, "blocked")})
    assert holds(second, {"hours": decided(12.0)})  # goal never reached
    assert not holds(first, {"hours": decided("12"), "goal": decided("yes")})  # text, not 12


def test_numbers_compare_as_numbers_and_booleans_are_not_numbers():
    is_two = Comparison.model_validate({"answer": "n", "is": 2})
    assert holds(is_two, {"n": decided(2.0)})
    at_least_one = Comparison.model_validate({"answer": "n", "gte": 1})
    assert not holds(at_least_one, {"n": decided(True)})


# ---------------------------------------------------------------- ballots, decisions, JSON


def test_ballots_survive_json_with_their_kind_of_value():
    ballots = [Ballot("Ana", "yes"), Ballot("Ben", BLOCK, "too fast"), Ballot(None, 4.5),
               Ballot("Cy", ("b", "a"))]
    data = json.loads(json.dumps([b.to_json() for b in ballots]))
    assert data[0] == {"member": "Ana", "value": "yes"}  # no reason, no key
    assert data[3]["value"] == ["b", "a"]
    assert [Ballot.from_json(d) for d in data] == ballots


def test_a_decision_survives_json_whole():
    d = Decision(status="blocked", rule="consensus", value=None, tally={"yes": 3},
                 explanation="Blocked by Ben: too fast.", members=5, participating=4,
                 abstained=("Cy",), stood_aside=("Dee",), blocks=(("Ben", "too fast"),),
                 absent=("Eli",), texts=((None, "Our words"),), details={"quorum": 3})
    data = json.loads(json.dumps(d.to_json()))
    assert data["blocks"] == [{"member": "Ben", "reason": "too fast"}]
    assert data["texts"] == [{"member": None, "text": "Our words"}]
    assert Decision.from_json(data) == d


def test_a_submission_survives_json():
    s = Submission("m", "goal", (Ballot("Ana", "yes"), Ballot("Ben", BLOCK, "no")))
    assert Submission.from_json(json.loads(json.dumps(s.to_json()))) == s


def test_a_trace_survives_json():
    t = Trace("m", "2", "0" * 64, "A small map", ["Ana", "Ben"], steps=[
        Step("m", "goal", "choice", decision=decided("yes"), route_kind="choice",
             route_value="yes", next="hours"),
        Step("m", "form", "outcome"),
    ], outcome="form", verdict="go")
    back = Trace.loads(t.dumps())
    assert back.to_json() == t.to_json()
    assert back.finished and back.answers() == {"goal": "yes"}


# ---------------------------------------------------------------- the graph


def test_edges_in_the_order_the_walk_considers_them():
    m = MapFile.model_validate(MAP)
    ways = [(e.kind, e.value, e.target) for e in edges_of(m.nodes["goal"])]
    assert ways == [("choice", "yes", "hours"), ("choice", "no", "talk"),
                    ("status", "blocked", "talk"), ("otherwise", "otherwise", "talk")]
    assert [(e.kind, e.value) for e in edges_of(m.nodes["hours"])] == [
        ("branch", ">= 10"), ("otherwise", "otherwise")]
    assert edges_of(m.nodes["form"]) == []


def test_graph_shares_an_edge_between_routes_and_skips_missing_targets():
    nodes = {**MAP["nodes"], "wait": {"outcome": "Not now"},
             "talk": {"say": "Talk it through.", "next": "nowhere"}}
    g = build_graph(MapFile.model_validate({**MAP, "nodes": nodes}))
    assert [e.value for e in g.edges["goal", "talk"]["routes"]] == ["no", "blocked",
                                                                  "otherwise"]
    assert not g.has_node("nowhere") and list(g.successors("talk")) == []
    assert g.nodes["goal"]["label"] == "Is the goal clear?" and g.graph["start"] == "goal"


def test_loops_are_found_and_questions_left_counted_without_them():
    g = build_graph(MapFile.model_validate(MAP))
    assert back_edges(g) == {("talk", "goal")}

    class Loaded:  # what questions_remaining reads from a loaded map
        graph = g

    left = questions_remaining(Loaded())
    assert left["goal"] == 2 and left["hours"] == 1
    assert left["talk"] == 0  # its way on closes the loop, so it is cut
    assert left["form"] == 0 and left["enough"] == 0
