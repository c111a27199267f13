"""Located diagnostics: every problem has a code, a severity, a place and a hint.

As in Yarn Spinner, the code is stable (tests and editors rely on it) and the message
says what is wrong where; the hint says how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Where:
    """A place in a file: 1-based line and column (0 when there is none)."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    where: Where
    hint: str | None = None

    def line(self) -> str:
        """The one line a user sees."""
        tail = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.where}: {self.severity} {self.code}: {self.message}{tail}"

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["file"], d["line"], d["col"] = self.where.file, self.where.line, self.where.col
        del d["where"]
        return d


class DecisionMapError(Exception):
    """Base of every error the project raises on purpose; the CLI prints `str(e)`."""

    exit_code = 1


class MapError(DecisionMapError):
    """A map that cannot be loaded, with the first diagnostic that stopped it."""

    def __init__(
        self, code: str, message: str, where: Where, hint: str | None = None,
        diagnostics: list[Diagnostic] | None = None,
    ) -> None:
        self.diagnostic = Diagnostic(code, "error", message, where, hint)
        self.diagnostics = diagnostics or [self.diagnostic]
        super().__init__(self.diagnostic.line())


class InputError(DecisionMapError):
    """Bad answers, responses, sessions or arguments: one line saying where and what."""

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class WalkError(DecisionMapError):
    """A walk that cannot go on (a vote that does not fit the question, say)."""
