"""One canonical layout for map files, so two authors' edits diff as meaning, not style.

`fmt` rewrites a map through ruamel.yaml's round-trip mode (comments, block scalars,
flow collections and anchors survive) with: keys in one order per node kind, two-space
indentation with list dashes indented under their key, and the words YAML 1.1 reads as
booleans (`yes`, `no`, `on`, `off`, ...) written plain, as docs/format.md writes them
(our reader, and YAML 1.2 editors, read them as text). Plain scalars are never
reinterpreted: ruamel runs with no implicit types here, so `012`, `1_000` or a date are
written back exactly as they were.

Nothing is written unless the new text loads to the same model as the old (every node,
every choice in order) and keeps every comment: a layout change never changes a meaning.
The map must load before it is formatted, so the loader's bounds (size, YAML nodes, alias
expansion) apply before ruamel sees the text.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken

from ..errors import InputError
from ..model.format import KIND_OF_MODEL
from .loader import LoadOptions, load_text

# What fmt writes: the width is wide so prose is never re-wrapped (authors fold it).
INDENT_MAPPING = 2
INDENT_SEQUENCE = 4
DASH_OFFSET = 2
WIDTH = 4096

# The words YAML 1.1 reads as booleans; our reader keeps them text, so they need no quotes.
BOOL_WORDS = frozenset(
    w for base in ("y", "yes", "n", "no", "on", "off")
    for w in (base, base.capitalize(), base.upper())
)

TOP_ORDER = ("id", "title", "version", "description", "start", "defaults", "nodes")
RULE_KEYS = ("rule", "quorum", "threshold", "max_stand_asides", "min_fingers")
STATUS_ROUTES = ("on_block", "on_tie", "on_no_quorum", "on_no_agreement", "otherwise")

# Per node kind: what it is called, what it says, how it decides, where it goes, why.
NODE_ORDER: dict[str, tuple[str, ...]] = {
    "choice": ("label", "ask", "proposal_text", "proposal_from", *RULE_KEYS, "proposal",
               "secret", "choices", *STATUS_ROUTES, "records", "record", "help"),
    "number": ("label", "ask", "number", "quorum", "branches", *STATUS_ROUTES, "record",
               "help"),
    "text": ("label", "ask", "text", "quorum", "next", *STATUS_ROUTES, "records", "record",
             "help"),
    "check": ("label", "check", "otherwise", "record", "help"),
    "handoff": ("label", "map", "returns", "otherwise", "record", "help"),
    "info": ("label", "say", "next", "record", "help"),
    "outcome": ("label", "outcome", "verdict", "document", "text", "next_steps", "record",
                "help"),
}
DEFAULTS_ORDER = (*RULE_KEYS, "max_revisits")
CHOICE_ORDER = ("next", "label", "help")
NUMBER_ORDER = ("min", "max", "unit", "aggregate")
ROUTE_ORDER = ("when", "next")
CONDITION_ORDER = ("answer", "is", "in", "not_in", "gte", "gt", "lte", "lt", "status",
                   "answered", "all", "any", "not")


class _TextResolver(VersionedResolver):
    """Every plain scalar is text: fmt moves scalars, it never reads their type."""

    @property
    def versioned_resolver(self) -> Any:
        """No implicit types, in any YAML version."""
        return {}


def _yaml() -> YAML:
    """A round-trip YAML that reads every plain scalar as text and writes the layout."""
    y = YAML(typ="rt")
    y.Resolver = _TextResolver
    y.preserve_quotes = True
    y.width = WIDTH
    y.indent(mapping=INDENT_MAPPING, sequence=INDENT_SEQUENCE, offset=DASH_OFFSET)
    return y


def canonical_text(text: str, path: str, options: LoadOptions | None = None) -> str:
    """The map `text` (read from `path`) in the canonical layout.

    Raises MapError when the map does not load, and InputError when the new layout
    would load differently or lose a comment (then nothing should be written)."""
    before = load_text(text, path, options)
    y = _yaml()
    data = y.load(text)
    comments = Counter(_comments(data))
    kinds = {nid: KIND_OF_MODEL[type(node)] for nid, node in before.model.nodes.items()}
    _arrange(data, kinds)
    out = io.StringIO()
    y.dump(data, out)
    new = out.getvalue()
    if new == text:
        return text
    after = load_text(new, path, options)
    if after.model.model_dump_json() != before.model.model_dump_json():
        raise InputError("the canonical layout would change what the map means; left as it "
                         "is (please report this)", path)
    if Counter(_comments(_yaml().load(new))) != comments:
        raise InputError("the canonical layout would lose or move a comment out of its "
                         "mapping; left as it is (please report this)", path)
    return new


def _arrange(data: Any, kinds: dict[str, str]) -> None:
    """Put every mapping of the map in its canonical key order and unquote yes/no."""
    if not isinstance(data, CommentedMap):
        return
    reorder_keys(data, TOP_ORDER)
    if isinstance(data.get("defaults"), CommentedMap):
        reorder_keys(data["defaults"], DEFAULTS_ORDER)
    nodes = data.get("nodes")
    if isinstance(nodes, CommentedMap):
        for nid, node in nodes.items():
            if isinstance(node, CommentedMap) and nid in kinds:
                _arrange_node(node, kinds[nid])
    _unquote(data)


def _arrange_node(node: CommentedMap, kind: str) -> None:
    """One node in its kind's order, and the mappings it holds in theirs."""
    reorder_keys(node, NODE_ORDER[kind])
    choices = node.get("choices")
    if kind == "choice" and isinstance(choices, CommentedMap):
        for spec in choices.values():
            if isinstance(spec, CommentedMap):
                reorder_keys(spec, CHOICE_ORDER)
    if kind == "number" and isinstance(node.get("number"), CommentedMap):
        reorder_keys(node["number"], NUMBER_ORDER)
    for key in ("check", "branches"):
        if kind in ("check", "number") and isinstance(node.get(key), CommentedSeq):
            for route in node[key]:
                if isinstance(route, CommentedMap):
                    reorder_keys(route, ROUTE_ORDER)
                    _arrange_condition(route.get("when"))


def _arrange_condition(cond: Any) -> None:
    """A condition and the conditions inside it (all/any/not) in one order."""
    if isinstance(cond, CommentedMap):
        reorder_keys(cond, CONDITION_ORDER)
        for value in cond.values():
            _arrange_condition(value)
    elif isinstance(cond, CommentedSeq):
        for item in cond:
            _arrange_condition(item)


def _unquote(data: Any) -> None:
    """Write the YAML 1.1 boolean words plain, in keys and values alike."""
    if isinstance(data, CommentedMap):
        for key in list(data):
            value = data[key]
            if _is_bool_word(value):  # ruamel's own setter would keep the quotes
                super(CommentedMap, data).__setitem__(key, str(value))
            else:
                _unquote(value)
            if _is_bool_word(key):
                _rename(data, key, str(key))
    elif isinstance(data, CommentedSeq):
        for i, value in enumerate(data):
            if _is_bool_word(value):
                list.__setitem__(data, i, str(value))
            else:
                _unquote(value)


def _is_bool_word(value: Any) -> bool:
    """A quoted `yes`, `no`, `on`... whose quotes say nothing to our reader."""
    return (isinstance(value, (SingleQuotedScalarString, DoubleQuotedScalarString))
            and str(value) in BOOL_WORDS)


def _rename(m: CommentedMap, old: Any, new: str) -> None:
    """Replace key `old` by `new` in place, keeping its position and comments."""
    keys = list(m)
    i = keys.index(old)
    value = m[old]
    comment = m.ca.items.pop(old, None)
    del m[old]
    m.insert(i, new, value)
    if comment is not None:
        m.ca.items[new] = comment


# ---------------------------------------------------------------- moving keys with comments
#
# ruamel keeps a comment on its own line as the tail of the entry above it. When keys
# move, such a comment must stay before the key it was written above (or, after the
# mapping's last key, after the mapping), so it is taken off its entry and put back.


def reorder_keys(m: CommentedMap, order: Sequence[str]) -> None:
    """Put the keys of `m` in `order` (keys not named keep their order, after those named),
    each own-line comment staying just above the key it stood above."""
    keys = list(m)
    rank = {k: i for i, k in enumerate(order)}
    wanted = sorted(keys, key=lambda k: (rank.get(k, len(order)), keys.index(k)))
    if wanted == keys:
        return
    before: dict[Any, str] = {}  # key -> own-line comments written just above it
    for i, key in enumerate(keys):
        after = _take_after(m, key)
        if after:
            before[keys[i + 1] if i + 1 < len(keys) else None] = after
    for key in wanted:
        m.move_to_end(key)
    for key, text in before.items():
        if key is None:
            _add_after(m, wanted[-1], text)
            continue
        i = wanted.index(key)
        if i:
            _add_after(m, wanted[i - 1], text)
        else:
            _add_before(m, key, text)


def _slot(owner: Any, key: Any) -> tuple[Any, Any, int]:
    """Where the comments after entry `key` of `owner` live: the deepest last entry."""
    value = owner[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value) \
            and not value.fa.flow_style():
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return _slot(value, last)
    return owner, key, 2 if isinstance(owner, CommentedMap) else 0


def _block(value: Any) -> bool:
    """A folded or literal scalar: comments after it carry no end-of-line part."""
    return isinstance(value, (FoldedScalarString, LiteralScalarString))


def _take_after(m: CommentedMap, key: Any) -> str:
    """Remove and return the own-line comments after entry `key` (its end-of-line
    comment stays)."""
    owner, k, i = _slot(m, key)
    item = owner.ca.items.get(k)
    token = item[i] if item and len(item) > i else None
    if not isinstance(token, CommentToken):
        return ""
    if _block(owner[k]):  # the first line's indent is the token's column, not its text
        eol, after = "", " " * token.column + token.value
    else:
        eol, _, after = token.value.partition("\n")
    if not after:
        return ""
    if eol:
        token.value = eol + "\n"
    else:
        item[i] = None
    return after


def _add_after(m: CommentedMap, key: Any, text: str) -> None:
    """Hang own-line comments after entry `key` (after its deepest last entry)."""
    owner, k, i = _slot(m, key)
    item = owner.ca.items.setdefault(k, [None, None, None, None])
    while len(item) <= i:
        item.append(None)
    token = item[i]
    if isinstance(token, CommentToken):
        token.value = token.value + text
    else:
        value = text if _block(owner[k]) else "\n" + text
        item[i] = CommentToken(value, CommentMark(0), None)


def _add_before(m: CommentedMap, key: Any, text: str) -> None:
    """Comments above the first key of a mapping hang before that key."""
    item = m.ca.items.setdefault(key, [None, None, None, None])
    tokens = item[1] if isinstance(item[1], list) else []
    tokens.append(CommentToken(text, CommentMark(0), None))
    item[1] = tokens


def _comments(data: Any) -> Iterator[str]:
    """Every comment line in a round-trip document, stripped, for the no-loss check."""
    seen: set[int] = set()

    def tokens(obj: Any) -> Iterator[CommentToken]:
        """Each comment token once (ruamel may hold one in two places)."""
        if isinstance(obj, CommentToken):
            if id(obj) not in seen:
                seen.add(id(obj))
                yield obj
        elif isinstance(obj, (list, tuple)):
            for x in obj:
                yield from tokens(x)

    def walk(obj: Any) -> Iterator[CommentToken]:
        """Every comment token of a collection and of everything in it."""
        if isinstance(obj, (CommentedMap, CommentedSeq)):
            yield from tokens(obj.ca.comment)
            yield from tokens(list(obj.ca.items.values()))
            yield from tokens(getattr(obj.ca, "end", None))
            for child in (obj.values() if isinstance(obj, CommentedMap) else obj):
                yield from walk(child)

    for token in walk(data):
        for line in token.value.splitlines():
            if line.strip():
                yield line.strip()
