""""Did you mean ...?": the known name closest to a mistyped one, with the work bounded.

`difflib` compares a name with every candidate, so a map with thousands of dangling
names against thousands of nodes costs their product (8 000 x 8 000 took minutes). A
`Suggester` spends from one budget of comparisons across all the suggestions of a check;
once it is spent, the hints go on without a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

MAX_NAME = 100  # a longer name (or candidate) is not compared
MAX_COMPARISONS = 200_000  # candidates compared in all, per Suggester (one check)


class Suggester:
    """Close matches from a shared budget of comparisons."""

    def __init__(self, budget: int = MAX_COMPARISONS) -> None:
        self.left = budget

    def closest(self, name: str, candidates: Collection[str], cutoff: float = 0.6
                ) -> str | None:
        """The closest candidate, or None (none close, or the budget is spent)."""
        if not name or len(name) > MAX_NAME or len(candidates) > self.left:
            return None
        self.left -= len(candidates)
        pool = [c for c in candidates if len(c) <= MAX_NAME]
        close = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
        return close[0] if close else None


def closest(name: str, candidates: Collection[str], cutoff: float = 0.6) -> str | None:
    """One suggestion on its own budget (for an error raised once)."""
    return Suggester().closest(name, candidates, cutoff)
