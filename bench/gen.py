"""The one generator of synthetic maps: maps of any size with every node kind and every
rule (valid under `decision-map check`), a small sub-map they hand off to, a walk through
them, and responses CSVs. It lives outside the installed packages; the benchmarks and the
tests use it.

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decision_map.io.loader import DecisionMap
    from decision_map.model.trace import Trace

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


def _choice(i: int, rule: str, nxt: str, alt: str, rng: random.Random) -> str:
    """A choice question under `rule`, with a route for every status it can end in; `rng`
    picks its parameters, whether it asks for a quorum, and which choice goes on."""
    a, b = ("a", "b") if rng.random() < 0.5 else ("b", "a")  # `a` goes on, `b` aside
    extra = ""
    if rule == "any":
        extra = f", proposal: {rng.choice('ab')}"
    elif rule == "fist-to-five":
        extra = f", min_fingers: {rng.choice((2, 3, 4))}"
    elif rule == "supermajority":
        extra = f", threshold: {rng.choice(('0.6', '0.6667', '0.75'))}"
    elif rule == "consensus":
        extra = f", max_stand_asides: {rng.randint(1, 3)}"
    routes = ""
    if rule in ("consensus", "consent", "fist-to-five"):
        routes += f", on_block: {alt}"
    if rule in ("majority", "plurality"):
        routes += f", on_tie: {alt}"
    if rng.random() < 1 / 3 and rule != "any":
        extra += f", quorum: {rng.choice(('0.5', '0.6667'))}"
        routes += f", on_no_quorum: {alt}"
    if rule != "any" and rule != "consent":
        routes += f", otherwise: {nxt}"
    elif rule == "consent" and "quorum" in extra:
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
        w(f"  {nid[7]}: {_choice(b + 7, r7, nid[8], back, rng)}\n")
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
                    if cells[-1] in ("block", "object") and rng.random() < 0.5:
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
