"""Statements run on the pool's DBAPI connection: the same rows, transactions and errors as SQLAlchemy's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only, greenlet_spawn

from bot.jobs import JobState
from bot.store.prepared import PreparedStatement
from bot.store.sql import create_engine_for, migrate_to_head
from bot.store.tables import job_to_row, jobs, row_to_job
from tests.store.jobs_for_tests import SECRET_TOKEN, T0, full_job, minimal_job
from tests.store.postgres_for_tests import fresh_postgres_database

_BY_ID = select(jobs).where(jobs.c.id == bindparam("job_id"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_engine_for(database_url)
    await migrate_to_head(created)
    try:
        yield created
    finally:
        await created.dispose()


def _prepared(engine: AsyncEngine, statement: Any) -> PreparedStatement:
    return PreparedStatement(statement, engine.dialect)


async def _write(engine: AsyncEngine, statement: PreparedStatement, values: dict[str, Any]) -> int:
    changed: int = await greenlet_spawn(statement.write, engine.sync_engine, values)
    return changed


async def _mappings(
    engine: AsyncEngine, statement: PreparedStatement, values: dict[str, Any]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await greenlet_spawn(statement.mappings, engine.sync_engine, values)
    return found


async def test_a_row_written_and_read_here_is_the_row_sqlalchemy_writes_and_reads(
    engine: AsyncEngine,
) -> None:
    written_here, written_by_sqlalchemy = full_job(), minimal_job("0000000b")
    await _write(engine, _prepared(engine, insert(jobs)), job_to_row(written_here))
    async with engine.begin() as connection:
        await connection.execute(insert(jobs), job_to_row(written_by_sqlalchemy))

    async with engine.connect() as connection:
        row: Any = (await connection.execute(_BY_ID, {"job_id": written_here.id})).mappings().one()
    read_here = await _mappings(engine, _prepared(engine, _BY_ID), {"job_id": written_by_sqlalchemy.id})

    assert row_to_job(row) == written_here
    assert [row_to_job(found) for found in read_here] == [written_by_sqlalchemy]
    assert row_to_job(read_here[0]).created_at.tzinfo is not None


async def test_a_write_changes_only_the_rows_it_matches_and_says_how_many(engine: AsyncEngine) -> None:
    await _write(engine, _prepared(engine, insert(jobs)), job_to_row(minimal_job("0000000a")))
    await _write(engine, _prepared(engine, insert(jobs)), job_to_row(minimal_job("0000000b")))
    rename = _prepared(engine, update(jobs).where(jobs.c.id == bindparam("where_id")))

    changed = await _write(engine, rename, {"prompt": "a dog barks", "where_id": "0000000b"})
    unmatched = await _write(engine, rename, {"prompt": "a fox", "where_id": "0000000c"})

    prompts = await _mappings(
        engine, _prepared(engine, select(jobs.c.id, jobs.c.prompt).order_by(jobs.c.id)), {}
    )
    assert (changed, unmatched) == (1, 0)
    assert prompts == [
        {"id": "0000000a", "prompt": "a cat waves"},
        {"id": "0000000b", "prompt": "a dog barks"},
    ]


async def test_a_value_bound_in_the_statement_is_sent_and_a_missing_one_is_refused(
    engine: AsyncEngine,
) -> None:
    queued, running = minimal_job("0000000a"), minimal_job("0000000b", state=JobState.IN_PROGRESS)
    for job in (queued, running):
        await _write(engine, _prepared(engine, insert(jobs)), job_to_row(job))
    statement = _prepared(
        engine,
        select(jobs.c.id).where(
            jobs.c.state == JobState.QUEUED.value, jobs.c.guild_id == bindparam("guild_id")
        ),
    )

    assert await _mappings(engine, statement, {"guild_id": queued.guild_id}) == [{"id": queued.id}]
    assert await _mappings(engine, statement, {"guild_id": queued.guild_id + 1}) == []
    with pytest.raises(StatementError, match="guild_id"):
        await _mappings(engine, statement, {})


async def test_an_in_list_is_left_to_sqlalchemy(engine: AsyncEngine) -> None:
    statement = _prepared(engine, select(jobs.c.id).where(jobs.c.id.in_(bindparam("ids", expanding=True))))

    with pytest.raises(ValueError, match="IN lists"):
        await _mappings(engine, statement, {"ids": ["0000000a"]})


def test_a_driver_taking_named_parameters_is_left_to_sqlalchemy() -> None:
    statement = PreparedStatement(
        select(jobs.c.id).where(jobs.c.id == bindparam("job_id")), DefaultDialect(paramstyle="named")
    )

    with pytest.raises(ValueError, match="positional"):
        statement.rows(cast(Engine, None), {"job_id": "0000000a"})  # refused before any connection is taken


async def test_a_refused_write_is_sqlalchemys_error_without_its_parameters_and_rolled_back(
    engine: AsyncEngine,
) -> None:
    create = _prepared(engine, insert(jobs))
    await _write(engine, create, job_to_row(minimal_job("0000000a")))

    with pytest.raises(IntegrityError) as clash:
        await _write(engine, create, job_to_row(minimal_job("0000000a", locale="fr")))
    with pytest.raises(StatementError, match="timezone-aware") as naive:
        await _write(engine, create, job_to_row(minimal_job("0000000b", created_at=T0.replace(tzinfo=None))))

    for error in (clash.value, naive.value):
        assert SECRET_TOKEN not in str(error)
        assert SECRET_TOKEN not in repr(error)
    # the connection the clash used is the pool's only one: a transaction left aborted would refuse this
    await _write(engine, create, job_to_row(minimal_job("0000000c")))
    found = await _mappings(
        engine, _prepared(engine, select(jobs.c.id, jobs.c.locale).order_by(jobs.c.id)), {}
    )
    assert found == [{"id": "0000000a", "locale": "en-US"}, {"id": "0000000c", "locale": "en-US"}]


async def test_the_engine_log_shows_the_statement_and_never_its_parameters(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine.Engine")

    await _write(engine, _prepared(engine, insert(jobs)), job_to_row(full_job()))

    assert "INSERT INTO jobs" in caplog.text
    assert SECRET_TOKEN not in caplog.text


async def test_a_connection_the_database_dropped_is_replaced(tmp_path: Any) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'dropped.sqlite3'}")
    await migrate_to_head(engine)
    statement = _prepared(engine, select(jobs.c.id))

    def drop_the_pools_connection(sync_engine: Engine) -> None:
        connection = sync_engine.raw_connection()
        try:
            await_only(connection.driver_connection.close())  # type: ignore[union-attr]
        finally:
            connection.close()

    try:
        await greenlet_spawn(drop_the_pools_connection, engine.sync_engine)
        with pytest.raises(OperationalError) as dropped:
            await _mappings(engine, statement, {})
        assert dropped.value.connection_invalidated
        assert await _mappings(engine, statement, {}) == []
    finally:
        await engine.dispose()


async def test_a_call_cancelled_mid_statement_drops_its_connection(engine: AsyncEngine) -> None:
    create = _prepared(engine, insert(jobs))
    loop = asyncio.get_running_loop()
    cancelled: list[asyncio.Task[int]] = []
    invalidated: list[object] = []

    def cancel_once_checked_out(*_: object) -> None:
        while cancelled:  # lands on the call's first wait for the database (asyncpg's BEGIN, SQLite's trip)
            loop.call_soon(cancelled.pop().cancel)

    event.listen(engine.sync_engine, "checkout", cancel_once_checked_out)
    event.listen(engine.sync_engine, "invalidate", lambda *args: invalidated.append(args))
    call = asyncio.create_task(_write(engine, create, job_to_row(minimal_job("0000000a"))))
    cancelled.append(call)
    with pytest.raises(asyncio.CancelledError):
        await call

    assert len(invalidated) == 1
    await _write(engine, create, job_to_row(minimal_job("0000000b")))
    async with engine.connect() as elsewhere:
        found = (await elsewhere.execute(select(jobs.c.id).where(jobs.c.id == "0000000b"))).scalars().all()
    assert found == ["0000000b"]


async def test_a_schema_another_process_changed_is_read_again() -> None:
    async with fresh_postgres_database() as url:
        engine = create_engine_for(url)
        other_process = create_async_engine(make_url(url).set(drivername="postgresql+asyncpg"))
        try:
            await migrate_to_head(engine)
            job = minimal_job()
            await _write(engine, _prepared(engine, insert(jobs)), job_to_row(job))
            by_id = _prepared(engine, _BY_ID)
            await _mappings(engine, by_id, {"job_id": job.id})  # asyncpg now keeps the statement prepared
            async with other_process.begin() as connection:
                await connection.execute(text("ALTER TABLE jobs ALTER COLUMN locale TYPE varchar(40)"))

            with contextlib.suppress(DBAPIError):  # the call that learns of it fails, as through SQLAlchemy
                await _mappings(engine, by_id, {"job_id": job.id})
            found = await _mappings(engine, by_id, {"job_id": job.id})
        finally:
            await other_process.dispose()
            await engine.dispose()
    assert [row_to_job(row) for row in found] == [job]
