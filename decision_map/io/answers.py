"""Answers files: a group and what each member gave, per question (docs/answers.md).

Every answer is checked against the map before the walk starts, so a typo at the last
question fails at once, with `file:line:col` and the question's id.
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
    unknown = sorted(set(data) - {"group", "answers", "name", "expect", "minutes",
                                 "owners"})
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} (expected group, answers, minutes, owners)",
                         str(pos.where((unknown[0],), key=True)))
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
    for key, spec in answers.items():
        at = pos.where(("answers", key), key=True)
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"{key!r} is not a question of map {dm.id!r}{hint}", str(at))
        m, nid, node = known[key]
        specs = spec if isinstance(spec, list) else [spec]
        visits: list[list[Ballot]] = []
        for i, one in enumerate(specs):
            path = ("answers", key, i) if specs is spec else ("answers", key)
            ballots = _ballots(one, node, out.group, pos, path, nid)
            try:  # validate now, against the rule, so nothing fails mid-walk
                from ..rules.deciders import decide

                decide(nid, node, m.model.defaults, out.group, ballots)
            except WalkError as e:
                raise InputError(str(e), str(pos.where(path))) from None
            visits.append(ballots)
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
