"""Read YAML into plain data plus the line and column of every key and value.

Built on libyaml's composer (C, where present) with our own scalar resolution, so
`yes`/`no`/`on`/`off` stay strings, `012` and dates stay text, duplicate keys and
object-building tags are refused, and alias bombs stop at a node budget.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..diagnostics import DM001, DM002, DM003, DM004, DM005, DM006, DM113
from ..errors import MapError, Where

try:  # libyaml's C composer when the wheel has it
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[Any, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_INPUT_BYTES = 64 * 1024 * 1024  # any other file read_text reads: answers, responses...
MAP_SIZE_HINT = ("split the map with hand-offs, or raise the limit with --max-bytes N "
                 "(LoadOptions(limits=Limits(max_bytes=N)))")
INPUT_SIZE_HINT = "is it the file you meant? Nothing read from a file needs this much"

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|(0|[1-9][0-9_]*)(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NULL = {"null", "Null", "NULL", "~", ""}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


@dataclass
class Positions:
    """Where each key and value stood: path -> (line, col), both 1-based."""

    file: str
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, *, key: bool = False) -> Where:
        """The closest recorded place for `path`, walking up until one is known."""
        p = tuple(path)
        while True:
            table = self.keys if key else self.values
            if p in table:
                line, col = table[p]
                return Where(self.file, line, col)
            if key and p in self.values:
                line, col = self.values[p]
                return Where(self.file, line, col)
            if not p:
                return Where(self.file, 1, 1)
            p = p[:-1]


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may make us build; raise them with care.

    `max_bytes`: the file's size in UTF-8 bytes (`--max-bytes`). `max_nodes`: YAML
    nodes built, every alias counted again where it is used (`--max-nodes`; this is
    what stops an alias bomb). `max_depth`: nesting of mappings and lists (no flag;
    libyaml itself stops at 1000 levels whatever this says).
    """

    max_bytes: int = MAX_BYTES
    max_nodes: int = MAX_NODES
    max_depth: int = MAX_DEPTH


def _too_deep(limit: int, where: Where) -> MapError:
    return MapError(
        DM004,
        f"nesting deeper than {limit} levels",
        where,
        hint="flatten the structure (or raise Limits(max_depth=N) in LoadOptions)",
    )


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of the character at `index` in `text`."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


MAX_DIGITS = 1000  # a plain number with more digits than this stays text


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag != _STD + "str" and not node.style:  # plain: None (Python) or "" (libyaml)
        v = node.value
        if v in _NULL:
            return None
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
        if len(v) > MAX_DIGITS:  # int() refuses over 4300 digits; nobody votes on those
            return v
        if _INT.match(v):
            return int(v.replace("_", ""))
        if _FLOAT.match(v) and any(c.isdigit() for c in v):
            return float(v.replace("_", ""))
    return node.value


class _Builder:
    def __init__(self, file: str, limits: Limits) -> None:
        self.pos = Positions(file)
        self.limits = limits
        self.count = 0
        self.seen: set[int] = set()  # nodes built once: meeting one again is an alias
        self.alias_in: Path | None = None  # the container of the outermost alias being built

    def _where(self, node: yaml.Node) -> Where:
        m = node.start_mark
        return Where(self.pos.file, m.line + 1, m.column + 1)

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if id(node) in self.seen and self.alias_in is None and path:
            self.alias_in = path[:-1]
            try:
                return self._build(node, path, depth)
            finally:
                self.alias_in = None
        self.seen.add(id(node))
        return self._build(node, path, depth)

    def _budget_where(self, node: yaml.Node) -> Where:
        """Where the expansion that passed the budget was written: the mapping or list
        holding the outermost alias being expanded, else the node itself."""
        if self.alias_in is not None and self.alias_in in self.pos.values:
            line, col = self.pos.values[self.alias_in]
            return Where(self.pos.file, line, col)
        return self._where(node)

    def _build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise MapError(
                DM004,
                f"the file expands to more than {self.limits.max_nodes} YAML nodes "
                "(an alias bomb?)",
                self._budget_where(node),
                hint="remove the repeated aliases, or raise the limit with --max-nodes N "
                "(LoadOptions(limits=Limits(max_nodes=N)))",
            )
        if depth > self.limits.max_depth:
            raise _too_deep(self.limits.max_depth, self._where(node))
        m = node.start_mark
        self.pos.values.setdefault(path, (m.line + 1, m.column + 1))
        tag = node.tag or ""
        if tag not in _ALLOWED_TAGS and tag not in ("!", "?"):
            raise MapError(
                DM003,
                f"the YAML tag {tag!r} is not allowed in a map",
                self._where(node),
                hint="maps are plain data: remove the tag",
            )
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, path + (i,), depth + 1) for i, v in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for k_node, v_node in node.value:
                if not isinstance(k_node, yaml.ScalarNode):
                    raise MapError(
                        DM002, "a key must be plain text", self._where(k_node)
                    )
                if k_node.tag == _STD + "merge":
                    raise MapError(
                        DM003,
                        "merge keys (<<) are not allowed in a map",
                        self._where(k_node),
                        hint="write the keys out",
                    )
                key = _scalar(k_node)
                if not isinstance(key, str):
                    key = k_node.value  # keys are always text: 1 -> "1", true -> "true"
                if key in out:
                    first = self.pos.keys.get(path + (key,))
                    at = f" (first at line {first[0]})" if first else ""
                    code = DM113 if path and path[-1] == "choices" else DM002
                    what = "choice value" if code is DM113 else "key"
                    raise MapError(
                        code,
                        f"duplicate {what} {key!r}{at}",
                        self._where(k_node),
                        hint="each key may appear once in a mapping",
                    )
                km = k_node.start_mark
                self.pos.keys[path + (key,)] = (km.line + 1, km.column + 1)
                out[key] = self.build(v_node, path + (key,), depth + 1)
            return out
        raise MapError(DM001, "unexpected YAML node", self._where(node))  # pragma: no cover


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_yaml(text: str, file: str, limits: Limits | None = None) -> tuple[Any, Positions]:
    """Parse one YAML document into plain data and positions, or raise MapError.

    Nothing else escapes: every problem is a MapError with a line and column (1-based).
    """
    limits = limits or Limits()
    if len(text) > limits.max_bytes or len(text.encode("utf-8", "surrogatepass")) > \
            limits.max_bytes:
        raise MapError(
            DM004,
            f"the file is larger than {limits.max_bytes} bytes",
            Where(file, 1, 1),
            hint="split the map with hand-offs, or raise the limit with --max-bytes N "
            "(LoadOptions(limits=Limits(max_bytes=N)))",
        )
    bad = _SURROGATE.search(text)
    if bad:  # only text built in memory can hold these; libyaml cannot encode them
        line, col = _line_col(text, bad.start())
        raise MapError(DM006, "the text holds a lone surrogate (not valid Unicode)",
                       Where(file, line, col), hint="save it as UTF-8")
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.reader.ReaderError as e:
            line, col = _line_col(text, e.position)
            ch = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "\0")
            raise MapError(
                DM001,
                f"YAML error: the character U+{ch:04X} is not allowed: {e.reason}",
                Where(file, line, col),
                hint='write control characters as escapes in a double-quoted string ("\\e")',
            ) from None
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = e.problem or e.context or "YAML syntax error"
            if "maximum nesting depth" in problem:  # libyaml's own bound (1000)
                raise _too_deep(min(limits.max_depth, 1000), Where(file, line, col)) from None
            raise MapError(
                DM001, f"YAML syntax error: {problem}", Where(file, line, col)
            ) from None
        except yaml.YAMLError as e:
            raise MapError(DM001, f"YAML error: {e}", Where(file, 1, 1)) from None
        except RecursionError:  # pragma: no cover - the pure-Python composer, deep nesting
            raise _too_deep(limits.max_depth, Where(file, 1, 1)) from None
    finally:
        loader.dispose()
    if root is None:
        raise MapError(DM001, "the file is empty", Where(file, 1, 1))
    builder = _Builder(file, limits)
    try:
        data = builder.build(root, (), 0)
    except RecursionError:  # a max_depth raised past what Python's stack allows
        raise _too_deep(limits.max_depth, Where(file, 1, 1)) from None
    return data, builder.pos


def read_text(path: str, max_bytes: int = MAX_INPUT_BYTES, hint: str = MAP_SIZE_HINT) -> str:
    """Read a file as UTF-8 text, with a located error for anything else.

    Reads no more than `max_bytes` (plus a byte-order mark): a bigger file, or an endless
    one like /dev/zero, is refused without being read whole. A FIFO is opened without
    waiting for a writer, so one nobody writes to reads as empty instead of hanging.
    """
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, os.O_RDONLY | nonblocking)
        with open(fd, "rb") as fh:
            if nonblocking:
                os.set_blocking(fd, True)  # then wait for a writer's data as usual
            raw = fh.read(max_bytes + 4)
    except FileNotFoundError:
        raise MapError(DM005, "no such file", Where(path, 0, 0)) from None
    except IsADirectoryError:
        raise MapError(DM005, "is a folder, not a file", Where(path, 0, 0)) from None
    except OSError as e:
        raise MapError(DM005, f"cannot read: {e.strerror}", Where(path, 0, 0)) from None
    except ValueError as e:  # a path with a NUL byte in it
        raise MapError(DM005, f"cannot read: {e}", Where(path, 0, 0)) from None
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if len(body) > max_bytes:
        raise MapError(DM004, f"the file is larger than {max_bytes} bytes",
                       Where(path, 1, 1), hint=hint)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise MapError(
            DM006, "the file is not UTF-8 text", Where(path, line, col),
            hint="save it as UTF-8",
        ) from None
