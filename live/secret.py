"""Secret ballots: who voted in one table, the ballots in another, and nothing that joins
them. The schema itself cannot link a member to a ballot:

- `who_voted` (room, round, member, question) says who took part, with no ballot;
- `secret_ballots` (random or HMAC id, room, round, question, ballot) holds each ballot with
  no member, no time and no sequence, in a WITHOUT ROWID table, so rows sit in the order
  of their random keys, not the order they were cast;
- the room's log gets `secret_voted` (who, never what), and at close one `vote_closed`
  carrying the ballots as an unnamed tally in a fixed order, which is what the walk replays.

A member changes their secret vote through a receipt: the ballot's id is an HMAC of the
room's signing key with the member's own cookie token, which the database keeps only as a
hash. Only that cookie can find the ballot again; the database and the key file together
cannot (see docs/live.md for why this and not a second cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

import sqlalchemy as sa

from decision_map.model.decision import Ballot
from decision_map.rules.params import QuestionT, effective_rule
from decision_map.rules.table import rule_named

from .store import Store, metadata

MODES = ("named", "hidden", "secret")
TINY = 3  # fewer ballots than this, and the tally shows who voted how

who_voted = sa.Table(
    "who_voted", metadata,
    sa.Column("room_id", sa.String(32), sa.ForeignKey("rooms.id"), primary_key=True),
    sa.Column("round", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("member", sa.String(100), primary_key=True),
    sa.Column("question", sa.String(200), nullable=False),
    sqlite_with_rowid=False,
)

secret_ballots = sa.Table(
    "secret_ballots", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("room_id", sa.String(32), sa.ForeignKey("rooms.id"), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("question", sa.String(200), nullable=False),
    sa.Column("ballot", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)


def can_be_secret(node: QuestionT, defaults: Any) -> bool:
    """Whether the question's rule can be counted from an unnamed tally (approval, ranked,
    number and text ballots cannot: their ballots would need names or carry words)."""
    return rule_named(effective_rule(node, defaults)).tallies


def mode_for(node: QuestionT, defaults: Any, wanted: str) -> str:
    """The ballot mode a vote on `node` is taken in: a map's `secret: true` always wins;
    secret falls back to hidden where the rule cannot count a tally."""
    if getattr(node, "secret", False):
        return "secret"
    if wanted == "secret" and not can_be_secret(node, defaults):
        return "hidden"
    return wanted if wanted in MODES else "named"


def receipt(key: bytes, room: str, round_: int, member_token: str) -> str:
    """The id of a member's secret ballot in one round: recomputable only with their cookie."""
    msg = f"secret-ballot:{room}:{round_}:{member_token}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def cast(store: Store, room: str, round_: int, question: str, member: str, ballot: Ballot,
         ballot_id: str | None, seen_seq: int | None = None, by: str = "") -> int:
    """Keep a secret ballot (replacing the member's earlier one in this round when
    `ballot_id` is their receipt; a random id when None, for a vote the facilitator
    enters) and who voted, with the log's `secret_voted`, in one transaction; refused
    (store.Moved) when the room moved after `seen_seq`, e.g. the vote closed in another
    process. `by`: the name of the facilitator who entered it, if they gave one."""
    unnamed = json.dumps(Ballot(None, ballot.value, ballot.reason).to_json())
    with store._lock, store.engine.begin() as c:
        if c.dialect.name == "sqlite":  # a replaced ballot's bytes are zeroed, not left
            c.exec_driver_sql("PRAGMA secure_delete=ON")
        seen = c.execute(sa.select(who_voted.c.member).where(
            who_voted.c.room_id == room, who_voted.c.round == round_,
            who_voted.c.member == member)).first() is not None
        done = ballot_id is not None and c.execute(secret_ballots.update().where(
            secret_ballots.c.id == ballot_id, secret_ballots.c.room_id == room,
            secret_ballots.c.round == round_).values(ballot=unnamed)).rowcount > 0
        if seen and not done:  # one ballot each: nothing can find the earlier one
            raise SecretError(f"{member} has a secret vote in already, entered "
                              f"{'by the facilitator' if ballot_id else 'from their phone'}; "
                              "a secret vote can only be changed from the phone that cast it")
        if not done:
            c.execute(secret_ballots.insert().values(
                id=ballot_id or secrets.token_hex(32), room_id=room, round=round_,
                question=question, ballot=unnamed))
        if not seen:
            c.execute(who_voted.insert().values(room_id=room, round=round_, member=member,
                                                question=question))
        who = {"round": round_, "member": member, **({"by": by} if by else {})}
        return store.append_in(c, room, "secret_voted", who, actor="member",
                               unmoved_since=seen_seq)


class SecretError(ValueError):
    """A secret vote that cannot be taken (a second one for the same member); str() is the
    line shown."""


def tally(store: Store, room: str, round_: int) -> list[Ballot]:
    """The round's secret ballots, unnamed, in a fixed order that says nothing of who or
    when (by value, then reason)."""
    with store.engine.connect() as c:
        rows = c.execute(sa.select(secret_ballots.c.ballot).where(
            secret_ballots.c.room_id == room, secret_ballots.c.round == round_)).scalars().all()
    out = [Ballot.from_json(json.loads(r)) for r in rows]
    return sorted(out, key=lambda b: (str(b.value), b.reason or ""))


def checkpoint(store: Store) -> None:
    """After a secret vote closes, on SQLite: rebuild the file (VACUUM), so each page holds
    its rows laid out in key order rather than in the order they were written (a ballot's
    place on its page would otherwise tell when it was cast, and the log tells who voted
    when); then copy the write-ahead log in and empty it, so older page images (a ballot
    before its member changed it) do not stay on disk. It costs about 0.1 s for a 5.8 MB
    file (200 rooms, 20 000 events); the app runs it off the event loop."""
    if store.engine.dialect.name != "sqlite":
        return
    with store._lock, store.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM")
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def reveals(ballots: list[Ballot]) -> str:
    """Why this tally shows how each person voted ("" when it does not): fewer than TINY
    ballots, or everyone gave the same vote."""
    if not ballots:
        return ""
    if len(ballots) < TINY:
        return (f"only {len(ballots)} voted, so the count can show how each of them voted")
    if len({json.dumps(b.to_json()["value"]) for b in ballots}) == 1:
        return "everyone voted the same, so the count shows how each person voted"
    return ""


def tally_lines(ballots: list[Ballot]) -> list[tuple[str, int]]:
    """A closed secret vote as lines to show: alike ballots counted together, in the
    tally's fixed order."""
    from .ballots import said

    counts: dict[str, int] = {}
    for b in ballots:
        words = said(b) + (f", because “{b.reason}”" if b.reason else "")
        counts[words] = counts.get(words, 0) + 1
    return list(counts.items())
