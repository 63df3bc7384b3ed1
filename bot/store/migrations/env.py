"""Alembic environment of the job store.

At run time the store hands Alembic an open connection (``config.attributes["connection"]``), already inside
the transaction (and, on PostgreSQL, the advisory lock) it migrates under. From the command line, for writing
new revisions, it connects to ``DATABASE_URL`` itself; see ``alembic.ini`` beside this file.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.sql import create_engine_for
from bot.store.tables import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_command_line() -> None:
    url = os.environ.get("DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATABASE_URL to the database to migrate")
    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the job store migrates online only")

given = context.config.attributes.get("connection")
if isinstance(given, Connection):
    run_on(given)
else:
    asyncio.run(run_from_command_line())
