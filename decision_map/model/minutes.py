"""What the facilitator writes down beside the votes: notes, actions with an owner and a
date, and amended proposals. Plain data that survives JSON, kept on each submission so an
undo or a resume keeps them exactly as the votes are kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_MINUTE_CHARS = 4000  # one note, amendment or action field; longer is refused


@dataclass(frozen=True)
class Action:
    """Something someone will do: `who` does `what` by `by` (a date or words, as said)."""

    who: str
    by: str
    what: str

    def to_json(self) -> dict[str, Any]:
        return {"who": self.who, "by": self.by, "what": self.what}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Action:
        if not isinstance(d, dict) or not all(isinstance(d.get(k), str)
                                              for k in ("who", "by", "what")):
            raise TypeError("an action is {who: text, by: text, what: text}")
        return cls(d["who"], d["by"], d["what"])


@dataclass(frozen=True)
class Minutes:
    """What was written down at one question: amended versions of the proposal (the
    vote applies to the last), notes and actions."""

    amendments: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.amendments or self.notes or self.actions)

    def to_json(self) -> dict[str, Any]:
        """Only the keys that hold something, so files without minutes stay as they were."""
        out: dict[str, Any] = {}
        if self.amendments:
            out["amendments"] = list(self.amendments)
        if self.notes:
            out["notes"] = list(self.notes)
        if self.actions:
            out["actions"] = [a.to_json() for a in self.actions]
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Minutes:
        """From a submission or trace step's JSON; missing keys are empty, and a key that
        is not a list (of text, or of actions) is a TypeError."""
        return cls(
            amendments=_texts(d, "amendments"),
            notes=_texts(d, "notes"),
            actions=tuple(Action.from_json(a) for a in _list(d, "actions")),
        )


def _list(d: dict[str, Any], key: str) -> list[Any]:
    got = d.get(key, [])
    if not isinstance(got, list):
        raise TypeError(f"{key} is not a list")
    return got


def _texts(d: dict[str, Any], key: str) -> tuple[str, ...]:
    got = _list(d, key)
    if not all(isinstance(x, str) for x in got):
        raise TypeError(f"{key} is not a list of text")
    return tuple(got)


def parse_action(text: str) -> Action:
    """`who; by when; what` as typed at a prompt; ValueError says what is missing.

    >>> parse_action("Ana; 2025-06-01; book the hall")
    Action(who='Ana', by='2025-06-01', what='book the hall')
    """
    parts = [p.strip() for p in text.split(";", 2)]
    if len(parts) != 3 or not all(parts):
        raise ValueError("an action is: who; by when; what (e.g. Ana; 1 June; book the hall)")
    if any(len(p) > MAX_MINUTE_CHARS for p in parts):
        raise ValueError(f"an action's parts are at most {MAX_MINUTE_CHARS} characters")
    return Action(*parts)
