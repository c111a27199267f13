"""How `decision-map step` collects the group's votes at one question: member by member or
as one quick tally, with a reason asked after every block, and the group's confirmation.
What a typed line means is prompting.py; the commands at a prompt are the loop's (stepper.py),
so lines come in through its `read`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..model.decision import Ballot
from ..model.format import TextQuestion
from ..model.vocabulary import (
    ABSTAIN,
    BLOCK,
    BLOCK_VOTES,
    FINGERS,
    FIST,
    OBJECT,
    REASON_WORDS,
    STAND_ASIDE,
)
from .prompting import (
    MemberVote,
    Question,
    VoteInputError,
    member_hint,
    parse_member_vote,
    parse_tally,
    tally_example,
    tally_needs_reason,
)
from .terminal import SwitchMode, Terminal

# read(prompt, vote, who=..., default=...): one line, the commands handled; vote=True lets
# t and m switch modes; who keeps the member's own input history; default is offered.
Reader = Callable[..., str]


class VoteCollector:
    """Asks for the votes at one question and hands back the ballots; keeps the mode
    (member by member, or tally) from one question to the next."""

    def __init__(self, term: Terminal, read: Reader, group: Sequence[str], mode: str) -> None:
        self.t = term
        self.read = read
        self.group = list(group)
        self.mode = mode
        # The words each member last typed at each text question, offered again after
        # back or r so that a round's typed answers are not lost: (node, member) -> words.
        self.typed: dict[tuple[int, str | None], str] = {}

    def collect(self, q: Question) -> list[Ballot]:
        """The ballots at `q`, in the current mode; t and m switch modes and ask again."""
        while True:
            try:
                if self.mode == "tally" and q.tallies:
                    return self.tally(q)
                return self.member_by_member(q)
            except SwitchMode as sw:
                if sw.mode == "tally" and not q.tallies:
                    self.t.say("A quick tally does not fit this question; member by member.",
                               "yellow")
                    continue
                self.mode = sw.mode
                self.t.say("Quick tally." if sw.mode == "tally" else "Member by member.",
                           "dim")

    def _reason(self, prompt: str, required: bool) -> str | None:
        """A reason typed after a block: asked again until given when the map requires one
        (docs/rules.md), else Enter gives none."""
        while True:
            line = self.read(prompt + (": " if required else " (Enter: none given): "), False)
            if line.strip() or not required:
                return line.strip() or None
            self.t.say("    A reason is needed: say why, in a few words.", "yellow")

    def member_by_member(self, q: Question) -> list[Ballot]:
        """Each member's vote in turn (- skips one), or the group's one sentence."""
        node = q.node
        if isinstance(node, TextQuestion) and node.text == "one":
            while True:
                line = self._words(q, None, "  The group's sentence (a: none)")
                try:
                    mv = parse_member_vote(q, line)
                except VoteInputError as e:
                    self.t.say(f"  {e}", "yellow")
                    continue
                return [] if mv.value == ABSTAIN else [Ballot(None, mv.value)]
        hint = member_hint(q)
        ballots: list[Ballot] = []
        width = max(len(n) for n in self.group)
        for name in self.group:
            while True:
                if isinstance(node, TextQuestion):
                    line = self._words(q, name, f"  {name:<{width}} [{hint}]")
                else:
                    line = self.read(f"  {name:<{width}} [{hint}]: ", True, who=name)
                if line.strip() == "-":
                    mv = None
                    break
                try:
                    mv = parse_member_vote(q, line)
                except VoteInputError as e:
                    self.t.say(f"  {e}", "yellow")
                    continue
                break
            if mv is None:
                continue
            ballots.append(self._ballot(name, mv, q.reasons_required))
        return ballots

    def _words(self, q: Question, name: str | None, prompt: str) -> str:
        """A member's words at a text question; the words they typed here before (a
        re-vote, a step back) are offered again: Enter keeps them."""
        key = (id(q.node), name)
        before = self.typed.get(key)
        if before:
            short = before if len(before) <= 40 else before[:39] + "…"
            prompt = f"{prompt} (Enter keeps: {short})"
        line = self.read(f"{prompt}: ", True, who=name, default=before or "")
        if not line.strip() and before:
            line = before
        if line.strip() and line.strip() != "-":
            self.typed[key] = line
        return line

    def _ballot(self, name: str, mv: MemberVote, required: bool) -> Ballot:
        reason = None
        if mv.needs_reason:
            word = REASON_WORDS.get(str(mv.value), BLOCK)
            reason = self._reason(f"    {name}, the reason for the {word}",
                                  required and mv.value in BLOCK_VOTES)
        return Ballot(name, mv.value, reason)

    def tally(self, q: Question) -> list[Ballot]:
        """One tally line for the room, then a reason for each block in it."""
        example = tally_example(q, len(self.group))
        while True:
            line = self.read(f"  Tally (like: {example}): ", True)
            try:
                pairs = parse_tally(q, line, len(self.group))
            except VoteInputError as e:
                self.t.say(f"  {e}", "yellow")
                continue
            break
        ballots: list[Ballot] = []
        named: set[str] = set()
        for value, n in pairs:
            names = self._names(q, value, n, named) if _named_in_record(q, value) else []
            for i in range(n):
                who = names[i] if i < len(names) else None
                reason = None
                if tally_needs_reason(q, value):
                    word = REASON_WORDS.get(value, BLOCK)
                    required = q.reasons_required and value in BLOCK_VOTES
                    if who is not None:
                        reason = self._reason(f"    {who}, the reason for the {word}",
                                              required)
                    else:
                        which = f"{word} {i + 1} of {n}" if n > 1 else word
                        reason = self._reason(f"    The reason for {which}", required)
                ballots.append(Ballot(who, value, reason))
        return ballots

    def _names(self, q: Question, value: str, n: int, taken: set[str]) -> list[str]:
        """Who gave the `n` stand-asides or blocks of a tally, by name, so the record
        names them; Enter skips (they stay unnamed), and fewer names than `n` is fine."""
        what = _SAID_BY_NAME.get(value) or ("showed a fist" if value == FIST else
                                           f"showed {value} finger{'s' if value != '1' else ''}")
        while True:
            line = self.read(f"    Who {what}? Names separated by commas (Enter: skip): ",
                             False)
            try:
                names = self._members(line, n, taken)
            except VoteInputError as e:
                self.t.say(f"  {e}", "yellow")
                continue
            taken.update(names)
            return names

    def _members(self, line: str, n: int, taken: set[str]) -> list[str]:
        """The group's members named in `line` (any case), at most `n`, none twice."""
        out: list[str] = []
        for raw in (w.strip() for w in line.split(",")):
            if not raw:
                continue
            found = [m for m in self.group if m.lower() == raw.lower()] or \
                [m for m in self.group if m.lower().startswith(raw.lower())]
            if len(found) != 1:
                raise VoteInputError(f"{raw!r} is not one of the group "
                                     f"({', '.join(self.group)})")
            if found[0] in out or found[0] in taken:
                raise VoteInputError(f"{found[0]} is named twice; name each member once")
            out.append(found[0])
        if len(out) > n:
            raise VoteInputError(f"{len(out)} names for a count of {n}; name at most {n}")
        return out

    def confirm(self, leads: str = "") -> bool:
        """Whether the group accepts the decision shown (or votes again), told first
        where accepting leads (`leads`, from Walk.leads_to)."""
        if leads:
            self.t.say(f"  {leads}", "bold")
        while True:
            line = self.read("  Enter or y: accept and go on · r: vote again: ", False)
            ans = line.strip().lower()
            if ans in ("", "y", "yes", "ok"):
                return True
            if ans in ("r", "revote", "re-vote", "n", "no"):
                return False
            self.t.say("  Press Enter (or y) to accept, or r to vote again.", "yellow")


# How the question "Who ...?" says each vote a tally names its members for.
_SAID_BY_NAME: dict[str, str] = {STAND_ASIDE: "stood aside", BLOCK: "blocked",
                                 OBJECT: "objected"}


def _named_in_record(q: Question, value: str) -> bool:
    """Whether the record names who gave this tallied vote: stand-asides and blocks, and
    under fist-to-five the fingers below the least it takes (the ones to be heard)."""
    low_fingers = (q.record.ballot == "fingers" and value in FINGERS
                   and int(value) < q.min_fingers)
    return value == STAND_ASIDE or tally_needs_reason(q, value) or low_fingers
