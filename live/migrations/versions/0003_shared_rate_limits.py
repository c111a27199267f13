"""Rate limits shared by every server process: the token buckets of live/shared_buckets.py.

On Postgres only (SQLite is served by one process, which keeps its buckets in memory): an
UNLOGGED table, since a bucket is worth nothing after a crash (all full again) and its writes,
one per limited request, should not go through the write-ahead log. It holds client
addresses and room ids until their buckets are full again (then pruned), and no column
named room_id, so the expiry sweep's room deletion leaves it alone.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the buckets' table and the index its prune reads (Postgres only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE UNLOGGED TABLE rate_buckets ("
               " name VARCHAR(32) NOT NULL,"
               " key VARCHAR(200) NOT NULL,"
               " tokens DOUBLE PRECISION NOT NULL,"
               " at DOUBLE PRECISION NOT NULL,"
               " ok BOOLEAN NOT NULL,"
               " PRIMARY KEY (name, key))")
    op.execute("CREATE INDEX rate_buckets_age ON rate_buckets (name, at)")


def downgrade() -> None:
    """Drop it again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE rate_buckets")
