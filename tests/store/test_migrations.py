"""Opening a store migrates it: from scratch, again, and by two openers at once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, String, column, select, table
from sqlalchemy.engine import make_url

from bot.store import open_store
from bot.store.sql import MIGRATIONS_DIR, create_engine_for
from bot.store.tables import metadata
from tests.store.jobs_for_tests import minimal_job
from tests.store.postgres_for_tests import fresh_postgres_database


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


async def stored_revisions(database_url: str) -> list[str]:
    engine = create_engine_for(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                select(column("version_num", String)).select_from(table("alembic_version"))
            )
            return list(result.scalars())
    finally:
        await engine.dispose()


async def test_a_new_database_is_migrated_to_head(database_url: str) -> None:
    store = await open_store(database_url)
    await store.close()

    assert await stored_revisions(database_url) == [head_revision()]


async def test_opening_again_keeps_the_schema_and_the_jobs(database_url: str) -> None:
    first = await open_store(database_url)
    job = await first.create(minimal_job())
    await first.close()

    second = await open_store(database_url)
    try:
        assert await second.get(job.id) == job
    finally:
        await second.close()
    assert await stored_revisions(database_url) == [head_revision()]


async def test_the_migrated_schema_is_exactly_the_table_metadata(database_url: str) -> None:
    await (await open_store(database_url)).close()

    def differences(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    engine = create_engine_for(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_two_processes_opening_one_postgresql_database_at_once_both_succeed() -> None:
    async with fresh_postgres_database() as database_url:
        stores = await asyncio.gather(*(open_store(database_url) for _ in range(3)))
        try:
            await stores[0].create(minimal_job())
            assert await stores[2].get(minimal_job().id) is not None
        finally:
            await asyncio.gather(*(store.close() for store in stores))
        assert await stored_revisions(database_url) == [head_revision()]


async def test_two_openers_of_one_new_sqlite_file_at_once_both_succeed(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"

    stores = await asyncio.gather(*(open_store(database_url) for _ in range(3)))
    await asyncio.gather(*(store.close() for store in stores))

    assert await stored_revisions(database_url) == [head_revision()]


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_a_small_page_cache(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    await (await open_store(database_url)).close()

    path = make_url(database_url).database
    assert path is not None
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    engine = create_engine_for(database_url)
    try:
        async with engine.connect() as connection:
            busy_timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
            cache_size = (await connection.exec_driver_sql("PRAGMA cache_size")).scalar_one()
    finally:
        await engine.dispose()
    assert busy_timeout >= 5000
    assert cache_size == -512  # KiB: a small page cache per kept connection
