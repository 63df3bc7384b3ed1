"""The SQLite adapter that runs each statement in one trip to aiosqlite's thread."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.sql import SQLITE_BEGIN_OPTION, SQLITE_POOL_SIZE, create_engine_for
from bot.store.sqlite_driver import OneTripConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    created = create_engine_for(f"sqlite:///{tmp_path / 'trips.sqlite3'}")
    async with created.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
    try:
        yield created
    finally:
        await created.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every function sent to an aiosqlite connection's thread, in order."""
    sent: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object, **kwargs: object) -> object:
        sent.append(fn)
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_statement_outside_a_transaction_is_one_trip(
    engine: AsyncEngine, trips: list[object]
) -> None:
    unwrapped = engine.execution_options(**{SQLITE_BEGIN_OPTION: ""})
    async with unwrapped.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the pool's first checkout may open the connection
    trips.clear()

    async with unwrapped.begin() as connection:
        await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'a')"))
    async with unwrapped.connect() as connection:
        rows = (await connection.execute(text("SELECT id, name FROM t"))).all()

    assert [tuple(row) for row in rows] == [(1, "a")]
    assert len(trips) == 2


async def test_rows_rowcount_and_many_parameter_sets(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO t (id, name) VALUES (:id, :name)"),
            [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        )
        updated = await connection.execute(text("UPDATE t SET name = 'c' WHERE id >= 1"))
        assert updated.rowcount == 2
        result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert result.fetchone() is not None
        assert [tuple(row) for row in result.fetchall()] == [(2, "c")]


async def test_a_transaction_still_commits_and_rolls_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'kept')"))
    async with engine.connect() as connection, connection.begin():
        await connection.execute(text("INSERT INTO t (id, name) VALUES (2, 'undone')"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'clash')"))
        await connection.rollback()
    async with engine.connect() as connection:
        # A connection checked in mid-transaction is rolled back by the pool, not left holding the lock.
        await connection.execute(text("INSERT INTO t (id, name) VALUES (3, 'abandoned')"))
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["kept"]


async def test_connections_of_a_burst_are_kept_for_the_next(engine: AsyncEngine) -> None:
    opened: list[object] = []
    event.listen(
        engine.sync_engine, "connect", lambda dbapi_connection, _record: opened.append(dbapi_connection)
    )

    async def burst() -> None:
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(SQLITE_POOL_SIZE):
                connection = await stack.enter_async_context(engine.connect())
                await connection.execute(text("SELECT 1"))

    await burst()
    first = len(opened)
    await burst()

    assert first > 1
    assert len(opened) == first


async def test_a_closed_connection_is_neither_committed_nor_rolled_back(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        adapted = raw.dbapi_connection
        assert isinstance(adapted, OneTripConnection)
        await adapted.driver_connection.close()

        adapted.commit()
        adapted.rollback()

        await connection.invalidate()
