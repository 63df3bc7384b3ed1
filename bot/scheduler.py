"""The bot's own queue: which job goes to RunComfy next, how many at once, and cancelling.

The scheduler owns ordering (:mod:`bot.fairness`) and limits (``max_active`` jobs at RunComfy at once).
Submission policy, given that RunComfy has no idempotency key:

* the job is saved as ``submitting`` before the POST, and as ``in_queue`` with its ``request_id`` the moment
  the answer arrives, before anything else happens;
* an answer that proves the POST was not accepted (429, 503, a connection that never opened, 401/402, a
  validation refusal) leaves nothing behind at RunComfy: the job goes back to the queue or fails, and is
  never charged;
* an unknown outcome (a timeout or a dropped connection after sending, a 5xx other than 503) is never sent
  again: the job fails as ``submission_interrupted`` and the member is told to try again;
* a job found ``submitting`` when the process starts died with its POST in flight: the same rule applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from bot.attachment_urls import needing_refresh
from bot.fairness import Member, fair_order, member_of, queue_positions
from bot.jobs import ACTIVE_STATES, CancelPlace, FailureReason, Job, JobState, new_job_id
from bot.services import JobServices
from bot.store import JobExistsError, StaleJobError
from client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    EndpointNotFoundError,
    InputValidationError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitedError,
    RunComfyError,
    ServerError,
    SubmissionUncertainError,
)
from client.models import AnimateInput

log = logging.getLogger(__name__)

ID_ATTEMPTS = 5
# After RunComfy refused a job or left its fate unknown, the queue pauses 5 s, doubling up to 5 minutes,
# so one outage costs one job, not the whole queue.
PAUSE_FIRST = timedelta(seconds=5)
PAUSE_MAX = timedelta(minutes=5)
SAVE_ATTEMPTS = 6
CANCEL_RETRIES = 8
IDLE_CHECK_S = 30.0


class CancelResult(enum.StrEnum):
    CANCELLED_LOCALLY = "cancelled_locally"
    CANCELLED_AT_RUNCOMFY = "cancelled_at_runcomfy"
    WILL_CANCEL = "will_cancel"  # the POST is in flight; it is cancelled the moment RunComfy answers
    ALREADY_RUNNING = "already_running"
    ALREADY_FINISHED = "already_finished"
    TRY_AGAIN = "try_again"  # RunComfy could not be reached to cancel
    NOT_FOUND = "not_found"


UrlRefresher = Callable[[list[str]], Awaitable[Mapping[str, str]]]


def to_api_input(job: Job, fresh_urls: Mapping[str, str] | None = None) -> AnimateInput:
    """The API's input for ``job``; ``fresh_urls`` replaces expiring picture URLs with refreshed ones."""
    request = job.request
    fresh = fresh_urls or {}
    return AnimateInput(
        prompt=request.prompt,
        first_frame_image_url=fresh.get(request.image.url, request.image.url),
        last_frame_image_url=(
            fresh.get(request.last_frame.url, request.last_frame.url) if request.last_frame else None
        ),
        resolution=request.resolution,
        duration=request.duration,
    )


class Scheduler:
    def __init__(
        self,
        services: JobServices,
        *,
        max_active: int,
        on_submitted: Callable[[Job], None],
        refresh_urls: UrlRefresher | None = None,
        first_pause_s: float = PAUSE_FIRST.total_seconds(),
    ) -> None:
        """``refresh_urls`` renews signed picture URLs that are about to expire (Discord's, for a job that
        waited long in the queue); without it, URLs are sent as they were given."""
        self._store = services.store
        self._api = services.api
        self._listener = services.listener
        self._locks = services.locks
        self._health = services.health
        self._clock = services.clock
        self._max_active = max_active
        self._on_submitted = on_submitted
        self._refresh_urls = refresh_urls
        self._wake = asyncio.Event()
        self._submissions: set[asyncio.Task[None]] = set()
        self._launching: set[str] = set()
        self._not_before: datetime | None = None
        self._pauses = 0
        self._first_pause = timedelta(seconds=first_pause_s)
        self._last_served: dict[Member, datetime] = {}
        self._stopping = False
        self._background: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def enqueue(self, job: Job) -> Job:
        """Store a new job in the queue. A clash of its short id with an older job's gets a fresh id."""
        for _ in range(ID_ATTEMPTS - 1):
            try:
                stored = await self._store.create(job)
                break
            except JobExistsError:
                job = dataclasses.replace(job, id=new_job_id())
        else:
            stored = await self._store.create(job)
        self._listener.job_changed(stored)
        self._listener.queue_changed()
        self.wake()
        return stored

    async def queue_positions(self) -> dict[str, int]:
        """Each queued job's place in line (1 = next), in the order the scheduler will submit them."""
        return queue_positions(await self._store.queued_jobs(), self._last_served)

    async def recover(self) -> list[Job]:
        """Resolve what an earlier process left half done: jobs whose POST was in flight (failed, never
        resent; returned) and cancels that were promised but not yet made."""
        resolved = []
        for job in await self._store.find_by_state([JobState.SUBMITTING]):
            async with self._locks(job.id):
                current = await self._store.get(job.id)
                if current is None or current.state is not JobState.SUBMITTING:
                    continue
                log.warning("job %s: the process stopped while submitting; not resent", job.id)
                failed = await self._store.save(
                    current.failed(FailureReason.SUBMISSION_INTERRUPTED, "process stopped during submission")
                )
            self._listener.job_changed(failed)
            resolved.append(failed)
        for job in await self._store.find_by_state([JobState.QUEUED, JobState.IN_QUEUE]):
            if job.cancel_requested_by is not None:
                self._in_background(self._keep_cancel_promise(job.id, job.cancel_requested_by), job.id)
        return resolved

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the pass: a wake-up during it must start another one
            try:
                await self._fill_slots()
            except Exception:
                log.exception("scheduler pass failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._seconds_to_next_check())

    async def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking jobs and let submissions already in flight record their outcome."""
        self._stopping = True
        self.wake()
        if self._submissions:
            await asyncio.wait(self._submissions, timeout=grace_s)
        for task in self._background:
            task.cancel()
        if self._background:
            await asyncio.wait(self._background)

    def _seconds_to_next_check(self) -> float:
        now = self._clock()
        waits = [IDLE_CHECK_S]
        for moment in (self._not_before, self._health.retry_at):
            if moment is not None and moment > now:
                waits.append(max((moment - now).total_seconds(), 0.05))
        return min(waits)

    async def _fill_slots(self) -> None:
        now = self._clock()
        if self._stopping or not self._health.may_submit(now):
            return
        if self._not_before is not None:
            if now < self._not_before:
                return
            self._not_before = None
        active = await self._store.count_in_states(list(ACTIVE_STATES))
        free = self._max_active - active - len(self._launching)
        if self._health.degraded or self._pauses:
            # Probe with a single job until RunComfy takes one again.
            free = min(free, 1 - len(self._launching))
        if free <= 0:
            return
        queued = fair_order(await self._store.queued_jobs(), self._last_served)
        if self._stopping:
            return  # stop() may have returned while the queue was read
        candidates = [j for j in queued if j.id not in self._launching and j.cancel_requested_by is None]
        for job in candidates[:free]:
            self._launching.add(job.id)
            self._last_served[member_of(job)] = now
            task = asyncio.create_task(self._submit(job.id), name=f"submit-{job.id}")
            self._submissions.add(task)
            task.add_done_callback(self._submissions.discard)

    async def _submit(self, job_id: str) -> None:
        try:
            queued = await self._store.get(job_id)
            if queued is None or queued.state is not JobState.QUEUED:
                return
            try:
                api_input = await self._api_input(queued)  # before 'submitting': nothing is paid yet
            except ValidationError as exc:
                await self._refuse_locally(queued, exc)
                return
            async with self._locks(job_id):
                job = await self._store.get(job_id)
                if self._stopping or job is None or job.state is not JobState.QUEUED:
                    return
                job = await self._store.save(job.moved_to(JobState.SUBMITTING, at=self._clock()))
            self._listener.job_changed(job)
            self._listener.queue_changed()
            # Shielded: a shutdown waits for the answer so that a request_id is never lost.
            outcome = await asyncio.shield(self._post(job, api_input))
            job = await self._save_outcome(job_id, outcome)
            self._listener.job_changed(job)
            if job.state is JobState.QUEUED:
                self._listener.queue_changed()
            if job.state.is_at_runcomfy:
                self._on_submitted(job)
            if job.cancel_requested_by is not None and job.state in (JobState.QUEUED, JobState.IN_QUEUE):
                await self._keep_cancel_promise(job.id, job.cancel_requested_by)
        except Exception:
            log.exception("job %s: submission bookkeeping failed", job_id)
            self._pause(None)  # whatever failed, do not spin on the same job
        finally:
            self._launching.discard(job_id)
            self.wake()

    async def _refuse_locally(self, job: Job, problem: ValidationError) -> None:
        """A stored job the API's own model refuses (it passed the command's checks, so this is rare):
        fail it without sending anything."""
        detail = "; ".join(str(error["msg"]) for error in problem.errors(include_input=False))
        log.error("job %s: its input does not fit the API's schema (%s); not sent", job.id, detail)
        async with self._locks(job.id):
            current = await self._store.get(job.id)
            if current is None or current.state is not JobState.QUEUED:
                return
            failed = await self._store.save(current.failed(FailureReason.REJECTED_INPUT, detail))
        self._listener.job_changed(failed)
        self._listener.queue_changed()

    async def _save_outcome(self, job_id: str, outcome: Callable[[Job], Job]) -> Job:
        """Record what RunComfy answered, trying again while the store fails: an accepted job's
        request_id exists nowhere else."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                async with self._locks(job_id):
                    current = await self._store.get(job_id)
                    assert current is not None
                    return await self._store.save(outcome(current))
            except StaleJobError:
                raise
            except Exception:
                if attempt == SAVE_ATTEMPTS:
                    raise
                log.warning("job %s: could not record RunComfy's answer; trying again", job_id, exc_info=True)
                await asyncio.sleep(0.25 * 2**attempt)
        raise AssertionError("unreachable")

    def _pause(self, retry_after: float | None) -> None:
        """Hold the queue after a refusal or an unknown outcome, longer each time in a row."""
        pause = min(self._first_pause * 2**self._pauses, PAUSE_MAX)
        if retry_after is not None:
            pause = max(pause, timedelta(seconds=retry_after))
        self._pauses += 1
        self._not_before = self._clock() + pause

    async def _api_input(self, job: Job) -> AnimateInput:
        """The job as the API takes it, with picture links renewed when they are about to expire; the
        links as given whenever renewing fails or yields something unusable."""
        if self._refresh_urls is not None:
            try:
                pictures = [job.request.image.url]
                if job.request.last_frame is not None:
                    pictures.append(job.request.last_frame.url)
                due = needing_refresh(pictures, self._clock())
                if due:
                    return to_api_input(job, await self._refresh_urls(due))
            except Exception:
                log.warning("job %s: could not renew its picture links; sending them as they are", job.id)
        return to_api_input(job)

    async def _post(self, job: Job, api_input: AnimateInput) -> Callable[[Job], Job]:
        """Send the paid POST once; returns how the stored job changes."""
        now = self._clock
        try:
            submission = await self._api.submit(api_input)
        except InputValidationError as exc:
            refusal = exc.message
            log.info("job %s: RunComfy refused the input: %s", job.id, refusal)
            return lambda j: j.failed(FailureReason.REJECTED_INPUT, refusal, at=now())
        except (AuthenticationError, PaymentRequiredError, EndpointNotFoundError) as exc:
            self._health.trip(type(exc).__name__, now())
            self._listener.queue_changed()  # every waiting card now says the service is down
            return lambda j: j.moved_to(JobState.QUEUED, at=now())
        except SubmissionUncertainError as exc:
            uncertainty = str(exc)
            log.error("job %s: submission outcome unknown (%s); not resent", job.id, uncertainty)
            self._pause(None)
            return lambda j: j.failed(FailureReason.SUBMISSION_INTERRUPTED, uncertainty, at=now())
        except (RateLimitedError, ServerError, APIConnectionError, APITimeoutError) as exc:
            log.warning("job %s: RunComfy did not take the job (%s); it stays queued", job.id, exc)
            self._pause(exc.retry_after)
            return lambda j: j.moved_to(JobState.QUEUED, at=now())
        except (NotFoundError, RunComfyError) as exc:
            reason = exc.message
            log.error("job %s: RunComfy refused the job: %s", job.id, exc)
            return lambda j: j.failed(FailureReason.REJECTED_INPUT, reason, at=now())
        if self._health.degraded:
            self._health.recovered()
            self._listener.queue_changed()
        self._pauses = 0
        request_id = submission.request_id
        log.info("job %s: accepted by RunComfy as %s", job.id, request_id)
        return lambda j: j.moved_to(JobState.IN_QUEUE, at=now(), request_id=request_id)

    async def _keep_cancel_promise(self, job_id: str, by_user_id: int, attempt: int = 0) -> None:
        """Cancel a job whose cancel was asked while its POST was in flight; while RunComfy cannot be
        reached, try again in the background, longer apart each time."""
        if await self.cancel(job_id, by_user_id) is not CancelResult.TRY_AGAIN or attempt >= CANCEL_RETRIES:
            return

        async def later() -> None:
            await asyncio.sleep(min(5.0 * 2**attempt, 120.0))
            await self._keep_cancel_promise(job_id, by_user_id, attempt + 1)

        self._in_background(later(), job_id)

    def _in_background(self, work: Coroutine[Any, Any, None], job_id: str) -> None:
        if self._stopping:
            work.close()
            return
        task = asyncio.create_task(work, name=f"cancel-{job_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def cancel(self, job_id: str, by_user_id: int) -> CancelResult:
        async with self._locks(job_id):
            job = await self._store.get(job_id)
            if job is None:
                return CancelResult.NOT_FOUND
            result, changed = await self._cancel_locked(job, by_user_id)
            if changed is not None:
                job = await self._store.save(changed)
        if changed is not None:
            self._listener.job_changed(job)
            if result is CancelResult.CANCELLED_LOCALLY:
                self._listener.queue_changed()
            self.wake()
        return result

    async def _cancel_locked(self, job: Job, by_user_id: int) -> tuple[CancelResult, Job | None]:
        now = self._clock()
        match job.state:
            case JobState.QUEUED:
                cancelled = job.moved_to(
                    JobState.CANCELLED, at=now, cancelled_by=by_user_id, cancel_place=CancelPlace.LOCAL
                )
                return CancelResult.CANCELLED_LOCALLY, cancelled
            case JobState.SUBMITTING:
                return CancelResult.WILL_CANCEL, job.with_changes(cancel_requested_by=by_user_id)
            case JobState.IN_QUEUE:
                return await self._cancel_remote(job, by_user_id, now)
            case JobState.IN_PROGRESS:
                return CancelResult.ALREADY_RUNNING, None
            case _:
                return CancelResult.ALREADY_FINISHED, None

    async def _cancel_remote(
        self, job: Job, by_user_id: int, now: datetime
    ) -> tuple[CancelResult, Job | None]:
        assert job.request_id is not None
        try:
            outcome = await self._api.cancel(job.request_id)
        except RunComfyError as exc:
            log.warning("job %s: cancel at RunComfy failed: %s", job.id, exc)
            return CancelResult.TRY_AGAIN, None
        if outcome.cancelled:
            cancelled = job.moved_to(
                JobState.CANCELLED, at=now, cancelled_by=by_user_id, cancel_place=CancelPlace.RUNCOMFY
            )
            return CancelResult.CANCELLED_AT_RUNCOMFY, cancelled
        return CancelResult.ALREADY_RUNNING, job.moved_to(JobState.IN_PROGRESS, at=now)
