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


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: `t`, `level`, `logger`, `event`, then allowed fields. The
    event is the record's fixed message without its %-arguments: uvicorn's arguments can hold
    request text, and ours are passed as fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's one line."""
        line: dict[str, Any] = {
            "t": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": str(record.msg)[:MAX_FIELD],  # never its arguments (see below)
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
