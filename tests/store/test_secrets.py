"""The interaction token is stored, and shown nowhere: not in reprs, logs or errors."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from sqlalchemy.exc import StatementError

from bot.store import JobExistsError, StaleJobError, open_store
from tests.store.jobs_for_tests import SECRET_TOKEN, T0, full_job, minimal_job


def test_a_jobs_repr_and_str_hide_the_token() -> None:
    job = full_job()

    assert SECRET_TOKEN not in repr(job)
    assert SECRET_TOKEN not in str(job)
    assert SECRET_TOKEN not in repr(job.reply)


async def test_the_stores_logs_and_errors_never_contain_the_token(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # before opening: SQLAlchemy decides per connection whether to log statements and their parameters
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    store = await open_store(database_url)
    errors: list[Exception] = []
    try:
        created = await store.create(full_job())
        await store.get(created.id)
        await store.save(dataclasses.replace(created, reply_final=False))
        await store.unfinished()
        with pytest.raises(JobExistsError) as exists:
            await store.create(full_job())
        errors.append(exists.value)
        with pytest.raises(StaleJobError) as stale:
            await store.save(created)
        errors.append(stale.value)
        with pytest.raises(StatementError) as bad_value:
            await store.create(dataclasses.replace(minimal_job(), created_at=T0.replace(tzinfo=None)))
        errors.append(bad_value.value)
        assert SECRET_TOKEN not in repr(store)
    finally:
        await store.close()

    assert "INSERT INTO jobs" in caplog.text, (
        "SQLAlchemy's statement log must be on for this test to mean much"
    )
    assert SECRET_TOKEN not in caplog.text
    for error in errors:
        assert SECRET_TOKEN not in str(error)
        assert SECRET_TOKEN not in repr(error)
