"""Sending one job to RunComfy: the paid POST, given that RunComfy has no idempotency key.

* the job is saved as ``submitting`` before the POST, and as ``in_queue`` with its ``request_id`` the moment
  the answer arrives, before anything else happens;
* an answer that proves the POST was not accepted (429, 503, a connection that never opened, 401/402, a
  validation refusal) leaves nothing behind at RunComfy: the job goes back to the queue or fails, and is
  never charged;
* an unknown outcome (a timeout or a dropped connection after sending, a 5xx other than 503) is never sent
  again: the job fails as ``submission_interrupted`` and the member is told to try again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from pydantic import ValidationError

from bot.attachment_urls import needing_refresh
from bot.backoff import Backoff
from bot.cancellation import Cancellation
from bot.job_errors import is_transient
from bot.jobs import FailureReason, Job, JobState
from bot.service_health import ServiceHealth
from bot.store import JobStore, StaleJobError
from bot.transitions import JobWriter, Transition
from client.api import RunComfyClient
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
    UnexpectedAnswerError,
)
from client.models import AnimateInput

log = logging.getLogger(__name__)

# An accepted job's request_id exists nowhere else, so recording it is tried again, for as long as the
# process lives, while the store fails.
SAVE_BACKOFF = Backoff(timedelta(seconds=0.5), timedelta(seconds=8))

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


def _back_to_queue(job: Job, now: datetime) -> Job:
    return job.moved_to(JobState.QUEUED, at=now)


def _failing(reason: FailureReason, detail: str | None) -> Transition:
    return lambda job, now: job.failed(reason, detail, at=now)


class Submission:
    def __init__(
        self,
        store: JobStore,
        writer: JobWriter,
        api: RunComfyClient,
        health: ServiceHealth,
        cancellation: Cancellation,
        *,
        on_accepted: Callable[[Job], None],
        on_unsaved: Callable[[Job], None] = lambda job: None,
        refresh_urls: UrlRefresher | None = None,
    ) -> None:
        """``on_accepted`` hears of every job RunComfy took; ``on_unsaved`` of a job RunComfy took that
        the store refuses to record for now (to show it as accepted meanwhile); ``refresh_urls`` renews
        signed picture URLs that are about to expire (Discord's, for a job that waited long in the queue)."""
        self._store = store
        self._writer = writer
        self._api = api
        self._health = health
        self._cancellation = cancellation
        self._on_accepted = on_accepted
        self._on_unsaved = on_unsaved
        self._refresh_urls = refresh_urls

    async def submit(self, job_id: str, stopping: Callable[[], bool]) -> None:
        """Send one queued job, unless ``stopping()`` says the process is on its way out."""
        queued = await self._writer.read(job_id)
        if queued is None or queued.state is not JobState.QUEUED:
            return
        try:
            api_input = await self._api_input(queued)  # before 'submitting': nothing is paid yet
        except ValidationError as exc:
            await self._refuse_locally(queued, exc)
            return

        def start(job: Job, now: datetime) -> Job | None:
            if stopping() or job.state is not JobState.QUEUED:
                return None
            return job.moved_to(JobState.SUBMITTING, at=now)

        started = await self._writer.apply(job_id, start)
        if started.after is None:
            return
        # Shielded: a shutdown waits for the answer so that a request_id is never lost.
        outcome = await asyncio.shield(self._post(started.after, api_input))
        job = await self._record(job_id, outcome)
        if job.state.is_at_runcomfy:
            self._on_accepted(job)
        if job.cancel_requested_by is not None and job.state in (JobState.QUEUED, JobState.IN_QUEUE):
            await self._cancellation.keep_promise(job.id, job.cancel_requested_by)

    async def _refuse_locally(self, job: Job, problem: ValidationError) -> None:
        """A stored job the API's own model refuses (it passed the command's checks, so this is rare):
        fail it without sending anything."""
        detail = "; ".join(str(error["msg"]) for error in problem.errors(include_input=False))
        log.error("job %s: its input does not fit the API's schema (%s); not sent", job.id, detail)
        refuse = _failing(FailureReason.REJECTED_INPUT, detail)
        await self._writer.apply(
            job.id, lambda j, now: refuse(j, now) if j.state is JobState.QUEUED else None
        )

    async def _record(self, job_id: str, outcome: Transition) -> Job:
        """Record what RunComfy answered, trying again for as long as the store fails (an error of the
        store itself, see :func:`bot.job_errors.is_transient`): an accepted job's request_id exists nowhere
        else. Meanwhile the job is shown as it will be stored."""
        waits = SAVE_BACKOFF.waits(None)
        failures = 0
        while True:
            try:
                written = await self._writer.apply(job_id, outcome)
            except StaleJobError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    raise  # not the store failing: trying the same write again cannot help
                failures += 1
                if failures == 1:
                    log.warning(
                        "job %s: could not record RunComfy's answer (%s: %s); trying until it is stored",
                        job_id,
                        type(exc).__name__,
                        exc,
                    )
                # Again after each refusal: a save of another field meanwhile shows the stored state.
                await self._show_unsaved(job_id, outcome, first=failures == 1)
                await asyncio.sleep(next(waits))
                continue
            if failures:
                log.info("job %s: RunComfy's answer recorded after %d failed tries", job_id, failures)
            assert written.job is not None
            return written.job

    async def _show_unsaved(self, job_id: str, outcome: Transition, *, first: bool) -> None:
        """Tell ``on_unsaved`` how the job will look once stored, when it can be read at all."""
        try:
            stored = await self._store.get(job_id)
            pending = None if stored is None else outcome(stored, self._writer.clock())
        except Exception:
            if first:
                log.warning("job %s: cannot read it either; it is shown once it is stored", job_id)
            return
        if pending is not None and pending.state.is_at_runcomfy:
            self._on_unsaved(pending)

    async def _api_input(self, job: Job) -> AnimateInput:
        """The job as the API takes it, with picture links renewed when they are about to expire; the
        links as given whenever renewing fails or yields something unusable."""
        if self._refresh_urls is not None:
            try:
                pictures = [job.request.image.url]
                if job.request.last_frame is not None:
                    pictures.append(job.request.last_frame.url)
                due = needing_refresh(pictures, self._writer.clock())
                if due:
                    return to_api_input(job, await self._refresh_urls(due))
            except Exception:
                log.warning("job %s: could not renew its picture links; sending them as they are", job.id)
        return to_api_input(job)

    async def _post(self, job: Job, api_input: AnimateInput) -> Transition:
        """Send the paid POST once; returns how the stored job changes."""
        now = self._writer.clock
        try:
            submission = await self._api.submit(api_input)
        except InputValidationError as exc:
            log.info("job %s: RunComfy refused the input: %s", job.id, exc.message)
            return _failing(FailureReason.REJECTED_INPUT, exc.message)
        except (AuthenticationError, PaymentRequiredError, EndpointNotFoundError) as exc:
            self._health.trip(type(exc).__name__, now())
            self._writer.queue_changed()  # every waiting card now says the service is down
            return _back_to_queue
        except SubmissionUncertainError as exc:
            log.error("job %s: submission outcome unknown (%s); not resent", job.id, exc)
            self._health.hold(now())
            return _failing(FailureReason.SUBMISSION_INTERRUPTED, str(exc))
        except (RateLimitedError, ServerError, APIConnectionError, APITimeoutError) as exc:
            log.warning("job %s: RunComfy did not take the job (%s); it stays queued", job.id, exc)
            self._health.hold(now(), exc.retry_after)
            return _back_to_queue
        except UnexpectedAnswerError as exc:
            log.error("job %s: RunComfy took the job but its answer cannot be used: %s", job.id, exc)
            return _failing(FailureReason.UNEXPECTED_ANSWER, None)
        except (NotFoundError, RunComfyError) as exc:
            log.error("job %s: RunComfy refused the job: %s", job.id, exc)
            return _failing(FailureReason.REJECTED_INPUT, exc.message)
        if self._health.accepted():
            self._writer.queue_changed()
        request_id = submission.request_id
        log.info("job %s: accepted by RunComfy as %s", job.id, request_id)
        return lambda j, at: j.moved_to(JobState.IN_QUEUE, at=at, request_id=request_id)
