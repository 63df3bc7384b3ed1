"""Cancelling, tested directly: who may, where it happens, and that no job lock waits on RunComfy."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

from bot.access import Actor
from bot.cancellation import Cancellation, CancelResult
from bot.jobs import CancelPlace, Job, JobState
from bot.leases import LeaseTerms
from bot.store import JobStore
from bot.transitions import JobWriter
from client.api import RunComfyClient
from client.models import CancelOutcome
from tests.bot.engine_harness import new_job, running_engine
from tests.store.jobs_for_tests import minimal_job


class HeldCancel:
    """A RunComfy whose cancel answers only when the test lets it."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()
        self.calls: list[str] = []

    async def cancel(self, request_id: str) -> CancelOutcome:
        self.calls.append(request_id)
        self.asked.set()
        await self.answer.wait()
        return CancelOutcome(request_id=request_id, outcome="cancelled")


async def stored_in(writer: JobWriter, state: JobState) -> Job:
    job = await writer.create(lambda job_id, now: minimal_job(job_id, created_at=now, guild_id=1, user_id=7))
    if state is JobState.QUEUED:
        return job
    written = await writer.apply(
        job.id,
        lambda j, now: j.moved_to(JobState.SUBMITTING, at=now).moved_to(state, at=now, request_id="req-1"),
    )
    assert written.after is not None
    return written.after


def cancellation(store: JobStore, writer: JobWriter, api: object, released: list[str]) -> Cancellation:
    return Cancellation(
        store, writer, cast(RunComfyClient, api), on_released=lambda: released.append("released")
    )


async def test_no_job_lock_is_held_while_runcomfy_answers_a_cancel(store: JobStore) -> None:
    writer, api = JobWriter(store), HeldCancel()
    released: list[str] = []
    job = await stored_in(writer, JobState.IN_QUEUE)
    cancelling = asyncio.create_task(cancellation(store, writer, api, released).cancel(job.id, 7))
    await api.asked.wait()
    async with asyncio.timeout(5):  # another writer of the same job is not kept waiting
        moved = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.IN_PROGRESS, at=now))
    assert moved.changed
    api.answer.set()
    assert await cancelling is CancelResult.CANCELLED_AT_RUNCOMFY
    final = await store.get(job.id)
    assert final is not None
    assert final.state is JobState.CANCELLED
    assert final.cancel_place is CancelPlace.RUNCOMFY
    assert released == ["released"]


async def test_a_job_in_our_queue_is_cancelled_without_calling_runcomfy(store: JobStore) -> None:
    writer, api = JobWriter(store), HeldCancel()
    released: list[str] = []
    job = await stored_in(writer, JobState.QUEUED)
    result = await cancellation(store, writer, api, released).cancel(job.id, 7)
    assert result is CancelResult.CANCELLED_LOCALLY
    assert api.calls == []
    assert released == ["released"]


async def test_a_cancel_during_the_post_is_promised(store: JobStore) -> None:
    writer, api = JobWriter(store), HeldCancel()
    released: list[str] = []
    job = await writer.create(lambda job_id, now: minimal_job(job_id, created_at=now))
    await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))
    assert await cancellation(store, writer, api, released).cancel(job.id, 9) is CancelResult.WILL_CANCEL
    promised = await store.get(job.id)
    assert promised is not None
    assert promised.cancel_requested_by == 9
    assert api.calls == []


async def test_refusal_checks_the_member_and_the_server(store: JobStore) -> None:
    writer, api = JobWriter(store), HeldCancel()
    released: list[str] = []
    job = await stored_in(writer, JobState.QUEUED)
    cancel = cancellation(store, writer, api, released)

    def member(user_id: int, guild_id: int, *permissions: str) -> Actor:
        return Actor(user_id, guild_id, frozenset(permissions))

    assert await cancel.refusal(job.id, member(7, 1)) is None
    assert await cancel.refusal(job.id, member(8, 1, "manage_guild")) is None
    assert await cancel.refusal(job.id, member(8, 1)) is CancelResult.NOT_PERMITTED
    assert await cancel.refusal(job.id, member(7, 2)) is CancelResult.NOT_FOUND
    assert await cancel.refusal("deadbeef", member(7, 1)) is CancelResult.NOT_FOUND


async def test_cancel_in_our_queue_makes_no_api_call(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        blocker = await engine.scheduler.enqueue(new_job(user_id=1))
        await engine.wait_state(blocker.id, JobState.IN_QUEUE)
        waiting = await engine.scheduler.enqueue(new_job(user_id=2))
        assert await engine.scheduler.cancel(waiting.id, by_user_id=2) is CancelResult.CANCELLED_LOCALLY
        cancelled = await engine.wait_final(waiting.id)
        assert cancelled.cancel_place is CancelPlace.LOCAL
        assert len(engine.fake.requests_to("submit")) == 1
        assert engine.fake.requests_to("cancel") == []


async def test_cancel_while_queued_at_runcomfy_cancels_there(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        assert await engine.scheduler.cancel(job.id, by_user_id=99) is CancelResult.CANCELLED_AT_RUNCOMFY
        cancelled = await engine.wait_final(job.id)
        assert cancelled.cancel_place is CancelPlace.RUNCOMFY
        assert cancelled.cancelled_by == 99
        assert engine.fake.jobs[submitted.request_id or ""].status == "cancelled"


async def test_a_generating_job_cannot_be_cancelled_and_no_call_is_wasted(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.advance(submitted.request_id or "")
        await engine.wait_state(job.id, JobState.IN_PROGRESS)
        assert await engine.scheduler.cancel(job.id, by_user_id=7) is CancelResult.ALREADY_RUNNING
        assert engine.fake.requests_to("cancel") == []
        assert (await engine.stored(job.id)).state is JobState.IN_PROGRESS


async def test_runcomfy_refusing_a_cancel_marks_the_job_generating(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.set_state(submitted.request_id or "", "in_progress")
        assert await engine.scheduler.cancel(job.id, by_user_id=7) is CancelResult.ALREADY_RUNNING
        assert len(engine.fake.requests_to("cancel")) == 1
        assert (await engine.stored(job.id)).state is JobState.IN_PROGRESS


async def test_a_job_another_live_process_holds_is_left_alone_and_the_member_asked_to_retry(
    store: JobStore,
) -> None:
    holder = JobWriter(store, lease=LeaseTerms("process-a"))
    job = await stored_in(holder, JobState.QUEUED)
    here, api = JobWriter(store, lease=LeaseTerms("process-b")), HeldCancel()
    released: list[str] = []

    result = await cancellation(store, here, api, released).cancel(job.id, 7)

    assert result is CancelResult.TRY_AGAIN
    assert (await store.get(job.id)) == job
    assert api.calls == []
    assert released == []
