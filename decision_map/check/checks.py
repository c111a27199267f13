"""The map checker: everything that can be known before a group meets, found here.

Each check yields Diagnostics of a registered code (decision_map/diagnostics.py, listed
in docs/diagnostics.md). Nothing the checker could catch is left for walk time.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator

import jinja2
import networkx as nx

from ..diagnostics import (
    DM101,
    DM102,
    DM103,
    DM104,
    DM105,
    DM106,
    DM107,
    DM108,
    DM109,
    DM110,
    DM112,
    DM113,
    DM114,
    DM119,
    DM120,
    DM121,
    DM122,
    DM123,
    DM124,
    DM130,
    DM131,
    DM132,
    DM133,
    Code,
)
from ..errors import Diagnostic, MapError
from ..gcpause import paused
from ..io.loader import DecisionMap, LoadOptions, load_map
from ..model.documents import DOCUMENTS, parts_of, split_records
from ..model.format import (
    AllOf,
    AnyOf,
    Check,
    ChoiceQuestion,
    Comparison,
    Handoff,
    Info,
    Not,
    NumberQuestion,
    Outcome,
    TextQuestion,
)
from ..model.graph import STATUS_KEYS, back_edges, edges_of
from ..model.suggest import Suggester
from ..model.vocabulary import AS_TYPED, is_command
from ..rules.params import as_fraction, effective_rule, rounded_fraction
from ..rules.table import possible_statuses, rule_named
from ..rules.wording import count_word
from ..templating import TEMPLATE_NAMES, undeclared

QUESTION_TYPES = (ChoiceQuestion, NumberQuestion, TextQuestion)
ROUTE_KEY = {status: key for key, status in STATUS_KEYS.items()}


def _d(dm: DecisionMap, code: Code, msg: str, path: tuple, hint: str | None = None,
       key: bool = False) -> Diagnostic:
    """A diagnostic of `code` at the place `path` names in the map."""
    return Diagnostic.of(code, msg, dm.where(*path, key=key), hint)


def check_map(dm: DecisionMap, _checked: set[tuple[str, str]] | None = None) -> list[Diagnostic]:
    """Every diagnostic for one loaded map (and the errors of the maps it hands off to,
    each checked once), sorted by place."""
    checked = set() if _checked is None else _checked
    checked.add((dm.path, dm.sha256))
    out: list[Diagnostic] = []
    token = _SUGGESTER.set(Suggester())  # one budget of "did you mean" work per map
    try:
        with paused():
            for fn in (_targets, _reachability, _routes, _conditions, _outcomes, _rules,
                       _choices, _shares, _bounded_loops, _proposals,
                       _records, _secrets):
                out.extend(fn(dm))
            out.extend(_handoffs(dm, checked))
    finally:
        _SUGGESTER.reset(token)
    return sorted(out, key=lambda d: (d.where, d.code))


def check_file(path: str, options: LoadOptions | None = None) -> list[Diagnostic]:
    """Load and check one file; a map that does not load gives its load diagnostics."""
    return check_file_with_deps(path, options)[0]


def check_file_with_deps(path: str, options: LoadOptions | None = None
                         ) -> tuple[list[Diagnostic], list[tuple[str, str | None]]]:
    """The diagnostics, and every hand-off file the check read (or looked for) with its
    hash (None: missing), so a cached result can be proved current."""
    try:
        dm = load_map(path, options)
    except MapError as e:
        return list(e.diagnostics), []
    deps: dict[str, str | None] = {}
    todo = [dm]
    while todo:
        m = todo.pop()
        base = os.path.dirname(os.path.realpath(m.path))
        for link in m.handoffs.values():
            if link.loaded is not None:
                if link.loaded.path not in deps:
                    deps[link.loaded.path] = link.loaded.sha256
                    todo.append(link.loaded)
            elif link.target.strip() and "\0" not in link.target:
                deps.setdefault(os.path.join(base, link.target), None)
    return check_map(dm), sorted(deps.items())


# ---------------------------------------------------------------- targets


def _targets(dm: DecisionMap) -> Iterator[Diagnostic]:
    ids = list(dm.nodes)
    if dm.model.start not in dm.nodes:
        yield _d(dm, DM102, f"start node {dm.model.start!r} does not exist",
                 ("start",), _suggest(dm.model.start, ids))
    for node_id, node in dm.nodes.items():
        for e in edges_of(node):
            if e.target not in dm.nodes:
                yield _d(dm, DM101,
                         f"node {node_id!r}: next node {e.target!r} does not exist",
                         ("nodes", node_id) + e.key, _suggest(e.target, ids))


_SUGGESTER: contextvars.ContextVar[Suggester | None] = contextvars.ContextVar(
    "suggester", default=None)


def _suggest(name: str, ids: list[str]) -> str:
    """A hint, with a suggestion while the check's budget for them lasts."""
    close = (_SUGGESTER.get() or Suggester()).closest(name, ids, cutoff=0.5)
    return f"did you mean {close!r}?" if close else "add the node, or fix the id"


# ---------------------------------------------------------------- graph shape


def _reachability(dm: DecisionMap) -> Iterator[Diagnostic]:
    g = dm.graph
    start = dm.model.start
    if start not in g:
        return
    reachable = nx.descendants(g, start) | {start}
    for node_id in dm.nodes:
        if node_id not in reachable:
            yield _d(dm, DM103, f"node {node_id!r} cannot be reached from the start",
                     ("nodes", node_id), "route to it from another node, or delete it",
                     key=True)
    outcomes = [n for n, k in g.nodes(data="kind") if k == "outcome"]
    can_finish = _reaching(g, outcomes)
    stuck = [n for n in reachable if n not in can_finish]
    if not stuck:
        return
    sub = g.subgraph(stuck)
    in_cycle: set[str] = set()
    for comp in nx.strongly_connected_components(sub):
        first = next(n for n in dm.nodes if n in comp)
        if len(comp) > 1 or sub.has_edge(first, first):
            in_cycle |= comp
            loop = " -> ".join(sorted(comp, key=list(dm.nodes).index))
            yield _d(dm, DM106,
                     f"node {first!r}: a cycle with no exit ({loop})",
                     ("nodes", first), "give one node of the loop a route out to an outcome",
                     key=True)
    for node_id in dm.nodes:
        if node_id in stuck and node_id not in in_cycle:
            node = dm.nodes[node_id]
            if not edges_of(node):
                yield _d(dm, DM104, f"node {node_id!r} has no way out",
                         ("nodes", node_id), "add a next, a route or an otherwise", key=True)
            else:
                yield _d(dm, DM105,
                         f"node {node_id!r}: no path from here reaches any outcome",
                         ("nodes", node_id), "route this part of the map to an outcome",
                         key=True)


def _reaching(g: nx.DiGraph, targets: list[str]) -> set[str]:
    """Every node with a path to one of `targets`: one backward search from all of them."""
    seen = set(targets)
    todo = list(targets)
    while todo:
        for p in g.predecessors(todo.pop()):
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


# ---------------------------------------------------------------- routes for every status


def _routes(dm: DecisionMap) -> Iterator[Diagnostic]:
    defaults = dm.model.defaults
    for node_id, node in dm.nodes.items():
        base = ("nodes", node_id)
        if isinstance(node, QUESTION_TYPES):
            can = possible_statuses(node, defaults) - {"decided"}
            routed = {s for k, s in STATUS_KEYS.items() if getattr(node, k)}
            missing = sorted(can - routed)
            if missing and not node.otherwise:
                rule = effective_rule(node, defaults) if isinstance(node, ChoiceQuestion) \
                    else ("number" if isinstance(node, NumberQuestion) else "text")
                names = ", ".join(ROUTE_KEY[m] for m in missing)
                yield _d(dm, DM107,
                         f"node {node_id!r}: the {rule} rule can end in "
                         f"{' or '.join(missing)} but there is no route for it",
                         base, f"add {names} or an otherwise", key=True)
            for key, status in STATUS_KEYS.items():
                if getattr(node, key) and status not in possible_statuses(node, defaults):
                    rule = effective_rule(node, defaults) if isinstance(node, ChoiceQuestion) \
                        else type(node).__name__
                    yield _d(dm, DM121,
                             f"node {node_id!r}: {key} can never be taken under the {rule} rule",
                             base + (key,), "remove it, or change the rule", key=True)
        if isinstance(node, NumberQuestion) and not node.otherwise and not _covers(node):
            yield _d(dm, DM107,
                     f"node {node_id!r}: some totals match no branch and there is no otherwise",
                     base, "add an otherwise, or branches that cover every number", key=True)
        if isinstance(node, Check) and not node.otherwise:
            yield _d(dm, DM107,
                     f"node {node_id!r}: when no case matches there is nowhere to go",
                     base, "add an otherwise", key=True)


def _covers(node: NumberQuestion) -> bool:
    """True when the branches' one-sided tests cover every number."""
    lows, highs = [], []
    for b in node.branches:
        c = b.when
        if c.gte is not None:
            lows.append((c.gte, True))
        if c.gt is not None:
            lows.append((c.gt, False))
        if c.lte is not None:
            highs.append((c.lte, True))
        if c.lt is not None:
            highs.append((c.lt, False))
    for lo, lo_inc in lows:
        for hi, hi_inc in highs:
            if hi > lo or (hi == lo and (lo_inc or hi_inc)):
                return True
    return False


# ---------------------------------------------------------------- conditions


def _comparisons(cond: object, path: tuple) -> Iterator[tuple[Comparison, tuple]]:
    if isinstance(cond, Comparison):
        yield cond, path
    elif isinstance(cond, AllOf):
        for i, c in enumerate(cond.all):
            yield from _comparisons(c, path + ("all", i))
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any):
            yield from _comparisons(c, path + ("any", i))
    elif isinstance(cond, Not):
        yield from _comparisons(cond.not_, path + ("not",))


def _conditions(dm: DecisionMap) -> Iterator[Diagnostic]:
    dominates = _dominance(dm)
    questions = [n for n, v in dm.nodes.items() if isinstance(v, QUESTION_TYPES)]

    for node_id, node in dm.nodes.items():
        if isinstance(node, Check):
            for i, route in enumerate(node.check):
                for comp, path in _comparisons(route.when, ("nodes", node_id, "check", i, "when")):
                    yield from _comparison(dm, node_id, comp, path, questions, dominates)
        if isinstance(node, NumberQuestion):
            for i, b in enumerate(node.branches):
                path = ("nodes", node_id, "branches", i, "when")
                if b.when.answer is not None:
                    yield _d(dm, DM110,
                             f"node {node_id!r}: a number branch tests the total; "
                             f"it cannot name another answer", path + ("answer",),
                             "use a check node after the question", key=True)
                bad = [k for k in ("in_", "not_in", "status", "answered")
                       if getattr(b.when, k) is not None]
                if bad or (b.when.is_ is not None and not isinstance(b.when.is_, (int, float))):
                    yield _d(dm, DM110,
                             f"node {node_id!r}: a number branch needs a number test "
                             f"(gte, gt, lte, lt, is: number)", path)


def _dominance(dm: DecisionMap):
    """`dominates(a, n)`: every path from the start to n passes a. Answered in O(1) by
    entry/exit numbers in the dominator tree."""
    g, start = dm.graph, dm.model.start
    if start not in g:
        return lambda a, n: False
    idom = nx.immediate_dominators(g, start)
    children: dict[str, list[str]] = {}
    for n, d in idom.items():
        if n != d:
            children.setdefault(d, []).append(n)
    enter: dict[str, int] = {}
    leave: dict[str, int] = {}
    clock = 0
    stack: list[tuple[str, bool]] = [(start, False)]
    while stack:
        n, done = stack.pop()
        clock += 1
        if done:
            leave[n] = clock
            continue
        enter[n] = clock
        stack.append((n, True))
        stack.extend((c, False) for c in children.get(n, ()))

    def dominates(a: str, n: str) -> bool:
        return a != n and a in enter and n in enter and \
            enter[a] < enter[n] and leave[n] < leave[a]

    return dominates


def _reached(dm: DecisionMap) -> set[str]:
    """The nodes a walk can reach from the start (an unreachable one has its own error)."""
    g, start = dm.graph, dm.model.start
    return nx.descendants(g, start) | {start} if start in g else set()


def _comparison(dm: DecisionMap, node_id: str, c: Comparison, path: tuple,
                questions: list[str], dominates) -> Iterator[Diagnostic]:
    if c.answer is None:
        yield _d(dm, DM108, f"node {node_id!r}: a condition must name an answer",
                 path, "add answer: QUESTION-ID")
        return
    target = dm.nodes.get(c.answer)
    if not isinstance(target, QUESTION_TYPES):
        what = "is not a question" if target is not None else "does not exist"
        yield _d(dm, DM108,
                 f"node {node_id!r}: the condition names answer {c.answer!r}, which {what}",
                 path + ("answer",), _suggest(c.answer, questions))
        return
    if not dominates(c.answer, node_id):
        yield _d(dm, DM109,
                 f"node {node_id!r}: answer {c.answer!r} may not be given on every path here",
                 path + ("answer",),
                 "the condition is false when the question was not reached; "
                 "add `answered: true` to say so, or move the check")
    numeric = c.numeric_tests()
    if isinstance(target, TextQuestion) and (numeric or c.is_ is not None or c.in_ or c.not_in):
        yield _d(dm, DM110,
                 f"node {node_id!r}: answer {c.answer!r} is text; it can only be tested "
                 "with answered or status", path)
    if isinstance(target, ChoiceQuestion):
        if numeric:
            yield _d(dm, DM110,
                     f"node {node_id!r}: a number test on {c.answer!r}, whose answer is a choice",
                     path, "use is or in")
        values = [c.is_] if c.is_ is not None else []
        values += list(c.in_ or []) + list(c.not_in or [])
        for v in values:
            if str(v) not in target.choices:
                yield _d(dm, DM110,
                         f"node {node_id!r}: {v!r} is not a choice of {c.answer!r} "
                         f"(choices: {', '.join(target.choices)})", path,
                         _suggest(str(v), list(target.choices)))
    if isinstance(target, NumberQuestion):
        bad = [v for v in ([c.is_] if c.is_ is not None else []) + list(c.in_ or [])
               if not isinstance(v, (int, float)) or isinstance(v, bool)]
        if bad:
            yield _d(dm, DM110,
                     f"node {node_id!r}: {c.answer!r} is a number; {bad[0]!r} is not", path)


# ---------------------------------------------------------------- hand-offs


def _handoffs(dm: DecisionMap, checked: set[tuple[str, str]]) -> Iterator[Diagnostic]:
    for node_id, link in dm.handoffs.items():
        if link.problem:
            yield link.problem
            continue
        other = link.loaded
        node = dm.nodes[node_id]
        assert isinstance(node, Handoff) and other is not None
        outcomes = other.outcomes()
        for name in node.returns:
            if name not in outcomes:
                yield _d(dm, DM112,
                         f"node {node_id!r}: map {other.id!r} has no outcome {name!r}",
                         ("nodes", node_id, "returns", name),
                         _suggest(name, list(outcomes)), key=True)
        unreturned = [o for o in outcomes if o not in node.returns]
        if unreturned and not node.otherwise:
            yield _d(dm, DM107,
                     f"node {node_id!r}: outcome(s) {', '.join(unreturned)} of map "
                     f"{other.id!r} have no return and there is no otherwise",
                     ("nodes", node_id), "add them to returns, or add an otherwise", key=True)
        if (other.path, other.sha256) not in checked:
            for d in check_map(other, checked):
                if d.severity == "error":
                    yield d


# ---------------------------------------------------------------- outcomes and rules


def _outcomes(dm: DecisionMap) -> Iterator[Diagnostic]:
    for node_id, node in dm.nodes.items():
        if not isinstance(node, Outcome):
            continue
        if not node.next_steps:
            yield _d(dm, DM114, f"outcome {node_id!r} has no next steps",
                     ("nodes", node_id), "say what the group does next", key=True)
        if node.text:
            path = ("nodes", node_id, "text")
            try:
                names = undeclared(node.text)
            except jinja2.TemplateSyntaxError as e:
                yield _d(dm, DM119,
                         f"outcome {node_id!r}: template line {e.lineno}: {e.message}", path)
                continue
            for name in sorted(names - TEMPLATE_NAMES):
                yield _d(dm, DM119,
                         f"outcome {node_id!r}: the text uses {name!r}, which is not defined",
                         path, f"use one of: {', '.join(sorted(TEMPLATE_NAMES))}")


def _rules(dm: DecisionMap) -> Iterator[Diagnostic]:
    defaults = dm.model.defaults
    for node_id, node in dm.nodes.items():
        if not isinstance(node, ChoiceQuestion):
            continue
        rule = effective_rule(node, defaults)
        base = ("nodes", node_id)
        need = rule_named(rule).choices
        if need is not None and len(node.choices) != need:
            yield _d(dm, DM120,
                     f"node {node_id!r}: an `{rule}` question has exactly {count_word(need)} "
                     f"choices (it has {len(node.choices)})", base + ("choices",), key=True)
        if node.proposal is not None and node.proposal not in node.choices:
            yield _d(dm, DM120,
                     f"node {node_id!r}: proposal {node.proposal!r} is not one of the choices",
                     base + ("proposal",), _suggest(node.proposal, list(node.choices)))


def _choices(dm: DecisionMap) -> Iterator[Diagnostic]:
    for node_id, node in dm.nodes.items():
        if not isinstance(node, ChoiceQuestion):
            continue
        seen: dict[str, str] = {}
        for value in node.choices:
            folded = value.strip().casefold()
            if folded in seen:
                yield _d(dm, DM113,
                         f"node {node_id!r}: choices {seen[folded]!r} and {value!r} differ "
                         "only in case or spaces", ("nodes", node_id, "choices", value),
                         "a tally could not tell them apart: rename one", key=True)
            seen[folded] = value
        for i, value in enumerate(node.choices, 1):
            word = value if is_command(value) else node.choice_label(value)
            if is_command(word):
                yield _d(dm, DM122,
                         f"node {node_id!r}: choice {value!r} is spelled like the stepper's "
                         f"command {word.strip().lower()!r}",
                         ("nodes", node_id, "choices", value),
                         f"typed alone at `decision-map step` it is the command; members "
                         f"vote it as {i} or {AS_TYPED}{value}: rename it to spare them")


# ---------------------------------------------------------------- shares and loops


def _shares(dm: DecisionMap) -> Iterator[Diagnostic]:
    """A quorum or threshold written as a decimal that rounds a simple fraction: taken
    exactly, it is not that fraction (0.667 > 2/3), which the author may not mean."""
    places: list[tuple[tuple, object]] = [(("defaults",), dm.model.defaults)]
    places += [(("nodes", nid), node) for nid, node in dm.nodes.items()
               if isinstance(node, QUESTION_TYPES)]
    for base, holder in places:
        for key in ("quorum", "threshold"):
            v = getattr(holder, key, None)
            near = rounded_fraction(v) if v is not None else None
            if near is not None:
                yield _d(dm, DM123,
                         f"{key} {v} is taken as written ({as_fraction(v)}), not as {near}",
                         base + (key,), f"write {key}: {near} if you mean {near}")


def _bounded_loops(dm: DecisionMap) -> Iterator[Diagnostic]:
    """A move that closes a loop (a back edge from the start) is where the bound on
    revisits stops going round; the walk then takes the `otherwise` of the node it
    leaves, or of the question whose decision led there (walk/router.py fallback_of).
    Where there is none, it stops with no way on: say so."""
    limit = dm.model.defaults.max_revisits
    for u, v in sorted(back_edges(dm.graph)):
        if all(_fallback(dm, q, u, v) for q in _askers(dm, u)):
            continue
        yield _d(dm, DM124,
                 f"node {u!r}: going back to {v!r} more than {limit} times stops the walk: "
                 "there is no otherwise to take", ("nodes", u), key=True)


def _fallback(dm: DecisionMap, asker: str | None, u: str, back: str) -> bool:
    """Whether leaving `u` past the bound has somewhere else to go: `u`'s own otherwise,
    else the otherwise of `asker`, the question decided last."""
    own = getattr(dm.nodes[u], "otherwise", None)
    way = own or (getattr(dm.nodes[asker], "otherwise", None) if asker else None)
    return bool(way) and way != back


def _askers(dm: DecisionMap, u: str) -> list[str | None]:
    """The questions that can have been decided last when the walk leaves `u`: `u` itself
    when it asks, else those found going back through nodes that ask nothing (None: the
    start, with no question before it). A node with its own otherwise needs none."""
    node = dm.nodes[u]
    if isinstance(node, QUESTION_TYPES) or getattr(node, "otherwise", None):
        return [u]
    g, found, seen, todo = dm.graph, set(), {u}, [u]
    start_reached = u == dm.model.start
    while todo:
        n = todo.pop()
        for p in g.predecessors(n):
            if isinstance(dm.nodes[p], QUESTION_TYPES):
                found.add(p)
            elif p not in seen and isinstance(dm.nodes[p], (Info, Check, Handoff)):
                seen.add(p)
                todo.append(p)
                start_reached = start_reached or p == dm.model.start
    return sorted(found) + ([None] if start_reached else [])
# ---------------------------------------------------------------- what is voted on

# Words in a consent or consensus question that point at a text the group votes on.
_POINTS_AT_TEXT = ("this draft", "the draft", "the proposal", "this proposal")


def _proposals(dm: DecisionMap) -> Iterator[Diagnostic]:
    """A proposal taken from a question must come from one agreed sentence, written on
    every path before the vote (else some groups would vote on nothing); a vote on "the
    proposal" must have one written down. "On every path" is dominance in the map's graph
    (near-linear: `nx.immediate_dominators`), worked out once and only when needed."""
    defaults = dm.model.defaults
    dominance = None
    for node_id, node in dm.nodes.items():
        if not isinstance(node, ChoiceQuestion):
            continue
        src = node.proposal_from
        if src is not None:
            other = dm.nodes.get(src)
            if not isinstance(other, TextQuestion) or other.text != "one":
                what = ("no node" if other is None else
                        "a `text: each` question" if isinstance(other, TextQuestion) else
                        "not a text question")
                texts = [k for k, v in dm.nodes.items()
                         if isinstance(v, TextQuestion) and v.text == "one"]
                close = (_SUGGESTER.get() or Suggester()).closest(src, texts, cutoff=0.5)
                yield _d(dm, DM130, f"node {node_id!r}: proposal_from {src!r} is {what}",
                         ("nodes", node_id, "proposal_from"),
                         f"did you mean {close!r}?" if close else None)
                continue
            if dominance is None:
                dominance = _dominance(dm), _reached(dm)
            dominates, reached = dominance
            if node_id in reached and not dominates(src, node_id):
                yield _d(dm, DM130, f"node {node_id!r}: proposal_from {src!r} is not asked "
                         "on every path before this question, so some groups would vote on "
                         "no proposal", ("nodes", node_id, "proposal_from"),
                         f"move {src!r} before {node_id!r} on every way here, or write the "
                         "proposal in proposal_text")
            continue
        if node.proposal_text is not None:
            continue
        if effective_rule(node, defaults) not in ("consent", "consensus"):
            continue
        ask = " ".join(node.ask.lower().split())
        said = next((w for w in _POINTS_AT_TEXT if w in ask), None)
        if said:
            yield _d(dm, DM131,
                     f"node {node_id!r}: the group is asked about {said!r}, but no "
                     "proposal is written down", ("nodes", node_id, "ask"), key=True)


def _secrets(dm: DecisionMap) -> Iterator[Diagnostic]:
    """A secret ballot is a tally: the rule must be one a tally can carry."""
    defaults = dm.model.defaults
    for node_id, node in dm.nodes.items():
        if isinstance(node, ChoiceQuestion) and node.secret:
            rule = effective_rule(node, defaults)
            if not rule_named(rule).tallies:
                yield _d(dm, DM133, f"node {node_id!r}: a secret ballot is taken as a tally, "
                         f"which the {rule} rule cannot count", ("nodes", node_id, "secret"))


def _records(dm: DecisionMap) -> Iterator[Diagnostic]:
    """`records:` names a part of a document, and only adopted words can fill it: one
    agreed sentence or a proposal, never a round of raw statements."""
    for node_id, node in dm.nodes.items():
        value = getattr(node, "records", None)
        if value is None:
            continue
        path = ("nodes", node_id, "records")
        kind, part = split_records(value)
        if kind not in DOCUMENTS:
            yield _d(dm, DM132, f"node {node_id!r}: records {value!r} names no document",
                     path, f"the documents are {', '.join(DOCUMENTS)}")
        elif part not in parts_of(kind):
            close = (_SUGGESTER.get() or Suggester()).closest(part, parts_of(kind))
            yield _d(dm, DM132, f"node {node_id!r}: the {kind} has no part {part!r}", path,
                     f"did you mean {kind}.{close}?" if close else
                     f"its parts are {', '.join(parts_of(kind))}")
        elif isinstance(node, TextQuestion) and node.text == "each":
            yield _d(dm, DM132, f"node {node_id!r}: a `text: each` round gives raw "
                     "statements, which never stand in for adopted text", path,
                     "take one agreed sentence (`text: one`), or a proposal voted on")
        elif isinstance(node, ChoiceQuestion) and not (node.proposal_text or
                                                       node.proposal_from):
            yield _d(dm, DM132, f"node {node_id!r}: records {value!r}, but no proposal is "
                     "put to the vote here", path,
                     "add proposal_text or proposal_from: the adopted proposal fills it")
