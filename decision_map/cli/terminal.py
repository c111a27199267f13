"""The stepper's terminal: lines in and text out (prompt_toolkit on a terminal, plain
echoed lines on a pipe), and the signals the loop passes between its parts."""

from __future__ import annotations

import sys

from rich.text import Text

from .output import clean, console, safe


class Quit(Exception):
    """The group stops for now (quit, end of input)."""

    def __init__(self, why: str = "") -> None:
        super().__init__(why)
        self.why = why


class Back(Exception):
    """Undo the last step."""


class SwitchMode(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


class Signalled(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# ---------------------------------------------------------------- terminal


class Terminal:
    """Lines in, text out: prompt_toolkit on a terminal, plain lines on a pipe."""

    def __init__(self) -> None:
        self.con = console()
        self.interactive = sys.stdin.isatty() and sys.stdout.isatty()
        self._session = None
        self._sessions: dict[str, object] = {}  # each member's own history
        if self.interactive:
            from prompt_toolkit import PromptSession

            self._session = PromptSession()

    def _session_for(self, history: str | None):
        """The prompt session whose history is `history`'s own (made on first use)."""
        if history is None:
            return self._session
        got = self._sessions.get(history)
        if got is None:
            from prompt_toolkit import PromptSession

            got = self._sessions[history] = PromptSession()
        return got

    def say(self, text: object = "", style: str = "") -> None:
        rich = isinstance(text, Text) or hasattr(text, "__rich_console__")  # Panel, ...
        self.con.print(text if rich else safe(text, style))

    def item(self, text: str) -> None:
        """A bullet with a hanging indent on a terminal (one long line on a pipe)."""
        if self.interactive:
            import textwrap

            text = textwrap.fill(clean(text), width=max(self.con.width, 40),
                                 initial_indent="  - ", subsequent_indent="    ")
            self.con.print(safe(text))
        else:
            self.con.print(safe(f"  - {text}"))

    def clear(self) -> None:
        """A clean screen (on a terminal, NO_COLOR or not: clearing is not colour; a pipe
        keeps its lines)."""
        if self.interactive:
            sys.stdout.write("\x1b[2J\x1b[H")
            sys.stdout.flush()

    def rule(self, title: str) -> None:
        if self.interactive:
            self.con.rule(safe(title, "bold"), style="dim")
        else:
            self.con.print(safe(f"-- {title} --"))

    def ask(self, prompt: str, history: str | None = None, default: str = "") -> str:
        """One line; EOFError at the end of input. On a terminal, `history` names whose
        up-arrow history the line joins (each member keeps their own; None: the shared
        one) and `default` is put in the line to edit or accept with Enter."""
        prompt = clean(prompt)
        if self._session is not None:
            return self._session_for(history).prompt(prompt, default=clean(default))
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stdout.write("\n")
            raise EOFError
        line = line.rstrip("\r\n")
        sys.stdout.write(clean(line) + "\n")  # echo, so a scripted run reads like a dialogue
        sys.stdout.flush()
        return line

    def countdown(self, seconds: int, label: str) -> bool:
        """A live countdown line of `seconds` (bounded by the caller: a step's `time`);
        True when Enter ended it early, False when the time ran out. On a pipe there is
        no live line: it says the time once and returns at once."""
        import math
        import os
        import select
        import time

        if not self.interactive:
            self.con.print(safe(f"  {label}: {clock(seconds)} (the countdown shows on a "
                                "terminal)"))
            return False
        fd = sys.stdin.fileno()
        end = time.monotonic() + seconds
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    sys.stdout.write(f"\r\x1b[2K  {clean(label)}: time is up\n")
                    return False
                sys.stdout.write(f"\r\x1b[2K  {clean(label)}: {clock(math.ceil(left))} left"
                                 " · Enter ends it early")
                sys.stdout.flush()
                ready, _, _ = select.select([fd], [], [], min(1.0, left))
                if ready:
                    data = os.read(fd, 1024)
                    if not data:
                        raise EOFError
                    if b"\n" in data or b"\r" in data:  # the echoed Enter moved a line down
                        left = max(0, math.ceil(end - time.monotonic()))
                        sys.stdout.write(f"\x1b[1A\r\x1b[2K  {clean(label)}: ended early, "
                                         f"{clock(left)} before time\n")
                        return True
        finally:
            sys.stdout.flush()


def clock(seconds: int) -> str:
    """Seconds as a countdown reads them: `19:59`, or `1:05:00` past an hour."""
    h, rest = divmod(max(0, int(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
