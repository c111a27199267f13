"""What `decision-map step` shows: where the group is, the rule in force, the help, the path
so far, each decision and the outcome, and the picture and report of the path. It never
reads a line; the stepping loop (stepper.py) decides when each is shown."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from ..model.decision import Decision
from ..model.format import ChoiceQuestion, Outcome
from ..model.trace import Step
from ..model.vocabulary import AS_TYPED, is_command
from ..rules.table import rule_in_words, rule_named
from .output import safe
from .prompting import Question, member_hint, tally_example
from .terminal import Terminal

COMMANDS_LINE = "? help · back · path · map · save · quit · note · action · amend"


class StepView:
    """The stepper's screen: everything it prints about the walk, and nothing it asks."""

    def __init__(self, term: Terminal, walk, projector: bool = False) -> None:
        self.t = term
        self.walk = walk
        # --projector: a clean screen per question, the question, the rule and the count
        # large and alone; the earlier votes stay in `path`.
        self.projector = projector
        self.started: float | None = None  # when this sitting began (time.monotonic)

    def passed(self, steps: list[Step]) -> None:
        """What the walk went through without a vote: read-outs and hand-offs."""
        for s in steps:
            if s.kind == "info":
                self.t.say()
                self.t.say(Text.assemble(safe("Read out: ", "bold"), safe(s.explanation.strip())))
            elif s.kind == "handoff":
                self.t.say()
                self.t.say(safe(s.explanation, "italic"))

    def position(self, pos, q: Question, tallying: bool) -> None:
        """The question in front of the group, its choices, its rule and how votes are taken."""
        node = pos.node
        defaults = self.walk.frame.dm.model.defaults
        left = ("this is the last question" if pos.remaining <= 1 else
                f"at most {pos.remaining} questions left") + self.times(pos)
        if self.projector and self.t.interactive:  # a pipe has no screen to clear
            self.big(pos, q, left, rule_in_words(node, defaults))
            return
        self.t.say()
        self.t.rule(f"Step {pos.step} · {left}")
        if pos.depth:
            self.t.say(f"In the map: {pos.map_title}", "italic")
        if pos.visit > 1:
            self.back_again(pos)
        self.t.say(safe(" ".join(node.ask.split()), "bold"))
        if pos.proposal:
            self.proposal(pos.proposal)
        if isinstance(node, ChoiceQuestion):
            width = len(str(len(node.choices)))
            for i, value in enumerate(node.choices, 1):
                label = node.choice_label(value)
                line = Text.assemble(safe(f"  {i:>{width}}  "), safe(label, "bold"))
                if label != value:
                    line.append(safe(f"  ({value})", "dim"))
                self.t.say(line)
            for i, value in enumerate(node.choices, 1):
                if is_command(value) or is_command(node.choice_label(value)):
                    self.t.say(safe(f"  ({value!r} is also a command: to vote it, type {i} "
                                    f"or {AS_TYPED}{value})", "yellow"))
        self.t.say(Text.assemble(safe("Rule: ", "bold"), safe(rule_in_words(node, defaults))))
        tallying = tallying and q.tallies
        how = "by quick tally" if tallying else "member by member"
        other = "m member by member" if tallying else ("t quick tally" if q.tallies else "")
        if isinstance(node, ChoiceQuestion):
            tail = f" · {other}" if other else ""
            self.t.say(f"Voting {how}.  {COMMANDS_LINE}{tail}", "dim")
        else:
            self.t.say(COMMANDS_LINE, "dim")

    def times(self, pos) -> str:
        """The time used in this sitting and the time likely left on the longest route
        from here (the map's `time` estimates, hand-offs included): " · 25 minutes so
        far · likely 1 hour 40 minutes left". Empty for a map without estimates."""
        import time

        from ..model.timing import in_words

        if pos.minutes_left is None:
            return ""
        spent = 0 if self.started is None else int(time.monotonic() - self.started) // 60
        used = f" · {in_words(spent)} so far" if spent else ""
        return f"{used} · likely {in_words(pos.minutes_left)} left"

    def proposal(self, versions: tuple[str, ...]) -> None:
        """What is put to the vote, written down first (the last version, when amended)."""
        head = "The proposal" + (f" (version {len(versions)}, amended)"
                                 if len(versions) > 1 else "") + ":"
        self.t.say(safe(head, "bold"))
        for line in versions[-1].splitlines() or [""]:
            self.t.say(safe(f"  │ {line}"))

    def big(self, pos, q: Question, left: str, rule: str) -> None:
        """The question for a projector: a clean screen, the question, its choices, the
        rule and the count, in a bold frame with room around it; nothing else."""
        from rich.align import Align
        from rich.panel import Panel

        node = pos.node
        self.t.clear()
        lines = Text()
        lines.append_text(safe(" ".join(node.ask.split()), "bold"))
        lines.append("\n\n")
        if isinstance(node, ChoiceQuestion):
            for i, value in enumerate(node.choices, 1):
                lines.append_text(safe(f"  {i}   {node.choice_label(value)}\n", "bold"))
            lines.append("\n")
        lines.append_text(safe(f"Rule: {rule}", "bold"))
        who = len(self.walk.group)
        lines.append_text(safe(f"\n\nStep {pos.step} · {left} · {who} members voting"))
        self.t.say(Panel(Align.left(lines), padding=(2, 4), border_style="bold"))
        if pos.visit > 1:
            self.back_again(pos)
        if pos.depth:
            self.t.say(f"In the map: {pos.map_title}", "italic")
        self.t.say("? help · path: the votes so far", "dim")

    def back_again(self, pos) -> None:
        """Why a question is back (the last decision on it, a block's reason in it, and
        the read-out taken since) and how many more times it may come round."""
        limit = self.walk.frame.router.limit
        left = limit + 1 - pos.visit
        more = ("this is its last time" if left <= 0 else
                f"it may come round {left} more time{'s' if left != 1 else ''}")
        self.t.say(f"This question comes round again: time {pos.visit}; {more}.", "bold yellow")
        steps = self.walk.trace.steps
        last = next((i for i in range(len(steps) - 1, -1, -1)
                     if steps[i].key == pos.key and steps[i].decision is not None), None)
        if last is None:
            return
        self.t.say(Text.assemble(safe("Back because: ", "bold"),
                                 safe(steps[last].decision.explanation)))
        for s in steps[last + 1:]:
            if s.kind == "info":
                self.t.say(Text.assemble(safe("Since then: ", "bold"),
                                         safe(" ".join(s.explanation.split()))))

    def help(self, pos, q: Question | None, tallying: bool) -> None:
        """Why the question is asked, what each choice means, how to vote, the commands."""
        if pos is not None and q is not None:
            node = pos.node
            self.t.say()
            if node.help:
                self.t.say(Text.assemble(safe("Why we ask: ", "bold"),
                                         safe(" ".join(node.help.split()))))
            if isinstance(node, ChoiceQuestion):
                for i, value in enumerate(node.choices, 1):
                    spec = node.choices[value]
                    h = getattr(spec, "help", None)
                    if h:
                        self.t.say(f"  {i}  {node.choice_label(value)}: {' '.join(h.split())}")
            self.t.say(f"To vote: {member_hint(q)}; - marks someone not taking part.")
            example = tally_example(q, len(self.walk.group))
            if q.tallies and tallying:
                self.t.say(f"Quick tally: counts like {example}; m votes member by member.")
            elif q.tallies:
                self.t.say(f"Quick tally: type t, then counts like {example}.")
        self.t.say("Commands at any prompt: ? this help · back undo the last step · "
                   "path the steps so far · map write a picture of the path · save · "
                   "save FILE.json save somewhere else from now on · quit (saved; resume "
                   f"later) · {AS_TYPED}WORDS votes WORDS as typed, even a command's name")
        self.t.say("Writing down: note TEXT · action WHO; BY WHEN; WHAT · amend NEW TEXT "
                   "(the proposal's next version: the vote is on it)")

    def path(self) -> None:
        """The decisions so far, one line each, hand-offs between them."""
        trace = self.walk.trace
        self.t.say()
        if not self.walk.submissions:
            self.t.say("No steps yet.")
            return
        n = 0
        for s in trace.steps:
            if s.decision is None and s.kind != "handoff":
                continue
            if s.kind == "handoff":
                self.t.say(safe(f"     {s.explanation}", "italic"))
                continue
            n += 1
            self.t.say(Text.assemble(safe(f"  {n:>2}. "), safe(self.named(s), "cyan"),
                                     safe(f": {s.decision.explanation}")))

    def named(self, s: Step) -> str:
        """A step's question as members know it (its label or its words), not its id;
        ids stay in the trace's JSON and in `paths`."""
        from ..model.conditions import question_words

        m = self.walk.dm
        for hop in s.scope:
            link = m.handoffs.get(hop)
            if link is None or link.loaded is None:
                return s.key
            m = link.loaded
        node = m.model.nodes.get(s.node)
        return question_words(node, fallback=s.key) if node is not None else s.key

    def decision(self, d: Decision) -> None:
        """The decision's sentence, its tally (not for words, which are listed) and words."""
        style = "bold green" if d.status == "decided" else "bold yellow"
        self.t.say()
        self.t.say(safe(d.explanation, style))
        if d.tally and rule_named(d.rule).ballot != "text":
            pos = self.walk.current()  # choices by their labels, as members know them
            node = pos.node if pos is not None else None
            named = node.choices if isinstance(node, ChoiceQuestion) else {}
            parts = [f"{node.choice_label(k) if k in named else k} {v}"  # type: ignore[union-attr]
                     for k, v in d.tally.items()]
            self.t.say(f"Tally: {' · '.join(parts)}", "dim")
        if d.texts:
            for member, words in d.texts:
                who = f"{member}: " if member else ""
                self.t.say(f"  {who}{words}")

    def outcome(self, session_path: Path, saved: bool = True) -> None:
        """Where the walk ended (or why it stopped), its text (or why the text failed)
        and next steps; that the session is saved only when it is."""
        trace = self.walk.trace
        self.t.say()
        if trace.outcome:
            node = self.walk.dm.nodes[trace.outcome]
            title = node.outcome if isinstance(node, Outcome) else trace.outcome
            self.t.rule("Outcome")
            self.t.say(safe(title, "bold green"))
            if trace.outcome_text:
                text = "\n".join(line.rstrip() for line in trace.outcome_text.strip().splitlines())
                while "\n\n\n" in text:
                    text = text.replace("\n\n\n", "\n\n")
                self.t.say(text)
            error = getattr(self.walk, "text_error", None)
            if error:
                self.t.say(safe(f"The outcome's text could not be shown: {error}",
                                "bold red"))
            if trace.next_steps:
                self.t.say()
                self.t.say("Next steps:", "bold")
                for i, s in enumerate(trace.next_steps, 1):
                    self.t.item(f"{i}. {s}")
                self.t.say("Give each an owner and a date: owner N WHO; BY WHEN", "dim")
        else:
            self.t.rule("Stopped")
            self.t.say(safe(trace.stopped or "The walk ended.", "bold yellow"))
        self.t.say()
        if saved:
            self.t.say(f"The session is saved: {session_path}", "dim")

    def write_picture(self, target: Path) -> Path | None:
        """A picture of the path so far, or a one-line note why not."""
        try:
            from decision_map_render.draw import picture
        except ImportError as e:
            self.t.say(f"Cannot draw pictures here ({e}).", "yellow")
            return None
        from ..errors import DecisionMapError

        pos = self.walk.current()
        try:  # within the default drawing limits: a summary past them, never a hang
            if pos is not None:  # the room sees where it stands, in big text
                from decision_map_render.around import around_picture

                target.write_bytes(around_picture(self.walk.dm, self.walk.trace, pos.scope,
                                                  pos.node_id, "svg"))
                self.t.say(f"Picture of where we are and what comes next: {target}")
                return target
            drawn = picture(self.walk.dm, self.walk.trace, "svg")
            target.write_bytes(drawn.data)
        except (DecisionMapError, OSError, ValueError) as e:
            self.t.say(f"Could not write the picture: {e}", "yellow")
            return None
        if drawn.note:
            self.t.say(f"{drawn.note[:1].upper()}{drawn.note[1:]}.", "yellow")
        self.t.say(f"Picture of the path so far: {target}")
        return target

    def write_report(self, target: Path) -> Path | None:
        """The walk's report, or a one-line note why not."""
        from decision_map_render.report import report_html

        from ..errors import DecisionMapError
        from ..io.atomic import write_atomic

        try:
            write_atomic(str(target), report_html(self.walk.dm, self.walk.trace))
        except (DecisionMapError, OSError) as e:
            self.t.say(f"Could not write the report: {e}", "yellow")
            return None
        self.t.say(f"Report: {target}")
        return target


def has_report() -> bool:
    """Whether the report can be written here (render's report module is installed)."""
    try:
        from decision_map_render.report import report_html  # noqa: F401
    except ImportError:
        return False
    return True
