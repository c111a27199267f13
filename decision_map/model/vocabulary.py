"""The special vote words (abstain, stand-aside, block, object) and every way of spelling
them: the one place the map format, the rules and the prompts read them from.

It lives in the model, not in rules/, because the format itself needs the words (no choice
may be spelled like one) and the model imports nothing above it.
"""

from __future__ import annotations

from typing import Any

ABSTAIN = "abstain"
STAND_ASIDE = "stand-aside"
BLOCK = "block"
OBJECT = "object"  # consent's word for a block

# The words as recorded in ballots, tallies and traces.
SPECIAL_VOTES: tuple[str, ...] = (ABSTAIN, STAND_ASIDE, BLOCK, OBJECT)
# A block and an objection: the votes that stop a proposal and carry a reason.
BLOCK_VOTES: frozenset[str] = frozenset({BLOCK, OBJECT})
# No choice may be spelled like a special word.
RESERVED_VOTES: frozenset[str] = frozenset(SPECIAL_VOTES)

# A fist: the fingers that block under a fingers ballot.
FIST = "0"
FINGERS: tuple[str, ...] = ("0", "1", "2", "3", "4", "5")

# Spellings accepted in written ballots (answers files, sessions, the API), after strip()
# and lower().
WRITTEN: dict[str, str] = {
    "abstain": ABSTAIN,
    "stand-aside": STAND_ASIDE,
    "stand aside": STAND_ASIDE,
    "stand_aside": STAND_ASIDE,
    "block": BLOCK,
    "object": OBJECT,
}
# Spellings accepted when typed at a prompt: the written ones and short forms.
TYPED: dict[str, str] = {
    **WRITTEN,
    "a": ABSTAIN,
    "s": STAND_ASIDE, "standaside": STAND_ASIDE, "aside": STAND_ASIDE,
    "b": BLOCK,
    "o": OBJECT, "objection": OBJECT,
    "pass": ABSTAIN,  # the maps say anyone may pass: a pass is an abstention
}
# Short answers typed at a vote: each stands for the choice spelled so (value or label),
# where the question has one and no other choice starts with the same letter.
SHORT_CHOICES: dict[str, str] = {"y": "yes", "n": "no"}
# The one key a prompt offers for each word, and how the word is said.
KEYS: dict[str, str] = {ABSTAIN: "a", STAND_ASIDE: "s", BLOCK: "b", OBJECT: "o"}
SAID: dict[str, str] = {ABSTAIN: "abstain", STAND_ASIDE: "stand aside", BLOCK: "block",
                        OBJECT: "object"}
# What the reason asked for after a blocking vote is called.
REASON_WORDS: dict[str, str] = {BLOCK: "block", OBJECT: "objection", FIST: "fist"}


def written_special(value: Any) -> str | None:
    """The special word a written ballot value spells, or None.

    >>> written_special(" Stand Aside ")
    'stand-aside'
    >>> written_special("a") is None
    True
    """
    if isinstance(value, str):
        return WRITTEN.get(value.strip().lower())
    return None


def typed_special(text: str) -> str | None:
    """The special word a typed line spells, short forms included, or None.

    >>> typed_special("o")
    'object'
    """
    return TYPED.get(text.strip().lower())


# What `decision-map step` takes as a command when a whole typed line is one of these
# (any case), at any prompt, a vote's included; "-" passes over a member. `t` and `m`
# (quick tally, member by member) give way to a choice spelled so, the others do not.
STEPPER_COMMANDS: tuple[str, ...] = (
    "?", "help", "back", "path", "map", "save", "quit", "exit", "tally", "members", "-")
MODE_KEYS: tuple[str, ...] = ("t", "m")
# A line starting with this is a vote as typed after it, never a command: `=back`.
AS_TYPED = "="


def is_command(text: str) -> bool:
    """Whether a typed line (or a choice spelled so) is a stepper command.

    >>> is_command(" Back ")
    True
    >>> is_command("backyard")
    False
    """
    return text.strip().lower() in STEPPER_COMMANDS
