"""The map format as pydantic models: what an author may write in a map file.

A node's kind is told apart by the key it carries (`ask`, `check`, `map`, `say`,
`outcome`), so authors never write a separate `kind`. Conditions are data, never code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

from .documents import DocumentKind
from .vocabulary import RESERVED_VOTES

# The choice rules a map may name. Each has one record in rules/table.py (the model may not
# import the rules); tests/test_rules_table.py holds the two lists equal.
RuleName = Literal[
    "majority",
    "supermajority",
    "plurality",
    "unanimous",
    "consensus",
    "consent",
    "fist-to-five",
    "any",
    "approval",
    "ranked",
]
Aggregate = Literal["sum", "mean", "median", "min", "max"]
Status = Literal["decided", "blocked", "no_quorum", "tie", "no_agreement"]
STATUSES: tuple[str, ...] = ("decided", "blocked", "no_quorum", "tie", "no_agreement")
# The largest number a member may give (either sign), so that summing a billion of them
# stays far inside a float: 1e308 twice is an overflow, not an answer (docs/safety.md).
MAX_NUMBER = 1e15

NodeId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description="A node id: letters, digits, `_`, `-` and `.`.",
        examples=["goal", "final-go"],
    ),
]
Scalar = Union[str, int, float, bool]

# A share of members or of votes: a decimal in (0, 1], taken exactly as written (0.667 is
# 667/1000), or a fraction written `2/3`. rules/params.as_fraction reads both.
FRACTION_TEXT = r"^\s*[0-9]+\s*/\s*[0-9]+\s*$"


def _share(v: Any) -> Any:
    """A written fraction must be a share: its denominator not 0, its value in (0, 1]."""
    if isinstance(v, str):
        top, _, bottom = v.partition("/")
        n, d = int(top), int(bottom)
        if d == 0 or not 0 < n <= d:
            raise ValueError(f"{v.strip()!r} is not a fraction above 0 and at most 1")
    return v


Share = Annotated[
    Union[
        Annotated[float, Field(gt=0, le=1)],
        Annotated[str, Field(pattern=FRACTION_TEXT, max_length=40)],
    ],
    AfterValidator(_share),
]


class Strict(BaseModel):
    """Base for every model: unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


# ---------------------------------------------------------------- conditions


class Comparison(Strict):
    """A test on one value: the answer named by `answer`, or a number question's aggregate."""

    answer: NodeId | None = Field(
        None,
        description="The question whose group answer is tested. Left out in a number "
        "question's own `branches`, where the aggregate is tested.",
        examples=["shared-goal"],
    )
    is_: Scalar | None = Field(
        None, alias="is", description="Equal to this choice or number.", examples=["yes"]
    )
    in_: list[Scalar] | None = Field(
        None, alias="in", description="One of these choices.", examples=[["yes", "maybe"]]
    )
    not_in: list[Scalar] | None = Field(
        None, description="None of these choices.", examples=[["no"]]
    )
    gte: float | None = Field(None, description="At least this number.", examples=[10])
    gt: float | None = Field(None, description="More than this number.", examples=[0])
    lte: float | None = Field(None, description="At most this number.", examples=[5])
    lt: float | None = Field(None, description="Less than this number.", examples=[3])
    status: Status | None = Field(
        None,
        description="The status the question's decision ended in.",
        examples=["blocked"],
    )
    answered: bool | None = Field(
        None, description="Whether the question was reached and answered.", examples=[True]
    )

    @model_validator(mode="after")
    def _one_test(self) -> Comparison:
        tests = [
            k
            for k in ("is_", "in_", "not_in", "gte", "gt", "lte", "lt", "status", "answered")
            if getattr(self, k) is not None
        ]
        if not tests:
            raise ValueError(
                "a condition needs a test: one of is, in, not_in, gte, gt, lte, lt, "
                "status, answered"
            )
        return self

    def numeric_tests(self) -> list[str]:
        return [k for k in ("gte", "gt", "lte", "lt") if getattr(self, k) is not None]


class AllOf(Strict):
    all: list[Condition] = Field(
        description="Every condition holds.", min_length=1,
        examples=[[{"answer": "goal", "is": "yes"}, {"answer": "hours", "gte": 10}]],
    )


class AnyOf(Strict):
    any: list[Condition] = Field(
        description="At least one condition holds.", min_length=1,
        examples=[[{"answer": "goal", "is": "no"}, {"answer": "goal", "status": "tie"}]],
    )


class Not(Strict):
    not_: Condition = Field(alias="not", description="The condition does not hold.",
                            examples=[{"answer": "bad-history", "is": "yes"}])


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "compare"
    if isinstance(value, BaseModel):
        return {AllOf: "all", AnyOf: "any", Not: "not"}.get(type(value), "compare")
    return None


Condition = Annotated[
    Union[
        Annotated[Comparison, Tag("compare")],
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[Not, Tag("not")],
    ],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping: {answer: id, is: value} "
        "or {all: [...]}, {any: [...]}, {not: ...}",
    ),
]


class Route(Strict):
    """One `when -> next` pair; the first route whose condition holds is taken."""

    when: Condition = Field(description="The condition, as data.",
                            examples=[{"answer": "shared-goal", "is": "yes"}])
    next: NodeId = Field(description="Where the walk goes when it holds.")
    say: str | None = Field(
        None, description="The condition in members' words, said when this route is taken "
        "(default: words built from the questions' labels).",
        examples=["You chose a long-term coalition, and more than 10 hours a week."])


# ---------------------------------------------------------------- group rules


class RuleParams(Strict):
    """Rule settings, written on a question or under the map's `defaults`."""

    rule: RuleName | None = Field(
        None,
        description="How the members' votes become one branch (see docs/format.md).",
        examples=["consensus"],
    )
    quorum: Share | None = Field(
        None,
        description="Fraction of the members who must take part: met when participants "
        ">= ceil(quorum * members). A decimal, taken exactly, or a fraction such as 2/3.",
        examples=[0.6],
    )
    threshold: Share | None = Field(
        None,
        description="Supermajority: the share of cast votes a choice needs (>=). Default 2/3. "
        "A decimal, taken exactly, or a fraction such as 2/3.",
        examples=["2/3"],
    )
    max_stand_asides: int | None = Field(
        None,
        ge=0,
        description="Consensus: more stand-asides than this is no agreement.",
        examples=[2],
    )
    min_fingers: int | None = Field(
        None,
        ge=1,
        le=5,
        description="Fist-to-five: every vote must show at least this many fingers "
        "(default 3); 0 blocks.",
        examples=[3],
    )


class Defaults(RuleParams):
    max_revisits: int = Field(
        3,
        ge=0,
        examples=[2],
        description="How many times the walk may come back to the same node before it "
        "takes the looping question's `otherwise` (or stops).",
    )
    block_reasons: Literal["required", "optional"] = Field(
        "required",
        examples=["optional"],
        description="Whether a block or an objection must come with a reason "
        "(default required); `optional` lets a map take them without one.",
    )


# ---------------------------------------------------------------- nodes

# The longest estimate one node may carry, in minutes: a step longer than a working day is
# a meeting of its own (a hand-off to its own map).
MAX_NODE_MINUTES = 480


class NodeBase(Strict):
    record: Literal["everything", "summary", "none"] | None = Field(
        None,
        description="What of this node the record keeps: `everything` (the default), "
        "`summary` (who took part and the result, not the words) or `none` (the result "
        "only: no names, no words), for listening rounds and harm disclosures.",
        examples=["none"],
    )
    help: str | None = Field(
        None,
        description="Why this is asked, and where the practice comes from.",
        examples=["Coalitions form around a goal no member can reach alone (Community Tool Box)."],
    )
    label: str | None = Field(
        None, description="A short name for diagrams; defaults to the node id.",
        examples=["Shared goal?"],
    )


class Timed(Strict):
    """A step the room spends time on carries an estimate, so the stepper can say how long
    is likely left; a check asks no one, and a hand-off's time is its map's (computed)."""

    time: StrictInt | None = Field(
        None,
        ge=0,
        le=MAX_NODE_MINUTES,
        description="The minutes this step is likely to take in the room (a whole number, "
        f"0 to {MAX_NODE_MINUTES}).",
        examples=[20],
    )


class ChoiceSpec(Strict):
    """The long form of a choice."""

    next: NodeId = Field(description="Where the walk goes when the group picks this choice.")
    label: str | None = Field(None, description="How the choice is shown; defaults to its value.",
                              examples=["Yes, let's go on"])
    help: str | None = Field(None, description="What picking this means.",
                             examples=["We keep talking next week."])


ChoiceValue = Union[NodeId, ChoiceSpec]


class StatusRoutes(Strict):
    on_block: NodeId | None = Field(
        None, description="Where a block (consensus), objection (consent) or fist goes.",
        examples=["common-ground"],
    )
    on_tie: NodeId | None = Field(None, description="Where a tie goes.", examples=["revote"])
    on_no_quorum: NodeId | None = Field(None, description="Where a missed quorum goes.",
                                        examples=["reschedule"])
    on_no_agreement: NodeId | None = Field(
        None, description="Where an unmet threshold goes.", examples=["discuss"]
    )
    otherwise: NodeId | None = Field(
        None, description="Catch-all for any status without its own route.",
        examples=["not-now"],
    )


class ChoiceQuestion(NodeBase, Timed, RuleParams, StatusRoutes):
    """A question each member answers with one of `choices`."""

    ask: str = Field(description="The question, as read aloud.", examples=["Shall we go on?"])
    choices: dict[str, ChoiceValue] = Field(
        min_length=1,
        description="Each choice's value and where it leads: `yes: node-id` or "
        "`yes: {next: node-id, label: ..., help: ...}`.",
        examples=[{"yes": "next-step", "no": "not-now"}],
    )
    proposal: str | None = Field(
        None,
        description="Consent and fist-to-five: the choice that passes when nobody objects "
        "(default: the first). `any`: the choice that anyone may name.",
        examples=["yes"],
    )
    secret: bool = Field(
        False,
        description="A secret ballot: votes are taken as a tally, and no member name is "
        "linked to a vote in the session, trace or report (a block is still counted, its "
        "reason kept without a name).",
        examples=[True],
    )
    proposal_text: str | None = Field(
        None,
        description="The proposal put to the vote, written down first: shown above the "
        "vote, kept in the trace and printed in the report beside the decision.",
        examples=["We form a coalition of the five groups for one year."],
    )
    proposal_from: NodeId | None = Field(
        None,
        description="A `text: one` question asked on every path before this one, whose "
        "agreed sentence is the proposal put to the vote (instead of `proposal_text`).",
        examples=["draft-statement"],
    )
    records: str | None = Field(
        None,
        pattern=r"^[a-z-]+\.[a-z-]+$",
        description="The part of an outcome's document that the adopted words fill: "
        "`DOCUMENT.PART`, e.g. `charter.membership` (docs/format.md lists the parts).",
        examples=["charter.membership"],
    )

    @model_validator(mode="after")
    def _one_proposal(self) -> ChoiceQuestion:
        if self.proposal_text is not None and self.proposal_from is not None:
            raise ValueError("give proposal_text or proposal_from, not both")
        return self

    @field_validator("choices")
    @classmethod
    def _no_reserved(cls, v: dict[str, ChoiceValue]) -> dict[str, ChoiceValue]:
        for key in v:
            if key.strip().lower() in RESERVED_VOTES:
                raise ValueError(
                    f"choice {key!r} is a reserved vote word "
                    f"({', '.join(sorted(RESERVED_VOTES))}); name it differently"
                )
            if not key.strip():
                raise ValueError("a choice value may not be empty")
        return v

    def targets(self) -> dict[str, str]:
        """Choice value -> next node id."""
        return {k: (v if isinstance(v, str) else v.next) for k, v in self.choices.items()}

    def choice_label(self, value: str) -> str:
        spec = self.choices[value]
        return spec.label if isinstance(spec, ChoiceSpec) and spec.label else value


class NumberSpec(Strict):
    min: float | None = Field(None, description="Smallest number a member may give.",
                              examples=[0])
    max: float | None = Field(None, description="Largest number a member may give.",
                              examples=[40])
    unit: str | None = Field(None, description="What is counted.", examples=["hours a week"])
    aggregate: Aggregate = Field(
        "sum", description="How the members' numbers become one: sum, mean, median, min, max.",
        examples=["sum"],
    )

    @model_validator(mode="after")
    def _bounds(self) -> NumberSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class NumberRoute(Strict):
    when: Comparison = Field(description="A test on the aggregate, e.g. {gte: 10}.",
                             examples=[{"gte": 10}])
    next: NodeId


_ASK = Field(description="The question, as read aloud.",
             examples=["How many hours a week can your group give?"])
_QUORUM = Field(None, description="Fraction of the members who must take part: a decimal, "
                "taken exactly, or a fraction such as 2/3.", examples=[0.6])


class NumberQuestion(NodeBase, Timed, StatusRoutes):
    """Each member gives a number; the aggregate picks a branch."""

    ask: str = _ASK
    number: NumberSpec = Field(description="Bounds, unit and how numbers are combined.",
                               examples=[{"min": 0, "max": 40, "unit": "hours a week",
                                          "aggregate": "sum"}])
    branches: list[NumberRoute] = Field(
        default_factory=list,
        description="Tests on the aggregate; first match wins, then `otherwise`.",
        examples=[[{"when": {"gte": 10}, "next": "task-force"}]],
    )
    quorum: Share | None = _QUORUM


class TextQuestion(NodeBase, Timed, StatusRoutes):
    """Each member (or the group, in one sentence) gives words; no branching."""

    ask: str = _ASK
    text: Literal["each", "one"] = Field(
        description="`each`: every member's words; `one`: one agreed sentence.",
        examples=["each"],
    )
    next: NodeId = Field(description="Where the walk goes next.")
    quorum: Share | None = _QUORUM
    records: str | None = Field(
        None,
        pattern=r"^[a-z-]+\.[a-z-]+$",
        description="The part of an outcome's document that the adopted words fill: "
        "`DOCUMENT.PART`, e.g. `charter.membership` (docs/format.md lists the parts).",
        examples=["charter.membership"],
    )


class Check(NodeBase):
    """Routes on earlier answers without asking anyone."""

    check: list[Route] = Field(
        min_length=1, description="`when -> next` pairs; first match wins.",
        examples=[[{"when": {"answer": "hours", "gte": 10}, "next": "coalition"}]],
    )
    otherwise: NodeId | None = Field(None, description="Where to go when nothing matches.",
                                     examples=["network"])


class Handoff(NodeBase):
    """Walk another map, then come back here by the outcome it reached."""

    map: str = Field(
        description="Path of the other map, relative to this file.",
        examples=["working-through-dissent.yaml"],
    )
    returns: dict[str, NodeId] = Field(
        default_factory=dict,
        description="The other map's outcome node ids -> nodes here.",
        examples=[{"resolved": "red-lines", "stuck": "network"}],
    )
    otherwise: NodeId | None = Field(
        None, description="Where any outcome without its own return goes.",
        examples=["pause-and-repair"],
    )


class Info(NodeBase, Timed):
    """Something the facilitator reads out; no vote."""

    say: str = Field(description="What to read out.",
                     examples=["Agreements: no debate, 'I' statements, anyone may pass."])
    next: NodeId = Field(description="Where the walk goes next.")


class Outcome(NodeBase, Timed):
    """Where a walk ends."""

    outcome: str = Field(description="The outcome's title.", examples=["Form a coalition"])
    verdict: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="A machine-readable name for the outcome.",
        examples=["form-coalition"],
    )
    text: str | None = Field(
        None,
        description="What it means; a Jinja2 template (sandboxed) that may use "
        "`answers`, `statuses`, `texts`, `group`, `map` and `outcome`.",
        examples=["{{ group | length }} groups agreed to form a coalition."],
    )
    next_steps: list[str] = Field(default_factory=list, description="Concrete next steps.",
                                  examples=[["Book the first meeting within two weeks."]])
    document: DocumentKind | None = Field(
        None,
        description="The document the report fills from what was adopted: `charter`, "
        "`task-force-scope`, `network-agreement`, `not-now` or `none`.",
        examples=["task-force-scope"],
    )


NODE_KINDS = ("outcome", "handoff", "check", "info", "number", "text", "choice")


def node_kind(value: Any) -> str | None:
    """Tell a node's kind by the key it carries."""
    if isinstance(value, BaseModel):
        return KIND_OF_MODEL.get(type(value))
    if not isinstance(value, dict):
        return None
    if "outcome" in value:
        return "outcome"
    if "map" in value:
        return "handoff"
    if "check" in value:
        return "check"
    if "say" in value:
        return "info"
    if "ask" in value:
        if "number" in value:
            return "number"
        if "text" in value:
            return "text"
        return "choice"
    return None


Node = Annotated[
    Union[
        Annotated[Outcome, Tag("outcome")],
        Annotated[Handoff, Tag("handoff")],
        Annotated[Check, Tag("check")],
        Annotated[Info, Tag("info")],
        Annotated[NumberQuestion, Tag("number")],
        Annotated[TextQuestion, Tag("text")],
        Annotated[ChoiceQuestion, Tag("choice")],
    ],
    Discriminator(
        node_kind,
        custom_error_type="node_kind",
        custom_error_message="a node carries one of: ask, check, map, say, outcome",
    ),
]

KIND_OF_MODEL: dict[type, str] = {
    Outcome: "outcome",
    Handoff: "handoff",
    Check: "check",
    Info: "info",
    NumberQuestion: "number",
    TextQuestion: "text",
    ChoiceQuestion: "choice",
}
Question = Union[ChoiceQuestion, NumberQuestion, TextQuestion]


class MapFile(Strict):
    """A whole decision map."""

    id: NodeId = Field(description="The map's id.", examples=["coalition-formation"])
    title: str = Field(description="The map's title.",
                       examples=["Should we build a coalition?"])
    version: str = Field(description="The map's version, as text.", examples=["1.0"])
    description: str | None = Field(None, description="What the map is for.",
                                    examples=["Decide whether and how to work as one."])
    start: NodeId = Field(description="The first node.")
    defaults: Defaults = Field(default_factory=Defaults, description="Rule defaults.",
                               examples=[{"rule": "majority", "max_revisits": 2}])
    nodes: dict[NodeId, Node] = Field(
        min_length=1, description="Node id -> node.",
        examples=[{"end": {"outcome": "Not now", "next_steps": ["Meet in three months."]}}],
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) else v


AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()
Route.model_rebuild()
MapFile.model_rebuild()
