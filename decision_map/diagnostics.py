"""The registry of diagnostic codes: one record per DM code, defined once.

Each record holds the code's severity, a title, the hint a user gets when the place that
raises it knows nothing more specific, and a small example that really gives the code.
Checks raise by record (`MapError(DM005, ...)`, `Diagnostic.of(DM101, ...)`), so a code
and its severity are written here and nowhere else; `docs/diagnostics.md` is generated
from these records (`make diagnostics`), and a test runs every example through the checker.
Modelled on Yarn Spinner's diagnostic descriptors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# The head most examples share: a map whose first node is `q`.
_HEAD = 'id: demo\ntitle: Demo\nversion: "1"\nstart: q\nnodes:\n'


@dataclass(frozen=True)
class Example:
    """A small case that gives the code: the docs show it, and a test checks it does.

    `map`: the text of `map.yaml`, the file checked (None: there is no such file).
    `beside`: other files in the same folder, as (name, text). `options`: LoadOptions
    fields the check runs with, as (name, value), each also a `check` flag
    (`max_handoff_depth` is `--max-handoff-depth`). `encoding`: how `map.yaml` is saved.
    `note`: one line on how to read it, for the docs.
    """

    map: str | None
    beside: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, int], ...] = ()
    encoding: str = "utf-8"
    note: str = ""


@dataclass(frozen=True)
class Code:
    """One diagnostic code: what it means, how bad it is, how to fix it, an example."""

    code: str
    severity: Severity
    title: str
    hint: str
    example: Example

    def __str__(self) -> str:
        return self.code


REGISTRY: dict[str, Code] = {}


def _register(code: str, severity: Severity, title: str, hint: str, example: Example) -> Code:
    """Add one record; a code registered twice is a mistake caught at import."""
    if code in REGISTRY:  # pragma: no cover - caught the moment it is written
        raise ValueError(f"{code} is registered twice")
    REGISTRY[code] = rec = Code(code, severity, title, hint, example)
    return rec


def registered(code: str) -> Code:
    """The record of `code`, or ValueError: a code nobody registered is a bug."""
    rec = REGISTRY.get(code)
    if rec is None:
        raise ValueError(f"diagnostic code {code!r} is not registered in decision_map.diagnostics")
    return rec


# ---------------------------------------------------------------- the file (DM00x)

DM001 = _register(
    "DM001", "error", "The file is not valid YAML",
    "close the quote or bracket, or mend the indent, at the line and column given",
    Example("id: demo\ntitle: [unclosed\n"),
)
DM002 = _register(
    "DM002", "error", "A key written twice in one mapping, or a key that is not plain text",
    "each key may appear once in a mapping",
    Example("id: demo\ntitle: Demo\nid: other\n"),
)
DM003 = _register(
    "DM003", "error", "A YAML tag that builds objects, or a merge key (`<<`)",
    "maps are plain data: remove the tag",
    Example("id: demo\ntitle: !!python/name:os.system\n"),
)
DM004 = _register(
    "DM004", "error", "The file passes a limit: size, YAML nodes (aliases expanded) or nesting",
    "make the map smaller or flatter, or raise the limit (docs/safety.md lists each one)",
    Example(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        note="ten aliases of ten aliases, six deep: a million nodes from six lines",
    ),
)
DM005 = _register(
    "DM005", "error", "The file cannot be read",
    "check the path",
    Example(None, note="checking `map.yaml` where there is no such file"),
)
DM006 = _register(
    "DM006", "error", "The file is not UTF-8 text",
    "save it as UTF-8",
    Example("id: demo\ntitle: Café\n", encoding="latin-1",
            note="this text saved as Latin-1: the é is one byte that UTF-8 does not allow"),
)

# ---------------------------------------------------------------- the format (DM100)

DM100 = _register(
    "DM100", "error", "Not the map format: an unknown or missing key, or a value of the wrong type",
    "docs/format.md lists every key",
    Example(_HEAD + "  q:\n    ask: Go?\n    choises: {yes: done}\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)

# ---------------------------------------------------------------- the graph (DM101-DM106)

DM101 = _register(
    "DM101", "error", "A route names a node that does not exist",
    "add the node, or fix the id",
    Example(_HEAD + "  q:\n    ask: Go?\n    choices: {yes: done, no: dnoe}\n"
            "    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM102 = _register(
    "DM102", "error", "The start names a node that does not exist",
    "add the node, or fix the id",
    Example(_HEAD.replace("start: q", "start: begin")
            + "  q:\n    say: Welcome.\n    next: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM103 = _register(
    "DM103", "warning", "A node that no route reaches from the start",
    "route to it from another node, or delete it",
    Example(_HEAD + "  q:\n    say: Welcome.\n    next: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"
            "  island: {outcome: Island, next_steps: [Wait]}\n"),
)
DM104 = _register(
    "DM104", "error", "A node with no way out",
    "add a next, a route or an otherwise",
    Example(_HEAD + "  q:\n    ask: How many hours can we give?\n    number: {min: 0}\n",
            note="a number question with neither branches nor an otherwise leads nowhere "
            "(DM107 says which totals and statuses lack a route)"),
)
DM105 = _register(
    "DM105", "error", "A node from which no path reaches an outcome",
    "route this part of the map to an outcome",
    Example(_HEAD + "  q:\n    say: Welcome.\n    next: stuck\n"
            "  stuck:\n    ask: How many hours can we give?\n    number: {min: 0}\n",
            note="`q` leads only to `stuck`, which has no way out (DM104)"),
)
DM106 = _register(
    "DM106", "error", "A cycle with no exit",
    "give one node of the loop a route out to an outcome",
    Example(_HEAD + "  q:\n    ask: Go?\n    choices: {yes: done, no: one}\n"
            "    otherwise: done\n"
            "  one: {say: Not yet., next: two}\n  two: {say: Think again., next: one}\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)

# ---------------------------------------------------------------- routes and conditions

DM107 = _register(
    "DM107", "error", "A status, total or case with nowhere to go",
    "add a route for it, or an otherwise",
    Example(_HEAD + "  q:\n    ask: Go?\n    rule: consensus\n    choices: {yes: done, no: done}\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n",
            note="consensus can end blocked or with no agreement; neither has a route"),
)
DM108 = _register(
    "DM108", "error", "A condition on an answer that does not exist or is no question",
    "name a question's id in answer",
    Example(_HEAD + "  q:\n    check:\n      - when: {answer: go, is: yes}\n        next: done\n"
            "    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM109 = _register(
    "DM109", "warning", "A condition on an answer that may not be given on every path",
    "the condition is false when the question was not reached; "
    "add `answered: true` to say so, or move the check",
    Example(_HEAD + "  q:\n    ask: Go?\n    choices: {yes: sure, no: c}\n    otherwise: c\n"
            "  sure:\n    ask: Sure?\n    choices: {yes: c, no: c}\n    otherwise: c\n"
            "  c:\n    check:\n      - when: {answer: sure, is: yes}\n        next: done\n"
            "    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM110 = _register(
    "DM110", "error", "A test of the wrong type for its answer",
    "test a choice with is or in, a number with gte, gt, lte, lt or is, "
    "text with answered or status",
    Example(_HEAD + "  q:\n    ask: Go?\n    choices: {yes: c, no: c}\n    otherwise: c\n"
            "  c:\n    check:\n      - when: {answer: q, is: maybe}\n        next: done\n"
            "    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)

# ---------------------------------------------------------------- hand-offs and outcomes

_OTHER = ("other.yaml", 'id: other\ntitle: Other\nversion: "1"\nstart: o\nnodes:\n'
          "  o: {outcome: Agreed, next_steps: [Go on]}\n")

DM111 = _register(
    "DM111", "error", "A hand-off to a map that does not exist or is not a usable path",
    "name a map file beside this one, e.g. other-map.yaml",
    Example(_HEAD + "  q:\n    map: otehr.yaml\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n", beside=(_OTHER,)),
)
DM112 = _register(
    "DM112", "error", "A hand-off return names an outcome the other map lacks",
    "name one of the other map's outcome node ids",
    Example(_HEAD + "  q:\n    map: other.yaml\n    returns: {agreed: done}\n"
            "    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n", beside=(_OTHER,),
            note="other.yaml's only outcome is `o`"),
)
DM113 = _register(
    "DM113", "error", "Two choices that differ only in case or spaces",
    "a tally could not tell them apart: rename one",
    Example(_HEAD + "  q:\n    ask: Go?\n    choices:\n      yes: done\n      'Yes ': done\n"
            "    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM114 = _register(
    "DM114", "warning", "An outcome with no next steps",
    "say what the group does next",
    Example(_HEAD + "  q: {outcome: Done}\n"),
)
DM115 = _register(
    "DM115", "error", "Maps that hand off to each other in a loop",
    "a map may not hand off, directly or not, to itself",
    Example(_HEAD + "  q:\n    map: map.yaml\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM116 = _register(
    "DM116", "error", "Hand-offs nested too deep, or loading too many maps in all",
    "hand off less deeply, or raise the limit with --max-handoff-depth N",
    Example(_HEAD + "  q:\n    map: other.yaml\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n", beside=(_OTHER,),
            options=(("max_handoff_depth", 0),),
            note="the default depth is 8; this check allows none"),
)
DM117 = _register(
    "DM117", "error", "A hand-off to a map outside the map's folder",
    "keep hand-off maps beside this one, or pass --allow-outside",
    Example(_HEAD + "  q:\n    map: ../elsewhere/other.yaml\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM119 = _register(
    "DM119", "error", "An outcome text template that does not parse or names an unknown value",
    "an outcome's text may use answers, statuses, texts, agreed, stood_aside, carried_by, "
    "group, map and outcome",
    Example(_HEAD + "  q:\n    outcome: Done\n    next_steps: [Celebrate]\n"
            "    text: \"We chose {{ answerz.q }}\"\n"),
)

# ---------------------------------------------------------------- rules

DM120 = _register(
    "DM120", "error", "A rule set up wrongly",
    "an `any` question has exactly two choices; a proposal is one of the choices",
    Example(_HEAD + "  q:\n    ask: Who goes first?\n    rule: any\n"
            "    choices: {ana: done, ben: done, cy: done}\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM121 = _register(
    "DM121", "warning", "A route the rule can never take",
    "remove it, or change the rule",
    Example(_HEAD + "  q:\n    ask: Go?\n    rule: majority\n    choices: {yes: done, no: done}\n"
            "    on_block: done\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n",
            note="under majority nobody can block"),
)
DM122 = _register(
    "DM122", "warning", "A choice spelled like a command of the stepper",
    "at `decision-map step` the word typed alone is the command (back undoes a step); "
    "members vote it by its number or as =word: rename it to spare them",
    Example(_HEAD + "  q:\n    ask: Go ahead?\n    choices: {ahead: done, back: done}\n"
            "    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM123 = _register(
    "DM123", "warning", "A share written as a decimal close to a simple fraction, not equal to it",
    "a decimal is taken exactly as written; write the fraction (2/3) if you mean it",
    Example(_HEAD + "  q:\n    ask: Go?\n    rule: supermajority\n    threshold: 0.667\n"
            "    choices: {yes: done, no: done}\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n",
            note="0.667 is a little more than 2/3: two of three votes do not reach it"),
)
DM124 = _register(
    "DM124", "warning", "A loop the bound on revisits would stop, with no `otherwise` to take",
    "give the looping question an otherwise, the way on once the group has gone round "
    "max_revisits times",
    Example(_HEAD + "  q:\n    ask: Go?\n    rule: consensus\n"
            "    choices: {yes: done, no: done}\n    on_block: talk\n    on_no_agreement: done\n"
            "  talk: {say: Hear the block out., next: q}\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n",
            note="past max_revisits (3), coming back from `talk` to `q` stops the walk"),
)

# ---------------------------------------------------------------- the record (DM130-)

DM130 = _register(
    "DM130", "error",
    "A `proposal_from` that names no `text: one` question asked on every path before the vote",
    "name a text question with `text: one` that the walk answers before this one, whichever "
    "way the group came",
    Example(_HEAD + "  q:\n    ask: Draft the statement together.\n    text: each\n"
            "    next: vote\n"
            "  vote:\n    ask: Do we consent to the statement?\n    rule: consent\n"
            "    proposal_from: q\n    choices: {yes: done}\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n",
            note="each member's words are raw statements; only one agreed sentence "
            "can be a proposal"),
)
DM131 = _register(
    "DM131", "warning", "A vote on \"the proposal\" or \"this draft\" that nobody wrote down",
    "write the proposal in `proposal_text`, or take it from a text question with "
    "`proposal_from`",
    Example(_HEAD + "  q:\n    ask: Do we consent to this draft?\n    rule: consent\n"
            "    choices: {yes: done}\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
DM132 = _register(
    "DM132", "error", "A `records:` that names no document part, or has no adopted words",
    "write DOCUMENT.PART (docs/format.md lists them) on a `text: one` question or a "
    "question with a proposal",
    Example(_HEAD + "  q:\n    ask: Who may join?\n    text: one\n"
            "    records: charter.membrship\n    next: done\n"
            "  done: {outcome: Done, document: charter, next_steps: [Celebrate]}\n"),
)
DM133 = _register(
    "DM133", "error", "A secret ballot under a rule that needs names",
    "a secret ballot is taken as a tally: use a rule a tally can carry, or drop `secret`",
    Example(_HEAD + "  q:\n    ask: Rank the venues.\n    rule: ranked\n    secret: true\n"
            "    choices: {hall: done, park: done}\n    otherwise: done\n"
            "  done: {outcome: Done, next_steps: [Celebrate]}\n"),
)
