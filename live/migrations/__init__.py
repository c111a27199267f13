"""Alembic migrations of the live room's database (run by `store.upgrade`)."""
