"""The admission desk: facts read from the store, refusals store nothing, and one server's requests
arriving together are counted one after the other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.admission_desk import AdmissionDesk, MemberRequest, Queued
from bot.jobs import Job, JobState
from bot.moderation.admission import RefusalReason, Refused
from bot.moderation.audit import AuditEntry, ModAction
from bot.moderation.server_settings import ServerSettings
from bot.store import JobStore
from bot.transitions import JobWriter, NewJob
from tests.store.jobs_for_tests import minimal_job

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
GUILD = 111
REQUEST = MemberRequest(GUILD, 222, 333, frozenset(), "a cat waves", "480p", 5)


def build(job_id: str, now: datetime) -> Job:
    return minimal_job(job_id, created_at=now)


def desk_for(store: JobStore) -> tuple[AdmissionDesk, JobWriter]:
    writer = JobWriter(store, clock=lambda: NOW)

    async def enqueue(new_job: NewJob) -> Job:
        await asyncio.sleep(0)  # let the other request run up to the lock
        return await writer.create(new_job)

    return AdmissionDesk(store, enqueue, writer.clock), writer


async def settle(store: JobStore, settings: ServerSettings) -> None:
    await store.save_server_settings(GUILD, settings, AuditEntry(GUILD, 9, ModAction.SETTING, NOW))


async def test_two_requests_at_once_cannot_both_take_the_last_place(store: JobStore) -> None:
    await settle(store, ServerSettings(member_active=1))
    desk, _ = desk_for(store)

    outcomes = await asyncio.gather(desk.submit(REQUEST, build), desk.submit(REQUEST, build))

    assert sorted(type(o).__name__ for o in outcomes) == ["Queued", "Refused"]
    refused = next(o for o in outcomes if isinstance(o, Refused))
    assert refused.reason is RefusalReason.TOO_MANY_ACTIVE
    assert len(await store.queued_jobs()) == 1


async def test_a_refusal_stores_nothing_and_a_block_is_read_from_the_store(store: JobStore) -> None:
    until = NOW + timedelta(hours=1)
    await store.block_member(GUILD, 333, until, AuditEntry(GUILD, 9, ModAction.BLOCK, NOW))
    desk, _ = desk_for(store)

    outcome = await desk.submit(REQUEST, build)

    assert outcome == Refused(RefusalReason.BLOCKED, until)
    assert await store.queued_jobs() == []


async def test_failed_jobs_do_not_count_against_the_daily_limit(store: JobStore) -> None:
    await settle(store, ServerSettings(member_daily=1))
    await store.create(minimal_job("0000000f", created_at=NOW - timedelta(hours=1), state=JobState.FAILED))
    desk, _ = desk_for(store)

    first = await desk.submit(REQUEST, build)
    second = await desk.check(REQUEST)

    assert isinstance(first, Queued)
    assert first.admitted.units == 1
    assert isinstance(second, Refused)
    assert second.reason is RefusalReason.DAILY_LIMIT
    assert second.retry_at == NOW + timedelta(hours=24)


async def test_the_queue_listing_marks_the_viewers_jobs_and_counts_their_usage(store: JobStore) -> None:
    desk, _ = desk_for(store)
    await desk.submit(REQUEST, build)
    await store.create(minimal_job("0000000b", created_at=NOW + timedelta(seconds=1), user_id=444))

    rows, usage = await desk.queue_of(GUILD, 333)

    assert [(row.position, row.own) for row in rows] == [(1, True), (2, False)]
    assert (usage.active, usage.today) == (1, 1)


class CountingHistoryReads:
    """A store that counts how often admission reads a server's recent jobs."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.history_reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def guild_jobs(self, guild_id: int, since: datetime) -> list[Job]:
        self.history_reads += 1
        jobs: list[Job] = await self._inner.guild_jobs(guild_id, since)
        return jobs


async def test_history_is_read_only_for_a_server_with_a_limit_that_counts_it(store: JobStore) -> None:
    counting = CountingHistoryReads(store)
    desk, _ = desk_for(cast(JobStore, counting))
    assert isinstance(await desk.submit(REQUEST, build), Queued)
    assert counting.history_reads == 0  # a server with no such limit pays nothing for a burst

    await settle(store, ServerSettings(queue_max=1))
    outcome = await desk.check(REQUEST)
    assert counting.history_reads == 1
    assert isinstance(outcome, Refused)
    assert outcome.reason is RefusalReason.QUEUE_FULL


def test_which_settings_count_history() -> None:
    assert not ServerSettings().limits_by_history
    assert not ServerSettings(approval=True, blocked_words=("x",), max_duration=5).limits_by_history
    for limited in (
        ServerSettings(member_active=1),
        ServerSettings(member_daily=1),
        ServerSettings(cooldown_s=1),
        ServerSettings(queue_max=1),
        ServerSettings(daily_budget=1),
    ):
        assert limited.limits_by_history
