"""Read YAML into plain data plus the line and column of every key and value.

Built on libyaml's composer (C, where present) with our own scalar resolution, so
`yes`/`no`/`on`/`off` stay strings, `012` and dates stay text, duplicate keys and
object-building tags are refused, and alias bombs stop at a node budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import MapError, Where

try:  # libyaml's C composer when the wheel has it
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[Any, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64

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


@dataclass
class Limits:
    """Bounds on what one file may make us build; raise them with care."""

    max_bytes: int = MAX_BYTES
    max_nodes: int = MAX_NODES
    max_depth: int = MAX_DEPTH


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag != _STD + "str" and not node.style:  # plain: None (Python) or "" (libyaml)
        v = node.value
        if v in _NULL:
            return None
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
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

    def _where(self, node: yaml.Node) -> Where:
        m = node.start_mark
        return Where(self.pos.file, m.line + 1, m.column + 1)

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise MapError(
                "DM004",
                f"the file expands to more than {self.limits.max_nodes} YAML nodes "
                "(an alias bomb?)",
                self._where(node),
                hint="remove the repeated aliases, or raise the limit with --max-nodes",
            )
        if depth > self.limits.max_depth:
            raise MapError(
                "DM004",
                f"nesting deeper than {self.limits.max_depth} levels",
                self._where(node),
                hint="flatten the structure",
            )
        m = node.start_mark
        self.pos.values.setdefault(path, (m.line + 1, m.column + 1))
        tag = node.tag or ""
        if tag not in _ALLOWED_TAGS and tag not in ("!", "?"):
            raise MapError(
                "DM003",
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
                        "DM002", "a key must be plain text", self._where(k_node)
                    )
                if k_node.tag == _STD + "merge":
                    raise MapError(
                        "DM003",
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
                    code = "DM113" if path and path[-1] == "choices" else "DM002"
                    what = "choice value" if code == "DM113" else "key"
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
        raise MapError("DM001", "unexpected YAML node", self._where(node))  # pragma: no cover


def parse_yaml(text: str, file: str, limits: Limits | None = None) -> tuple[Any, Positions]:
    """Parse one YAML document into plain data and positions, or raise MapError."""
    limits = limits or Limits()
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise MapError(
            "DM004",
            f"the file is larger than {limits.max_bytes} bytes",
            Where(file, 1, 1),
            hint="split the map with hand-offs, or raise the limit with --max-bytes",
        )
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = e.problem or e.context or "YAML syntax error"
            raise MapError(
                "DM001", f"YAML syntax error: {problem}", Where(file, line, col)
            ) from None
        except yaml.YAMLError as e:
            raise MapError("DM001", f"YAML error: {e}", Where(file, 1, 1)) from None
    finally:
        loader.dispose()
    if root is None:
        raise MapError("DM001", "the file is empty", Where(file, 1, 1))
    builder = _Builder(file, limits)
    data = builder.build(root, (), 0)
    return data, builder.pos


def read_text(path: str) -> str:
    """Read a file as UTF-8 text, with a located error for anything else."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise MapError("DM005", "no such file", Where(path, 0, 0)) from None
    except IsADirectoryError:
        raise MapError("DM005", "is a folder, not a file", Where(path, 0, 0)) from None
    except OSError as e:
        raise MapError("DM005", f"cannot read: {e.strerror}", Where(path, 0, 0)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise MapError(
            "DM006", "the file is not UTF-8 text", Where(path, line, col),
            hint="save it as UTF-8",
        ) from None
