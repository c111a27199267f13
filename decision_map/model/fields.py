"""Reading the JSON files decision-map writes (traces, sessions) with every field's type
checked, so a hand-edited or damaged file is refused in one line naming the field
(`steps[3].decision.status: not text (null)`) instead of failing later, deep in a
renderer, with a Python error.

No I/O here: `Fields` wraps data already parsed; `too_deep` bounds nesting before any
reader walks it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

MAX_DEPTH = 64  # JSON nested deeper than this is refused; our files nest about 6 deep
MAX_WHOLE = 2**53  # whole numbers (counts, visits) above this are refused as broken

T = TypeVar("T")


class FieldError(ValueError):
    """One field of a file that is not what it should be; the message starts with the
    field's path (`map.id`, `steps[2].ballots[0].value`)."""


def _shown(value: Any) -> str:
    """A short, plain description of a wrong value for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return "text"
    return "a number"


def too_deep(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `data` nests lists and objects more than `limit` deep (walked without
    recursion, so any depth is measured safely)."""
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            todo.extend((c, depth + 1) for c in children)
    return False


def is_number(value: Any) -> bool:
    """An int or a finite float, never a bool (JSON true is not 1 here)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_WHOLE * MAX_WHOLE
    return isinstance(value, float) and math.isfinite(value)


class Fields:
    """A JSON object being read, with its path for messages. Each accessor returns the
    field with its type checked, or raises FieldError naming the field."""

    def __init__(self, data: Any, path: str = "") -> None:
        if not isinstance(data, dict):
            raise FieldError(f"{path or 'the top level'}: not an object ({_shown(data)})")
        self.data = data
        self.path = path

    def at(self, key: str) -> str:
        """The path of one of this object's fields."""
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, what: str, value: Any) -> FieldError:
        return FieldError(f"{self.at(key)}: not {what} ({_shown(value)})")

    def _get(self, key: str, default: Any) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise FieldError(f"{self.at(key)}: missing")
            return default
        return self.data[key]

    def text(self, key: str, default: Any = None) -> str:
        """Text, required unless a default is given."""
        value = self._get(key, _REQUIRED if default is None else default)
        if not isinstance(value, str):
            raise self.fail(key, "text", value)
        return value

    def text_or_none(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, "text or null", value)
        return value

    def whole(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        """A whole number >= minimum (and at most MAX_WHOLE)."""
        value = self._get(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int) or not (
                minimum <= value <= MAX_WHOLE):
            raise self.fail(key, f"a whole number from {minimum} to {MAX_WHOLE}", value)
        return value

    def value(self, key: str) -> str | int | float | None:
        """A decided value: text, a finite number or null."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, str) and not is_number(value):
            raise self.fail(key, "text, a number or null", value)
        return value

    def obj(self, key: str) -> Fields:
        return Fields(self._get(key, _REQUIRED), self.at(key))

    def obj_or_none(self, key: str) -> Fields | None:
        value = self.data.get(key)
        return None if value is None else Fields(value, self.at(key))

    def items(self, key: str, default: Any = None) -> Iterator[tuple[str, Any]]:
        """A list's items with each one's path, e.g. ("steps[2]", {...})."""
        value = self._get(key, _REQUIRED if default is None else default)
        if not isinstance(value, list):
            raise self.fail(key, "a list", value)
        for i, item in enumerate(value):
            yield f"{self.at(key)}[{i}]", item

    def objects(self, key: str, default: Any = None) -> Iterator[Fields]:
        """A list of objects, each read as Fields."""
        for path, item in self.items(key, default):
            yield Fields(item, path)

    def texts(self, key: str, default: Any = None) -> list[str]:
        """A list of text."""
        out = []
        for path, item in self.items(key, default):
            if not isinstance(item, str):
                raise FieldError(f"{path}: not text ({_shown(item)})")
            out.append(item)
        return out

    def mapping(self, key: str, check: Callable[[Any], bool], what: str,
                default: Any = None) -> dict[str, Any]:
        """An object whose values all pass `check` (described as `what`)."""
        value = self._get(key, _REQUIRED if default is None else default)
        if not isinstance(value, dict):
            raise self.fail(key, "an object", value)
        for k, v in value.items():
            if not check(v):
                raise FieldError(f"{self.at(key)}.{k}: not {what} ({_shown(v)})")
        return dict(value)


_REQUIRED: Any = object()
