"""Conditions are data: how a check's or a branch's condition is evaluated against the
decisions of a walk, and how it reads in a sentence or on a picture."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from .decision import Decision
from .format import AllOf, AnyOf, Comparison, Not


def compare(c: Comparison, value: Any, status: str | None) -> bool:
    """One comparison against a value and the status of the decision that gave it
    (status None: the question was not reached). Numeric tests hold only for numbers.

    >>> c = Comparison.model_validate({"answer": "hours", "gte": 20})
    >>> compare(c, 25, "decided"), compare(c, 12, "decided"), compare(c, "25", "decided")
    (True, False, False)
    >>> compare(c, None, None)  # not reached
    False
    >>> compare(Comparison.model_validate({"answer": "goal", "answered": False}), None, None)
    True
    """
    if c.answered is not None and c.answered != (status is not None):
        return False
    if status is None:
        return c.answered is False
    if c.status is not None and c.status != status:
        return False
    if c.is_ is not None and not _equal(value, c.is_):
        return False
    if c.in_ is not None and not any(_equal(value, v) for v in c.in_):
        return False
    if c.not_in is not None and any(_equal(value, v) for v in c.not_in):
        return False
    if c.numeric_tests():
        if not is_number(value):
            return False
        x = exact(value)
        if c.gte is not None and not x >= exact(c.gte):
            return False
        if c.gt is not None and not x > exact(c.gt):
            return False
        if c.lte is not None and not x <= exact(c.lte):
            return False
        if c.lt is not None and not x < exact(c.lt):
            return False
    return True


def is_number(x: object) -> bool:
    """A number a member or an author wrote (True and False are not numbers here)."""
    return isinstance(x, (int, float, Decimal, Fraction)) and not isinstance(x, bool)


def exact(x: int | float | Decimal | Fraction) -> Decimal | Fraction:
    """A number as its writer wrote it, for exact comparison and arithmetic: a float is
    taken as the shortest decimal that reads back as it (`0.1` is 1/10, not the binary
    0.1000000000000000055...), which is the written text for up to 15 significant digits.
    Ints and Decimals are exact already; a Fraction (a `2/3` share) stays a Fraction."""
    if isinstance(x, float):
        return Decimal(repr(x))
    if isinstance(x, (Decimal, Fraction)):
        return x
    return Decimal(x)


def _equal(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return exact(a) == exact(b)
    return str(a) == str(b)


def holds(cond: object, decisions: dict[str, Decision]) -> bool:
    """Whether a condition holds, given the decisions so far by question id."""
    if isinstance(cond, AllOf):
        return all(holds(c, decisions) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(holds(c, decisions) for c in cond.any)
    if isinstance(cond, Not):
        return not holds(cond.not_, decisions)
    assert isinstance(cond, Comparison)
    d = decisions.get(cond.answer or "")
    return compare(cond, d.value if d else None, d.status if d else None)


def describe_tests(c: Comparison) -> str:
    """The tests of one comparison, e.g. `>= 10`, `= yes`, `in a, b`, `blocked`.

    >>> describe_tests(Comparison.model_validate({"answer": "x", "gte": 10, "lt": 20.5}))
    '>= 10 and < 20.5'
    >>> describe_tests(Comparison.model_validate({"answer": "x", "in": ["a", "b"]}))
    'in a, b'
    >>> describe_tests(Comparison.model_validate({"answer": "x", "status": "no_quorum"}))
    'no quorum'
    """
    parts = [f"{sym} {num(v)}" for attr, sym in (("is_", "="), ("gte", ">="), ("gt", ">"),
                                                  ("lte", "<="), ("lt", "<"))
             if (v := getattr(c, attr)) is not None]
    if c.in_ is not None:
        parts.append(f"in {', '.join(num(v) for v in c.in_)}")
    if c.not_in is not None:
        parts.append(f"not in {', '.join(num(v) for v in c.not_in)}")
    if c.status is not None:
        parts.append(c.status.replace("_", " "))
    if c.answered is not None:
        parts.append("answered" if c.answered else "not answered")
    return " and ".join(parts) or "matches"


def describe(cond: object) -> str:
    """A short plain reading: `hours >= 20 and goal = yes`.

    >>> describe(AllOf.model_validate({"all": [{"answer": "hours", "gte": 20},
    ...                                        {"answer": "goal", "is": "yes"}]}))
    'hours >= 20 and goal = yes'
    >>> describe(AnyOf.model_validate({"any": [{"answer": "goal", "in": ["a", "b"]},
    ...                                        {"answer": "x", "answered": False}]}))
    'goal in a, b or x not answered'
    >>> describe(Not.model_validate({"not": {"answer": "goal", "status": "blocked"}}))
    'not (goal blocked)'
    """
    if isinstance(cond, AllOf):
        return " and ".join(describe(c) for c in cond.all)
    if isinstance(cond, AnyOf):
        return " or ".join(describe(c) for c in cond.any)
    if isinstance(cond, Not):
        return f"not ({describe(cond.not_)})"
    assert isinstance(cond, Comparison)
    return f"{cond.answer or 'value'} {describe_tests(cond)}"


def num(v: object) -> str:
    """A number as people write it: 12, 2.5, 0.333 (anything else as it is).

    >>> num(12.0), num(2.5), num(1 / 3), num("yes"), num(True)
    ('12', '2.5', '0.333', 'yes', 'True')
    """
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int) or v.is_integer():
        return str(int(v))
    return f"{v:.3f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- words for members

QUESTION_WIDTH = 60  # characters of a question kept when it names a condition (then "…")
STATUS_WORDS = {"blocked": "was blocked", "no_quorum": "had no quorum", "tie": "was a tie",
                "no_agreement": "found no agreement", "decided": "was decided"}


def _cut(text: str, width: int = QUESTION_WIDTH) -> str:
    one = " ".join(str(text).split())
    if len(one) <= width:
        return one
    return one[: width - 1].rsplit(" ", 1)[0].rstrip(" ,;:—-") + "…"


def question_words(node: object, fallback: str = "an earlier question") -> str:
    """How a condition names a question to members: its `label`, else its question cut
    short, in quotes; never its id."""
    text = getattr(node, "label", None) or getattr(node, "ask", None)
    return f"“{_cut(text)}”" if text else fallback


def value_words(node: object, v: object) -> str:
    """A value as members saw it: a choice's label, a number as people write it."""
    label = getattr(node, "choice_label", None)
    if label is not None and isinstance(v, str) and v in getattr(node, "choices", {}):
        return f"“{label(v)}”"
    return num(v)


def said_tests(c: Comparison, node: object = None) -> str:
    """The tests of one comparison in words: `4 or more`, `“Yes” or “Not sure”`.

    >>> said_tests(Comparison.model_validate({"answer": "x", "gte": 10, "lt": 20.5}))
    '10 or more and less than 20.5'
    >>> said_tests(Comparison.model_validate({"answer": "x", "not_in": ["a", "b"]}))
    'anything but a or b'
    """
    parts = []
    if c.is_ is not None:
        parts.append(value_words(node, c.is_))
    for attr, form in (("gte", "{} or more"), ("gt", "more than {}"),
                       ("lte", "{} or less"), ("lt", "less than {}")):
        if (v := getattr(c, attr)) is not None:
            parts.append(form.format(num(v)))
    if c.in_ is not None:
        parts.append(" or ".join(value_words(node, v) for v in c.in_))
    if c.not_in is not None:
        parts.append("anything but " + " or ".join(value_words(node, v) for v in c.not_in))
    if c.status is not None:
        parts.append(STATUS_WORDS.get(c.status, c.status.replace("_", " ")))
    if c.answered is not None:
        parts.append("was answered" if c.answered else "was not asked")
    return " and ".join(parts) or "any answer"


def words(cond: object, nodes: Any) -> str:
    """A condition in members' words, naming questions by their labels (`nodes`: the
    map's nodes by id), never by id, and with no condition syntax.

    >>> from .format import ChoiceQuestion
    >>> q = ChoiceQuestion.model_validate({"ask": "Which kind?", "choices": {
    ...     "long-term": {"next": "a", "label": "For the long haul"}, "one-project": "b"}})
    >>> words(AnyOf.model_validate({"any": [{"answer": "kind", "not_in": ["long-term"]},
    ...                                     {"answer": "hours", "lt": 10}]}), {"kind": q})
    '“Which kind?”: anything but “For the long haul”, or an earlier question: less than 10'
    """
    if isinstance(cond, AllOf):
        return ", and ".join(words(c, nodes) for c in cond.all)
    if isinstance(cond, AnyOf):
        return ", or ".join(words(c, nodes) for c in cond.any)
    if isinstance(cond, Not):
        return f"it is not so that {words(cond.not_, nodes)}"
    assert isinstance(cond, Comparison)
    node = nodes.get(cond.answer or "")
    name = question_words(node)
    tests = said_tests(cond, node)
    if tests.startswith("was ") or tests.split(" ", 1)[0] in ("had", "found"):
        return f"{name} {tests}"
    return f"{name}: {tests}"
