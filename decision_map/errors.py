"""Located diagnostics: every problem has a code, a severity, a place and a hint.

As in Yarn Spinner, the code is stable (tests and editors rely on it) and the message
says what is wrong where; the hint says how to fix it. Codes are records in
`decision_map.diagnostics`; a Diagnostic refuses a code that is not registered there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .diagnostics import Code, Severity, registered

__all__ = ["Code", "DecisionMapError", "Diagnostic", "InputError", "MapError", "Severity",
           "WalkError", "Where"]


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
    """One problem found in a map, as the checker reports it and the cache stores it.

    The code must be registered, with the severity its record gives: a code raised but
    not registered fails the moment it is made, not in a user's editor.
    """

    code: str
    severity: Severity
    message: str
    where: Where
    hint: str | None = None

    def __post_init__(self) -> None:
        rec = registered(self.code)
        if self.severity != rec.severity:
            raise ValueError(f"{self.code} is registered as {rec.severity}, not {self.severity}")

    @classmethod
    def of(cls, code: Code, message: str, where: Where, hint: str | None = None
           ) -> Diagnostic:
        """A diagnostic of a registered code, with its severity; without a specific hint,
        the code's own."""
        return cls(code.code, code.severity, message, where,
                   hint if hint is not None else code.hint)

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
        self, code: Code, message: str, where: Where, hint: str | None = None,
        diagnostics: list[Diagnostic] | None = None,
    ) -> None:
        if code.severity != "error":
            raise ValueError(f"{code} is a warning: it does not stop a load")
        self.diagnostic = Diagnostic.of(code, message, where, hint)
        self.diagnostics = diagnostics or [self.diagnostic]
        super().__init__(self.diagnostic.line())

    @classmethod
    def of(cls, first: Diagnostic, diagnostics: list[Diagnostic] | None = None) -> MapError:
        """The error of diagnostics already made (the first one stopped the load)."""
        return cls(registered(first.code), first.message, first.where, first.hint,
                   diagnostics)


class InputError(DecisionMapError):
    """Bad answers, responses, sessions or arguments: one line saying where and what."""

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class WalkError(DecisionMapError):
    """A walk that cannot go on (a vote that does not fit the question, say)."""
