"""What of a step is kept: privacy by design, applied to the ballots before anything is
decided, saved, traced or reported, so nothing kept out can leak from a later file.

A node's `record:` says how much is kept: `everything` (the default), `summary` (who took
part, the result and the facilitator's notes; not the members' words or reasons) or
`none` (the result only: no names, no words, no notes). A `secret: true` question keeps no
member name with any vote: the ballots become a tally, its block reasons kept without a
name. No I/O.
"""

from __future__ import annotations

from typing import Any

from .decision import Ballot
from .minutes import Minutes

NOT_RECORDED = "(kept out of the record)"
RECORD_LEVELS: tuple[str, ...] = ("everything", "summary", "none")


def record_level(node: Any) -> str:
    """How much of the node the record keeps."""
    return getattr(node, "record", None) or "everything"


def is_secret(node: Any) -> bool:
    """Whether the node's votes are taken by secret ballot."""
    return bool(getattr(node, "secret", False))


def kept_ballots(node: Any, ballots: tuple[Ballot, ...]) -> tuple[Ballot, ...]:
    """The ballots as the record may keep them. Names go for a secret ballot and for
    `record: none`; words (text answers and reasons) go for `summary` and `none`. Votes
    without names are put in a fixed order, so the order cannot name anyone either."""
    level = record_level(node)
    secret = is_secret(node) or level == "none"
    words = level != "everything"
    text = getattr(node, "text", None) is not None
    out = []
    for b in ballots:
        value = b.value
        reason = b.reason
        if words and text and isinstance(value, str):
            value = NOT_RECORDED
        if words and reason:
            reason = NOT_RECORDED
        out.append(Ballot(None if secret else b.member, value, reason))
    if secret:
        out.sort(key=lambda b: (str(b.value), b.reason or ""))
    return tuple(out)


def kept_minutes(node: Any, minutes: Minutes) -> Minutes:
    """`record: none` keeps no notes, amendments or actions of the step (they could say
    what was said); the other levels keep them (a note is how a summary is written)."""
    return Minutes() if record_level(node) == "none" else minutes


