"""Outcome texts are Jinja2 templates written by map authors: untrusted text.

They run in Jinja2's immutable sandbox with StrictUndefined, and more: no constant
folding at parse time (so checking a map never computes `2**(2**40)`), only a small
allowlist of filters and methods, and one budget per render (`TemplateLimits`): every
call, attribute, operator, test and loop step costs an operation, every value a text makes
costs its size and may not pass `max_value`, numbers stay under `max_int_bits`, `range`
draws from its own pool, and the output is streamed and capped. Macros, includes and
imports are refused, since recursion could grow text without bound. What can be refused
without running (a width, count or loop nest over constants past a limit) is refused when
the template is parsed, so `check` reports it.

An answer given only on some paths (`answers.hours` when the walk never asked `hours`)
reads as empty: false in an `if`, "" when printed, `is defined` false, `default(...)`
applies. A name that is not one of TEMPLATE_NAMES at all is still an error (and `check`
finds it first).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import numbers
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter, SecurityError
from jinja2.visitor import NodeTransformer
from markupsafe import EscapeFormatter, Markup

from .errors import DecisionMapError

# Names an outcome's text may use.
TEMPLATE_NAMES = frozenset({"answers", "statuses", "texts", "group", "map", "outcome", "range",
                            "agreed", "stood_aside", "carried_by"})
# The ones keyed by question: a question the walk did not ask is missing from them.
BY_QUESTION = ("answers", "statuses", "texts")


@dataclasses.dataclass(frozen=True)
class TemplateLimits:
    """Every bound on one render of an outcome's text, in one place (docs/safety.md lists
    them); raise one with `with template_limits(max_operations=...):` from Python, or
    DECISION_MAP_TEMPLATE_LIMITS=max_operations=N from the command line."""

    max_operations: int = 1_000_000  # calls, lookups, operators, loop steps, plus sizes made
    max_value: int = 100_000  # characters or items in any one value a text makes
    max_int_bits: int = 4_096  # bits in any number a text makes (about 1 233 digits)
    max_exponent: int = 64  # the right side of `**`
    max_range_items: int = 10_000  # across all the range() calls of one render
    max_output: int = 100_000  # characters of rendered text


DEFAULT_LIMITS = TemplateLimits()
LIMITS_VARIABLE = "DECISION_MAP_TEMPLATE_LIMITS"  # e.g. "max_operations=5000000,max_value=1e6"
_LIMITS: contextvars.ContextVar[TemplateLimits | None] = contextvars.ContextVar(
    "template_limits", default=None)

SAFE_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "int",
    "join", "last", "length", "list", "lower", "max", "min", "reverse", "round", "sort",
    "string", "sum", "title", "trim", "unique", "upper", "wordcount", "map", "select",
    "reject", "dictsort", "items", "batch", "slice",
})
# Filters whose result is their input or a part of it: nothing new to measure.
_PASSING_FILTERS = frozenset({"d", "default", "first", "last", "max", "min", "abs"})
FORBIDDEN_NODES = (nodes.Macro, nodes.CallBlock, nodes.Include, nodes.Import,
                   nodes.FromImport, nodes.Extends, nodes.Block)
# Methods a text may call, by receiver; anything else callable is refused.
_STR_METHODS = frozenset({
    "capitalize", "casefold", "center", "count", "decode", "encode", "endswith",
    "expandtabs", "find", "format", "format_map", "index", "isalnum", "isalpha", "isascii",
    "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
    "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix",
    "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
    "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill",
})
_METHODS: tuple[tuple[type | tuple[type, ...], frozenset[str]], ...] = (
    ((str, bytes), _STR_METHODS),
    ((list, tuple), frozenset({"count", "index", "copy"})),
    (dict, frozenset({"get", "items", "keys", "values", "copy"})),
    ((int, float), frozenset({"bit_length", "bit_count", "is_integer", "conjugate"})),
    (LoopContext, frozenset({"cycle", "changed"})),
)
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
# A `%` conversion: its width and precision ("*" takes them from the arguments).
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")


class TemplateError(DecisionMapError):
    """A template that does not parse, uses a missing name, or tries something unsafe."""


class _Heard(dict):  # type: ignore[type-arg]
    """What the group said, by question: a question not asked on this path reads as
    jinja2's plain Undefined (empty), not as an error."""

    def __missing__(self, key: object) -> jinja2.Undefined:
        return jinja2.Undefined(name=str(key))


class LimitExceeded(SecurityError):
    """A render went past one of its `TemplateLimits`; the message names the limit."""

    def __init__(self, what: str, limit: str, value: int) -> None:
        super().__init__(f"{what} (the limit {limit}={value}; raise it with "
                         f"{LIMITS_VARIABLE}={limit}=N)")


@contextlib.contextmanager
def template_limits(**changes: int) -> Iterator[TemplateLimits]:
    """Renders inside this block use these limits instead of the defaults."""
    token = _LIMITS.set(dataclasses.replace(current_limits(), **changes))
    try:
        yield current_limits()
    finally:
        _LIMITS.reset(token)


def limits_block() -> TemplateLimits | None:
    """The limits of the `template_limits` block in force, if any (the check cache keys
    on it beside the environment variable)."""
    return _LIMITS.get()


def current_limits() -> TemplateLimits:
    """The limits in force: a `template_limits` block's, else the defaults as the
    environment variable changes them (the way to raise one from the command line)."""
    return _LIMITS.get() or _limits_from(os.environ.get(LIMITS_VARIABLE, ""))


@functools.lru_cache(maxsize=8)
def _limits_from(setting: str) -> TemplateLimits:
    """`name=N,name=N` over the defaults; a mistake is one line naming the variable."""
    changes: dict[str, int] = {}
    names = {f.name for f in dataclasses.fields(TemplateLimits)}
    for part in filter(None, (p.strip() for p in setting.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in names:
            raise TemplateError(f"{LIMITS_VARIABLE}: {name!r} is not a limit (the limits: "
                                f"{', '.join(sorted(names))})")
        try:
            number = int(value.strip().replace("_", ""))
        except ValueError:
            number = 0
        if number <= 0:
            raise TemplateError(f"{LIMITS_VARIABLE}: {name} needs a whole number above 0, "
                                f"not {value.strip()!r}")
        changes[name] = number
    return dataclasses.replace(DEFAULT_LIMITS, **changes)


# ---------------------------------------------------------------- the budget


def _size(value: Any, cap: int) -> int:
    """The size of a value as its text would be: characters, items, digits, counted
    through nested lists and mappings (a list holding one list 1 000 times is 1 000 of
    them); stops counting past `cap`, so measuring costs at most `cap` steps."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is str or kind is bytes:
            total += len(v)
        elif kind is list or kind is tuple:
            total += 1 + len(v)
            if total <= cap:
                stack.extend(v)
        elif kind is dict:
            total += 1 + len(v)
            if total <= cap:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif kind is int:
            total += 1 + v.bit_length() // 3
        elif isinstance(v, (str, bytes, bytearray)):
            total += len(v)
        elif isinstance(v, bool) or v is None or isinstance(v, float):
            total += 1
        elif isinstance(v, int):
            total += 1 + v.bit_length() // 3
        elif isinstance(v, Mapping):
            total += 1 + len(v)
            if total <= cap:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset, range)):
            total += 1 + len(v)
            if total <= cap and not isinstance(v, range):
                stack.extend(v)
        else:
            total += 1
        if total > cap:
            return total
    return total


def _shallow(value: Any) -> int:
    """What reading a value once costs: its length if it has one, else 1."""
    try:
        return 1 + len(value)
    except TypeError:
        return 1


class _Budget:
    """One render's spending: operations so far and range() items left."""

    __slots__ = ("limits", "ops", "range_left", "sizes")

    def __init__(self, limits: TemplateLimits) -> None:
        self.limits = limits
        self.ops = 0
        self.range_left = limits.max_range_items
        self.sizes: dict[int, tuple[Any, int]] = {}

    def size(self, value: Any) -> int:
        """`_size`, remembered per container for the render (the sandbox lets nothing
        change a list or mapping, so `'x' in texts` in a loop measures `texts` once)."""
        if isinstance(value, (str, bytes)):
            return len(value)
        known = self.sizes.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        n = _size(value, self.limits.max_value)
        if isinstance(value, (list, tuple, dict)):
            self.sizes[id(value)] = (value, n)
        return n

    def charge(self, n: int = 1) -> None:
        self.ops += n
        if self.ops > self.limits.max_operations:
            raise LimitExceeded(f"the text needs more than {self.limits.max_operations} "
                                "operations", "max_operations", self.limits.max_operations)

    def room(self, size: int) -> None:
        """Refuse, before it is made, a value of `size` past max_value."""
        if size > self.limits.max_value:
            raise LimitExceeded(f"the text would make a value of {size} characters or items",
                                "max_value", self.limits.max_value)

    def made(self, value: Any) -> Any:
        """Charge a new value's size and refuse it if it is too big."""
        if isinstance(value, int) and not isinstance(value, bool):
            self.bits(value.bit_length())
            self.charge(1 + value.bit_length() // 64)
            return value
        if isinstance(value, Iterator) and not isinstance(value, (str, bytes)):
            return self.counted(value, made=True)
        size = _size(value, self.limits.max_value)
        self.charge(1 + size)
        self.room(size)
        return value

    def bits(self, n: int) -> None:
        if n > self.limits.max_int_bits:
            raise LimitExceeded(f"the text would make a number of {n} bits", "max_int_bits",
                                self.limits.max_int_bits)

    def counted(self, items: Iterable[Any], made: bool = False) -> Iterator[Any]:
        """Iterate, charging each step (and each item's size when the items are new)."""
        for item in items:
            if made:
                self.made(item)
            else:
                self.charge()
            yield item

    def range(self, *args: int) -> range:
        r = range(*args)
        self.range_left -= len(r)
        if self.range_left < 0:
            raise LimitExceeded(f"range() makes more than {self.limits.max_range_items} "
                                "items in all", "max_range_items", self.limits.max_range_items)
        return r


class _Running(threading.local):
    """The budget of the render running now in this thread (set around each step of a
    render, so two renders in progress at once each spend their own)."""

    budget: _Budget | None = None


_RUNNING = _Running()


def _budget() -> _Budget:
    """The budget of the render running now (a throwaway one outside any render)."""
    return _RUNNING.budget or _Budget(current_limits())


def _bounded_range(*args: int) -> range:
    """`range` for templates: drawn from the render's pool of items."""
    b = _budget()
    b.charge()
    return b.range(*args)


# ---------------------------------------------------------------- bounded operations


def _estimate_call(name: str, receiver: Any, args: tuple, kwargs: dict) -> tuple[int, tuple]:
    """How big a growing method's result would be, before it is made; the arguments
    come back with a one-shot iterable made into a list."""
    if not isinstance(receiver, (str, bytes)):
        return 0, args
    n = len(receiver)
    if name in _WIDTH_METHODS and args and isinstance(args[0], int):
        return max(n, args[0]), args
    if name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tab, int):
            return n + receiver.count("\t" if isinstance(receiver, str) else b"\t") * \
                max(tab, 0), args
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, type(receiver)) and isinstance(new, type(receiver)):
            times = receiver.count(old) if old else n + 1
            if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                times = min(times, args[2])
            return n + times * max(len(new) - len(old), 0), args
    if name == "join" and args:
        b = _budget()
        parts = list(b.counted(args[0]))
        size = sum(len(p) if isinstance(p, (str, bytes)) else 1 for p in parts)
        return size + n * max(len(parts) - 1, 0), (parts, *args[1:])
    if name == "encode":
        return 4 * n, args
    return 0, args


def _percent_size(fmt: str | bytes, args: Any, b: _Budget) -> int:
    """An upper bound on `fmt % args`, refusing a width taken from the arguments."""
    text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
    size = len(text) + _size(args, b.limits.max_value)
    for m in _PERCENT.finditer(text):
        width, precision = m.group(1), m.group(2)
        if "*" in (width, precision):
            raise SecurityError("a '*' width or precision in a '%' format is refused")
        size += int(width or 0) + int(precision or 0)
        b.room(size)
    return size


class _BoundedFormatter(SandboxedFormatter):
    """`str.format` with every width and precision inside max_value, each field charged."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        b = _budget()
        for digits in _DIGITS.findall(format_spec):
            b.room(int(digits) if len(digits) < 20 else b.limits.max_value + 1)
        return b.made(super().format_field(value, format_spec))


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    pass


def _bounded_concat(parts: Iterable[Any]) -> str:
    """`{% set x %}...{% endset %}` and whole renders: joined only while short enough."""
    b = _budget()
    out: list[str] = []
    size = 0
    for part in parts:
        size += len(part)
        b.room(size)
        out.append(part)
    return "".join(out)


def _filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that charges its input, refuses counts past the limits, measures what it
    makes and counts the steps of what it yields."""
    passes = hasattr(f, "jinja_pass_arg")

    @functools.wraps(f)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        b = _budget()
        value = args[1] if passes else args[0]
        b.charge(_shallow(value))
        rest = args[2:] if passes else args[1:]
        if name in ("batch", "slice") and rest and isinstance(rest[0], int):
            b.room(rest[0])
        if name in ("join", "sum") and not isinstance(value, (str, list, tuple)):
            value = list(b.counted(value))
            args = (*args[:1], value, *args[2:]) if passes else (value, *args[1:])
        if name == "join":
            sep = rest[0] if rest else kwargs.get("d", "")
            gap = len(sep) if isinstance(sep, str) else 0
            b.room(_size(value, b.limits.max_value) + gap * len(value))
        elif name == "sum":
            b.room(sum(len(v) if isinstance(v, (list, tuple)) else 1 for v in value))
        result = f(*args, **kwargs)
        return result if name in _PASSING_FILTERS else b.made(result)

    return bounded


def _test(f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def counted(*args: Any, **kwargs: Any) -> Any:
        _budget().charge()
        return f(*args, **kwargs)

    return counted


def _loop_items(value: Any) -> Iterator[Any]:
    """What a `for` walks: one operation per step (wrapped in by `_Env._parse`)."""
    return _budget().counted(value)


def _cost(value: Any) -> Any:
    """A comparison operand: comparing costs about its size (wrapped in by `_Env._parse`)."""
    b = _budget()
    b.charge(b.size(value))
    return value


def _concat(parts: tuple) -> str:
    """`a ~ b`: the parts as text, refused before joining if the whole is too long."""
    b = _budget()
    texts = [p if isinstance(p, str) else str(p) for p in parts]
    size = sum(map(len, texts))
    b.charge(1 + size)
    b.room(size)
    return "".join(texts)


_HIDDEN_FILTERS = {" items": _loop_items, " cost": _cost, " concat": _concat}


# ---------------------------------------------------------------- the environment


class _Template(jinja2.Template):
    """A compiled text whose every render runs on a fresh budget."""

    @classmethod
    def _from_namespace(cls, environment: Any, namespace: Any, globals: Any) -> Any:
        t = super()._from_namespace(environment, namespace, globals)
        root = t.root_render_func

        def budgeted(context: Any, *args: Any, **kwargs: Any) -> Iterator[str]:
            budget = _Budget(current_limits())
            inner = root(context, *args, **kwargs)
            running = _RUNNING
            while True:
                before, running.budget = running.budget, budget
                try:
                    chunk = next(inner)
                except StopIteration:
                    return
                finally:
                    running.budget = before
                yield chunk

        t.root_render_func = budgeted
        return t


class _Env(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})
    template_class = _Template

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, optimized=False)
        self.globals = {"range": _bounded_range}
        self.filters = {k: _filter(k, v) for k, v in self.filters.items() if k in SAFE_FILTERS}
        self.filters.update(_HIDDEN_FILTERS)
        self.tests = {k: _test(v) for k, v in self.tests.items()}
        self.concat = _bounded_concat  # type: ignore[assignment]

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Parse, vet, refuse what is past a limit already in the text, then wire the
        budget into loops, comparisons and `~`."""
        try:
            tree = super()._parse(source, name, filename)
        except (ValueError, OverflowError) as e:  # a number literal too long to read
            raise jinja2.TemplateSyntaxError(str(e).split(";")[0], 1) from None
        _vet(tree)
        _static_limits(tree, current_limits())
        _Wiring().visit(tree)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        b = _budget()
        b.charge()
        if operator == "**":
            if isinstance(right, numbers.Number) and abs(right) > b.limits.max_exponent:  # type: ignore[arg-type]
                raise LimitExceeded(f"an exponent above {b.limits.max_exponent} is refused",
                                    "max_exponent", b.limits.max_exponent)
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                b.bits(left.bit_length() * right)
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int):
                    b.room(len(seq) * max(times, 0))
            if isinstance(left, int) and isinstance(right, int):
                b.bits(left.bit_length() + right.bit_length())
        elif operator == "+" and isinstance(left, (str, bytes, list, tuple)) \
                and isinstance(right, (str, bytes, list, tuple)):
            b.room(len(left) + len(right))
        elif operator == "%" and isinstance(left, (str, bytes)):
            _percent_size(left, right, b)
        return b.made(super().call_binop(context, operator, left, right))

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        _budget().charge()
        return super().call_unop(context, operator, arg)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _budget().charge()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        b = _budget()
        b.charge()
        value = super().getitem(obj, argument)
        return b.made(value) if isinstance(argument, slice) else value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`str.format` and `format_map` through the bounded formatter."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self = value.__self__
        formatter = _BoundedEscapeFormatter(self, escape=f_self.escape) \
            if isinstance(f_self, Markup) else _BoundedFormatter(self)
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return type(f_self)(formatter.vformat(f_self, args, kwargs))

        return functools.update_wrapper(bounded, value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        b = _budget()
        b.charge()
        if isinstance(__obj, jinja2.Undefined):  # says what was missing or unsafe
            return super().call(__context, __obj, *args, **kwargs)
        receiver, name = _receiver(__obj)
        if __obj is not _bounded_range and not _allowed(receiver, name):
            raise SecurityError(f"calling {name or type(__obj).__name__!r} is not allowed "
                                "in a map's text")
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            b.charge(_shallow(args[0]))
            args = (b.counted(args[0]), *args[1:])
        b.charge(_shallow(receiver) if isinstance(receiver, (str, bytes)) else 1)
        estimate, args = _estimate_call(name, receiver, args, kwargs)
        b.room(estimate)
        return b.made(super().call(__context, __obj, *args, **kwargs))


def _receiver(obj: Any) -> tuple[Any, str]:
    """The object a method belongs to and the method's name (the str.format wrapper
    stands for the method it wraps)."""
    if isinstance(obj, LoopContext):
        return obj, "__call__"
    inner = getattr(obj, "__wrapped__", obj)
    return getattr(inner, "__self__", None), getattr(inner, "__name__", "")


def _allowed(receiver: Any, name: str) -> bool:
    if isinstance(receiver, LoopContext) and name == "__call__":
        return True
    return any(isinstance(receiver, kind) and name in names for kind, names in _METHODS)


# ---------------------------------------------------------------- reading the text


def _vet(tree: nodes.Template) -> None:
    for kind in FORBIDDEN_NODES:
        found = next(iter(tree.find_all(kind)), None)
        if found is not None:
            raise jinja2.TemplateSyntaxError(
                f"{kind.__name__.lower()} is not allowed in a map's text", found.lineno)
    for f in tree.find_all(nodes.Filter):
        if f.name not in SAFE_FILTERS:
            raise jinja2.TemplateSyntaxError(f"the filter {f.name!r} is not allowed",
                                             f.lineno)


def _hidden(name: str, node: nodes.Expr) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Wiring(NodeTransformer):
    """Loops step through the budget, comparisons charge their operands' size and `~`
    joins through `_concat` (Jinja2 compiles these three to plain Python otherwise)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _hidden(" items", node.iter)
        return node

    def visit_Compare(self, node: nodes.Compare) -> nodes.Node:
        self.generic_visit(node)
        node.expr = _hidden(" cost", node.expr)
        for op in node.ops:
            op.expr = _hidden(" cost", op.expr)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _hidden(" concat", nodes.Tuple(node.nodes, "load", lineno=node.lineno))


class _NotConstant(Exception):
    """A part of the text whose value depends on the walk."""


def _const(node: nodes.Node, limits: TemplateLimits, memo: dict[int, Any]) -> Any:
    """The value of an expression made only of literals, computed under the same limits
    as a render (so `2**64**64` is refused here, not computed); `memo` holds the values
    of parts already computed, so a long chain costs its length once."""
    before, _RUNNING.budget = _RUNNING.budget, _Budget(limits)
    try:
        return _const_value(node, memo)
    finally:
        _RUNNING.budget = before


def _const_value(node: nodes.Node, memo: dict[int, Any]) -> Any:
    if id(node) in memo:
        value = memo[id(node)]
        if value is _NotConstant:
            raise _NotConstant
        return value
    try:
        value = _const_compute(node, memo)
    except _NotConstant:
        memo[id(node)] = _NotConstant
        raise
    memo[id(node)] = value
    return value


def _const_compute(node: nodes.Node, memo: dict[int, Any]) -> Any:
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return [_const_value(n, memo) for n in node.items]
    if isinstance(node, nodes.BinExpr):
        left, right = _const_value(node.left, memo), _const_value(node.right, memo)
        try:
            return _SANDBOX.call_binop(None, node.operator, left, right)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            raise _NotConstant from None
    if isinstance(node, nodes.Neg):
        value = _const_value(node.node, memo)
        if isinstance(value, (int, float)):
            return -value
    if isinstance(node, nodes.Concat):
        return _concat(tuple(_const_value(n, memo) for n in node.nodes))
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and \
            node.node.name == "range" and not node.kwargs and 1 <= len(node.args) <= 3:
        args = [_const_value(n, memo) for n in node.args]
        if all(isinstance(a, int) for a in args):
            return range(*args)
    raise _NotConstant


def _static_limits(tree: nodes.Template, limits: TemplateLimits) -> None:
    """Refuse at parse time (so at `check`) what is past a limit whatever the answers:
    constant arithmetic, widths and counts given as constants, and loops over constants
    nested past max_operations."""
    memo: dict[int, Any] = {}

    def value(node: nodes.Node) -> Any:
        try:
            return _const(node, limits, memo)
        except _NotConstant:
            return None
        except SecurityError as e:
            raise jinja2.TemplateSyntaxError(str(e), node.lineno) from None

    for node in tree.find_all((nodes.BinExpr, nodes.Concat)):
        value(node)
    for call in tree.find_all(nodes.Call):
        method = call.node
        if isinstance(method, nodes.Getattr) and method.attr in _WIDTH_METHODS | {
                "expandtabs"} and call.args:
            width = value(call.args[0])
            if isinstance(width, int) and width > limits.max_value:
                raise jinja2.TemplateSyntaxError(str(LimitExceeded(
                    f"{method.attr}({width}) would make a value of {width} characters",
                    "max_value", limits.max_value)), call.lineno)
    for f in tree.find_all(nodes.Filter):
        if f.name in ("batch", "slice") and f.args:
            count = value(f.args[0])
            if isinstance(count, int) and count > limits.max_value:
                raise jinja2.TemplateSyntaxError(str(LimitExceeded(
                    f"{f.name}({count}) would make {count} items", "max_value",
                    limits.max_value)), f.lineno)
    _static_loops(tree, 1, limits, value)


def _static_loops(node: nodes.Node, outer: int, limits: TemplateLimits,
                  value: Callable[[nodes.Node], Any]) -> None:
    """Multiply the lengths of loops over constants down each nest."""
    for child in node.iter_child_nodes():
        steps = outer
        if isinstance(child, nodes.For):
            items = value(child.iter)
            if isinstance(items, (str, list, range)):
                steps = outer * max(len(items), 1)
            if steps > limits.max_operations:
                raise jinja2.TemplateSyntaxError(str(LimitExceeded(
                    f"loops nested here run {steps} times", "max_operations",
                    limits.max_operations)), child.lineno)
        _static_loops(child, steps, limits, value)


# Private: author text is compiled only by `_compiled`, after `_parse` has vetted it.
_SANDBOX = _Env()


def _parse(source: str) -> nodes.Template:
    return _SANDBOX._parse(source, None, None)


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    """Parse, vet and compile once per distinct text (a batch renders one outcome's text
    for thousands of groups)."""
    return _SANDBOX.from_string(source)


@functools.lru_cache(maxsize=256)
def undeclared(source: str) -> frozenset[str]:
    """Names a template reads that it does not set itself; raises TemplateSyntaxError
    (or TemplateError for a template too deeply nested to read)."""
    try:
        return frozenset(meta.find_undeclared_variables(_parse(source)))
    except RecursionError:
        raise jinja2.TemplateSyntaxError("the template is nested too deeply", 1) from None


def _capped(chunks: Iterator[str], limit: int) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise LimitExceeded(f"the text is longer than {limit} characters", "max_output",
                                limit)
        out.append(chunk)
    return "".join(out)


def render_text(source: str, context: dict[str, Any], where: str) -> str:
    """Render an author's template; any failure is one TemplateError line naming `where`."""
    try:
        template = _compiled(source)
        heard = {k: _Heard(context[k]) for k in BY_QUESTION if isinstance(context.get(k), dict)}
        return _capped(template.generate(**{**context, **heard}), current_limits().max_output)
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{where}: template line {e.lineno}: {e.message}") from None
    except jinja2.UndefinedError as e:
        raise TemplateError(f"{where}: template uses something undefined: {e.message}") from None
    except SecurityError as e:
        raise TemplateError(f"{where}: template refused by the sandbox: {e}") from None
    except RecursionError:
        raise TemplateError(f"{where}: template is nested too deeply") from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, MemoryError,
            jinja2.TemplateError) as e:
        raise TemplateError(f"{where}: template failed: {e}") from None


