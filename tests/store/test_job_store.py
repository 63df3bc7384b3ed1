"""The JobStore contract, on both backends."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, timedelta

import pytest
from sqlalchemy.exc import StatementError

from bot.jobs import JobState
from bot.store import JobExistsError, JobStore, StaleJobError, open_store
from tests.store.jobs_for_tests import SEOUL, T0, full_job, minimal_job


async def test_a_fully_populated_job_round_trips_every_field(store: JobStore) -> None:
    job = full_job()

    created = await store.create(job)
    loaded = await store.get(job.id)

    assert created == dataclasses.replace(job, version=1)
    assert loaded == created
    assert loaded is not None
    assert loaded.request.last_frame == job.request.last_frame
    assert loaded.reply.interaction_token == job.reply.interaction_token


async def test_a_minimal_job_round_trips_with_its_defaults_and_nones(store: JobStore) -> None:
    job = minimal_job()

    await store.create(job)
    loaded = await store.get(job.id)

    assert loaded == dataclasses.replace(job, version=1)
    assert loaded is not None
    assert loaded.request.last_frame is None
    assert loaded.failure_reason is None
    assert loaded.cancel_place is None
    assert loaded.reply_final is False


async def test_every_datetime_comes_back_timezone_aware_in_utc(store: JobStore) -> None:
    job = full_job()
    assert job.created_at.utcoffset() == timedelta(hours=9)

    await store.create(job)
    loaded = await store.get(job.id)

    assert loaded is not None
    stamps = [
        loaded.created_at,
        loaded.updated_at,
        loaded.submitted_at,
        loaded.started_at,
        loaded.finished_at,
        loaded.reply.token_expires_at,
    ]
    for stamp in stamps:
        assert stamp is not None
        assert stamp.tzinfo is UTC
    assert loaded.created_at == T0
    assert loaded.created_at.microsecond == T0.microsecond


async def test_a_naive_datetime_is_refused_rather_than_guessed(store: JobStore) -> None:
    job = dataclasses.replace(minimal_job(), created_at=T0.replace(tzinfo=None))

    with pytest.raises(StatementError, match="timezone-aware"):
        await store.create(job)
    assert await store.get(job.id) is None


async def test_get_of_an_unknown_id_is_none(store: JobStore) -> None:
    await store.create(minimal_job("00000001"))

    assert await store.get("00000002") is None


async def test_create_refuses_an_id_already_taken_and_keeps_the_first_job(store: JobStore) -> None:
    first = await store.create(minimal_job("0000abcd", locale="fr"))

    with pytest.raises(JobExistsError) as raised:
        await store.create(minimal_job("0000abcd", locale="de"))

    assert raised.value.job_id == "0000abcd"
    assert await store.get("0000abcd") == first


async def test_save_writes_the_changes_and_bumps_the_version(store: JobStore) -> None:
    created = await store.create(minimal_job())
    moved = created.moved_to(JobState.SUBMITTING, at=T0 + timedelta(seconds=5))

    saved = await store.save(moved)

    assert saved.version == 2
    assert saved == dataclasses.replace(moved, version=2)
    assert await store.get(created.id) == saved
    again = await store.save(saved.moved_to(JobState.IN_QUEUE, request_id="req-1", remote_queue_position=2))
    assert again.version == 3
    assert await store.get(created.id) == again


async def test_a_save_from_an_older_copy_is_refused(store: JobStore) -> None:
    created = await store.create(minimal_job())
    first_copy = await store.get(created.id)
    second_copy = await store.get(created.id)
    assert first_copy is not None
    assert second_copy is not None

    winner = await store.save(first_copy.moved_to(JobState.SUBMITTING))
    with pytest.raises(StaleJobError) as raised:
        await store.save(second_copy.moved_to(JobState.CANCELLED, cancelled_by=1))

    assert (raised.value.job_id, raised.value.version) == (created.id, 1)
    assert await store.get(created.id) == winner


async def test_of_two_concurrent_saves_from_one_version_exactly_one_wins(store: JobStore) -> None:
    created = await store.create(minimal_job())

    outcomes = await asyncio.gather(
        store.save(created.moved_to(JobState.SUBMITTING)),
        store.save(created.moved_to(JobState.CANCELLED)),
        return_exceptions=True,
    )

    saved = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, StaleJobError)]
    assert len(saved) == 1
    assert len(refused) == 1
    assert await store.get(created.id) == saved[0]


async def test_save_of_a_job_never_created_is_refused(store: JobStore) -> None:
    with pytest.raises(StaleJobError):
        await store.save(minimal_job(version=1))
    assert await store.get(minimal_job().id) is None


async def test_find_by_state_returns_only_those_states_oldest_first(store: JobStore) -> None:
    # created out of time order, so insertion order cannot pass for age order
    for job_id, minutes, state in [
        ("00000003", 3, JobState.IN_QUEUE),
        ("00000001", 1, JobState.QUEUED),
        ("00000004", 4, JobState.DELIVERED),
        ("00000002", 2, JobState.IN_PROGRESS),
    ]:
        await store.create(minimal_job(job_id, created_at=T0 + timedelta(minutes=minutes), state=state))

    found = await store.find_by_state([JobState.IN_PROGRESS, JobState.IN_QUEUE, JobState.QUEUED])

    assert [job.id for job in found] == ["00000001", "00000002", "00000003"]
    assert [job.id for job in await store.find_by_state([JobState.DELIVERED])] == ["00000004"]
    assert await store.find_by_state([JobState.FAILED]) == []
    assert await store.find_by_state([]) == []


async def test_oldest_first_orders_by_instant_not_by_the_offset_it_was_given_in(store: JobStore) -> None:
    later_in_seoul = minimal_job("0000000b", created_at=(T0 + timedelta(hours=1)).astimezone(SEOUL))
    earlier_in_utc = minimal_job("0000000a", created_at=T0)
    await store.create(later_in_seoul)
    await store.create(earlier_in_utc)

    assert [job.id for job in await store.queued_jobs()] == ["0000000a", "0000000b"]


async def test_queued_jobs_are_oldest_first_and_limited(store: JobStore) -> None:
    for job_id, minutes in [("00000003", 3), ("00000001", 1), ("00000002", 2)]:
        await store.create(minimal_job(job_id, created_at=T0 + timedelta(minutes=minutes)))
    await store.create(minimal_job("00000000", created_at=T0, state=JobState.SUBMITTING))

    assert [job.id for job in await store.queued_jobs()] == ["00000001", "00000002", "00000003"]
    assert [job.id for job in await store.queued_jobs(limit=2)] == ["00000001", "00000002"]
    assert await store.queued_jobs(limit=0) == []


async def test_jobs_for_user_is_one_member_in_one_guild_in_the_given_states(store: JobStore) -> None:
    await store.create(minimal_job("00000002", created_at=T0 + timedelta(minutes=2)))
    await store.create(minimal_job("00000001", created_at=T0 + timedelta(minutes=1), state=JobState.IN_QUEUE))
    await store.create(minimal_job("00000003", state=JobState.DELIVERED))
    await store.create(minimal_job("00000004", user_id=999))
    await store.create(minimal_job("00000005", guild_id=999))

    mine = await store.jobs_for_user(111, 333, [JobState.QUEUED, JobState.IN_QUEUE])

    assert [job.id for job in mine] == ["00000001", "00000002"]
    assert await store.jobs_for_user(111, 333, []) == []


async def test_unfinished_is_every_job_with_something_left_to_do(store: JobStore) -> None:
    expected = []
    for minutes, state in enumerate(JobState):
        waiting = await store.create(
            minimal_job(f"wait{minutes:04d}", created_at=T0 + timedelta(minutes=minutes))
        )
        expected.append(waiting.id)
        await store.save(dataclasses.replace(waiting, state=state))
        done = minimal_job(f"done{minutes:04d}", state=state, reply_final=True)
        await store.create(done)
        if not state.is_terminal:
            expected.append(done.id)

    unfinished = await store.unfinished()

    assert sorted(job.id for job in unfinished) == sorted(expected)
    assert [job.created_at for job in unfinished] == sorted(job.created_at for job in unfinished)


async def test_count_in_states(store: JobStore) -> None:
    await store.create(minimal_job("00000001"))
    await store.create(minimal_job("00000002"))
    await store.create(minimal_job("00000003", state=JobState.IN_PROGRESS))

    assert await store.count_in_states([JobState.QUEUED]) == 2
    assert await store.count_in_states([JobState.QUEUED, JobState.IN_PROGRESS]) == 3
    assert await store.count_in_states([JobState.FAILED]) == 0
    assert await store.count_in_states([]) == 0


async def test_meta_values_are_upserted_per_key(store: JobStore) -> None:
    assert await store.get_meta("commands_hash") is None

    await store.set_meta("commands_hash", "one")
    await store.set_meta("other", "kept")
    await store.set_meta("commands_hash", "two")

    assert await store.get_meta("commands_hash") == "two"
    assert await store.get_meta("other") == "kept"


async def test_jobs_and_meta_survive_closing_and_reopening(database_url: str) -> None:
    first = await open_store(database_url)
    job = await first.create(full_job())
    await first.set_meta("commands_hash", "abc")
    await first.close()

    second = await open_store(database_url)
    try:
        assert await second.get(job.id) == job
        assert await second.get_meta("commands_hash") == "abc"
    finally:
        await second.close()


async def test_a_read_leaves_no_transaction_open_so_the_next_read_sees_another_processs_write(
    database_url: str,
) -> None:
    here = await open_store(database_url)
    there = await open_store(database_url)
    try:
        job = await here.create(minimal_job())
        for _ in range(3):  # every pooled connection has served a read
            assert await here.get(job.id) == job
        moved = await there.save(job.moved_to(JobState.SUBMITTING, at=T0))

        assert await here.get(job.id) == moved
        assert await here.queued_jobs() == []
    finally:
        await there.close()
        await here.close()
