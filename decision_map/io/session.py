"""A stepping session as plain data: which map, which group, the submissions so far.

No printing and no prompting here: `decision-map step` (cli/step_cmd.py) drives it.

A session file is JSON, written atomically after every step with the previous good copy
kept as FILE.bak (see `save`). `load` validates it and says where it is broken. While a
session is open its FILE.lock holds an exclusive `flock` and the owner's pid, so two
terminals cannot step the same session at once (the kernel drops the lock when the
owner dies, even by SIGKILL).

Format (format_version 2; `decision_map.model.versions.SESSION` says what is read):

    {
      "format": "decision-map-session",
      "format_version": 2,
      "map": {"path": "/abs/map.yaml", "id": "...", "version": "1.0",
              "sha256": "...", "title": "..."},
      "group": ["Ana", "Ben", "Cy"],           # the group at the start
      "group_now": ["Ana", "Cy", "Dee"],       # only when members joined or left since
      "submissions": [{"map_id": "...", "node": "...",
                       "scope": ["hand-off-node"],   # the hand-off stack, [] at the top
                       "ballots": [{"member": "Ana", "value": "yes"}, ...]}, ...],
      "mode": "members",                      # or "tally": how the group last voted
      "created": "2024-05-01T10:00:00+00:00",
      "updated": "2024-05-01T10:20:00+00:00",
      "outcome": null,                        # the outcome node id once the walk ended
      "set_aside": [],                        # saved steps a changed map no longer took
      "paused": {"before": "...", "note": "...", "at": "..."}   # only while paused
    }

`paused` is written when the group chose to continue a hand-off at the next meeting:
what comes next, the facilitator's note and when; the next `step --resume` shows them and
goes on into the hand-off.

A submission carries `group` (the group at that question) when members had joined or
left since the step before, and may carry `amendments`, `notes` and `actions`.

Format 1 had no `scope` on submissions; it is still read (a replay then checks only the
map and the question of each saved step) and written back as format 2. A file of a
newer format is refused in one line naming both versions.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError
from ..model.decision import Ballot
from ..model.fields import MAX_DEPTH, FieldError, Fields, too_deep
from ..model.submission import Submission
from ..model.trace import (
    MAX_SCOPE,
    TraceFormatError,
    minutes_from_json,
    owners_from_json,
    owners_json,
)
from ..model.versions import SESSION
from .atomic import write_atomic
from .loader import DecisionMap


class Walked(Protocol):
    """What a session takes from a walk (the engine's `Walk`, which lives above this
    floor): the map, the group, the submissions and the trace."""

    dm: DecisionMap
    group: list[str]
    submissions: list[Submission]
    trace: Any

SESSION_FORMAT = "decision-map-session"
SESSION_FORMAT_VERSION = SESSION.current
MODES = ("members", "tally")
MAX_SESSION_BYTES = 64 * 1024 * 1024  # a session is read no further (docs/safety.md)


class SessionError(InputError):
    """A session file that cannot be read or used; the message says which and where."""


class SessionFormatError(SessionError):
    """A session file of a format this program does not read (a newer release wrote it):
    not broken, so never replaced by its backup."""


class SessionLocked(SessionError):
    """Another process has the session open."""

    def __init__(self, path: str, pid: int | None) -> None:
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"this session is open in {who} (another terminal?); close it there first, "
            f"or end that process", path)


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Session:
    """Everything needed to continue a walk: replaying `submissions` rebuilds it exactly."""

    map_path: str
    map_id: str
    map_version: str
    map_sha256: str
    map_title: str
    group: list[str]
    submissions: list[Submission] = field(default_factory=list)
    mode: str = "members"
    created: str = field(default_factory=now_iso)
    updated: str = field(default_factory=now_iso)
    outcome: str | None = None
    set_aside: list[dict[str, Any]] = field(default_factory=list)
    # the outcome's next steps given an owner and a date: number -> (who, by)
    owners: dict[int, tuple[str, str]] = field(default_factory=dict)
    # the group now, when members joined or left since the start (None: as `group`)
    group_now: list[str] | None = None
    # paused before a hand-off, to continue at the next meeting: before, note, at
    paused: dict[str, str] | None = None

    @classmethod
    def start(cls, dm: DecisionMap, group: Sequence[str]) -> Session:
        return cls(
            map_path=os.path.abspath(dm.path), map_id=dm.id, map_version=dm.version,
            map_sha256=dm.sha256, map_title=dm.model.title, group=list(group),
        )

    def update_from(self, walk: Walked, mode: str | None = None) -> None:
        """Take the walk's submissions (and the map it walks) into the session."""
        dm = walk.dm
        self.map_path = os.path.abspath(dm.path)
        self.map_id, self.map_version, self.map_sha256 = dm.id, dm.version, dm.sha256
        self.map_title = dm.model.title
        start = list(getattr(walk, "start_group", walk.group))
        self.group = start
        self.group_now = list(walk.group) if list(walk.group) != start else None
        self.submissions = list(walk.submissions)
        self.outcome = walk.trace.outcome
        self.owners = dict(getattr(walk.trace, "owners", {}))
        if mode is not None:
            self.mode = mode
        self.updated = now_iso()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SESSION_FORMAT,
            "format_version": SESSION_FORMAT_VERSION,
            "map": {"path": self.map_path, "id": self.map_id, "version": self.map_version,
                    "sha256": self.map_sha256, "title": self.map_title},
            "group": list(self.group),
            **({"group_now": list(self.group_now)} if self.group_now is not None else {}),
            "submissions": [s.to_json() for s in self.submissions],
            "mode": self.mode,
            "created": self.created,
            "updated": self.updated,
            "outcome": self.outcome,
            "set_aside": list(self.set_aside),
            **({"next_step_owners": owners_json(self.owners)} if self.owners else {}),
            **({"paused": dict(self.paused)} if self.paused is not None else {}),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, d: Any, where: str = "<session>") -> Session:
        """Validate and build; every problem is a SessionError naming the field."""

        def bad(what: str) -> SessionError:
            return SessionError(what, where)

        if not isinstance(d, dict):
            raise bad("not a session file (the top level is not a JSON object)")
        if d.get("format") != SESSION_FORMAT:
            raise bad(f"not a session file (\"format\" is {d.get('format')!r}, expected "
                      f"{SESSION_FORMAT!r})")
        problem = SESSION.problem(d.get("format_version"))
        if problem:
            raise SessionFormatError(problem, where)
        try:
            return cls._read(Fields(d))
        except FieldError as e:
            raise bad(str(e)) from None

    @classmethod
    def _read(cls, f: Fields) -> Session:
        """The session in `f` (format checked already), every field's type checked."""
        m = f.obj("map")
        for key in ("path", "id", "version", "sha256"):
            if not m.text(key):
                raise FieldError(f"{m.at(key)}: empty")
        group = [g.strip() for g in f.texts("group")]
        if not group or not all(group):
            raise FieldError("group: must be a non-empty list of names")
        subs = [_submission(s) for s in f.objects("submissions")]
        mode = f.text("mode", "members")
        outcome = f.data.get("outcome")
        return cls(
            map_path=m.text("path"), map_id=m.text("id"), map_version=m.text("version"),
            map_sha256=m.text("sha256"), map_title=m.text_or_none("title") or m.text("id"),
            group=group, submissions=subs,
            mode=mode if mode in MODES else "members",
            created=f.text_or_none("created") or now_iso(),
            updated=f.text_or_none("updated") or now_iso(),
            outcome=outcome if isinstance(outcome, str) else None,
            set_aside=[s.data for s in f.objects("set_aside", [])],
            owners=_owners(f),
            group_now=_group_now(f),
            paused=_paused(f),
        )


def _submission(f: Fields) -> Submission:
    """One saved submission, its ballots checked (lists of choices come back as tuples)."""
    scope = None
    if f.data.get("scope") is not None:
        scope = tuple(f.texts("scope"))
        if len(scope) > MAX_SCOPE:
            raise FieldError(f"{f.at('scope')}: hand-offs nest deeper than {MAX_SCOPE}")
    group = None if f.data.get("group") is None else tuple(f.texts("group"))
    return Submission(f.text("map_id"), f.text("node"), tuple(
        Ballot.from_json(b, path) for path, b in f.items("ballots")), scope,
        minutes_from_json(f.data, f.path), group, f.data.get("revisit") is True)


def _group_now(f: Fields) -> list[str] | None:
    """The group now, when members joined or left since the start."""
    if f.data.get("group_now") is None:
        return None
    got = [g.strip() for g in f.texts("group_now")]
    if not got or not all(got):
        raise FieldError("group_now: must be a non-empty list of names")
    return got


MAX_PAUSE_NOTE = 2000  # the note left for the next meeting is read no further


def _paused(f: Fields) -> dict[str, str] | None:
    """Why and where the walk is paused, each part text of a bounded length."""
    if f.data.get("paused") is None:
        return None
    p = f.obj("paused")
    out = {k: p.text_or_none(k) or "" for k in ("before", "note", "at")}
    for k, v in out.items():
        if len(v) > MAX_PAUSE_NOTE:
            raise FieldError(f"{p.at(k)}: longer than {MAX_PAUSE_NOTE} characters")
    return out


def _owners(f: Fields) -> dict[int, tuple[str, str]]:
    try:
        return owners_from_json(f.data.get("next_step_owners", []))
    except TraceFormatError as e:
        raise FieldError(f"next_step_owners: {e}") from None


# ---------------------------------------------------------------- files


def default_session_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("decision-map")) / "sessions"


def new_session_path(map_id: str, folder: Path | None = None,
                     when: datetime | None = None) -> Path:
    """<folder>/<map-id>-<YYYYmmdd-HHMMSS>.json, with -2, -3... if that name is taken."""
    folder = folder or default_session_dir()
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe_id = re.sub(r"[^A-Za-z0-9_.-]", "-", map_id) or "map"
    path = folder / f"{safe_id}-{stamp}.json"
    n = 2
    while path.exists() or Path(str(path) + ".lock").exists():
        path = folder / f"{safe_id}-{stamp}-{n}.json"
        n += 1
    return path


def save(session: Session, path: str | os.PathLike[str]) -> None:
    """Write atomically, readable by its owner only (it holds the group's votes); the
    previous good file stays as FILE.bak."""
    write_atomic(os.fspath(path), session.dumps(), backup=True, private=True)


def load(path: str | os.PathLike[str]) -> Session:
    """Read and validate a session file; a SessionError says what is wrong where."""
    p = os.fspath(path)
    try:
        # bounded, and a FIFO opened without waiting for a writer: never read for ever
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as fh:
            os.set_blocking(fd, True)
            raw = fh.read(MAX_SESSION_BYTES + 1)
    except FileNotFoundError:
        raise SessionError("no such session file", p) from None
    except OSError as e:
        raise SessionError(f"cannot read it ({e.strerror})", p) from None
    if len(raw) > MAX_SESSION_BYTES:
        raise SessionError(f"larger than {MAX_SESSION_BYTES} bytes: not a session file", p)
    if not raw.strip():
        raise SessionError("the session file is empty (cut short while being written?)", p)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SessionError(f"not UTF-8 text (byte {e.start})", p) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        cut = "; the file looks cut short" if not text.rstrip().endswith("}") else ""
        raise SessionError(f"broken JSON at line {e.lineno}, column {e.colno} ({e.msg}{cut})",
                           p) from None
    except RecursionError:
        data = None
    if data is None or too_deep(data):
        raise SessionError(f"not a session file: lists and objects nest deeper than "
                           f"{MAX_DEPTH}", p)
    return Session.from_json(data, p)


def backup_path(path: str | os.PathLike[str]) -> str:
    return os.fspath(path) + ".bak"


def load_backup(path: str | os.PathLike[str]) -> Session | None:
    """The session's .bak if it exists and is valid, else None."""
    bak = backup_path(path)
    if not os.path.isfile(bak):
        return None
    try:
        return load(bak)
    except SessionError:
        return None


# ---------------------------------------------------------------- replay


# ---------------------------------------------------------------- lock


class SessionLock:
    """An exclusive lock on FILE.lock holding the owner's pid; released on close or death."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path) + ".lock"
        self._fd: int | None = None

    def acquire(self) -> SessionLock:
        import fcntl

        os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                text = os.read(fd, 64).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
            pid = int(text) if text.isdigit() else None
            raise SessionLocked(self.path[: -len(".lock")], pid) from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> SessionLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
