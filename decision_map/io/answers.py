"""Answers files: a group and what each member gave, per question (docs/answers.md).

Every answer is checked against the map before the walk starts, so a typo at the last
question fails at once, with `file:line:col` and the question's id.

Two shapes: `answers`, a mapping of question -> answer (one per visit), for a walk that
only answers; and `steps`, a list in the order things happened, for a walk where the
group also went back (`revisit: QUESTION`) or changed (`join: NAME`, `leave: NAME`).
Each step of a `steps` list is a `Move`; the walk replays them (walk/replay.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, MapError, WalkError
from ..model.decision import Ballot
from ..model.format import ChoiceQuestion, NumberQuestion, TextQuestion
from ..model.minutes import MAX_MINUTE_CHARS, Action, Minutes
from ..model.trace import node_key
from .loader import DecisionMap
from .yaml_source import INPUT_SIZE_HINT, Positions, parse_yaml, read_text

QUESTION_TYPES = (ChoiceQuestion, NumberQuestion, TextQuestion)
TOP_KEYS = ("group", "answers", "steps", "minutes", "owners")  # what an answers file holds
MAX_FILE_STEPS = 10_000  # entries in a `steps` list (the walk itself stops at as many)
MOVE_WORDS = ("revisit", "join", "leave")  # a step that is not votes
MINUTE_WORDS = ("amend", "notes", "actions")  # written down beside a step's votes
STEP_SHAPE = ("a step is one of: QUESTION: ANSWER (with amend, notes, actions beside it), "
              "revisit: QUESTION, join: NAME, leave: NAME")


@dataclass(frozen=True)
class Move:
    """One entry of a `steps` list, checked against the map and the group at that point.

    `kind` is "answer" (the `ballots` given at question `key`, with what was written down
    there in `minutes`), "revisit" (back to question `key`), "join" or "leave" (`names`).
    `where` is its place in the file, for errors the walk finds later.
    """

    kind: str
    where: str
    key: str = ""
    ballots: tuple[Ballot, ...] = ()
    minutes: Minutes = Minutes()
    names: tuple[str, ...] = ()


@dataclass
class Answers:
    """A group and, per question key (`id` or `map-id/id`), one ballot list per visit."""

    group: list[str]
    by_question: dict[str, list[list[Ballot]]] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    file: str = "<answers>"
    # per question key, what was written down at each visit (amendments, notes, actions)
    minutes: dict[str, list[Minutes]] = field(default_factory=dict)
    # the outcome's next steps by number (from 1): (who owns it, by when)
    owners: dict[int, tuple[str, str]] = field(default_factory=dict)
    # a `steps` file: everything in the order it happened (then by_question is empty)
    moves: list[Move] = field(default_factory=list)

    def minutes_source(self, top_map_id: str):
        """For engine.run: the nth visit's minutes of each question (none past the list)."""
        asked: dict[tuple[str, str], int] = {}

        def give(pos) -> Minutes:
            key = pos.key
            if key not in self.minutes and not pos.scope:
                key = node_key(top_map_id, pos.node_id, top=False)
            n = asked.get((pos.map_id, pos.node_id), 0)
            asked[(pos.map_id, pos.node_id)] = n + 1
            got = self.minutes.get(key, [])
            return got[n] if n < len(got) else Minutes()

        return give

    def source(self, top_map_id: str):
        """An AnswerSource for engine.run: the nth visit gets the nth answer (then the last)."""
        asked: dict[tuple[str, str], int] = {}

        def give(pos) -> list[Ballot] | None:
            key = pos.key
            if key not in self.by_question and not pos.scope:
                key = node_key(top_map_id, pos.node_id, top=False)
            options = self.by_question.get(key)
            if not options:
                return None
            n = asked.get((pos.map_id, pos.node_id), 0)
            asked[(pos.map_id, pos.node_id)] = n + 1
            return options[min(n, len(options) - 1)]

        return give


def questions_of(dm: DecisionMap) -> dict[str, tuple[DecisionMap, str, Any]]:
    """Every question key an answers file may use: `id` for the top map, `map-id/id` for
    maps reached by hand-off (and `top-id/id` too)."""
    out: dict[str, tuple[DecisionMap, str, Any]] = {}

    def add(m: DecisionMap, prefix: bool, seen: set[str]) -> None:
        if m.path in seen:
            return
        seen.add(m.path)
        for nid, node in m.nodes.items():
            if isinstance(node, QUESTION_TYPES):
                out[node_key(m.id, nid, top=False)] = (m, nid, node)
                if not prefix:
                    out[nid] = (m, nid, node)
        for link in m.handoffs.values():
            if link.loaded is not None:
                add(link.loaded, True, seen)

    add(dm, False, set())
    return out


def load_answers(path: str, dm: DecisionMap) -> Answers:
    """Read and check an answers file (YAML or JSON) against a map."""
    text = read_text(path, hint=INPUT_SIZE_HINT)
    try:
        data, pos = parse_yaml(text, path)
    except MapError as e:
        raise InputError(e.diagnostic.message, str(e.diagnostic.where)) from None
    return answers_from_data(data, pos, dm)


def answers_from_data(data: Any, pos: Positions, dm: DecisionMap,
                      group: Sequence[str] | None = None) -> Answers:
    """Build Answers from parsed data (an answers file, or one scenario case)."""
    if not isinstance(data, dict):
        raise InputError("an answers file is a mapping with `group` and `answers`",
                         str(pos.where(())))
    unknown = sorted(set(data) - set(TOP_KEYS) - {"name", "expect"})
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} (expected group, answers or steps, "
                         "minutes, owners)", str(pos.where((unknown[0],), key=True)))
    names = list(group) if group is not None else data.get("group")
    if group is None and (
        not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names)
    ):
        raise InputError("`group` must be a list of member names",
                         str(pos.where(("group",), key=True)))
    answers = data.get("answers") or {}
    if not isinstance(answers, dict):
        raise InputError("`answers` must map question ids to answers",
                         str(pos.where(("answers",))))
    known = questions_of(dm)
    out = Answers(group=[str(n) for n in names], file=pos.file)
    if "steps" in data:
        if "answers" in data:
            raise InputError("give `answers` (by question) or `steps` (in order), not both",
                             str(pos.where(("steps",), key=True)))
        if "minutes" in data:
            raise InputError("with `steps`, write amend, notes and actions in the step they "
                             "belong to, not in `minutes`", str(pos.where(("minutes",),
                                                                          key=True)))
        out.moves = _moves(data["steps"], pos, dm, known, out.group)
    for key, spec in answers.items():
        at = pos.where(("answers", key), key=True)
        m, nid, node = _question(key, known, dm, at)
        specs = spec if isinstance(spec, list) else [spec]
        visits: list[list[Ballot]] = []
        for i, one in enumerate(specs):
            path = ("answers", key, i) if specs is spec else ("answers", key)
            visits.append(_checked(one, m, nid, node, out.group, pos, path))
        canonical = node_key(m.id, nid, top=m is dm)
        out.by_question[canonical] = visits
        out.where[canonical] = str(at)
    minutes = data.get("minutes") or {}
    if not isinstance(minutes, dict):
        raise InputError("`minutes` must map question ids to what was written down there",
                         str(pos.where(("minutes",))))
    for key, spec in minutes.items():
        if key not in known:
            raise InputError(f"minutes: {key!r} is not a question of map {dm.id!r}",
                             str(pos.where(("minutes", key), key=True)))
        m, nid, _ = known[key]
        specs = spec if isinstance(spec, list) else [spec]
        out.minutes[node_key(m.id, nid, top=m is dm)] = [
            _minutes(one, pos, ("minutes", key, i) if specs is spec else ("minutes", key))
            for i, one in enumerate(specs)]
    owners = data.get("owners") or {}
    if not isinstance(owners, dict):
        raise InputError("`owners` maps a next step's number to {who: ..., by: ...}",
                         str(pos.where(("owners",))))
    for n, o in owners.items():
        at = str(pos.where(("owners", n)))
        number = int(n) if isinstance(n, str) and n.isdigit() and len(n) < 6 else n
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise InputError(f"owners: {n!r} is not a next step's number (1, 2, ...)", at)
        if not (isinstance(o, dict) and set(o) == {"who", "by"} and all(
                isinstance(v, (str, int, float)) and str(v).strip() for v in o.values())):
            raise InputError("a next step's owner is {who: ..., by: ...}", at)
        out.owners[number] = (str(o["who"]).strip(), str(o["by"]).strip())
    return out


def _question(key: Any, known: dict[str, tuple[DecisionMap, str, Any]], dm: DecisionMap,
              at: Any) -> tuple[DecisionMap, str, Any]:
    """The map, id and node a question key names; else a located error with a guess."""
    if key not in known:
        close = difflib.get_close_matches(str(key), list(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"{key!r} is not a question of map {dm.id!r}{hint}", str(at))
    return known[key]


def _checked(spec: Any, m: DecisionMap, nid: str, node: Any, group: list[str],
             pos: Positions, path: tuple) -> list[Ballot]:
    """One visit's ballots, checked now against the question's rule and the group (so
    nothing fails mid-walk)."""
    from ..rules.deciders import decide

    ballots = _ballots(spec, node, group, pos, path, nid)
    try:
        decide(nid, node, m.model.defaults, group, ballots)
    except WalkError as e:
        raise InputError(str(e), str(pos.where(path))) from None
    return ballots


def _moves(raw: Any, pos: Positions, dm: DecisionMap,
           known: dict[str, tuple[DecisionMap, str, Any]], start: list[str]) -> list[Move]:
    """A `steps` list as moves, each checked against the map and the group as it is at
    that step (joins and leaves before it counted): a name not in the group, a leave of
    someone not there, a revisit of a question no earlier step answered on the live
    branch, are located errors before the walk starts."""
    if not isinstance(raw, list) or not raw:
        raise InputError("`steps` is a list: one entry per question answered, revisit, "
                         "join or leave, in the order they happened", str(pos.where(("steps",))))
    if len(raw) > MAX_FILE_STEPS:
        raise InputError(f"`steps` has {len(raw):,} entries; at most {MAX_FILE_STEPS:,}",
                         str(pos.where(("steps",))))
    group = list(start)
    answered: list[str] = []  # question keys answered on the live branch, in order
    out: list[Move] = []
    for i, entry in enumerate(raw):
        path = ("steps", i)
        where = str(pos.where(path))
        if not isinstance(entry, dict) or not entry:
            raise InputError(STEP_SHAPE, where)
        heads = [k for k in entry if k not in MINUTE_WORDS]
        if len(heads) != 1:
            raise InputError(STEP_SHAPE, str(pos.where(path + (heads[1],), key=True))
                             if len(heads) > 1 else where)
        head = heads[0]
        value = entry[head]
        at = path + (head,)
        if head in MOVE_WORDS:
            extra = [k for k in entry if k != head]
            if extra:
                raise InputError(f"{extra[0]} goes with a question's votes, not with {head}",
                                 str(pos.where(path + (extra[0],), key=True)))
            if head == "revisit":
                m, nid, _ = _question(value, known, dm, pos.where(at))
                key = node_key(m.id, nid, top=m is dm)
                if key not in answered:
                    raise InputError(f"revisit: {value!r} is not answered in an earlier step "
                                     "on this branch, so the group cannot go back to it",
                                     str(pos.where(at)))
                del answered[len(answered) - 1 - answered[::-1].index(key):]
                out.append(Move("revisit", where, key=key))
                continue
            names = _names(value, pos, at, head)
            for n in names:
                if head == "join" and n in group:
                    raise InputError(f"join: {n!r} is already in the group here "
                                     f"({', '.join(group)})", str(pos.where(at)))
                if head == "leave" and n not in group:
                    close = difflib.get_close_matches(n, group, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise InputError(f"leave: {n!r} is not in the group here "
                                     f"({', '.join(group)}){hint}", str(pos.where(at)))
                group = [*group, n] if head == "join" else [g for g in group if g != n]
            if not group:
                raise InputError("leave: the group would have no one left", str(pos.where(at)))
            out.append(Move(head, where, names=tuple(names)))
            continue
        m, nid, node = _question(head, known, dm, pos.where(at, key=True))
        key = node_key(m.id, nid, top=m is dm)
        ballots = _checked(value, m, nid, node, group, pos, at)
        minutes = _minutes({k: entry[k] for k in MINUTE_WORDS if k in entry}, pos, path)
        answered.append(key)
        out.append(Move("answer", where, key=key, ballots=tuple(ballots), minutes=minutes))
    return out


def _names(value: Any, pos: Positions, at: tuple, head: str) -> list[str]:
    """`join:`/`leave:` a name or a list of names, each some text, none twice."""
    names = value if isinstance(value, list) else [value]
    out = []
    for n in names:
        if not isinstance(n, (str, int)) or isinstance(n, bool) or not str(n).strip():
            raise InputError(f"{head}: give a member's name, or a list of names",
                             str(pos.where(at)))
        out.append(str(n).strip())
    if not out or len(set(out)) != len(out):
        raise InputError(f"{head}: give each name once", str(pos.where(at)))
    return out


def _minutes(spec: Any, pos: Positions, path: tuple) -> Minutes:
    """One visit's minutes: {amend: [...], notes: [...], actions: [{who, by, what}]}."""
    shape = ("minutes at a question are {amend: [text], notes: [text], "
             "actions: [{who: ..., by: ..., what: ...}]}")
    if not isinstance(spec, dict) or set(spec) - {"amend", "notes", "actions"}:
        raise InputError(shape, str(pos.where(path)))

    def texts(key: str) -> tuple[str, ...]:
        got = spec.get(key) or []
        got = got if isinstance(got, list) else [got]
        for i, x in enumerate(got):
            if not isinstance(x, (str, int, float)) or isinstance(x, bool) or \
                    len(str(x)) > MAX_MINUTE_CHARS or not str(x).strip():
                raise InputError(f"{key}: give text of 1 to {MAX_MINUTE_CHARS} characters",
                                 str(pos.where(path + (key, i))))
        return tuple(str(x) for x in got)

    actions = []
    raw = spec.get("actions") or []
    for i, a in enumerate(raw if isinstance(raw, list) else [raw]):
        ok = isinstance(a, dict) and set(a) == {"who", "by", "what"} and all(
            isinstance(v, (str, int, float)) and str(v).strip() for v in a.values())
        if not ok:
            raise InputError("an action is {who: ..., by: ..., what: ...}, each some text",
                             str(pos.where(path + ("actions", i))))
        actions.append(Action(str(a["who"]), str(a["by"]), str(a["what"])))
    return Minutes(texts("amend"), texts("notes"), tuple(actions))


def _ballots(spec: Any, node: Any, group: list[str], pos: Positions, path: tuple,
             qid: str) -> list[Ballot]:
    where = str(pos.where(path))
    if isinstance(spec, dict) and "tally" in spec:
        return _tally(spec, pos, path, qid, len(group))
    if isinstance(spec, dict):
        out = []
        for member, vote in spec.items():
            if member not in group:
                close = difflib.get_close_matches(str(member), group, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise InputError(
                    f"question {qid!r}: {member!r} is not in the group{hint}",
                    str(pos.where(path + (member,), key=True)))
            out.append(_one(member, vote, pos, path + (member,), qid))
        return out
    if spec is None or isinstance(spec, list):
        raise InputError(f"question {qid!r}: give a value, a mapping of member -> vote, "
                         "or {tally: ...}", where)
    if isinstance(node, TextQuestion) and node.text == "one":
        return [Ballot(None, str(spec))]
    return [Ballot(m, _value(spec)) for m in group]


def _one(member: str | None, vote: Any, pos: Positions, path: tuple, qid: str) -> Ballot:
    if isinstance(vote, dict):
        extra = set(vote) - {"vote", "reason"}
        if "vote" not in vote or extra:
            raise InputError(f"question {qid!r}: a vote with a reason is "
                             "{vote: ..., reason: ...}", str(pos.where(path)))
        reason = vote.get("reason")
        return Ballot(member, _value(vote["vote"]), str(reason) if reason is not None else None)
    if vote is None or isinstance(vote, list):
        raise InputError(f"question {qid!r}: {member!r} gave no vote", str(pos.where(path)))
    return Ballot(member, _value(vote))


def _value(v: Any) -> str | float:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        return v
    return str(v)


def _tally(spec: dict, pos: Positions, path: tuple, qid: str, size: int) -> list[Ballot]:
    tally = spec["tally"]
    if not isinstance(tally, dict) or set(spec) - {"tally", "reasons"}:
        raise InputError(f"question {qid!r}: a tally is {{tally: {{choice: count}}, "
                         "reasons: [...]}", str(pos.where(path)))
    reasons = spec.get("reasons") or []
    for value, count in tally.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InputError(f"question {qid!r}: the count for {value!r} must be a whole "
                             "number", str(pos.where(path + ("tally", value))))
    total = sum(tally.values())  # counted before any ballot is built: {yes: 1000000000}
    if total > size:
        raise InputError(f"question {qid!r}: the tally counts {total} votes for a group "
                         f"of {size}", str(pos.where(path + ("tally",))))
    out: list[Ballot] = []
    blocks = 0
    for value, count in tally.items():
        for _ in range(count):
            reason = None
            if str(value) in ("block", "object"):
                reason = str(reasons[blocks]) if blocks < len(reasons) else None
                blocks += 1
            out.append(Ballot(None, _value(value), reason))
    return out
