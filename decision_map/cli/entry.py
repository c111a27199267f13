"""The console script's door: answer `check MAP...` (cached, or checked there and then)
before the command-line library is imported, run everything else through cli/main.py,
and leave without interpreter teardown.

Teardown after the answer is flushed freed every object one by one (about 0.25 s after
checking a 10,000-node map, seconds after a large batch) for nobody: `os._exit` ends the
process once stdout and stderr are flushed. Importing typer (and with it click and rich)
took most of a cached `check` and a tenth of a CPU second of any other; the check and
its cache need none of it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..errors import Diagnostic

# `check` arguments the fast path understands; any other option takes the full command line
_FAST_FLAGS = {"--strict", "--no-cache"}


def _check_now(path: str) -> tuple[list[Diagnostic], list[tuple[str, str | None]]] | None:
    """Check one map with the default limits and store the answer as `check` does; None
    when the check raised (the full command line then runs it again and reports it)."""
    try:
        from ..check.checks import check_file_with_deps
        from ..io.loader import LoadOptions

        return check_file_with_deps(path, LoadOptions())
    except Exception:  # reported by the full command line, as it always was
        return None


def _fast_check(args: list[str]) -> int | None:
    """The exit code of `check [--strict] [--no-cache] MAP...`, answered from the result
    cache or by checking without typer, click or rich (about 0.1 s of CPU), and printed as
    the full command prints it; None when the command line is needed (another option, a
    shipped map's name, a check that raised)."""
    if not args or args[0] != "check":
        return None
    rest = args[1:]
    maps = [a for a in rest if not a.startswith("-")]
    if not maps or any(a.startswith("-") and a not in _FAST_FLAGS for a in rest):
        return None
    if not all(os.path.isfile(m) for m in maps):  # shipped-map names: the full CLI
        return None
    import json
    from pathlib import Path

    from ..check import cache
    from .output import clean

    use_cache = "--no-cache" not in rest and os.environ.get("DECISION_MAP_NO_CACHE") != "1"
    options_key = json.dumps((None, None, None, False))  # as `check` keys default limits
    seen: set[tuple[str, str, str]] = set()
    diags = []
    for m in maps:
        path = os.fspath(Path(m))  # as typer hands `check` the argument
        found = cache.lookup(path, options_key) if use_cache else None
        if found is None:
            checked = _check_now(path)
            if checked is None:
                return None
            found, deps = checked
            if use_cache:
                cache.store(path, options_key, found, deps)
        for d in found:
            k = (str(d.where), d.code, d.message)
            if k not in seen:
                seen.add(k)
                diags.append(d)
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    out = [clean(d.line(), one_line=True) for d in diags]
    files = f"{len(maps)} map{'s' if len(maps) != 1 else ''}"
    out.append(f"{files} checked: {errors} error(s), {warnings} warning(s)")
    sys.stdout.write("\n".join(out) + "\n")
    return 1 if errors or ("--strict" in rest and warnings) else 0


def main(argv: list[str] | None = None) -> None:
    """Run the command, flush its output, and exit without tearing the interpreter down."""
    args = list(sys.argv[1:] if argv is None else argv)
    code: object = 0
    try:
        try:
            fast = _fast_check(args)
        except KeyboardInterrupt:  # as the full command line says it
            sys.stderr.write("decision-map: interrupted\n")
            fast = 130
        if fast is not None:
            code = fast
        else:
            from .main import main as full

            full(args)
    except SystemExit as e:
        code = e.code
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing more can be said
        pass
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    os._exit(code)
