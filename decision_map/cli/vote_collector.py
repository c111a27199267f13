"""How `decision-map step` collects the group's votes at one question: member by member or
as one quick tally, with a reason asked after every block, and the group's confirmation.
What a typed line means is prompting.py; the commands at a prompt are the loop's (stepper.py),
so lines come in through its `read`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..model.decision import Ballot
from ..model.format import TextQuestion
from ..model.vocabulary import ABSTAIN, BLOCK, BLOCK_VOTES, REASON_WORDS
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

# read(prompt, vote): one line, the commands handled; vote=True lets t and m switch modes.
Reader = Callable[[str, bool], str]


class VoteCollector:
    """Asks for the votes at one question and hands back the ballots; keeps the mode
    (member by member, or tally) from one question to the next."""

    def __init__(self, term: Terminal, read: Reader, group: Sequence[str], mode: str) -> None:
        self.t = term
        self.read = read
        self.group = list(group)
        self.mode = mode

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
                line = self.read("  The group's sentence (a: none): ", True)
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
                line = self.read(f"  {name:<{width}} [{hint}]: ", True)
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
        for value, n in pairs:
            for i in range(n):
                reason = None
                if tally_needs_reason(q, value):
                    word = REASON_WORDS.get(value, BLOCK)
                    which = f"{word} {i + 1} of {n}" if n > 1 else word
                    reason = self._reason(f"    The reason for {which}",
                                          q.reasons_required and value in BLOCK_VOTES)
                ballots.append(Ballot(None, value, reason))
        return ballots

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
