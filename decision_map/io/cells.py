"""How one cell of a form export becomes a ballot: one function of (question, cell text).

The question's type is known before the cell is read, so a choice named `block-the-road`
is that choice, the text answer `500` is text, and the choices `007` or `1.0` can be
voted. Choices match in any case and in any Unicode normal form (`Yes` is the choice
`yes`; `café` written with a combining accent is `café`): the format already forbids
choices that differ only in case. Numbers are left as written for the rules to read
(exactly, as they read answers files).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..model.decision import Ballot
from ..model.format import ChoiceQuestion, Defaults, NumberQuestion, TextQuestion
from ..rules.params import effective_rule
from ..rules.table import RULES

_BLOCK = re.compile(r"^\s*(block|object)\s*[:\-]\s*(.+)$", re.IGNORECASE | re.DOTALL)


def fold(text: str) -> str:
    """A choice's or a cell's matching key: NFC-normalised, case-folded, trimmed."""
    return unicodedata.normalize("NFC", text).casefold().strip()


class CellRule:
    """What one question makes of a cell, worked out once per question."""

    __slots__ = ("kind", "choices")

    def __init__(self, question: Any, defaults: Defaults) -> None:
        self.choices: dict[str, str] = {}
        if isinstance(question, TextQuestion):
            self.kind = "text"
        elif isinstance(question, NumberQuestion):
            self.kind = "number"
        else:
            assert isinstance(question, ChoiceQuestion)
            fingers = RULES[effective_rule(question, defaults)].ballot == "fingers"
            self.kind = "fingers" if fingers else "choice"
            self.choices = {fold(str(c)): str(c) for c in question.choices}

    def value(self, text: str) -> tuple[Any, str | None]:
        """The ballot's value and reason for one cell (the rules refuse what does not fit,
        naming the member)."""
        raw = text.strip()
        if self.kind == "text":
            return raw, None
        if self.choices:
            choice = self.choices.get(fold(raw))
            if choice is not None:
                return choice, None
        m = _BLOCK.match(raw)
        if m:
            return m.group(1).lower(), m.group(2).strip()
        if self.kind == "fingers":
            try:
                num = float(raw)
            except ValueError:
                return raw, None
            return (int(num) if num.is_integer() else num), None
        return raw, None


def cell_rule(question: Any, defaults: Defaults) -> CellRule:
    """The cell rule of one question under its map's defaults."""
    return CellRule(question, defaults)


def ballot_from_cell(member: str, raw: str, question: Any, defaults: Defaults) -> Ballot:
    """A member's ballot from one responses cell at `question`."""
    value, reason = CellRule(question, defaults).value(raw)
    return Ballot(member, value, reason)
