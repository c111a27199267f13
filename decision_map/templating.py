"""Outcome texts are Jinja2 templates written by map authors: untrusted text.

They run in Jinja2's immutable sandbox with StrictUndefined, and more: no constant
folding at parse time (so checking a map never computes `2**(2**40)`), `*` and `**` are
bounded, `range` draws from one budget per render, output is streamed and capped, and
only a small allowlist of filters exists. Macros, includes and imports are refused, since
recursion is the one way left to grow text without bound.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .errors import DecisionMapError

# Names an outcome's text may use.
TEMPLATE_NAMES = frozenset({"answers", "statuses", "texts", "group", "map", "outcome", "range"})
MAX_OUTPUT = 100_000
MAX_RANGE_ITEMS = 10_000  # across all the range() calls of one render
MAX_REPEAT = 10_000  # items or characters made by `*` on a string or list
MAX_EXPONENT = 64
SAFE_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "int",
    "join", "last", "length", "list", "lower", "max", "min", "reverse", "round", "sort",
    "string", "sum", "title", "trim", "unique", "upper", "wordcount", "map", "select",
    "reject", "dictsort", "items", "batch", "slice",
})
FORBIDDEN_NODES = (nodes.Macro, nodes.CallBlock, nodes.Include, nodes.Import,
                   nodes.FromImport, nodes.Extends, nodes.Block)


class TemplateError(DecisionMapError):
    """A template that does not parse, uses a missing name, or tries something unsafe."""


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_RANGE_ITEMS

    def range(self, *args: int) -> range:
        r = range(*args)
        self.left -= len(r)
        if self.left < 0:
            raise SecurityError(f"range() makes more than {MAX_RANGE_ITEMS} items in all")
        return r


class _Env(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, optimized=False)
        self.globals = {}
        self.filters = {k: v for k, v in self.filters.items() if k in SAFE_FILTERS}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, numbers.Number) and abs(right) > MAX_EXPONENT:  # type: ignore[arg-type]
                raise SecurityError(f"an exponent above {MAX_EXPONENT} is refused")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    if len(seq) * max(times, 0) > MAX_REPEAT:
                        raise SecurityError(f"repeating makes more than {MAX_REPEAT} items")
        return super().call_binop(context, operator, left, right)


# Private: author text is compiled only by `_compiled`, after `_parse` has vetted it.
_SANDBOX = _Env()


def _parse(source: str) -> nodes.Template:
    tree = _SANDBOX.parse(source)
    for kind in FORBIDDEN_NODES:
        found = next(iter(tree.find_all(kind)), None)
        if found is not None:
            raise jinja2.TemplateSyntaxError(
                f"{kind.__name__.lower()} is not allowed in a map's text", found.lineno)
    for f in tree.find_all(nodes.Filter):
        if f.name not in SAFE_FILTERS:
            raise jinja2.TemplateSyntaxError(f"the filter {f.name!r} is not allowed",
                                             f.lineno)
    return tree


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    """Parse, vet and compile once per distinct text (a batch renders one outcome's text
    for thousands of groups)."""
    return _SANDBOX.from_string(_parse(source))


@functools.lru_cache(maxsize=256)
def undeclared(source: str) -> frozenset[str]:
    """Names a template reads that it does not set itself; raises TemplateSyntaxError
    (or TemplateError for a template too deeply nested to read)."""
    try:
        return frozenset(meta.find_undeclared_variables(_parse(source)))
    except RecursionError:
        raise jinja2.TemplateSyntaxError("the template is nested too deeply", 1) from None


def _capped(chunks: Iterator[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"the text is longer than {MAX_OUTPUT} characters")
        out.append(chunk)
    return "".join(out)


def render_text(source: str, context: dict[str, Any], where: str) -> str:
    """Render an author's template; any failure is one TemplateError line naming `where`."""
    try:
        template = _compiled(source)
        budget = _Budget()
        return _capped(template.generate(**context, range=budget.range))
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
