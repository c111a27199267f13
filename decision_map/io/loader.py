"""Load a map file: YAML -> pydantic models -> a networkx graph, with hand-offs resolved.

Every error points at `file:line:col`. A validated map is cached in-process by its
content hash, so a second load of the same bytes costs a hash, and never goes stale.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..diagnostics import DM100, DM111, DM115, DM116, DM117, registered
from ..errors import Diagnostic, MapError, Where
from ..gcpause import paused
from ..model.format import MapFile, Outcome
from ..model.graph import build_graph
from ..model.suggest import Suggester
from .yaml_source import Limits, Positions, parse_yaml, read_text

if TYPE_CHECKING:
    import networkx as nx

MAX_HANDOFF_DEPTH = 8
MAX_HANDOFF_LOADS = 256


@dataclass
class LoadOptions:
    """What a user may loosen on the command line.

    `limits`: bounds on each file (`--max-bytes`, `--max-nodes`; see yamlsrc.Limits).
    `allow_outside`: let hand-offs name maps outside the naming map's folder
    (`--allow-outside`). `max_handoff_depth`: how many hand-offs deep maps may nest
    (`--max-handoff-depth`; the top map is depth 0). `max_handoff_loads`: how many
    hand-off maps one load may load in all (each hand-off node loads its map again, so
    a few maps that each hand off many times would otherwise multiply).
    """

    limits: Limits = field(default_factory=Limits)
    allow_outside: bool = False
    max_handoff_depth: int = MAX_HANDOFF_DEPTH
    max_handoff_loads: int = MAX_HANDOFF_LOADS


@dataclass
class _Budget:
    """One top-level load: how many distinct maps it loaded, and each one's result, so
    twenty hand-offs to the same map read and validate it once."""

    loads: int = 0
    done: dict[str, DecisionMap | MapError] = field(default_factory=dict)
    suggest: Suggester = field(default_factory=Suggester)  # "did you mean" for missing maps
    listings: dict[str, list[str]] = field(default_factory=dict)  # folder -> names, read once
    # hand-off files that were missing (None) or did not load (their hash then), so a
    # cached load is not reused once one of them is written or mended
    absent: dict[str, str | None] = field(default_factory=dict)


@dataclass
class HandoffLink:
    """How a hand-off node resolved: the map it names, or why it did not load."""

    target: str
    loaded: DecisionMap | None = None
    problem: Diagnostic | None = None


@dataclass(eq=False)
class DecisionMap:
    """A loaded, validated map: the model, where each key stood, and its graph."""

    path: str
    model: MapFile
    positions: Positions
    sha256: str
    handoffs: dict[str, HandoffLink] = field(default_factory=dict)
    _graph: nx.DiGraph | None = field(default=None, repr=False)

    @property
    def graph(self) -> nx.DiGraph:
        """The map as a networkx graph, built on first use: the checker and route analysis
        need it; drawing, walking and reporting do not pay for networkx."""
        if self._graph is None:
            self._graph = build_graph(self.model)
        return self._graph

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def nodes(self) -> dict[str, Any]:
        return self.model.nodes

    def where(self, *path: Any, key: bool = False) -> Where:
        return self.positions.where(path, key=key)

    def outcomes(self) -> dict[str, Outcome]:
        return {k: v for k, v in self.model.nodes.items() if isinstance(v, Outcome)}

    def _repr_svg_(self) -> str | None:
        """Notebooks show the map as a picture, drawn by an installed renderer."""
        from ..notebook import svg_for

        return svg_for(self)


_CACHE: dict[tuple[str, str, Limits], tuple[MapFile, Positions]] = {}

@functools.cache
def _all_keys() -> list[str]:
    from ..model import format as f

    keys: set[str] = set()
    for obj in vars(f).values():
        if isinstance(obj, type) and issubclass(obj, f.Strict):
            for name, info in obj.model_fields.items():
                keys.add(info.alias or name)
    return sorted(keys)


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Map a pydantic error location to a path in the data (tags are skipped)."""
    path: list[Any] = []
    cur = data
    for i, el in enumerate(loc):
        after = loc[i + 1] if i + 1 < len(loc) else None
        if (isinstance(cur, dict) and el in cur and isinstance(after, str) and after in cur
                and not (isinstance(cur[el], dict) and after in cur[el])):
            continue  # a union's tag that is also a key here (a check's `check`): skip it
        if isinstance(cur, dict) and el in cur:
            cur = cur[el]
            path.append(el)
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            cur = cur[el]
            path.append(el)
    return tuple(path)


def _describe(path: tuple[Any, ...]) -> str:
    if len(path) >= 2 and path[0] == "nodes":
        rest = ".".join(str(p) for p in path[2:])
        return f"node {path[1]!r}" + (f" {rest}" if rest else "")
    return ".".join(str(p) for p in path) or "the map"


# Keys that some kinds of node may not carry, and why, said where one is written anyway.
KEY_HINTS = {
    "time": "a check asks no one, so it takes no time, and a hand-off's time is its map's "
            "longest route (computed); remove it here",
}


def schema_diagnostics(err: ValidationError, data: Any, pos: Positions) -> list[Diagnostic]:
    """Turn pydantic's errors into located diagnostics (DM100)."""
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    known = _all_keys()
    suggest = Suggester()
    for e in err.errors():
        loc = tuple(e["loc"])
        path = _data_path(data, loc)
        kind = e["type"]
        hint = None
        if kind == "extra_forbidden":
            key = loc[-1]
            where = pos.where(path, key=True)
            msg = f"{_describe(path[:-1])}: unknown key {key!r}"
            if key in KEY_HINTS:
                hint = KEY_HINTS[key]
            elif key in known:  # a real key, of another kind of node: no look-alike helps
                hint = f"{key!r} belongs to another kind of node; remove it here"
            else:
                close = suggest.closest(str(key), known)
                hint = f"did you mean {close!r}?" if close else "remove it"
        elif kind == "missing":
            where = pos.where(path, key=True)
            msg = f"{_describe(path)}: missing key {loc[-1]!r}"
        else:
            where = pos.where(path)
            text = str(e["msg"]).removeprefix("Value error, ")
            msg = f"{_describe(path)}: {text}"
        if (str(where), msg) in seen:
            continue
        seen.add((str(where), msg))
        out.append(Diagnostic.of(DM100, msg, where, hint))
    return out


def _validate(data: Any, pos: Positions) -> MapFile:
    if not isinstance(data, dict):
        raise MapError(DM100, "a map file is a mapping with id, title, start and nodes",
                       pos.where(()))
    try:
        return MapFile.model_validate(data)
    except ValidationError as err:
        # an unknown key usually explains the missing one beside it: show it first
        diags = sorted(schema_diagnostics(err, data, pos),
                       key=lambda d: ("unknown key" not in d.message, d.where))
        raise MapError.of(diags[0], diags) from None


# Whole loaded maps by (path, content hash, options), with the hash of every hand-off file
# they read: a hit is used only when each of those files still hashes the same.
_MAPS: dict[tuple, tuple[DecisionMap, tuple[tuple[str, str], ...]]] = {}


def load_map(path: str | os.PathLike[str], options: LoadOptions | None = None) -> DecisionMap:
    """Load and validate one map and the maps it hands off to.

    A second load of unchanged files returns the map loaded before (it is read, hashed
    and compared, never trusted stale)."""
    options = options or LoadOptions()
    path = os.fspath(path)
    text = read_text(path, options.limits.max_bytes)
    key = (path, _sha(text), options.limits, options.allow_outside,
           options.max_handoff_depth, options.max_handoff_loads)
    hit = _MAPS.get(key)
    if hit is not None and all(_file_sha(f) == h for f, h in hit[1]):
        return hit[0]
    budget = _Budget()
    with paused():
        dm = _build(text, path, options, (), budget)
    deps = tuple((f, m.sha256) for f, m in budget.done.items() if isinstance(m, DecisionMap))
    deps += tuple(budget.absent.items())
    if len(_MAPS) > 32:
        _MAPS.clear()
    _MAPS[key] = (dm, deps)
    return dm


def clear_cache() -> None:
    """Forget every loaded map (for benchmarks that time a cold load)."""
    _MAPS.clear()
    _CACHE.clear()


def forget(path: str, keep_sha256: str | None = None) -> None:
    """Forget the cached loads of `path` except the one of content `keep_sha256`: a watch
    that re-reads one file on every save keeps only its latest version in memory."""
    for key in [k for k in _MAPS if k[0] == path and k[1] != keep_sha256]:
        del _MAPS[key]
    for key in [k for k in _CACHE if k[0] == path and k[1] != keep_sha256]:
        del _CACHE[key]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _file_sha(path: str) -> str | None:
    try:
        return _sha(read_text(path))
    except MapError:
        return None


def load_text(text: str, file: str = "<map>", options: LoadOptions | None = None) -> DecisionMap:
    """Load a map from text (hand-offs resolve relative to the folder of `file`, or the
    current folder when `file` names none). Reads only the maps it hands off to, and
    never writes anything."""
    with paused():
        return _build(text, file, options or LoadOptions(), (), _Budget())


def _load(path: str, options: LoadOptions, stack: tuple[str, ...], budget: _Budget
          ) -> DecisionMap:
    return _build(read_text(path, options.limits.max_bytes), path, options, stack, budget)


def _build(text: str, path: str, options: LoadOptions, stack: tuple[str, ...],
           budget: _Budget) -> DecisionMap:
    digest = _sha(text)
    key = (path, digest, options.limits)  # a file cached under looser limits stays refused
    cached = _CACHE.get(key)
    if cached is None:
        data, pos = parse_yaml(text, path, options.limits)
        model = _validate(data, pos)
        cached = (model, pos)
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = cached
    model, pos = cached
    dm = DecisionMap(path, model, pos, digest)
    _resolve_handoffs(dm, options, stack + (_real(path),), budget)
    return dm


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (ValueError, OSError):  # a NUL byte, a symlink loop on some systems
        return os.path.abspath(path.replace("\0", ""))


def _target(base: str, name: str) -> str | None:
    """The real path a hand-off names, or None when it is no usable path."""
    if not name.strip() or "\0" in name:
        return None
    try:
        return os.path.realpath(os.path.join(base, name))
    except (ValueError, OSError):
        return None


def _inside(base: str, target: str) -> bool:
    try:
        return os.path.commonpath([base, target]) == base
    except ValueError:  # different drives (Windows)
        return False


def _resolve_handoffs(dm: DecisionMap, options: LoadOptions, stack: tuple[str, ...],
                      budget: _Budget) -> None:
    from ..model.format import Handoff

    base = os.path.dirname(stack[-1])
    for node_id, node in dm.model.nodes.items():
        if not isinstance(node, Handoff):
            continue
        where = dm.where("nodes", node_id, "map")
        link = HandoffLink(node.map)
        dm.handoffs[node_id] = link
        target = _target(base, node.map)
        if target is None:
            link.problem = Diagnostic.of(
                DM111,
                f"node {node_id!r}: hand-off {node.map!r} is not a usable file path",
                where, "name a map file beside this one, e.g. other-map.yaml",
            )
            continue
        if not options.allow_outside and (os.path.isabs(node.map) or not _inside(base, target)):
            link.problem = Diagnostic.of(
                DM117,
                f"node {node_id!r}: hand-off {node.map!r} reaches outside the map's folder",
                where, "keep hand-off maps beside this one, or pass --allow-outside",
            )
            continue
        if target in stack:
            chain = " -> ".join(os.path.basename(s) for s in stack + (target,))
            link.problem = Diagnostic.of(
                DM115,
                f"node {node_id!r}: hand-offs loop back on each other ({chain})",
                where, "a map may not hand off, directly or not, to itself",
            )
            continue
        if len(stack) > options.max_handoff_depth:
            link.problem = Diagnostic.of(
                DM116,
                f"node {node_id!r}: hand-offs nest deeper than {options.max_handoff_depth}",
                where, "raise the limit with --max-handoff-depth N "
                "(LoadOptions(max_handoff_depth=N))",
            )
            continue
        if target in budget.done:
            _link_to(link, budget.done[target], node_id, where)
            continue
        if budget.loads >= options.max_handoff_loads:
            link.problem = Diagnostic.of(
                DM116,
                f"node {node_id!r}: the hand-offs load more than "
                f"{options.max_handoff_loads} maps in all",
                where, "hand off to fewer maps, or raise LoadOptions(max_handoff_loads=N)",
            )
            continue
        if not os.path.isfile(target):
            budget.absent[target] = None
            folder = os.path.dirname(target)
            if folder not in budget.listings:
                try:
                    budget.listings[folder] = sorted(os.listdir(folder))[:10_000] \
                        if os.path.isdir(folder) else []
                except OSError:
                    budget.listings[folder] = []
            close = budget.suggest.closest(os.path.basename(node.map), budget.listings[folder])
            link.problem = Diagnostic.of(
                DM111,
                f"node {node_id!r}: hand-off map {node.map!r} does not exist",
                where, f"did you mean {close!r}?" if close else "check the path",
            )
            continue
        budget.loads += 1
        try:
            budget.done[target] = _load(target, options, stack, budget)
        except MapError as e:
            budget.done[target] = e
            budget.absent[target] = _file_sha(target)
        _link_to(link, budget.done[target], node_id, where)


def _link_to(link: HandoffLink, result: DecisionMap | MapError, node_id: str,
             where: Where) -> None:
    if isinstance(result, DecisionMap):
        link.loaded = result
        return
    d = result.diagnostic
    link.problem = Diagnostic.of(
        registered(d.code),
        f"node {node_id!r}: hand-off map does not load: {d.where}: {d.message}",
        where, d.hint,
    )
