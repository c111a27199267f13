"""Reading a trace file (`run --trace` writes them) with its format checked.

The trace's own format (and what is read) is described in `decision_map.model.trace`;
this module adds the file: a bound on its size, its encoding, and one located line for
whatever is wrong, so every command that reads a trace refuses it the same way.
"""

from __future__ import annotations

import json
import os

from ..errors import InputError, MapError
from ..model.fields import MAX_DEPTH, FieldError, too_deep
from ..model.trace import Trace, TraceFormatError
from .yaml_source import read_text

MAX_TRACE_BYTES = 64 * 1024 * 1024
SESSION_FORMAT = "decision-map-session"  # the `format` a session file names (io.session)


def read_trace(path: str | os.PathLike[str], max_bytes: int = MAX_TRACE_BYTES) -> Trace:
    """A trace from `path` (format 1 or 2), or an InputError naming the file and the one
    thing wrong: not JSON, a session instead, a format from the future, a broken field."""
    where = os.fspath(path)
    try:
        text = read_text(where, max_bytes)
    except MapError as e:
        raise InputError(e.diagnostic.message, where) from None
    data = parse_json(text, where, "a trace")
    if isinstance(data, dict) and data.get("format") == SESSION_FORMAT:
        raise InputError("a session file, not a trace: resume it with `decision-map step "
                         f"--resume {where}` and write the report at its outcome", where)
    if not isinstance(data, dict) or not isinstance(data.get("map"), dict):
        raise InputError("not a trace: no `map` (write one with `decision-map run MAP "
                         "ANSWERS --trace FILE`)", where)
    try:
        return Trace.from_json(data)
    except (TraceFormatError, FieldError) as e:
        raise InputError(str(e), where) from None


def parse_json(text: str, where: str, what: str) -> object:
    """JSON text as data, or an InputError: not JSON, or nested deeper than MAX_DEPTH
    (refused before any reader walks it, and never a RecursionError)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not {what}: not JSON ({e.msg} at line {e.lineno}, column "
                         f"{e.colno})", where) from None
    except RecursionError:
        data = None
    else:
        if not too_deep(data):
            return data
    raise InputError(f"not {what}: lists and objects nest deeper than {MAX_DEPTH}", where)
