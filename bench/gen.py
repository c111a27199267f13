"""The one generator of synthetic maps, outside the installed packages: maps of any size
with every node kind and every rule (valid under `decision-map check`) and a small sub-map
they hand off to, for the benchmarks and the renderer's tests; a walk through them;
responses CSVs; and small random maps full of tricky author text (`random_map`), for the
property tests.

Everything is seeded: pass `seed`, or a `random.Random` as `rng` (so that Hypothesis can
drive it with `st.randoms()`); the same seed gives the same text.

>>> text = map_text(20, handoffs=False)
>>> text == map_text(20, handoffs=False) and text.count("ask:") == 5
True
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from decision_map.io.loader import DecisionMap
    from decision_map.model.trace import Trace

T = TypeVar("T")

RULES = ("majority", "supermajority", "plurality", "unanimous", "consensus", "consent",
         "fist-to-five", "any")
AGGS = ("sum", "mean", "median", "min", "max")
VERDICTS = ("go", "wait", "stop")
BLOCK = 10  # nodes per block of the generated map
MAX_HANDOFFS = 200
OUTCOME_TEXT = json.dumps("{{ group | join(', ') }} stop here.")

SUB_MAP = """\
id: sub
title: A small map handed off to
version: "1"
start: s-ask
nodes:
  s-ask: {ask: Ready to go on?, rule: majority, choices: {yes: s-ok, no: s-no}, otherwise: s-no}
  s-ok: {outcome: Ready, verdict: ok, next_steps: [go on]}
  s-no: {outcome: Not ready, verdict: no, next_steps: [come back]}
"""


def _q(s: str) -> str:
    return json.dumps(s)  # a JSON string is a YAML flow scalar


def _choice(i: int, rule: str, nxt: str, alt: str, rng: random.Random,
            loops: bool = False) -> str:
    """A choice question under `rule`, with a route for every status it can end in; `rng`
    picks its parameters, whether it asks for a quorum, and which choice goes on. One whose
    `alt` `loops` back has an otherwise: the way on once the bound on revisits is reached."""
    a, b = ("a", "b") if rng.random() < 0.5 else ("b", "a")  # `a` goes on, `b` aside
    extra = ""
    if rule == "any":
        extra = f", proposal: {rng.choice('ab')}"
    elif rule == "fist-to-five":
        extra = f", min_fingers: {rng.choice((2, 3, 4))}"
    elif rule == "supermajority":
        extra = f", threshold: {rng.choice(('0.6', '2/3', '0.75'))}"
    elif rule == "consensus":
        extra = f", max_stand_asides: {rng.randint(1, 3)}"
    routes = ""
    if rule in ("consensus", "consent", "fist-to-five"):
        routes += f", on_block: {alt}"
    if rule in ("majority", "plurality"):
        routes += f", on_tie: {alt}"
    if rng.random() < 1 / 3 and rule != "any":
        extra += f", quorum: {rng.choice(('0.5', '2/3'))}"
        routes += f", on_no_quorum: {alt}"
    if rule != "any" and rule != "consent":
        routes += f", otherwise: {nxt}"
    elif rule == "consent" and "quorum" in extra:
        routes += f", otherwise: {nxt}"
    elif loops:
        routes += f", otherwise: {nxt}"
    choices = f"{{{a}: {nxt}, {b}: {alt}}}" if rule in ("any", "consent", "fist-to-five") \
        else f"{{{a}: {nxt}, {b}: {alt}, c: {nxt}}}"
    return (f"{{ask: {_q(f'Question {i}: shall we take part {i}?')}, rule: {rule}{extra}, "
            f"choices: {choices}{routes}}}")


def map_text(n: int, seed: int = 0, sub: str = "sub.yaml", *,
             rng: random.Random | None = None, handoffs: bool = True) -> str:
    """YAML of a map of exactly `n` nodes (n >= 20): blocks of ten nodes (choice, number,
    text, check, info, hand-off, two more choices, info, outcome), the blocks' choices
    rotating through every rule, about one block in four looping back, and final outcomes.
    The random draws pick each rule's parameters and quorum, which choice goes on, where
    the rotations start, the number thresholds, the loops and the verdicts.

    `handoffs=False` reads something out instead of handing off, so the text loads on its
    own (no `sub` file beside it); `rng`, when given, is used instead of `seed`."""
    rng = rng if rng is not None else random.Random(seed)
    n = max(n, 20)
    blocks = (n - 2) // BLOCK
    out = io.StringIO()
    w = out.write
    w(f"id: gen-{n}\ntitle: Generated map of {n} nodes\nversion: \"1\"\nstart: n0\n"
      "defaults: {rule: majority, max_revisits: 2}\nnodes:\n")
    # the loader loads a hand-off's map once per hand-off node, at most
    # MAX_HANDOFF_LOADS (256) in all: keep the hand-off nodes under that
    handoff_every = max(1, -(-blocks // MAX_HANDOFFS))
    rule_i = rng.randrange(len(RULES))
    agg_i = rng.randrange(len(AGGS))
    last_q = "n0"
    for blk in range(blocks):
        b = blk * BLOCK
        nid = [f"n{b + k}" for k in range(BLOCK)]
        nxt_block = f"n{b + BLOCK}"
        out_node = nid[9]
        r0 = RULES[rule_i % len(RULES)]
        r6 = RULES[(rule_i + 1) % len(RULES)]
        r7 = RULES[(rule_i + 2) % len(RULES)]
        rule_i += 3
        w(f"  {nid[0]}: {_choice(b, r0, nid[1], out_node, rng)}\n")
        agg = AGGS[(agg_i + blk) % len(AGGS)]
        enough = rng.randint(5, 15)
        w(f"  {nid[1]}: {{ask: {_q(f'How many hours for {b + 1}?')}, number: {{min: 0, max: 40,"
          f" aggregate: {agg}}}, branches: [{{when: {{gte: {enough}}}, next: {nid[2]}}}], "
          f"otherwise: {nid[3]}}}\n")
        w(f"  {nid[2]}: {{ask: {_q(f'Say a word about {b + 2}')}, text: each, next: {nid[3]}}}\n")
        cond = f"{{answer: {nid[0]}, not_in: [b]}}" if blk % 2 else \
            f"{{any: [{{answer: {nid[0]}, is: a}}, {{answer: {nid[0]}, status: tie}}]}}"
        w(f"  {nid[3]}: {{check: [{{when: {cond}, next: {nid[4]}}}], otherwise: {nid[5]}}}\n")
        w(f"  {nid[4]}: {{say: {_q(f'Read this out ({b + 4}).')}, next: {nid[5]}}}\n")
        if handoffs and blk % handoff_every == 0:
            w(f"  {nid[5]}: {{map: {sub}, returns: {{s-ok: {nid[6]}, s-no: {nid[7]}}}}}\n")
        else:
            w(f"  {nid[5]}: {{say: {_q(f'Between parts ({b + 5}).')}, next: {nid[6]}}}\n")
        w(f"  {nid[6]}: {_choice(b + 6, r6, nid[7], nid[8], rng)}\n")
        # the third choice sometimes loops back to the block's start (bounded by revisits)
        back = nid[0] if rng.random() < 0.25 else nid[8]
        w(f"  {nid[7]}: {_choice(b + 7, r7, nid[8], back, rng, loops=back == nid[0])}\n")
        w(f"  {nid[8]}: {{say: {_q(f'Next part ({b + 8}).')}, next: {nxt_block}}}\n")
        v = rng.choice(VERDICTS)
        w(f"  {out_node}: {{outcome: {_q(f'Stop at part {blk}')}, verdict: {v}, "
          f"next_steps: [talk again], text: {OUTCOME_TEXT}}}\n")
        last_q = nid[7]
    del last_q
    # filler: the remaining nodes, then the final outcome
    first = blocks * BLOCK
    for j in range(first, n - 1):
        w(f"  n{j}: {{say: {_q(f'Almost done ({j}).')}, next: n{j + 1}}}\n")
    w(f"  n{n - 1}: {{outcome: Done, verdict: go, next_steps: [celebrate]}}\n")
    return out.getvalue()


def write_maps(folder: str, sizes: list[int], seed: int = 0) -> dict[int, str]:
    """Write `gen-N.yaml` for each size and the one `sub.yaml` they hand off to."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "sub.yaml"), "w", encoding="utf-8") as f:
        f.write(SUB_MAP)
    out = {}
    for n in sizes:
        p = os.path.join(folder, f"gen-{n}.yaml")
        with open(p, "w", encoding="utf-8") as f:
            f.write(map_text(n, seed + n))
        out[n] = p
    return out


def generated_map(n: int, seed: int = 0, *, rng: random.Random | None = None) -> DecisionMap:
    """The map of `map_text(n, handoffs=False)`, loaded: for drawing and walking in memory."""
    from decision_map.io.loader import load_text

    return load_text(map_text(n, seed, rng=rng, handoffs=False), f"<generated-{n}>")


def guided_trace(dm: DecisionMap, questions: int = 40, members: int = 5) -> Trace:
    """A walk that goes the longest way on for `questions` questions, then the short way
    out: the path a real meeting takes through a big map (every member gives the same)."""
    from decision_map.model.decision import Ballot
    from decision_map.model.format import ChoiceQuestion, NumberQuestion, TextQuestion
    from decision_map.model.graph import questions_remaining
    from decision_map.walk.engine import run

    group = [f"M{i}" for i in range(members)]
    asked = [0]
    by_id = {dm.id: dm}
    for link in dm.handoffs.values():
        if link.loaded is not None:
            by_id[link.loaded.id] = link.loaded

    def answers(pos):
        node = pos.node
        asked[0] += 1
        deep = asked[0] <= questions
        if isinstance(node, TextQuestion):
            vals = ["A few words"] + ([""] * (members - 1) if node.text == "one" else
                                      ["More words"] * (members - 1))
            return [Ballot(m, v) for m, v in zip(group, vals, strict=True) if v]
        if isinstance(node, NumberQuestion):
            return [Ballot(m, 5) for m in group]
        assert isinstance(node, ChoiceQuestion)
        rem = questions_remaining(by_id[pos.map_id])
        ranked = sorted(node.choices, key=lambda c: -rem.get(node.targets()[c], 0))
        pick = ranked[0] if deep else ranked[-1]
        if node.rule == "fist-to-five":
            return [Ballot(m, 5 if pick == (node.proposal or ranked[0]) else 0) for m in group]
        return [Ballot(m, pick) for m in group]

    return run(dm, group, answers, stop_at_missing=True)


# ---------------------------------------------------------------- responses


def _vote_pools(dm, members: int, rng: random.Random, pool: int = 400) -> list[tuple[str,
                                                                                    list]]:
    """Per question key: a pool of vote vectors (one cell per member) a group may give.

    Votes lean to one choice per vector, with some abstentions, stand-asides, blocks or
    objections where the rule allows them, and some members absent (empty cells)."""
    from decision_map.io.answers import questions_of
    from decision_map.model.format import ChoiceQuestion, NumberQuestion
    from decision_map.model.graph import questions_remaining
    from decision_map.rules.params import effective_rule
    from decision_map.rules.table import allowed_votes

    cols = []
    for key, (m, _nid, node) in questions_of(m_dm := dm).items():
        if "/" in key and m is m_dm:
            continue  # `top-id/id` duplicates the plain id
        vecs = []
        remaining = questions_remaining(m)
        for _ in range(pool):
            cells = []
            if isinstance(node, ChoiceQuestion):
                rule = effective_rule(node, m.model.defaults)
                allowed = sorted(allowed_votes(node, m.model.defaults))
                choices = list(node.choices)
                # lean to the choice with the longest way on, more often than not, so
                # walks go deep and reach every part of the map
                far = max(choices, key=lambda c: remaining.get(node.targets()[c], 0))
                lean = far if rng.random() < 0.75 else rng.choice(choices)
                noise = rng.choice((0.0, 0.1, 0.3, 0.6))
                for _m in range(members):
                    x = rng.random()
                    if x < 0.02:
                        cells.append("")
                    elif x < 0.05:
                        cells.append(rng.choice(allowed))
                    elif rule == "fist-to-five":
                        cells.append(str(rng.choice((5, 4, 4, 3, 3, 2, 0)) if x < 0.05 + noise
                                         else rng.choice((5, 4, 3))))
                    elif x < 0.05 + noise:
                        cells.append(rng.choice(choices))
                    else:
                        cells.append(lean)
                    if cells[-1] in ("block", "object"):  # a reason, as maps require
                        rng.random()  # drawn as before, so the rest of the data stays the same
                        cells[-1] = cells[-1] + ": it crosses our red line"
            elif isinstance(node, NumberQuestion):
                lo = int(node.number.min if node.number.min is not None else 0)
                hi = int(node.number.max if node.number.max is not None else 20)
                hi = min(hi, lo + 12)
                for _m in range(members):
                    x = rng.random()
                    cells.append("" if x < 0.03 else "abstain" if x < 0.05
                                 else str(rng.randint(lo, hi)))
            else:  # text
                one = getattr(node, "text", "each") == "one"
                for k in range(members):
                    if one:
                        cells.append("We agree on this sentence" if k == 0 else "")
                    else:
                        x = rng.random()
                        cells.append("" if x < 0.05 else rng.choice(
                            ("Rent is too high", "We want clean air", "More hours for us",
                             "Keep our voice", "abstain")))
            vecs.append(cells)
        cols.append((key, vecs))
    return cols


def write_responses(path: str, dm, groups: int, members: int, seed: int = 0) -> str:
    """A responses CSV: one row per member, `group` and `member` columns, a column per
    question key (hand-off maps' questions as MAP-ID/QUESTION-ID)."""
    rng = random.Random(seed)
    cols = _vote_pools(dm, members, rng)
    n_rows = groups * members
    columns = [[f"g{g}" for g in range(groups) for _ in range(members)],
               [f"m{k}" for _ in range(groups) for k in range(members)]]
    for _key, vecs in cols:
        col: list[str] = []
        ext = col.extend
        picks = rng.choices(range(len(vecs)), k=groups)
        for p in picks:
            ext(vecs[p])
        assert len(col) == n_rows
        columns.append(col)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(["group", "member"] + [k for k, _ in cols]) + "\n")
        f.writelines(",".join(r) + "\n" for r in zip(*columns, strict=True))
    return path


# ---------------------------------------------------------------- small random maps
#
# Small maps (3-25 nodes) of every kind but hand-off, with author text meant to trip YAML
# and the renderers: the property tests' maps. Every pick goes through a Picker, so the
# same code runs on a random.Random (RandomPicker) and on Hypothesis draws
# (map_strategy(), whose examples shrink).

# Valid values that YAML 1.1 or a careless reader would turn into something else.
TRICKY = ["yes", "no", "on", "off", "null", "true", "1", "012", "1.5", "2024-01-01", "end",
          "graph", "~", "NaN", ".inf", "0x1F", "1_000", "<b>", "a\"b", "ja'nee", "éà",
          "go ahead", "maybe?", "#x", "*star", "&amp", "%%", "-->"]
TRICKY_TEXT = TRICKY + ["line one\nline two", '"]; evil [label="x', "<script>alert(1)</script>"]
TEMPLATES = [
    "{{ group|length }} of us, on {{ map.title }}.",
    "{% for k, v in answers|dictsort %}{{ k }}={{ v }}; {% endfor %}",
    "Outcome {{ outcome.title }} ({{ outcome.verdict or 'none' }})",
    "{{ texts|length }} text answers",
]
STATUS_KEY = {"blocked": "on_block", "tie": "on_tie", "no_quorum": "on_no_quorum",
              "no_agreement": "on_no_agreement"}
RESERVED_VOTES = {"abstain", "stand-aside", "block", "object", "stand aside", "stand_aside"}
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
LETTERS = LOWER + LOWER.upper()


class Picker(Protocol):
    """Where a random map's every decision comes from."""

    def integer(self, lo: int, hi: int) -> int: ...
    def boolean(self) -> bool: ...
    def choice(self, options: Sequence[T]) -> T: ...
    def permutation(self, items: Sequence[T]) -> list[T]: ...
    def text(self) -> str: ...
    def choice_value(self) -> str: ...
    def slug(self, first: str, rest: str, most: int) -> str: ...


class RandomPicker:
    """Picks from a random.Random: author text is a tricky word or 1-30 printable
    characters from anywhere in Unicode."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def boolean(self) -> bool:
        return self.rng.random() < 0.5

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))

    def permutation(self, items: Sequence[T]) -> list[T]:
        return self.rng.sample(list(items), len(items))

    def text(self) -> str:
        if self.boolean():
            return self.choice(TRICKY_TEXT)
        while True:
            chars = [self._char() for _ in range(self.integer(1, 30))]
            if s := "".join(chars).strip():
                return s

    def _char(self) -> str:
        while True:
            c = chr(self.rng.choice((self.rng.randint(0x20, 0x2FF),
                                     self.rng.randint(0x20, 0x2FFFF))))
            if unicodedata.category(c) not in ("Cs", "Cc", "Co", "Cn"):
                return c

    def choice_value(self) -> str:
        if self.boolean():
            return self.choice(TRICKY)
        return self.slug(LETTERS, LETTERS + DIGITS + " _-", 12).strip()

    def slug(self, first: str, rest: str, most: int) -> str:
        return self.choice(first) + "".join(self.choice(rest)
                                            for _ in range(self.integer(0, most)))


def map_strategy():
    """A Hypothesis strategy of `random_map` dicts, each pick a draw (so that failing
    examples shrink). Imports Hypothesis, a test dependency, only when called."""
    from hypothesis import strategies as st

    words = st.text(alphabet=st.characters(codec="utf-8",
                                           exclude_categories=("Cs", "Cc", "Co", "Cn")),
                    min_size=1, max_size=30).map(str.strip).filter(bool)
    text = st.one_of(words, st.sampled_from(TRICKY_TEXT))
    choice_value = st.one_of(st.sampled_from(TRICKY), st.from_regex(
        r"[A-Za-z][A-Za-z0-9 _-]{0,12}", fullmatch=True).map(str.strip))

    class DrawPicker:
        def __init__(self, draw) -> None:
            self.draw = draw

        def integer(self, lo: int, hi: int) -> int:
            return self.draw(st.integers(lo, hi))

        def boolean(self) -> bool:
            return self.draw(st.booleans())

        def choice(self, options):
            return self.draw(st.sampled_from(list(options)))

        def permutation(self, items):
            return self.draw(st.permutations(list(items)))

        def text(self) -> str:
            return self.draw(text)

        def choice_value(self) -> str:
            return self.draw(choice_value)

        def slug(self, first: str, rest: str, most: int) -> str:
            pattern = f"[{re.escape(first)}][{re.escape(rest)}]{{0,{most}}}"
            return self.draw(st.from_regex(pattern, fullmatch=True))

    @st.composite
    def maps(draw) -> dict[str, Any]:
        return random_map(DrawPicker(draw))

    return maps()


def _choice_values(pick: Picker, n: int) -> list[str]:
    """Up to `n` distinct choice values, none a word members vote with instead."""
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(n):
        c = pick.choice_value()
        folded = c.strip().casefold()
        if not c or folded in seen or folded in RESERVED_VOTES:
            continue
        seen.add(folded)
        out.append(c)
    return out


def _number_test(pick: Picker, lo: int, hi: int) -> dict[str, Any]:
    """A number branch's test: one or two bounds near the question's range (so that
    bounds meet), or an exact value."""
    first = pick.choice(["gte", "gt", "lte", "lt", "is"])
    when: dict[str, Any] = {first: pick.integer(lo - 2, hi + 3)}
    if first != "is" and pick.integer(0, 3) == 0:
        other = {"gte": "lt", "gt": "lte", "lte": "gt", "lt": "gte"}[first]
        when[other] = pick.integer(lo - 2, hi + 3)
    return when


def _condition(pick: Picker, q: str, kind: str, values: list[str] | None) -> dict[str, Any]:
    """A check's condition on the earlier question `q`, sometimes wrapped in not/all/any."""
    options = ["answered", "status"]
    if kind == "choice":
        options += ["is", "in", "not_in"]
    if kind == "number":
        options += ["gte", "gt", "lte", "lt", "is"]
    which = pick.choice(options)
    if which == "answered":
        c: dict[str, Any] = {"answer": q, "answered": pick.boolean()}
    elif which == "status":
        c = {"answer": q, "status": pick.choice(
            ["decided", "blocked", "no_quorum", "tie", "no_agreement"])}
    elif kind == "choice":
        assert values
        if which == "is":
            c = {"answer": q, "is": pick.choice(values)}
        else:
            c = {"answer": q, which: [pick.choice(values) for _ in range(pick.integer(1, 3))]}
    else:
        c = {"answer": q, which: pick.integer(-7, 28)}
    wrap = pick.integer(0, 5)
    if wrap == 0:
        return {"not": c}
    if wrap == 1:
        return {"all": [c, {"answer": q, "answered": True}]}
    if wrap == 2:
        return {"any": [c]}
    return c


def random_map(pick: Picker) -> dict[str, Any]:
    """A valid map as a dict: 3-25 nodes of every kind but hand-off, loops allowed, every
    node able to reach an outcome, every status its rule can produce routed."""
    from decision_map.model.format import (
        ChoiceQuestion,
        Defaults,
        NumberQuestion,
        TextQuestion,
    )
    from decision_map.rules.table import possible_statuses

    n_out = pick.integer(1, 4)
    n_inner = pick.integer(max(0, 3 - n_out), 25 - n_out)
    pool = pick.permutation(TRICKY[:10] + [f"n{i}" for i in range(30)])
    ids = [x for x in pool if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", x)]
    inner, outs = ids[:n_inner], ids[n_inner:n_inner + n_out]
    defaults: dict[str, Any] = {"max_revisits": pick.integer(0, 3)}
    if pick.boolean():
        defaults["rule"] = pick.choice(RULES)
    if pick.integer(0, 4) == 0:
        defaults["quorum"] = pick.choice([0.5, "2/3", 1])
    dmodel = Defaults.model_validate(defaults)
    kinds = [pick.choice(["choice"] * 4 + ["number", "text", "check", "info"]) for _ in inner]
    if inner:
        kinds[0] = pick.choice(["choice", "number", "text"])
    questions: dict[str, str] = {}  # the questions before the node being made
    nodes: dict[str, Any] = {}
    choice_values: dict[str, list[str]] = {}

    def forward(i: int) -> str:
        return pick.choice(inner[i + 1:] + outs)

    def anywhere() -> str:
        return pick.choice(inner + outs)

    for i, (nid, kind) in enumerate(zip(inner, kinds, strict=True)):
        node: dict[str, Any] = {}
        model: Any = None
        if pick.boolean():
            node["help"] = pick.text()
        if kind == "choice":
            rule = pick.choice([*RULES, None])
            if rule:
                node["rule"] = rule
            effective = rule or defaults.get("rule") or "majority"
            n = 2 if effective == "any" else pick.integer(1, 4)
            values = _choice_values(pick, n + 4)[:n]
            if effective == "any" and len(values) < 2:
                values = ["yes", "no"]
            if not values:
                values = ["ok"]
            node["ask"] = pick.text()
            node["choices"] = {}
            for j, v in enumerate(values):
                target = forward(i) if j == 0 else anywhere()
                if pick.boolean():
                    node["choices"][v] = target
                else:
                    node["choices"][v] = {"next": target, "label": pick.text()}
            choice_values[nid] = values
            if effective == "supermajority" and pick.boolean():
                node["threshold"] = pick.choice([0.5, 0.6, "2/3", 0.75, 1])
            if effective == "consensus" and pick.boolean():
                node["max_stand_asides"] = pick.integer(0, 3)
            if effective == "fist-to-five" and pick.boolean():
                node["min_fingers"] = pick.integer(1, 5)
            if effective in ("consent", "fist-to-five", "any") and pick.boolean():
                node["proposal"] = pick.choice(values)
            if pick.integer(0, 3) == 0:
                node["quorum"] = pick.choice([0.25, 0.5, "2/3", 1])
            model = ChoiceQuestion.model_validate(node)
            questions[nid] = kind
        elif kind == "number":
            lo = pick.integer(-5, 5)
            hi = lo + pick.integer(0, 20)
            node["ask"] = pick.text()
            node["number"] = {"min": lo, "max": hi, "aggregate": pick.choice(AGGS)}
            if pick.boolean():
                node["number"]["unit"] = pick.text()
            node["branches"] = [{"when": _number_test(pick, lo, hi), "next": anywhere()}
                                for _ in range(pick.integer(0, 3))]
            node["otherwise"] = forward(i)
            if pick.integer(0, 3) == 0:
                node["quorum"] = pick.choice([0.5, 1])
            model = NumberQuestion.model_validate(node)
            questions[nid] = kind
        elif kind == "text":
            node["ask"] = pick.text()
            node["text"] = pick.choice(["each", "one"])
            node["next"] = forward(i)
            if pick.integer(0, 3) == 0:
                node["quorum"] = pick.choice([0.5, 1])
            model = TextQuestion.model_validate(node)
            questions[nid] = kind
        elif kind == "check":
            if not questions:
                kind = "info"
            else:
                cases = []
                for _ in range(pick.integer(1, 3)):
                    q = pick.choice(sorted(questions))
                    cases.append({"when": _condition(pick, q, questions[q],
                                                     choice_values.get(q)),
                                  "next": anywhere()})
                node["check"] = cases
                node["otherwise"] = forward(i)
        if kind == "info":
            node.pop("check", None)
            node["say"] = pick.text()
            node["next"] = forward(i)
        if kind in ("choice", "number", "text"):
            for status in sorted(possible_statuses(model, dmodel) - {"decided"}):
                if "otherwise" in node:
                    break
                if pick.boolean():
                    node[STATUS_KEY[status]] = anywhere()
                else:
                    node["otherwise"] = anywhere()
        nodes[nid] = node
    for oid in outs:
        o: dict[str, Any] = {"outcome": pick.text(),
                             "next_steps": [pick.text() for _ in range(pick.integer(1, 3))]}
        if pick.boolean():
            o["verdict"] = pick.slug(LOWER + DIGITS, LOWER + DIGITS + "_-", 10)
        if pick.boolean():
            o["text"] = pick.choice(TEMPLATES)
        nodes[oid] = o
    order = pick.permutation(list(nodes))  # map order need not be walk order
    return {
        "id": pick.slug(LOWER, LOWER + DIGITS + "-", 15),
        "title": pick.text(),
        "version": pick.choice(["1", "1.0", "2024-01-01", "0.1.2"]),
        "start": (inner + outs)[0],
        "defaults": defaults,
        "nodes": {k: nodes[k] for k in order},
    }


def random_map_text(rng: random.Random) -> str:
    """YAML of `random_map` picked by `rng`."""
    import yaml

    return yaml.safe_dump(random_map(RandomPicker(rng)), sort_keys=False, allow_unicode=True)
