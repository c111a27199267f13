"""The stepping loop: show where the group is, collect its votes (member by member or
as a tally), confirm, move the walk on, and save the session after every step.

The walk is walk.engine.Walk, the session file is io/session.py, and what a typed line means is
prompting.py (pure, unit-tested); this module only prompts and prints.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from ..model.decision import ABSTAIN, BLOCK, OBJECT, Ballot, Decision
from ..model.format import ChoiceQuestion, Outcome, TextQuestion
from ..model.trace import Step
from .output import safe
from .prompting import (
    MemberVote,
    Question,
    VoteInputError,
    member_hint,
    parse_member_vote,
    parse_tally,
    rule_in_words,
    tally_example,
    tally_needs_reason,
)
from .terminal import Back, Quit, SwitchMode, Terminal

REASON_WORD = {BLOCK: "block", OBJECT: "objection", "0": "fist"}
COMMANDS_LINE = "? help · back · path · map · save · quit"


# ---------------------------------------------------------------- the stepping loop


class Stepper:
    def __init__(self, term: Terminal, walk, session, path: Path) -> None:
        self.t = term
        self.walk = walk
        self.session = session
        self.path = path
        self.mode = session.mode
        self.pos = None

    # ------------------------------------------------------------ saving

    def save(self, quiet: bool = True) -> bool:
        from ..io.session import save

        self.session.update_from(self.walk, self.mode)
        try:
            save(self.session, self.path)
        except OSError as e:
            self.t.say(f"Could not save the session to {self.path}: {e.strerror or e}. "
                       "Type save to try again.", "bold red")
            return False
        if not quiet:
            self.t.say(f"Saved to {self.path}.", "dim")
        return True

    def resume_hint(self) -> str:
        return f"decision-map step --resume {self.path}"

    # ------------------------------------------------------------ reading

    def read(self, prompt: str, vote: bool = False) -> str:
        """A line, with the commands handled: ?, path, map, save act and ask again;
        back, quit, t and m raise."""
        while True:
            line = self.t.ask(prompt)
            cmd = line.strip().lower()
            choices = self.q.choices if (vote and self.q is not None) else []
            if cmd in ("?", "help"):
                self.show_help()
            elif cmd == "path":
                self.show_path()
            elif cmd == "map":
                self.write_picture()
            elif cmd == "save":
                self.save(quiet=False)
            elif cmd in ("quit", "exit"):
                raise Quit()
            elif cmd == "back":
                raise Back()
            elif vote and (cmd == "tally" or (cmd == "t" and "t" not in choices)):
                raise SwitchMode("tally")
            elif vote and (cmd == "members" or (cmd == "m" and "m" not in choices)):
                raise SwitchMode("members")
            else:
                return line

    @property
    def q(self) -> Question | None:
        if self.pos is None:
            return None
        return Question.of(self.pos.node, self.walk.frame.dm.model.defaults)

    # ------------------------------------------------------------ showing

    def show_passed(self, steps: list[Step]) -> None:
        """What the walk went through without a vote: read-outs and hand-offs."""
        for s in steps:
            if s.kind == "info":
                self.t.say()
                self.t.say(Text.assemble(safe("Read out: ", "bold"), safe(s.explanation.strip())))
            elif s.kind == "handoff":
                self.t.say()
                self.t.say(safe(s.explanation, "italic"))

    def show_position(self) -> None:
        pos = self.pos
        node = pos.node
        defaults = self.walk.frame.dm.model.defaults
        left = "this is the last question" if pos.remaining <= 1 else \
            f"at most {pos.remaining} questions left"
        self.t.say()
        self.t.rule(f"Step {pos.step} · {left}")
        if pos.depth:
            self.t.say(f"In the map: {pos.map_title}", "italic")
        if pos.visit > 1:
            self.t.say(f"(This question comes round again: time {pos.visit}.)", "dim")
        self.t.say(safe(" ".join(node.ask.split()), "bold"))
        if isinstance(node, ChoiceQuestion):
            width = len(str(len(node.choices)))
            for i, value in enumerate(node.choices, 1):
                label = node.choice_label(value)
                line = Text.assemble(safe(f"  {i:>{width}}  "), safe(label, "bold"))
                if label != value:
                    line.append(safe(f"  ({value})", "dim"))
                self.t.say(line)
        self.t.say(Text.assemble(safe("Rule: ", "bold"), safe(rule_in_words(node, defaults))))
        tallying = self._tally_ok() and self.mode == "tally"
        how = "by quick tally" if tallying else "member by member"
        other = "m member by member" if tallying else (
            "t quick tally" if self._tally_ok() else "")
        if isinstance(node, ChoiceQuestion):
            tail = f" · {other}" if other else ""
            self.t.say(f"Voting {how}.  {COMMANDS_LINE}{tail}", "dim")
        else:
            self.t.say(COMMANDS_LINE, "dim")

    def show_help(self) -> None:
        pos = self.pos
        if pos is not None:
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
            q = self.q
            self.t.say(f"To vote: {member_hint(q)}; - marks someone not taking part.")
            example = tally_example(q, len(self.walk.group))
            if self._tally_ok() and self.mode == "tally":
                self.t.say(f"Quick tally: counts like {example}; m votes member by member.")
            elif self._tally_ok():
                self.t.say(f"Quick tally: type t, then counts like {example}.")
        self.t.say("Commands at any prompt: ? this help · back undo the last step · "
                   "path the steps so far · map write a picture of the path · save · quit "
                   "(saved; resume later)")

    def show_path(self) -> None:
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
            where = s.node if s.depth == 0 else f"{s.map_id}/{s.node}"
            self.t.say(Text.assemble(safe(f"  {n:>2}. "), safe(where, "cyan"),
                                     safe(f": {s.decision.explanation}")))

    def picture_path(self) -> Path:
        return self.path.with_name(self.path.stem + "-path.svg")

    def write_picture(self) -> Path | None:
        target = self.picture_path()
        try:
            from decision_map_render.draw import write
        except ImportError as e:
            self.t.say(f"Cannot draw pictures here ({e}).", "yellow")
            return None
        from ..errors import DecisionMapError

        try:
            write(self.walk.dm, self.walk.trace, target)
        except (DecisionMapError, OSError) as e:
            self.t.say(f"Could not write the picture: {e}", "yellow")
            return None
        self.t.say(f"Picture of the path so far: {target}")
        return target

    def report_path(self) -> Path:
        return self.path.with_name(self.path.stem + "-report.html")

    def write_report(self, target: Path) -> Path | None:
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

    def show_decision(self, d: Decision) -> None:
        style = "bold green" if d.status == "decided" else "bold yellow"
        self.t.say()
        self.t.say(safe(d.explanation, style))
        if d.tally and d.rule != "text":
            parts = [f"{k} {v}" for k, v in d.tally.items()]
            self.t.say(f"Tally: {' · '.join(parts)}", "dim")
        if d.texts:
            for member, words in d.texts:
                who = f"{member}: " if member else ""
                self.t.say(f"  {who}{words}")

    # ------------------------------------------------------------ voting

    def _tally_ok(self) -> bool:
        q = self.q
        return (q is not None and isinstance(q.node, ChoiceQuestion)
                and q.rule not in ("approval", "ranked"))

    def collect(self) -> list[Ballot]:
        while True:
            try:
                if self.mode == "tally" and self._tally_ok():
                    return self.collect_tally()
                return self.collect_members()
            except SwitchMode as sw:
                if sw.mode == "tally" and not self._tally_ok():
                    self.t.say("A quick tally does not fit this question; member by member.",
                               "yellow")
                    continue
                self.mode = sw.mode
                self.t.say("Quick tally." if sw.mode == "tally" else "Member by member.",
                           "dim")

    def _reason(self, who: str, word: str) -> str | None:
        line = self.read(f"    {who}, the reason for the {word} (Enter: none given): ")
        return line.strip() or None

    def collect_members(self) -> list[Ballot]:
        q = self.q
        node = q.node
        if isinstance(node, TextQuestion) and node.text == "one":
            while True:
                line = self.read("  The group's sentence (a: none): ", vote=True)
                try:
                    mv = parse_member_vote(q, line)
                except VoteInputError as e:
                    self.t.say(f"  {e}", "yellow")
                    continue
                return [] if mv.value == ABSTAIN else [Ballot(None, mv.value)]
        hint = member_hint(q)
        ballots: list[Ballot] = []
        width = max(len(n) for n in self.walk.group)
        for name in self.walk.group:
            while True:
                line = self.read(f"  {name:<{width}} [{hint}]: ", vote=True)
                if line.strip() == "-":
                    mv = None
                    break
                try:
                    mv = parse_member_vote(q, line)
                except VoteInputError as e:
                    self.t.say(f"  {e}", "yellow")
                    continue
                break
            if mv is None:
                continue
            ballots.append(self._ballot(name, mv))
        return ballots

    def _ballot(self, name: str, mv: MemberVote) -> Ballot:
        reason = None
        if mv.needs_reason:
            reason = self._reason(name, REASON_WORD.get(str(mv.value), "block"))
        return Ballot(name, mv.value, reason)

    def collect_tally(self) -> list[Ballot]:
        q = self.q
        example = tally_example(q, len(self.walk.group))
        while True:
            line = self.read(f"  Tally (like: {example}): ", vote=True)
            try:
                pairs = parse_tally(q, line, len(self.walk.group))
            except VoteInputError as e:
                self.t.say(f"  {e}", "yellow")
                continue
            break
        ballots: list[Ballot] = []
        for value, n in pairs:
            for i in range(n):
                reason = None
                if tally_needs_reason(q, value):
                    word = REASON_WORD.get(value, "block")
                    which = f"{word} {i + 1} of {n}" if n > 1 else word
                    line = self.read(f"    The reason for {which} (Enter: none given): ")
                    reason = line.strip() or None
                ballots.append(Ballot(None, value, reason))
        return ballots

    def confirm(self) -> bool:
        while True:
            line = self.read("  Enter or y: accept and go on · r: vote again: ")
            ans = line.strip().lower()
            if ans in ("", "y", "yes", "ok"):
                return True
            if ans in ("r", "revote", "re-vote", "n", "no"):
                return False
            self.t.say("  Press Enter (or y) to accept, or r to vote again.", "yellow")

    # ------------------------------------------------------------ the loop

    def run(self, fresh: bool) -> int:
        from ..errors import WalkError

        if fresh:
            self.show_passed(self.walk.trace.steps)
        while True:
            self.pos = self.walk.current()
            if self.pos is None:
                try:
                    return self.finish()
                except Back:
                    self.go_back()
                    continue
            self.show_position()
            try:
                while True:
                    ballots = self.collect()
                    try:
                        decision = self.walk.preview(ballots)
                    except WalkError as e:
                        self.t.say(f"  {e}", "yellow")
                        continue
                    self.show_decision(decision)
                    if self.confirm():
                        break
                    self.t.say("Vote again.", "dim")
                before = len(self.walk.trace.steps)
                self.walk.submit(ballots)
                saved = self.save()
                self.t.say("Recorded." + (" Saved." if saved else ""), "dim")
                self.show_passed(self.walk.trace.steps[before + 1:])
            except Back:
                self.go_back()

    def go_back(self) -> None:
        if self.walk.back():
            self.save()
            self.t.say("Back one step: the last decision is undone.", "bold")
        else:
            self.t.say("Nothing to undo yet: this is the first question.", "yellow")

    def finish(self) -> int:
        trace = self.walk.trace
        self.save()
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
            if trace.next_steps:
                self.t.say()
                self.t.say("Next steps:", "bold")
                for s in trace.next_steps:
                    self.t.item(s)
        else:
            self.t.rule("Stopped")
            self.t.say(safe(trace.stopped or "The walk ended.", "bold yellow"))
        self.t.say()
        self.t.say(f"The session is saved: {self.path}", "dim")
        target = self.picture_path()
        report = self.report_path() if _has_report() else None
        what = (f"the report ({report.name}) and the picture ({target.name})" if report
                else f"a picture of the path ({target.name})")
        while True:
            ans = self.read(f"Write {what}? [Y/n] (back: undo the last step): ").strip().lower()
            if ans in ("", "y", "yes"):
                if report:
                    self.write_report(report)
                self.write_picture()
                break
            if ans in ("n", "no"):
                break
            self.t.say("  Press Enter (or y) for yes, n for no.", "yellow")
        self.t.say("Done. Thank you all.")
        return 0


def _has_report() -> bool:
    try:
        from decision_map_render.report import report_html  # noqa: F401
    except ImportError:
        return False
    return True
