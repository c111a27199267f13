"""The stepping loop: show where the group is, collect its votes, confirm, move the walk
on, and save the session after every step; the commands at any prompt are handled here.

What it shows is step_view.py, how it collects votes is vote_collector.py, what a typed line
means is prompting.py (pure, unit-tested); the walk is walk.engine.Walk and the session file
io/session.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..model.vocabulary import AS_TYPED, MODE_KEYS
from .prompting import Question
from .step_view import StepView, has_report
from .terminal import Back, Quit, SwitchMode, Terminal
from .vote_collector import VoteCollector

# ---------------------------------------------------------------- the stepping loop


class Stepper:
    """One group's walk at the terminal: the loop, the commands, the session file."""

    def __init__(self, term: Terminal, walk, session, path: Path, lock=None,
                 projector: bool = False) -> None:
        self.t = term
        self.walk = walk
        self.session = session
        self.path = path
        self.lock = lock  # the SessionLock on `path`; moves with `save FILE.json`
        self.unsaved: str | None = None  # why the last save failed; None when saved
        self._warned_quit = False
        self.pos = None
        self.view = StepView(term, walk, projector)
        self.votes = VoteCollector(term, self.read, walk.group, session.mode)

    @property
    def mode(self) -> str:
        """Member by member or tally: kept by the collector, saved with the session."""
        return self.votes.mode

    # ------------------------------------------------------------ saving

    def save(self, quiet: bool = True, pending=None) -> bool:
        """Save the session, with `pending` (the group's ballots at the current question,
        not yet submitted) as its last step. A failed save is said at once and loudly;
        the votes stay in memory and the walk goes on."""
        from ..io.session import save
        from ..model.submission import Submission

        self.session.update_from(self.walk, self.mode)
        if pending is not None and self.pos is not None:
            p = self.pos
            self.session.submissions.append(
                Submission(p.map_id, p.node_id, tuple(pending), p.scope))
        try:
            save(self.session, self.path)
        except OSError as e:
            self.unsaved = e.strerror or str(e)
            self.t.say(f"NOT SAVED: cannot write {self.path} ({self.unsaved}). The votes "
                       "are kept here and the walk goes on; type save to try again, or "
                       "save FILE.json to save somewhere else.", "bold red")
            return False
        self.unsaved = None
        self._warned_quit = False
        if not quiet:
            self.t.say(f"Saved to {self.path}.", "dim")
        return True

    def save_as(self, target: Path) -> bool:
        """Save the session to `target` from now on (a new file, locked like the first);
        the old file is left as it was."""
        from ..io.session import SessionError, SessionLock

        target = Path(os.path.expanduser(str(target)))
        if target.resolve() == self.path.resolve():
            return self.save(quiet=False)
        if target.exists():
            self.t.say(f"  {target} is already there; give a new file name.", "yellow")
            return False
        try:
            lock = SessionLock(target).acquire()
        except (SessionError, OSError) as e:
            self.t.say(f"NOT SAVED: cannot use {target} ({getattr(e, 'strerror', None) or e})."
                       " Try another place.", "bold red")
            return False
        old_path, old_lock = self.path, self.lock
        self.path, self.lock = target, lock
        if not self.save(quiet=False):
            self.path, self.lock = old_path, old_lock
            lock.release()
            return False
        if old_lock is not None:
            old_lock.release()
        return True

    def leave(self) -> str | None:
        """The last save before the program ends: None when everything is saved at
        `path`, else what went wrong (after trying a rescue copy elsewhere)."""
        if self.save():
            return None
        why = f"cannot write {self.path} ({self.unsaved})"
        for folder in self._rescue_folders():
            from ..io.session import new_session_path

            try:
                target = new_session_path(self.session.map_id, folder)
            except OSError:
                continue
            if self.save_as(target):
                return f"{why}; saved instead to {target}"
        return f"{why}; nowhere else could be written either"

    def _rescue_folders(self) -> list[Path]:
        import tempfile

        from ..io.session import default_session_dir

        here = self.path.parent.resolve() if self.path.parent.exists() else self.path.parent
        return [f for f in (default_session_dir(), Path(tempfile.gettempdir()))
                if f != here]

    def resume_hint(self) -> str:
        return f"decision-map step --resume {self.path}"

    # ------------------------------------------------------------ reading

    def read(self, prompt: str, vote: bool = False, who: str | None = None,
             default: str = "") -> str:
        """A line, with the commands handled: ?, path, map, save act and ask again;
        back, quit, t and m raise. A line starting with = is a vote as typed after it.
        `who` keeps a member's own input history; `default` is offered to edit."""
        while True:
            line = self.t.ask(prompt, history=who, default=default)
            if line.lstrip().startswith(AS_TYPED):
                return line.lstrip()[len(AS_TYPED):]
            cmd = line.strip().lower()
            choices = [c.lower() for c in self.q.choices] if (vote and self.q is not None) \
                else []
            target = save_target(line)
            if cmd in ("?", "help"):
                self.view.help(self.pos, self.q, self.mode == "tally")
            elif cmd == "path":
                self.view.path()
            elif cmd == "map":
                self.write_picture()
            elif cmd == "save":
                self.save(quiet=False)
            elif target is not None:
                self.save_as(target)
            elif cmd in ("quit", "exit"):
                if self.unsaved and not self._warned_quit and not self.save():
                    self._warned_quit = True
                    self.t.say("The session is NOT saved. Type save FILE.json to keep it "
                               "somewhere else, or quit again to leave (a copy is then "
                               "tried in another folder).", "bold red")
                    continue
                raise Quit()
            elif cmd == "back":
                raise Back()
            elif vote and (cmd == "tally" or (cmd == MODE_KEYS[0] and cmd not in choices)):
                raise SwitchMode("tally")
            elif vote and (cmd == "members" or (cmd == MODE_KEYS[1] and cmd not in choices)):
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

        if fresh:
            try:
                self.pass_through(self.walk.trace.steps)
            except Back:
                self.go_back()
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
                    try:  # the consequence before the commit
                        leads = self.walk.leads_to(ballots)
                    except WalkError:
                        leads = ""
                    if self.votes.confirm(leads):
                        break
                    self.t.say("Vote again.", "dim")
                before = len(self.walk.trace.steps)
                # the vote is on disk before the walk moves on (and renders any outcome)
                saved = self.save(pending=ballots)
                self.walk.submit(ballots)
                if saved and self.walk.finished:
                    saved = self.save()
                self.t.say("Recorded." + (" Saved." if saved else " NOT SAVED."),
                           "dim" if saved else "bold red")
                self.pass_through(self.walk.trace.steps[before + 1:])
            except Back:
                self.go_back()

    def pass_through(self, steps) -> None:
        """Show what the walk passed without a vote; after each read-out wait for Enter,
        so the next question does not show before the room has done what it says (a
        welcome round, a 20-minute talk). Over a pipe this takes one (empty) line too."""
        for s in steps:
            self.view.passed([s])
            if s.kind == "info":
                self.read("  Enter when the room is ready to go on: ")

    def go_back(self) -> None:
        if self.walk.back():
            self.save()
            self.t.say("Back one step: the last decision is undone.", "bold")
        else:
            self.t.say("Nothing to undo yet: this is the first question.", "yellow")

    def finish(self) -> int:
        """The outcome, the picture and report; 1 when the session could not be saved."""
        self.view.outcome(self.path, saved=self.save())
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
        problem = self.leave()
        if problem:
            self.t.say(f"NOT SAVED: {problem}.", "bold red")
            return 1
        self.t.say("Done. Thank you all.")
        return 0


def save_target(line: str) -> Path | None:
    """The FILE of a typed `save FILE`: one word that ends in .json or holds a /, so that
    a sentence such as "save the whales" stays a vote."""
    parts = line.split()
    if len(parts) != 2 or parts[0].lower() != "save":
        return None
    name = parts[1]
    return Path(name) if name.lower().endswith(".json") or "/" in name else None

