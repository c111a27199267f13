"""The document a group takes home after a walk: the outcome and its next steps, every
decision with its reason, the picture of the path and, for a coalition, the charter.

Two forms from the Jinja2 templates in `templates/`: Markdown (`report_markdown`, the
picture is a file linked beside it) and one self-contained HTML file (`report_html`,
the picture inlined as SVG, print-ready CSS, nothing fetched from anywhere).

Everything a map author or a member typed is untrusted. It reaches the templates as
plain data with control characters stripped; the HTML template is autoescaped, and in
the Markdown template every `{{ ... }}` is passed through `md_escape` (as a filter, and
again as the environment's `finalize` for anything a template forgets), so map text
cannot inject markup, links or Liquid/Jinja syntax into either file. The templates run
in Jinja2's immutable sandbox with StrictUndefined: a missing variable is a one-line
`ReportError` naming the template, the line and the variable.
"""

from __future__ import annotations

import datetime as _dt
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from decision_map.errors import DecisionMapError
from decision_map.io.loader import DecisionMap
from decision_map.model.conditions import question_words
from decision_map.model.documents import DOCUMENTS, split_records
from decision_map.model.format import (
    Check,
    ChoiceQuestion,
    ChoiceSpec,
    Handoff,
    Info,
    NumberQuestion,
    TextQuestion,
)
from decision_map.model.graph import node_label
from decision_map.model.minutes import Action
from decision_map.model.privacy import NOT_RECORDED, is_secret, record_level
from decision_map.model.trace import Step, Trace

TEMPLATES = Path(__file__).resolve().parent / "templates"
MD_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html.j2"

# The charter's sections (maps/README.md, "The coalition charter"): number, heading,
# and what belongs there (shown under a section nobody has written yet).
CHARTER_SECTIONS: tuple[tuple[int, str, str], ...] = (
    (1, "Name, date, member groups and their representatives", ""),
    (2, "What we want to solve", "The problem, and who is affected."),
    (3, "Goals", "Measurable and time-bound; how long the coalition is meant to last."),
    (4, "What we are for and against",
     "Principles of unity, red lines, issues outside our scope where each group keeps its "
     "autonomy."),
    (5, "Principles we work by", "For example the Jemez Principles."),
    (6, "Membership", "Who may join, how to join, leave, be removed, come back."),
    (7, "What each group commits",
     "Time, money, in kind, a liaison, and what each group gets back."),
    (8, "Structure and roles", "Convener, coordinator, working groups, rotation."),
    (9, "How we decide",
     "Which rule for which decision, quorum, what a block means, emergency decisions, who "
     "signs off public statements, the voting unit (one group, one vote)."),
    (10, "Communication", "Channels, minutes, spokespeople, credit."),
    (11, "Resources and budget", ""),
    (12, "Conflict and accountability", "The working-through-dissent map."),
    (13, "Review dates, evaluation, and how the coalition ends", ""),
    (14, "How to amend this charter", ""),
)

# Which charter sections each of the coalition map's charter questions fills (the
# questions' help texts name the same sections). One answer may cover several sections:
# its words go under the first, the others point back to it. Several answers may fill
# one section: their words follow each other in this order.
CHARTER_QUESTIONS: dict[str, tuple[int, ...]] = {
    "charter-problem": (1, 2),
    "charter-shared-goal": (3,),
    "charter-goals": (3,),
    "charter-for-against": (4,),
    "charter-risks": (4,),
    "charter-commitments": (7, 11),
    "charter-how-we-work": (5, 8, 9, 10),
    "charter-review": (12, 13, 14),
}
CHARTER_PREFIX = "charter-"
TO_BE_AGREED = "To be agreed"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MD_ACTIVE = re.compile(r"([\\`*_{}\[\]<>#|~&!])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)](?=\s|$))")


class ReportError(DecisionMapError):
    """A report that cannot be made: a template problem or a trace that does not fit."""


# ---------------------------------------------------------------- escaping


def clean(text: object) -> str:
    """Author text without control characters (escape sequences, bidi overrides);
    newlines and tabs stay.

    >>> clean("red\\x1b[31m alert\\u202e")
    'red[31m alert'
    """
    return _CONTROL.sub("", str(text))


def md_escape(text: object) -> Markup:
    """Author text made inert inside a line of Markdown: no links, images, HTML, emphasis,
    headings, list items, tables or `{{ }}` for site generators; control characters go,
    newlines become spaces. The result is marked safe so it is not escaped twice.

    >>> str(md_escape("[click](javascript:x)"))
    '\\\\[click\\\\](javascript:x)'
    >>> str(md_escape("<script>alert(1)</script>"))
    '\\\\<script\\\\>alert(1)\\\\</script\\\\>'
    >>> str(md_escape("{{ 7*7 }}"))
    '\\\\{\\\\{ 7\\\\*7 \\\\}\\\\}'
    >>> str(md_escape("# not a heading"))
    '\\\\# not a heading'
    >>> str(md_escape("1. not a list"))
    '1\\\\. not a list'
    >>> str(md_escape("two\\nlines\\x1b[0m"))
    'two lines\\\\[0m'
    """
    if isinstance(text, Markup):
        return text
    s = " ".join(clean(text).split("\n")).replace("\t", " ")
    s = _MD_ACTIVE.sub(r"\\\1", s)
    s = _MD_LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], s)
    return Markup(s)


def md_lines(text: object, prefix: str = "") -> Markup:
    """Multi-line author text as escaped Markdown lines, each line kept as a line (hard
    breaks), each starting with `prefix` (e.g. "> " for a quote).

    >>> print(md_lines("a\\n  - b\\n\\nc", "> "))
    > a\\
    > \\- b
    >
    > c
    """
    paras = [p.strip() for p in clean(text).strip().split("\n")]
    out: list[str] = []
    for i, line in enumerate(paras):
        if not line:
            out.append(prefix.rstrip())
            continue
        nxt = paras[i + 1] if i + 1 < len(paras) else ""
        out.append(prefix + str(md_escape(line)) + ("\\" if nxt else ""))
    return Markup("\n".join(out))


@pass_eval_context
def _finalize(ctx: Any, value: Any) -> Any:
    """Every `{{ }}` output: HTML is escaped by autoescape; Markdown by md_escape."""
    if ctx.autoescape or isinstance(value, Markup):
        return value
    return md_escape(value)


def _env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                     default_for_string=False, default=False),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_lines"] = md_lines
    return env


ENV = _env()


def render_template(name: str, context: dict[str, Any]) -> str:
    """Render one of the report templates; any failure is one ReportError line."""
    try:
        return ENV.get_template(name).render(**context)
    except jinja2.UndefinedError as e:
        raise ReportError(f"template {name}{_template_line(name)}: {e.message}") from None
    except jinja2.TemplateSyntaxError as e:
        raise ReportError(f"template {e.name or name} line {e.lineno}: {e.message}") from None
    except jinja2.TemplateNotFound as e:
        raise ReportError(f"template {e.name} not found in {TEMPLATES}") from None
    except jinja2.sandbox.SecurityError as e:
        raise ReportError(f"template {name}: refused by the sandbox: {e}") from None


def _template_line(name: str) -> str:
    """The template line being rendered when the error was raised (Jinja rewrites the
    traceback so template frames carry the template's file and line)."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" line {line}" if line else ""


# ---------------------------------------------------------------- the view


def all_maps(dm: DecisionMap) -> dict[str, DecisionMap]:
    """The map and every map reached from it by hand-off, by id."""
    out: dict[str, DecisionMap] = {}
    todo = [dm]
    while todo:
        m = todo.pop(0)
        if m.id in out:
            continue
        out[m.id] = m
        todo.extend(link.loaded for link in m.handoffs.values() if link.loaded is not None)
    return out


def _node_text(node: Any, node_id: str) -> str:
    if isinstance(node, (ChoiceQuestion, NumberQuestion, TextQuestion)):
        return node.ask
    if isinstance(node, Handoff):
        return node.label or f"Hand-off to {node.map}"
    if isinstance(node, Info):
        return node.say
    if isinstance(node, Check):
        return node.label or node_id
    return node_id


def _flat(text: str) -> str:
    """Folded YAML text on one line."""
    return " ".join(clean(text).split())


def _number(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _value_label(node: Any, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(node, ChoiceQuestion):
        spec = node.choices.get(str(value))
        if isinstance(spec, ChoiceSpec) and spec.label:
            return f"{value} ({spec.label})"
        return str(value)
    if isinstance(node, NumberQuestion):
        unit = f" {node.number.unit}" if node.number.unit else ""
        return _number(value) + unit
    return _number(value)


def _texts(node: Any, texts: tuple[tuple[str | None, str], ...] | list) -> list[dict]:
    each = isinstance(node, TextQuestion) and node.text == "each"
    return [{"member": clean(m) if (m and (each or node is None)) else None,
             "words": clean(w).strip()} for m, w in texts]


def _numbers(ns: tuple[int, ...]) -> str:
    """
    >>> _numbers((4,)), _numbers((1, 2)), _numbers((5, 8, 9, 10)), _numbers(())
    ('section 4', 'sections 1 and 2', 'sections 5, 8, 9 and 10', '')
    """
    if not ns:
        return ""
    if len(ns) == 1:
        return f"section {ns[0]}"
    return "sections " + ", ".join(map(str, ns[:-1])) + f" and {ns[-1]}"


def _step_view(s: Step, maps: dict[str, DecisionMap], number: int,
               charter: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    m = maps.get(s.map_id)
    node = m.nodes.get(s.node) if m is not None else None
    d = s.decision
    assert d is not None
    question = _flat(_node_text(node, s.node)) if node is not None else (
        f"{s.node} (no longer in the map)")
    kind = s.kind
    fingers = d.rule == "fist-to-five"
    tally = [] if kind in ("text", "number") else [
        {"key": clean(f"{k} finger{'' if k == '1' else 's'}" if fingers else
                      node.choice_label(k) if isinstance(node, ChoiceQuestion)
                      and k in node.choices else k), "count": v}
        for k, v in d.tally.items() if v]
    votes = []
    if kind in ("choice", "number"):
        votes = [{"member": clean(b.member), "value": clean(_number(b.value))}
                 for b in s.ballots if b.member is not None]
    return {
        "number": number,
        "node": clean(s.node),
        "map_id": clean(s.map_id),
        "map_title": clean(m.model.title if m is not None else s.map_id),
        "key": clean(s.key),
        "in_handoff": bool(s.scope),
        "depth": s.depth,
        "visit": s.visit,
        "kind": kind,
        "question": question,
        "rule": clean(d.rule),
        "status": clean(d.status).replace("_", " "),
        "decided": d.status == "decided",
        "value": clean(_value_label(node, d.value)),
        "explanation": clean(s.explanation or d.explanation),
        "consequence": clean(s.consequence),  # where it led, as the stepper confirmed it
        "tally": tally,
        "votes": votes,
        "abstained": [clean(x) for x in d.abstained],
        "stood_aside": [clean(x) for x in d.stood_aside],
        "absent": [clean(x) for x in d.absent] if kind != "text" else [],
        "blocks": [{"member": clean(mb) if mb else "someone",
                    "reason": clean(r).strip() if r else ""} for mb, r in d.blocks],
        "texts": [t for t in _texts(node, d.texts) if t["words"] != NOT_RECORDED],
        "show_rule": d.rule not in ("text", "number"),
        "charter_sections": "" if s.scope else _numbers(charter.get(s.node, ())),
        "kept_out": _kept_out(node),
        "proposal": [clean(v).strip() for v in s.proposal],
        "notes": [clean(n).strip() for n in s.minutes.notes],
        "actions": [_action(a) for a in s.minutes.actions],
    }


def _owner(owner: tuple[str, str] | None) -> str:
    """ "Ana, by 1 June", or "" for a next step nobody has taken on yet."""
    return f"{clean(owner[0]).strip()}, by {clean(owner[1]).strip()}" if owner else ""


def _kept_out(node: Any) -> str:
    """What of the step the record does not hold, in words ("" when it holds all)."""
    level = record_level(node)
    if level == "none":
        return "Kept out of the record: only the result is kept, with no names and no words."
    if level == "summary":
        return "A summary only: who took part and the result; the words are not kept."
    if is_secret(node):
        return "A secret ballot: the votes are a tally, with no name linked to any."
    return ""


def kept_out_view(dm: DecisionMap, trace: Trace) -> list[dict[str, Any]]:
    """Which steps the record holds only in part (record: summary or none, secret
    ballots), so the report can say what was kept out."""
    maps = all_maps(dm)
    out = []
    for n, s in enumerate(trace.steps, start=1):
        m = maps.get(s.map_id)
        node = m.nodes.get(s.node) if m is not None else None
        what = _kept_out(node)
        if what:
            out.append({"number": n, "key": _said(maps, s.map_id, s.node), "what": what})
    return out


def _action(a: Action) -> dict[str, str]:
    return {"who": clean(a.who).strip(), "by": clean(a.by).strip(),
            "what": clean(a.what).strip()}


def _said(maps: dict[str, DecisionMap], map_id: str, node_id: str) -> str:
    """A node as members know it (its question, label or outcome title), never its id:
    the minority record and what was kept out are read by the group."""
    m = maps.get(map_id)
    node = m.nodes.get(node_id) if m is not None else None
    if node is None:
        return "a step of the map"
    if getattr(node, "label", None) or getattr(node, "ask", None):
        return _flat(question_words(node))
    return f"“{_flat(node_label(node))}”"


def _same_question(a: Step, b: Step) -> bool:
    return (a.map_id, a.node, a.scope) == (b.map_id, b.node, b.scope)


def minority_view(dm: DecisionMap, trace: Trace) -> list[dict[str, Any]]:
    """Every stand-aside, block and objection in walk order, with its reason and what the
    group did about it: the notes taken at the step, a later amendment of the proposal,
    the question asked again, or where the walk went."""
    out: list[dict[str, Any]] = []
    maps = all_maps(dm)
    steps = trace.steps
    for n, s in enumerate(steps, start=1):
        d = s.decision
        if d is None or not (d.stood_aside or d.blocks):
            continue
        reasons = {b.member: b.reason for b in s.ballots if b.member and b.reason}
        word = "objected" if d.rule == "consent" else (
            "showed a fist" if d.rule == "fist-to-five" else "blocked")
        who = ([{"member": clean(m), "what": "stood aside", "reason": clean(reasons.get(m) or "")}
                for m in d.stood_aside]
               + [{"member": clean(m) if m else "someone (secret ballot)", "what": word,
                   "reason": clean(r or "").strip()} for m, r in d.blocks])
        done = [f"Note: {clean(x).strip()}" for x in s.minutes.notes]
        done += [f"Action: {clean(a.who)} by {clean(a.by)}: {clean(a.what)}"
                 for a in s.minutes.actions]
        for m, later in enumerate(steps[n:], start=n + 1):
            if later.decision is None or not _same_question(s, later):
                continue
            if len(later.proposal) > len(s.proposal):
                done.append(f"The proposal was amended (version {len(later.proposal)}) and "
                            f"put to the vote again at step {m}: {later.decision.explanation}")
            else:
                done.append(f"Asked again at step {m}: {later.decision.explanation}")
            break
        if d.status != "decided" and s.next:
            done.append(f"The walk went on to {_said(maps, s.map_id, s.next)}.")
        elif d.status == "decided" and d.stood_aside:
            done.append("Decided with the stand-asides recorded; those who stood aside do "
                        "not carry it out.")
        if s.superseded:  # kept, with what was done, but no longer the group's decision
            done.append("The group later went back before this step: it is superseded.")
        out.append({"number": n, "key": _said(maps, s.map_id, s.node),
                    "status": clean(d.status).replace("_", " "),
                    "members": who, "done": done})
    return out


def _entries(dm: DecisionMap, trace: Trace,
             charter: dict[str, tuple[int, ...]]) -> list[dict[str, Any]]:
    """Every step in walk order, numbered as the picture numbers them (the trace's step
    index, from 1): decisions in full, other steps (read out, checks, hand-offs,
    outcomes) as one line."""
    maps = all_maps(dm)
    out: list[dict[str, Any]] = []
    group = list(trace.group)
    for n, s in enumerate(trace.steps, start=1):
        if s.decision is not None:
            regrouped = ""
            if s.group is not None:  # members joined or left before this question
                joined = [g for g in s.group if g not in group]
                left = [g for g in group if g not in s.group]
                group = list(s.group)
                regrouped = " ".join(
                    ([f"Joined: {', '.join(joined)}."] if joined else [])
                    + ([f"Left: {', '.join(left)}."] if left else [])
                    + [f"The group here: {', '.join(group)}."])
            out.append({"type": "decision", **_step_view(s, maps, n, charter),
                        "regrouped": clean(regrouped), "superseded": s.superseded})
            continue
        m = maps.get(s.map_id)
        node = m.nodes.get(s.node) if m is not None else None
        label = ""
        if isinstance(node, Check):
            label = _flat(node.label or s.node)
        elif isinstance(node, Info):
            label = "Read out"
        out.append({"type": "note", "number": n, "kind": s.kind, "depth": s.depth,
                    "label": label, "explanation": _flat(s.explanation)})
    return out


def charter_view(dm: DecisionMap, trace: Trace, date: str) -> dict[str, Any] | None:
    """The charter's 14 sections filled from the walk's charter-* texts in the top map,
    or None when the walk collected none."""
    texts = {k: v for k, v in trace.texts().items() if k.startswith(CHARTER_PREFIX)}
    if not texts:
        return None
    sections: dict[int, dict[str, Any]] = {
        n: {"number": n, "title": t, "hint": h, "words": [], "see": None, "extra": []}
        for n, t, h in CHARTER_SECTIONS
    }
    for qid, numbers in CHARTER_QUESTIONS.items():
        if qid not in texts:
            continue
        first, *rest = numbers
        sections[first]["words"] += _texts(dm.nodes.get(qid), texts[qid])
        for n in rest:
            if not sections[n]["words"]:
                sections[n]["see"] = first
    sections[1]["extra"] = [f"Member groups: {', '.join(clean(g) for g in trace.group)}.",
                            f"Drafted on {date}."]
    more = [{"question": _flat(_node_text(dm.nodes.get(q), q)),
             "words": _texts(dm.nodes.get(q), w)}
            for q, w in texts.items() if q not in CHARTER_QUESTIONS]
    ordered = [sections[n] for n, _, _ in CHARTER_SECTIONS]
    return {
        "sections": ordered,
        "more": more,
        "open": [s["number"] for s in ordered if not s["words"] and s["see"] is None],
    }


def _adopted(node: Any, s: Step) -> str | None:
    """The words a step adopted for its node's `records:` part: one agreed sentence, or
    the proposal (its last version) when the vote passed it; None otherwise. A round of
    each member's statements adopts nothing."""
    d = s.decision
    if d is None or d.status != "decided":
        return None
    if isinstance(node, TextQuestion) and node.text == "one":
        words = "\n".join(w.strip() for _, w in d.texts if w.strip())
        return words or None
    if isinstance(node, ChoiceQuestion) and s.proposal:
        passing = node.proposal or next(iter(node.choices))
        return s.proposal[-1] if str(d.value) == passing else None
    return None


def document_view(dm: DecisionMap, trace: Trace, kind: str, date: str
                  ) -> dict[str, Any] | None:
    """The outcome's document, each part filled from what the walk adopted for it (the
    latest adoption wins), and each empty part naming the question that would fill it."""
    got = DOCUMENTS.get(kind)
    if got is None:
        return None
    title, intro, parts = got
    maps = all_maps(dm)
    fillers: dict[str, list[str]] = {}
    for m in maps.values():
        for nid, node in m.nodes.items():
            rec = getattr(node, "records", None)
            if rec and split_records(rec)[0] == kind:
                # named in members' words, never by id: the document leaves the room
                fillers.setdefault(split_records(rec)[1], []).append(_said(maps, m.id, nid))
    filled: dict[str, dict[str, Any]] = {}
    for n, s in enumerate(trace.steps, start=1):
        m = maps.get(s.map_id)
        node = m.nodes.get(s.node) if m is not None else None
        rec = getattr(node, "records", None)
        if not rec or split_records(rec)[0] != kind or s.superseded:
            continue
        words = _adopted(node, s)
        if words is not None:
            filled[split_records(rec)[1]] = {"words": clean(words).strip(), "step": n,
                                             "key": _said(maps, s.map_id, s.node)}
    out = []
    for pid, heading, hint in parts:
        f = filled.get(pid)
        out.append({"id": pid, "heading": heading, "hint": hint,
                    "words": f["words"] if f else "", "step": f["step"] if f else None,
                    "key": f["key"] if f else "", "fillers": fillers.get(pid, [])})
    return {"kind": kind, "title": title, "intro": intro, "parts": out, "date": date,
            "members": [clean(g) for g in trace.group],
            "open": [p["heading"] for p in out if not p["words"]]}


def _date(date: _dt.date | str | None) -> str:
    if date is None:
        return _dt.date.today().isoformat()
    return date.isoformat() if isinstance(date, _dt.date) else str(date)


def report_context(dm: DecisionMap, trace: Trace,
                   date: _dt.date | str | None = None) -> dict[str, Any]:
    """Everything the templates show, as plain cleaned data."""
    if trace.map_id != dm.id:
        raise ReportError(f"the trace is a walk of map {trace.map_id!r}, not of {dm.id!r}")
    day = _date(date)
    outcome = dm.nodes.get(trace.outcome) if trace.outcome else None
    kind = getattr(outcome, "document", None)
    # an outcome that declares its document gets that one, filled from what was adopted;
    # without the key, a walk's charter-* texts still make the charter as before
    charter = charter_view(dm, trace, day) if kind is None else None
    document = document_view(dm, trace, kind, day) if kind else None
    return {
        "title": clean(trace.map_title),
        "map_id": clean(trace.map_id),
        "version": clean(trace.map_version),
        "sha256": clean(trace.map_sha256),
        "short_hash": clean(trace.map_sha256[:12]),
        # the file's name only: a report leaves the room, a local path says too much
        "map_path": clean(Path(trace.map_path or dm.path).name),
        "date": day,
        "group": [clean(g) for g in trace.group],
        "outcome": None if trace.outcome is None else {
            "id": clean(trace.outcome),
            "title": clean(getattr(outcome, "outcome", None) or trace.outcome),
            # in words ("form-coalition" reads "Form coalition"); the id stays in --json
            "verdict": clean(trace.verdict.replace("-", " ").capitalize())
            if trace.verdict else None,
            "text": clean(trace.outcome_text or "").strip(),
            "next_steps": [clean(x).strip() for x in trace.next_steps],
            "carried_by": [clean(x) for x in trace.carried_by],
            "owners": [_owner(trace.owners.get(i)) for i in range(1, len(trace.next_steps) + 1)],
        },
        "minority": minority_view(dm, trace),
        "revisited": any(s.superseded for s in trace.steps),  # the picture has superseded
        "kept_out": kept_out_view(dm, trace),
        "stopped": clean(trace.stopped) if trace.stopped else None,
        "entries": _entries(dm, trace, CHARTER_QUESTIONS if charter else {}),
        "charter": charter,
        "document": document,
        "to_be_agreed": TO_BE_AGREED,
    }


# ---------------------------------------------------------------- the reports


_SCRIPT_ELEMENT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_SCRIPT_OPEN = re.compile(r"<script", re.IGNORECASE)
_EVENT_ATTR = re.compile(r"""\son[a-z]+\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)
_SVG_WIDTH = re.compile(r'<svg\s+width="(\d+(?:\.\d+)?)pt"')
_JS_URL = re.compile(r"""(href\s*=\s*["'])\s*javascript:""", re.IGNORECASE)


def safe_svg(svg: str) -> str:
    """SVG fit to inline in HTML: from `<svg` on (no XML prolog, no doctype), and
    defensively without scripts, event handlers or javascript: links.

    >>> safe_svg('<?xml version="1.0"?><svg onload="x()"><script>x()</script></svg>')
    '<svg></svg>'
    """
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else ""
    svg = _SCRIPT_ELEMENT.sub("", svg)
    svg = _SCRIPT_OPEN.sub("&lt;script", svg)
    svg = _EVENT_ATTR.sub("", svg)
    return _JS_URL.sub(r"\1#", svg)


def path_svg(dm: DecisionMap, trace: Trace, focus: bool | None = None) -> str:
    """The map with the walk's path highlighted, as SVG text to inline."""
    from .notebook import trace_svg

    return safe_svg(trace_svg(dm, trace, focus=focus))


def report_markdown(dm: DecisionMap, trace: Trace, picture_name: str | None,
                    *, date: _dt.date | str | None = None) -> str:
    """The report as Markdown; `picture_name` is the picture file written beside it
    (linked, not embedded), or None for no picture."""
    ctx = report_context(dm, trace, date)
    ctx["picture"] = Markup(quote(picture_name)) if picture_name else None
    return render_template(MD_TEMPLATE, ctx)


def report_html(dm: DecisionMap, trace: Trace, *, date: _dt.date | str | None = None,
                focus: bool | None = None, svg: str | None = None) -> str:
    """The report as one self-contained HTML file with the picture inlined. `svg`
    replaces the drawing (it is made safe the same way)."""
    ctx = report_context(dm, trace, date)
    picture = path_svg(dm, trace, focus) if svg is None else safe_svg(svg)
    ctx["svg"] = Markup(picture)
    width = _SVG_WIDTH.match(picture)
    ctx["svg_width"] = f"{width.group(1)}pt" if width else None
    ctx["pieces"] = print_pieces(dm, trace)
    return render_template(HTML_TEMPLATE, ctx)


def print_pieces(dm: DecisionMap, trace: Trace) -> list[dict[str, Any]]:
    """The path in pieces for print, each legible on A4 (segments.py), as safe SVG with
    its natural width; none when the walk has no step."""
    from .segments import path_pieces

    out = []
    for data in path_pieces(dm, trace) if trace.steps else []:
        svg = safe_svg(data.decode("utf-8"))
        width = _SVG_WIDTH.match(svg)
        out.append({"svg": Markup(svg), "width": f"{width.group(1)}pt" if width else "100%"})
    return out
