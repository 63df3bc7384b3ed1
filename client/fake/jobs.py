"""The fake's jobs and their lifecycle: in_queue → in_progress → completed (or failed), or cancelled.

Automatic mode moves each job on timers: it waits at least ``queue_s`` in the queue, starts as soon as a
running slot is free (first come, first served), and finishes ``run_s`` later. Manual mode leaves every job
where it is until a test moves it. A job a test moves by hand leaves automatic mode for good.

A test can make a job expire (RunComfy forgets requests after a while): it stops where it is, frees its
place in the queue or its running slot, and the API no longer knows it.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from client.fake.timings import JobTiming, TimingPlan


class JobStatus(enum.StrEnum):
    IN_QUEUE = "in_queue"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class JobFailure:
    """Why a job failed, as the result's ``error`` object shows it."""

    message: str = "The generation failed."
    code: int | str = 500001


@dataclass(frozen=True, slots=True)
class JobView:
    """A read-only snapshot of one job."""

    request_id: str
    status: JobStatus
    input: Mapping[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queue_position: int | None
    failure: JobFailure | None
    expired: bool = False


@dataclass(slots=True)
class _Job:
    request_id: str
    owner: str
    input: Mapping[str, Any]
    created_at: datetime
    status: JobStatus = JobStatus.IN_QUEUE
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failure: JobFailure | None = None
    planned_failure: JobFailure | None = None
    automatic: bool = True
    ready_to_start: bool = False
    expired: bool = False
    run_s: float = 0.0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


def _now() -> datetime:
    return datetime.now(UTC)


class JobBoard:
    """Every job the fake has accepted, and the clock that moves them."""

    def __init__(
        self,
        *,
        queue_s: float,
        run_s: float,
        manual: bool,
        max_running: int | None,
        on_change: Callable[[], None],
        timings: TimingPlan | None = None,
    ) -> None:
        if max_running is not None and max_running < 1:
            raise ValueError("max_running must be at least 1 (or None for no limit)")
        self._queue_s = queue_s
        self._run_s = run_s
        self._manual = manual
        self._max_running = max_running
        self._on_change = on_change
        self._timings = timings
        self._jobs: dict[str, _Job] = {}
        self._failures_to_plan: list[JobFailure] = []

    def set_timing(self, *, queue_s: float, run_s: float) -> None:
        """How long jobs submitted from now on queue and run (jobs already timed keep their timers)."""
        if queue_s < 0 or run_s < 0:
            raise ValueError("queue and run times cannot be negative")
        self._queue_s = queue_s
        self._run_s = run_s

    # -- reading -----------------------------------------------------------------------------------

    def get(self, request_id: str) -> _Job | None:
        """The job, expired or not."""
        return self._jobs.get(request_id)

    def known(self, request_id: str) -> _Job | None:
        """The job as the API sees it: ``None`` when it never existed or has expired."""
        job = self._jobs.get(request_id)
        return None if job is None or job.expired else job

    def owner_of(self, request_id: str) -> str | None:
        job = self._jobs.get(request_id)
        return None if job is None else job.owner

    def queue_position(self, job: _Job) -> int | None:
        """How many jobs are ahead of ``job`` in the queue, or ``None`` when it is not queued."""
        if job.status is not JobStatus.IN_QUEUE or job.expired:
            return None
        ahead = 0
        for other in self._jobs.values():
            if other is job:
                return ahead
            if other.status is JobStatus.IN_QUEUE and not other.expired:
                ahead += 1
        return ahead

    def view(self, job: _Job) -> JobView:
        return JobView(
            request_id=job.request_id,
            status=job.status,
            input=job.input,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            queue_position=self.queue_position(job),
            failure=job.failure,
            expired=job.expired,
        )

    def views(self) -> Mapping[str, JobView]:
        return MappingProxyType({rid: self.view(job) for rid, job in self._jobs.items()})

    # -- the API's side ----------------------------------------------------------------------------

    def create(self, owner: str, job_input: Mapping[str, Any], request_id: str | None = None) -> _Job:
        """Accept a job (under ``request_id``, else a fresh UUID); in automatic mode its queue timer starts
        now."""
        job = _Job(
            request_id=request_id or str(uuid.uuid4()),
            owner=owner,
            input=MappingProxyType(dict(job_input)),
            created_at=_now(),
            automatic=not self._manual,
        )
        if self._failures_to_plan:
            job.planned_failure = self._failures_to_plan.pop(0)
        self._jobs[job.request_id] = job
        timing = self._timing_of(job_input)
        job.run_s = timing.run_s
        if job.automatic:
            job.timer = asyncio.get_running_loop().call_later(timing.queue_s, self._queue_time_over, job)
        self._on_change()
        return job

    def _timing_of(self, job_input: Mapping[str, Any]) -> JobTiming:
        if self._timings is None:
            return JobTiming(queue_s=self._queue_s, run_s=self._run_s)
        return self._timings.timing(job_input)

    def cancel(self, request_id: str) -> bool:
        """Cancel a job still in the queue; ``False`` when it is in progress or finished."""
        job = self._live(request_id)
        if job.status is not JobStatus.IN_QUEUE:
            return False
        self._stop_timer(job)
        self._move(job, JobStatus.CANCELLED)
        self._start_ready_jobs()
        self._on_change()
        return True

    # -- the test's side ---------------------------------------------------------------------------

    def fail_next(self, count: int, failure: JobFailure) -> None:
        """The next ``count`` jobs created fail when their run ends."""
        self._failures_to_plan.extend([failure] * count)

    def fail(self, request_id: str, failure: JobFailure) -> None:
        """This job fails when its run ends (automatically or by :meth:`advance`)."""
        job = self._live(request_id)
        job.planned_failure = failure

    def expire(self, request_id: str) -> None:
        """Forget a job as RunComfy does once a request expires; it keeps its last status for tests to see."""
        job = self._live(request_id)
        self._stop_timer(job)
        job.expired = True
        job.automatic = False
        self._start_ready_jobs()
        self._on_change()

    def advance(self, request_id: str) -> JobStatus:
        """Move a job one step: in_queue → in_progress → completed (or failed, if planned)."""
        job = self._live(request_id)
        if job.status is JobStatus.IN_QUEUE:
            return self.set_state(request_id, JobStatus.IN_PROGRESS)
        if job.status is JobStatus.IN_PROGRESS:
            end = JobStatus.COMPLETED if job.planned_failure is None else JobStatus.FAILED
            return self.set_state(request_id, end)
        raise ValueError(f"job {request_id} has already finished ({job.status})")

    def set_state(
        self, request_id: str, status: JobStatus | str, failure: JobFailure | None = None
    ) -> JobStatus:
        """Put a job in any state at once; it then stays out of automatic mode."""
        job = self._live(request_id)
        target = JobStatus(status)
        self._stop_timer(job)
        job.automatic = False
        if target is JobStatus.FAILED:
            job.planned_failure = failure or job.planned_failure or JobFailure()
        self._move(job, target)
        self._start_ready_jobs()
        self._on_change()
        return target

    def _live(self, request_id: str) -> _Job:
        job = self._jobs[request_id]
        if job.expired:
            raise ValueError(f"job {request_id} has expired")
        return job

    def close(self) -> None:
        for job in self._jobs.values():
            self._stop_timer(job)

    # -- the clock ---------------------------------------------------------------------------------

    def _queue_time_over(self, job: _Job) -> None:
        job.timer = None
        job.ready_to_start = True
        self._start_ready_jobs()

    def _start_ready_jobs(self) -> None:
        running = sum(
            1 for job in self._jobs.values() if job.status is JobStatus.IN_PROGRESS and not job.expired
        )
        started = False
        for job in self._jobs.values():
            if not (job.automatic and job.ready_to_start and job.status is JobStatus.IN_QUEUE):
                continue
            if self._max_running is not None and running >= self._max_running:
                break
            self._move(job, JobStatus.IN_PROGRESS)
            job.timer = asyncio.get_running_loop().call_later(job.run_s, self._run_over, job)
            running += 1
            started = True
        if started:
            self._on_change()

    def _run_over(self, job: _Job) -> None:
        job.timer = None
        self._move(job, JobStatus.COMPLETED if job.planned_failure is None else JobStatus.FAILED)
        self._start_ready_jobs()
        self._on_change()

    def _move(self, job: _Job, status: JobStatus) -> None:
        now = _now()
        if status is JobStatus.IN_QUEUE:
            job.started_at = job.finished_at = None
        elif status is JobStatus.IN_PROGRESS:
            job.started_at = job.started_at or now
            job.finished_at = None
        else:
            job.finished_at = now
        job.failure = job.planned_failure if status is JobStatus.FAILED else None
        job.status = status

    @staticmethod
    def _stop_timer(job: _Job) -> None:
        if job.timer is not None:
            job.timer.cancel()
            job.timer = None
