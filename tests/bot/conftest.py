"""Fixtures shared by the core's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import JobStore, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    """An empty SQLite store in ``tmp_path`` (tests/store runs every store test on PostgreSQL too)."""
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}")
    try:
        yield opened
    finally:
        await opened.close()
