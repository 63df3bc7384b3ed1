"""Cancelling a job: in our queue for free, at RunComfy while it still waits there, or as soon as the
submission in flight answers. No job lock is held across the call to RunComfy."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from bot.access import Actor, belongs_here, may_cancel
from bot.backoff import Backoff
from bot.jobs import CancelPlace, FailureReason, Job, JobState
from bot.store import JobStore
from bot.tasks import TaskSet
from bot.transitions import JobWriter
from client.api import RunComfyClient
from client.errors import RunComfyError, UnexpectedAnswerError

log = logging.getLogger(__name__)

# A promised cancel that cannot reach RunComfy is tried this many more times, 5 s apart doubling to 2 minutes.
CANCEL_RETRIES = 8
CANCEL_BACKOFF = Backoff(timedelta(seconds=5), timedelta(minutes=2))


class CancelResult(enum.StrEnum):
    """What asking to cancel a job did (told to the member by :func:`bot.texts.cancel_outcome`)."""

    CANCELLED_LOCALLY = "cancelled_locally"
    CANCELLED_AT_RUNCOMFY = "cancelled_at_runcomfy"
    WILL_CANCEL = "will_cancel"  # the POST is in flight; it is cancelled the moment RunComfy answers
    ALREADY_RUNNING = "already_running"
    ALREADY_FINISHED = "already_finished"
    TRY_AGAIN = "try_again"  # RunComfy could not be reached to cancel
    NOT_FOUND = "not_found"
    NOT_PERMITTED = "not_permitted"  # neither its requester nor a moderator


def _cancel_here(by_user_id: int) -> Callable[[Job, datetime], Job | None]:
    """Cancel a job still in our queue; mark one whose POST is in flight; anything else stays as it is."""

    def change(job: Job, now: datetime) -> Job | None:
        if job.state is JobState.QUEUED:
            return job.moved_to(
                JobState.CANCELLED, at=now, cancelled_by=by_user_id, cancel_place=CancelPlace.LOCAL
            )
        if job.state is JobState.SUBMITTING:
            return job.with_changes(at=now, cancel_requested_by=by_user_id)
        return None

    return change


def _after_remote_cancel(by_user_id: int, cancelled: bool) -> Callable[[Job, datetime], Job | None]:
    def change(job: Job, now: datetime) -> Job | None:
        if cancelled and job.state.is_at_runcomfy:
            return job.moved_to(
                JobState.CANCELLED, at=now, cancelled_by=by_user_id, cancel_place=CancelPlace.RUNCOMFY
            )
        if not cancelled and job.state is JobState.IN_QUEUE:
            return job.moved_to(JobState.IN_PROGRESS, at=now)
        return None

    return change


def _result_of(job: Job) -> CancelResult:
    match job.state:
        case JobState.SUBMITTING:
            return CancelResult.WILL_CANCEL
        case JobState.IN_PROGRESS:
            return CancelResult.ALREADY_RUNNING
        case _:
            return CancelResult.ALREADY_FINISHED


class Cancellation:
    def __init__(
        self, store: JobStore, writer: JobWriter, api: RunComfyClient, *, on_released: Callable[[], None]
    ) -> None:
        """``on_released`` is told when a job left RunComfy or our queue, freeing a place for another."""
        self._store = store
        self._writer = writer
        self._api = api
        self._on_released = on_released
        self._retries = TaskSet()
        self._stopping = False

    async def refusal(self, job_id: str, actor: Actor) -> CancelResult | None:
        """Why ``actor`` may not cancel the job, or None when they may: only its requester or a moderator,
        and only from the job's own server (another server's job is not found there)."""
        job = await self._store.get(job_id)
        if job is None or not belongs_here(job, actor):
            return CancelResult.NOT_FOUND
        if not may_cancel(actor, job):
            return CancelResult.NOT_PERMITTED
        return None

    async def cancel(self, job_id: str, by_user_id: int) -> CancelResult:
        written = await self._writer.apply(job_id, _cancel_here(by_user_id))
        if written.before is None:
            return CancelResult.NOT_FOUND
        if written.held_by is not None:
            return CancelResult.TRY_AGAIN  # another live process holds the job; nothing was changed
        if written.changed and written.before.state is JobState.QUEUED:
            self._on_released()
            return CancelResult.CANCELLED_LOCALLY
        if written.before.state is not JobState.IN_QUEUE:
            return _result_of(written.before)
        return await self._cancel_at_runcomfy(written.before, by_user_id)

    async def _cancel_at_runcomfy(self, job: Job, by_user_id: int) -> CancelResult:
        assert job.request_id is not None
        try:
            outcome = await self._api.cancel(job.request_id)
        except UnexpectedAnswerError as exc:
            log.error("job %s: RunComfy's answer cannot be used (%s); failing the job", job.id, exc)
            return await self._fail_unusable(job)
        except RunComfyError as exc:
            log.warning("job %s: cancel at RunComfy failed: %s", job.id, exc)
            return CancelResult.TRY_AGAIN
        written = await self._writer.apply(job.id, _after_remote_cancel(by_user_id, outcome.cancelled))
        if written.changed:
            self._on_released()
        return CancelResult.CANCELLED_AT_RUNCOMFY if outcome.cancelled else CancelResult.ALREADY_RUNNING

    async def _fail_unusable(self, job: Job) -> CancelResult:
        """The job cannot be followed at RunComfy (its request id or the answer is unusable): it ends."""
        written = await self._writer.apply(
            job.id,
            lambda j, now: (
                j.failed(FailureReason.UNEXPECTED_ANSWER, at=now) if j.state.is_at_runcomfy else None
            ),
        )
        if written.changed:
            self._on_released()
        return CancelResult.ALREADY_FINISHED

    async def keep_promise(self, job_id: str, by_user_id: int) -> None:
        """Cancel a job whose cancel was asked while its POST was in flight; while RunComfy cannot be
        reached, try again in the background, longer apart each time."""
        if await self.cancel(job_id, by_user_id) is CancelResult.TRY_AGAIN:
            self._in_background(self._retry(job_id, by_user_id), job_id)

    def keep_promise_soon(self, job_id: str, by_user_id: int) -> None:
        """:meth:`keep_promise` in the background (a restart found a promise an earlier process made)."""
        self._in_background(self.keep_promise(job_id, by_user_id), job_id)

    async def stop(self) -> None:
        self._stopping = True
        await self._retries.cancel()

    async def _retry(self, job_id: str, by_user_id: int) -> None:
        for wait_s in CANCEL_BACKOFF.waits(CANCEL_RETRIES):
            await asyncio.sleep(wait_s)
            if await self.cancel(job_id, by_user_id) is not CancelResult.TRY_AGAIN:
                return

    def _in_background(self, work: Coroutine[Any, Any, None], job_id: str) -> None:
        if self._stopping:
            work.close()
            return
        self._retries.start(work, name=f"cancel-{job_id}")
