"""`decision-map step`: a group steps through a map at a meeting, question by question.

This module starts or resumes the session (group, session file, lock; what resuming
means, replay of a changed map included, is `decision_map.walk.session.resume`) and
hands over to the stepping loop in stepper.py; terminal.py does the input/output.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from .main import app, fail, map_arg
from .output import error, safe
from .terminal import Quit, Signalled, Terminal

MAX_GROUP_FILE_BYTES = 1024 * 1024  # --group-file: names, one a line (docs/safety.md)

# ---------------------------------------------------------------- the command


def _on_signal(signum: int, frame: object) -> None:
    raise Signalled(signum)


@app.command("step")
def step_cmd(
    map_file: Optional[Path] = typer.Argument(
        None, metavar="MAP", help="The map to walk (optional with --resume)."),
    group: Optional[str] = typer.Option(
        None, "--group", help='The members, separated by commas: "Ana, Ben, Cy".'),
    group_file: Optional[Path] = typer.Option(
        None, "--group-file", help="A file with one member's name per line."),
    session_file: Optional[Path] = typer.Option(
        None, "--session", help="Where to keep the session (default: the user data folder)."),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Continue the session in this file."),
    tally: bool = typer.Option(
        False, "--tally", help="Start with quick tallies instead of member by member."),
    allow_outside: bool = typer.Option(
        False, "--allow-outside", help="Let hand-offs reach outside the map's folder."),
    projector: bool = typer.Option(
        False, "--projector", help="A clean screen for each question: the question, the "
        "rule and the count, large; the votes so far stay in `path`."),
    timer: bool = typer.Option(
        False, "--timer", help="Count down each read-out's minutes (its `time`) on a live "
        "line; Enter ends the countdown early."),
) -> None:
    """Step a group through a map, question by question, voting as you go."""
    from ..errors import WalkError
    from ..io.loader import LoadOptions, load_map
    from ..io.session import (
        Session,
        SessionError,
        SessionFormatError,
        SessionLock,
        load,
        load_backup,
        new_session_path,
    )
    from ..walk.session import resume as resume_session
    from .stepper import Stepper  # loads the map format: not for `--help`

    term = Terminal()
    options = LoadOptions(allow_outside=allow_outside)
    if resume is not None:
        if session_file is not None:
            raise fail("give --resume FILE or --session FILE, not both", 2)
        path = resume
        lock = _lock(SessionLock, path)
        try:
            session = load(path)
        except SessionFormatError as e:
            raise fail(str(e)) from None
        except SessionError as e:
            session = _offer_backup(term, path, e, load_backup(path))
        try:
            got = resume_session(session, str(path),
                                 map_arg(map_file) if map_file else None, options)
        except SessionError as e:
            raise fail(str(e)) from None
        r = got.replay
        if group or group_file:  # members who join or leave at a later meeting
            if r.walk.finished:
                term.say("(The walk has ended; --group changes nothing now.)", "dim")
            else:
                try:
                    joined, left = r.walk.regroup(_group(term, group, group_file))
                except WalkError as e:
                    raise fail(str(e)) from None
                if joined or left:
                    term.say(_regrouped(joined, left), "bold")
        term.say(Text.assemble(safe(got.dm.model.title, "bold"),
                               safe(f"  ·  {', '.join(r.walk.group)}")))
        term.say(f"Session file: {path}")
        if got.changed:
            term.say(f"The map has changed since this session was saved "
                     f"(version {got.saved_version} then, {got.dm.version} now).",
                     "bold yellow")
        if r.problem:
            term.say(f"Kept the first {r.kept} of {r.total} saved steps. The replay stops "
                     f"here: {r.problem}.", "bold yellow")
            term.say("The group goes on from that question; the steps after it are kept "
                     "in the session file under \"set_aside\".", "yellow")
        elif got.changed:
            term.say(f"All {r.total} saved steps still fit.", "yellow")
        else:
            term.say(f"Resuming after {r.kept} step{'s' if r.kept != 1 else ''}.")
        if session.paused is not None:
            p = session.paused
            term.say(safe(f"Paused at the last meeting{_when(p.get('at', ''))}, before "
                          f"{p.get('before') or 'a hand-off'}.", "bold"))
            if p.get("note"):
                term.say(Text.assemble(safe("The note left for today: ", "bold"),
                                       safe(p["note"])))
        walk = r.walk
        fresh = False
    else:
        if map_file is None:
            raise fail("give a MAP to walk, or --resume FILE", 2)
        dm = load_map(map_arg(map_file), options)
        names = _group(term, group, group_file)
        from ..walk.engine import Walk

        try:
            walk = Walk(dm, names, keep_text_error=True)
        except WalkError as e:
            raise fail(str(e)) from None
        if session_file is not None:
            path = session_file
            if path.exists():
                raise fail(f"{path}: a session is already there; continue it with "
                           f"--resume {path}, or choose another file")
        else:
            path = new_session_path(dm.id)
        lock = _lock(SessionLock, path)
        session = Session.start(dm, names)
        fresh = True
        term.say(Text.assemble(safe(dm.model.title, "bold"),
                               safe(f"  ·  {len(names)} members: {', '.join(names)}")))
        term.say(f"Session file: {path}")
        term.say("Everything is saved after each step. ? shows help at any prompt.", "dim")
    if tally:
        session.mode = "tally"
    stepper = Stepper(term, walk, session, path, lock, projector, timer)
    if not stepper.save():
        lock.release()
        raise fail(f"{path}: cannot write the session file here; choose another with "
                   "--session FILE")
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGHUP, signal.SIGTERM)}
    try:
        code = stepper.run(fresh)
    except (Quit, EOFError) as e:
        problem = stepper.leave()
        term.say()
        if problem:
            term.say(f"NOT SAVED: {problem}.", "bold red")
        elif isinstance(e, Quit):
            term.say(e.why or "Stopped for now. Everything so far is saved.")
        else:
            term.say("End of input: stopped for now. Everything so far is saved.")
        term.say(f"Resume with: {stepper.resume_hint()}")
        code = 1 if problem else 0
    except (KeyboardInterrupt, Signalled) as e:
        for s, h in old.items():
            signal.signal(s, h)
        problem = stepper.leave()
        sys.stdout.write("\n")
        sys.stdout.flush()
        said = f"NOT SAVED: {problem}." if problem else "Everything so far is saved."
        typer.echo(f"Interrupted. {said} Resume with: {stepper.resume_hint()}", err=True)
        code = 128 + e.signum if isinstance(e, Signalled) else 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if stepper.lock is not None:
            stepper.lock.release()
    if stepper.walk.text_error:  # shown in the outcome; the map needs mending: not 0
        error(stepper.walk.text_error)
        code = code or 1
    raise typer.Exit(code)


def _when(stamp: str) -> str:
    """ " (30 Nov 2026, 16:39 UTC)" from a saved ISO time; nothing when it does not read."""
    from datetime import datetime

    try:
        return f" ({datetime.fromisoformat(stamp).strftime('%d %b %Y, %H:%M %Z').strip()})"
    except ValueError:
        return ""


def _regrouped(joined: list[str], left: list[str]) -> str:
    """ "Joined: Eli. Left: Cy. Counted from this question on." """
    parts = ([f"Joined: {', '.join(joined)}."] if joined else []) + (
        [f"Left: {', '.join(left)}."] if left else [])
    return " ".join(parts + ["The group is counted so from this question on."])


def _lock(lock_cls, path: Path):
    from ..io.session import SessionLocked

    try:
        return lock_cls(path).acquire()
    except SessionLocked as e:
        raise fail(str(e)) from None
    except OSError as e:
        raise fail(f"{path}: cannot lock the session ({e.strerror or e})") from None


def _offer_backup(term: Terminal, path: Path, err: Exception, bak):
    """Offer the good backup of a broken or missing session file, and restore it."""
    missing = not path.exists()
    if bak is None or not missing:
        error(err)
    if bak is None:
        raise typer.Exit(1)
    n = len(bak.submissions)
    if missing:
        term.say(f"{path} is not there, but its backup {path}.bak is (the program stopped "
                 "while saving?).")
    term.say(f"The backup {path}.bak is good: {n} step{'s' if n != 1 else ''}, saved "
             f"{bak.updated}.")
    kept = "" if missing else f" The broken file is kept as {path.name}.broken."
    try:
        ans = term.ask(f"Continue from the backup?{kept} [y/N] ").strip().lower()
    except (EOFError, KeyboardInterrupt):
        ans = ""
    if ans not in ("y", "yes"):
        term.say(f"Nothing changed. To use the backup later: decision-map step --resume {path}"
                 " and answer y.")
        raise typer.Exit(1)
    from ..io.atomic import write_atomic

    try:
        if missing:
            write_atomic(str(path), Path(str(path) + ".bak").read_bytes(), private=True)
        else:
            os.replace(path, str(path) + ".broken")
    except OSError as e:
        raise fail(f"{path}: cannot restore the backup ({e.strerror or e})") from None
    term.say(f"Restored {path} from its backup." if missing else "Continuing from the backup.")
    return bak


def _group(term: Terminal, group: Optional[str], group_file: Optional[Path]) -> list[str]:
    from .prompting import VoteInputError, parse_group

    if group and group_file:
        raise fail("give --group or --group-file, not both", 2)
    if group_file is not None:
        from ..errors import MapError
        from ..io.yaml_source import read_text

        try:  # bounded: --group-file /dev/zero is refused, not read for ever
            text = read_text(str(group_file), MAX_GROUP_FILE_BYTES,
                             hint="a group file has one name a line")
        except MapError as e:
            raise fail(f"{group_file}: {e.diagnostic.message}") from None
        lines = [ln.strip() for ln in text.splitlines()
                 if ln.strip() and not ln.strip().startswith("#")]
        try:
            return parse_group("\n".join(lines))
        except VoteInputError as e:
            raise fail(f"{group_file}: {e}") from None
    if group is not None:
        try:
            return parse_group(group)
        except VoteInputError as e:
            raise fail(f"--group: {e}", 2) from None
    while True:
        try:
            line = term.ask("Who is here? Names separated by commas: ")
        except EOFError:
            raise fail("no group given (use --group \"Ana, Ben, Cy\")") from None
        try:
            return parse_group(line)
        except VoteInputError as e:
            term.say(f"  {e}", "yellow")
