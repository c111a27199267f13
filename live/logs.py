"""Structured logs: one JSON object a line on stderr, for a log collector to read.

What may be logged is decided here, not at each call: a line carries only the fields named
in FIELDS (numbers, methods, statuses, room ids, event kinds). Member names, ballots,
reasons, join codes and keys never reach a log line: paths lose their query string and
join codes, and an exception is logged by its type and place, not its message (a message
can quote what a member typed).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any

LOGGER = "decision_map_live"
# The only fields a line may carry beside time, level, logger and event.
FIELDS = frozenset({
    "method", "path", "status", "ms", "bytes", "client", "stream", "rooms", "rows",
    "kept", "room", "seq", "kind", "pid", "host", "port", "https", "proxies", "room_ttl_s",
    "report_ttl_s", "sweep_every_s", "reason",
})
HANDLER = "decision-map-json"  # the name our handler goes by (so a second call replaces it)
MAX_FIELD = 200  # characters of one field's value at most


# uvicorn's messages whose text arguments are the operator's own (scheme, bind address,
# socket path), not a request's: these keep them. Any other message keeps only its numeric
# arguments (a process id, a count); a text argument, which in uvicorn's other lines can be
# a client's path and query string or an error's message, is written as "-".
OPERATORS_TEXT = frozenset({
    "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)",
    "Uvicorn running on unix socket %s (Press CTRL+C to quit)",
})


def message(record: logging.LogRecord) -> str:
    """The record's message with its %-arguments put in, as far as they may be logged (see
    OPERATORS_TEXT); never more than MAX_FIELD characters."""
    template = str(record.msg)
    args = record.args
    if not args:
        return template[:MAX_FIELD]
    if not isinstance(args, tuple):  # a mapping: named arguments, never ours or uvicorn's
        return template[:MAX_FIELD]
    keep = template in OPERATORS_TEXT
    safe = tuple(a if keep or (isinstance(a, (int, float)) and not isinstance(a, bool))
                 else "-" for a in args)
    try:
        text = template % safe
    except (TypeError, ValueError):  # "%d" given "-": the template alone
        text = template
    return text[:MAX_FIELD]


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: `t`, `level`, `logger`, `event`, then allowed fields. The
    event is the record's message with only the arguments that may be logged put in
    (`message`): uvicorn's text arguments can hold request text, and ours are fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's one line."""
        line: dict[str, Any] = {
            "t": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": message(record),
        }
        for k, v in (getattr(record, "fields", None) or {}).items():
            if k in FIELDS:
                line[k] = v if isinstance(v, (int, float, bool)) or v is None \
                    else str(v)[:MAX_FIELD]
        if record.exc_info and record.exc_info[0] is not None:
            etype, _, tb = record.exc_info
            line["error"] = etype.__name__
            frames = traceback.extract_tb(tb)[-3:]
            line["where"] = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                             for f in frames]
        return json.dumps(line, ensure_ascii=False)


def log(level: int, event: str, **fields: Any) -> None:
    """Write one line from the live room (`event` is a fixed phrase, never user text)."""
    logging.getLogger(LOGGER).log(level, event, extra={"fields": fields})


def configure(level: str) -> None:
    """Send the live room's and uvicorn's logs through the JSON formatter on stderr, at
    `level`; uvicorn's own access log is off (the access lines are ours, see ops.py)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.set_name(HANDLER)
    for name in (LOGGER, "uvicorn"):
        lg = logging.getLogger(name)
        # ours from an earlier call and uvicorn's plain-text ones go; any other stays
        lg.handlers = [h for h in lg.handlers if h.get_name() != HANDLER and not
                       type(h.formatter).__module__.startswith("uvicorn")]
        lg.handlers.append(handler)
        lg.propagate = False
        lg.setLevel(level.upper())
    errors = logging.getLogger("uvicorn.error")  # goes up to "uvicorn"
    errors.handlers, errors.propagate = [], True
    errors.setLevel(level.upper())
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate, access.disabled = [], False, True
