"""DATABASE_URL handling: what is accepted, how it is normalised, and errors that never show the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import StoreUnavailableError, open_store
from bot.store.sql import normalise_database_url

PASSWORD = "hunter2-do-not-show"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/jobs.sqlite3", "sqlite+aiosqlite:///data/jobs.sqlite3"),
        ("sqlite+aiosqlite:////var/lib/bot/jobs.db", "sqlite+aiosqlite:////var/lib/bot/jobs.db"),
        (
            "postgresql://bot:pw@db.internal:5432/animate",
            "postgresql+asyncpg://bot:pw@db.internal:5432/animate",
        ),
        ("postgres://bot:pw@db.internal/animate", "postgresql+asyncpg://bot:pw@db.internal/animate"),
        ("postgresql+asyncpg://bot@127.0.0.1/animate", "postgresql+asyncpg://bot@127.0.0.1/animate"),
        ("  postgresql://bot@127.0.0.1/animate\n", "postgresql+asyncpg://bot@127.0.0.1/animate"),
        ("postgres://bot@db/animate?sslmode=require", "postgresql+asyncpg://bot@db/animate?ssl=require"),
    ],
)
def test_accepted_urls_are_normalised_to_the_async_drivers(given: str, expected: str) -> None:
    assert normalise_database_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "given",
    [
        f"mysql://bot:{PASSWORD}@db/animate",
        f"postgresql+psycopg2://bot:{PASSWORD}@db/animate",
        f"postgresql://bot:{PASSWORD}@db:not-a-port/animate",
        f"bot:{PASSWORD}@db/animate",
        "",
        "sqlite://",
        "sqlite:///:memory:",
    ],
)
def test_unusable_urls_are_refused_naming_the_setting_but_not_the_password(given: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as raised:
        normalise_database_url(given)

    assert PASSWORD not in str(raised.value)
    shown_with_it = raised.value.__cause__ or (
        None if raised.value.__suppress_context__ else raised.value.__context__
    )
    assert shown_with_it is None, "a chained parser error could print the URL in the traceback"


async def test_open_store_refuses_an_unusable_url_without_the_password() -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as raised:
        await open_store(f"mysql://bot:{PASSWORD}@127.0.0.1/animate")

    assert PASSWORD not in str(raised.value)


async def test_open_store_creates_the_sqlite_files_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "jobs.sqlite3"

    store = await open_store(f"sqlite:///{path}")
    await store.close()

    assert path.is_file()


async def test_an_unreachable_postgresql_is_one_clear_error_without_the_password() -> None:
    with pytest.raises(StoreUnavailableError, match="DATABASE_URL") as raised:
        await open_store(f"postgresql://bot:{PASSWORD}@127.0.0.1:1/animate")

    assert PASSWORD not in str(raised.value)
    assert "127.0.0.1:1" in str(raised.value)
