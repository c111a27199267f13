"""Plain words for members: no member-facing output of the shipped maps' scenario walks
(the stepper's screens, the report, the picture's labels) shows a node id, a verdict id
or condition syntax. Ids and the technical form stay in --json and `paths`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from decision_map_render.diagram import build
from decision_map_render.report import report_markdown

from decision_map.io.loader import DecisionMap, load_map
from decision_map.model.trace import Trace
from decision_map.walk.scenarios import default_scenarios, run_scenarios

SYNTAX = re.compile(r">=|<=|!=|\s=\s|\bnot in\b|\bCase \d+ holds\b|\bany_of\b|\ball_of\b")


def maps_of(dm: DecisionMap) -> list[DecisionMap]:
    """The map and every map it hands off to."""
    out = [dm]
    for m in out:
        for link in m.handoffs.values():
            if link.loaded is not None and all(link.loaded.id != o.id for o in out):
                out.append(link.loaded)
    return out


def authored(dm: DecisionMap, trace: Trace) -> list[str]:
    """Every text an author or a member wrote: it may say what it likes, and is taken
    out before the check (longest first, so a phrase goes before its words)."""
    texts: list[str] = []
    for m in maps_of(dm):
        texts += [m.model.title]
        for node in m.model.nodes.values():
            for key in ("ask", "say", "label", "help", "outcome", "text"):
                v = getattr(node, key, None)
                if isinstance(v, str):
                    texts.append(v)
            texts += [str(x) for x in getattr(node, "next_steps", None) or []]
            for value in getattr(node, "choices", {}) or {}:
                texts.append(node.choice_label(value))
    for s in trace.steps:
        for b in s.ballots:
            texts += [str(v) for v in b.to_json().values() if isinstance(v, str)]
        if s.decision is not None:
            texts += [str(t) for _, t in s.decision.texts]
    return sorted({t.strip() for t in texts if t and t.strip()}, key=len, reverse=True)


def ids(dm: DecisionMap) -> set[str]:
    """Node ids and verdicts that cannot be mistaken for words (they have a hyphen)."""
    out: set[str] = set()
    for m in maps_of(dm):
        for node_id, node in m.model.nodes.items():
            out |= {x for x in (node_id, getattr(node, "verdict", None)) if x and "-" in x}
    return out


def walks() -> Iterator[tuple[Path, DecisionMap, str, Trace]]:
    for path in sorted(Path(__file__).resolve().parent.parent.glob("maps/*.yaml")):
        dm = load_map(str(path))
        for r in run_scenarios(dm, default_scenarios(str(path))).results:
            assert r.trace is not None, r.problems
            yield path, dm, r.name, r.trace


def member_texts(dm: DecisionMap, trace: Trace) -> dict[str, str]:
    d = build(dm, trace)
    picture = [*("\n".join(n.lines()) for n in d.nodes), *(e.text for e in d.edges)]
    return {"report": report_markdown(dm, trace, None), "picture": "\n".join(picture)}


def test_no_ids_or_condition_syntax_in_what_members_see():
    problems, walked = [], 0
    for path, dm, case, trace in walks():
        walked += 1
        own, names = authored(dm, trace), ids(dm)
        for where, text in member_texts(dm, trace).items():
            for t in own:
                text = text.replace(t, " ").replace(t.replace("\n", " "), " ")
            for line in text.splitlines():
                hit = [i for i in names if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", line)]
                if hit or SYNTAX.search(line):
                    problems.append(f"{path.stem} / {case} / {where}: {line.strip()[:120]}")
    assert walked >= 20
    assert not problems, "\n".join(problems[:20])


def test_a_check_reads_in_the_questions_words(coalition_path):
    dm = load_map(str(coalition_path))
    r = next(r for r in run_scenarios(dm, default_scenarios(str(coalition_path))).results
             if r.name.startswith("split on the form of work"))
    said = [s.explanation for s in r.trace.steps if s.kind == "check"]
    assert said and not any(SYNTAX.search(x) for x in said)
    assert any("“" in x for x in said)  # a question named by its words, in quotes


def stepper_screens(dm: DecisionMap, trace: Trace) -> str:
    """What `decision-map step` shows the room over the walk of `trace`: each question's
    screen and help, the vote prompt's hint, each decision and its tally, the confirm
    line, the read-outs and hand-offs passed, the path and the outcome. Drawn by the
    stepper's own view (StepView, on a real Terminal writing to a pipe) over the real
    map, step by step with the walk's own ballots; the keystrokes that would choose them
    are the pseudo-terminal tests' business (test_step_room, test_step_time)."""
    import contextlib
    import io

    from decision_map.cli.prompting import Question, member_hint
    from decision_map.cli.step_view import StepView
    from decision_map.cli.terminal import Terminal
    from decision_map.walk.engine import Walk

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        walk = Walk(dm, trace.group, keep_text_error=True)
        term = Terminal()
        view = StepView(term, walk)
        view.passed(walk.trace.steps)
        for s in trace.steps:
            if s.decision is None or s.superseded:
                continue
            pos = walk.current()
            assert pos is not None and pos.key == s.key, (pos, s.key)
            q = Question.of(pos.node, walk.frame.dm.model.defaults)
            view.position(pos, q, False)
            view.help(pos, q, False)
            term.say(member_hint(q))
            view.decision(walk.preview(s.ballots))
            before = len(walk.trace.steps)
            # the confirm line: `leads_to` is this sentence, found on a copy of the walk
            term.say(walk.submit(s.ballots, minutes=s.minutes).consequence)
            view.passed(walk.trace.steps[before + 1:])
        view.path()
        view.outcome(Path("session.json"))
    return out.getvalue()


def test_no_ids_or_condition_syntax_on_the_stepper_screens():
    """Every shipped scenario, walked through the stepper's screens. The view functions,
    not one pseudo-terminal per scenario: the screens are the same code, and twenty-odd
    pseudo-terminals, each starting the program and typing every member's vote, would
    take minutes on a shared machine for no more coverage of what is shown."""
    problems, walked = [], 0
    for path, dm, case, trace in walks():
        walked += 1
        own, names = authored(dm, trace), ids(dm)
        text = stepper_screens(dm, trace)
        assert "Outcome" in text or "Stopped" in text
        for t in own:
            text = text.replace(t, " ").replace(" ".join(t.split()), " ")
        for line in text.splitlines():
            hit = [i for i in names if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", line)]
            if hit or SYNTAX.search(line):
                problems.append(f"{path.stem} / {case} / stepper: {line.strip()[:120]}")
    assert walked >= 20
    assert not problems, "\n".join(problems[:20])
