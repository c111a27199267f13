"""Hypothesis strategies shared by the property tests: generated valid maps (every node
kind but hand-off, loops allowed) and the words, choices and groups they are built from."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import strategies as st

from decision_map.model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from decision_map.rules.table import possible_statuses

# ---------------------------------------------------------------- the valid-map generator

RULES = ["majority", "supermajority", "plurality", "unanimous", "consensus", "consent",
         "fist-to-five", "any"]
STATUS_KEY = {"blocked": "on_block", "tie": "on_tie", "no_quorum": "on_no_quorum",
              "no_agreement": "on_no_agreement"}
# Valid values that YAML 1.1 or a careless reader would turn into something else.
TRICKY = ["yes", "no", "on", "off", "null", "true", "1", "012", "1.5", "2024-01-01", "end",
          "graph", "~", "NaN", ".inf", "0x1F", "1_000", "<b>", "a\"b", "ja'nee", "éà",
          "go ahead", "maybe?", "#x", "*star", "&amp", "%%", "-->"]
WORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")),
    min_size=1, max_size=30,
).map(str.strip).filter(bool)
TEXT = st.one_of(WORDS, st.sampled_from(TRICKY + ["line one\nline two", '"]; evil [label="x',
                                                   "<script>alert(1)</script>"]))
CHOICE = st.one_of(st.sampled_from(TRICKY), st.from_regex(r"[A-Za-z][A-Za-z0-9 _-]{0,12}",
                                                          fullmatch=True).map(str.strip))
MEMBERS = st.lists(
    st.one_of(st.sampled_from(["Ana", "Ben", "Cy", "Dee", "Émile", "Ümit", "李", "O'Neil"]),
              WORDS),
    min_size=1, max_size=8, unique_by=str.strip,
)
TEMPLATES = [
    "{{ group|length }} of us, on {{ map.title }}.",
    "{% for k, v in answers|dictsort %}{{ k }}={{ v }}; {% endfor %}",
    "Outcome {{ outcome.title }} ({{ outcome.verdict or 'none' }})",
    "{{ texts|length }} text answers",
]


def _valid_choices(draw, n: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(n):
        c = draw(CHOICE)
        folded = c.strip().casefold()
        if not c or folded in seen or folded in {"abstain", "stand-aside", "block", "object",
                                                 "stand aside", "stand_aside"}:
            continue
        seen.add(folded)
        out.append(c)
    return out


@st.composite
def valid_maps(draw) -> dict[str, Any]:
    """A valid map as a dict: 3-25 nodes of every kind but hand-off, loops allowed, every
    node able to reach an outcome, every status its rule can produce routed."""
    n_out = draw(st.integers(1, 4))
    n_inner = draw(st.integers(max(0, 3 - n_out), 25 - n_out))
    pool = draw(st.permutations(TRICKY[:10] + [f"n{i}" for i in range(30)]))
    ids = [x for x in pool if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", x)]
    inner, outs = ids[:n_inner], ids[n_inner:n_inner + n_out]
    defaults: dict[str, Any] = {"max_revisits": draw(st.integers(0, 3))}
    if draw(st.booleans()):
        defaults["rule"] = draw(st.sampled_from(RULES))
    if draw(st.integers(0, 4)) == 0:
        defaults["quorum"] = draw(st.sampled_from([0.5, 0.6667, 1]))
    dmodel = Defaults.model_validate(defaults)
    kinds = [draw(st.sampled_from(["choice"] * 4 + ["number", "text", "check", "info"]))
             for _ in inner]
    if inner:
        kinds[0] = draw(st.sampled_from(["choice", "number", "text"]))
    questions: dict[str, str] = {}  # the questions before the node being made
    nodes: dict[str, Any] = {}
    choice_values: dict[str, list[str]] = {}

    def forward(i: int) -> str:
        return draw(st.sampled_from(inner[i + 1:] + outs))

    def anywhere() -> str:
        return draw(st.sampled_from(inner + outs))

    for i, (nid, kind) in enumerate(zip(inner, kinds, strict=True)):
        node: dict[str, Any] = {}
        if draw(st.booleans()):
            node["help"] = draw(TEXT)
        if kind == "choice":
            rule = draw(st.sampled_from(RULES + [None]))
            if rule:
                node["rule"] = rule
            effective = rule or defaults.get("rule") or "majority"
            n = 2 if effective == "any" else draw(st.integers(1, 4))
            values = _valid_choices(draw, n + 4)[:n]
            if effective == "any" and len(values) < 2:
                values = ["yes", "no"]
            if not values:
                values = ["ok"]
            node["ask"] = draw(TEXT)
            node["choices"] = {}
            for j, v in enumerate(values):
                target = forward(i) if j == 0 else anywhere()
                if draw(st.booleans()):
                    node["choices"][v] = target
                else:
                    node["choices"][v] = {"next": target, "label": draw(TEXT)}
            choice_values[nid] = values
            if effective == "supermajority" and draw(st.booleans()):
                node["threshold"] = draw(st.sampled_from([0.5, 0.6, 0.6667, 0.75, 1]))
            if effective == "consensus" and draw(st.booleans()):
                node["max_stand_asides"] = draw(st.integers(0, 3))
            if effective == "fist-to-five" and draw(st.booleans()):
                node["min_fingers"] = draw(st.integers(1, 5))
            if effective in ("consent", "fist-to-five", "any") and draw(st.booleans()):
                node["proposal"] = draw(st.sampled_from(values))
            if draw(st.integers(0, 3)) == 0:
                node["quorum"] = draw(st.sampled_from([0.25, 0.5, 0.6667, 1]))
            model = ChoiceQuestion.model_validate(node)
            questions[nid] = kind
        elif kind == "number":
            lo = draw(st.integers(-5, 5))
            hi = lo + draw(st.integers(0, 20))
            node["ask"] = draw(TEXT)
            node["number"] = {"min": lo, "max": hi,
                              "aggregate": draw(st.sampled_from(
                                  ["sum", "mean", "median", "min", "max"]))}
            if draw(st.booleans()):
                node["number"]["unit"] = draw(TEXT)
            node["branches"] = [
                {"when": _number_test(draw, lo, hi), "next": anywhere()}
                for _ in range(draw(st.integers(0, 3)))
            ]
            node["otherwise"] = forward(i)
            if draw(st.integers(0, 3)) == 0:
                node["quorum"] = draw(st.sampled_from([0.5, 1]))
            model = NumberQuestion.model_validate(node)
            questions[nid] = kind
        elif kind == "text":
            node["ask"] = draw(TEXT)
            node["text"] = draw(st.sampled_from(["each", "one"]))
            node["next"] = forward(i)
            if draw(st.integers(0, 3)) == 0:
                node["quorum"] = draw(st.sampled_from([0.5, 1]))
            model = TextQuestion.model_validate(node)
            questions[nid] = kind
        elif kind == "check":
            if not questions:
                kind = "info"
            else:
                cases = []
                for _ in range(draw(st.integers(1, 3))):
                    q = draw(st.sampled_from(sorted(questions)))
                    cases.append({"when": _condition(draw, q, questions[q],
                                                     choice_values.get(q)),
                                  "next": anywhere()})
                node["check"] = cases
                node["otherwise"] = forward(i)
        if kind == "info":
            node.pop("check", None)
            node["say"] = draw(TEXT)
            node["next"] = forward(i)
        if kind in ("choice", "number", "text"):
            for status in sorted(possible_statuses(model, dmodel) - {"decided"}):
                if "otherwise" in node:
                    break
                if draw(st.booleans()):
                    node[STATUS_KEY[status]] = anywhere()
                else:
                    node["otherwise"] = anywhere()
        nodes[nid] = node
    for oid in outs:
        o: dict[str, Any] = {"outcome": draw(TEXT),
                             "next_steps": draw(st.lists(TEXT, min_size=1, max_size=3))}
        if draw(st.booleans()):
            o["verdict"] = draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True))
        if draw(st.booleans()):
            o["text"] = draw(st.sampled_from(TEMPLATES))
        nodes[oid] = o
    order = draw(st.permutations(list(nodes)))  # map order need not be walk order
    return {
        "id": draw(st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)),
        "title": draw(TEXT),
        "version": draw(st.sampled_from(["1", "1.0", "2024-01-01", "0.1.2"])),
        "start": (inner + outs)[0],
        "defaults": defaults,
        "nodes": {k: nodes[k] for k in order},
    }


def _number_test(draw, lo: int, hi: int) -> dict[str, Any]:
    """A number branch's test: one or two bounds near the question's range (so that
    bounds meet), or an exact value."""
    value = st.integers(lo - 2, hi + 3)
    first = draw(st.sampled_from(["gte", "gt", "lte", "lt", "is"]))
    when: dict[str, Any] = {first: draw(value)}
    if first != "is" and draw(st.integers(0, 3)) == 0:
        when[{"gte": "lt", "gt": "lte", "lte": "gt", "lt": "gte"}[first]] = draw(value)
    return when


def _condition(draw, q: str, kind: str, values: list[str] | None) -> dict[str, Any]:
    options = ["answered", "status"]
    if kind == "choice":
        options += ["is", "in", "not_in"]
    if kind == "number":
        options += ["gte", "gt", "lte", "lt", "is"]
    which = draw(st.sampled_from(options))
    if which == "answered":
        c: dict[str, Any] = {"answer": q, "answered": draw(st.booleans())}
    elif which == "status":
        c = {"answer": q, "status": draw(st.sampled_from(
            ["decided", "blocked", "no_quorum", "tie", "no_agreement"]))}
    elif kind == "choice":
        assert values
        if which == "is":
            c = {"answer": q, "is": draw(st.sampled_from(values))}
        else:
            c = {"answer": q, which: draw(st.lists(st.sampled_from(values), min_size=1,
                                                   max_size=3))}
    else:
        c = {"answer": q, which: draw(st.integers(-7, 28))}
    wrap = draw(st.integers(0, 5))
    if wrap == 0:
        return {"not": c}
    if wrap == 1:
        return {"all": [c, {"answer": q, "answered": True}]}
    if wrap == 2:
        return {"any": [c]}
    return c


def dump(m: dict[str, Any]) -> str:
    return yaml.safe_dump(m, sort_keys=False, allow_unicode=True)
