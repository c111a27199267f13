"""Secret ballots: who voted, and the ballots, in two tables that share no key.

`who_voted` names members but holds no ballot; `secret_ballots` holds ballots but no member,
no time and no sequence. Both are WITHOUT ROWID tables on SQLite, so not even the hidden
rowid keeps the order rows were written in: rows sit in primary-key order, and a secret
ballot's key is random (or an HMAC only its owner's cookie can recompute).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables."""
    op.create_table(
        "who_voted",
        sa.Column("room_id", sa.String(32), sa.ForeignKey("rooms.id"), primary_key=True),
        sa.Column("round", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member", sa.String(100), primary_key=True),
        sa.Column("question", sa.String(200), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "secret_ballots",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("room_id", sa.String(32), sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("question", sa.String(200), nullable=False),
        sa.Column("ballot", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("secret_ballots")
    op.drop_table("who_voted")
