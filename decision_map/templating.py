"""Outcome texts are Jinja2 templates written by map authors: untrusted text.

They run in Jinja2's immutable sandbox with StrictUndefined, so a template can read the
walk's answers but cannot reach attributes like `__class__`, mutate data or loop forever
over something huge without hitting the output cap.
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import DecisionMapError

# Names an outcome's text may use.
TEMPLATE_NAMES = frozenset({"answers", "statuses", "texts", "group", "map", "outcome"})
MAX_OUTPUT = 100_000
MAX_RANGE = 10_000


class TemplateError(DecisionMapError):
    """A template that does not parse, uses a missing name, or tries something unsafe."""


class _Env(ImmutableSandboxedEnvironment):
    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False)
        self.globals = {"range": _safe_range}


def _safe_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise jinja2.sandbox.SecurityError(f"range of {len(r)} items is over {MAX_RANGE}")
    return r


ENV = _Env()


def undeclared(source: str) -> set[str]:
    """Names a template reads that it does not set itself; raises TemplateSyntaxError."""
    return set(meta.find_undeclared_variables(ENV.parse(source)))


def render_text(source: str, context: dict[str, Any], where: str) -> str:
    """Render an author's template; any failure is one TemplateError line naming `where`."""
    try:
        template = ENV.from_string(source)
        out = template.render(**context)
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{where}: template line {e.lineno}: {e.message}") from None
    except jinja2.UndefinedError as e:
        raise TemplateError(f"{where}: template uses something undefined: {e.message}") from None
    except jinja2.sandbox.SecurityError as e:
        raise TemplateError(f"{where}: template refused by the sandbox: {e}") from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
        raise TemplateError(f"{where}: template failed: {e}") from None
    if len(out) > MAX_OUTPUT:
        raise TemplateError(f"{where}: template output is over {MAX_OUTPUT} characters")
    return out
