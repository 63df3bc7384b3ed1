"""Alembic migrations of the job store; :func:`bot.store.sql.open_store` runs them to head on open."""
