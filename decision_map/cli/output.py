"""Printing for the command line: text from a map is untrusted, so control characters are
stripped before it reaches a terminal, and Rich markup in it is never interpreted.

`clean` is the one function that does it, for normal output and for every error line
(`error` prints those): a member's name, a choice value, a file path or Python's own
words inside a message reach the terminal as plain text.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typer and rich load when something is printed through them, so the
    # console script's door (cli/entry.py) can `clean` a line without importing either
    from rich.console import Console
    from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object, one_line: bool = False) -> str:
    """Drop escape sequences and other control characters (newlines and tabs stay, or
    with `one_line` become spaces, so an error is one line however it was spelled)."""
    out = _CONTROL.sub("", str(text))
    return " ".join(out.split()) if one_line else out


def error(message: object) -> None:
    """One cleaned line on stderr, `decision-map: ...`: every error and warning goes
    through here."""
    import typer

    typer.echo(f"decision-map: {clean(message, one_line=True)}", err=True)


def safe(text: object, style: str = "") -> Text:
    """Author text as a Rich Text: no markup, no control characters."""
    from rich.text import Text

    return Text(clean(text), style=style)


def console(stderr: bool = False) -> Console:
    """A console that is plain when not on a terminal or when NO_COLOR is set."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    plain = not stream.isatty() or "NO_COLOR" in os.environ
    return Console(file=stream, no_color=plain, highlight=False, emoji=False,
                   force_terminal=None if not plain else False, soft_wrap=plain)
