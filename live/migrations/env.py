"""Alembic's entry for the live room's schema: run from `store.upgrade`, online only."""

from __future__ import annotations

from alembic import context
from decision_map_live.store import metadata
from sqlalchemy import create_engine

url = context.config.get_main_option("sqlalchemy.url")
engine = create_engine(url)
with engine.connect() as connection:
    # render_as_batch: SQLite alters tables by copying them
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
