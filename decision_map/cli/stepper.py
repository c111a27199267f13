"""The stepping loop: show where the group is, collect its votes, confirm, move the walk
on, and save the session after every step; the commands at any prompt are handled here.

What it shows is step_view.py, how it collects votes is vote_collector.py, what a typed line
means is prompting.py (pure, unit-tested); the walk is walk.engine.Walk and the session file
io/session.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..model.minutes import MAX_MINUTE_CHARS, Minutes, parse_action
from ..model.vocabulary import AS_TYPED, MODE_KEYS
from .prompting import Question
from .step_view import StepView, has_report
from .terminal import Back, Quit, SwitchMode, Terminal
from .vote_collector import VoteCollector

# ---------------------------------------------------------------- the stepping loop


class Regroup(Exception):
    """Members joined or left while votes were being taken: ask this question again."""


class Stepper:
    """One group's walk at the terminal: the loop, the commands, the session file."""

    def __init__(self, term: Terminal, walk, session, path: Path, lock=None,
                 projector: bool = False, timer: bool = False) -> None:
        self.t = term
        self.walk = walk
        self.session = session
        self.path = path
        self.lock = lock  # the SessionLock on `path`; moves with `save FILE.json`
        self.unsaved: str | None = None  # why the last save failed; None when saved
        self._warned_quit = False
        self.pos = None
        self.view = StepView(term, walk, projector)
        self.view.started = time.monotonic()  # this sitting's clock, for the header
        self.timer = timer  # --timer: a countdown of each read-out's minutes
        self.votes = VoteCollector(term, self.read, walk.group, session.mode)
        self.minutes = Minutes()  # written down at the question in front of the group

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

        self.session.update_from(self.walk, self.mode)
        if pending is not None and self.pos is not None:
            # as the walk will keep it: no name or word the record may not keep
            self.session.submissions.append(self.walk.pending(pending, self.minutes))
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
            elif cmd.split(" ", 1)[0] == "owner" and self.pos is None:
                self.give_owner(line.strip()[5:].strip())
            elif cmd.split(" ", 1)[0] == "revisit":
                if self.go_revisit(line.strip()[7:].strip()):
                    raise Regroup()
            elif cmd.split(" ", 1)[0] in ("join", "leave") and self.pos is not None:
                self.regroup(line.strip())
                if vote:
                    raise Regroup()
            elif cmd.split(" ", 1)[0] in ("note", "action", "amend"):
                self.write_down(line.strip())
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
                if self.secret:
                    self.t.say("  A secret ballot is taken as a tally: no names.", "yellow")
                    continue
                raise SwitchMode("members")
            else:
                return line

    def write_down(self, line: str) -> None:
        """`note TEXT`, `action WHO; BY WHEN; WHAT` or `amend NEW TEXT`: kept with the
        step the group is at, saved with its votes (an amendment is the proposal's next
        version, and the vote applies to it)."""
        cmd, _, rest = line.partition(" ")
        cmd, rest = cmd.lower(), rest.strip()
        if self.pos is None:
            self.t.say("  Notes, actions and amendments go with a question; the walk has "
                       "ended.", "yellow")
            return
        if not rest or len(rest) > MAX_MINUTE_CHARS:
            self.t.say(f"  Type {cmd} and then the text (at most {MAX_MINUTE_CHARS} "
                       "characters).", "yellow")
            return
        m = self.minutes
        if cmd == "note":
            self.minutes = Minutes(m.amendments, (*m.notes, rest), m.actions)
            self.t.say("  Note kept with this step.", "dim")
        elif cmd == "action":
            try:
                action = parse_action(rest)
            except ValueError as e:
                self.t.say(f"  {e}", "yellow")
                return
            self.minutes = Minutes(m.amendments, m.notes, (*m.actions, action))
            self.t.say(f"  Action kept: {action.who}, by {action.by}: {action.what}", "dim")
        else:
            self.minutes = Minutes((*m.amendments, rest), m.notes, m.actions)
            self.view.proposal(self.pos.proposal + self.minutes.amendments)
            self.t.say("  The vote is on this version.", "dim")

    def go_revisit(self, key: str) -> bool:
        """`revisit QUESTION`: back to an earlier question as a new branch; the decisions
        since stay in the record, superseded (unlike `back`, which undoes)."""
        from ..errors import WalkError

        try:
            self.walk.revisit(key)
        except WalkError as e:
            self.t.say(f"  {e}", "yellow")
            return False
        self.minutes = Minutes()
        self.save()
        self.t.say(f"  Back to {key} as a new branch: the decisions since stay in the record, "
                   "marked superseded.", "bold")
        return True

    def regroup(self, line: str) -> None:
        """`join NAME` or `leave NAME`: the group from this question on (the votes at this
        question are asked again, of the new group)."""
        from ..errors import WalkError

        cmd, _, name = line.partition(" ")
        name = name.strip()
        group = list(self.walk.group)
        if cmd.lower() == "join":
            group.append(name)
        elif name in group:
            group.remove(name)
        else:
            self.t.say(f"  {name or 'Nobody'} is not in the group ({', '.join(group)}).",
                       "yellow")
            return
        try:
            joined, left = self.walk.regroup(group)
        except WalkError as e:
            self.t.say(f"  {e}", "yellow")
            return
        self.votes.group = list(self.walk.group)
        self.save()
        who = ", ".join(joined or left)
        self.t.say(f"  {who} {'joined' if joined else 'left'}: the group is now "
                   f"{', '.join(self.walk.group)}, counted from this question on.", "bold")

    def give_owner(self, rest: str) -> None:
        """`owner N WHO; BY WHEN` at the outcome: next step N gets an owner and a date."""
        from ..errors import WalkError

        number, _, who_by = rest.partition(" ")
        who, _, by = who_by.partition(";")
        try:
            if not number.isdigit():
                raise WalkError("type owner N WHO; BY WHEN (e.g. owner 1 Ana; 1 June)")
            self.walk.assign(int(number), who, by)
        except WalkError as e:
            self.t.say(f"  {e}", "yellow")
            return
        self.save()
        self.t.say(f"  Next step {number}: {who.strip()}, by {by.strip()}.", "dim")

    @property
    def secret(self) -> bool:
        """Whether the question in front of the group is a secret ballot."""
        return self.pos is not None and bool(getattr(self.pos.node, "secret", False))

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

        if fresh or self.session.paused is not None:
            # a new walk, or one paused before a hand-off: what it passed since its last
            # vote (the hand-off's entry, its read-outs) is this meeting's to hear
            steps = self.walk.trace.steps
            last = max((i for i, s in enumerate(steps) if s.decision is not None),
                       default=-1)
            try:
                self.pass_through(steps if fresh else steps[last + 1:])
            except Back:
                self.go_back()
            self.session.paused = None  # heard: the pause is over (saved with the next step)
        while True:
            self.pos = self.walk.current()
            if self.pos is None:
                try:
                    return self.finish()
                except Back:
                    self.go_back()
                    continue
                except Regroup:  # a revisit from the outcome: on from that question
                    continue
            q = self.q
            assert q is not None
            mode = self.votes.mode
            if self.secret:  # a tally, whatever the mode; the mode is back after it
                self.votes.mode = "tally"
                self.t.say("Secret ballot: give the counts only; no name is kept with a vote.",
                           "bold")
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
                self.walk.submit(ballots, minutes=self.minutes)
                self.minutes = Minutes()
                if self.secret:
                    self.votes.mode = mode
                if saved and self.walk.finished:
                    saved = self.save()
                self.t.say("Recorded." + (" Saved." if saved else " NOT SAVED."),
                           "dim" if saved else "bold red")
                passed = self.walk.trace.steps[before + 1:]
                entry = next((s for s in passed if s.kind == "handoff"
                              and s.route_kind is None), None)
                if entry is not None and not self.walk.finished:
                    self.offer_break(entry, passed[passed.index(entry) + 1:])
                self.pass_through(passed)
            except Back:
                self.votes.mode = mode
                self.go_back()
            except Regroup:
                self.votes.mode = mode

    def pass_through(self, steps) -> None:
        """Show what the walk passed without a vote; after each read-out wait for Enter,
        so the next question does not show before the room has done what it says (a
        welcome round, a 20-minute talk). Over a pipe this takes one (empty) line too.
        With --timer a read-out that carries a `time` counts its minutes down first;
        Enter ends the countdown early and goes on."""
        for s in steps:
            self.view.passed([s])
            if s.kind != "info":
                continue
            minutes = self.walk.minutes_of(s.scope, s.node) if self.timer else 0
            if minutes and self.t.countdown(minutes * 60, "Timer"):
                continue  # Enter ended it early: the room is ready
            self.read("  Enter when the room is ready to go on: ")

    def offer_break(self, entry, inside) -> None:
        """Before a hand-off's first step: how long it is likely to take, and the offer to
        continue at the next meeting (on a terminal; a scripted run goes on). Taken, it
        pauses the walk with a note in the session and ends the program; `step --resume`
        goes on into the hand-off."""
        from ..model.timing import in_words

        title = entry.explanation
        link = self.walk.dm
        for hop in (*entry.scope, entry.node):
            got = link.handoffs.get(hop) if link is not None else None
            link = got.loaded if got is not None else None
        if link is not None:
            title = f"“{link.model.title}”"
        minutes = self.walk.minutes_of(entry.scope, entry.node)
        # from the question it stands at, and the read-outs passed on the way in
        total = (self.walk.minutes_left() or 0) + sum(
            self.walk.minutes_of(s.scope, s.node) for s in inside if s.kind == "info")
        self.t.say()
        if minutes:
            all_left = f" (about {in_words(total)} left in all)" if total else ""
            self.t.say(f"Next: {title}, likely to take {in_words(minutes)}{all_left}.",
                       "bold")
        else:
            pos = self.walk.current()
            many = f" (at most {pos.remaining} questions left in all)" if pos else ""
            self.t.say(f"Next: {title}{many}.", "bold")
        if not self.t.interactive:
            return
        while True:
            ans = self.read("  Enter: go on now · later: continue at the next meeting: ")
            ans = ans.strip().lower()
            if ans in ("", "y", "yes", "now"):
                return
            if ans in ("later", "l", "next", "next meeting"):
                break
            self.t.say("  Press Enter to go on now, or type later.", "yellow")
        note = self.read("  A note for the next meeting (Enter for none): ").strip()
        from ..io.session import now_iso

        self.session.paused = {"before": title, "note": note[:MAX_MINUTE_CHARS],
                               "at": now_iso()}
        raise Quit(f"Paused before {title}, to continue at the next meeting. "
                   "Everything so far is saved.")

    def go_back(self) -> None:
        self.minutes = Minutes()
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

