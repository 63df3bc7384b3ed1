"""What a process that stopped left half done, resolved by the process that adopts its jobs (itself
when it restarts, or another once its leases expired)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.cancellation import Cancellation
from bot.jobs import FailureReason, Job, JobState
from bot.transitions import JobWriter

log = logging.getLogger(__name__)


def _interrupted(job: Job, now: datetime) -> Job | None:
    """A job adopted ``submitting`` (its owner's lease expired, or it is this process's own from before a
    restart) died with its POST in flight: it may have been charged, so it is never sent again."""
    if job.state is not JobState.SUBMITTING:
        return None
    return job.failed(FailureReason.SUBMISSION_INTERRUPTED, "process stopped during submission", at=now)


async def recover(adopted: Sequence[Job], writer: JobWriter, cancellation: Cancellation) -> list[Job]:
    """Among jobs this process just adopted, fail those whose POST was in flight (returned) and keep the
    cancels that were promised."""
    resolved = []
    for job in [job for job in adopted if job.state is JobState.SUBMITTING]:
        written = await writer.apply(job.id, _interrupted)
        if written.after is not None:
            log.warning("job %s: the process stopped while submitting; not resent", job.id)
            resolved.append(written.after)
    for job in adopted:
        if job.state in (JobState.QUEUED, JobState.IN_QUEUE) and job.cancel_requested_by is not None:
            cancellation.keep_promise_soon(job.id, job.cancel_requested_by)
    return resolved
