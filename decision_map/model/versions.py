"""Format numbers of the files decision-map writes (traces, sessions), ink-style.

Each file kind has a current version (what we write) and a minimum readable version
(the oldest we still read, upgrading it as we read), as ink's story state keeps
`kInkSaveStateVersion` and `kMinCompatibleLoadVersion`. A file from a newer release is
refused in one line that names both, rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FormatVersion:
    """A file kind's versions: `current` is written, `minimum` to `current` are read."""

    what: str  # "trace", "session": the word the messages use
    current: int
    minimum: int

    def problem(self, found: Any) -> str | None:
        """Why a file with format number `found` cannot be read, or None when it can."""
        if isinstance(found, bool) or not isinstance(found, int):
            return (f"{self.what} format {found!r} is not a whole number (this decision-map "
                    f"reads {self.span()})")
        if found > self.current:
            return (f"{self.what} format {found} is newer than this decision-map reads "
                    f"({self.current}; it reads {self.span()}); upgrade decision-map")
        if found < self.minimum:
            return (f"{self.what} format {found} is older than this decision-map reads "
                    f"(it reads {self.span()})")
        return None

    def span(self) -> str:
        """ "1 to 2", or "2" when only one version is read."""
        if self.minimum == self.current:
            return str(self.current)
        return f"{self.minimum} to {self.current}"


TRACE = FormatVersion("trace", current=2, minimum=1)
SESSION = FormatVersion("session", current=2, minimum=1)
