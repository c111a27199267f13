"""The documents an outcome can hand the group, and the parts each has: plain data.

A map's outcome declares its document (`document: charter`), and a `text: one` question
or a question with a proposal declares the part its adopted words fill
(`records: charter.membership`). The checker holds both to these lists; the report fills
each part from what was adopted, and names the question that would fill an empty one.
"""

from __future__ import annotations

from typing import Literal

DocumentKind = Literal["charter", "task-force-scope", "network-agreement", "not-now", "none"]

# kind -> (title, what it is for, ((part id, heading, what belongs there), ...))
DOCUMENTS: dict[str, tuple[str, str, tuple[tuple[str, str, str], ...]]] = {
    "charter": ("The coalition charter",
                "Drafted during the walk; a core group turns it into the final text.", (
        ("members", "Name, date, member groups and their representatives", ""),
        ("problem", "What we want to solve", "The problem, and who is affected."),
        ("goals", "Goals", "Measurable and time-bound; how long the coalition is meant to "
                  "last."),
        ("for-against", "What we are for and against",
         "Principles of unity, red lines, issues outside our scope."),
        ("principles", "Principles we work by", "For example the Jemez Principles."),
        ("membership", "Membership", "Who may join, how to join, leave, be removed, come "
                                     "back."),
        ("commitments", "What each group commits", "Time, money, in kind, a liaison."),
        ("structure", "Structure and roles", "Convener, coordinator, working groups."),
        ("how-we-decide", "How we decide",
         "Which rule for which decision, quorum, what a block means."),
        ("communication", "Communication", "Channels, minutes, spokespeople, credit."),
        ("resources", "Resources and budget", ""),
        ("conflict", "Conflict and accountability", ""),
        ("review", "Review dates, evaluation, and how the coalition ends", ""),
        ("amending", "How to amend this charter", ""),
    )),
    "task-force-scope": ("The task force's scope (one page)",
                         "What the task force does, who is in it, and when it ends.", (
        ("purpose", "What the task force is for", "The one job it does."),
        ("deliverable", "What it delivers", "What is done when it is done."),
        ("members", "Who is in it", "The groups and the people they send."),
        ("lead", "Who convenes it", ""),
        ("timeline", "By when", "The end date, and check-ins on the way."),
        ("resources", "What it needs", "Time, money, in kind."),
    )),
    "network-agreement": ("The network agreement",
                          "How the groups keep in touch without forming a coalition.", (
        ("purpose", "Why we keep in touch", ""),
        ("sharing", "What we share", "Information, invitations, resources."),
        ("contacts", "Who is the contact in each group", ""),
        ("meetings", "When we meet", ""),
        ("review", "When we look at this again", ""),
    )),
    "not-now": ("Not now: what would reopen the question",
                "The group decided not to go on now; this says why, and what would change "
                "that.", (
        ("reasons", "Why not now", ""),
        ("reopen", "What would reopen the question", "A change the group would notice."),
        ("review", "When we look again", "A date, and who calls the meeting."),
    )),
}
DOCUMENT_KINDS: tuple[str, ...] = ("charter", "task-force-scope", "network-agreement",
                                   "not-now", "none")


def parts_of(kind: str) -> tuple[str, ...]:
    """The part ids of a document kind (none for `none` or an unknown kind)."""
    got = DOCUMENTS.get(kind)
    return tuple(p for p, _, _ in got[2]) if got else ()


def split_records(value: str) -> tuple[str, str]:
    """`charter.membership` -> ("charter", "membership"); no dot -> (value, "")."""
    kind, _, part = value.partition(".")
    return kind, part
