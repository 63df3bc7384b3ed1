"""Every store test runs on SQLite (a file in tmp_path) and on PostgreSQL (a fresh database per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import JobStore, open_store
from tests.store.postgres_for_tests import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A DATABASE_URL naming an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'not-yet-created' / 'jobs.sqlite3'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[JobStore]:
    opened = await open_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()
