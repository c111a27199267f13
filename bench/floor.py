"""The floor for deciding many groups: a minimal hand-written walk over plain dicts.

Maps are read with libyaml's C loader into plain dicts; responses with `csv.reader`.
Each group is walked from the start with its members' cells, computing only what a
batch result holds (outcome, verdict, steps, the last question decided, whether the
walk stopped): no models, no ballots, no sentences, no traces. It assumes valid input
(the engine's checks are not repeated) and is checked to agree with the engine on
every group of every run (bench.run)."""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Callable
from fractions import Fraction

import yaml

SPECIAL = {"abstain": "abstain", "stand-aside": "stand-aside", "stand aside": "stand-aside",
           "stand_aside": "stand-aside", "block": "block", "object": "object"}
_BLOCK = re.compile(r"^\s*(block|object)\s*[:\-]\s*(.+)$", re.IGNORECASE | re.DOTALL)
ROUTE = {"blocked": "on_block", "tie": "on_tie", "no_quorum": "on_no_quorum",
         "no_agreement": "on_no_agreement"}


class _Loader(yaml.CSafeLoader):
    """YAML 1.2 booleans: `yes`/`no`/`on`/`off` stay strings, as in map files."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false"
                                                                   r"|False|FALSE)$"),
                              list("tTfF"))


def _frac(x: float) -> Fraction:
    f = Fraction(str(x))
    for den in range(2, 13):
        c = Fraction(round(f * den), den)
        if c != f and abs(c - f) < Fraction(1, 2000):
            return c
    return f


def load(path: str, _seen: dict | None = None) -> dict:
    """A map as plain dicts, with its hand-offs' maps loaded under `_maps`."""
    seen = {} if _seen is None else _seen
    real = os.path.realpath(path)
    if real in seen:
        return seen[real]
    with open(path, encoding="utf-8") as f:
        m = yaml.load(f.read(), Loader=_Loader)
    seen[real] = m
    d = m.get("defaults") or {}
    m["_limit"] = d.get("max_revisits", 3)
    m["_maps"] = {}
    for nid, node in m["nodes"].items():
        if "ask" in node and "number" not in node and "text" not in node:
            node["_rule"] = node.get("rule") or d.get("rule") or "majority"
            q = node.get("quorum", d.get("quorum"))
            node["_quorum"] = _frac(q) if q is not None else None
            t = node.get("threshold", d.get("threshold"))
            node["_threshold"] = _frac(t) if t is not None else Fraction(2, 3)
            ms = node.get("max_stand_asides", d.get("max_stand_asides"))
            node["_max_sa"] = ms
            mf = node.get("min_fingers", d.get("min_fingers"))
            node["_min_f"] = mf if mf is not None else 3
            node["_choices"] = {str(k): (v if isinstance(v, str) else v["next"])
                                for k, v in node["choices"].items()}
            node["_proposal"] = str(node["proposal"]) if node.get("proposal") is not None \
                else next(iter(node["_choices"]))
        elif "ask" in node:
            q = node.get("quorum")
            node["_quorum"] = _frac(q) if q is not None else None
        if "map" in node:
            sub = load(os.path.join(os.path.dirname(path), node["map"]), seen)
            m["_maps"][nid] = sub
    return m


def _special(cell: str) -> str | None:
    s = SPECIAL.get(cell.strip().lower())
    if s is None and _BLOCK.match(cell):
        s = cell.strip().split(":", 1)[0].split("-", 1)[0].strip().lower()
    return s


def _num(x: str) -> float:
    v = float(x)
    return int(v) if v.is_integer() else v


def decide(node: dict, cells: list[str], n_members: int) -> tuple[str, object]:
    """(status, value) of one question from its non-empty cells."""
    q = node.get("_quorum")
    if q is not None and len(cells) < math.ceil(q * n_members):
        return "no_quorum", None
    if "text" in node:
        return "decided", None
    if "number" in node:
        xs = [float(c) for c in cells if _special(c) is None]
        if not xs:
            return "no_agreement", None
        agg = node["number"].get("aggregate", "sum")
        if agg == "sum":
            v = math.fsum(xs)
        elif agg == "mean":
            v = math.fsum(xs) / len(xs)
        elif agg == "median":
            xs.sort()
            h = len(xs) // 2
            v = xs[h] if len(xs) % 2 else (xs[h - 1] + xs[h]) / 2
        elif agg == "min":
            v = min(xs)
        else:
            v = max(xs)
        return "decided", int(v) if float(v).is_integer() else v
    rule = node["_rule"]
    choices = node["_choices"]
    counts = dict.fromkeys(choices, 0)
    blocks = sa = 0
    fingers = []
    for c in cells:
        s = c.strip()
        if s in counts:
            if rule == "fist-to-five":
                fingers.append(int(s))
            else:
                counts[s] += 1
            continue
        sp = _special(c)
        if sp in ("block", "object"):
            blocks += 1
        elif sp == "stand-aside":
            sa += 1
        elif sp is None:
            if rule == "fist-to-five":
                fingers.append(int(float(s)))
            else:
                counts[str(_num(s))] += 1
    if rule == "consent":
        return ("blocked", None) if blocks else ("decided", node["_proposal"])
    if rule == "fist-to-five":
        if 0 in fingers:
            return "blocked", None
        if any(f < node["_min_f"] for f in fingers):
            return "no_agreement", None
        return "decided", node["_proposal"]
    if rule == "any":
        named = node["_proposal"]
        return "decided", named if counts[named] else next(c for c in choices if c != named)
    if rule == "consensus":
        if blocks:
            return "blocked", None
        used = [c for c, n in counts.items() if n]
        if len(used) != 1:
            return "no_agreement", None
        if node["_max_sa"] is not None and sa > node["_max_sa"]:
            return "no_agreement", None
        return "decided", used[0]
    if rule == "unanimous":
        for c, n in counts.items():
            if n == n_members:
                return "decided", c
        return "no_agreement", None
    cast = sum(counts.values())
    if cast == 0:
        return "no_agreement", None
    if rule == "supermajority":
        t = node["_threshold"]
        reach = {c: n for c, n in counts.items() if Fraction(n, cast) >= t}
        if not reach:
            return "no_agreement", None
        top = max(reach.values())
        tops = [c for c, n in reach.items() if n == top]
        return ("tie", None) if len(tops) > 1 else ("decided", tops[0])
    top = max(counts.values())
    tops = [c for c, n in counts.items() if n == top]
    if rule == "majority":
        if top * 2 > cast:
            return "decided", tops[0]
        return ("tie", None) if len(tops) > 1 else ("no_agreement", None)
    # plurality
    return ("tie", None) if len(tops) > 1 else ("decided", tops[0])


def _eq(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return str(a) == str(b)


def _compare(c: dict, value, status) -> bool:
    ans = c.get("answered")
    if ans is not None and ans != (status is not None):
        return False
    if status is None:
        return ans is False
    if c.get("status") is not None and c["status"] != status:
        return False
    if c.get("is") is not None and not _eq(value, c["is"]):
        return False
    if c.get("in") is not None and not any(_eq(value, v) for v in c["in"]):
        return False
    if c.get("not_in") is not None and any(_eq(value, v) for v in c["not_in"]):
        return False
    nums = [(k, c[k]) for k in ("gte", "gt", "lte", "lt") if c.get(k) is not None]
    if nums:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        for k, x in nums:
            if not (value >= x if k == "gte" else value > x if k == "gt" else
                    value <= x if k == "lte" else value < x):
                return False
    return True


def _holds(cond: dict, decisions: dict) -> bool:
    if "all" in cond:
        return all(_holds(c, decisions) for c in cond["all"])
    if "any" in cond:
        return any(_holds(c, decisions) for c in cond["any"])
    if "not" in cond:
        return not _holds(cond["not"], decisions)
    d = decisions.get(cond.get("answer") or "")
    return _compare(cond, d[1] if d else None, d[0] if d else None)


def walk(top: dict, decision_of: Callable[[str, dict], tuple | None]) -> tuple:
    """One group's walk: (outcome, verdict, steps, decided_at, stopped). `decision_of(key,
    node)` is the group's (status, value) at a question, or None where it gave no answers
    (the walk stops): `run` decides from the cells, floor_vec looks its decisions up."""
    # a frame: [map, node id, visits, decisions]
    stack = [[top, top["start"], {top["start"]: 1}, {}]]
    steps = 0
    decided_at = None

    def go(f, target, from_node) -> bool:  # False: the walk stops
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
            d = decision_of(key, node)
            if d is None:
                return None, None, steps - 1, decided_at, True
            status, value = f[3][nid] = d
            decided_at = nid
            if status == "decided":
                if "choices" in node:
                    target = node["_choices"][str(value)]
                elif "text" in node:
                    target = node["next"]
                else:
                    target = next((b["next"] for b in node.get("branches", ())
                                   if _compare(b["when"], value, status)),
                                  node.get("otherwise"))
            else:
                target = node.get(ROUTE[status]) or node.get("otherwise")
            if not go(f, target, node):
                return None, None, steps, decided_at, True
        elif "say" in node:
            if not go(f, node["next"], node):
                return None, None, steps, decided_at, True
        elif "check" in node:
            target = next((r["next"] for r in node["check"] if _holds(r["when"], f[3])),
                          node.get("otherwise"))
            if not go(f, target, node):
                return None, None, steps, decided_at, True
        elif "map" in node:
            sub = m["_maps"][nid]
            stack.append([sub, sub["start"], {sub["start"]: 1}, {}])
        else:  # an outcome
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


def run(map_path: str, csv_path: str, group_col: str = "group") -> dict[str, tuple]:
    """Every group of a responses CSV walked through a map: {group: result}."""
    top = load(map_path)
    with open(csv_path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        gi = header.index(group_col)
        col = {h: i for i, h in enumerate(header)}
        groups: dict[str, list[list[str]]] = {}
        for row in reader:
            groups.setdefault(row[gi], []).append(row)
    out = {}
    for g, rows in groups.items():
        def decision_of(key: str, node: dict, rows: list[list[str]] = rows) -> tuple | None:
            i = col.get(key)
            cells = [c for r in rows if (c := r[i]) != ""] if i is not None else None
            return decide(node, cells, len(rows)) if cells else None
        out[g] = walk(top, decision_of)
    return out


def write_rows(res: dict[str, tuple], out_path: str) -> None:
    """The result rows the batch command writes (stopped as yes or empty), for comparing."""
    with open(out_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["group", "outcome", "verdict", "steps", "decided_at", "stopped"])
        for g, (o, v, s, d, stop) in res.items():
            w.writerow([g, o or "", v or "", s, d or "", "yes" if stop else ""])


def main(argv: list[str]) -> None:
    """As a process: python -m bench.floor MAP CSV OUT.csv writes the result rows."""
    map_path, csv_path, out_path = argv
    write_rows(run(map_path, csv_path), out_path)
    os._exit(0)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
