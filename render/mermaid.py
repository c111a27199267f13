"""Mermaid `flowchart TD` output: the same diagram model as DOT, spelled for Mermaid.

Node ids are generated (`n0`, `n1`, ...), so no author text is ever an id and Mermaid's
reserved words (`end`, `graph`, ...) cannot collide with one; every label is written as
`"..."` with entity codes (see `quoting.py`). Shapes by kind: questions `("...")`,
checks `{"..."}`, read-outs `>"..."]`, hand-offs `[["..."]]`, outcomes `(["..."])`.
Kinds and verdicts are `classDef`s; with a trace, path nodes get class `path`, nodes
off the path `faded`, and each edge is styled by its index with `linkStyle` (taken
blue, loops purple, blocks red, not taken grey and dashed; a branch a later revisit
went back before, class `superseded`, dashed in dark grey and labelled so). Mermaid has no tooltips
without scripts, so the question's help is left to the DOT/SVG output.
"""

from __future__ import annotations

import json

from decision_map.io.loader import DecisionMap
from decision_map.model.trace import Trace

from .diagram import DCluster, Diagram, DNode, build
from .dot import BLOCKED, FADED, KIND_STYLE, LOOP, PATH, SUPERSEDED, VERDICT_PALETTE
from .quoting import mermaid_lines, mermaid_quote, wrap

SHAPES = {
    "choice": ("(", ")"),
    "number": ("(", ")"),
    "text": ("(", ")"),
    "check": ("{", "}"),
    "info": (">", "]"),
    "handoff": ("[[", "]]"),
    "outcome": ("([", "])"),
}
INDENT = "    "


def _node_line(n: DNode) -> str:
    left, right = SHAPES[n.kind]
    return f"{n.id}{left}{mermaid_quote(mermaid_lines(n.lines()))}{right}"


def _emit(d: Diagram, cluster: DCluster | None, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    for n in d.in_cluster(cluster.id if cluster else None):
        out.append(pad + _node_line(n))
    for child in d.child_clusters(cluster.id if cluster else None):
        title = mermaid_quote(mermaid_lines(wrap(f"↪ {child.title}")))
        out.append(f"{pad}subgraph {child.id}[{title}]")
        _emit(d, child, depth + 1, out)
        out.append(f"{pad}end")


def _arrow(d: Diagram, taken: bool, enters: bool) -> str:
    if enters:
        return "-.->"
    if not d.traced:
        return "-->"
    return "==>" if taken else "-.->"


def diagram_to_mermaid(d: Diagram) -> str:
    """Spell a built `Diagram` out as Mermaid flowchart text."""
    title = d.title + (" (focus on the path)" if d.focus else "")
    if d.stopped:
        title += f" (walk stopped: {d.stopped})"
    if d.note:
        title += f" ({d.note})"
    out = ["---", f"title: {json.dumps(' '.join(title.split()))}", "---", "flowchart TD"]
    _emit(d, None, 1, out)
    for e in d.edges:
        arrow = _arrow(d, e.taken, e.enters)
        lines = e.text.split("\n")  # merged labels: one a line
        label = f"|{mermaid_quote(mermaid_lines(lines))}|" if e.text else ""
        out.append(f"{INDENT}{e.source} {arrow}{label} {e.target}")

    for kind, style in KIND_STYLE.items():
        out.append(f"{INDENT}classDef k_{kind} fill:{style['fillcolor']},stroke:#5f6368")
    for i, _ in enumerate(d.verdicts):
        colour = VERDICT_PALETTE[i % len(VERDICT_PALETTE)]
        out.append(f"{INDENT}classDef v{i} fill:{colour}")
    out.append(f"{INDENT}classDef path stroke:{PATH},stroke-width:3px")
    out.append(f"{INDENT}classDef blocked stroke:{BLOCKED},stroke-width:3px")
    out.append(f"{INDENT}classDef faded stroke:{FADED},stroke-dasharray:4 3,color:#6b7075")
    if any(n.superseded for n in d.nodes):  # only a walk with a revisit has these
        out.append(f"{INDENT}classDef superseded stroke:{SUPERSEDED},stroke-width:2px,"
                   "stroke-dasharray:6 3")

    by_class: dict[str, list[str]] = {}
    for n in d.nodes:
        by_class.setdefault(f"k_{n.kind}", []).append(n.id)
        if n.verdict is not None and n.verdict in d.verdicts:
            by_class.setdefault(f"v{d.verdicts.index(n.verdict)}", []).append(n.id)
    if d.traced:
        for n in d.nodes:
            name = (("blocked" if n.blocked else "path") if n.on_path else
                    "superseded" if n.only_superseded else "faded")
            by_class.setdefault(name, []).append(n.id)
    for name, ids in by_class.items():
        out.append(f"{INDENT}class {','.join(ids)} {name}")

    if d.traced:
        styles: dict[str, list[int]] = {}
        for i, e in enumerate(d.edges):
            if e.taken:
                colour = BLOCKED if e.blocked else LOOP if e.loop else PATH
                key = f"stroke:{colour},stroke-width:3px,color:{colour}"
            elif e.superseded:
                key = (f"stroke:{SUPERSEDED},stroke-width:2px,stroke-dasharray:6 3,"
                       f"color:{SUPERSEDED}")
            else:
                key = f"stroke:{FADED},stroke-dasharray:4 3,color:#6b7075"
            styles.setdefault(key, []).append(i)
        for key, idx in styles.items():
            out.append(f"{INDENT}linkStyle {','.join(str(i) for i in idx)} {key}")
    return "\n".join(out) + "\n"


def to_mermaid(dm: DecisionMap, trace: Trace | None = None, *, focus: bool = False) -> str:
    """The map (and the path of `trace`) as Mermaid `flowchart TD` text."""
    return diagram_to_mermaid(build(dm, trace, focus=focus))
