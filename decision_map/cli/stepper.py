"""The stepping loop: show where the group is, collect its votes, confirm, move the walk
on, and save the session after every step; the commands at any prompt are handled here.

What it shows is step_view.py, how it collects votes is vote_collector.py, what a typed line
means is prompting.py (pure, unit-tested); the walk is walk.engine.Walk and the session file
io/session.py.
"""

from __future__ import annotations

from pathlib import Path

from .prompting import Question
from .step_view import StepView, has_report
from .terminal import Back, Quit, SwitchMode, Terminal
from .vote_collector import VoteCollector

# ---------------------------------------------------------------- the stepping loop


class Stepper:
    """One group's walk at the terminal: the loop, the commands, the session file."""

    def __init__(self, term: Terminal, walk, session, path: Path) -> None:
        self.t = term
        self.walk = walk
        self.session = session
        self.path = path
        self.pos = None
        self.view = StepView(term, walk)
        self.votes = VoteCollector(term, self.read, walk.group, session.mode)

    @property
    def mode(self) -> str:
        """Member by member or tally: kept by the collector, saved with the session."""
        return self.votes.mode

    # ------------------------------------------------------------ saving

    def save(self, quiet: bool = True) -> bool:
        """Save the session; a failed save is said, and the walk goes on."""
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
                self.view.help(self.pos, self.q, self.mode == "tally")
            elif cmd == "path":
                self.view.path()
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
        """The question in front of the group, as the prompts read it."""
        if self.pos is None:
            return None
        return Question.of(self.pos.node, self.walk.frame.dm.model.defaults)

    # ------------------------------------------------------------ files next to the session

    def picture_path(self) -> Path:
        return self.path.with_name(self.path.stem + "-path.svg")

    def write_picture(self) -> Path | None:
        return self.view.write_picture(self.picture_path())

    def report_path(self) -> Path:
        return self.path.with_name(self.path.stem + "-report.html")

    # ------------------------------------------------------------ the loop

    def run(self, fresh: bool) -> int:
        from ..errors import WalkError
        from ..templating import TemplateError

        if fresh:
            self.view.passed(self.walk.trace.steps)
        while True:
            self.pos = self.walk.current()
            if self.pos is None:
                try:
                    return self.finish()
                except Back:
                    self.go_back()
                    continue
            q = self.q
            assert q is not None
            self.view.position(self.pos, q, self.mode == "tally")
            try:
                while True:
                    ballots = self.votes.collect(q)
                    try:
                        decision = self.walk.preview(ballots)
                    except WalkError as e:
                        self.t.say(f"  {e}", "yellow")
                        continue
                    self.view.decision(decision)
                    if self.votes.confirm():
                        break
                    self.t.say("Vote again.", "dim")
                before = len(self.walk.trace.steps)
                try:
                    self.walk.submit(ballots)
                except TemplateError:
                    self.save()  # the vote is kept: mend the text (or raise its limit), resume
                    raise
                saved = self.save()
                self.t.say("Recorded." + (" Saved." if saved else ""), "dim")
                self.view.passed(self.walk.trace.steps[before + 1:])
            except Back:
                self.go_back()

    def go_back(self) -> None:
        if self.walk.back():
            self.save()
            self.t.say("Back one step: the last decision is undone.", "bold")
        else:
            self.t.say("Nothing to undo yet: this is the first question.", "yellow")

    def finish(self) -> int:
        self.save()
        self.view.outcome(self.path)
        target = self.picture_path()
        report = self.report_path() if has_report() else None
        what = (f"the report ({report.name}) and the picture ({target.name})" if report
                else f"a picture of the path ({target.name})")
        while True:
            ans = self.read(f"Write {what}? [Y/n] (back: undo the last step): ").strip().lower()
            if ans in ("", "y", "yes"):
                if report:
                    self.view.write_report(report)
                self.write_picture()
                break
            if ans in ("n", "no"):
                break
            self.t.say("  Press Enter (or y) for yes, n for no.", "yellow")
        self.t.say("Done. Thank you all.")
        return 0

