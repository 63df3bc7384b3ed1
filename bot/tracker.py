"""Follows every job that RunComfy holds, in one loop, polling each at its own adaptive pace.

A job is polled on ``/result``, which answers the status while the job runs and the output once it is done,
so a finished job costs no extra call. Each job's next poll is :mod:`bot.poll_pacing`'s rule: rarely while
the jobs seen so far say it cannot be done, every ``poll_min_s`` once it may be. A job just accepted is not
polled at once: RunComfy's answer already said it waits. Each poll is planned from the moment the one before
it was sent. A job older than ``job_max_s`` since its submission is cancelled at RunComfy if still queued
there, and marked failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.backoff import Backoff
from bot.due_times import DueTimes
from bot.job_errors import RepeatedErrors, is_transient
from bot.jobs import CancelPlace, FailureReason, Job, JobState
from bot.poll_pacing import JobTimings, Kind, Observed, PollPacing, kind_of
from bot.services import JobServices
from bot.tasks import TaskSet
from bot.transitions import Transition
from bot.wakeup import Wakeup
from client.api import POLL_GROWTH
from client.errors import (
    CODE_FOREIGN_REQUEST,
    AuthenticationError,
    NotFoundError,
    PaymentRequiredError,
    RunComfyError,
    UnexpectedAnswerError,
)
from client.models import Cancelled, Completed, Failed, InProgress, JobStatus, Queued

log = logging.getLogger(__name__)

MAX_CONCURRENT_POLLS = 8


@dataclass
class _Follow:
    job_id: str
    due: datetime
    quiet_polls: int = 0
    """Polls in a row that found nothing new."""
    job: Job | None = None
    """The job as last read or written."""
    queued_until: datetime | None = None
    """The last time RunComfy said the job was still waiting."""
    running_until: datetime | None = None
    """The last time RunComfy said the job was still generating."""
    polled_at: datetime | None = None
    """When the last poll was sent: the next one is planned from then."""


def apply_status(job: Job, status: JobStatus, now: datetime) -> Job:
    """The job as RunComfy's ``status`` describes it (the same job when nothing changed)."""
    match status:
        case Queued(position=position):
            if job.state is JobState.IN_QUEUE and job.remote_queue_position == position:
                return job
            if job.state is JobState.IN_PROGRESS:
                return job  # a stale answer never moves a job backwards
            return job.moved_to(JobState.IN_QUEUE, at=now, remote_queue_position=position)
        case InProgress():
            if job.state is JobState.IN_PROGRESS:
                return job
            return job.moved_to(JobState.IN_PROGRESS, at=now)
        case Completed(video_url=video_url):
            if not video_url:
                return job.failed(FailureReason.NO_VIDEO, at=now)
            return job.moved_to(JobState.COMPLETED, at=now, video_url=video_url)
        case Cancelled():
            return job.moved_to(JobState.CANCELLED, at=now, cancel_place=CancelPlace.RUNCOMFY)
        case Failed(error=error):
            return job.failed(FailureReason.GENERATION_FAILED, error, at=now)
    return job


def _lost(job: Job, now: datetime) -> Job:
    """RunComfy no longer knows the request, or it belongs to another account."""
    return job.failed(FailureReason.NOT_FOUND, at=now)


def _unusable_answer(job: Job, now: datetime) -> Job:
    """RunComfy's answer about the job (or its stored request id) is one the bot will not use."""
    return job.failed(FailureReason.UNEXPECTED_ANSWER, at=now)


def _broken(job: Job, now: datetime) -> Job:
    """Handling the job failed in a way that trying again will not mend."""
    return job.failed(FailureReason.INTERNAL_ERROR, at=now)


class Tracker:
    def __init__(
        self,
        services: JobServices,
        *,
        poll_min_s: float,
        poll_max_s: float,
        job_max_s: float,
        on_released: Callable[[], None] = lambda: None,
    ) -> None:
        """``on_released`` is called whenever a job leaves RunComfy, freeing a slot for the scheduler."""
        self._store = services.store
        self._writer = services.writer
        self._api = services.api
        self._health = services.health
        self._clock = services.writer.clock
        pace = Backoff(timedelta(seconds=poll_min_s), timedelta(seconds=poll_max_s), POLL_GROWTH)
        self._pacing = PollPacing(pace)
        self._timings = JobTimings(pace_s=poll_min_s)
        self._poll_max_s = poll_max_s
        self._job_max = timedelta(seconds=job_max_s)
        self._on_released = on_released
        self._follows: dict[str, _Follow] = {}
        self._due = DueTimes()
        """Polls by when they are due; an entry counts only while it matches its follow's ``due``."""
        self._wake = Wakeup()
        self._polls = asyncio.Semaphore(MAX_CONCURRENT_POLLS)
        self._running: set[str] = set()
        self._tasks = TaskSet()
        self._errors = RepeatedErrors(log, "polling")

    def track(self, job: Job) -> None:
        """Follow a job from now on: its first poll is now, since it may have moved since it was read."""
        if job.id not in self._follows:
            follow = self._follows[job.id] = _Follow(job.id, self._clock())
            self._plan(follow, follow.due)
            self._wake()

    def submitted(self, job: Job) -> None:
        """Follow a job RunComfy has just accepted: its answer said the job waits, so the first poll is
        planned as after a poll that saw it waiting."""
        if job.id in self._follows:
            return
        if job.state is not JobState.IN_QUEUE or job.submitted_at is None:
            self.track(job)
            return
        now = self._clock()
        follow = _Follow(job.id, now, job=job, queued_until=job.submitted_at, polled_at=job.updated_at)
        self._timings.waiting(job)
        self._follows[job.id] = follow
        self._plan(follow, job.updated_at + self._next_poll(follow))
        self._wake()

    async def run(self) -> None:
        try:
            for job in await self._store.find_by_state([JobState.DELIVERED]):
                self._timings.learn(job)
        except Exception:
            log.exception("could not read finished jobs to learn their times from")
        await self._wake.run(self._pass)

    async def _pass(self) -> float:
        now = self._clock()
        for job_id, due in self._due.pop_due(now):
            follow = self._follows.get(job_id)
            if follow is not None and follow.due == due and job_id not in self._running:
                self._running.add(job_id)
                self._tasks.start(self._poll(follow), name=f"poll-{job_id}")
        return self._seconds_to_next_due()

    async def stop(self) -> None:
        self._wake.stop()
        await self._tasks.cancel()

    def _plan(self, follow: _Follow, due: datetime) -> None:
        follow.due = due
        self._due.plan(follow.job_id, due)

    def _seconds_to_next_due(self) -> float:
        while (soonest := self._due.first()) is not None:
            job_id, due = soonest
            follow = self._follows.get(job_id)
            if follow is not None and follow.due == due and job_id not in self._running:
                return max((due - self._clock()).total_seconds(), 0.0)
            self._due.drop_first()  # superseded, or the job is no longer followed
        return self._poll_max_s

    async def _poll(self, follow: _Follow) -> None:
        try:
            async with self._polls:
                changed = await self._poll_once(follow)
            if follow.job_id in self._follows:
                follow.quiet_polls = 0 if changed else follow.quiet_polls + 1
                self._plan(follow, (follow.polled_at or self._clock()) + self._next_poll(follow))
            else:
                self._errors.cleared(follow.job_id)
        except Exception as exc:
            try:
                await self._after_error(follow.job_id, exc)
            finally:
                # Planned with nothing awaited before the poll is over: a pass in between takes the entry
                # of a job still being polled for a superseded one and drops it.
                self._plan(follow, self._clock() + timedelta(seconds=self._poll_max_s))
        finally:
            self._running.discard(follow.job_id)
            self._wake()

    def _next_poll(self, follow: _Follow) -> timedelta:
        """The wait from the last poll (when it was sent) to the next."""
        polled_at = follow.polled_at or self._clock()
        if follow.job is None:
            return self._pacing.pace.delay(follow.quiet_polls)
        seen = Observed(follow.job, follow.queued_until, follow.quiet_polls)
        return self._pacing.next_poll(seen, self._timings, polled_at)

    def _bring_forward(self, changed: Kind) -> None:
        """What was just learned of ``changed`` may say another job could be done sooner than its next
        poll."""
        for follow in self._follows.values():
            if follow.job is None or follow.polled_at is None or follow.job_id in self._running:
                continue
            if not self._timings.moves(changed, kind_of(follow.job)):
                continue
            seen = Observed(follow.job, follow.queued_until, follow.quiet_polls)
            sooner = follow.polled_at + self._pacing.next_poll(seen, self._timings, follow.polled_at)
            if sooner < follow.due:
                self._plan(follow, sooner)

    def _seen(self, job: Job | None) -> None:
        follow = self._follows.get(job.id) if job is not None else None
        if follow is not None:
            follow.job = job

    async def _poll_once(self, follow: _Follow) -> bool:
        job_id = follow.job_id
        job = await self._writer.read(job_id)
        self._seen(job)
        if job is None or not job.state.is_at_runcomfy or job.request_id is None:
            self._unfollow(job_id)
            return False
        now = self._clock()
        if job.submitted_at is not None and now - job.submitted_at > self._job_max:
            await self._give_up(job)
            return True
        follow.polled_at = now
        try:
            result = await self._api.result(job.request_id)
        except NotFoundError:
            return await self._update(job_id, _lost)
        except AuthenticationError as exc:
            if exc.error_code != CODE_FOREIGN_REQUEST:
                self._health.trip(type(exc).__name__, now)
                return False
            # The request belongs to another account (the key was changed): lost to this bot, not a
            # reason to stop everyone's submissions.
            return await self._update(job_id, _lost)
        except PaymentRequiredError as exc:
            self._health.trip(type(exc).__name__, now)
            return False
        except UnexpectedAnswerError as exc:
            log.error("job %s: RunComfy's answer cannot be used (%s); failing the job", job_id, exc)
            return await self._update(job_id, _unusable_answer)
        except RunComfyError as exc:
            self._errors.seen(job_id, exc, level=logging.WARNING)
            return False
        self._errors.cleared(job_id)
        seen_state = follow.job.state if follow.job is not None else None
        if isinstance(result.status, Queued) and seen_state is JobState.IN_QUEUE:
            follow.queued_until = now
        changed = await self._update(job_id, lambda j, now: apply_status(j, result.status, now))
        if job_id in self._follows and follow.job is not None:
            if isinstance(result.status, Queued):
                self._timings.waiting(follow.job)
            elif isinstance(result.status, InProgress):
                follow.running_until = now
                self._timings.started(follow.job, follow.queued_until)
        return changed

    def _unfollow(self, job_id: str) -> None:
        self._follows.pop(job_id, None)
        kind = self._timings.left(job_id)
        if kind is not None:
            self._bring_forward(kind)

    async def _after_error(self, job_id: str, exc: Exception) -> None:
        """An error while polling one job: tried again later when it may pass, else the job fails (and
        frees its slot). Logged once however often it repeats."""
        self._errors.seen(job_id, exc)
        if is_transient(exc):
            return
        try:
            await self._update(job_id, _broken)
        except Exception as again:
            self._errors.seen(job_id, again)
        else:
            self._errors.cleared(job_id)

    async def _update(self, job_id: str, change: Transition) -> bool:
        """Apply ``change`` to a job RunComfy still holds; returns whether it changed."""
        written = await self._writer.apply(
            job_id, lambda job, now: change(job, now) if job.state.is_at_runcomfy else None
        )
        self._seen(written.after)
        if written.after is not None and written.after.state is JobState.COMPLETED:
            follow = self._follows.get(job_id)
            queued_until = follow.queued_until if follow is not None else None
            running_until = follow.running_until if follow is not None else None
            if self._timings.learn(written.after, queued_until, running_until):
                self._bring_forward(kind_of(written.after))
        if written.job is None or not written.job.state.is_at_runcomfy or written.held_by is not None:
            self._unfollow(job_id)  # done, or another process holds it now
            if written.changed:
                self._on_released()
        return written.changed

    async def _give_up(self, job: Job) -> None:
        log.warning("job %s: still unfinished after %s; giving up", job.id, self._job_max)
        if job.state is JobState.IN_QUEUE and job.request_id is not None:
            try:
                await self._api.cancel(job.request_id)
            except RunComfyError as exc:
                log.warning("job %s: could not cancel the abandoned job: %s", job.id, exc)
        await self._update(job.id, lambda j, now: j.failed(FailureReason.TIMED_OUT, at=now))
