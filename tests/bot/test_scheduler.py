"""The scheduler's loop against the RunComfy double: limits, fair order, the probe after a failure."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot import scheduler as scheduler_module
from bot.jobs import FailureReason, Job, JobState
from bot.moderation.audit import ModAction
from bot.moderation.moderators import MANAGE_GUILD
from bot.moderation.server_settings import ServerSettings
from bot.moderation_actions import Moderator
from bot.scheduler import IDLE_CHECK_S, Scheduler
from bot.service_health import ServiceHealth
from bot.services import JobServices
from bot.store import JobStore, open_store
from bot.store.base import AdmissionRule, Lease
from bot.transitions import JobWriter
from client.api import RunComfyClient
from client.fake import Fault
from tests.bot.engine_harness import make_job, new_job, running_engine


async def test_at_most_max_active_jobs_reach_runcomfy_in_fair_order(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        first = await engine.scheduler.enqueue(new_job(user_id=1, minute=0))
        second_of_one = await engine.scheduler.enqueue(new_job(user_id=1, minute=1))
        first_of_two = await engine.scheduler.enqueue(new_job(user_id=2, minute=2))
        running = await engine.wait_state(first.id, JobState.IN_QUEUE)
        assert len(engine.fake.jobs) == 1
        assert (await engine.stored(second_of_one.id)).state is JobState.QUEUED
        engine.fake.set_state(running.request_id or "", "completed")
        await engine.wait_state(first_of_two.id, JobState.IN_QUEUE)
        assert (await engine.stored(second_of_one.id)).state is JobState.QUEUED
        assert len(engine.fake.jobs) == 2


class QueueReadHeldBack:
    """A store whose queue read returns what it read, but only once the test lets it."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def queued_jobs(self, limit: int | None = None) -> list[Job]:
        seen = await self._inner.queued_jobs(limit)
        self.read_done.set()
        await self.release.wait()
        return seen


async def test_a_job_queued_during_a_scheduler_pass_is_not_left_waiting(tmp_path: Path) -> None:
    inner = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'held.sqlite3'}")
    held = QueueReadHeldBack(inner)
    try:
        async with running_engine(tmp_path, store=cast(JobStore, held)) as engine:
            await asyncio.wait_for(held.read_done.wait(), 5)  # the first pass saw an empty queue
            job = await engine.scheduler.enqueue(new_job())
            held.release.set()
            submitted = await engine.wait_state(job.id, JobState.IN_QUEUE, timeout=5)
            assert submitted.request_id in engine.fake.jobs
    finally:
        await inner.close()


async def test_an_outage_costs_one_job_not_the_whole_queue(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1, first_pause_s=30) as engine:
        engine.fake.inject(Fault.http(502, endpoint="submit", times=None))
        jobs = [await engine.scheduler.enqueue(new_job(user_id=u)) for u in (1, 2, 3)]
        failed = await engine.wait_final(jobs[0].id)
        assert failed.failure_reason is FailureReason.SUBMISSION_INTERRUPTED
        assert len(engine.fake.requests_to("submit")) == 1
        assert [(await engine.stored(j.id)).state for j in jobs[1:]] == [JobState.QUEUED, JobState.QUEUED]


async def test_a_past_pause_no_longer_shortens_the_idle_wait(tmp_path: Path) -> None:
    async with running_engine(tmp_path, start_loops=False) as engine:
        engine.fake.inject(Fault.rate_limited(0, endpoint="submit", times=None))
        job = await engine.scheduler.enqueue(new_job())
        await engine.scheduler._fill_slots()
        await engine.listener.wait_for(
            lambda: (
                engine.listener.history[job.id][-2:]
                == [
                    JobState.SUBMITTING,
                    JobState.QUEUED,
                ]
            )
        )
        assert engine.scheduler._seconds_to_next_check() <= 0.05
        engine.fake.clear_faults()
        await engine.listener.wait_for(lambda: engine.health.not_before is not None)
        engine.health.not_before = engine.scheduler._clock() - timedelta(seconds=1)
        assert engine.scheduler._seconds_to_next_check() == IDLE_CHECK_S


async def test_stop_during_a_queue_read_submits_nothing(tmp_path: Path) -> None:
    inner = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'held.sqlite3'}")
    held = QueueReadHeldBack(inner)
    try:
        async with running_engine(tmp_path, store=cast(JobStore, held), start_loops=False) as engine:
            job = await engine.scheduler.enqueue(new_job())
            fill = asyncio.create_task(engine.scheduler._fill_slots())
            await asyncio.wait_for(held.read_done.wait(), 5)
            await engine.scheduler.stop()
            held.release.set()
            await fill
            await asyncio.gather(*engine.scheduler._submissions)
            assert engine.fake.requests_to("submit") == []
            assert (await engine.stored(job.id)).state is JobState.QUEUED
    finally:
        await inner.close()


async def test_a_submission_failing_during_a_queue_read_keeps_the_claimed_jobs_back(tmp_path: Path) -> None:
    inner = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'held.sqlite3'}")
    held = QueueReadHeldBack(inner)
    try:
        async with running_engine(tmp_path, store=cast(JobStore, held), start_loops=False) as engine:
            job = await engine.scheduler.enqueue(new_job())
            fill = asyncio.create_task(engine.scheduler._fill_slots())
            await asyncio.wait_for(held.read_done.wait(), 5)
            engine.health.hold(engine.scheduler._clock())  # another job's POST just failed
            held.release.set()
            await fill
            await asyncio.gather(*engine.scheduler._submissions)
            assert engine.fake.requests_to("submit") == []
            assert (await engine.stored(job.id)).state is JobState.QUEUED
    finally:
        await inner.close()


async def test_after_a_failed_submission_only_one_job_probes_runcomfy(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=4, start_loops=False) as engine:
        engine.fake.inject(Fault.http(502, endpoint="submit", times=None))
        for user in range(6):
            await engine.scheduler.enqueue(new_job(user_id=user))
        await engine.scheduler._fill_slots()
        await engine.fake.wait_for_requests("submit", 4)  # before anything failed, four went out together
        await asyncio.gather(*engine.scheduler._submissions)
        engine.health.not_before = None  # the pause is over
        await engine.scheduler._fill_slots()
        assert len(engine.scheduler._launching) == 1
        await asyncio.gather(*engine.scheduler._submissions)
        assert len(engine.fake.requests_to("submit")) == 5


async def test_a_probe_while_the_service_is_down_respects_the_active_limit(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1, start_loops=False) as engine:
        running = await engine.store.create(make_job(user_id=1))
        await engine.store.save(
            running.moved_to(JobState.SUBMITTING).moved_to(JobState.IN_QUEUE, request_id="r")
        )
        await engine.scheduler.enqueue(new_job(user_id=2))
        engine.health.trip("AuthenticationError", datetime.now(UTC) - timedelta(minutes=5))
        assert engine.health.may_submit(datetime.now(UTC))
        await engine.scheduler._fill_slots()
        assert engine.scheduler._launching == set()
        assert engine.fake.requests_to("submit") == []


async def test_a_paused_server_sends_nothing_while_another_server_goes_on(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=4, start_loops=False) as engine:
        moderator = Moderator(1, 900, MANAGE_GUILD, frozenset())
        await engine.core.moderation.pause(moderator, "upkeep")
        paused = await engine.scheduler.enqueue(new_job(user_id=1, guild_id=1))
        other = await engine.scheduler.enqueue(new_job(user_id=2, guild_id=2))

        await engine.scheduler._fill_slots()
        await asyncio.gather(*engine.scheduler._submissions)
        assert (await engine.stored(paused.id)).state is JobState.QUEUED
        assert (await engine.stored(other.id)).state is not JobState.QUEUED

        await engine.core.moderation.resume(moderator)
        await engine.scheduler._fill_slots()
        await asyncio.gather(*engine.scheduler._submissions)
        assert (await engine.stored(paused.id)).state is not JobState.QUEUED


async def test_the_per_member_cap_holds_a_members_second_job_back(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=4, start_loops=False, per_member=1) as engine:
        first = await engine.scheduler.enqueue(new_job(user_id=1))
        second = await engine.scheduler.enqueue(new_job(user_id=1))
        other = await engine.scheduler.enqueue(new_job(user_id=2))

        await engine.scheduler._fill_slots()
        await asyncio.gather(*engine.scheduler._submissions)

        assert (await engine.stored(first.id)).state is not JobState.QUEUED
        assert (await engine.stored(second.id)).state is JobState.QUEUED
        assert (await engine.stored(other.id)).state is not JobState.QUEUED


async def test_in_approval_mode_a_job_starts_only_once_approved(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=4, start_loops=False) as engine:
        moderator = Moderator(1, 900, MANAGE_GUILD, frozenset())
        moderation = engine.core.moderation
        await moderation.change_settings(
            moderator, lambda s: s.with_setting("approval", True), ModAction.SETTING
        )
        waiting = await engine.scheduler.enqueue(new_job(user_id=1, guild_id=1))
        elsewhere = await engine.scheduler.enqueue(new_job(user_id=2, guild_id=2))

        await engine.scheduler._fill_slots()
        await asyncio.gather(*engine.scheduler._submissions)
        assert await engine.scheduler.awaiting_approval() == {waiting.id}
        assert (await engine.stored(waiting.id)).state is JobState.QUEUED
        assert (await engine.stored(elsewhere.id)).state is not JobState.QUEUED

        assert await moderation.approve(dataclasses.replace(moderator, guild_id=2), waiting.id) is None
        assert await moderation.approve(moderator, waiting.id) is not None
        await engine.scheduler._fill_slots()
        await asyncio.gather(*engine.scheduler._submissions)
        assert (await engine.stored(waiting.id)).state is not JobState.QUEUED
        assert await engine.scheduler.awaiting_approval() == frozenset()


class CountedQueueReads:
    """A store that counts reads of the whole queue and of server settings."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.queue_reads = 0
        self.settings_reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def queued_jobs(self, limit: int | None = None) -> list[Job]:
        self.queue_reads += 1
        return await self._inner.queued_jobs(limit)

    async def server_settings(self, guild_ids: Collection[int]) -> dict[int, ServerSettings]:
        self.settings_reads += 1
        return await self._inner.server_settings(guild_ids)


async def test_the_queue_view_reads_the_queue_and_the_settings_once(tmp_path: Path) -> None:
    inner = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'counted.sqlite3'}")
    counted = CountedQueueReads(inner)
    try:
        async with running_engine(tmp_path, store=cast(JobStore, counted), start_loops=False) as engine:
            moderation = engine.core.moderation
            approver = Moderator(1, 900, MANAGE_GUILD, frozenset())
            pauser = Moderator(2, 900, MANAGE_GUILD, frozenset())
            await moderation.change_settings(
                approver, lambda s: s.with_setting("approval", True), ModAction.SETTING
            )
            await moderation.pause(pauser, "maintenance")
            first = await engine.scheduler.enqueue(new_job(user_id=1, guild_id=1))
            second = await engine.scheduler.enqueue(new_job(user_id=2, guild_id=1))
            paused = await engine.scheduler.enqueue(new_job(user_id=3, guild_id=2))
            counted.queue_reads = counted.settings_reads = 0

            view = await engine.scheduler.queue_view()

            assert view.places == {first.id: 1, second.id: 2, paused.id: 1}
            assert view.paused_servers == {2}
            assert view.awaiting_approval == {first.id, second.id}
            assert (counted.queue_reads, counted.settings_reads) == (1, 1)
    finally:
        await inner.close()


class CountedClaims:
    """A store that counts admission claims, and tells when a pass read the queue and when a claim is done."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.claims = 0
        self.sizes: list[int] = []
        self.queue_read = asyncio.Event()
        self.claimed = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def queued_jobs(self, limit: int | None = None) -> list[Job]:
        queued = await self._inner.queued_jobs(limit)
        self.queue_read.set()
        return queued

    async def admit(self, lease: Lease, rule: AdmissionRule) -> list[Job]:
        claimed = await self._inner.admit(lease, rule)
        self.claims += 1
        self.sizes.append(len(claimed))
        self.claimed.set()
        return claimed


async def test_jobs_queued_together_are_claimed_by_one_pass_and_an_empty_queue_by_none(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler_module, "PASS_GAP_S", 2.0)  # far longer than five jobs take to queue
    counted = CountedClaims(store)
    scheduler, loop, api = _scheduler_alone(counted, JobWriter(store))
    try:
        async with asyncio.timeout(30):
            await counted.queue_read.wait()  # the first pass saw an empty queue
            burst = [await scheduler.enqueue(new_job(user_id=user)) for user in range(1, 6)]
            await counted.claimed.wait()
        assert counted.claims == 1
        assert counted.sizes == [len(burst)]
    finally:
        await _stop(scheduler, loop, api)


async def test_a_job_queued_after_a_quiet_moment_is_claimed_without_waiting_for_the_pass_gap(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler_module, "PASS_GAP_S", 3600.0)
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    counted = CountedClaims(store)
    scheduler, loop, api = _scheduler_alone(counted, JobWriter(store, clock=lambda: now[0]))
    try:
        async with asyncio.timeout(30):
            await counted.queue_read.wait()  # the first pass saw an empty queue
            now[0] += timedelta(hours=2)
            await scheduler.enqueue(new_job())
            await counted.claimed.wait()
        assert counted.claims == 1
    finally:
        await _stop(scheduler, loop, api)


def _scheduler_alone(
    store: CountedClaims, writer: JobWriter
) -> tuple[Scheduler, asyncio.Task[None], RunComfyClient]:
    """A running scheduler and nothing else; its submissions go nowhere."""
    api = RunComfyClient("token", "http://127.0.0.1:9", timeout_s=0.1, max_attempts=1)
    services = JobServices(cast(JobStore, store), writer, api, ServiceHealth())
    scheduler = Scheduler(services, max_active=10, on_submitted=lambda job: None)
    return scheduler, asyncio.create_task(scheduler.run()), api


async def _stop(scheduler: Scheduler, loop: asyncio.Task[None], api: RunComfyClient) -> None:
    await scheduler.stop(grace_s=1)
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
    await api.close()
