"""Reading the queue again rebuilds only the jobs written since: a job's id and version name its content."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from bot.jobs import CancelPlace, Job, JobState
from bot.store import JobStore, open_store
from bot.store import snapshots as snapshots_module
from bot.store.snapshots import JobSnapshots
from bot.store.sql import SqlJobStore
from bot.store.tables import row_to_job
from tests.store.jobs_for_tests import T0, minimal_job


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the jobs the store rebuilds from their rows, in order."""
    ids: list[str] = []
    real: Callable[[Mapping[str, Any]], Job] = row_to_job

    def counted(row: Mapping[str, Any]) -> Job:
        job = real(row)
        ids.append(job.id)
        return job

    monkeypatch.setattr(snapshots_module, "row_to_job", counted)
    return ids


async def queue_of(store: JobStore, count: int) -> list[Job]:
    jobs = [minimal_job(f"{n:08x}", created_at=T0 + timedelta(seconds=n)) for n in range(count)]
    return [await store.create(job) for job in jobs]


async def test_an_unchanged_queue_is_read_again_without_rebuilding_a_job(
    store: JobStore, rebuilt: list[str]
) -> None:
    created = await queue_of(store, 5)

    first = await store.queued_jobs()
    assert first == created
    assert rebuilt == []  # each was remembered as it was written

    assert await store.queued_jobs() == created
    assert rebuilt == []


async def test_a_job_written_since_is_read_again_and_one_that_left_the_queue_is_not_listed(
    store: JobStore, rebuilt: list[str]
) -> None:
    created = await queue_of(store, 4)
    await store.queued_jobs()
    rebuilt.clear()

    renamed = await store.save(created[1].with_changes(at=T0, locale="ko"))
    await store.save(
        created[2].moved_to(JobState.CANCELLED, at=T0, cancelled_by=7, cancel_place=CancelPlace.LOCAL)
    )

    again = await store.queued_jobs()
    assert again == [created[0], renamed, created[3]]  # oldest first, the cancelled one gone
    assert again[1].locale == "ko"
    assert again[1] is renamed  # the copy written, not one rebuilt from its row
    assert rebuilt == []
    assert isinstance(store, SqlJobStore)
    assert len(store._known) == 3  # and no longer remembered


async def test_a_queue_longer_than_one_read_of_rows_comes_whole_and_in_order(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots_module, "ROWS_PER_READ", 2)
    created = await queue_of(store, 7)
    assert await store.queued_jobs() == created
    assert await store.queued_jobs(limit=3) == created[:3]


def test_snapshots_keep_the_newest_version_and_start_again_empty_when_full() -> None:
    known = JobSnapshots(kept_max=2)
    first = minimal_job("0000000a")
    newer = first.with_changes(at=T0, version=first.version + 1)
    known.keep([newer, first])
    assert known.at(first.id, newer.version) == newer
    assert known.at(first.id, first.version) is None  # an older version is not served for a newer one

    known.keep([minimal_job("0000000b")])
    assert len(known) == 2
    known.keep([minimal_job("0000000c")])
    assert len(known) == 1
    assert known.at("0000000c", first.version) is not None

    known.keep([minimal_job("0000000d")])
    known.retain(["0000000d", "0000000e"])
    assert len(known) == 1
    assert known.at("0000000d", first.version) is not None


async def test_a_job_another_process_wrote_is_rebuilt_from_its_row_once(
    database_url: str, rebuilt: list[str]
) -> None:
    here, there = await open_store(database_url), await open_store(database_url)
    try:
        created = await queue_of(here, 3)
        await here.queued_jobs()
        written_there = await there.save(created[0].with_changes(at=T0, locale="ko"))

        seen_here = await here.queued_jobs()
        assert seen_here == [written_there, *created[1:]]
        assert rebuilt == [written_there.id]
        assert await here.queued_jobs() == seen_here
        assert rebuilt == [written_there.id]
    finally:
        await here.close()
        await there.close()
